// SPDX-License-Identifier: Apache-2.0
// The run's metric sources (see metrics_follow.h).
#include "controller/scenario/metrics_follow.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

#include "common/clock.h"
#include "controller/metrics/prometheus.h"

namespace xdc::scenario {

using nlohmann::json;
using metrics::MetricSample;

namespace {

metrics::HttpTarget httpTarget(const MetricSourceSpec &s)
{
	metrics::HttpTarget t;
	t.url = s.url;
	t.basicAuthFile = s.basicAuthFile;
	t.bearerTokenFile = s.bearerTokenFile;
	t.caFile = s.caFile;
	t.insecure = s.insecure;
	t.timeoutMs = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(s.timeout).count());
	t.connectTimeoutMs = std::min(t.timeoutMs, 2000);
	return t;
}

bool compare(double x, const std::string &op, double v)
{
	if (std::isnan(x))
		return op == "!=";
	if (op == "<")
		return x < v;
	if (op == "<=")
		return x <= v;
	if (op == "==")
		return x == v;
	if (op == "!=")
		return x != v;
	if (op == ">=")
		return x >= v;
	return x > v;
}

std::string labelsText(const metrics::SeriesLabels &l)
{
	if (l.empty())
		return "value";
	std::string out = "{";
	for (const auto &[k, v] : l)
		out += fmt::format("{}{}=\"{}\"", out.size() > 1 ? ", " : "", k, v);
	return out + "}";
}

} // namespace

bool predicateHolds(const MetricPredicate &p, const MetricSample &s)
{
	if (!s.ok)
		return false;
	if (p.op.empty())
		return metrics::holds(s);
	for (const auto &v : s.reading.series)
		if (compare(v.value, p.op, p.value))
			return true;
	return false;
}

std::string evaluateMetricAssertion(const MetricAssertion &a, const std::vector<MetricSample> &samples, int64_t fromNs,
				    int64_t toNs, json &observed)
{
	size_t n = 0, ok = 0, held = 0;
	std::optional<int64_t> firstHeld, lastHeld;
	std::string firstError;
	std::map<metrics::SeriesLabels, std::vector<double>> perSeries;
	for (const auto &s : samples) {
		if (s.source != a.pred.source || s.tNs < fromNs || s.tNs >= toNs)
			continue;
		n++;
		if (!s.ok) {
			if (firstError.empty())
				firstError = s.error;
			continue;
		}
		ok++;
		if (predicateHolds(a.pred, s)) {
			held++;
			if (!firstHeld)
				firstHeld = s.tNs;
			lastHeld = s.tNs;
		}
		for (const auto &v : s.reading.series)
			perSeries[v.labels].push_back(v.value);
	}
	observed["samples"] = n;
	observed["failed"] = n - ok;
	observed["held"] = held;
	observed["from_ns"] = fromNs;
	if (toNs != INT64_MAX)
		observed["to_ns"] = toNs;
	if (firstHeld) {
		observed["first_held_ns"] = *firstHeld;
		observed["last_held_ns"] = *lastHeld;
	}
	if (!firstError.empty())
		observed["first_error"] = firstError;
	if (n == 0)
		return fmt::format("no samples of {} in the window ({})", a.pred.source, a.during);
	if (ok == 0)
		return fmt::format("every sample of {} in the window failed: {}", a.pred.source, firstError);
	const std::string cond = a.pred.op.empty() ? "the condition" : fmt::format("value {} {:g}", a.pred.op, a.pred.value);
	if (a.holds == "sometimes" && held == 0)
		return fmt::format("{} never held in {} samples during {}", cond, ok, a.during);
	if (a.holds == "always" && held != n)
		return fmt::format("{} held at {} of {} samples during {} (expected always)", cond, held, n, a.during);
	if (a.holds == "never" && held > 0)
		return fmt::format("{} held at {} of {} samples during {} (expected never; first {:.1f} s after the window "
				   "began)", cond, held, n, a.during, static_cast<double>(*firstHeld - fromNs) / 1e9);
	if (!a.min && !a.max)
		return "";
	json stats = json::array();
	std::string failure;
	if (perSeries.empty())
		failure = fmt::format("no values of {} in the window", a.pred.source);
	for (const auto &[labels, v] : perSeries) {
		double r = v.back();
		if (a.stat == "min")
			r = *std::min_element(v.begin(), v.end());
		else if (a.stat == "max")
			r = *std::max_element(v.begin(), v.end());
		else if (a.stat == "first")
			r = v.front();
		else if (a.stat == "increase")
			r = v.back() - v.front();
		else if (a.stat == "mean") {
			double sum = 0;
			for (double x : v)
				sum += x;
			r = sum / static_cast<double>(v.size());
		}
		stats.push_back({{"labels", labels}, {a.stat, r}, {"values", v.size()}});
		std::string why;
		if (std::isnan(r))
			why = fmt::format("{} is NaN", a.stat);
		else if (a.min && r < *a.min)
			why = fmt::format("{} = {:g} < min {:g}", a.stat, r, *a.min);
		else if (a.max && r > *a.max)
			why = fmt::format("{} = {:g} > max {:g}", a.stat, r, *a.max);
		if (!why.empty() && failure.empty())
			failure = fmt::format("{} {} during {}: {}", a.pred.source, labelsText(labels), a.during, why);
	}
	observed["series"] = stats;
	return failure;
}

Result<void> addToTimeline(const std::string &bundleDir, const std::vector<MetricSample> &samples)
{
	const std::string path = bundleDir + "/timeline.jsonl", tmp = path + ".metrics.tmp";
	std::vector<std::pair<int64_t, std::string>> ours;
	for (const auto &s : samples) {
		json e = json::object();
		e["bound_ns"] = s.boundNs;
		e["host"] = "controller";
		e["kind"] = "metric";
		e["source"] = s.source;
		json j = metrics::toJson(s);
		e["values"] = {{"ok", s.ok}, {"holds", metrics::holds(s)}};
		if (s.ok) {
			e["series"] = j["series"];
			e["tags"] = {{"reading", j["kind"]}};
		} else {
			e["tags"] = {{"error", s.error}, {"error_kind", s.errorKind}};
		}
		// t_ns first, as every timeline line: readers take the time from the start of a line.
		const std::string rest = e.dump(-1, ' ', false, json::error_handler_t::replace);
		ours.emplace_back(s.tNs, fmt::format("{{\"t_ns\":{},{}", s.tNs, rest.substr(1)));
	}
	std::stable_sort(ours.begin(), ours.end(), [](const auto &x, const auto &y) { return x.first < y.first; });
	std::ifstream in(path);
	if (!in)
		return makeError(Errc::NotFound, "{}: no timeline.jsonl", bundleDir);
	std::ofstream out(tmp, std::ios::trunc);
	if (!out)
		return makeError(Errc::Io, "cannot write {}", tmp);
	size_t k = 0;
	std::string line;
	while (std::getline(in, line)) {
		int64_t t = INT64_MAX;
		if (line.rfind("{\"t_ns\":", 0) == 0)
			t = std::strtoll(line.c_str() + 8, nullptr, 10);
		while (k < ours.size() && ours[k].first < t)
			out << ours[k++].second << "\n";
		out << line << "\n";
	}
	while (k < ours.size())
		out << ours[k++].second << "\n";
	out.close();
	if (!out || std::rename(tmp.c_str(), path.c_str()) != 0) {
		std::remove(tmp.c_str());
		return makeError(Errc::Io, "cannot write {}", path);
	}
	return success();
}

MetricsFollower::~MetricsFollower() { stop(); }

Result<void> MetricsFollower::start(const MetricsBlock &block, const std::vector<streams::Endpoint> &endpoints,
				    std::function<std::string()> activeDc)
{
	std::vector<std::unique_ptr<metrics::MetricSource>> built;
	for (const auto &s : block.sources) {
		if (s.kind == "streams") {
			if (endpoints.empty())
				return makeError(Errc::Invalid, "{}: metrics source {}: no streams config to read the instances from",
						 s.where, s.name);
			bool known = s.dc == "active";
			for (const auto &ep : endpoints)
				known |= ep.dc == s.dc;
			if (!known) {
				std::vector<std::string> dcs;
				for (const auto &ep : endpoints)
					dcs.push_back(ep.dc);
				return makeError(Errc::Invalid, "{}: metrics source {}: the streams config has no instance for DC "
						 "'{}' (it has: {})", s.where, s.name, s.dc, fmt::join(dcs, ", "));
			}
			metrics::StreamsSelector sel{s.dc, s.job, s.operators, s.pes, s.peLevel, s.metrics, s.port};
			built.push_back(metrics::makeStreamsSource(s.name, endpoints, sel, activeDc));
			continue;
		}
		const metrics::HttpTarget t = httpTarget(s);
		if (s.kind == "prom")
			built.push_back(metrics::makePromSource(s.name, t, s.query));
		else
			built.push_back(metrics::makeJmxSource(s.name, t, s.mbean, s.attribute, s.path));
	}
	start(std::move(built), block.interval.count());
	return success();
}

void MetricsFollower::start(std::vector<std::unique_ptr<metrics::MetricSource>> sources, int64_t intervalNs)
{
	sources_ = std::move(sources);
	intervalNs_ = intervalNs;
	for (size_t i = 0; i < sources_.size(); i++)
		threads_.emplace_back([this, i] { loop(i); });
}

void MetricsFollower::stop()
{
	{
		std::lock_guard lk(m_);
		stop_ = true;
	}
	cv_.notify_all();
	for (auto &t : threads_)
		if (t.joinable())
			t.join();
	threads_.clear();
}

void MetricsFollower::loop(size_t i)
{
	int64_t next = clk::monoNs();
	for (;;) {
		MetricSample s = metrics::takeSample(*sources_[i]);
		{
			std::lock_guard lk(m_);
			samples_.push_back(std::move(s));
		}
		cv_.notify_all();
		// An absolute schedule: a slow sample does not push the later ones back.
		next += intervalNs_;
		const int64_t now = clk::monoNs();
		if (next < now)
			next = now;
		std::unique_lock lk(m_);
		if (cv_.wait_for(lk, std::chrono::nanoseconds(next - now), [this] { return stop_; }))
			return;
	}
}

std::vector<MetricSample> MetricsFollower::samples(const std::string &source) const
{
	std::lock_guard lk(m_);
	std::vector<MetricSample> out;
	for (const auto &s : samples_)
		if (source.empty() || s.source == source)
			out.push_back(s);
	std::stable_sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.tNs < b.tNs; });
	return out;
}

std::optional<MetricSample> MetricsFollower::firstHolding(const MetricPredicate &p, int64_t fromNs) const
{
	std::vector<MetricSample> ss;
	{
		std::lock_guard lk(m_);
		for (const auto &s : samples_)
			if (s.source == p.source && s.tNs >= fromNs)
				ss.push_back(s);
	}
	std::stable_sort(ss.begin(), ss.end(), [](const auto &a, const auto &b) { return a.tNs < b.tNs; });
	std::optional<MetricSample> streak;
	for (const auto &s : ss) {
		if (!predicateHolds(p, s)) {
			streak.reset();
			continue;
		}
		if (!streak)
			streak = s;
		if (s.tNs - streak->tNs >= p.heldFor.count())
			return streak;
	}
	return std::nullopt;
}

std::optional<MetricSample> MetricsFollower::latest(const std::string &source) const
{
	std::lock_guard lk(m_);
	for (auto it = samples_.rbegin(); it != samples_.rend(); ++it)
		if (it->source == source)
			return *it;
	return std::nullopt;
}

json MetricsFollower::sources() const
{
	json out = json::array();
	for (const auto &s : sources_) {
		json d = s->describe();
		d["name"] = s->name();
		out.push_back(d);
	}
	return out;
}

Result<std::vector<MetricSample>> promRangeSamples(const MetricSourceSpec &s, int64_t fromNs, int64_t toNs,
						    int64_t stepNs)
{
	if (s.kind != "prom")
		return makeError(Errc::Invalid, "source {} is a {} source: range queries are PromQL only", s.name, s.kind);
	const int64_t ms = clk::kMs;
	stepNs = std::max<int64_t>(ms, stepNs / ms * ms);
	const int64_t start = (fromNs + ms - 1) / ms * ms;
	if (toNs < start)
		return makeError(Errc::Invalid, "source {}: the window is empty", s.name);
	const int64_t steps = (toNs - start) / stepNs + 1;
	if (steps > 11000)
		return makeError(Errc::Invalid, "source {}: {} steps of {} ms over the window; Prometheus answers at most "
				 "11000: give a longer range_step", s.name, steps, stepNs / ms);
	metrics::PrometheusClient client(httpTarget(s));
	auto r = client.queryRange(s.query, start, start + (steps - 1) * stepNs, stepNs);
	if (!r)
		return r.error().context(fmt::format("source {}: range query", s.name));
	std::vector<MetricSample> out(static_cast<size_t>(steps));
	for (int64_t k = 0; k < steps; k++) {
		auto &x = out[static_cast<size_t>(k)];
		x.source = s.name;
		x.tNs = start + k * stepNs;
		x.boundNs = stepNs / 2;
		x.ok = true;
	}
	for (const auto &series : r->matrix)
		for (const auto &p : series.points) {
			const int64_t k = (p.tNs - start + stepNs / 2) / stepNs;
			if (p.tNs < start - stepNs / 2 || k < 0 || k >= steps)
				continue;
			out[static_cast<size_t>(k)].reading.series.push_back({series.labels, p.value});
		}
	return out;
}

} // namespace xdc::scenario
