// SPDX-License-Identifier: Apache-2.0
// The scenario's metric parts (docs/SCENARIOS.md "Metrics"): the `metrics:` block of named sources (PromQL, Jolokia,
// Streams REST), the metric condition of `observe.until`, and the metric-source form of the `metric` assertion.
// Parsed into these structs by spec.cpp through the readers below; errors name file:line:column, key and expectation.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/yaml_reader.h"

namespace xdc::scenario {

// One named source. kind prom: url + query; jmx: url + mbean [+ attribute, path]; streams: dc + operators or pes
// [+ job, metrics, port].
struct MetricSourceSpec {
	std::string name, kind;
	std::string url, query;
	std::string mbean, attribute, path;
	std::string basicAuthFile, bearerTokenFile, caFile;
	bool insecure = false;
	std::chrono::nanoseconds timeout = std::chrono::seconds(2);
	// streams
	std::string dc, job;
	std::vector<std::string> operators, pes, metrics;
	bool peLevel = false;
	std::string port; // operators: "" | input | output
	std::string where;
};

struct MetricsBlock {
	bool present = false;
	std::chrono::nanoseconds interval = std::chrono::seconds(1);
	std::vector<MetricSourceSpec> sources;
	std::string where;
	const MetricSourceSpec *source(const std::string &name) const;
	bool usesStreams() const;
};

// A predicate over one sample of a source. Without op: the sample holds as a Prometheus alerting rule fires (a
// non-empty vector, a non-zero scalar). With op (<, <=, ==, !=, >=, >) and value: some series' value compares true.
// A failed sample never holds.
struct MetricPredicate {
	std::string source;
	std::string op; // "" = the source's own truth
	double value = 0;
	std::string where;
	// observe.until only (`for: 8s`): the predicate must have held at every sample for this long.
	std::chrono::nanoseconds heldFor{0};
};

// `metric: {source, during, settle, holds, op, value, stat, min, max}`: over the source's samples in a window
// (run, faults, after, or a phase), the predicate held at some sample / every sample / no sample, and/or a statistic
// of every series' values (min, max, mean, first, last, increase = last - first) lies within [min, max].
struct MetricAssertion {
	MetricPredicate pred;
	std::string during = "run"; // run | faults | after | baseline | inject | observe | recover
	std::chrono::nanoseconds settle{0}; // skipped at the start of the window
	std::string holds;                  // "" | sometimes | always | never
	std::string stat = "last";
	std::optional<double> min, max;
	// prom sources only (`range_step: 1s`): the window is read afterwards with one PromQL range query at this step
	// (Prometheus's stored history, on its clock) instead of from the samples taken during the run.
	std::chrono::nanoseconds rangeStep{0};
};

// Readers used by spec.cpp. Each reports into `r` (the reader of the enclosing mapping) or returns the error.
Result<MetricsBlock> readMetricsBlock(const YAML::Node &n, const std::string &origin);
// One source spec ({prom: {...}} / {jmx: {...}} / {streams: {...}}, body only) at `path`.
Result<MetricSourceSpec> readMetricSourceBody(const std::string &kind, const YAML::Node &body, const std::string &origin,
					      const std::string &path);
// {source, op, value} inside the mapping `r` reads (the key `source` required); with withFor also `for`.
void readMetricPredicate(MapReader &r, const YAML::Node &n, MetricPredicate &p, bool withFor = false);
// The body of a `metric:` assertion that names a source.
void readMetricAssertion(MapReader &r, const YAML::Node &n, MetricAssertion &a);
// Every predicate names a source of the block.
Result<void> checkMetricRef(const MetricPredicate &p, const MetricsBlock &m, const std::string &path);

} // namespace xdc::scenario
