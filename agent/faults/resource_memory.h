// SPDX-License-Identifier: Apache-2.0
// resource.memory: a child process that holds a number of bytes of resident memory.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agent/faults/fault.h"

namespace xdc::agent {

// One forked child, xdc-mem-<id>, maps spec.bytes of anonymous memory, writes every page and pauses. It dies with
// the agent (PR_SET_PDEATHSIG); revert kills and reaps it, which returns the memory. The size is refused when it
// exceeds memory_max_percent of MemAvailable.
class ResourceMemory : public Fault {
public:
	ResourceMemory(std::string id, uint64_t bytes, double maxFraction);

	std::string_view kind() const override { return "resource.memory"; }
	std::string mechanism() const override;
	std::vector<std::string> plan() const override;
	Result<void> prepare() override;
	Undo undo() const override;
	Result<std::string> apply() override;
	Result<void> revert() override;

	pid_t pid() const { return pid_.first; }

private:
	std::string id_;
	std::string name_;
	uint64_t bytes_;
	double maxFraction_;
	uint64_t availableAtPrepare_ = 0;
	std::pair<int, uint64_t> pid_{0, 0};
};

// MemAvailable from /proc/meminfo, in bytes.
Result<uint64_t> memAvailable();

} // namespace xdc::agent
