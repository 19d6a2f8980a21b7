// SPDX-License-Identifier: Apache-2.0
// The `xdc` command line: subcommands share argument parsing, controller lookup and output helpers.
#pragma once

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/control/answers.h"
#include "controller/control/control_server.h"
#include "controller/streams/toolkit_view.h"

namespace xdc::cli {

using nlohmann::json;

// Exit codes of every subcommand (docs/USER_GUIDE.md).
enum Exit : int {
	kOk = 0,
	kFailed = 1,      // the command ran and the answer is "no" (an agent failed, a check did not hold)
	kUsage = 2,       // bad arguments, config or input
	kUnreachable = 3, // the controller (or another needed service) could not be reached
};

// Parsed arguments: flags ("--json", "--lab NAME") and positionals, checked against what a subcommand accepts.
struct Args {
	std::vector<std::string> positional;
	std::map<std::string, std::vector<std::string>> flags;
	bool has(const std::string &f) const { return flags.count(f) != 0; }
	std::string get(const std::string &f, const std::string &def = "") const
	{
		auto it = flags.find(f);
		return it == flags.end() || it->second.empty() ? def : it->second.back();
	}
	const std::vector<std::string> &all(const std::string &f) const;
};

struct FlagSpec {
	std::string name;  // "--json"
	bool takesValue = false;
	std::string help;
};

// Parses argv; "--" ends flags (everything after is positional). Unknown flags are errors naming the nearest one.
Result<Args> parseArgs(const std::vector<std::string> &argv, const std::vector<FlagSpec> &specs);

// The lab a command works on when it needs one: --lab NAME, else $XDC_LAB, else the only lab that is up (said once
// on stderr), else "" (none is up). Several up and none named: an error asking for --lab.
Result<std::string> chosenLab(const Args &a);
// The control socket: --control PATH, --lab NAME, $XDC_CONTROL, $XDC_LAB, the default socket when a controller
// listens there (a deployment's, or the default lab's), else the socket of chosenLab(), else the default.
Result<std::string> controlPathFor(const Args &a);
// The same, falling back to the default socket when no single lab can be chosen (for display).
std::string controlPath(const Args &a);
std::string labControlPath(const std::string &lab);
// Flags every console command accepts.
std::vector<FlagSpec> controlFlags();

// Catches SIGINT and SIGTERM for a long-running command (record, run, streams watch): each signal adds one to the
// returned counter (reset to 0 by each call) instead of killing the process, so the command can stop cleanly and
// still write its output.
const std::atomic<int> &catchStopSignals();

// Sends one request to the controller; prints the error and returns nullopt with the exit code set on failure.
std::optional<json> callController(const Args &a, const control::Request &req, int &exitCode, int timeoutMs = 15000);

// Entry point shared by main() and the console: runs one subcommand.
int dispatch(const std::vector<std::string> &argv);

int cmdController(const std::vector<std::string> &argv);
int cmdAgents(const std::vector<std::string> &argv);
int cmdStats(const std::vector<std::string> &argv);
int cmdPing(const std::vector<std::string> &argv);
int cmdShutdown(const std::vector<std::string> &argv);
int cmdReload(const std::vector<std::string> &argv);
int cmdKeys(const std::vector<std::string> &argv);
int cmdConsole(const std::vector<std::string> &argv);
int cmdLab(const std::vector<std::string> &argv);
int cmdFault(const std::vector<std::string> &argv);
int cmdHalt(const std::vector<std::string> &argv);
int cmdRecord(const std::vector<std::string> &argv);
int cmdEvidence(const std::vector<std::string> &argv);
// The streams config a command follows: --config FILE, else the lab's streams.yaml (--lab N / $XDC_LAB), else
// $XDC_STREAMS_CONFIG, else /etc/xdc/streams.yaml when it exists, else the default lab's when its controller listens
// at the default socket, else the streams.yaml of chosenLab(), else /etc/xdc/streams.yaml (whose absence the loader
// reports).
Result<std::string> streamsConfigPath(const Args &a);
int cmdStreams(const std::vector<std::string> &argv);
int cmdValidate(const std::vector<std::string> &argv);
int cmdRun(const std::vector<std::string> &argv);
int cmdHistory(const std::vector<std::string> &argv);
int cmdCompare(const std::vector<std::string> &argv);
int cmdMetrics(const std::vector<std::string> &argv);

// Renders `xdc agents` as a table.
std::string agentsTable(const control::AgentsAnswer &agents);

// A wall time in ns as HH:MM:SS.mmmZ (UTC), as the consoles print times on the controller's timeline.
std::string clockTimeMs(int64_t ns);
// The date and time of day in UTC to the second: "2026-12-07 08:43:45Z".
std::string dateTimeUtc(int64_t ns);

// One `xdc streams watch` event line: when, the DC, the kind, what it says and the interval it lies in; an event
// of the first look (nothing earlier to bound it) says so instead of an interval.
std::string toolkitEventLine(const streams::ToolkitEvent &e);

} // namespace xdc::cli
