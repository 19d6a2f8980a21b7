// SPDX-License-Identifier: Apache-2.0
// The fault spec format: what users write (inline YAML flow or a file, and embedded unchanged in scenarios) and what
// travels to agents. Parsed once into these structs; every error names origin:line:column, the key path and what
// was expected. Documented in docs/FAULTS.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/result.h"

namespace xdc::fault {

using Nanos = std::chrono::nanoseconds;

enum class Kind {
	NetworkPartition,
	NetworkLoss,
	NetworkDelay,
	NetworkBandwidth,
	NetworkCorrupt,   // netem only
	NetworkDuplicate, // the agent's NFQUEUE line (no netem needed)
	NetworkReorder,   // the agent's NFQUEUE delay line (no netem needed)
	ProcessKill,
	ProcessPause,
	ResourceCpu,
	ResourceMemory,
	ResourceDiskFill,
};

// "network.partition", ...; kindFromName() fails with the list of known kinds and a "did you mean".
std::string_view kindName(Kind k);
Result<Kind> kindFromName(std::string_view name);
bool isNetwork(Kind k);
bool needsNetem(Kind k);
// Whether a fault of kind a and one of kind b may be in place on one host at once: never two of one kind (they would
// fight over the same rules or processes), nor two of the kinds on the agent's NFQUEUE line (network.delay,
// network.reorder, network.duplicate): a packet the first line's queue accepts leaves the mangle table, so the
// other's rules would silently never see it. Every other pair composes.
bool stackable(Kind a, Kind b);
// Names why a and b do not stack ("" when they do), for refusals.
std::string unstackableReason(Kind a, Kind b);

// Which hosts: every given field must match. `dc` and `host` are exact; any other key is a label
// (e.g. {dc: dc1, role: streams}); `hosts` lists host names. An empty selector matches nothing.
struct Selector {
	std::string dc;
	std::string host;
	std::vector<std::string> hosts;
	std::map<std::string, std::string> labels;
	bool empty() const { return dc.empty() && host.empty() && hosts.empty() && labels.empty(); }
	bool operator==(const Selector &) const = default;
};

enum class Direction { Both, In, Out };
enum class Action { Drop, Reject };

// Peers of a network fault: hosts chosen by selector (the controller resolves them to their data addresses) and/or
// literal CIDRs (IPv4 or IPv6).
struct Peers {
	Selector selector;
	std::vector<std::string> cidrs;
	bool empty() const { return selector.empty() && cidrs.empty(); }
};

struct ProcessMatch {
	std::string name;     // exact comm name
	std::string cmdline;  // ECMAScript regex over the NUL-joined argv (joined with spaces)
	std::string pidfile;
	std::string cgroup;   // cgroup v2 path relative to /sys/fs/cgroup
	std::string preset;   // "streams-pe": the streams-pec family, configurable on the agent
	bool empty() const
	{
		return name.empty() && cmdline.empty() && pidfile.empty() && cgroup.empty() && preset.empty();
	}
	bool operator==(const ProcessMatch &) const = default;
};

// How many of the matched processes: all, a count, or a percentage (rounded up, at least 1).
struct Count {
	enum class Mode { All, Number, Percent } mode = Mode::All;
	int value = 0;
};

struct FaultSpec {
	std::string id;                  // optional user name; the controller assigns one when empty
	Kind kind = Kind::NetworkPartition;
	Selector targets;
	Nanos duration{0};
	Nanos start{0};                  // offset from the inject phase start (scenarios); 0 for `xdc fault apply`

	// network.*
	Peers peers;
	Direction direction = Direction::Both;
	Action action = Action::Drop;    // partition only
	std::string protocol = "all";    // all | tcp | udp | icmp
	std::vector<int> ports;          // with tcp or udp only
	double lossPercent = 0;          // network.loss (0 < p <= 100), network.corrupt/duplicate
	Nanos delay{0}, jitter{0};       // network.delay (delay > 0), network.reorder
	double correlationPercent = 0;
	uint64_t rateBitsPerSec = 0;     // network.bandwidth: "8mbit", "500kbit", "1gbit"

	// process.*
	ProcessMatch match;
	std::string signal = "KILL";     // process.kill: KILL, TERM, INT, HUP, QUIT, USR1, USR2 (with or without SIG)
	Count count;
	Nanos every{0};                  // process.kill: repeat every T during the window; 0 = once

	// resource.*
	int workers = 1;                 // resource.cpu: 1..256
	int cpuPercent = 100;            // resource.cpu: 1..100
	uint64_t bytes = 0;              // resource.memory, resource.disk_fill (target fill size)
	double freePercent = -1;         // resource.disk_fill: fill until this % is free (instead of bytes)
	std::string path;                // resource.disk_fill: directory to fill (must be on the agent's allow-list)
};

struct Limits {
	Nanos maxDuration = std::chrono::hours(1);
};

// Parses one spec from a YAML mapping node. origin names the file (or "<command line>").
Result<FaultSpec> parseSpec(const YAML::Node &node, const std::string &origin, const std::string &keyPath,
			    const Limits &limits = {});
// Parses inline YAML flow text ("{kind: network.partition, ...}") or a file's text.
Result<FaultSpec> parseSpecText(const std::string &text, const std::string &origin, const Limits &limits = {});

// Rates like "8mbit", "500kbit", "1gbit", "100000bit", "10mbps" (bytes/s x8).
Result<uint64_t> parseRate(const std::string &text);

// docs/FAULTS.md's key table (Markdown), from the keys' declarations (common/fault/keys.cpp).
std::string keysMarkdown();
// docs/FAULTS.md's kinds table, from the kinds' declarations (kKinds) and the keys' (keyDecls()).
std::string kindsMarkdown();

// The spec as a YAML flow mapping with every field that applies to its kind (for journals, dry runs, reports).
std::string toYaml(const FaultSpec &spec);

// Pieces of the format that other spec formats embed unchanged (evidence samplers: `on:` and `match:`), with the
// same checks and messages. keyPath is the full path of the node itself ("on", "evidence.probes[0].match").
// A selector: dc, host, hosts, labels (no cidrs); it may come back empty, the caller decides if that is an error.
Result<Selector> parseSelector(const YAML::Node &node, const std::string &origin, const std::string &keyPath);
// A process match: exactly one of name, cmdline (a valid regex), pidfile, cgroup, preset.
Result<ProcessMatch> parseProcessMatch(const YAML::Node &node, const std::string &origin,
				       const std::string &keyPath);
// Refuses YAML too large or too deep to be a spec (alias bombs, self-referencing anchors).
Result<void> checkSpecShape(const YAML::Node &node, const std::string &origin, const std::string &keyPath);
// Writes a selector / a match as a YAML mapping into e (the way toYaml prints them).
void emitSelector(YAML::Emitter &e, const Selector &s);
void emitProcessMatch(YAML::Emitter &e, const ProcessMatch &m);

} // namespace xdc::fault
