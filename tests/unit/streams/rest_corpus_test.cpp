// SPDX-License-Identifier: Apache-2.0
// The REST corpus (tests/unit/streams/rest_corpus/*.json): one file per resource type and variant, each with the
// element a server sends and what the model must make of it, or the exact error. Every file is loaded and checked,
// and the corpus must hold, for every field that accepts a number or a string, one accepted element with the field
// as a string and one with it as a number.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "controller/streams/models.h"

#ifndef XDC_SOURCE_ROOT
#error "tests/meson.build defines XDC_SOURCE_ROOT for this file"
#endif

using namespace xdc;
using namespace xdc::streams;
using nlohmann::json;

namespace rest_corpus_test {

const std::filesystem::path kDir = std::filesystem::path(XDC_SOURCE_ROOT) / "tests/unit/streams/rest_corpus";

// The fields that accept both forms, by resource: the REST name and the model member that holds its value. All
// but three are strings in IBM's own clients (Java com.ibm.streamsx.rest, Python streamsx.rest_primitives), which
// are read as they are or, given a number, as its decimal text. Of the integers, pe processId is a String in the
// Java ProcessingElement and str in the Python PE; metric lastTimeRetrieved is str in the Python Metric; metric
// value is a long in both but is read quoted too (controller/streams/models.cpp says why). The operator id is in
// neither client; it is read like every other id.
struct BothForms {
	const char *resource, *field, *member;
};
constexpr BothForms kBothForms[] = {
	{"pe", "id", "id"}, {"pe", "self", "self"}, {"pe", "health", "health"}, {"pe", "status", "status"},
	{"pe", "statusReason", "statusReason"}, {"pe", "requiredConnections", "requiredConnections"},
	{"pe", "host", "hostUrl"}, {"pe", "job", "jobUrl"}, {"pe", "processId", "processId"},
	{"job", "id", "id"}, {"job", "self", "self"}, {"job", "name", "name"},
	{"job", "applicationName", "applicationName"}, {"job", "health", "health"}, {"job", "status", "status"},
	{"instance", "id", "id"}, {"instance", "self", "self"}, {"instance", "status", "status"},
	{"instance", "health", "health"},
	{"metric", "name", "name"}, {"metric", "metricKind", "metricKind"}, {"metric", "metricType", "metricType"},
	{"metric", "lastTimeRetrieved", "lastTimeRetrieved"}, {"metric", "value", "value"},
	{"operator", "id", "id"}, {"operator", "self", "self"}, {"operator", "name", "name"},
	{"operator", "operatorKind", "operatorKind"}, {"operator", "pe", "peUrl"},
	{"resource", "id", "id"}, {"resource", "self", "self"}, {"resource", "displayName", "displayName"},
	{"resource", "ipAddress", "ipAddress"}, {"resource", "status", "status"},
};

// Integer fields that both IBM clients declare as a long or an int: a string, even of digits, is an error. The
// corpus must show it for each.
constexpr BothForms kNumbersOnly[] = {
	{"pe", "indexWithinJob", "indexWithinJob"}, {"pe", "launchCount", "launchCount"},
	{"job", "submitTime", "submitTime"}, {"instance", "startTime", "startTime"},
};

// The model's members by their C++ names, so the corpus checks the parsed values rather than the CLI's --json.
json members(const Pe &p)
{
	return {{"id", p.id}, {"self", p.self}, {"indexWithinJob", p.indexWithinJob}, {"health", p.health},
		{"status", p.status}, {"statusReason", p.statusReason}, {"launchCount", p.launchCount},
		{"restartable", p.restartable}, {"processId", p.processId}, {"requiredConnections", p.requiredConnections},
		{"hostUrl", p.hostUrl}, {"jobUrl", p.jobUrl}, {"host", p.host}, {"jobId", p.jobId}};
}
json members(const Job &j)
{
	return {{"id", j.id}, {"self", j.self}, {"name", j.name}, {"applicationName", j.applicationName},
		{"health", j.health}, {"status", j.status}, {"submitTime", j.submitTime}};
}
json members(const Instance &i)
{
	return {{"id", i.id}, {"self", i.self}, {"status", i.status}, {"health", i.health}, {"startTime", i.startTime}};
}
json members(const Metric &m)
{
	return {{"name", m.name}, {"value", m.value}, {"metricKind", m.metricKind}, {"metricType", m.metricType},
		{"lastTimeRetrieved", m.lastTimeRetrieved}};
}
json members(const Operator &o)
{
	return {{"id", o.id}, {"self", o.self}, {"name", o.name}, {"operatorKind", o.operatorKind}, {"peUrl", o.peUrl}};
}
json members(const Resource &r)
{
	return {{"id", r.id}, {"self", r.self}, {"displayName", r.displayName}, {"ipAddress", r.ipAddress},
		{"status", r.status}};
}

// What one parse gave: the members and `missing`, or the error.
struct Parsed {
	bool ok = false;
	json members;
	std::vector<std::string> missing;
	Error error;
};

template<typename T>
Parsed outcome(const Result<T> &r)
{
	Parsed p;
	p.ok = r.ok();
	if (p.ok) {
		p.members = members(*r);
		p.missing = r->missing;
	} else {
		p.error = r.error();
	}
	return p;
}

Parsed parseAs(const std::string &resource, const json &input)
{
	if (resource == "pe")
		return outcome(parsePe(input));
	if (resource == "job")
		return outcome(parseJob(input));
	if (resource == "instance")
		return outcome(parseInstance(input));
	if (resource == "metric")
		return outcome(parseMetric(input));
	if (resource == "operator")
		return outcome(parseOperator(input));
	if (resource == "resource")
		return outcome(parseResource(input));
	FAIL("unknown resource '" << resource << "'");
	return {};
}

struct Case {
	std::string file;
	json doc;
	bool accepted = false;
};

std::vector<Case> loadCorpus()
{
	std::vector<Case> cases;
	REQUIRE_MESSAGE(std::filesystem::is_directory(kDir), kDir.string());
	for (const auto &entry : std::filesystem::directory_iterator(kDir)) {
		const std::string name = entry.path().filename().string();
		REQUIRE_MESSAGE(entry.path().extension() == ".json", "not a corpus file: " << name);
		std::ifstream in(entry.path());
		Case c{name, json::parse(in, nullptr, false)};
		REQUIRE_MESSAGE(c.doc.is_object(), name << " is not a JSON object");
		cases.push_back(std::move(c));
	}
	std::sort(cases.begin(), cases.end(), [](const Case &a, const Case &b) { return a.file < b.file; });
	return cases;
}

// Checks one file against the parser; true when the element was accepted.
bool check(const Case &c)
{
	const json &d = c.doc;
	for (const auto &[key, value] : d.items())
		CHECK_MESSAGE((key == "resource" || key == "note" || key == "input" || key == "expect" || key == "missing" ||
			       key == "error"), c.file << ": unknown key '" << key << "'");
	REQUIRE(d.value("resource", json()).is_string());
	const std::string resource = d["resource"];
	CHECK_MESSAGE(c.file.rfind(resource + "_", 0) == 0, c.file << " is not named after its resource");
	REQUIRE(d.contains("input"));
	REQUIRE_MESSAGE(d.contains("expect") != d.contains("error"), c.file << ": one of expect or error");
	const Parsed p = parseAs(resource, d["input"]);
	if (d.contains("error")) {
		REQUIRE_MESSAGE(!p.ok, c.file << " was accepted");
		CHECK(p.error.code == Errc::Protocol);
		CHECK(p.error.message == d["error"].get<std::string>());
		return false;
	}
	REQUIRE_MESSAGE(p.ok, c.file << ": " << p.error.message);
	for (const auto &[member, want] : d["expect"].items()) {
		REQUIRE_MESSAGE(p.members.contains(member), c.file << ": the model has no member '" << member << "'");
		CHECK_MESSAGE(p.members[member] == want, c.file << ": " << member << " is " << p.members[member].dump());
	}
	auto missing = d.value("missing", std::vector<std::string>{});
	auto got = p.missing;
	std::sort(missing.begin(), missing.end());
	std::sort(got.begin(), got.end());
	CHECK_MESSAGE(got == missing, c.file << ": missing is " << json(p.missing).dump());
	return true;
}

// Whether an accepted file sends `field` in the given JSON form and states the value the model must hold.
bool covers(const Case &c, const BothForms &f, json::value_t form)
{
	const json &d = c.doc;
	if (!c.accepted || d["resource"] != f.resource || !d["input"].contains(f.field) ||
	    !d["expect"].contains(f.member))
		return false;
	const json &v = d["input"][f.field];
	if (form == json::value_t::string)
		return v.is_string();
	return v.is_number_integer(); // also true for unsigned values
}

} // namespace rest_corpus_test

using namespace rest_corpus_test;

TEST_CASE("streams rest corpus: every file parses to the values or the error it states")
{
	std::vector<Case> cases = loadCorpus();
	CHECK(cases.size() >= 40);
	for (Case &c : cases) {
		INFO("corpus file " << c.file);
		c.accepted = check(c);
	}
}

TEST_CASE("streams rest corpus: each field IBM's clients declare a string is covered as a string and as a number")
{
	std::vector<Case> cases = loadCorpus();
	for (Case &c : cases)
		c.accepted = !c.doc.contains("error") && parseAs(c.doc["resource"], c.doc["input"]).ok;
	for (const BothForms &f : kBothForms) {
		INFO(f.resource << " " << f.field);
		const auto as = [&](json::value_t form) {
			return std::any_of(cases.begin(), cases.end(), [&](const Case &c) { return covers(c, f, form); });
		};
		CHECK_MESSAGE(as(json::value_t::string), "no accepted corpus file sends it as a string");
		CHECK_MESSAGE(as(json::value_t::number_integer), "no accepted corpus file sends it as a number");
	}
	// The integer fields IBM declares as numbers stay numbers: a file shows a digit string rejected for each.
	for (const BothForms &f : kNumbersOnly) {
		INFO(f.resource << " " << f.field);
		const bool shown = std::any_of(cases.begin(), cases.end(), [&](const Case &c) {
			const json &d = c.doc;
			return d.contains("error") && d["resource"] == f.resource && d["input"].contains(f.field) &&
			       d["input"][f.field].is_string() &&
			       d["error"].get<std::string>().find(std::string("field '") + f.field + "'") != std::string::npos;
		});
		CHECK_MESSAGE(shown, "no corpus file shows a string rejected");
	}
}
