// SPDX-License-Identifier: Apache-2.0
// A campaign (docs/SCENARIOS.md "Running"): a scenario run once per combination of --matrix values (a cell), each
// --repeat K times with seeds N, N+1, ...; per cell the statistics of every figure; every run in the history.
//
// Contract: runCampaign() validates every cell before anything runs (an invalid cell runs nothing); it records each
// run in the history before it starts (a runner that dies leaves it visible as broken) and writes each run's
// reports into its directory; it stops after a run the operator aborted. It writes summary.json when there is more
// than one run. It prints nothing itself: the callbacks do.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/scenario/runner.h"
#include "controller/scenario/spec.h"

namespace xdc::scenario {

using Combo = std::map<std::string, std::string>;

// "NAME=V1,V2,..." arguments as every combination of values (one empty combination without any); at most
// maxRuns / repeat combinations.
Result<std::vector<Combo>> expandMatrix(const std::vector<std::string> &matrix, int repeat, size_t maxRuns = 10000);
// "a=1,b=x" (a '/' in a value becomes '_': the label names the cell's directory).
std::string comboLabel(const Combo &c);

struct CampaignOptions {
	std::string file;        // the scenario file
	ParseOptions parse;      // --param values and the first seed
	std::vector<Combo> combos{{}};
	int repeat = 1;
	std::string baseDir;     // the run directory: one cell's runs in it, or one folder per cell
	RunOptions run;          // what every run shares; its runId and seed are the campaign's first
	std::string historyPath; // "" = not recorded
	// A run starts ("run ID of NAME -> DIR"), a run ended (its report), a cell ended (its summary entry, with
	// statistics when it repeated), a problem that does not stop the campaign (history, reports).
	std::function<void(const RunOptions &r, const std::string &scenario, const Combo &c)> onStart;
	std::function<void(const RunOptions &r, const RunReport &report)> onRun;
	std::function<void(const json &cell, const Combo &c)> onCell;
	std::function<void(const std::string &line)> warn;
};

// Runs the campaign. Returns the summary {exit_code (the most severe of the runs), runs, seed, cells | statistics},
// or the validation error of the first cell that does not parse.
Result<json> runCampaign(const CampaignOptions &o);

} // namespace xdc::scenario
