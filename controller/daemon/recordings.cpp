// SPDX-License-Identifier: Apache-2.0
// Controller side of recordings: validate and resolve sampler specs, start them on the agents, take their batches
// (acking cumulatively), sample every agent's clock estimate once a second, stop, drain and write the bundle.
#include <arpa/inet.h>
#include <set>

#include "common/clock.h"
#include "common/evidence/spec.h"
#include "common/log.h"
#include "common/yaml_reader.h"
#include "controller/control/answers.h"
#include "controller/daemon/controller.h"

namespace xdc::controller {

using namespace xdc::proto;
using control::errorJson;

namespace {

bool isAddress(const std::string &h)
{
	unsigned char buf[16];
	return ::inet_pton(AF_INET, h.c_str(), buf) == 1 || ::inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

std::string stripPrefix(const std::string &cidr) { return cidr.substr(0, cidr.find('/')); }

// How long the controller waits, after the agents stopped, for samples still in flight (a healing partition, a
// spool being drained) before it writes the bundle with whatever gaps remain.
constexpr int64_t kDefaultDrainMs = 30000;
// Agents stop on their own this long after the controller would have (a controller that died mid-recording).
constexpr int64_t kAgentGraceMs = 30000;

} // namespace

Result<std::string> Controller::resolveTarget(const std::string &kind, const std::string &target,
					      const std::string &path)
{
	auto byName = [&](const std::string &name) -> Result<std::string> {
		std::vector<std::string> names;
		for (const auto &[id, a] : agents_) {
			names.push_back(a.host);
			if (a.host == name || id == name) {
				auto addrs = dataAddresses(a);
				if (addrs.empty())
					return makeError(Errc::Invalid, "{}.target: agent '{}' reported no address", path, id);
				return stripPrefix(addrs.front());
			}
		}
		const std::string hint = didYouMean(name, names);
		return makeError(Errc::Invalid, "{}.target: '{}' is neither an IP address nor a known host{}", path, name,
				 hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
	};
	if (kind == "probe.tcp") {
		auto hp = xdc::evidence::splitHostPort(target);
		if (!hp)
			return makeError(Errc::Invalid, "{}.target: {}", path, hp.error().message);
		if (isAddress(hp->host))
			return target;
		auto addr = byName(hp->host);
		if (!addr)
			return addr.error();
		return addr->find(':') != std::string::npos ? fmt::format("[{}]:{}", *addr, hp->port)
							    : fmt::format("{}:{}", *addr, hp->port);
	}
	if (kind == "probe.http") {
		// scheme://host[:port]/...: only the host part may be a fleet name.
		const auto s = target.find("://");
		if (s == std::string::npos)
			return target;
		const size_t hs = s + 3;
		if (hs < target.size() && target[hs] == '[')
			return target;
		size_t he = target.find_first_of(":/?#", hs);
		if (he == std::string::npos)
			he = target.size();
		const std::string host = target.substr(hs, he - hs);
		if (isAddress(host))
			return target;
		bool known = false;
		for (const auto &[id, a] : agents_)
			known |= a.host == host || id == host;
		if (!known)
			return target; // a real DNS name (the agent resolves it)
		auto addr = byName(host);
		if (!addr)
			return addr.error();
		const std::string a = addr->find(':') != std::string::npos ? "[" + *addr + "]" : *addr;
		return target.substr(0, hs) + a + target.substr(he);
	}
	return target;
}

void Controller::handle(const control::Peer &peerInfo, const control::RecordStartRequest &req)
{
	auto lg = log::get("evidence");
	const uint64_t peer = peerInfo.id;
	const std::string &out = req.out;
	const int64_t forMs = req.forMs, maxMs = req.maxMs;
	const uint64_t memorySamples = req.memorySamples;
	std::string id = req.name;
	if (id.empty()) {
		const time_t now = clk::wallNs() / clk::kSec;
		tm t{};
		gmtime_r(&now, &t);
		char buf[32];
		strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &t);
		id = fmt::format("r{}-{}", buf, ++recordingSeq_);
	}
	if (recordings_.count(id))
		return control_.reply(peer, errorJson("invalid", fmt::format("name: recording '{}' is running", id)));

	// Parse, resolve and group the specs per agent.
	std::map<std::string, std::vector<std::string>> perAgent;
	std::map<std::string, evidence::Recording::HostInfo> infos;
	json specsJson = json::array();
	for (const auto &item : req.specs) {
		const std::string &text = item.spec, &origin = item.origin;
		auto spec = xdc::evidence::parseSamplerText(text, origin);
		if (!spec)
			return control_.reply(peer, errorJson("invalid", spec.error().message));
		auto targets = resolve(spec->on, origin + ": on");
		if (!targets)
			return control_.reply(peer, errorJson("invalid", targets.error().message));
		const std::string kind(xdc::evidence::samplerKindName(spec->kind));
		if (!spec->target.empty()) {
			auto t = resolveTarget(kind, spec->target, origin);
			if (!t)
				return control_.reply(peer, errorJson("invalid", t.error().message));
			spec->target = *t;
		}
		const std::string resolvedText = xdc::evidence::toYaml(*spec);
		specsJson.push_back({{"name", spec->name}, {"kind", kind}, {"spec", text}, {"resolved", resolvedText},
				     {"agents", *targets}});
		for (const auto &a : *targets) {
			auto &info = infos[a];
			if (std::find(info.samplers.begin(), info.samplers.end(), spec->name) != info.samplers.end())
				return control_.reply(peer, errorJson("invalid", fmt::format(
					"{}: name '{}' is used twice on agent '{}' (give each spec a distinct name:)", origin,
					spec->name, a)));
			info.agent = a;
			info.host = agents_.at(a).host;
			info.dc = agents_.at(a).dc;
			info.samplers.push_back(spec->name);
			info.intervalNs[spec->name] = spec->interval.count();
			info.kinds[spec->name] = kind;
			perAgent[a].push_back(resolvedText);
		}
	}
	std::vector<evidence::Recording::HostInfo> hostList;
	for (const auto &[a, info] : infos)
		hostList.push_back(info);
	auto rec = std::make_unique<evidence::Recording>(id, out);
	if (auto o = rec->open(hostList, specsJson, clk::wallNs()); !o)
		return control_.reply(peer, errorJson("invalid", o.error().message));

	ActiveRecording ar;
	ar.rec = std::move(rec);
	ar.startMono = clk::monoNs();
	ar.endMono = forMs > 0 ? ar.startMono + forMs * clk::kMs : ar.startMono + maxMs * clk::kMs;
	ar.nextClockMono = ar.startMono;
	recordings_[id] = std::move(ar);
	const int64_t agentMax = (forMs > 0 ? forMs : maxMs) + kAgentGraceMs;
	std::vector<std::pair<std::string, Bytes>> calls;
	for (const auto &[a, specs] : perAgent) {
		EvidenceStartArgs args;
		args.recording = id;
		args.specs = specs;
		args.maxDurationMs = agentMax;
		args.memorySamples = memorySamples;
		calls.push_back({a, packBytes(args)});
	}
	fanOut(calls, "evidence.start", [this, peer, id, out](json results) {
		std::vector<std::string> why;
		json agentsOut = json::object();
		for (auto &[agent, r] : results.items()) {
			if (!r.value("ok", false))
				why.push_back(fmt::format("{}: {}", agent, r.value("error", "")));
			agentsOut[agent] = {{"ok", r.value("ok", false)}};
			if (r.contains("error"))
				agentsOut[agent]["error"] = r["error"];
		}
		auto it = recordings_.find(id);
		if (it == recordings_.end())
			return control_.reply(peer, errorJson("harness", "recording vanished while starting"));
		if (!why.empty()) {
			// All or nothing: stop it where it started, and leave no half bundle behind.
			std::vector<std::pair<std::string, Bytes>> undo;
			for (auto &[agent, r] : results.items())
				if (r.value("ok", false))
					undo.push_back({agent, packBytes(EvidenceStopArgs{id})});
			fanOut(undo, "evidence.stop", [](json) {});
			recordings_.erase(it);
			::rmdir((out + "/hosts").c_str());
			return control_.reply(peer, {{"ok", false},
						     {"error", {{"code", "invalid"},
								{"message", fmt::format("recording refused: {}", fmt::join(why, "; "))}}},
						     {"agents", agentsOut}});
		}
		log::get("evidence")->info("recording {} started on {} agents -> {}", id, results.size(), out);
		control::RecordStartAnswer answer{id, out, {}, clk::wallNs()};
		for (auto &[agent, r] : results.items())
			answer.agents[agent] = true;
		control_.reply(peer, control::toJson(answer));
	});
}

void Controller::handle(const control::Peer &peerInfo, const control::RecordStatusRequest &req)
{
	const uint64_t peer = peerInfo.id;
	const std::string &id = req.recording;
	if (id.empty()) {
		json all = json::array();
		for (const auto &[rid, ar] : recordings_)
			all.push_back(ar.rec->status(clk::wallNs()));
		return control_.reply(peer, control::toJson(control::RecordStatusAnswer{std::nullopt, all}));
	}
	auto it = recordings_.find(id);
	if (it == recordings_.end())
		return control_.reply(peer, errorJson("invalid", fmt::format("no recording '{}' is running", id)));
	json st = it->second.rec->status(clk::wallNs(), req.windowMs * clk::kMs, req.windowEndNs);
	st["stopping"] = it->second.stopping;
	control_.reply(peer, control::toJson(control::RecordStatusAnswer{st, std::nullopt}));
}

void Controller::handle(const control::Peer &peerInfo, const control::RecordStopRequest &req)
{
	const uint64_t peer = peerInfo.id;
	const std::string &id = req.recording;
	auto it = recordings_.find(id);
	if (it == recordings_.end()) {
		auto f = finished_.find(id);
		if (f != finished_.end())
			return control_.reply(peer, f->second);
		return control_.reply(peer, errorJson("invalid", fmt::format("no recording '{}' is running", id)));
	}
	const int64_t drainMs = req.drainMs;
	it->second.drainDeadlineMono = clk::monoNs() + std::clamp<int64_t>(drainMs, 0, 600000) * clk::kMs;
	stopRecording(id, peer, "stop requested");
}

void Controller::stopRecording(const std::string &id, std::optional<uint64_t> peer, const std::string &why)
{
	auto it = recordings_.find(id);
	if (it == recordings_.end())
		return;
	ActiveRecording &ar = it->second;
	if (peer)
		ar.waiters.push_back(*peer);
	if (ar.stopping)
		return;
	ar.stopping = true;
	ar.stopReason = why;
	if (ar.drainDeadlineMono == 0)
		ar.drainDeadlineMono = clk::monoNs() + kDefaultDrainMs * clk::kMs;
	log::get("evidence")->info("recording {}: stopping ({})", id, why);
	std::vector<std::pair<std::string, Bytes>> calls;
	for (const auto &a : ar.rec->agents())
		calls.push_back({a, packBytes(EvidenceStopArgs{id})});
	fanOut(calls, "evidence.stop", [this, id](json results) {
		auto rit = recordings_.find(id);
		if (rit == recordings_.end())
			return;
		for (auto &[agent, r] : results.items()) {
			if (!r.value("ok", false)) {
				rit->second.rec->stopFailed(agent, r.value("error", "no answer"));
				continue;
			}
			auto rep = unpackBytes<EvidenceStopReply>(r["data_bytes"].get<Bytes>());
			if (!rep)
				rit->second.rec->stopFailed(agent, rep.error().message);
			else
				rit->second.rec->stopped(agent, *rep);
		}
		if (rit->second.rec->drained())
			finishRecording(id);
	});
}

void Controller::finishRecording(const std::string &id)
{
	auto it = recordings_.find(id);
	if (it == recordings_.end())
		return;
	ActiveRecording ar = std::move(it->second);
	recordings_.erase(it);
	auto meta = ar.rec->finalize(clk::wallNs());
	json reply;
	if (!meta) {
		log::get("evidence")->error("recording {}: {}", id, meta.error().message);
		reply = errorJson("harness", meta.error().message);
	} else {
		log::get("evidence")->info("recording {} written to {} ({})", id, ar.rec->dir(),
					   (*meta)["complete"].get<bool>() ? "complete" : "WITH GAPS");
		reply = control::toJson(control::RecordStopAnswer{id, ar.rec->dir(), *meta});
	}
	for (auto p : ar.waiters)
		control_.reply(p, reply);
	finished_[id] = reply;
	finishedOrder_.push_back(id);
	while (finishedOrder_.size() > 16) {
		finished_.erase(finishedOrder_.front());
		finishedOrder_.pop_front();
	}
}

void Controller::onEvidenceBatch(AgentRecord &a, const Frame &f)
{
	auto b = decodeBody<EvidenceBatch>(f.body);
	if (!b) {
		drops_.add(Drop::BadBody);
		return;
	}
	uint64_t ack = 0;
	auto it = recordings_.find(b->recording);
	if (it != recordings_.end() && it->second.rec->hasAgent(a.id)) {
		ack = it->second.rec->ingest(a.id, *b);
	} else {
		// A recording this controller does not run (finished, or from before a restart): ack it so the agent frees
		// its buffers, and say so once.
		for (const auto &s : b->samples)
			ack = std::max(ack, s.seq);
		auto &logged = unknownRecordingLogged_[b->recording];
		if (logged == 0) {
			logged = 1;
			log::get("evidence")->warn("agent {} sent samples of recording '{}', which is not running here; "
						   "discarded", a.id, b->recording);
		}
	}
	if (ack)
		sendMsg(a.routingId, EvidenceAck{b->recording, ack}, a.proto);
	if (it != recordings_.end() && it->second.stopping && it->second.rec->drained())
		finishRecording(b->recording);
}

int64_t Controller::tickRecordings(int64_t nowMono)
{
	int64_t next = INT64_MAX;
	std::vector<std::string> toStop, toFinish;
	for (auto &[id, ar] : recordings_) {
		if (nowMono >= ar.nextClockMono) {
			const int64_t wall = clk::wallNs();
			for (const auto &agent : ar.rec->agents()) {
				auto ait = agents_.find(agent);
				if (ait == agents_.end())
					continue;
				const auto est = ait->second.clock.estimate(nowMono);
				ar.rec->clock(agent, {wall, est.offsetNs, est.valid ? est.boundNs : -1, est.rttNs});
			}
			ar.nextClockMono = nowMono + clk::kSec;
		}
		next = std::min(next, ar.nextClockMono);
		if (!ar.stopping && nowMono >= ar.endMono)
			toStop.push_back(id);
		else if (!ar.stopping)
			next = std::min(next, ar.endMono);
		if (ar.stopping && ar.drainDeadlineMono && nowMono >= ar.drainDeadlineMono)
			toFinish.push_back(id);
		else if (ar.stopping && ar.drainDeadlineMono)
			next = std::min(next, ar.drainDeadlineMono);
	}
	for (const auto &id : toStop)
		stopRecording(id, std::nullopt, "its duration elapsed");
	for (const auto &id : toFinish) {
		log::get("evidence")->warn("recording {}: drain deadline passed; writing the bundle with the gaps left", id);
		finishRecording(id);
	}
	return next;
}

} // namespace xdc::controller
