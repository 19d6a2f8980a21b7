// SPDX-License-Identifier: Apache-2.0
// process.kill: sends a signal (SIGKILL by default) to some or all of the processes a match selects, once or again
// every `every` while the fault is in place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/faults/fault.h"
#include "agent/faults/process_match.h"

namespace xdc::agent {

// The processes are resolved in prepare() (so a bad match is refused before anything happens) and `count` of them,
// lowest pids first, are signalled in apply(). With `every`, work() resolves the match again each period and
// signals the processes it finds then (a supervisor's relaunched process is killed again). A signal cannot be taken
// back: undo() is empty and revert() only stops the repeat.
class ProcessKill : public Fault {
public:
	ProcessKill(FaultRequest req, const FaultEnv &env);

	std::string_view kind() const override { return "process.kill"; }
	std::string mechanism() const override;
	std::vector<std::string> plan() const override;
	Result<void> prepare() override;
	Undo undo() const override;
	Result<std::string> apply() override;
	Result<void> revert() override;
	int64_t nextWork() const override { return next_; }
	void work(int64_t nowMono) override;

	// Every process signalled so far (apply and repeats), for logs and tests.
	const std::vector<ProcessInfo> &signalled() const { return signalled_; }

private:
	// One round: signals `count` of the processes in `match` now; returns the lines for the read-back.
	std::vector<std::string> signalRound(const std::vector<ProcessInfo> &targets, bool wait, std::string &error);

	FaultRequest req_;
	ProcContext ctx_;
	int sig_ = 0;
	size_t matched_ = 0;                 // how many processes the match selected at prepare()
	std::vector<ProcessInfo> targets_;   // the ones apply() signals
	std::vector<ProcessInfo> signalled_;
	int64_t every_ = 0;                  // ns; 0 = once
	int64_t next_ = INT64_MAX;           // monotonic time of the next repeat
	int rounds_ = 0;
};

// The signal number for a spec signal name ("KILL", "TERM", ...); 0 when unknown.
int signalNumber(const std::string &name);

} // namespace xdc::agent
