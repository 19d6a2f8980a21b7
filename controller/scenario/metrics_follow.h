// SPDX-License-Identifier: Apache-2.0
// A scenario run's metric sources (the `metrics:` block, docs/SCENARIOS.md "Metrics"): each source sampled on its own
// thread for the whole run, every sample kept with its controller wall time and bound, so `observe.until` metric
// conditions and `metric: {source: ...}` assertions read the same samples the report and the timeline show.
//
// Contract: start() builds the sources and starts sampling (it fails only on a source it cannot build, e.g. a streams
// source without a streams config); sampling runs until stop() or destruction; accessors are thread-safe and return
// copies. A sample that fails is kept (ok = false, with its error and kind) and never holds.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/metrics/source.h"
#include "controller/scenario/metrics_spec.h"

namespace xdc::scenario {

// True when the predicate holds at the sample: without op, metrics::holds(); with op, some series compares true.
bool predicateHolds(const MetricPredicate &p, const metrics::MetricSample &s);

// Evaluates a metric assertion over one source's samples whose time lies in [fromNs, toNs). Returns the failure
// ("" when it passed) and fills `observed` (samples, held, errors, per-series stat).
std::string evaluateMetricAssertion(const MetricAssertion &a, const std::vector<metrics::MetricSample> &samples,
				    int64_t fromNs, int64_t toNs, nlohmann::json &observed);

// A PromQL range query of a prom source over [fromNs, toNs] at stepNs, as one sample per step of the grid (the
// grid starts at fromNs rounded up to a millisecond, the resolution Prometheus answers in): an instant at which the
// expression had no series is an empty vector, exactly what an instant query at that time would give, so predicates
// and statistics read it as they read the run's own samples. Times are Prometheus's evaluation times (its clock);
// each sample's bound is half a step. At most 11000 steps (Prometheus's own limit) or Errc::Invalid.
Result<std::vector<metrics::MetricSample>> promRangeSamples(const MetricSourceSpec &s, int64_t fromNs, int64_t toNs,
							    int64_t stepNs);

// Merges the samples into an evidence bundle's timeline.jsonl (sorted by t_ns, each line t_ns first) as entries of
// host "controller", kind "metric", source = the source's name, with bound_ns, series, holds and error.
Result<void> addToTimeline(const std::string &bundleDir, const std::vector<metrics::MetricSample> &samples);

class MetricsFollower {
public:
	MetricsFollower() = default;
	~MetricsFollower();
	MetricsFollower(const MetricsFollower &) = delete;
	MetricsFollower &operator=(const MetricsFollower &) = delete;

	// Builds every source of the block (streams ones over `endpoints`, `activeDc` for dc: active) and starts
	// sampling each every block.interval.
	Result<void> start(const MetricsBlock &block, const std::vector<streams::Endpoint> &endpoints,
			   std::function<std::string()> activeDc);
	// For tests: sampling of sources built by the caller.
	void start(std::vector<std::unique_ptr<metrics::MetricSource>> sources, int64_t intervalNs);
	void stop();

	// Every sample so far (of one source when `source` is given), in time order per source.
	std::vector<metrics::MetricSample> samples(const std::string &source = "") const;
	// The first sample of the predicate's source at or after fromNs from which it held at every sample for at least
	// p.heldFor (up to the latest sample); with heldFor 0 the first sample at which it holds.
	std::optional<metrics::MetricSample> firstHolding(const MetricPredicate &p, int64_t fromNs) const;
	// The latest sample of a source (nullopt before its first).
	std::optional<metrics::MetricSample> latest(const std::string &source) const;
	// [{name, ...describe()}] of every source.
	nlohmann::json sources() const;

private:
	void loop(size_t i);

	std::vector<std::unique_ptr<metrics::MetricSource>> sources_;
	int64_t intervalNs_ = 0;
	mutable std::mutex m_;
	std::condition_variable cv_;
	std::vector<metrics::MetricSample> samples_;
	bool stop_ = false;
	std::vector<std::thread> threads_;
};

} // namespace xdc::scenario
