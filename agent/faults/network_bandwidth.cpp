// SPDX-License-Identifier: Apache-2.0
// network.bandwidth with tc htb, u32 filters and an IFB device for inbound traffic.
#include "agent/faults/network_bandwidth.h"

#include <cmath>
#include <net/if.h>
#include <set>

#include "agent/faults/network_partition.h"
#include "agent/faults/undo.h"
#include "common/sys/process.h"

namespace xdc::agent {

namespace {

std::string withPrefix(const std::string &c)
{
	if (c.find('/') != std::string::npos)
		return c;
	return c + (isV6(c) ? "/128" : "/32");
}

// Interfaces of this network namespace (netlink, so the namespace the agent runs in, whatever /sys shows).
std::vector<std::string> links()
{
	std::vector<std::string> out;
	if (struct if_nameindex *ni = ::if_nameindex()) {
		for (auto *i = ni; i->if_index != 0 && i->if_name; i++)
			out.emplace_back(i->if_name);
		::if_freenameindex(ni);
	}
	return out;
}

size_t count(const std::string &text, const std::string &what)
{
	size_t n = 0;
	for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + what.size()))
		n++;
	return n;
}

Result<std::string> show(const std::vector<std::string> &argv)
{
	auto r = sys::runChecked(argv);
	if (!r)
		return r.error();
	return r->out;
}

} // namespace

NetworkBandwidth::NetworkBandwidth(std::string id, BandwidthParams p) : id_(std::move(id)), p_(std::move(p)) {}

Result<void> NetworkBandwidth::validate(const BandwidthParams &p)
{
	if (p.peers.empty())
		return makeError(Errc::Invalid, "peers: no peer addresses (the peer selector matched no host)");
	for (const auto &c : p.peers)
		if (!validCidr(c))
			return makeError(Errc::Invalid, "peers: '{}' is not an IPv4/IPv6 address or CIDR", c);
	if (p.direction != "both" && p.direction != "in" && p.direction != "out")
		return makeError(Errc::Invalid, "direction: '{}' (expected both, in or out)", p.direction);
	if (p.rateBitsPerSec == 0)
		return makeError(Errc::Invalid, "rate: must be greater than 0");
	if (p.protocol != "all" && p.protocol != "tcp" && p.protocol != "udp" && p.protocol != "icmp")
		return makeError(Errc::Invalid, "protocol: '{}' (expected all, tcp, udp or icmp)", p.protocol);
	if (!p.ports.empty() && p.protocol != "tcp" && p.protocol != "udp")
		return makeError(Errc::Invalid, "ports: only with protocol tcp or udp");
	return success();
}

Result<void> NetworkBandwidth::prepare()
{
	XDC_TRY(validate(p_));
	// The control channel must never be shaped; without knowing its interface nothing is safe to shape.
	if (p_.mgmtIface.empty())
		return makeError(Errc::Unsupported, "kind: network.bandwidth: the agent cannot tell which interface "
				 "reaches the controller, so it cannot keep that interface unshaped");
	const auto all = links();
	ifaces_.clear();
	for (const auto &l : all) {
		if (l == "lo" || l == p_.mgmtIface || l.rfind("xdcifb", 0) == 0 || l.rfind("ifb", 0) == 0)
			continue;
		ifaces_.push_back(l);
	}
	if (ifaces_.empty())
		return makeError(Errc::Unsupported, "kind: network.bandwidth: no data interface to shape (only lo and "
				 "the management interface {})", p_.mgmtIface);
	// Our qdiscs are added, never replaced: another fault's (or the operator's) root or ingress qdisc is refused
	// here, before anything changes, so a failed apply can only ever remove what it added.
	for (const auto &d : ifaces_) {
		auto q = show({"tc", "qdisc", "show", "dev", d});
		if (!q)
			return q.error().context("tc qdisc show");
		if (q->find(" dc01: root") != std::string::npos)
			return makeError(Errc::Refused, "kind: {} already has an xdc root qdisc (dc01:), another fault "
					 "of ours shapes it", d);
		if (in() && q->find("qdisc ingress ffff:") != std::string::npos)
			return makeError(Errc::Refused, "direction: {} already has an ingress qdisc; inbound shaping "
					 "would replace it", d);
	}
	if (in()) {
		const std::set<std::string> taken(all.begin(), all.end());
		for (int n = 0; n < 1000 && ifb_.empty(); n++)
			if (!taken.count("xdcifb" + std::to_string(n)))
				ifb_ = "xdcifb" + std::to_string(n);
	}
	return success();
}

std::string NetworkBandwidth::mechanism() const
{
	std::string m;
	if (out())
		m = fmt::format("tc htb root dc01: with class dc01:1 at {} bit/s and u32 filters for {} peer(s) on {}",
				p_.rateBitsPerSec, p_.peers.size(), fmt::join(ifaces_, ", "));
	if (in())
		m += fmt::format("{}ingress u32 filters on {} redirecting traffic from the peers to IFB {} with tc htb "
				 "at {} bit/s", m.empty() ? "" : "; ", fmt::join(ifaces_, ", "), ifb_,
				 p_.rateBitsPerSec);
	return m;
}

std::vector<std::vector<std::string>> NetworkBandwidth::matches(const std::string &peer, bool src) const
{
	const bool v6 = isV6(peer);
	const std::string fam = v6 ? "ip6" : "ip";
	std::vector<std::string> base = {"match", fam, src ? "src" : "dst", withPrefix(peer)};
	if (p_.protocol != "all") {
		const int proto = p_.protocol == "tcp" ? 6 : p_.protocol == "udp" ? 17 : v6 ? 58 : 1;
		for (const auto &a : {std::string("match"), fam, std::string("protocol"), std::to_string(proto),
				      std::string("0xff")})
			base.push_back(a);
	}
	if (p_.ports.empty())
		return {base};
	// A port on either side (u32 reads the transport header right after a header without options/extensions).
	std::vector<std::vector<std::string>> out;
	for (int port : p_.ports)
		for (const char *side : {"dport", "sport"}) {
			auto m = base;
			for (const auto &a : {std::string("match"), fam, std::string(side), std::to_string(port),
					      std::string("0xffff")})
				m.push_back(a);
			out.push_back(m);
		}
	return out;
}

size_t NetworkBandwidth::filtersPerIface() const
{
	size_t n = 0;
	for (const auto &peer : p_.peers)
		n += matches(peer, false).size();
	return n;
}

std::vector<std::vector<std::string>> NetworkBandwidth::commands() const
{
	const std::string rate = fmt::format("{}bit", p_.rateBitsPerSec);
	std::vector<std::vector<std::string>> c;
	auto filter = [&](const std::string &dev, const std::string &parent, const std::string &peer, bool src,
			  const std::vector<std::string> &target) {
		for (const auto &m : matches(peer, src)) {
			std::vector<std::string> a = {"tc", "filter", "add", "dev", dev, "parent", parent, "protocol",
						      isV6(peer) ? "ipv6" : "ip", "prio", isV6(peer) ? "2" : "1", "u32"};
			a.insert(a.end(), m.begin(), m.end());
			a.insert(a.end(), target.begin(), target.end());
			c.push_back(a);
		}
	};
	if (out()) {
		for (const auto &d : ifaces_) {
			// default 0: unclassified traffic takes htb's direct queue, unshaped.
			c.push_back({"tc", "qdisc", "add", "dev", d, "root", "handle", "dc01:", "htb", "default", "0"});
			c.push_back({"tc", "class", "add", "dev", d, "parent", "dc01:", "classid", "dc01:1", "htb", "rate",
				     rate, "ceil", rate});
			for (const auto &peer : p_.peers)
				filter(d, "dc01:", peer, false, {"flowid", "dc01:1"});
		}
	}
	if (in()) {
		// The IFB's queue length is its htb leaf's packet limit: ifb's default of 32 would drop bursts that a data
		// interface (1000) queues, and inbound TCP would fall well short of the rate.
		c.push_back({"ip", "link", "add", ifb_, "txqueuelen", "1000", "type", "ifb"});
		c.push_back({"ip", "link", "set", "dev", ifb_, "up"});
		// Only traffic from the peers is redirected here, so all of it is shaped.
		c.push_back({"tc", "qdisc", "add", "dev", ifb_, "root", "handle", "dc01:", "htb", "default", "1"});
		c.push_back({"tc", "class", "add", "dev", ifb_, "parent", "dc01:", "classid", "dc01:1", "htb", "rate",
			     rate, "ceil", rate});
		for (const auto &d : ifaces_) {
			c.push_back({"tc", "qdisc", "add", "dev", d, "handle", "ffff:", "ingress"});
			for (const auto &peer : p_.peers)
				filter(d, "ffff:", peer, true, {"action", "mirred", "egress", "redirect", "dev", ifb_});
		}
	}
	return c;
}

std::vector<std::string> NetworkBandwidth::plan() const
{
	std::vector<std::string> out;
	for (const auto &c : commands())
		out.push_back(sys::describe(c));
	return out;
}

Undo NetworkBandwidth::undo() const
{
	Undo u = Undo::array();
	for (const auto &d : ifaces_) {
		if (out())
			u.push_back({{"op", "tc_qdisc"}, {"dev", d}, {"parent", "root"}, {"handle", "dc01:"}});
		if (in())
			u.push_back({{"op", "tc_qdisc"}, {"dev", d}, {"parent", "ingress"}});
	}
	if (in() && !ifb_.empty())
		u.push_back({{"op", "link"}, {"name", ifb_}});
	return u;
}

Result<std::string> NetworkBandwidth::verify() const
{
	std::string text;
	const size_t want = filtersPerIface();
	auto classAtRate = [&](const std::string &dev) -> Result<std::string> {
		auto cls = show({"tc", "class", "show", "dev", dev});
		XDC_TRY(cls);
		// "class htb dc01:1 root prio 0 rate 8Mbit ceil 8Mbit burst ..."
		const auto pos = cls->find("class htb dc01:1 ");
		if (pos == std::string::npos)
			return makeError(Errc::Io, "read-back: no class dc01:1 on {}", dev);
		const auto r = cls->find(" rate ", pos);
		if (r == std::string::npos)
			return makeError(Errc::Io, "read-back: class dc01:1 on {} shows no rate", dev);
		const auto end = cls->find(' ', r + 6);
		const std::string shown = cls->substr(r + 6, end == std::string::npos ? std::string::npos : end - r - 6);
		auto parsed = fault::parseRate(shown);
		const double wantRate = static_cast<double>(p_.rateBitsPerSec);
		if (!parsed || std::abs(static_cast<double>(*parsed) - wantRate) > wantRate * 0.01)
			return makeError(Errc::Io, "read-back: class dc01:1 on {} has rate '{}', not {} bit/s", dev, shown,
					 p_.rateBitsPerSec);
		return *cls;
	};
	for (const auto &d : ifaces_) {
		if (out()) {
			auto q = show({"tc", "-s", "qdisc", "show", "dev", d});
			XDC_TRY(q);
			if (q->find("qdisc htb dc01: root") == std::string::npos)
				return makeError(Errc::Io, "read-back: no htb dc01: root qdisc on {}", d);
			auto cls = classAtRate(d);
			XDC_TRY(cls);
			auto f = show({"tc", "filter", "show", "dev", d, "parent", "dc01:"});
			XDC_TRY(f);
			if (const size_t n = count(*f, "flowid dc01:1"); n != want)
				return makeError(Errc::Io, "read-back: {} of {} peer filters on {}", n, want, d);
			text += fmt::format("== {} egress\n{}{}{}", d, *q, *cls, *f);
		}
		if (in()) {
			auto q = show({"tc", "qdisc", "show", "dev", d, "ingress"});
			XDC_TRY(q);
			if (q->find("qdisc ingress ffff:") == std::string::npos)
				return makeError(Errc::Io, "read-back: no ingress qdisc on {}", d);
			auto f = show({"tc", "filter", "show", "dev", d, "ingress"});
			XDC_TRY(f);
			if (const size_t n = count(*f, "to device " + ifb_ + ")"); n != want)
				return makeError(Errc::Io, "read-back: {} of {} redirect filters to {} on {}", n, want, ifb_,
						 d);
			text += fmt::format("== {} ingress\n{}{}", d, *q, *f);
		}
	}
	if (in()) {
		auto l = show({"ip", "-o", "link", "show", "dev", ifb_});
		XDC_TRY(l);
		if (l->find(",UP") == std::string::npos && l->find("<UP") == std::string::npos)
			return makeError(Errc::Io, "read-back: {} is not up: {}", ifb_, *l);
		auto q = show({"tc", "-s", "qdisc", "show", "dev", ifb_});
		XDC_TRY(q);
		if (q->find("qdisc htb dc01: root") == std::string::npos)
			return makeError(Errc::Io, "read-back: no htb dc01: root qdisc on {}", ifb_);
		auto cls = classAtRate(ifb_);
		XDC_TRY(cls);
		text += fmt::format("== {}\n{}{}", ifb_, *q, *cls);
	}
	return text;
}

Result<std::string> NetworkBandwidth::apply()
{
	XDC_TRY(validate(p_));
	auto fail = [&](const Error &e) -> Result<std::string> {
		(void)runUndo(undo());
		return e;
	};
	for (const auto &c : commands()) {
		auto r = sys::runChecked(c);
		if (!r && c[0] == "ip" && c[2] == "add") {
			// The kernel may have ifb as a module that is not loaded. Loading it with numifbs=0 keeps it from
			// creating ifb0/ifb1 in the root namespace (a host change); only our device is made, here.
			if (r.error().message.find("nknown device type") != std::string::npos ||
			    r.error().message.find("not supported") != std::string::npos) {
				auto m = sys::run({"modprobe", "ifb", "numifbs=0"});
				if (m && m->ok())
					r = sys::runChecked(c);
			}
		}
		if (!r)
			return fail(r.error().context("cannot set up the bandwidth limit"));
	}
	auto v = verify();
	if (!v)
		return fail(v.error());
	return *v;
}

Result<void> NetworkBandwidth::revert() { return runUndo(undo(), &revertEffectiveNs); }

BandwidthParams bandwidthParams(const FaultRequest &req, const FaultEnv &env)
{
	BandwidthParams p;
	p.peers = req.peers;
	p.direction = req.spec.direction == fault::Direction::In	  ? "in"
		      : req.spec.direction == fault::Direction::Out ? "out"
								    : "both";
	p.protocol = req.spec.protocol;
	p.ports = req.spec.ports;
	p.rateBitsPerSec = req.spec.rateBitsPerSec;
	p.mgmtIface = env.mgmtIface;
	return p;
}

} // namespace xdc::agent
