// SPDX-License-Identifier: Apache-2.0
// Fault specs: the kinds, the entry points of the parser (spec_parser.h, keys.cpp, spec_read.cpp), rates and sizes,
// and printing (the format is documented in docs/FAULTS.md).
#include "common/fault/spec.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "common/duration.h"
#include "common/fault/spec_parser.h"
#include "common/yaml_reader.h"

namespace xdc::fault {

namespace detail {

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

} // namespace detail

using namespace detail;

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
	YAML::Emitter e;
	e << YAML::Flow << YAML::BeginMap;
	for (const auto &d : keyDecls())
		if (d.kinds & bit(spec.kind))
			d.print(e, spec);
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