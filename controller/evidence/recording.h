// SPDX-License-Identifier: Apache-2.0
// One recording on the controller: receives the agents' sample batches (dedup by sequence number, gaps tracked),
// keeps each agent's clock estimate over time, and at the end writes the evidence bundle with every time mapped onto
// the controller's timeline as time +- bound.
//
// Bundle layout (docs/EVIDENCE.md):
//   meta.json                  id, times, hosts, specs, per-host and per-sampler counts, gaps, outages, complete
//   timeline.jsonl             every entry of every host, sorted by t_ns (controller clock), each with bound_ns
//   hosts/<host>/samples.jsonl that host's samples (the same entries)
//   hosts/<host>/faults.jsonl  fault records: applied (requested/applied/verified/expires) and reverted, read-backs
//   hosts/<host>/clock.jsonl   the agent's offset and bound over time, one line a second
//   hosts/<host>/agent.log     the agent's log lines of the window (JSON lines)
// While recording, samples are appended as they arrive to hosts/<host>/raw.jsonl (agent clock), so a crashed
// controller leaves the raw data behind.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/proto/messages.h"
#include "common/result.h"

namespace xdc::controller::evidence {

using nlohmann::json;

struct ClockPoint {
	int64_t ctlNs = 0;    // controller wall clock when taken
	int64_t offsetNs = 0; // agent minus controller
	int64_t boundNs = -1; // -1: no estimate yet
	int64_t rttNs = 0;
};

// Maps agent wall-clock times onto the controller's timeline from a series of estimates: the estimate nearest in
// time, its bound widened by driftPpm for the distance to it. Without any estimate, the time passes unchanged and
// the bound is -1 (unknown).
class ClockMap {
public:
	explicit ClockMap(double driftPpm = 50.0) : driftPpm_(driftPpm) {}
	void add(const ClockPoint &p);
	struct Mapped {
		int64_t tNs;
		int64_t boundNs;
	};
	Mapped map(int64_t agentWallNs) const;
	const std::vector<ClockPoint> &points() const { return points_; }

private:
	double driftPpm_;
	std::vector<ClockPoint> points_; // valid ones, ascending ctlNs
};

class Recording {
public:
	struct HostInfo {
		std::string agent, host, dc;
		std::vector<std::string> samplers;
		std::map<std::string, int64_t> intervalNs; // per sampler
		std::map<std::string, std::string> kinds;  // per sampler
	};
	Recording(std::string id, std::string dir);
	~Recording();

	// Creates the directory (refuses a non-empty one) and the per-host raw files.
	Result<void> open(const std::vector<HostInfo> &hosts, const json &specs, int64_t startCtlNs);
	const std::string &id() const { return id_; }
	const std::string &dir() const { return dir_; }
	bool hasAgent(const std::string &agent) const { return hosts_.count(agent) != 0; }
	std::vector<std::string> agents() const;

	// Stores the new samples of a batch; returns the cumulative ack (every seq up to it is stored or known lost).
	uint64_t ingest(const std::string &agent, const proto::EvidenceBatch &b);
	void clock(const std::string &agent, const ClockPoint &p);
	// The agent's answer to evidence.stop, or why there is none.
	void stopped(const std::string &agent, const proto::EvidenceStopReply &r);
	void stopFailed(const std::string &agent, const std::string &why);
	// Every agent has answered the stop and delivered (or declared lost) everything up to its last seq.
	bool drained() const;
	// Counts per host; with windowNs > 0 also each probe's live health and each host or process sampler's values.
	// Only what the agent delivered with everything before it (its sequence numbers contiguous) makes the newest
	// attempt: last_ok, last_ns and the streak (how long the current run of equal outcomes has lasted) never rest on
	// an attempt whose predecessors are still on the way. The window:
	//  - windowEndNs == 0: the last windowNs of the source's delivered samples (a live view);
	//  - windowEndNs > 0: [windowEndNs - windowNs, windowEndNs) on the controller's clock (a sample's time is when
	//    its observation started, mapped through the agent's clock estimate). `window_complete` says whether every
	//    sample of that window has arrived: the agent delivered, with everything before it, a sample of the same
	//    source that began at or after the window's end (beyond the clock bound), or answered the stop with
	//    everything delivered. A sampler takes its observations one after the other, so every earlier one has a
	//    lower sequence number. The scenario runner's steady-state checks wait for it; `until` and the stop
	//    conditions read the streaks.
	json status(int64_t nowCtlNs, int64_t windowNs = 0, int64_t windowEndNs = 0) const;
	// Writes the bundle; returns the summary that is also meta.json.
	Result<json> finalize(int64_t stopCtlNs);

private:
	struct Host {
		HostInfo info;
		FILE *raw = nullptr;
		uint64_t contiguous = 0;           // every seq <= this is stored (or lost)
		std::set<uint64_t> above;          // stored beyond contiguous
		std::vector<std::pair<uint64_t, uint64_t>> lost; // declared by the agent
		uint64_t received = 0, duplicates = 0;
		bool stopAnswered = false;
		std::string stopError;
		proto::EvidenceStopReply stop;
		ClockMap clock;
		struct Attempt {
			int64_t wallNs; // agent wall clock
			uint64_t seq;
			bool ok;
		};
		struct ProbeLive {
			uint64_t attempts = 0, ok = 0;
			// The newest attempt received and when its run of equal outcomes began (agent wall clock): the
			// streak's start when it is older than `recent`.
			bool newestOk = false;
			int64_t newestNs = 0, streakStartNs = 0;
			std::deque<Attempt> recent; // the last kRecentNs of attempts, ascending wallNs (resends in place)
		};
		std::map<std::string, ProbeLive> probes; // by source
		struct Values {
			int64_t wallNs;
			uint64_t seq;
			std::map<std::string, double> values;
		};
		// host and process samplers: the last kRecentNs of each one's numeric values, ascending wallNs
		std::map<std::string, std::deque<Values>> metrics;
	};
	static constexpr int64_t kRecentNs = 120LL * 1000000000;
	void advance(Host &h);
	// Keeps the live view of a new sample (recording_live.cpp).
	void track(Host &h, const proto::Sample &s);
	json probeStatus(const Host &h, const Host::ProbeLive &p, int64_t windowNs, int64_t endNs) const;
	json metricStatus(const Host &h, const std::deque<Host::Values> &q, int64_t windowNs, int64_t endNs,
			  json &window) const;
	std::string id_, dir_;
	int64_t startCtlNs_ = 0;
	json specs_;
	std::map<std::string, Host> hosts_; // by agent id
};

// ---- Reading a bundle (xdc evidence, scenario reports) ----

struct OutageReport {
	std::string host, source, target;
	int64_t intervalNs = 0;
	std::vector<json> outages; // {start_ns, start_bound_ns, end_ns, end_bound_ns, open, failed, duration_ms, first_error}
};

// Loads timeline.jsonl (optionally filtered by host, and by kind: exact, or a prefix ending in '*', e.g.
// "probe.*") and meta.json of a bundle directory.
struct Bundle {
	json meta;
	std::vector<json> entries;
};
Result<Bundle> loadBundle(const std::string &dir, const std::string &host = "", const std::string &kind = "",
			  bool withEntries = true);
// Outages of every probe in the entries (all entries of one probe must be present: load without a kind filter or
// with a probe kind).
std::vector<OutageReport> analyzeOutages(const Bundle &b);

} // namespace xdc::controller::evidence
