// SPDX-License-Identifier: Apache-2.0
// Process matching for process.* faults: what a match selects, and the processes that are never signalled.
#include "agent/faults/process_match.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <csignal>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
// GCC 12 reports a false -Wmaybe-uninitialized inside <regex> when built with sanitizers at -O2.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>

#include "common/sys/file.h"

namespace xdc::agent {

namespace {

// libstdc++'s regex executor recurses per character; a Java command line can be hundreds of kilobytes. The regex is
// matched against the first kMaxCmdline bytes only (documented in docs/FAULTS.md), which keeps the recursion far
// from the stack limit.
constexpr size_t kMaxCmdline = 4096;

// At most this many skipped processes are named in an error message.
constexpr size_t kMaxNamed = 5;

// /proc reads of a process that may exit at any moment: a failure is "gone", not an error to report.
bool readFile(const std::string &path, std::string &out, size_t limit = 1 << 20)
{
	auto r = sys::readFile(path, limit);
	if (!r)
		return false;
	out = std::move(*r);
	return true;
}

template <typename T> bool parseNumber(std::string_view s, T &v)
{
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	return ec == std::errc() && end == s.data() + s.size();
}

std::string trim(std::string s)
{
	const char *ws = " \t\r\n";
	s.erase(0, s.find_first_not_of(ws));
	s.erase(s.find_last_not_of(ws) + 1);
	return s;
}

std::string dirOf(const std::string &procRoot, pid_t pid) { return procRoot + "/" + std::to_string(pid); }

// Every pid in a cgroup and the cgroups below it (a service's processes may sit in child groups).
void cgroupPids(const std::string &dir, std::vector<pid_t> &out, int depth = 0)
{
	std::string text;
	if (readFile(dir + "/cgroup.procs", text)) {
		std::istringstream in(text);
		pid_t p;
		while (in >> p)
			out.push_back(p);
	}
	if (depth > 32)
		return;
	DIR *d = ::opendir(dir.c_str());
	if (!d)
		return;
	while (dirent *e = ::readdir(d)) {
		if (e->d_name[0] == '.')
			continue;
		const std::string sub = dir + "/" + e->d_name;
		struct stat st;
		if (::lstat(sub.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
			cgroupPids(sub, out, depth + 1);
	}
	::closedir(d);
}

std::string nameSkipped(const std::vector<std::pair<ProcessInfo, std::string>> &skipped)
{
	std::vector<std::string> parts;
	for (size_t i = 0; i < skipped.size() && i < kMaxNamed; i++)
		parts.push_back(fmt::format("{}: {}", describeProcess(skipped[i].first), skipped[i].second));
	if (skipped.size() > kMaxNamed)
		parts.push_back(fmt::format("and {} more", skipped.size() - kMaxNamed));
	return fmt::format("{}", fmt::join(parts, "; "));
}

} // namespace

uint64_t inodeOf(const std::string &path)
{
	struct stat st;
	if (::stat(path.c_str(), &st) != 0)
		return 0;
	return static_cast<uint64_t>(st.st_ino);
}

std::optional<ProcessInfo> readProcess(const std::string &procRoot, pid_t pid)
{
	const std::string dir = dirOf(procRoot, pid);
	std::string stat;
	if (!readFile(dir + "/stat", stat, 4096) || stat.empty())
		return std::nullopt;
	// "PID (COMM) STATE PPID ...": the name may contain spaces and parentheses, so the fields start after the
	// last ')'.
	const auto open = stat.find('('), close = stat.rfind(')');
	if (open == std::string::npos || close == std::string::npos || close < open)
		return std::nullopt;
	ProcessInfo p;
	p.pid = pid;
	p.comm = stat.substr(open + 1, close - open - 1);
	std::istringstream rest(stat.substr(close + 1));
	std::vector<std::string> f(1, ""); // f[i] is field i + 2 (f[1] = state, field 3)
	std::string word;
	while (rest >> word && f.size() < 21)
		f.push_back(word);
	if (f.size() < 21 || f[1].size() != 1)
		return std::nullopt;
	p.state = f[1][0];
	if (!parseNumber(f[2], p.ppid) || !parseNumber(f[7], p.flags) || !parseNumber(f[20], p.startTime))
		return std::nullopt;
	std::string comm;
	if (readFile(dir + "/comm", comm, 64))
		p.comm = trim(comm);
	std::string cmd;
	if (readFile(dir + "/cmdline", cmd)) {
		while (!cmd.empty() && cmd.back() == '\0')
			cmd.pop_back();
		std::replace(cmd.begin(), cmd.end(), '\0', ' ');
		p.cmdline = cmd;
	}
	p.netns = inodeOf(dir + "/ns/net");
	return p;
}

std::vector<ProcessInfo> listProcesses(const std::string &procRoot)
{
	std::vector<ProcessInfo> out;
	DIR *d = ::opendir(procRoot.c_str());
	if (!d)
		return out;
	while (dirent *e = ::readdir(d)) {
		pid_t pid = 0;
		if (!parseNumber(std::string_view(e->d_name), pid) || pid <= 0)
			continue;
		if (auto p = readProcess(procRoot, pid))
			out.push_back(std::move(*p));
	}
	::closedir(d);
	std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.pid < b.pid; });
	return out;
}

std::set<pid_t> ancestorsOf(const std::string &procRoot, pid_t pid)
{
	std::set<pid_t> out;
	pid_t cur = pid;
	// Bounded: a fake or racing tree cannot loop forever.
	for (int i = 0; i < 4096 && cur > 1; i++) {
		std::ifstream f(dirOf(procRoot, cur) + "/status");
		std::string line;
		pid_t parent = 0;
		while (std::getline(f, line))
			if (line.rfind("PPid:", 0) == 0) {
				(void)parseNumber(std::string_view(trim(line.substr(5))), parent);
				break;
			}
		if (parent <= 0 || out.count(parent))
			break;
		out.insert(parent);
		cur = parent;
	}
	return out;
}

ProcContext ProcContext::forThisProcess(const FaultEnv &env)
{
	ProcContext c;
	c.selfNetns = inodeOf("/proc/self/ns/net");
	c.selfPid = ::getpid();
	c.ancestors = ancestorsOf("/proc", c.selfPid);
	c.protectedPids.insert(env.protectedPids.begin(), env.protectedPids.end());
	c.streamsPePattern = env.streamsPePattern;
	c.cap = env.processMatchCap;
	return c;
}

std::optional<std::string> protectedReason(const ProcessInfo &p, const ProcContext &ctx)
{
	if (p.pid == 1)
		return "PID 1";
	if (p.pid == ctx.selfPid)
		return "the xdc agent itself";
	if (ctx.ancestors.count(p.pid))
		return "an ancestor of the xdc agent";
	if (p.ppid == ctx.selfPid && p.comm.rfind("xdc-", 0) == 0)
		return "a worker of the xdc agent";
	if (p.kernelThread())
		return "a kernel thread";
	// The way in to the host (sshd, and its per-session processes in OpenSSH 9.8+), the controller, agents and
	// their guards: signalling them loses the experiment or the host.
	if (p.comm == "sshd" || p.comm.rfind("sshd-", 0) == 0)
		return "sshd";
	if (p.comm == "xdc" || p.comm == "xdc-agent" || p.comm == "xdc-agent-guard")
		return fmt::format("part of xdc ({})", p.comm);
	if (ctx.protectedPids.count(p.pid))
		return "protected by the agent's configuration";
	return std::nullopt;
}

std::string describeMatch(const fault::ProcessMatch &m)
{
	if (!m.name.empty())
		return fmt::format("name '{}'", m.name);
	if (!m.cmdline.empty())
		return fmt::format("cmdline /{}/", m.cmdline);
	if (!m.pidfile.empty())
		return fmt::format("pidfile {}", m.pidfile);
	if (!m.cgroup.empty())
		return fmt::format("cgroup {}", m.cgroup);
	if (!m.preset.empty())
		return fmt::format("preset {}", m.preset);
	return "nothing";
}

std::string matchField(const fault::ProcessMatch &m)
{
	if (!m.name.empty())
		return "match.name";
	if (!m.cmdline.empty())
		return "match.cmdline";
	if (!m.pidfile.empty())
		return "match.pidfile";
	if (!m.cgroup.empty())
		return "match.cgroup";
	if (!m.preset.empty())
		return "match.preset";
	return "match";
}

std::string describeProcess(const ProcessInfo &p) { return fmt::format("pid {} ({})", p.pid, p.comm); }

size_t countOf(const fault::Count &c, size_t n)
{
	if (n == 0)
		return 0;
	switch (c.mode) {
	case fault::Count::Mode::All:
		return n;
	case fault::Count::Mode::Number:
		return std::min(n, static_cast<size_t>(std::max(c.value, 1)));
	case fault::Count::Mode::Percent: {
		const size_t k = (n * static_cast<size_t>(c.value) + 99) / 100;
		return std::clamp<size_t>(k, 1, n);
	}
	}
	return n;
}

Result<MatchResult> matchProcesses(const fault::ProcessMatch &m, const ProcContext &ctx)
{
	const std::string field = matchField(m);
	if (m.empty())
		return makeError(Errc::Invalid, "match: give one of name, cmdline, pidfile, cgroup, preset");

	// The candidates: for pidfile and cgroup the pids they name, otherwise every process filtered by the test.
	std::vector<ProcessInfo> candidates;
	if (!m.pidfile.empty()) {
		std::string text;
		if (!readFile(m.pidfile, text, 4096))
			return makeError(Errc::Invalid, "match.pidfile: cannot read {}: {}", m.pidfile, strerror(errno));
		const std::string t = trim(text);
		pid_t pid = 0;
		if (!parseNumber(std::string_view(t), pid) || pid <= 0)
			return makeError(Errc::Invalid, "match.pidfile: {} does not hold a process id (it holds '{}')",
					 m.pidfile, t.substr(0, 32));
		if (pid == 1)
			return makeError(Errc::Invalid, "match.pidfile: names PID 1, which is never signalled");
		if (auto p = readProcess(ctx.procRoot, pid))
			candidates.push_back(std::move(*p));
	} else if (!m.cgroup.empty()) {
		std::string rel = m.cgroup;
		while (!rel.empty() && rel.front() == '/')
			rel.erase(0, 1);
		const std::string dir = rel.empty() ? ctx.cgroupRoot : ctx.cgroupRoot + "/" + rel;
		struct stat st;
		if (::stat((dir + "/cgroup.procs").c_str(), &st) != 0)
			return makeError(Errc::Invalid, "match.cgroup: {} is not a cgroup v2 group (no {}/cgroup.procs)",
					 m.cgroup, dir);
		std::vector<pid_t> pids;
		cgroupPids(dir, pids);
		std::sort(pids.begin(), pids.end());
		pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
		for (pid_t pid : pids)
			if (auto p = readProcess(ctx.procRoot, pid))
				candidates.push_back(std::move(*p));
	} else {
		std::optional<std::regex> re;
		try {
			if (!m.cmdline.empty())
				re.emplace(m.cmdline, std::regex::ECMAScript | std::regex::optimize);
			else if (!m.preset.empty())
				re.emplace(ctx.streamsPePattern, std::regex::ECMAScript | std::regex::optimize);
		} catch (const std::regex_error &e) {
			if (!m.cmdline.empty())
				return makeError(Errc::Invalid, "match.cmdline: invalid regular expression '{}': {}",
						 m.cmdline, e.what());
			return makeError(Errc::Invalid, "match.preset: the agent's faults.streams_pe_pattern '{}' is "
					 "not a valid regular expression: {}", ctx.streamsPePattern, e.what());
		}
		for (auto &p : listProcesses(ctx.procRoot)) {
			bool hit = false;
			if (!m.name.empty())
				hit = p.comm == m.name;
			else if (!m.cmdline.empty())
				hit = !p.cmdline.empty() &&
				      std::regex_search(p.cmdline.substr(0, kMaxCmdline), *re);
			else
				hit = std::regex_search(p.comm, *re);
			if (hit)
				candidates.push_back(std::move(p));
		}
	}

	MatchResult r;
	for (auto &p : candidates) {
		// A zombie has already ended; there is nothing to signal.
		if (p.state == 'Z' || p.state == 'X')
			continue;
		// Protection first, whatever the namespace: naming PID 1 or sshd is a mistake worth saying so.
		if (auto why = protectedReason(p, ctx)) {
			if (p.pid == 1 || p.netns == ctx.selfNetns)
				r.skipped.emplace_back(p, *why);
			else
				r.elsewhere++;
			continue;
		}
		// Only this host's processes: on a real host that is all of them; in a lab, where every host shares one
		// process table, it keeps a fault on one host off the others.
		if (p.netns == 0 || p.netns != ctx.selfNetns) {
			r.elsewhere++;
			continue;
		}
		r.selected.push_back(std::move(p));
	}
	std::sort(r.selected.begin(), r.selected.end(), [](const auto &a, const auto &b) { return a.pid < b.pid; });
	if (r.selected.empty() && !r.skipped.empty()) {
		if (!m.pidfile.empty())
			return makeError(Errc::Invalid, "{}: names {}, which is never signalled ({})", field,
					 describeProcess(r.skipped.front().first), r.skipped.front().second);
		return makeError(Errc::Invalid, "{}: matches only processes that are never signalled: {}", field,
				 nameSkipped(r.skipped));
	}
	if (r.selected.size() > ctx.cap)
		return makeError(Errc::Invalid, "match: {} processes match, more than the cap of {} "
				 "(faults.process_match_cap)", r.selected.size(), ctx.cap);
	return r;
}

Signalled signalProcess(pid_t pid, uint64_t startTime, int sig, int &err)
{
	err = 0;
	if (pid <= 1)
		return Signalled::Gone;
	// pidfd_open pins this pid's current process; if its start time still matches after that, the fd names the
	// process we resolved, and a signal through it cannot reach a newcomer that reused the pid.
	const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
	if (fd < 0 && errno == ESRCH)
		return Signalled::Gone;
	auto p = readProcess("/proc", pid);
	if (!p || p->startTime != startTime || p->state == 'Z' || p->state == 'X') {
		if (fd >= 0)
			::close(fd);
		return Signalled::Gone;
	}
	long rc;
	if (fd >= 0) {
		rc = ::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0);
		err = errno;
		::close(fd);
	} else {
		// Kernels before 5.3: plain kill() right after the start-time check.
		rc = ::kill(pid, sig);
		err = errno;
	}
	if (rc == 0) {
		err = 0;
		return Signalled::Sent;
	}
	return err == ESRCH ? Signalled::Gone : Signalled::Failed;
}

char processState(pid_t pid, uint64_t startTime)
{
	auto p = readProcess("/proc", pid);
	if (!p || p->startTime != startTime)
		return 0;
	return p->state;
}

} // namespace xdc::agent
