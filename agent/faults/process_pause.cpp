// SPDX-License-Identifier: Apache-2.0
// process.pause with SIGSTOP/SIGCONT, read back from /proc/PID/stat.
#include "agent/faults/process_pause.h"

#include <csignal>
#include <cstring>
#include <unistd.h>

#include "agent/faults/undo.h"
#include "common/clock.h"

namespace xdc::agent {

namespace {

// A process stops (or continues) as soon as each of its threads next returns to user space: at once, unless one
// sits in an uninterruptible sleep (state D, e.g. on a hung NFS server).
constexpr int64_t kStateWaitNs = 1 * clk::kSec;

bool waitStates(const std::vector<ProcessInfo> &procs, bool stopped)
{
	const int64_t deadline = clk::monoNs() + kStateWaitNs;
	while (true) {
		bool all = true;
		for (const auto &p : procs) {
			const char s = processState(p.pid, p.startTime);
			if (s != 0 && (s == 'T') != stopped)
				all = false;
		}
		if (all || clk::monoNs() >= deadline)
			return all;
		::usleep(2000);
	}
}

std::string names(const std::vector<ProcessInfo> &procs)
{
	std::vector<std::string> out;
	for (const auto &p : procs)
		out.push_back(describeProcess(p));
	return fmt::format("{}", fmt::join(out, ", "));
}

} // namespace

ProcessPause::ProcessPause(FaultRequest req, const FaultEnv &env)
	: req_(std::move(req)), ctx_(ProcContext::forThisProcess(env))
{
}

Result<void> ProcessPause::prepare()
{
	auto m = matchProcesses(req_.spec.match, ctx_);
	XDC_TRY(m);
	if (m->selected.empty())
		return makeError(Errc::Invalid, "match: no process matches {} on this host{}",
				 describeMatch(req_.spec.match),
				 m->elsewhere ? fmt::format(" ({} in other network namespaces, which are other hosts)",
							    m->elsewhere)
					      : "");
	// Already stopped processes are paused too (and continued at the end): the fault owns their state for the
	// window. Lowest pids first, as for process.kill.
	matched_ = m->selected.size();
	targets_.assign(m->selected.begin(),
			m->selected.begin() + static_cast<std::ptrdiff_t>(countOf(req_.spec.count, matched_)));
	return success();
}

std::string ProcessPause::mechanism() const
{
	return fmt::format("SIGSTOP to {} of {} processes matching {} (lowest pids first), SIGCONT at the end",
			   targets_.size(), matched_, describeMatch(req_.spec.match));
}

std::vector<std::string> ProcessPause::plan() const
{
	std::vector<std::string> out;
	for (const auto &p : targets_)
		out.push_back(fmt::format("kill -STOP {}  # {}, start time {}: {}", p.pid, p.comm, p.startTime,
					  p.cmdline.substr(0, 120)));
	out.push_back(fmt::format("at the end: kill -CONT those and every stopped process matching {}",
				  describeMatch(req_.spec.match)));
	return out;
}

Undo ProcessPause::undo() const
{
	std::vector<std::pair<int, uint64_t>> pids;
	for (const auto &p : targets_)
		pids.emplace_back(p.pid, p.startTime);
	Undo steps = Undo::array();
	steps.push_back({{"op", "cont"}, {"pids", pidList(pids)}});
	return steps;
}

std::vector<ProcessInfo> ProcessPause::resume(const std::vector<ProcessInfo> &procs)
{
	std::vector<ProcessInfo> sent;
	for (const auto &p : procs) {
		int err = 0;
		if (signalProcess(p.pid, p.startTime, SIGCONT, err) == Signalled::Sent)
			sent.push_back(p);
	}
	waitStates(sent, false);
	std::vector<ProcessInfo> still;
	for (const auto &p : procs)
		if (processState(p.pid, p.startTime) == 'T')
			still.push_back(p);
	return still;
}

Result<std::string> ProcessPause::apply()
{
	std::vector<ProcessInfo> sent;
	std::vector<std::string> goneBefore, failed;
	for (const auto &p : targets_) {
		int err = 0;
		switch (signalProcess(p.pid, p.startTime, SIGSTOP, err)) {
		case Signalled::Sent:
			sent.push_back(p);
			break;
		case Signalled::Gone:
			goneBefore.push_back(describeProcess(p));
			break;
		case Signalled::Failed:
			failed.push_back(fmt::format("{}: {}", describeProcess(p), strerror(err)));
			break;
		}
	}
	std::string error;
	if (!failed.empty())
		error = fmt::format("cannot stop {}", fmt::join(failed, ", "));
	else if (sent.empty())
		error = fmt::format("match: all {} selected processes exited before they could be stopped",
				    targets_.size());
	else if (!waitStates(sent, true)) {
		std::vector<ProcessInfo> notStopped;
		for (const auto &p : sent) {
			const char s = processState(p.pid, p.startTime);
			if (s != 0 && s != 'T')
				notStopped.push_back(p);
		}
		error = fmt::format("not in state T {} ms after SIGSTOP: {}", kStateWaitNs / clk::kMs, names(notStopped));
	}
	if (!error.empty()) {
		// Leave nothing behind: whatever did stop is continued.
		auto still = resume(sent);
		if (!still.empty())
			error += fmt::format("; and still stopped after SIGCONT: {}", names(still));
		return makeError(Errc::Io, "SIGSTOP to {}: {}", describeMatch(req_.spec.match), error);
	}
	std::vector<std::string> lines;
	for (const auto &p : sent)
		lines.push_back(fmt::format("{} state T", describeProcess(p)));
	for (const auto &g : goneBefore)
		lines.push_back(g + " had already exited");
	return fmt::format("SIGSTOP to {} of {} processes matching {}: {}", sent.size(), matched_,
			   describeMatch(req_.spec.match), fmt::join(lines, "; "));
}

Result<void> ProcessPause::revert()
{
	// The recorded processes, and every stopped process the match selects now: when the pause ends, no process of
	// the match is left stopped, whoever stopped it (a user reading "paused for 30 s" expects them all running).
	std::vector<ProcessInfo> all = targets_;
	if (auto m = matchProcesses(req_.spec.match, ctx_); m) {
		for (const auto &p : m->selected) {
			if (p.state != 'T')
				continue;
			bool known = false;
			for (const auto &t : all)
				known = known || (t.pid == p.pid && t.startTime == p.startTime);
			if (!known)
				all.push_back(p);
		}
	}
	auto still = resume(all);
	if (!still.empty())
		return makeError(Errc::Io, "still stopped (state T) after SIGCONT: {}", names(still));
	return success();
}

} // namespace xdc::agent
