// SPDX-License-Identifier: Apache-2.0
// The sampler/probe spec format of recordings (`xdc record --probe/--sample`, and `evidence:` in scenarios): what
// to observe, where, how often. Parsed on the controller and parsed again on the agent from the same text, like fault
// specs. Every error names origin:line:column, the key path and what was expected. Documented in docs/EVIDENCE.md.
//
// Examples (YAML flow):
//   {kind: probe.tcp, on: {host: dc1-h1}, target: dc2-h1:7000, rate: 100hz, timeout: 10ms}
//   {kind: probe.http, on: {dc: dc1}, target: "http://dc2-h1:8080/health", interval: 100ms, expect_status: 200,
//    body_match: "ok"}
//   {kind: host, on: {dc: dc2}, interval: 1s, disks: [/, /var]}
//   {kind: process, on: {dc: dc1}, match: {preset: streams-pe}, interval: 200ms}
//   {kind: command, on: {host: dc1-h1}, command: streams-ping, interval: 5s}
//   {kind: log, on: {host: dc2-h1}, source: pe-trace, match: "_XXXXX_", interval: 200ms}
//   {kind: file, on: {host: dc2-h1}, source: snapshots, interval: 500ms}
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/fault/spec.h"
#include "common/result.h"

namespace xdc::evidence {

using Nanos = std::chrono::nanoseconds;

enum class SamplerKind { Host, Process, ProbeTcp, ProbeHttp, Command, Log, File };

// "host", "process", "probe.tcp", "probe.http", "command", "log", "file"; fromName fails with the known names and a
// "did you mean".
std::string_view samplerKindName(SamplerKind k);
Result<SamplerKind> samplerKindFromName(std::string_view name);
inline bool isProbe(SamplerKind k) { return k == SamplerKind::ProbeTcp || k == SamplerKind::ProbeHttp; }

// Limits checked on both sides (the agent may be configured tighter).
constexpr Nanos kMinProbeInterval = std::chrono::milliseconds(10);    // 100 Hz
constexpr Nanos kMinSampleInterval = std::chrono::milliseconds(100);  // host, process, log, file
constexpr Nanos kMinCommandInterval = std::chrono::seconds(1);
constexpr Nanos kMaxInterval = std::chrono::hours(1);

struct SamplerSpec {
	std::string name;            // unique within a recording; default "<kind>" or "<kind>:<target>" (see defaultName)
	SamplerKind kind = SamplerKind::Host;
	fault::Selector on;          // hosts it runs on (required; the controller resolves it)
	Nanos interval{0};           // `interval: 10ms` or `rate: 100hz`; defaults: probes 100ms, host/process/file 1s,
	                             // log 500ms, command 10s
	Nanos timeout{0};            // probes: default = interval, must be <= interval; command: default 5s, <= interval

	// probe.tcp: "ADDRESS:PORT" ("[v6]:PORT"), or "HOST:PORT" where HOST is a lab/fleet host name the controller
	// replaces by that host's data address before the spec goes to the agent.
	// probe.http: an http:// or https:// URL (the host part may be a fleet host name, replaced likewise).
	std::string target;
	int expectStatus = 0;        // probe.http: 0 = any 2xx or 3xx
	std::string bodyMatch;       // probe.http: ECMAScript regex the body must contain (optional)
	bool tlsInsecure = false;    // probe.http: skip certificate verification (explicit)
	std::string caFile;          // probe.http: CA bundle for https

	fault::ProcessMatch match;   // process: the same matcher (and netns fence) as process.* faults

	std::string command;         // command: a name from the agent config's evidence.commands (no argv on the wire)

	// log: a name from the agent config's evidence.logs; file: from evidence.files. Never a path: the agent's config
	// says which files a name stands for.
	std::string source;
	std::string lineMatch;       // log (`match:`): ECMAScript regex a line must contain (searched); "" = every line

	std::vector<std::string> disks{"/"}; // host: paths whose filesystem usage is sampled (statvfs)

	bool operator==(const SamplerSpec &) const = default;
};

// Parses one spec from a YAML mapping. origin names the file or "<command line>"; keyPath the spec's place
// ("evidence.probes[0]" in a scenario, "" for a flag).
Result<SamplerSpec> parseSamplerSpec(const YAML::Node &node, const std::string &origin, const std::string &keyPath);
// Parses inline YAML flow text or a file's text.
Result<SamplerSpec> parseSamplerText(const std::string &text, const std::string &origin);

// "probe.tcp:10.1.2.11:7000", "host", "process:name streams-pec", "command:streams-ping", "log:pe-trace",
// "file:snapshots".
std::string defaultName(const SamplerSpec &s);

// The spec as a YAML flow mapping with every field that applies to its kind; parseSamplerText(toYaml(s)) == s.
std::string toYaml(const SamplerSpec &s);

// Splits a probe.tcp target into host and port ("dc2-h1:7000" -> {"dc2-h1", 7000}; "[fd00::1]:80" ->
// {"fd00::1", 80}). Fails (Invalid) on a missing or out-of-range port.
struct HostPort {
	std::string host;
	int port = 0;
};
Result<HostPort> splitHostPort(const std::string &target);

} // namespace xdc::evidence
