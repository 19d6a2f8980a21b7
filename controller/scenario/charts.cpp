// SPDX-License-Identifier: Apache-2.0
// A run's charts (charts.h).
#include "controller/scenario/charts.h"

#include <algorithm>
#include <cmath>

#include "common/clock.h"

namespace xdc::scenario {

using nlohmann::json;

SeriesPoints thinSeries(const SeriesPoints &points, int64_t t0, int64_t t1, int pixels)
{
	SeriesPoints in;
	for (const auto &p : points)
		if (p.first >= t0 && p.first <= t1)
			in.push_back(p);
	if (in.size() <= static_cast<size_t>(2 * pixels) || t1 <= t0)
		return in;
	SeriesPoints out;
	const double span = static_cast<double>(t1 - t0);
	auto bucketOf = [&](int64_t t) {
		return std::min(pixels - 1, static_cast<int>(static_cast<double>(t - t0) / span * pixels));
	};
	// Per pixel, the lowest and the highest point of each run of values between gaps, in time order (kNone: the
	// run is empty).
	constexpr size_t kNone = static_cast<size_t>(-1);
	size_t lo = kNone, hi = kNone;
	auto flush = [&] {
		if (lo != kNone) {
			const size_t first = std::min(lo, hi), last = std::max(lo, hi);
			out.push_back(in[first]);
			if (last != first)
				out.push_back(in[last]);
		}
		lo = hi = kNone;
	};
	int bucket = -1;
	for (size_t i = 0; i < in.size(); i++) {
		if (const int b = bucketOf(in[i].first); b != bucket) {
			flush();
			bucket = b;
		}
		if (!in[i].second) {
			flush();
			out.push_back(in[i]);
			continue;
		}
		const double v = *in[i].second;
		if (lo == kNone || v < *in[lo].second)
			lo = i;
		if (hi == kNone || v > *in[hi].second)
			hi = i;
	}
	flush();
	return out;
}

SeriesPoints markGaps(const SeriesPoints &points, double factor)
{
	if (points.size() < 3)
		return points;
	std::vector<int64_t> d;
	for (size_t i = 1; i < points.size(); i++)
		d.push_back(points[i].first - points[i - 1].first);
	std::nth_element(d.begin(), d.begin() + static_cast<long>(d.size() / 2), d.end());
	const double median = static_cast<double>(d[d.size() / 2]);
	SeriesPoints out;
	for (size_t i = 0; i < points.size(); i++) {
		if (i > 0 && median > 0 && static_cast<double>(points[i].first - points[i - 1].first) > factor * median &&
		    points[i - 1].second && points[i].second)
			out.push_back({points[i - 1].first + 1, std::nullopt});
		out.push_back(points[i]);
	}
	return out;
}

namespace {

ChartSeries makeSeries(const std::string &name, SeriesPoints pts, int64_t t0, int64_t t1, bool gaps = true,
		       const std::string &style = "line")
{
	ChartSeries s;
	s.name = name;
	s.style = style;
	std::stable_sort(pts.begin(), pts.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
	s.raw = pts.size();
	s.points = thinSeries(gaps ? markGaps(pts) : pts, t0, t1);
	return s;
}

// A counter's rate per second between consecutive readings; a counter that went down (a restart) is a gap.
SeriesPoints rateOf(const std::vector<std::pair<int64_t, double>> &counter)
{
	SeriesPoints out;
	for (size_t i = 1; i < counter.size(); i++) {
		const auto &[ta, a] = counter[i - 1];
		const auto &[tb, b] = counter[i];
		if (tb <= ta)
			continue;
		if (b < a)
			out.push_back({tb, std::nullopt});
		else
			out.push_back({tb, (b - a) / (static_cast<double>(tb - ta) / 1e9)});
	}
	return out;
}

std::optional<double> number(const json &v)
{
	return v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt;
}

} // namespace

std::vector<ReportChart> buildCharts(const RunReport &r, const std::vector<json> &timeline,
				     const std::map<std::string, std::vector<streams::OutputPoint>> &output)
{
	const int64_t t0 = r.startedNs, t1 = std::max(r.endedNs.value_or(t0 + 1), t0 + 1);
	std::vector<ReportChart> charts;
	auto add = [&](ReportChart c) {
		std::erase_if(c.series, [](const ChartSeries &s) { return s.points.empty(); });
		if (!c.series.empty())
			charts.push_back(std::move(c));
	};

	// The application's output per DC, from the toolkit view's port metric (tuples per second).
	ReportChart out{.id = "output_rate", .title = "Output rate per DC", .unit = "tuples/s", .series = {}};
	for (const auto &[dc, pts] : output) {
		std::vector<std::pair<int64_t, double>> counter;
		for (const auto &p : pts)
			counter.push_back({p.tNs, static_cast<double>(p.value)});
		std::stable_sort(counter.begin(), counter.end());
		out.series.push_back(makeSeries(dc, rateOf(counter), t0, t1));
	}
	add(std::move(out));

	// From the evidence timeline: probes and host samplers.
	std::map<std::string, SeriesPoints> latency, failed, cpu, mem;
	std::map<std::string, std::vector<std::pair<int64_t, double>>> net;
	for (const auto &e : timeline) {
		const std::string kind = e.value("kind", "");
		const int64_t t = e.value("t_ns", int64_t{0});
		const json values = e.value("values", json::object());
		const std::string host = e.value("host", "");
		if (kind == "probe.tcp" || kind == "probe.http") {
			const std::string name = e.value("source", "") + "@" + host;
			const auto ms = number(values.value("latency_ms", json()));
			if (!ms)
				continue;
			if (values.value("ok", 0) == 1)
				latency[name].push_back({t, ms});
			else
				failed[name].push_back({t, ms});
		} else if (kind == "host") {
			if (auto v = number(values.value("cpu_percent", json())))
				cpu[host].push_back({t, v});
			if (auto v = number(values.value("mem_used_percent", json())))
				mem[host].push_back({t, v});
			double bytes = 0;
			bool any = false;
			for (const auto &[k, v] : values.items())
				if (k.rfind("net.", 0) == 0 && k.rfind("net.lo.", 0) != 0 &&
				    (k.ends_with(".rx_bytes") || k.ends_with(".tx_bytes")) && v.is_number()) {
					bytes += v.get<double>();
					any = true;
				}
			if (any)
				net[host].push_back({t, bytes});
		}
	}
	ReportChart probes{.id = "probe_latency", .title = "Probe latency and failures", .unit = "ms", .series = {}};
	for (const auto &[name, pts] : latency)
		probes.series.push_back(makeSeries(name, pts, t0, t1));
	for (const auto &[name, pts] : failed)
		probes.series.push_back(makeSeries(name + " failed", pts, t0, t1, false, "points"));
	add(std::move(probes));
	ReportChart cpuChart{.id = "host_cpu", .title = "Host CPU", .unit = "%", .series = {}};
	for (const auto &[host, pts] : cpu)
		cpuChart.series.push_back(makeSeries(host, pts, t0, t1));
	add(std::move(cpuChart));
	ReportChart memChart{.id = "host_memory", .title = "Host memory used", .unit = "%", .series = {}};
	for (const auto &[host, pts] : mem)
		memChart.series.push_back(makeSeries(host, pts, t0, t1));
	add(std::move(memChart));
	ReportChart netChart{.id = "host_network", .title = "Host network (received + sent)", .unit = "bytes/s",
			     .series = {}};
	for (auto &[host, counter] : net) {
		std::stable_sort(counter.begin(), counter.end());
		netChart.series.push_back(makeSeries(host, rateOf(counter), t0, t1));
	}
	add(std::move(netChart));

	// Each metric source, one chart each (their units differ): a series per label set.
	if (r.metrics && r.metrics->samples) {
		std::map<std::string, std::map<std::string, SeriesPoints>> bySource;
		for (const auto &x : *r.metrics->samples) {
			if (!x.value("ok", false))
				continue;
			const std::string source = x.value("source", "");
			const int64_t t = x.value("t_ns", int64_t{0});
			for (const auto &s : x.value("series", json::array())) {
				const json labels = s.value("labels", json::object());
				const std::string name = labels.empty() ? source : labels.dump();
				if (auto v = number(s.value("value", json())))
					bySource[source][name].push_back({t, v});
			}
		}
		for (const auto &[source, series] : bySource) {
			ReportChart c{.id = "metric:" + source, .title = "Metric source " + source, .unit = "", .series = {}};
			for (const auto &[name, pts] : series)
				c.series.push_back(makeSeries(name, pts, t0, t1));
			add(std::move(c));
		}
	}
	return charts;
}

} // namespace xdc::scenario
