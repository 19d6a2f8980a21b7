// SPDX-License-Identifier: Apache-2.0
// network.duplicate with the NFQUEUE line's duplicate draw.
#include "agent/faults/network_duplicate.h"

namespace xdc::agent {

NetworkDuplicate::NetworkDuplicate(std::string id, DelayParams p) : NetworkDelay(std::move(id), p), p_(std::move(p))
{
}

Result<void> NetworkDuplicate::validate(const DelayParams &p)
{
	XDC_TRY(NetworkDelay::validate(p));
	if (!(p.duplicatePercent > 0 && p.duplicatePercent <= 100))
		return makeError(Errc::Invalid, "percent: {} (expected 0 < percent <= 100)", p.duplicatePercent);
	if (p.delayNs != 0 || p.reorderPercent != 0)
		return makeError(Errc::Invalid, "delay: network.duplicate does not delay or reorder");
	return success();
}

std::string NetworkDuplicate::mechanism() const
{
	return fmt::format("NFQUEUE userspace line (queue {}; {}) via iptables mangle chains {}_*: {}% of packets "
			   "(correlation {}%) sent twice, the copy through a raw socket marked {:#x}",
			   queue(), p_.haveNetem ? "kernel has sch_netem but the NFQUEUE line is used regardless"
						 : "kernel lacks sch_netem",
			   chainBase(), p_.duplicatePercent, p_.duplicateCorrelationPercent, kInjectMark);
}

Result<std::string> NetworkDuplicate::apply()
{
	XDC_TRY(validate(p_));
	auto back = NetworkDelay::apply();
	if (!back)
		return back;
	// Without the mark rule every copy would be queued again (and drawn again): read it back too.
	const std::string rule = fmt::format("-m mark --mark {:#x} -j RETURN", kInjectMark);
	size_t n = 0;
	for (size_t pos = back->find(rule); pos != std::string::npos; pos = back->find(rule, pos + 1))
		n++;
	if (n < chains().size()) {
		(void)revert();
		return makeError(Errc::Io, "read-back shows {} of the {} rules '{}' that let the copies pass", n,
				 chains().size(), rule);
	}
	// The draw lives in the agent's line, not in the kernel: stated, not read back.
	return *back + fmt::format("line: duplicate {}% (correlation {}%), copies marked {:#x}\n", p_.duplicatePercent,
				   p_.duplicateCorrelationPercent, kInjectMark);
}

DelayParams duplicateParams(const FaultRequest &req, const FaultEnv &env)
{
	DelayParams p = delayParams(req, env);
	p.delayNs = 0;
	p.jitterNs = 0;
	p.correlationPercent = 0;
	p.duplicatePercent = req.spec.lossPercent;
	p.duplicateCorrelationPercent = req.spec.correlationPercent;
	return p;
}

} // namespace xdc::agent
