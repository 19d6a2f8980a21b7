// SPDX-License-Identifier: Apache-2.0
// Tests of the Prometheus API client against a scripted server: request building, the four result types, auth from
// files, conditions, and every error kind keeping the status, errorType, error and URL.
#include <cmath>
#include <cstdlib>
#include <fstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "controller/metrics/prometheus.h"
#include "tests/support/scripted_http.h"
#include "tests/unit/unit_util.h"

using namespace xdc;
using namespace xdc::metrics;
using xdc::test::ScriptedHttpServer;
using xdc::test::ScriptedResponse;
using Kind = Failure::Kind;

namespace {

HttpTarget target(const ScriptedHttpServer &s)
{
	HttpTarget t;
	t.url = s.url();
	t.timeoutMs = 2000;
	t.connectTimeoutMs = 1000;
	return t;
}

const char *kVector = R"({"status":"success","data":{"resultType":"vector","result":[
	{"metric":{"__name__":"up","job":"dc1","instance":"10.200.1.11:8440"},"value":[1700000000.123,"1"]},
	{"metric":{"__name__":"up","job":"dc2","instance":"10.200.2.11:8440"},"value":[1700000000.123,"0"]}]}})";

// A port nothing listens on: bound, never listening, closed at the end of the test.
struct DeadPort {
	int fd = ::socket(AF_INET, SOCK_STREAM, 0);
	int port = 0;
	DeadPort()
	{
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		REQUIRE(::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
		socklen_t len = sizeof a;
		::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
		port = ntohs(a.sin_port);
	}
	~DeadPort() { ::close(fd); }
};

std::string writeFile(const std::string &name, const std::string &text)
{
	const std::string p = fmt::format("/tmp/xdc-metrics-test-{}-{}", ::getpid(), name);
	std::ofstream(p) << text;
	return p;
}

} // namespace

TEST_CASE("prometheus: instant vector query, encoded PromQL, labels, values and ns timestamps")
{
	ScriptedHttpServer s;
	s.json("GET", "/api/v1/query", 200, kVector);
	PrometheusClient c(target(s));
	auto r = c.query(R"(up{job=~"dc.*"} == 1)");
	REQUIRE(r.ok());
	CHECK(r->type == QueryResult::Type::Vector);
	REQUIRE(r->vector.size() == 2);
	CHECK(r->vector[0].labels.at("__name__") == "up");
	CHECK(r->vector[0].labels.at("job") == "dc1");
	CHECK(r->vector[0].point.tNs == 1700000000123000000);
	CHECK(r->vector[0].point.value == 1.0);
	CHECK(r->vector[1].point.value == 0.0);
	CHECK(c.lastFailure().kind == Kind::None);
	auto req = s.requests("GET", "/api/v1/query");
	REQUIRE(req.size() == 1);
	// Every special character of the query is percent-encoded; no time unless asked for.
	CHECK(req[0].target == "/api/v1/query?query=up%7Bjob%3D~%22dc.%2A%22%7D%20%3D%3D%201");
	CHECK(req[0].header("authorization").empty());
}

TEST_CASE("prometheus: instant query at a time; a base URL with a path prefix and a trailing slash")
{
	ScriptedHttpServer s;
	s.json("GET", "/prom/api/v1/query", 200,
	       R"({"status":"success","data":{"resultType":"scalar","result":[1700000001.5,"42.25"]}})");
	HttpTarget t = target(s);
	t.url = s.url() + "/prom/";
	PrometheusClient c(t);
	auto r = c.query("42.25", int64_t{1700000001500000000});
	REQUIRE(r.ok());
	CHECK(r->type == QueryResult::Type::Scalar);
	CHECK(r->scalar.value == 42.25);
	CHECK(r->scalar.tNs == 1700000001500000000);
	auto req = s.requests();
	REQUIRE(req.size() == 1);
	CHECK(req[0].target == "/prom/api/v1/query?query=42.25&time=1700000001.500");
}

TEST_CASE("prometheus: range query gives a matrix; NaN and infinities; string results; warnings")
{
	ScriptedHttpServer s;
	s.json("GET", "/api/v1/query_range", 200, R"({"status":"success","warnings":["partial data"],"data":{
		"resultType":"matrix","result":[{"metric":{"job":"dc2"},"values":[[1700000000,"1"],[1700000001,"NaN"],
		[1700000002,"+Inf"],[1700000003,"-Inf"]]}]}})");
	s.json("GET", "/api/v1/query", 200,
	       R"({"status":"success","data":{"resultType":"string","result":[1700000000,"hello"]}})");
	PrometheusClient c(target(s));
	auto r = c.queryRange("up", 1700000000000000000, 1700000003000000000, 1000000000);
	REQUIRE(r.ok());
	CHECK(r->type == QueryResult::Type::Matrix);
	REQUIRE(r->matrix.size() == 1);
	CHECK(r->matrix[0].labels.at("job") == "dc2");
	REQUIRE(r->matrix[0].points.size() == 4);
	CHECK(r->matrix[0].points[1].tNs == 1700000001000000000);
	CHECK(std::isnan(r->matrix[0].points[1].value));
	CHECK(std::isinf(r->matrix[0].points[2].value));
	CHECK(r->matrix[0].points[3].value < 0);
	CHECK(r->warnings == std::vector<std::string>{"partial data"});
	auto req = s.requests("GET", "/api/v1/query_range");
	REQUIRE(req.size() == 1);
	CHECK(req[0].target ==
	      "/api/v1/query_range?query=up&start=1700000000.000&end=1700000003.000&step=1.000");
	auto j = toJson(*r);
	CHECK(j["resultType"] == "matrix");
	CHECK(j["result"][0]["points"][1]["value"] == "NaN");
	CHECK(j["result"][0]["points"][2]["value"] == "+Inf");

	auto str = c.query("\"hello\"");
	REQUIRE(str.ok());
	CHECK(str->type == QueryResult::Type::String);
	CHECK(str->string == "hello");

	// Bad ranges never reach the server.
	CHECK(c.queryRange("up", 2, 1, 1).error().code == Errc::Invalid);
	CHECK(c.queryRange("up", 1, 2, 0).error().code == Errc::Invalid);
	CHECK(s.requestCount() == 2);
}

TEST_CASE("prometheus: a PromQL error keeps the HTTP status, errorType, error and URL")
{
	ScriptedHttpServer s;
	s.json("GET", "/api/v1/query", 400,
	       R"({"status":"error","errorType":"bad_data","error":"1:4: parse error: unexpected <op:==>"})");
	s.json("GET", "/api/v1/query", 422,
	       R"({"status":"error","errorType":"execution","error":"many-to-many matching not allowed"})");
	s.json("GET", "/api/v1/query", 503,
	       R"({"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"})");
	PrometheusClient c(target(s));

	auto r = c.query("up ==");
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().code == Errc::Invalid);
	CHECK(c.lastFailure().kind == Kind::Server);
	CHECK(c.lastFailure().httpStatus == 400);
	CHECK(c.lastFailure().errorType == "bad_data");
	CHECK(c.lastFailure().error == "1:4: parse error: unexpected <op:==>");
	CHECK(c.lastFailure().url == s.url() + "/api/v1/query?query=up%20%3D%3D");
	CHECK(r.error().message ==
	      "GET " + s.url() + "/api/v1/query?query=up%20%3D%3D: HTTP 400: Prometheus bad_data: 1:4: parse error: "
				 "unexpected <op:==>");

	auto r2 = c.query("a * on() b");
	REQUIRE_FALSE(r2.ok());
	CHECK(c.lastFailure().httpStatus == 422);
	CHECK(c.lastFailure().errorType == "execution");
	CHECK(r2.error().code == Errc::Invalid); // 422: the query cannot be executed as written

	auto r3 = c.query("slow");
	REQUIRE_FALSE(r3.ok());
	CHECK(r3.error().code == Errc::Timeout);
	CHECK(c.lastFailure().errorType == "timeout");
}

TEST_CASE("prometheus: HTTP errors without an envelope, bad JSON, bad shapes")
{
	ScriptedHttpServer s;
	s.on("GET", "/api/v1/query", {502, "upstream down", {{"Content-Type", "text/plain"}}});
	s.on("GET", "/api/v1/query", {401, "", {}});
	s.on("GET", "/api/v1/query", {200, "<html>not prometheus</html>", {{"Content-Type", "text/html"}}});
	s.json("GET", "/api/v1/query", 200, R"({"status":"success","data":{"resultType":"vector","result":[
		{"metric":{"job":"x"},"value":[1700000000,"not-a-number"]}]}})");
	s.json("GET", "/api/v1/query", 200, R"({"status":"success","data":{"resultType":"tensor","result":[]}})");
	s.json("GET", "/api/v1/query", 200, R"({"status":"success","data":{"resultType":"vector","result":[
		{"metric":{"job":"x"},"histogram":[1700000000,{"count":"1"}]}]}})");
	PrometheusClient c(target(s));

	auto r = c.query("up");
	REQUIRE_FALSE(r.ok());
	CHECK(c.lastFailure().kind == Kind::Http);
	CHECK(c.lastFailure().httpStatus == 502);
	CHECK(r.error().message.find("HTTP 502 upstream down") != std::string::npos);

	r = c.query("up");
	REQUIRE_FALSE(r.ok());
	CHECK(c.lastFailure().kind == Kind::Auth);
	CHECK(r.error().code == Errc::Refused);
	CHECK(r.error().message.find("not authorized") != std::string::npos);

	r = c.query("up");
	REQUIRE_FALSE(r.ok());
	CHECK(c.lastFailure().kind == Kind::BadJson);
	CHECK(r.error().code == Errc::Protocol);

	r = c.query("up");
	REQUIRE_FALSE(r.ok());
	CHECK(c.lastFailure().kind == Kind::BadShape);
	CHECK(r.error().message.find("'not-a-number' is not a number") != std::string::npos);

	r = c.query("up");
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().message.find("unknown resultType 'tensor'") != std::string::npos);

	r = c.query("up");
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().code == Errc::Unsupported);
}

TEST_CASE("prometheus: transport failures: refused connection, timeout, bad URL")
{
	DeadPort dead;
	HttpTarget t;
	t.url = fmt::format("http://127.0.0.1:{}", dead.port);
	PrometheusClient c(t);
	auto r = c.query("up");
	REQUIRE_FALSE(r.ok());
	CHECK(c.lastFailure().kind == Kind::Connect);
	CHECK(c.lastFailure().httpStatus == 0);
	CHECK(r.error().message.find("cannot connect") != std::string::npos);

	ScriptedHttpServer s;
	s.on("GET", "/api/v1/query", {200, kVector, {}, 1500});
	HttpTarget slow = target(s);
	slow.timeoutMs = 200;
	PrometheusClient c2(slow);
	r = c2.query("up");
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().code == Errc::Timeout);
	CHECK(c2.lastFailure().kind == Kind::Timeout);
	CHECK(r.error().message.find("total 200 ms") != std::string::npos);

	HttpTarget bad;
	bad.url = "ftp://example.invalid";
	PrometheusClient c3(bad);
	r = c3.query("up");
	REQUIRE_FALSE(r.ok());
	CHECK(c3.lastFailure().kind == Kind::Config);
	CHECK(r.error().code == Errc::Invalid);
}

TEST_CASE("prometheus: bearer token and basic auth from files, never in messages")
{
	const std::string token = "s3cr3t-t0ken-value";
	const std::string tokenFile = writeFile("token", token + "\n");
	const std::string basicFile = writeFile("basic", "alice:pa55word\n");
	const std::string emptyFile = writeFile("empty", "");
	ScriptedHttpServer s;
	s.json("GET", "/api/v1/query", 200, kVector);
	s.json("GET", "/api/v1/query", 200, kVector);
	s.json("GET", "/api/v1/query", 403, R"({"status":"error","errorType":"forbidden","error":"no"})");

	HttpTarget t = target(s);
	t.bearerTokenFile = tokenFile;
	PrometheusClient bearer(t);
	REQUIRE(bearer.query("up").ok());
	t.bearerTokenFile.clear();
	t.basicAuthFile = basicFile;
	PrometheusClient basic(t);
	REQUIRE(basic.query("up").ok());
	auto req = s.requests();
	REQUIRE(req.size() == 2);
	CHECK(req[0].header("authorization") == "Bearer " + token);
	CHECK(req[1].header("authorization") == "Basic YWxpY2U6cGE1NXdvcmQ="); // alice:pa55word

	auto denied = basic.query("up");
	REQUIRE_FALSE(denied.ok());
	CHECK(denied.error().message.find("pa55word") == std::string::npos);
	CHECK(basic.lastFailure().url.find("alice") == std::string::npos);

	t.basicAuthFile = emptyFile;
	PrometheusClient empty(t);
	auto r = empty.query("up");
	REQUIRE_FALSE(r.ok());
	CHECK(empty.lastFailure().kind == Kind::Config);
	CHECK(r.error().message.find("is empty") != std::string::npos);
	t.basicAuthFile = "/nonexistent/xdc-basic";
	PrometheusClient missing(t);
	r = missing.query("up");
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().message.find("cannot read the basic auth file '/nonexistent/xdc-basic'") != std::string::npos);
	CHECK(s.requestCount() == 3);
	for (const auto &f : {tokenFile, basicFile, emptyFile})
		::unlink(f.c_str());
}

TEST_CASE("prometheus: conditionHolds reads a result as an alerting rule does")
{
	ScriptedHttpServer s;
	// A comparison keeps only the series where it is true: one sample (whatever its value) holds...
	s.json("GET", "/api/v1/query", 200, R"({"status":"success","data":{"resultType":"vector","result":[
		{"metric":{"job":"dc2"},"value":[1700000000,"0"]}]}})");
	// ... an empty vector does not.
	s.json("GET", "/api/v1/query", 200, R"({"status":"success","data":{"resultType":"vector","result":[]}})");
	s.json("GET", "/api/v1/query", 200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"1"]}})");
	s.json("GET", "/api/v1/query", 200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"0"]}})");
	s.json("GET", "/api/v1/query", 200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"NaN"]}})");
	s.json("GET", "/api/v1/query", 200, R"({"status":"success","data":{"resultType":"string","result":[1,"x"]}})");
	s.json("GET", "/api/v1/query", 400, R"({"status":"error","errorType":"bad_data","error":"parse error"})");
	PrometheusClient c(target(s));
	CHECK(conditionHolds(c, R"(up{job="dc2"} == 0)").value() == true);
	CHECK(conditionHolds(c, R"(up{job="dc2"} == 0)").value() == false);
	CHECK(conditionHolds(c, "vector(1) > 0").value() == true);
	CHECK(conditionHolds(c, "scalar(0)").value() == false);
	CHECK(conditionHolds(c, "NaN").value() == false);
	auto str = conditionHolds(c, "\"x\"");
	REQUIRE_FALSE(str.ok());
	CHECK(str.error().code == Errc::Invalid);
	// A failed query is an error, never "false".
	auto bad = conditionHolds(c, "up ==");
	REQUIRE_FALSE(bad.ok());
	CHECK(c.lastFailure().errorType == "bad_data");
}
