// SPDX-License-Identifier: Apache-2.0
// Controller side of faults: check the typed spec (read with its request, controller/control/requests.cpp) against
// the fleet, resolve selectors, fan the typed fault commands out to agents, and keep the record behind
// `xdc fault list/revert` and `xdc halt`.
#include <algorithm>
#include <set>
#include <unordered_set>

#include "common/clock.h"
#include "common/fault/spec.h"
#include "common/log.h"
#include "common/yaml_reader.h"
#include "controller/daemon/controller.h"

namespace xdc::controller {

using namespace xdc::proto;
using control::errorJson;

namespace {

// hosts: the selector's `hosts` as a set (a list of a thousand hosts, each looked for in it per agent, was
// agents x hosts).
bool matches(const fault::Selector &s, const std::unordered_set<std::string> &hosts, const AgentRecord &a)
{
	if (s.empty())
		return false;
	if (!s.dc.empty() && s.dc != a.dc)
		return false;
	if (!s.host.empty() && s.host != a.host && s.host != a.id)
		return false;
	if (!s.hosts.empty() && !hosts.count(a.host) && !hosts.count(a.id))
		return false;
	for (const auto &[k, v] : s.labels) {
		auto it = a.labels.find(k);
		if (it == a.labels.end() || it->second != v)
			return false;
	}
	return true;
}

} // namespace

// The data addresses of an agent: those not on the interface it reaches the controller through, unless that is
// its only interface (then the controller exemption in the rules keeps the control channel open).
std::vector<std::string> dataAddresses(const AgentRecord &a)
{
	std::vector<std::string> all, data;
	for (const auto &ia : a.addresses) {
		auto eq = ia.find('=');
		if (eq == std::string::npos)
			continue;
		const std::string iface = ia.substr(0, eq), addr = ia.substr(eq + 1);
		const std::string cidr = addr + (addr.find(':') != std::string::npos ? "/128" : "/32");
		all.push_back(cidr);
		if (iface != a.mgmtIface)
			data.push_back(cidr);
	}
	return data.empty() ? all : data;
}


// Resolves a selector to live agents; an error names the key path and what exists.
Result<std::vector<std::string>> Controller::resolve(const fault::Selector &s, const std::string &path) const
{
	std::vector<std::string> out;
	std::set<std::string> dcs;
	const std::unordered_set<std::string> wanted(s.hosts.begin(), s.hosts.end());
	std::unordered_set<std::string> knownNames; // every agent's host and id
	for (const auto &[id, a] : agents_) {
		dcs.insert(a.dc);
		knownNames.insert(a.host);
		knownNames.insert(id);
		if (matches(s, wanted, a)) {
			if (!a.live)
				return makeError(Errc::Refused, "{}: agent '{}' matches but is lost", path, id);
			out.push_back(id);
		}
	}
	if (!s.dc.empty() && !dcs.count(s.dc))
		return makeError(Errc::Invalid, "{}.dc: no agent in dc '{}' (known: {})", path, s.dc, fmt::join(dcs, ", "));
	// A host no agent runs on is named with the hosts there are (and the nearest), not as an empty match.
	std::vector<std::string> hosts;
	for (const auto &[id, a] : agents_)
		hosts.push_back(a.host);
	std::sort(hosts.begin(), hosts.end());
	hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
	auto unknownHost = [&](const std::string &h, const std::string &key) -> Result<std::vector<std::string>> {
		const std::string hint = didYouMean(h, hosts);
		return makeError(Errc::Invalid, "{}.{}: no agent on host '{}' (known: {}){}", path, key, h,
				 hosts.empty() ? "none" : fmt::format("{}", fmt::join(hosts, ", ")),
				 hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint));
	};
	auto known = [&](const std::string &h) { return knownNames.count(h) != 0; };
	if (!s.host.empty() && !known(s.host))
		return unknownHost(s.host, "host");
	for (size_t i = 0; i < s.hosts.size(); i++)
		if (!known(s.hosts[i]))
			return unknownHost(s.hosts[i], fmt::format("hosts[{}]", i));
	if (out.empty())
		return makeError(Errc::Invalid, "{}: the selector matches no agent", path);
	return out;
}

void Controller::fanOut(const std::vector<std::pair<std::string, Bytes>> &calls, const std::string &command,
			std::function<void(json results)> done)
{
	struct Gather {
		json results = json::object();
		size_t left = 0;
		std::function<void(json)> done;
	};
	auto g = std::make_shared<Gather>();
	g->left = calls.size();
	g->done = std::move(done);
	if (calls.empty()) {
		g->done(g->results);
		return;
	}
	auto finish = [this, g](const std::string &agent, Result<CommandResult> r) {
		json e;
		if (!r) {
			e = {{"ok", false}, {"error", r.error().message}};
		} else if (!r->ok) {
			e = {{"ok", false}, {"error", r->message}, {"code", r->code}};
		} else {
			e = {{"ok", true}};
			e["data_bytes"] = r->data; // decoded by the caller, who knows the reply type
		}
		auto it = agents_.find(agent);
		if (it != agents_.end()) {
			const auto est = it->second.clock.estimate(clk::monoNs());
			e["offset_ns"] = est.valid ? est.offsetNs : 0;
			e["bound_ns"] = est.valid ? est.boundNs : -1;
		}
		g->results[agent] = e;
		if (--g->left == 0)
			g->done(g->results);
	};
	for (const auto &[agent, args] : calls) {
		auto s = sendCommand(agent, command, args, finish);
		if (!s)
			finish(agent, s.error());
	}
}

void Controller::pruneFaults()
{
	// A fault record outlives its end by a grace period (the agents revert at TTL), then goes.
	const int64_t now = clk::wallNs();
	for (auto it = faults_.begin(); it != faults_.end();)
		if (it->second.createdWall + (it->second.durationMs + 2000) * clk::kMs < now)
			it = faults_.erase(it);
		else
			++it;
}

void Controller::learnFaults(const std::string &agent, const std::vector<FaultInfo> &running)
{
	for (const auto &f : running) {
		auto &rec = faults_[f.id];
		if (rec.id.empty()) {
			// Learned from an agent's registration (e.g. after a controller restart). Its times are on the
			// agent's clock: close enough for `fault list`, which shows the remaining time only.
			rec.id = f.id;
			rec.kind = f.kind;
			rec.spec = f.spec;
			rec.createdWall = f.appliedNs;
			rec.durationMs = std::max<int64_t>(0, (f.expiresNs - f.appliedNs) / clk::kMs);
			log::get("faults")->info("learned running fault {} ({}) from agent {}", f.id, f.kind, agent);
		}
		if (std::find(rec.agents.begin(), rec.agents.end(), agent) == rec.agents.end())
			rec.agents.push_back(agent);
	}
}

void Controller::onFaultEvent(AgentRecord &a, const FaultEvent &e, int64_t recvWall)
{
	auto lg = log::get("faults");
	if (e.event == "revert_failed") {
		lg->error("agent {}: the revert of fault {} ({}) was not verified: {}", a.id, e.id, e.why, e.error);
		return;
	}
	if (e.event != "reverted") {
		lg->warn("agent {}: fault {}: unknown event '{}' ignored", a.id, e.id, e.event);
		return;
	}
	faultEndsSeen_++;
	// The agent no longer has the fault: neither does its record here (a record with no agent left goes), so
	// `fault list`, a new apply and a run agree with the agents at once.
	std::erase(a.runningFaults, e.id);
	if (auto it = faults_.find(e.id); it != faults_.end()) {
		std::erase(it->second.agents, a.id);
		if (it->second.agents.empty())
			faults_.erase(it);
	}
	const auto est = a.clock.estimate(clk::monoNs());
	const int64_t reverted = e.revertedNs - (est.valid ? est.offsetNs : 0);
	ended_.push_back({e.id, e.kind, a.id, e.why, reverted, recvWall});
	if (ended_.size() > kEndedKept)
		ended_.pop_front();
	lg->info("fault {} ({}) ended on agent {}: {}; learned {:.3f} ms after the revert took effect", e.id, e.kind,
		 a.id, e.why, static_cast<double>(recvWall - reverted) / 1e6);
}

void Controller::handle(const control::Peer &peerInfo, const control::FaultApplyRequest &req)
{
	// The spec was read and checked with the request (controller/control/requests.cpp); what is left here needs the
	// fleet or the clock.
	pruneFaults();
	const uint64_t peer = peerInfo.id;
	const auto *spec = &req.spec;
	const std::string &origin = req.origin;
	const bool dryRun = req.dryRun;
	// A scenario's inject phase names the instant (controller wall clock) so faults sent in separate requests
	// fire together; it must lie ahead, within the agents' start limit.
	const int64_t startAt = req.startAtNs;
	// sync=false: each agent applies when its command arrives (no start instant); fastest, with a wider spread.
	const bool sync = req.sync;
	if (startAt != 0 && (startAt < clk::wallNs() || startAt > clk::wallNs() + 10 * clk::kSec))
		return control_.reply(peer, errorJson("invalid", fmt::format(
			"start_at_ns: {} ms from now is not within the next 10 s", (startAt - clk::wallNs()) / clk::kMs)));
	// What the agents get and `fault list` shows: the spec printed from its keys (the agent parses it again).
	const std::string text = fault::toYaml(*spec);
	auto targets = resolve(spec->targets, "targets");
	if (!targets)
		return control_.reply(peer, errorJson("invalid", fmt::format("{}: {}", origin, targets.error().message)));
	std::vector<std::string> peerAgents;
	if (!spec->peers.selector.empty()) {
		auto p = resolve(spec->peers.selector, "peers");
		if (!p)
			return control_.reply(peer, errorJson("invalid", fmt::format("{}: {}", origin, p.error().message)));
		peerAgents = *p;
	}
	const std::string kind(fault::kindName(spec->kind));
	// Checks that need the fleet, before anything is applied anywhere.
	for (const auto &t : *targets) {
		const auto &caps = agents_.at(t).capabilities;
		auto has = [&](const char *c) { auto it = caps.find(c); return it != caps.end() && it->second == "yes"; };
		if (fault::needsNetem(spec->kind) && !has("qdisc.netem"))
			return control_.reply(peer, errorJson("invalid", fmt::format(
				"{}: kind: {} needs tc netem and the kernel of agent '{}' lacks sch_netem ({})", origin, kind,
				t, caps.count("qdisc.netem") ? caps.at("qdisc.netem") : "not reported")));
	}
	// A dry run shows the id the fault would get, without taking it from the next apply.
	const std::string id = spec->id.empty() ? fmt::format("f{}", dryRun ? faultSeq_ + 1 : ++faultSeq_) : spec->id;
	if (faults_.count(id) && !dryRun)
		return control_.reply(peer, errorJson("invalid", fmt::format("{}: id: a fault with id '{}' is in place", origin, id)));
	auto addrsOf = [&](const std::vector<std::string> &ids) {
		std::vector<std::string> out;
		for (const auto &i : ids)
			for (const auto &c : dataAddresses(agents_.at(i)))
				out.push_back(c);
		return out;
	};
	const int64_t durationMs = std::chrono::duration_cast<std::chrono::milliseconds>(spec->duration).count();
	auto argsFor = [&](std::vector<std::string> peers) {
		FaultApplyArgs a;
		a.id = id;
		a.spec = text;
		a.durationMs = durationMs;
		a.peers = std::move(peers);
		a.dryRun = dryRun;
		return a;
	};
	// A partition is one fault applied on both sides: targets block the peers, and peer hosts block the targets
	// (direction both only; in/out are one-sided by definition). Other network faults act on the targets' traffic
	// to and from the peers.
	std::vector<std::pair<std::string, FaultApplyArgs>> plan;
	auto peerAddrs = addrsOf(peerAgents);
	peerAddrs.insert(peerAddrs.end(), spec->peers.cidrs.begin(), spec->peers.cidrs.end());
	std::set<std::string> seen;
	for (const auto &t : *targets) {
		plan.push_back({t, argsFor(fault::isNetwork(spec->kind) ? peerAddrs : std::vector<std::string>{})});
		seen.insert(t);
	}
	if (spec->kind == fault::Kind::NetworkPartition && spec->direction == fault::Direction::Both) {
		auto targetAddrs = addrsOf(*targets);
		for (const auto &p : peerAgents)
			if (!seen.count(p)) {
				plan.push_back({p, argsFor(targetAddrs)});
				seen.insert(p);
			}
	}
	// Overlap: one fault per kind per host, and one fault on the NFQUEUE line (fault::stackable). Refused here,
	// before any agent is asked.
	if (!dryRun)
		for (const auto &[fid, f] : faults_) {
			auto other = fault::kindFromName(f.kind);
			if (!other || fault::stackable(*other, spec->kind))
				continue;
			for (const auto &a : f.agents)
				if (seen.count(a))
					return control_.reply(peer, errorJson("invalid", fmt::format(
						"{}: kind: fault '{}' ({}) is already in place on agent '{}'; {}", origin, fid,
						f.kind, a, fault::unstackableReason(*other, spec->kind))));
		}
	const FaultApplyJob job{peer, id, kind, text, dryRun, sync, durationMs, startAt, clk::wallNs()};
	// A kill cannot be taken back: on several agents, every one first checks the spec against its host (a dry
	// run resolves the matches) and the kill goes out only if all of them accept it.
	if (spec->kind == fault::Kind::ProcessKill && plan.size() > 1 && !dryRun) {
		std::vector<std::pair<std::string, Bytes>> checks;
		for (auto [a, args] : plan) {
			args.dryRun = true;
			checks.push_back({a, packBytes(args)});
		}
		fanOut(checks, "fault.apply", [this, peer, id, sends = plan, job](json results) {
			std::vector<std::string> why;
			bool refused = true;
			for (auto &[agent, r] : results.items())
				if (!r.value("ok", false)) {
					const std::string code = r.value("code", "");
					refused &= code == "invalid" || code == "unsupported" || code == "refused" || code == "exists";
					why.push_back(fmt::format("{}: {}", agent, r.value("error", "")));
				}
			if (why.empty())
				return sendApply(job, sends);
			control_.reply(peer, {{"ok", false},
					      {"error", {{"code", refused ? "invalid" : "harness"},
							 {"message", fmt::format("fault '{}' {} before any signal was sent: {}", id,
										 refused ? "refused" : "failed", fmt::join(why, "; "))}}}});
		});
		return;
	}
	sendApply(job, std::move(plan));
}

// The agents' start instants for one apply: the scenario's agreed instant, or (sync, several agents) one instant a
// margin ahead, each converted to the agent's own clock with its estimated offset; none for a dry run.
void Controller::setApplyStart(std::vector<std::pair<std::string, FaultApplyArgs>> &sends, const FaultApplyJob &job)
{
	const bool dryRun = job.dryRun, sync = job.sync;
	const int64_t startAt = job.startAt;
	// Synchronised start: every agent applies at one instant a margin ahead, converted to its own clock with the
	// estimated offset. The margin covers the slowest agent's round trip several times over.
	if (!dryRun && startAt != 0) {
		const int64_t nowMono = clk::monoNs();
		for (auto &[a, args] : sends) {
			const auto est = agents_.at(a).clock.estimate(nowMono);
			args.startAtNs = startAt + (est.valid ? est.offsetNs : 0);
		}
	} else if (!dryRun && sync && sends.size() > 1) {
		int64_t maxRtt = 0;
		const int64_t nowMono = clk::monoNs();
		for (const auto &[a, args] : sends) {
			const auto est = agents_.at(a).clock.estimate(nowMono);
			maxRtt = std::max(maxRtt, est.valid ? est.rttNs : 50 * clk::kMs);
		}
		// 150 ms floor: each agent journals (fdatasync) before it waits; agents sharing a disk (the lab) queue
		// behind each other's journal commits, measured at up to ~70 ms on a busy VM.
		const int64_t margin = std::clamp<int64_t>(4 * maxRtt + 150 * clk::kMs, 150 * clk::kMs, 2 * clk::kSec);
		const int64_t startCtl = clk::wallNs() + margin;
		for (auto &[a, args] : sends) {
			const auto est = agents_.at(a).clock.estimate(nowMono);
			args.startAtNs = startCtl + (est.valid ? est.offsetNs : 0);
		}
	}
}

// Sends one apply to its agents; the synchronised start is computed here, at the moment of sending.
void Controller::sendApply(const FaultApplyJob &job, std::vector<std::pair<std::string, FaultApplyArgs>> sends)
{
	setApplyStart(sends, job);
	std::vector<std::pair<std::string, Bytes>> calls;
	for (const auto &[a, args] : sends)
		calls.push_back({a, packBytes(args)});
	fanOut(calls, "fault.apply", [this, job](json results) { answerApply(job, std::move(results)); });
}

// Answers the peer once every agent answered an apply: all applied (recorded, with the spread of their apply
// times), or all or nothing (what did go in is reverted).
void Controller::answerApply(const FaultApplyJob &job, json results)
{
	const uint64_t peer = job.peer;
	const std::string &id = job.id, &kind = job.kind, &text = job.text;
	const bool dryRun = job.dryRun;
	const int64_t durationMs = job.durationMs;
	control::FaultApplyAnswer answer;
	answer.id = id;
	answer.kind = kind;
	answer.dryRun = dryRun;
	std::vector<std::string> applied, failed;
	for (auto &[agent, r] : results.items()) {
		auto &e = answer.agents[agent];
		e.ok = r["ok"].get<bool>();
		if (e.ok) {
			auto rep = unpackBytes<FaultApplyReply>(r["data_bytes"].get<Bytes>());
			if (rep) {
				// Agent times mapped onto the controller's timeline.
				const int64_t off = r.value("offset_ns", int64_t{0});
				e.detailed = true;
				e.mechanism = rep->mechanism;
				e.plan = rep->plan;
				e.verifiedNs = rep->verifiedNs - off;
				e.appliedNs = rep->appliedNs - off;
				e.requestedNs = rep->requestedNs - off;
				e.expiresNs = rep->expiresNs - off;
				e.lateNs = rep->lateNs;
				e.boundNs = r.value("bound_ns", int64_t{-1});
				e.readback = rep->readback;
			}
			applied.push_back(agent);
		} else {
			e.error = r.value("error", "");
			failed.push_back(agent);
		}
	}
	if (!failed.empty()) {
		// All or nothing: take back what did go in, so no host is left half-faulted.
		std::vector<std::pair<std::string, Bytes>> undo;
		if (!dryRun)
			for (const auto &a : applied)
				undo.push_back({a, packBytes(FaultRevertArgs{id})});
		if (!undo.empty())
			fanOut(undo, "fault.revert", [](json) {});
		// An agent that refused the spec (its checks against the host: matches, paths, memory, kernel
		// features) makes it a refused spec (exit 2); anything else is a failure to apply (exit 1).
		bool refused = true;
		std::vector<std::string> why;
		for (const auto &a : failed) {
			const std::string code = results[a].value("code", "");
			refused &= code == "invalid" || code == "unsupported" || code == "refused" || code == "exists";
			why.push_back(fmt::format("{}: {}", a, results[a].value("error", "")));
		}
		answer.ok = false;
		answer.error = {refused ? "invalid" : "harness",
				fmt::format("fault '{}' {} on {}{}", id, refused ? "refused" : "failed", fmt::join(why, "; "),
					    undo.empty() ? "" : "; reverted on the others")};
		return control_.reply(peer, control::toJson(answer));
	}
	if (!dryRun) {
		// An agent whose end of this fault has already arrived (a short fault, a slower agent) does not have it.
		std::vector<std::string> holding;
		for (const auto &a : applied)
			if (std::none_of(ended_.begin(), ended_.end(),
					 [&](const control::FaultListAnswer::Ended &e) {
						 return e.id == id && e.agent == a && e.learnedNs >= job.requestedWall;
					 }))
				holding.push_back(a);
		FaultRecord rec{id, kind, text, holding, clk::wallNs(), durationMs};
		faults_[id] = rec;
		log::get("faults")->info("fault {} ({}) in place on {}", id, kind, fmt::join(applied, ", "));
	}
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	for (const auto &[a, e] : answer.agents)
		if (e.detailed && !dryRun) {
			lo = std::min(lo, e.appliedNs);
			hi = std::max(hi, e.appliedNs);
		}
	if (lo <= hi)
		answer.spreadNs = hi - lo;
	control_.reply(peer, control::toJson(answer));
}

void Controller::onFaultRevert(uint64_t peer, const std::string &id, bool halt)
{
	pruneFaults();
	std::vector<std::pair<std::string, Bytes>> calls;
	if (halt) {
		for (const auto &[aid, a] : agents_)
			if (a.live)
				calls.push_back({aid, packBytes(FaultRevertArgs{"*"})});
	} else {
		auto it = faults_.find(id);
		if (it == faults_.end())
			return control_.reply(peer, errorJson("invalid", fmt::format("no fault '{}' (see xdc fault list)", id)));
		for (const auto &a : it->second.agents)
			calls.push_back({a, packBytes(FaultRevertArgs{id})});
	}
	fanOut(calls, "fault.revert", [this, peer, id, halt](json results) {
		control::FaultRevertAnswer answer;
		bool allVerified = true;
		for (auto &[agent, r] : results.items()) {
			auto &e = answer.agents[agent];
			e.ok = r["ok"].get<bool>();
			if (e.ok) {
				auto rep = unpackBytes<FaultRevertReply>(r["data_bytes"].get<Bytes>());
				if (rep) {
					e.detailed = true;
					e.reverted = rep->reverted;
					e.unverified = rep->unverified;
					e.verifiedNs = rep->verifiedNs - r.value("offset_ns", int64_t{0});
					allVerified &= rep->unverified.empty();
				}
			} else {
				e.error = r.value("error", "");
				allVerified = false;
			}
		}
		answer.allVerified = allVerified;
		if (halt)
			faults_.clear();
		else
			faults_.erase(id);
		control_.reply(peer, control::toJson(answer));
	});
}

control::FaultListAnswer Controller::faultList() const
{
	control::FaultListAnswer out;
	for (const auto &[id, f] : faults_) {
		const int64_t left = f.createdWall + f.durationMs * clk::kMs - clk::wallNs();
		out.faults.push_back({id, f.kind, f.spec, f.agents, f.createdWall, f.durationMs,
				      std::max<int64_t>(0, left / clk::kMs)});
	}
	out.ended.assign(ended_.begin(), ended_.end());
	return out;
}

} // namespace xdc::controller
