// SPDX-License-Identifier: Apache-2.0
// network.delay: holds the packets between this host and a set of peers for a delay (+ jitter, correlation).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/faults/delay_line.h"
#include "agent/faults/fault.h"

namespace xdc::agent {

struct DelayParams {
	std::vector<std::string> peers; // addresses or CIDRs, IPv4 and IPv6
	std::string direction = "both"; // both | in (from the peers) | out (to the peers)
	int64_t delayNs = 0, jitterNs = 0;
	double correlationPercent = 0;
	// The delay line's reorder draw (DelayLineOptions): the share of packets let through at once; 0 for a plain delay.
	double reorderPercent = 0, reorderCorrelationPercent = 0;
	// The line's duplicate draw: the share of packets sent twice; 0 for none. With it, delay may be 0 (the
	// originals pass at once) and the chains first RETURN the copies (mark kInjectMark).
	double duplicatePercent = 0, duplicateCorrelationPercent = 0;
	std::string protocol = "all";   // all | tcp | udp | icmp
	std::vector<int> ports;         // tcp/udp: a packet whose source or destination port is one of these
	int64_t ttlMs = 0;
	std::string exemptAddr;         // the controller: never delayed
	int exemptPort = 0;
	std::string mgmtIface;          // never delayed
	bool haveNetem = false;
};

// The kernel here has no sch_netem, so the delay is a userspace delay line: iptables/ip6tables mangle chains
// XDC_<tag>_O (jumped to from OUTPUT: packets to the peers) and XDC_<tag>_I (from INPUT: packets from the peers)
// send matching packets to NFQUEUE Q with --queue-bypass, and a thread of the agent (DelayLine) accepts each one
// when its time has come. Loopback, the management interface and the control channel RETURN first. If the agent
// dies its queue goes with its socket and --queue-bypass lets packets through undelayed; the chains are removed by
// the guard at the fault's end or by the next agent at start.
class NetworkDelay : public Fault {
public:
	NetworkDelay(std::string id, DelayParams p);
	~NetworkDelay() override;
	static Result<void> validate(const DelayParams &p);

	std::string_view kind() const override { return "network.delay"; }
	std::string mechanism() const override;
	std::vector<std::string> plan() const override;
	Result<void> prepare() override;
	Undo undo() const override;
	Result<std::string> apply() override;
	Result<void> revert() override;

	// "XDC_<tag>": at most 26 characters, so the _O/_I chains fit iptables' 28.
	const std::string &chainBase() const { return chain_; }
	std::vector<std::string> chains() const; // the chains this direction uses
	// iptables-restore input for one family (v6: ip6tables), for queue q.
	std::string restoreInput(bool v6, uint16_t q) const;
	uint16_t queue() const { return queue_; }

private:
	std::string id_;
	std::string chain_;
	DelayParams p_;
	uint16_t queue_ = 0;
	std::unique_ptr<DelayLine> line_;
};

DelayParams delayParams(const FaultRequest &req, const FaultEnv &env);

// The iptables chain base name for a fault id ("XDC_" + the id, shortened with a hash when long).
std::string faultChain(const std::string &id);
// The NFQUEUE number tried first for a fault id (1000..64999).
uint16_t faultQueue(const std::string &id);

} // namespace xdc::agent
