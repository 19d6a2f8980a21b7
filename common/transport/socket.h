// SPDX-License-Identifier: Apache-2.0
// Socket options shared by both ends, and the monitor that reports handshake failures and disconnects.
#pragma once

#include <cstddef>
#include <string>

#include <zmq.hpp>

#include "common/proto/protocol.h"
#include "common/result.h"

namespace xdc::transport {

// Neither end sends ZMTP PINGs. The agent's heartbeats and their acks cross every second; the agent reconnects after
// three silent intervals (before registration, after three unanswered hellos) and the controller marks an agent lost
// after `lost_after` missed heartbeats. PINGs would add four CURVE messages a second per agent, and each PING arms a
// libzmq timer that is cancelled by a linear scan of all timers (poller_base_t::cancel_timer), which made the
// controller's I/O thread quadratic in the fleet: at 7,500 agents half its time went there. The controller's ROUTER
// instead has the kernel find dead connections (deadPeerMs: TCP keepalive from 10 s idle, and TCP_USER_TIMEOUT for
// unacknowledged data), so a connection whose agent vanished behind a black-holed path is closed within about 30 s
// without any per-connection timer in libzmq.
struct SocketOptions {
	int heartbeatIvlMs = 0;        // ZMTP PING interval; 0 = none (both ends, see above)
	int heartbeatTimeoutMs = 3000;
	int backlog = 4096;            // 1,000 agents reconnecting at once overflow the default of 100
	int hwm = 100000;
	size_t maxFrame = proto::kDefaultMaxFrame;
	int reconnectIvlMs = 100;      // DEALER only; jittered per socket
	int reconnectIvlMaxMs = 1000;
	int connectTimeoutMs = 500;
	int deadPeerMs = 0;            // > 0: TCP keepalive and TCP_USER_TIMEOUT close a silent peer's connection
};

// Frames above this size make libzmq drop the connection; between maxFrame and this they are received and counted
// as oversized, so a peer that sends one big frame is told off without losing its connection.
size_t hardFrameCap(size_t maxFrame);

void applyCommon(zmq::socket_t &s, const SocketOptions &o);
// The options of the controller's ROUTER (and of the benchmarks' raw stand-in for it): dead peers found by the
// kernel within 30 s.
SocketOptions serverOptions();

// The CURVE server side: our secret key, ZAP domain "xdc".
void makeCurveServer(zmq::socket_t &s, const std::string &secretKey);
// The CURVE client side: our key pair and the server's public key.
void makeCurveClient(zmq::socket_t &s, const std::string &publicKey, const std::string &secretKey,
		     const std::string &serverKey);

// A socket monitor delivering ZMQ_EVENT_* values through a PAIR socket that the owner polls.
class Monitor {
public:
	Monitor(zmq::context_t &ctx, zmq::socket_t &watched, const std::string &name, int events);
	zmq::socket_t &socket() { return pair_; }
	struct Event {
		uint16_t event = 0;
		int32_t value = 0;
		std::string address;
	};
	// Reads one event if there is one.
	bool read(Event &ev);

private:
	zmq::socket_t pair_;
};

std::string eventName(uint16_t event);

} // namespace xdc::transport
