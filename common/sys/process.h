// SPDX-License-Identifier: Apache-2.0
// Running programs without a shell: argv vectors only, with a deadline, captured output, and optional netns entry.
// This folder is the only place in xdc that runs commands or makes system calls on the host's behalf.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "common/result.h"

namespace xdc::sys {

struct RunOptions {
	std::chrono::milliseconds timeout{10000};
	std::string netns;   // run inside /run/netns/<netns> when not empty
	std::string input;   // written to the child's stdin
	bool mergeStderr = false;
	std::map<std::string, std::string> env; // added to the inherited environment
};

struct RunOutput {
	int exitCode = -1;   // -1 when killed by a signal
	int signal = 0;
	std::string out;
	std::string err;
	bool ok() const { return exitCode == 0; }
};

// Runs argv[0] (looked up in PATH) with argv; fails only if the program could not be started or timed out.
// A non-zero exit is a successful run with exitCode set; use runChecked() to treat it as an error.
Result<RunOutput> run(const std::vector<std::string> &argv, const RunOptions &opts = {});
// Like run(), but a non-zero exit becomes an Error naming the command and its stderr.
Result<RunOutput> runChecked(const std::vector<std::string> &argv, const RunOptions &opts = {});

struct SpawnOptions {
	std::string netns;                   // enter /run/netns/<netns> before exec
	std::string stdoutFile;              // append stdout and stderr here; /dev/null when empty
	bool newSession = true;              // setsid(): survives the parent's terminal
	std::map<std::string, std::string> env; // added to the inherited environment
};

// Starts a long-running program and returns its pid without waiting for it.
Result<pid_t> spawn(const std::vector<std::string> &argv, const SpawnOptions &opts = {});

// The process start time (field 22 of /proc/PID/stat, clock ticks since boot); identifies a pid across reuse.
std::optional<uint64_t> processStartTime(pid_t pid);
// True when pid is alive and, if startTime is given, still the same process.
bool processAlive(pid_t pid, std::optional<uint64_t> startTime = std::nullopt);
// Sends SIGTERM, waits up to grace, then SIGKILL; only if the start time still matches. Reaps if it is our child.
Result<void> stopProcess(pid_t pid, std::optional<uint64_t> startTime, std::chrono::milliseconds grace);

// Joins argv for messages, quoting arguments with spaces.
std::string describe(const std::vector<std::string> &argv);

} // namespace xdc::sys

namespace xdc::sys {
// Runs argv with this process's stdin/stdout/stderr, inside netns if given; returns its exit code (128+signal if
// killed). For `xdc lab exec`.
Result<int> runAttached(const std::vector<std::string> &argv, const std::string &netns);
} // namespace xdc::sys
