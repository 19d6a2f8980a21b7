// SPDX-License-Identifier: Apache-2.0
// process.pause: stops some or all of the processes a match selects with SIGSTOP for the duration, then continues
// them with SIGCONT.
#pragma once

#include <string>
#include <vector>

#include "agent/faults/fault.h"
#include "agent/faults/process_match.h"

namespace xdc::agent {

// The processes are resolved in prepare(), so the journaled undo step (written before apply) already names them:
// {"op":"cont","pids":[[pid,starttime],...]}. If the agent dies while they are stopped, the guard (at the fault's
// end) or the next agent (at start) continues them. apply() reads back state T from /proc/PID/stat; revert()
// resolves the match again and continues every stopped process it selects as well as every recorded one, then
// reads back that none is in state T.
class ProcessPause : public Fault {
public:
	ProcessPause(FaultRequest req, const FaultEnv &env);

	std::string_view kind() const override { return "process.pause"; }
	std::string mechanism() const override;
	std::vector<std::string> plan() const override;
	Result<void> prepare() override;
	Undo undo() const override;
	Result<std::string> apply() override;
	Result<void> revert() override;

private:
	// SIGCONTs each and waits until none is in state T; returns the ones still stopped.
	static std::vector<ProcessInfo> resume(const std::vector<ProcessInfo> &procs);

	FaultRequest req_;
	ProcContext ctx_;
	size_t matched_ = 0;
	std::vector<ProcessInfo> targets_;
};

} // namespace xdc::agent
