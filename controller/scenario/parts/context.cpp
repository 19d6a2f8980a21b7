// SPDX-License-Identifier: Apache-2.0
// What the parts of a run share (see context.h).
#include "controller/scenario/parts/context.h"

#include <unistd.h>

#include "controller/scenario/parts/faults.h"
#include "controller/scenario/parts/recording.h"
#include "controller/scenario/parts/streams.h"

namespace xdc::scenario {

std::string secs(int64_t ns) { return fmt::format("{:.1f}s", static_cast<double>(ns) / 1e9); }

void RunContext::setVerdict(int code, const std::string &v, const std::string &r)
{
	if (exit != kPassed)
		return;
	exit = code;
	verdict = v;
	reason = r;
	say(fmt::format("{}: {}", v, r));
}

void RunContext::say(const std::string &line) const
{
	if (opt.progress)
		opt.progress(fmt::format("[{:>6}] {}", secs(clk::wallNs() - t0), line));
}

Result<json> RunContext::call(const control::Request &req, int timeoutMs, json *raw)
{
	auto r = opt.call(req, timeoutMs);
	if (r && raw)
		*raw = *r;
	if (!r) {
		// The control socket did not answer: the controller is gone (or hung). Nothing the run does from here
		// can be verified; its agents revert every fault when their lease or TTL runs out.
		if (!controllerLost)
			controllerError = r.error().message;
		controllerLost = true;
		return r.error();
	}
	if (!r->value("ok", false)) {
		const json err = r->value("error", json::object());
		return makeError(err.value("code", "") == "invalid" ? Errc::Invalid : Errc::Refused, "{}",
				 err.is_object() ? err.value("message", "unknown error") : err.dump());
	}
	return r;
}

void RunContext::publishState(bool ended)
{
	if (controllerLost || !opt.call)
		return;
	control::RunStateRequest st{.scenario = s.name, .runId = opt.runId, .phase = phase, .ended = ended};
	if (ended) {
		st.verdict = verdict;
		st.exitCode = exit;
		auto number = [](const std::optional<json> &v) {
			return v && v->is_number() ? std::optional<double>(v->get<double>()) : std::nullopt;
		};
		if (report.streams) {
			st.detectionMs = number(report.streams->detectionMs);
			st.failoverMs = number(report.streams->failoverMs);
		}
		if (report.data) {
			st.rtoMs = report.data->rtoMs;
			st.rpoS = report.data->rpoS;
		}
		for (const auto &a : report.assertions)
			st.assertions.push_back({a.name, a.status});
	}
	(void)opt.call(st, 2000);
}

ReportPhase &RunContext::beginPhase(const std::string &name)
{
	report.phases.push_back({.name = name, .status = "running", .startNs = clk::wallNs()});
	say(fmt::format("phase {}", name));
	phase = name;
	publishState(false);
	return report.phases.back();
}

void RunContext::endPhase(const std::string &status, const std::string &message)
{
	auto &p = report.phases.back();
	p.endNs = clk::wallNs();
	p.status = status;
	if (!message.empty())
		p.message = message;
}

void RunContext::skipPhase(const std::string &name, const std::string &why)
{
	report.phases.push_back({.name = name, .status = "skipped", .message = why});
}

StreamsFollower *RunContext::streamsView() const
{
	return streams ? streams->view() : nullptr;
}

bool RunContext::loadFleet()
{
	auto r = call(control::AgentsRequest{});
	if (!r) {
		setVerdict(kHarness, "harness", "controller: " + r.error().message);
		return false;
	}
	auto fleet = control::parseAnswer<control::AgentsAnswer>(*r);
	if (!fleet) {
		setVerdict(kHarness, "harness", "controller: " + fleet.error().message);
		return false;
	}
	for (const auto &a : fleet->agents) {
		const Host h = hostOfAgent(a);
		if (a.state == "live")
			hosts.push_back(h);
		else
			lost.insert(h.name);
		report.hosts.push_back({.host = h.name, .dc = h.dc, .agent = a.id, .state = a.state,
					.clock = control::toJson(a)["clock"]});
	}
	auto ok = checkTopology(s, hosts, true);
	if (!ok) {
		// A host the scenario needs is missing or lost: the fleet, not the file, is at fault.
		std::string msg = ok.error().message;
		if (!lost.empty())
			msg += fmt::format(" (agents not live: {})", fmt::join(lost, ", "));
		setVerdict(kHarness, "harness", msg);
		return false;
	}
	for (const auto &h : hosts)
		dcOf[h.name] = h.dc;
	return true;
}

std::vector<std::string> RunContext::probeHosts(const ProbeRef &r) const
{
	if (!r.host.empty())
		return {r.host};
	const auto *p = s.probe(r.probe);
	return p ? selectHosts(p->on, hosts) : std::vector<std::string>{};
}

std::pair<int64_t, int64_t> RunContext::phaseWindow(const std::string &name) const
{
	for (const auto &p : report.phases)
		if (p.name == name && p.endNs && p.startNs)
			return {*p.startNs, *p.endNs};
	return {0, 0};
}

RunContext::Wait RunContext::waitUntil(int64_t untilWall, const std::function<bool(const json &)> &pred)
{
	int64_t nextStatus = 0;
	for (;;) {
		if (interrupted())
			return Wait::Aborted;
		if (controllerLost)
			return Wait::Lost;
		waitingUntil = untilWall;
		// A metric stop condition (a firing alert) aborts the run, whether or not it records.
		if (metrics) {
			if (auto why = metrics->stopCondition(t0)) {
				stopReason = *why;
				stopAborts = true;
				return Wait::Stopped;
			}
		}
		const bool needStatus = !s.stopConditions.empty() || pred || opt.status;
		if (needStatus) {
			auto st = recording->status(10000);
			if (st) {
				if (auto why = recording->stopCondition(*st)) {
					stopReason = *why;
					return Wait::Stopped;
				}
				if (opt.status && clk::monoNs() >= nextStatus) {
					opt.status(statusLine(*st));
					nextStatus = clk::monoNs() + clk::kSec;
				}
			}
			// A condition on Streams alone needs no recording: it sees an empty status.
			if (pred && (st || !recording->recording()) && pred(st ? *st : json::object()))
				return Wait::Done;
		}
		const int64_t now = clk::wallNs();
		if (now >= untilWall)
			return Wait::Done;
		::usleep(static_cast<useconds_t>(std::min(kTickNs, untilWall - now) / 1000));
	}
}

std::string statusLineText(const std::string &phase, int64_t elapsedNs, int64_t leftNs,
			   const std::map<std::string, int> &faultsPerHost, const std::string &probeHealth)
{
	std::string faultsNow;
	for (const auto &[host, n] : faultsPerHost)
		faultsNow += fmt::format(" {}:{}", host, n);
	return fmt::format("{} {}{} | faults{} |{}", phase, secs(elapsedNs),
			   leftNs > 0 ? fmt::format(", {} left", secs(leftNs)) : "", faultsNow.empty() ? " none" : faultsNow,
			   probeHealth);
}

std::string RunContext::statusLine(const json &st) const
{
	const int64_t now = clk::wallNs();
	return statusLineText(phase, now - t0, waitingUntil > now ? waitingUntil - now : 0, faults->activePerHost(),
			      recording->probeHealth(st));
}

bool RunContext::waited(Wait w)
{
	switch (w) {
	case Wait::Done:
		return true;
	case Wait::Aborted:
		endPhase("aborted", "interrupted by the operator");
		setVerdict(kAborted, "aborted", fmt::format("interrupted by the operator during {}", phase));
		return false;
	case Wait::Stopped:
		endPhase(stopAborts ? "aborted" : "failed", stopReason);
		report.stopCondition = ReportStop{.reason = stopReason, .phase = phase, .atNs = clk::wallNs()};
		if (stopAborts)
			setVerdict(kAborted, "aborted", stopReason);
		else
			setVerdict(kFailed, "failed", stopReason);
		return false;
	case Wait::Lost:
		endPhase("error", "lost the controller: " + controllerError);
		setVerdict(kHarness, "broken", "lost the controller during " + phase + ": " + controllerError +
						       " (the agents revert every fault when their lease runs out)");
		return false;
	}
	return false;
}

} // namespace xdc::scenario
