// SPDX-License-Identifier: Apache-2.0
// report.json's printer and reader (see run_report.h): every key of the report is named here and nowhere else.
#include "controller/scenario/run_report.h"

#include <fmt/format.h>

namespace xdc::scenario {

namespace {

// ---- printing ----

template <typename T> void put(json &j, const char *key, const std::optional<T> &v)
{
	if (v)
		j[key] = *v;
}

// ---- reading: every reader throws BadField, which reportFromJson turns into an error naming the key ----

struct BadField {
	std::string path, what;
};

// A required key.
template <typename T> void need(const json &j, const std::string &at, const char *key, T &out)
{
	if (!j.is_object() || !j.contains(key))
		throw BadField{at + key, "is missing"};
	try {
		out = j.at(key).get<T>();
	} catch (const json::exception &e) {
		throw BadField{at + key, e.what()};
	}
}

// An optional key: absent leaves the field unset.
template <typename T> void take(const json &j, const std::string &at, const char *key, std::optional<T> &out)
{
	if (!j.is_object() || !j.contains(key))
		return;
	try {
		out = j.at(key).get<T>();
	} catch (const json::exception &e) {
		throw BadField{at + key, e.what()};
	}
}

// A key that may be absent (the default stays).
template <typename T> void maybe(const json &j, const std::string &at, const char *key, T &out)
{
	std::optional<T> v;
	take(j, at, key, v);
	if (v)
		out = std::move(*v);
}

template <typename T, typename F> void list(const json &j, const std::string &at, const char *key, std::vector<T> &out, F read)
{
	if (!j.contains(key))
		return;
	const json &a = j.at(key);
	if (!a.is_array())
		throw BadField{at + key, "is not a list"};
	for (size_t i = 0; i < a.size(); i++)
		out.push_back(read(a[i], fmt::format("{}{}[{}].", at, key, i)));
}

// ---- the parts ----

json hostJson(const ReportHost &h)
{
	return {{"host", h.host}, {"dc", h.dc}, {"agent", h.agent}, {"state", h.state}, {"clock", h.clock}};
}

ReportHost readHost(const json &j, const std::string &at)
{
	ReportHost h;
	need(j, at, "host", h.host);
	maybe(j, at, "dc", h.dc);
	maybe(j, at, "agent", h.agent);
	maybe(j, at, "state", h.state);
	maybe(j, at, "clock", h.clock);
	return h;
}

json phaseJson(const ReportPhase &p)
{
	json j = {{"name", p.name}, {"status", p.status}};
	put(j, "message", p.message);
	put(j, "start_ns", p.startNs);
	put(j, "end_ns", p.endNs);
	put(j, "inject_start_ns", p.injectStartNs);
	return j;
}

ReportPhase readPhase(const json &j, const std::string &at)
{
	ReportPhase p;
	need(j, at, "name", p.name);
	need(j, at, "status", p.status);
	take(j, at, "message", p.message);
	take(j, at, "start_ns", p.startNs);
	take(j, at, "end_ns", p.endNs);
	take(j, at, "inject_start_ns", p.injectStartNs);
	return p;
}

json faultJson(const ReportFault &f)
{
	json j = {{"id", f.id}, {"kind", f.kind}, {"path", f.path}, {"status", f.status}, {"offset_ms", f.offsetMs},
		  {"duration_ms", f.durationMs}, {"planned_ns", f.plannedNs}};
	put(j, "spec", f.spec);
	put(j, "dc", f.dc);
	put(j, "to", f.to);
	put(j, "error", f.error);
	put(j, "hosts", f.hosts);
	put(j, "agents", f.agents);
	put(j, "detail", f.detail);
	put(j, "applied_ns", f.appliedNs);
	put(j, "verified_ns", f.verifiedNs);
	put(j, "bound_ns", f.boundNs);
	put(j, "spread_ns", f.spreadNs);
	put(j, "revert_verified_ns", f.revertVerifiedNs);
	put(j, "window_start_ns", f.windowStartNs);
	put(j, "window_end_ns", f.windowEndNs);
	put(j, "window_bound_ns", f.windowBoundNs);
	return j;
}

ReportFault readFault(const json &j, const std::string &at)
{
	ReportFault f;
	need(j, at, "id", f.id);
	need(j, at, "kind", f.kind);
	maybe(j, at, "path", f.path);
	need(j, at, "status", f.status);
	maybe(j, at, "offset_ms", f.offsetMs);
	maybe(j, at, "duration_ms", f.durationMs);
	maybe(j, at, "planned_ns", f.plannedNs);
	take(j, at, "spec", f.spec);
	take(j, at, "dc", f.dc);
	take(j, at, "to", f.to);
	take(j, at, "error", f.error);
	take(j, at, "hosts", f.hosts);
	take(j, at, "agents", f.agents);
	take(j, at, "detail", f.detail);
	take(j, at, "applied_ns", f.appliedNs);
	take(j, at, "verified_ns", f.verifiedNs);
	take(j, at, "bound_ns", f.boundNs);
	take(j, at, "spread_ns", f.spreadNs);
	take(j, at, "revert_verified_ns", f.revertVerifiedNs);
	take(j, at, "window_start_ns", f.windowStartNs);
	take(j, at, "window_end_ns", f.windowEndNs);
	take(j, at, "window_bound_ns", f.windowBoundNs);
	return f;
}

const char *const kAssertionKeys[] = {"name", "where", "kind", "status", "message", "observed"};

json assertionJson(const ReportAssertion &a)
{
	json j = a.bounds.is_object() ? a.bounds : json::object();
	j["name"] = a.name;
	j["where"] = a.where;
	j["kind"] = a.kind;
	j["status"] = a.status;
	put(j, "message", a.message);
	j["observed"] = a.observed;
	return j;
}

ReportAssertion readAssertion(const json &j, const std::string &at)
{
	ReportAssertion a;
	need(j, at, "name", a.name);
	maybe(j, at, "where", a.where);
	maybe(j, at, "kind", a.kind);
	need(j, at, "status", a.status);
	take(j, at, "message", a.message);
	maybe(j, at, "observed", a.observed);
	a.bounds = j;
	for (const char *k : kAssertionKeys)
		a.bounds.erase(k);
	return a;
}

json steadyJson(const SteadyResult &s)
{
	json j = {{"when", s.when}, {"status", s.status}};
	put(j, "probe", s.probe);
	put(j, "attempts", s.attempts);
	put(j, "ratio", s.ratio);
	put(j, "min", s.min);
	put(j, "sampler", s.sampler);
	put(j, "value", s.value);
	put(j, "stat", s.stat);
	put(j, "samples", s.samples);
	put(j, "observed", s.observed);
	put(j, "condition", s.condition);
	put(j, "held", s.held);
	put(j, "host", s.host);
	put(j, "window_ms", s.windowMs);
	put(j, "window_end_ns", s.windowEndNs);
	put(j, "complete", s.complete);
	put(j, "note", s.note);
	put(j, "streams", s.streams);
	return j;
}

SteadyResult readSteady(const json &j, const std::string &at)
{
	SteadyResult s;
	need(j, at, "when", s.when);
	need(j, at, "status", s.status);
	take(j, at, "probe", s.probe);
	take(j, at, "attempts", s.attempts);
	take(j, at, "ratio", s.ratio);
	take(j, at, "min", s.min);
	take(j, at, "sampler", s.sampler);
	take(j, at, "value", s.value);
	take(j, at, "stat", s.stat);
	take(j, at, "samples", s.samples);
	take(j, at, "observed", s.observed);
	take(j, at, "condition", s.condition);
	take(j, at, "held", s.held);
	take(j, at, "host", s.host);
	take(j, at, "window_ms", s.windowMs);
	take(j, at, "window_end_ns", s.windowEndNs);
	take(j, at, "complete", s.complete);
	take(j, at, "note", s.note);
	take(j, at, "streams", s.streams);
	return s;
}

json outagesJson(const ProbeOutages &o)
{
	json list = json::array();
	for (const auto &x : o.outages)
		list.push_back({{"start_ns", x.startNs}, {"start_bound_ns", x.startBoundNs}, {"end_ns", x.endNs},
				{"end_bound_ns", x.endBoundNs}, {"open", x.open}, {"failed", x.failed},
				{"duration_ms", x.durationMs}, {"first_error", x.firstError}});
	return {{"host", o.host}, {"source", o.source}, {"target", o.target}, {"interval_ns", o.intervalNs},
		{"outages", list}};
}

ProbeOutages readOutages(const json &j, const std::string &at)
{
	ProbeOutages o;
	need(j, at, "host", o.host);
	need(j, at, "source", o.source);
	maybe(j, at, "target", o.target);
	maybe(j, at, "interval_ns", o.intervalNs);
	list(j, at, "outages", o.outages, [](const json &x, const std::string &xat) {
		ReportOutage r;
		need(x, xat, "start_ns", r.startNs);
		maybe(x, xat, "start_bound_ns", r.startBoundNs);
		maybe(x, xat, "end_ns", r.endNs);
		maybe(x, xat, "end_bound_ns", r.endBoundNs);
		maybe(x, xat, "open", r.open);
		maybe(x, xat, "failed", r.failed);
		maybe(x, xat, "duration_ms", r.durationMs);
		maybe(x, xat, "first_error", r.firstError);
		return r;
	});
	return o;
}

json streamsJson(const StreamsSection &s)
{
	json j = {{"config", s.config}, {"interval_ms", s.intervalMs}, {"dcs", s.dcs}};
	put(j, "active_after_observe", s.activeAfterObserve);
	put(j, "events", s.events);
	put(j, "states", s.states);
	put(j, "rounds", s.rounds);
	put(j, "signals", s.signals);
	put(j, "host", s.host);
	put(j, "detection_ms", s.detectionMs);
	put(j, "failover_ms", s.failoverMs);
	return j;
}

StreamsSection readStreams(const json &j, const std::string &at)
{
	StreamsSection s;
	maybe(j, at, "config", s.config);
	maybe(j, at, "interval_ms", s.intervalMs);
	maybe(j, at, "dcs", s.dcs);
	take(j, at, "active_after_observe", s.activeAfterObserve);
	take(j, at, "events", s.events);
	take(j, at, "states", s.states);
	take(j, at, "rounds", s.rounds);
	take(j, at, "signals", s.signals);
	take(j, at, "host", s.host);
	take(j, at, "detection_ms", s.detectionMs);
	take(j, at, "failover_ms", s.failoverMs);
	return s;
}

json dataJson(const DataSection &d)
{
	json j = {{"rate", d.rate}, {"keys", d.keys}, {"payload", d.payload},
		  {"ramp_from", d.rampFrom ? json(*d.rampFrom) : json(nullptr)}, {"ramp_over_ms", d.rampOverMs},
		  {"burst_every_ms", d.burstEveryMs}, {"burst_for_ms", d.burstForMs}, {"burst_factor", d.burstFactor},
		  {"generated_on", d.generatedOn}, {"seed", d.seed}, {"source", d.source}, {"ingest", d.ingest},
		  {"route", d.route}, {"sink_via", d.sinkVia}};
	put(j, "generator", d.generator);
	put(j, "validation", d.validation);
	put(j, "sinks", d.sinks);
	put(j, "rto_ms", d.rtoMs);
	put(j, "rpo_s", d.rpoS);
	return j;
}

DataSection readData(const json &j, const std::string &at)
{
	DataSection d;
	maybe(j, at, "rate", d.rate);
	maybe(j, at, "keys", d.keys);
	maybe(j, at, "payload", d.payload);
	if (j.contains("ramp_from") && !j["ramp_from"].is_null())
		take(j, at, "ramp_from", d.rampFrom);
	maybe(j, at, "ramp_over_ms", d.rampOverMs);
	maybe(j, at, "burst_every_ms", d.burstEveryMs);
	maybe(j, at, "burst_for_ms", d.burstForMs);
	maybe(j, at, "burst_factor", d.burstFactor);
	maybe(j, at, "generated_on", d.generatedOn);
	maybe(j, at, "seed", d.seed);
	maybe(j, at, "source", d.source);
	maybe(j, at, "ingest", d.ingest);
	maybe(j, at, "route", d.route);
	maybe(j, at, "sink_via", d.sinkVia);
	take(j, at, "generator", d.generator);
	take(j, at, "validation", d.validation);
	take(j, at, "sinks", d.sinks);
	take(j, at, "rto_ms", d.rtoMs);
	take(j, at, "rpo_s", d.rpoS);
	return d;
}

json metricsJson(const MetricsSection &m)
{
	json j = {{"interval_ms", m.intervalMs}, {"sources", m.sources}};
	put(j, "samples", m.samples);
	put(j, "until", m.until);
	put(j, "timeline_error", m.timelineError);
	return j;
}

MetricsSection readMetrics(const json &j, const std::string &at)
{
	MetricsSection m;
	maybe(j, at, "interval_ms", m.intervalMs);
	maybe(j, at, "sources", m.sources);
	take(j, at, "samples", m.samples);
	take(j, at, "until", m.until);
	take(j, at, "timeline_error", m.timelineError);
	return m;
}

json chartJson(const ReportChart &c)
{
	json series = json::array();
	for (const auto &s : c.series) {
		json pts = json::array();
		for (const auto &[t, v] : s.points)
			pts.push_back(json::array({t, v ? json(*v) : json(nullptr)}));
		series.push_back({{"name", s.name}, {"style", s.style}, {"raw", s.raw}, {"points", pts}});
	}
	return {{"id", c.id}, {"title", c.title}, {"unit", c.unit}, {"series", series}};
}

ReportChart readChart(const json &j, const std::string &at)
{
	ReportChart c;
	need(j, at, "id", c.id);
	maybe(j, at, "title", c.title);
	maybe(j, at, "unit", c.unit);
	if (!j.contains("series"))
		return c;
	if (!j["series"].is_array())
		throw BadField{at + "series", "is not a list"};
	for (size_t i = 0; i < j["series"].size(); i++) {
		const json &s = j["series"][i];
		const std::string sat = fmt::format("{}series[{}].", at, i);
		ChartSeries x;
		need(s, sat, "name", x.name);
		maybe(s, sat, "style", x.style);
		maybe(s, sat, "raw", x.raw);
		if (s.contains("points")) {
			if (!s["points"].is_array())
				throw BadField{sat + "points", "is not a list"};
			for (const auto &p : s["points"]) {
				if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() ||
				    !(p[1].is_number() || p[1].is_null()))
					throw BadField{sat + "points", "must be [t_ns, value or null] pairs"};
				x.points.push_back({p[0].get<int64_t>(), p[1].is_null() ? std::nullopt
										 : std::optional<double>(p[1].get<double>())});
			}
		}
		c.series.push_back(std::move(x));
	}
	return c;
}

template <typename T, typename F> json listJson(const std::vector<T> &v, F print)
{
	json a = json::array();
	for (const auto &x : v)
		a.push_back(print(x));
	return a;
}

// The sections after the common header.
void readSections(const json &j, RunReport &r)
{
	list(j, "", "phases", r.phases, readPhase);
	list(j, "", "faults", r.faults, readFault);
	list(j, "", "assertions", r.assertions, readAssertion);
	list(j, "", "steady_state", r.steadyState, readSteady);
	list(j, "", "outages", r.outages, readOutages);
	list(j, "", "hosts", r.hosts, readHost);
	list(j, "", "charts", r.charts, readChart);
	if (j.contains("stop_condition")) {
		const json &s = j["stop_condition"];
		ReportStop c;
		need(s, "stop_condition.", "reason", c.reason);
		maybe(s, "stop_condition.", "phase", c.phase);
		maybe(s, "stop_condition.", "at_ns", c.atNs);
		r.stopCondition = c;
	}
	if (j.contains("residue")) {
		Residue x;
		need(j["residue"], "residue.", "clean", x.clean);
		maybe(j["residue"], "residue.", "found", x.found);
		r.residue = x;
	}
	take(j, "", "evidence_dir", r.evidenceDir);
	if (j.contains("evidence")) {
		EvidenceSummary e;
		need(j["evidence"], "evidence.", "complete", e.complete);
		maybe(j["evidence"], "evidence.", "gaps", e.gaps);
		r.evidence = e;
	}
	if (j.contains("streams"))
		r.streams = readStreams(j["streams"], "streams.");
	if (j.contains("data"))
		r.data = readData(j["data"], "data.");
	if (j.contains("metrics"))
		r.metrics = readMetrics(j["metrics"], "metrics.");
}

} // namespace

const ReportPhase *RunReport::phase(const std::string &name) const
{
	for (const auto &p : phases)
		if (p.name == name)
			return &p;
	return nullptr;
}

json toJson(const RunReport &r)
{
	json j = {{"schema", RunReport::kSchema},
		  {"run_id", r.runId},
		  {"scenario", {{"name", r.scenario.name}, {"description", r.scenario.description}, {"file", r.scenario.file}}},
		  {"user", r.user},
		  {"seed", r.seed},
		  {"repetition", r.repetition},
		  {"inputs", r.inputs},
		  {"variables", r.variables},
		  {"random", r.random},
		  {"started_ns", r.startedNs},
		  {"phases", listJson(r.phases, phaseJson)},
		  {"faults", listJson(r.faults, faultJson)},
		  {"assertions", listJson(r.assertions, assertionJson)},
		  {"steady_state", listJson(r.steadyState, steadyJson)},
		  {"outages", listJson(r.outages, outagesJson)},
		  {"hosts", listJson(r.hosts, hostJson)},
		  {"charts", listJson(r.charts, chartJson)}};
	put(j, "ended_ns", r.endedNs);
	put(j, "verdict", r.verdict);
	put(j, "exit_code", r.exitCode);
	put(j, "reason", r.reason);
	put(j, "aborted", r.aborted);
	if (r.stopCondition)
		j["stop_condition"] = {{"reason", r.stopCondition->reason}, {"at_ns", r.stopCondition->atNs},
				       {"phase", r.stopCondition->phase}};
	if (r.residue)
		j["residue"] = {{"clean", r.residue->clean}, {"found", r.residue->found}};
	put(j, "evidence_dir", r.evidenceDir);
	if (r.evidence)
		j["evidence"] = {{"complete", r.evidence->complete}, {"gaps", r.evidence->gaps}};
	if (r.streams)
		j["streams"] = streamsJson(*r.streams);
	if (r.data)
		j["data"] = dataJson(*r.data);
	if (r.metrics)
		j["metrics"] = metricsJson(*r.metrics);
	return j;
}

Result<RunReport> reportFromJson(const json &j)
{
	if (!j.is_object())
		return makeError(Errc::Invalid, "a report must be a JSON object");
	if (j.value("schema", "") != RunReport::kSchema)
		return makeError(Errc::Invalid, "report schema is '{}', this xdc reads '{}'",
				 j.contains("schema") ? j["schema"].dump() : std::string("(none)"), RunReport::kSchema);
	RunReport r;
	try {
		need(j, "", "run_id", r.runId);
		if (j.contains("scenario")) {
			maybe(j["scenario"], "scenario.", "name", r.scenario.name);
			maybe(j["scenario"], "scenario.", "description", r.scenario.description);
			maybe(j["scenario"], "scenario.", "file", r.scenario.file);
		}
		maybe(j, "", "user", r.user);
		maybe(j, "", "seed", r.seed);
		maybe(j, "", "repetition", r.repetition);
		maybe(j, "", "inputs", r.inputs);
		maybe(j, "", "variables", r.variables);
		maybe(j, "", "random", r.random);
		need(j, "", "started_ns", r.startedNs);
		take(j, "", "ended_ns", r.endedNs);
		take(j, "", "verdict", r.verdict);
		take(j, "", "exit_code", r.exitCode);
		take(j, "", "reason", r.reason);
		take(j, "", "aborted", r.aborted);
		readSections(j, r);
	} catch (const BadField &e) {
		return makeError(Errc::Invalid, "report: {} {}", e.path, e.what);
	}
	return r;
}

Result<std::vector<ProbeOutages>> outagesFromJson(const json &outages)
{
	std::vector<ProbeOutages> out;
	try {
		list(json{{"outages", outages}}, "", "outages", out, readOutages);
	} catch (const BadField &e) {
		return makeError(Errc::Invalid, "{} {}", e.path, e.what);
	}
	return out;
}

} // namespace xdc::scenario
