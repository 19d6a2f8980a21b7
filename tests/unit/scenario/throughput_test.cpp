// SPDX-License-Identifier: Apache-2.0
// The throughput assertion over a scripted timeline: the baseline rate, the first window back above the bound, PE
// restarts, what cannot be measured, and its parse errors.
#include <doctest/doctest.h>

#include <regex>

#include "controller/scenario/assertions/assertion.h"
#include "controller/scenario/spec.h"

using namespace xdc;
using namespace xdc::scenario;
using nlohmann::json;

namespace {

constexpr int64_t kS = 1000000000;

const char *kText = R"(version: 1
name: t
phases:
  baseline: {duration: 3s}
  inject: {faults: [{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 5s}]}
  observe: {duration: 10s}
  recover: {duration: 1s}
assertions:
  - throughput: {min: 80%, within: 8s, window: 2s}
)";

// Baseline [0, 3 s), faults from 5 s to 10 s. dc1 delivers 100/s until the faults begin; dc2 from 9 s on. Both
// collect every 500 ms; the REST server's collection times lag the polls by 100 ms.
class Timeline : public RunTimeline {
public:
	Scenario s;
	std::map<std::string, std::vector<streams::OutputPoint>> series;
	std::pair<int64_t, int64_t> faults{5 * kS, 10 * kS};
	std::vector<json> none;
	RunReport rep;
	std::vector<ProbeOutages> outs;

	Timeline()
	{
		for (int64_t t = kS / 2; t <= 20 * kS; t += kS / 2) {
			series["dc1"].push_back({t, t - kS / 10, 100 * std::min(t, 5 * kS) / kS});
			series["dc2"].push_back({t, t - kS / 10, 100 * std::max<int64_t>(0, t - 9 * kS) / kS});
		}
	}
	const Scenario &scenario() const override { return s; }
	std::pair<int64_t, int64_t> faultsWindow() const override { return faults; }
	std::pair<int64_t, int64_t> phaseWindow(const std::string &name) const override
	{
		return name == "baseline" ? std::pair<int64_t, int64_t>{0, 3 * kS} : std::pair<int64_t, int64_t>{0, 0};
	}
	std::vector<std::string> probeHosts(const ProbeRef &) const override { return {}; }
	const std::vector<json> &entries() const override { return none; }
	const std::vector<ProbeOutages> &outages() const override { return outs; }
	RunReport &report() override { return rep; }
	bool followsStreams() const override { return true; }
	std::string streamsUnmeasurable(bool, bool) const override { return ""; }
	std::optional<streams::ToolkitEvent> firstEvent(const std::string &, int64_t) const override { return {}; }
	std::string activeAtObserveEnd() const override { return "dc2"; }
	std::map<std::string, std::vector<streams::OutputPoint>> outputSeries() const override { return series; }
	const data::ValidationReport *dataReport() const override { return nullptr; }
	std::optional<int64_t> dataRto(int64_t) const override { return {}; }
	std::string checkMetricSource(const MetricAssertion &, json &) override { return ""; }
};

std::shared_ptr<const AssertionCheck> parsed(const std::string &body)
{
	auto s = parseScenario(std::regex_replace(kText, std::regex("\\{min: 80%, within: 8s, window: 2s\\}"), body),
			       "t.yaml");
	REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
	REQUIRE(s->assertions.size() == 1);
	CHECK(s->assertions[0].kind == "throughput");
	CHECK(s->usesStreams());
	return s->assertions[0].check;
}

} // namespace

TEST_CASE("throughput: the first whole window after the faults' start back above the share of the baseline rate")
{
	Timeline run;
	auto a = parsed("{min: 80%, within: 8s, window: 2s}");
	auto out = a->evaluate(run);
	INFO(out.observed.dump());
	CHECK(out.unmeasurable.empty());
	CHECK(out.failure.empty());
	CHECK(out.observed["baseline_rate"].get<double>() == doctest::Approx(100));
	// [8.5 s, 10.5 s] holds dc2's 0 -> 150 over 2 s (75/s); [9 s, 11 s] 0 -> 200 (100/s).
	CHECK(out.observed["recovered_after_ms"].get<double>() == doctest::Approx(6000));
	CHECK(out.observed["rate"].get<double>() == doctest::Approx(100));

	// Too soon: the best rate seen by the deadline is named with the baseline.
	auto early = parsed("{min: 80%, within: 5500ms, window: 2s}")->evaluate(run);
	CHECK(early.failure.find("output rate reached at most 75.0/s within 5500ms of the faults' start < 80% of the "
				 "baseline's 100.0/s") != std::string::npos);

	// dc1 alone never comes back.
	auto dc1 = parsed("{min: 50%, within: 10s, dc: dc1}")->evaluate(run);
	CHECK(dc1.failure.find("dc1 output rate reached at most 0.0/s") != std::string::npos);

	// From the faults' end (10 s): the first window wholly after it ends at 12 s.
	auto fromEnd = parsed("{min: 80%, within: 5s, window: 2s, from: faults_end}")->evaluate(run);
	CHECK(fromEnd.failure.empty());
	CHECK(fromEnd.observed["recovered_after_ms"].get<double>() == doctest::Approx(2000));
}

TEST_CASE("throughput: a counter that restarts with its PE counts from zero")
{
	Timeline run;
	run.faults = {13 * kS, 14 * kS};
	for (auto &p : run.series["dc2"])
		if (p.tNs >= 15 * kS)
			p.value -= 600; // the PE relaunched at 15 s: its counter starts again from 0
	// [13 s, 15 s]: 400, 450, 500, 550, then 0 after the relaunch: 150 tuples in 2 s, not -400.
	auto out = parsed("{min: 70%, within: 3s, window: 2s}")->evaluate(run);
	INFO(out.observed.dump());
	CHECK(out.failure.empty());
	CHECK(out.observed["recovered_after_ms"].get<double>() == doctest::Approx(2000));
	CHECK(out.observed["rate"].get<double>() == doctest::Approx(75));
}

TEST_CASE("throughput: what cannot be measured is a harness error, not a failure")
{
	Timeline run;
	run.series.clear();
	auto out = parsed("{min: 80%, within: 8s}")->evaluate(run);
	CHECK(out.unmeasurable.find("no DC showed its application's output counter") != std::string::npos);

	Timeline sparse;
	for (auto &[dc, s] : sparse.series)
		s.erase(std::remove_if(s.begin(), s.end(), [](const auto &p) { return p.tNs <= 3 * kS && p.tNs != kS; }),
			s.end());
	auto thin = parsed("{min: 80%, within: 8s}")->evaluate(sparse);
	CHECK(thin.unmeasurable.find("fewer than two metric collections") != std::string::npos);

	Timeline noFault;
	noFault.faults = {INT64_MAX, 0};
	CHECK(parsed("{min: 80%, within: 8s}")->evaluate(noFault).failure.find("no fault took effect") !=
	      std::string::npos);
}

TEST_CASE("throughput: bad bodies name the key")
{
	for (const auto &[body, says] : std::vector<std::pair<std::string, std::string>>{
		     {"{within: 8s}", "assertions[0].throughput.min: required"},
		     {"{min: 80%}", "assertions[0].throughput.within: required"},
		     {"{min: 180%, within: 8s}", "assertions[0].throughput.min: '180%' is not a ratio"},
		     {"{min: 80%, within: 1s, window: 2s}", "assertions[0].throughput.within: 1s is shorter than the window"},
		     {"{min: 80%, within: 8s, from: start}", "assertions[0].throughput.from: 'start' is not a reference"},
		     {"{min: 80%, within: 8s, window: 100ms}", "assertions[0].throughput.window: must be at least 500ms"},
		     {"{min: 80%, within: 8s, rate: 3}", "assertions[0].throughput.rate"},
		     {"80%", "assertions[0].throughput: expected a mapping"}}) {
		auto s = parseScenario(std::regex_replace(kText, std::regex("\\{min: 80%, within: 8s, window: 2s\\}"), body),
				       "t.yaml");
		REQUIRE_FALSE(s.ok());
		INFO(s.error().message);
		CHECK(s.error().message.find(says) != std::string::npos);
		CHECK(s.error().message.find("t.yaml:9:") != std::string::npos);
	}
}
