// SPDX-License-Identifier: Apache-2.0
// xdc in Prometheus: the controller's /metrics page (docs/USER_GUIDE.md, "xdc in Prometheus") and the run.state
// requests that tell it about scenario runs. Every label's values are bounded: agents by the allow-list, faults by
// kind x host, scenarios by kRunsKept, phases and verdicts by their fixed sets; no run or fault id is a label.
#include <algorithm>
#include <set>

#include "common/clock.h"
#include "common/log.h"
#include "common/sys/process.h"
#include "controller/daemon/controller.h"
#include "xdc_config.h"

namespace xdc::controller {

using control::Exposition;

void Controller::handle(const control::Peer &peer, const control::RunStateRequest &req)
{
	const int64_t now = clk::wallNs();
	auto [it, added] = runs_.try_emplace(req.scenario);
	RunStatus &r = it->second;
	r.touchedWall = now;
	r.runId = req.runId;
	if (!req.ended) {
		if (!r.active || r.phase != req.phase)
			log::get("control")->debug("run {} of '{}': phase {}", req.runId, req.scenario, req.phase);
		r.active = true;
		r.phase = req.phase;
		r.pid = peer.pid;
		r.pidStart = static_cast<int64_t>(sys::processStartTime(peer.pid).value_or(0));
	} else {
		r.active = false;
		r.phase.clear();
		r.hasLast = true;
		r.lastVerdict = req.verdict;
		r.lastExit = req.exitCode;
		r.lastEndedWall = now;
		r.detectionMs = req.detectionMs;
		r.failoverMs = req.failoverMs;
		r.rtoMs = req.rtoMs;
		r.rpoS = req.rpoS;
		r.assertions = req.assertions;
		runsEnded_[{req.scenario, req.verdict}]++;
	}
	// Bounded: the least recently reported scenario that is not running goes first.
	while (runs_.size() > kRunsKept) {
		auto oldest = runs_.end();
		for (auto i = runs_.begin(); i != runs_.end(); ++i)
			if (i->first != req.scenario && (oldest == runs_.end() || i->second.touchedWall < oldest->second.touchedWall))
				oldest = i;
		if (oldest == runs_.end())
			break;
		for (auto e = runsEnded_.begin(); e != runsEnded_.end();)
			e = e->first.first == oldest->first ? runsEnded_.erase(e) : std::next(e);
		runs_.erase(oldest);
	}
	control_.reply(peer.id, {{"ok", true}});
}

std::string Controller::metricsText()
{
	pruneFaults();
	const int64_t nowMono = clk::monoNs();
	Exposition e;
	e.family("xdc_controller_info", "gauge", "The controller: 1, with its version, its id and whether CURVE is on.");
	e.sample({{"version", XDC_VERSION}, {"controller", controllerId_}, {"secure", cfg_.insecure ? "false" : "true"}}, 1);
	e.family("xdc_controller_start_time_seconds", "gauge", "When the controller started (Unix time).");
	e.sample({}, static_cast<double>(startWall_) / 1e9);

	// The fleet: per DC, live and lost; per agent, up and its clock.
	std::map<std::string, std::pair<int, int>> perDc; // dc -> live, lost
	for (const auto &[id, a] : agents_)
		(a.live ? perDc[a.dc].first : perDc[a.dc].second)++;
	e.family("xdc_agents", "gauge", "Agents known to the controller per DC, by state (live or lost).");
	for (const auto &[dc, n] : perDc) {
		e.sample({{"dc", dc}, {"state", "live"}}, n.first);
		e.sample({{"dc", dc}, {"state", "lost"}}, n.second);
	}
	e.family("xdc_agent_up", "gauge", "1 while the agent is live (heartbeats arrive), 0 once lost.");
	for (const auto &[id, a] : agents_)
		e.sample({{"agent", id}, {"host", a.host}, {"dc", a.dc}}, a.live ? 1 : 0);
	std::vector<std::pair<const AgentRecord *, fleet::ClockEstimate>> clocks;
	for (const auto &[id, a] : agents_)
		if (a.live)
			if (auto est = a.clock.estimate(nowMono); est.valid)
				clocks.push_back({&a, est});
	e.family("xdc_agent_clock_offset_seconds", "gauge",
		 "The agent's clock minus the controller's, as estimated from the latest exchanges.");
	for (const auto &[a, est] : clocks)
		e.sample({{"agent", a->id}, {"host", a->host}, {"dc", a->dc}}, static_cast<double>(est.offsetNs) / 1e9);
	e.family("xdc_agent_clock_bound_seconds", "gauge",
		 "The bound of that estimate: the true offset lies within offset +- bound.");
	for (const auto &[a, est] : clocks)
		e.sample({{"agent", a->id}, {"host", a->host}, {"dc", a->dc}}, static_cast<double>(est.boundNs) / 1e9);

	// Faults in place: the controller's record, which the agents' FaultEvents end at once.
	std::map<std::tuple<std::string, std::string, std::string>, int> inPlace; // kind, host, dc
	for (const auto &[id, f] : faults_)
		for (const auto &agent : f.agents) {
			auto a = agents_.find(agent);
			inPlace[{f.kind, a == agents_.end() ? agent : a->second.host,
				 a == agents_.end() ? "" : a->second.dc}]++;
		}
	e.family("xdc_faults_active", "gauge", "Faults in place (applied and not yet ended), whatever their hosts.");
	e.sample({}, static_cast<double>(faults_.size()));
	e.family("xdc_faults_in_place", "gauge",
		 "Faults in place per kind and host: present from the verified apply until the agent's revert.");
	for (const auto &[k, n] : inPlace)
		e.sample({{"kind", std::get<0>(k)}, {"host", std::get<1>(k)}, {"dc", std::get<2>(k)}}, n);
	e.family("xdc_fault_ends_total", "counter", "Fault ends the agents reported, since the controller started.");
	e.sample({}, static_cast<double>(faultEndsSeen_));

	// Scenario runs, as `xdc run` reports them.
	for (auto &[name, r] : runs_)
		if (r.active && r.pid > 0) {
			// A run whose process is gone (killed) is over; it never said how.
			const auto start = sys::processStartTime(r.pid);
			if (!start || static_cast<int64_t>(*start) != r.pidStart) {
				r.active = false;
				r.phase.clear();
			}
		}
	e.family("xdc_run_active", "gauge", "1 while a run of the scenario is in progress, else 0.");
	for (const auto &[name, r] : runs_)
		e.sample({{"scenario", name}}, r.active ? 1 : 0);
	e.family("xdc_run_phase", "gauge", "1 for the phase the scenario's run in progress is in.");
	for (const auto &[name, r] : runs_)
		if (r.active)
			e.sample({{"scenario", name}, {"phase", r.phase}}, 1);
	e.family("xdc_runs_ended_total", "counter", "Runs of the scenario that ended, by verdict.");
	for (const auto &[k, n] : runsEnded_)
		e.sample({{"scenario", k.first}, {"verdict", k.second}}, static_cast<double>(n));
	e.family("xdc_last_run_passed", "gauge", "1 if the scenario's last run passed, else 0.");
	for (const auto &[name, r] : runs_)
		if (r.hasLast)
			e.sample({{"scenario", name}}, r.lastVerdict == "passed" ? 1 : 0);
	e.family("xdc_last_run_exit_code", "gauge", "The exit code of the scenario's last run (0 passed).");
	for (const auto &[name, r] : runs_)
		if (r.hasLast)
			e.sample({{"scenario", name}}, static_cast<double>(r.lastExit));
	e.family("xdc_last_run_end_time_seconds", "gauge", "When the scenario's last run ended (Unix time).");
	for (const auto &[name, r] : runs_)
		if (r.hasLast)
			e.sample({{"scenario", name}}, static_cast<double>(r.lastEndedWall) / 1e9);
	struct Figure {
		const char *name, *help;
		std::optional<double> RunStatus::*field;
		double scale;
	};
	for (const Figure &f : {Figure{"xdc_last_run_detection_seconds", "Failure detection of the last run (Streams).",
				       &RunStatus::detectionMs, 1e-3},
				Figure{"xdc_last_run_failover_seconds", "Failover of the last run (Streams).",
				       &RunStatus::failoverMs, 1e-3},
				Figure{"xdc_last_run_rto_seconds", "Recovery time of the last run (test tuples).",
				       &RunStatus::rtoMs, 1e-3},
				Figure{"xdc_last_run_rpo_seconds", "Recovery point of the last run (test tuples).",
				       &RunStatus::rpoS, 1.0}}) {
		e.family(f.name, "gauge", std::string(f.help) + " Absent when the run measured none.");
		for (const auto &[name, r] : runs_)
			if (r.hasLast && (r.*f.field))
				e.sample({{"scenario", name}}, *(r.*f.field) * f.scale);
	}
	e.family("xdc_last_run_assertion_passed", "gauge", "Each assertion of the scenario's last run: 1 passed, 0 not.");
	for (const auto &[name, r] : runs_) {
		std::set<std::string> seen; // a repeated name keeps its first outcome
		for (const auto &[a, status] : r.assertions)
			if (seen.insert(a).second)
				e.sample({{"scenario", name}, {"assertion", a}}, status == "passed" ? 1 : 0);
	}

	// The controller's own health.
	e.family("xdc_commands_pending", "gauge", "Commands sent to agents and not yet answered.");
	e.sample({}, static_cast<double>(pending_.size()));
	e.family("xdc_frames_dropped_total", "counter", "Frames from agents the controller dropped, by reason.");
	for (size_t i = 0; i < proto::kDropCount; i++)
		e.sample({{"reason", std::string(proto::dropName(static_cast<proto::Drop>(i)))}},
			 static_cast<double>(drops_.get(static_cast<proto::Drop>(i))));
	e.family("xdc_metrics_scrapes_total", "counter", "Requests for this page, this one included.");
	e.sample({}, static_cast<double>(metrics_.scrapes()));
	return e.text();
}

} // namespace xdc::controller
