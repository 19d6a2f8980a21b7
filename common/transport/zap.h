// SPDX-License-Identifier: Apache-2.0
// The ZAP handler that decides which CURVE clients may connect: only keys on the allow-list, each mapped to the one
// agent id it may speak as. Without a bound handler libzmq would accept any client that knows the server key, so
// the controller constructs this first and refuses to start if it cannot.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "common/result.h"
#include "common/transport/curve.h"

namespace xdc::transport {

class ZapHandler {
public:
	// Binds inproc://zeromq.zap.01 on ctx. Call before binding any CURVE server socket on the same context.
	static Result<std::unique_ptr<ZapHandler>> create(zmq::context_t &ctx, AllowList allow);

	// The REP socket to poll; call handle() when it is readable.
	zmq::socket_t &socket() { return sock_; }
	// Answers one pending ZAP request; returns false when none was waiting. Never throws; a malformed request is
	// answered with 500.
	bool handle();
	// Swaps in a new allow-list (takes effect for the next handshake).
	void setAllowList(AllowList allow) { allow_ = std::move(allow); }

	uint64_t accepted() const { return accepted_; }
	uint64_t refused() const { return refused_; }

private:
	explicit ZapHandler(zmq::context_t &ctx);
	zmq::socket_t sock_;
	AllowList allow_;
	uint64_t accepted_ = 0;
	uint64_t refused_ = 0;
	// Refusals are logged once per key per minute so a rogue agent in a reconnect loop cannot flood the log.
	std::map<std::string, int64_t> lastLogged_;
	std::map<std::string, uint64_t> suppressed_;
};

} // namespace xdc::transport
