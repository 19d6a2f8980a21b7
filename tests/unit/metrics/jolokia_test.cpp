// SPDX-License-Identifier: Apache-2.0
// Tests of the Jolokia client against a scripted server: the read request, values, and Jolokia's in-body errors
// apart from HTTP and transport failures.
#include <cstdlib>

#include <doctest/doctest.h>

#include "controller/metrics/jolokia.h"
#include "tests/support/scripted_http.h"

using namespace xdc;
using namespace xdc::metrics;
using nlohmann::json;
using xdc::test::ScriptedHttpServer;
using Kind = Failure::Kind;

namespace {

HttpTarget jolokiaTarget(const ScriptedHttpServer &s)
{
	HttpTarget t;
	t.url = s.url() + "/jolokia";
	t.timeoutMs = 2000;
	t.connectTimeoutMs = 1000;
	return t;
}

} // namespace

TEST_CASE("jolokia: read posts the request and returns the value")
{
	for (const char *v : {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"})
		::unsetenv(v);
	ScriptedHttpServer s;
	s.json("POST", "/jolokia/", 200, R"({"request":{"mbean":"java.lang:type=Memory","attribute":"HeapMemoryUsage",
		"type":"read"},"value":{"init":398458880,"committed":406847488,"max":6320816128,"used":8310784},
		"timestamp":1795816244,"status":200})");
	s.json("POST", "/jolokia/", 200, R"({"value":12505088,"timestamp":1795816244,"status":200})");
	JolokiaClient c(jolokiaTarget(s));
	auto v = c.read("java.lang:type=Memory", "HeapMemoryUsage");
	REQUIRE(v.ok());
	CHECK((*v)["used"] == 8310784);
	CHECK((*v)["committed"] == 406847488);
	auto used = c.read("java.lang:type=Memory", "HeapMemoryUsage", "used");
	REQUIRE(used.ok());
	CHECK(*used == 12505088);

	auto req = s.requests("POST", "/jolokia/");
	REQUIRE(req.size() == 2);
	CHECK(req[0].header("content-type") == "application/json");
	CHECK(json::parse(req[0].body) ==
	      json{{"type", "read"}, {"mbean", "java.lang:type=Memory"}, {"attribute", "HeapMemoryUsage"}});
	CHECK(json::parse(req[1].body)["path"] == "used");
	// No MBean: refused before any request.
	CHECK(c.read("", "X").error().code == Errc::Invalid);
	CHECK(s.requestCount() == 2);
}

TEST_CASE("jolokia: in-body errors keep Jolokia's status, error_type and error")
{
	ScriptedHttpServer s;
	s.json("POST", "/jolokia/", 200, R"({"request":{"mbean":"java.lang:type=Nope","type":"read"},
		"error_type":"javax.management.InstanceNotFoundException","error":"javax.management.InstanceNotFoundException : java.lang:type=Nope",
		"status":404})");
	s.json("POST", "/jolokia/", 200, R"({"error_type":"java.lang.IllegalArgumentException",
		"error":"java.lang.IllegalArgumentException : Invalid object name","status":400})");
	s.json("POST", "/jolokia/", 200, R"({"status":200})");
	s.on("POST", "/jolokia/", {200, "not json", {{"Content-Type", "text/plain"}}});
	s.json("POST", "/jolokia/", 200, R"({"value":1})");
	s.on("POST", "/jolokia/", {401, "", {}});
	s.on("POST", "/jolokia/", {500, "boom", {{"Content-Type", "text/plain"}}});
	JolokiaClient c(jolokiaTarget(s));

	auto r = c.read("java.lang:type=Nope", "X");
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().code == Errc::NotFound);
	CHECK(c.lastFailure().kind == Kind::Server);
	CHECK(c.lastFailure().httpStatus == 200);
	CHECK(c.lastFailure().errorType == "javax.management.InstanceNotFoundException");
	CHECK(c.lastFailure().url == s.url() + "/jolokia/");
	CHECK(r.error().message == "POST " + s.url() +
					   "/jolokia/: read java.lang:type=Nope X: Jolokia status 404 "
					   "javax.management.InstanceNotFoundException: javax.management."
					   "InstanceNotFoundException : java.lang:type=Nope");

	r = c.read("bad", "X");
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().code == Errc::Invalid);

	r = c.read("a:b=c", "X");
	REQUIRE_FALSE(r.ok());
	CHECK(c.lastFailure().kind == Kind::BadShape);
	CHECK(r.error().message.find("without a `value`") != std::string::npos);

	r = c.read("a:b=c", "X");
	REQUIRE_FALSE(r.ok());
	CHECK(c.lastFailure().kind == Kind::BadJson);

	r = c.read("a:b=c", "X");
	REQUIRE_FALSE(r.ok());
	CHECK(c.lastFailure().kind == Kind::BadShape);
	CHECK(r.error().message.find("no numeric `status`") != std::string::npos);

	r = c.read("a:b=c", "X");
	REQUIRE_FALSE(r.ok());
	CHECK(c.lastFailure().kind == Kind::Auth);
	CHECK(r.error().code == Errc::Refused);

	r = c.read("a:b=c", "X");
	REQUIRE_FALSE(r.ok());
	CHECK(c.lastFailure().kind == Kind::Http);
	CHECK(c.lastFailure().httpStatus == 500);
	CHECK(r.error().message.find("HTTP 500") != std::string::npos);
}
