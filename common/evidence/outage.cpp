// SPDX-License-Identifier: Apache-2.0
// Outage intervals from probe samples: maximal runs of failed attempts, each end bounded by the probe interval (the
// change happened somewhere between two attempts) plus the clock bound of the attempt that marks it.
#include "common/evidence/outage.h"

#include <algorithm>

namespace xdc::evidence {

std::vector<Outage> findOutages(std::vector<ProbePoint> points, const OutageOptions &opt)
{
	// Stable, so that equal timestamps (two samples mapped onto the same ns) keep the recorder's order.
	std::stable_sort(points.begin(), points.end(),
			 [](const ProbePoint &a, const ProbePoint &b) { return a.tNs < b.tNs; });
	const size_t minFailed = std::max<size_t>(opt.minFailed, 1);

	std::vector<Outage> out;
	Outage cur;
	bool inRun = false;
	auto finish = [&]() {
		if (cur.failed >= minFailed)
			out.push_back(cur);
		inRun = false;
		cur = Outage{};
	};
	for (const auto &p : points) {
		if (!p.ok) {
			if (!inRun) {
				inRun = true;
				cur.startNs = p.tNs;
				cur.startBoundNs = opt.intervalNs + p.boundNs;
				cur.firstError = p.error;
			}
			cur.failed++;
			continue;
		}
		if (inRun) {
			cur.endNs = p.tNs;
			cur.endBoundNs = opt.intervalNs + p.boundNs;
			finish();
		}
	}
	if (inRun) {
		// The probes stopped while still failing: the end is unknown.
		cur.open = true;
		cur.endNs = 0;
		cur.endBoundNs = 0;
		finish();
	}
	return out;
}

} // namespace xdc::evidence
