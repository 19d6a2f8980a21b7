// SPDX-License-Identifier: Apache-2.0
// The fault spec parser's insides, shared by spec.cpp (kinds, entry points, printing), spec_read.cpp (the value
// readers: strings, numbers, durations, selectors, CIDRs, process matches, counts) and keys.cpp (every key declared
// once: its kinds, type, default, rules, reader and printer). Not an interface: spec.h is.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/fault/spec.h"
#include "common/yaml_reader.h"

namespace xdc::fault::detail {

// A spec is a handful of keys; anything far larger is a mistake or an attack. The node cap also stops YAML alias
// bombs ("billion laughs") and self-referencing anchors: yaml-cpp shares aliased nodes, so loading is cheap, but
// walking the tree would be exponential (or endless) without it.
constexpr size_t kMaxSpecBytes = 64 * 1024;
constexpr size_t kMaxNodes = 4096;
constexpr int kMaxDepth = 8;
constexpr size_t kMaxRegexLength = 1024;
// A kill loop tighter than this would mostly burn the agent's CPU.
constexpr Nanos kMinEvery = std::chrono::milliseconds(10);
constexpr uint64_t kMaxRate = 1'000'000'000'000ULL; // 1 tbit/s
constexpr int64_t kMaxCount = 1'000'000;

struct KindInfo {
	Kind kind;
	std::string_view name;
	// docs/FAULTS.md's kinds table: what it does, and what it requires beyond the keys that declare it required
	// (KeyDecl::requiredFor), when a rule spans keys.
	std::string_view doc;
	std::string_view alsoRequired = {};
};

constexpr std::array<KindInfo, 12> kKinds = {{
	{Kind::NetworkPartition, "network.partition", "Drops (or rejects) traffic between the targets and the peers."},
	{Kind::NetworkLoss, "network.loss", "Drops a random percentage of packets to/from the peers."},
	{Kind::NetworkDelay, "network.delay", "Delays packets to/from the peers, with optional jitter and correlation."},
	{Kind::NetworkBandwidth, "network.bandwidth", "Limits the rate of traffic to/from the peers."},
	{Kind::NetworkCorrupt, "network.corrupt", "Corrupts a percentage of packets. Needs tc netem."},
	{Kind::NetworkDuplicate, "network.duplicate",
	 "Sends a percentage of packets twice (NFQUEUE line and a raw socket, no netem)."},
	{Kind::NetworkReorder, "network.reorder",
	 "Sends a percentage of packets at once and delays the rest, so those overtake the delayed ones (NFQUEUE delay "
	 "line, no netem)."},
	{Kind::ProcessKill, "process.kill", "Sends a signal to matched processes, once or repeatedly."},
	{Kind::ProcessPause, "process.pause",
	 "Stops matched processes (SIGSTOP) for the duration, continues them (SIGCONT) on revert."},
	{Kind::ResourceCpu, "resource.cpu", "Runs busy workers."},
	{Kind::ResourceMemory, "resource.memory", "Holds a number of bytes of memory.", "`bytes`"},
	{Kind::ResourceDiskFill, "resource.disk_fill",
	 "Writes a file into a directory until it has a size or the file system has a free percentage; the file is "
	 "removed on revert.",
	 "exactly one of `bytes` and `free_percent`"},
}};

// Which kinds a key applies to, as a bit set over Kind.
using KindSet = uint32_t;

constexpr KindSet bit(Kind k) { return KindSet{1} << static_cast<unsigned>(k); }

constexpr KindSet kAllKinds = (KindSet{1} << kKinds.size()) - 1;
constexpr KindSet kNetworkKinds = bit(Kind::NetworkPartition) | bit(Kind::NetworkLoss) | bit(Kind::NetworkDelay) |
				  bit(Kind::NetworkBandwidth) | bit(Kind::NetworkCorrupt) |
				  bit(Kind::NetworkDuplicate) | bit(Kind::NetworkReorder);
constexpr KindSet kPercentKinds = bit(Kind::NetworkLoss) | bit(Kind::NetworkCorrupt) | bit(Kind::NetworkDuplicate) |
				  bit(Kind::NetworkReorder);
constexpr KindSet kDelayKinds = bit(Kind::NetworkDelay) | bit(Kind::NetworkReorder);
constexpr KindSet kCorrelationKinds = kPercentKinds | bit(Kind::NetworkDelay);
constexpr KindSet kProcessKinds = bit(Kind::ProcessKill) | bit(Kind::ProcessPause);

constexpr std::array<std::string_view, 7> kSignals = {"KILL", "TERM", "INT", "HUP", "QUIT", "USR1", "USR2"};
constexpr std::array<std::string_view, 5> kMatchKeys = {"name", "cmdline", "pidfile", "cgroup", "preset"};

// The kinds in a set, by name, in kKinds order ("network.loss, network.corrupt").
std::string kindList(KindSet set);
// True when a path has a ".." component.
bool hasDotDot(const std::string &path);

// Everything a spec parse needs to name a place: origin, the key path of the spec itself, and the error format
// shared with MapReader ("origin:line:col: key.path: what").
class Parser {
public:
	Parser(std::string origin, std::string keyPath) : origin_(std::move(origin)), base_(std::move(keyPath)) {}

	std::string path(std::string_view key) const
	{
		return base_.empty() ? std::string(key) : fmt::format("{}.{}", base_, key);
	}
	std::string topPath() const { return base_.empty() ? "(top level)" : base_; }

	Error fail(const YAML::Node &at, const std::string &keyPath, const std::string &what) const
	{
		return Error{Errc::Invalid, fmt::format("{}: {}: {}", where(at), keyPath, what)};
	}

	std::string where(const YAML::Node &n) const { return nodeWhere(origin_, n); }

	Result<FaultSpec> run(const YAML::Node &node, const Limits &limits);
	Result<void> checkShape(const YAML::Node &n, int depth, size_t &count) const;
	Result<Selector> selector(const YAML::Node &n, const std::string &p, Peers *peers) const;
	Result<ProcessMatch> match(const YAML::Node &n, const std::string &p) const;

	// The value readers (spec_read.cpp); p is the key path the messages name.
	Result<void> checkKeys(const YAML::Node &map, const std::string &mapPath,
			       const std::vector<std::string_view> &known) const;
	Result<std::string> text(const YAML::Node &n, const std::string &p, bool allowEmpty = false) const;
	Result<int64_t> integer(const YAML::Node &n, const std::string &p, int64_t min, int64_t max) const;
	Result<double> number(const YAML::Node &n, const std::string &p) const;
	Result<Nanos> duration(const YAML::Node &n, const std::string &p) const;
	Result<std::string> cidr(const YAML::Node &n, const std::string &p) const;
	Result<Count> count(const YAML::Node &n, const std::string &p) const;

private:
	std::string origin_;
	std::string base_;
};

// One key of a fault spec, declared once: the parser reads it, toYaml() prints it and docs/FAULTS.md's key table
// (keysMarkdown()) documents it from this declaration.
struct KeyDecl {
	std::string_view key;
	KindSet kinds;          // the kinds it applies to; any other kind refuses it
	std::string_view type;  // docs: its type
	std::string_view deflt; // docs: its default ("required", ...)
	std::string_view rules; // docs: range and rules
	KindSet requiredFor;    // kinds that must give it
	std::string_view missing; // the message when a kind of requiredFor lacks it ("{kind}" is the kind's name)
	// Reads and checks the key's value into spec; may look at keys declared before it (ports at protocol).
	Result<void> (*read)(const Parser &p, const YAML::Node &n, FaultSpec &spec, const Limits &limits);
	// Prints the key and its value, or nothing when the spec leaves it at its default (called for kinds it applies to).
	void (*print)(YAML::Emitter &e, const FaultSpec &spec);
};

// Every key, in the order the parser reads them and toYaml() prints them (keys.cpp).
const std::vector<KeyDecl> &keyDecls();
// True when the key applies to the kind.
bool applies(std::string_view key, Kind kind);
// "8mbit", "512MiB": the shortest exact spelling (spec.cpp).
std::string formatRate(uint64_t bits);
std::string formatSize(uint64_t bytes);
// Prints a selector, with peers' cidrs when given.
void emitSelectorWith(YAML::Emitter &e, const Selector &s, const std::vector<std::string> *cidrs);

} // namespace xdc::fault::detail
