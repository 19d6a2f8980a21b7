// SPDX-License-Identifier: Apache-2.0
// The charts of a run's report (run_report.h ReportChart; drawn by report.html on one time axis), built when the
// run has ended from what it recorded: the Streams output rate per DC, probe latency and failures per probe and
// host, host CPU, memory and network from the samplers, and each metric source. Every series is thinned to at most
// two points per pixel of the plot (the lowest and the highest of each pixel, gaps kept), so a long run's page
// stays small and its extremes stay visible.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/scenario/run_report.h"
#include "controller/streams/toolkit_view.h"

namespace xdc::scenario {

using SeriesPoints = std::vector<std::pair<int64_t, std::optional<double>>>;

// The plot's width in pixels (report.html draws every chart this wide).
constexpr int kChartPixels = 1100;

// Thins a time-ordered series for a plot `pixels` wide over [t0, t1]: points outside are dropped; a series of at
// most 2 x pixels points is kept whole; else each pixel keeps its lowest and its highest point, in time order, and
// every gap (null) is kept.
SeriesPoints thinSeries(const SeriesPoints &points, int64_t t0, int64_t t1, int pixels = kChartPixels);

// Inserts a gap (null) wherever two consecutive points are more than `factor` x the series' median spacing apart,
// so a line is not drawn across missing data.
SeriesPoints markGaps(const SeriesPoints &points, double factor = 3.0);

// Every chart of the run, in the page's order; charts with no data are left out.
std::vector<ReportChart> buildCharts(const RunReport &report, const std::vector<nlohmann::json> &timeline,
				     const std::map<std::string, std::vector<streams::OutputPoint>> &output);

} // namespace xdc::scenario
