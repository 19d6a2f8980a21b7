// SPDX-License-Identifier: Apache-2.0
// The run's assertions (see assertions_part.h).
#include "controller/scenario/parts/assertions_part.h"

#include "common/duration.h"
#include "controller/scenario/assertions/assertion.h"

namespace xdc::scenario {

namespace {

// One measured value as the console prints it: ratios in %, _ms durations as durations, other numbers to 4
// significant figures.
std::string observedValueText(const std::string &key, const json &v)
{
	if (v.is_number()) {
		const double d = v.get<double>();
		if (key.find("ratio") != std::string::npos)
			return fmt::format("{:.1f}%", d * 100);
		if (key.ends_with("_ms"))
			return formatApprox(std::chrono::duration_cast<Nanos>(std::chrono::duration<double, std::milli>(d)));
		return fmt::format("{:.4g}", d);
	}
	if (v.is_string())
		return v.get<std::string>();
	if (v.is_array())
		return fmt::format("[{} values]", v.size());
	return v.dump();
}

void flattenObserved(const json &j, const std::string &path, std::vector<std::string> &out)
{
	if (!j.is_object()) {
		const auto sp = path.rfind(' ');
		const std::string key = sp == std::string::npos ? path : path.substr(sp + 1);
		// "longest_ms 5000 ms" reads as "longest 5000 ms".
		const std::string shown = key.ends_with("_ms") ? path.substr(0, path.size() - 3) : path;
		out.push_back(fmt::format("{} {}", shown, observedValueText(key, j)));
		return;
	}
	for (const auto &[k, v] : j.items())
		flattenObserved(v, path.empty() ? k : path + " " + k, out);
}

} // namespace

// What an assertion measured, on one line for the console: "dc1-h1 outages 1, dc1-h1 longest_ms 5.01 s".
std::string measuredText(const json &observed)
{
	std::vector<std::string> parts;
	flattenObserved(observed, "", parts);
	constexpr size_t kMax = 8;
	std::string s;
	for (size_t i = 0; i < parts.size() && i < kMax; i++)
		s += (i ? ", " : "") + parts[i];
	if (parts.size() > kMax)
		s += fmt::format(", ... ({} more in report.json)", parts.size() - kMax);
	return s;
}

void AssertionsPart::report()
{
	if (c_.exit != kPassed && c_.exit != kFailed)
		return;
	for (const auto &a : c_.s.assertions) {
		ReportAssertion e{.name = a.name, .where = a.where, .kind = a.kind};
		a.check->describe(e.bounds);
		const AssertionOutcome out = a.check->evaluate(timeline_);
		e.observed = out.observed;
		if (!out.unmeasurable.empty()) {
			// Not the system's failure: the deployment does not show what the assertion needs.
			e.status = "error";
			e.message = out.unmeasurable;
			c_.setVerdict(kHarness, "harness",
				      fmt::format("assertion '{}' cannot be checked: {}", a.name, out.unmeasurable));
			c_.say(fmt::format("assertion {}: ERROR: {}", a.name, out.unmeasurable));
			c_.report.assertions.push_back(e);
			continue;
		}
		const std::string &failure = out.failure;
		e.status = failure.empty() ? "passed" : "failed";
		if (!failure.empty()) {
			e.message = failure;
			c_.setVerdict(kFailed, "failed", fmt::format("assertion '{}' failed: {}", a.name, failure));
		}
		const std::string measured = measuredText(out.observed);
		c_.say(fmt::format("assertion {}: {}{}{}", a.name, failure.empty() ? "passed" : "FAILED: ", failure,
				   measured.empty() ? "" : " (measured: " + measured + ")"));
		c_.report.assertions.push_back(e);
	}
}

} // namespace xdc::scenario
