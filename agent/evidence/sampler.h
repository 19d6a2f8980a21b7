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
//                 (truncated to 200 characters). A relaunch is an "exited" and a "started" event. wallNs is when the
//                 change was SEEN; the previous sample's time is in values.prev_wall_ns so the change is known to lie
//                 in (prev_wall_ns, wallNs].
//   probe.tcp     values ok (1/0), latency_ms (connect time, also on failure: time to the error or the timeout),
//                 timeout_ms; tags target ("10.1.2.11:7000"), error ("" | "refused" | "timeout" | "unreachable" |
//                 "reset" | strerror text)
//   probe.http    values ok, latency_ms (to the last byte), status (HTTP status, 0 when none), timeout_ms; tags target
//                 (URL), error ("" | "timeout" | "status 503" | "body did not match" | curl's text)
//   command       values ok (exit 0), exit_code, duration_ms; tags command, output (first line of stdout, at most
//                 200 characters), error
#pragma once

#include <map>
#include <memory>
#include <string>
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

// What samplers need to know about this agent.
struct SamplerEnv {
	ProcContext proc;                              // /proc root, netns fence, streams-pe pattern (process sampler)
	std::string netDevPath = "/proc/net/dev";      // host sampler: per-interface counters of this netns
	std::map<std::string, CommandDef> commands;    // evidence.commands from the agent config
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
// command name not in env.commands, a body_match regex that does not compile, a ca_file that cannot be read.
Result<std::unique_ptr<Sampler>> makeSampler(const evidence::SamplerSpec &spec, const SamplerEnv &env);

} // namespace xdc::agent

namespace xdc::agent::samplers {
// One factory per kind (one file each); makeSampler() dispatches on spec.kind.
Result<std::unique_ptr<Sampler>> makeHost(const evidence::SamplerSpec &spec, const SamplerEnv &env);
Result<std::unique_ptr<Sampler>> makeProcess(const evidence::SamplerSpec &spec, const SamplerEnv &env);
Result<std::unique_ptr<Sampler>> makeTcpProbe(const evidence::SamplerSpec &spec, const SamplerEnv &env);
Result<std::unique_ptr<Sampler>> makeHttpProbe(const evidence::SamplerSpec &spec, const SamplerEnv &env);
Result<std::unique_ptr<Sampler>> makeCommand(const evidence::SamplerSpec &spec, const SamplerEnv &env);
} // namespace xdc::agent::samplers
