// SPDX-License-Identifier: Apache-2.0
// The scenario runner: executes one parsed scenario against a controller through its control socket, phase by
// phase, and produces the report (controller/scenario/report.h writes it out).
//
// Contract:
//  - Every fault the run applies carries an id "<run>.<n>" and is reverted (verified) before the run ends, whatever
//    happens: assertion failure, stop condition, harness failure, Ctrl-C. If the runner itself dies, the agents'
//    TTLs revert everything and the run's directory holds no report.json (`xdc history` calls it broken).
//  - Faults with the same start offset are sent with one agreed instant (start_at_ns) and fire together.
//  - The verdict is one of passed (exit 0), failed (1: an assertion, steady-state check, observe condition or stop
//    condition), harness (3: a fault not applied or not verified, an agent lost, residue), aborted (4).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/scenario/run_report.h"
#include "controller/scenario/spec.h"
#include "controller/control/answers.h"
#include "controller/control/requests.h"

namespace xdc::scenario {

using nlohmann::json;

enum ExitCode : int { kPassed = 0, kFailed = 1, kInvalid = 2, kHarness = 3, kAborted = 4 };

struct RunOptions {
	std::string runId;   // names the run, its fault ids and its recording
	std::string outDir;  // must not exist or be empty; the evidence bundle goes to outDir/evidence
	uint64_t seed = 0;
	int repetition = 0;  // 1-based within --repeat; 0 = single run
	std::string user;    // who ran it
	json inputs;         // the exact inputs (file, text hash, params, command line), copied into the report
	std::string scenarioText;
	// The streams config (docs/STREAMS.md) a scenario that uses Streams follows: resolved by the caller from the
	// scenario's streams.config, the lab's streams.yaml, $XDC_STREAMS_CONFIG or /etc/xdc/streams.yaml.
	std::string streamsConfig;
	// Puts the lab's Streams back in its starting state (`xdc lab streams reset`), for a scenario with
	// streams.reset; unset outside a lab.
	std::function<Result<void>()> resetStreams;
	// One control request (the controller's JSON protocol); Err when the controller cannot be reached.
	control::Caller call;
	// Set from a signal handler: the run halts its faults, tears down and reports "aborted".
	const std::atomic<int> *interrupted = nullptr;
	// Progress lines for the console (phase changes, faults, probe health).
	std::function<void(const std::string &line)> progress;
	// A one-line live status (phase, elapsed, active faults per DC, probe health), refreshed about once a second.
	std::function<void(const std::string &line)> status;
};

// The fleet as validation sees it, from `xdc agents --json` entries: name, dc, labels, capabilities.
Host hostOfAgent(const control::AgentInfo &agent);

// Runs the scenario; the returned report is complete or partial (aborted), and always has its verdict and exit
// code. Writes nothing itself: see writeReports().
RunReport runScenario(const Scenario &s, const RunOptions &opt);

// The plan of a run without running it: per phase, per host, the exact faults with their times (and, when the
// controller answers, the agents' dry-run rule plans).
json planScenario(const Scenario &s, const RunOptions &opt);

} // namespace xdc::scenario
