// SPDX-License-Identifier: Apache-2.0
// process.kill with signals through pidfds, verified by waiting for the processes to end.
#include "agent/faults/process_kill.h"

#include <csignal>
#include <cstring>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

namespace xdc::agent {

namespace {

// How long apply() waits for a signalled process to end (SIGKILL: it must; SIGTERM: it may take longer, which is
// reported but not an error). The agent does nothing else meanwhile, so this stays short.
constexpr int64_t kExitWaitNs = 2 * clk::kSec;

bool gone(const ProcessInfo &p)
{
	const char s = processState(p.pid, p.startTime);
	return s == 0 || s == 'Z' || s == 'X';
}

} // namespace

int signalNumber(const std::string &name)
{
	static const std::pair<const char *, int> table[] = {{"KILL", SIGKILL}, {"TERM", SIGTERM}, {"INT", SIGINT},
							     {"HUP", SIGHUP},   {"QUIT", SIGQUIT}, {"USR1", SIGUSR1},
							     {"USR2", SIGUSR2}};
	for (const auto &[n, s] : table)
		if (name == n)
			return s;
	return 0;
}

ProcessKill::ProcessKill(FaultRequest req, const FaultEnv &env)
	: req_(std::move(req)), ctx_(ProcContext::forThisProcess(env)), sig_(signalNumber(req_.spec.signal)),
	  every_(req_.spec.every.count())
{
}

Result<void> ProcessKill::prepare()
{
	if (sig_ == 0)
		return makeError(Errc::Invalid, "signal: '{}' is not a signal this agent sends", req_.spec.signal);
	auto m = matchProcesses(req_.spec.match, ctx_);
	XDC_TRY(m);
	if (m->selected.empty())
		return makeError(Errc::Invalid, "match: no process matches {} on this host{}",
				 describeMatch(req_.spec.match),
				 m->elsewhere ? fmt::format(" ({} in other network namespaces, which are other hosts)",
							    m->elsewhere)
					      : "");
	matched_ = m->selected.size();
	// Which ones: the lowest pids first, so that a dry run and the fault name the same processes.
	targets_.assign(m->selected.begin(),
			m->selected.begin() + static_cast<std::ptrdiff_t>(countOf(req_.spec.count, matched_)));
	return success();
}

std::string ProcessKill::mechanism() const
{
	std::string s = fmt::format("signal SIG{} to {} of {} processes matching {} (lowest pids first)",
				    req_.spec.signal, targets_.size(), matched_, describeMatch(req_.spec.match));
	if (every_ > 0)
		s += fmt::format(", again every {} ms on the processes matching then", every_ / clk::kMs);
	return s;
}

std::vector<std::string> ProcessKill::plan() const
{
	std::vector<std::string> out;
	for (const auto &p : targets_)
		out.push_back(fmt::format("kill -{} {}  # {}, start time {}: {}", req_.spec.signal, p.pid, p.comm,
					  p.startTime, p.cmdline.substr(0, 120)));
	if (every_ > 0)
		out.push_back(fmt::format("every {} ms until the end: resolve {} again and kill -{} the same count",
					  every_ / clk::kMs, describeMatch(req_.spec.match), req_.spec.signal));
	out.push_back("undo: none (a signal cannot be taken back)");
	return out;
}

Undo ProcessKill::undo() const
{
	// Nothing to put back: a killed process stays killed (its supervisor may restart it, which is the point).
	return Undo::array();
}

std::vector<std::string> ProcessKill::signalRound(const std::vector<ProcessInfo> &targets, bool wait,
						  std::string &error)
{
	std::vector<std::string> lines, failed;
	std::vector<ProcessInfo> sent;
	// The apply's effective time is the first signal's (no target can have died of it earlier), not the end of
	// the wait for the exits below, up to 2 s later.
	if (wait)
		effectiveNs = clk::wallNs();
	for (const auto &p : targets) {
		int err = 0;
		switch (signalProcess(p.pid, p.startTime, sig_, err)) {
		case Signalled::Sent:
			sent.push_back(p);
			signalled_.push_back(p);
			break;
		case Signalled::Gone:
			lines.push_back(fmt::format("{} had already exited", describeProcess(p)));
			break;
		case Signalled::Failed:
			failed.push_back(fmt::format("{}: {}", describeProcess(p), strerror(err)));
			break;
		}
	}
	const bool waitExit = wait && (sig_ == SIGKILL || sig_ == SIGTERM);
	if (waitExit) {
		const int64_t deadline = clk::monoNs() + kExitWaitNs;
		auto allGone = [&] {
			for (const auto &p : sent)
				if (!gone(p))
					return false;
			return true;
		};
		while (!allGone() && clk::monoNs() < deadline)
			::usleep(5000);
	}
	std::vector<std::string> running;
	for (const auto &p : sent) {
		if (!waitExit)
			lines.push_back(fmt::format("{} signalled", describeProcess(p)));
		else if (gone(p))
			lines.push_back(fmt::format("{} killed (exited)", describeProcess(p)));
		else if (sig_ == SIGTERM)
			lines.push_back(fmt::format("{} signalled, still running {} s later (it handles SIGTERM)",
						    describeProcess(p), kExitWaitNs / clk::kSec));
		else
			running.push_back(describeProcess(p));
	}
	if (!failed.empty())
		error = fmt::format("cannot signal {}", fmt::join(failed, ", "));
	else if (!running.empty())
		error = fmt::format("still running {} s after SIGKILL: {}", kExitWaitNs / clk::kSec,
				    fmt::join(running, ", "));
	else if (sent.empty() && !targets.empty())
		error = fmt::format("match: all {} selected processes exited before they could be signalled",
				    targets.size());
	return lines;
}

Result<std::string> ProcessKill::apply()
{
	std::string error;
	auto lines = signalRound(targets_, true, error);
	if (!error.empty())
		return makeError(Errc::Io, "SIG{} to {}: {}{}", req_.spec.signal, describeMatch(req_.spec.match), error,
				 lines.empty() ? "" : fmt::format(" ({})", fmt::join(lines, "; ")));
	if (every_ > 0)
		next_ = clk::monoNs() + every_;
	return fmt::format("SIG{} to {} of {} processes matching {}: {}", req_.spec.signal, targets_.size(), matched_,
			   describeMatch(req_.spec.match), fmt::join(lines, "; "));
}

void ProcessKill::work(int64_t nowMono)
{
	if (every_ <= 0 || next_ == INT64_MAX)
		return;
	next_ += every_;
	if (next_ <= nowMono)
		next_ = nowMono + every_;
	rounds_++;
	auto lg = log::get("faults");
	auto m = matchProcesses(req_.spec.match, ctx_);
	if (!m) {
		lg->warn("process.kill '{}' repeat {}: {}", req_.id, rounds_, m.error().message);
		return;
	}
	if (m->selected.empty()) {
		lg->info("process.kill '{}' repeat {}: no process matches {}", req_.id, rounds_,
			 describeMatch(req_.spec.match));
		return;
	}
	std::vector<ProcessInfo> targets(m->selected.begin(),
					 m->selected.begin() +
						 static_cast<std::ptrdiff_t>(countOf(req_.spec.count, m->selected.size())));
	// No waiting here: the agent's loop must keep serving; the next round finds any survivor again.
	std::string error;
	auto lines = signalRound(targets, false, error);
	lg->info("process.kill '{}' repeat {}: SIG{} {}{}", req_.id, rounds_, req_.spec.signal, fmt::join(lines, "; "),
		 error.empty() ? "" : "; " + error);
}

Result<void> ProcessKill::revert()
{
	// The processes stay killed; reverting only ends the repeat.
	next_ = INT64_MAX;
	return success();
}

} // namespace xdc::agent
