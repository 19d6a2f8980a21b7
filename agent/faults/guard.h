// SPDX-License-Identifier: Apache-2.0
// The guard: a small process forked at agent start that outlives the agent. When the agent dies without reverting
// (SIGKILL, crash) and is not restarted, the guard removes each journaled fault when its duration ends.
#pragma once

#include <string>

#include "common/result.h"

namespace xdc::agent {

// Forks the guard for stateDir. Call before any thread exists (it forks). The agent keeps the returned descriptor
// open for its whole life: the guard learns of the agent's death when it closes. The guard exits as soon as a new
// agent holds stateDir/agent.lock, or when no journaled fault is left.
Result<int> startGuard(const std::string &stateDir);

// Takes stateDir/agent.lock for this agent's life; fails if another agent holds it.
Result<int> lockStateDir(const std::string &stateDir);

} // namespace xdc::agent
