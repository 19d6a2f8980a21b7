// SPDX-License-Identifier: Apache-2.0
// makeFault(): the one place that maps a fault kind to its implementation.
#include "agent/faults/fault.h"
#include "agent/faults/network_bandwidth.h"
#include "agent/faults/network_delay.h"
#include "agent/faults/network_loss.h"
#include "agent/faults/network_partition.h"
#include "agent/faults/resource_cpu.h"
#include "agent/faults/resource_disk_fill.h"
#include "agent/faults/resource_memory.h"
#include "agent/faults/process_kill.h"
#include "agent/faults/process_pause.h"

namespace xdc::agent {

Result<std::unique_ptr<Fault>> makeFault(const FaultRequest &req, const FaultEnv &env)
{
	using fault::Kind;
	if (req.ttlMs <= 0)
		return makeError(Errc::Invalid, "duration: must be positive");
	switch (req.spec.kind) {
	case Kind::NetworkPartition: {
		auto p = partitionParams(req, env);
		XDC_TRY(NetworkPartition::validate(p));
		return std::unique_ptr<Fault>(new NetworkPartition(req.id, p));
	}
	case Kind::NetworkBandwidth: {
		auto p = bandwidthParams(req, env);
		XDC_TRY(NetworkBandwidth::validate(p));
		return std::unique_ptr<Fault>(new NetworkBandwidth(req.id, p));
	}
	case Kind::ResourceCpu:
		return std::unique_ptr<Fault>(new ResourceCpu(req.id, req.spec.workers, req.spec.cpuPercent));
	case Kind::ResourceMemory:
		return std::unique_ptr<Fault>(new ResourceMemory(req.id, req.spec.bytes, env.memoryMaxFraction));
	case Kind::ResourceDiskFill: {
		DiskFillParams p;
		p.path = req.spec.path;
		p.bytes = req.spec.bytes;
		p.freePercent = req.spec.freePercent;
		p.allow = env.diskFillAllow;
		p.maxBytes = env.diskFillMaxBytes;
		return std::unique_ptr<Fault>(new ResourceDiskFill(req.id, p));
	}
	case Kind::NetworkLoss: {
		// nft numgen draws every packet on its own; correlated (bursty) loss would need state per packet stream.
		if (req.spec.correlationPercent != 0)
			return makeError(Errc::Unsupported, "correlation: network.loss on this agent drops each packet "
					 "independently (nft numgen); correlation {} is not supported (omit it or use 0)",
					 req.spec.correlationPercent);
		auto p = lossParams(req, env);
		XDC_TRY(NetworkLoss::validate(p));
		return std::unique_ptr<Fault>(new NetworkLoss(req.id, p));
	}
	case Kind::NetworkDelay: {
		auto p = delayParams(req, env);
		XDC_TRY(NetworkDelay::validate(p));
		return std::unique_ptr<Fault>(new NetworkDelay(req.id, p));
	}
	case Kind::ProcessKill:
		return std::unique_ptr<Fault>(new ProcessKill(req, env));
	case Kind::ProcessPause:
		return std::unique_ptr<Fault>(new ProcessPause(req, env));
	case Kind::NetworkCorrupt:
	case Kind::NetworkDuplicate:
	case Kind::NetworkReorder:
		// The agent reports qdisc.netem in its capabilities; the controller refuses these kinds before sending
		// when it is missing. This is the agent's own check of the same fact.
		if (!env.haveNetem)
			return makeError(Errc::Unsupported, "kind: {} needs tc netem and the kernel lacks sch_netem",
					 fault::kindName(req.spec.kind));
		return makeError(Errc::Unsupported, "kind: {} (netem) is not implemented by this agent",
				 fault::kindName(req.spec.kind));
	default:
		break;
	}
	return makeError(Errc::Unsupported, "kind: {} is not implemented by this agent", fault::kindName(req.spec.kind));
}

} // namespace xdc::agent
