// SPDX-License-Identifier: Apache-2.0
// makeFault(): the one place that maps a fault kind to its implementation.
#include "agent/faults/fault.h"
#include "agent/faults/network_partition.h"
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
