// SPDX-License-Identifier: Apache-2.0
// fork/exec with pipes and deadlines.
#include "common/sys/process.h"

#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sched.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"

namespace xdc::sys {

namespace {

// In the child after fork: enter the named netns. Returns false on failure (errno set).
bool enterNetns(const std::string &netns)
{
	if (netns.empty())
		return true;
	std::string path = "/run/netns/" + netns;
	int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	int r = ::setns(fd, CLONE_NEWNET);
	::close(fd);
	return r == 0;
}

std::vector<char *> cArgv(const std::vector<std::string> &argv)
{
	std::vector<char *> out;
	for (const auto &a : argv)
		out.push_back(const_cast<char *>(a.c_str()));
	out.push_back(nullptr);
	return out;
}

void setNonBlock(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

} // namespace

bool enterNetnsForChild(const std::string &netns) { return enterNetns(netns); }
std::vector<char *> cArgvForChild(const std::vector<std::string> &argv) { return cArgv(argv); }

std::string describe(const std::vector<std::string> &argv)
{
	std::string s;
	for (const auto &a : argv) {
		if (!s.empty())
			s += ' ';
		if (a.find_first_of(" \t'\"") != std::string::npos)
			s += "'" + a + "'";
		else
			s += a;
	}
	return s;
}

Result<RunOutput> run(const std::vector<std::string> &argv, const RunOptions &opts)
{
	if (argv.empty())
		return makeError(Errc::Invalid, "empty command");
	int inPipe[2], outPipe[2], errPipe[2], execPipe[2];
	if (::pipe2(inPipe, O_CLOEXEC) || ::pipe2(outPipe, O_CLOEXEC) || ::pipe2(errPipe, O_CLOEXEC) ||
	    ::pipe2(execPipe, O_CLOEXEC))
		return makeError(Errc::Io, "pipe: {}", strerror(errno));
	auto args = cArgv(argv);
	pid_t pid = ::fork();
	if (pid < 0)
		return makeError(Errc::Io, "fork: {}", strerror(errno));
	if (pid == 0) {
		::dup2(inPipe[0], 0);
		::dup2(outPipe[1], 1);
		::dup2(opts.mergeStderr ? outPipe[1] : errPipe[1], 2);
		::signal(SIGPIPE, SIG_DFL);
		int err = 0;
		for (const auto &[k, v] : opts.env)
			::setenv(k.c_str(), v.c_str(), 1);
		if (!enterNetns(opts.netns))
			err = errno;
		else {
			::execvp(args[0], args.data());
			err = errno;
		}
		[[maybe_unused]] auto w = ::write(execPipe[1], &err, sizeof err);
		::_exit(127);
	}
	::close(inPipe[0]);
	::close(outPipe[1]);
	::close(errPipe[1]);
	::close(execPipe[1]);

	RunOutput result;
	int execErr = 0;
	bool execFailed = ::read(execPipe[0], &execErr, sizeof execErr) == sizeof execErr;
	::close(execPipe[0]);

	size_t written = 0;
	if (opts.input.empty()) {
		::close(inPipe[1]);
		inPipe[1] = -1;
	} else {
		setNonBlock(inPipe[1]);
	}
	setNonBlock(outPipe[0]);
	setNonBlock(errPipe[0]);
	const int64_t deadline = clk::monoNs() + std::chrono::duration_cast<std::chrono::nanoseconds>(opts.timeout).count();
	bool timedOut = false;
	int openFds = 2;
	char buf[65536];
	while (openFds > 0 || inPipe[1] >= 0) {
		pollfd fds[3];
		int n = 0;
		int outIdx = -1, errIdx = -1, inIdx = -1;
		if (outPipe[0] >= 0) { fds[n] = {outPipe[0], POLLIN, 0}; outIdx = n++; }
		if (errPipe[0] >= 0) { fds[n] = {errPipe[0], POLLIN, 0}; errIdx = n++; }
		if (inPipe[1] >= 0) { fds[n] = {inPipe[1], POLLOUT, 0}; inIdx = n++; }
		int64_t left = (deadline - clk::monoNs()) / clk::kMs;
		if (left <= 0) {
			timedOut = true;
			break;
		}
		int r = ::poll(fds, n, static_cast<int>(std::min<int64_t>(left, 1000)));
		if (r < 0 && errno != EINTR)
			break;
		auto drain = [&](int idx, int &fd, std::string &into) {
			if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR)))
				return;
			ssize_t got = ::read(fd, buf, sizeof buf);
			if (got > 0) {
				into.append(buf, static_cast<size_t>(got));
			} else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
				::close(fd);
				fd = -1;
				openFds--;
			}
		};
		drain(outIdx, outPipe[0], result.out);
		drain(errIdx, errPipe[0], result.err);
		if (inIdx >= 0 && (fds[inIdx].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = ::write(inPipe[1], opts.input.data() + written, opts.input.size() - written);
			if (w > 0)
				written += static_cast<size_t>(w);
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				written = opts.input.size();
			if (written >= opts.input.size()) {
				::close(inPipe[1]);
				inPipe[1] = -1;
			}
		}
	}
	for (int fd : {outPipe[0], errPipe[0], inPipe[1]})
		if (fd >= 0)
			::close(fd);
	if (timedOut)
		::kill(pid, SIGKILL);
	int status = 0;
	while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (execFailed)
		return makeError(Errc::Io, "cannot run '{}': {}", argv[0], strerror(execErr));
	if (timedOut)
		return makeError(Errc::Timeout, "'{}' did not finish within {} ms", describe(argv), opts.timeout.count());
	if (WIFEXITED(status))
		result.exitCode = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		result.signal = WTERMSIG(status);
	return result;
}

Result<RunOutput> runChecked(const std::vector<std::string> &argv, const RunOptions &opts)
{
	auto r = run(argv, opts);
	if (!r)
		return r.error();
	if (!r->ok()) {
		std::string err = r->err.empty() ? r->out : r->err;
		while (!err.empty() && (err.back() == '\n' || err.back() == ' '))
			err.pop_back();
		return makeError(Errc::Io, "'{}'{} failed ({}): {}", describe(argv),
				 opts.netns.empty() ? "" : " in netns " + opts.netns,
				 r->signal ? fmt::format("signal {}", r->signal) : fmt::format("exit {}", r->exitCode), err);
	}
	return r;
}

Result<pid_t> spawn(const std::vector<std::string> &argv, const SpawnOptions &opts)
{
	if (argv.empty())
		return makeError(Errc::Invalid, "empty command");
	int execPipe[2];
	if (::pipe2(execPipe, O_CLOEXEC))
		return makeError(Errc::Io, "pipe: {}", strerror(errno));
	auto args = cArgv(argv);
	pid_t pid = ::fork();
	if (pid < 0)
		return makeError(Errc::Io, "fork: {}", strerror(errno));
	if (pid == 0) {
		if (opts.newSession)
			::setsid();
		int devnull = ::open("/dev/null", O_RDWR);
		::dup2(devnull, 0);
		int out = opts.stdoutFile.empty() ? devnull
						  : ::open(opts.stdoutFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0640);
		if (out < 0)
			out = devnull;
		::dup2(out, 1);
		::dup2(out, 2);
		// Close every inherited descriptor above stderr except the exec-status pipe (which is CLOEXEC).
		for (int fd = 3; fd < 1024; fd++)
			if (fd != execPipe[1])
				::close(fd);
		for (const auto &[k, v] : opts.env)
			::setenv(k.c_str(), v.c_str(), 1);
		::signal(SIGPIPE, SIG_DFL);
		int err = 0;
		if (!enterNetns(opts.netns))
			err = errno;
		else {
			::execvp(args[0], args.data());
			err = errno;
		}
		[[maybe_unused]] auto w = ::write(execPipe[1], &err, sizeof err);
		::_exit(127);
	}
	::close(execPipe[1]);
	int execErr = 0;
	bool failed = ::read(execPipe[0], &execErr, sizeof execErr) == sizeof execErr;
	::close(execPipe[0]);
	if (failed) {
		::waitpid(pid, nullptr, 0);
		return makeError(Errc::Io, "cannot start '{}'{}: {}", describe(argv),
				 opts.netns.empty() ? "" : " in netns " + opts.netns, strerror(execErr));
	}
	return pid;
}

std::optional<uint64_t> processStartTime(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
	std::string line;
	if (!std::getline(f, line))
		return std::nullopt;
	// The command name may contain spaces and parentheses: parse after the last ')'.
	auto close = line.rfind(')');
	if (close == std::string::npos)
		return std::nullopt;
	std::istringstream rest(line.substr(close + 2));
	std::string field;
	// Fields after comm start at field 3 (state); starttime is field 22.
	for (int i = 3; i <= 22; i++) {
		if (!(rest >> field))
			return std::nullopt;
	}
	try {
		return std::stoull(field);
	} catch (...) {
		return std::nullopt;
	}
}

bool processAlive(pid_t pid, std::optional<uint64_t> startTime)
{
	if (pid <= 1)
		return false;
	auto st = processStartTime(pid);
	if (!st)
		return false;
	// A zombie still has /proc/PID/stat; treat it as dead.
	std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
	std::string line;
	std::getline(f, line);
	auto close = line.rfind(')');
	if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z')
		return false;
	return !startTime || *st == *startTime;
}

Result<void> stopProcess(pid_t pid, std::optional<uint64_t> startTime, std::chrono::milliseconds grace)
{
	if (pid <= 1)
		return makeError(Errc::Invalid, "refusing to signal pid {}", pid);
	auto reap = [pid] { ::waitpid(pid, nullptr, WNOHANG); };
	if (!processAlive(pid, startTime)) {
		reap();
		return success();
	}
	::kill(pid, SIGTERM);
	const int64_t deadline = clk::monoNs() + grace.count() * clk::kMs;
	while (clk::monoNs() < deadline) {
		reap();
		if (!processAlive(pid, startTime))
			return success();
		::usleep(10000);
	}
	if (processAlive(pid, startTime))
		::kill(pid, SIGKILL);
	const int64_t hard = clk::monoNs() + 2 * clk::kSec;
	while (clk::monoNs() < hard) {
		reap();
		if (!processAlive(pid, startTime))
			return success();
		::usleep(10000);
	}
	return makeError(Errc::Io, "process {} did not exit after SIGKILL", pid);
}

} // namespace xdc::sys

namespace xdc::sys {

Result<int> runAttached(const std::vector<std::string> &argv, const std::string &netns)
{
	if (argv.empty())
		return makeError(Errc::Invalid, "empty command");
	auto args = cArgvForChild(argv);
	pid_t pid = ::fork();
	if (pid < 0)
		return makeError(Errc::Io, "fork: {}", strerror(errno));
	if (pid == 0) {
		if (!enterNetnsForChild(netns)) {
			fprintf(stderr, "cannot enter netns %s: %s\n", netns.c_str(), strerror(errno));
			::_exit(126);
		}
		::execvp(args[0], args.data());
		fprintf(stderr, "cannot run %s: %s\n", args[0], strerror(errno));
		::_exit(127);
	}
	int status = 0;
	while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

} // namespace xdc::sys
