// SPDX-License-Identifier: Apache-2.0
// Tests of the Streams model parsing: tolerated extras, listed omissions, typed errors, relations, --json output.
#include <algorithm>

#include <doctest/doctest.h>

#include "controller/streams/models.h"

using namespace xdc;
using namespace xdc::streams;
using nlohmann::json;

namespace {

bool has(const std::vector<std::string> &v, const std::string &s)
{
	return std::find(v.begin(), v.end(), s) != v.end();
}

} // namespace

TEST_CASE("streams models: a full pe with relations, unknown fields tolerated")
{
	const json j = json::parse(R"({
		"id": "7", "self": "https://h:8443/streams/rest/instances/i1/pes/7", "resourceType": "pe", "restid": "7",
		"indexWithinJob": 2, "health": "healthy", "status": "running", "statusReason": "none",
		"launchCount": 3, "restartable": true, "relocatable": false, "processId": 4242,
		"requiredConnections": "connected", "optionalConnections": "connected",
		"host": "https://h:8443/streams/rest/instances/i1/resources/streams-host-2/",
		"job": "https://h:8443/streams/rest/instances/i1/jobs/12?fields=id",
		"somethingNew": {"nested": [1, 2, 3]}
	})");
	auto p = parsePe(j);
	REQUIRE(p.ok());
	CHECK(p->id == "7");
	CHECK(p->indexWithinJob == 2);
	CHECK(p->launchCount == 3);
	CHECK(p->restartable);
	CHECK(p->processId == 4242);
	CHECK(p->jobId == "12");
	CHECK(p->host == "streams-host-2");
	CHECK(p->missing.empty());
	const json out = toJson(*p);
	CHECK(out["job"] == "12");
	CHECK(out["host"] == "streams-host-2");
	CHECK(out["launchCount"] == 3);
	CHECK_FALSE(out.contains("missing"));
}

TEST_CASE("streams models: ids as numbers or strings are kept as strings")
{
	auto a = parseJob(json{{"id", 12}, {"name", "App_12"}});
	auto b = parseJob(json{{"id", "12"}, {"name", "App_12"}});
	REQUIRE(a.ok());
	REQUIRE(b.ok());
	CHECK(a->id == "12");
	CHECK(b->id == "12");
	auto bad = parseJob(json{{"id", true}});
	REQUIRE_FALSE(bad.ok());
	CHECK(bad.error().code == Errc::Protocol);
	CHECK(bad.error().message.find("field 'id' is a boolean") != std::string::npos);
}

TEST_CASE("streams models: processId as IBM's clients declare it (a string) or as a number")
{
	// The Java client's ProcessingElement.processId is a String, the Python client's PE.processId is str.
	auto s = parsePe(json::parse(R"({"processId": "4711"})"));
	auto n = parsePe(json::parse(R"({"processId": 4711})"));
	REQUIRE(s.ok());
	REQUIRE(n.ok());
	CHECK(s->processId == 4711);
	CHECK(n->processId == 4711);
	CHECK(s->missing == n->missing);
	CHECK(toJson(*s)["processId"] == 4711);

	auto bad = parsePe(json{{"id", "7"}, {"processId", "pid-4711"}});
	REQUIRE_FALSE(bad.ok());
	CHECK(bad.error().code == Errc::Protocol);
	CHECK(bad.error().message ==
	      "pe '7': field 'processId' is the string \"pid-4711\", expected an integer or a string of decimal digits");
}

TEST_CASE("streams models: string fields take a number as its decimal text")
{
	auto i = parseInstance(json{{"id", 1}, {"status", 3}, {"health", "healthy"}});
	REQUIRE(i.ok());
	CHECK(i->id == "1");
	CHECK(i->status == "3");
	auto m = parseMetric(json{{"name", "n"}, {"value", "12"}, {"lastTimeRetrieved", "1700000000000"}});
	REQUIRE(m.ok());
	CHECK(m->value == 12);
	CHECK(m->lastTimeRetrieved == 1700000000000);
}

TEST_CASE("streams models: absent expected fields are listed, optional ones are not")
{
	auto p = parsePe(json{{"id", "3"}, {"status", "stopped"}, {"processId", nullptr}});
	REQUIRE(p.ok());
	CHECK(has(p->missing, "health"));
	CHECK(has(p->missing, "launchCount"));
	CHECK(has(p->missing, "job"));
	CHECK_FALSE(has(p->missing, "processId")); // a stopped PE has none
	CHECK_FALSE(has(p->missing, "host"));      // not placed yet
	CHECK_FALSE(has(p->missing, "status"));
	CHECK(p->host.empty());
	CHECK(p->jobId.empty());
	CHECK(toJson(*p)["missing"].size() == p->missing.size());

	auto j = parseJob(json::object());
	REQUIRE(j.ok());
	CHECK(has(j->missing, "id"));
	CHECK(has(j->missing, "applicationName"));
	CHECK(has(j->missing, "submitTime"));
}

TEST_CASE("streams models: a field of the wrong type names the resource, field and expected type")
{
	auto j = parseJob(json{{"id", "3"}, {"submitTime", "yesterday"}});
	REQUIRE_FALSE(j.ok());
	CHECK(j.error().code == Errc::Protocol);
	CHECK(j.error().message == "job '3': field 'submitTime' is a string, expected an integer");

	auto p = parsePe(json{{"id", 9}, {"launchCount", "2"}});
	REQUIRE_FALSE(p.ok());
	CHECK(p.error().message == "pe '9': field 'launchCount' is a string, expected an integer");

	auto r = parsePe(json{{"id", "1"}, {"restartable", "yes"}});
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().message == "pe '1': field 'restartable' is a string, expected a boolean");

	auto m = parseMetric(json{{"name", "nTuplesProcessed"}, {"value", 1.5}});
	REQUIRE_FALSE(m.ok());
	CHECK(m.error().message.find("metric 'nTuplesProcessed': field 'value'") == 0);

	auto s = parseInstance(json{{"id", "i1"}, {"status", true}});
	REQUIRE_FALSE(s.ok());
	CHECK(s.error().message == "instance 'i1': field 'status' is a boolean, expected a string or an integer");

	auto notObject = parseOperator(json::array());
	REQUIRE_FALSE(notObject.ok());
	CHECK(notObject.error().message.find("operator: expected a JSON object, got an array") == 0);
}

TEST_CASE("streams models: metrics, operators, resources, instances")
{
	auto m = parseMetric(json::parse(
		R"({"name":"nTuplesProcessed","value":9007199254740993,"metricKind":"counter","metricType":"system","lastTimeRetrieved":1700000000000})"));
	REQUIRE(m.ok());
	CHECK(m->value == 9007199254740993LL);
	CHECK(m->missing.empty());
	CHECK(toJson(*m)["metricKind"] == "counter");

	auto whole = parseMetric(json::parse(R"({"name":"queueSize","value":12.0})"));
	REQUIRE(whole.ok());
	CHECK(whole->value == 12);

	auto big = parseMetric(json::parse(R"({"name":"x","value":18446744073709551615})"));
	CHECK_FALSE(big.ok());

	auto o = parseOperator(json::parse(
		R"({"id":"0","name":"Src","operatorKind":"spl.utility::Beacon","self":"s","pe":"https://h/pes/4"})"));
	REQUIRE(o.ok());
	CHECK(o->peUrl == "https://h/pes/4");

	auto r = parseResource(json::parse(R"({"id":"host-1","displayName":"host-1","ipAddress":"10.0.0.1","status":"running","self":"s"})"));
	REQUIRE(r.ok());
	CHECK(r->ipAddress == "10.0.0.1");

	auto i = parseInstance(json::parse(R"({"id":"inst1","self":"s","status":"running","health":"healthy","startTime":5})"));
	REQUIRE(i.ok());
	CHECK(toJson(*i)["startTime"] == 5);
}

TEST_CASE("streams models: escaped relation segments are decoded")
{
	auto p = parsePe(json{{"id", "1"}, {"host", "https://h/resources/host%3A1"}, {"job", "https://h/jobs/5/"}});
	REQUIRE(p.ok());
	CHECK(p->host == "host:1");
	CHECK(p->jobId == "5");
}
