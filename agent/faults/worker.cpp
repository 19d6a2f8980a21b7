// SPDX-License-Identifier: Apache-2.0
// Forked fault workers.
#include "agent/faults/worker.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/sys/process.h"

namespace xdc::agent {

namespace {

// Everything here runs in the child of a multithreaded process: system calls only.
[[noreturn]] void childStart(const char *name, pid_t parent, void (*body)(void *), void *arg)
{
	::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	// The agent may have died between fork() and prctl(): then nobody would ever send the signal.
	if (::getppid() != parent)
		::_exit(0);
	::prctl(PR_SET_NAME, name, 0, 0, 0);
	// Inherited descriptors would keep the agent's state-dir lock held and the guard's pipe open after the
	// agent's death (both without O_CLOEXEC mattering: there is no exec). stdin/stdout/stderr stay.
#ifdef SYS_close_range
	if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
	{
		for (int fd = 3; fd < 65536; fd++)
			::close(fd);
	}
	// Default dispositions: the agent's SIGTERM handler must not run in a worker.
	struct sigaction sa;
	::memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (int s : {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGCHLD})
		::sigaction(s, &sa, nullptr);
	sigset_t none;
	::sigemptyset(&none);
	::sigprocmask(SIG_SETMASK, &none, nullptr);
	body(arg);
	::_exit(0);
}

} // namespace

Result<std::pair<pid_t, uint64_t>> forkWorker(const std::string &name, void (*body)(void *), void *arg)
{
	char comm[16] = {};
	::strncpy(comm, name.c_str(), sizeof comm - 1);
	const pid_t parent = ::getpid();
	const pid_t pid = ::fork();
	if (pid < 0)
		return makeError(Errc::Io, "fork: {}", strerror(errno));
	if (pid == 0)
		childStart(comm, parent, body, arg);
	auto start = sys::processStartTime(pid);
	if (!start) {
		// Already gone (it exits at once only if its parent died, which is not us): reap it and say so.
		::waitpid(pid, nullptr, 0);
		return makeError(Errc::Io, "worker {} ended at once", name);
	}
	return std::make_pair(pid, *start);
}

std::optional<ProcStat> readProcStat(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
	std::string line;
	if (!std::getline(f, line))
		return std::nullopt;
	const auto open = line.find('('), close = line.rfind(')');
	if (open == std::string::npos || close == std::string::npos || close + 2 >= line.size())
		return std::nullopt;
	ProcStat s;
	s.comm = line.substr(open + 1, close - open - 1);
	std::istringstream rest(line.substr(close + 2));
	std::string field;
	// Field 3 is the state; utime and stime are fields 14 and 15.
	uint64_t utime = 0, stime = 0;
	for (int i = 3; i <= 15 && rest >> field; i++) {
		if (i == 3)
			s.state = field.empty() ? 0 : field[0];
		else if (i == 14)
			utime = std::strtoull(field.c_str(), nullptr, 10);
		else if (i == 15)
			stime = std::strtoull(field.c_str(), nullptr, 10);
	}
	s.cpuTicks = utime + stime;
	return s;
}

std::optional<uint64_t> cpuTimeNs(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/schedstat");
	uint64_t ns = 0;
	if (f >> ns)
		return ns;
	auto st = readProcStat(pid);
	if (!st)
		return std::nullopt;
	return st->cpuTicks * (1000000000ull / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK)));
}

std::optional<uint64_t> statusKb(pid_t pid, const std::string &key)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/status");
	std::string line;
	while (std::getline(f, line)) {
		if (line.rfind(key + ":", 0) != 0)
			continue;
		return std::strtoull(line.c_str() + key.size() + 1, nullptr, 10);
	}
	return std::nullopt;
}

Result<void> killWorkers(const std::vector<std::pair<int, uint64_t>> &pids)
{
	std::vector<std::string> still;
	for (const auto &[pid, start] : pids) {
		if (pid <= 1)
			continue;
		if (sys::processAlive(pid, start))
			::kill(pid, SIGKILL);
	}
	// They are our children: wait for each (a SIGKILLed process ends within a moment; the deadline only guards
	// against one stuck in the kernel, e.g. in uninterruptible I/O).
	const int64_t deadline = clk::monoNs() + 2 * clk::kSec;
	for (const auto &[pid, start] : pids) {
		if (pid <= 1)
			continue;
		while (true) {
			const pid_t w = ::waitpid(pid, nullptr, WNOHANG);
			if (w == pid || (w < 0 && errno == ECHILD)) {
				// Reaped by us, or not our child (then it is gone when /proc says so).
				if (w == pid || !sys::processAlive(pid, start))
					break;
			}
			if (clk::monoNs() >= deadline)
				break;
			::usleep(2000);
		}
		if (sys::processAlive(pid, start))
			still.push_back(std::to_string(pid));
	}
	if (!still.empty())
		return makeError(Errc::Io, "still running after SIGKILL: pid {}", fmt::join(still, ", "));
	return success();
}

} // namespace xdc::agent
