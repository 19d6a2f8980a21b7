// SPDX-License-Identifier: Apache-2.0
// The userspace delay line behind network.delay, network.reorder and network.duplicate on kernels without
// sch_netem: packets are queued to an NFQUEUE by iptables rules and released (NF_ACCEPT verdict) by a thread of the
// agent when their delay has passed, or at once for the share a reorder lets through ahead of the others; a share
// may also be sent twice (a copy injected through a raw socket).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <thread>

#include "agent/faults/nfqueue.h"
#include "common/result.h"

namespace xdc::agent {

// When each packet of one stream leaves: arrival + delay + a jitter sample, never before the previous packet (the
// line keeps order; a sample smaller than the previous packet's wait is raised to it). Jitter is uniform in
// [delay - jitter, delay + jitter]; with correlation c the uniform draw is mixed with the previous one as netem does
// (u = (1 - c) * fresh + c * previous), so successive samples have lag-1 autocorrelation c and the mean stays
// `delay`. Pure logic, no clock: unit-tested.
class DelaySchedule {
public:
	DelaySchedule(int64_t delayNs, int64_t jitterNs, double correlationPercent, uint64_t seed);
	// One delay sample in ns (>= 0), advancing the correlation state.
	int64_t sampleNs();
	// The release time of a packet that arrived at arrivalNs: max(arrival + sample, the previous release).
	int64_t releaseAt(int64_t arrivalNs);

private:
	int64_t delayNs_, jitterNs_;
	double rho_;
	std::mt19937_64 rng_;
	double lastU_ = 0.5;
	bool haveLast_ = false;
	int64_t lastRelease_ = INT64_MIN;
};

// netem's correlated Bernoulli draw (get_crandom() compared with a probability), as its reorder and duplicate use:
// each packet draws u = (1 - c) * fresh + c * previous (fresh uniform in [0, 1), the first draw uncorrelated) and
// the draw is true when u < percent / 100. With c = 0 a share `percent` of the draws is true, each independent;
// with c > 0 true draws cluster (lag-1 autocorrelation > 0), and, as in netem, the mixed u is no longer uniform
// (it gathers around 0.5), so the long-run share moves from `percent` towards 50 % as c grows (docs/FAULTS.md).
// percent 0 is never true, 100 always. Pure logic: unit-tested.
class CorrelatedChance {
public:
	CorrelatedChance(double percent, double correlationPercent, uint64_t seed);
	bool draw();
	double percent() const { return p_ * 100.0; }

private:
	double p_, rho_;
	std::mt19937_64 rng_;
	double lastU_ = 0.5;
	bool haveLast_ = false;
};

struct DelayLineOptions {
	uint16_t firstQueue = 0;      // the queue number tried first; the next ones (wrapping in [minQueue, maxQueue])
	uint16_t minQueue = 1000;     // are tried when it is taken
	uint16_t maxQueue = 65000;
	int tries = 32;
	int64_t delayNs = 0, jitterNs = 0;
	double correlationPercent = 0; // of the jitter samples
	// Reorder (netem's `reorder P C`): a CorrelatedChance(reorderPercent, reorderCorrelationPercent) per direction
	// picks the packets released at once, ahead of the delayed ones; the others take the schedule above. 0 = none:
	// every packet is delayed and the line keeps order.
	double reorderPercent = 0, reorderCorrelationPercent = 0;
	// Duplicate (netem's `duplicate P C`): a CorrelatedChance per direction picks packets of which a copy is sent at
	// once through a raw IP socket (IPv4/IPv6, header included) marked injectMark, which the rules feeding the
	// queue must let pass (kInjectMark): out of the host for packets to the peers, through loopback to the local
	// socket for packets from them. The original then takes the schedule. Needs the payload, so the queue copies
	// whole packets and has the kernel segment GSO packets (and fill in checksums) before queueing. 0 = none.
	double duplicatePercent = 0, duplicateCorrelationPercent = 0;
	uint32_t injectMark = 0;
	uint32_t maxQueued = 10000;   // the kernel queue length; beyond it packets pass undelayed (fail-open)
	uint64_t seed = 0;            // 0: from the clock
};

// The packet mark of the copies the duplicate draw injects (DelayLineOptions::injectMark for network.duplicate).
constexpr uint32_t kInjectMark = 0x58444331; // "XDC1"

struct DelayLineStats {
	uint64_t received = 0, released = 0, held = 0, maxHeld = 0, verdictErrors = 0;
	uint64_t immediate = 0; // of `released`: let through at once by the reorder draw
	uint64_t duplicated = 0, injectErrors = 0; // copies sent by the duplicate draw, and copies the kernel refused
};

// One NFQUEUE bound by this process and a thread that releases its packets on time. Packets seen at the output hook
// and at the input hook have separate schedules and reorder draws (as egress and ingress netem would). The delayed
// packets of one direction leave in order; only the reorder draw's packets overtake them.
class DelayLine {
public:
	explicit DelayLine(DelayLineOptions o);
	~DelayLine();
	DelayLine(const DelayLine &) = delete;
	DelayLine &operator=(const DelayLine &) = delete;

	// Binds a free queue (from firstQueue on), configures it and starts the thread. Fails with nothing left bound.
	[[nodiscard]] Result<void> start();
	// Accepts every packet still held or still arriving (call after the rules that feed the queue are gone), then
	// stops the thread and unbinds the queue. Idempotent.
	void stop();

	bool running() const { return running_.load(); }
	uint16_t queue() const { return queue_; }
	// The line of /proc/net/netfilter/nfnetlink_queue for our queue, or "" when the kernel does not list it bound.
	std::string kernelQueueLine() const;
	DelayLineStats stats() const;

private:
	struct Held {
		uint32_t id;
		int64_t release;
	};
	void onPacket(const NfQueue::Packet &p);
	void loop();
	void releaseDue(int64_t now);
	void acceptAll();
	void drain(int quietMs);

	DelayLineOptions o_;
	NfQueue nfq_{[this](const NfQueue::Packet &p) { onPacket(p); }};
	int fd_ = -1, stopFd_ = -1;
	uint16_t queue_ = 0;
	std::thread thread_;
	std::atomic<bool> running_{false};
	DelaySchedule outSched_, inSched_;
	CorrelatedChance outReorder_, inReorder_, outDup_, inDup_;
	int raw4_ = -1, raw6_ = -1; // the duplicate draw's copies go out here
	void inject(const unsigned char *pkt, int len);
	std::deque<Held> out_, in_;
	int64_t now_ = 0; // the monotonic time of the receive batch being handled
	std::atomic<uint64_t> received_{0}, released_{0}, maxHeld_{0}, verdictErrors_{0}, immediate_{0},
		duplicated_{0}, injectErrors_{0};
};

} // namespace xdc::agent
