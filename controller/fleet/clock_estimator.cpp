// SPDX-License-Identifier: Apache-2.0
// Min-RTT clock offset estimation.
#include "controller/fleet/clock_estimator.h"

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace xdc::fleet {

bool ClockEstimator::add(const ClockExchange &ex, int64_t nowMono)
{
	// (Over a long hold, drift alone can make a short delay come out slightly negative.)
	if (ex.delay() < -driftNs(ex.hold()))
		return false;
	if (!window_.empty()) {
		// A step: the new exchange's interval [offset - delay/2, offset + delay/2] and the current estimate's
		// interval do not overlap. Old exchanges describe a clock that no longer exists.
		const ClockEstimate cur = estimate(nowMono);
		const int64_t half = std::max<int64_t>(ex.delay(), 0) / 2 + opt_.resolutionNs + driftNs(ex.hold());
		if (cur.valid && std::llabs(ex.offset() - cur.offsetNs) > half + cur.boundNs)
			window_.clear();
	}
	window_.push_back({ex, nowMono});
	if (window_.size() > opt_.window)
		window_.erase(window_.begin(), window_.begin() + static_cast<std::ptrdiff_t>(window_.size() - opt_.window));
	prune(nowMono);
	return true;
}

void ClockEstimator::prune(int64_t nowMono)
{
	size_t old = 0;
	while (old < window_.size() && nowMono - window_[old].mono > opt_.maxAgeNs)
		old++;
	window_.erase(window_.begin(), window_.begin() + static_cast<std::ptrdiff_t>(old));
}

ClockEstimate ClockEstimator::estimate(int64_t nowMono) const
{
	ClockEstimate e;
	int64_t bestBound = std::numeric_limits<int64_t>::max();
	for (const auto &w : window_) {
		const int64_t age = nowMono - w.mono;
		if (age > opt_.maxAgeNs)
			continue;
		const int64_t bound =
			std::max<int64_t>(w.ex.delay(), 0) / 2 + opt_.resolutionNs + driftNs(age + w.ex.hold());
		if (bound < bestBound) {
			bestBound = bound;
			e.valid = true;
			e.offsetNs = w.ex.offset();
			e.boundNs = bound;
			e.rttNs = std::max<int64_t>(w.ex.delay(), 0);
			e.ageNs = age;
		}
		e.samples++;
	}
	return e;
}

} // namespace xdc::fleet
