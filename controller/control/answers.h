// SPDX-License-Identifier: Apache-2.0
// The controller's answers on the control socket (docs/PROTOCOL.md, "Control socket API"): one struct per answer,
// printed in one place (toJson, the controller) and read in one place (parseAnswer, the console). Every answer a
// console or runner reads is typed here. What the console only passes on whole stays a JSON payload inside its typed
// envelope: a recording's status and meta.json (printed by controller/evidence with their own printers).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace xdc::control {

using nlohmann::json;

// The error of an answer that is not ok: {"ok": false, "error": {"code", "message"}}.
struct AnswerError {
	std::string code, message;
};

// One agent as `agents` lists it (controller.cpp agentInfo).
struct AgentInfo {
	struct Clock {
		double offsetMs = 0, boundMs = 0, rttMs = 0;
		uint64_t samples = 0;
	};
	std::string id, host, dc, version;
	std::map<std::string, std::string> labels, capabilities;
	int protocol = 0;
	std::string state, lostReason; // state: live | lost
	int64_t lastHeartbeatAgeMs = 0, stateSinceMs = 0;
	std::optional<Clock> clock;     // none before the first clock exchange
	int32_t pid = 0;
	uint64_t rssBytes = 0, registrations = 0;
	std::map<std::string, uint64_t> drops;
	std::vector<std::string> addresses, runningFaults;
};

struct AgentsAnswer {
	std::vector<AgentInfo> agents;
};

struct PingAnswer {
	struct Reply {
		bool ok = false;
		int64_t rttUs = 0; // from the request's arrival to this agent's answer or error
		std::string error;
	};
	std::map<std::string, Reply> results;
};

// fault.apply: ok with every agent's times (or plan, for a dry run), or refused/failed with why per agent.
struct FaultApplyAnswer {
	struct Agent {
		bool ok = false;
		std::string error;      // when not ok
		bool detailed = false;  // ok and its reply decoded: the fields below are set
		std::string mechanism;
		std::vector<std::string> plan; // dry run
		int64_t requestedNs = 0, appliedNs = 0, verifiedNs = 0, expiresNs = 0, boundNs = 0, lateNs = 0;
		std::string readback;
	};
	bool ok = true;
	AnswerError error;              // when not ok
	std::string id, kind;
	bool dryRun = false;
	std::map<std::string, Agent> agents;
	std::optional<int64_t> spreadNs; // when any agent reported its apply time
};

// fault.revert and halt.
struct FaultRevertAnswer {
	struct Agent {
		bool ok = false;
		std::string error;
		bool detailed = false;
		std::vector<std::string> reverted, unverified;
		int64_t verifiedNs = 0;
	};
	bool allVerified = false;
	std::map<std::string, Agent> agents;
};

struct FaultListAnswer {
	struct Fault {
		std::string id, kind, spec;
		std::vector<std::string> agents;
		int64_t createdNs = 0, durationMs = 0, remainingMs = 0;
	};
	std::vector<Fault> faults;
	// The latest ends the agents pushed (FaultEvent), oldest first: when the revert took effect on the agent and
	// when the controller learned of it, both on the controller's clock.
	struct Ended {
		std::string id, kind, agent, why;
		int64_t revertedNs = 0, learnedNs = 0;
	};
	std::vector<Ended> ended;
};

struct RecordStartAnswer {
	std::string recording, dir;
	std::map<std::string, bool> agents; // agent -> started
	int64_t startedNs = 0;
};

// record.status: one recording's status, or (no recording named) the list; both as the recording writes them
// (controller/evidence/recording.cpp status()), passed on whole.
struct RecordStatusAnswer {
	std::optional<json> status;
	std::optional<json> recordings;
};

// record.stop: the bundle's meta.json (docs/EVIDENCE.md) passed on whole.
struct RecordStopAnswer {
	std::string recording, dir;
	json meta;
};

// stats and status: the controller's own state (controller.cpp statsAnswer); the wire nests it as "stats".
struct StatsAnswer {
	std::string controllerId, version, listen, control;
	int32_t pid = 0;
	int protocolMin = 0, protocolMax = 0; // the agent protocol's window
	bool secure = false;                  // CURVE and the allow-list on
	int64_t uptimeMs = 0;
	uint64_t agentsKnown = 0, agentsLive = 0;
	std::map<std::string, uint64_t> drops;     // dropped agent frames by category
	std::map<std::string, uint64_t> transport; // monitor events by name, once non-zero
	uint64_t zapAccepted = 0, zapRefused = 0;
	uint64_t pendingCommands = 0;
};

// reload: the allow-list re-read (also what SIGHUP does); the wire nests it as "reload".
struct ReloadAnswer {
	std::string file;
	uint64_t allowed = 0; // keys in the new list
	std::vector<std::string> added, removed; // agent ids
};

// residue: fault.residue on every live agent.
struct ResidueAnswer {
	struct Agent {
		bool ok = false;
		std::string error;     // when not ok
		bool detailed = false; // ok and its reply decoded: the lists below are set
		std::vector<std::string> objects, running; // our objects left; the faults it still runs
	};
	std::map<std::string, Agent> agents;
};

// streams.pe and streams.orderly_shutdown: the program the agent ran. ok only when it exited 0; otherwise error
// says so ("failed"). An agent's refusal before anything ran is a plain error answer: ran is false then.
struct StreamsRunAnswer {
	bool ok = true;
	AnswerError error;      // when not ok
	bool ran = false;       // the fields below are set
	std::string agent;
	std::vector<std::string> argv;
	int exitCode = 0;
	std::string output;
	int64_t startedNs = 0, endedNs = 0; // controller timeline
	int64_t boundNs = -1;               // the agent's clock bound; -1 while not estimated
};

// data.generate.start: the generator runs on the agent.
struct DataGenerateStartAnswer {
	std::string agent;
	int64_t startedNs = 0;              // controller timeline
	int64_t offsetNs = 0, boundNs = -1; // the agent's clock: agent wall - offset = controller timeline
};

// data.generate.stop: the generator's figures (every field of the agent's DataGenerateStopReply), times on the
// controller's timeline except the agent_* ones and send_times_delta's first of each key (agent wall clock).
struct DataGenerateStopAnswer {
	struct SourceChange {
		int64_t tNs = 0;
		std::string source;
	};
	std::string agent;
	int64_t offsetNs = 0, boundNs = -1;
	uint64_t generated = 0, accepted = 0, refusedBatches = 0, failedBatches = 0, uncertain = 0, backlog = 0;
	uint64_t switches = 0;
	bool fellBehind = false, expired = false;
	std::map<std::string, uint64_t> perSource, unwritten;
	std::vector<SourceChange> sourceChanges;
	std::string lastError;
	std::map<uint32_t, uint64_t> sentPerKey;              // keys print as strings
	std::map<uint32_t, std::vector<int64_t>> sendTimesDelta; // first absolute, then differences
	bool timesOmitted = false;
	int64_t startedNs = 0, stoppedNs = 0, agentStartedNs = 0, agentStoppedNs = 0;
};

// data.tail: complete lines of a sink file from an offset.
struct DataTailAnswer {
	std::string agent, data;
	uint64_t offset = 0, nextOffset = 0, size = 0, inode = 0;
	bool restarted = false;
	int64_t readNs = 0; // agent wall clock
};

// data.drop: the file the agent dropped.
struct DataDropAnswer {
	std::string agent, file;
	uint64_t bytes = 0;
	int64_t droppedNs = 0; // controller timeline
};

// The answer as its JSON object, with "ok".
json toJson(const AgentInfo &a);
json toJson(const AgentsAnswer &a);
// The same answer as toJson(a).dump() prints it, written without building the object (10,000 agents are 3.6 MB of
// JSON; building it took most of `xdc agents`' time): {"agents":[...],"ok":true}.
std::string agentsLine(const AgentsAnswer &a);
json toJson(const PingAnswer &a);
json toJson(const FaultApplyAnswer &a);
json toJson(const FaultRevertAnswer &a);
json toJson(const FaultListAnswer &a);
json toJson(const RecordStartAnswer &a);
json toJson(const RecordStatusAnswer &a);
json toJson(const RecordStopAnswer &a);
json toJson(const StatsAnswer &a);
json toJson(const ReloadAnswer &a);
json toJson(const ResidueAnswer &a);
json toJson(const StreamsRunAnswer &a);
json toJson(const DataGenerateStartAnswer &a);
json toJson(const DataGenerateStopAnswer &a);
json toJson(const DataTailAnswer &a);
json toJson(const DataDropAnswer &a);

// Reads an answer the console got; Errc::Protocol naming the field (its key path, "stats.pid") when it is not what
// this console expects. An answer that is not ok is read by the caller first (FaultApplyAnswer and StreamsRunAnswer
// alone carry their refusal).
template<typename T>
Result<T> parseAnswer(const json &j);

// The error of an answer that is not ok (a missing or odd error object reads as "unknown error").
AnswerError answerError(const json &j);

} // namespace xdc::control
