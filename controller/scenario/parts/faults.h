// SPDX-License-Identifier: Apache-2.0
// The run's faults and one-shot operations: the inject phase sends each offset's faults with one agreed instant and
// runs that offset's Streams operations once they are in place; recover and teardown revert (verified) whatever may
// still be in place; the report gives each fault its window from the agents' records.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "controller/scenario/parts/run_part.h"

namespace xdc::scenario {

class FaultsPart : public RunPart {
public:
	using RunPart::RunPart;
	const char *name() const override { return "faults"; }

	// Reverts whatever is still in place (a harness failure before recover, an abort).
	void teardown() override;
	// Each fault's window (window_start_ns/window_end_ns/window_bound_ns) from the agents' records.
	void report() override;

	// The inject phase's work, once it began: applies every fault at its offset (and runs the Streams operations of
	// the same offset), then ends the phase. False when the run must go to recovery (verdict set, phase ended).
	bool inject();
	// Reverts every fault of this run that may still be in place; false if a revert could not be verified.
	bool revertAll(const std::string &why);
	// When the first faults were due (the inject phase's agreed start); 0 before inject.
	int64_t injectStart() const { return injectStart_; }
	// The faults' span from the report's windows: {INT64_MAX, 0} when nothing took effect.
	std::pair<int64_t, int64_t> window() const;
	// Per DC, how many faults are in place now (for the status line).
	std::map<std::string, int> activePerHost() const;

private:
	struct Active {
		std::vector<std::string> hosts;
		int64_t endNs = 0;
	};
	void applyGroup(int64_t offset, const std::vector<size_t> &members, int64_t at);
	ReportFault applied(size_t member, const std::string &id, int64_t offset, int64_t at, const Result<json> &result);
	bool runOperations(int64_t offset, const std::vector<size_t> &members, int64_t at);

	std::map<std::string, Active> active_;
	int64_t injectStart_ = 0;
};

} // namespace xdc::scenario
