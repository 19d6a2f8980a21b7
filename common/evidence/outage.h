// SPDX-License-Identifier: Apache-2.0
// Outage analysis over probe samples already mapped onto the controller's timeline: the intervals in which a probe
// failed, each end with its uncertainty. Used by `xdc evidence`, the scenario runner's outage assertions and reports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace xdc::evidence {

// One probe attempt on the controller's timeline.
struct ProbePoint {
	int64_t tNs = 0;        // attempt start, controller wall clock (ns since the epoch)
	int64_t boundNs = 0;    // clock uncertainty of tNs (the agent's offset bound when it was mapped)
	bool ok = false;
	std::string error;      // the probe's error tag when !ok
};

struct Outage {
	// The outage began after the last successful attempt and no later than the first failed one: startNs is the
	// first failed attempt, and the true start lies within startNs - startBoundNs .. startNs (reported as
	// startNs +- startBoundNs, with startBoundNs = probe interval + clock bound, as users read it).
	int64_t startNs = 0, startBoundNs = 0;
	// Likewise the end: endNs is the first successful attempt after the failures (0 and open = true when the probes
	// ended while still failing).
	int64_t endNs = 0, endBoundNs = 0;
	bool open = false;
	size_t failed = 0;      // failed attempts inside
	std::string firstError; // the first failed attempt's error
	int64_t durationNs() const { return open ? 0 : endNs - startNs; }
};

struct OutageOptions {
	int64_t intervalNs = 0; // the probe's interval (added to every bound)
	size_t minFailed = 1;   // shorter runs of failures are not outages (a single lost SYN at 100 Hz is noise to some)
};

// points must be of ONE probe on ONE host; they are sorted by tNs here. An outage is a maximal run of failed
// attempts of at least minFailed.
std::vector<Outage> findOutages(std::vector<ProbePoint> points, const OutageOptions &opt);

} // namespace xdc::evidence
