// SPDX-License-Identifier: Apache-2.0
// report.html for a big run (Insight #21 item 6): a 100 s run whose evidence timeline holds N entries (default
// 100,000: two TCP probes on each of two hosts at 250 Hz, failing during the faults, plus host samplers), with
// Streams output per DC, data figures and two metric sources. Measures, in one invocation:
//   - xdc writing the run's reports (charts built and thinned, report.json, junit.xml, report.html), against a
//     baseline of the same reports without charts (the page before charts);
//   - report.html's size (goal < 10 MB) and each chart's points against the raw series;
//   - headless Chromium loading the page (to the DOM, scripts run), against loading the baseline page.
// Goals: write < 2 s, page < 10 MB, Chromium < 3 s. Exit 1 if a goal is missed.
//
// Usage: report_bench [--entries 100000] [--loads 3] [--dir DIR] [--json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "bench/support/bench.h"
#include "common/clock.h"
#include "common/sys/process.h"
#include "controller/scenario/charts.h"
#include "controller/scenario/report.h"

using namespace xdc;
using namespace xdc::scenario;
using nlohmann::json;

namespace {

constexpr int64_t kSec = 1'000'000'000;

double secondsOf(const std::function<void()> &f)
{
	const auto t0 = std::chrono::steady_clock::now();
	f();
	return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

uint64_t fileSize(const std::string &p)
{
	struct stat st{};
	return ::stat(p.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

RunReport makeReport(int64_t t0)
{
	RunReport r;
	r.runId = "r-bench";
	r.scenario = {.name = "bench-failover", .description = "a big run", .file = "/bench.yaml"};
	r.startedNs = t0;
	r.endedNs = t0 + 100 * kSec;
	r.verdict = "passed";
	r.exitCode = 0;
	r.phases = {{.name = "baseline", .status = "passed", .startNs = t0, .endNs = t0 + 10 * kSec},
		    {.name = "inject", .status = "passed", .startNs = t0 + 10 * kSec, .endNs = t0 + 11 * kSec,
		     .injectStartNs = t0 + 10 * kSec + 500'000'000},
		    {.name = "observe", .status = "passed", .startNs = t0 + 11 * kSec, .endNs = t0 + 80 * kSec},
		    {.name = "recover", .status = "passed", .startNs = t0 + 80 * kSec, .endNs = t0 + 100 * kSec}};
	for (int i = 0; i < 2; i++) {
		ReportFault f;
		f.id = fmt::format("r-bench.{}", i + 1);
		f.kind = "network.partition";
		f.spec = "{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 30s}";
		f.hosts = std::vector<std::string>{"dc1-h1", "dc1-h2"};
		f.windowStartNs = t0 + (10 + 40 * i) * kSec + 500'000'000;
		f.windowEndNs = *f.windowStartNs + 30 * kSec;
		f.windowBoundNs = 250'000;
		r.faults.push_back(f);
	}
	for (const char *h : {"dc1-h1", "dc1-h2", "dc2-h1", "dc2-h2"})
		r.hosts.push_back({.host = h, .dc = std::string(h).substr(0, 3), .agent = h, .state = "live", .clock = {}});
	StreamsSection st;
	st.detectionMs = 3012.5;
	st.failoverMs = 5230.0;
	st.events = json::array({{{"t_ns", t0 + 13 * kSec}, {"kind", "remote_down"}, {"dc", "dc2"}, {"bound_ms", 200}},
				 {{"t_ns", t0 + 16 * kSec}, {"kind", "takeover_complete"}, {"dc", "dc2"}, {"bound_ms", 200}}});
	r.streams = st;
	DataSection d;
	d.rtoMs = 6100;
	d.rpoS = 2.5;
	d.validation = json{{"total", {{"sent", 20000}, {"lost", 120}, {"duplicated", 300}}}};
	r.data = d;
	MetricsSection m;
	m.intervalMs = 1000;
	json samples = json::array();
	for (int s = 0; s < 100; s++)
		for (const char *src : {"heap_used", "sink_processed"})
			samples.push_back({{"source", src}, {"t_ns", t0 + s * kSec}, {"ok", true},
					   {"series", json::array({{{"labels", json::object()}, {"value", 1000.0 * s}}})}});
	m.samples = samples;
	r.metrics = m;
	return r;
}

} // namespace

int main(int argc, char **argv)
{
	bench::Flags flags(argc, argv);
	const int64_t entries = flags.getInt("--entries", 100000);
	const int loads = static_cast<int>(flags.getInt("--loads", 3));
	const std::string dir = flags.get("--dir", fmt::format("/tmp/xdc-report-bench-{}", ::getpid()));
	std::filesystem::remove_all(dir);
	std::filesystem::create_directories(dir + "/charts");
	std::filesystem::create_directories(dir + "/baseline");

	const int64_t t0 = clk::wallNs() - 200 * kSec;
	RunReport report = makeReport(t0);
	// The timeline: probes at a rate that makes `entries` over 100 s (4 series), failing inside the faults.
	std::vector<json> timeline;
	timeline.reserve(static_cast<size_t>(entries) + 1000);
	std::mt19937_64 rng(7);
	std::lognormal_distribution<double> latency(-1.5, 0.4);
	const int64_t step = 100 * kSec * 4 / std::max<int64_t>(entries, 4);
	for (int64_t t = t0; t < t0 + 100 * kSec && static_cast<int64_t>(timeline.size()) < entries; t += step)
		for (const char *host : {"dc1-h1", "dc1-h2"})
			for (const char *probe : {"wan", "rest"}) {
				bool down = false;
				for (const auto &f : report.faults)
					down |= t >= *f.windowStartNs && t < *f.windowEndNs;
				timeline.push_back({{"t_ns", t}, {"kind", "probe.tcp"}, {"host", host}, {"source", probe},
						    {"values", {{"ok", down ? 0 : 1}, {"latency_ms", down ? 200.0 : latency(rng)}}}});
			}
	for (int64_t t = t0; t < t0 + 100 * kSec; t += kSec / 2)
		for (const auto &h : report.hosts)
			timeline.push_back({{"t_ns", t}, {"kind", "host"}, {"host", h.host},
					    {"values", {{"cpu_percent", 20 + 10 * std::sin(t / 1e10)},
							{"mem_used_percent", 40.0},
							{"net.eth0.rx_bytes", static_cast<double>(t - t0) / 1e3},
							{"net.eth0.tx_bytes", static_cast<double>(t - t0) / 2e3}}}});
	std::stable_sort(timeline.begin(), timeline.end(),
			 [](const json &a, const json &b) { return a["t_ns"].get<int64_t>() < b["t_ns"].get<int64_t>(); });
	std::map<std::string, std::vector<streams::OutputPoint>> output;
	for (int64_t t = t0, n = 0; t < t0 + 100 * kSec; t += kSec / 5, n += 40) {
		output["dc1"].push_back({.tNs = t, .retrievedNs = t, .value = t < t0 + 11 * kSec ? n : 440});
		output["dc2"].push_back({.tNs = t, .retrievedNs = t, .value = t < t0 + 16 * kSec ? 0 : n - 640});
	}

	// xdc: charts built and thinned, then the three files; the baseline writes the same run without charts.
	RunReport baseline = report;
	const double baseWrite = secondsOf([&] { (void)writeReports(baseline, dir + "/baseline"); });
	const double chartWrite = secondsOf([&] {
		report.charts = buildCharts(report, timeline, output);
		(void)writeReports(report, dir + "/charts");
	});
	const uint64_t pageBytes = fileSize(dir + "/charts/report.html"),
		       basePageBytes = fileSize(dir + "/baseline/report.html");
	uint64_t raw = 0, drawn = 0;
	for (const auto &c : report.charts)
		for (const auto &s : c.series) {
			raw += s.raw;
			drawn += s.points.size();
		}

	// Chromium: the page loaded to its DOM with its scripts run, against the baseline page; the median of `loads`.
	std::string chromium;
	for (const char *c : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
		if (::access(c, X_OK) == 0)
			chromium = c;
	auto load = [&](const std::string &page) {
		std::vector<double> times;
		for (int i = 0; i < loads; i++) {
			const std::string profile = fmt::format("{}/profile-{}", dir, i);
			times.push_back(secondsOf([&] {
				(void)sys::run({chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
						"--user-data-dir=" + profile, "--window-size=1280,1000", "--dump-dom",
						"file://" + page},
					       {.timeout = std::chrono::seconds(120)});
			}));
			std::filesystem::remove_all(profile);
		}
		std::sort(times.begin(), times.end());
		return times[times.size() / 2];
	};
	double pageLoad = -1, baseLoad = -1;
	if (!chromium.empty()) {
		baseLoad = load(dir + "/baseline/report.html");
		pageLoad = load(dir + "/charts/report.html");
	}
	const bool ok = chartWrite < 2.0 && pageBytes < 10u << 20 && pageLoad >= 0 && pageLoad < 3.0;
	const json out = {{"bench", "report"},
			  {"timeline_entries", timeline.size()},
			  {"charts", report.charts.size()},
			  {"series_points_raw", raw},
			  {"series_points_drawn", drawn},
			  {"write_s", chartWrite},
			  {"baseline_write_s", baseWrite},
			  {"write_ratio", baseWrite > 0 ? chartWrite / baseWrite : 0},
			  {"page_bytes", pageBytes},
			  {"baseline_page_bytes", basePageBytes},
			  {"chromium_load_s", pageLoad},
			  {"baseline_chromium_load_s", baseLoad},
			  {"load_ratio", baseLoad > 0 ? pageLoad / baseLoad : 0},
			  {"goals_met", ok}};
	if (flags.has("--json"))
		printf("%s\n", out.dump().c_str());
	else
		printf("report bench: %zu timeline entries, %zu charts, %llu raw points drawn as %llu\n"
		       "  write (charts + report.json + junit.xml + report.html): %.3f s (baseline without charts %.3f s, "
		       "%.2f x)\n  report.html: %.2f MB (baseline %.2f MB)\n  Chromium load: %.2f s (baseline %.2f s, "
		       "%.2f x)\n  goals (write < 2 s, page < 10 MB, load < 3 s): %s\n",
		       timeline.size(), report.charts.size(), static_cast<unsigned long long>(raw),
		       static_cast<unsigned long long>(drawn), chartWrite, baseWrite, out["write_ratio"].get<double>(),
		       pageBytes / 1048576.0, basePageBytes / 1048576.0, pageLoad, baseLoad, out["load_ratio"].get<double>(),
		       ok ? "met" : "MISSED");
	if (!flags.has("--dir"))
		std::filesystem::remove_all(dir);
	return ok ? 0 : 1;
}
