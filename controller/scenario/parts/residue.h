// SPDX-License-Identifier: Apache-2.0
// The run's last word: no fault of this run may remain anywhere — not in the controller's list, not in any agent's
// running set, and no kernel object, fill file or stopped process of it on any agent. Checked after every other
// part's teardown and report; anything left is a harness error.
#pragma once

#include "controller/scenario/parts/run_part.h"

namespace xdc::scenario {

class ResiduePart : public RunPart {
public:
	using RunPart::RunPart;
	const char *name() const override { return "residue"; }

	// `residue`: {clean, found[]} (waits, bounded, for the agents' heartbeats to catch up).
	void report() override;
};

} // namespace xdc::scenario
