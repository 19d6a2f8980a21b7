// SPDX-License-Identifier: Apache-2.0
// What a recording observes on one agent: one Sampler per spec, one implementation file per kind. The recorder
// (recorder.h) calls sample() on a schedule from the sampler's own thread and gives every sample its sequence number;
// a sampler only observes and fills values.
//
// What each kind emits (proto::Sample: kind, source = spec name, wallNs/monoNs = when the observation STARTED,
// values, tags). Consumers (outage analysis, reports, scenario assertions) rely on these names:
//   host          values cpu_percent (all CPUs, since the previous sample; absent in the first), mem_total_bytes,
//                 mem_available_bytes, mem_used_percent, load1, load5, load15,
//                 net.<iface>.rx_bytes / tx_bytes / rx_packets / tx_packets / rx_drops / tx_drops (counters),
//                 disk.<path>.total_bytes / free_bytes / used_percent
//   process       values count, cpu_percent (sum, since the previous sample), rss_bytes (sum);
//                 tags pids ("12,34"), states ("S,R"), match (described)
//   process.event one per pid change: values pid; tags event ("started" | "exited"), pid, comm, cmdline
//                 (truncated to 200 characters). A relaunch is an "exited" and a "started" event. wallNs is the end of
//                 the scan that SAW the change (the count sample's wallNs is its start); values.prev_wall_ns is the
//                 previous sample's time (its scan's start), so the change is known to lie in (prev_wall_ns, wallNs].
//   probe.tcp     values ok (1/0), latency_ms (connect time, also on failure: time to the error or the timeout),
//                 timeout_ms; tags target ("10.1.2.11:7000"), error ("" | "refused" | "timeout" | "unreachable" |
//                 "reset" | strerror text)
//   probe.http    values ok, latency_ms (to the last byte), status (HTTP status, 0 when none), timeout_ms; tags target
//                 (URL), error ("" | "timeout" | "status 503" | "body did not match" | curl's text)
//   command       values ok (exit 0), exit_code, duration_ms; tags command, output (first line of stdout, at most
//                 200 characters), error
//   log.line      one per matching line read this round (log sampler): values prev_wall_ns (when the previous read
//                 of this sampler started: the line's end was written in (prev_wall_ns, wallNs]; 0 on the first
//                 read), line_wall_ns (the line's own leading ISO-8601 time with a zone, as agent wall-clock ns;
//                 absent when the line has none or it does not parse); tags file (relative to the source's
//                 directory, or the base name of a one-file source), line (without the newline, at most 1000
//                 characters)
//   log           every round (log sampler): values lines (matching lines this round), skipped_lines (complete lines
//                 that did not match), read_bytes, files (files of the source seen), capped (1 when the per-round
//                 cap of 2,000 lines / 4 MiB stopped the round: the rest comes next round); tags error (only when a
//                 file could not be read)
//   file          every round, one per file present (file sampler): values size_bytes, mtime_ns (agent wall
//                 clock); tags file (base name)
//   file.event    one per change since the previous round (never in the first): tags event ("created" |
//                 "modified" | "deleted"), file; values prev_wall_ns (previous round's start: the change lies in
//                 (prev_wall_ns, wallNs]), size_bytes, mtime_ns (for deleted: the last seen)
//   file.summary  every round (file sampler): values files (count), exists (1/0: the configured path), omitted
//                 (files beyond the 256 reported); tags error (only when the path exists but cannot be read)
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/faults/process_match.h"
#include "common/evidence/spec.h"
#include "common/proto/messages.h"
#include "common/result.h"

namespace xdc::agent {

// A site-specific check declared in the agent's own config (evidence.commands): the wire names it, never its argv.
struct CommandDef {
	std::vector<std::string> argv;
	std::chrono::milliseconds timeout{5000};
};

// A log source declared in the agent's own config (evidence.logs): one file, or the files of a directory whose base
// name matches a glob. The wire names it, never a path.
struct LogSourceDef {
	std::string path;          // absolute: the file, or the directory
	bool directory = false;    // written as {path, glob, recursive}
	std::string glob = "*";    // directory: fnmatch(3) pattern over base names
	bool recursive = false;    // directory: also subdirectories, up to kLogMaxDepth levels below path
};
constexpr int kLogMaxDepth = 4;

// What samplers need to know about this agent.
struct SamplerEnv {
	ProcContext proc;                              // /proc root, netns fence, streams-pe pattern (process sampler)
	std::string netDevPath = "/proc/net/dev";      // host sampler: per-interface counters of this netns
	std::map<std::string, CommandDef> commands;    // evidence.commands from the agent config
	std::map<std::string, LogSourceDef> logs;      // evidence.logs: the only files a log sampler reads
	std::map<std::string, std::string> files;      // evidence.files: name -> absolute path (a file or a directory)
};

class Sampler {
public:
	virtual ~Sampler() = default;
	virtual const evidence::SamplerSpec &spec() const = 0;
	// Takes one observation now and appends zero or more samples to out (a process sampler adds pid-change events
	// to its regular sample). Must return within the spec's timeout (probes, commands) or promptly (host, process),
	// so the next slot is not missed. Never throws; a failed observation is a sample that says so (ok 0, error).
	// seq is left 0: the recorder assigns it.
	virtual void sample(std::vector<proto::Sample> &out) = 0;
};

// Builds the sampler for a spec that parseSamplerSpec accepted. Errors (Errc::Invalid/Unsupported/Refused): a
// command name not in env.commands, a log/file source not in env.logs/env.files, a body_match or log match regex
// that does not compile, a ca_file that cannot be read.
Result<std::unique_ptr<Sampler>> makeSampler(const evidence::SamplerSpec &spec, const SamplerEnv &env);

} // namespace xdc::agent

namespace xdc::agent::samplers {
// One factory per kind (one file each); makeSampler() dispatches on spec.kind.
Result<std::unique_ptr<Sampler>> makeHost(const evidence::SamplerSpec &spec, const SamplerEnv &env);
Result<std::unique_ptr<Sampler>> makeProcess(const evidence::SamplerSpec &spec, const SamplerEnv &env);
Result<std::unique_ptr<Sampler>> makeTcpProbe(const evidence::SamplerSpec &spec, const SamplerEnv &env);
Result<std::unique_ptr<Sampler>> makeHttpProbe(const evidence::SamplerSpec &spec, const SamplerEnv &env);
Result<std::unique_ptr<Sampler>> makeCommand(const evidence::SamplerSpec &spec, const SamplerEnv &env);
Result<std::unique_ptr<Sampler>> makeLog(const evidence::SamplerSpec &spec, const SamplerEnv &env);
Result<std::unique_ptr<Sampler>> makeFile(const evidence::SamplerSpec &spec, const SamplerEnv &env);

// The time a log line begins with, as epoch ns: ISO-8601 with a zone ("2026-12-06T11:36:20.123Z",
// "...20.123456+01:00", "...20+0100"; fractional seconds optional, at most 9 digits). nullopt when the line does not
// begin with one or it is not a valid time. (The log sampler adds the agent's test clock skew.) Exposed for tests.
std::optional<int64_t> parseLineTime(std::string_view line);
} // namespace xdc::agent::samplers
