// SPDX-License-Identifier: Apache-2.0
// The state of one emulated Streams instance: its job, the PE processes behind it, the application (the emulated
// counterpart of the toolkit's sample application, with a role and a data plane), the cross-DC failover toolkit's
// composite hosted by one of the PEs (emulator/toolkit.h), and the metrics as the product collects them: on a
// schedule, each value carrying the time it was retrieved. Thread-safe; the REST layer reads copies.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
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
#include "emulator/receivers.h"
#include "emulator/toolkit.h"
#include "emulator/trace.h"
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

// The application's own operators (the toolkit's are listed by toolkitOperators()).
enum class AppOp { Source, Stage, Process, Sink, SpecialReceiver, SpecialSender, JsonInject, TcpIngest, DirScan, FileIngest,
		     TupleView };

struct OperatorState {
	int id = 0;
	int index = 0;
	std::string name;   // as REST shows it: "Sink", "CrossDCFailover.HeartbeatSignalGenerator"
	std::string kind;
	int peId = 0;
	int inputs = 0, outputs = 0;
	int toolkitIndex = -1; // index into the toolkit's operators; -1 for the application's own
	AppOp app = AppOp::Source;
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
	int toolkitPeId = 0;   // the PE hosting the composite; 0 without the toolkit
	int appPeCount = 0;    // PEs hosting the application's operators
	TraceLevel traceLevel = TraceLevel::Error;

	// healthy | partiallyHealthy | partiallyUnhealthy | unhealthy, from how many PEs run.
	std::string health() const;
	bool healthy() const;
};

// PE process figures from /proc, as the PE metrics report them (CPU in ms, memory in kB).
struct ProcFigures {
	int64_t cpuMs = 0, rssKb = 0, vmKb = 0;
};

// One metric collection: every operator port's counts (since its PE's launch) and every PE's figures, all
// retrieved at atMs (epoch ms): the values REST serves until the next collection.
struct CollectedMetrics {
	int64_t atMs = 0;
	std::map<int, OpCounts> ops;      // operator id -> port counts
	std::map<int, ProcFigures> pes;   // PE id -> figures
};

// A consistent copy of everything the REST API shows.
struct Snapshot {
	std::optional<JobState> job;
	CollectedMetrics metrics;
	bool appActive = false;
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
	// Cancels the job: its PEs are killed. As in the toolkit, canceling sends no message to the other DC.
	[[nodiscard]] Result<void> cancelJob(int jobId);
	[[nodiscard]] Result<PeState> stopPe(int peId);
	[[nodiscard]] Result<PeState> restartPe(int peId);

	// Access tokens: issued after Basic auth, valid for --token-ttl-s.
	std::string issueToken();
	bool tokenValid(const std::string &token);

private:
	void supervisorLoop();
	void reaperLoop();
	// All below run with mu_ held.
	void launchLocked(PeState &pe, int jobId);
	void onExitLocked(pid_t pid, int status);
	void peStartedLocked(const PeState &pe);
	void peEndedLocked(const PeState &pe);
	void accrueLocked(int64_t nowNs);
	void deliverLocked(int64_t nowNs);
	void collectLocked();
	JobState makeJobLocked(const std::string &bundleId, const std::string &name, TraceLevel level);
	PeState *findPeLocked(int peId);
	ToolkitConfig toolkitConfigLocked() const;
	OpCounts appOpCountsLocked(const OperatorState &op) const;
	TraceWriter &traceForLocked(AppOp op);
	// The application (application.cpp): the toolkit's outputs, the special message port, the takeover.
	ToolkitOutputs appOutputsLocked();
	void onSnapshotSignalLocked(const HbMessage &m);
	void onRemoteStatusLocked(bool active);
	void onRemoteDataLocked(const HbMessage &m);
	void onSpecialLineLocked(const std::string &line);
	// The data plane (application.cpp): ingest operators' receivers, started and stopped with their PE.
	void startIngestLocked(const OperatorState &op);
	void stopIngestLocked(const OperatorState &op);
	int onJsonPost(const std::string &body);
	void onTcpLine(const std::string &line);
	void onTcpDropped(const std::string &line);
	void scanDirLocked();
	bool opRunningLocked(AppOp op) const;
	// One batch of (id, line) that reached an ingest operator: processed when the application is active, filtered
	// by a standby, dropped when the job is not healthy. Every id goes to the truth log.
	void ingestLocked(const char *via, std::vector<std::pair<std::string, std::string>> batch);
	void takeoverLocked();
	void resetAppLocked();

	Options opts_;
	TruthLog truth_;
	std::mutex mu_;
	std::condition_variable superCv_, reapCv_;
	bool stopping_ = false;
	bool stopLaunches_ = false;

	std::optional<JobState> job_;
	int nextJobId_ = 1, nextPeId_ = 1, nextOpId_ = 1, nextBundle_ = 1;
	std::set<std::string> bundles_;
	std::map<pid_t, int> children_; // pid -> PE id (0: a PE of a canceled job)
	std::map<std::string, int64_t> tokens_; // token -> monotonic expiry ns

	// The composite of the running job's toolkit PE, and the ones whose PE ended (joined outside the lock).
	std::unique_ptr<Toolkit> toolkit_;
	std::vector<std::unique_ptr<Toolkit>> retired_;
	std::unique_ptr<LineReceiver> special_, tcpRx_;
	std::unique_ptr<BlobReceiver> jsonRx_, viewRx_;
	std::deque<std::string> view_; // the HTTPTupleView's window (its PE's state: empty after a restart)
	std::vector<std::unique_ptr<LineReceiver>> retiredLines_;
	std::vector<std::unique_ptr<BlobReceiver>> retiredBlobs_;
	int64_t nextScanNs_ = 0;
	std::map<int, std::unique_ptr<TraceWriter>> traces_; // PE id -> its trace file while it runs
	TraceWriter noTrace_;

	// Metrics: totals since the job started, and each operator's totals when its PE was last launched (port
	// counters start from 0 with each launch).
	CollectedMetrics collected_;
	int64_t nextCollectNs_ = 0;
	std::map<int, OpCounts> launchBase_;

	// The application: its role, a pending takeover, its counters.
	bool appActive_ = false;
	int64_t takeoverAtNs_ = 0;
	HbMessage takeoverFrom_;
	int64_t takeovers_ = 0;
	int64_t dssReceived_ = 0, statusReceived_ = 0, remoteDataReceived_ = 0, snapshotsSent_ = 0;
	int64_t specialLines_ = 0, specialForwarded_ = 0;
	int64_t startMs_ = 0;

	// Tuple flow: the built-in source (counted) and the data plane (real tuples).
	double carry_ = 0;
	int64_t lastAccrueNs_ = 0;
	int64_t seq_ = 0;
	int64_t submitted_ = 0, delivered_ = 0;

	// Data plane: tuples come in through the ingest operators; an active application processes them (they wait
	// processDelayMs in flight, then reach the FileSink), a standby filters them out. Each data snapshot carries the
	// tuples processed since the previous one; a DC that takes over replays the ones in the snapshot it took over
	// (at-least-once). In-flight tuples die with the job's health (PE stopped or crashed, job canceled): that is
	// where the application loses data.
	struct InFlight {
		int64_t dueNs;
		std::string line;
		std::string id; // "k<key>:<seq>"
	};
	std::deque<InFlight> inFlight_;
	std::vector<std::pair<std::string, std::string>> segment_; // (id, line) accepted since the last snapshot
	FILE *sinkFile_ = nullptr; // --sink-file: the delivered lines, appended
	int64_t dataIngested_ = 0, dataAccepted_ = 0, dataFiltered_ = 0, dataDelivered_ = 0, dataDropped_ = 0,
		dataReplayed_ = 0, dataMalformed_ = 0;
	int64_t jsonTuples_ = 0, tcpTuples_ = 0, filesScanned_ = 0, fileTuples_ = 0;

	std::thread supervisor_, reaper_;
};

int64_t monoNs();
int64_t epochMs();

} // namespace xdc::emu
