// SPDX-License-Identifier: Apache-2.0
// Builds and removes a lab's namespaces, bridges, veths, addresses and routes with iproute2.
#include "controller/lab/topology.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/chrono.h>
#include <fmt/ranges.h>

#include "common/log.h"
#include "common/sys/process.h"

namespace xdc::lab {

namespace {

constexpr int kMaxDcs = 9;
constexpr int kMaxHostsPerDc = 50;
// Management addresses are 10.B.0.(10+i) in one /24, so .11 to .254.
constexpr int kMaxHosts = 244;
constexpr int kSubnetFirst = 200;
constexpr int kSubnetLast = 250;
constexpr size_t kMaxNameLen = 20;
constexpr size_t kIfNameMax = 15; // IFNAMSIZ - 1
// Serialises builds and removals across processes: subnet choice reads the host's addresses, and two builds
// reading before either adds its address would pick the same B. Host-wide on purpose, whatever XDC_LAB_ROOT says,
// because subnets and the host veth are host-wide.
constexpr const char *kLockPath = "/run/xdc/lab-network.lock";
// Peer of the host veth inside <N>_mgmt.
constexpr const char *kMgmtUplink = "host";

std::shared_ptr<spdlog::logger> logger() { return log::get("lab"); }

uint32_t fnv1a(std::string_view s)
{
	uint32_t h = 2166136261u;
	for (unsigned char c : s) {
		h ^= c;
		h *= 16777619u;
	}
	return h;
}

std::vector<std::string> splitWords(std::string_view line)
{
	std::vector<std::string> words;
	std::istringstream in{std::string(line)};
	std::string w;
	while (in >> w)
		words.push_back(w);
	return words;
}

std::vector<std::string_view> splitLines(std::string_view text)
{
	std::vector<std::string_view> lines;
	while (!text.empty()) {
		size_t nl = text.find('\n');
		lines.push_back(text.substr(0, nl));
		if (nl == std::string_view::npos)
			break;
		text.remove_prefix(nl + 1);
	}
	return lines;
}

// "a.b.c.d" or "a.b.c.d/len"; a bare address is a /32.
std::optional<Ipv4Prefix> parsePrefix(std::string_view s)
{
	Ipv4Prefix p;
	p.len = 32;
	if (size_t slash = s.find('/'); slash != std::string_view::npos) {
		auto lenText = s.substr(slash + 1);
		auto [ptr, ec] = std::from_chars(lenText.data(), lenText.data() + lenText.size(), p.len);
		if (ec != std::errc() || ptr != lenText.data() + lenText.size() || p.len < 0 || p.len > 32)
			return std::nullopt;
		s = s.substr(0, slash);
	}
	const char *cur = s.data();
	const char *end = s.data() + s.size();
	for (int i = 0; i < 4; i++) {
		unsigned octet = 0;
		auto [ptr, ec] = std::from_chars(cur, end, octet);
		if (ec != std::errc() || octet > 255)
			return std::nullopt;
		p.addr = (p.addr << 8) | octet;
		cur = ptr;
		if (i < 3) {
			if (cur == end || *cur != '.')
				return std::nullopt;
			cur++;
		}
	}
	if (cur != end)
		return std::nullopt;
	return p;
}

bool overlaps(const Ipv4Prefix &a, const Ipv4Prefix &b)
{
	int len = std::min(a.len, b.len);
	uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
	return ((a.addr ^ b.addr) & mask) == 0;
}

Result<void> ip(const std::vector<std::string> &args, const std::string &netns = "")
{
	std::vector<std::string> argv{"ip"};
	if (!netns.empty()) {
		argv.push_back("-n");
		argv.push_back(netns);
	}
	argv.insert(argv.end(), args.begin(), args.end());
	logger()->debug("{}", sys::describe(argv));
	XDC_TRY(sys::runChecked(argv));
	return success();
}

// Many changes to one namespace in one process: a lab of 450 hosts would otherwise fork thousands of times.
Result<void> ipBatch(const std::string &netns, const std::vector<std::string> &lines)
{
	std::string input;
	for (const auto &l : lines)
		input += l + "\n";
	std::vector<std::string> argv{"ip"};
	if (!netns.empty()) {
		argv.push_back("-n");
		argv.push_back(netns);
	}
	argv.insert(argv.end(), {"-batch", "-"});
	logger()->debug("{} <<< {}", sys::describe(argv), fmt::join(lines, "; "));
	sys::RunOptions opts;
	opts.input = input;
	auto out = sys::run(argv, opts);
	if (!out)
		return out.error();
	if (!out->ok()) {
		// ip reports "Command failed -:<line>"; name the command itself, that is what a reader needs.
		std::string err = out->err;
		size_t at = err.find("Command failed -:");
		if (at != std::string::npos) {
			int line = std::atoi(err.c_str() + at + std::strlen("Command failed -:"));
			if (line >= 1 && static_cast<size_t>(line) <= lines.size())
				err = err.substr(0, at) + "in 'ip " + lines[static_cast<size_t>(line) - 1] + "'";
		}
		while (!err.empty() && (err.back() == '\n' || err.back() == ' '))
			err.pop_back();
		return makeError(Errc::Io, "ip{} failed: {}", netns.empty() ? "" : " in netns " + netns, err);
	}
	return success();
}

Result<std::vector<std::string>> listNetns()
{
	auto out = sys::runChecked({"ip", "netns", "list"});
	if (!out)
		return out.error();
	std::vector<std::string> names;
	for (auto line : splitLines(out->out)) {
		auto words = splitWords(line);
		if (!words.empty())
			names.push_back(words[0]);
	}
	return names;
}

std::vector<std::string> labNetns(const std::vector<std::string> &all, std::string_view lab)
{
	const std::string prefix = std::string(lab) + "_";
	std::vector<std::string> mine;
	for (const auto &n : all)
		if (n.starts_with(prefix))
			mine.push_back(n);
	return mine;
}

// `ip -o link show DEV` output, or nullopt when there is no such device.
std::optional<std::string> hostLink(const std::string &dev)
{
	auto out = sys::run({"ip", "-o", "link", "show", "dev", dev});
	if (!out || !out->ok())
		return std::nullopt;
	return out->out;
}

bool containsWord(std::string_view text, std::string_view a, std::string_view b)
{
	auto words = splitWords(text);
	for (size_t i = 0; i + 1 < words.size(); i++)
		if (words[i] == a && words[i + 1] == b)
			return true;
	return false;
}

class NetworkLock {
public:
	NetworkLock() = default;
	NetworkLock(const NetworkLock &) = delete;
	NetworkLock &operator=(const NetworkLock &) = delete;
	~NetworkLock()
	{
		if (fd_ >= 0)
			::close(fd_); // releases the flock
	}

	Result<void> acquire()
	{
		std::error_code ec;
		std::filesystem::create_directories(std::filesystem::path(kLockPath).parent_path(), ec);
		fd_ = ::open(kLockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd_ < 0)
			return makeError(Errc::Io, "cannot open {}: {}", kLockPath, strerror(errno));
		if (::flock(fd_, LOCK_EX | LOCK_NB) == 0)
			return success();
		logger()->info("waiting for another lab build or removal to finish ({})", kLockPath);
		// Blocking is bounded: the holder only runs ip commands, each with a deadline.
		while (::flock(fd_, LOCK_EX) != 0)
			if (errno != EINTR)
				return makeError(Errc::Io, "cannot lock {}: {}", kLockPath, strerror(errno));
		return success();
	}

private:
	int fd_ = -1;
};

Result<int> pickSubnet(const std::string &lab)
{
	auto routes = sys::runChecked({"ip", "-4", "route", "show", "table", "all"});
	if (!routes)
		return routes.error().context("Failed to read host routes");
	auto addrs = sys::runChecked({"ip", "-4", "-o", "addr", "show"});
	if (!addrs)
		return addrs.error().context("Failed to read host addresses");
	auto inUse = parseRoutePrefixes(routes->out);
	auto more = parseAddrPrefixes(addrs->out);
	inUse.insert(inUse.end(), more.begin(), more.end());
	std::set<int> taken;
	for (const auto &other : listLabs()) {
		if (other == lab)
			continue; // a stale record of this very lab is about to be replaced
		if (auto s = loadLab(other); s && s->subnet)
			taken.insert(s->subnet);
	}
	return chooseSubnet(lab, inUse, taken);
}

std::string nowIso()
{
	auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
	return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(now));
}

std::string bridgeLine(const std::string &name)
{
	// No STP and no forward delay so ports forward as soon as they are up; no multicast snooping so IPv6 neighbour
	// discovery never waits for a querier that the lab does not run.
	return fmt::format("link add {} type bridge forward_delay 0 stp_state 0 mcast_snooping 0", name);
}

Result<void> createNetns(LabState &state, const std::string &netns)
{
	XDC_TRY(ip({"netns", "add", netns}));
	state.namespaces.push_back(netns);
	XDC_TRY(state.save());
	return ip({"link", "set", "lo", "up"}, netns);
}

// A veth delivers a frame by running the receiving side's whole stack at once, in the sender's context: without this,
// a packet a lab host sends is bridged, routed and handled by the peer host's TCP inside the sending process's system
// call, and this work is charged to it (kernels without IRQ time accounting cannot tell it apart). On a real network
// the router and the peer are other machines. So the WAN side of each host's link receives through NAPI (GRO on)
// in a kernel thread of its own (threaded NAPI), and the host's eth0 sends without TSO (a TSO-capable sender's TCP
// frames would bypass the veth's NAPI): from the WAN on, the work is the kernel threads' `napi/HOST-N`, not the
// sender's. The mgmt network is left as it is: it carries two small frames a second per agent.
Result<void> wanReceiveThreads(const LabState &state, const std::string &wan)
{
	const auto need = [](Result<sys::RunOutput> r, const std::string &what) -> Result<void> {
		if (!r)
			return makeError(Errc::Unsupported, "lab: {}: {} (the lab needs ethtool: apt-get install ethtool)",
					 what, r.error().message);
		return success();
	};
	std::vector<std::string> teeArgs{"ip", "netns", "exec", wan, "tee"};
	for (const auto &h : state.hosts) {
		sys::RunOptions inHost;
		inHost.netns = h.netns;
		XDC_TRY(need(sys::runChecked({"ethtool", "-K", "eth0", "tso", "off"}, inHost),
			     fmt::format("{}: eth0 without TSO", h.name)));
		sys::RunOptions inWan;
		inWan.netns = wan;
		XDC_TRY(need(sys::runChecked({"ethtool", "-K", h.name, "gro", "on"}, inWan),
			     fmt::format("WAN port {}: GRO (NAPI) on", h.name)));
		// sysfs shows the devices of the namespace it was mounted in: `ip netns exec` mounts the WAN's.
		teeArgs.push_back(fmt::format("/sys/class/net/{}/threaded", h.name));
	}
	if (state.hosts.empty())
		return success();
	sys::RunOptions one;
	one.input = "1\n";
	const auto r = sys::runChecked(teeArgs, one);
	if (!r)
		return makeError(Errc::Unsupported, "lab: threaded NAPI on the WAN ports: {}", r.error().message);
	return success();
}

// The steps of buildNetwork(); the record is saved after each created object so removal can find it.
Result<void> build(LabState &state)
{
	const std::string &lab = state.name;
	const int b = state.subnet;
	const std::string wan = wanNetns(lab);
	const std::string mgmt = mgmtNetns(lab);
	XDC_TRY(state.save());

	XDC_TRY(createNetns(state, mgmt));
	XDC_TRY(ipBatch(mgmt, {bridgeLine("br0"), "link set br0 up"}));

	// Created with its peer already in the mgmt netns: no temporary interface ever appears in the host.
	const std::string veth = hostVethName(lab);
	XDC_TRY(ip({"link", "add", veth, "type", "veth", "peer", "name", kMgmtUplink, "netns", mgmt}));
	state.hostVeth = veth;
	XDC_TRY(state.save());
	XDC_TRY(ipBatch(mgmt, {
		fmt::format("link set {} master br0", kMgmtUplink),
		fmt::format("link set {} up", kMgmtUplink),
	}));
	XDC_TRY(ipBatch("", {
		fmt::format("addr add {}/24 dev {}", controllerAddress4(b), veth),
		fmt::format("link set {} up", veth),
	}));

	XDC_TRY(createNetns(state, wan));
	std::vector<std::string> wanLines;
	for (int d = 1; d <= state.dcs; d++) {
		const std::string br = fmt::format("dc{}", d);
		wanLines.push_back(bridgeLine(br));
		wanLines.push_back(fmt::format("link set {} up", br));
		wanLines.push_back(fmt::format("addr add {}/24 dev {}", gatewayAddress4(b, d), br));
		wanLines.push_back(fmt::format("addr add {}/64 dev {} nodad", gatewayAddress6(b, d), br));
	}
	XDC_TRY(ipBatch(wan, wanLines));
	// Per-netns sysctls: run inside the WAN namespace, the host's own forwarding settings stay untouched.
	sys::RunOptions inWan;
	inWan.netns = wan;
	XDC_TRY(sys::runChecked({"sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"},
				inWan));
	// Bridged lab frames skip iptables/ip6tables/arptables (when br_netfilter is loaded on this machine, by docker
	// for instance): nothing in the lab filters on its bridges, and the hooks double the per-packet cost that a
	// 100 Hz probe's agent pays. Per-netns keys; -e: absent without br_netfilter.
	for (const std::string &ns : {wan, mgmt}) {
		sys::RunOptions in;
		in.netns = ns;
		XDC_TRY(sys::runChecked({"sysctl", "-q", "-e", "-w", "net.bridge.bridge-nf-call-iptables=0",
					 "net.bridge.bridge-nf-call-ip6tables=0", "net.bridge.bridge-nf-call-arptables=0"},
					in));
	}

	std::vector<std::string> wanPorts, mgmtPorts;
	for (const auto &h : state.hosts) {
		XDC_TRY(createNetns(state, h.netns));
		// Peers are named after the host: unique inside the wan and mgmt namespaces, and at most 7 characters.
		XDC_TRY(ipBatch(h.netns, {
			fmt::format("link add eth0 type veth peer name {} netns {}", h.name, wan),
			fmt::format("link add mgmt0 type veth peer name {} netns {}", h.name, mgmt),
			fmt::format("addr add {}/24 dev eth0", h.data4),
			// nodad: usable at once, not after duplicate address detection; the lab's addresses are unique.
			fmt::format("addr add {}/64 dev eth0 nodad", h.data6),
			fmt::format("addr add {}/24 dev mgmt0", h.mgmt4),
			"link set eth0 up",
			"link set mgmt0 up",
			fmt::format("route add default via {} dev eth0", gatewayAddress4(b, h.dc)),
			fmt::format("route add ::/0 via {} dev eth0", gatewayAddress6(b, h.dc)),
		}));
		wanPorts.push_back(fmt::format("link set {} master dc{}", h.name, h.dc));
		wanPorts.push_back(fmt::format("link set {} up", h.name));
		mgmtPorts.push_back(fmt::format("link set {} master br0", h.name));
		mgmtPorts.push_back(fmt::format("link set {} up", h.name));
	}
	XDC_TRY(ipBatch(wan, wanPorts));
	XDC_TRY(ipBatch(mgmt, mgmtPorts));
	XDC_TRY(wanReceiveThreads(state, wan));
	return success();
}

Result<void> destroyLocked(const LabState &state)
{
	XDC_TRY(validateLabName(state.name));
	const std::string mgmt = mgmtNetns(state.name);
	std::vector<std::string> failures;

	// The host veth first: deleting it is synchronous, while a deleted netns takes its veths down in the background.
	// Only ours is deleted: its peer is in our mgmt netns. A same-named veth elsewhere is someone else's.
	for (const auto &veth : {state.hostVeth, hostVethName(state.name)}) {
		if (veth.empty())
			continue;
		auto link = hostLink(veth);
		if (!link)
			continue;
		if (!containsWord(*link, "link-netns", mgmt)) {
			logger()->warn("leaving host interface {}: its peer is not in netns {}", veth, mgmt);
			continue;
		}
		if (auto r = ip({"link", "del", "dev", veth}); !r && hostLink(veth))
			failures.push_back(r.error().message);
	}

	auto all = listNetns();
	if (!all)
		return all.error().context(fmt::format("Failed to remove lab '{}'", state.name));
	std::vector<std::string> doomed = labNetns(*all, state.name);
	for (const auto &ns : state.namespaces)
		if (std::find(all->begin(), all->end(), ns) != all->end() &&
		    std::find(doomed.begin(), doomed.end(), ns) == doomed.end())
			doomed.push_back(ns);
	for (const auto &ns : doomed) {
		if (auto r = ip({"netns", "del", ns}); !r) {
			auto now = listNetns();
			if (!now || std::find(now->begin(), now->end(), ns) != now->end())
				failures.push_back(r.error().message);
		}
	}
	if (!failures.empty())
		return makeError(Errc::Io, "Failed to remove lab '{}': {}", state.name, fmt::join(failures, "; "));
	logger()->info("removed the network of lab '{}' ({} namespaces)", state.name, doomed.size());
	return success();
}

} // namespace

Result<void> validateLabName(std::string_view name)
{
	auto bad = [&](std::string_view why) {
		return makeError(Errc::Invalid,
				 "invalid lab name '{}': {}; use 1 to 20 characters: a lowercase letter, then lowercase "
				 "letters, digits or '-'", name, why);
	};
	if (name.empty())
		return bad("empty");
	if (name.size() > kMaxNameLen)
		return bad("too long");
	if (name[0] < 'a' || name[0] > 'z')
		return bad("must start with a lowercase letter");
	for (char c : name)
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return bad(fmt::format("character '{}' is not allowed", c));
	return success();
}

Result<void> validateSpec(const LabSpec &spec)
{
	XDC_TRY(validateLabName(spec.name));
	if (spec.dcs < 1 || spec.dcs > kMaxDcs)
		return makeError(Errc::Invalid, "a lab has 1 to {} datacenters, not {}", kMaxDcs, spec.dcs);
	if (spec.hostsPerDc < 1 || spec.hostsPerDc > kMaxHostsPerDc)
		return makeError(Errc::Invalid, "a datacenter has 1 to {} hosts, not {}", kMaxHostsPerDc, spec.hostsPerDc);
	if (spec.dcs * spec.hostsPerDc > kMaxHosts)
		return makeError(Errc::Invalid, "a lab has at most {} hosts (one management /24), not {} x {}", kMaxHosts,
				 spec.dcs, spec.hostsPerDc);
	return success();
}

std::string hostName(int dc, int host) { return fmt::format("dc{}-h{}", dc, host); }

std::string netnsName(std::string_view lab, std::string_view suffix) { return fmt::format("{}_{}", lab, suffix); }

std::string wanNetns(std::string_view lab) { return netnsName(lab, "wan"); }

std::string mgmtNetns(std::string_view lab) { return netnsName(lab, "mgmt"); }

std::string hostVethName(std::string_view lab)
{
	std::string plain = fmt::format("xm-{}", lab);
	if (plain.size() <= kIfNameMax)
		return plain;
	// The hash keeps long names with a common start apart; 7 + 4 hex fills the 15 characters exactly.
	return fmt::format("xm-{}-{:04x}", lab.substr(0, 7), fnv1a(lab) & 0xffff);
}

std::string dataAddress4(int subnet, int dc, int host) { return fmt::format("10.{}.{}.{}", subnet, dc, 10 + host); }

std::string dataAddress6(int subnet, int dc, int host)
{
	// The last group repeats the IPv4 octet's decimal digits, so 10.B.1.11 pairs with fd78:..:1::11.
	return fmt::format("fd78:{:x}:{}::{}", subnet, dc, 10 + host);
}

std::string gatewayAddress4(int subnet, int dc) { return fmt::format("10.{}.{}.1", subnet, dc); }

std::string gatewayAddress6(int subnet, int dc) { return fmt::format("fd78:{:x}:{}::1", subnet, dc); }

std::string mgmtAddress4(int subnet, int index) { return fmt::format("10.{}.0.{}", subnet, 10 + index); }

std::string controllerAddress4(int subnet) { return fmt::format("10.{}.0.1", subnet); }

std::string hostNetns(const LabState &state, const std::string &host)
{
	for (const auto &h : state.hosts)
		if (h.name == host)
			return h.netns;
	return "";
}

LabState planLab(const LabSpec &spec, int subnet)
{
	LabState s;
	s.name = spec.name;
	s.subnet = subnet;
	s.dcs = spec.dcs;
	s.hostsPerDc = spec.hostsPerDc;
	int index = 0;
	for (int d = 1; d <= spec.dcs; d++) {
		for (int h = 1; h <= spec.hostsPerDc; h++) {
			HostInfo host;
			host.name = hostName(d, h);
			host.dc = d;
			host.index = ++index;
			host.netns = netnsName(spec.name, host.name);
			host.data4 = dataAddress4(subnet, d, h);
			host.data6 = dataAddress6(subnet, d, h);
			host.mgmt4 = mgmtAddress4(subnet, host.index);
			s.hosts.push_back(std::move(host));
		}
	}
	return s;
}

std::vector<Ipv4Prefix> parseRoutePrefixes(std::string_view text)
{
	static const std::set<std::string, std::less<>> types{"unicast", "local", "broadcast", "multicast", "anycast",
							       "unreachable", "blackhole", "prohibit", "throw", "nat"};
	std::vector<Ipv4Prefix> out;
	for (auto line : splitLines(text)) {
		auto words = splitWords(line);
		size_t i = 0;
		if (i < words.size() && types.contains(words[i]))
			i++;
		if (i >= words.size() || words[i] == "default")
			continue;
		if (auto p = parsePrefix(words[i]); p && p->len > 0)
			out.push_back(*p);
	}
	return out;
}

std::vector<Ipv4Prefix> parseAddrPrefixes(std::string_view text)
{
	std::vector<Ipv4Prefix> out;
	for (auto line : splitLines(text)) {
		auto words = splitWords(line);
		for (size_t i = 0; i + 1 < words.size(); i++)
			if (words[i] == "inet")
				if (auto p = parsePrefix(words[i + 1]); p && p->len > 0)
					out.push_back(*p);
	}
	return out;
}

Result<int> chooseSubnet(std::string_view lab, const std::vector<Ipv4Prefix> &inUse, const std::set<int> &takenByLabs)
{
	constexpr int count = kSubnetLast - kSubnetFirst + 1;
	const int start = static_cast<int>(fnv1a(lab) % count);
	for (int k = 0; k < count; k++) {
		int b = kSubnetFirst + (start + k) % count;
		if (takenByLabs.contains(b))
			continue;
		Ipv4Prefix ours{(10u << 24) | (static_cast<uint32_t>(b) << 16), 16};
		if (std::none_of(inUse.begin(), inUse.end(), [&](const Ipv4Prefix &p) { return overlaps(p, ours); }))
			return b;
	}
	return makeError(Errc::Exists, "no free subnet for lab '{}': every 10.B.0.0/16 with B in {}..{} overlaps a host "
			 "route or address or another lab", lab, kSubnetFirst, kSubnetLast);
}

Result<LabState> buildNetwork(const LabSpec &spec)
{
	XDC_TRY(validateSpec(spec));
	NetworkLock lock;
	XDC_TRY(lock.acquire());

	auto all = listNetns();
	if (!all)
		return all.error().context(fmt::format("Failed to build lab '{}'", spec.name));
	if (!labNetns(*all, spec.name).empty() || hostLink(hostVethName(spec.name))) {
		bool recorded = loadLab(spec.name).ok();
		return makeError(Errc::Exists, "lab '{}' is already up{}; run `xdc lab down --name {}` first", spec.name,
				 recorded ? "" : " (or left over without a record)", spec.name);
	}
	auto subnet = pickSubnet(spec.name);
	if (!subnet)
		return subnet.error();

	LabState state = planLab(spec, *subnet);
	state.created = nowIso();
	logger()->info("building lab '{}': {} datacenters x {} hosts on 10.{}.0.0/16", spec.name, spec.dcs,
		       spec.hostsPerDc, *subnet);
	if (auto r = build(state); !r) {
		if (auto d = destroyLocked(state); !d)
			logger()->error("{}", d.error().message);
		if (auto d = removeLabState(state.name); !d)
			logger()->error("{}", d.error().message);
		return r.error().context(fmt::format("Failed to build lab '{}'", spec.name));
	}
	logger()->info("lab '{}' network is up: {} namespaces, host interface {} with {}/24", spec.name,
		       state.namespaces.size(), state.hostVeth, controllerAddress4(*subnet));
	return state;
}

Result<void> destroyNetwork(const LabState &state)
{
	NetworkLock lock;
	XDC_TRY(lock.acquire());
	return destroyLocked(state);
}

} // namespace xdc::lab
