// SPDX-License-Identifier: Apache-2.0
// `metric:` in two forms. {sampler, value, stat, host, phase, min, max}: one value of a host or process sampler's
// samples, reduced per host over the phase (or the run) by stat (max, min, mean, last). {source, ...}: over a
// `metrics:` source's samples (metrics_spec.h).
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "controller/scenario/assertions/kinds.h"
#include "controller/scenario/metrics_spec.h"
#include "controller/scenario/spec.h"

namespace xdc::scenario {

namespace {

using nlohmann::json;

class SamplerMetric : public AssertionCheck {
public:
	std::string sampler, value, stat = "max", phase, host;
	std::optional<double> minValue, maxValue;

	std::string defaultName() const override
	{
		std::string bounds;
		if (minValue)
			bounds += fmt::format("{}>= {:g}", bounds.empty() ? "" : ", ", *minValue);
		if (maxValue)
			bounds += fmt::format("{}<= {:g}", bounds.empty() ? "" : ", ", *maxValue);
		return fmt::format("{} of {}.{}{} {}", stat, sampler, value, phase.empty() ? "" : " in " + phase, bounds);
	}

	Result<void> crossCheck(const Scenario &s, const std::string &path, const std::string &where) const override
	{
		for (const auto &sm : s.samplers)
			if (sm.name == sampler &&
			    (sm.kind == evidence::SamplerKind::Host || sm.kind == evidence::SamplerKind::Process))
				return success();
		return makeError(Errc::Invalid, "{}: {}.metric.sampler: no host or process sampler named '{}' under "
				 "evidence.samplers", where, path, sampler);
	}

	json parameters() const override
	{
		json j = json::object();
		j["sampler"] = sampler;
		j["value"] = value;
		j["stat"] = stat;
		j["host"] = host;
		j["phase"] = phase;
		if (minValue)
			j["min"] = *minValue;
		if (maxValue)
			j["max"] = *maxValue;
		return j;
	}

	void describe(json &e) const override
	{
		e["sampler"] = sampler;
		e["value"] = value;
		e["stat"] = stat;
	}

	AssertionOutcome evaluate(RunTimeline &run) const override
	{
		AssertionOutcome out;
		auto [from, to] = phase.empty() ? std::pair<int64_t, int64_t>{0, INT64_MAX} : run.phaseWindow(phase);
		std::map<std::string, std::vector<double>> perHost;
		for (const auto &x : run.entries()) {
			if (x.value("source", "") != sampler || (!host.empty() && x.value("host", "") != host))
				continue;
			const std::string k = x.value("kind", "");
			if (k != "host" && k != "process")
				continue;
			const int64_t t = x.value("t_ns", int64_t{0});
			const json values = x.value("values", json::object());
			if (t < from || t >= to || !values.contains(value) || !values[value].is_number())
				continue;
			perHost[x.value("host", "")].push_back(values[value].get<double>());
		}
		if (perHost.empty())
			out.failure = fmt::format("no '{}' samples of {} in the window", value, sampler);
		for (const auto &[h, v] : perHost) {
			double r = v.back();
			if (stat == "max")
				r = *std::max_element(v.begin(), v.end());
			else if (stat == "min")
				r = *std::min_element(v.begin(), v.end());
			else if (stat == "mean") {
				double sum = 0;
				for (double x : v)
					sum += x;
				r = sum / static_cast<double>(v.size());
			}
			out.observed[h] = {{stat, r}, {"samples", v.size()}};
			std::string why;
			if (maxValue && r > *maxValue)
				why = fmt::format("{} {} = {:g} > max {:g}", stat, value, r, *maxValue);
			else if (minValue && r < *minValue)
				why = fmt::format("{} {} = {:g} < min {:g}", stat, value, r, *minValue);
			if (!why.empty() && out.failure.empty())
				out.failure = fmt::format("{} on {}{}: {}", sampler, h, phase.empty() ? "" : " in " + phase, why);
		}
		return out;
	}
};

class SourceMetric : public AssertionCheck {
public:
	MetricAssertion m;

	std::string defaultName() const override
	{
		return fmt::format("metric {}{}{} during {}", m.pred.source, m.holds.empty() ? "" : " holds " + m.holds,
				   m.min || m.max ? " " + m.stat : "", m.during);
	}

	Result<void> crossCheck(const Scenario &s, const std::string &path, const std::string &) const override
	{
		XDC_TRY(checkMetricRef(m.pred, s.metrics, path + ".metric"));
		const auto *src = s.metrics.source(m.pred.source);
		if (m.rangeStep.count() > 0 && src->kind != "prom")
			return makeError(Errc::Invalid, "{}: {}.metric.range_step: source {} is a {} source; range queries "
					 "are PromQL only (a prom source)", m.pred.where, path, src->name, src->kind);
		return success();
	}

	json parameters() const override
	{
		json j = json::object();
		j["source"] = m.pred.source;
		j["op"] = m.pred.op;
		j["value"] = m.pred.value;
		j["during"] = m.during;
		j["settle_ms"] = m.settle.count() / 1e6;
		j["holds"] = m.holds;
		j["stat"] = m.stat;
		if (m.min)
			j["min"] = *m.min;
		if (m.max)
			j["max"] = *m.max;
		if (m.rangeStep.count() > 0)
			j["range_step_ms"] = m.rangeStep.count() / 1e6;
		return j;
	}

	void describe(json &e) const override
	{
		e["source"] = m.pred.source;
		e["during"] = m.during;
	}

	AssertionOutcome evaluate(RunTimeline &run) const override
	{
		AssertionOutcome out;
		out.failure = run.checkMetricSource(m, out.observed);
		return out;
	}
};

std::shared_ptr<const AssertionCheck> parseSamplerMetric(AssertionParse &p)
{
	auto a = std::make_shared<SamplerMetric>();
	MapReader &b = p.r;
	const YAML::Node &body = p.body;
	b.str("sampler", a->sampler);
	b.str("value", a->value);
	b.str("stat", a->stat);
	b.str("host", a->host);
	b.str("phase", a->phase);
	for (const char *key : {"min", "max"}) {
		const YAML::Node v = body.IsMap() ? body[key] : YAML::Node();
		if (!b.ok() || !v)
			continue;
		double x = 0;
		std::string ignored;
		b.str(key, ignored); // marks the key known
		if (!v.IsScalar() || !YAML::convert<double>::decode(v, x)) {
			b.fail(v, b.keyPath(key), "expected a number");
			continue;
		}
		(std::string(key) == "min" ? a->minValue : a->maxValue) = x;
	}
	if (b.ok() && a->sampler.empty())
		b.fail(body, b.keyPath("sampler"), "required: the name of a host or process sampler");
	if (b.ok() && a->value.empty())
		b.fail(body, b.keyPath("value"), "required: which value of the samples (e.g. cpu_percent, "
						 "mem_used_percent, load1, count, rss_bytes)");
	if (b.ok() && a->stat != "max" && a->stat != "min" && a->stat != "mean" && a->stat != "last")
		b.fail(body["stat"], b.keyPath("stat"),
		       fmt::format("'{}' is not a statistic (expected max, min, mean or last)", a->stat));
	if (b.ok() && !isWindowPhase(a->phase))
		b.fail(body["phase"], b.keyPath("phase"),
		       fmt::format("'{}' is not a phase with samples (expected baseline, inject, observe or recover; omit "
				   "for the whole run)", a->phase));
	b.rejectUnknown();
	if (b.ok() && !a->minValue && !a->maxValue)
		b.fail(body, p.path, "give at least one bound: min, max (numbers)");
	return a;
}

} // namespace

std::shared_ptr<const AssertionCheck> parseMetric(AssertionParse &p)
{
	if (p.body.IsMap() && p.body["source"]) {
		auto a = std::make_shared<SourceMetric>();
		readMetricAssertion(p.r, p.body, a->m);
		p.r.rejectUnknown();
		return a;
	}
	return parseSamplerMetric(p);
}

} // namespace xdc::scenario
