// SPDX-License-Identifier: Apache-2.0
// network.duplicate: sends a share of the packets between this host and a set of peers twice (netem's
// `duplicate P C`).
#pragma once

#include <string>

#include "agent/faults/network_delay.h"

namespace xdc::agent {

// network.delay's iptables chains and NFQUEUE line with no delay and the line's duplicate draw turned on: for each
// packet, with probability `duplicatePercent` (netem's correlated draw with `duplicateCorrelationPercent`), a copy
// is sent at once through a raw socket marked kInjectMark (the chains RETURN it), then the original is accepted.
// Chains, queue, undo steps and revert are network.delay's; the read-back also checks the chains' mark rule and
// states the line's duplicate settings.
class NetworkDuplicate : public NetworkDelay {
public:
	NetworkDuplicate(std::string id, DelayParams p);
	// network.delay's checks, a duplicate share in (0, 100] and no delay.
	static Result<void> validate(const DelayParams &p);

	std::string_view kind() const override { return "network.duplicate"; }
	std::string mechanism() const override;
	Result<std::string> apply() override;

private:
	DelayParams p_;
};

// delayParams() with no delay, the spec's percent as the duplicate share and its correlation as the duplicate draw's.
DelayParams duplicateParams(const FaultRequest &req, const FaultEnv &env);

} // namespace xdc::agent
