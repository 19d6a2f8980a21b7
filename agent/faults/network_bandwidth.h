// SPDX-License-Identifier: Apache-2.0
// network.bandwidth: limits the rate of traffic between this host and a set of peers, with tc htb.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/faults/fault.h"

namespace xdc::agent {

struct BandwidthParams {
	std::vector<std::string> peers;  // addresses or CIDRs, IPv4 and IPv6
	std::string direction = "both";  // out: this host -> peers; in: peers -> this host
	std::string protocol = "all";    // all | tcp | udp | icmp
	std::vector<int> ports;          // with tcp/udp: either side's port
	uint64_t rateBitsPerSec = 0;
	std::string mgmtIface;           // never shaped: the controller is reached through it
};

// Outbound: on every data interface (all but lo and the management interface), a root htb qdisc with our handle
// dc01: whose unclassified traffic goes out unshaped (htb's direct queue), one class dc01:1 at the rate, and u32
// filters that send traffic to the peers (ip/ip6 dst, and protocol/ports if given) into that class.
// Inbound: an IFB device xdcifb<n> in this namespace with the same htb (every packet it sees is shaped), and on each
// data interface an ingress qdisc whose u32 filters redirect traffic from the peers to it (mirred).
// Revert deletes those qdiscs and the IFB device; the journal holds the same steps.
class NetworkBandwidth : public Fault {
public:
	NetworkBandwidth(std::string id, BandwidthParams p);
	static Result<void> validate(const BandwidthParams &p);

	std::string_view kind() const override { return "network.bandwidth"; }
	std::string mechanism() const override;
	std::vector<std::string> plan() const override;
	Result<void> prepare() override;
	Undo undo() const override;
	Result<std::string> apply() override;
	Result<void> revert() override;

	const std::vector<std::string> &interfaces() const { return ifaces_; }
	const std::string &ifb() const { return ifb_; }

private:
	bool out() const { return p_.direction != "in"; }
	bool in() const { return p_.direction != "out"; }
	// Every tc/ip command apply() runs, in order.
	std::vector<std::vector<std::string>> commands() const;
	// The u32 match arguments for one peer: "match ip dst 10.0.0.2/32 [match ip protocol 6 0xff ...]", one list per
	// filter (ports give one filter per port and side).
	std::vector<std::vector<std::string>> matches(const std::string &peer, bool src) const;
	Result<std::string> verify() const;
	size_t filtersPerIface() const;

	std::string id_;
	BandwidthParams p_;
	std::vector<std::string> ifaces_; // data interfaces, fixed by prepare()
	std::string ifb_;                 // the IFB device name (direction in/both), fixed by prepare()
};

BandwidthParams bandwidthParams(const FaultRequest &req, const FaultEnv &env);

} // namespace xdc::agent
