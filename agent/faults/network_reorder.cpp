// SPDX-License-Identifier: Apache-2.0
// network.reorder with the NFQUEUE delay line's reorder draw.
#include "agent/faults/network_reorder.h"

namespace xdc::agent {

NetworkReorder::NetworkReorder(std::string id, DelayParams p) : NetworkDelay(std::move(id), p), p_(std::move(p)) {}

Result<void> NetworkReorder::validate(const DelayParams &p)
{
	XDC_TRY(NetworkDelay::validate(p));
	if (!(p.reorderPercent > 0 && p.reorderPercent <= 100))
		return makeError(Errc::Invalid, "percent: {} (expected 0 < percent <= 100)", p.reorderPercent);
	return success();
}

std::string NetworkReorder::mechanism() const
{
	return fmt::format("NFQUEUE userspace delay line (queue {}; {}) via iptables mangle chains {}_*: {}% of "
			   "packets (correlation {}%) accepted at once, the others delayed {}ms +- {}ms",
			   queue(), p_.haveNetem ? "kernel has sch_netem but the delay line is used regardless"
						 : "kernel lacks sch_netem",
			   chainBase(), p_.reorderPercent, p_.reorderCorrelationPercent,
			   static_cast<double>(p_.delayNs) / 1e6, static_cast<double>(p_.jitterNs) / 1e6);
}

Result<std::string> NetworkReorder::apply()
{
	XDC_TRY(validate(p_));
	auto back = NetworkDelay::apply();
	if (!back)
		return back;
	// The draw lives in the agent's line, not in the kernel: stated, not read back.
	return *back + fmt::format("delay line: reorder {}% at once (correlation {}%), others {}ms +- {}ms\n",
				   p_.reorderPercent, p_.reorderCorrelationPercent,
				   static_cast<double>(p_.delayNs) / 1e6, static_cast<double>(p_.jitterNs) / 1e6);
}

DelayParams reorderParams(const FaultRequest &req, const FaultEnv &env)
{
	DelayParams p = delayParams(req, env);
	p.reorderPercent = req.spec.lossPercent;
	p.reorderCorrelationPercent = req.spec.correlationPercent;
	p.correlationPercent = 0;
	return p;
}

} // namespace xdc::agent
