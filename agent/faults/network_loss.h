// SPDX-License-Identifier: Apache-2.0
// network.loss: drops a random share of the packets between this host and a set of peers, in its own nft table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/faults/fault.h"

namespace xdc::agent {

struct LossParams {
	std::vector<std::string> peers; // addresses or CIDRs, IPv4 and IPv6
	std::string direction = "both"; // both | in (from the peers) | out (to the peers)
	double percent = 0;             // 0 < percent <= 100, in steps of 0.01
	std::string protocol = "all";   // all | tcp | udp | icmp
	std::vector<int> ports;         // tcp/udp: a packet whose source or destination port is one of these
	int64_t ttlMs = 0;              // set elements expire in the kernel after ttl + 1 s, whatever happens to the agent
	std::string exemptAddr;         // the controller: never dropped, so the agent keeps its lease
	int exemptPort = 0;
};

// The fault lives in one nft table `inet xdc_<id>` (the partition's layout): peer sets whose elements carry a kernel
// timeout, input/output chains at priority -10 that accept loopback and the control channel, then drop matching
// packets with `numgen random mod 10000 < percent*100`. Each packet is drawn independently (no correlation).
// Revert deletes exactly that table.
class NetworkLoss : public Fault {
public:
	NetworkLoss(std::string id, LossParams p);
	static Result<void> validate(const LossParams &p);

	std::string_view kind() const override { return "network.loss"; }
	std::string mechanism() const override;
	std::vector<std::string> plan() const override;
	Undo undo() const override;
	Result<void> stage() override;
	Result<std::string> apply() override;
	Result<void> revert() override;

	const std::string &table() const { return table_; }
	// The table as apply() commits it; without peers (empty sets) as stage() does.
	std::string ruleset(bool withPeers = true) const;
	// percent as the numgen threshold out of 10000.
	int threshold() const;

private:
	std::string id_;
	std::string table_;
	LossParams p_;
	bool staged_ = false;
};

LossParams lossParams(const FaultRequest &req, const FaultEnv &env);

} // namespace xdc::agent
