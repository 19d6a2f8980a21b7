// SPDX-License-Identifier: Apache-2.0
// One struct per message type. Bodies are msgpack maps keyed by field name, so a peer one version older or newer
// can skip fields it does not know and keep defaults for fields it does not get.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "common/proto/protocol.h"

namespace xdc::proto {

using Bytes = std::vector<uint8_t>;

// A fault in place on an agent (fault.list, and Hello so that a restarted controller learns the running faults).
struct FaultInfo {
	std::string id, kind, mechanism;
	int64_t appliedNs = 0, expiresNs = 0; // agent wall clock
	std::string spec;
	MSGPACK_DEFINE_MAP(id, kind, mechanism, appliedNs, expiresNs, spec)
};

struct Hello {
	static constexpr MsgType kType = MsgType::Hello;
	std::string agentId;
	std::string host;
	std::string dc;
	std::map<std::string, std::string> labels;
	std::string version;     // software version of the agent
	uint8_t protoMin = kMinVersion;
	uint8_t protoMax = kVersion;
	std::map<std::string, std::string> capabilities;
	int64_t startedNs = 0;   // agent wall clock at start
	int32_t pid = 0;
	std::vector<FaultInfo> runningFaults; // faults still in place (a restarted controller learns them)
	// "iface=address" for every non-loopback, non-link-local address, and the interface the controller is reached
	// through: the controller resolves fault peers to data addresses from these.
	std::vector<std::string> addresses;
	std::string mgmtIface;
	// The agent echoes a HeartbeatAck's t1 with its own stamps in its next Heartbeat (the clock exchange rides on
	// the heartbeats), so the controller need not send it periodic ClockPings. Absent (an older agent): false.
	bool clockOnHeartbeat = false;
	MSGPACK_DEFINE_MAP(agentId, host, dc, labels, version, protoMin, protoMax, capabilities, startedNs, pid,
			   runningFaults, addresses, mgmtIface, clockOnHeartbeat)
};

struct Welcome {
	static constexpr MsgType kType = MsgType::Welcome;
	bool accepted = false;
	std::string reason;      // why it was refused, in words for the agent's log
	std::string controllerId;
	uint8_t protoVersion = kVersion;
	int64_t heartbeatMs = 1000;
	int64_t leaseMs = 5000;
	// The controller takes FaultEvent: the agent pushes every end of a fault as it happens. A controller that does
	// not send the key (an older one) gets none, and learns of ends as before (a fault's record outlives its
	// duration by a grace period).
	bool faultEvents = false;
	MSGPACK_DEFINE_MAP(accepted, reason, controllerId, protoVersion, heartbeatMs, leaseMs, faultEvents)
};

// agent -> controller, sent at once when a fault ends on the agent for any reason (its duration elapsed, the
// controller's lease ran out, a revert was asked) or its revert could not be verified; only to a controller whose
// Welcome set faultEvents. Times are the agent's wall clock.
struct FaultEvent {
	static constexpr MsgType kType = MsgType::FaultEvent;
	std::string id, kind;
	std::string event;       // "reverted" | "revert_failed"
	std::string why;         // "duration elapsed", "lease expired: ...", the controller's request, ...
	int64_t revertedNs = 0;  // when the revert took effect
	int64_t verifiedNs = 0;  // when it was verified gone (or found still there)
	std::string error;       // revert_failed: what is left
	MSGPACK_DEFINE_MAP(id, kind, event, why, revertedNs, verifiedNs, error)
};

struct Heartbeat {
	static constexpr MsgType kType = MsgType::Heartbeat;
	uint64_t seq = 0;
	int64_t uptimeMs = 0;
	std::map<std::string, uint64_t> drops; // the agent's drop counters by category name
	uint32_t activeFaults = 0;
	uint64_t rssBytes = 0;
	// A clock exchange on the heartbeats (0 = none): the t1 of the last HeartbeatAck that carried one, the agent's
	// wall clock when that ack arrived, and when this heartbeat was sent. The controller's receipt is the fourth
	// stamp; the hold between the second and third (about one heartbeat interval) cancels out of the offset.
	int64_t clockT1 = 0;
	int64_t clockT2 = 0;
	int64_t clockT3 = 0;
	MSGPACK_DEFINE_MAP(seq, uptimeMs, drops, activeFaults, rssBytes, clockT1, clockT2, clockT3)
};

struct HeartbeatAck {
	static constexpr MsgType kType = MsgType::HeartbeatAck;
	uint64_t seq = 0;
	std::string controllerId;
	int64_t leaseMs = 5000;
	int64_t t1 = 0;          // controller wall clock at send, for an agent with clockOnHeartbeat (else 0)
	MSGPACK_DEFINE_MAP(seq, controllerId, leaseMs, t1)
};

// A command from the agent's fixed table. `args` is the msgpack encoding of the command's own argument struct,
// decoded by the handler registered for `name`; there is no free-form command.
struct Command {
	static constexpr MsgType kType = MsgType::Command;
	uint64_t id = 0;
	uint64_t nonce = 0;
	int64_t notAfterNs = 0;  // on the agent's wall clock (the controller converts with its offset estimate)
	std::string name;
	Bytes args;
	MSGPACK_DEFINE_MAP(id, nonce, notAfterNs, name, args)
};

struct CommandResult {
	static constexpr MsgType kType = MsgType::Result;
	uint64_t commandId = 0;
	bool ok = false;
	std::string code;        // error class name when !ok
	std::string message;
	Bytes data;              // msgpack of the command's result struct
	int64_t receivedNs = 0;  // agent wall clock
	int64_t doneNs = 0;
	MSGPACK_DEFINE_MAP(commandId, ok, code, message, data, receivedNs, doneNs)
};

struct ClockPing {
	static constexpr MsgType kType = MsgType::ClockPing;
	uint64_t seq = 0;
	int64_t t1 = 0;          // controller wall clock at send
	MSGPACK_DEFINE_MAP(seq, t1)
};

struct ClockPong {
	static constexpr MsgType kType = MsgType::ClockPong;
	uint64_t seq = 0;
	int64_t t1 = 0;
	int64_t t2 = 0;          // agent wall clock at receive
	int64_t t3 = 0;          // agent wall clock at send
	MSGPACK_DEFINE_MAP(seq, t1, t2, t3)
};

struct Sample {
	uint64_t seq = 0;        // per agent, assigned when the sample is taken
	std::string kind;        // host, process, probe.tcp, probe.http, ...
	std::string source;      // the sampler or probe name
	int64_t wallNs = 0;
	int64_t monoNs = 0;
	std::map<std::string, double> values;
	std::map<std::string, std::string> tags;
	MSGPACK_DEFINE_MAP(seq, kind, source, wallNs, monoNs, values, tags)
};

struct EvidenceBatch {
	static constexpr MsgType kType = MsgType::EvidenceBatch;
	std::string recording;
	std::vector<Sample> samples;   // ascending seq
	// Sequence numbers this agent took but lost (its disk spool was full), as [first, last] pairs: the controller
	// reports them as gaps and acks past them. Sent with every batch until acked.
	std::vector<uint64_t> lost;
	MSGPACK_DEFINE_MAP(recording, samples, lost)
};

// Cumulative: the controller has stored every sample of `recording` from this agent with seq <= ackSeq. The agent
// frees them (memory and spool) and resends from ackSeq + 1 after a reconnect or when acks stop coming.
struct EvidenceAck {
	static constexpr MsgType kType = MsgType::EvidenceAck;
	std::string recording;
	uint64_t ackSeq = 0;
	MSGPACK_DEFINE_MAP(recording, ackSeq)
};

struct Bye {
	static constexpr MsgType kType = MsgType::Bye;
	std::string reason;
	MSGPACK_DEFINE_MAP(reason)
};

// evidence.start: run samplers for a recording on this agent until stopped or until untilNs (agent wall clock; the
// agent stops on its own then, whether or not the controller is still there).
struct EvidenceStartArgs {
	std::string recording;           // [a-zA-Z0-9._-]{1,64}
	std::vector<std::string> specs;  // sampler specs (YAML flow), parsed and validated again here
	int64_t maxDurationMs = 0;       // samplers stop after this long (monotonic), whatever happens to the controller
	uint64_t memorySamples = 0;      // 0 = the agent config's evidence.memory_samples
	MSGPACK_DEFINE_MAP(recording, specs, maxDurationMs, memorySamples)
};
struct EvidenceStartReply {
	std::string recording;
	std::vector<std::string> samplers; // names, in spec order
	int64_t startedNs = 0;             // agent wall clock
	MSGPACK_DEFINE_MAP(recording, samplers, startedNs)
};
// evidence.stop: stop the samplers (the outbox keeps delivering until everything is acked).
struct EvidenceStopArgs {
	std::string recording;
	MSGPACK_DEFINE_MAP(recording)
};
struct EvidenceStopReply {
	std::string recording;
	uint64_t lastSeq = 0;                   // the last sequence number taken: the controller waits for 1..lastSeq
	std::map<std::string, uint64_t> counts; // samples taken per sampler
	std::map<std::string, uint64_t> missed; // schedule slots a sampler missed (it overran its interval)
	uint64_t spilled = 0;                   // samples that went through the disk spool
	uint64_t dropped = 0;                   // samples lost because the spool was full (reported as gaps, too)
	std::vector<std::string> log;           // the agent's log lines (JSON objects) of the recording's window
	int64_t startedNs = 0, stoppedNs = 0;   // agent wall clock
	MSGPACK_DEFINE_MAP(recording, lastSeq, counts, missed, spilled, dropped, log, startedNs, stoppedNs)
};

// Arguments and results of the built-in commands of the Foundation table.
struct PingArgs {
	std::string text;
	MSGPACK_DEFINE_MAP(text)
};
struct PingReply {
	std::string text;
	int64_t agentNs = 0;
	MSGPACK_DEFINE_MAP(text, agentNs)
};

// streams.pe: stop or restart one Streams PE through this host's streamtool (the agent's `streams:` config).
struct StreamsPeArgs {
	std::string verb;            // "stop" | "restart"
	std::string pe;              // PE id: digits only
	MSGPACK_DEFINE_MAP(verb, pe)
};
struct StreamsPeReply {
	std::vector<std::string> argv; // what ran (no secrets)
	int exitCode = 0;
	std::string output;          // streamtool's stdout and stderr, at most 4 KiB
	int64_t startedNs = 0, endedNs = 0; // agent wall clock
	MSGPACK_DEFINE_MAP(argv, exitCode, output, startedNs, endedNs)
};

// streams.orderly_shutdown: run the site's orderly-shutdown hook (the agent's `streams.orderly_shutdown` argv), which
// makes the application send OrderlyShutdown into the cross-DC toolkit's SpecialMessage port. Nothing but an
// optional job id crosses the wire; the agent refuses the command when its config has no hook.
struct StreamsOrderlyShutdownArgs {
	std::string job;             // "" or a job id (digits); put in place of a `{job}` argv element of the hook
	MSGPACK_DEFINE_MAP(job)
};
using StreamsOrderlyShutdownReply = StreamsPeReply; // argv (as run), exitCode, output (4 KiB), startedNs, endedNs

// data.tail: complete lines of a sink file the agent's `data.sinks` config names (never a path from the wire),
// from a byte offset. The reader passes back the offset and inode of the previous reply; a file that was replaced
// (another inode) or truncated (shorter than the offset) is read again from 0 and the reply says so.
struct DataTailArgs {
	std::string sink;            // a name of the agent's data.sinks
	uint64_t offset = 0;         // where the previous reply ended (its nextOffset)
	uint64_t inode = 0;          // the previous reply's inode; 0 = not known yet
	uint64_t maxBytes = 0;       // capped by the agent (4 MiB and its frame limit); 0 = the cap
	bool fromEnd = false;        // skip what the file holds: nextOffset = after its last complete line, no data
	MSGPACK_DEFINE_MAP(sink, offset, inode, maxBytes, fromEnd)
};
struct DataTailReply {
	std::string data;            // only complete lines ('\n'-terminated), from `offset`
	uint64_t offset = 0;         // where `data` starts (0 after a restart)
	uint64_t nextOffset = 0;     // where the next call continues
	uint64_t size = 0;           // the file's size when read
	uint64_t inode = 0;          // 0 when the file does not exist (yet)
	bool restarted = false;      // replaced or truncated since the previous reply: read again from 0
	int64_t readNs = 0;          // agent wall clock
	MSGPACK_DEFINE_MAP(data, offset, nextOffset, size, inode, restarted, readNs)
};

// data.drop: a file of tuple lines dropped into a directory of the agent's data.drops, as an application's
// DirectoryScan + FileSource read it: written under a hidden temporary name, then renamed into place. The wire names
// the directory; the agent makes the file names.
struct DataDropArgs {
	std::string drop;            // a name of the agent's data.drops
	std::string data;            // complete lines ('\n'-terminated)
	uint64_t lines = 0;          // how many lines `data` holds (checked)
	MSGPACK_DEFINE_MAP(drop, data, lines)
};
struct DataDropReply {
	std::string file;            // the file's name in the directory
	uint64_t bytes = 0;
	int64_t droppedNs = 0;       // agent wall clock, when the rename made it visible
	MSGPACK_DEFINE_MAP(file, bytes, droppedNs)
};

// data.generate.start / data.generate.stop: the test-tuple generator on this host (docs/DATA.md, generate_on).
struct DataGenSource {
	std::string name;            // the DC it feeds
	std::string kind;            // "http_json" (HTTPJSONInjection: one POST per tuple to url) | "tcp" (TCPSource lines)
	std::string url;             // http: http:// or https:// only
	std::string host;            // tcp: a numeric address
	int port = 0;
	std::string user, password;  // http Basic (never logged)
	std::string caFile;
	bool insecure = false;
	MSGPACK_DEFINE_MAP(name, kind, url, host, port, user, password, caFile, insecure)
};
struct DataGenerateStartArgs {
	std::string runId;
	uint64_t seed = 0;
	double rate = 200;           // tuples/s (the end rate of a ramp)
	double rampFrom = -1;        // < 0: no ramp
	int64_t rampNs = 0, burstEveryNs = 0, burstForNs = 0;
	double burstFactor = 1;
	uint32_t keys = 16;
	uint64_t payload = 16;
	std::vector<DataGenSource> sources;
	int64_t maxDurationMs = 0;   // the agent stops the generator by itself after this (its monotonic clock)
	MSGPACK_DEFINE_MAP(runId, seed, rate, rampFrom, rampNs, burstEveryNs, burstForNs, burstFactor, keys, payload,
			   sources, maxDurationMs)
};
struct DataGenerateStartReply {
	std::string runId;
	int64_t startedNs = 0;       // agent wall clock
	MSGPACK_DEFINE_MAP(runId, startedNs)
};
struct DataGenerateStopArgs {
	std::string runId;
	MSGPACK_DEFINE_MAP(runId)
};
struct DataGenerateStopReply {
	std::string runId;
	uint64_t generated = 0, accepted = 0, refusedBatches = 0, failedBatches = 0, uncertain = 0, backlog = 0;
	uint64_t switches = 0;
	bool fellBehind = false;
	bool expired = false;        // stopped by maxDurationMs before this call
	std::map<std::string, uint64_t> perSource;
	std::map<std::string, uint64_t> unwritten; // per source: tuples it could not write while routed to
	std::vector<int64_t> changeNs;         // source changes: agent wall ns ...
	std::vector<std::string> changeSource; // ... and the source
	std::string lastError;
	std::map<uint32_t, uint64_t> sentPerKey;
	// Per key, the accepted seqs' event times (agent wall clock), delta-encoded: the first absolute, then the
	// differences. Left out (timesOmitted) when there are more than kMaxGenTimes, to stay under the frame limit.
	std::map<uint32_t, std::vector<int64_t>> sendTimes;
	bool timesOmitted = false;
	int64_t startedNs = 0, stoppedNs = 0;  // agent wall clock
	MSGPACK_DEFINE_MAP(runId, generated, accepted, refusedBatches, failedBatches, uncertain, backlog, switches,
			   fellBehind, expired, perSource, changeNs, changeSource, lastError, sentPerKey, sendTimes,
			   timesOmitted, startedNs, stoppedNs, unwritten)
};
// At most 9 bytes each in msgpack: 300000 times stay under 3 MiB of the 4 MiB frame.
constexpr uint64_t kMaxGenTimes = 300000;

// fault.apply: one fault on this agent, fully resolved by the controller (peers are CIDRs).
struct FaultApplyArgs {
	std::string id;
	std::string spec;            // the fault spec (YAML flow); the agent parses and validates it again
	int64_t durationMs = 0;      // TTL, kept on the agent's monotonic clock and capped by its max_fault_duration
	std::vector<std::string> peers; // network faults: IPv4/IPv6 addresses or CIDRs resolved from the peer selector
	int64_t startAtNs = 0;       // agent wall clock: apply at this instant (synchronised start); 0 = at once
	bool dryRun = false;
	MSGPACK_DEFINE_MAP(id, spec, durationMs, peers, startAtNs, dryRun)
};
struct FaultApplyReply {
	std::string id;
	std::string mechanism;       // e.g. "nft table inet xdc_f1 with set timeouts"
	std::vector<std::string> plan; // the exact actions (for --dry-run)
	// Agent wall clock: command received, kernel change made (the effective time), read back and verified, end.
	int64_t requestedNs = 0, appliedNs = 0, verifiedNs = 0, expiresNs = 0;
	int64_t lateNs = 0;          // how far past startAtNs the change was made (0 without startAtNs)
	std::string readback;        // what the kernel reported after apply
	MSGPACK_DEFINE_MAP(id, mechanism, plan, requestedNs, appliedNs, verifiedNs, expiresNs, lateNs, readback)
};
// fault.revert: one fault by id, or "*" for every fault on the agent (halt).
struct FaultRevertArgs {
	std::string id;
	MSGPACK_DEFINE_MAP(id)
};
struct FaultRevertReply {
	std::vector<std::string> reverted;   // reverted and verified gone
	std::vector<std::string> unverified; // "id: why"
	int64_t verifiedNs = 0;
	MSGPACK_DEFINE_MAP(reverted, unverified, verifiedNs)
};
struct FaultListReply {
	std::vector<FaultInfo> faults;
	MSGPACK_DEFINE_MAP(faults)
};
// fault.residue (no arguments): what of ours is on the host, touching nothing, beside the faults in place.
struct FaultResidueReply {
	std::vector<std::string> objects; // "nft table inet xdc_f1", "fill file /var/tmp/xdc-fill-f2", "stopped process 42 (x)"
	std::vector<std::string> running; // ids of the faults in place (they own some of the objects)
	MSGPACK_DEFINE_MAP(objects, running)
};

} // namespace xdc::proto
