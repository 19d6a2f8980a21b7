// SPDX-License-Identifier: Apache-2.0
// The controller's answers that consoles read fields from (docs/PROTOCOL.md, "Control socket API"): one struct per
// answer, printed in one place (toJson, the controller) and read in one place (parseAnswer, the console). Answers
// that the console only passes on whole (a recording's status and meta.json, data.generate.stop's figures, the
// Streams programs' output, stats) stay JSON payloads: in a typed envelope where they sit inside one of these,
// as they are elsewhere.
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

// One agent as `agents` lists it (controller.cpp agentJson).
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

// The answer as its JSON object, with "ok".
json toJson(const AgentInfo &a);
json toJson(const AgentsAnswer &a);
json toJson(const PingAnswer &a);
json toJson(const FaultApplyAnswer &a);
json toJson(const FaultRevertAnswer &a);
json toJson(const FaultListAnswer &a);
json toJson(const RecordStartAnswer &a);
json toJson(const RecordStatusAnswer &a);
json toJson(const RecordStopAnswer &a);

// Reads an answer the console got; Errc::Protocol naming the field when it is not what this console expects. An
// answer that is not ok is read by the caller first (FaultApplyAnswer alone carries its refusal).
template<typename T>
Result<T> parseAnswer(const json &j);

// The error of an answer that is not ok (a missing or odd error object reads as "unknown error").
AnswerError answerError(const json &j);

} // namespace xdc::control
