// SPDX-License-Identifier: Apache-2.0
// `throughput: {min, within, window, dc, from}`: after the faults, the application's output rate recovers to at least
// `min` (a ratio) of its rate in the baseline phase within `within`.
//
// The rates come from the application's output counter (its sink operator's input port, nTuplesProcessed) that the
// toolkit view polls in every DC: a rate over a span is the counter's growth between the first and the last metric
// collection inside it, divided by the time between those collections (the REST server's collection times, so the
// poll's own timing does not enter). A counter that goes down restarted with its PE and counts from 0.
//   baseline rate  the sum over the DCs of their rates in the baseline phase.
//   recovered      the end t of the first sliding window [t - window, t] that lies wholly after the reference
//                  (the faults' start, or their end with `from: faults_end`) and whose rate (of `dc` alone when given,
//                  else summed over the DCs) is at least min x the baseline rate; it must come within `within` of the
//                  reference. Candidate ends are the polls that saw a collection, so the instant is known to within
//                  one poll interval.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/duration.h"
#include "controller/scenario/assertions/kinds.h"
#include "controller/scenario/spec.h"
#include "controller/scenario/spec_read.h"

namespace xdc::scenario {

namespace {

using nlohmann::json;
using Series = std::vector<streams::OutputPoint>;

// The counter made cumulative across restarts, at the series' points.
std::vector<int64_t> cumulative(const Series &s)
{
	std::vector<int64_t> c(s.size(), 0);
	for (size_t i = 1; i < s.size(); i++)
		c[i] = c[i - 1] + (s[i].value >= s[i - 1].value ? s[i].value - s[i - 1].value : s[i].value);
	return c;
}

// The rate (tuples/s) of one DC's output over the collections first seen in [from, to]; nullopt with fewer than two
// collections there (or no collection time to divide by).
std::optional<double> rateIn(const Series &s, const std::vector<int64_t> &cum, int64_t from, int64_t to)
{
	size_t first = s.size(), last = s.size();
	for (size_t i = 0; i < s.size(); i++)
		if (s[i].tNs >= from && s[i].tNs <= to) {
			if (first == s.size())
				first = i;
			last = i;
		}
	if (first == s.size() || last == first)
		return std::nullopt;
	// The server's collection times when it gives them, else the polls'.
	const bool server = s[first].retrievedNs > 0 && s[last].retrievedNs > s[first].retrievedNs;
	const int64_t span = server ? s[last].retrievedNs - s[first].retrievedNs : s[last].tNs - s[first].tNs;
	if (span <= 0)
		return std::nullopt;
	return static_cast<double>(cum[last] - cum[first]) * 1e9 / static_cast<double>(span);
}

class Throughput : public AssertionCheck {
public:
	double minRatio = 0;
	Nanos within{0};
	Nanos window = std::chrono::seconds(3);
	std::string dc;                   // "" = the output of every DC summed
	std::string from = "faults_start"; // or faults_end

	std::string defaultName() const override
	{
		return fmt::format("throughput{} back to >= {:g}% of baseline within {} of the faults' {}",
				   dc.empty() ? "" : " of " + dc, minRatio * 100, formatDuration(within),
				   from == "faults_end" ? "end" : "start");
	}

	Result<void> crossCheck(const Scenario &, const std::string &, const std::string &) const override
	{
		return success();
	}

	bool needsStreams() const override { return true; }

	json parameters() const override
	{
		json j = {{"min", minRatio}, {"within_ms", within.count() / 1e6}, {"window_ms", window.count() / 1e6},
			  {"from", from}};
		if (!dc.empty())
			j["dc"] = dc;
		return j;
	}

	void describe(json &e) const override
	{
		if (!dc.empty())
			e["dc"] = dc;
	}

	AssertionOutcome evaluate(RunTimeline &run) const override
	{
		AssertionOutcome out;
		const auto series = run.outputSeries();
		if (series.empty()) {
			out.unmeasurable = "no DC showed its application's output counter (the sink operator's input port; "
					   "toolkit.sink_operator in the streams config names it; `xdc streams status` shows "
					   "what each DC has)";
			return out;
		}
		if (!dc.empty() && !series.count(dc)) {
			out.failure = fmt::format("DC {} showed no output counter during the run", dc);
			return out;
		}
		std::map<std::string, std::vector<int64_t>> cum;
		for (const auto &[name, s] : series)
			cum[name] = cumulative(s);

		const auto [b0, b1] = run.phaseWindow("baseline");
		if (b0 == 0 && b1 == 0) {
			out.unmeasurable = "the baseline phase did not run, so there is no rate to recover to";
			return out;
		}
		double baseline = 0;
		bool measured = false;
		for (const auto &[name, s] : series)
			if (auto r = rateIn(s, cum[name], b0, b1)) {
				baseline += *r;
				measured = true;
				out.observed["baseline_per_dc"][name] = *r;
			}
		if (!measured) {
			out.unmeasurable = fmt::format("the baseline phase ({}) saw fewer than two metric collections of the "
						       "output in every DC; lengthen it past two collection intervals",
						       formatDuration(Nanos(b1 - b0)));
			return out;
		}
		out.observed["baseline_rate"] = baseline;
		const auto [faultStart, faultEnd] = run.faultsWindow();
		if (faultStart == INT64_MAX) {
			out.failure = "no fault took effect, so there is nothing to recover from";
			return out;
		}
		const int64_t ref = from == "faults_end" ? faultEnd : faultStart;
		const int64_t deadline = ref + within.count();
		const double need = minRatio * baseline;
		out.observed["needed_rate"] = need;
		out.observed["window_ms"] = window.count() / 1e6;

		// Candidate window ends: every poll that saw a collection, from ref + window to the deadline.
		std::vector<int64_t> ends;
		for (const auto &[name, s] : series)
			for (const auto &p : s)
				if (p.tNs >= ref + window.count() && p.tNs <= deadline)
					ends.push_back(p.tNs);
		std::sort(ends.begin(), ends.end());
		ends.erase(std::unique(ends.begin(), ends.end()), ends.end());
		double best = -1;
		for (int64_t t : ends) {
			double rate = 0;
			json perDc = json::object();
			for (const auto &[name, s] : series) {
				if (!dc.empty() && name != dc)
					continue;
				const double r = rateIn(s, cum[name], t - window.count(), t).value_or(0.0);
				perDc[name] = r;
				rate += r;
			}
			best = std::max(best, rate);
			if (rate >= need) {
				out.observed["recovered_after_ms"] = (t - ref) / 1e6;
				out.observed["rate"] = rate;
				out.observed["rate_per_dc"] = perDc;
				return out;
			}
		}
		if (ends.empty()) {
			out.failure = fmt::format("no output collection between {} and {} after the faults' {} (a whole {} "
						  "window must fit before the deadline)", formatDuration(window),
						  formatDuration(within), from == "faults_end" ? "end" : "start",
						  formatDuration(window));
			return out;
		}
		out.observed["best_rate"] = best;
		out.failure = fmt::format("{}output rate reached at most {:.1f}/s within {} of the faults' {} < {:g}% of the "
					  "baseline's {:.1f}/s", dc.empty() ? "" : dc + " ", best, formatDuration(within),
					  from == "faults_end" ? "end" : "start", minRatio * 100, baseline);
		return out;
	}
};

} // namespace

std::shared_ptr<const AssertionCheck> parseThroughput(AssertionParse &p)
{
	auto a = std::make_shared<Throughput>();
	MapReader &b = p.r;
	const YAML::Node &body = p.body;
	if (!body.IsMap()) {
		b.fail(body, p.path, "expected a mapping: {min: RATIO, within: DURATION, window, dc, from}");
		return a;
	}
	std::optional<double> ratio;
	readRatio(b, body, "min", ratio);
	std::optional<Nanos> within, window;
	readDurationOpt(b, "within", within);
	readDurationOpt(b, "window", window);
	b.str("dc", a->dc);
	b.str("from", a->from);
	b.rejectUnknown();
	if (b.ok() && !ratio)
		b.fail(body, b.keyPath("min"), "required: the share of the baseline rate to recover to (e.g. 80%)");
	if (b.ok() && !within)
		b.fail(body, b.keyPath("within"), "required: how long after the reference the rate must be back (e.g. 20s)");
	if (b.ok() && a->from != "faults_start" && a->from != "faults_end")
		b.fail(body["from"], b.keyPath("from"),
		       fmt::format("'{}' is not a reference (expected faults_start or faults_end)", a->from));
	if (b.ok() && window && *window < std::chrono::milliseconds(500))
		b.fail(body["window"], b.keyPath("window"), "must be at least 500ms (two metric collections or more)");
	if (!b.ok())
		return a;
	a->minRatio = *ratio;
	a->within = *within;
	if (window)
		a->window = *window;
	if (a->within < a->window)
		b.fail(body["within"], b.keyPath("within"),
		       fmt::format("{} is shorter than the window ({}): no window could end in time",
				   formatDuration(a->within), formatDuration(a->window)));
	return a;
}

} // namespace xdc::scenario
