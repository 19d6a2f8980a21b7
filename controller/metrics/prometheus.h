// SPDX-License-Identifier: Apache-2.0
// A client of the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`): PromQL in, typed results out, and
// errors that keep the HTTP status, Prometheus's `errorType` and `error`, and the URL (docs/METRICS.md).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/metrics/http.h"

namespace xdc::metrics {

using Labels = std::map<std::string, std::string>; // includes __name__ when the series has one

// One value at one time. Values are Prometheus's strings parsed as doubles ("NaN", "+Inf" and "-Inf" included).
struct Point {
	int64_t tNs = 0; // Unix time in ns (Prometheus sends seconds with ms resolution)
	double value = 0;
};

// An instant vector element.
struct Sample {
	Labels labels;
	Point point;
};

// A range vector element.
struct Series {
	Labels labels;
	std::vector<Point> points;
};

struct QueryResult {
	enum class Type { Vector, Matrix, Scalar, String };
	Type type = Type::Vector;
	std::vector<Sample> vector;     // Type::Vector
	std::vector<Series> matrix;     // Type::Matrix
	Point scalar;                   // Type::Scalar
	std::string string;             // Type::String (its time in scalar.tNs)
	std::vector<std::string> warnings;
};
const char *resultTypeName(QueryResult::Type t);

// A value as JSON: a number, or NaN and the infinities as the strings Prometheus uses ("NaN", "+Inf", "-Inf").
nlohmann::json valueJson(double v);

// The whole result as JSON: {"resultType", "result": [...]} with values as numbers and times as t_ns; NaN and
// infinities as the strings Prometheus uses.
nlohmann::json toJson(const QueryResult &r);

// Parses a Prometheus API response body (`{"status":"success","data":{...}}`). Exposed for tests.
Result<QueryResult> parseQueryResponse(const std::string &body);

// One Prometheus server. Thread-compatible: one thread uses one PrometheusClient.
class PrometheusClient {
public:
	explicit PrometheusClient(HttpTarget target);

	// GET /api/v1/query?query=Q[&time=T]: the value of the expression at timeNs (the server's now when absent).
	[[nodiscard]] Result<QueryResult> query(const std::string &promql, std::optional<int64_t> timeNs = std::nullopt);
	// GET /api/v1/query_range?query=Q&start=S&end=E&step=D: a matrix. Needs startNs <= endNs and stepNs > 0.
	[[nodiscard]] Result<QueryResult> queryRange(const std::string &promql, int64_t startNs, int64_t endNs,
						     int64_t stepNs);

	// Details of the last failed call (Kind::None after a success).
	const Failure &lastFailure() const { return http_.lastFailure(); }
	const HttpTarget &target() const { return http_.target(); }

private:
	Result<QueryResult> get(const std::string &url);
	http::Client http_;
};

// True when the instant query `promql` holds now, as a Prometheus alerting rule would fire: a vector result holds
// when it has at least one sample (a comparison without `bool` keeps only the series for which it is true, so
// `up{job="dc2"} == 0` holds exactly while dc2's target is down); a scalar holds when it is non-zero and not NaN.
// A query that fails is an error, never "false". Matrix and string results are Invalid.
[[nodiscard]] Result<bool> conditionHolds(PrometheusClient &client, const std::string &promql);

} // namespace xdc::metrics
