// SPDX-License-Identifier: Apache-2.0
// Parsing, validation and printing of fault specs (the format is documented in docs/FAULTS.md).
#include "common/fault/spec.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
// GCC 12 reports a false -Wmaybe-uninitialized inside <regex> when built with sanitizers at -O2.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>
#include <set>

#include "common/duration.h"
#include "common/yaml_reader.h"

namespace xdc::fault {

namespace {

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
};

constexpr std::array<KindInfo, 12> kKinds = {{
	{Kind::NetworkPartition, "network.partition"},
	{Kind::NetworkLoss, "network.loss"},
	{Kind::NetworkDelay, "network.delay"},
	{Kind::NetworkBandwidth, "network.bandwidth"},
	{Kind::NetworkCorrupt, "network.corrupt"},
	{Kind::NetworkDuplicate, "network.duplicate"},
	{Kind::NetworkReorder, "network.reorder"},
	{Kind::ProcessKill, "process.kill"},
	{Kind::ProcessPause, "process.pause"},
	{Kind::ResourceCpu, "resource.cpu"},
	{Kind::ResourceMemory, "resource.memory"},
	{Kind::ResourceDiskFill, "resource.disk_fill"},
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

struct KeyInfo {
	std::string_view key;
	KindSet kinds;
};

// Every top-level key, in the order toYaml() prints them.
constexpr std::array<KeyInfo, 24> kKeys = {{
	{"id", kAllKinds},
	{"kind", kAllKinds},
	{"targets", kAllKinds},
	{"peers", kNetworkKinds},
	{"duration", kAllKinds},
	{"start", kAllKinds},
	{"direction", kNetworkKinds},
	{"action", bit(Kind::NetworkPartition)},
	{"protocol", kNetworkKinds},
	{"ports", kNetworkKinds},
	{"percent", kPercentKinds},
	{"delay", kDelayKinds},
	{"jitter", kDelayKinds},
	{"correlation", kCorrelationKinds},
	{"rate", bit(Kind::NetworkBandwidth)},
	{"match", kProcessKinds},
	{"signal", bit(Kind::ProcessKill)},
	{"count", kProcessKinds},
	{"every", bit(Kind::ProcessKill)},
	{"workers", bit(Kind::ResourceCpu)},
	{"cpu_percent", bit(Kind::ResourceCpu)},
	{"bytes", bit(Kind::ResourceMemory) | bit(Kind::ResourceDiskFill)},
	{"free_percent", bit(Kind::ResourceDiskFill)},
	{"path", bit(Kind::ResourceDiskFill)},
}};

constexpr std::array<std::string_view, 7> kSignals = {"KILL", "TERM", "INT", "HUP", "QUIT", "USR1", "USR2"};
constexpr std::array<std::string_view, 5> kMatchKeys = {"name", "cmdline", "pidfile", "cgroup", "preset"};

std::string kindList(KindSet set)
{
	std::vector<std::string_view> names;
	for (const auto &k : kKinds)
		if (set & bit(k.kind))
			names.push_back(k.name);
	return fmt::format("{}", fmt::join(names, ", "));
}

bool applies(std::string_view key, Kind kind)
{
	for (const auto &k : kKeys)
		if (k.key == key)
			return (k.kinds & bit(kind)) != 0;
	return false;
}

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

	std::string where(const YAML::Node &n) const
	{
		if (!n.IsDefined())
			return origin_;
		auto m = n.Mark();
		if (m.is_null())
			return origin_;
		return fmt::format("{}:{}:{}", origin_, m.line + 1, m.column + 1);
	}

	Result<FaultSpec> run(const YAML::Node &node, const Limits &limits);
	Result<void> checkShape(const YAML::Node &n, int depth, size_t &count) const;
	Result<Selector> selector(const YAML::Node &n, const std::string &p, Peers *peers) const;
	Result<ProcessMatch> match(const YAML::Node &n, const std::string &p) const;

private:
	Result<void> checkKeys(const YAML::Node &map, const std::string &mapPath,
			       const std::vector<std::string_view> &known) const;
	Result<std::string> text(const YAML::Node &n, const std::string &p, bool allowEmpty = false) const;
	Result<int64_t> integer(const YAML::Node &n, const std::string &p, int64_t min, int64_t max) const;
	Result<double> number(const YAML::Node &n, const std::string &p) const;
	Result<Nanos> duration(const YAML::Node &n, const std::string &p) const;
	Result<std::string> cidr(const YAML::Node &n, const std::string &p) const;
	Result<Count> count(const YAML::Node &n, const std::string &p) const;

	std::string origin_;
	std::string base_;
};

Result<void> Parser::checkShape(const YAML::Node &n, int depth, size_t &count) const
{
	if (++count > kMaxNodes)
		return fail(n, topPath(),
			    fmt::format("the spec has more than {} YAML nodes (YAML aliases expanding too far?)", kMaxNodes));
	if (depth > kMaxDepth)
		return fail(n, topPath(), fmt::format("the spec is nested more than {} levels deep", kMaxDepth));
	if (n.IsSequence()) {
		for (const auto &item : n)
			XDC_TRY(checkShape(item, depth + 1, count));
	} else if (n.IsMap()) {
		for (const auto &kv : n) {
			XDC_TRY(checkShape(kv.first, depth + 1, count));
			XDC_TRY(checkShape(kv.second, depth + 1, count));
		}
	}
	return success();
}

// Refuses keys that are not names, keys given twice, and unknown keys (with a "did you mean").
Result<void> Parser::checkKeys(const YAML::Node &map, const std::string &mapPath,
			       const std::vector<std::string_view> &known) const
{
	std::set<std::string> seen;
	std::vector<std::string> candidates(known.begin(), known.end());
	for (const auto &kv : map) {
		if (!kv.first.IsScalar())
			return fail(kv.first, mapPath.empty() ? topPath() : mapPath, "keys must be plain names");
		const std::string &k = kv.first.Scalar();
		std::string kp = mapPath.empty() ? k : fmt::format("{}.{}", mapPath, k);
		if (!seen.insert(k).second)
			return fail(kv.first, kp, "key given twice");
		if (!known.empty() && std::find(known.begin(), known.end(), k) == known.end()) {
			std::string hint = didYouMean(k, candidates);
			return fail(kv.first, kp,
				    hint.empty() ? fmt::format("unknown key (known keys: {})", fmt::join(known, ", "))
						 : fmt::format("unknown key; did you mean '{}'?", hint));
		}
	}
	return success();
}

Result<std::string> Parser::text(const YAML::Node &n, const std::string &p, bool allowEmpty) const
{
	if (!n.IsScalar())
		return fail(n, p, "expected a string");
	if (!allowEmpty && n.Scalar().empty())
		return fail(n, p, "must not be empty");
	return n.Scalar();
}

Result<int64_t> Parser::integer(const YAML::Node &n, const std::string &p, int64_t min, int64_t max) const
{
	if (!n.IsScalar())
		return fail(n, p, fmt::format("expected an integer ({}..{})", min, max));
	const std::string &s = n.Scalar();
	int64_t v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || end != s.data() + s.size() || s.empty())
		return fail(n, p, fmt::format("expected an integer ({}..{}), got '{}'", min, max, s));
	if (v < min || v > max)
		return fail(n, p, fmt::format("{} is out of range (expected {}..{})", v, min, max));
	return v;
}

// A plain number; a trailing '%' is accepted so "30%" and 30 mean the same.
Result<double> Parser::number(const YAML::Node &n, const std::string &p) const
{
	if (!n.IsScalar())
		return fail(n, p, "expected a number");
	std::string s = n.Scalar();
	if (!s.empty() && s.back() == '%')
		s.pop_back();
	double v = 0;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	if (ec != std::errc() || end != s.data() + s.size() || s.empty() || !std::isfinite(v))
		return fail(n, p, fmt::format("expected a number, got '{}'", n.Scalar()));
	return v;
}

Result<Nanos> Parser::duration(const YAML::Node &n, const std::string &p) const
{
	if (!n.IsScalar())
		return fail(n, p, "expected a duration such as 250ms, 3s or 2m");
	auto d = parseDuration(n.Scalar());
	if (!d)
		return fail(n, p, d.error().message);
	return *d;
}

// A selector mapping: dc, host, hosts, and labels. With peers set, `cidrs` is accepted too and goes there.
Result<Selector> Parser::selector(const YAML::Node &n, const std::string &p, Peers *peers) const
{
	if (!n.IsMap())
		return fail(n, p,
			    peers ? "expected a mapping such as {dc: dc2}, {host: dc2-h1} or {cidrs: [10.1.0.0/16]}"
				  : "expected a mapping such as {dc: dc1}, {host: dc1-h1} or {hosts: [dc1-h1, dc1-h2]}");
	XDC_TRY(checkKeys(n, p, {}));
	Selector sel;
	for (const auto &kv : n) {
		const std::string &k = kv.first.Scalar();
		const YAML::Node &v = kv.second;
		std::string kp = fmt::format("{}.{}", p, k);
		if (k == "dc") {
			auto r = text(v, kp);
			XDC_TRY(r);
			sel.dc = *r;
		} else if (k == "host") {
			auto r = text(v, kp);
			XDC_TRY(r);
			sel.host = *r;
		} else if (k == "hosts") {
			if (!v.IsSequence() || v.size() == 0)
				return fail(v, kp, "expected a non-empty list of host names such as [dc1-h1, dc1-h2]");
			for (size_t i = 0; i < v.size(); i++) {
				auto r = text(v[i], fmt::format("{}[{}]", kp, i));
				XDC_TRY(r);
				sel.hosts.push_back(*r);
			}
		} else if (k == "cidrs") {
			if (!peers)
				return fail(kv.first, kp,
					    "cidrs are only allowed in peers; targets select hosts that run an agent");
			if (!v.IsSequence() || v.size() == 0)
				return fail(v, kp, "expected a non-empty list such as [10.1.0.0/16, \"fd00::/8\"]");
			for (size_t i = 0; i < v.size(); i++) {
				auto r = cidr(v[i], fmt::format("{}[{}]", kp, i));
				XDC_TRY(r);
				peers->cidrs.push_back(*r);
			}
		} else {
			if (!v.IsScalar())
				return fail(v, kp, "a label must have a single string value");
			auto r = text(v, kp);
			XDC_TRY(r);
			sel.labels[k] = *r;
		}
	}
	return sel;
}

// An IPv4 or IPv6 network (or a single address). Host bits must be clear, so what the rules match is what was written.
Result<std::string> Parser::cidr(const YAML::Node &n, const std::string &p) const
{
	auto t = text(n, p);
	XDC_TRY(t);
	const std::string &s = *t;
	auto slash = s.find('/');
	std::string addr = s.substr(0, slash);
	unsigned char buf[16] = {};
	int bits = 0;
	if (inet_pton(AF_INET, addr.c_str(), buf) == 1)
		bits = 32;
	else if (inet_pton(AF_INET6, addr.c_str(), buf) == 1)
		bits = 128;
	else
		return fail(n, p, fmt::format("'{}' is not an IPv4 or IPv6 address or network (e.g. 10.1.0.0/16, fd00::/8)",
					      s));
	int prefix = bits;
	if (slash != std::string::npos) {
		std::string ps = s.substr(slash + 1);
		auto [end, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), prefix);
		if (ps.empty() || ec != std::errc() || end != ps.data() + ps.size() || prefix < 0 || prefix > bits)
			return fail(n, p, fmt::format("'{}' has an invalid prefix length (expected 0..{})", s, bits));
	}
	for (int b = prefix; b < bits; b++) {
		if (buf[b / 8] & (0x80 >> (b % 8))) {
			for (int c = prefix; c < bits; c++)
				buf[c / 8] &= static_cast<unsigned char>(~(0x80 >> (c % 8)));
			char out[INET6_ADDRSTRLEN] = {};
			inet_ntop(bits == 32 ? AF_INET : AF_INET6, buf, out, sizeof out);
			return fail(n, p, fmt::format("'{}' has host bits set; did you mean '{}/{}'?", s, out, prefix));
		}
	}
	return s;
}

bool hasDotDot(const std::string &path)
{
	size_t start = 0;
	while (start <= path.size()) {
		size_t end = path.find('/', start);
		if (end == std::string::npos)
			end = path.size();
		if (path.compare(start, end - start, "..") == 0)
			return true;
		start = end + 1;
	}
	return false;
}

Result<ProcessMatch> Parser::match(const YAML::Node &n, const std::string &p) const
{
	if (!n.IsMap())
		return fail(n, p, "expected a mapping with one of name, cmdline, pidfile, cgroup, preset "
				  "(e.g. {name: streams-pec} or {preset: streams-pe})");
	XDC_TRY(checkKeys(n, p, {kMatchKeys.begin(), kMatchKeys.end()}));
	if (n.size() != 1)
		return fail(n, p, fmt::format("give exactly one of name, cmdline, pidfile, cgroup, preset (got {})",
					      n.size()));
	ProcessMatch m;
	auto kv = *n.begin();
	const std::string &k = kv.first.Scalar();
	std::string kp = fmt::format("{}.{}", p, k);
	auto r = text(kv.second, kp);
	XDC_TRY(r);
	const std::string &v = *r;
	if (k == "name") {
		// The kernel truncates comm to 15 characters, so a longer exact name could never match.
		if (v.size() > 15)
			return fail(kv.second, kp, fmt::format("'{}' is longer than the 15 characters of a process name "
							       "(/proc/PID/comm); use cmdline for longer names", v));
		if (v.find('/') != std::string::npos)
			return fail(kv.second, kp, "a process name cannot contain '/'; use cmdline or pidfile");
		m.name = v;
	} else if (k == "cmdline") {
		if (v.size() > kMaxRegexLength)
			return fail(kv.second, kp, fmt::format("regular expression longer than {} characters",
							       kMaxRegexLength));
		try {
			std::regex re(v, std::regex::ECMAScript);
		} catch (const std::regex_error &e) {
			return fail(kv.second, kp, fmt::format("invalid regular expression '{}': {}", v, e.what()));
		}
		m.cmdline = v;
	} else if (k == "pidfile") {
		if (v.front() != '/')
			return fail(kv.second, kp, fmt::format("'{}' is not an absolute path", v));
		m.pidfile = v;
	} else if (k == "cgroup") {
		if (hasDotDot(v))
			return fail(kv.second, kp, "a cgroup path must not contain '..'");
		m.cgroup = v;
	} else {
		if (v != "streams-pe")
			return fail(kv.second, kp, fmt::format("unknown preset '{}' (known presets: streams-pe)", v));
		m.preset = v;
	}
	return m;
}

Result<Count> Parser::count(const YAML::Node &n, const std::string &p) const
{
	const char *expected = "expected all, a number of processes (e.g. 2) or a percentage (e.g. 50%)";
	if (!n.IsScalar())
		return fail(n, p, expected);
	const std::string &s = n.Scalar();
	Count c;
	if (s == "all")
		return c;
	bool percent = !s.empty() && s.back() == '%';
	std::string digits = percent ? s.substr(0, s.size() - 1) : s;
	int64_t v = 0;
	auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
	if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
		return fail(n, p, fmt::format("{}, got '{}'", expected, s));
	if (percent) {
		if (v < 1 || v > 100)
			return fail(n, p, fmt::format("{}% is out of range (expected 1%..100%)", v));
		c.mode = Count::Mode::Percent;
	} else {
		if (v < 1 || v > kMaxCount)
			return fail(n, p, fmt::format("{} is out of range (expected 1..{})", v, kMaxCount));
		c.mode = Count::Mode::Number;
	}
	c.value = static_cast<int>(v);
	return c;
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
	for (const auto &k : kKeys)
		known.push_back(k.key);
	XDC_TRY(checkKeys(node, base_, known));

	FaultSpec spec;
	YAML::Node kindNode = node["kind"];
	if (!kindNode)
		return fail(node, path("kind"), fmt::format("required (one of {})", kindList(kAllKinds)));
	{
		auto name = text(kindNode, path("kind"));
		XDC_TRY(name);
		auto k = kindFromName(*name);
		if (!k)
			return fail(kindNode, path("kind"), k.error().message);
		spec.kind = *k;
	}

	// Keys that belong to another kind are refused rather than ignored: a `percent` on a partition is a mistake
	// the user should hear about, not a silent no-op.
	for (const auto &kv : node) {
		const std::string &k = kv.first.Scalar();
		if (!applies(k, spec.kind)) {
			KindSet set = 0;
			for (const auto &ki : kKeys)
				if (ki.key == k)
					set = ki.kinds;
			return fail(kv.first, path(k), fmt::format("{} does not apply to {} (it applies to {})", k,
								    kindName(spec.kind), kindList(set)));
		}
	}

	const Kind kind = spec.kind;
	auto get = [&](const char *key) { return node[key]; };
	auto missing = [&](const char *key, const std::string &what) { return fail(node, path(key), what); };

	if (auto n = get("id")) {
		auto r = text(n, path("id"));
		XDC_TRY(r);
		static const std::regex idRe("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
		// The id ends up in journal file names and rule comments, so it is kept to a safe alphabet.
		if (!std::regex_match(*r, idRe))
			return fail(n, path("id"), fmt::format("'{}' is not a valid id (letters, digits, '.', '_', '-'; "
							       "at most 64; starting with a letter or digit)", *r));
		spec.id = *r;
	}

	if (auto n = get("targets")) {
		auto r = selector(n, path("targets"), nullptr);
		XDC_TRY(r);
		if (r->empty())
			return fail(n, path("targets"), "must select at least one host (dc, host, hosts or a label)");
		spec.targets = *r;
	} else {
		return missing("targets", "required: the hosts to put the fault on, e.g. {dc: dc1} or {host: dc1-h1}");
	}

	if (auto n = get("duration")) {
		auto r = duration(n, path("duration"));
		XDC_TRY(r);
		if (r->count() <= 0)
			return fail(n, path("duration"), "must be greater than 0 (every fault has a time to live)");
		if (*r > limits.maxDuration)
			return fail(n, path("duration"), fmt::format("duration {} exceeds the agent cap of {}",
								      formatDuration(*r), formatDuration(limits.maxDuration)));
		spec.duration = *r;
	} else {
		return missing("duration", "required: every fault has a time to live, e.g. 10s or 5m");
	}

	if (auto n = get("start")) {
		auto r = duration(n, path("start"));
		XDC_TRY(r);
		spec.start = *r;
	}

	if (isNetwork(kind)) {
		if (auto n = get("peers")) {
			Peers peers;
			auto r = selector(n, path("peers"), &peers);
			XDC_TRY(r);
			peers.selector = *r;
			if (peers.empty())
				return fail(n, path("peers"),
					    "must name at least one peer (dc, host, hosts, a label or cidrs)");
			spec.peers = peers;
		} else {
			return missing("peers", fmt::format("required for {}: whom the traffic goes to or comes from, "
							    "e.g. {{dc: dc2}} or {{cidrs: [10.1.0.0/16]}}",
							    kindName(kind)));
		}
		if (auto n = get("direction")) {
			auto r = text(n, path("direction"));
			XDC_TRY(r);
			if (*r == "both")
				spec.direction = Direction::Both;
			else if (*r == "in")
				spec.direction = Direction::In;
			else if (*r == "out")
				spec.direction = Direction::Out;
			else
				return fail(n, path("direction"), fmt::format("'{}' is not one of both, in, out", *r));
		}
		if (auto n = get("action")) {
			auto r = text(n, path("action"));
			XDC_TRY(r);
			if (*r == "drop")
				spec.action = Action::Drop;
			else if (*r == "reject")
				spec.action = Action::Reject;
			else
				return fail(n, path("action"), fmt::format("'{}' is not one of drop, reject", *r));
		}
		if (auto n = get("protocol")) {
			auto r = text(n, path("protocol"));
			XDC_TRY(r);
			if (*r != "all" && *r != "tcp" && *r != "udp" && *r != "icmp")
				return fail(n, path("protocol"),
					    fmt::format("'{}' is not one of all, tcp, udp, icmp", *r));
			spec.protocol = *r;
		}
		if (auto n = get("ports")) {
			if (!n.IsSequence() || n.size() == 0)
				return fail(n, path("ports"), "expected a non-empty list of ports such as [9092, 443]");
			if (spec.protocol != "tcp" && spec.protocol != "udp")
				return fail(n, path("ports"), fmt::format("ports need protocol tcp or udp (protocol is {})",
									  spec.protocol));
			for (size_t i = 0; i < n.size(); i++) {
				auto r = integer(n[i], fmt::format("{}[{}]", path("ports"), i), 1, 65535);
				XDC_TRY(r);
				int port = static_cast<int>(*r);
				if (std::find(spec.ports.begin(), spec.ports.end(), port) != spec.ports.end())
					return fail(n[i], fmt::format("{}[{}]", path("ports"), i),
						    fmt::format("port {} is listed twice", port));
				spec.ports.push_back(port);
			}
		}
	}

	if (auto n = get("percent")) {
		auto r = number(n, path("percent"));
		XDC_TRY(r);
		if (*r <= 0 || *r > 100)
			return fail(n, path("percent"), fmt::format("{} is out of range (expected 0 < percent <= 100)", *r));
		spec.lossPercent = *r;
	} else if (kPercentKinds & bit(kind)) {
		return missing("percent", fmt::format("required for {} (0 < percent <= 100)", kindName(kind)));
	}

	if (auto n = get("delay")) {
		auto r = duration(n, path("delay"));
		XDC_TRY(r);
		if (r->count() <= 0)
			return fail(n, path("delay"), "must be greater than 0");
		spec.delay = *r;
	} else if (kDelayKinds & bit(kind)) {
		return missing("delay", fmt::format("required for {}, e.g. 100ms", kindName(kind)));
	}

	if (auto n = get("jitter")) {
		auto r = duration(n, path("jitter"));
		XDC_TRY(r);
		if (*r > spec.delay)
			return fail(n, path("jitter"), fmt::format("jitter {} is larger than delay {} (expected jitter <= "
								    "delay)", formatDuration(*r), formatDuration(spec.delay)));
		spec.jitter = *r;
	}

	if (auto n = get("correlation")) {
		auto r = number(n, path("correlation"));
		XDC_TRY(r);
		if (*r < 0 || *r > 100)
			return fail(n, path("correlation"), fmt::format("{} is out of range (expected 0..100)", *r));
		spec.correlationPercent = *r;
	}

	if (auto n = get("rate")) {
		auto r = text(n, path("rate"));
		XDC_TRY(r);
		auto rate = parseRate(*r);
		if (!rate)
			return fail(n, path("rate"), rate.error().message);
		spec.rateBitsPerSec = *rate;
	} else if (kind == Kind::NetworkBandwidth) {
		return missing("rate", "required for network.bandwidth, e.g. 8mbit");
	}

	if (auto n = get("match")) {
		auto r = match(n, path("match"));
		XDC_TRY(r);
		spec.match = *r;
	} else if (kProcessKinds & bit(kind)) {
		return missing("match", fmt::format("required for {}: one of name, cmdline, pidfile, cgroup, preset",
						    kindName(kind)));
	}

	if (auto n = get("signal")) {
		auto r = text(n, path("signal"));
		XDC_TRY(r);
		std::string s = *r;
		std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
		if (s.rfind("SIG", 0) == 0)
			s = s.substr(3);
		if (std::find(kSignals.begin(), kSignals.end(), s) == kSignals.end())
			return fail(n, path("signal"),
				    fmt::format("'{}' is not one of {}", *r, fmt::join(kSignals, ", ")));
		spec.signal = s;
	}

	if (auto n = get("count")) {
		auto r = count(n, path("count"));
		XDC_TRY(r);
		spec.count = *r;
	}

	if (auto n = get("every")) {
		auto r = duration(n, path("every"));
		XDC_TRY(r);
		if (*r < kMinEvery)
			return fail(n, path("every"), fmt::format("every {} is too short (expected at least {})",
								  formatDuration(*r), formatDuration(kMinEvery)));
		if (*r >= spec.duration)
			return fail(n, path("every"),
				    fmt::format("every {} must be shorter than the duration {}", formatDuration(*r),
						formatDuration(spec.duration)));
		spec.every = *r;
	}

	if (auto n = get("workers")) {
		auto r = integer(n, path("workers"), 1, 256);
		XDC_TRY(r);
		spec.workers = static_cast<int>(*r);
	}
	if (auto n = get("cpu_percent")) {
		auto r = integer(n, path("cpu_percent"), 1, 100);
		XDC_TRY(r);
		spec.cpuPercent = static_cast<int>(*r);
	}

	YAML::Node bytesNode = get("bytes");
	if (bytesNode) {
		if (!bytesNode.IsScalar())
			return fail(bytesNode, path("bytes"), "expected a size such as 536870912 or 512MiB");
		auto r = parseSize(bytesNode.Scalar());
		if (!r)
			return fail(bytesNode, path("bytes"), r.error().message);
		if (*r == 0)
			return fail(bytesNode, path("bytes"), "must be greater than 0");
		spec.bytes = *r;
	}
	YAML::Node freeNode = get("free_percent");
	if (freeNode) {
		auto r = number(freeNode, path("free_percent"));
		XDC_TRY(r);
		if (*r < 0 || *r > 99)
			return fail(freeNode, path("free_percent"), fmt::format("{} is out of range (expected 0..99)", *r));
		spec.freePercent = *r;
	}
	if (auto n = get("path")) {
		auto r = text(n, path("path"));
		XDC_TRY(r);
		if (r->front() != '/')
			return fail(n, path("path"), fmt::format("'{}' is not an absolute path", *r));
		// The agent checks the allow-list on the canonical path; '..' is refused here so the spec says plainly
		// where the fill goes.
		if (hasDotDot(*r))
			return fail(n, path("path"), "the path must not contain '..'");
		spec.path = *r;
	} else if (kind == Kind::ResourceDiskFill) {
		return missing("path", "required for resource.disk_fill: the directory to fill, e.g. /var/tmp");
	}

	if (kind == Kind::ResourceMemory && !bytesNode)
		return missing("bytes", "required for resource.memory, e.g. 512MiB");
	if (kind == Kind::ResourceDiskFill) {
		if (bytesNode && freeNode)
			return fail(freeNode, path("free_percent"), "give either bytes or free_percent, not both");
		if (!bytesNode && !freeNode)
			return missing("bytes", "resource.disk_fill needs either bytes (e.g. 1GiB) or free_percent (e.g. 5)");
	}

	// Checks that need the agent's host are not done here; the agent's own validation does them before anything
	// is applied: netem availability for netem-only kinds, process matches that would hit PID 1, the agent, its
	// ancestors, the controller or sshd (and the match size cap), memory against MemAvailable, the disk-fill
	// allow-list and size cap, and whether the peers resolve to known hosts (the controller).
	return spec;
}

std::string formatRate(uint64_t bits)
{
	static const std::array<std::pair<uint64_t, const char *>, 4> units = {{
		{1'000'000'000ULL, "gbit"}, {1'000'000ULL, "mbit"}, {1'000ULL, "kbit"}, {1ULL, "bit"}}};
	for (const auto &[scale, name] : units)
		if (bits >= scale && bits % scale == 0)
			return fmt::format("{}{}", bits / scale, name);
	return fmt::format("{}bit", bits);
}

std::string formatSize(uint64_t bytes)
{
	static const std::array<std::pair<uint64_t, const char *>, 3> units = {{
		{1ULL << 30, "GiB"}, {1ULL << 20, "MiB"}, {1ULL << 10, "KiB"}}};
	for (const auto &[scale, name] : units)
		if (bytes >= scale && bytes % scale == 0)
			return fmt::format("{}{}", bytes / scale, name);
	return fmt::format("{}", bytes);
}

void emitSelectorWith(YAML::Emitter &e, const Selector &s, const std::vector<std::string> *cidrs)
{
	e << YAML::BeginMap;
	if (!s.dc.empty())
		e << YAML::Key << "dc" << YAML::Value << s.dc;
	if (!s.host.empty())
		e << YAML::Key << "host" << YAML::Value << s.host;
	if (!s.hosts.empty()) {
		e << YAML::Key << "hosts" << YAML::Value << YAML::BeginSeq;
		for (const auto &h : s.hosts)
			e << h;
		e << YAML::EndSeq;
	}
	for (const auto &[k, v] : s.labels)
		e << YAML::Key << k << YAML::Value << v;
	if (cidrs && !cidrs->empty()) {
		e << YAML::Key << "cidrs" << YAML::Value << YAML::BeginSeq;
		for (const auto &c : *cidrs)
			e << c;
		e << YAML::EndSeq;
	}
	e << YAML::EndMap;
}

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

// Shortest exact spelling of a double, so the printed value parses back to the same number.
std::string num(double v) { return fmt::format("{}", v); }

} // namespace

std::string_view kindName(Kind k)
{
	for (const auto &info : kKinds)
		if (info.kind == k)
			return info.name;
	return "unknown";
}

Result<Kind> kindFromName(std::string_view name)
{
	std::vector<std::string> names;
	for (const auto &info : kKinds) {
		if (info.name == name)
			return info.kind;
		names.emplace_back(info.name);
	}
	std::string hint = didYouMean(std::string(name), names);
	return makeError(Errc::Invalid, "unknown kind '{}'{} (known kinds: {})", name,
			 hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint), fmt::join(names, ", "));
}

bool isNetwork(Kind k) { return (kNetworkKinds & bit(k)) != 0; }

bool needsNetem(Kind k)
{
	return k == Kind::NetworkCorrupt;
}

namespace {

constexpr KindSet kNfqueueLineKinds = bit(Kind::NetworkDelay) | bit(Kind::NetworkReorder) | bit(Kind::NetworkDuplicate);

} // namespace

bool stackable(Kind a, Kind b)
{
	if (a == b)
		return false;
	return !((kNfqueueLineKinds & bit(a)) && (kNfqueueLineKinds & bit(b)));
}

std::string unstackableReason(Kind a, Kind b)
{
	if (stackable(a, b))
		return "";
	if (a == b)
		return "faults of one kind do not stack on a host (revert it first, or combine them into one fault)";
	return fmt::format("{} and {} both use the agent's NFQUEUE line and do not stack on a host (a packet the first "
			   "queue accepts never reaches the other's rules); revert it first",
			   kindName(a), kindName(b));
}

Result<FaultSpec> parseSpec(const YAML::Node &node, const std::string &origin, const std::string &keyPath,
			    const Limits &limits)
{
	// yaml-cpp can throw from node accessors (e.g. on a conversion); nothing may escape as an exception.
	try {
		Parser p(origin, keyPath);
		return p.run(node, limits);
	} catch (const std::exception &e) {
		return makeError(Errc::Invalid, "{}: {}: invalid fault spec: {}", origin,
				 keyPath.empty() ? "(top level)" : keyPath, e.what());
	}
}

Result<FaultSpec> parseSpecText(const std::string &text, const std::string &origin, const Limits &limits)
{
	if (text.size() > kMaxSpecBytes)
		return makeError(Errc::Invalid, "{}: (top level): the fault spec is {} bytes; the limit is {} bytes",
				 origin, text.size(), kMaxSpecBytes);
	auto node = parseYaml(text, origin, kMaxSpecBytes);
	if (!node)
		return node.error();
	return parseSpec(*node, origin, "", limits);
}

Result<uint64_t> parseRate(const std::string &text)
{
	auto bad = [&](std::string_view why) {
		return makeError(Errc::Invalid, "invalid rate '{}': {} (expected e.g. 8mbit, 500kbit, 1gbit, 10mbps)",
				 text, why);
	};
	size_t i = 0;
	bool digits = false;
	while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
		digits = digits || text[i] != '.';
		i++;
	}
	if (!digits)
		return bad("a number must come first");
	if (i > 20)
		return bad("too many digits");
	double value = 0;
	auto [end, ec] = std::from_chars(text.data(), text.data() + i, value);
	if (ec != std::errc() || end != text.data() + i)
		return bad("not a number");
	std::string unit = text.substr(i);
	std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::tolower(c); });
	// tc's spellings: bit units are bits per second, bps units are bytes per second.
	static const std::array<std::pair<std::string_view, double>, 12> units = {{
		{"bit", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}, {"tbit", 1e12},
		{"kibit", 1024.0}, {"mibit", 1048576.0}, {"gibit", 1073741824.0},
		{"bps", 8}, {"kbps", 8e3}, {"mbps", 8e6}, {"gbps", 8e9}}};
	if (unit.empty())
		return bad("missing unit (a bare number could mean bits or bytes)");
	const auto *found = std::find_if(units.begin(), units.end(), [&](const auto &u) { return u.first == unit; });
	if (found == units.end())
		return bad(fmt::format("unknown unit '{}'", text.substr(i)));
	long double bits = static_cast<long double>(value) * found->second;
	if (bits > static_cast<long double>(kMaxRate))
		return bad("larger than 1tbit");
	auto rounded = static_cast<uint64_t>(bits + 0.5L);
	if (rounded == 0)
		return bad("must be greater than 0");
	return rounded;
}

std::string toYaml(const FaultSpec &spec)
{
	const Kind kind = spec.kind;
	auto has = [&](std::string_view key) { return applies(key, kind); };
	YAML::Emitter e;
	e << YAML::Flow << YAML::BeginMap;
	if (!spec.id.empty())
		e << YAML::Key << "id" << YAML::Value << spec.id;
	e << YAML::Key << "kind" << YAML::Value << std::string(kindName(kind));
	e << YAML::Key << "targets" << YAML::Value;
	emitSelectorWith(e, spec.targets, nullptr);
	if (isNetwork(kind)) {
		e << YAML::Key << "peers" << YAML::Value;
		emitSelectorWith(e, spec.peers.selector, &spec.peers.cidrs);
	}
	e << YAML::Key << "duration" << YAML::Value << formatDuration(spec.duration);
	if (spec.start.count() != 0)
		e << YAML::Key << "start" << YAML::Value << formatDuration(spec.start);
	if (isNetwork(kind)) {
		e << YAML::Key << "direction" << YAML::Value << std::string(directionName(spec.direction));
		if (has("action"))
			e << YAML::Key << "action" << YAML::Value
			  << (spec.action == Action::Reject ? "reject" : "drop");
		e << YAML::Key << "protocol" << YAML::Value << spec.protocol;
		if (!spec.ports.empty()) {
			e << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
			for (int p : spec.ports)
				e << p;
			e << YAML::EndSeq;
		}
	}
	if (has("percent"))
		e << YAML::Key << "percent" << YAML::Value << num(spec.lossPercent);
	if (has("delay"))
		e << YAML::Key << "delay" << YAML::Value << formatDuration(spec.delay);
	if (has("jitter"))
		e << YAML::Key << "jitter" << YAML::Value << formatDuration(spec.jitter);
	if (has("correlation"))
		e << YAML::Key << "correlation" << YAML::Value << num(spec.correlationPercent);
	if (has("rate"))
		e << YAML::Key << "rate" << YAML::Value << formatRate(spec.rateBitsPerSec);
	if (has("match")) {
		e << YAML::Key << "match" << YAML::Value;
		emitProcessMatch(e, spec.match);
	}
	if (has("signal"))
		e << YAML::Key << "signal" << YAML::Value << spec.signal;
	if (has("count")) {
		e << YAML::Key << "count" << YAML::Value;
		switch (spec.count.mode) {
		case Count::Mode::All:
			e << "all";
			break;
		case Count::Mode::Number:
			e << spec.count.value;
			break;
		case Count::Mode::Percent:
			e << fmt::format("{}%", spec.count.value);
			break;
		}
	}
	if (has("every") && spec.every.count() != 0)
		e << YAML::Key << "every" << YAML::Value << formatDuration(spec.every);
	if (has("workers"))
		e << YAML::Key << "workers" << YAML::Value << spec.workers;
	if (has("cpu_percent"))
		e << YAML::Key << "cpu_percent" << YAML::Value << spec.cpuPercent;
	// disk_fill takes exactly one of bytes and free_percent; memory always has bytes.
	if (has("bytes") && (kind == Kind::ResourceMemory || spec.freePercent < 0))
		e << YAML::Key << "bytes" << YAML::Value << formatSize(spec.bytes);
	if (has("free_percent") && spec.freePercent >= 0)
		e << YAML::Key << "free_percent" << YAML::Value << num(spec.freePercent);
	if (has("path"))
		e << YAML::Key << "path" << YAML::Value << spec.path;
	e << YAML::EndMap;
	return e.c_str();
}

// The shared pieces run through the same Parser so their messages match the fault format exactly; yaml-cpp may throw
// from accessors, and nothing may escape as an exception.
Result<Selector> parseSelector(const YAML::Node &node, const std::string &origin, const std::string &keyPath)
{
	try {
		return Parser(origin, keyPath).selector(node, keyPath, nullptr);
	} catch (const std::exception &e) {
		return makeError(Errc::Invalid, "{}: {}: invalid selector: {}", origin, keyPath, e.what());
	}
}

Result<ProcessMatch> parseProcessMatch(const YAML::Node &node, const std::string &origin, const std::string &keyPath)
{
	try {
		return Parser(origin, keyPath).match(node, keyPath);
	} catch (const std::exception &e) {
		return makeError(Errc::Invalid, "{}: {}: invalid match: {}", origin, keyPath, e.what());
	}
}

Result<void> checkSpecShape(const YAML::Node &node, const std::string &origin, const std::string &keyPath)
{
	size_t count = 0;
	return Parser(origin, keyPath).checkShape(node, 0, count);
}

void emitSelector(YAML::Emitter &e, const Selector &s) { emitSelectorWith(e, s, nullptr); }

void emitProcessMatch(YAML::Emitter &e, const ProcessMatch &m)
{
	e << YAML::BeginMap;
	if (!m.name.empty())
		e << YAML::Key << "name" << YAML::Value << m.name;
	else if (!m.cmdline.empty())
		e << YAML::Key << "cmdline" << YAML::Value << m.cmdline;
	else if (!m.pidfile.empty())
		e << YAML::Key << "pidfile" << YAML::Value << m.pidfile;
	else if (!m.cgroup.empty())
		e << YAML::Key << "cgroup" << YAML::Value << m.cgroup;
	else if (!m.preset.empty())
		e << YAML::Key << "preset" << YAML::Value << m.preset;
	e << YAML::EndMap;
}

} // namespace xdc::fault
