// SPDX-License-Identifier: Apache-2.0
// makeFault(): the one place that maps a fault kind to its implementation, as a table of kind name -> factory.
#include <functional>
#include <map>
#include <string_view>

#include "agent/faults/fault.h"
#include "agent/faults/network_bandwidth.h"
#include "agent/faults/network_delay.h"
#include "agent/faults/network_duplicate.h"
#include "agent/faults/network_loss.h"
#include "agent/faults/network_partition.h"
#include "agent/faults/network_reorder.h"
#include "agent/faults/resource_cpu.h"
#include "agent/faults/resource_disk_fill.h"
#include "agent/faults/resource_memory.h"
#include "agent/faults/process_kill.h"
#include "agent/faults/process_pause.h"

namespace xdc::agent {

namespace {

// Builds one kind's Fault from a request whose ttl is already checked; errors name the spec field.
using Factory = std::function<Result<std::unique_ptr<Fault>>(const FaultRequest &, const FaultEnv &)>;

// Kinds a kernel without sch_netem cannot do and this agent has no other mechanism for.
Result<std::unique_ptr<Fault>> netemOnly(const FaultRequest &req, const FaultEnv &env)
{
	// The agent reports qdisc.netem in its capabilities; the controller refuses these kinds before sending when
	// it is missing. This is the agent's own check of the same fact.
	if (!env.haveNetem)
		return makeError(Errc::Unsupported, "kind: {} needs tc netem and the kernel lacks sch_netem",
				 fault::kindName(req.spec.kind));
	return makeError(Errc::Unsupported, "kind: {} (netem) is not implemented by this agent",
			 fault::kindName(req.spec.kind));
}

// One row per kind the agent knows: a new kind adds its row here (docs/EXTENDING.md). Keyed by the spec's kind name
// (fault::kindName), so the table reads like docs/FAULTS.md's list of kinds.
const std::map<std::string_view, Factory> &kinds()
{
	static const std::map<std::string_view, Factory> table = {
		{"network.partition",
		 [](const FaultRequest &req, const FaultEnv &env) -> Result<std::unique_ptr<Fault>> {
			 auto p = partitionParams(req, env);
			 XDC_TRY(NetworkPartition::validate(p));
			 return std::unique_ptr<Fault>(new NetworkPartition(req.id, p));
		 }},
		{"network.bandwidth",
		 [](const FaultRequest &req, const FaultEnv &env) -> Result<std::unique_ptr<Fault>> {
			 auto p = bandwidthParams(req, env);
			 XDC_TRY(NetworkBandwidth::validate(p));
			 return std::unique_ptr<Fault>(new NetworkBandwidth(req.id, p));
		 }},
		{"network.loss",
		 [](const FaultRequest &req, const FaultEnv &env) -> Result<std::unique_ptr<Fault>> {
			 // nft numgen draws every packet on its own; correlated (bursty) loss would need state per packet
			 // stream.
			 if (req.spec.correlationPercent != 0)
				 return makeError(Errc::Unsupported,
						  "correlation: network.loss on this agent drops each packet independently "
						  "(nft numgen); correlation {} is not supported (omit it or use 0)",
						  req.spec.correlationPercent);
			 auto p = lossParams(req, env);
			 XDC_TRY(NetworkLoss::validate(p));
			 return std::unique_ptr<Fault>(new NetworkLoss(req.id, p));
		 }},
		{"network.delay",
		 [](const FaultRequest &req, const FaultEnv &env) -> Result<std::unique_ptr<Fault>> {
			 auto p = delayParams(req, env);
			 XDC_TRY(NetworkDelay::validate(p));
			 return std::unique_ptr<Fault>(new NetworkDelay(req.id, p));
		 }},
		{"network.corrupt", netemOnly},
		{"network.duplicate",
		 [](const FaultRequest &req, const FaultEnv &env) -> Result<std::unique_ptr<Fault>> {
			 auto p = duplicateParams(req, env);
			 XDC_TRY(NetworkDuplicate::validate(p));
			 return std::unique_ptr<Fault>(new NetworkDuplicate(req.id, p));
		 }},
		{"network.reorder",
		 [](const FaultRequest &req, const FaultEnv &env) -> Result<std::unique_ptr<Fault>> {
			 auto p = reorderParams(req, env);
			 XDC_TRY(NetworkReorder::validate(p));
			 return std::unique_ptr<Fault>(new NetworkReorder(req.id, p));
		 }},
		{"process.kill",
		 [](const FaultRequest &req, const FaultEnv &env) -> Result<std::unique_ptr<Fault>> {
			 return std::unique_ptr<Fault>(new ProcessKill(req, env));
		 }},
		{"process.pause",
		 [](const FaultRequest &req, const FaultEnv &env) -> Result<std::unique_ptr<Fault>> {
			 return std::unique_ptr<Fault>(new ProcessPause(req, env));
		 }},
		{"resource.cpu",
		 [](const FaultRequest &req, const FaultEnv &) -> Result<std::unique_ptr<Fault>> {
			 return std::unique_ptr<Fault>(new ResourceCpu(req.id, req.spec.workers, req.spec.cpuPercent));
		 }},
		{"resource.memory",
		 [](const FaultRequest &req, const FaultEnv &env) -> Result<std::unique_ptr<Fault>> {
			 return std::unique_ptr<Fault>(
				 new ResourceMemory(req.id, req.spec.bytes, env.memoryMaxFraction));
		 }},
		{"resource.disk_fill",
		 [](const FaultRequest &req, const FaultEnv &env) -> Result<std::unique_ptr<Fault>> {
			 DiskFillParams p;
			 p.path = req.spec.path;
			 p.bytes = req.spec.bytes;
			 p.freePercent = req.spec.freePercent;
			 p.allow = env.diskFillAllow;
			 p.maxBytes = env.diskFillMaxBytes;
			 return std::unique_ptr<Fault>(new ResourceDiskFill(req.id, p));
		 }},
	};
	return table;
}

} // namespace

Result<std::unique_ptr<Fault>> makeFault(const FaultRequest &req, const FaultEnv &env)
{
	if (req.ttlMs <= 0)
		return makeError(Errc::Invalid, "duration: must be positive");
	const auto &table = kinds();
	auto it = table.find(fault::kindName(req.spec.kind));
	if (it == table.end())
		return makeError(Errc::Unsupported, "kind: {} is not implemented by this agent",
				 fault::kindName(req.spec.kind));
	return it->second(req, env);
}

} // namespace xdc::agent
