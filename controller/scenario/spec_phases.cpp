// SPDX-License-Identifier: Apache-2.0
// The scenario parser: phases, observe conditions and the offline cross-checks (spec_parser.h).
#include "controller/scenario/spec_parser.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "common/duration.h"
#include "common/yaml_reader.h"
#include "controller/scenario/assertions/assertion.h"
#include "controller/scenario/spec_read.h"

namespace xdc::scenario::detail {

using namespace std::chrono_literals;

Result<void> Parser::readPhases(const YAML::Node &phases, Scenario &s)
{
	MapReader r(phases, origin_, "phases");
	struct Slot {
		const char *name;
		Phase *phase;
	};
	for (Slot slot : {Slot{"setup", &s.setup}, Slot{"baseline", &s.baseline}, Slot{"inject", &s.inject},
			  Slot{"observe", &s.observe}, Slot{"recover", &s.recover}, Slot{"validate", nullptr},
			  Slot{"teardown", nullptr}}) {
		YAML::Node n;
		if (!r.child(slot.name, n))
			continue;
		const std::string path = fmt::format("phases.{}", slot.name);
		MapReader p(n, origin_, path);
		if (slot.phase) {
			slot.phase->present = true;
			slot.phase->where = p.where(n);
		}
		if (slot.phase == &s.inject) {
			YAML::Node faults;
			bool control = false;
			p.boolean("control", control);
			s.controlRun = control;
			const bool haveFaults = p.child("faults", faults);
			if (control && haveFaults && faults.IsSequence() && faults.size() > 0) {
				p.fail(faults, path + ".faults", "a control run (control: true) injects nothing: remove the faults "
								 "or control");
			} else if (control) {
				// nothing to inject: the run measures the system undisturbed
			} else if (!haveFaults || !faults.IsSequence() || faults.size() == 0) {
				p.fail(faults ? faults : n, path + ".faults", "required: a list of fault specs "
									  "(docs/FAULTS.md), each with an optional start offset "
									  "(or control: true for a run without faults)");
			} else {
				for (size_t i = 0; i < faults.size(); i++) {
					const std::string fpath = fmt::format("{}.faults[{}]", path, i);
					if (faults[i].IsMap() && faults[i]["kind"] && faults[i]["kind"].IsScalar() &&
					    (faults[i]["kind"].Scalar().rfind("streams.", 0) == 0 ||
					     faults[i]["kind"].Scalar() == "data.route")) {
						auto a = readStreamsAction(faults[i], fpath);
						if (!a) {
							note(a.error());
							continue;
						}
						s.streamsActions.push_back(*a);
						continue;
					}
					auto f = fault::parseSpec(faults[i], origin_, fpath, opt_.limits);
					if (!f) {
						note(f.error());
						continue;
					}
					s.faults.push_back({*f, fault::toYaml(*f), whereOf(origin_, faults[i]), fpath});
				}
			}
		} else if (slot.phase == &s.observe) {
			std::chrono::milliseconds d{0}, t{0}, okFor{1000};
			p.duration("duration", d);
			if (!p.ok())
				return p.result();
			YAML::Node until;
			if (p.child("until", until)) {
				MapReader u(until, origin_, path + ".until");
				if (until.IsMap() && (until["metric"] || until["prom"])) {
					XDC_TRY(readUntilMetric(u, until, path + ".until", s));
				} else if (until.IsMap() && until["streams"]) {
					u.str("streams", slot.phase->untilStreams);
					std::vector<std::string> names;
					for (const auto &c : kStreamsConditions)
						names.push_back(c.first);
					if (u.ok() && std::find(names.begin(), names.end(), slot.phase->untilStreams) == names.end())
						u.fail(until["streams"], path + ".until.streams",
						       fmt::format("'{}' is not a Streams condition (expected {})",
								   slot.phase->untilStreams, fmt::join(names, ", ")));
				} else {
					slot.phase->until = readProbeRef(u, until);
					u.duration("ok_for", okFor);
				}
				u.rejectUnknown();
				if (!u.ok())
					return u.result();
				p.duration("timeout", t);
				if (p.ok() && t.count() <= 0)
					p.fail(n, path + ".timeout", "required with until: the longest to wait (e.g. 60s)");
				if (p.ok() && d.count() > 0)
					p.fail(n["duration"], path + ".duration", "give either duration or until, not both");
			} else if (p.ok() && d.count() <= 0) {
				p.fail(n, path + ".duration", "required: how long to observe (or until: with a timeout)");
			}
			slot.phase->duration = d;
			slot.phase->timeout = t;
			slot.phase->okFor = okFor;
		} else if (slot.phase) {
			std::chrono::milliseconds d{0};
			p.duration("duration", d);
			slot.phase->duration = d;
		}
		p.rejectUnknown();
		if (!p.ok())
			return p.result();
	}
	r.rejectUnknown();
	XDC_TRY(r.result());
	if (!s.inject.present)
		return failAt(origin_, phases, "phases.inject", "required: the faults to inject");
	for (auto slot : {std::pair<const char *, Phase *>{"baseline", &s.baseline}, {"observe", &s.observe},
			  {"recover", &s.recover}})
		if (!slot.second->present)
			return failAt(origin_, phases, fmt::format("phases.{}", slot.first),
				      "required (a duration: how long to watch the system before the faults / while "
				      "they act / after they are reverted)");
	return success();
}

// observe.until: {metric: {source, op, value}} or {prom: {url, query, ...}} (an unnamed source of its own).
Result<void> Parser::readUntilMetric(MapReader &u, const YAML::Node &until, const std::string &path, Scenario &s)
{
	auto p = readMetricCondition(u, until, path, "observe.until", s);
	if (!p)
		return p.error();
	s.observe.untilMetric = *p;
	return success();
}

// {metric: {source, op, value, for}} or {prom: {url, query, ...}} inside the mapping `n` at `path`. A prom body
// becomes a source of its own, named `anonName`, added to the scenario's metrics block.
Result<MetricPredicate> Parser::readMetricCondition(MapReader &u, const YAML::Node &n, const std::string &path,
						   const std::string &anonName, Scenario &s)
{
	YAML::Node body;
	if (n["metric"] && n["prom"])
		return failAt(origin_, n, path, "give either metric or prom, not both");
	if (u.child("metric", body)) {
		MapReader m(body, origin_, path + ".metric");
		MetricPredicate p;
		readMetricPredicate(m, body, p, true);
		m.rejectUnknown();
		XDC_TRY(m.result());
		return p;
	}
	u.child("prom", body);
	auto src = readMetricSourceBody("prom", body, origin_, path + ".prom");
	if (!src)
		return src.error();
	src->name = anonName;
	s.metrics.present = true;
	s.metrics.sources.push_back(*src);
	return MetricPredicate{src->name, "", 0, src->where};
}

Result<void> Parser::crossCheck(const Scenario &s)
{
	for (size_t i = 0; i < s.steadyState.size(); i++) {
		const auto &c = s.steadyState[i];
		if (c.condition) {
			XDC_TRY(checkMetricRef(*c.condition, s.metrics, fmt::format("steady_state[{}].metric", i)));
			continue;
		}
		if (!c.isMetric()) {
			XDC_TRY(checkProbeRef(c.ref, s, fmt::format("steady_state[{}]", i)));
			continue;
		}
		bool ok = false;
		for (const auto &sm : s.samplers)
			ok |= sm.name == c.sampler &&
			      (sm.kind == evidence::SamplerKind::Host || sm.kind == evidence::SamplerKind::Process);
		if (!ok)
			return makeError(Errc::Invalid, "{}: steady_state[{}].sampler: no host or process sampler named '{}' "
					 "under evidence.samplers", c.ref.where, i, c.sampler);
	}
	for (const auto &a : s.streamsActions) {
		if (a.kind != "route")
			continue;
		if (!s.data.present)
			return makeError(Errc::Invalid, "{}: {}: a data.route step needs a data: block (the tuples it routes)",
					 a.where, a.path);
		if (s.data.generateOn != "controller")
			return makeError(Errc::Invalid, "{}: {}: a data.route step switches the controller's generator; with "
					 "generate_on: {} the route is fixed at the agent's start", a.where, a.path,
					 s.data.generateOn);
	}
	for (size_t i = 0; i < s.stopConditions.size(); i++) {
		const auto &c = s.stopConditions[i];
		if (c.metric)
			XDC_TRY(checkMetricRef(*c.metric, s.metrics, fmt::format("stop_conditions[{}].metric", i)));
		else
			XDC_TRY(checkProbeRef(c.ref, s, fmt::format("stop_conditions[{}]", i)));
	}
	if (s.observe.until)
		XDC_TRY(checkProbeRef(*s.observe.until, s, "phases.observe.until"));
	if (s.observe.untilMetric)
		XDC_TRY(checkMetricRef(*s.observe.untilMetric, s.metrics, "phases.observe.until.metric"));
	for (size_t i = 0; i < s.assertions.size(); i++)
		XDC_TRY(s.assertions[i].check->crossCheck(s, fmt::format("assertions[{}]", i), s.assertions[i].where));
	// Faults: the same kind, overlapping windows, the same targets: refused (one fault per kind per host).
	// Selectors that differ are checked against a topology in checkTopology().
	for (size_t i = 0; i < s.faults.size(); i++)
		for (size_t j = i + 1; j < s.faults.size(); j++) {
			const auto &a = s.faults[i].spec, &b = s.faults[j].spec;
			if (a.kind == b.kind && a.targets == b.targets && a.start < b.start + b.duration &&
			    b.start < a.start + a.duration)
				return makeError(Errc::Invalid, "{}: {}: overlaps {} ({} on the same targets from {} "
						 "to {}); faults of one kind do not stack on a host", s.faults[j].where,
						 s.faults[j].path, s.faults[i].path, fault::kindName(a.kind),
						 formatDuration(a.start), formatDuration(a.start + a.duration));
		}
	return success();
}

} // namespace xdc::scenario::detail
