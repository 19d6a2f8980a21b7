// SPDX-License-Identifier: Apache-2.0
// network.loss with nftables numgen.
#include "agent/faults/network_loss.h"

#include <cmath>
#include <sstream>

#include "agent/faults/network_partition.h"
#include "agent/faults/undo.h"
#include "common/clock.h"
#include "common/sys/nft.h"

namespace xdc::agent {

NetworkLoss::NetworkLoss(std::string id, LossParams p) : id_(std::move(id)), table_(faultTable(id_)), p_(std::move(p))
{
}

Result<void> NetworkLoss::validate(const LossParams &p)
{
	if (p.peers.empty())
		return makeError(Errc::Invalid, "peers: no peer addresses (the peer selector matched no host)");
	for (const auto &c : p.peers)
		if (!validCidr(c))
			return makeError(Errc::Invalid, "peers: '{}' is not an IPv4/IPv6 address or CIDR", c);
	if (p.direction != "both" && p.direction != "in" && p.direction != "out")
		return makeError(Errc::Invalid, "direction: '{}' (expected both, in or out)", p.direction);
	if (!(p.percent > 0 && p.percent <= 100))
		return makeError(Errc::Invalid, "percent: {} (expected 0 < percent <= 100)", p.percent);
	if (p.protocol != "all" && p.protocol != "tcp" && p.protocol != "udp" && p.protocol != "icmp")
		return makeError(Errc::Invalid, "protocol: '{}' (expected all, tcp, udp or icmp)", p.protocol);
	if (!p.ports.empty() && p.protocol != "tcp" && p.protocol != "udp")
		return makeError(Errc::Invalid, "ports: need protocol tcp or udp");
	if (p.ttlMs <= 0)
		return makeError(Errc::Invalid, "duration: must be positive");
	return success();
}

int NetworkLoss::threshold() const
{
	// numgen draws 0..9999; below the threshold the packet goes. 0.01 % steps; a tiny positive percent still drops.
	return std::clamp(static_cast<int>(std::lround(p_.percent * 100.0)), 1, 10000);
}

std::string NetworkLoss::mechanism() const
{
	return fmt::format("nft table inet {} (numgen random drop of {}% of packets; set elements expire in the kernel "
			   "after {} ms)", table_, p_.percent, p_.ttlMs + 1000);
}

std::string NetworkLoss::ruleset(bool withPeers) const
{
	std::ostringstream o;
	o << "table inet " << table_ << " {\n";
	o << peerSets(withPeers ? peerElements(p_.peers, p_.ttlMs) : PeerElements{});
	const bool v6Exempt = isV6(p_.exemptAddr);
	// "accept" in our base chain only means "not ours to drop": other tables' chains still see the packet.
	std::string select;
	if (p_.protocol == "icmp")
		select += "\t\tmeta l4proto != { icmp, ipv6-icmp } accept\n";
	else if (p_.protocol != "all")
		select += fmt::format("\t\tmeta l4proto != {} accept\n", p_.protocol);
	if (!p_.ports.empty()) {
		const std::string set = fmt::format("{{ {} }}", fmt::join(p_.ports, ", "));
		select += fmt::format("\t\tth sport != {0} th dport != {0} accept\n", set);
	}
	const int n = threshold();
	auto drop = [&](const char *dirKw) {
		return fmt::format("\t\tip {0} @peers4 numgen random mod 10000 < {1} drop\n"
				   "\t\tip6 {0} @peers6 numgen random mod 10000 < {1} drop\n",
				   dirKw, n);
	};
	if (p_.direction != "out") {
		o << "\tchain in {\n\t\ttype filter hook input priority -10; policy accept;\n";
		o << "\t\tiif lo accept\n";
		if (!p_.exemptAddr.empty())
			o << fmt::format("\t\t{} saddr {} tcp sport {} accept\n", v6Exempt ? "ip6" : "ip", p_.exemptAddr,
					 p_.exemptPort);
		o << select << drop("saddr") << "\t}\n";
	}
	if (p_.direction != "in") {
		o << "\tchain out {\n\t\ttype filter hook output priority -10; policy accept;\n";
		o << "\t\toif lo accept\n";
		if (!p_.exemptAddr.empty())
			o << fmt::format("\t\t{} daddr {} tcp dport {} accept\n", v6Exempt ? "ip6" : "ip", p_.exemptAddr,
					 p_.exemptPort);
		o << select << drop("daddr") << "\t}\n";
	}
	o << "}\n";
	return o.str();
}

std::vector<std::string> NetworkLoss::plan() const { return {"nft -f - <<EOF\n" + ruleset() + "EOF"}; }

LossParams lossParams(const FaultRequest &req, const FaultEnv &env)
{
	LossParams p;
	p.peers = req.peers;
	p.direction = req.spec.direction == fault::Direction::In    ? "in"
		      : req.spec.direction == fault::Direction::Out ? "out"
								    : "both";
	p.percent = req.spec.lossPercent;
	p.protocol = req.spec.protocol;
	p.ports = req.spec.ports;
	p.ttlMs = req.ttlMs;
	p.exemptAddr = env.exemptAddr;
	p.exemptPort = env.exemptPort;
	return p;
}

Undo NetworkLoss::undo() const { return Undo::array({{{"op", "nft_table"}, {"name", table_}}}); }

Result<std::string> NetworkLoss::apply()
{
	XDC_TRY(validate(p_));
	auto back = staged_ ? armPeerTable(table_, p_.peers, p_.ttlMs, effectiveNs)
			    : commitPeerTable(table_, ruleset(), p_.peers, effectiveNs);
	staged_ = false;
	if (!back)
		return back.error().context("loss");
	// Verified: every peer is in a set (above) and each hooked chain has its drop rules with our threshold.
	const std::string &text = *back;
	const std::string rule = fmt::format("numgen random mod 10000 < {} drop", threshold());
	size_t count = 0;
	for (size_t pos = text.find(rule); pos != std::string::npos; pos = text.find(rule, pos + 1))
		count++;
	const size_t want = p_.direction == "both" ? 4 : 2;
	if (count != want) {
		(void)runUndo(undo());
		return makeError(Errc::Io, "read-back of table {} shows {} of its {} drop rules ('{}')", table_, count,
				 want, rule);
	}
	return text;
}

Result<void> NetworkLoss::stage()
{
	XDC_TRY(validate(p_));
	XDC_TRY(stagePeerTable(table_, ruleset(false)));
	staged_ = true;
	return success();
}

Result<void> NetworkLoss::revert() { return runUndo(undo(), &revertEffectiveNs); }

} // namespace xdc::agent
