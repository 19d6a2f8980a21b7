// SPDX-License-Identifier: Apache-2.0
// The run's evidence recording (see recording.h).
#include "controller/scenario/parts/recording.h"

#include <map>
#include <set>
#include <unistd.h>

#include "common/duration.h"
#include "controller/scenario/parts/metrics.h"
#include "controller/scenario/streams_follow.h"
#include "controller/scenario/streams_host.h"

namespace xdc::scenario {

bool RecordingPart::phaseBegin(const std::string &phase)
{
	return phase == "baseline" ? start() : true;
}

bool RecordingPart::phaseEnd(const std::string &phase)
{
	if (phase == "baseline")
		return steadyState("before inject");
	if (phase == "recover")
		return steadyState("after recovery");
	return true;
}

bool RecordingPart::start()
{
	const Scenario &s = c_.s;
	StreamsFollower *view = c_.streamsView();
	control::RecordStartRequest req{.out = c_.opt.outDir + "/evidence", .forMs = 0,
					.maxMs = ns(s.plannedDuration()) / kMs + 600000, .name = c_.opt.runId};
	auto &specs = req.specs;
	for (const auto *list : {&s.probes, &s.samplers})
		for (const auto &sp : *list)
			specs.push_back({evidence::toYaml(sp), s.origin});
	// What the Streams hosts show, where the streams config names it (streams_host.h).
	if (view && s.streams.hostSignals) {
		auto hs = hostSignalSamplers(view->endpoints());
		if (!hs) {
			c_.setVerdict(kHarness, "harness", "streams host_signals: " + hs.error().message);
			return false;
		}
		for (const auto &text : *hs)
			specs.push_back({text, c_.opt.streamsConfig});
	}
	if (specs.empty())
		return true;
	// A run that records evidence records every host it touches: a host with only a fault or a Streams
	// operation gets a host sampler, so the bundle has its folder, fault journal, agent log and clock.
	for (const auto &h : touchedHostsWithoutSamplers())
		specs.push_back({fmt::format("{{name: xdc-touched, kind: host, on: {{host: {}}}, interval: 1s}}",
					     json(h).dump()),
				 "the hosts the run touches"});
	auto r = c_.call(req, 30000);
	if (!r) {
		c_.setVerdict(kHarness, "harness", "evidence: " + r.error().message);
		return false;
	}
	auto started = control::parseAnswer<control::RecordStartAnswer>(*r);
	if (!started) {
		c_.setVerdict(kHarness, "harness", "evidence: " + started.error().message);
		return false;
	}
	recording_ = started->recording;
	// Every probe must be reporting before anything else happens.
	const int64_t deadline = clk::monoNs() + 15 * clk::kSec;
	while (clk::monoNs() < deadline && !c_.interrupted()) {
		auto st = status(1000);
		bool all = st.has_value();
		for (const auto &p : s.probes)
			for (const auto &h : selectHosts(p.on, c_.hosts))
				all = all && (*st)["hosts"][h]["probes"].contains(p.name);
		if (all)
			return true;
		::usleep(50000);
	}
	if (c_.interrupted())
		return false;
	c_.setVerdict(kHarness, "harness", "evidence: not every probe delivered a sample within 15 s of the start");
	return false;
}

// The hosts a fault or a Streams operation of the run acts on (a network fault's peers too: their side is cut as
// well) that no probe, sampler or host signal records.
std::vector<std::string> RecordingPart::touchedHostsWithoutSamplers() const
{
	const Scenario &s = c_.s;
	StreamsFollower *view = c_.streamsView();
	std::set<std::string> covered, touched;
	for (const auto *list : {&s.probes, &s.samplers})
		for (const auto &sp : *list)
			for (const auto &h : selectHosts(sp.on, c_.hosts))
				covered.insert(h);
	if (view && s.streams.hostSignals)
		for (const auto &ep : view->endpoints())
			if (!ep.host.empty() && ep.hostSignals.any())
				covered.insert(ep.host);
	for (const auto &f : s.faults) {
		for (const auto &h : selectHosts(f.spec.targets, c_.hosts))
			touched.insert(h);
		if (!f.spec.peers.selector.empty())
			for (const auto &h : selectHosts(f.spec.peers.selector, c_.hosts))
				touched.insert(h);
	}
	if (view)
		for (const auto &a : s.streamsActions)
			if (a.kind == "stop_pe" || a.kind == "restart_pe" || a.kind == "orderly_shutdown")
				for (const auto &ep : view->endpoints())
					if (ep.dc == a.dc && !ep.host.empty())
						touched.insert(ep.host);
	std::vector<std::string> out;
	for (const auto &h : touched)
		if (!covered.count(h) && c_.dcOf.count(h))
			out.push_back(h);
	return out;
}

std::optional<json> RecordingPart::status(int64_t windowMs, int64_t windowEndNs)
{
	if (recording_.empty())
		return std::nullopt;
	auto r = c_.call(control::RecordStatusRequest{recording_, windowMs, windowEndNs}, 5000);
	auto ans = r ? control::parseAnswer<control::RecordStatusAnswer>(*r) : r.error();
	if (!ans || !ans->status)
		return std::nullopt;
	return *ans->status;
}

json RecordingPart::probeOf(const json &st, const std::string &host, const std::string &probe)
{
	if (!st.contains("hosts") || !st["hosts"].contains(host) || !st["hosts"][host].contains("probes") ||
	    !st["hosts"][host]["probes"].contains(probe))
		return json::object();
	return st["hosts"][host]["probes"][probe];
}

std::optional<std::string> RecordingPart::stopCondition(const json &st) const
{
	for (const auto &c : c_.s.stopConditions)
		for (const auto &h : c.metric ? std::vector<std::string>{} : c_.probeHosts(c.ref)) {
			const json p = probeOf(st, h, c.ref.probe);
			if (!p.empty() && !p.value("last_ok", true) &&
			    p.value("streak_ms", int64_t{0}) * kMs >= ns(c.failingFor))
				return fmt::format("stop condition '{}' held: probe {} on {} failing for {} ms", c.name,
						   c.ref.probe, h, p.value("streak_ms", int64_t{0}));
		}
	return std::nullopt;
}

std::string RecordingPart::probeHealth(const json &st) const
{
	std::string probes;
	for (const auto &p : c_.s.probes)
		for (const auto &h : selectHosts(p.on, c_.hosts)) {
			const json j = probeOf(st, h, p.name);
			if (j.empty())
				continue;
			probes += fmt::format(" {}@{} {}", p.name, h,
					      j.value("last_ok", false) ? "ok"
									: fmt::format("FAIL {:.1f}s", j.value("streak_ms", 0) / 1000.0));
		}
	return probes.empty() ? " no probes" : probes;
}

// How long a check waits for its window's samples: the slowest source's interval and timeout (its first
// observation after the window's end), plus the agents' batching (a partial batch waits at most 0.5 s), a resend and
// the clock bound.
int64_t RecordingPart::windowWaitNs(const SteadyCheck &c) const
{
	int64_t slowest = 0;
	for (const auto *list : {&c_.s.probes, &c_.s.samplers})
		for (const auto &sp : *list)
			if (sp.name == (c.isMetric() ? c.sampler : c.ref.probe))
				slowest = std::max<int64_t>(slowest, ns(sp.interval) + ns(sp.timeout));
	return slowest + 3 * clk::kSec;
}

// The hosts a check reads.
std::vector<std::string> RecordingPart::checkHosts(const SteadyCheck &c) const
{
	if (!c.isMetric())
		return c_.probeHosts(c.ref);
	if (!c.ref.host.empty())
		return {c.ref.host};
	for (const auto &sm : c_.s.samplers)
		if (sm.name == c.sampler)
			return selectHosts(sm.on, c_.hosts);
	return {};
}

// Whether a host has delivered every sample of the check's window (status asked with the window's end), and if not,
// what is missing.
std::optional<std::string> RecordingPart::windowMissing(const SteadyCheck &c, const std::optional<json> &st,
							const std::string &host, int64_t endNs) const
{
	if (!st)
		return "the recording's status could not be read";
	const json hs = st->value("hosts", json::object()).value(host, json::object());
	const json w = c.isMetric() ? hs.value("metric_windows", json::object()).value(c.sampler, json::object())
				    : probeOf(*st, host, c.ref.probe);
	const std::string what = c.isMetric() ? "sampler " + c.sampler : "probe " + c.ref.probe;
	if (w.value(c.isMetric() ? "complete" : "window_complete", false))
		return std::nullopt;
	const json through = w.value("delivered_through_ns", json());
	if (!through.is_number())
		return fmt::format("{} on {} had delivered no sample", what, host);
	return fmt::format("{} on {} had delivered its samples only up to {} before the window's end", what, host,
			   formatApprox(Nanos(endNs - through.get<int64_t>())));
}

bool RecordingPart::steadyState(const std::string &when)
{
	if (c_.s.steadyState.empty())
		return true;
	// Every window ends now. The agents send their samples in batches, so what has arrived ends up to a batch
	// earlier: each check waits, bounded, until every host it reads has delivered its source's samples past the
	// window's end, and a window judged incomplete says so.
	const int64_t end = clk::wallNs();
	bool all = true;
	std::string first;
	for (const auto &c : c_.s.steadyState) {
		if (c.condition) {
			// A metric condition: judged from the controller's own samples of the source.
			const bool pass = c_.metrics && c_.metrics->steady(c, when, end, first);
			all = all && pass;
			continue;
		}
		const int64_t deadline = clk::monoNs() + windowWaitNs(c);
		std::optional<json> st;
		std::map<std::string, std::string> missing;
		for (;;) {
			st = status(ns(c.window) / kMs, end);
			missing.clear();
			for (const auto &h : checkHosts(c))
				if (auto why = windowMissing(c, st, h, end))
					missing[h] = *why;
			if (missing.empty() || clk::monoNs() >= deadline || c_.interrupted() || c_.controllerLost)
				break;
			::usleep(50000);
		}
		const size_t from = c_.report.steadyState.size();
		const bool firstBefore = first.empty();
		const bool pass = c.isMetric() ? metricSteady(c, st, when, first) : probeSteady(c, st, when, first);
		for (size_t i = from; i < c_.report.steadyState.size(); i++) {
			auto &r = c_.report.steadyState[i];
			r.windowEndNs = end;
			const auto m = missing.find(r.host.value_or(""));
			r.complete = m == missing.end();
			if (m != missing.end()) {
				r.note = "judged an incomplete window: " + m->second;
				c_.say(fmt::format("steady state {}: {}", when, *r.note));
			}
		}
		if (firstBefore && !first.empty() && !missing.empty())
			first += fmt::format(" (judged an incomplete window: {})", missing.begin()->second);
		all = all && pass;
	}
	if (!all)
		c_.setVerdict(kFailed, "failed", first);
	return all;
}

// A sampler's statistic over the check's window, on each host the sampler ran on; `first` gets the first failure.
bool RecordingPart::metricSteady(const SteadyCheck &c, const std::optional<json> &st, const std::string &when,
				 std::string &first)
{
	bool all = true;
	for (const auto &h : checkHosts(c)) {
		json m = json::object();
		if (st && (*st)["hosts"].contains(h) && (*st)["hosts"][h].contains("metrics") &&
		    (*st)["hosts"][h]["metrics"].contains(c.sampler) && (*st)["hosts"][h]["metrics"][c.sampler].contains(c.value))
			m = (*st)["hosts"][h]["metrics"][c.sampler][c.value];
		const bool have = m.value("n", 0) > 0;
		const double v = m.value(c.stat, 0.0);
		const bool pass = have && !(c.maxValue && v > *c.maxValue) && !(c.minValue && v < *c.minValue);
		c_.report.steadyState.push_back({.when = when, .status = pass ? "passed" : "failed", .sampler = c.sampler,
						 .value = c.value, .stat = c.stat, .samples = m.value("n", int64_t{0}),
						 .observed = v, .host = h, .windowMs = ns(c.window) / kMs});
		if (!pass && first.empty())
			first = have ? fmt::format("steady state {}: {} {}.{} on {} over the last {} is {:g} (bounds: {}{})",
						   when, c.stat, c.sampler, c.value, h, formatDuration(c.window), v,
						   c.minValue ? fmt::format(">= {:g} ", *c.minValue) : "",
						   c.maxValue ? fmt::format("<= {:g}", *c.maxValue) : "")
				     : fmt::format("steady state {}: no '{}' samples of {} on {} in the last {}", when, c.value,
						   c.sampler, h, formatDuration(c.window));
		all = all && pass;
	}
	return all;
}

// A probe's success ratio over the check's window, on each host it covers; `first` gets the first failure.
bool RecordingPart::probeSteady(const SteadyCheck &c, const std::optional<json> &st, const std::string &when,
				std::string &first)
{
	bool all = true;
	for (const auto &h : c_.probeHosts(c.ref)) {
		const json p = st ? probeOf(*st, h, c.ref.probe) : json::object();
		const uint64_t n = p.value("window_attempts", uint64_t{0}), ok = p.value("window_ok", uint64_t{0});
		const double ratio = n ? static_cast<double>(ok) / static_cast<double>(n) : 0.0;
		const bool pass = n > 0 && ratio + 1e-9 >= c.minSuccess;
		c_.report.steadyState.push_back({.when = when, .status = pass ? "passed" : "failed", .probe = c.ref.probe,
						 .attempts = n, .ratio = ratio, .min = c.minSuccess, .host = h,
						 .windowMs = ns(c.window) / kMs});
		if (!pass && first.empty())
			first = fmt::format("steady state {}: probe {} on {}: {:.1f}% of {} attempts in the last {} succeeded "
					    "(need {:.1f}%)", when, c.ref.probe, h, ratio * 100, n, formatDuration(c.window),
					    c.minSuccess * 100);
		all = all && pass;
	}
	return all;
}

void RecordingPart::teardown()
{
	if (recording_.empty() || stopped_)
		return;
	stopped_ = true;
	const int drainMs = c_.exit == kAborted ? 10000 : 30000;
	auto r = c_.call(control::RecordStopRequest{recording_, drainMs}, drainMs + 60000);
	if (!r) {
		c_.setVerdict(kHarness, "harness", "evidence: " + r.error().message);
		return;
	}
	auto stopped = control::parseAnswer<control::RecordStopAnswer>(*r);
	if (!stopped) {
		c_.setVerdict(kHarness, "harness", "evidence: " + stopped.error().message);
		return;
	}
	meta_ = stopped->meta;
	if (!meta_.value("complete", false) && c_.exit == kPassed)
		c_.setVerdict(kHarness, "harness", "evidence: the bundle has gaps (see evidence/meta.json)");
	auto b = controller::evidence::loadBundle(c_.opt.outDir + "/evidence");
	if (b)
		bundle_ = std::move(*b);
}

void RecordingPart::report()
{
	if (recording_.empty())
		return;
	c_.report.evidenceDir = "evidence";
	if (meta_.is_null())
		return;
	c_.report.evidence = EvidenceSummary{.complete = meta_.value("complete", false),
					     .gaps = meta_.value("gaps", json::array())};
	// meta.json's outages, as the recording wrote them (their one reader: a bad entry is a harness error).
	auto read = outagesFromJson(meta_.value("outages", json::array()));
	if (read)
		c_.report.outages = std::move(*read);
	else
		c_.setVerdict(kHarness, "harness", "evidence: meta.json's outages: " + read.error().message);
}

} // namespace xdc::scenario
