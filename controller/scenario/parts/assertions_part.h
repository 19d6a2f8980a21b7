// SPDX-License-Identifier: Apache-2.0
// The run's assertions (assertions/assertion.h): evaluated over the run's timeline once every part that gathers
// figures has written its report, and only when the run got far enough to be judged (passed or failed so far).
#pragma once

#include "controller/scenario/parts/run_part.h"

namespace xdc::scenario {

// What an assertion measured (its `observed`), on one line for the console.
std::string measuredText(const json &observed);

class RunTimeline;

class AssertionsPart : public RunPart {
public:
	AssertionsPart(RunContext &c, RunTimeline &timeline) : RunPart(c), timeline_(timeline) {}
	const char *name() const override { return "assertions"; }

	// `assertions`: each with what it is held against, what was observed, its status and why.
	void report() override;

private:
	RunTimeline &timeline_;
};

} // namespace xdc::scenario
