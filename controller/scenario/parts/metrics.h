// SPDX-License-Identifier: Apache-2.0
// The run's metric sources (`metrics:`, metrics_follow.h): sampled from before the baseline to teardown; their
// samples go into the report and onto the evidence bundle's timeline, and answer observe.until's metric condition
// and the `metric: {source: ...}` assertions.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "controller/scenario/metrics_follow.h"
#include "controller/scenario/parts/run_part.h"

namespace xdc::scenario {

class MetricsPart : public RunPart {
public:
	using RunPart::RunPart;
	~MetricsPart() override;
	const char *name() const override { return "metrics"; }

	// Starts sampling every source (a source that follows the active DC asks the toolkit view).
	bool prepare() override;
	// Stops sampling.
	void teardown() override;
	// `metrics`: per source its counts, every sample; the samples onto the evidence timeline.
	void report() override;

	// observe.until a metric condition: the first sample taken after the faults began at which it holds. False when
	// the run must go to recovery (verdict set, phase ended).
	bool observeUntil(int64_t injectStart);
	// A steady-state check on a metric condition over the window that ends at endNs: it held at every sample of
	// its source taken in the window (at least one). Adds its entry to the report; `first` gets the first failure.
	bool steady(const SteadyCheck &c, const std::string &when, int64_t endNs, std::string &first);
	// The first metric stop condition that held at a sample taken at or after fromNs (a streak of `for`), as the
	// reason the run stops; nullopt while none has.
	std::optional<std::string> stopCondition(int64_t fromNs) const;
	// A `metric: {source: ...}` assertion over the samples (or a Prometheus range query): "" when it held.
	std::string check(const MetricAssertion &a, json &observed, std::pair<int64_t, int64_t> faultsWindow);

private:
	// A condition in words: "dc2_down > 0 for 3s", or an own prom source's query.
	std::string conditionText(const MetricPredicate &p) const;
	std::unique_ptr<MetricsFollower> follower_;
};

} // namespace xdc::scenario
