// SPDX-License-Identifier: Apache-2.0
// Agent connection state machine and message handling.
#include "agent/agent.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <ifaddrs.h>
#include <malloc.h>
#include <netdb.h>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/data/sink_tail.h"
#include "agent/faults/undo.h"
#include "agent/streams_cmds.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/sys/process.h"
#include "xdc_config.h"

namespace xdc::agent {

using namespace xdc::proto;

namespace {

// Commands may not carry a deadline further out than this; it also bounds how long a nonce must be remembered.
constexpr int64_t kMaxCommandTtlNs = 300 * clk::kSec;
constexpr size_t kMaxNonces = 200000;
// Pause before trying again after the controller refused our key.
constexpr int64_t kAuthRetryMs = 5000;

uint64_t readRss()
{
	std::ifstream f("/proc/self/statm");
	uint64_t size = 0, rss = 0;
	f >> size >> rss;
	return rss * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

// Splits "tcp://host:port" (or "tcp://[v6]:port").
void splitEndpoint(const std::string &ep, std::string &addr, int &port)
{
	std::string rest = ep.substr(ep.find("://") == std::string::npos ? 0 : ep.find("://") + 3);
	auto colon = rest.rfind(':');
	if (colon == std::string::npos)
		return;
	addr = rest.substr(0, colon);
	if (addr.size() > 2 && addr.front() == '[')
		addr = addr.substr(1, addr.size() - 2);
	try {
		port = std::stoi(rest.substr(colon + 1));
	} catch (...) {
		port = 0;
	}
}

// "iface=address" for every non-loopback, non-link-local address of this network namespace.
// The interface a route to addr leaves through ("" when there is none).
std::string routeDevice(const std::string &addr)
{
	if (addr.empty())
		return "";
	auto r = sys::run({"ip", "route", "get", addr});
	std::string dev;
	if (r && r->ok()) {
		std::istringstream in(r->out);
		std::string w;
		while (in >> w)
			if (w == "dev" && in >> dev)
				break;
	}
	return dev;
}

std::vector<std::string> localAddresses()
{
	std::vector<std::string> out;
	ifaddrs *ifa = nullptr;
	if (::getifaddrs(&ifa) != 0)
		return out;
	for (ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		char host[NI_MAXHOST];
		const socklen_t len = i->ifa_addr->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
		if (::getnameinfo(i->ifa_addr, len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0)
			continue;
		std::string a = host;
		if (std::string(i->ifa_name) == "lo" || a.rfind("127.", 0) == 0 || a == "::1" || a.rfind("fe80", 0) == 0)
			continue;
		out.push_back(std::string(i->ifa_name) + "=" + a);
	}
	::freeifaddrs(ifa);
	return out;
}

} // namespace

Agent::Agent(AgentConfig cfg, std::map<std::string, std::string> capabilities)
	: cfg_(std::move(cfg)), caps_(std::move(capabilities)), ctx_(1), rng_(std::random_device{}())
{
	startMono_ = clk::monoNs();
	startWall_ = clk::wallNs();
}

Agent::~Agent() { closeSocket(); }

void Agent::addCommand(const std::string &name, CommandHandler handler) { commands_[name] = std::move(handler); }

void Agent::openSocket()
{
	auto lg = log::get("agent");
	sock_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
	transport::SocketOptions so;
	so.maxFrame = cfg_.maxFrame;
	// Jitter the reconnect interval per socket so a fleet that lost its controller does not return in lockstep.
	std::uniform_int_distribution<int> jitter(50, 150);
	so.reconnectIvlMs = jitter(rng_);
	so.reconnectIvlMaxMs = static_cast<int>(cfg_.reconnectMax.count());
	so.connectTimeoutMs = static_cast<int>(cfg_.connectTimeout.count());
	transport::applyCommon(*sock_, so);
	sock_->set(zmq::sockopt::reconnect_ivl, so.reconnectIvlMs);
	sock_->set(zmq::sockopt::reconnect_ivl_max, so.reconnectIvlMaxMs);
	sock_->set(zmq::sockopt::connect_timeout, so.connectTimeoutMs);
	// Queue nothing for a connection that is not up: stale heartbeats must not burst out after a partition.
	sock_->set(zmq::sockopt::immediate, 1);
	if (!cfg_.insecure)
		transport::makeCurveClient(*sock_, keys_.publicKey, keys_.secretKey, serverKey_);
	mon_ = std::make_unique<transport::Monitor>(ctx_, *sock_, "agent." + std::to_string(++socketGen_),
						    ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
							    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
							    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
							    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL);
	sock_->connect(cfg_.controller);
	state_ = State::Connecting;
	lastHelloMono_ = 0;
	lastHeardMono_ = clk::monoNs();
	lg->debug("connecting to {}", cfg_.controller);
}

void Agent::closeSocket()
{
	mon_.reset();
	sock_.reset();
}

void Agent::scheduleReconnect()
{
	closeSocket();
	state_ = State::Waiting;
	std::uniform_int_distribution<int64_t> jitter(backoffMs_ / 2, backoffMs_);
	nextConnectMono_ = clk::monoNs() + jitter(rng_) * clk::kMs;
	backoffMs_ = std::max<int64_t>(std::min<int64_t>(backoffMs_ * 2, cfg_.reconnectMax.count()), 100);
}

template<typename T>
void Agent::send(const T &msg)
{
	if (!sock_)
		return;
	Header h;
	h.version = protoVersion_;
	h.id = ++msgId_;
	h.sender = cfg_.id;
	h.monoNs = clk::monoNs();
	h.wallNs = clk::wallNs();
	if constexpr (std::is_same_v<T, Hello>) {
		if (cfg_.testProtoVersion)
			h.version = static_cast<uint8_t>(cfg_.testProtoVersion);
	}
	std::string bytes = encode(msg, h);
	try {
		(void)sock_->send(zmq::buffer(bytes), zmq::send_flags::dontwait);
	} catch (const zmq::error_t &e) {
		log::get("agent")->debug("send {} failed: {}", msgTypeName(T::kType), e.what());
	}
}

void Agent::sendHello()
{
	Hello h;
	h.agentId = cfg_.id;
	h.host = cfg_.host;
	h.dc = cfg_.dc;
	h.labels = cfg_.labels;
	h.version = XDC_VERSION;
	h.capabilities = caps_;
	h.startedNs = startWall_;
	h.pid = static_cast<int32_t>(::getpid());
	h.addresses = localAddresses();
	h.mgmtIface = routeDevice(exemptAddr_);
	h.clockOnHeartbeat = true;
	if (faults_)
		h.runningFaults = faults_->list().faults;
	lastHelloMono_ = clk::monoNs();
	send(h);
}

void Agent::sendHeartbeat()
{
	Heartbeat hb;
	hb.seq = ++hbSeq_;
	hb.uptimeMs = (clk::monoNs() - startMono_) / clk::kMs;
	for (size_t i = 0; i < kDropCount; i++)
		hb.drops[std::string(dropName(static_cast<Drop>(i)))] = drops_.get(static_cast<Drop>(i));
	hb.rssBytes = readRss();
	hb.activeFaults = faults_ ? static_cast<uint32_t>(faults_->size()) : 0;
	if (ackT1_ > 0) {
		hb.clockT1 = ackT1_;
		hb.clockT2 = ackT2_;
		ackT1_ = 0;
		hb.clockT3 = clk::wallNs();
	}
	send(hb);
}

void Agent::onCommand(const Frame &f)
{
	const int64_t received = clk::wallNs();
	auto cmd = decodeBody<Command>(f.body);
	if (!cmd) {
		drops_.add(Drop::BadBody);
		return;
	}
	if (cmd->notAfterNs < received) {
		drops_.add(Drop::Expired);
		log::get("agent")->warn("refused command {} '{}': expired {} ms ago", cmd->id, cmd->name,
					(received - cmd->notAfterNs) / clk::kMs);
		return;
	}
	if (cmd->notAfterNs - received > kMaxCommandTtlNs) {
		drops_.add(Drop::Malformed);
		return;
	}
	// Forget nonces whose commands can no longer be valid anyway, then check for a replay.
	const int64_t now = clk::monoNs();
	if (nonces_.size() > kMaxNonces / 2) {
		for (auto it = nonces_.begin(); it != nonces_.end();)
			it = it->second < now ? nonces_.erase(it) : std::next(it);
	}
	if (nonces_.count(cmd->nonce)) {
		drops_.add(Drop::Replayed);
		log::get("agent")->warn("refused command {} '{}': replayed nonce", cmd->id, cmd->name);
		return;
	}
	if (nonces_.size() >= kMaxNonces) {
		drops_.add(Drop::Malformed);
		return;
	}
	nonces_[cmd->nonce] = now + (cmd->notAfterNs - received);

	CommandResult res;
	res.commandId = cmd->id;
	res.receivedNs = received;
	auto it = commands_.find(cmd->name);
	if (it == commands_.end()) {
		res.ok = false;
		res.code = "unknown_command";
		res.message = fmt::format("this agent has no command '{}'", cmd->name);
	} else {
		auto out = it->second(cmd->args);
		res.ok = out.ok();
		if (out.ok()) {
			res.data = std::move(*out);
		} else {
			res.code = errcName(out.error().code);
			res.message = out.error().message;
		}
	}
	res.doneNs = clk::wallNs();
	send(res);
}

void Agent::onFrame(const zmq::message_t &msg, int64_t recvWallNs)
{
	auto fr = decodeFrame({static_cast<const uint8_t *>(msg.data()), msg.size()}, cfg_.maxFrame);
	if (!fr.ok()) {
		drops_.add(fr.error().reason);
		log::get("agent")->debug("dropped frame: {}", fr.error().detail);
		return;
	}
	const Frame &f = fr.frame();
	lastHeardMono_ = clk::monoNs();
	lastControllerMono_ = lastHeardMono_;
	auto lg = log::get("agent");
	switch (f.header.type) {
	case MsgType::Welcome: {
		auto w = decodeBody<Welcome>(f.body);
		if (!w) {
			drops_.add(Drop::BadBody);
			return;
		}
		if (!w->accepted) {
			lg->error("controller refused registration: {}", w->reason);
			backoffMs_ = cfg_.reconnectMax.count();
			scheduleReconnect();
			return;
		}
		if (state_ != State::Registered)
			lg->info("registered with controller {} (protocol {})", w->controllerId, w->protoVersion);
		state_ = State::Registered;
		controllerId_ = w->controllerId;
		// A (re)registration: whatever was in flight may be lost; resend every outbox from its last ack.
		if (recorder_)
			recorder_->onConnected();
		protoVersion_ = w->protoVersion;
		controllerFaultEvents_ = w->faultEvents;
		ackT1_ = 0;
		heartbeatMs_ = std::clamp<int64_t>(w->heartbeatMs, 100, 60000);
		leaseMs_ = std::clamp<int64_t>(w->leaseMs, 2 * heartbeatMs_, 600000);
		backoffMs_ = 100;
		nextHeartbeatMono_ = clk::monoNs() + heartbeatMs_ * clk::kMs;
		return;
	}
	case MsgType::HeartbeatAck: {
		if (state_ != State::Registered) {
			drops_.add(Drop::Unexpected);
			return;
		}
		auto ack = decodeBody<HeartbeatAck>(f.body);
		if (!ack) {
			drops_.add(Drop::BadBody);
			return;
		}
		// Echoed, with when it arrived, in the next heartbeat: the controller's clock exchange.
		if (ack->t1 > 0) {
			ackT1_ = ack->t1;
			ackT2_ = recvWallNs;
		}
		return;
	}
	case MsgType::ClockPing: {
		auto p = decodeBody<ClockPing>(f.body);
		if (!p) {
			drops_.add(Drop::BadBody);
			return;
		}
		ClockPong pong;
		pong.seq = p->seq;
		pong.t1 = p->t1;
		pong.t2 = recvWallNs;
		pong.t3 = clk::wallNs();
		send(pong);
		return;
	}
	case MsgType::Command:
		if (state_ != State::Registered) {
			drops_.add(Drop::Unauthorized);
			return;
		}
		onCommand(f);
		// A command can keep the loop busy (a synchronised start, a memory fault filling up): the time spent on
		// it is not controller silence, and what arrived meanwhile is read next.
		lastHeardMono_ = std::max(lastHeardMono_, clk::monoNs());
		return;
	case MsgType::EvidenceAck: {
		auto a = decodeBody<EvidenceAck>(f.body);
		if (!a) {
			drops_.add(Drop::BadBody);
			return;
		}
		if (recorder_)
			recorder_->onAck(*a);
		return;
	}
	case MsgType::Bye: {
		auto b = decodeBody<Bye>(f.body);
		if (!b) {
			drops_.add(Drop::BadBody);
			return;
		}
		// The controller does not know us (it restarted, or we were marked gone): register again.
		lg->info("controller asked us to register again: {}", b->reason);
		state_ = State::Connecting;
		sendHello();
		return;
	}
	default:
		drops_.add(Drop::Unexpected);
		return;
	}
}

// Spools, rewinds and sends what the recordings have ready. Batches go out only while registered; samplers keep
// sampling either way.
void Agent::flushEvidence(int64_t nowMono)
{
	if (!recorder_ || !recorder_->recordings())
		return;
	recorder_->service(nowMono);
	if (state_ != State::Registered || !sock_)
		return;
	EvidenceBatch b;
	for (int i = 0; i < 16 && recorder_->nextBatch(nowMono, b); i++)
		send(b);
}

int Agent::run()
{
	auto lg = log::get("agent");
	if (::mkdir(cfg_.stateDir.c_str(), 0700) != 0 && errno != EEXIST) {
		lg->error("state_dir '{}': {}", cfg_.stateDir, strerror(errno));
		return 2;
	}
	if (!cfg_.insecure) {
		auto kp = transport::loadKeyPair(cfg_.keyFile);
		if (!kp) {
			lg->error("{}", kp.error().message);
			return 2;
		}
		keys_ = *kp;
		auto sk = transport::loadPublicKey(cfg_.controllerKey);
		if (!sk) {
			lg->error("controller_key: {}", sk.error().message);
			return 2;
		}
		serverKey_ = *sk;
		lg->info("agent {} (dc {}, host {}) key {} -> controller {} key {}", cfg_.id, cfg_.dc, cfg_.host,
			 transport::fingerprint(keys_.publicKey), cfg_.controller, transport::fingerprint(serverKey_));
	} else {
		lg->warn("INSECURE: CURVE is off; anyone on the network can impersonate the controller or this agent");
	}
	splitEndpoint(cfg_.controller, exemptAddr_, exemptPort_);
	FaultManagerOptions fo;
	fo.maxDurationMs = cfg_.maxFaultDuration.count();
	fo.env = cfg_.faults;
	fo.env.stateDir = cfg_.stateDir;
	fo.env.exemptAddr = exemptAddr_;
	fo.env.exemptPort = exemptPort_;
	fo.env.mgmtIface = routeDevice(exemptAddr_);
	fo.env.haveNetem = caps_.count("qdisc.netem") && caps_.at("qdisc.netem") == "yes";
	faults_ = std::make_unique<FaultManager>(fo);
	// Heartbeats go on while a fault's apply waits (the controller must not take a busy agent for a lost one).
	setKeepAlive([this] {
		const int64_t now = clk::monoNs();
		if (state_ == State::Registered && now >= nextHeartbeatMono_) {
			sendHeartbeat();
			nextHeartbeatMono_ = now + heartbeatMs_ * clk::kMs;
		}
	});
	for (const auto &c : faults_->recover())
		lg->warn("removed a leftover of an earlier run: {}", c);
	addCommand("fault.apply", [this](const Bytes &a) -> Result<Bytes> {
		auto args = unpackBytes<FaultApplyArgs>(a);
		if (!args)
			return args.error();
		auto r = faults_->apply(*args);
		if (!r)
			return r.error();
		return packBytes(*r);
	});
	addCommand("fault.revert", [this](const Bytes &a) -> Result<Bytes> {
		auto args = unpackBytes<FaultRevertArgs>(a);
		if (!args)
			return args.error();
		return packBytes(faults_->revert(args->id, args->id == "*" ? "halt" : "revert requested"));
	});
	addCommand("fault.list", [this](const Bytes &) -> Result<Bytes> { return packBytes(faults_->list()); });
	addCommand("fault.residue", [this](const Bytes &) -> Result<Bytes> {
		FaultResidueReply r;
		r.objects = findOwnObjects(cfg_.faults);
		for (const auto &f : faults_->list().faults)
			r.running.push_back(f.id);
		return packBytes(r);
	});
	addCommand("streams.pe", [this](const Bytes &a) -> Result<Bytes> {
		auto args = unpackBytes<StreamsPeArgs>(a);
		if (!args)
			return args.error();
		auto r = runStreamtool(cfg_.streams, *args);
		if (!r)
			return r.error();
		return packBytes(*r);
	});
	addCommand("streams.orderly_shutdown", [this](const Bytes &a) -> Result<Bytes> {
		auto args = unpackBytes<StreamsOrderlyShutdownArgs>(a);
		if (!args)
			return args.error();
		auto r = runOrderlyShutdown(cfg_.streams, *args);
		if (!r)
			return r.error();
		return packBytes(*r);
	});
	addCommand("data.tail", [this](const Bytes &a) -> Result<Bytes> {
		auto args = unpackBytes<DataTailArgs>(a);
		if (!args)
			return args.error();
		// The reply must fit in a frame: the data, plus room for the envelope.
		const uint64_t frameRoom = cfg_.maxFrame > (128u << 10) ? cfg_.maxFrame - (64u << 10) : cfg_.maxFrame / 2;
		auto r = tailSink(cfg_.data.sinks, *args, std::min<uint64_t>(kDataTailMaxBytes, frameRoom));
		if (!r)
			return r.error();
		return packBytes(*r);
	});
	addCommand("data.drop", [this](const Bytes &a) -> Result<Bytes> {
		auto args = unpackBytes<DataDropArgs>(a);
		if (!args)
			return args.error();
		auto r = dropFile(cfg_.data.drops, *args);
		if (!r)
			return r.error();
		return packBytes(*r);
	});
	generators_ = std::make_unique<DataGenerators>();
	addCommand("data.generate.start", [this](const Bytes &a) -> Result<Bytes> {
		auto args = unpackBytes<DataGenerateStartArgs>(a);
		if (!args)
			return args.error();
		auto r = generators_->start(*args);
		if (!r)
			return r.error();
		return packBytes(*r);
	});
	addCommand("data.generate.stop", [this](const Bytes &a) -> Result<Bytes> {
		auto args = unpackBytes<DataGenerateStopArgs>(a);
		if (!args)
			return args.error();
		auto r = generators_->stop(args->runId);
		if (!r)
			return r.error();
		return packBytes(*r);
	});
	RecorderOptions ro;
	ro.dir = cfg_.stateDir + "/evidence";
	ro.memorySamples = cfg_.evidence.memorySamples;
	ro.spoolMaxBytes = cfg_.evidence.spoolMaxBytes;
	ro.env.commands = cfg_.evidence.commands;
	ro.env.logs = cfg_.evidence.logs;
	ro.env.files = cfg_.evidence.files;
	ro.env.proc = ProcContext::forThisProcess(fo.env);
	recorder_ = std::make_unique<Recorder>(ro);
	for (const auto &c : recorder_->recover())
		lg->warn("removed a leftover of an earlier run: {}", c);
	if (cfg_.cleanupOnly) {
		lg->info("cleanup done: nothing of an earlier run is left in {}", cfg_.stateDir);
		return 0;
	}
	faults_->setObserver([this](Sample s) {
		// Every end of a fault goes to the controller at once, so its record, `fault list` and a new apply agree
		// with this host (an older controller does not ask for it).
		if (state_ == State::Registered && controllerFaultEvents_ && s.kind == "fault" &&
		    (s.tags["event"] == "reverted" || s.tags["event"] == "revert_failed")) {
			FaultEvent e;
			e.id = s.source;
			e.kind = s.tags["fault_kind"];
			e.event = s.tags["event"];
			e.why = s.tags["why"];
			e.error = s.tags.count("error") ? s.tags["error"] : std::string();
			e.revertedNs = static_cast<int64_t>(s.values["reverted_ns"]);
			e.verifiedNs = static_cast<int64_t>(s.values["verified_ns"]);
			send(e);
		}
		if (recorder_)
			recorder_->event(std::move(s));
	});
	addCommand("evidence.start", [this](const Bytes &a) -> Result<Bytes> {
		auto args = unpackBytes<EvidenceStartArgs>(a);
		if (!args)
			return args.error();
		auto r = recorder_->start(*args);
		if (!r)
			return r.error();
		return packBytes(*r);
	});
	addCommand("evidence.stop", [this](const Bytes &a) -> Result<Bytes> {
		auto args = unpackBytes<EvidenceStopArgs>(a);
		if (!args)
			return args.error();
		auto r = recorder_->stopRequested(args->recording);
		if (!r)
			return r.error();
		return packBytes(*r);
	});
	lastControllerMono_ = clk::monoNs();
	openSocket();
	while (!stopping_.load()) {
		const int64_t now = clk::monoNs();
		// Faults end at their TTL, or all at once when the controller's lease runs out.
		faults_->tick(now, now - lastControllerMono_, leaseMs_ * clk::kMs);
		if (state_ == State::Waiting) {
			if (now >= nextConnectMono_)
				openSocket();
			else {
				::usleep(static_cast<useconds_t>(std::min<int64_t>((nextConnectMono_ - now) / 1000, 50000)));
				continue;
			}
		}
		// Timers: heartbeat, hello retry, silence detection.
		if (state_ == State::Registered) {
			if (now >= nextHeartbeatMono_) {
				sendHeartbeat();
				nextHeartbeatMono_ = now + heartbeatMs_ * clk::kMs;
			}
			if (now - lastHeardMono_ > 3 * heartbeatMs_ * clk::kMs) {
				lg->warn("no word from the controller for {} ms; reconnecting",
					 (now - lastHeardMono_) / clk::kMs);
				scheduleReconnect();
				continue;
			}
		} else if (state_ == State::Connecting && lastHelloMono_ &&
			   now - std::max(lastHeardMono_, handshakeMono_) > 3 * cfg_.helloRetry.count() * clk::kMs) {
			// The handshake went through but nothing came back for three hello retries: with no ZMTP PINGs
			// on our socket (common/transport/socket.h) this is how a connection that died after its
			// handshake is left.
			lg->warn("no answer from the controller to {} hellos in {} ms; reconnecting", 3,
				 (now - std::max(lastHeardMono_, handshakeMono_)) / clk::kMs);
			scheduleReconnect();
			continue;
		} else if (state_ == State::Connecting && lastHelloMono_ &&
			   now - lastHelloMono_ > cfg_.helloRetry.count() * clk::kMs) {
			sendHello();
		}
		zmq::pollitem_t items[] = {
			{sock_->handle(), 0, ZMQ_POLLIN, 0},
			{mon_->socket().handle(), 0, ZMQ_POLLIN, 0},
		};
		// Sleep until the next timer: heartbeat when registered (silence is checked at the same cadence), hello
		// retry while connecting. An idle agent wakes about once a second, plus clock pings.
		int64_t wait = cfg_.helloRetry.count();
		if (state_ == State::Registered)
			wait = std::clamp<int64_t>((nextHeartbeatMono_ - now) / clk::kMs + 1, 0, heartbeatMs_);
		else if (lastHelloMono_)
			wait = std::clamp<int64_t>((lastHelloMono_ + cfg_.helloRetry.count() * clk::kMs - now) / clk::kMs + 1,
						   0, cfg_.helloRetry.count());
		if (faults_->size()) {
			const int64_t due = std::min(faults_->nextDeadline(), lastControllerMono_ + leaseMs_ * clk::kMs);
			wait = std::clamp<int64_t>((due - now) / clk::kMs + 1, 0, wait);
		}
		flushEvidence(now);
		if (now >= nextTrimMono_) {
			// A spooled or buffered backlog (an outage's worth of samples) is freed once acked; give it back.
			::malloc_trim(0);
			nextTrimMono_ = now + 30 * clk::kSec;
		}
		if (recorder_->recordings())
			wait = std::clamp<int64_t>((recorder_->nextWake(now) - now) / clk::kMs + 1, 0, wait);
		try {
			zmq::poll(items, 2, std::chrono::milliseconds(wait));
		} catch (const zmq::error_t &e) {
			if (e.num() == EINTR)
				continue;
			lg->error("poll: {}", e.what());
			return 1;
		}
		if (items[1].revents & ZMQ_POLLIN) {
			transport::Monitor::Event ev;
			while (mon_ && mon_->read(ev)) {
				if (ev.event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
					state_ = State::Connecting;
					handshakeMono_ = clk::monoNs();
					sendHello();
				} else if (ev.event == ZMQ_EVENT_DISCONNECTED) {
					if (state_ == State::Registered)
						lg->warn("disconnected from the controller");
					state_ = State::Connecting;
					lastHelloMono_ = 0;
				} else {
					// libzmq does not retry a connection refused at the handshake: start over with a new
					// socket after a pause, so an agent whose key is added later gets in on its own.
					const int64_t nowLog = clk::monoNs();
					if (lastAuthLog_ == 0 || nowLog - lastAuthLog_ > 60 * clk::kSec) {
						lg->warn("handshake with {} failed ({}): check controller_key and that this "
							 "agent's key is on the controller's allow-list; retrying every {} s",
							 ev.address, transport::eventName(ev.event), kAuthRetryMs / 1000);
						lastAuthLog_ = nowLog;
					}
					backoffMs_ = kAuthRetryMs;
					scheduleReconnect();
					break;
				}
			}
		}
		if (sock_ && (items[0].revents & ZMQ_POLLIN)) {
			for (int i = 0; i < 1000 && sock_; i++) {
				zmq::message_t msg;
				try {
					if (!sock_->recv(msg, zmq::recv_flags::dontwait))
						break;
				} catch (const zmq::error_t &) {
					break;
				}
				const int64_t recvWall = clk::wallNs();
				if (msg.more()) {
					// Our protocol is one part per message; drain and count the rest.
					drops_.add(Drop::Malformed);
					while (msg.more() && sock_->recv(msg, zmq::recv_flags::dontwait)) {
					}
					continue;
				}
				onFrame(msg, recvWall);
			}
		}
	}
	if (sock_ && state_ == State::Registered) {
		send(Bye{"agent stopping"});
		// Give the goodbye a moment to leave; linger is 0 otherwise.
		sock_->set(zmq::sockopt::linger, 200);
	}
	closeSocket();
	recorder_.reset();
	// A stopping agent takes its faults with it (SIGKILL leaves them to the kernel timeouts and the next start).
	if (faults_ && faults_->size())
		faults_->revert("*", "agent stopping");
	lg->info("agent stopped");
	return 0;
}

} // namespace xdc::agent
