// SPDX-License-Identifier: Apache-2.0
// Benchmark support: a private network namespace torn down even on a signal, temporary key material, child
// processes, control-socket helpers, percentiles, per-process CPU and memory, and the result rows the driver reads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/transport/curve.h"
#include "controller/control/answers.h"
#include "controller/control/requests.h"

namespace xdc::bench {

using nlohmann::json;
using namespace std::chrono_literals;

// Command-line flags of the form --name value or --name (bool); unknown flags are an error.
class Flags {
public:
	Flags(int argc, char **argv);
	std::string get(const std::string &name, const std::string &def) const;
	int64_t getInt(const std::string &name, int64_t def) const;
	bool has(const std::string &name) const { return values_.count(name) != 0; }

private:
	std::map<std::string, std::string> values_;
};

// The bench's environment: root check, open-file limit, a network namespace `xdcbench<pid>` entered by this
// process (so every child inherits it), and a temporary directory. The destructor stops registered children,
// deletes the namespace and the directory; SIGINT/SIGTERM/SIGHUP/SIGQUIT do the same before exiting.
class Environment {
public:
	Environment();
	~Environment();
	Environment(const Environment &) = delete;
	Environment &operator=(const Environment &) = delete;

	Result<void> setUp(uint64_t openFiles);
	const std::string &dir() const { return dir_; }
	const std::string &netns() const { return netns_; }

private:
	std::string netns_;
	std::string dir_;
	bool nsCreated_ = false;
};

// A spawned child, remembered so that a signal or an early return still stops it.
class Child {
public:
	Child() = default;
	~Child() { stop(); }
	Child(const Child &) = delete;
	Child &operator=(const Child &) = delete;

	Result<void> start(const std::vector<std::string> &argv, const std::string &logFile);
	void stop(std::chrono::milliseconds grace = 3000ms);
	bool alive() const;
	pid_t pid() const { return pid_; }

private:
	pid_t pid_ = -1;
	std::optional<uint64_t> startTime_;
};

// The xdc binaries, from XDC_BIN / XDC_AGENT_BIN (set by the driver) or PATH.
std::string xdcBin();
std::string agentBin();
// This executable, for re-running itself in a helper mode.
std::string selfBin();

// Key material in dir: controller.key/.pub, NAME.key for each named agent, and an allow-list file `allow`.
struct Keys {
	transport::KeyPair controller;
	std::map<std::string, transport::KeyPair> agents;
	std::string controllerKeyFile, controllerPubFile, allowFile;
};
// Generates the controller key and one key per agent id; writes .key files only for ids in `files`.
Result<Keys> makeKeys(const std::string &dir, const std::vector<std::string> &agentIds,
		      const std::vector<std::string> &files);

// argv for a real `xdc controller` listening on `listen` with its console at `control`.
std::vector<std::string> controllerArgv(const std::string &dir, const Keys &k, const std::string &listen,
					const std::string &control);

// One console request, printed by its struct (controller/control/requests.h: with "v"); the answer, or an empty
// object when the controller did not answer.
json controlCall(const std::string &control, const control::Request &req, int timeoutMs);
// stats.agents.live, or -1 when the controller does not answer.
int liveAgents(const std::string &control, int timeoutMs = 1000);
// Waits until liveAgents(control) == n; returns false at the deadline.
bool waitLive(const std::string &control, int n, std::chrono::milliseconds timeout);

// Wire sizes of a "ping" Command from the controller and of the CommandResult agent `agentId` answers it with,
// built as the real ones are.
std::pair<size_t, size_t> pingFrameSizes(const std::string &agentId);

// Percentile (nearest rank) of a sample; p in [0, 100].
double percentile(std::vector<double> v, double p);

// ns on CPU of every thread of pid (sum of the first field of /proc/PID/task/*/schedstat), and of its main thread
// alone (/proc/PID/schedstat).
struct CpuSample {
	uint64_t allThreadsNs = 0;
	uint64_t mainThreadNs = 0;
	uint64_t slices = 0;       // times scheduled onto a CPU, all threads (third schedstat field): wakeups
	uint64_t mainSlices = 0;
	int threads = 0;
};
std::optional<CpuSample> cpuOf(pid_t pid);
// user + system CPU time of every thread of pid, from /proc/PID/stat utime + stime (clock-tick resolution).
std::optional<uint64_t> statCpuNs(pid_t pid);
// VmRSS in bytes.
std::optional<uint64_t> rssOf(pid_t pid);

// A result row for the driver's table: `ROW|figure|metric|value|goal|met|note`.
void row(const std::string &figure, const std::string &metric, const std::string &value, const std::string &goal,
	 const std::string &met, const std::string &note = "");

} // namespace xdc::bench
