// SPDX-License-Identifier: Apache-2.0
// One interface over every metric source a scenario reads (docs/METRICS.md): a PromQL instant query, a Jolokia
// attribute read, Streams REST metrics of PEs and operators. Each sample is a set of series (labels -> value) taken
// at a controller wall time with its bound, so conditions and assertions treat all sources alike.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/metrics/http.h"
#include "controller/streams/client.h"

namespace xdc::metrics {

using SeriesLabels = std::map<std::string, std::string>;

// One series' value in one reading.
struct SeriesValue {
	SeriesLabels labels;
	double value = 0;
};

// What a source returned for one sample.
struct Reading {
	// Vector: a set of series (possibly empty: a PromQL filter that matched nothing). Scalar: exactly one value
	// (a PromQL scalar, a JMX number). The kind decides what "holds" means (see holds()).
	enum class Kind { Vector, Scalar } kind = Kind::Vector;
	std::vector<SeriesValue> series;
};

// One timed sample of a source: the reading or the failure, on the controller's wall clock. tNs is the middle of
// the request and boundNs half its length: the value was read by the server somewhere in [tNs - bound, tNs + bound].
struct MetricSample {
	std::string source;
	int64_t tNs = 0, boundNs = 0;
	bool ok = false;
	Reading reading;
	std::string error;     // the failure's message (ok = false)
	std::string errorKind; // connect, timeout, tls, auth, http, bad-json, bad-shape, server, config, not-found
};

// The default reading of a sample as a condition, the way a Prometheus alerting rule fires: a vector holds when it
// has at least one series, a scalar when it is non-zero and not NaN. A failed sample never holds.
bool holds(const MetricSample &s);

// The sample as JSON: {source, t_ns, bound_ns, ok, kind, series: [{labels, value}], error, error_kind}.
nlohmann::json toJson(const MetricSample &s);

// A named metric source. Thread-compatible: the sampling thread alone calls sample().
class MetricSource {
public:
	virtual ~MetricSource() = default;
	// The name the scenario gave it (conditions and assertions refer to it).
	virtual const std::string &name() const = 0;
	// {kind: prom|jmx|streams, ...} as configured, for the report.
	virtual nlohmann::json describe() const = 0;
	// Reads the source once. Errors are values: a failure's kind (as MetricSample::errorKind) is kept in
	// lastErrorKind() so unreachable servers, server-side errors and unexpected answers stay apart.
	[[nodiscard]] virtual Result<Reading> read() = 0;
	virtual std::string lastErrorKind() const = 0;
};

// Calls src.read() and stamps it with the controller's wall clock (middle of the call, half its length).
MetricSample takeSample(MetricSource &src);

// A PromQL instant query; each vector element a series (its Prometheus labels), a scalar one value.
std::unique_ptr<MetricSource> makePromSource(std::string name, HttpTarget target, std::string query);

// A Jolokia attribute read: a number (or a path into a composite, e.g. HeapMemoryUsage used) is a scalar; an object
// of numbers is a vector with one series per numeric key (label "key").
std::unique_ptr<MetricSource> makeJmxSource(std::string name, HttpTarget target, std::string mbean, std::string attribute,
					    std::string path);

// Streams REST metrics of the followed job in one DC's instance (or the DC the toolkit view finds active when dc is
// "active"): per operator (`operators`: names, empty = all) or per PE (`pes`: ids, "all" = every PE), the metrics
// named (empty = all); with port input/output, the metrics of the operators' ports of that direction. Series
// labels: dc, job, operator or pe, [port,] metric.
struct StreamsSelector {
	std::string dc;                     // a DC of the streams config, or "active"
	std::string job;                    // job name; empty = the streams config's job for the DC
	std::vector<std::string> operators; // operator names
	std::vector<std::string> pes;       // PE ids
	bool peLevel = false;               // PE metrics rather than operator metrics
	std::vector<std::string> metrics;   // metric names; empty = every metric
	std::string port;                   // operators: "" (operator metrics), input or output (every such port's)
};
std::unique_ptr<MetricSource> makeStreamsSource(std::string name, std::vector<streams::Endpoint> endpoints,
						StreamsSelector sel, std::function<std::string()> activeDc);

} // namespace xdc::metrics
