// SPDX-License-Identifier: Apache-2.0
// Socket options shared by both ends, and the monitor that reports handshake failures and disconnects.
#pragma once

#include <cstddef>
#include <string>

#include <zmq.hpp>

#include "common/proto/protocol.h"
#include "common/result.h"

namespace xdc::transport {

struct SocketOptions {
	int heartbeatIvlMs = 1000;     // ZMTP PING interval: a black-holed peer is noticed even with no traffic
	int heartbeatTimeoutMs = 3000;
	int backlog = 4096;            // 1,000 agents reconnecting at once overflow the default of 100
	int hwm = 100000;
	size_t maxFrame = proto::kDefaultMaxFrame;
	int reconnectIvlMs = 100;      // DEALER only; jittered per socket
	int reconnectIvlMaxMs = 1000;
	int connectTimeoutMs = 500;
};

// Frames above this size make libzmq drop the connection; between maxFrame and this they are received and counted
// as oversized, so a peer that sends one big frame is told off without losing its connection.
size_t hardFrameCap(size_t maxFrame);

void applyCommon(zmq::socket_t &s, const SocketOptions &o);

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
