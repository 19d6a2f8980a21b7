// SPDX-License-Identifier: Apache-2.0
// Every key of a fault spec, declared once (spec_parser.h KeyDecl): the kinds it applies to, its documentation, its
// reader and its printer. The parser (Parser::run), toYaml() and docs/FAULTS.md's key table (keysMarkdown(), checked
// by tests/unit/fault/keys_doc_test.cpp) all come from this table.
#include "common/fault/spec_parser.h"

#include <algorithm>
// GCC 12 reports a false -Wmaybe-uninitialized inside <regex> when built with sanitizers at -O2.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>

#include <fmt/ranges.h>

#include "common/duration.h"
#include "common/yaml_reader.h"

namespace xdc::fault::detail {

namespace {

using Node = YAML::Node;

// Shortest exact spelling of a double, so the printed value parses back to the same number.
std::string num(double v) { return fmt::format("{}", v); }

std::string_view directionName(Direction d)
{
	switch (d) {
	case Direction::In:
		return "in";
	case Direction::Out:
		return "out";
	case Direction::Both:
		break;
	}
	return "both";
}

void key(YAML::Emitter &e, std::string_view k) { e << YAML::Key << std::string(k) << YAML::Value; }

// ---- readers: each reads one key's value into the spec ----

Result<void> readId(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.text(n, p.path("id"));
	XDC_TRY(r);
	static const std::regex idRe("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
	// The id ends up in journal file names and rule comments, so it is kept to a safe alphabet.
	if (!std::regex_match(*r, idRe))
		return p.fail(n, p.path("id"), fmt::format("'{}' is not a valid id (letters, digits, '.', '_', '-'; "
							   "at most 64; starting with a letter or digit)", *r));
	spec.id = *r;
	return success();
}

// `kind` is read before every other key (it decides which keys apply): nothing is left to do here.
Result<void> readKind(const Parser &, const Node &, FaultSpec &, const Limits &) { return success(); }

Result<void> readTargets(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.selector(n, p.path("targets"), nullptr);
	XDC_TRY(r);
	if (r->empty())
		return p.fail(n, p.path("targets"), "must select at least one host (dc, host, hosts or a label)");
	spec.targets = *r;
	return success();
}

Result<void> readPeers(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	Peers peers;
	auto r = p.selector(n, p.path("peers"), &peers);
	XDC_TRY(r);
	peers.selector = *r;
	if (peers.empty())
		return p.fail(n, p.path("peers"), "must name at least one peer (dc, host, hosts, a label or cidrs)");
	spec.peers = peers;
	return success();
}

Result<void> readDuration(const Parser &p, const Node &n, FaultSpec &spec, const Limits &limits)
{
	auto r = p.duration(n, p.path("duration"));
	XDC_TRY(r);
	if (r->count() <= 0)
		return p.fail(n, p.path("duration"), "must be greater than 0 (every fault has a time to live)");
	if (*r > limits.maxDuration)
		return p.fail(n, p.path("duration"), fmt::format("duration {} exceeds the agent cap of {}",
								  formatDuration(*r), formatDuration(limits.maxDuration)));
	spec.duration = *r;
	return success();
}

Result<void> readStart(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.duration(n, p.path("start"));
	XDC_TRY(r);
	spec.start = *r;
	return success();
}

Result<void> readDirection(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.text(n, p.path("direction"));
	XDC_TRY(r);
	if (*r == "both")
		spec.direction = Direction::Both;
	else if (*r == "in")
		spec.direction = Direction::In;
	else if (*r == "out")
		spec.direction = Direction::Out;
	else
		return p.fail(n, p.path("direction"), fmt::format("'{}' is not one of both, in, out", *r));
	return success();
}

Result<void> readAction(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.text(n, p.path("action"));
	XDC_TRY(r);
	if (*r == "drop")
		spec.action = Action::Drop;
	else if (*r == "reject")
		spec.action = Action::Reject;
	else
		return p.fail(n, p.path("action"), fmt::format("'{}' is not one of drop, reject", *r));
	return success();
}

Result<void> readProtocol(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.text(n, p.path("protocol"));
	XDC_TRY(r);
	if (*r != "all" && *r != "tcp" && *r != "udp" && *r != "icmp")
		return p.fail(n, p.path("protocol"), fmt::format("'{}' is not one of all, tcp, udp, icmp", *r));
	spec.protocol = *r;
	return success();
}

Result<void> readPorts(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	if (!n.IsSequence() || n.size() == 0)
		return p.fail(n, p.path("ports"), "expected a non-empty list of ports such as [9092, 443]");
	if (spec.protocol != "tcp" && spec.protocol != "udp")
		return p.fail(n, p.path("ports"), fmt::format("ports need protocol tcp or udp (protocol is {})", spec.protocol));
	for (size_t i = 0; i < n.size(); i++) {
		auto r = p.integer(n[i], fmt::format("{}[{}]", p.path("ports"), i), 1, 65535);
		XDC_TRY(r);
		int port = static_cast<int>(*r);
		if (std::find(spec.ports.begin(), spec.ports.end(), port) != spec.ports.end())
			return p.fail(n[i], fmt::format("{}[{}]", p.path("ports"), i), fmt::format("port {} is listed twice", port));
		spec.ports.push_back(port);
	}
	return success();
}

Result<void> readPercent(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.number(n, p.path("percent"));
	XDC_TRY(r);
	if (*r <= 0 || *r > 100)
		return p.fail(n, p.path("percent"), fmt::format("{} is out of range (expected 0 < percent <= 100)", *r));
	spec.lossPercent = *r;
	return success();
}

Result<void> readDelay(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.duration(n, p.path("delay"));
	XDC_TRY(r);
	if (r->count() <= 0)
		return p.fail(n, p.path("delay"), "must be greater than 0");
	spec.delay = *r;
	return success();
}

Result<void> readJitter(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.duration(n, p.path("jitter"));
	XDC_TRY(r);
	if (*r > spec.delay)
		return p.fail(n, p.path("jitter"), fmt::format("jitter {} is larger than delay {} (expected jitter <= delay)",
							       formatDuration(*r), formatDuration(spec.delay)));
	spec.jitter = *r;
	return success();
}

Result<void> readCorrelation(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.number(n, p.path("correlation"));
	XDC_TRY(r);
	if (*r < 0 || *r > 100)
		return p.fail(n, p.path("correlation"), fmt::format("{} is out of range (expected 0..100)", *r));
	spec.correlationPercent = *r;
	return success();
}

Result<void> readRate(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.text(n, p.path("rate"));
	XDC_TRY(r);
	auto rate = parseRate(*r);
	if (!rate)
		return p.fail(n, p.path("rate"), rate.error().message);
	spec.rateBitsPerSec = *rate;
	return success();
}

Result<void> readMatch(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.match(n, p.path("match"));
	XDC_TRY(r);
	spec.match = *r;
	return success();
}

Result<void> readSignal(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.text(n, p.path("signal"));
	XDC_TRY(r);
	std::string s = *r;
	std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
	if (s.rfind("SIG", 0) == 0)
		s = s.substr(3);
	if (std::find(kSignals.begin(), kSignals.end(), s) == kSignals.end())
		return p.fail(n, p.path("signal"), fmt::format("'{}' is not one of {}", *r, fmt::join(kSignals, ", ")));
	spec.signal = s;
	return success();
}

Result<void> readCount(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.count(n, p.path("count"));
	XDC_TRY(r);
	spec.count = *r;
	return success();
}

Result<void> readEvery(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.duration(n, p.path("every"));
	XDC_TRY(r);
	if (*r < kMinEvery)
		return p.fail(n, p.path("every"), fmt::format("every {} is too short (expected at least {})",
							      formatDuration(*r), formatDuration(kMinEvery)));
	if (*r >= spec.duration)
		return p.fail(n, p.path("every"), fmt::format("every {} must be shorter than the duration {}",
							      formatDuration(*r), formatDuration(spec.duration)));
	spec.every = *r;
	return success();
}

Result<void> readWorkers(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.integer(n, p.path("workers"), 1, 256);
	XDC_TRY(r);
	spec.workers = static_cast<int>(*r);
	return success();
}

Result<void> readCpuPercent(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.integer(n, p.path("cpu_percent"), 1, 100);
	XDC_TRY(r);
	spec.cpuPercent = static_cast<int>(*r);
	return success();
}

Result<void> readBytes(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	if (!n.IsScalar())
		return p.fail(n, p.path("bytes"), "expected a size such as 536870912 or 512MiB");
	auto r = parseSize(n.Scalar());
	if (!r)
		return p.fail(n, p.path("bytes"), r.error().message);
	if (*r == 0)
		return p.fail(n, p.path("bytes"), "must be greater than 0");
	spec.bytes = *r;
	return success();
}

Result<void> readFreePercent(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.number(n, p.path("free_percent"));
	XDC_TRY(r);
	if (*r < 0 || *r > 99)
		return p.fail(n, p.path("free_percent"), fmt::format("{} is out of range (expected 0..99)", *r));
	spec.freePercent = *r;
	return success();
}

Result<void> readPath(const Parser &p, const Node &n, FaultSpec &spec, const Limits &)
{
	auto r = p.text(n, p.path("path"));
	XDC_TRY(r);
	if (r->front() != '/')
		return p.fail(n, p.path("path"), fmt::format("'{}' is not an absolute path", *r));
	// The agent checks the allow-list on the canonical path; '..' is refused here so the spec says plainly where
	// the fill goes.
	if (hasDotDot(*r))
		return p.fail(n, p.path("path"), "the path must not contain '..'");
	spec.path = *r;
	return success();
}

// ---- printers: each prints its key unless the spec leaves it at its default ----

void printId(YAML::Emitter &e, const FaultSpec &s)
{
	if (!s.id.empty()) {
		key(e, "id");
		e << s.id;
	}
}
void printKind(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "kind");
	e << std::string(kindName(s.kind));
}
void printTargets(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "targets");
	emitSelectorWith(e, s.targets, nullptr);
}
void printPeers(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "peers");
	emitSelectorWith(e, s.peers.selector, &s.peers.cidrs);
}
void printDuration(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "duration");
	e << formatDuration(s.duration);
}
void printStart(YAML::Emitter &e, const FaultSpec &s)
{
	if (s.start.count() != 0) {
		key(e, "start");
		e << formatDuration(s.start);
	}
}
void printDirection(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "direction");
	e << std::string(directionName(s.direction));
}
void printAction(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "action");
	e << (s.action == Action::Reject ? "reject" : "drop");
}
void printProtocol(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "protocol");
	e << s.protocol;
}
void printPorts(YAML::Emitter &e, const FaultSpec &s)
{
	if (s.ports.empty())
		return;
	key(e, "ports");
	e << YAML::BeginSeq;
	for (int p : s.ports)
		e << p;
	e << YAML::EndSeq;
}
void printPercent(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "percent");
	e << num(s.lossPercent);
}
void printDelay(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "delay");
	e << formatDuration(s.delay);
}
void printJitter(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "jitter");
	e << formatDuration(s.jitter);
}
void printCorrelation(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "correlation");
	e << num(s.correlationPercent);
}
void printRate(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "rate");
	e << formatRate(s.rateBitsPerSec);
}
void printMatch(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "match");
	emitProcessMatch(e, s.match);
}
void printSignal(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "signal");
	e << s.signal;
}
void printCount(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "count");
	switch (s.count.mode) {
	case Count::Mode::All:
		e << "all";
		break;
	case Count::Mode::Number:
		e << s.count.value;
		break;
	case Count::Mode::Percent:
		e << fmt::format("{}%", s.count.value);
		break;
	}
}
void printEvery(YAML::Emitter &e, const FaultSpec &s)
{
	if (s.every.count() != 0) {
		key(e, "every");
		e << formatDuration(s.every);
	}
}
void printWorkers(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "workers");
	e << s.workers;
}
void printCpuPercent(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "cpu_percent");
	e << s.cpuPercent;
}
// disk_fill takes exactly one of bytes and free_percent; memory always has bytes.
void printBytes(YAML::Emitter &e, const FaultSpec &s)
{
	if (s.kind == Kind::ResourceMemory || s.freePercent < 0) {
		key(e, "bytes");
		e << formatSize(s.bytes);
	}
}
void printFreePercent(YAML::Emitter &e, const FaultSpec &s)
{
	if (s.freePercent >= 0) {
		key(e, "free_percent");
		e << num(s.freePercent);
	}
}
void printPath(YAML::Emitter &e, const FaultSpec &s)
{
	key(e, "path");
	e << s.path;
}

constexpr KindSet kNone = 0;

} // namespace

const std::vector<KeyDecl> &keyDecls()
{
	static const std::vector<KeyDecl> kDecls = {
		{"id", kAllKinds, "string", "assigned by the controller",
		 "1-64 characters: letters, digits, `.`, `_`, `-`; starts with a letter or digit (it ends up in file names)",
		 kNone, "", readId, printId},
		{"kind", kAllKinds, "string", "required", "one of the kinds above", kNone, "", readKind, printKind},
		{"targets", kAllKinds, "[selector](#selectors)", "required", "must select something", kAllKinds,
		 "required: the hosts to put the fault on, e.g. {dc: dc1} or {host: dc1-h1}", readTargets, printTargets},
		{"peers", kNetworkKinds, "[selector](#selectors) and/or `cidrs`", "required", "must name something",
		 kNetworkKinds,
		 "required for {kind}: whom the traffic goes to or comes from, e.g. {dc: dc2} or {cidrs: [10.1.0.0/16]}",
		 readPeers, printPeers},
		{"duration", kAllKinds, "[duration](#durations)", "required",
		 "> 0 and <= the cap (1h unless the caller passes the agent's `max_fault_duration`)", kAllKinds,
		 "required: every fault has a time to live, e.g. 10s or 5m", readDuration, printDuration},
		{"start", kAllKinds, "duration", "`0s`", ">= 0; offset from the start of a scenario's inject phase", kNone, "",
		 readStart, printStart},
		{"direction", kNetworkKinds, "`both` \\| `in` \\| `out`", "`both`",
		 "`in`: traffic from the peers to the targets; `out`: from the targets to the peers", kNone, "",
		 readDirection, printDirection},
		{"action", bit(Kind::NetworkPartition), "`drop` \\| `reject`", "`drop`",
		 "`reject` answers with a TCP reset / ICMP unreachable instead of silence", kNone, "", readAction,
		 printAction},
		{"protocol", kNetworkKinds, "`all` \\| `tcp` \\| `udp` \\| `icmp`", "`all`", "", kNone, "", readProtocol,
		 printProtocol},
		{"ports", kNetworkKinds, "list of integers", "none (all ports)",
		 "each 1..65535, no repeats, non-empty; only with `protocol: tcp` or `udp`", kNone, "", readPorts,
		 printPorts},
		{"percent", kPercentKinds, "number", "required where used", "0 < percent <= 100; `30` and `30%` are the same",
		 kPercentKinds, "required for {kind} (0 < percent <= 100)", readPercent, printPercent},
		{"delay", kDelayKinds, "duration", "required where used", "> 0", kDelayKinds,
		 "required for {kind}, e.g. 100ms", readDelay, printDelay},
		{"jitter", kDelayKinds, "duration", "`0s`", ">= 0 and <= `delay`", kNone, "", readJitter, printJitter},
		{"correlation", kCorrelationKinds, "number", "`0`", "0..100 (percent)", kNone, "", readCorrelation,
		 printCorrelation},
		{"rate", bit(Kind::NetworkBandwidth), "[rate](#rates)", "required", "> 0 and <= 1tbit",
		 bit(Kind::NetworkBandwidth), "required for network.bandwidth, e.g. 8mbit", readRate, printRate},
		{"match", kProcessKinds, "[process match](#process-match)", "required",
		 "exactly one of `name`, `cmdline`, `pidfile`, `cgroup`, `preset`", kProcessKinds,
		 "required for {kind}: one of name, cmdline, pidfile, cgroup, preset", readMatch, printMatch},
		{"signal", bit(Kind::ProcessKill), "string", "`KILL`",
		 "`KILL`, `TERM`, `INT`, `HUP`, `QUIT`, `USR1`, `USR2`; with or without `SIG`, any case (`sigterm` is "
		 "`TERM`)",
		 kNone, "", readSignal, printSignal},
		{"count", kProcessKinds, "`all`, integer or percentage", "`all`",
		 "`all`; an integer 1..1000000; or `N%` with N 1..100 (rounded up, at least one process)", kNone, "",
		 readCount, printCount},
		{"every", bit(Kind::ProcessKill), "duration", "none (once)",
		 ">= 10ms and < `duration`: repeat the kill every T during the window", kNone, "", readEvery, printEvery},
		{"workers", bit(Kind::ResourceCpu), "integer", "`1`", "1..256", kNone, "", readWorkers, printWorkers},
		{"cpu_percent", bit(Kind::ResourceCpu), "integer", "`100`", "1..100: how busy each worker keeps its CPU",
		 kNone, "", readCpuPercent, printCpuPercent},
		// resource.memory requires bytes and resource.disk_fill exactly one of bytes and free_percent: checked
		// after every key was read (Parser::run).
		{"bytes", bit(Kind::ResourceMemory) | bit(Kind::ResourceDiskFill), "[size](#sizes)", "required for memory",
		 "> 0; for `resource.disk_fill`, the size of the fill file (instead of `free_percent`)", kNone, "",
		 readBytes, printBytes},
		{"free_percent", bit(Kind::ResourceDiskFill), "number", "none",
		 "0..99: fill until this percentage of the file system is free (instead of `bytes`)", kNone, "",
		 readFreePercent, printFreePercent},
		{"path", bit(Kind::ResourceDiskFill), "string", "required",
		 "absolute, no `..` component; the directory to fill; must be on the agent's allow-list",
		 bit(Kind::ResourceDiskFill), "required for resource.disk_fill: the directory to fill, e.g. /var/tmp",
		 readPath, printPath},
	};
	return kDecls;
}

bool applies(std::string_view k, Kind kind)
{
	for (const auto &d : keyDecls())
		if (d.key == k)
			return (d.kinds & bit(kind)) != 0;
	return false;
}

Result<FaultSpec> Parser::run(const YAML::Node &node, const Limits &limits)
{
	if (!node.IsDefined() || node.IsNull())
		return fail(node, topPath(),
			    "empty fault spec; expected a mapping such as "
			    "{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s}");
	size_t nodes = 0;
	XDC_TRY(checkShape(node, 0, nodes));
	if (!node.IsMap())
		return fail(node, topPath(),
			    "expected a mapping such as "
			    "{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s}");
	std::vector<std::string_view> known;
	for (const auto &d : keyDecls())
		known.push_back(d.key);
	XDC_TRY(checkKeys(node, base_, known));

	FaultSpec spec;
	YAML::Node kindNode = node["kind"];
	if (!kindNode)
		return fail(node, path("kind"), fmt::format("required (one of {})", kindList(kAllKinds)));
	auto name = text(kindNode, path("kind"));
	XDC_TRY(name);
	auto k = kindFromName(*name);
	if (!k)
		return fail(kindNode, path("kind"), k.error().message);
	spec.kind = *k;
	const Kind kind = spec.kind;

	// Keys that belong to another kind are refused rather than ignored: a `percent` on a partition is a mistake the
	// user should hear about, not a silent no-op.
	for (const auto &kv : node) {
		const std::string &key = kv.first.Scalar();
		for (const auto &d : keyDecls())
			if (d.key == key && !(d.kinds & bit(kind)))
				return fail(kv.first, path(key), fmt::format("{} does not apply to {} (it applies to {})", key,
									      kindName(kind), kindList(d.kinds)));
	}
	for (const auto &d : keyDecls()) {
		const std::string key(d.key);
		if (auto n = node[key]) {
			XDC_TRY(d.read(*this, n, spec, limits));
		} else if (d.requiredFor & bit(kind)) {
			std::string msg(d.missing);
			if (auto at = msg.find("{kind}"); at != std::string::npos)
				msg.replace(at, 6, kindName(kind));
			return fail(node, path(key), msg);
		}
	}

	const YAML::Node bytesNode = node["bytes"], freeNode = node["free_percent"];
	if (kind == Kind::ResourceMemory && !bytesNode)
		return fail(node, path("bytes"), "required for resource.memory, e.g. 512MiB");
	if (kind == Kind::ResourceDiskFill) {
		if (bytesNode && freeNode)
			return fail(freeNode, path("free_percent"), "give either bytes or free_percent, not both");
		if (!bytesNode && !freeNode)
			return fail(node, path("bytes"), "resource.disk_fill needs either bytes (e.g. 1GiB) or free_percent "
							 "(e.g. 5)");
	}
	// Checks that need the agent's host are not done here; the agent's own validation does them before anything is
	// applied: netem availability for netem-only kinds, process matches that would hit PID 1, the agent, its
	// ancestors, the controller or sshd (and the match size cap), memory against MemAvailable, the disk-fill
	// allow-list and size cap, and whether the peers resolve to known hosts (the controller).
	return spec;
}

} // namespace xdc::fault::detail

namespace xdc::fault {

std::string keysMarkdown()
{
	std::string out = "| Key | Type | Default | Range and rules | Kinds |\n|---|---|---|---|---|\n";
	for (const auto &d : detail::keyDecls()) {
		std::string kinds;
		if (d.kinds == detail::kAllKinds) {
			kinds = "all";
		} else if (d.kinds == detail::kNetworkKinds) {
			kinds = "`network.*`";
		} else {
			for (const auto &k : detail::kKinds)
				if (d.kinds & detail::bit(k.kind))
					kinds += fmt::format("{}`{}`", kinds.empty() ? "" : ", ", k.name);
		}
		out += fmt::format("| `{}` | {} | {} | {} | {} |\n", d.key, d.type, d.deflt, d.rules, kinds);
	}
	return out;
}

std::string kindsMarkdown()
{
	std::string out = "| Kind | What it does | Required keys besides `kind`, `targets`, `duration` |\n|---|---|---|\n";
	for (const auto &k : detail::kKinds) {
		std::vector<std::string> req;
		for (const auto &d : detail::keyDecls())
			if ((d.requiredFor & detail::bit(k.kind)) && d.key != "kind" && d.key != "targets" && d.key != "duration")
				req.push_back(fmt::format("`{}`", d.key));
		std::string col = req.empty() ? std::string() : fmt::format("{}", fmt::join(req, ", "));
		if (!k.alsoRequired.empty())
			col += (col.empty() ? "" : ", and ") + std::string(k.alsoRequired);
		out += fmt::format("| `{}` | {} | {} |\n", k.name, k.doc, col.empty() ? "none" : col);
	}
	return out;
}

} // namespace xdc::fault
