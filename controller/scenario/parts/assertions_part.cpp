// SPDX-License-Identifier: Apache-2.0
// The run's assertions (see assertions_part.h).
#include "controller/scenario/parts/assertions_part.h"

#include "controller/scenario/assertions/assertion.h"

namespace xdc::scenario {

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
		c_.say(fmt::format("assertion {}: {}{}", a.name, failure.empty() ? "passed" : "FAILED: ", failure));
		c_.report.assertions.push_back(e);
	}
}

} // namespace xdc::scenario
