// SPDX-License-Identifier: Apache-2.0
// Reading the scenario's metric parts (see metrics_spec.h).
#include "controller/scenario/metrics_spec.h"

#include <regex>
#include <set>

#include "common/duration.h"

namespace xdc::scenario {

using namespace std::chrono_literals;

const MetricSourceSpec *MetricsBlock::source(const std::string &name) const
{
	for (const auto &s : sources)
		if (s.name == name)
			return &s;
	return nullptr;
}

bool MetricsBlock::usesStreams() const
{
	for (const auto &s : sources)
		if (s.kind == "streams")
			return true;
	return false;
}

namespace {

const std::set<std::string> kOps = {"<", "<=", "==", "!=", ">=", ">"};

// A key given as one string or a list of strings (`operator: Sink` or `operators: [Sink, Source]`).
void oneOrMany(MapReader &r, const YAML::Node &n, const char *one, const char *many, std::vector<std::string> &out)
{
	if (n[one]) {
		std::string v;
		r.str(one, v);
		out = {v};
	}
	if (n[many]) {
		if (n[one])
			return r.fail(n[many], r.keyPath(many), fmt::format("give either {} or {}, not both", one, many));
		if (n[many].IsScalar()) { // `pes: all`
			std::string v;
			r.str(many, v);
			out = {v};
		} else {
			r.strList(many, out);
		}
	}
}

void readNumber(MapReader &r, const YAML::Node &n, const char *key, std::optional<double> &out)
{
	const YAML::Node v = n.IsMap() ? n[key] : YAML::Node();
	if (!r.ok() || !v)
		return;
	std::string ignored;
	double x = 0;
	if (!v.IsScalar() || !YAML::convert<double>::decode(v, x))
		return r.fail(v, r.keyPath(key), "expected a number");
	r.str(key, ignored); // marks the key known
	out = x;
}

bool httpUrl(const std::string &u) { return u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0; }

} // namespace

Result<MetricSourceSpec> readMetricSourceBody(const std::string &kind, const YAML::Node &body, const std::string &origin,
					      const std::string &path)
{
	MapReader r(body, origin, path);
	MetricSourceSpec s;
	s.kind = kind;
	s.where = r.where(body);
	if (!body.IsMap())
		return makeError(Errc::Invalid, "{}: {}: expected a mapping: {}", r.where(body), path,
				 kind == "prom"  ? "{url, query}"
				 : kind == "jmx" ? "{url, mbean, attribute, path}"
						 : "{dc, job, operator(s) or pe(s), metric(s)}");
	if (kind == "prom" || kind == "jmx") {
		r.str("url", s.url);
		if (r.ok() && s.url.empty())
			r.fail(body, path + ".url", kind == "prom" ? "required: the Prometheus server's base URL (http://host:9090)"
								     : "required: the Jolokia agent's URL (http://host:8778/jolokia)");
		if (r.ok() && !httpUrl(s.url))
			r.fail(body["url"], path + ".url", fmt::format("'{}' is not an http:// or https:// URL", s.url));
		r.str("basic_auth_file", s.basicAuthFile);
		r.str("bearer_token_file", s.bearerTokenFile);
		r.str("ca_file", s.caFile);
		r.boolean("insecure", s.insecure);
		std::chrono::milliseconds t = std::chrono::duration_cast<std::chrono::milliseconds>(s.timeout);
		r.duration("timeout", t);
		if (r.ok() && (t < 100ms || t > 60s))
			r.fail(body["timeout"], path + ".timeout", "expected a request timeout from 100ms to 60s");
		s.timeout = t;
		if (r.ok() && !s.basicAuthFile.empty() && !s.bearerTokenFile.empty())
			r.fail(body, path, "give either basic_auth_file or bearer_token_file, not both");
	}
	if (kind == "prom") {
		r.str("query", s.query);
		if (r.ok() && s.query.empty())
			r.fail(body, path + ".query", "required: a PromQL expression (an instant vector or scalar, e.g. "
						      "'up{job=\"dc2\"} == 0')");
	} else if (kind == "jmx") {
		r.str("mbean", s.mbean);
		r.str("attribute", s.attribute);
		r.str("path", s.path);
		if (r.ok() && s.mbean.empty())
			r.fail(body, path + ".mbean", "required: an MBean name (e.g. java.lang:type=Memory)");
		if (r.ok() && !s.path.empty() && s.attribute.empty())
			r.fail(body["path"], path + ".path", "a path needs an attribute (e.g. attribute: HeapMemoryUsage, "
							     "path: used)");
	} else {
		r.str("dc", s.dc);
		r.str("job", s.job);
		if (r.ok() && s.dc.empty())
			r.fail(body, path + ".dc", "required: a DC of the streams config, or active (the DC the toolkit view "
						   "finds active at each sample)");
		oneOrMany(r, body, "operator", "operators", s.operators);
		oneOrMany(r, body, "pe", "pes", s.pes);
		oneOrMany(r, body, "metric", "metrics", s.metrics);
		s.peLevel = body["pe"] || body["pes"];
		r.str("port", s.port);
		if (r.ok() && !s.port.empty() && s.port != "input" && s.port != "output")
			r.fail(body["port"], path + ".port", fmt::format("'{}' is not a port direction (expected input or output)",
									  s.port));
		if (r.ok() && !s.port.empty() && s.peLevel)
			r.fail(body["port"], path + ".port", "ports belong to operators: give operator(s), not pe(s)");
		if (r.ok() && s.peLevel && (body["operator"] || body["operators"]))
			r.fail(body, path, "give operators or PEs, not both");
		if (r.ok() && !s.peLevel && !body["operator"] && !body["operators"])
			r.fail(body, path + ".operator", "required: the operator(s) whose metrics to read (operator: NAME or "
							 "operators: [..]), or pe(s): [ids] / all for PE metrics");
	}
	r.rejectUnknown();
	XDC_TRY(r.result());
	return s;
}

Result<MetricsBlock> readMetricsBlock(const YAML::Node &n, const std::string &origin)
{
	MetricsBlock m;
	m.present = true;
	MapReader r(n, origin, "metrics");
	m.where = r.where(n);
	if (!n.IsMap())
		return makeError(Errc::Invalid, "{}: metrics: expected a mapping: {{interval, sources: [...]}}", r.where(n));
	std::chrono::milliseconds iv = std::chrono::duration_cast<std::chrono::milliseconds>(m.interval);
	r.duration("interval", iv);
	if (r.ok() && (iv < 100ms || iv > 60s))
		r.fail(n["interval"], "metrics.interval", "expected a sampling interval from 100ms to 60s");
	m.interval = iv;
	YAML::Node list;
	const bool has = r.child("sources", list);
	r.rejectUnknown();
	XDC_TRY(r.result());
	if (!has || !list.IsSequence() || list.size() == 0)
		return makeError(Errc::Invalid, "{}: metrics.sources: required: a list of named sources, each {{name, prom: "
				 "{{url, query}}}}, {{name, jmx: {{url, mbean, attribute, path}}}} or {{name, streams: {{dc, "
				 "operator, metric}}}}", r.where(has ? list : n));
	static const std::regex nameRe("^[A-Za-z][A-Za-z0-9_.-]{0,63}$");
	for (size_t i = 0; i < list.size(); i++) {
		const std::string path = fmt::format("metrics.sources[{}]", i);
		MapReader e(list[i], origin, path);
		if (!list[i].IsMap())
			return makeError(Errc::Invalid, "{}: {}: expected a mapping: {{name, prom | jmx | streams: {{...}}}}",
					 e.where(list[i]), path);
		std::string name;
		e.str("name", name);
		if (e.ok() && name.empty())
			e.fail(list[i], path + ".name", "required: the name conditions and assertions use");
		if (e.ok() && !std::regex_match(name, nameRe))
			e.fail(list[i]["name"], path + ".name",
			       fmt::format("'{}' is not a valid name (a letter, then letters, digits, '_', '.', '-')", name));
		if (e.ok() && m.source(name))
			e.fail(list[i]["name"], path + ".name", fmt::format("'{}' is already the name of another source", name));
		std::string kind;
		YAML::Node body;
		int found = 0;
		for (const char *k : {"prom", "jmx", "streams"}) {
			YAML::Node b;
			if (e.child(k, b)) {
				found++;
				kind = k;
				body = b;
			}
		}
		e.rejectUnknown();
		if (e.ok() && found != 1)
			e.fail(list[i], path, found == 0 ? "expected one of prom, jmx, streams" : "give one of prom, jmx, streams "
												   "per source");
		XDC_TRY(e.result());
		auto s = readMetricSourceBody(kind, body, origin, path + "." + kind);
		if (!s)
			return s.error();
		s->name = name;
		m.sources.push_back(*s);
	}
	return m;
}

void readMetricPredicate(MapReader &r, const YAML::Node &n, MetricPredicate &p, bool withFor)
{
	p.where = r.where(n);
	if (!n.IsMap())
		return r.fail(n, r.keyPath("source"), "expected a mapping: {source, op, value}");
	r.str("source", p.source);
	if (r.ok() && p.source.empty())
		r.fail(n, r.keyPath("source"), "required: the name of a source under metrics.sources");
	r.str("op", p.op);
	std::optional<double> v;
	readNumber(r, n, "value", v);
	if (r.ok() && !p.op.empty() && !kOps.count(p.op))
		r.fail(n["op"], r.keyPath("op"), fmt::format("'{}' is not a comparison (expected <, <=, ==, !=, >=, >)", p.op));
	if (r.ok() && !p.op.empty() && !v)
		r.fail(n, r.keyPath("value"), fmt::format("required with op: the number to compare with"));
	if (r.ok() && p.op.empty() && v)
		r.fail(n["value"], r.keyPath("op"), "required with value: a comparison (<, <=, ==, !=, >=, >)");
	if (v)
		p.value = *v;
	if (withFor) {
		std::chrono::milliseconds f{0};
		r.duration("for", f);
		p.heldFor = f;
	}
}

void readMetricAssertion(MapReader &r, const YAML::Node &n, MetricAssertion &a)
{
	readMetricPredicate(r, n, a.pred);
	if (!r.ok())
		return;
	r.str("during", a.during);
	static const std::set<std::string> windows = {"run", "faults", "after", "baseline", "inject", "observe", "recover"};
	if (r.ok() && !windows.count(a.during))
		r.fail(n["during"], r.keyPath("during"),
		       fmt::format("'{}' is not a window (expected run, faults, after, baseline, inject, observe or recover)",
				   a.during));
	std::chrono::milliseconds settle{0};
	r.duration("settle", settle);
	a.settle = settle;
	r.str("holds", a.holds);
	if (r.ok() && !a.holds.empty() && a.holds != "sometimes" && a.holds != "always" && a.holds != "never")
		r.fail(n["holds"], r.keyPath("holds"),
		       fmt::format("'{}' is not a frequency (expected sometimes, always or never)", a.holds));
	r.str("stat", a.stat);
	static const std::set<std::string> stats = {"min", "max", "mean", "first", "last", "increase"};
	if (r.ok() && !stats.count(a.stat))
		r.fail(n["stat"], r.keyPath("stat"),
		       fmt::format("'{}' is not a statistic (expected min, max, mean, first, last or increase)", a.stat));
	readNumber(r, n, "min", a.min);
	readNumber(r, n, "max", a.max);
	std::chrono::milliseconds step{0};
	r.duration("range_step", step);
	if (r.ok() && n["range_step"] && step.count() <= 0)
		r.fail(n["range_step"], r.keyPath("range_step"), "expected a positive duration (the range query's step)");
	a.rangeStep = step;
	if (r.ok() && a.holds.empty() && !a.min && !a.max)
		r.fail(n, r.keyPath("holds"), "give holds (sometimes, always, never) and/or a bound on stat: min, max");
}

Result<void> checkMetricRef(const MetricPredicate &p, const MetricsBlock &m, const std::string &path)
{
	if (m.source(p.source))
		return success();
	std::vector<std::string> names;
	for (const auto &s : m.sources)
		names.push_back(s.name);
	const std::string hint = didYouMean(p.source, names);
	return makeError(Errc::Invalid, "{}: {}.source: no source named '{}' under metrics.sources{}", p.where, path,
			 p.source,
			 hint.empty() ? fmt::format(" (sources: {})",
						    names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")))
				      : fmt::format("; did you mean '{}'?", hint));
}

} // namespace xdc::scenario
