// SPDX-License-Identifier: Apache-2.0
// The Prometheus HTTP API client: request building, response parsing into typed results, and error classification.
#include "controller/metrics/prometheus.h"

#include <cmath>
#include <cstdlib>

namespace xdc::metrics {

using nlohmann::json;

namespace {

// Prometheus times are float seconds with ms resolution; rounding to ms first keeps 1700000000.123 exact.
int64_t secondsToNs(double s)
{
	return static_cast<int64_t>(std::llround(s * 1e3)) * 1000000;
}

std::string nsToSeconds(int64_t ns)
{
	// Prometheus accepts fractional Unix seconds; ms resolution is what it keeps.
	const int64_t ms = ns / 1000000;
	return fmt::format("{}.{:03d}", ms / 1000, static_cast<int>(std::llabs(ms % 1000)));
}

Result<double> parseValue(const json &v)
{
	if (!v.is_string())
		return makeError(Errc::Protocol, "a value is not a string");
	const std::string s = v.get<std::string>();
	char *end = nullptr;
	const double d = std::strtod(s.c_str(), &end);
	if (s.empty() || end != s.c_str() + s.size())
		return makeError(Errc::Protocol, "value '{}' is not a number", s);
	return d;
}

// [<time seconds>, "<value>"]
Result<Point> parsePoint(const json &p)
{
	if (!p.is_array() || p.size() != 2 || !p[0].is_number())
		return makeError(Errc::Protocol, "a value is not [time, \"value\"]");
	auto v = parseValue(p[1]);
	if (!v)
		return v.error();
	return Point{secondsToNs(p[0].get<double>()), *v};
}

Result<Labels> parseLabels(const json &m)
{
	if (!m.is_object())
		return makeError(Errc::Protocol, "`metric` is not an object");
	Labels l;
	for (const auto &[k, v] : m.items()) {
		if (!v.is_string())
			return makeError(Errc::Protocol, "label '{}' is not a string", k);
		l[k] = v.get<std::string>();
	}
	return l;
}

} // namespace

json valueJson(double v)
{
	if (std::isnan(v))
		return "NaN";
	if (std::isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	return v;
}

const char *resultTypeName(QueryResult::Type t)
{
	switch (t) {
	case QueryResult::Type::Vector: return "vector";
	case QueryResult::Type::Matrix: return "matrix";
	case QueryResult::Type::Scalar: return "scalar";
	case QueryResult::Type::String: return "string";
	}
	return "?";
}

json toJson(const QueryResult &r)
{
	json out = {{"resultType", resultTypeName(r.type)}};
	json res = json::array();
	switch (r.type) {
	case QueryResult::Type::Vector:
		for (const auto &s : r.vector)
			res.push_back({{"labels", s.labels}, {"t_ns", s.point.tNs}, {"value", valueJson(s.point.value)}});
		break;
	case QueryResult::Type::Matrix:
		for (const auto &s : r.matrix) {
			json pts = json::array();
			for (const auto &p : s.points)
				pts.push_back({{"t_ns", p.tNs}, {"value", valueJson(p.value)}});
			res.push_back({{"labels", s.labels}, {"points", pts}});
		}
		break;
	case QueryResult::Type::Scalar:
		res = {{"t_ns", r.scalar.tNs}, {"value", valueJson(r.scalar.value)}};
		break;
	case QueryResult::Type::String:
		res = {{"t_ns", r.scalar.tNs}, {"value", r.string}};
		break;
	}
	out["result"] = res;
	if (!r.warnings.empty())
		out["warnings"] = r.warnings;
	return out;
}

Result<QueryResult> parseQueryResponse(const std::string &body)
{
	json j;
	try {
		j = json::parse(body);
	} catch (const json::exception &e) {
		return makeError(Errc::Protocol, "not JSON: {}", e.what());
	}
	if (!j.is_object() || j.value("status", "") != "success")
		return makeError(Errc::Protocol, "`status` is not \"success\"");
	if (!j.contains("data") || !j["data"].is_object())
		return makeError(Errc::Protocol, "no `data` object");
	const json &d = j["data"];
	const std::string type = d.value("resultType", "");
	if (!d.contains("result"))
		return makeError(Errc::Protocol, "no `data.result`");
	const json &res = d["result"];
	QueryResult r;
	if (j.contains("warnings") && j["warnings"].is_array())
		for (const auto &w : j["warnings"])
			if (w.is_string())
				r.warnings.push_back(w.get<std::string>());
	if (type == "vector" || type == "matrix") {
		if (!res.is_array())
			return makeError(Errc::Protocol, "`data.result` of a {} is not an array", type);
		for (const auto &e : res) {
			if (!e.is_object())
				return makeError(Errc::Protocol, "a {} element is not an object", type);
			auto labels = parseLabels(e.contains("metric") ? e["metric"] : json::object());
			if (!labels)
				return labels.error();
			if (e.contains("histogram") || e.contains("histograms"))
				return makeError(Errc::Unsupported, "native histogram samples are not supported");
			if (type == "vector") {
				r.type = QueryResult::Type::Vector;
				if (!e.contains("value"))
					return makeError(Errc::Protocol, "a vector element has no `value`");
				auto p = parsePoint(e["value"]);
				if (!p)
					return p.error();
				r.vector.push_back(Sample{std::move(*labels), *p});
			} else {
				r.type = QueryResult::Type::Matrix;
				if (!e.contains("values") || !e["values"].is_array())
					return makeError(Errc::Protocol, "a matrix element has no `values` array");
				Series s{std::move(*labels), {}};
				for (const auto &pv : e["values"]) {
					auto p = parsePoint(pv);
					if (!p)
						return p.error();
					s.points.push_back(*p);
				}
				r.matrix.push_back(std::move(s));
			}
		}
		r.type = type == "vector" ? QueryResult::Type::Vector : QueryResult::Type::Matrix;
		return r;
	}
	if (type == "scalar") {
		r.type = QueryResult::Type::Scalar;
		auto p = parsePoint(res);
		if (!p)
			return p.error();
		r.scalar = *p;
		return r;
	}
	if (type == "string") {
		r.type = QueryResult::Type::String;
		if (!res.is_array() || res.size() != 2 || !res[0].is_number() || !res[1].is_string())
			return makeError(Errc::Protocol, "a string result is not [time, \"text\"]");
		r.scalar.tNs = secondsToNs(res[0].get<double>());
		r.string = res[1].get<std::string>();
		return r;
	}
	return makeError(Errc::Protocol, "unknown resultType '{}'", type);
}

PrometheusClient::PrometheusClient(HttpTarget target) : http_(metricsTarget(std::move(target), "xdc metrics (prometheus)"), "the metrics client") {}

Result<QueryResult> PrometheusClient::get(const std::string &url)
{
	auto resp = http_.request(http::Request{"GET", url});
	if (!resp)
		return resp.error();
	Failure f;
	f.url = url;
	f.httpStatus = static_cast<int>(resp->status);
	// Prometheus sends its error envelope with 400 (bad_data), 422 (execution), 503 (timeout, canceled) and 500.
	json j;
	bool isJson = true;
	try {
		j = json::parse(resp->body);
	} catch (const json::exception &) {
		isJson = false;
	}
	if (isJson && j.is_object() && j.value("status", "") == "error") {
		f.kind = Failure::Kind::Server;
		f.errorType = j.value("errorType", "");
		f.error = j.value("error", "");
		const Errc code = f.errorType == "bad_data" ? Errc::Invalid
				  : f.errorType == "timeout" ? Errc::Timeout
							      : errcForStatus(resp->status);
		return http_.fail(f, code,
				  fmt::format("GET {}: HTTP {}: Prometheus {}: {}", url, resp->status,
					      f.errorType.empty() ? "error" : f.errorType, f.error));
	}
	if (resp->status < 200 || resp->status > 299) {
		f.kind = resp->status == 401 || resp->status == 403 ? Failure::Kind::Auth : Failure::Kind::Http;
		f.error = resp->body.substr(0, 300);
		std::string text = f.error;
		for (auto &ch : text)
			if (static_cast<unsigned char>(ch) < 0x20)
				ch = ' ';
		if (f.kind == Failure::Kind::Auth)
			text += text.empty() ? "(not authorized: check the token or basic auth file)"
					     : " (not authorized: check the token or basic auth file)";
		return http_.fail(f, errcForStatus(resp->status),
				  fmt::format("GET {}: HTTP {}{}{}", url, resp->status, text.empty() ? "" : " ", text));
	}
	if (!isJson) {
		f.kind = Failure::Kind::BadJson;
		f.error = "the response is not JSON";
		return http_.fail(f, Errc::Protocol, fmt::format("GET {}: the response is not JSON", url));
	}
	auto r = parseQueryResponse(resp->body);
	if (!r) {
		f.kind = Failure::Kind::BadShape;
		f.error = r.error().message;
		return http_.fail(f, r.error().code, fmt::format("GET {}: {}", url, r.error().message));
	}
	return r;
}

Result<QueryResult> PrometheusClient::query(const std::string &promql, std::optional<int64_t> timeNs)
{
	std::string url = http_.urlFor("/api/v1/query") + "?query=" + http::escape(promql);
	if (timeNs)
		url += "&time=" + nsToSeconds(*timeNs);
	return get(url);
}

Result<QueryResult> PrometheusClient::queryRange(const std::string &promql, int64_t startNs, int64_t endNs,
						  int64_t stepNs)
{
	if (stepNs <= 0 || startNs > endNs)
		return makeError(Errc::Invalid, "a range query needs start <= end and a positive step");
	const std::string url = http_.urlFor("/api/v1/query_range") + "?query=" + http::escape(promql) +
				"&start=" + nsToSeconds(startNs) + "&end=" + nsToSeconds(endNs) +
				"&step=" + nsToSeconds(stepNs);
	auto r = get(url);
	if (r && r->type != QueryResult::Type::Matrix)
		return makeError(Errc::Protocol, "GET {}: a range query returned a {}, not a matrix", url,
				 resultTypeName(r->type));
	return r;
}

Result<bool> conditionHolds(PrometheusClient &client, const std::string &promql)
{
	auto r = client.query(promql);
	if (!r)
		return r.error();
	switch (r->type) {
	case QueryResult::Type::Vector: return !r->vector.empty();
	case QueryResult::Type::Scalar: return !std::isnan(r->scalar.value) && r->scalar.value != 0;
	default:
		return makeError(Errc::Invalid, "condition '{}' gave a {}: it must be an instant vector or a scalar",
				 promql, resultTypeName(r->type));
	}
}

} // namespace xdc::metrics
