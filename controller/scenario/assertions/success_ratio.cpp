// SPDX-License-Identifier: Apache-2.0
// `success_ratio: {probe, host, phase, min, max}`: the fraction of a probe's attempts that succeeded within a phase
// (or the whole run), on each host it runs on.
#include <fmt/format.h>

#include "controller/scenario/assertions/kinds.h"
#include "controller/scenario/spec.h"
#include "controller/scenario/spec_read.h"

namespace xdc::scenario {

namespace {

using nlohmann::json;

class SuccessRatio : public AssertionCheck {
public:
	ProbeRef ref;
	std::string phase; // "" = the whole run
	std::optional<double> minRatio, maxRatio;

	std::string defaultName() const override
	{
		std::string bounds;
		auto add = [&](const std::string &t) { bounds += (bounds.empty() ? "" : ", ") + t; };
		if (minRatio)
			add(fmt::format(">= {:g}%", *minRatio * 100));
		if (maxRatio)
			add(fmt::format("<= {:g}%", *maxRatio * 100));
		return fmt::format("success {}{} {}", ref.probe, phase.empty() ? "" : " in " + phase, bounds);
	}

	Result<void> crossCheck(const Scenario &s, const std::string &path, const std::string &) const override
	{
		return checkProbeRef(ref, s, path + ".success_ratio");
	}

	std::vector<const ProbeRef *> probeRefs() const override { return {&ref}; }

	json parameters() const override
	{
		json j = json::object();
		j["probe"] = ref.probe;
		j["host"] = ref.host;
		j["phase"] = phase;
		if (minRatio)
			j["min"] = *minRatio;
		if (maxRatio)
			j["max"] = *maxRatio;
		return j;
	}

	void describe(json &e) const override { e["probe"] = ref.probe; }

	AssertionOutcome evaluate(RunTimeline &run) const override
	{
		AssertionOutcome out;
		auto [from, to] = phase.empty() ? std::pair<int64_t, int64_t>{0, INT64_MAX} : run.phaseWindow(phase);
		for (const auto &h : run.probeHosts(ref)) {
			uint64_t n = 0, ok = 0;
			for (const auto &x : run.entries()) {
				if (x.value("host", "") != h || x.value("source", "") != ref.probe)
					continue;
				const std::string k = x.value("kind", "");
				if (k != "probe.tcp" && k != "probe.http")
					continue;
				const int64_t t = x.value("t_ns", int64_t{0});
				if (t < from || t >= to)
					continue;
				n++;
				ok += x.value("values", json::object()).value("ok", 0.0) > 0.5;
			}
			const double ratio = n ? static_cast<double>(ok) / static_cast<double>(n) : 0.0;
			out.observed[h] = {{"attempts", n}, {"ratio", ratio}};
			std::string why;
			if (n == 0)
				why = "no attempts in the window";
			else if (minRatio && ratio + 1e-9 < *minRatio)
				why = fmt::format("{:.2f}% < min {:g}%", ratio * 100, *minRatio * 100);
			else if (maxRatio && ratio - 1e-9 > *maxRatio)
				why = fmt::format("{:.2f}% > max {:g}%", ratio * 100, *maxRatio * 100);
			if (!why.empty() && out.failure.empty())
				out.failure = fmt::format("probe {} on {}{}: {}", ref.probe, h, phase.empty() ? "" : " in " + phase,
							  why);
		}
		return out;
	}
};

} // namespace

std::shared_ptr<const AssertionCheck> parseSuccessRatio(AssertionParse &p)
{
	auto a = std::make_shared<SuccessRatio>();
	MapReader &b = p.r;
	a->ref = readProbeRef(b, p.body);
	b.str("phase", a->phase);
	if (b.ok() && !isWindowPhase(a->phase))
		b.fail(p.body["phase"], b.keyPath("phase"),
		       fmt::format("'{}' is not a phase with probes (expected baseline, inject, observe or recover; omit "
				   "for the whole run)", a->phase));
	readRatio(b, p.body, "min", a->minRatio);
	readRatio(b, p.body, "max", a->maxRatio);
	b.rejectUnknown();
	if (b.ok() && !a->minRatio && !a->maxRatio)
		b.fail(p.body, p.path, "give at least one bound: min, max (ratios)");
	if (b.ok() && a->minRatio && a->maxRatio && *a->minRatio > *a->maxRatio)
		b.fail(p.body["min"], b.keyPath("min"), "is greater than max");
	return a;
}

} // namespace xdc::scenario
