// SPDX-License-Identifier: Apache-2.0
// The agent's recordings: samplers on their own schedules, and an outbox per recording that delivers every sample to
// the controller exactly once from its point of view (the controller dedups by sequence number), however long the
// controller is out of reach.
//
// Delivery contract:
// - Every sample gets the recording's next sequence number (1, 2, ...) the moment its sampler hands it over.
// - Samples wait in a memory buffer of memorySamples; beyond that the oldest are spilled, in segments, to a spool
//   under stateDir/evidence/<recording>/ capped (for all recordings together) at spoolMaxBytes. Only when the spool
//   is full are samples lost, oldest segment first, and the lost ranges are told to the controller: never silent.
// - Batches go out in sequence order, at most `window` samples beyond the last ack (go-back-N). The controller acks
//   cumulatively; after a reconnect, or when no ack has come for ackTimeout, the outbox resends from ack + 1.
// - A recording's samplers stop at evidence.stop or at their own deadline (start + maxDuration on this agent's
//   monotonic clock) whether or not the controller is there; the outbox lives on until everything is acked.
// Threads: each sampler runs on its own thread; everything else is called from the agent's loop thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/evidence/sampler.h"
#include "common/proto/messages.h"
#include "common/result.h"

namespace xdc::agent {

struct RecorderOptions {
	std::string dir;                        // spool root (stateDir/evidence)
	uint64_t memorySamples = 20000;         // per recording, unless evidence.start says otherwise
	uint64_t spoolMaxBytes = 256ull << 20;  // all recordings together
	size_t batchSamples = 400;              // per EvidenceBatch
	uint64_t window = 4000;                 // samples sent beyond the last ack
	int64_t ackTimeoutNs = 2'000'000'000;   // resend from the ack when none came for this long
	int64_t flushNs = 500'000'000;          // a partial batch waits at most this long (each batch wakes both ends)
	int64_t maxDurationMs = 24 * 3600 * 1000; // cap on any recording
	size_t maxRecordings = 8;
	SamplerEnv env;
};

class Recorder {
public:
	explicit Recorder(RecorderOptions o);
	~Recorder();
	Recorder(const Recorder &) = delete;
	Recorder &operator=(const Recorder &) = delete;

	// Removes spools a previous run left (their sequence state is gone with that process). Returns what it removed.
	std::vector<std::string> recover();

	Result<proto::EvidenceStartReply> start(const proto::EvidenceStartArgs &a);
	// Stops the samplers (idempotent: a recording that stopped at its deadline answers with the same summary).
	Result<proto::EvidenceStopReply> stop(const std::string &recording);
	// stop() for the controller's evidence.stop: afterwards the recording may be forgotten once fully acked.
	Result<proto::EvidenceStopReply> stopRequested(const std::string &recording);
	// An event for every recording whose samplers run (the fault manager's lifecycle records).
	void event(proto::Sample s);

	// Delivery, from the loop thread.
	void onAck(const proto::EvidenceAck &a);
	void onConnected();
	// The next batch due (full, or partial and older than flushNs, or a resend); false when nothing is due.
	bool nextBatch(int64_t nowMono, proto::EvidenceBatch &out);
	// Spills to the spool, ends recordings at their deadline, rewinds outboxes whose acks stopped, and forgets
	// recordings that are stopped and fully acked.
	void service(int64_t nowMono);
	// When the loop should call service()/nextBatch() again (INT64_MAX when there is nothing to do).
	int64_t nextWake(int64_t nowMono) const;
	size_t recordings() const { return recs_.size(); }

	// For tests and the bench: samples held in memory / bytes in the spool, over all recordings.
	uint64_t memoryHeld() const;
	uint64_t spoolBytes() const { return spoolBytes_; }

private:
	struct Worker {
		std::unique_ptr<Sampler> sampler;
		std::thread thread;
		std::atomic<uint64_t> taken{0};
		std::atomic<uint64_t> missed{0};
	};
	struct Segment {
		uint64_t first = 0, last = 0;
		std::string path;
		uint64_t bytes = 0;
	};
	struct Rec {
		std::string id, dir;
		int64_t startMono = 0, startWall = 0, deadlineMono = 0;
		uint64_t memCap = 0;
		std::vector<std::unique_ptr<Worker>> workers;
		std::atomic<bool> stopFlag{false};
		std::mutex mu;                  // guards nextSeq, mem, memFirst, lost, dropped
		std::condition_variable cv;     // wakes sleeping samplers at stop
		uint64_t nextSeq = 1;
		std::deque<proto::Sample> mem;  // seq memFirst, memFirst + 1, ...
		uint64_t memFirst = 1;
		std::vector<uint64_t> lost;     // [first, last] pairs of sequence numbers that will never be sent
		uint64_t dropped = 0;
		// Loop thread only:
		std::deque<Segment> spool;
		std::vector<proto::Sample> cache; // the segment last read back
		uint64_t cacheFirst = 0;
		uint64_t acked = 0, sent = 0;
		int64_t lastAckMono = 0, lastSendMono = 0;
		uint64_t spilled = 0;
		bool stopped = false;
		bool summaryTaken = false;      // the controller asked for the stop summary (evidence.stop)
		int64_t stoppedMono = 0;
		proto::EvidenceStopReply summary;
	};
	void push(Rec &r, std::vector<proto::Sample> &batch);
	void runWorker(Rec &r, Worker &w, int64_t t0);
	void stopWorkers(Rec &r);
	void spill(Rec &r);
	void dropOldestSegment();
	bool fetch(Rec &r, uint64_t seq, proto::Sample &out);
	void forget(Rec &r);

	RecorderOptions opt_;
	std::map<std::string, std::unique_ptr<Rec>> recs_;
	uint64_t spoolBytes_ = 0;
	std::string rr_; // round robin: the recording served last
};

} // namespace xdc::agent
