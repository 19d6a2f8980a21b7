// SPDX-License-Identifier: Apache-2.0
// Simulated agents: many CURVE DEALERs in a few threads, each with its own key, speaking the agent side of the xdc
// protocol (or, as a baseline, echoing raw bytes) with the socket options and reconnect behaviour of the real agent.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/transport/curve.h"

namespace xdc::bench {

struct SimFleetOptions {
	enum class Mode {
		Xdc,  // Hello on each handshake, heartbeats, ClockPong, CommandResult for "ping"
		Echo, // "hello" on each handshake, then every message answered with echoBytes bytes
	};
	Mode mode = Mode::Xdc;
	std::string endpoint;
	std::string serverKey; // Z85
	std::vector<std::pair<std::string, transport::KeyPair>> agents;
	size_t echoBytes = 100;
	int threads = 2;
	std::string dc = "bench";
};

class SimFleet {
public:
	explicit SimFleet(SimFleetOptions o);
	~SimFleet() { stop(); }
	SimFleet(const SimFleet &) = delete;
	SimFleet &operator=(const SimFleet &) = delete;

	void start();
	void stop();
	// Xdc: agents whose last Welcome accepted them and that have not been disconnected since. Echo: agents whose
	// last handshake succeeded.
	int64_t registered() const { return registered_.load(); }
	uint64_t commandsAnswered() const { return commands_.load(); }
	uint64_t byes() const { return byes_.load(); }
	uint64_t refusals() const { return refused_.load(); }

private:
	void worker(size_t first, size_t last, int index);

	SimFleetOptions o_;
	std::vector<std::thread> threads_;
	std::atomic<bool> stopping_{false};
	std::atomic<int64_t> registered_{0};
	std::atomic<uint64_t> commands_{0};
	std::atomic<uint64_t> byes_{0};
	std::atomic<uint64_t> refused_{0};
};

} // namespace xdc::bench
