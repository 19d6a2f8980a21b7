// SPDX-License-Identifier: Apache-2.0
// Simulated agents: the per-thread poll loop and the agent side of the protocol.
#include "bench/support/sim_fleet.h"

#include <random>
#include <unistd.h>

#include <zmq.hpp>

#include "common/clock.h"
#include "common/proto/codec.h"
#include "common/transport/socket.h"

namespace xdc::bench {

using namespace xdc::proto;

namespace {

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
};

} // namespace

SimFleet::SimFleet(SimFleetOptions o) : o_(std::move(o)) {}

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

	auto send = [&](Sim &s, const std::string &bytes) {
		try {
			(void)s.sock->send(zmq::buffer(bytes), zmq::send_flags::dontwait);
		} catch (const zmq::error_t &) {
		}
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
		send(s, encode(h, header(s)));
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
	std::vector<zmq::pollitem_t> items;
	for (auto &s : sims) {
		items.push_back({s.sock->handle(), 0, ZMQ_POLLIN, 0});
		items.push_back({s.mon->socket().handle(), 0, ZMQ_POLLIN, 0});
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
			s.nextHeartbeatMono = clk::monoNs() + s.heartbeatMs * clk::kMs;
			setRegistered(s, true);
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
			auto args = unpackBytes<PingArgs>(c->args);
			r.ok = c->name == "ping" && args.ok();
			if (r.ok)
				r.data = packBytes(PingReply{args->text, clk::wallNs()});
			else
				r.code = "unknown_command";
			r.doneNs = clk::wallNs();
			send(s, encode(r, header(s)));
			commands_++;
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

	while (!stopping_.load()) {
		try {
			zmq::poll(items.data(), items.size(), std::chrono::milliseconds(50));
		} catch (const zmq::error_t &) {
			continue;
		}
		for (size_t i = 0; i < sims.size(); i++) {
			Sim &s = sims[i];
			if (items[2 * i + 1].revents & ZMQ_POLLIN) {
				transport::Monitor::Event ev;
				while (s.mon->read(ev)) {
					if (ev.event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
						if (!xdcMode)
							setRegistered(s, true);
						hello(s);
					} else if (ev.event == ZMQ_EVENT_DISCONNECTED) {
						setRegistered(s, false);
						s.lastHelloMono = 0;
					}
				}
			}
			if (items[2 * i].revents & ZMQ_POLLIN) {
				for (int k = 0; k < 100; k++) {
					zmq::message_t m;
					try {
						if (!s.sock->recv(m, zmq::recv_flags::dontwait))
							break;
					} catch (const zmq::error_t &) {
						break;
					}
					onFrame(s, m, clk::wallNs());
				}
			}
		}
		if (!xdcMode)
			continue;
		// Timers, as in Agent::run: heartbeats while registered, hello retries while not.
		const int64_t now = clk::monoNs();
		for (auto &s : sims) {
			if (s.registered && now >= s.nextHeartbeatMono) {
				Heartbeat hb;
				hb.seq = ++s.hbSeq;
				hb.uptimeMs = 0;
				send(s, encode(hb, header(s)));
				s.nextHeartbeatMono = now + s.heartbeatMs * clk::kMs;
			} else if (!s.registered && s.lastHelloMono && now - s.lastHelloMono > 1000 * clk::kMs) {
				hello(s);
			}
		}
	}
	for (auto &s : sims) {
		setRegistered(s, false);
		s.mon.reset();
		s.sock.reset();
	}
}

} // namespace xdc::bench
