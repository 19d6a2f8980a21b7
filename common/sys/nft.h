// SPDX-License-Identifier: Apache-2.0
// nftables through libnftables, in this process and its network namespace: no fork/exec per rule change, so applying
// a fault costs well under a millisecond and its timing is steady enough to synchronise across agents.
#pragma once

#include <string>

#include "common/result.h"

namespace xdc::sys {

// Runs nft commands (the `nft -f` language) and returns what nft printed. Each thread keeps one libnftables context
// (its netlink socket) for as long as it stays in the same process and network namespace; a forked child or a
// thread in another namespace gets its own. Errors carry nft's own message.
Result<std::string> nft(const std::string &commands);

} // namespace xdc::sys
