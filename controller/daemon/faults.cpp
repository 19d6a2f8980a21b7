// SPDX-License-Identifier: Apache-2.0
// Controller side of faults: parse and validate the spec, resolve selectors against the fleet, fan the typed
// fault commands out to agents, and keep the record behind `xdc fault list/revert` and `xdc halt`.
#include <set>

#include "common/clock.h"
#include "common/fault/spec.h"
#include "common/log.h"
#include "controller/daemon/controller.h"

namespace xdc::controller {

using namespace xdc::proto;

namespace {

json errorJson(const std::string &code, const std::string &message)
{
	return {{"ok", false}, {"error", {{"code", code}, {"message", message}}}};
}

bool matches(const fault::Selector &s, const AgentRecord &a)
{
	if (s.empty())
		return false;
	if (!s.dc.empty() && s.dc != a.dc)
		return false;
	if (!s.host.empty() && s.host != a.host && s.host != a.id)
		return false;
	if (!s.hosts.empty() && std::find(s.hosts.begin(), s.hosts.end(), a.host) == s.hosts.end() &&
	    std::find(s.hosts.begin(), s.hosts.end(), a.id) == s.hosts.end())
		return false;
	for (const auto &[k, v] : s.labels) {
		auto it = a.labels.find(k);
		if (it == a.labels.end() || it->second != v)
			return false;
	}
	return true;
}

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

} // namespace

// Resolves a selector to live agents; an error names the key path and what exists.
Result<std::vector<std::string>> Controller::resolve(const fault::Selector &s, const std::string &path) const
{
	std::vector<std::string> out;
	std::set<std::string> dcs;
	for (const auto &[id, a] : agents_) {
		dcs.insert(a.dc);
		if (matches(s, a)) {
			if (!a.live)
				return makeError(Errc::Refused, "{}: agent '{}' matches but is lost", path, id);
			out.push_back(id);
		}
	}
	if (!s.dc.empty() && !dcs.count(s.dc))
		return makeError(Errc::Invalid, "{}.dc: no agent in dc '{}' (known: {})", path, s.dc, fmt::join(dcs, ", "));
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

void Controller::onFaultApply(uint64_t peer, const json &req)
{
	const std::string text = req.value("spec", "");
	const std::string origin = req.value("origin", "<command line>");
	const bool dryRun = req.value("dry_run", false);
	auto spec = fault::parseSpecText(text, origin);
	if (!spec)
		return control_.reply(peer, errorJson("invalid", spec.error().message));
	if (spec->kind != fault::Kind::NetworkPartition)
		return control_.reply(peer, errorJson("invalid", fmt::format("{}: kind {} is not implemented yet (this "
							 "build applies network.partition)", origin,
							 fault::kindName(spec->kind))));
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
	const std::string id = spec->id.empty() ? fmt::format("f{}", ++faultSeq_) : spec->id;
	if (faults_.count(id) && !dryRun)
		return control_.reply(peer, errorJson("invalid", fmt::format("a fault with id '{}' is in place", id)));
	auto addrsOf = [&](const std::vector<std::string> &ids) {
		std::vector<std::string> out;
		for (const auto &i : ids)
			for (const auto &c : dataAddresses(agents_.at(i)))
				out.push_back(c);
		return out;
	};
	const std::string dirName = spec->direction == fault::Direction::In    ? "in"
				    : spec->direction == fault::Direction::Out ? "out"
									       : "both";
	auto argsFor = [&](std::vector<std::string> peers) {
		FaultApplyArgs a;
		a.id = id;
		a.kind = "network.partition";
		a.spec = text;
		a.durationMs = std::chrono::duration_cast<std::chrono::milliseconds>(spec->duration).count();
		a.peers = std::move(peers);
		a.direction = dirName;
		a.action = spec->action == fault::Action::Reject ? "reject" : "drop";
		a.dryRun = dryRun;
		return packBytes(a);
	};
	// A partition is one fault applied on both sides: targets block the peers, and peer hosts block the targets
	// (direction both only; in/out are one-sided by definition).
	std::vector<std::pair<std::string, Bytes>> calls;
	auto peerAddrs = addrsOf(peerAgents);
	peerAddrs.insert(peerAddrs.end(), spec->peers.cidrs.begin(), spec->peers.cidrs.end());
	std::set<std::string> seen;
	for (const auto &t : *targets) {
		calls.push_back({t, argsFor(peerAddrs)});
		seen.insert(t);
	}
	if (spec->direction == fault::Direction::Both) {
		auto targetAddrs = addrsOf(*targets);
		for (const auto &p : peerAgents)
			if (!seen.count(p))
				calls.push_back({p, argsFor(targetAddrs)});
	}
	const int64_t durationMs = std::chrono::duration_cast<std::chrono::milliseconds>(spec->duration).count();
	const std::string kind(fault::kindName(spec->kind));
	fanOut(calls, "fault.apply", [this, peer, id, dryRun, durationMs, kind, text](json results) {
		json out = json::object();
		std::vector<std::string> applied, failed;
		for (auto &[agent, r] : results.items()) {
			json e = {{"ok", r["ok"]}};
			if (r["ok"].get<bool>()) {
				auto rep = unpackBytes<FaultApplyReply>(r["data_bytes"].get<Bytes>());
				if (rep) {
					const int64_t off = r["offset_ns"];
					e["mechanism"] = rep->mechanism;
					if (dryRun) {
						e["plan"] = rep->plan;
					} else {
						// Agent times mapped onto the controller's timeline.
						e["verified_ns"] = rep->verifiedNs - off;
						e["applied_ns"] = rep->appliedNs - off;
						e["requested_ns"] = rep->requestedNs - off;
						e["bound_ns"] = r["bound_ns"];
						e["readback"] = rep->readback;
					}
				}
				applied.push_back(agent);
			} else {
				e["error"] = r["error"];
				failed.push_back(agent);
			}
			out[agent] = e;
		}
		if (!failed.empty() && !dryRun) {
			// All or nothing: take back what did go in, so no host is left half-partitioned.
			std::vector<std::pair<std::string, Bytes>> undo;
			for (const auto &a : applied)
				undo.push_back({a, packBytes(FaultRevertArgs{id})});
			fanOut(undo, "fault.revert", [](json) {});
			return control_.reply(peer, {{"ok", false},
						     {"error", {{"code", "harness"},
								{"message", fmt::format("fault '{}' failed on {}; reverted on "
											"the others", id, fmt::join(failed, ", "))}}},
						     {"agents", out}});
		}
		if (!dryRun) {
			FaultRecord rec{id, kind, text, applied, clk::wallNs(), durationMs};
			faults_[id] = rec;
			log::get("faults")->info("fault {} ({}) in place on {}", id, kind, fmt::join(applied, ", "));
		}
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		for (const auto &[a, e] : out.items())
			if (e.contains("verified_ns")) {
				lo = std::min<int64_t>(lo, e["verified_ns"]);
				hi = std::max<int64_t>(hi, e["verified_ns"]);
			}
		json reply = {{"ok", true}, {"id", id}, {"kind", kind}, {"dry_run", dryRun}, {"agents", out}};
		if (lo <= hi)
			reply["spread_ns"] = hi - lo;
		control_.reply(peer, reply);
	});
}

void Controller::onFaultRevert(uint64_t peer, const json &req, bool halt)
{
	std::vector<std::pair<std::string, Bytes>> calls;
	std::string id = halt ? "*" : req.value("id", "");
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
		json out = json::object();
		bool allVerified = true;
		for (auto &[agent, r] : results.items()) {
			json e = {{"ok", r["ok"]}};
			if (r["ok"].get<bool>()) {
				auto rep = unpackBytes<FaultRevertReply>(r["data_bytes"].get<Bytes>());
				if (rep) {
					e["reverted"] = rep->reverted;
					e["unverified"] = rep->unverified;
					e["verified_ns"] = rep->verifiedNs - r["offset_ns"].get<int64_t>();
					allVerified &= rep->unverified.empty();
				}
			} else {
				e["error"] = r["error"];
				allVerified = false;
			}
			out[agent] = e;
		}
		if (halt)
			faults_.clear();
		else
			faults_.erase(id);
		control_.reply(peer, {{"ok", true}, {"all_verified", allVerified}, {"agents", out}});
	});
}

json Controller::faultsJson() const
{
	json arr = json::array();
	for (const auto &[id, f] : faults_) {
		const int64_t left = f.createdWall + f.durationMs * clk::kMs - clk::wallNs();
		arr.push_back({{"id", id}, {"kind", f.kind}, {"agents", f.agents}, {"spec", f.spec},
			       {"created_ns", f.createdWall}, {"duration_ms", f.durationMs},
			       {"remaining_ms", std::max<int64_t>(0, left / clk::kMs)}});
	}
	return arr;
}

} // namespace xdc::controller
