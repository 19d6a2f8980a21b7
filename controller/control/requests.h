// SPDX-License-Identifier: Apache-2.0
// The console's requests on the control socket (docs/PROTOCOL.md, "Control socket API"): one struct per command,
// read from JSON in one place (parseRequest) and printed in one place (toJson). Every request carries the control
// protocol's version "v"; the controller's window is [kControlMinVersion, kControlVersion], and a request without
// "v" is read as kControlVersion (consoles from before the field).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/fault/spec.h"
#include "common/proto/messages.h"
#include "common/result.h"

namespace xdc::control {

using nlohmann::json;

// The control protocol's version. A change a console of the previous version cannot speak bumps it; the
// controller keeps reading the previous version (N-1, floored at 1), as the agent protocol does (kMinVersion).
constexpr int kControlVersion = 1;
constexpr int kControlMinVersion = kControlVersion > 1 ? kControlVersion - 1 : 1;

struct AgentsRequest {
	static constexpr std::string_view kCmd = "agents";
};

// "stats" and its synonym "status"; status remembers which the console sent.
struct StatsRequest {
	static constexpr std::string_view kCmd = "stats";
	bool status = false;
};

struct ReloadRequest {
	static constexpr std::string_view kCmd = "reload";
};

struct ShutdownRequest {
	static constexpr std::string_view kCmd = "shutdown";
};

// A fault, as the typed spec. The JSON form carries it as an object (fault/spec_json.h); a spec as YAML text (the
// form before "v") is still read, with the same checks.
struct FaultApplyRequest {
	static constexpr std::string_view kCmd = "fault.apply";
	fault::FaultSpec spec;
	std::string origin = "<command line>"; // where the spec came from, for messages
	bool dryRun = false;
	bool sync = true;       // false: each agent applies on arrival, no shared instant
	int64_t startAtNs = 0;  // the shared instant on the controller's wall clock; 0: none given
};

struct FaultRevertRequest {
	static constexpr std::string_view kCmd = "fault.revert";
	std::string id;
};

struct HaltRequest {
	static constexpr std::string_view kCmd = "halt";
};

struct FaultListRequest {
	static constexpr std::string_view kCmd = "fault.list";
};

struct ResidueRequest {
	static constexpr std::string_view kCmd = "residue";
};

// One sampler or probe spec of a recording, as YAML text the controller parses (common/evidence/spec.h).
struct RecordSpec {
	std::string spec;
	std::string origin = "<command line>";
};

struct RecordStartRequest {
	static constexpr std::string_view kCmd = "record.start";
	std::vector<RecordSpec> specs; // at least one
	std::string out;               // an absolute directory
	int64_t forMs = 0;             // 0: until record.stop or maxMs
	int64_t maxMs = 3600000;
	std::string name;              // empty: the controller names it
	uint64_t memorySamples = 0;    // 0: the agents' default
};

struct RecordStatusRequest {
	static constexpr std::string_view kCmd = "record.status";
	std::string recording; // empty: the list of recordings
	int64_t windowMs = 0;
	int64_t windowEndNs = 0; // 0: the window ends at each source's newest delivered sample (recording.h status())
};

struct RecordStopRequest {
	static constexpr std::string_view kCmd = "record.stop";
	std::string recording;
	int64_t drainMs = 30000;
};

struct PingRequest {
	static constexpr std::string_view kCmd = "ping";
	std::vector<std::string> agents; // ids, or "*" for every live agent
	std::string text = "ping";
};

struct StreamsPeRequest {
	static constexpr std::string_view kCmd = "streams.pe";
	std::string host, verb, pe; // verb: stop or restart
};

struct StreamsOrderlyShutdownRequest {
	static constexpr std::string_view kCmd = "streams.orderly_shutdown";
	std::string host, job; // job: "" or digits
};

// The generator's arguments are the agent command's own (the agent checks every one again).
struct DataGenerateStartRequest {
	static constexpr std::string_view kCmd = "data.generate.start";
	std::string host;
	proto::DataGenerateStartArgs args;
};

struct DataGenerateStopRequest {
	static constexpr std::string_view kCmd = "data.generate.stop";
	std::string host, runId;
};

struct DataTailRequest {
	static constexpr std::string_view kCmd = "data.tail";
	std::string host, sink;
	uint64_t offset = 0, inode = 0, max = 0;
	bool fromEnd = false;
};

struct DataDropRequest {
	static constexpr std::string_view kCmd = "data.drop";
	std::string host, drop, data;
	uint64_t lines = 0;
};

// A scenario run's progress, sent by `xdc run` as each phase begins and once when the run has ended, for the
// controller's /metrics (docs/USER_GUIDE.md, "xdc in Prometheus"). The controller keeps the latest per scenario.
struct RunStateRequest {
	static constexpr std::string_view kCmd = "run.state";
	std::string scenario, runId, phase;
	bool ended = false;
	std::string verdict; // ended: passed | failed | aborted | broken
	int64_t exitCode = 0;
	// ended: the run's headline figures, absent when it measured none
	std::optional<double> detectionMs, failoverMs, rtoMs, rpoS;
	std::vector<std::pair<std::string, std::string>> assertions; // ended: name and status, in order
};

using Request = std::variant<AgentsRequest, StatsRequest, ReloadRequest, ShutdownRequest, FaultApplyRequest,
			     FaultRevertRequest, HaltRequest, FaultListRequest, ResidueRequest, RecordStartRequest,
			     RecordStatusRequest, RecordStopRequest, PingRequest, StreamsPeRequest,
			     StreamsOrderlyShutdownRequest, DataGenerateStartRequest, DataGenerateStopRequest,
			     DataTailRequest, DataDropRequest, RunStateRequest>;

// The command's name on the wire ("fault.apply"; "status" for a StatsRequest that came as status).
std::string_view commandName(const Request &r);

// Reads one request line's object: the command, its version and every field with its type and the checks that
// need nothing but the request (the controller does those that need the fleet). Errors are Errc::Invalid with the
// message the console shows ("unknown command 'X'", "streams.pe needs host, verb (stop|restart) and pe", a fault
// spec's "origin:line:column: key: ..."), or Errc::Unsupported for a version outside the window.
Result<Request> parseRequest(const json &j);

// One request to the controller and its answer (as the control socket client does it; thread-safe in every use).
using Caller = std::function<Result<json>(const Request &req, int timeoutMs)>;

// The request as its JSON object, with "cmd" and "v" = kControlVersion. parseRequest(toJson(r)) gives r back.
json toJson(const Request &r);

} // namespace xdc::control
