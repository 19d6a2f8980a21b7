// SPDX-License-Identifier: Apache-2.0
// Inference of the cross-DC failover toolkit's state from poll rounds of the REST API: job and PE status, the
// toolkit operators' port counters and the application's output.
#include "controller/streams/toolkit_view.h"

#include <algorithm>

#include <fmt/format.h>

namespace xdc::streams {

const char *dcStateName(DcState s)
{
	switch (s) {
	case DcState::Active: return "active";
	case DcState::Standby: return "standby";
	case DcState::Running: return "running";
	case DcState::NoJob: return "no_job";
	case DcState::Down: return "down";
	case DcState::Unknown: break;
	}
	return "unknown";
}

const char *remoteStateName(RemoteState s)
{
	switch (s) {
	case RemoteState::NoContact: return "no_contact";
	case RemoteState::Up: return "up";
	case RemoteState::Down: return "down";
	case RemoteState::Unknown: break;
	}
	return "unknown";
}

RemoteState remoteState(const DcSnapshot &s)
{
	if (!s.reachable || !s.toolkit.transitions.present)
		return RemoteState::Unknown;
	const int64_t n = s.toolkit.transitions.value;
	if (n <= 0)
		return RemoteState::NoContact;
	return n % 2 ? RemoteState::Up : RemoteState::Down;
}

nlohmann::json toJson(const ToolkitEvent &e)
{
	nlohmann::json j = {{"t_ns", e.tNs},	  {"since_ns", e.sinceNs}, {"bound_ms", e.boundNs() / 1e6},
			    {"kind", e.kind},	  {"dc", e.dc},		  {"detail", e.detail},
			    {"source", e.source}};
	if (!e.pe.empty()) {
		j["pe"] = e.pe;
		j["launch_count"] = e.launchCount;
	}
	return j;
}

namespace {

bool jobGone(const DcSnapshot &s)
{
	return !s.job || s.job->status == "canceled" || s.job->status == "canceling";
}

std::string others(const std::map<std::string, int> &dcs, const std::string &self)
{
	std::string out;
	for (const auto &[name, _] : dcs)
		if (name != self)
			out += (out.empty() ? "" : ",") + name;
	return out.empty() ? "the remote DC" : out;
}

} // namespace

bool ToolkitView::observe(Counter &c, const PortSignal &p, int64_t pollNs, int64_t prevPollNs, int64_t &sinceNs,
			  int64_t &atNs, int64_t &prevValue)
{
	if (!p.present)
		return false;
	// A retrieval time after the poll (clocks apart) is taken as the poll's.
	const int64_t at = p.retrievedNs > 0 ? std::min(p.retrievedNs, pollNs) : pollNs;
	if (c.value < 0) {
		c.value = p.value;
		c.atNs = at;
		c.observations = 1;
		return false;
	}
	if (p.retrievedNs > 0 && at == c.atNs)
		return false; // the same collection again
	sinceNs = p.retrievedNs > 0 ? c.atNs : std::max(c.atNs, prevPollNs);
	atNs = at;
	prevValue = c.value;
	// A counter that went down was restarted with its PE: what it counts now began at 0.
	const int64_t base = p.value < c.value ? 0 : c.value;
	if (p.value > base) {
		c.grewAtNs = at;
		c.quiet = 0;
	} else {
		c.quiet++;
	}
	c.value = p.value;
	c.atNs = at;
	c.observations++;
	return true;
}

DcState ToolkitView::classify(const DcSnapshot &s, const Track &t) const
{
	if (!s.reachable)
		return DcState::Unknown;
	if (jobGone(s))
		return DcState::NoJob;
	// A job none of whose PEs runs produces nothing and sends no heartbeats, whatever its last metrics said.
	if (!s.pes.empty() && std::none_of(s.pes.begin(), s.pes.end(), [](const Pe &p) { return p.status == "running"; }))
		return DcState::Down;
	if (!s.sink.present || t.sink.observations < 2)
		return DcState::Running;
	if (t.sink.grewAtNs > 0 && t.sink.quiet < quiet_)
		return DcState::Active;
	if (t.sink.quiet >= quiet_ || (t.sink.grewAtNs == 0 && t.sink.observations > quiet_))
		return DcState::Standby;
	return DcState::Running;
}

// Jobs and PEs: a job appearing (the passive DC's submission), turning healthy, PE relaunches.
void ToolkitView::jobEvents(const DcSnapshot &s, Track &t, const Track &p, std::vector<ToolkitEvent> &out)
{
	const int64_t since = sinceKnown(p);
	if (!s.reachable)
		return;
	const DcState was = stateBefore(p);
	const std::string jobId = jobGone(s) ? "" : s.job->id;
	// A new job's operators count from 0: its output is known only from its own collections.
	if (jobId != p.jobId && !p.jobId.empty())
		t.sink = Counter{};
	if (!jobId.empty() && jobId != p.jobId && (was == DcState::NoJob || !p.jobId.empty())) {
		// The submission time is the job's own: exact to the millisecond, on the server's clock.
		const int64_t sub = s.job->submitTime > 0 ? std::min(s.job->submitTime * 1000000, s.tNs) : s.tNs;
		out.push_back({sub, s.job->submitTime > 0 ? sub - 1000000 : since, "job_submitted", s.dc,
			       fmt::format("job {} '{}'", jobId, s.job->name), "job submitTime"});
	}
	if (!jobId.empty()) {
		const bool healthy = s.job->health == "healthy";
		if (healthy && (jobId != p.jobId ? (was == DcState::NoJob || !p.jobId.empty()) : p.jobHealth != "healthy"))
			out.push_back({s.tNs, jobId != p.jobId ? std::max(since, s.job->submitTime * 1000000) : since,
				       "job_healthy", s.dc, fmt::format("job {} healthy: all {} PEs running", jobId, s.pes.size()),
				       "job health"});
		t.jobHealth = s.job->health;
	}
	t.jobId = jobId;
	// A PE whose launch count went up was relaunched (crash and restart, or restartpe) since the last round.
	for (const auto &pe : s.pes) {
		auto it = p.launches.find(pe.id);
		if (it != p.launches.end() && pe.launchCount > it->second && jobId == p.jobId) {
			ToolkitEvent e{s.tNs, since, "pe_relaunch", s.dc,
				       fmt::format("pe {} launch {} (pid {})", pe.id, pe.launchCount, pe.processId), "PE launchCount",
				       pe.id, pe.launchCount};
			out.push_back(e);
		}
		t.launches[pe.id] = pe.launchCount;
	}
}

// The toolkit's own signals: the watchdog's transitions (detection, recovery), the state it handed over.
void ToolkitView::toolkitEvents(const DcSnapshot &s, Track &t, std::vector<ToolkitEvent> &out)
{
	std::map<std::string, int> names;
	for (const auto &[n, _] : dcs_)
		names[n] = 0;
	const std::string remotes = others(names, s.dc);
	// The counters' epoch is one launch of the watchdog's PE: a relaunch restarts them from 0.
	std::string epoch;
	for (const auto &pe : s.pes)
		if (pe.id == s.toolkit.watchdogPe)
			epoch = fmt::format("{}:{}:{}", t.jobId, pe.id, pe.launchCount);
	if (!epoch.empty() && !t.watchdogLaunch.empty() && epoch != t.watchdogLaunch) {
		for (Counter *c : {&t.transitions, &t.handedOver, &t.heartbeats})
			if (c->value >= 0)
				c->value = 0;
	}
	if (!epoch.empty())
		t.watchdogLaunch = epoch;
	const int64_t prevPoll = t.lastTNs ? t.lastTNs : lastRoundNs_;
	int64_t since = 0, at = 0, prev = 0;
	if (observe(t.transitions, s.toolkit.transitions, s.tNs, prevPoll, since, at, prev)) {
		const int64_t from = s.toolkit.transitions.value < prev ? 0 : prev;
		for (int64_t k = from + 1; k <= s.toolkit.transitions.value; ++k) {
			const bool up = k % 2 == 1;
			out.push_back({at, since, up ? "remote_up" : "remote_down", s.dc,
				       up ? (k == 1 ? "first contact with " + remotes : "heard " + remotes + " again")
					  : "declared " + remotes + " down",
				       "RemoteDataCenterHeartbeatWatchdog output port"});
		}
	}
	if (observe(t.handedOver, s.toolkit.stateHandedOver, s.tNs, prevPoll, since, at, prev)) {
		const int64_t from = s.toolkit.stateHandedOver.value < prev ? 0 : prev;
		if (s.toolkit.stateHandedOver.value > from)
			out.push_back({at, since, "state_handed_over", s.dc,
				       fmt::format("the toolkit handed {} stored snapshot(s) of {} to the application",
						   s.toolkit.stateHandedOver.value - from, remotes),
				       "RemoteDataCenterWatchdog output port"});
	}
	observe(t.heartbeats, s.toolkit.heartbeatsReceived, s.tNs, prevPoll, since, at, prev);
}

// The application's output: a DC that starts delivering after being standby (or without a job) has taken over.
void ToolkitView::outputEvents(const DcSnapshot &s, Track &t, const Track &p, std::vector<ToolkitEvent> &out)
{
	const int64_t prevPoll = p.lastTNs ? p.lastTNs : lastRoundNs_;
	int64_t since = 0, at = 0, prev = 0;
	const bool fresh = observe(t.sink, s.sink, s.tNs, prevPoll, since, at, prev);
	const DcState now = classify(s, t);
	t.state = now;
	// The output moving to a DC is a takeover; the first DC seen delivering, or one resuming its own output, is not.
	if (now == DcState::Active && p.state != DcState::Active) {
		if (!lastActive_.empty() && lastActive_ != s.dc && !initialRound_) {
			const bool back = tookOver_ && s.dc == firstActive_;
			tookOver_ = true;
			// The output grew between the collection before and the one that showed it.
			const int64_t hi = t.sink.grewAtNs, lo = fresh && at == hi ? since : hi - (s.tNs - prevPoll);
			out.push_back({hi, lo, back ? "fail_back" : "takeover_complete", s.dc,
				       fmt::format("output flowing ({} tuples through {}; {} delivered before)", s.sink.value,
						   s.sinkOperator, lastActive_),
				       "sink input port"});
		}
		if (firstActive_.empty())
			firstActive_ = s.dc;
		lastActive_ = s.dc;
	}
	// Down and back up within one job; a new job's PEs starting is job_submitted / job_healthy instead.
	const DcState was = stateBefore(p);
	if (now == DcState::Down || now == DcState::NoJob) {
		if (was == DcState::Active || was == DcState::Standby || was == DcState::Running)
			out.push_back({s.tNs, sinceKnown(p), "dc_down", s.dc,
				       now == DcState::NoJob ? "job no longer listed" : "no PE of job " + t.jobId + " running",
				       "job and PE status"});
	} else if (now != DcState::Unknown) {
		if (was == DcState::Down && t.upJob == t.jobId)
			out.push_back({s.tNs, sinceKnown(p), "dc_recovered", s.dc, dcStateName(now), "job and PE status"});
		t.upJob = t.jobId;
	}
}

std::vector<ToolkitEvent> ToolkitView::update(const std::vector<DcSnapshot> &roundIn)
{
	std::vector<DcSnapshot> round = roundIn;
	std::sort(round.begin(), round.end(), [](const DcSnapshot &a, const DcSnapshot &b) { return a.dc < b.dc; });
	std::vector<ToolkitEvent> out;
	int64_t roundNs = 0;
	for (const auto &s : round) {
		roundNs = std::max(roundNs, s.tNs);
		dcs_[s.dc]; // every DC known before the events name "the others"
	}
	const std::map<std::string, Track> prev = dcs_;
	initialRound_ = lastActive_.empty();
	for (const auto &s : round) {
		Track &t = dcs_[s.dc];
		const Track &p = prev.at(s.dc);
		if (!s.reachable) {
			t.state = DcState::Unknown;
			t.lastTNs = s.tNs;
			continue;
		}
		jobEvents(s, t, p, out);
		toolkitEvents(s, t, out);
		outputEvents(s, t, p, out);
		t.lastTNs = s.tNs;
		t.known = t.state;
		t.knownTNs = s.tNs;
	}
	// Split brain: output flowing from two or more DCs at once.
	std::string actives;
	int nActive = 0;
	int64_t sinceActive = lastRoundNs_;
	for (const auto &[name, t] : dcs_)
		if (t.state == DcState::Active) {
			++nActive;
			actives += (actives.empty() ? "" : ",") + name;
		}
	if (nActive >= 2 && !splitBrain_) {
		splitBrain_ = true;
		out.push_back({roundNs, sinceActive, "split_brain", actives, "output flowing in " + std::to_string(nActive) + " DCs",
			       "sink input ports"});
	} else if (nActive < 2 && splitBrain_) {
		splitBrain_ = false;
		out.push_back({roundNs, sinceActive, "split_brain_end", actives,
			       actives.empty() ? "no output flowing" : "output flowing only in " + actives, "sink input ports"});
	}
	std::stable_sort(out.begin(), out.end(), [](const ToolkitEvent &a, const ToolkitEvent &b) { return a.tNs < b.tNs; });
	lastRoundNs_ = roundNs;
	events_.insert(events_.end(), out.begin(), out.end());
	return out;
}

DcState ToolkitView::state(const std::string &dc) const
{
	auto it = dcs_.find(dc);
	return it == dcs_.end() ? DcState::Unknown : it->second.state;
}

RemoteState ToolkitView::remote(const std::string &dc) const
{
	auto it = dcs_.find(dc);
	if (it == dcs_.end() || it->second.transitions.value < 0)
		return RemoteState::Unknown;
	const int64_t n = it->second.transitions.value;
	return n == 0 ? RemoteState::NoContact : n % 2 ? RemoteState::Up : RemoteState::Down;
}

std::string ToolkitView::heartbeats(const std::string &dc) const
{
	auto it = dcs_.find(dc);
	if (it == dcs_.end() || it->second.heartbeats.observations < 2)
		return "unknown";
	const Counter &c = it->second.heartbeats;
	return c.quiet == 0 ? "flowing" : c.quiet >= 2 ? "stalled" : "unknown";
}

bool ToolkitView::settled() const
{
	// A DC without an output operator stays running: nothing more can be learnt by waiting.
	for (const auto &[name, t] : dcs_)
		if (t.state == DcState::Running && t.sink.value >= 0 && t.sink.observations < 2)
			return false;
	return true;
}

std::string ToolkitView::activeDc() const
{
	// With several, the one whose output grew last (a DC that just stopped delivering is still active for a few
	// collections).
	std::string best;
	int64_t grew = -1;
	for (const auto &[name, t] : dcs_)
		if (t.state == DcState::Active && t.sink.grewAtNs > grew) {
			grew = t.sink.grewAtNs;
			best = name;
		}
	return best;
}

} // namespace xdc::streams
