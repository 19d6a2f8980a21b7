// SPDX-License-Identifier: Apache-2.0
// Parsing of the REST API's resources into typed models, and their JSON form for the CLI's --json.
#include "controller/streams/models.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

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

	// Every string field the models read is declared a string by IBM's own REST clients (Java
	// com.ibm.streamsx.rest, whose Gson also reads a JSON number into a String; Python streamsx.rest_primitives),
	// but the operator id, which neither declares. Ids arrive as strings ("0") from the product and as numbers
	// from some tools, so an integer is accepted for any string field and kept as its decimal text. Fractions,
	// booleans, objects and arrays are still errors.
	void str(const char *key, std::string &out, bool expected = true)
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

	// An integer field that IBM declares as a long or an int in both clients (launchCount, indexWithinJob,
	// submitTime, startTime): a number only.
	void i64(const char *key, int64_t &out, bool expected = true)
	{
		if (const json *v = find(key, expected))
			number(key, *v, out, "an integer");
	}

	// An integer field that comes as a number or as a string of decimal digits: PE processId (a String in the
	// Java client's ProcessingElement and str in the Python client's PE), metric lastTimeRetrieved (str in the
	// Python client's Metric). "4711" and 4711 both read as 4711; a string that is not a whole decimal number in
	// the 64-bit range ("47x1", "", " 1", "+1", "1.0") is an error naming the field and what was expected.
	void i64OrString(const char *key, int64_t &out, bool expected = true)
	{
		const json *v = find(key, expected);
		if (!v)
			return;
		if (!v->is_string())
			return number(key, *v, out, kIntOrDigits);
		const std::string &s = v->get_ref<const std::string &>();
		const char *end = s.data() + s.size();
		int64_t n = 0;
		const auto [stop, ec] = std::from_chars(s.data(), end, n);
		if (ec == std::errc::result_out_of_range && stop == end)
			return fail(fmt::format("field '{}' is the string {}, out of the 64-bit range", key, quote(s)));
		if (ec != std::errc() || stop != end)
			return fail(fmt::format("field '{}' is the string {}, expected {}", key, quote(s), kIntOrDigits));
		out = n;
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

	static constexpr const char *kIntOrDigits = "an integer or a string of decimal digits";

	// A JSON number into a 64-bit integer; `expected` is what the error says the field should have been.
	void number(const char *key, const json &v, int64_t &out, const char *expected)
	{
		// is_number_integer() is also true for unsigned values: those are checked first, for range.
		if (v.is_number_unsigned()) {
			const uint64_t u = v.get<uint64_t>();
			if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
				return fail(fmt::format("field '{}' is {}, out of the 64-bit range", key, u));
			out = static_cast<int64_t>(u);
		} else if (v.is_number_integer()) {
			out = v.get<int64_t>();
		} else if (v.is_number_float()) {
			// Gauges from some exporters come as 12.0: whole values are accepted, fractions are not an integer.
			const double d = v.get<double>();
			if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9.0e18)
				return wrongType(key, v, expected);
			out = static_cast<int64_t>(d);
		} else {
			wrongType(key, v, expected);
		}
	}

	// A server's string quoted for an error message: JSON-escaped, and cut after 40 bytes.
	static std::string quote(const std::string &s)
	{
		constexpr size_t kMax = 40;
		if (s.size() <= kMax)
			return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
		return json(s.substr(0, kMax)).dump(-1, ' ', false, json::error_handler_t::replace) + "...";
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
	// value is a long in IBM's Java client and an int in its Python one, so it stays an integer, but a quoted
	// one ("12") is read too. Harmless: a string of digits has one meaning, anything else is still an error. And
	// useful: counters are int64 and can pass 2^53, where a JSON number loses digits in JavaScript tooling, so
	// gateways that keep int64 exact quote it (proto3's JSON mapping does). IBM's Java client reads it the same
	// way (Gson's nextLong parses a quoted long). The other long/int fields (launchCount, indexWithinJob,
	// submitTime, startTime) are never near 2^53 and no IBM client declares them strings: numbers only.
	f.i64OrString("value", m.value);
	f.str("metricKind", m.metricKind);
	f.str("metricType", m.metricType);
	// A long in the Java client, str in the Python client's Metric.
	f.i64OrString("lastTimeRetrieved", m.lastTimeRetrieved);
	return f.finish(std::move(m));
}

Result<Instance> parseInstance(const json &j)
{
	if (!j.is_object())
		return notAnObject("instance", j);
	Instance i;
	Fields f(j, "instance");
	f.str("id", i.id);
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
	f.str("id", job.id);
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
	f.str("id", p.id);
	f.setName(p.id);
	f.str("self", p.self);
	f.i64("indexWithinJob", p.indexWithinJob);
	f.str("health", p.health);
	f.str("status", p.status);
	f.str("statusReason", p.statusReason);
	f.i64("launchCount", p.launchCount);
	f.boolean("restartable", p.restartable);
	// A PE that is not running has no process: absent is normal, not "missing". IBM's clients declare it a
	// string (Java ProcessingElement.processId is a String, Python PE.processId is str): "4711" or 4711.
	// An empty string is read as "no process" too: a stopped PE's processId is not worth failing the whole PE over.
	if (j.is_object() && j.contains("processId") && j["processId"].is_string() && j["processId"].get_ref<const std::string &>().empty())
		p.processId = 0;
	else
		f.i64OrString("processId", p.processId, false);
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
	f.str("id", o.id);
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
	f.str("id", r.id);
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
