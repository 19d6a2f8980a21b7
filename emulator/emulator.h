// SPDX-License-Identifier: Apache-2.0
// The state of one emulated Streams instance: its job, the PE processes behind it, the tuple flow, and the cross-DC
// failover toolkit's heartbeat exchange with the peer datacenter. Thread-safe; the REST layer reads copies.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "emulator/options.h"
#include "emulator/truth_log.h"

namespace xdc::emu {

struct PeState {
	int id = 0;
	int index = 0;
	std::string status = "constructed"; // constructed | starting | running | restarting | stopping | stopped
	std::string reason = "none";        // statusReason
	int launchCount = 0;
	pid_t pid = 0;                      // 0 when no process
	bool stopRequested = false;         // the exit is ours: stop, do not relaunch
	bool restartRequested = false;      // the exit is ours: relaunch at once
	int64_t relaunchAtNs = 0;           // monotonic; 0 when no launch is due
};

struct OperatorState {
	int id = 0;
	int index = 0;
	std::string name;
	std::string kind;
	int peId = 0;
};

struct JobState {
	int id = 0;
	std::string name;
	std::string application;
	std::string bundleId;
	int64_t submitMs = 0;
	nlohmann::json submitParameters = nlohmann::json::array();
	std::vector<PeState> pes;
	std::vector<OperatorState> ops;

	// healthy | partiallyHealthy | partiallyUnhealthy | unhealthy, from how many PEs run.
	std::string health() const;
	bool healthy() const;
};

// What the failover operator knows, as its custom metrics show it.
struct FailoverState {
	bool active = false;
	bool remoteUp = true;
	int64_t hbSent = 0, hbReceived = 0, snapshotsSent = 0, snapshotsReceived = 0, takeovers = 0;
	int64_t consecutiveMisses = 0;
};

// A consistent copy of everything the REST API shows.
struct Snapshot {
	std::optional<JobState> job;
	FailoverState failover;
	int64_t tuplesSubmitted = 0; // by this DC's source
	int64_t tuplesDelivered = 0; // by this DC's sink
	int64_t startMs = 0;
};

class Emulator {
public:
	explicit Emulator(Options opts);
	~Emulator();
	Emulator(const Emulator &) = delete;
	Emulator &operator=(const Emulator &) = delete;

	const Options &options() const { return opts_; }

	// Opens the truth log, submits the initial job (unless --no-job) and starts the worker threads.
	[[nodiscard]] Result<void> start();
	// Stops the threads and every PE process (SIGTERM, then SIGKILL after a grace period), reaps them, writes `stop`.
	void shutdown();

	Snapshot snapshot();

	// REST writes. Errors carry Errc::NotFound / Errc::Invalid for the REST layer to map onto CDISW ids.
	std::string addBundle(size_t bytes);
	[[nodiscard]] Result<JobState> submitJob(const std::string &bundleId, const nlohmann::json &overlay);
	[[nodiscard]] Result<void> cancelJob(int jobId);
	[[nodiscard]] Result<PeState> stopPe(int peId);
	[[nodiscard]] Result<PeState> restartPe(int peId);

	// Data plane (EndpointSource / EndpointSink style). inject: JSON tuple objects, one per line; accepted only by
	// the active DC with a healthy job (Errc::Unavailable otherwise, nothing accepted); Errc::Invalid for a line
	// that is not a JSON object with "key" and "seq" (nothing accepted). Returns how many were accepted.
	[[nodiscard]] Result<size_t> injectTuples(const std::string &body);
	// Delivered tuples from cursor `since` (0-based), at most `count`, as JSON lines; `next` is the cursor after them.
	std::string sinkTuples(uint64_t since, size_t count, uint64_t &next, uint64_t &total);

	// A heartbeat tuple from the peer's sender; Errc::Invalid for a body that is not one.
	[[nodiscard]] Result<void> onHeartbeat(const std::string &body);

	// Access tokens: issued after Basic auth, valid for --token-ttl-s.
	std::string issueToken();
	bool tokenValid(const std::string &token);

private:
	void supervisorLoop();
	void reaperLoop();
	void heartbeatLoop();
	// All below run with mu_ held.
	void launchLocked(PeState &pe, int jobId);
	void onExitLocked(pid_t pid, int status);
	void accrueLocked(int64_t nowNs);
	void checkMissesLocked(int64_t nowNs);
	void takeoverLocked();
	void deliverLocked(int64_t nowNs);
	JobState makeJobLocked(const std::string &bundleId, const std::string &name);
	PeState *findPeLocked(int peId);

	Options opts_;
	TruthLog truth_;
	std::mutex mu_;
	std::condition_variable superCv_, reapCv_, hbCv_;
	bool stopping_ = false;
	bool stopLaunches_ = false;

	std::optional<JobState> job_;
	int nextJobId_ = 1, nextPeId_ = 1, nextOpId_ = 1, nextBundle_ = 1;
	std::set<std::string> bundles_;
	std::map<pid_t, int> children_; // pid -> PE id (0: a PE of a canceled job)
	std::map<std::string, int64_t> tokens_; // token -> monotonic expiry ns

	FailoverState fo_;
	bool everHeard_ = false;        // misses are counted only once the peer has been heard from
	bool remoteShutdown_ = false;
	int64_t lastHbNs_ = 0;
	int64_t lastHbRealNs_ = 0;     // the same instant on CLOCK_REALTIME, for the truth log
	int64_t takeoverAtNs_ = 0;
	bool sendShutdownMsg_ = false;
	nlohmann::json lastSnapshot_;   // the peer's last data snapshot, restored on takeover

	// Tuple flow: the application's sequence (restored from snapshots) and this DC's counters.
	double carry_ = 0;
	int64_t lastAccrueNs_ = 0;
	int64_t seq_ = 0;
	int64_t submitted_ = 0, delivered_ = 0;
	int64_t startMs_ = 0;

	// Data plane: accepted tuples wait processDelayMs in flight, then reach the sink log. The active DC's snapshot
	// carries the tuples accepted since its previous successful snapshot; the standby keeps the latest such segment
	// and replays it when it takes over (at-least-once). In-flight tuples die with the job's health (PE stopped or
	// crashed, job canceled): that is where the application loses data.
	struct InFlight {
		int64_t dueNs;
		std::string line;
		std::string id; // "k<key>:<seq>"
	};
	std::deque<InFlight> inFlight_;
	std::vector<std::pair<std::string, std::string>> segment_;    // (id, line) accepted since the last snapshot sent
	std::vector<std::pair<std::string, std::string>> replicated_; // standby: the latest segment received
	std::vector<std::string> sinkLog_;
	FILE *sinkFile_ = nullptr; // --sink-file: the delivered lines, appended
	int64_t dataAccepted_ = 0, dataDelivered_ = 0, dataDropped_ = 0, dataReplayed_ = 0;

	std::thread supervisor_, reaper_, heartbeat_;
};

int64_t monoNs();

} // namespace xdc::emu
