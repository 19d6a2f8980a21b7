// SPDX-License-Identifier: Apache-2.0
// Simulated agents: many CURVE DEALERs in a few threads, each with its own key, speaking the agent side of the xdc
// protocol (or, as a baseline, echoing raw bytes) with the socket options and reconnect behaviour of the real agent.
//
// Recordings (evidence.start / evidence.stop): a simulated agent does not run samplers; it takes probe.tcp-shaped
// samples at a fixed rate (setEvidenceRate) from the moment a recording starts, numbers them 1, 2, ... and delivers
// them the way the agent's outbox does (agent/evidence/recorder.h): full batches at once, a partial one after at most
// the flush interval, never more than `window` samples beyond the controller's cumulative ack, and a resend from the
// ack after a reconnect. Nothing is kept per sample: a sample's contents derive from its sequence number, so a
// controller that falls behind shows up as a growing backlog (taken - acked), not as memory in the bench.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/transport/curve.h"

namespace xdc::bench {

struct SimFleetOptions {
	enum class Mode {
		Xdc,  // Hello on each handshake, heartbeats (with the clock exchange), ClockPong, CommandResult for
		      // "ping", "fault.apply" (answered at its start instant, nothing changed; a FaultEvent when its
		      // duration elapsed) and "fault.revert"
		Echo, // "hello" on each handshake, then every message answered with echoBytes bytes
	};
	Mode mode = Mode::Xdc; // Xdc also answers evidence.start / evidence.stop and streams EvidenceBatch
	std::string endpoint;
	std::string serverKey; // Z85
	std::vector<std::pair<std::string, transport::KeyPair>> agents;
	size_t echoBytes = 100;
	int threads = 2;
	std::string dc = "bench";
	// Labels: with groups > 0, agent i of this fleet carries group=g<(indexBase + i) % groups>, so a selector
	// `labels: {group: g0}` picks every groups-th agent across fleets in several processes.
	int groups = 0;
	size_t indexBase = 0;
	// As the real agent: the clock exchange rides on the heartbeats (Hello.clockOnHeartbeat) after the burst.
	bool clockOnHeartbeat = true;
	// Recordings, as the agent's RecorderOptions defaults.
	double evidenceRate = 100;           // samples per second per agent per recording (setEvidenceRate changes it)
	size_t evidenceBatchSamples = 400;   // per EvidenceBatch
	uint64_t evidenceWindow = 4000;      // samples sent beyond the last ack
	int64_t evidenceFlushMs = 50;        // a partial batch waits at most this long
};

// Totals over every simulated agent and recording since start (monotonic; subtract two snapshots for a window).
struct EvidenceCounters {
	uint64_t taken = 0;    // samples numbered (offered)
	uint64_t sent = 0;     // samples put into batches (resends included)
	uint64_t acked = 0;    // samples newly covered by an EvidenceAck
	uint64_t batches = 0;
	uint64_t acks = 0;     // EvidenceAck messages received
	uint64_t starts = 0, stops = 0, refusedStarts = 0;
	uint64_t windowFull = 0; // times a recording had samples to send but its window was full
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
	// fault.apply answered ok, and FaultEvents pushed when such a fault's duration elapsed.
	uint64_t faultsApplied() const { return faultsApplied_.load(); }
	uint64_t faultEnds() const { return faultEnds_.load(); }

	// Samples per second per agent for recordings started from now on (running ones keep theirs).
	void setEvidenceRate(double perSecond) { rate_.store(perSecond); }
	EvidenceCounters evidence() const;
	// Milliseconds from sending a batch to the first ack covering its last sample, since the previous call.
	std::vector<double> takeAckLatencies();
	// Samples taken but not yet acked, over all recordings still held by the simulated agents.
	uint64_t evidenceBacklog() const;

private:
	void worker(size_t first, size_t last, int index);

	SimFleetOptions o_;
	std::vector<std::thread> threads_;
	std::atomic<bool> stopping_{false};
	std::atomic<int64_t> registered_{0};
	std::atomic<uint64_t> commands_{0};
	std::atomic<uint64_t> byes_{0};
	std::atomic<uint64_t> refused_{0};
	std::atomic<uint64_t> faultsApplied_{0}, faultEnds_{0};
	std::atomic<double> rate_{100};
	std::atomic<uint64_t> evTaken_{0}, evSent_{0}, evAcked_{0}, evBatches_{0}, evAcks_{0};
	std::atomic<uint64_t> evStarts_{0}, evStops_{0}, evRefused_{0}, evWindowFull_{0};
	mutable std::mutex latMu_;
	std::vector<double> latencies_;
};

} // namespace xdc::bench
