// SPDX-License-Identifier: Apache-2.0
// Controller event loop.
#include "controller/daemon/controller.h"

#include <fmt/ranges.h>
#include <cstring>
#include <malloc.h>
#include <poll.h>
#include <unistd.h>
#include <sys/resource.h>
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

// Descriptors the controller needs besides one per agent connection: console and /metrics clients, the log,
// libzmq's own, and headroom.
constexpr uint64_t kFdReserve = 256;

// Raises the soft open-file limit to the hard one: every agent holds one TCP connection, and a distribution's
// default soft limit (1,024) would refuse agents past about a thousand. Returns the limit in force.
uint64_t raiseOpenFileLimit()
{
	auto lg = log::get("controller");
	rlimit rl{};
	if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	rlim_t want = rl.rlim_max;
	if (want == RLIM_INFINITY) {
		// The kernel's per-process ceiling; setrlimit refuses more.
		want = 1048576;
		if (FILE *f = ::fopen("/proc/sys/fs/nr_open", "re")) {
			unsigned long long v = 0;
			if (::fscanf(f, "%llu", &v) == 1 && v > 0)
				want = v;
			::fclose(f);
		}
	}
	if (rl.rlim_cur >= want)
		return rl.rlim_cur;
	const rlimit next{want, rl.rlim_max};
	if (::setrlimit(RLIMIT_NOFILE, &next) != 0) {
		lg->warn("cannot raise the open-file limit from {} to {}: {}", rl.rlim_cur, want, strerror(errno));
		return rl.rlim_cur;
	}
	lg->info("open-file limit raised from {} to {} (the hard limit)", rl.rlim_cur, want);
	return want;
}



} // namespace

Controller::Controller(ControllerConfig cfg) : cfg_(std::move(cfg)), ctx_(2), rng_(std::random_device{}())
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
	fdLimit_ = raiseOpenFileLimit();
	// One descriptor per agent connection: say now, not at the thousandth agent, when the limit cannot hold the
	// allow-list.
	if (fdLimit_ > 0 && !cfg_.insecure && allowedIds_.size() + kFdReserve > fdLimit_)
		lg->warn("the open-file limit ({}, the hard limit) cannot hold the {} agents on the allow-list: each holds "
			 "one connection and the controller keeps {} for itself, so agents past about {} will not connect; "
			 "raise it (LimitNOFILE= in the controller's unit, `ulimit -n`, limits.conf)",
			 fdLimit_, allowedIds_.size(), kFdReserve, fdLimit_ > kFdReserve ? fdLimit_ - kFdReserve : 0);
	try {
		router_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::router);
		transport::SocketOptions so = transport::serverOptions();
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
				ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_ACCEPT_FAILED);
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
	if (!cfg_.metricsListen.empty()) {
		XDC_TRY(metrics_.listen(cfg_.metricsListen, [this] { return metricsText(); }));
		lg->info("serving Prometheus metrics on http://{}/metrics", metrics_.address());
	}
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

Result<control::ReloadAnswer> Controller::reloadAllowList()
{
	if (cfg_.insecure || !zap_)
		return makeError(Errc::Invalid, "the controller runs without an allow-list (--insecure)");
	auto allow = transport::loadAllowList(cfg_.allowFile);
	if (!allow)
		return allow.error().context("allow-list not reloaded, the old one stays in force");
	std::unordered_set<std::string> ids;
	for (const auto &[key, id] : allow->idByKey)
		ids.insert(id);
	control::ReloadAnswer out;
	out.file = cfg_.allowFile;
	for (const auto &id : ids)
		if (!allowedIds_.count(id))
			out.added.push_back(id);
	for (const auto &id : allowedIds_)
		if (!ids.count(id))
			out.removed.push_back(id);
	out.allowed = allow->idByKey.size();
	zap_->setAllowList(std::move(*allow));
	allowedIds_ = std::move(ids);
	for (const auto &id : out.removed) {
		auto it = agents_.find(id);
		if (it == agents_.end())
			continue;
		markLost(it->second, "key removed from the controller's allow-list");
		idByRouting_.erase(it->second.routingId);
		sendMsg(it->second.routingId, Bye{"key removed from the controller's allow-list"});
		it->second.routingId.clear();
	}
	log::get("controller")->info("allow-list reloaded from {}: {} keys, added [{}], removed [{}]", cfg_.allowFile,
				     out.allowed, fmt::join(out.added, ","), fmt::join(out.removed, ","));
	return out;
}

void Controller::markLost(AgentRecord &a, const std::string &reason)
{
	if (!a.live)
		return;
	a.live = false;
	a.lostReason = reason;
	a.stateSinceWall = clk::wallNs();
	log::get("fleet")->warn("agent {} ({}/{}) lost: {}", a.id, a.dc, a.host, reason);
	failPending({a.id});
}

void Controller::failPending(const std::unordered_set<std::string> &lost)
{
	// One pass over the pending commands for any number of lost agents: a fleet lost at once (the controller's
	// own network) with a command out to each would otherwise cost agents x commands.
	if (lost.empty())
		return;
	std::vector<std::pair<std::string, CommandCallback>> failed;
	for (auto it = pending_.begin(); it != pending_.end();) {
		if (lost.count(it->second.agent)) {
			failed.push_back({it->second.agent, std::move(it->second.cb)});
			it = pending_.erase(it);
		} else {
			++it;
		}
	}
	for (auto &[agent, cb] : failed) {
		auto ag = agents_.find(agent);
		cb(agent, makeError(Errc::Refused, "agent {} lost: {}", agent,
				    ag != agents_.end() ? ag->second.lostReason : std::string("lost")));
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
	w.faultEvents = true;
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
	a.clockOnHeartbeat = hello->clockOnHeartbeat;
	a.runningFaults.clear();
	for (const auto &rf : hello->runningFaults)
		a.runningFaults.push_back(rf.id);
	// What the agent runs is what it says: a restart cleaned up the rest, so no record keeps it.
	for (auto it = faults_.begin(); it != faults_.end();) {
		auto &ags = it->second.agents;
		if (std::find(ags.begin(), ags.end(), a.id) != ags.end() &&
		    std::find(a.runningFaults.begin(), a.runningFaults.end(), it->first) == a.runningFaults.end()) {
			std::erase(ags, a.id);
			lg->info("agent {} registered without fault {}: no longer in place there", a.id, it->first);
		}
		it = ags.empty() ? faults_.erase(it) : std::next(it);
	}
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
		if (hb->clockT1 > 0)
			a.clock.add({hb->clockT1, hb->clockT2, hb->clockT3, recvWall}, clk::monoNs());
		sendMsg(routingId,
			HeartbeatAck{hb->seq, controllerId_, cfg_.lease.count(), a.clockOnHeartbeat ? clk::wallNs() : 0},
			a.proto);
		return;
	}
	case MsgType::FaultEvent: {
		auto ev = decodeBody<FaultEvent>(f.body);
		if (!ev) {
			drops_.add(Drop::BadBody);
			return;
		}
		onFaultEvent(a, *ev, recvWall);
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
	trimAfterBurst_ |= pending_.size() >= 1000;
	sendMsg(a.routingId, c, a.proto);
	return success();
}

control::AgentInfo agentInfo(const AgentRecord &a, int64_t nowMono, int64_t nowWall)
{
	control::AgentInfo info;
	info.id = a.id;
	info.host = a.host;
	info.dc = a.dc;
	info.labels = a.labels;
	info.version = a.version;
	info.protocol = a.proto;
	info.state = a.live ? "live" : "lost";
	info.lostReason = a.lostReason;
	info.lastHeartbeatAgeMs = (nowMono - a.lastHeardMono) / clk::kMs;
	info.stateSinceMs = (nowWall - a.stateSinceWall) / clk::kMs;
	if (const auto est = a.clock.estimate(nowMono); est.valid)
		info.clock = control::AgentInfo::Clock{static_cast<double>(est.offsetNs) / 1e6,
						       static_cast<double>(est.boundNs) / 1e6,
						       static_cast<double>(est.rttNs) / 1e6,
						       static_cast<uint64_t>(est.samples)};
	info.capabilities = a.capabilities;
	info.pid = a.pid;
	info.rssBytes = a.rssBytes;
	info.registrations = a.registrations;
	info.drops = a.agentDrops;
	info.addresses = a.addresses;
	info.runningFaults = a.runningFaults;
	return info;
}

control::AgentsAnswer Controller::agentsAnswer() const
{
	control::AgentsAnswer out;
	const int64_t nowMono = clk::monoNs(), nowWall = clk::wallNs();
	for (const auto &[id, a] : agents_)
		out.agents.push_back(agentInfo(a, nowMono, nowWall));
	return out;
}

control::StatsAnswer Controller::statsAnswer() const
{
	control::StatsAnswer s;
	for (size_t i = 0; i < kDropCount; i++)
		s.drops[std::string(dropName(static_cast<Drop>(i)))] = drops_.get(static_cast<Drop>(i));
	for (const auto &[id, a] : agents_)
		s.agentsLive += a.live;
	s.controllerId = controllerId_;
	s.pid = ::getpid();
	s.version = XDC_VERSION;
	s.protocolMin = kMinVersion;
	s.protocolMax = kVersion;
	s.listen = cfg_.listen;
	s.control = cfg_.control;
	s.secure = !cfg_.insecure;
	s.uptimeMs = (clk::wallNs() - startWall_) / clk::kMs;
	s.agentsKnown = agents_.size();
	s.transport = transportEvents_;
	s.zapAccepted = zap_ ? zap_->accepted() : 0;
	s.zapRefused = zap_ ? zap_->refused() : 0;
	s.pendingCommands = pending_.size();
	return s;
}

int64_t Controller::tick()
{
	const int64_t now = clk::monoNs();
	const int64_t lostNs = cfg_.heartbeat.count() * clk::kMs * cfg_.lostAfter;
	// Liveness is checked at least every 100 ms, so "lost" is reported within that of the deadline.
	int64_t next = now + 100 * clk::kMs;
	std::unordered_set<std::string> lost;
	for (auto &[id, a] : agents_) {
		if (a.live && now - a.lastHeardMono > lostNs) {
			a.live = false;
			a.lostReason = fmt::format("missed {} heartbeats", cfg_.lostAfter);
			a.stateSinceWall = clk::wallNs();
			log::get("fleet")->warn("agent {} ({}/{}) lost: {}", a.id, a.dc, a.host, a.lostReason);
			lost.insert(id);
		}
		if (a.live && now >= a.nextPingMono) {
			ClockPing p{++a.pingSeq, clk::wallNs()};
			sendMsg(a.routingId, p, a.proto);
			if (a.burstLeft > 0) {
				a.burstLeft--;
				a.nextPingMono = now + 20 * clk::kMs;
			} else if (a.clockOnHeartbeat && cfg_.heartbeat <= cfg_.clockInterval) {
				// After the burst the exchange rides on the heartbeats, at least as often as the pings
				// would come: half the messages of an idle agent (docs/PROTOCOL.md).
				a.nextPingMono = INT64_MAX;
			} else {
				a.nextPingMono = now + cfg_.clockInterval.count() * clk::kMs;
			}
		}
		if (a.live)
			next = std::min(next, a.nextPingMono);
	}
	failPending(lost);
	next = std::min(next, tickRecordings(now));
	metrics_.expire(now);
	// A command to thousands of agents leaves its commands, results and answer freed but held by malloc (100 MiB
	// at 10,000 agents): give it back once the burst is over, and every minute what smaller ones left.
	if (pending_.empty() && (trimAfterBurst_ || now >= nextTrimMono_)) {
		::malloc_trim(0);
		trimAfterBurst_ = false;
		nextTrimMono_ = now + 60 * clk::kSec;
	}
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
		const size_t metricsStart = items.size();
		for (auto [fd, ev] : metrics_.pollFds())
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
				if (ev.event == ZMQ_EVENT_ACCEPT_FAILED) {
					// Out of descriptors, most likely: the agent retries, but the operator must know.
					const int64_t now = clk::monoNs();
					if (acceptFailLogged_ == 0 || now - acceptFailLogged_ > 10 * clk::kSec) {
						size_t live = 0;
						for (const auto &[id, a] : agents_)
							live += a.live;
						lg->error("cannot accept an agent's connection on {}: {} (open-file limit {}, {} "
							  "agents live; logged at most every 10 s)",
							  cfg_.listen, strerror(ev.value), fdLimit_, live);
						acceptFailLogged_ = now;
					}
				}
			}
		}
		for (size_t i = ctlStart; i < metricsStart; i++)
			if (items[i].revents)
				control_.service(items[i].fd);
		for (size_t i = metricsStart; i < items.size(); i++)
			if (items[i].revents)
				metrics_.service(items[i].fd);
		if (clk::monoNs() >= nextTick_)
			nextTick_ = tick();
	}
	lg->info("controller stopping");
	return 0;
}

} // namespace xdc::controller
