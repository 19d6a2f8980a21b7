// SPDX-License-Identifier: Apache-2.0
// The run's faults and one-shot operations (see faults.h).
#include "controller/scenario/parts/faults.h"

#include <thread>

#include "controller/scenario/parts/recording.h"
#include "controller/scenario/parts/streams.h"

namespace xdc::scenario {

bool FaultsPart::inject()
{
	const Scenario &s = c_.s;
	std::map<int64_t, std::vector<size_t>> groups, actionGroups;
	for (size_t i = 0; i < s.faults.size(); i++)
		groups[ns(s.faults[i].spec.start)].push_back(i);
	for (size_t i = 0; i < s.streamsActions.size(); i++) {
		actionGroups[ns(s.streamsActions[i].start)].push_back(i);
		groups[ns(s.streamsActions[i].start)]; // an offset with operations only still gets its turn
	}
	const int64_t injectStart = clk::wallNs() + kLeadNs;
	c_.report.phases.back().injectStartNs = injectStart;
	injectStart_ = injectStart;
	for (const auto &[offset, members] : groups) {
		const int64_t at = injectStart + offset;
		if (!c_.waited(c_.waitUntil(at - kLeadNs)))
			return false;
		applyGroup(offset, members, at);
		// Streams operations of this offset run at its instant, after the faults of the same offset are in
		// place (their apply returned verified); the operations of one offset run at once.
		auto ag = actionGroups.find(offset);
		if (c_.exit == kPassed && ag != actionGroups.end() && !runOperations(offset, ag->second, at))
			return false;
		if (c_.exit != kPassed) {
			c_.endPhase(c_.exit == kHarness ? "error" : "failed", c_.reason);
			return false;
		}
	}
	c_.endPhase("passed");
	return true;
}

// The faults of one offset, sent at once with their agreed instant `at`.
void FaultsPart::applyGroup(int64_t offset, const std::vector<size_t> &members, int64_t at)
{
	std::vector<Result<json>> results(members.size(), Error{});
	std::vector<std::thread> threads;
	std::vector<std::string> ids;
	for (size_t k = 0; k < members.size(); k++) {
		fault::FaultSpec spec = c_.s.faults[members[k]].spec;
		spec.id = fmt::format("{}.{}", c_.opt.runId, members[k] + 1);
		ids.push_back(spec.id);
		const control::FaultApplyRequest req{.spec = spec, .origin = c_.s.faults[members[k]].where,
						     .startAtNs = at};
		threads.emplace_back([this, req, &results, k] { results[k] = c_.call(req, 30000); });
	}
	for (auto &t : threads)
		t.join();
	for (size_t k = 0; k < members.size(); k++)
		c_.report.faults.push_back(applied(members[k], ids[k], offset, at, results[k]));
}

// The report entry of one fault's apply; an applied fault becomes active (reverted by recover or teardown).
ReportFault FaultsPart::applied(size_t member, const std::string &id, int64_t offset, int64_t at,
				const Result<json> &result)
{
	const auto &f = c_.s.faults[member];
	ReportFault e{.id = id, .kind = std::string(fault::kindName(f.spec.kind)), .path = f.path, .spec = f.text,
		      .offsetMs = offset / kMs, .durationMs = ns(f.spec.duration) / kMs, .plannedNs = at};
	if (!result) {
		e.status = "failed";
		e.error = result.error().message;
		c_.setVerdict(kHarness, "harness",
			      fmt::format("{}: fault {} could not be applied: {}", f.path, id, result.error().message));
		return e;
	}
	const json &r = *result;
	auto ans = control::parseAnswer<control::FaultApplyAnswer>(r);
	if (!ans) {
		e.status = "failed";
		e.error = ans.error().message;
		c_.setVerdict(kHarness, "harness", fmt::format("{}: fault {}: {}", f.path, id, ans.error().message));
		return e;
	}
	int64_t lo = INT64_MAX, hi = INT64_MIN, bound = 0;
	Active act;
	for (const auto &[agent, a] : ans->agents) {
		act.hosts.push_back(agent);
		if (a.detailed) {
			lo = std::min(lo, a.appliedNs);
			hi = std::max(hi, a.verifiedNs);
			bound = std::max(bound, a.boundNs);
		}
	}
	e.status = "applied";
	e.hosts = act.hosts;
	e.agents = r["agents"]; // the report keeps the controller's per-agent entries as they came
	if (lo <= hi) {
		e.appliedNs = lo;
		e.verifiedNs = hi;
		e.boundNs = bound;
	}
	if (ans->spreadNs)
		e.spreadNs = *ans->spreadNs;
	act.endNs = (lo <= hi ? lo : at) + ns(f.spec.duration);
	active_[id] = act;
	c_.say(fmt::format("fault {} {} in place on {} (verified; spread {:.2f} ms)", id, fault::kindName(f.spec.kind),
			   fmt::join(act.hosts, ", "), static_cast<double>(ans->spreadNs.value_or(0)) / 1e6));
	return e;
}

// The Streams operations of one offset, at its instant, all at once; false when the wait for the instant ended the
// run.
bool FaultsPart::runOperations(int64_t offset, const std::vector<size_t> &members, int64_t at)
{
	if (!c_.waited(c_.waitUntil(at)))
		return false;
	std::vector<ReportFault> entries(members.size());
	std::vector<std::thread> opThreads;
	for (size_t k = 0; k < members.size(); k++)
		opThreads.emplace_back([this, &entries, &members, k, offset, at] {
			const size_t i = members[k];
			entries[k] = c_.streams->runAction(c_.s.streamsActions[i], fmt::format("{}.s{}", c_.opt.runId, i + 1),
							   offset, at);
		});
	for (auto &t : opThreads)
		t.join();
	for (size_t k = 0; k < entries.size(); k++) {
		const auto &a = c_.s.streamsActions[members[k]];
		c_.report.faults.push_back(entries[k]);
		if (entries[k].status != "applied")
			c_.setVerdict(kHarness, "harness", fmt::format("{}: streams.{} on {} failed: {}", a.path, a.kind, a.dc,
								       entries[k].error.value_or("")));
		else
			c_.say(fmt::format("streams.{} on {} done in {:.0f} ms", a.kind, a.dc,
					   (entries[k].verifiedNs.value_or(0) - entries[k].appliedNs.value_or(0)) / 1e6));
	}
	return true;
}

bool FaultsPart::revertAll(const std::string &why)
{
	bool ok = true;
	for (auto it = active_.begin(); it != active_.end();) {
		auto r = c_.call(control::FaultRevertRequest{it->first}, 30000);
		if (!r) {
			// The controller forgets a fault once its TTL has passed (the agents reverted it on their own).
			const bool expired = r.error().code == Errc::Invalid && clk::wallNs() >= it->second.endNs - 50 * kMs;
			if (!expired) {
				ok = false;
				c_.setVerdict(kHarness, "harness",
					      fmt::format("revert of {} failed: {}", it->first, r.error().message));
			}
		} else if (auto ans = control::parseAnswer<control::FaultRevertAnswer>(*r); !ans || !ans->allVerified) {
			ok = false;
			c_.setVerdict(kHarness, "harness", fmt::format("revert of {} not verified on every host: {}", it->first,
								       (*r)["agents"].dump()));
		} else {
			c_.say(fmt::format("fault {} reverted ({})", it->first, why));
			// The agents' verified revert times: the window's end when no recording gives their records.
			int64_t last = 0;
			for (const auto &[agent, a] : ans->agents)
				last = std::max(last, a.verifiedNs);
			for (auto &f : c_.report.faults)
				if (f.id == it->first && last > 0)
					f.revertVerifiedNs = last;
		}
		it = active_.erase(it);
	}
	return ok;
}

void FaultsPart::teardown()
{
	revertAll("teardown");
}

// The fault windows as the agents' records tell them (applied / reverted on the controller's timeline). A mechanism
// whose rules expire in the kernel (nft set element timeouts) ended at its expiry even when the agent's own revert
// came a little later: a host's end is the earlier of the two.
void FaultsPart::report()
{
	const std::vector<json> &entries = c_.recording->entries();
	for (auto &f : c_.report.faults) {
		if (f.kind.rfind("streams.", 0) == 0)
			continue; // one-shot operations: their window was set when they ran
		int64_t applied = INT64_MAX, reverted = 0, bound = 0;
		std::map<std::string, int64_t> expiresOf, revertOf;
		for (const auto &e : entries) {
			if (e.value("kind", "") != "fault" || e.value("source", "") != f.id)
				continue;
			const json times = e.value("times", json::object()), tags = e.value("tags", json::object());
			const std::string ev = tags.value("event", ""), host = e.value("host", "");
			bound = std::max<int64_t>(bound, e.value("bound_ns", int64_t{0}));
			if (ev == "applied" && times.contains("applied_ns")) {
				applied = std::min<int64_t>(applied, times["applied_ns"]);
				if (times.contains("expires_ns") &&
				    tags.value("mechanism", "").find("expire in the kernel") != std::string::npos)
					expiresOf[host] = times["expires_ns"];
			}
			if (ev == "reverted" && times.contains("reverted_ns"))
				revertOf[host] = times["reverted_ns"];
		}
		for (const auto &[host, t] : revertOf) {
			auto x = expiresOf.find(host);
			reverted = std::max(reverted, x == expiresOf.end() ? t : std::min(t, x->second));
		}
		if (applied != INT64_MAX)
			f.windowStartNs = applied;
		else if (f.appliedNs)
			f.windowStartNs = f.appliedNs;
		// Without the agents' records (no recording: no probe or sampler), the end is the revert the agents
		// verified, or the planned end when the fault expired on its own before the revert.
		if (reverted)
			f.windowEndNs = reverted;
		else if (f.windowStartNs) {
			const int64_t planned = *f.windowStartNs + f.durationMs * kMs;
			f.windowEndNs = std::min(planned, f.revertVerifiedNs.value_or(planned));
		}
		f.windowBoundNs = bound;
	}
}

std::pair<int64_t, int64_t> FaultsPart::window() const
{
	int64_t start = INT64_MAX, end = 0;
	for (const auto &f : c_.report.faults)
		if (f.windowStartNs) {
			start = std::min(start, *f.windowStartNs);
			end = std::max(end, f.windowEndNs.value_or(0));
		}
	return {start, end};
}

std::map<std::string, int> FaultsPart::activePerHost() const
{
	std::map<std::string, int> perHost;
	const int64_t now = clk::wallNs();
	for (const auto &[id, f] : active_)
		if (now < f.endNs)
			for (const auto &h : f.hosts)
				perHost[h]++;
	return perHost;
}

} // namespace xdc::scenario
