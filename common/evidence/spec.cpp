// SPDX-License-Identifier: Apache-2.0
// Parsing, validation and printing of sampler and probe specs (the format is documented in docs/EVIDENCE.md). The
// selector (`on:`) and the process matcher (`match:`) are the fault format's own parsers, so both formats accept and
// refuse the same things with the same words.
#include "common/evidence/spec.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>
// GCC 12 reports a false -Wmaybe-uninitialized inside <regex> when built with sanitizers at -O2.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>

#include "common/duration.h"
#include "common/yaml_reader.h"

namespace xdc::evidence {

namespace {

constexpr size_t kMaxSpecBytes = 64 * 1024;
constexpr size_t kMaxRegexLength = 1024;
constexpr size_t kMaxNameLength = 128;
constexpr size_t kMaxDisks = 32;
constexpr Nanos kDefaultCommandTimeout = std::chrono::seconds(5);

constexpr std::array<SamplerKind, 7> kKinds = {SamplerKind::Host,      SamplerKind::Process, SamplerKind::ProbeTcp,
					       SamplerKind::ProbeHttp, SamplerKind::Command, SamplerKind::Log,
					       SamplerKind::File};

using KindSet = unsigned;
constexpr KindSet bit(SamplerKind k) { return 1u << static_cast<unsigned>(k); }
constexpr KindSet kAll = bit(SamplerKind::Host) | bit(SamplerKind::Process) | bit(SamplerKind::ProbeTcp) |
			 bit(SamplerKind::ProbeHttp) | bit(SamplerKind::Command) | bit(SamplerKind::Log) |
			 bit(SamplerKind::File);
constexpr KindSet kProbes = bit(SamplerKind::ProbeTcp) | bit(SamplerKind::ProbeHttp);
constexpr KindSet kHttp = bit(SamplerKind::ProbeHttp);

struct KeyInfo {
	std::string_view key;
	KindSet kinds;
};

// Every key, in the order toYaml() prints them.
constexpr std::array<KeyInfo, 15> kKeys = {{
	{"name", kAll},
	{"kind", kAll},
	{"on", kAll},
	{"interval", kAll},
	{"rate", kAll},
	{"timeout", kProbes | bit(SamplerKind::Command)},
	{"target", kProbes},
	{"expect_status", kHttp},
	{"body_match", kHttp},
	{"tls_insecure", kHttp},
	{"ca_file", kHttp},
	{"match", bit(SamplerKind::Process) | bit(SamplerKind::Log)},
	{"command", bit(SamplerKind::Command)},
	{"source", bit(SamplerKind::Log) | bit(SamplerKind::File)},
	{"disks", bit(SamplerKind::Host)},
}};

std::string kindList(KindSet set)
{
	std::vector<std::string_view> names;
	for (auto k : kKinds)
		if (set & bit(k))
			names.push_back(samplerKindName(k));
	return fmt::format("{}", fmt::join(names, ", "));
}

Nanos defaultInterval(SamplerKind k)
{
	switch (k) {
	case SamplerKind::ProbeTcp:
	case SamplerKind::ProbeHttp: return std::chrono::milliseconds(100);
	case SamplerKind::Host:
	case SamplerKind::Process:
	case SamplerKind::File: return std::chrono::seconds(1);
	case SamplerKind::Log: return std::chrono::milliseconds(500);
	case SamplerKind::Command: return std::chrono::seconds(10);
	}
	return std::chrono::seconds(1);
}

Nanos minInterval(SamplerKind k)
{
	if (isProbe(k))
		return kMinProbeInterval;
	if (k == SamplerKind::Command)
		return kMinCommandInterval;
	return kMinSampleInterval;
}

// "100hz" as users think of it; for whole-millisecond intervals that is exact.
std::string hz(Nanos interval)
{
	return fmt::format("{:g}hz", 1e9 / static_cast<double>(interval.count()));
}

bool validHostName(std::string_view h)
{
	if (h.empty() || h.size() > 253)
		return false;
	return std::all_of(h.begin(), h.end(), [](unsigned char c) {
		return std::isalnum(c) || c == '-' || c == '.' || c == '_';
	});
}

// Host and port of an URL's authority ("host", "host:port", "[v6]", "[v6]:port"); port 0 when absent.
Result<HostPort> splitAuthority(const std::string &authority, bool portRequired)
{
	HostPort hp;
	std::string rest;
	if (!authority.empty() && authority.front() == '[') {
		auto close = authority.find(']');
		if (close == std::string::npos)
			return makeError(Errc::Invalid, "'{}': '[' without a closing ']'", authority);
		hp.host = authority.substr(1, close - 1);
		unsigned char buf[16];
		if (inet_pton(AF_INET6, hp.host.c_str(), buf) != 1)
			return makeError(Errc::Invalid, "'{}' is not an IPv6 address", hp.host);
		rest = authority.substr(close + 1);
		if (!rest.empty() && rest.front() != ':')
			return makeError(Errc::Invalid, "'{}': expected ':PORT' after ']'", authority);
	} else {
		auto colon = authority.rfind(':');
		if (colon != std::string::npos && authority.find(':') != colon)
			return makeError(Errc::Invalid, "'{}': an IPv6 address must be written in brackets, e.g. [fd00::1]:80",
					 authority);
		hp.host = authority.substr(0, colon);
		if (colon != std::string::npos)
			rest = authority.substr(colon);
		if (!validHostName(hp.host))
			return makeError(Errc::Invalid, "'{}' is not a host name or address", hp.host);
	}
	if (rest.empty()) {
		if (portRequired)
			return makeError(Errc::Invalid, "'{}' has no port (expected HOST:PORT, e.g. dc2-h1:7000)", authority);
		return hp;
	}
	std::string ps = rest.substr(1);
	int port = 0;
	auto [end, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
	if (ps.empty() || ec != std::errc() || end != ps.data() + ps.size() || port < 1 || port > 65535)
		return makeError(Errc::Invalid, "'{}': port '{}' is not a number in 1..65535", authority, ps);
	hp.port = port;
	return hp;
}

// "http://host[:port]/path" or https; the host may be a fleet host name.
Result<void> checkUrl(const std::string &url)
{
	std::string rest;
	if (url.rfind("http://", 0) == 0)
		rest = url.substr(7);
	else if (url.rfind("https://", 0) == 0)
		rest = url.substr(8);
	else
		return makeError(Errc::Invalid, "'{}' is not an http:// or https:// URL", url);
	for (unsigned char c : url)
		if (c <= ' ' || c == 0x7f)
			return makeError(Errc::Invalid, "'{}': URLs cannot contain spaces or control characters", url);
	std::string authority = rest.substr(0, rest.find_first_of("/?#"));
	if (authority.find('@') != std::string::npos)
		return makeError(Errc::Invalid, "'{}': credentials in the URL are not supported", url);
	if (authority.empty())
		return makeError(Errc::Invalid, "'{}' has no host", url);
	auto hp = splitAuthority(authority, false);
	if (!hp)
		return makeError(Errc::Invalid, "'{}': {}", url, hp.error().message);
	return success();
}

class Parser {
public:
	Parser(std::string origin, std::string keyPath) : origin_(std::move(origin)), base_(std::move(keyPath)) {}

	Result<SamplerSpec> run(const YAML::Node &node);

private:
	std::string path(std::string_view key) const
	{
		return base_.empty() ? std::string(key) : fmt::format("{}.{}", base_, key);
	}
	std::string topPath() const { return base_.empty() ? "(top level)" : base_; }
	std::string where(const YAML::Node &n) const { return nodeWhere(origin_, n); }
	Error fail(const YAML::Node &at, const std::string &keyPath, const std::string &what) const
	{
		return Error{Errc::Invalid, fmt::format("{}: {}: {}", where(at), keyPath, what)};
	}
	Result<std::string> text(const YAML::Node &n, const std::string &p) const
	{
		if (!n.IsScalar())
			return fail(n, p, "expected a string");
		if (n.Scalar().empty())
			return fail(n, p, "must not be empty");
		return n.Scalar();
	}
	Result<Nanos> duration(const YAML::Node &n, const std::string &p) const
	{
		if (!n.IsScalar())
			return fail(n, p, "expected a duration such as 10ms, 1s or 5m");
		auto d = parseDuration(n.Scalar());
		if (!d)
			return fail(n, p, d.error().message);
		return *d;
	}
	Result<Nanos> rate(const YAML::Node &n, const std::string &p) const;
	Result<std::string> regex(const YAML::Node &n, const std::string &p) const;
	Result<void> sourceKeys(const YAML::Node &node, SamplerSpec &spec) const;
	Result<void> knownKeys(const YAML::Node &node) const;
	Result<void> kindKey(const YAML::Node &node, SamplerSpec &spec) const;
	Result<void> onKey(const YAML::Node &node, SamplerSpec &spec) const;
	Result<void> cadenceKeys(const YAML::Node &node, SamplerSpec &spec) const;
	Result<void> timeoutKey(const YAML::Node &node, SamplerSpec &spec) const;
	Result<void> targetKey(const YAML::Node &node, SamplerSpec &spec) const;
	Result<void> httpKeys(const YAML::Node &node, SamplerSpec &spec) const;
	Result<void> matchKey(const YAML::Node &node, SamplerSpec &spec) const;
	Result<void> commandKey(const YAML::Node &node, SamplerSpec &spec) const;
	Result<void> disksKey(const YAML::Node &node, SamplerSpec &spec) const;
	Result<void> nameKey(const YAML::Node &node, SamplerSpec &spec) const;

	std::string origin_;
	std::string base_;
};

// `rate: 100hz` or `rate: 100` (per second) -> the interval, rounded to the nanosecond.
Result<Nanos> Parser::rate(const YAML::Node &n, const std::string &p) const
{
	const char *expected = "expected a rate such as 100hz, 0.5hz or 10 (samples per second)";
	if (!n.IsScalar())
		return fail(n, p, expected);
	std::string s = n.Scalar();
	std::string lower = s;
	std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
	if (lower.size() > 2 && lower.compare(lower.size() - 2, 2, "hz") == 0)
		lower.resize(lower.size() - 2);
	double v = 0;
	auto [end, ec] = std::from_chars(lower.data(), lower.data() + lower.size(), v);
	if (lower.empty() || ec != std::errc() || end != lower.data() + lower.size() || !std::isfinite(v))
		return fail(n, p, fmt::format("{}, got '{}'", expected, s));
	if (v <= 0)
		return fail(n, p, fmt::format("rate '{}' must be greater than 0", s));
	double ns = std::round(1e9 / v);
	if (ns < 1 || ns > 1e17)
		return fail(n, p, fmt::format("rate '{}' is out of range (expected at least once per {})", s,
					      formatDuration(kMaxInterval)));
	return Nanos(static_cast<int64_t>(ns));
}

// An ECMAScript regular expression (searched, not anchored), bounded and checked to compile, as the agent will.
Result<std::string> Parser::regex(const YAML::Node &n, const std::string &p) const
{
	auto r = text(n, p);
	XDC_TRY(r);
	if (r->size() > kMaxRegexLength)
		return fail(n, p, fmt::format("regular expression longer than {} characters", kMaxRegexLength));
	try {
		std::regex re(*r, std::regex::ECMAScript);
	} catch (const std::regex_error &e) {
		return fail(n, p, fmt::format("invalid regular expression '{}': {}", *r, e.what()));
	}
	return r;
}

// log and file: `source` (a name the agent's config declares, never a path) and, for log, `match` (a line regex).
Result<void> Parser::sourceKeys(const YAML::Node &node, SamplerSpec &spec) const
{
	const bool log = spec.kind == SamplerKind::Log;
	const char *block = log ? "evidence.logs" : "evidence.files";
	YAML::Node n = node["source"];
	if (!n)
		return fail(node, path("source"),
			    fmt::format("required for {}: a name from the agent config's {}, e.g. {}", samplerKindName(spec.kind),
					block, log ? "pe-trace" : "snapshots"));
	auto r = text(n, path("source"));
	XDC_TRY(r);
	const bool valid = r->size() <= 64 && std::all_of(r->begin(), r->end(), [](unsigned char c) {
		return std::isalnum(c) || c == '.' || c == '_' || c == '-';
	});
	if (!valid)
		return fail(n, path("source"),
			    fmt::format("'{}' is not a source name (letters, digits, '.', '_', '-'; at most 64): name an entry "
					"of the agent config's {}, never a path",
					*r, block));
	spec.source = *r;
	if (YAML::Node m = node["match"]; log && m) {
		auto re = regex(m, path("match"));
		XDC_TRY(re);
		spec.lineMatch = *re;
	}
	return success();
}

Result<SamplerSpec> Parser::run(const YAML::Node &node)
{
	const char *example = "{kind: probe.tcp, on: {host: dc1-h1}, target: dc2-h1:7000, rate: 100hz}";
	if (!node.IsDefined() || node.IsNull())
		return fail(node, topPath(), fmt::format("empty sampler spec; expected a mapping such as {}", example));
	XDC_TRY(fault::checkSpecShape(node, origin_, base_));
	if (!node.IsMap())
		return fail(node, topPath(), fmt::format("expected a mapping such as {}", example));

	// Each step reads one group of keys; the order is the order in which mistakes are reported.
	XDC_TRY(knownKeys(node));
	SamplerSpec spec;
	XDC_TRY(kindKey(node, spec));
	XDC_TRY(onKey(node, spec));
	XDC_TRY(cadenceKeys(node, spec));
	XDC_TRY(timeoutKey(node, spec));
	XDC_TRY(targetKey(node, spec));
	XDC_TRY(httpKeys(node, spec));
	if (spec.kind == SamplerKind::Log || spec.kind == SamplerKind::File) {
		XDC_TRY(sourceKeys(node, spec));
	} else {
		XDC_TRY(matchKey(node, spec));
	}
	XDC_TRY(commandKey(node, spec));
	XDC_TRY(disksKey(node, spec));
	XDC_TRY(nameKey(node, spec));
	return spec;
}

// Keys: plain names, each once, known (with a "did you mean").
Result<void> Parser::knownKeys(const YAML::Node &node) const
{
	std::vector<std::string> known;
	for (const auto &k : kKeys)
		known.emplace_back(k.key);
	std::set<std::string> seen;
	for (const auto &kv : node) {
		if (!kv.first.IsScalar())
			return fail(kv.first, topPath(), "keys must be plain names");
		const std::string &k = kv.first.Scalar();
		if (!seen.insert(k).second)
			return fail(kv.first, path(k), "key given twice");
		if (std::find(known.begin(), known.end(), k) == known.end()) {
			std::string hint = didYouMean(k, known);
			return fail(kv.first, path(k),
				    hint.empty() ? fmt::format("unknown key (known keys: {})", fmt::join(known, ", "))
						 : fmt::format("unknown key; did you mean '{}'?", hint));
		}
	}
	return success();
}

// `kind:` (required), then every other key checked to be meant for that kind.
Result<void> Parser::kindKey(const YAML::Node &node, SamplerSpec &spec) const
{
	YAML::Node kindNode = node["kind"];
	if (!kindNode)
		return fail(node, path("kind"), fmt::format("required (one of {})", kindList(kAll)));
	{
		auto name = text(kindNode, path("kind"));
		XDC_TRY(name);
		auto k = samplerKindFromName(*name);
		if (!k)
			return fail(kindNode, path("kind"), k.error().message);
		spec.kind = *k;
	}
	const SamplerKind kind = spec.kind;
	const std::string kname(samplerKindName(kind));
	// A key of another kind is refused rather than ignored: `timeout` on a host sampler is a mistake to hear about.
	for (const auto &kv : node) {
		const std::string &k = kv.first.Scalar();
		for (const auto &ki : kKeys)
			if (ki.key == k && !(ki.kinds & bit(kind)))
				return fail(kv.first, path(k), fmt::format("{} does not apply to {} (it applies to {})", k,
									    kname, kindList(ki.kinds)));
	}
	return success();
}

// `on:` (required): the hosts to sample on, in the fault format's selector syntax.
Result<void> Parser::onKey(const YAML::Node &node, SamplerSpec &spec) const
{
	if (auto n = node["on"]) {
		auto r = fault::parseSelector(n, origin_, path("on"));
		XDC_TRY(r);
		if (r->empty())
			return fail(n, path("on"), "must select at least one host (dc, host, hosts or a label)");
		spec.on = *r;
		return success();
	}
	return fail(node, path("on"), "required: the hosts to sample on, e.g. {dc: dc1} or {host: dc1-h1}");
}

// How often: interval or rate, not both; the floor depends on what one observation costs.
Result<void> Parser::cadenceKeys(const YAML::Node &node, SamplerSpec &spec) const
{
	const SamplerKind kind = spec.kind;
	const std::string kname(samplerKindName(kind));
	YAML::Node intervalNode = node["interval"], rateNode = node["rate"];
	if (intervalNode && rateNode)
		return fail(rateNode, path("rate"), "give either interval or rate, not both");
	spec.interval = defaultInterval(kind);
	if (intervalNode) {
		auto r = duration(intervalNode, path("interval"));
		XDC_TRY(r);
		if (r->count() <= 0)
			return fail(intervalNode, path("interval"), "must be greater than 0");
		spec.interval = *r;
	} else if (rateNode) {
		auto r = rate(rateNode, path("rate"));
		XDC_TRY(r);
		spec.interval = *r;
	}
	const YAML::Node &at = intervalNode ? intervalNode : rateNode;
	const std::string key = intervalNode ? "interval" : "rate";
	const Nanos lo = minInterval(kind);
	if (spec.interval < lo)
		return fail(at, path(key),
			    fmt::format("{} {} is too often for {} (at most every {}, {})", key,
					intervalNode ? formatDuration(spec.interval) : rateNode.Scalar(), kname,
					formatDuration(lo), hz(lo)));
	if (spec.interval > kMaxInterval)
		return fail(at, path(key), fmt::format("{} {} is too rare (at least every {})", key,
						       intervalNode ? formatDuration(spec.interval) : rateNode.Scalar(),
						       formatDuration(kMaxInterval)));
	return success();
}

// `timeout:` of a probe or command, bounded by the interval so that observations never overlap.
Result<void> Parser::timeoutKey(const YAML::Node &node, SamplerSpec &spec) const
{
	const SamplerKind kind = spec.kind;
	if (!isProbe(kind) && kind != SamplerKind::Command)
		return success();
	// A probe's timeout defaults to its interval so that one slow answer never overlaps the next slot; a command
	// gets 5 s, or its interval when that is shorter.
	spec.timeout = isProbe(kind) ? spec.interval : std::min(kDefaultCommandTimeout, spec.interval);
	if (auto n = node["timeout"]) {
		auto r = duration(n, path("timeout"));
		XDC_TRY(r);
		if (r->count() <= 0)
			return fail(n, path("timeout"), "must be greater than 0");
		if (*r > spec.interval)
			return fail(n, path("timeout"),
				    fmt::format("timeout {} is longer than the interval {} (expected timeout <= "
						"interval, so observations do not overlap)",
						formatDuration(*r), formatDuration(spec.interval)));
		spec.timeout = *r;
	}
	return success();
}

// `target:` of a probe (required): HOST:PORT for probe.tcp, a URL for probe.http.
Result<void> Parser::targetKey(const YAML::Node &node, SamplerSpec &spec) const
{
	const SamplerKind kind = spec.kind;
	if (!isProbe(kind))
		return success();
	YAML::Node n = node["target"];
	if (!n)
		return fail(node, path("target"),
			    kind == SamplerKind::ProbeTcp
				    ? "required for probe.tcp: HOST:PORT, e.g. dc2-h1:7000 or 10.1.2.11:7000"
				    : "required for probe.http: an http:// or https:// URL, e.g. http://dc2-h1:8080/health");
	auto r = text(n, path("target"));
	XDC_TRY(r);
	if (kind == SamplerKind::ProbeTcp) {
		auto hp = splitHostPort(*r);
		if (!hp)
			return fail(n, path("target"), hp.error().message);
	} else {
		auto ok = checkUrl(*r);
		if (!ok)
			return fail(n, path("target"), ok.error().message);
	}
	spec.target = *r;
	return success();
}

// What an HTTP probe expects back (`expect_status`, `body_match`) and how it trusts TLS (`tls_insecure`, `ca_file`).
Result<void> Parser::httpKeys(const YAML::Node &node, SamplerSpec &spec) const
{
	if (auto n = node["expect_status"]) {
		int v = 0;
		const std::string s = n.IsScalar() ? n.Scalar() : std::string();
		auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
		if (s.empty() || ec != std::errc() || end != s.data() + s.size())
			return fail(n, path("expect_status"), fmt::format("expected an HTTP status code (100..599){}",
									  s.empty() ? "" : fmt::format(", got '{}'", s)));
		if (v < 100 || v > 599)
			return fail(n, path("expect_status"), fmt::format("{} is out of range (expected 100..599)", v));
		spec.expectStatus = v;
	}
	if (auto n = node["body_match"]) {
		auto r = regex(n, path("body_match"));
		XDC_TRY(r);
		spec.bodyMatch = *r;
	}
	const bool https = spec.target.rfind("https://", 0) == 0;
	YAML::Node insecureNode = node["tls_insecure"], caNode = node["ca_file"];
	if (insecureNode) {
		bool v = false;
		if (!insecureNode.IsScalar() || !YAML::convert<bool>::decode(insecureNode, v))
			return fail(insecureNode, path("tls_insecure"), "expected true or false");
		spec.tlsInsecure = v;
	}
	if (caNode) {
		auto r = text(caNode, path("ca_file"));
		XDC_TRY(r);
		if (r->front() != '/')
			return fail(caNode, path("ca_file"), fmt::format("'{}' is not an absolute path", *r));
		spec.caFile = *r;
	}
	if ((spec.tlsInsecure || caNode) && !https)
		return fail(spec.tlsInsecure ? insecureNode : caNode, path(spec.tlsInsecure ? "tls_insecure" : "ca_file"),
			    fmt::format("applies to https:// targets only (target is {})", spec.target));
	if (spec.tlsInsecure && caNode)
		return fail(caNode, path("ca_file"), "give either ca_file or tls_insecure: true, not both");
	return success();
}

// `match:` of a process sampler (required there): the fault format's process matcher.
Result<void> Parser::matchKey(const YAML::Node &node, SamplerSpec &spec) const
{
	if (auto n = node["match"]) {
		auto r = fault::parseProcessMatch(n, origin_, path("match"));
		XDC_TRY(r);
		spec.match = *r;
	} else if (spec.kind == SamplerKind::Process) {
		return fail(node, path("match"),
			    "required for process: one of name, cmdline, pidfile, cgroup, preset, e.g. {name: streams-pec}");
	}
	return success();
}

// `command:` (required for command): a name from the agent config, never a command line.
Result<void> Parser::commandKey(const YAML::Node &node, SamplerSpec &spec) const
{
	if (auto n = node["command"]) {
		auto r = text(n, path("command"));
		XDC_TRY(r);
		static const std::regex nameRe("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
		if (!std::regex_match(*r, nameRe))
			return fail(n, path("command"),
				    fmt::format("'{}' is not a command name (letters, digits, '.', '_', '-'; at most 64): "
						"name a command from the agent config's evidence.commands, never a command line",
						*r));
		spec.command = *r;
	} else if (spec.kind == SamplerKind::Command) {
		return fail(node, path("command"),
			    "required for command: a name from the agent config's evidence.commands, e.g. streams-ping");
	}
	return success();
}

// `disks:` of a host sampler: distinct absolute paths, a bounded number of them.
Result<void> Parser::disksKey(const YAML::Node &node, SamplerSpec &spec) const
{
	auto n = node["disks"];
	if (!n)
		return success();
	if (!n.IsSequence() || n.size() == 0)
		return fail(n, path("disks"), "expected a non-empty list of absolute paths such as [/, /var]");
	if (n.size() > kMaxDisks)
		return fail(n, path("disks"), fmt::format("at most {} paths", kMaxDisks));
	spec.disks.clear();
	for (size_t i = 0; i < n.size(); i++) {
		const std::string kp = fmt::format("{}[{}]", path("disks"), i);
		auto r = text(n[i], kp);
		XDC_TRY(r);
		if (r->front() != '/')
			return fail(n[i], kp, fmt::format("'{}' is not an absolute path", *r));
		if (std::find(spec.disks.begin(), spec.disks.end(), *r) != spec.disks.end())
			return fail(n[i], kp, fmt::format("'{}' is listed twice", *r));
		spec.disks.push_back(*r);
	}
	return success();
}

// `name:`, or the default name built from the rest of the spec.
Result<void> Parser::nameKey(const YAML::Node &node, SamplerSpec &spec) const
{
	if (auto n = node["name"]) {
		auto r = text(n, path("name"));
		XDC_TRY(r);
		// Names end up in reports, metric names and scenario assertions: printable, one line, bounded.
		if (r->size() > kMaxNameLength ||
		    std::any_of(r->begin(), r->end(), [](unsigned char c) { return c < ' ' || c == 0x7f; }))
			return fail(n, path("name"), fmt::format("a name is at most {} printable characters", kMaxNameLength));
		spec.name = *r;
	} else {
		spec.name = defaultName(spec);
	}
	return success();
}

} // namespace

std::string_view samplerKindName(SamplerKind k)
{
	switch (k) {
	case SamplerKind::Host: return "host";
	case SamplerKind::Process: return "process";
	case SamplerKind::ProbeTcp: return "probe.tcp";
	case SamplerKind::ProbeHttp: return "probe.http";
	case SamplerKind::Command: return "command";
	case SamplerKind::Log: return "log";
	case SamplerKind::File: return "file";
	}
	return "?";
}

Result<SamplerKind> samplerKindFromName(std::string_view name)
{
	std::vector<std::string> names;
	for (auto k : kKinds) {
		if (samplerKindName(k) == name)
			return k;
		names.emplace_back(samplerKindName(k));
	}
	std::string hint = didYouMean(std::string(name), names);
	return makeError(Errc::Invalid, "unknown sampler kind '{}'{} (known kinds: {})", name,
			 hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint), fmt::join(names, ", "));
}

Result<SamplerSpec> parseSamplerSpec(const YAML::Node &node, const std::string &origin, const std::string &keyPath)
{
	// yaml-cpp can throw from node accessors; nothing may escape as an exception.
	try {
		return Parser(origin, keyPath).run(node);
	} catch (const std::exception &e) {
		return makeError(Errc::Invalid, "{}: {}: invalid sampler spec: {}", origin,
				 keyPath.empty() ? "(top level)" : keyPath, e.what());
	}
}

Result<SamplerSpec> parseSamplerText(const std::string &text, const std::string &origin)
{
	if (text.size() > kMaxSpecBytes)
		return makeError(Errc::Invalid, "{}: (top level): the sampler spec is {} bytes; the limit is {} bytes",
				 origin, text.size(), kMaxSpecBytes);
	auto node = parseYaml(text, origin, kMaxSpecBytes);
	if (!node)
		return node.error();
	return parseSamplerSpec(*node, origin, "");
}

std::string defaultName(const SamplerSpec &s)
{
	const std::string kind(samplerKindName(s.kind));
	switch (s.kind) {
	case SamplerKind::Host: return kind;
	case SamplerKind::ProbeTcp:
	case SamplerKind::ProbeHttp: return kind + ":" + s.target;
	case SamplerKind::Command: return kind + ":" + s.command;
	case SamplerKind::Log:
	case SamplerKind::File: return kind + ":" + s.source;
	case SamplerKind::Process: {
		const auto &m = s.match;
		if (!m.name.empty())
			return kind + ":name " + m.name;
		if (!m.cmdline.empty())
			return kind + ":cmdline " + m.cmdline.substr(0, 100);
		if (!m.pidfile.empty())
			return kind + ":pidfile " + m.pidfile;
		if (!m.cgroup.empty())
			return kind + ":cgroup " + m.cgroup;
		if (!m.preset.empty())
			return kind + ":preset " + m.preset;
		return kind;
	}
	}
	return kind;
}

std::string toYaml(const SamplerSpec &s)
{
	const SamplerKind kind = s.kind;
	YAML::Emitter e;
	e << YAML::Flow << YAML::BeginMap;
	e << YAML::Key << "name" << YAML::Value << (s.name.empty() ? defaultName(s) : s.name);
	e << YAML::Key << "kind" << YAML::Value << std::string(samplerKindName(kind));
	e << YAML::Key << "on" << YAML::Value;
	fault::emitSelector(e, s.on);
	e << YAML::Key << "interval" << YAML::Value << formatDuration(s.interval);
	if (isProbe(kind) || kind == SamplerKind::Command)
		e << YAML::Key << "timeout" << YAML::Value << formatDuration(s.timeout);
	if (isProbe(kind))
		e << YAML::Key << "target" << YAML::Value << s.target;
	if (kind == SamplerKind::ProbeHttp) {
		if (s.expectStatus != 0)
			e << YAML::Key << "expect_status" << YAML::Value << s.expectStatus;
		if (!s.bodyMatch.empty())
			e << YAML::Key << "body_match" << YAML::Value << s.bodyMatch;
		if (s.tlsInsecure)
			e << YAML::Key << "tls_insecure" << YAML::Value << true;
		if (!s.caFile.empty())
			e << YAML::Key << "ca_file" << YAML::Value << s.caFile;
	}
	if (kind == SamplerKind::Process) {
		e << YAML::Key << "match" << YAML::Value;
		fault::emitProcessMatch(e, s.match);
	}
	if (kind == SamplerKind::Log && !s.lineMatch.empty())
		e << YAML::Key << "match" << YAML::Value << s.lineMatch;
	if (kind == SamplerKind::Command)
		e << YAML::Key << "command" << YAML::Value << s.command;
	if (kind == SamplerKind::Log || kind == SamplerKind::File)
		e << YAML::Key << "source" << YAML::Value << s.source;
	if (kind == SamplerKind::Host) {
		e << YAML::Key << "disks" << YAML::Value << YAML::BeginSeq;
		for (const auto &d : s.disks)
			e << d;
		e << YAML::EndSeq;
	}
	e << YAML::EndMap;
	return e.c_str();
}

Result<HostPort> splitHostPort(const std::string &target)
{
	if (target.empty())
		return makeError(Errc::Invalid, "empty target (expected HOST:PORT, e.g. dc2-h1:7000)");
	if (target.find('/') != std::string::npos)
		return makeError(Errc::Invalid, "'{}' is not HOST:PORT (a URL belongs to probe.http)", target);
	return splitAuthority(target, true);
}

} // namespace xdc::evidence
