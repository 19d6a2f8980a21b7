// SPDX-License-Identifier: Apache-2.0
// Simulated agents: the per-thread poll loop and the agent side of the protocol.
#include "bench/support/sim_fleet.h"

#include <deque>
#include <map>
#include <random>
#include <sys/epoll.h>
#include <unistd.h>

#include <yaml-cpp/yaml.h>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/proto/codec.h"
#include "common/transport/socket.h"

namespace xdc::bench {

using namespace xdc::proto;

namespace {

// One recording on one simulated agent: sequence numbers are taken at `rate` from startMono; samples 1..taken exist,
// 1..acked are acknowledged, 1..sent have been put into batches.
struct SimRec {
	std::vector<std::pair<std::string, std::string>> samplers; // (name, kind) in spec order; seq goes round-robin
	double rate = 100;
	int64_t startMono = 0, startWall = 0, stopWall = 0;
	uint64_t taken = 0, sent = 0, acked = 0;
	bool stopped = false;
	int64_t oldestUnsentMono = 0;                    // when the first sample not yet sent was taken
	std::deque<std::pair<uint64_t, int64_t>> inflight; // (last seq of a batch, mono at send)
};

// Names and kinds of the specs the controller sent, read with yaml-cpp only (the sim must not depend on the spec
// parser): `name`, else `kind`, else "sampler<i>".
std::vector<std::pair<std::string, std::string>> samplerNames(const std::vector<std::string> &specs)
{
	std::vector<std::pair<std::string, std::string>> out;
	for (size_t i = 0; i < specs.size(); i++) {
		std::string name, kind;
		try {
			YAML::Node n = YAML::Load(specs[i]);
			if (n.IsMap()) {
				if (n["kind"] && n["kind"].IsScalar())
					kind = n["kind"].as<std::string>();
				if (n["name"] && n["name"].IsScalar())
					name = n["name"].as<std::string>();
			}
		} catch (const YAML::Exception &) {
		}
		if (kind.empty())
			kind = "probe.tcp";
		if (name.empty())
			name = fmt::format("sampler{}", i);
		out.push_back({name, kind});
	}
	if (out.empty())
		out.push_back({"sampler0", "probe.tcp"});
	return out;
}

struct Sim {
	std::string id;
	transport::KeyPair keys;
	std::unique_ptr<zmq::socket_t> sock;
	std::unique_ptr<transport::Monitor> mon;
	bool registered = false;
	int64_t lastHelloMono = 0;
	int64_t nextHeartbeatMono = 0;
	int64_t heartbeatMs = 1000;
	uint64_t hbSeq = 0;
	uint64_t msgId = 0;
	std::map<std::string, SimRec> recs;
	std::string probeTarget; // the tags.target of its samples: an address of the "other DC"
	std::map<std::string, std::string> labels;
	// The clock exchange on heartbeats: the t1 of the last HeartbeatAck that carried one and when it arrived.
	int64_t clockT1 = 0, clockT2 = 0;
	bool faultEvents = false; // the controller's Welcome takes FaultEvent
	// Simulated faults: applies waiting for their start instant (agent wall clock) and faults in place.
	struct SimFault {
		std::string id, kind;
		uint64_t commandId = 0;
		int64_t receivedNs = 0, startNs = 0, endNs = 0;
	};
	std::vector<SimFault> waiting, running;
};

// The kind named in a fault spec (YAML flow), read with yaml-cpp only.
std::string specKind(const std::string &spec)
{
	try {
		YAML::Node n = YAML::Load(spec);
		if (n.IsMap() && n["kind"] && n["kind"].IsScalar())
			return n["kind"].as<std::string>();
	} catch (const YAML::Exception &) {
	}
	return "unknown";
}

} // namespace

SimFleet::SimFleet(SimFleetOptions o) : o_(std::move(o)) { rate_.store(o_.evidenceRate); }

EvidenceCounters SimFleet::evidence() const
{
	EvidenceCounters c;
	c.taken = evTaken_.load();
	c.sent = evSent_.load();
	c.acked = evAcked_.load();
	c.batches = evBatches_.load();
	c.acks = evAcks_.load();
	c.starts = evStarts_.load();
	c.stops = evStops_.load();
	c.refusedStarts = evRefused_.load();
	c.windowFull = evWindowFull_.load();
	return c;
}

std::vector<double> SimFleet::takeAckLatencies()
{
	std::lock_guard<std::mutex> lk(latMu_);
	std::vector<double> v;
	v.swap(latencies_);
	return v;
}

uint64_t SimFleet::evidenceBacklog() const
{
	const uint64_t a = evAcked_.load();
	const uint64_t t = evTaken_.load();
	return t > a ? t - a : 0;
}

void SimFleet::start()
{
	stopping_ = false;
	const size_t n = o_.agents.size();
	const size_t t = static_cast<size_t>(std::max(1, o_.threads));
	for (size_t i = 0; i < t; i++) {
		const size_t first = n * i / t, last = n * (i + 1) / t;
		if (first < last)
			threads_.emplace_back([this, first, last, i] { worker(first, last, static_cast<int>(i)); });
	}
}

void SimFleet::stop()
{
	stopping_ = true;
	for (auto &th : threads_)
		th.join();
	threads_.clear();
}

void SimFleet::worker(size_t first, size_t last, int index)
{
	zmq::context_t ctx(1);
	ctx.set(zmq::ctxopt::max_sockets, 16384);
	std::mt19937_64 rng(std::random_device{}() + static_cast<uint64_t>(index));
	std::vector<Sim> sims(last - first);
	const bool xdcMode = o_.mode == SimFleetOptions::Mode::Xdc;
	const std::string echo(o_.echoBytes, 'e');

	// Sockets to look at before the next wait: a send may have taken the socket's wake-up signal along with it
	// (libzmq processes pending commands on any operation), so a socket we sent on is read until it is empty.
	std::vector<char> dirty(sims.size(), 0);
	std::vector<size_t> dirtyList;
	auto markDirty = [&](size_t i) {
		if (!dirty[i]) {
			dirty[i] = 1;
			dirtyList.push_back(i);
		}
	};
	auto send = [&](Sim &s, const std::string &bytes) {
		try {
			(void)s.sock->send(zmq::buffer(bytes), zmq::send_flags::dontwait);
		} catch (const zmq::error_t &) {
		}
		markDirty(static_cast<size_t>(&s - sims.data()));
	};
	auto header = [&](Sim &s) {
		Header h;
		h.id = ++s.msgId;
		h.sender = s.id;
		h.wallNs = clk::wallNs();
		h.monoNs = clk::monoNs();
		return h;
	};
	auto hello = [&](Sim &s) {
		s.lastHelloMono = clk::monoNs();
		if (!xdcMode)
			return send(s, "hello");
		Hello h;
		h.agentId = s.id;
		h.host = s.id;
		h.dc = o_.dc;
		h.version = "bench";
		h.startedNs = clk::wallNs();
		h.pid = static_cast<int32_t>(::getpid());
		h.labels = s.labels;
		h.clockOnHeartbeat = o_.clockOnHeartbeat;
		s.clockT1 = 0;
		for (const auto &f : s.running)
			h.runningFaults.push_back({f.id, f.kind, "simulated", f.startNs, f.endNs, ""});
		send(s, encode(h, header(s)));
	};
	std::vector<double> localLat;
	std::uniform_real_distribution<double> jitter(0.0, 1.0);
	// Sample `seq` of a recording: probe.tcp-shaped (values ok, latency_ms, timeout_ms; tags target, error), timed
	// when its slot was due; one in 1,000 a timeout, so the values are not all alike.
	auto makeSample = [&](const Sim &s, const SimRec &r, uint64_t seq) {
		Sample x;
		x.seq = seq;
		const auto &[name, kind] = r.samplers[(seq - 1) % r.samplers.size()];
		x.kind = kind;
		x.source = name;
		const int64_t off = static_cast<int64_t>(static_cast<double>(seq - 1) * 1e9 / r.rate);
		x.wallNs = r.startWall + off;
		x.monoNs = r.startMono + off;
		const bool fail = seq % 1000 == 0;
		x.values["ok"] = fail ? 0.0 : 1.0;
		x.values["latency_ms"] = fail ? 10.0 : 0.08 + 0.4 * jitter(rng) * jitter(rng);
		x.values["timeout_ms"] = 10.0;
		x.tags["target"] = s.probeTarget;
		x.tags["error"] = fail ? "timeout" : "";
		return x;
	};
	// The outbox, as Recorder::nextBatch: full batches as soon as they are full, a partial one once its oldest
	// sample waited flushMs, within the window beyond the ack.
	auto pump = [&](Sim &s, int64_t now) {
		if (!s.registered)
			return;
		for (auto &[id, r] : s.recs) {
			while (r.sent < r.taken) {
				const uint64_t unsent = r.taken - r.sent;
				const bool due = unsent >= o_.evidenceBatchSamples ||
						 now - r.oldestUnsentMono >= o_.evidenceFlushMs * clk::kMs || r.stopped;
				if (!due)
					break;
				const uint64_t limit = r.acked + o_.evidenceWindow;
				const uint64_t room = limit > r.sent ? limit - r.sent : 0;
				const uint64_t n = std::min<uint64_t>({unsent, room, o_.evidenceBatchSamples});
				if (n == 0) {
					evWindowFull_++;
					break;
				}
				EvidenceBatch b;
				b.recording = id;
				b.samples.reserve(n);
				for (uint64_t q = r.sent + 1; q <= r.sent + n; q++)
					b.samples.push_back(makeSample(s, r, q));
				send(s, encode(b, header(s)));
				r.sent += n;
				r.inflight.push_back({r.sent, now});
				r.oldestUnsentMono = now;
				evSent_ += n;
				evBatches_++;
			}
		}
	};
	auto setRegistered = [&](Sim &s, bool on) {
		if (s.registered != on)
			registered_ += on ? 1 : -1;
		s.registered = on;
	};

	// Opened the way Agent::openSocket does: jittered reconnect, immediate, CURVE client, a handshake monitor.
	for (size_t i = 0; i < sims.size(); i++) {
		Sim &s = sims[i];
		s.id = o_.agents[first + i].first;
		s.keys = o_.agents[first + i].second;
		s.probeTarget = fmt::format("10.2.{}.{}:7000", (first + i) / 250 % 250, (first + i) % 250 + 2);
		if (o_.groups > 0)
			s.labels["group"] = fmt::format("g{}", (o_.indexBase + first + i) % static_cast<size_t>(o_.groups));
		s.sock = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::dealer);
		transport::SocketOptions so;
		so.reconnectIvlMs = std::uniform_int_distribution<int>(50, 150)(rng);
		transport::applyCommon(*s.sock, so);
		s.sock->set(zmq::sockopt::reconnect_ivl, so.reconnectIvlMs);
		s.sock->set(zmq::sockopt::reconnect_ivl_max, so.reconnectIvlMaxMs);
		s.sock->set(zmq::sockopt::connect_timeout, so.connectTimeoutMs);
		s.sock->set(zmq::sockopt::immediate, 1);
		transport::makeCurveClient(*s.sock, s.keys.publicKey, s.keys.secretKey, o_.serverKey);
		s.mon = std::make_unique<transport::Monitor>(ctx, *s.sock, "sim." + s.id,
							     ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);
		s.sock->connect(o_.endpoint);
	}
	// One epoll set over every socket's and monitor's ZMQ_FD: a wake-up costs what is ready, not the whole fleet
	// (zmq_poll over thousands of sockets per wake-up made the simulator, not the controller, the bottleneck).
	const int ep = ::epoll_create1(EPOLL_CLOEXEC);
	for (size_t i = 0; i < sims.size(); i++) {
		for (int m = 0; m < 2; m++) {
			zmq::socket_t &z = m ? sims[i].mon->socket() : *sims[i].sock;
			epoll_event ev{};
			ev.events = EPOLLIN;
			ev.data.u64 = i * 2 + static_cast<uint64_t>(m);
			::epoll_ctl(ep, EPOLL_CTL_ADD, z.get(zmq::sockopt::fd), &ev);
		}
		markDirty(i);
	}

	auto onFrame = [&](Sim &s, const zmq::message_t &m, int64_t recvWall) {
		if (!xdcMode) {
			send(s, echo);
			return;
		}
		auto fr = decodeFrame({static_cast<const uint8_t *>(m.data()), m.size()});
		if (!fr.ok())
			return;
		const Frame &f = fr.frame();
		switch (f.header.type) {
		case MsgType::Welcome: {
			auto w = decodeBody<Welcome>(f.body);
			if (!w || !w->accepted) {
				refused_++;
				return;
			}
			s.heartbeatMs = std::clamp<int64_t>(w->heartbeatMs, 100, 60000);
			s.faultEvents = w->faultEvents;
			s.nextHeartbeatMono = clk::monoNs() + s.heartbeatMs * clk::kMs;
			setRegistered(s, true);
			return;
		}
		case MsgType::HeartbeatAck: {
			auto a = decodeBody<HeartbeatAck>(f.body);
			if (a && a->t1 > 0) {
				s.clockT1 = a->t1;
				s.clockT2 = recvWall;
			}
			return;
		}
		case MsgType::ClockPing: {
			auto p = decodeBody<ClockPing>(f.body);
			if (!p)
				return;
			send(s, encode(ClockPong{p->seq, p->t1, recvWall, clk::wallNs()}, header(s)));
			return;
		}
		case MsgType::Command: {
			auto c = decodeBody<Command>(f.body);
			if (!c)
				return;
			CommandResult r;
			r.commandId = c->id;
			r.receivedNs = recvWall;
			if (c->name == "ping") {
				auto args = unpackBytes<PingArgs>(c->args);
				r.ok = args.ok();
				if (r.ok)
					r.data = packBytes(PingReply{args->text, clk::wallNs()});
				else
					r.code = "protocol";
			} else if (c->name == "fault.apply") {
				auto args = unpackBytes<FaultApplyArgs>(c->args);
				if (!args) {
					r.code = "protocol";
				} else if (args->dryRun) {
					FaultApplyReply rep;
					rep.id = args->id;
					rep.mechanism = "simulated";
					r.ok = true;
					r.data = packBytes(rep);
				} else {
					// Answered at the start instant, as the agent answers once the change is made.
					const int64_t start = std::max(args->startAtNs, recvWall);
					s.waiting.push_back({args->id, specKind(args->spec), c->id, recvWall, start,
							     start + args->durationMs * clk::kMs});
					return;
				}
			} else if (c->name == "fault.revert") {
				auto args = unpackBytes<FaultRevertArgs>(c->args);
				if (!args) {
					r.code = "protocol";
				} else {
					FaultRevertReply rep;
					for (const auto &x : s.running)
						if (args->id == "*" || x.id == args->id)
							rep.reverted.push_back(x.id);
					std::erase_if(s.running, [&](const auto &x) {
						return args->id == "*" || x.id == args->id;
					});
					rep.verifiedNs = clk::wallNs();
					r.ok = true;
					r.data = packBytes(rep);
				}
			} else if (c->name == "evidence.start") {
				auto args = unpackBytes<EvidenceStartArgs>(c->args);
				if (!args) {
					r.code = "protocol";
				} else if (s.recs.count(args->recording)) {
					r.code = "exists";
					r.message = "recording " + args->recording + " runs already";
					evRefused_++;
				} else {
					SimRec rec;
					rec.samplers = samplerNames(args->specs);
					rec.rate = std::max(0.1, rate_.load());
					rec.startMono = clk::monoNs();
					rec.startWall = clk::wallNs();
					rec.oldestUnsentMono = rec.startMono;
					EvidenceStartReply rep;
					rep.recording = args->recording;
					for (const auto &nk : rec.samplers)
						rep.samplers.push_back(nk.first);
					rep.startedNs = rec.startWall;
					s.recs[args->recording] = std::move(rec);
					r.ok = true;
					r.data = packBytes(rep);
					evStarts_++;
				}
			} else if (c->name == "evidence.stop") {
				auto args = unpackBytes<EvidenceStopArgs>(c->args);
				auto it = args ? s.recs.find(args->recording) : s.recs.end();
				if (!args) {
					r.code = "protocol";
				} else if (it == s.recs.end()) {
					r.code = "not_found";
					r.message = "no recording " + args->recording;
				} else {
					SimRec &rec = it->second;
					if (!rec.stopped) {
						rec.stopped = true;
						rec.stopWall = clk::wallNs();
						evStops_++;
					}
					EvidenceStopReply rep;
					rep.recording = args->recording;
					rep.lastSeq = rec.taken;
					const uint64_t k = rec.samplers.size();
					for (uint64_t i = 0; i < k; i++)
						rep.counts[rec.samplers[i].first] =
							rec.taken / k + (i < rec.taken % k ? 1 : 0);
					for (const auto &nk : rec.samplers)
						rep.missed[nk.first] = 0;
					rep.startedNs = rec.startWall;
					rep.stoppedNs = rec.stopWall;
					r.ok = true;
					r.data = packBytes(rep);
				}
			} else {
				r.code = "unknown_command";
			}
			r.doneNs = clk::wallNs();
			send(s, encode(r, header(s)));
			commands_++;
			return;
		}
		case MsgType::EvidenceAck: {
			auto a = decodeBody<EvidenceAck>(f.body);
			if (!a)
				return;
			evAcks_++;
			auto it = s.recs.find(a->recording);
			if (it == s.recs.end())
				return;
			SimRec &rec = it->second;
			const uint64_t ack = std::min(a->ackSeq, rec.sent);
			if (ack > rec.acked) {
				evAcked_ += ack - rec.acked;
				rec.acked = ack;
			}
			const int64_t now = clk::monoNs();
			while (!rec.inflight.empty() && rec.inflight.front().first <= ack) {
				localLat.push_back(static_cast<double>(now - rec.inflight.front().second) / 1e6);
				rec.inflight.pop_front();
			}
			// Stopped and everything acked: the agent forgets the recording.
			if (rec.stopped && rec.acked == rec.taken)
				s.recs.erase(it);
			return;
		}
		case MsgType::Bye:
			byes_++;
			setRegistered(s, false);
			hello(s);
			return;
		default:
			return;
		}
	};

	// Simulated faults: an apply is answered at its start instant; a fault in place ends when its duration
	// elapsed, pushed as a FaultEvent to a controller that takes them.
	auto faultTimers = [&](Sim &s, int64_t wall) {
		for (auto it = s.waiting.begin(); it != s.waiting.end();) {
			if (it->startNs > wall) {
				++it;
				continue;
			}
			FaultApplyReply rep;
			rep.id = it->id;
			rep.mechanism = "simulated";
			rep.requestedNs = it->receivedNs;
			rep.appliedNs = wall;
			rep.verifiedNs = wall;
			rep.expiresNs = it->endNs;
			rep.lateNs = wall - it->startNs;
			CommandResult r;
			r.commandId = it->commandId;
			r.receivedNs = it->receivedNs;
			r.ok = true;
			r.data = packBytes(rep);
			r.doneNs = clk::wallNs();
			send(s, encode(r, header(s)));
			commands_++;
			faultsApplied_++;
			s.running.push_back(*it);
			it = s.waiting.erase(it);
		}
		for (auto it = s.running.begin(); it != s.running.end();) {
			if (it->endNs > wall) {
				++it;
				continue;
			}
			if (s.registered && s.faultEvents)
				send(s, encode(FaultEvent{it->id, it->kind, "reverted", "duration elapsed", wall, wall, ""},
					       header(s)));
			faultEnds_++;
			it = s.running.erase(it);
		}
	};

	auto readMonitor = [&](Sim &s) {
		transport::Monitor::Event ev;
		while (s.mon->read(ev)) {
			if (ev.event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
				if (!xdcMode)
					setRegistered(s, true);
				hello(s);
			} else if (ev.event == ZMQ_EVENT_DISCONNECTED) {
				setRegistered(s, false);
				s.lastHelloMono = 0;
				// Go-back-N: whatever was not acked goes again after the next Welcome.
				for (auto &[rid, rec] : s.recs) {
					rec.sent = rec.acked;
					rec.inflight.clear();
				}
			}
		}
	};
	// Reads up to 100 frames; true when the socket may hold more.
	auto readSocket = [&](Sim &s) {
		for (int k = 0; k < 100; k++) {
			zmq::message_t m;
			try {
				if (!s.sock->recv(m, zmq::recv_flags::dontwait))
					return false;
			} catch (const zmq::error_t &) {
				return false;
			}
			onFrame(s, m, clk::wallNs());
		}
		return true;
	};
	bool recording = false, faultDue = false;
	int64_t nextScan = 0;
	std::vector<epoll_event> evs(512);
	while (!stopping_.load()) {
		// While a recording runs, wake often enough to take samples and flush partial batches on time; while an
		// apply waits for its instant, closer still (the agent sleeps until it). Timers are scanned every 5 ms.
		const int64_t t = clk::monoNs();
		const int64_t cadence = faultDue ? 1 : 5;
		if (!xdcMode)
			nextScan = t + 50 * clk::kMs; // echo peers have no timers
		const int waitMs = !dirtyList.empty() ? 0
				   : static_cast<int>(std::clamp<int64_t>((nextScan - t) / clk::kMs + 1, 0,
									  faultDue ? 1 : recording ? 5 : 50));
		const int got = ::epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), waitMs);
		for (int e = 0; e < got; e++) {
			const size_t i = evs[e].data.u64 / 2;
			if (evs[e].data.u64 % 2)
				readMonitor(sims[i]);
			markDirty(i);
		}
		// Read what is ready; a socket sent on while this runs is looked at again before the next wait.
		for (int round = 0; round < 4 && !dirtyList.empty(); round++) {
			std::vector<size_t> work;
			work.swap(dirtyList);
			for (size_t i : work)
				dirty[i] = 0;
			for (size_t i : work) {
				Sim &s = sims[i];
				readMonitor(s);
				if (readSocket(s))
					markDirty(i);
			}
		}
		if (!xdcMode)
			continue;
		// Timers, as in Agent::run: heartbeats while registered, hello retries while not.
		const int64_t now = clk::monoNs();
		if (now < nextScan)
			continue;
		nextScan = now + cadence * clk::kMs;
		recording = faultDue = false;
		for (const auto &s : sims) {
			recording |= !s.recs.empty();
			faultDue |= !s.waiting.empty();
		}
		if (recording) {
			for (auto &s : sims) {
				for (auto &[rid, rec] : s.recs) {
					if (rec.stopped)
						continue;
					const double elapsed = static_cast<double>(now - rec.startMono);
					const auto due = static_cast<uint64_t>(elapsed * rec.rate / 1e9);
					if (due > rec.taken) {
						if (rec.sent == rec.taken)
							rec.oldestUnsentMono = now;
						evTaken_ += due - rec.taken;
						rec.taken = due;
					}
				}
				pump(s, now);
				// A stopped recording that had nothing to deliver never sees an ack: forget it here.
				std::erase_if(s.recs, [](const auto &kv) {
					return kv.second.stopped && kv.second.acked == kv.second.taken;
				});
			}
			if (!localLat.empty()) {
				std::lock_guard<std::mutex> lk(latMu_);
				latencies_.insert(latencies_.end(), localLat.begin(), localLat.end());
				localLat.clear();
			}
		}
		const int64_t wall = clk::wallNs();
		for (auto &s : sims) {
			if (!s.waiting.empty() || !s.running.empty())
				faultTimers(s, wall);
			if (s.registered && now >= s.nextHeartbeatMono) {
				Heartbeat hb;
				hb.seq = ++s.hbSeq;
				hb.uptimeMs = 0;
				hb.activeFaults = static_cast<uint32_t>(s.running.size());
				if (s.clockT1 > 0) {
					hb.clockT1 = s.clockT1;
					hb.clockT2 = s.clockT2;
					hb.clockT3 = clk::wallNs();
					s.clockT1 = 0;
				}
				send(s, encode(hb, header(s)));
				s.nextHeartbeatMono = now + s.heartbeatMs * clk::kMs;
			} else if (!s.registered && s.lastHelloMono && now - s.lastHelloMono > 1000 * clk::kMs) {
				hello(s);
			}
		}
	}
	::close(ep);
	for (auto &s : sims) {
		setRegistered(s, false);
		s.mon.reset();
		s.sock.reset();
	}
}

} // namespace xdc::bench
