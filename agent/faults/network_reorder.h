// SPDX-License-Identifier: Apache-2.0
// network.reorder: lets a share of the packets between this host and a set of peers through at once and delays the
// rest, so the ones let through overtake the delayed ones (netem's `delay D J reorder P C`).
#pragma once

#include <string>

#include "agent/faults/network_delay.h"

namespace xdc::agent {

// network.delay's iptables chains and NFQUEUE delay line, with the line's reorder draw turned on: each packet is
// accepted at once with probability `reorderPercent` (netem's correlated draw with `reorderCorrelationPercent`),
// otherwise it is held for delay +- jitter (jitter uncorrelated). Chains, queue, undo steps, read-back and revert
// are network.delay's; the read-back also states the line's reorder settings.
class NetworkReorder : public NetworkDelay {
public:
	NetworkReorder(std::string id, DelayParams p);
	// network.delay's checks, and a reorder share in (0, 100].
	static Result<void> validate(const DelayParams &p);

	std::string_view kind() const override { return "network.reorder"; }
	std::string mechanism() const override;
	Result<std::string> apply() override;

private:
	DelayParams p_;
};

// delayParams() with the spec's percent as the reorder share and its correlation as the reorder draw's; the delay
// samples are uncorrelated, as with netem's `reorder` without a delay correlation.
DelayParams reorderParams(const FaultRequest &req, const FaultEnv &env);

} // namespace xdc::agent
