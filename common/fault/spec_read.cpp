// SPDX-License-Identifier: Apache-2.0
// The fault spec's value readers (spec_parser.h): every message names origin:line:column and the key path.
#include "common/fault/spec_parser.h"

#include <arpa/inet.h>

#include <algorithm>
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

namespace xdc::fault::detail {

std::string kindList(KindSet set)
{
	std::vector<std::string_view> names;
	for (const auto &k : kKinds)
		if (set & bit(k.kind))
			names.push_back(k.name);
	return fmt::format("{}", fmt::join(names, ", "));
}

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

} // namespace xdc::fault::detail
