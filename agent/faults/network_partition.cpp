// SPDX-License-Identifier: Apache-2.0
// network.partition with nftables.
#include "agent/faults/network_partition.h"

#include <arpa/inet.h>
#include <sched.h>
#include <sstream>

#include "agent/faults/undo.h"
#include "common/clock.h"
#include "common/sys/nft.h"

namespace xdc::agent {

bool isV6(const std::string &cidr) { return cidr.find(':') != std::string::npos; }

bool validCidr(const std::string &c)
{
	auto slash = c.find('/');
	std::string addr = c.substr(0, slash);
	unsigned char buf[16];
	const bool v6 = isV6(addr);
	if (inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), buf) != 1)
		return false;
	if (slash == std::string::npos)
		return true;
	try {
		int len = std::stoi(c.substr(slash + 1));
		return len >= 0 && len <= (v6 ? 128 : 32);
	} catch (...) {
		return false;
	}
}

std::string faultTable(const std::string &id)
{
	std::string t = "xdc_";
	for (char c : id)
		t += (std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_');
	return t.substr(0, 64);
}

NetworkPartition::NetworkPartition(std::string id, PartitionParams p)
	: id_(std::move(id)), table_(faultTable(id_)), p_(std::move(p))
{
}

Result<void> NetworkPartition::validate(const PartitionParams &p)
{
	if (p.peers.empty())
		return makeError(Errc::Invalid, "peers: no peer addresses (the peer selector matched no host)");
	for (const auto &c : p.peers)
		if (!validCidr(c))
			return makeError(Errc::Invalid, "peers: '{}' is not an IPv4/IPv6 address or CIDR", c);
	if (p.direction != "both" && p.direction != "in" && p.direction != "out")
		return makeError(Errc::Invalid, "direction: '{}' (expected both, in or out)", p.direction);
	if (p.action != "drop" && p.action != "reject")
		return makeError(Errc::Invalid, "action: '{}' (expected drop or reject)", p.action);
	if (p.ttlMs <= 0)
		return makeError(Errc::Invalid, "duration: must be positive");
	return success();
}

std::string NetworkPartition::mechanism() const
{
	return fmt::format("nft table inet {} (set elements expire in the kernel after {} ms)", table_, p_.ttlMs);
}

std::string NetworkPartition::ruleset(bool withPeers) const
{
	std::ostringstream o;
	o << "table inet " << table_ << " {\n";
	o << peerSets(withPeers ? peerElements(p_.peers, p_.ttlMs) : PeerElements{});
	const bool v6Exempt = isV6(p_.exemptAddr);
	auto block = [&](const char *dirKw) {
		std::string r;
		if (p_.action == "reject" && std::string(dirKw) == "daddr") {
			r += fmt::format("\t\tmeta l4proto tcp ip {0} @peers4 reject with tcp reset\n"
					 "\t\tmeta l4proto tcp ip6 {0} @peers6 reject with tcp reset\n"
					 "\t\tip {0} @peers4 reject with icmpx type admin-prohibited\n"
					 "\t\tip6 {0} @peers6 reject with icmpx type admin-prohibited\n",
					 dirKw);
		} else {
			r += fmt::format("\t\tip {0} @peers4 drop\n\t\tip6 {0} @peers6 drop\n", dirKw);
		}
		return r;
	};
	if (p_.direction != "out") {
		o << "\tchain in {\n\t\ttype filter hook input priority -10; policy accept;\n";
		// Resets and ICMP errors our own output chain generates in reject mode come back through lo with the peer
		// as source; traffic from a peer never arrives on lo.
		o << "\t\tiif lo accept\n";
		if (!p_.exemptAddr.empty())
			o << fmt::format("\t\t{} saddr {} tcp sport {} accept\n", v6Exempt ? "ip6" : "ip", p_.exemptAddr,
					 p_.exemptPort);
		o << block("saddr") << "\t}\n";
	}
	if (p_.direction != "in") {
		o << "\tchain out {\n\t\ttype filter hook output priority -10; policy accept;\n";
		if (!p_.exemptAddr.empty())
			o << fmt::format("\t\t{} daddr {} tcp dport {} accept\n", v6Exempt ? "ip6" : "ip", p_.exemptAddr,
					 p_.exemptPort);
		o << block("daddr") << "\t}\n";
	}
	o << "}\n";
	return o.str();
}

std::vector<std::string> NetworkPartition::plan() const
{
	return {"nft -f - <<EOF\n" + ruleset() + "EOF"};
}

PartitionParams partitionParams(const FaultRequest &req, const FaultEnv &env)
{
	PartitionParams p;
	p.peers = req.peers;
	p.direction = req.spec.direction == fault::Direction::In ? "in" : req.spec.direction == fault::Direction::Out ? "out" : "both";
	p.action = req.spec.action == fault::Action::Reject ? "reject" : "drop";
	p.ttlMs = req.ttlMs;
	p.exemptAddr = env.exemptAddr;
	p.exemptPort = env.exemptPort;
	return p;
}

Undo NetworkPartition::undo() const { return Undo::array({{{"op", "nft_table"}, {"name", table_}}}); }

namespace {

// A table of this name can only be a leftover of this same fault id. It is removed in a transaction of its own, and
// only when present: a delete in the same transaction makes the kernel wait out an RCU grace period (milliseconds)
// before the new rules take effect.
void removeLeftover(const std::string &table)
{
	if (sys::nft(fmt::format("list table inet {}", table)))
		(void)sys::nft(fmt::format("delete table inet {}", table));
}

Undo tableUndo(const std::string &table) { return Undo::array({{{"op", "nft_table"}, {"name", table}}}); }

// Reads the table back and checks that every peer is in it; removes the table when not.
Result<std::string> readBackPeers(const std::string &table, const std::vector<std::string> &peers)
{
	auto back = sys::nft(fmt::format("list table inet {}", table));
	if (!back) {
		(void)runUndo(tableUndo(table));
		return back.error().context("cannot read the rules back");
	}
	for (const auto &c : peers) {
		// nft prints single addresses without their /32 or /128.
		std::string shown = c;
		if (shown.size() > 3 && shown.substr(shown.size() - 3) == "/32")
			shown.resize(shown.size() - 3);
		if (shown.size() > 4 && shown.substr(shown.size() - 4) == "/128")
			shown.resize(shown.size() - 4);
		if (back->find(shown) == std::string::npos) {
			(void)runUndo(tableUndo(table));
			return makeError(Errc::Io, "read-back of table {} lacks peer {}", table, c);
		}
	}
	return *back;
}

} // namespace

PeerElements peerElements(const std::vector<std::string> &peers, int64_t ttlMs)
{
	PeerElements e;
	// Kernel-side expiry: one extra second lets the agent's own revert (at TTL) run first and be the one verified.
	const std::string t = fmt::format(" timeout {}ms", ttlMs + 1000);
	for (const auto &c : peers)
		(isV6(c) ? e.v6 : e.v4).push_back(c + t);
	return e;
}

std::string peerSets(const PeerElements &e)
{
	std::ostringstream o;
	o << "\tset peers4 { type ipv4_addr; flags interval,timeout;";
	if (!e.v4.empty())
		o << " elements = { " << fmt::format("{}", fmt::join(e.v4, ", ")) << " };";
	o << " }\n";
	o << "\tset peers6 { type ipv6_addr; flags interval,timeout;";
	if (!e.v6.empty())
		o << " elements = { " << fmt::format("{}", fmt::join(e.v6, ", ")) << " };";
	o << " }\n";
	return o.str();
}

Result<std::string> commitPeerTable(const std::string &table, const std::string &ruleset,
				    const std::vector<std::string> &peers, int64_t &effectiveNs)
{
	removeLeftover(table);
	auto r = sys::nft(ruleset);
	effectiveNs = clk::wallNs(); // the transaction is committed: in effect from here
	if (!r) {
		(void)runUndo(tableUndo(table));
		return r.error().context("nft refused the rules");
	}
	return readBackPeers(table, peers);
}

Result<void> stagePeerTable(const std::string &table, const std::string &emptyRuleset)
{
	removeLeftover(table);
	if (auto r = sys::nft(emptyRuleset); !r) {
		(void)runUndo(tableUndo(table));
		return r.error().context("nft refused the staged rules");
	}
	if (auto back = sys::nft(fmt::format("list table inet {}", table)); !back) {
		(void)runUndo(tableUndo(table));
		return back.error().context("cannot read the staged rules back");
	}
	return success();
}

Result<std::string> armPeerTable(const std::string &table, const std::vector<std::string> &peers, int64_t ttlMs,
				 int64_t &effectiveNs)
{
	const PeerElements e = peerElements(peers, ttlMs);
	std::string cmd;
	if (!e.v4.empty())
		cmd += fmt::format("add element inet {} peers4 {{ {} }}\n", table, fmt::join(e.v4, ", "));
	if (!e.v6.empty())
		cmd += fmt::format("add element inet {} peers6 {{ {} }}\n", table, fmt::join(e.v6, ", "));
	auto r = sys::nft(cmd);
	effectiveNs = clk::wallNs();
	if (!r) {
		(void)runUndo(tableUndo(table));
		return r.error().context("nft refused the peers");
	}
	// In effect. Other agents that woke at the same instant on this machine's cores (a lab) make their change
	// before this one reads its change back; with an agent per host this returns at once.
	::sched_yield();
	return readBackPeers(table, peers);
}

Result<std::string> NetworkPartition::apply()
{
	XDC_TRY(validate(p_));
	auto back = staged_ ? armPeerTable(table_, p_.peers, p_.ttlMs, effectiveNs)
			    : commitPeerTable(table_, ruleset(), p_.peers, effectiveNs);
	staged_ = false;
	if (!back)
		return back.error().context("partition");
	// Verified: every peer is in a set (above) and the blocking rules are there.
	const std::string &text = *back;
	const char *verb = p_.action == "reject" ? "reject" : "drop";
	if (text.find(verb) == std::string::npos) {
		(void)runUndo(undo());
		return makeError(Errc::Io, "read-back of table {} lacks its {} rules", table_, verb);
	}
	return text;
}

Result<void> NetworkPartition::stage()
{
	XDC_TRY(validate(p_));
	XDC_TRY(stagePeerTable(table_, ruleset(false)));
	staged_ = true;
	return success();
}

Result<void> NetworkPartition::revert() { return runUndo(undo(), &revertEffectiveNs); }

} // namespace xdc::agent
