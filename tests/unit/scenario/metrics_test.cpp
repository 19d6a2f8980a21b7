// SPDX-License-Identifier: Apache-2.0
// The scenario's metric parts: the metrics: block, the observe.until metric condition, the metric-source assertion,
// their errors; predicates and assertions over synthetic samples; the follower over fake sources; the timeline merge;
// the Prometheus and Jolokia sources against a scripted server.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "common/clock.h"
#include "controller/scenario/assertions/assertion.h"
#include "controller/scenario/metrics_follow.h"
#include "controller/scenario/spec.h"
#include "tests/support/scripted_http.h"

using namespace xdc;
using namespace xdc::scenario;
using namespace std::chrono_literals;
using metrics::MetricSample;
using metrics::Reading;
using nlohmann::json;

namespace {

const char *kScenario = R"(version: 1
name: prom-down
metrics:
  interval: 500ms
  sources:
    - {name: dc2_down, prom: {url: "${prom}", query: 'up{job="dc2"} == 0', timeout: 3s}}
    - {name: heap, jmx: {url: "http://127.0.0.1:8778/jolokia", mbean: "java.lang:type=Memory", attribute: HeapMemoryUsage, path: used}}
    - {name: processed, streams: {dc: active, operator: Sink, metric: nTuplesProcessed}}
    - {name: pecpu, streams: {dc: dc1, pes: all, metrics: [nCpuMilliseconds]}}
    - {name: outport, streams: {dc: dc2, job: app, operator: Source, port: output}}
phases:
  baseline: {duration: 2s}
  inject:
    faults:
      - {kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 12s}
  observe: {until: {metric: {source: dc2_down}}, timeout: 20s}
  recover: {duration: 5s}
assertions:
  - metric: {source: dc2_down, during: faults, holds: sometimes}
  - metric: {source: dc2_down, during: after, settle: 3s, holds: never}
  - metric: {source: heap, op: '>', value: 0, holds: always}
  - {name: flows, metric: {source: processed, stat: increase, min: 1}}
)";

std::string parseError(const std::string &text)
{
	auto s = parseScenario(text, "m.yaml", {.params = {{"prom", "http://10.0.0.1:9090"}}});
	return s.ok() ? "" : s.error().message;
}

// The error of kScenario with `section` (a top-level key) and its entries appended.
std::string sectionError(const std::string &section, const std::string &entries)
{
	return parseError(std::string(kScenario) + section + ":\n" + entries);
}

// The error names what the test expects.
void expectMentions(const std::string &err, const std::string &what)
{
	INFO(err);
	CHECK(err.find(what) != std::string::npos);
}

// kScenario with one line replaced.
std::string with(const std::string &from, const std::string &to)
{
	std::string t = kScenario;
	const auto at = t.find(from);
	REQUIRE(at != std::string::npos);
	t.replace(at, from.size(), to);
	return t;
}

MetricSample vec(const std::string &src, int64_t t, std::vector<double> values)
{
	MetricSample s;
	s.source = src;
	s.tNs = t;
	s.ok = true;
	for (size_t i = 0; i < values.size(); i++)
		s.reading.series.push_back({{{"i", std::to_string(i)}}, values[i]});
	return s;
}

MetricSample failed(const std::string &src, int64_t t)
{
	MetricSample s;
	s.source = src;
	s.tNs = t;
	s.error = "cannot connect";
	s.errorKind = "connect";
	return s;
}

// A source that returns what the test scripts, one reading per call (the last one repeats).
class FakeSource : public metrics::MetricSource {
public:
	FakeSource(std::string name, std::vector<Result<Reading>> script) : name_(std::move(name)), script_(std::move(script)) {}
	const std::string &name() const override { return name_; }
	json describe() const override { return {{"kind", "fake"}}; }
	std::string lastErrorKind() const override { return "connect"; }
	Result<Reading> read() override
	{
		calls++;
		const size_t i = std::min(next_++, script_.size() - 1);
		return script_[i];
	}
	std::atomic<int> calls{0};

private:
	std::string name_;
	std::vector<Result<Reading>> script_;
	size_t next_ = 0;
};

Reading one(double v)
{
	Reading r;
	r.kind = Reading::Kind::Scalar;
	r.series.push_back({{}, v});
	return r;
}

} // namespace

TEST_CASE("metrics in scenarios: sources, the until condition and assertions parse into their values")
{
	auto s = parseScenario(kScenario, "m.yaml", {.params = {{"prom", "http://10.0.0.1:9090"}}});
	REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
	CHECK(s->metrics.present);
	CHECK(s->metrics.interval == 500ms);
	REQUIRE(s->metrics.sources.size() == 5);
	const auto &p = s->metrics.sources[0];
	CHECK(p.kind == "prom");
	CHECK(p.url == "http://10.0.0.1:9090");
	CHECK(p.query == R"(up{job="dc2"} == 0)");
	CHECK(p.timeout == 3s);
	const auto &j = s->metrics.sources[1];
	CHECK(j.kind == "jmx");
	CHECK(j.mbean == "java.lang:type=Memory");
	CHECK(j.attribute == "HeapMemoryUsage");
	CHECK(j.path == "used");
	const auto &st = s->metrics.sources[2];
	CHECK(st.kind == "streams");
	CHECK(st.dc == "active");
	CHECK(st.operators == std::vector<std::string>{"Sink"});
	CHECK(st.metrics == std::vector<std::string>{"nTuplesProcessed"});
	CHECK_FALSE(st.peLevel);
	CHECK(s->metrics.sources[3].peLevel);
	CHECK(s->metrics.sources[3].pes == std::vector<std::string>{"all"});
	CHECK(s->metrics.sources[4].port == "output");
	CHECK(s->metrics.sources[4].job == "app");
	CHECK(s->metrics.sources[4].metrics.empty());
	// A streams source makes the run follow Streams (it needs the streams config's instances).
	CHECK(s->usesStreams());
	REQUIRE(s->observe.untilMetric);
	CHECK(s->observe.untilMetric->source == "dc2_down");
	CHECK(s->observe.untilMetric->op.empty());
	CHECK(s->plannedDuration() == 2s + 20s + 5s);
	REQUIRE(s->assertions.size() == 4);
	const auto &a0 = s->assertions[0];
	CHECK(a0.kind == "metric");
	const auto p0 = a0.check->parameters(), p1 = s->assertions[1].check->parameters(),
		   p2 = s->assertions[2].check->parameters(), p3 = s->assertions[3].check->parameters();
	CHECK(p0["source"] == "dc2_down");
	CHECK(p0["during"] == "faults");
	CHECK(p0["holds"] == "sometimes");
	CHECK(a0.name == "metric dc2_down holds sometimes during faults");
	CHECK(p1["settle_ms"] == 3000);
	CHECK(p1["holds"] == "never");
	CHECK(p2["op"] == ">");
	CHECK(p2["value"] == 0);
	CHECK(p2["during"] == "run");
	CHECK(s->assertions[3].name == "flows");
	CHECK(p3["stat"] == "increase");
	CHECK(p3["min"] == 1);

	// An inline PromQL condition is a source of its own.
	auto inl = parseScenario(with("until: {metric: {source: dc2_down}}",
				      "until: {prom: {url: 'http://h:9090', query: 'up == 0'}}"),
				 "m.yaml", {.params = {{"prom", "http://10.0.0.1:9090"}}});
	REQUIRE_MESSAGE(inl.ok(), (inl.ok() ? "" : inl.error().message));
	REQUIRE(inl->metrics.sources.size() == 6);
	CHECK(inl->metrics.sources[5].name == "observe.until");
	CHECK(inl->metrics.sources[5].query == "up == 0");
	CHECK(inl->observe.untilMetric->source == "observe.until");

	// The older sampler form of the metric assertion still parses as before.
	auto old = parseScenario(R"(version: 1
name: old
evidence:
  samplers: [{name: cpu, kind: host, on: {dc: dc1}, interval: 1s}]
phases:
  baseline: {duration: 1s}
  inject: {faults: [{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 2s}]}
  observe: {duration: 1s}
  recover: {duration: 1s}
assertions:
  - metric: {sampler: cpu, value: cpu_percent, max: 90}
)", "o.yaml");
	REQUIRE_MESSAGE(old.ok(), (old.ok() ? "" : old.error().message));
	const auto po = old->assertions[0].check->parameters();
	CHECK_FALSE(po.contains("source"));
	CHECK(po["sampler"] == "cpu");
	CHECK(po["max"] == 90);
}

TEST_CASE("metrics in scenarios: errors name the file, line, key and what was expected")
{
	expectMentions(parseError(with("prom: {url: \"${prom}\", query: 'up{job=\"dc2\"} == 0', timeout: 3s}", "prom: {url: x}")),
	    "m.yaml:6:36: metrics.sources[0].prom.url");
	expectMentions(parseError(with("prom: {url: \"${prom}\", query: 'up{job=\"dc2\"} == 0', timeout: 3s}", "prom: {url: x}")),
	    "metrics.sources[0].prom.url: 'x' is not an http:// or https:// URL");
	expectMentions(parseError(with(", query: 'up{job=\"dc2\"} == 0'", "")), "metrics.sources[0].prom.query: required: a PromQL");
	expectMentions(parseError(with("{name: dc2_down, prom:", "{name: heap, prom:")), "'heap' is already the name");
	expectMentions(parseError(with("{name: dc2_down, prom:", "{prom:")), "metrics.sources[0].name: required");
	expectMentions(parseError(with("jmx: {url:", "jxm: {url:")), "metrics.sources[1].jxm: unknown key; did you mean 'jmx'?");
	expectMentions(parseError(with("mbean: \"java.lang:type=Memory\", ", "")), "metrics.sources[1].jmx.mbean: required");
	expectMentions(parseError(with("attribute: HeapMemoryUsage, ", "")), "metrics.sources[1].jmx.path: a path needs an attribute");
	expectMentions(parseError(with("operator: Sink, ", "")), "metrics.sources[2].streams.operator: required");
	expectMentions(parseError(with("streams: {dc: active, ", "streams: {")), "metrics.sources[2].streams.dc: required");
	expectMentions(parseError(with("operator: Source, port: output", "operator: Source, port: sideways")),
	    "metrics.sources[4].streams.port: 'sideways' is not a port direction");
	expectMentions(parseError(with("operator: Source, port: output", "pe: \"1\", port: output")),
	    "ports belong to operators");
	expectMentions(parseError(with("interval: 500ms", "interval: 10ms")), "metrics.interval: expected a sampling interval");
	expectMentions(parseError(with("until: {metric: {source: dc2_down}}", "until: {metric: {source: dc2_dwn}}")),
	    "phases.observe.until.metric.source: no source named 'dc2_dwn' under metrics.sources; did you mean 'dc2_down'?");
	expectMentions(parseError(with("until: {metric: {source: dc2_down}}", "until: {metric: {source: dc2_down, op: '=<', value: 1}}")),
	    "phases.observe.until.metric.op: '=<' is not a comparison");
	expectMentions(parseError(with("until: {metric: {source: dc2_down}}", "until: {metric: {source: dc2_down, op: '<'}}")),
	    "phases.observe.until.metric.value: required with op");
	expectMentions(parseError(with("{source: dc2_down, during: faults, holds: sometimes}", "{source: dc2_down, during: fault, holds: sometimes}")),
	    "assertions[0].metric.during: 'fault' is not a window");
	expectMentions(parseError(with("{source: dc2_down, during: faults, holds: sometimes}", "{source: dc2_down, holds: yes}")),
	    "assertions[0].metric.holds: 'yes' is not a frequency");
	expectMentions(parseError(with("{source: dc2_down, during: faults, holds: sometimes}", "{source: dc2_down}")),
	    "assertions[0].metric.holds: give holds");
	expectMentions(parseError(with("{source: dc2_down, during: faults, holds: sometimes}", "{source: nope, holds: always}")),
	    "assertions[0].metric.source: no source named 'nope'");
	expectMentions(parseError(with("stat: increase, min: 1", "stat: rate, min: 1")), "'rate' is not a statistic");
	expectMentions(parseError(with("stat: increase, min: 1", "stat: increase, min: lots")), "assertions[3].metric.min: expected a number");
	expectMentions(parseError(with("{source: dc2_down, during: faults, holds: sometimes}",
			    "{source: dc2_down, during: faults, holds: sometimes, range_step: 0s}")),
	    "assertions[0].metric.range_step: expected a positive duration");
	expectMentions(parseError(with("{source: heap, op: '>', value: 0, holds: always}",
			    "{source: heap, op: '>', value: 0, holds: always, range_step: 1s}")),
	    "assertions[2].metric.range_step: source heap is a jmx source; range queries are PromQL only");
	CHECK(parseError(with("{source: dc2_down, during: faults, holds: sometimes}",
			      "{source: dc2_down, during: faults, holds: sometimes, range_step: 1s}")) == "");
}

TEST_CASE("stop conditions on metrics: a named source with for, or a PromQL alert query of its own")
{
	const std::string stops = std::string(kScenario) +
				  "stop_conditions:\n"
				  "  - {name: heap too big, metric: {source: heap, op: '>', value: 4e9, for: 3s}}\n"
				  "  - {prom: {url: \"${prom}\", query: 'ALERTS{alertstate=\"firing\"}'}}\n";
	auto s = parseScenario(stops, "m.yaml", {.params = {{"prom", "http://10.0.0.1:9090"}}});
	REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
	REQUIRE(s->stopConditions.size() == 2);
	const auto &a = s->stopConditions[0], &b = s->stopConditions[1];
	CHECK(a.name == "heap too big");
	REQUIRE(a.metric);
	CHECK(a.metric->source == "heap");
	CHECK(a.metric->op == ">");
	CHECK(a.metric->value == 4e9);
	CHECK(a.metric->heldFor == 3s);
	REQUIRE(b.metric);
	// The alert query is a source of its own, named after where it stands, sampled with the others.
	CHECK(b.metric->source == "stop_conditions[1]");
	CHECK(b.metric->op.empty());
	CHECK(b.name == "stop_conditions[1]");
	const MetricSourceSpec *src = s->metrics.source("stop_conditions[1]");
	REQUIRE(src != nullptr);
	CHECK(src->kind == "prom");
	CHECK(src->query == "ALERTS{alertstate=\"firing\"}");

	auto err = [](const std::string &entries) { return sectionError("stop_conditions", entries); };
	expectMentions(err("  - {metric: {source: heep}}\n"),
	    "stop_conditions[0].metric.source: no source named 'heep' under metrics.sources; did you mean 'heap'?");
	expectMentions(err("  - {metric: {source: heap}, prom: {url: x, query: up}}\n"), "give either metric or prom, not both");
	expectMentions(err("  - {prom: {url: \"${prom}\"}}\n"), "stop_conditions[0].prom.query: required");
	expectMentions(err("  - {metric: {source: heap}, failing_for: 2s}\n"), "stop_conditions[0].failing_for: unknown key");
	expectMentions(err("  - {metric: {source: heap, op: '>'}}\n"), "stop_conditions[0].metric.value: required with op");
}

TEST_CASE("steady-state checks on metrics: a named source or a PromQL query of its own, over the window")
{
	const std::string text = std::string(kScenario) +
				 "steady_state:\n"
				 "  - {metric: {source: heap, op: '<', value: 4e9}, window: 3s}\n"
				 "  - {prom: {url: \"${prom}\", query: 'up{job=\"dc2\"} == 1'}}\n";
	auto s = parseScenario(text, "m.yaml", {.params = {{"prom", "http://10.0.0.1:9090"}}});
	REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
	REQUIRE(s->steadyState.size() == 2);
	REQUIRE(s->steadyState[0].condition);
	CHECK(s->steadyState[0].condition->source == "heap");
	CHECK(s->steadyState[0].condition->op == "<");
	CHECK(s->steadyState[0].window == 3s);
	CHECK_FALSE(s->steadyState[0].isMetric()); // not a sampler check
	REQUIRE(s->steadyState[1].condition);
	CHECK(s->steadyState[1].condition->source == "steady_state[1]");
	CHECK(s->steadyState[1].window == 2s);
	REQUIRE(s->metrics.source("steady_state[1]") != nullptr);

	auto err = [](const std::string &entries) { return sectionError("steady_state", entries); };
	expectMentions(err("  - {metric: {source: hep}}\n"), "steady_state[0].metric.source: no source named 'hep'");
	expectMentions(err("  - {metric: {source: heap, for: 2s}}\n"),
	    "steady_state[0].metric.for: not used here: the check's window is how long the condition must hold");
	expectMentions(err("  - {metric: {source: heap}, window: 121s}\n"), "steady_state[0].window: must be at most 120s");
	expectMentions(err("  - {metric: {source: heap}, min_success: 90%}\n"), "steady_state[0].min_success: unknown key");
}

TEST_CASE("a range-query assertion: one sample per step, empty instants do not hold, the window is bounded")
{
	// Steps at 1000, 1001 and 1002 s: the filter `up == 0` had a series at 1001 s only.
	test::ScriptedHttpServer s;
	s.json("GET", "", 200, R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"dc2"},"values":[[1001,"0"]]}]}})");
	MetricSourceSpec src;
	src.name = "down";
	src.kind = "prom";
	src.url = s.url();
	src.query = "up == 0";
	auto r = promRangeSamples(src, 1000 * clk::kSec, 1002 * clk::kSec + 5 * clk::kMs, clk::kSec);
	REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
	REQUIRE(r->size() == 3);
	CHECK((*r)[0].tNs == 1000 * clk::kSec);
	CHECK((*r)[2].tNs == 1002 * clk::kSec);
	CHECK((*r)[1].boundNs == clk::kSec / 2);
	CHECK_FALSE(metrics::holds((*r)[0]));
	CHECK(metrics::holds((*r)[1]));
	CHECK_FALSE(metrics::holds((*r)[2]));
	const std::string url = s.requests().at(0).target;
	CHECK_MESSAGE(url.find("/api/v1/query_range?") != std::string::npos, url);
	CHECK_MESSAGE(url.find("start=1000") != std::string::npos, url);
	CHECK_MESSAGE(url.find("end=1002") != std::string::npos, url);
	MetricAssertion a;
	a.pred.source = "down";
	a.holds = "sometimes";
	json observed;
	CHECK(evaluateMetricAssertion(a, *r, 1000 * clk::kSec, 1003 * clk::kSec, observed) == "");
	CHECK(observed["held"] == 1);
	a.holds = "never";
	CHECK(evaluateMetricAssertion(a, *r, 1000 * clk::kSec, 1003 * clk::kSec, observed) != "");

	auto tooMany = promRangeSamples(src, 0, 20000 * clk::kSec, clk::kSec);
	REQUIRE_FALSE(tooMany.ok());
	CHECK(tooMany.error().message.find("give a longer range_step") != std::string::npos);
	src.kind = "jmx";
	CHECK_FALSE(promRangeSamples(src, 0, clk::kSec, clk::kSec).ok());
}

TEST_CASE("metric predicates: a PromQL filter holds while it has series; op and value compare any series")
{
	MetricPredicate bare{"s", "", 0, ""};
	CHECK_FALSE(predicateHolds(bare, vec("s", 1, {})));
	CHECK(predicateHolds(bare, vec("s", 1, {0})));   // a filter's series with the value 0 still holds
	CHECK_FALSE(predicateHolds(bare, failed("s", 1))); // a failed sample never holds
	MetricSample sc = vec("s", 1, {});
	sc.reading = one(0);
	CHECK_FALSE(predicateHolds(bare, sc)); // a scalar holds when non-zero
	sc.reading = one(NAN);
	CHECK_FALSE(predicateHolds(bare, sc));
	sc.reading = one(2);
	CHECK(predicateHolds(bare, sc));
	MetricPredicate gt{"s", ">", 5, ""};
	CHECK(predicateHolds(gt, vec("s", 1, {1, 6})));
	CHECK_FALSE(predicateHolds(gt, vec("s", 1, {1, 5})));
	CHECK(predicateHolds({"s", "==", 0, ""}, vec("s", 1, {0})));
	CHECK(predicateHolds({"s", "<=", 0, ""}, vec("s", 1, {-1})));
	CHECK(predicateHolds({"s", "!=", 0, ""}, vec("s", 1, {NAN})));
}

TEST_CASE("metric assertions over synthetic samples: windows, holds, statistics, failures")
{
	// dc2_down: empty before 10, present 10..19, empty from 20; one failed sample at 25.
	std::vector<MetricSample> ss;
	for (int64_t t = 0; t < 30; t++)
		ss.push_back(t == 25 ? failed("d", t) : vec("d", t, t >= 10 && t < 20 ? std::vector<double>{0} : std::vector<double>{}));
	MetricAssertion a;
	a.pred = {"d", "", 0, ""};
	json obs;
	a.holds = "sometimes";
	CHECK(evaluateMetricAssertion(a, ss, 10, 20, obs) == "");
	CHECK(obs["held"] == 10);
	CHECK(obs["first_held_ns"] == 10);
	a.holds = "always";
	CHECK(evaluateMetricAssertion(a, ss, 10, 20, obs) == "");
	obs = json::object();
	const std::string partly = evaluateMetricAssertion(a, ss, 5, 20, obs);
	CHECK(partly.find("held at 10 of 15 samples") != std::string::npos);
	a.holds = "never";
	obs = json::object();
	CHECK(evaluateMetricAssertion(a, ss, 20, INT64_MAX, obs) == ""); // the failed sample does not hold
	CHECK(obs["failed"] == 1);
	CHECK(obs["first_error"] == "cannot connect");
	obs = json::object();
	const std::string after = evaluateMetricAssertion(a, ss, 15, INT64_MAX, obs);
	CHECK(after.find("held at 5 of 15 samples") != std::string::npos);
	CHECK(after.find("expected never") != std::string::npos);
	// An empty window fails whatever it asks: there is nothing to show the condition held or not.
	obs = json::object();
	CHECK(evaluateMetricAssertion(a, ss, 100, 200, obs).find("no samples of d") != std::string::npos);
	// Every sample failed: fails with the error.
	obs = json::object();
	CHECK(evaluateMetricAssertion(a, ss, 25, 26, obs).find("every sample of d in the window failed: cannot connect") !=
	      std::string::npos);

	// Statistics per series: a counter that increases by 2 per sample in series 0, stays put in series 1.
	std::vector<MetricSample> c;
	for (int64_t t = 0; t < 5; t++)
		c.push_back(vec("c", t, {static_cast<double>(2 * t), 7}));
	MetricAssertion inc;
	inc.pred = {"c", "", 0, ""};
	inc.stat = "increase";
	inc.min = 1;
	obs = json::object();
	const std::string flat = evaluateMetricAssertion(inc, c, 0, INT64_MAX, obs);
	CHECK(flat.find("c {i=\"1\"} during run: increase = 0 < min 1") != std::string::npos);
	REQUIRE(obs["series"].size() == 2);
	CHECK(obs["series"][0]["increase"] == 8);
	inc.min.reset();
	inc.max = 8;
	CHECK(evaluateMetricAssertion(inc, c, 0, INT64_MAX, obs) == "");
	inc.stat = "mean";
	inc.max = 3.9;
	CHECK(evaluateMetricAssertion(inc, c, 0, INT64_MAX, obs).find("mean = 4 > max 3.9") != std::string::npos);
	inc.stat = "max";
	inc.max = 8;
	CHECK(evaluateMetricAssertion(inc, c, 0, INT64_MAX, obs) == "");
}

TEST_CASE("the metrics follower samples each source on its own schedule and keeps failures")
{
	std::vector<std::unique_ptr<metrics::MetricSource>> srcs;
	auto *a = new FakeSource("a", {one(0), one(0), one(1)});
	auto *b = new FakeSource("b", {Result<Reading>(makeError(Errc::Timeout, "timed out"))});
	srcs.emplace_back(a);
	srcs.emplace_back(b);
	MetricsFollower f;
	const int64_t t0 = clk::wallNs();
	f.start(std::move(srcs), 20 * clk::kMs);
	const MetricPredicate p{"a", "", 0, ""};
	const int64_t deadline = clk::monoNs() + 5 * clk::kSec;
	while (!f.firstHolding(p, t0) && clk::monoNs() < deadline)
		::usleep(5000);
	f.stop();
	const auto hit = f.firstHolding(p, t0);
	REQUIRE(hit);
	CHECK(hit->tNs >= t0);
	CHECK(hit->boundNs >= 0);
	const auto as = f.samples("a");
	REQUIRE(as.size() >= 3);
	CHECK_FALSE(predicateHolds(p, as[0]));
	CHECK(as[0].tNs <= as[1].tNs);
	const auto bs = f.samples("b");
	REQUIRE_FALSE(bs.empty());
	CHECK_FALSE(bs[0].ok);
	CHECK(bs[0].error == "timed out");
	CHECK(bs[0].errorKind == "connect");
	CHECK(f.latest("b").has_value());
	CHECK_FALSE(f.latest("c").has_value());
	CHECK(f.sources().size() == 2);
	// Stopped: no more samples.
	const size_t n = f.samples().size();
	::usleep(60000);
	CHECK(f.samples().size() == n);
}

TEST_CASE("metric samples merge into a bundle's timeline in time order, t_ns first")
{
	char dir[] = "/tmp/xdc-mtl-XXXXXX";
	REQUIRE(::mkdtemp(dir) != nullptr);
	const std::string d = dir;
	{
		std::ofstream f(d + "/timeline.jsonl");
		f << "{\"t_ns\":10,\"host\":\"dc1-h1\",\"kind\":\"probe.tcp\"}\n{\"t_ns\":30,\"host\":\"dc1-h1\",\"kind\":\"probe.tcp\"}\n";
	}
	std::vector<MetricSample> ss = {vec("m", 35, {1}), vec("m", 5, {}), failed("m", 20)};
	REQUIRE(addToTimeline(d, ss).ok());
	std::ifstream in(d + "/timeline.jsonl");
	std::vector<json> lines;
	std::string line;
	while (std::getline(in, line)) {
		CHECK(line.rfind("{\"t_ns\":", 0) == 0);
		lines.push_back(json::parse(line));
	}
	REQUIRE(lines.size() == 5);
	std::vector<int64_t> ts;
	for (const auto &l : lines)
		ts.push_back(l["t_ns"]);
	CHECK(ts == std::vector<int64_t>{5, 10, 20, 30, 35});
	CHECK(lines[0]["host"] == "controller");
	CHECK(lines[0]["kind"] == "metric");
	CHECK(lines[0]["source"] == "m");
	CHECK(lines[0]["values"]["holds"] == false);
	CHECK(lines[2]["tags"]["error_kind"] == "connect");
	CHECK(lines[4]["series"][0]["value"] == 1);
	CHECK(lines[4]["values"]["holds"] == true);
	CHECK(lines[4].contains("bound_ns"));
	std::remove((d + "/timeline.jsonl").c_str());
	::rmdir(dir);
	CHECK_FALSE(addToTimeline(d, ss).ok());
}

TEST_CASE("metric sources: PromQL vectors and scalars, Jolokia numbers and composites, errors kept apart")
{
	test::ScriptedHttpServer s;
	s.json("GET", "", 200, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"dc2"},"value":[1700000000.5,"0"]}]}})");
	s.json("GET", "", 200, R"({"status":"success","data":{"resultType":"scalar","result":[1700000000.5,"3"]}})");
	s.json("GET", "", 200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})");
	s.json("GET", "", 400, R"({"status":"error","errorType":"bad_data","error":"parse error"})");
	metrics::HttpTarget t;
	t.url = s.url();
	auto prom = metrics::makePromSource("p", t, "up == 0");
	auto v = metrics::takeSample(*prom);
	REQUIRE_MESSAGE(v.ok, v.error);
	CHECK(v.source == "p");
	REQUIRE(v.reading.series.size() == 1);
	CHECK(v.reading.series[0].labels.at("job") == "dc2");
	CHECK(metrics::holds(v));
	auto sc = metrics::takeSample(*prom);
	REQUIRE(sc.ok);
	CHECK(sc.reading.kind == Reading::Kind::Scalar);
	CHECK(sc.reading.series[0].value == 3);
	auto mx = metrics::takeSample(*prom);
	CHECK_FALSE(mx.ok);
	CHECK(mx.errorKind == "bad-shape");
	auto bad = metrics::takeSample(*prom);
	CHECK_FALSE(bad.ok);
	CHECK(bad.errorKind == "server");
	CHECK(bad.error.find("bad_data") != std::string::npos);
	CHECK(prom->describe()["query"] == "up == 0");

	test::ScriptedHttpServer j;
	j.json("POST", "", 200, R"({"status":200,"value":123456})");
	j.json("POST", "", 200, R"({"status":200,"value":{"used":5,"max":10,"name":"x"}})");
	j.json("POST", "", 200, R"({"status":200,"value":"text"})");
	j.json("POST", "", 200, R"({"status":404,"error_type":"javax.management.InstanceNotFoundException","error":"nope"})");
	t.url = j.url() + "/jolokia";
	auto jmx = metrics::makeJmxSource("h", t, "java.lang:type=Memory", "HeapMemoryUsage", "used");
	auto n = metrics::takeSample(*jmx);
	REQUIRE_MESSAGE(n.ok, n.error);
	CHECK(n.reading.kind == Reading::Kind::Scalar);
	CHECK(n.reading.series[0].value == 123456);
	auto comp = metrics::takeSample(*jmx);
	REQUIRE(comp.ok);
	CHECK(comp.reading.series.size() == 2); // the numeric keys
	auto str = metrics::takeSample(*jmx);
	CHECK_FALSE(str.ok);
	CHECK(str.errorKind == "bad-shape");
	auto missing = metrics::takeSample(*jmx);
	CHECK_FALSE(missing.ok);
	CHECK(missing.errorKind == "server");
	CHECK(missing.error.find("InstanceNotFoundException") != std::string::npos);

	// Nothing listens: a connect failure.
	t.url = "http://127.0.0.1:1";
	auto gone = metrics::makePromSource("g", t, "up");
	auto g = metrics::takeSample(*gone);
	CHECK_FALSE(g.ok);
	CHECK(g.errorKind == "connect");
	const json gj = metrics::toJson(g);
	CHECK(gj["ok"] == false);
	CHECK(gj["error_kind"] == "connect");
}

TEST_CASE("Streams metric sources: the DC is chosen per sample, and errors say which kind they are")
{
	streams::Endpoint ep;
	ep.dc = "dc1";
	ep.url = "http://127.0.0.1:1"; // nothing listens
	ep.retries = 0;
	ep.connectTimeoutMs = 500;
	std::string active;
	metrics::StreamsSelector sel;
	sel.dc = "active";
	sel.operators = {"Sink"};
	auto src = metrics::makeStreamsSource("s", {ep}, sel, [&active] { return active; });
	auto none = metrics::takeSample(*src);
	CHECK_FALSE(none.ok);
	CHECK(none.errorKind == "not-found");
	CHECK(none.error.find("no DC is active") != std::string::npos);
	active = "dc9";
	auto unknown = metrics::takeSample(*src);
	CHECK(unknown.errorKind == "config");
	active = "dc1";
	auto down = metrics::takeSample(*src);
	CHECK_FALSE(down.ok);
	CHECK(down.errorKind == "connect");
	CHECK(src->describe()["operators"] == json::array({"Sink"}));

	// The follower refuses a streams source without a streams config, or for a DC the config does not have.
	MetricsBlock block;
	MetricSourceSpec spec;
	spec.name = "p";
	spec.kind = "streams";
	spec.dc = "dc2";
	spec.operators = {"Sink"};
	spec.where = "m.yaml:3:5";
	block.sources.push_back(spec);
	MetricsFollower f;
	auto noConfig = f.start(block, {}, nullptr);
	REQUIRE_FALSE(noConfig.ok());
	CHECK(noConfig.error().message.find("no streams config") != std::string::npos);
	MetricsFollower g;
	auto noDc = g.start(block, {ep}, nullptr);
	REQUIRE_FALSE(noDc.ok());
	CHECK(noDc.error().message == "m.yaml:3:5: metrics source p: the streams config has no instance for DC 'dc2' (it "
				      "has: dc1)");
}
