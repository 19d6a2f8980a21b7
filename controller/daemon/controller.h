// SPDX-License-Identifier: Apache-2.0
// The controller daemon: one ROUTER for the fleet behind CURVE + ZAP, the fleet registry with liveness and clock
// offsets, command dispatch with nonce and deadline, and the local control socket for the console.
#pragma once

#include <atomic>
#include <functional>
#include <deque>
#include <map>
#include <optional>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "common/fault/spec.h"
#include "common/proto/codec.h"
#include "common/transport/socket.h"
#include "common/transport/zap.h"
#include "controller/control/answers.h"
#include "controller/control/control_server.h"
#include "controller/control/metrics_endpoint.h"
#include "controller/control/requests.h"
#include "controller/daemon/controller_config.h"
#include "controller/evidence/recording.h"
#include "controller/fleet/clock_estimator.h"

namespace xdc::controller {

using nlohmann::json;

struct AgentRecord {
	std::string id, host, dc, version, fingerprint;
	std::map<std::string, std::string> labels, capabilities;
	std::string routingId;
	bool live = false;
	std::string lostReason;
	int64_t lastHeardMono = 0;
	int64_t registeredWall = 0;
	int64_t stateSinceWall = 0;
	uint8_t proto = proto::kVersion;
	int32_t pid = 0;
	int64_t startedNs = 0;
	uint64_t rssBytes = 0;
	uint64_t registrations = 0;
	std::vector<std::string> addresses; // "iface=address", from Hello
	std::string mgmtIface;
	std::vector<std::string> runningFaults;
	std::map<std::string, uint64_t> agentDrops;
	fleet::ClockEstimator clock;
	uint64_t pingSeq = 0;
	int64_t nextPingMono = 0;
	int burstLeft = 0;
	bool clockOnHeartbeat = false; // from Hello: the clock exchange rides on its heartbeats after the burst
};

class Controller {
public:
	explicit Controller(ControllerConfig cfg);
	~Controller();

	// Sets up ZAP (before the server socket), binds the agent endpoint and the control socket.
	Result<void> start();
	// Serves until stop(); returns the exit code.
	int run();
	void stop() { stopping_.store(true); }
	// Asks the loop to re-read the allow-list (async-signal-safe: SIGHUP sets it).
	void requestReload() { reloadRequested_.store(true); }
	// Re-reads the allow-list file; on error the old list stays in force. New keys take effect at the next
	// handshake; agents whose key left the list are disconnected and marked lost. Returns the reload answer.
	Result<control::ReloadAnswer> reloadAllowList();

	// The result of one command on one agent.
	using CommandCallback = std::function<void(const std::string &agent, Result<proto::CommandResult>)>;
	// Sends a command from the fixed table; the callback runs once, with the result or a timeout error.
	Result<void> sendCommand(const std::string &agentId, const std::string &name, proto::Bytes args,
				 CommandCallback cb);

	// Forwards one command of the agent's fixed table to a live agent for a control peer and answers the peer:
	// an unknown or lost agent, the agent's refusal, a timeout and an undecodable reply are answered here;
	// `render` turns the reply's msgpack into the peer's JSON, given the agent's clock offset (agent wall -
	// offsetNs = the controller's timeline; boundNs -1 while the offset is not estimated yet).
	using RenderReply = std::function<Result<json>(const std::string &agent, const proto::Bytes &data, int64_t offsetNs,
						       int64_t boundNs)>;
	void forwardToAgent(uint64_t peer, const std::string &host, const std::string &name, proto::Bytes args,
			    RenderReply render);
	// The reply of a program run for a Streams command (streams.pe, streams.orderly_shutdown): StreamsPeReply as
	// JSON, ok only when it exited 0 (else an `error` naming `what` and its output).
	static RenderReply renderStreamsRun(std::string what);

	control::AgentsAnswer agentsAnswer() const;
	control::FaultListAnswer faultList() const;
	control::StatsAnswer statsAnswer() const;

private:
	void onAgentMessage(std::vector<zmq::message_t> &parts, int64_t recvWall);
	void onHello(const std::string &routingId, const std::string &zapUser, const proto::Frame &f);
	// The console's requests: onControl reads the line into its typed request (controller/control/requests.h) and
	// calls the handler of its type, which answers the peer now or once its agents answered (control_requests.cpp;
	// faults in faults.cpp, recordings in recordings.cpp).
	void onControl(const control::Peer &peer, const json &line);
	void handle(const control::Peer &peer, const control::AgentsRequest &req);
	void handle(const control::Peer &peer, const control::StatsRequest &req);
	void handle(const control::Peer &peer, const control::ReloadRequest &req);
	void handle(const control::Peer &peer, const control::ShutdownRequest &req);
	void handle(const control::Peer &peer, const control::FaultApplyRequest &req);
	void handle(const control::Peer &peer, const control::FaultRevertRequest &req);
	void handle(const control::Peer &peer, const control::HaltRequest &req);
	void handle(const control::Peer &peer, const control::FaultListRequest &req);
	void handle(const control::Peer &peer, const control::ResidueRequest &req);
	void handle(const control::Peer &peer, const control::RecordStartRequest &req);
	void handle(const control::Peer &peer, const control::RecordStatusRequest &req);
	void handle(const control::Peer &peer, const control::RecordStopRequest &req);
	void handle(const control::Peer &peer, const control::PingRequest &req);
	void handle(const control::Peer &peer, const control::StreamsPeRequest &req);
	void handle(const control::Peer &peer, const control::StreamsOrderlyShutdownRequest &req);
	void handle(const control::Peer &peer, const control::DataGenerateStartRequest &req);
	void handle(const control::Peer &peer, const control::DataGenerateStopRequest &req);
	void handle(const control::Peer &peer, const control::DataTailRequest &req);
	void handle(const control::Peer &peer, const control::DataDropRequest &req);
	void handle(const control::Peer &peer, const control::RunStateRequest &req);
	// Runs timers that are due; returns when the next one is.
	int64_t tick();
	int64_t nextTick_ = 0;
	void sendTo(const std::string &routingId, const std::string &bytes);
	template<typename T>
	void sendMsg(const std::string &routingId, const T &msg, uint8_t version = proto::kVersion);
	void markLost(AgentRecord &a, const std::string &reason);
	// Fails the pending commands of these agents (they were marked lost), in one pass.
	void failPending(const std::unordered_set<std::string> &lost);
	Result<std::vector<std::string>> resolve(const fault::Selector &s, const std::string &path) const;
	// Sends one command per (agent, args) and calls done once with {agent: {ok, error | data_bytes, offset_ns,
	// bound_ns}} when every answer or timeout is in.
	void fanOut(const std::vector<std::pair<std::string, proto::Bytes>> &calls, const std::string &command,
		    std::function<void(json results)> done);
	// One fault.apply on its way to the agents: who asked, what, and how it starts.
	struct FaultApplyJob {
		uint64_t peer = 0;
		std::string id, kind, text;
		bool dryRun = false, sync = true;
		int64_t durationMs = 0, startAt = 0;
		int64_t requestedWall = 0; // when the request came
	};
	void setApplyStart(std::vector<std::pair<std::string, proto::FaultApplyArgs>> &sends, const FaultApplyJob &job);
	void sendApply(const FaultApplyJob &job, std::vector<std::pair<std::string, proto::FaultApplyArgs>> sends);
	void answerApply(const FaultApplyJob &job, json results);
	void pruneFaults();
	void learnFaults(const std::string &agent, const std::vector<proto::FaultInfo> &running);
	// An agent's FaultEvent: a fault ended there (or its revert failed).
	void onFaultEvent(AgentRecord &a, const proto::FaultEvent &e, int64_t recvWall);
	// Reverts fault id on its agents, or (halt) every fault on every live agent.
	void onFaultRevert(uint64_t peer, const std::string &id, bool halt);

	// Recordings (controller/daemon/recordings.cpp).
	void onEvidenceBatch(AgentRecord &a, const proto::Frame &f);
	void stopRecording(const std::string &id, std::optional<uint64_t> peer, const std::string &why);
	void finishRecording(const std::string &id);
	int64_t tickRecordings(int64_t nowMono);
	Result<std::string> resolveTarget(const std::string &kind, const std::string &target, const std::string &path);
	struct ActiveRecording {
		std::unique_ptr<evidence::Recording> rec;
		int64_t startMono = 0, endMono = 0; // endMono: the controller stops it by itself then (--for)
		int64_t nextClockMono = 0;
		bool stopping = false;
		int64_t drainDeadlineMono = 0;
		std::vector<uint64_t> waiters;      // control peers waiting for the bundle
		std::string stopReason;
	};
	std::map<std::string, ActiveRecording> recordings_;
	// The answers of the last finished recordings, for a record.stop that arrives after the controller ended the
	// recording by itself (its --for elapsed at the same moment).
	std::map<std::string, json> finished_;
	std::deque<std::string> finishedOrder_;
	uint64_t recordingSeq_ = 0;
	std::map<std::string, int64_t> unknownRecordingLogged_;

	struct FaultRecord {
		std::string id, kind, spec;
		std::vector<std::string> agents;
		int64_t createdWall = 0;
		int64_t durationMs = 0;
	};
	std::map<std::string, FaultRecord> faults_;
	// The latest fault ends the agents pushed (FaultEvent), for `fault list --ended`.
	std::deque<control::FaultListAnswer::Ended> ended_;
	static constexpr size_t kEndedKept = 1000;
	uint64_t faultEndsSeen_ = 0;
	uint64_t faultSeq_ = 0;

	// Scenario runs as `xdc run` reports them (run.state), per scenario name, for /metrics (metrics.cpp).
	struct RunStatus {
		bool active = false;
		std::string phase, runId;
		pid_t pid = 0;             // the run's process: a run whose process is gone is no longer active
		int64_t pidStart = 0;
		int64_t touchedWall = 0;
		bool hasLast = false;      // the last ended run's outcome
		std::string lastVerdict;
		int64_t lastExit = 0, lastEndedWall = 0;
		std::optional<double> detectionMs, failoverMs, rtoMs, rpoS;
		std::vector<std::pair<std::string, std::string>> assertions;
	};
	std::map<std::string, RunStatus> runs_;
	std::map<std::pair<std::string, std::string>, uint64_t> runsEnded_; // (scenario, verdict) -> count
	static constexpr size_t kRunsKept = 200; // scenarios; the least recently reported goes first
	// The /metrics page, rendered from the loop's state at each scrape.
	std::string metricsText();
	control::MetricsEndpoint metrics_;

	ControllerConfig cfg_;
	std::string controllerId_;
	zmq::context_t ctx_;
	std::unique_ptr<transport::ZapHandler> zap_;
	std::unique_ptr<zmq::socket_t> router_;
	std::unique_ptr<transport::Monitor> monitor_;
	control::ControlServer control_;
	std::atomic<bool> stopping_{false};
	std::atomic<bool> reloadRequested_{false};
	std::mt19937_64 rng_;
	int64_t startWall_ = 0;
	uint64_t msgId_ = 0;
	uint64_t commandId_ = 0;

	std::map<std::string, AgentRecord> agents_;
	std::unordered_map<std::string, std::string> idByRouting_;
	// Agent ids on the allow-list now (CURVE mode); a key removed by a reload stops working on open sessions too.
	std::unordered_set<std::string> allowedIds_;
	proto::DropCounters drops_;
	std::map<std::string, uint64_t> transportEvents_;
	std::map<std::string, int64_t> refusalLogged_;
	uint64_t fdLimit_ = 0;          // the open-file limit in force after start() raised it
	int64_t acceptFailLogged_ = 0;  // when the last failed accept was logged (monotonic)
	bool trimAfterBurst_ = false;   // a command went to 1,000 agents or more: malloc_trim once they answered
	int64_t nextTrimMono_ = 0;

	struct Pending {
		std::string agent;
		int64_t deadlineMono;
		CommandCallback cb;
	};
	std::map<uint64_t, Pending> pending_;
};

control::AgentInfo agentInfo(const AgentRecord &a, int64_t nowMono, int64_t nowWall);
// The agent's data addresses as CIDRs (/32, /128): those not on its management interface (faults.cpp).
std::vector<std::string> dataAddresses(const AgentRecord &a);

} // namespace xdc::controller
