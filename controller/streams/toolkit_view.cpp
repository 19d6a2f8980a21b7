// SPDX-License-Identifier: Apache-2.0
// Inference of the cross-DC failover toolkit's state from poll rounds of the REST API.
#include "controller/streams/toolkit_view.h"

#include <algorithm>

#include <fmt/format.h>

namespace xdc::streams {

const char *dcStateName(DcState s)
{
	switch (s) {
	case DcState::Active: return "active";
	case DcState::Standby: return "standby";
	case DcState::Down: return "down";
	case DcState::Unknown: break;
	}
	return "unknown";
}

nlohmann::json toJson(const ToolkitEvent &e)
{
	nlohmann::json j = {{"t_ns", e.tNs}, {"since_ns", e.sinceNs}, {"kind", e.kind}, {"dc", e.dc}, {"detail", e.detail}};
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

std::optional<int64_t> metric(const DcSnapshot &s, const char *name)
{
	auto it = s.toolkit.find(name);
	if (it == s.toolkit.end())
		return std::nullopt;
	return it->second;
}

} // namespace

DcState classify(const DcSnapshot &s)
{
	if (!s.reachable)
		return DcState::Unknown;
	if (jobGone(s))
		return DcState::Down;
	// A job none of whose PEs runs produces nothing and sends no heartbeats, whatever its last metrics said.
	if (!s.pes.empty() && std::none_of(s.pes.begin(), s.pes.end(),
					   [](const Pe &p) { return p.status == "running"; }))
		return DcState::Down;
	if (auto active = metric(s, "isActive"))
		return *active != 0 ? DcState::Active : DcState::Standby;
	// Without the toolkit's metric, a DC whose sink has delivered output is taken as the active one.
	return s.sinkTuples.value_or(0) > 0 ? DcState::Active : DcState::Standby;
}

std::vector<ToolkitEvent> ToolkitView::update(const std::vector<DcSnapshot> &roundIn)
{
	std::vector<DcSnapshot> round = roundIn;
	std::sort(round.begin(), round.end(), [](const DcSnapshot &a, const DcSnapshot &b) { return a.dc < b.dc; });
	std::vector<ToolkitEvent> out;
	int64_t roundNs = 0;
	for (const auto &s : round)
		roundNs = std::max(roundNs, s.tNs);
	auto emit = [&](int64_t t, int64_t since, std::string kind, std::string dc, std::string detail) {
		out.push_back({t, since, std::move(kind), std::move(dc), std::move(detail)});
	};
	std::map<std::string, Track> prev = dcs_;

	// Pass 1: each DC's own state; an orderly shutdown (the active DC's job canceled) is told apart from a failure.
	for (const auto &s : round) {
		Track &t = dcs_[s.dc];
		const Track p = prev[s.dc];
		const int64_t since = p.lastTNs ? p.lastTNs : lastRoundNs_;
		const DcState now = classify(s);
		if (now != DcState::Unknown) {
			if (p.state == DcState::Active && now == DcState::Down && s.reachable && jobGone(s)) {
				t.shutDown = true;
				emit(s.tNs, since, "orderly_shutdown", s.dc,
				     s.job ? "job " + s.job->id + " " + s.job->status : "job no longer listed");
			} else if (now == DcState::Down && p.lastKnown != DcState::Down && p.lastKnown != DcState::Unknown) {
				emit(s.tNs, since, "dc_down", s.dc, s.job ? "job " + s.job->health : "no job");
			} else if (p.lastKnown == DcState::Down && now != DcState::Down) {
				t.shutDown = false;
				emit(s.tNs, since, "dc_recovered", s.dc, dcStateName(now));
			}
			// A DC that goes from standby to active has taken over once its output flows (checked below).
			if (now == DcState::Active && p.lastKnown == DcState::Standby)
				t.pendingTakeover = true;
			if (now != DcState::Active)
				t.pendingTakeover = false;
			if (now == DcState::Active && firstActive_.empty())
				firstActive_ = s.dc;
			t.lastKnown = now;
		}
		t.state = now;
		// A PE whose launch count went up was relaunched (crash and restart, or restartpe) since the last round.
		if (s.reachable) {
			for (const auto &pe : s.pes) {
				auto it = p.launches.find(pe.id);
				if (it != p.launches.end() && pe.launchCount > it->second) {
					ToolkitEvent e{s.tNs, since, "pe_relaunch", s.dc,
						       fmt::format("pe {} launch {} (pid {})", pe.id, pe.launchCount, pe.processId),
						       pe.id, pe.launchCount};
					out.push_back(e);
				}
				t.launches[pe.id] = pe.launchCount;
			}
		}
	}

	// Pass 2: detection (a DC's toolkit declares its remote down) and takeover (output flowing in the new active).
	for (const auto &s : round) {
		Track &t = dcs_[s.dc];
		const Track p = prev[s.dc];
		const int64_t since = p.lastTNs ? p.lastTNs : lastRoundNs_;
		if (!s.reachable) {
			t.lastTNs = s.tNs;
			continue;
		}
		auto rs = metric(s, "remoteDataCenterStatus");
		if (rs && p.remoteStatus && *p.remoteStatus != 0 && *rs == 0 && t.state != DcState::Down) {
			// The remote(s) whose job was canceled in order: the toolkit's shutdown message, not a detection.
			bool orderly = false;
			std::string remotes;
			for (const auto &[name, other] : dcs_)
				if (name != s.dc) {
					orderly = orderly || other.shutDown;
					remotes += (remotes.empty() ? "" : ",") + name;
				}
			if (!orderly)
				emit(s.tNs, since, "remote_down", s.dc, "declared " + remotes + " down");
		}
		if (rs)
			t.remoteStatus = rs;
		if (t.pendingTakeover) {
			const bool flowing = !s.sinkTuples || (p.sinkTuples && *s.sinkTuples > *p.sinkTuples);
			if (flowing) {
				t.pendingTakeover = false;
				const bool back = tookOver_ && s.dc == firstActive_;
				tookOver_ = true;
				emit(s.tNs, since, back ? "fail_back" : "takeover_complete", s.dc,
				     s.sinkTuples ? "sink delivering (" + std::to_string(*s.sinkTuples) + " tuples)" : "active");
			}
		}
		t.sinkTuples = s.sinkTuples;
		t.lastTNs = s.tNs;
	}

	// Pass 3: split brain, over every DC's latest state.
	std::string actives;
	int nActive = 0;
	for (const auto &[name, t] : dcs_)
		if (t.state == DcState::Active) {
			++nActive;
			actives += (actives.empty() ? "" : ",") + name;
		}
	if (nActive >= 2 && !splitBrain_) {
		splitBrain_ = true;
		emit(roundNs, lastRoundNs_, "split_brain", actives, "active in " + std::to_string(nActive) + " DCs");
	} else if (nActive < 2 && splitBrain_) {
		splitBrain_ = false;
		emit(roundNs, lastRoundNs_, "split_brain_end", actives, actives.empty() ? "none active" : actives + " active");
	}
	lastRoundNs_ = roundNs;
	events_.insert(events_.end(), out.begin(), out.end());
	return out;
}

DcState ToolkitView::state(const std::string &dc) const
{
	auto it = dcs_.find(dc);
	return it == dcs_.end() ? DcState::Unknown : it->second.state;
}

std::string ToolkitView::activeDc() const
{
	for (const auto &[name, t] : dcs_)
		if (t.state == DcState::Active)
			return name;
	return "";
}

} // namespace xdc::streams
