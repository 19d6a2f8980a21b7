// SPDX-License-Identifier: Apache-2.0
// Estimates one agent's clock offset from NTP-style four-timestamp exchanges, with a bound that contains the truth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace xdc::fleet {

// One exchange: t1 controller send, t2 agent receive, t3 agent send, t4 controller receive (wall clocks).
struct ClockExchange {
	int64_t t1 = 0, t2 = 0, t3 = 0, t4 = 0;
	int64_t offset() const { return ((t2 - t1) + (t3 - t4)) / 2; }
	int64_t delay() const { return (t4 - t1) - (t3 - t2); }
	// How long the agent held the exchange: microseconds for a ClockPong, a heartbeat interval for an exchange on
	// the heartbeats. Drift over the hold adds up to drift x hold to the error (on the offset and on the delay).
	int64_t hold() const { return t3 - t2; }
};

struct ClockEstimate {
	bool valid = false;
	int64_t offsetNs = 0;   // agent clock minus controller clock
	int64_t boundNs = 0;    // the true offset lies within offsetNs +- boundNs
	int64_t rttNs = 0;      // round trip of the exchange the estimate rests on
	int samples = 0;
	int64_t ageNs = 0;      // how old that exchange is
};

// Keeps a window of recent exchanges and answers with the one of least round-trip delay (the min-RTT filter): its
// offset error is at most half its delay, whatever the asymmetry, plus the drift allowance over the agent's hold.
// The bound widens with the exchange's age by the same drift allowance, and a step of the agent's clock (a new exchange whose interval excludes the estimate) restarts
// the window so the estimate follows the step at once.
class ClockEstimator {
public:
	struct Options {
		size_t window = 64;             // exchanges kept
		int64_t maxAgeNs = 120'000'000'000; // exchanges older than this are dropped
		double driftPpm = 50.0;         // assumed worst relative drift between the two clocks
		int64_t resolutionNs = 1000;    // timestamping resolution added to every bound
	};
	ClockEstimator() = default;
	explicit ClockEstimator(Options o) : opt_(o) {}

	// Adds an exchange received at controller monotonic time nowMono. Exchanges with negative delay are impossible
	// without a clock step mid-exchange and are ignored (returns false).
	bool add(const ClockExchange &ex, int64_t nowMono);
	ClockEstimate estimate(int64_t nowMono) const;
	// Maps an agent wall-clock time onto the controller's timeline (subtracts the offset).
	int64_t toController(int64_t agentWallNs, int64_t nowMono) const
	{
		return agentWallNs - estimate(nowMono).offsetNs;
	}
	void reset() { window_.clear(); }

private:
	struct Entry {
		ClockExchange ex;
		int64_t mono;
	};
	void prune(int64_t nowMono);
	// The drift allowance over a span: how far apart the two clocks can move in it.
	int64_t driftNs(int64_t spanNs) const
	{
		return static_cast<int64_t>(static_cast<double>(spanNs) * opt_.driftPpm * 1e-6);
	}
	Options opt_;
	// A vector, not a deque: 64 entries of 40 bytes in one block per agent, where the deque took seven 512-byte
	// nodes and freed and allocated one every dozen exchanges (10,000 agents: tens of MiB).
	std::vector<Entry> window_;
};

} // namespace xdc::fleet
