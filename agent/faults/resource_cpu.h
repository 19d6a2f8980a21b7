// SPDX-License-Identifier: Apache-2.0
// resource.cpu: busy workers, each keeping one CPU busy for a share of every 10 ms.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agent/faults/fault.h"

namespace xdc::agent {

// spec.workers forked children named xdc-cpu-<id>, each spinning on clock_gettime for cpu_percent of every 10 ms
// period and sleeping the rest. They die with the agent (PR_SET_PDEATHSIG); revert kills and reaps them.
class ResourceCpu : public Fault {
public:
	ResourceCpu(std::string id, int workers, int cpuPercent);

	std::string_view kind() const override { return "resource.cpu"; }
	std::string mechanism() const override;
	std::vector<std::string> plan() const override;
	Undo undo() const override;
	Result<std::string> apply() override;
	Result<void> revert() override;

	const std::vector<std::pair<int, uint64_t>> &workers() const { return pids_; }

private:
	std::string id_;
	std::string name_;
	int workers_;
	int percent_;
	std::vector<std::pair<int, uint64_t>> pids_;
};

} // namespace xdc::agent
