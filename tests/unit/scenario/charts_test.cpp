// SPDX-License-Identifier: Apache-2.0
// A run's charts (controller/scenario/charts.h) and their place in report.json and report.html.
#include <doctest/doctest.h>

#include "controller/scenario/charts.h"
#include "controller/scenario/report.h"
#include "controller/scenario/report_charts.h"

using namespace xdc::scenario;
using nlohmann::json;

TEST_CASE("charts: thinning keeps each pixel's lowest and highest point, in time order, and every gap")
{
	SeriesPoints pts;
	for (int i = 0; i < 10000; i++)
		pts.push_back({i * 1000, i == 5000 ? std::optional<double>() : std::optional<double>(i % 7 == 3 ? 100 : i % 5)});
	const auto out = thinSeries(pts, 0, 10000 * 1000, 100);
	CHECK(out.size() <= 2 * 100 + 3);
	CHECK(out.size() >= 100);
	for (size_t i = 1; i < out.size(); i++)
		CHECK(out[i - 1].first <= out[i].first);
	int gaps = 0, highs = 0;
	for (const auto &p : out) {
		gaps += !p.second;
		highs += p.second && *p.second == 100;
	}
	CHECK(gaps == 1);
	CHECK(highs >= 99); // each pixel's maximum survives
	// Small series stay whole; points outside the window go.
	const SeriesPoints small = {{-5, 1.0}, {10, 2.0}, {20, 3.0}, {99, 4.0}};
	CHECK(thinSeries(small, 0, 50, 100) == SeriesPoints{{10, 2.0}, {20, 3.0}});
}

TEST_CASE("charts: a gap where points are missing")
{
	const SeriesPoints pts = {{0, 1.0}, {100, 1.0}, {200, 1.0}, {300, 1.0}, {1300, 2.0}, {1400, 2.0}};
	const auto out = markGaps(pts);
	REQUIRE(out.size() == 7);
	CHECK(out[4] == std::pair<int64_t, std::optional<double>>{301, std::nullopt});
}

TEST_CASE("charts: built from the timeline and the toolkit's output, printed in report.json and read back")
{
	RunReport r;
	r.runId = "r1";
	r.startedNs = 1'000'000'000'000;
	r.endedNs = r.startedNs + 20'000'000'000;
	std::vector<json> timeline;
	for (int i = 0; i < 40; i++) {
		const int64_t t = r.startedNs + i * 500'000'000LL;
		timeline.push_back({{"t_ns", t}, {"kind", "probe.tcp"}, {"host", "dc1-h1"}, {"source", "wan"},
				    {"values", {{"ok", i >= 10 && i < 20 ? 0 : 1}, {"latency_ms", 0.25 + i}}}});
		timeline.push_back({{"t_ns", t}, {"kind", "host"}, {"host", "dc2-h1"},
				    {"values", {{"cpu_percent", 10.0 + i}, {"mem_used_percent", 50.0},
						{"net.eth0.rx_bytes", 1000.0 * i}, {"net.eth0.tx_bytes", 0}, {"net.lo.rx_bytes", 1e9 * i}}}});
	}
	std::map<std::string, std::vector<xdc::streams::OutputPoint>> output;
	for (int i = 0; i < 20; i++)
		output["dc1"].push_back({.tNs = r.startedNs + i * 1'000'000'000LL, .retrievedNs = 0, .value = 200 * i});
	r.charts = buildCharts(r, timeline, output);
	std::vector<std::string> ids;
	for (const auto &c : r.charts)
		ids.push_back(c.id);
	CHECK(ids == std::vector<std::string>{"output_rate", "probe_latency", "host_cpu", "host_memory", "host_network"});
	const ReportChart &rate = r.charts[0];
	REQUIRE(rate.series.size() == 1);
	CHECK(rate.series[0].points.size() == 19);
	CHECK(*rate.series[0].points[3].second == doctest::Approx(200.0)); // tuples per second
	const ReportChart &probe = r.charts[1];
	REQUIRE(probe.series.size() == 2);
	CHECK(probe.series[0].name == "wan@dc1-h1");
	CHECK(probe.series[1].name == "wan@dc1-h1 failed");
	CHECK(probe.series[1].style == "points");
	CHECK(probe.series[1].points.size() == 10);
	// Loopback traffic is not the host's network: 1000 bytes per 500 ms.
	CHECK(*r.charts[4].series[0].points[1].second == doctest::Approx(2000.0));

	const json j = toJson(r);
	REQUIRE(j["charts"].size() == 5);
	CHECK(j["charts"][1]["series"][0]["points"][0] == json::array({r.startedNs, 0.25}));
	auto back = reportFromJson(j);
	REQUIRE(back.ok());
	CHECK(back->charts == r.charts);

	// The page: a chart per entry, each with its ticks and the series as paths.
	const std::string html = chartsHtml(r);
	CHECK(html.find("<svg class=\"chart\" data-chart=\"output_rate\"") != std::string::npos);
	CHECK(html.find("class=\"tick-label\"") != std::string::npos);
	CHECK(html.find("data-series=\"wan@dc1-h1 failed\"") != std::string::npos);
}

TEST_CASE("charts: durations for people")
{
	CHECK(durationText(0.2712) == "0.271 ms");
	CHECK(durationText(12.34) == "12.3 ms");
	CHECK(durationText(2012.3) == "2012 ms");
	CHECK(durationText(22754) == "22.8 s");
}
