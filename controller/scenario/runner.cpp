// SPDX-License-Identifier: Apache-2.0
// The scenario runner (see runner.h for the contract): the Run sequences the phases and drives its parts
// (parts/run_part.h) through their lifecycle.
#include "controller/scenario/runner.h"

#include <memory>

#include "common/duration.h"
#include "controller/scenario/assertions/assertion.h"
#include "controller/scenario/charts.h"
#include "controller/scenario/parts/assertions_part.h"
#include "controller/scenario/parts/data.h"
#include "controller/scenario/parts/faults.h"
#include "controller/scenario/parts/metrics.h"
#include "controller/scenario/parts/recording.h"
#include "controller/scenario/parts/residue.h"
#include "controller/scenario/parts/streams.h"

namespace xdc::scenario {

namespace {

class Run : public RunTimeline {
public:
	Run(const Scenario &s, const RunOptions &opt) : c_(s, opt) {}

	RunReport run()
	{
		c_.t0 = clk::wallNs();
		RunReport &r = c_.report;
		r.runId = c_.opt.runId;
		r.scenario = {.name = c_.s.name, .description = c_.s.description, .file = c_.s.origin};
		r.user = c_.opt.user;
		r.seed = c_.opt.seed;
		r.repetition = c_.opt.repetition;
		r.inputs = c_.opt.inputs;
		r.variables = c_.s.variables;
		r.random = c_.s.drawn;
		r.startedNs = c_.t0;
		makeParts();
		body();
		teardown();
		r.endedNs = clk::wallNs();
		// What report.html plots, from what the parts recorded (charts.h).
		r.charts = buildCharts(r, c_.recording ? c_.recording->entries() : std::vector<json>{}, outputSeries());
		r.verdict = c_.verdict;
		r.exitCode = c_.exit;
		r.reason = c_.reason;
		r.aborted = c_.exit == kAborted;
		c_.publishState(true);
		return r;
	}

	// ---- RunTimeline (assertions/assertion.h) ----
	const Scenario &scenario() const override { return c_.s; }
	const std::vector<json> &entries() const override { return c_.recording->entries(); }
	const std::vector<ProbeOutages> &outages() const override { return c_.report.outages; }
	RunReport &report() override { return c_.report; }
	std::vector<std::string> probeHosts(const ProbeRef &r) const override { return c_.probeHosts(r); }
	std::pair<int64_t, int64_t> faultsWindow() const override { return c_.faults->window(); }
	std::pair<int64_t, int64_t> phaseWindow(const std::string &name) const override { return c_.phaseWindow(name); }
	bool followsStreams() const override { return c_.streamsView() != nullptr; }
	std::string activeAtObserveEnd() const override { return c_.streams ? c_.streams->activeAtObserveEnd() : ""; }
	std::map<std::string, std::vector<streams::OutputPoint>> outputSeries() const override
	{
		StreamsFollower *view = c_.streamsView();
		return view ? view->outputSeries() : std::map<std::string, std::vector<streams::OutputPoint>>{};
	}
	std::string streamsUnmeasurable(bool detection, bool takeover) const override
	{
		return c_.streams ? c_.streams->unmeasurable(detection, takeover) : "Streams was not followed";
	}
	std::optional<streams::ToolkitEvent> firstEvent(const std::string &kind, int64_t fromNs) const override
	{
		return c_.streams ? c_.streams->firstEvent(kind, fromNs) : std::nullopt;
	}
	const data::ValidationReport *dataReport() const override { return c_.data ? c_.data->validation() : nullptr; }
	std::optional<int64_t> dataRto(int64_t faultStart) const override
	{
		return c_.data ? c_.data->rto(faultStart) : std::nullopt;
	}
	std::string checkMetricSource(const MetricAssertion &a, json &observed) override
	{
		if (!c_.metrics)
			return "the metric sources were not sampled";
		return c_.metrics->check(a, observed, c_.faults->window());
	}

private:
	// The parts in their order: prepare() and phaseBegin() go forward, phaseEnd(), teardown() and report()
	// backward (what was put in place last is taken down first; a part's report may read what the parts after it
	// wrote). Streams before data and metrics (they read its view); faults last (reverted first).
	void makeParts()
	{
		add<ResiduePart>(nullptr);
		parts_.push_back(std::make_unique<AssertionsPart>(c_, *this));
		if (c_.s.usesStreams())
			add<StreamsPart>(&c_.streams);
		if (c_.s.data.present)
			add<DataPart>(&c_.data);
		add<RecordingPart>(&c_.recording);
		if (c_.s.metrics.present)
			add<MetricsPart>(&c_.metrics);
		add<FaultsPart>(&c_.faults);
	}

	template <typename P> void add(P **slot)
	{
		auto p = std::make_unique<P>(c_);
		if (slot)
			*slot = p.get();
		parts_.push_back(std::move(p));
	}

	bool prepare()
	{
		for (auto &p : parts_)
			if (!p->prepare())
				return false;
		return true;
	}

	// A phase that waits for its duration (setup).
	bool timedPhase(const std::string &name, Nanos length)
	{
		if (!phaseBegin(name))
			return false;
		if (!c_.waited(c_.waitUntil(clk::wallNs() + ns(length))))
			return false;
		return phaseEnd(name);
	}

	// The parts' phaseBegin (forward), then the phase's report entry.
	bool phaseBegin(const std::string &name)
	{
		for (auto &p : parts_)
			if (!p->phaseBegin(name))
				return false;
		c_.beginPhase(name);
		return true;
	}

	// The parts' phaseEnd (backward), then the phase's status: passed, or failed with the verdict's reason.
	bool phaseEnd(const std::string &name)
	{
		for (auto p = parts_.rbegin(); p != parts_.rend(); ++p)
			if (!(*p)->phaseEnd(name)) {
				c_.endPhase("failed", c_.reason);
				return false;
			}
		c_.endPhase("passed");
		return true;
	}

	void noteActive()
	{
		if (c_.streams)
			c_.streams->noteActive();
	}

	void body()
	{
		if (!c_.loadFleet() || !prepare())
			return;
		if (c_.s.setup.present && !timedPhase("setup", c_.s.setup.duration))
			return;
		if (!phaseBegin("baseline"))
			return;
		if (!c_.waited(c_.waitUntil(clk::wallNs() + ns(c_.s.baseline.duration))))
			return;
		if (!phaseEnd("baseline")) {
			c_.skipPhase("inject", "the steady state did not hold before injection");
			return;
		}
		if (!phaseBegin("inject") || !c_.faults->inject()) // inject ends its phase itself
			return recover(false);
		if (!phaseBegin("observe") || !observe())
			return recover(false);
		phaseEnd("observe");
		recover(true);
	}

	// observe until its condition: a Streams event, a metric condition, a probe's success streak, or its duration.
	// False when the run must go to recovery (verdict set, phase ended).
	bool observe()
	{
		const Scenario &s = c_.s;
		if (!s.observe.untilStreams.empty())
			return observeStreams();
		if (s.observe.untilMetric)
			return c_.metrics->observeUntil(c_.faults->injectStart());
		if (s.observe.until)
			return observeProbe();
		return c_.waited(c_.waitUntil(clk::wallNs() + ns(s.observe.duration)));
	}

	bool observeStreams()
	{
		const Scenario &s = c_.s;
		std::string event;
		for (const auto &[cond, ev] : kStreamsConditions)
			if (cond == s.observe.untilStreams)
				event = ev;
		const bool detection = event == "remote_down" || event == "remote_up" || event == "state_handed_over";
		const bool takeover = event == "takeover_complete" || event == "fail_back" || event == "split_brain";
		if (const std::string why = streamsUnmeasurable(detection, takeover); !why.empty()) {
			c_.endPhase("error", why);
			c_.setVerdict(kHarness, "harness", "observe.until.streams " + s.observe.untilStreams + ": " + why);
			return false;
		}
		const int64_t from = c_.faults->injectStart();
		const int64_t deadline = clk::wallNs() + ns(s.observe.timeout);
		const auto w = c_.waitUntil(deadline, [this, event, from](const json &) {
			return firstEvent(event, from).has_value();
		});
		if (!c_.waited(w))
			return false;
		if (!firstEvent(event, from)) {
			const std::string why = fmt::format("observe: the Streams toolkit view saw no {} within {}",
							    s.observe.untilStreams, formatDuration(s.observe.timeout));
			c_.endPhase("failed", why);
			c_.setVerdict(kFailed, "failed", why);
			noteActive();
			return false;
		}
		c_.say(fmt::format("streams: {} seen", s.observe.untilStreams));
		return true;
	}

	bool observeProbe()
	{
		const Scenario &s = c_.s;
		const ProbeRef ref = *s.observe.until;
		const int64_t okFor = ns(s.observe.okFor);
		// Only attempts made during observe count: a success streak that began before it (the probe never failed,
		// or its failures have not arrived yet) is counted from observe's start.
		const int64_t observeStart = clk::wallNs();
		auto holds = [this, ref, okFor, observeStart](const json &st) {
			for (const auto &h : c_.probeHosts(ref)) {
				const json p = RecordingPart::probeOf(st, h, ref.probe);
				// The success streak on the controller's clock, counted from observe's start at the earliest.
				const int64_t streak = p.value("last_ns", int64_t{0}) -
						       std::max(p.value("streak_start_ns", int64_t{0}), observeStart);
				if (p.empty() || !p.value("last_ok", false) || streak < okFor)
					return false;
			}
			return true;
		};
		const int64_t deadline = clk::wallNs() + ns(s.observe.timeout);
		if (!c_.waited(c_.waitUntil(deadline, holds)))
			return false;
		if (clk::wallNs() >= deadline) {
			const std::string why = fmt::format("observe: probe {} did not succeed for {} within {}", ref.probe,
							    formatDuration(s.observe.okFor), formatDuration(s.observe.timeout));
			c_.endPhase("failed", why);
			c_.setVerdict(kFailed, "failed", why);
			return false;
		}
		return true;
	}

	void recover(bool normal)
	{
		if (c_.controllerLost)
			return;
		if (c_.exit == kAborted) {
			c_.faults->revertAll("aborted");
			return;
		}
		if (!phaseBegin("recover"))
			return;
		c_.faults->revertAll(normal ? "recover" : "stopped early");
		if (!normal || c_.exit != kPassed) {
			c_.endPhase(c_.exit == kHarness ? "error" : "skipped", "run ended early: " + c_.reason);
			return;
		}
		if (!c_.waited(c_.waitUntil(clk::wallNs() + ns(c_.s.recover.duration))))
			return;
		phaseEnd("recover");
	}

	void teardown()
	{
		if (c_.controllerLost) {
			c_.setVerdict(kHarness, "broken", "lost the controller: " + c_.controllerError);
			c_.report.residue = Residue{.clean = false, .found = {"not checked: the controller is gone"}};
			return;
		}
		// Whatever is still in place (a harness failure before recover, an abort) is reverted first.
		c_.faults->teardown();
		if (!c_.hosts.empty())
			c_.beginPhase("teardown");
		for (auto p = parts_.rbegin(); p != parts_.rend(); ++p)
			(*p)->teardown();
		for (auto p = parts_.rbegin(); p != parts_.rend(); ++p)
			(*p)->report();
		if (!c_.hosts.empty())
			c_.endPhase(c_.exit == kHarness ? "error" : "passed");
	}

	RunContext c_;
	std::vector<std::unique_ptr<RunPart>> parts_;
};

} // namespace

Host hostOfAgent(const control::AgentInfo &a)
{
	return Host{a.host, a.dc, a.labels, a.capabilities};
}

RunReport runScenario(const Scenario &s, const RunOptions &opt)
{
	Run r(s, opt);
	return r.run();
}

json planScenario(const Scenario &s, const RunOptions &opt)
{
	json plan = {{"scenario", s.name}, {"run_id", opt.runId}, {"seed", opt.seed}, {"variables", s.variables},
		     {"random", s.drawn},
		     {"planned_duration_ms", ns(s.plannedDuration()) / kMs}};
	json phases = json::array();
	int64_t t = 0;
	auto add = [&](const char *name, const Phase &p, int64_t length) {
		if (!p.present)
			return;
		phases.push_back({{"name", name}, {"start_ms", t / kMs}, {"duration_ms", length / kMs}});
		t += length;
	};
	add("setup", s.setup, ns(s.setup.duration));
	add("baseline", s.baseline, ns(s.baseline.duration));
	int64_t lastStart = 0;
	for (const auto &f : s.faults)
		lastStart = std::max(lastStart, ns(f.spec.start));
	for (const auto &a : s.streamsActions)
		lastStart = std::max(lastStart, ns(a.start));
	const int64_t injectAt = t;
	add("inject", s.inject, lastStart);
	add("observe", s.observe, ns(s.observe.until || !s.observe.untilStreams.empty() || s.observe.untilMetric
					     ? s.observe.timeout
					     : s.observe.duration));
	add("recover", s.recover, ns(s.recover.duration));
	plan["phases"] = phases;
	json faults = json::array();
	for (size_t i = 0; i < s.faults.size(); i++) {
		const auto &f = s.faults[i];
		fault::FaultSpec spec = f.spec;
		spec.id = fmt::format("{}.{}", opt.runId, i + 1);
		json e = {{"id", spec.id}, {"kind", std::string(fault::kindName(f.spec.kind))}, {"spec", fault::toYaml(spec)},
			  {"at_ms", (injectAt + ns(f.spec.start)) / kMs}, {"until_ms", (injectAt + ns(f.spec.start) + ns(f.spec.duration)) / kMs},
			  {"where", f.where}};
		if (opt.call) {
			control::FaultApplyRequest req{.spec = spec, .origin = f.where, .dryRun = true};
			auto r = opt.call(req, 15000);
			auto answer = r ? control::parseAnswer<control::FaultApplyAnswer>(*r)
					: Result<control::FaultApplyAnswer>(r.error());
			if (!answer) {
				e["error"] = answer.error().message;
			} else {
				const json printed = control::toJson(*answer);
				e[answer->ok ? "agents" : "error"] = printed[answer->ok ? "agents" : "error"];
			}
		}
		faults.push_back(e);
	}
	plan["faults"] = faults;
	json ops = json::array();
	for (size_t i = 0; i < s.streamsActions.size(); i++) {
		const auto &a = s.streamsActions[i];
		json o = {{"id", fmt::format("{}.s{}", opt.runId, i + 1)}, {"kind", "streams." + a.kind}, {"dc", a.dc},
			  {"at_ms", (injectAt + ns(a.start)) / kMs}, {"where", a.where}};
		if (!a.pes.empty())
			o["pes"] = a.pes;
		if (!a.bundle.empty())
			o["bundle"] = a.bundle;
		ops.push_back(o);
	}
	plan["streams_operations"] = ops;
	if (s.usesStreams())
		plan["streams"] = {{"config", opt.streamsConfig}, {"interval_ms", ns(s.streams.interval) / kMs}};
	json ev = json::array();
	for (const auto *list : {&s.probes, &s.samplers})
		for (const auto &sp : *list)
			ev.push_back(evidence::toYaml(sp));
	plan["evidence"] = ev;
	if (s.metrics.present) {
		json srcs = json::array();
		for (const auto &m : s.metrics.sources)
			srcs.push_back({{"name", m.name}, {"kind", m.kind}, {"where", m.where}});
		plan["metrics"] = {{"interval_ms", ns(s.metrics.interval) / kMs}, {"sources", srcs}};
	}
	return plan;
}

} // namespace xdc::scenario
