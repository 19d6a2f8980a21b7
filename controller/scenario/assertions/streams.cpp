// SPDX-License-Identifier: Apache-2.0
// `streams: {takeover, split_brain, detection_max, failover_max, active}`: what the toolkit view saw after the faults
// began (their first verified effect, on the controller's clock). An event's time is the poll round that saw it; the
// change happened since the round before. detection = the faults' start to the first remote_down (or the passive
// monitor's detection), failover = to the first takeover_complete; active = the DC active as observe ends.
#include <fmt/format.h>

#include "common/duration.h"
#include "controller/scenario/assertions/kinds.h"
#include "controller/scenario/spec.h"
#include "controller/scenario/spec_read.h"
#include "controller/streams/toolkit_view.h"

namespace xdc::scenario {

namespace {

using nlohmann::json;

class Streams : public AssertionCheck {
public:
	std::optional<bool> takeover, splitBrain;
	std::optional<Nanos> maxDetection, maxFailover;
	std::string active;

	std::string defaultName() const override
	{
		std::string t;
		auto part = [&](const std::string &x) { t += (t.empty() ? "" : ", ") + x; };
		if (takeover)
			part(*takeover ? "takeover" : "no takeover");
		if (splitBrain)
			part(*splitBrain ? "split brain" : "no split brain");
		if (maxDetection)
			part("detected <= " + formatDuration(*maxDetection));
		if (maxFailover)
			part("failed over <= " + formatDuration(*maxFailover));
		if (!active.empty())
			part(active + " active");
		return "streams: " + t;
	}

	Result<void> crossCheck(const Scenario &, const std::string &, const std::string &) const override
	{
		return success();
	}

	bool needsStreams() const override { return true; }

	json parameters() const override
	{
		json j = json::object();
		if (takeover)
			j["takeover"] = *takeover;
		if (splitBrain)
			j["split_brain"] = *splitBrain;
		if (maxDetection)
			j["detection_max_ms"] = maxDetection->count() / 1e6;
		if (maxFailover)
			j["failover_max_ms"] = maxFailover->count() / 1e6;
		if (!active.empty())
			j["active"] = active;
		return j;
	}

	// The bounds are the parameters (report.html's headline panel shows each figure beside its bound).
	void describe(json &j) const override
	{
		const json params = parameters();
		for (const auto &[k, v] : params.items())
			j[k] = v;
	}

	AssertionOutcome evaluate(RunTimeline &run) const override
	{
		AssertionOutcome out;
		out.unmeasurable = run.streamsUnmeasurable(maxDetection.has_value(),
							   takeover || maxFailover || splitBrain || !active.empty());
		if (out.unmeasurable.empty())
			out.failure = judge(run, out.observed);
		return out;
	}

private:
	std::string judge(RunTimeline &run, json &observed) const
	{
		if (!run.followsStreams())
			return "Streams was not followed";
		const int64_t faultStart = run.faultsWindow().first;
		if (faultStart == INT64_MAX)
			return "no fault took effect, so there is nothing to measure from";
		RunReport &report = run.report();
		auto down = run.firstEvent("remote_down", faultStart);
		// A passive DC's detection shows only in its monitor's output (a host signal), not over REST.
		if (!down && report.streams && report.streams->host)
			for (const auto &h : report.streams->host->value("events", json::array()))
				if (h.value("kind", "") == "monitor_detection" && h.value("t_ns", int64_t{0}) >= faultStart) {
					streams::ToolkitEvent e;
					e.tNs = h["t_ns"].get<int64_t>();
					e.sinceNs = h.value("since_ns", e.tNs);
					e.kind = "remote_down";
					e.dc = h.value("dc", "");
					e.source = "passive monitor output";
					down = e;
					break;
				}
		const auto took = run.firstEvent("takeover_complete", faultStart);
		const auto split = run.firstEvent("split_brain", faultStart);
		const std::string activeAtEnd = run.activeAtObserveEnd();
		observed["faults_start_ns"] = faultStart;
		observed["takeover"] = took.has_value();
		observed["split_brain"] = split.has_value();
		observed["active"] = activeAtEnd;
		if (down) {
			observed["detection_ms"] = (down->tNs - faultStart) / 1e6;
			observed["detection_bound_ms"] = (down->tNs - down->sinceNs) / 1e6;
			observed["detected_by"] = down->dc;
			observed["detection_source"] = down->source;
		}
		if (took) {
			observed["failover_ms"] = (took->tNs - faultStart) / 1e6;
			observed["failover_bound_ms"] = (took->tNs - took->sinceNs) / 1e6;
			observed["took_over"] = took->dc;
		}
		if (report.streams) {
			report.streams->detectionMs = observed.value("detection_ms", json(nullptr));
			report.streams->failoverMs = observed.value("failover_ms", json(nullptr));
		}
		if (takeover && *takeover != took.has_value())
			return *takeover ? "no takeover_complete after the faults began"
					   : fmt::format("{} took over {:.0f} ms after the faults began", took->dc,
							 (took->tNs - faultStart) / 1e6);
		if (splitBrain && *splitBrain != split.has_value())
			return *splitBrain ? "no split brain after the faults began"
					     : fmt::format("split brain ({}) {:.0f} ms after the faults began", split->dc,
							   (split->tNs - faultStart) / 1e6);
		if (maxDetection) {
			if (!down)
				return "no remote_down (detection) after the faults began";
			if (down->tNs - faultStart > maxDetection->count())
				return fmt::format("{} declared the remote DC down {:.0f} ms after the faults began > detection_max "
						   "{}", down->dc, (down->tNs - faultStart) / 1e6, formatDuration(*maxDetection));
		}
		if (maxFailover) {
			if (!took)
				return "no takeover_complete (failover) after the faults began";
			if (took->tNs - faultStart > maxFailover->count())
				return fmt::format("{} completed the takeover {:.0f} ms after the faults began > failover_max {}",
						   took->dc, (took->tNs - faultStart) / 1e6, formatDuration(*maxFailover));
		}
		if (!active.empty() && activeAtEnd != active)
			return fmt::format("the toolkit view's active DC when observe ended is {}, not {}",
					   activeAtEnd.empty() ? "none" : activeAtEnd, active);
		return "";
	}
};

} // namespace

std::shared_ptr<const AssertionCheck> parseStreams(AssertionParse &p)
{
	auto a = std::make_shared<Streams>();
	MapReader &b = p.r;
	const YAML::Node &body = p.body;
	if (!body.IsMap()) {
		b.fail(body, p.path, "expected a mapping: {takeover, split_brain, detection_max, failover_max, active}");
		return a;
	}
	for (const char *key : {"takeover", "split_brain"}) {
		if (!body[key])
			continue;
		bool v = false;
		b.boolean(key, v);
		(std::string(key) == "takeover" ? a->takeover : a->splitBrain) = v;
	}
	readDurationOpt(b, "detection_max", a->maxDetection);
	readDurationOpt(b, "failover_max", a->maxFailover);
	b.str("active", a->active);
	b.rejectUnknown();
	if (b.ok() && !a->takeover && !a->splitBrain && !a->maxDetection && !a->maxFailover && a->active.empty())
		b.fail(body, p.path, "give at least one of takeover, split_brain (true/false), detection_max, failover_max "
				     "(durations), active (a DC)");
	if (b.ok() && a->maxFailover && a->takeover && !*a->takeover)
		b.fail(body["failover_max"], b.keyPath("failover_max"), "contradicts takeover: false");
	return a;
}

} // namespace xdc::scenario
