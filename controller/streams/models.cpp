// SPDX-License-Identifier: Apache-2.0
// Parsing of the REST API's resources into typed models, and their JSON form for the CLI's --json.
#include "controller/streams/models.h"

#include <cmath>
#include <limits>

namespace xdc::streams {

namespace {

using nlohmann::json;

// The type of a JSON value as an error message names it.
const char *typeName(const json &v)
{
	switch (v.type()) {
	case json::value_t::null: return "null";
	case json::value_t::object: return "an object";
	case json::value_t::array: return "an array";
	case json::value_t::string: return "a string";
	case json::value_t::boolean: return "a boolean";
	case json::value_t::number_integer:
	case json::value_t::number_unsigned: return "an integer";
	case json::value_t::number_float: return "a number with a fraction";
	default: return "a binary value";
	}
}

// Reads the fields of one element. The first type error wins; absent fields are collected into `missing` so the
// caller can tell a server that omits fields (older releases, `fields=` selections) from one that sends garbage.
class Fields {
public:
	Fields(const json &j, const char *resource) : j_(j), resource_(resource) {}

	// Ids arrive as strings ("0") from the product and as numbers from some tools: both are kept as strings.
	void id(const char *key, std::string &out, bool expected = true)
	{
		const json *v = find(key, expected);
		if (!v)
			return;
		if (v->is_string())
			out = v->get<std::string>();
		else if (v->is_number_unsigned())
			out = std::to_string(v->get<uint64_t>());
		else if (v->is_number_integer())
			out = std::to_string(v->get<int64_t>());
		else
			wrongType(key, *v, "a string or an integer");
	}

	void str(const char *key, std::string &out, bool expected = true)
	{
		const json *v = find(key, expected);
		if (!v)
			return;
		if (!v->is_string())
			return wrongType(key, *v, "a string");
		out = v->get<std::string>();
	}

	void i64(const char *key, int64_t &out, bool expected = true)
	{
		const json *v = find(key, expected);
		if (!v)
			return;
		// is_number_integer() is also true for unsigned values: those are checked first, for range.
		if (v->is_number_unsigned()) {
			const uint64_t u = v->get<uint64_t>();
			if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
				return fail(fmt::format("field '{}' is {}, out of the 64-bit range", key, u));
			out = static_cast<int64_t>(u);
		} else if (v->is_number_integer()) {
			out = v->get<int64_t>();
		} else if (v->is_number_float()) {
			// Gauges from some exporters come as 12.0: whole values are accepted, fractions are not an integer.
			const double d = v->get<double>();
			if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9.0e18)
				return wrongType(key, *v, "an integer");
			out = static_cast<int64_t>(d);
		} else {
			wrongType(key, *v, "an integer");
		}
	}

	void boolean(const char *key, bool &out, bool expected = true)
	{
		const json *v = find(key, expected);
		if (!v)
			return;
		if (!v->is_boolean())
			return wrongType(key, *v, "a boolean");
		out = v->get<bool>();
	}

	// Names the element in errors once its id is known: "job '3'".
	void setName(const std::string &id)
	{
		if (!id.empty())
			name_ = fmt::format("{} '{}'", resource_, id);
	}

	template<typename T>
	Result<T> finish(T &&t)
	{
		if (!error_.empty())
			return Error{Errc::Protocol, error_};
		t.missing = std::move(missing_);
		return std::move(t);
	}

	bool isObject() const { return j_.is_object(); }

private:
	const json *find(const char *key, bool expected)
	{
		auto it = j_.find(key);
		// null is how servers say "no value" (a stopped PE's processId): the same as absent.
		if (it == j_.end() || it->is_null()) {
			if (expected)
				missing_.push_back(key);
			return nullptr;
		}
		return &*it;
	}

	void wrongType(const char *key, const json &v, const char *expected)
	{
		fail(fmt::format("field '{}' is {}, expected {}", key, typeName(v), expected));
	}

	void fail(const std::string &what)
	{
		if (error_.empty())
			error_ = fmt::format("{}: {}", name_.empty() ? std::string(resource_) : name_, what);
	}

	const json &j_;
	const char *resource_;
	std::string name_;
	std::string error_;
	std::vector<std::string> missing_;
};

Error notAnObject(const char *resource, const json &j)
{
	return makeError(Errc::Protocol, "{}: expected a JSON object, got {}", resource, typeName(j));
}

// The last path segment of a relation URL, without query or fragment: ".../jobs/12" -> "12".
std::string lastSegment(std::string url)
{
	if (auto q = url.find_first_of("?#"); q != std::string::npos)
		url.resize(q);
	while (!url.empty() && url.back() == '/')
		url.pop_back();
	auto slash = url.rfind('/');
	std::string seg = slash == std::string::npos ? url : url.substr(slash + 1);
	// Relations are URL-escaped ("host%3A1"): undo it so the id matches what the element itself says.
	std::string out;
	for (size_t i = 0; i < seg.size(); i++) {
		auto hex = [](char c) -> int {
			if (c >= '0' && c <= '9')
				return c - '0';
			if (c >= 'a' && c <= 'f')
				return c - 'a' + 10;
			if (c >= 'A' && c <= 'F')
				return c - 'A' + 10;
			return -1;
		};
		if (seg[i] == '%' && i + 2 < seg.size() && hex(seg[i + 1]) >= 0 && hex(seg[i + 2]) >= 0) {
			out.push_back(static_cast<char>(hex(seg[i + 1]) * 16 + hex(seg[i + 2])));
			i += 2;
		} else {
			out.push_back(seg[i]);
		}
	}
	return out;
}

void putMissing(json &j, const std::vector<std::string> &missing)
{
	if (!missing.empty())
		j["missing"] = missing;
}

} // namespace

Result<Metric> parseMetric(const json &j)
{
	if (!j.is_object())
		return notAnObject("metric", j);
	Metric m;
	Fields f(j, "metric");
	f.str("name", m.name);
	f.setName(m.name);
	f.i64("value", m.value);
	f.str("metricKind", m.metricKind);
	f.str("metricType", m.metricType);
	f.i64("lastTimeRetrieved", m.lastTimeRetrieved);
	return f.finish(std::move(m));
}

Result<Instance> parseInstance(const json &j)
{
	if (!j.is_object())
		return notAnObject("instance", j);
	Instance i;
	Fields f(j, "instance");
	f.id("id", i.id);
	f.setName(i.id);
	f.str("self", i.self);
	f.str("status", i.status);
	f.str("health", i.health);
	f.i64("startTime", i.startTime);
	return f.finish(std::move(i));
}

Result<Job> parseJob(const json &j)
{
	if (!j.is_object())
		return notAnObject("job", j);
	Job job;
	Fields f(j, "job");
	f.id("id", job.id);
	f.setName(job.id);
	f.str("self", job.self);
	f.str("name", job.name);
	f.str("applicationName", job.applicationName);
	f.str("health", job.health);
	f.str("status", job.status);
	f.i64("submitTime", job.submitTime);
	return f.finish(std::move(job));
}

Result<Pe> parsePe(const json &j)
{
	if (!j.is_object())
		return notAnObject("pe", j);
	Pe p;
	Fields f(j, "pe");
	f.id("id", p.id);
	f.setName(p.id);
	f.str("self", p.self);
	f.i64("indexWithinJob", p.indexWithinJob);
	f.str("health", p.health);
	f.str("status", p.status);
	f.str("statusReason", p.statusReason);
	f.i64("launchCount", p.launchCount);
	f.boolean("restartable", p.restartable);
	// A PE that is not running has no process: absent is normal, not "missing".
	f.i64("processId", p.processId, false);
	f.str("requiredConnections", p.requiredConnections);
	// The host relation exists only once the PE is placed.
	f.str("host", p.hostUrl, false);
	f.str("job", p.jobUrl);
	auto r = f.finish(std::move(p));
	if (r.ok()) {
		if (!r->hostUrl.empty())
			r->host = lastSegment(r->hostUrl);
		if (!r->jobUrl.empty())
			r->jobId = lastSegment(r->jobUrl);
	}
	return r;
}

Result<Operator> parseOperator(const json &j)
{
	if (!j.is_object())
		return notAnObject("operator", j);
	Operator o;
	Fields f(j, "operator");
	f.id("id", o.id);
	f.setName(o.id);
	f.str("self", o.self);
	f.str("name", o.name);
	f.str("operatorKind", o.operatorKind);
	f.str("pe", o.peUrl);
	return f.finish(std::move(o));
}

Result<Resource> parseResource(const json &j)
{
	if (!j.is_object())
		return notAnObject("resource", j);
	Resource r;
	Fields f(j, "resource");
	f.id("id", r.id);
	f.setName(r.id);
	f.str("self", r.self);
	f.str("displayName", r.displayName);
	f.str("ipAddress", r.ipAddress);
	f.str("status", r.status);
	return f.finish(std::move(r));
}

json toJson(const Metric &m)
{
	json j = {{"name", m.name}, {"value", m.value}, {"metricKind", m.metricKind}, {"metricType", m.metricType},
		  {"lastTimeRetrieved", m.lastTimeRetrieved}};
	putMissing(j, m.missing);
	return j;
}

json toJson(const Instance &i)
{
	json j = {{"id", i.id}, {"self", i.self}, {"status", i.status}, {"health", i.health},
		  {"startTime", i.startTime}};
	putMissing(j, i.missing);
	return j;
}

json toJson(const Job &job)
{
	json j = {{"id", job.id}, {"self", job.self}, {"name", job.name}, {"applicationName", job.applicationName},
		  {"health", job.health}, {"status", job.status}, {"submitTime", job.submitTime}};
	putMissing(j, job.missing);
	return j;
}

json toJson(const Pe &p)
{
	json j = {{"id", p.id}, {"self", p.self}, {"indexWithinJob", p.indexWithinJob}, {"health", p.health},
		  {"status", p.status}, {"statusReason", p.statusReason}, {"launchCount", p.launchCount},
		  {"restartable", p.restartable}, {"processId", p.processId},
		  {"requiredConnections", p.requiredConnections}, {"host", p.host}, {"hostUrl", p.hostUrl},
		  {"job", p.jobId}, {"jobUrl", p.jobUrl}};
	putMissing(j, p.missing);
	return j;
}

} // namespace xdc::streams
