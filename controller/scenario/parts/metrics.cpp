// SPDX-License-Identifier: Apache-2.0
// The run's metric sources (see metrics.h).
#include "controller/scenario/parts/metrics.h"

#include "common/duration.h"
#include "controller/scenario/parts/recording.h"
#include "controller/scenario/parts/streams.h"

namespace xdc::scenario {

MetricsPart::~MetricsPart() = default;

bool MetricsPart::prepare()
{
	const MetricsBlock &m = c_.s.metrics;
	follower_ = std::make_unique<MetricsFollower>();
	std::vector<streams::Endpoint> eps;
	StreamsFollower *view = c_.streamsView();
	if (view)
		eps = view->endpoints();
	auto r = follower_->start(m, eps, [view] { return view ? view->activeDc() : std::string(); });
	if (!r) {
		c_.setVerdict(kHarness, "harness", "metrics: " + r.error().message);
		return false;
	}
	c_.report.metrics = MetricsSection{.intervalMs = ns(m.interval) / kMs, .sources = follower_->sources()};
	std::vector<std::string> names;
	for (const auto &src : m.sources)
		names.push_back(src.name);
	c_.say(fmt::format("sampling metrics every {}: {}", formatDuration(m.interval), fmt::join(names, ", ")));
	return true;
}

bool MetricsPart::observeUntil(int64_t from)
{
	const MetricPredicate p = *c_.s.observe.untilMetric;
	const int64_t deadline = clk::wallNs() + ns(c_.s.observe.timeout);
	const auto w = c_.waitUntil(deadline, [this, p, from](const json &) {
		return follower_->firstHolding(p, from).has_value();
	});
	if (!c_.waited(w))
		return false;
	const auto hit = follower_->firstHolding(p, from);
	std::string cond = p.op.empty() ? p.source : fmt::format("{} {} {:g}", p.source, p.op, p.value);
	if (p.heldFor.count() > 0)
		cond += " for " + formatDuration(p.heldFor);
	if (!hit) {
		const auto last = follower_->latest(p.source);
		const std::string why = fmt::format("observe: the metric condition {} did not hold within {}{}", cond,
						    formatDuration(c_.s.observe.timeout),
						    last && !last->ok ? " (last sample failed: " + last->error + ")" : "");
		c_.report.metrics->until = json{{"condition", cond}, {"held", false}};
		c_.endPhase("failed", why);
		c_.setVerdict(kFailed, "failed", why);
		if (c_.streams)
			c_.streams->noteActive();
		return false;
	}
	c_.report.metrics->until = json{{"condition", cond}, {"held", true}, {"t_ns", hit->tNs},
					{"bound_ns", hit->boundNs}, {"after_inject_ms", (hit->tNs - from) / 1e6}};
	c_.say(fmt::format("metrics: {} holds ({:.1f} s after inject)", cond, (hit->tNs - from) / 1e9));
	return true;
}

std::string MetricsPart::conditionText(const MetricPredicate &p) const
{
	// A prom condition of its own is named after its place (stop_conditions[0], steady_state[1]): its query says
	// more.
	const MetricSourceSpec *src = c_.s.metrics.source(p.source);
	const std::string what = src && src->name.find('[') != std::string::npos ? src->query : p.source;
	std::string cond = p.op.empty() ? what : fmt::format("{} {} {:g}", what, p.op, p.value);
	if (p.heldFor.count() > 0)
		cond += " for " + formatDuration(p.heldFor);
	return cond;
}

bool MetricsPart::steady(const SteadyCheck &c, const std::string &when, int64_t endNs, std::string &first)
{
	const MetricPredicate &p = *c.condition;
	const MetricSourceSpec *src = c_.s.metrics.source(p.source);
	// The sample that ends the window may still be on its way: wait, bounded by an interval and the source's
	// timeout, for one taken at or after the window's end.
	const int64_t deadline = clk::monoNs() + ns(c_.s.metrics.interval) + (src ? ns(src->timeout) : 2 * clk::kSec) +
				 clk::kSec;
	bool complete = false;
	for (;;) {
		const auto last = follower_ ? follower_->latest(p.source) : std::nullopt;
		complete = last && last->tNs >= endNs;
		if (complete || clk::monoNs() >= deadline || c_.interrupted())
			break;
		::usleep(50000);
	}
	int64_t n = 0, held = 0;
	std::string failedWhy;
	if (follower_)
		for (const auto &x : follower_->samples(p.source)) {
			if (x.tNs < endNs - ns(c.window) || x.tNs >= endNs)
				continue;
			n++;
			if (predicateHolds(p, x))
				held++;
			else if (!x.ok && failedWhy.empty())
				failedWhy = x.error;
		}
	const bool pass = n > 0 && held == n;
	const std::string cond = conditionText(p);
	SteadyResult r{.when = when, .status = pass ? "passed" : "failed", .samples = n, .condition = cond,
		       .held = held, .windowMs = ns(c.window) / kMs, .windowEndNs = endNs, .complete = complete};
	if (!complete)
		r.note = "judged an incomplete window: no sample of " + p.source + " taken after its end had arrived";
	c_.report.steadyState.push_back(r);
	c_.say(fmt::format("steady state {}: {} held at {} of {} samples in the last {}{}", when, cond, held, n,
			   formatDuration(c.window), pass ? "" : ": FAILED"));
	if (!pass && first.empty())
		first = n == 0 ? fmt::format("steady state {}: no sample of {} in the last {}", when, p.source,
					     formatDuration(c.window))
			       : fmt::format("steady state {}: {} held at {} of {} samples in the last {}{}", when, cond,
					     held, n, formatDuration(c.window),
					     failedWhy.empty() ? "" : " (a sample failed: " + failedWhy + ")");
	return pass;
}

std::optional<std::string> MetricsPart::stopCondition(int64_t fromNs) const
{
	if (!follower_)
		return std::nullopt;
	for (const auto &c : c_.s.stopConditions) {
		if (!c.metric)
			continue;
		const auto hit = follower_->firstHolding(*c.metric, fromNs);
		if (!hit)
			continue;
		return fmt::format("stop condition '{}' held: {} (from the sample at {:.1f} s into the run)", c.name,
				   conditionText(*c.metric), static_cast<double>(hit->tNs - c_.t0) / 1e9);
	}
	return std::nullopt;
}

void MetricsPart::teardown()
{
	if (follower_)
		follower_->stop();
}

// The samples into the report and onto the evidence bundle's timeline.
void MetricsPart::report()
{
	if (!follower_)
		return;
	const auto all = follower_->samples();
	json samples = json::array();
	std::map<std::string, std::pair<int64_t, int64_t>> counts; // source -> (samples, failed)
	for (const auto &x : all) {
		samples.push_back(metrics::toJson(x));
		counts[x.source].first++;
		counts[x.source].second += x.ok ? 0 : 1;
	}
	if (!c_.report.metrics)
		c_.report.metrics.emplace();
	MetricsSection &m = *c_.report.metrics;
	for (auto &src : m.sources) {
		const auto c = counts[src.value("name", "")];
		src["samples"] = c.first;
		src["failed"] = c.second;
	}
	m.samples = samples;
	if (!c_.recording->recording())
		return;
	auto r = addToTimeline(c_.opt.outDir + "/evidence", all);
	if (!r) {
		c_.say("metrics: " + r.error().message);
		m.timelineError = r.error().message;
	}
}

std::string MetricsPart::check(const MetricAssertion &a, json &observed, std::pair<int64_t, int64_t> faults)
{
	int64_t from = 0, to = INT64_MAX;
	if (a.during == "faults" || a.during == "after") {
		const auto [start, end] = faults;
		if (start == INT64_MAX)
			return "no fault took effect, so there is no faults window";
		if (a.during == "faults") {
			from = start;
			to = end;
		} else {
			from = end;
		}
	} else if (a.during != "run") {
		std::tie(from, to) = c_.phaseWindow(a.during);
		if (from == 0 && to == 0)
			return fmt::format("the {} phase did not run", a.during);
	}
	// A range query reads Prometheus's own history of the window now: the run's start and this instant bound the
	// open ends.
	if (a.rangeStep.count() > 0 && from == 0 && !c_.report.phases.empty())
		from = c_.report.phases[0].startNs.value_or(0);
	from += ns(a.settle);
	if (a.rangeStep.count() > 0) {
		to = std::min(to, clk::wallNs());
		auto samples = promRangeSamples(*c_.s.metrics.source(a.pred.source), from, to, ns(a.rangeStep));
		if (!samples)
			return samples.error().message;
		observed["range_step_ms"] = ns(a.rangeStep) / 1e6;
		return evaluateMetricAssertion(a, *samples, from, to + 1, observed);
	}
	return evaluateMetricAssertion(a, follower_->samples(a.pred.source), from, to, observed);
}

} // namespace xdc::scenario
