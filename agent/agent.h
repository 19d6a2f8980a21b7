// SPDX-License-Identifier: Apache-2.0
// The agent: keeps one authenticated connection to the controller, registers, heartbeats, answers clock pings and
// runs commands from its fixed table.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

#include <zmq.hpp>

#include "agent/config.h"
#include "agent/data/generate.h"
#include "agent/evidence/recorder.h"
#include "agent/faults/fault_manager.h"
#include "common/proto/codec.h"
#include "common/transport/curve.h"
#include "common/transport/socket.h"

namespace xdc::agent {

// One entry of the command table: decodes its own typed arguments from msgpack and returns msgpack.
using CommandHandler = std::function<Result<proto::Bytes>(const proto::Bytes &args)>;

class Agent {
public:
	Agent(AgentConfig cfg, std::map<std::string, std::string> capabilities);
	~Agent();

	// Adds a command to the fixed table. Only called during set-up, before run().
	void addCommand(const std::string &name, CommandHandler handler);
	// Runs until stop() is called (from any thread or a signal handler). Returns the process exit code.
	int run();
	void stop() { stopping_.store(true); }

	const proto::DropCounters &drops() const { return drops_; }

private:
	void openSocket();
	void closeSocket();
	void scheduleReconnect();
	void sendHello();
	void sendHeartbeat();
	void onFrame(const zmq::message_t &msg, int64_t recvWallNs);
	void onCommand(const proto::Frame &f);
	template<typename T>
	void send(const T &msg);

	AgentConfig cfg_;
	std::map<std::string, std::string> caps_;
	transport::KeyPair keys_;
	std::string serverKey_;
	zmq::context_t ctx_;
	std::unique_ptr<zmq::socket_t> sock_;
	std::unique_ptr<transport::Monitor> mon_;
	int socketGen_ = 0;
	std::map<std::string, CommandHandler> commands_;
	proto::DropCounters drops_;
	std::atomic<bool> stopping_{false};
	std::mt19937_64 rng_;

	enum class State { Waiting, Connecting, Registered };
	State state_ = State::Waiting;
	int64_t nextConnectMono_ = 0;
	int64_t backoffMs_ = 100;
	int64_t lastHeardMono_ = 0;
	int64_t handshakeMono_ = 0; // when the current connection's CURVE handshake succeeded
	int64_t lastHelloMono_ = 0;
	int64_t lastAuthLog_ = 0;
	int64_t nextHeartbeatMono_ = 0;
	int64_t nextTrimMono_ = 0; // malloc_trim cadence: memory freed after a backlog drains goes back to the system
	int64_t heartbeatMs_ = 1000;
	int64_t startMono_ = 0;
	int64_t startWall_ = 0;
	uint64_t msgId_ = 0;
	uint64_t hbSeq_ = 0;
	int64_t ackT1_ = 0, ackT2_ = 0; // the last HeartbeatAck's t1 and when it arrived, for the next heartbeat
	uint8_t protoVersion_ = proto::kVersion;
	std::string controllerId_;
	bool controllerFaultEvents_ = false; // the controller's Welcome asked for FaultEvent
	std::unique_ptr<FaultManager> faults_;
	std::unique_ptr<Recorder> recorder_;
	std::unique_ptr<DataGenerators> generators_; // data.generate.*: test tuples made on this host
	void flushEvidence(int64_t nowMono);
	int64_t lastControllerMono_ = 0; // last frame from the controller: the lease runs from here
	int64_t leaseMs_ = 5000;
	std::string exemptAddr_;
	int exemptPort_ = 0;
	// Nonces of commands seen, with the monotonic time after which they can be forgotten (their deadline).
	std::unordered_map<uint64_t, int64_t> nonces_;
};

} // namespace xdc::agent
