// SPDX-License-Identifier: Apache-2.0
// The table of assertion kinds: a new kind is one line here (docs/EXTENDING.md).
#include <set>

#include "controller/scenario/assertions/kinds.h"

namespace xdc::scenario {

const std::vector<AssertionKind> &assertionKinds()
{
	static const std::vector<AssertionKind> kinds = {
		{"outage", parseOutage},
		{"success_ratio", parseSuccessRatio},
		{"process_events", parseProcessEvents},
		{"metric", parseMetric},
		{"streams", parseStreams},
		{"data", parseData},
		{"throughput", parseThroughput},
	};
	return kinds;
}

void readCountBounds(MapReader &r, std::optional<int64_t> &min, std::optional<int64_t> &max)
{
	int64_t v = -1;
	r.integer("count_min", v, 0, 1000000);
	if (v >= 0)
		min = v;
	v = -1;
	r.integer("count_max", v, 0, 1000000);
	if (v >= 0)
		max = v;
}

bool isWindowPhase(const std::string &phase)
{
	static const std::set<std::string> phases = {"", "baseline", "inject", "observe", "recover"};
	return phases.count(phase) > 0;
}

} // namespace xdc::scenario
