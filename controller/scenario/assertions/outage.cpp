// SPDX-License-Identifier: Apache-2.0
// `outage: {probe, host, min, max, detection_max, recovery_max, count_min, count_max}`: the outages a probe saw on
// each host it runs on. Detection is from the faults' start (the first verified apply) to the start of the first
// outage that ends after it; recovery from the faults' end (the last verified revert) to that outage's end.
#include <algorithm>

#include <fmt/format.h>

#include "common/duration.h"
#include "controller/scenario/assertions/kinds.h"
#include "controller/scenario/spec.h"
#include "controller/scenario/spec_read.h"

namespace xdc::scenario {

namespace {

using nlohmann::json;

class Outage : public AssertionCheck {
public:
	ProbeRef ref;
	std::optional<Nanos> minDuration, maxDuration, maxDetection, maxRecovery;
	std::optional<int64_t> minCount, maxCount;

	std::string defaultName() const override
	{
		std::string bounds;
		auto add = [&](const std::string &t) { bounds += (bounds.empty() ? "" : ", ") + t; };
		if (minDuration)
			add(">= " + formatDuration(*minDuration));
		if (maxDuration)
			add("<= " + formatDuration(*maxDuration));
		if (minCount)
			add(fmt::format("count >= {}", *minCount));
		if (maxCount)
			add(fmt::format("count <= {}", *maxCount));
		if (maxDetection)
			add("detected <= " + formatDuration(*maxDetection));
		if (maxRecovery)
			add("recovered <= " + formatDuration(*maxRecovery));
		return fmt::format("outage {} {}", ref.probe, bounds);
	}

	Result<void> crossCheck(const Scenario &s, const std::string &path, const std::string &) const override
	{
		return checkProbeRef(ref, s, path + ".outage");
	}

	std::vector<const ProbeRef *> probeRefs() const override { return {&ref}; }

	json parameters() const override
	{
		json j = json::object();
		j["probe"] = ref.probe;
		j["host"] = ref.host;
		if (minDuration)
			j["min_ms"] = minDuration->count() / 1e6;
		if (maxDuration)
			j["max_ms"] = maxDuration->count() / 1e6;
		if (maxDetection)
			j["detection_max_ms"] = maxDetection->count() / 1e6;
		if (maxRecovery)
			j["recovery_max_ms"] = maxRecovery->count() / 1e6;
		if (minCount)
			j["count_min"] = *minCount;
		if (maxCount)
			j["count_max"] = *maxCount;
		return j;
	}

	void describe(json &e) const override { e["probe"] = ref.probe; }

	AssertionOutcome evaluate(RunTimeline &run) const override
	{
		AssertionOutcome out;
		const auto [faultStart, faultEnd] = run.faultsWindow();
		for (const auto &h : run.probeHosts(ref)) {
			int64_t longest = 0, count = 0;
			std::optional<int64_t> detection, recovery;
			bool open = false;
			for (const auto &o : run.outages()) {
				if (o.host != h || o.source != ref.probe)
					continue;
				for (const auto &x : o.outages) {
					count++;
					const int64_t start = x.startNs, end = x.endNs;
					// The first outage that ends after the faults began is theirs.
					if (!detection && faultStart != INT64_MAX && (x.open || end >= faultStart)) {
						detection = start - faultStart;
						if (!x.open)
							recovery = end - faultEnd;
					}
					if (x.open) {
						open = true;
						continue;
					}
					longest = std::max<int64_t>(longest, end - start);
				}
			}
			out.observed[h] = {{"count", count}, {"longest_ms", longest / 1e6}, {"open", open}};
			if (detection)
				out.observed[h]["detection_ms"] = *detection / 1e6;
			if (recovery)
				out.observed[h]["recovery_ms"] = *recovery / 1e6;
			std::string why;
			if (open)
				why = "still failing when the recording ended";
			else if ((maxDetection || maxRecovery) && !detection)
				why = "no outage after the faults began, so no detection or recovery to measure";
			else if (maxDetection && *detection > maxDetection->count())
				why = fmt::format("detected {:.1f} ms after the faults began > detection_max {}", *detection / 1e6,
						  formatDuration(*maxDetection));
			else if (maxRecovery && recovery && *recovery > maxRecovery->count())
				why = fmt::format("recovered {:.1f} ms after the faults ended > recovery_max {}", *recovery / 1e6,
						  formatDuration(*maxRecovery));
			else if (maxDuration && longest > maxDuration->count())
				why = fmt::format("longest outage {:.1f} ms > max {}", longest / 1e6, formatDuration(*maxDuration));
			else if (minDuration && longest < minDuration->count())
				why = fmt::format("longest outage {:.1f} ms < min {}", longest / 1e6, formatDuration(*minDuration));
			else if (minCount && count < *minCount)
				why = fmt::format("{} outages < count_min {}", count, *minCount);
			else if (maxCount && count > *maxCount)
				why = fmt::format("{} outages > count_max {}", count, *maxCount);
			if (!why.empty() && out.failure.empty())
				out.failure = fmt::format("probe {} on {}: {}", ref.probe, h, why);
		}
		return out;
	}
};

} // namespace

std::shared_ptr<const AssertionCheck> parseOutage(AssertionParse &p)
{
	auto a = std::make_shared<Outage>();
	MapReader &b = p.r;
	a->ref = readProbeRef(b, p.body);
	readDurationOpt(b, "min", a->minDuration);
	readDurationOpt(b, "max", a->maxDuration);
	readDurationOpt(b, "detection_max", a->maxDetection);
	readDurationOpt(b, "recovery_max", a->maxRecovery);
	readCountBounds(b, a->minCount, a->maxCount);
	b.rejectUnknown();
	if (b.ok() && !a->minDuration && !a->maxDuration && !a->minCount && !a->maxCount && !a->maxDetection &&
	    !a->maxRecovery)
		b.fail(p.body, p.path, "give at least one bound: min, max, detection_max, recovery_max (durations), "
				       "count_min, count_max");
	if (b.ok() && a->minDuration && a->maxDuration && *a->minDuration > *a->maxDuration)
		b.fail(p.body["min"], b.keyPath("min"), "is greater than max");
	return a;
}

} // namespace xdc::scenario
