// SPDX-License-Identifier: Apache-2.0
// Which processes a `match:` selects on this host, and which ones are never touched. Used by process.kill and
// process.pause (and by anything else that needs "the processes this spec means", e.g. a process sampler).
//
// Everything is read from a /proc root and a cgroup root given in the context, so that unit tests can build a fake
// tree in a temporary directory; ProcContext::forThisProcess() fills it in from the real /proc for the agent.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <sys/types.h>
#include <vector>

#include "agent/faults/fault.h"
#include "common/fault/spec.h"
#include "common/result.h"

namespace xdc::agent {

// One process as /proc shows it.
struct ProcessInfo {
	pid_t pid = 0;
	pid_t ppid = 0;
	uint64_t startTime = 0;  // /proc/PID/stat field 22: with the pid, names one process across pid reuse
	char state = '?';        // /proc/PID/stat field 3: R, S, D, T (stopped), Z (zombie), ...
	unsigned flags = 0;      // /proc/PID/stat field 9 (PF_KTHREAD = 0x00200000 marks kernel threads)
	std::string comm;        // /proc/PID/comm: the name, at most 15 characters
	std::string cmdline;     // argv joined with spaces ("" for kernel threads and zombies)
	uint64_t netns = 0;      // inode of /proc/PID/ns/net (0 when unreadable)
	bool kernelThread() const { return (flags & 0x00200000u) != 0 || cmdline.empty(); }
};

// What the matcher needs to know about the world and about the agent itself.
struct ProcContext {
	std::string procRoot = "/proc";
	std::string cgroupRoot = "/sys/fs/cgroup";
	uint64_t selfNetns = 0;            // only processes in this network namespace are ever selected
	pid_t selfPid = 0;                 // the agent
	std::set<pid_t> ancestors;         // the agent's parent, its parent, ... (walked up to PID 1)
	std::set<pid_t> protectedPids;     // from FaultEnv: the controller, ...
	std::string streamsPePattern = "^streams-pec"; // preset streams-pe: regex over comm
	size_t cap = 64;                   // more matches than this are refused (faults.process_match_cap)

	// The agent's own view: procRoot /proc, its netns inode, pid and ancestors, and env's settings.
	static ProcContext forThisProcess(const FaultEnv &env);
};

// Reads one process (nullopt when it is gone or unreadable). Kernel threads are returned (kernelThread() is set).
std::optional<ProcessInfo> readProcess(const std::string &procRoot, pid_t pid);
// Every process under procRoot (thread-group leaders only, as /proc lists them).
std::vector<ProcessInfo> listProcesses(const std::string &procRoot);
// The parents of pid up to and including PID 1, following PPid in /proc/PID/status.
std::set<pid_t> ancestorsOf(const std::string &procRoot, pid_t pid);
// The inode of PATH (following symlinks), 0 when it cannot be read. For /proc/PID/ns/net.
uint64_t inodeOf(const std::string &path);

// Why a process is never signalled (PID 1, the agent, its ancestors, its xdc workers, sshd, the xdc controller and
// guard, kernel threads, configured pids), or nullopt when it may be.
std::optional<std::string> protectedReason(const ProcessInfo &p, const ProcContext &ctx);

// The match in words, as the spec names it: "name 'streams-pec'", "cmdline /java .*Main/", "pidfile /run/x.pid"...
std::string describeMatch(const fault::ProcessMatch &m);
// The spec key of the match ("match.name", "match.pidfile", ...), for error messages.
std::string matchField(const fault::ProcessMatch &m);

struct MatchResult {
	std::vector<ProcessInfo> selected;   // what a fault may act on, sorted by pid
	std::vector<std::pair<ProcessInfo, std::string>> skipped; // matched but protected, with the reason
	size_t elsewhere = 0;                // matched, but in another network namespace (another lab host)
};

// Resolves a match. Only processes in ctx.selfNetns, never protected ones (they are listed in `skipped`).
// Errors (Errc::Invalid, naming the field):
//   - the match names PID 1 (a pidfile holding 1), or names only protected processes ("match.name: ...");
//   - more than ctx.cap processes match ("match: 312 processes match, more than the cap of 64 ...");
//   - the pidfile or cgroup cannot be read, the regex (or the streams-pe pattern) is invalid.
// An empty selection is not an error here (a fault decides: process.kill and process.pause refuse it at prepare,
// a repeated kill just finds nothing to do this round).
Result<MatchResult> matchProcesses(const fault::ProcessMatch &m, const ProcContext &ctx);

// How many of n matched processes a count selects: all, N (at most n), or a percentage rounded up, at least 1.
size_t countOf(const fault::Count &c, size_t n);

// One line per process for reports: "pid 1234 (streams-pec)".
std::string describeProcess(const ProcessInfo &p);

// Signals on the live system (the real /proc), always naming a process by pid and start time so that a pid reused
// since the match was resolved is never signalled.
enum class Signalled { Sent, Gone, Failed };
// Sends sig to pid if it is still the process that started at startTime. A pidfd pins the process between the
// start-time check and the signal. On Failed, err holds the errno (EPERM, ...).
Signalled signalProcess(pid_t pid, uint64_t startTime, int sig, int &err);
// The state letter of pid if it is still the process that started at startTime, 0 when it is gone (or reused).
char processState(pid_t pid, uint64_t startTime);

} // namespace xdc::agent
