// SPDX-License-Identifier: Apache-2.0
// Guard process.
#include "agent/faults/guard.h"

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "agent/faults/undo.h"
#include "common/clock.h"

namespace xdc::agent {

namespace {

bool agentAlive(const std::string &stateDir)
{
	int fd = ::open((stateDir + "/agent.lock").c_str(), O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
	::close(fd);
	return held;
}

// One pass over the journal: removes faults whose end has come; returns the wall time of the next end, or
// INT64_MAX when nothing is left.
int64_t sweep(const std::string &stateDir)
{
	int64_t next = INT64_MAX;
	const std::string dir = stateDir + "/faults";
	DIR *d = ::opendir(dir.c_str());
	if (!d)
		return next;
	while (dirent *e = ::readdir(d)) {
		std::string n = e->d_name;
		if (n.size() < 6 || n.substr(n.size() - 5) != ".json")
			continue;
		std::ifstream f(dir + "/" + n);
		std::stringstream ss;
		ss << f.rdbuf();
		auto j = nlohmann::json::parse(ss.str(), nullptr, false);
		if (j.is_discarded() || !j.contains("undo") || !j.contains("expires_ns"))
			continue;
		const int64_t end = j["expires_ns"].get<int64_t>();
		if (clk::wallNs() >= end) {
			if (runUndo(j["undo"]))
				::unlink((dir + "/" + n).c_str());
			else
				next = std::min(next, clk::wallNs() + clk::kSec); // try again in a second
		} else {
			next = std::min(next, end);
		}
	}
	::closedir(d);
	return next;
}

[[noreturn]] void guardMain(int pipeFd, const std::string &stateDir)
{
	::setsid();
	::prctl(PR_SET_NAME, "xdc-agent-guard", 0, 0, 0);
	::signal(SIGTERM, SIG_DFL);
	::signal(SIGINT, SIG_IGN);
	// Wait for the agent to go: its end of the pipe closes however it ends.
	char c;
	while (::read(pipeFd, &c, 1) != 0 && (errno == EINTR || errno == EAGAIN)) {
	}
	::close(pipeFd);
	// The dying agent's lock can outlive the pipe's end of file by a moment (the kernel releases files late in
	// exit): wait for it to be free once, so that "held" below can only mean a new agent.
	const int64_t settle = clk::monoNs() + 5 * clk::kSec;
	while (agentAlive(stateDir) && clk::monoNs() < settle)
		::poll(nullptr, 0, 10);
	while (true) {
		// A new agent on this state dir takes over the journal (it cleans up at start).
		if (agentAlive(stateDir))
			::_exit(0);
		const int64_t next = sweep(stateDir);
		if (next == INT64_MAX)
			::_exit(0);
		const int64_t waitMs = std::clamp<int64_t>((next - clk::wallNs()) / clk::kMs + 1, 1, 1000);
		::poll(nullptr, 0, static_cast<int>(waitMs));
	}
}

} // namespace

Result<int> startGuard(const std::string &stateDir)
{
	int p[2];
	if (::pipe2(p, O_CLOEXEC) != 0)
		return makeError(Errc::Io, "pipe: {}", strerror(errno));
	pid_t pid = ::fork();
	if (pid < 0)
		return makeError(Errc::Io, "fork: {}", strerror(errno));
	if (pid == 0) {
		::close(p[1]);
		// Keep stderr for messages; drop every other inherited descriptor but the pipe.
		for (int fd = 3; fd < 1024; fd++)
			if (fd != p[0])
				::close(fd);
		// Double fork so the guard is not the agent's child (no zombie, not killed with the agent's group).
		pid_t g = ::fork();
		if (g != 0)
			::_exit(0);
		guardMain(p[0], stateDir);
	}
	::close(p[0]);
	int st = 0;
	while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
	}
	return p[1];
}

Result<int> lockStateDir(const std::string &stateDir)
{
	int fd = ::open((stateDir + "/agent.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return makeError(Errc::Io, "{}/agent.lock: {}", stateDir, strerror(errno));
	if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
		::close(fd);
		return makeError(Errc::Exists, "another agent is running on state dir {}", stateDir);
	}
	return fd;
}

} // namespace xdc::agent
