// SPDX-License-Identifier: Apache-2.0
// report.html's headline panel and charts (report.cpp puts them on the page).
//
// The charts share one time axis: x = kChartLeft + (t - start) / (end - start) x kChartPixels, with the run's start
// and end; its ticks are labelled in seconds since the faults' agreed instant (the run's start without one) with the
// wall clock (UTC) below. Every chart carries the same markers: each fault's verified start and end, each phase's
// start and the toolkit's events (detection, takeover). Points are written with two decimals, so a test can read
// any mark's time back through the tick labels (tests/integration/scenario_test.cpp).
#pragma once

#include <string>

#include "controller/scenario/run_report.h"

namespace xdc::scenario {

constexpr double kChartLeft = 64, kChartRight = 16, kChartHeight = 190, kChartTop = 12, kChartBottom = 44;

// The headline panel: verdict, detection, failover, RTO, RPO, tuples lost and duplicated, longest outage, each
// with the bound it was held against where an assertion gave one.
std::string headlineHtml(const RunReport &r);
// Every chart of r.charts, or nothing.
std::string chartsHtml(const RunReport &r);
// A duration for people: ms below 10 s, s from 10 s, three significant figures (integer ms kept whole).
std::string durationText(double ms);

} // namespace xdc::scenario
