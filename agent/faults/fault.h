// SPDX-License-Identifier: Apache-2.0
// A fault the agent can put in place and take away again. One file per kind implements it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace xdc::agent {

class Fault {
public:
	virtual ~Fault() = default;
	virtual std::string_view kind() const = 0;
	// How the fault is carried out, in words for reports ("nft table inet xdc_f1 with set timeouts").
	virtual std::string mechanism() const = 0;
	// The exact actions apply() takes, for --dry-run and the journal. No side effects.
	virtual std::vector<std::string> plan() const = 0;
	// Puts the fault in place and reads it back; fails unless the read-back shows it in effect. Returns the
	// read-back. On failure it leaves nothing behind (it reverts what it did).
	[[nodiscard]] virtual Result<std::string> apply() = 0;
	// Removes every trace of the fault and verifies that it is gone. Idempotent; safe after a partial apply or after
	// a restart (it works from the fault's name alone).
	[[nodiscard]] virtual Result<void> revert() = 0;
};

} // namespace xdc::agent
