// SPDX-License-Identifier: Apache-2.0
// Controller event loop.
#include "controller/daemon/controller.h"

#include <fmt/ranges.h>
#include <poll.h>
#include <unistd.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "common/log.h"
#include "xdc_config.h"

namespace xdc::controller {

using namespace xdc::proto;
using control::errorJson;

namespace {

std::string hexId(uint64_t v)
{
	return fmt::format("{:016x}", v);
}


// data.generate.stop's reply for the control peer: the generator's figures, times on the controller's timeline.
Result<json> renderGenerateStop(const std::string &agent, const Bytes &data, int64_t off, int64_t bound)
{
	auto rep = unpackBytes<DataGenerateStopReply>(data);
	if (!rep)
		return rep.error();
	json changes = json::array();
	for (size_t i = 0; i < rep->changeNs.size() && i < rep->changeSource.size(); i++)
		changes.push_back({{"t_ns", rep->changeNs[i] - off}, {"source", rep->changeSource[i]}});
	json sent = json::object(), times = json::object();
	for (const auto &kv : rep->sentPerKey)
		sent[std::to_string(kv.first)] = kv.second;
	// Delta-encoded as the agent sent them: the first is the agent's wall clock (offset_ns says how far it is from
	// the controller's).
	for (const auto &kv : rep->sendTimes)
		times[std::to_string(kv.first)] = kv.second;
	return json{{"ok", true}, {"agent", agent}, {"offset_ns", off}, {"bound_ns", bound},
		    {"generated", rep->generated}, {"accepted", rep->accepted},
		    {"refused_batches", rep->refusedBatches}, {"failed_batches", rep->failedBatches},
		    {"uncertain", rep->uncertain}, {"backlog", rep->backlog}, {"switches", rep->switches},
		    {"fell_behind", rep->fellBehind}, {"expired", rep->expired}, {"per_source", rep->perSource},
		    {"unwritten", rep->unwritten},
		    {"source_changes", changes}, {"last_error", rep->lastError}, {"sent_per_key", sent},
		    {"send_times_delta", times}, {"times_omitted", rep->timesOmitted},
		    {"started_ns", rep->startedNs - off}, {"stopped_ns", rep->stoppedNs - off},
		    {"agent_started_ns", rep->startedNs}, {"agent_stopped_ns", rep->stoppedNs}};
}

} // namespace

Controller::Controller(ControllerConfig cfg) : cfg_(std::move(cfg)), ctx_(1), rng_(std::random_device{}())
{
	controllerId_ = hexId(rng_()).substr(0, 12);
	startWall_ = clk::wallNs();
}

Controller::~Controller()
{
	monitor_.reset();
	router_.reset();
	zap_.reset();
}

Result<void> Controller::start()
{
	auto lg = log::get("controller");
	transport::KeyPair kp;
	if (!cfg_.insecure) {
		auto k = transport::loadKeyPair(cfg_.keyFile);
		if (!k)
			return k.error().context("controller key");
		kp = *k;
		auto allow = transport::loadAllowList(cfg_.allowFile);
		if (!allow)
			return allow.error();
		// The ZAP handler must exist before the CURVE server socket: without it libzmq accepts any client
		// that knows our public key.
		for (const auto &[key, id] : allow->idByKey)
			allowedIds_.insert(id);
		auto z = transport::ZapHandler::create(ctx_, *allow);
		if (!z)
			return z.error().context("refusing to start with CURVE but without ZAP");
		zap_ = std::move(*z);
		lg->info("controller {} key {}; {} agent keys allowed", controllerId_,
			 transport::fingerprint(kp.publicKey), allow->idByKey.size());
	} else {
		lg->warn("INSECURE: CURVE and the agent allow-list are off; any host that reaches {} can register as "
			 "any agent", cfg_.listen);
	}
	try {
		router_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::router);
		transport::SocketOptions so;
		so.maxFrame = cfg_.maxFrame;
		transport::applyCommon(*router_, so);
		router_->set(zmq::sockopt::backlog, so.backlog);
		router_->set(zmq::sockopt::router_mandatory, 1);
		if (!cfg_.insecure)
			transport::makeCurveServer(*router_, kp.secretKey);
		monitor_ = std::make_unique<transport::Monitor>(
			ctx_, *router_, "controller",
			ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
				ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
				ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
		router_->bind(cfg_.listen);
	} catch (const zmq::error_t &e) {
		return makeError(Errc::Io, "cannot listen on {}: {}", cfg_.listen, e.what());
	}
	auto dir = cfg_.control.substr(0, cfg_.control.rfind('/'));
	if (!dir.empty())
		::mkdir(dir.c_str(), 0755);
	XDC_TRY(control_.listen(cfg_.control, static_cast<mode_t>(cfg_.controlMode), cfg_.controlGroup));
	control_.setHandler([this](const control::Peer &p, const json &r) {
		// A request with a field of the wrong type is the client's error, never the daemon's end.
		try {
			onControl(p, r);
		} catch (const json::exception &e) {
			control_.reply(p.id, errorJson("invalid", fmt::format("bad request: {}", e.what())));
		}
	});
	lg->info("listening for agents on {}, console on {}", cfg_.listen, cfg_.control);
	return success();
}

template<typename T>
void Controller::sendMsg(const std::string &routingId, const T &msg, uint8_t version)
{
	Header h;
	h.version = version;
	h.id = ++msgId_;
	h.sender = "controller";
	h.wallNs = clk::wallNs();
	h.monoNs = clk::monoNs();
	sendTo(routingId, encode(msg, h));
}
// Used from recordings.cpp.
template void Controller::sendMsg<EvidenceAck>(const std::string &, const EvidenceAck &, uint8_t);

void Controller::sendTo(const std::string &routingId, const std::string &bytes)
{
	try {
		router_->send(zmq::buffer(routingId), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
		if (!router_->send(zmq::buffer(bytes), zmq::send_flags::dontwait))
			transportEvents_["send_hwm_drops"]++;
	} catch (const zmq::error_t &e) {
		// EHOSTUNREACH: the peer is gone (router_mandatory tells us instead of dropping silently).
		transportEvents_["send_unroutable"]++;
	}
}

Result<json> Controller::reloadAllowList()
{
	if (cfg_.insecure || !zap_)
		return makeError(Errc::Invalid, "the controller runs without an allow-list (--insecure)");
	auto allow = transport::loadAllowList(cfg_.allowFile);
	if (!allow)
		return allow.error().context("allow-list not reloaded, the old one stays in force");
	std::unordered_set<std::string> ids;
	for (const auto &[key, id] : allow->idByKey)
		ids.insert(id);
	json added = json::array(), removed = json::array();
	for (const auto &id : ids)
		if (!allowedIds_.count(id))
			added.push_back(id);
	for (const auto &id : allowedIds_)
		if (!ids.count(id))
			removed.push_back(id);
	const size_t n = allow->idByKey.size();
	zap_->setAllowList(std::move(*allow));
	allowedIds_ = std::move(ids);
	for (const auto &j : removed) {
		const std::string id = j.get<std::string>();
		auto it = agents_.find(id);
		if (it == agents_.end())
			continue;
		markLost(it->second, "key removed from the controller's allow-list");
		idByRouting_.erase(it->second.routingId);
		sendMsg(it->second.routingId, Bye{"key removed from the controller's allow-list"});
		it->second.routingId.clear();
	}
	log::get("controller")->info("allow-list reloaded from {}: {} keys, added [{}], removed [{}]", cfg_.allowFile,
				     n, fmt::join(added.get<std::vector<std::string>>(), ","),
				     fmt::join(removed.get<std::vector<std::string>>(), ","));
	return json{{"allowed", n}, {"added", added}, {"removed", removed}, {"file", cfg_.allowFile}};
}

void Controller::markLost(AgentRecord &a, const std::string &reason)
{
	if (!a.live)
		return;
	a.live = false;
	a.lostReason = reason;
	a.stateSinceWall = clk::wallNs();
	log::get("fleet")->warn("agent {} ({}/{}) lost: {}", a.id, a.dc, a.host, reason);
	for (auto it = pending_.begin(); it != pending_.end();) {
		if (it->second.agent == a.id) {
			auto cb = std::move(it->second.cb);
			it = pending_.erase(it);
			cb(a.id, makeError(Errc::Refused, "agent {} lost: {}", a.id, reason));
		} else {
			++it;
		}
	}
}

void Controller::onHello(const std::string &routingId, const std::string &zapUser, const Frame &f)
{
	auto lg = log::get("fleet");
	auto hello = decodeBody<Hello>(f.body);
	if (!hello) {
		drops_.add(Drop::BadBody);
		return;
	}
	Welcome w;
	w.controllerId = controllerId_;
	w.heartbeatMs = cfg_.heartbeat.count();
	w.leaseMs = cfg_.lease.count();
	// Identity comes from the key the transport authenticated, never from what the message claims.
	if (!cfg_.insecure && hello->agentId != zapUser) {
		w.accepted = false;
		w.reason = fmt::format("this key is allowed as agent '{}' and cannot register as '{}'", zapUser,
				       hello->agentId);
		const int64_t now = clk::monoNs();
		auto &last = refusalLogged_[zapUser];
		if (last == 0 || now - last > 60 * clk::kSec) {
			lg->warn("refused registration: {} (logged once a minute per key)", w.reason);
			last = now;
		}
		drops_.add(Drop::Unauthorized);
		sendMsg(routingId, w, f.header.version);
		return;
	}
	if (hello->agentId.empty() || hello->dc.empty()) {
		w.accepted = false;
		w.reason = "agent id and dc must not be empty";
		drops_.add(Drop::BadBody);
		lg->warn("refused registration from {}: {}", zapUser.empty() ? "unknown agent" : zapUser, w.reason);
		sendMsg(routingId, w, f.header.version);
		return;
	}
	const uint8_t top = std::min<uint8_t>(kVersion, hello->protoMax);
	if (top < kMinVersion || hello->protoMin > kVersion) {
		w.accepted = false;
		w.reason = fmt::format("agent speaks protocol {}..{}, controller {}..{}", hello->protoMin,
				       hello->protoMax, kMinVersion, kVersion);
		lg->warn("refused agent {}: {}", hello->agentId, w.reason);
		sendMsg(routingId, w, f.header.version);
		return;
	}
	auto &a = agents_[hello->agentId];
	const bool wasLive = a.live;
	if (!a.routingId.empty() && a.routingId != routingId)
		idByRouting_.erase(a.routingId);
	a.id = hello->agentId;
	a.host = hello->host;
	a.dc = hello->dc;
	a.labels = hello->labels;
	a.version = hello->version;
	a.capabilities = hello->capabilities;
	a.pid = hello->pid;
	a.addresses = hello->addresses;
	a.mgmtIface = hello->mgmtIface;
	a.runningFaults.clear();
	for (const auto &rf : hello->runningFaults)
		a.runningFaults.push_back(rf.id);
	learnFaults(a.id, hello->runningFaults);
	a.startedNs = hello->startedNs;
	a.proto = top;
	a.routingId = routingId;
	a.lastHeardMono = clk::monoNs();
	a.registrations++;
	if (!wasLive) {
		a.live = true;
		a.lostReason.clear();
		a.stateSinceWall = clk::wallNs();
	}
	if (a.registeredWall == 0)
		a.registeredWall = clk::wallNs();
	// A burst of clock pings gives a usable offset within a fraction of a second of registration.
	a.burstLeft = 8;
	a.nextPingMono = clk::monoNs();
	nextTick_ = a.nextPingMono;
	idByRouting_[routingId] = a.id;
	w.accepted = true;
	w.protoVersion = top;
	sendMsg(routingId, w, top);
	lg->info("agent {} registered (dc {}, host {}, version {}, protocol {}, pid {}){}", a.id, a.dc, a.host,
		 a.version, top, a.pid, wasLive ? " again" : "");
}

void Controller::onAgentMessage(std::vector<zmq::message_t> &parts, int64_t recvWall)
{
	if (parts.size() != 2) {
		drops_.add(Drop::Malformed);
		return;
	}
	const std::string routingId = parts[0].to_string();
	zmq::message_t &data = parts[1];
	std::string zapUser;
	if (!cfg_.insecure) {
		try {
			const char *u = data.gets("User-Id");
			zapUser = u ? u : "";
		} catch (const zmq::error_t &) {
		}
	}
	if (!cfg_.insecure && !allowedIds_.count(zapUser)) {
		// The session was authenticated under a key a reload has since removed.
		drops_.add(Drop::Unauthorized);
		sendMsg(routingId, Bye{"key removed from the controller's allow-list"});
		return;
	}
	auto fr = decodeFrame({static_cast<const uint8_t *>(data.data()), data.size()}, cfg_.maxFrame);
	if (!fr.ok()) {
		drops_.add(fr.error().reason);
		// A Hello of a version we do not speak still deserves an answer the agent can log.
		if (fr.error().reason == Drop::BadVersion && data.size() >= 4 &&
		    static_cast<const uint8_t *>(data.data())[3] == static_cast<uint8_t>(MsgType::Hello)) {
			Welcome w;
			w.accepted = false;
			w.controllerId = controllerId_;
			w.reason = fr.error().detail;
			log::get("fleet")->warn("refused registration from {}: {}",
						zapUser.empty() ? "unknown agent" : zapUser, w.reason);
			sendMsg(routingId, w);
		}
		return;
	}
	const Frame &f = fr.frame();
	if (f.header.type == MsgType::Hello) {
		onHello(routingId, zapUser, f);
		return;
	}
	auto rit = idByRouting_.find(routingId);
	if (rit == idByRouting_.end() || (!cfg_.insecure && rit->second != zapUser)) {
		drops_.add(Drop::Unauthorized);
		sendMsg(routingId, Bye{"not registered: send hello"});
		return;
	}
	AgentRecord &a = agents_[rit->second];
	a.lastHeardMono = clk::monoNs();
	if (!a.live) {
		a.live = true;
		a.lostReason.clear();
		a.stateSinceWall = clk::wallNs();
		log::get("fleet")->info("agent {} live again", a.id);
	}
	switch (f.header.type) {
	case MsgType::Heartbeat: {
		auto hb = decodeBody<Heartbeat>(f.body);
		if (!hb) {
			drops_.add(Drop::BadBody);
			return;
		}
		a.agentDrops = hb->drops;
		a.rssBytes = hb->rssBytes;
		sendMsg(routingId, HeartbeatAck{hb->seq, controllerId_, cfg_.lease.count()}, a.proto);
		return;
	}
	case MsgType::ClockPong: {
		auto p = decodeBody<ClockPong>(f.body);
		if (!p) {
			drops_.add(Drop::BadBody);
			return;
		}
		a.clock.add({p->t1, p->t2, p->t3, recvWall}, clk::monoNs());
		return;
	}
	case MsgType::Result: {
		auto r = decodeBody<CommandResult>(f.body);
		if (!r) {
			drops_.add(Drop::BadBody);
			return;
		}
		auto it = pending_.find(r->commandId);
		if (it == pending_.end() || it->second.agent != a.id) {
			drops_.add(Drop::Unexpected);
			return;
		}
		auto cb = std::move(it->second.cb);
		pending_.erase(it);
		cb(a.id, std::move(*r));
		return;
	}
	case MsgType::EvidenceBatch:
		onEvidenceBatch(a, f);
		return;
	case MsgType::Bye: {
		auto b = decodeBody<Bye>(f.body);
		markLost(a, b ? "said goodbye: " + b->reason : "said goodbye");
		idByRouting_.erase(routingId);
		a.routingId.clear();
		return;
	}
	default:
		drops_.add(Drop::Unexpected);
		return;
	}
}

Result<void> Controller::sendCommand(const std::string &agentId, const std::string &name, Bytes args,
				     CommandCallback cb)
{
	auto it = agents_.find(agentId);
	if (it == agents_.end())
		return makeError(Errc::NotFound, "no agent '{}'", agentId);
	AgentRecord &a = it->second;
	if (!a.live || a.routingId.empty())
		return makeError(Errc::Refused, "agent '{}' is not live", agentId);
	Command c;
	c.id = ++commandId_;
	c.nonce = rng_();
	// The deadline travels on the agent's clock: ours plus its estimated offset.
	const auto est = a.clock.estimate(clk::monoNs());
	c.notAfterNs = clk::wallNs() + cfg_.commandTtl.count() * clk::kMs + (est.valid ? est.offsetNs : 0);
	c.name = name;
	c.args = std::move(args);
	pending_[c.id] = {agentId, clk::monoNs() + cfg_.commandTtl.count() * clk::kMs, std::move(cb)};
	sendMsg(a.routingId, c, a.proto);
	return success();
}

json agentJson(const AgentRecord &a, int64_t nowMono, int64_t nowWall)
{
	const auto est = a.clock.estimate(nowMono);
	json clock = nullptr;
	if (est.valid)
		clock = {{"offset_ms", static_cast<double>(est.offsetNs) / 1e6},
			 {"bound_ms", static_cast<double>(est.boundNs) / 1e6},
			 {"rtt_ms", static_cast<double>(est.rttNs) / 1e6},
			 {"samples", est.samples}};
	return {{"id", a.id},
		{"host", a.host},
		{"dc", a.dc},
		{"labels", a.labels},
		{"version", a.version},
		{"protocol", a.proto},
		{"state", a.live ? "live" : "lost"},
		{"lost_reason", a.lostReason},
		{"last_heartbeat_age_ms", (nowMono - a.lastHeardMono) / clk::kMs},
		{"state_since_ms", (nowWall - a.stateSinceWall) / clk::kMs},
		{"clock", clock},
		{"capabilities", a.capabilities},
		{"pid", a.pid},
		{"rss_bytes", a.rssBytes},
		{"registrations", a.registrations},
		{"drops", a.agentDrops},
		{"addresses", a.addresses},
		{"running_faults", a.runningFaults}};
}

json Controller::agentsJson() const
{
	json arr = json::array();
	const int64_t nowMono = clk::monoNs(), nowWall = clk::wallNs();
	for (const auto &[id, a] : agents_)
		arr.push_back(agentJson(a, nowMono, nowWall));
	return arr;
}

json Controller::statsJson() const
{
	json drops = json::object();
	for (size_t i = 0; i < kDropCount; i++)
		drops[std::string(dropName(static_cast<Drop>(i)))] = drops_.get(static_cast<Drop>(i));
	size_t live = 0;
	for (const auto &[id, a] : agents_)
		live += a.live;
	return {{"controller_id", controllerId_},
		{"pid", ::getpid()},
		{"version", XDC_VERSION},
		{"protocol", {{"min", kMinVersion}, {"max", kVersion}}},
		{"listen", cfg_.listen},
		{"control", cfg_.control},
		{"secure", !cfg_.insecure},
		{"uptime_ms", (clk::wallNs() - startWall_) / clk::kMs},
		{"agents", {{"known", agents_.size()}, {"live", live}}},
		{"drops", drops},
		{"transport", transportEvents_},
		{"zap", {{"accepted", zap_ ? zap_->accepted() : 0}, {"refused", zap_ ? zap_->refused() : 0}}},
		{"pending_commands", pending_.size()}};
}

void Controller::onControl(const control::Peer &peer, const json &req)
{
	const std::string cmd = req.value("cmd", "");
	auto lg = log::get("control");
	lg->debug("console request '{}' from {} (pid {})", cmd, peer.user, peer.pid);
	if (cmd == "agents") {
		control_.reply(peer.id, {{"ok", true}, {"agents", agentsJson()}});
	} else if (cmd == "stats" || cmd == "status") {
		control_.reply(peer.id, {{"ok", true}, {"stats", statsJson()}});
	} else if (cmd == "reload") {
		lg->info("allow-list reload requested by {} (pid {})", peer.user, peer.pid);
		auto r = reloadAllowList();
		if (r)
			control_.reply(peer.id, {{"ok", true}, {"reload", *r}});
		else
			control_.reply(peer.id, {{"ok", false}, {"error", {{"code", "failed"}, {"message", r.error().message}}}});
	} else if (cmd == "shutdown") {
		lg->info("shutdown requested by {} (pid {})", peer.user, peer.pid);
		control_.reply(peer.id, {{"ok", true}});
		stop();
	} else if (cmd == "fault.apply") {
		onFaultApply(peer.id, req);
	} else if (cmd == "fault.revert") {
		onFaultRevert(peer.id, req, false);
	} else if (cmd == "halt") {
		lg->warn("halt requested by {} (pid {})", peer.user, peer.pid);
		onFaultRevert(peer.id, req, true);
	} else if (cmd == "record.start") {
		onRecordStart(peer.id, req);
	} else if (cmd == "record.stop") {
		onRecordStop(peer.id, req);
	} else if (cmd == "record.status") {
		onRecordStatus(peer.id, req);
	} else if (cmd == "fault.list") {
		pruneFaults();
		control_.reply(peer.id, {{"ok", true}, {"faults", faultsJson()}});
	} else if (cmd == "residue") {
		// What of ours every live agent still has (tables, chains, qdiscs, IFB links, fill files, stopped
		// processes), beside the faults it runs: the scenario runner's check after teardown.
		std::vector<std::pair<std::string, proto::Bytes>> calls;
		for (const auto &[aid, a] : agents_)
			if (a.live)
				calls.push_back({aid, {}});
		const uint64_t pid = peer.id;
		fanOut(calls, "fault.residue", [this, pid](json results) {
			json out = json::object();
			for (auto &[agent, r] : results.items()) {
				json e = {{"ok", r["ok"]}};
				if (r["ok"].get<bool>()) {
					auto rep = proto::unpackBytes<proto::FaultResidueReply>(r["data_bytes"].get<proto::Bytes>());
					if (rep) {
						e["objects"] = rep->objects;
						e["running"] = rep->running;
					}
				} else {
					e["error"] = r["error"];
				}
				out[agent] = e;
			}
			control_.reply(pid, {{"ok", true}, {"agents", out}});
		});
	} else if (cmd == "ping") {
		// Ping one agent, several, or "*" (all live): replies once every ack is in or timed out.
		std::vector<std::string> targets;
		auto list = req.value("agents", json::array());
		if (!list.is_array())
			return control_.reply(peer.id, errorJson("invalid", "'agents' must be a list of agent ids"));
		for (const auto &t : list) {
			if (!t.is_string())
				return control_.reply(peer.id, errorJson("invalid", "'agents' must be a list of agent ids"));
			if (t == "*") {
				for (const auto &[id, a] : agents_)
					if (a.live)
						targets.push_back(id);
			} else {
				targets.push_back(t);
			}
		}
		if (targets.empty())
			return control_.reply(peer.id, errorJson("invalid", "no agents to ping"));
		struct Gather {
			json results = json::object();
			size_t left = 0;
			int64_t startMono = 0;
		};
		auto g = std::make_shared<Gather>();
		g->left = targets.size();
		g->startMono = clk::monoNs();
		const std::string text = req.value("text", "ping");
		const uint64_t pid = peer.id;
		auto finish = [this, g, pid](const std::string &agent, Result<CommandResult> r) {
			json e;
			e["rtt_us"] = (clk::monoNs() - g->startMono) / 1000;
			if (!r) {
				e["ok"] = false;
				e["error"] = r.error().message;
			} else {
				e["ok"] = r->ok;
				if (!r->ok)
					e["error"] = r->message;
			}
			g->results[agent] = e;
			if (--g->left == 0)
				control_.reply(pid, {{"ok", true}, {"results", g->results}});
		};
		for (const auto &t : targets) {
			auto s = sendCommand(t, "ping", packBytes(PingArgs{text}), finish);
			if (!s)
				finish(t, s.error());
		}
	} else if (cmd == "streams.pe") {
		// Stop or restart one Streams PE through streamtool on the agent of a Streams host (the agent's fixed
		// command; it checks the verb and the id again).
		const std::string host = req.value("host", ""), verb = req.value("verb", ""), pe = req.value("pe", "");
		if (host.empty() || (verb != "stop" && verb != "restart") || pe.empty())
			return control_.reply(peer.id, errorJson("invalid", "streams.pe needs host, verb (stop|restart) and pe"));
		forwardToAgent(peer.id, host, cmd, packBytes(StreamsPeArgs{verb, pe}), renderStreamsRun("streamtool"));
	} else if (cmd == "streams.orderly_shutdown") {
		// The site's orderly-shutdown hook on the agent of a Streams host (its config holds the argv; the request
		// carries at most a job id, which the agent checks again). An agent older than this command answers
		// unknown_command.
		const std::string host = req.value("host", "");
		const json job = req.value("job", json(""));
		if (host.empty() || !job.is_string())
			return control_.reply(peer.id, errorJson("invalid", "streams.orderly_shutdown needs host (and job, "
										"if given, as a string of digits)"));
		forwardToAgent(peer.id, host, cmd, packBytes(StreamsOrderlyShutdownArgs{job.get<std::string>()}),
			       renderStreamsRun("the orderly-shutdown hook"));
	} else if (cmd == "data.generate.start" || cmd == "data.generate.stop") {
		// The test-tuple generator on a lab or Streams host (its agent checks every argument again).
		const std::string host = req.value("host", ""), runId = req.value("run_id", "");
		if (host.empty() || runId.empty())
			return control_.reply(peer.id, errorJson("invalid", cmd + " needs host and run_id"));
		if (cmd == "data.generate.stop") {
			forwardToAgent(peer.id, host, cmd, packBytes(DataGenerateStopArgs{runId}), renderGenerateStop);
			return;
		}
		DataGenerateStartArgs a;
		try {
			a.runId = runId;
			a.seed = req.value("seed", uint64_t{0});
			a.rate = req.value("rate", 200.0);
			a.rampFrom = req.value("ramp_from", -1.0);
			a.rampNs = req.value("ramp_ns", int64_t{0});
			a.burstEveryNs = req.value("burst_every_ns", int64_t{0});
			a.burstForNs = req.value("burst_for_ns", int64_t{0});
			a.burstFactor = req.value("burst_factor", 1.0);
			a.keys = req.value("keys", uint32_t{16});
			a.payload = req.value("payload", uint64_t{16});
			a.maxDurationMs = req.value("max_duration_ms", int64_t{0});
			for (const auto &src : req.value("sources", json::array())) {
				DataGenSource d;
				d.name = src.value("name", "");
				d.kind = src.value("kind", "");
				d.url = src.value("url", "");
				d.host = src.value("host", "");
				d.port = src.value("port", 0);
				d.user = src.value("user", "");
				d.password = src.value("password", "");
				d.caFile = src.value("ca_file", "");
				d.insecure = src.value("insecure", false);
				a.sources.push_back(std::move(d));
			}
		} catch (const std::exception &e) {
			return control_.reply(peer.id, errorJson("invalid", fmt::format("{}: {}", cmd, e.what())));
		}
		forwardToAgent(peer.id, host, cmd, packBytes(a),
			       [](const std::string &agent, const Bytes &data, int64_t off, int64_t bound) -> Result<json> {
				       auto rep = unpackBytes<DataGenerateStartReply>(data);
				       if (!rep)
					       return rep.error();
				       return json{{"ok", true}, {"agent", agent}, {"offset_ns", off}, {"bound_ns", bound},
						   {"started_ns", rep->startedNs - off}};
			       });
	} else if (cmd == "data.tail") {
		// Complete lines of a sink file on a lab or Streams host, by the name its agent's data.sinks gives it (the
		// agent resolves the name; no path crosses the wire).
		const std::string host = req.value("host", ""), sink = req.value("sink", "");
		const int64_t offset = req.value("offset", int64_t{0}), inode = req.value("inode", int64_t{0});
		const int64_t max = req.value("max", int64_t{0});
		if (host.empty() || sink.empty() || offset < 0 || inode < 0 || max < 0)
			return control_.reply(peer.id, errorJson("invalid", "data.tail needs host, sink and offset, inode, "
										"max >= 0"));
		DataTailArgs args;
		args.sink = sink;
		args.offset = static_cast<uint64_t>(offset);
		args.inode = static_cast<uint64_t>(inode);
		args.maxBytes = static_cast<uint64_t>(max);
		args.fromEnd = req.value("from_end", false);
		forwardToAgent(peer.id, host, cmd, packBytes(args),
			       [](const std::string &agent, const Bytes &data, int64_t, int64_t) -> Result<json> {
				       auto rep = unpackBytes<DataTailReply>(data);
				       if (!rep)
					       return rep.error();
				       return json{{"ok", true}, {"agent", agent}, {"data", std::move(rep->data)},
						   {"offset", rep->offset}, {"next_offset", rep->nextOffset}, {"size", rep->size},
						   {"inode", rep->inode}, {"restarted", rep->restarted}, {"read_ns", rep->readNs}};
			       });
	} else if (cmd == "data.drop") {
		// A file of tuple lines into a drop directory the agent's data.drops names (no path crosses the wire).
		const std::string host = req.value("host", ""), drop = req.value("drop", "");
		if (host.empty() || drop.empty() || !req.contains("data") || !req["data"].is_string())
			return control_.reply(peer.id, errorJson("invalid", "data.drop needs host, drop and data"));
		DataDropArgs args;
		args.drop = drop;
		args.data = req["data"].get<std::string>();
		args.lines = req.value("lines", uint64_t{0});
		forwardToAgent(peer.id, host, cmd, packBytes(args),
			       [](const std::string &agent, const Bytes &data, int64_t off, int64_t) -> Result<json> {
				       auto rep = unpackBytes<DataDropReply>(data);
				       if (!rep)
					       return rep.error();
				       return json{{"ok", true}, {"agent", agent}, {"file", rep->file}, {"bytes", rep->bytes},
						   {"dropped_ns", rep->droppedNs - off}};
			       });
	} else {
		control_.reply(peer.id, errorJson("invalid", fmt::format("unknown command '{}'", cmd)));
	}
}

// The reply of a program an agent ran for a Streams command (StreamsPeReply): ok when it exited 0, times on the
// controller's timeline.
Controller::RenderReply Controller::renderStreamsRun(std::string what)
{
	return [what = std::move(what)](const std::string &agent, const Bytes &data, int64_t off,
					 int64_t bound) -> Result<json> {
		auto rep = unpackBytes<StreamsPeReply>(data);
		if (!rep)
			return rep.error();
		json j = {{"ok", rep->exitCode == 0}, {"agent", agent}, {"argv", rep->argv}, {"exit_code", rep->exitCode},
			  {"output", rep->output}, {"bound_ns", bound}, {"started_ns", rep->startedNs - off},
			  {"ended_ns", rep->endedNs - off}};
		if (rep->exitCode != 0)
			j["error"] = {{"code", "failed"},
				      {"message", fmt::format("{} exited {}: {}", what, rep->exitCode, rep->output)}};
		return j;
	};
}

void Controller::forwardToAgent(uint64_t peer, const std::string &host, const std::string &name, Bytes args,
				RenderReply render)
{
	auto it = agents_.find(host);
	if (it == agents_.end() || !it->second.live)
		return control_.reply(peer, errorJson("not_found", fmt::format("no live agent '{}'", host)));
	auto finish = [this, peer, render = std::move(render)](const std::string &agent, Result<CommandResult> r) {
		if (!r)
			return control_.reply(peer, errorJson("failed", r.error().message));
		if (!r->ok)
			return control_.reply(peer, errorJson(r->code.empty() ? "failed" : r->code, r->message));
		int64_t off = 0, bound = -1;
		if (auto a = agents_.find(agent); a != agents_.end()) {
			const auto est = a->second.clock.estimate(clk::monoNs());
			if (est.valid) {
				off = est.offsetNs;
				bound = est.boundNs;
			}
		}
		auto j = render(agent, r->data, off, bound);
		if (!j)
			return control_.reply(peer, errorJson("protocol", j.error().message));
		control_.reply(peer, *j);
	};
	auto s = sendCommand(host, name, std::move(args), finish);
	if (!s)
		finish(host, s.error());
}

int64_t Controller::tick()
{
	const int64_t now = clk::monoNs();
	const int64_t lostNs = cfg_.heartbeat.count() * clk::kMs * cfg_.lostAfter;
	// Liveness is checked at least every 100 ms, so "lost" is reported within that of the deadline.
	int64_t next = now + 100 * clk::kMs;
	for (auto &[id, a] : agents_) {
		if (a.live && now - a.lastHeardMono > lostNs)
			markLost(a, fmt::format("missed {} heartbeats", cfg_.lostAfter));
		if (a.live && now >= a.nextPingMono) {
			ClockPing p{++a.pingSeq, clk::wallNs()};
			sendMsg(a.routingId, p, a.proto);
			if (a.burstLeft > 0) {
				a.burstLeft--;
				a.nextPingMono = now + 20 * clk::kMs;
			} else {
				a.nextPingMono = now + cfg_.clockInterval.count() * clk::kMs;
			}
		}
		if (a.live)
			next = std::min(next, a.nextPingMono);
	}
	next = std::min(next, tickRecordings(now));
	for (auto it = pending_.begin(); it != pending_.end();) {
		if (now > it->second.deadlineMono) {
			auto cb = std::move(it->second.cb);
			auto agent = it->second.agent;
			it = pending_.erase(it);
			cb(agent, makeError(Errc::Timeout, "agent {} did not answer in time", agent));
		} else {
			next = std::min(next, it->second.deadlineMono);
			++it;
		}
	}
	return next;
}

int Controller::run()
{
	auto lg = log::get("controller");
	nextTick_ = clk::monoNs();
	while (!stopping_.load()) {
		std::vector<zmq::pollitem_t> items;
		items.push_back({router_->handle(), 0, ZMQ_POLLIN, 0});
		items.push_back({monitor_->socket().handle(), 0, ZMQ_POLLIN, 0});
		if (zap_)
			items.push_back({zap_->socket().handle(), 0, ZMQ_POLLIN, 0});
		const size_t ctlStart = items.size();
		for (auto [fd, ev] : control_.pollFds())
			items.push_back({nullptr, fd, static_cast<short>((ev & POLLIN ? ZMQ_POLLIN : 0) |
									  (ev & POLLOUT ? ZMQ_POLLOUT : 0)), 0});
		// Sleep until the next timer (clock pings, liveness, command deadlines) or until something arrives.
		const int64_t waitMs = std::clamp<int64_t>((nextTick_ - clk::monoNs()) / clk::kMs + 1, 0, 100);
		try {
			zmq::poll(items.data(), items.size(), std::chrono::milliseconds(waitMs));
		} catch (const zmq::error_t &e) {
			if (e.num() == EINTR)
				continue;
			lg->error("poll: {}", e.what());
			return 1;
		}
		if (reloadRequested_.exchange(false))
			if (auto r = reloadAllowList(); !r)
				lg->error("SIGHUP: {}", r.error().message);
		if (zap_ && (items[2].revents & ZMQ_POLLIN))
			while (zap_->handle()) {
			}
		if (items[0].revents & ZMQ_POLLIN) {
			for (int n = 0; n < 10000; n++) {
				std::vector<zmq::message_t> parts;
				try {
					zmq::message_t m;
					if (!router_->recv(m, zmq::recv_flags::dontwait))
						break;
					parts.push_back(std::move(m));
					while (parts.back().more() && parts.size() < 64) {
						zmq::message_t more;
						(void)router_->recv(more, zmq::recv_flags::none);
						parts.push_back(std::move(more));
					}
					while (parts.back().more()) {
						zmq::message_t more;
						(void)router_->recv(more, zmq::recv_flags::none);
					}
				} catch (const zmq::error_t &e) {
					break;
				}
				onAgentMessage(parts, clk::wallNs());
				// Keep the ZAP handler answered while a flood is being drained.
				if (zap_ && n % 64 == 63)
					while (zap_->handle()) {
					}
			}
		}
		if (items[1].revents & ZMQ_POLLIN) {
			transport::Monitor::Event ev;
			while (monitor_->read(ev)) {
				transportEvents_[transport::eventName(ev.event)]++;
				if (ev.event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
				    ev.event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
					lg->debug("handshake failed from {}", ev.address);
			}
		}
		for (size_t i = ctlStart; i < items.size(); i++)
			if (items[i].revents)
				control_.service(items[i].fd);
		if (clk::monoNs() >= nextTick_)
			nextTick_ = tick();
	}
	lg->info("controller stopping");
	return 0;
}

} // namespace xdc::controller
