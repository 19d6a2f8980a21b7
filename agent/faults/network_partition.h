// SPDX-License-Identifier: Apache-2.0
// network.partition: drops or rejects traffic between this host and a set of peers, in its own nft table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/faults/fault.h"

namespace xdc::agent {

struct PartitionParams {
	std::vector<std::string> peers; // addresses or CIDRs, IPv4 and IPv6
	std::string direction = "both"; // both | in | out
	std::string action = "drop";    // drop | reject
	int64_t ttlMs = 0;              // set elements expire in the kernel after this, whatever happens to the agent
	std::string exemptAddr;         // the controller: never blocked, so the agent keeps its lease
	int exemptPort = 0;
};

// The fault lives in one nft table `inet xdc_<id>`: two sets of peers whose elements carry the TTL as a kernel
// timeout, and input/output chains that drop (or reject) traffic to and from them, after an accept rule for the
// control channel. Revert deletes exactly that table.
class NetworkPartition : public Fault {
public:
	NetworkPartition(std::string id, PartitionParams p);
	static Result<void> validate(const PartitionParams &p);

	std::string_view kind() const override { return "network.partition"; }
	std::string mechanism() const override;
	std::vector<std::string> plan() const override;
	Undo undo() const override;
	Result<void> stage() override;
	Result<std::string> apply() override;
	Result<void> revert() override;

	const std::string &table() const { return table_; }
	// The table as apply() commits it; without peers (empty sets) as stage() does.
	std::string ruleset(bool withPeers = true) const;

private:
	std::string id_;
	std::string table_;
	PartitionParams p_;
	bool staged_ = false;
};

// Partition parameters from a request (peers resolved by the controller) and the agent's exemptions.
PartitionParams partitionParams(const FaultRequest &req, const FaultEnv &env);

// The nft table name for a fault id: "xdc_" + the id with anything outside [a-z0-9_] replaced by '_'.
std::string faultTable(const std::string &id);

// True when an address or CIDR is IPv6 (it has a colon); says nothing about validity.
bool isV6(const std::string &cidr);

// An IPv4/IPv6 address or CIDR with a valid prefix length (peers of every network fault).
bool validCidr(const std::string &c);

// The peers as set elements, each with the kernel-side timeout (TTL + 1 s), by address family.
struct PeerElements {
	std::vector<std::string> v4, v6;
};
PeerElements peerElements(const std::vector<std::string> &peers, int64_t ttlMs);
// The two set declarations `peers4` and `peers6` of a peer table, with these elements.
std::string peerSets(const PeerElements &e);

// Commits `ruleset` (one `table inet <table>`) after removing a leftover table of that name, sets effectiveNs to
// the commit time, reads the table back and checks every peer is in it. On any failure the table is removed again.
// Returns the read-back for the caller's own rule checks. Shared by the nft-table kinds (partition, loss).
Result<std::string> commitPeerTable(const std::string &table, const std::string &ruleset,
				    const std::vector<std::string> &peers, int64_t &effectiveNs);

// A synchronised start in two halves for the same kinds. stagePeerTable, before the instant, commits `emptyRuleset`
// (the table with its chains hooked and its peer sets empty, so no packet is matched yet) and checks it is there.
// armPeerTable, at the instant, adds the peers to the sets: an add-only transaction, the smallest change the fault
// needs. It sets effectiveNs to its commit and reads the table back like commitPeerTable. Both remove the table on
// failure.
Result<void> stagePeerTable(const std::string &table, const std::string &emptyRuleset);
Result<std::string> armPeerTable(const std::string &table, const std::vector<std::string> &peers, int64_t ttlMs,
				 int64_t &effectiveNs);

} // namespace xdc::agent
