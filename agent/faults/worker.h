// SPDX-License-Identifier: Apache-2.0
// Child processes that carry a resource fault (cpu burners, the memory holder): forked from the agent without exec,
// tied to the agent's life, and read back through /proc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "common/result.h"

namespace xdc::agent {

// Forks a child named `name` (the kernel keeps 15 characters) that dies with the agent (PR_SET_PDEATHSIG SIGKILL),
// holds none of the agent's descriptors (the state-dir lock, the guard's pipe, sockets), and then runs body(arg),
// which must not return. The agent has threads, so body may only use async-signal-safe calls: no malloc, no
// logging, no locks. Returns the child's pid and start time.
Result<std::pair<pid_t, uint64_t>> forkWorker(const std::string &name, void (*body)(void *), void *arg);

// /proc/PID/stat of a live process: state letter, comm, CPU time used (utime + stime, clock ticks).
struct ProcStat {
	char state = 0;
	std::string comm;
	uint64_t cpuTicks = 0;
};
std::optional<ProcStat> readProcStat(pid_t pid);
// Time the process has spent on a CPU, in ns (/proc/PID/schedstat; falls back to the tick count of stat).
std::optional<uint64_t> cpuTimeNs(pid_t pid);
// Field `key` of /proc/PID/status in kB (e.g. "VmRSS").
std::optional<uint64_t> statusKb(pid_t pid, const std::string &key);

// Kills (SIGKILL) and reaps children of ours if they are still the same processes, and checks they are gone.
Result<void> killWorkers(const std::vector<std::pair<int, uint64_t>> &pids);

} // namespace xdc::agent
