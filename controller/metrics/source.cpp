// SPDX-License-Identifier: Apache-2.0
// The metric sources (see source.h).
#include "controller/metrics/source.h"

#include <algorithm>
#include <cmath>

#include "common/clock.h"
#include "controller/metrics/jolokia.h"
#include "controller/metrics/prometheus.h"
#include "controller/streams/poll.h"

namespace xdc::metrics {

using nlohmann::json;

bool holds(const MetricSample &s)
{
	if (!s.ok)
		return false;
	if (s.reading.kind == Reading::Kind::Vector)
		return !s.reading.series.empty();
	for (const auto &v : s.reading.series)
		if (v.value != 0 && !std::isnan(v.value))
			return true;
	return false;
}

json toJson(const MetricSample &s)
{
	json j = {{"source", s.source}, {"t_ns", s.tNs}, {"bound_ns", s.boundNs}, {"ok", s.ok}};
	if (!s.ok) {
		j["error"] = s.error;
		j["error_kind"] = s.errorKind;
		return j;
	}
	j["kind"] = s.reading.kind == Reading::Kind::Vector ? "vector" : "scalar";
	json series = json::array();
	for (const auto &v : s.reading.series)
		series.push_back({{"labels", v.labels}, {"value", valueJson(v.value)}});
	j["series"] = series;
	j["holds"] = holds(s);
	return j;
}

MetricSample takeSample(MetricSource &src)
{
	MetricSample s;
	s.source = src.name();
	const int64_t before = clk::wallNs();
	auto r = src.read();
	const int64_t after = clk::wallNs();
	s.tNs = before + (after - before) / 2;
	s.boundNs = (after - before + 1) / 2;
	if (r) {
		s.ok = true;
		s.reading = std::move(*r);
	} else {
		s.error = r.error().message;
		s.errorKind = src.lastErrorKind();
	}
	return s;
}

namespace {

class PromSource : public MetricSource {
public:
	PromSource(std::string name, HttpTarget target, std::string query)
		: name_(std::move(name)), client_(std::move(target)), query_(std::move(query))
	{
	}
	const std::string &name() const override { return name_; }
	json describe() const override { return {{"kind", "prom"}, {"url", client_.target().url}, {"query", query_}}; }
	std::string lastErrorKind() const override
	{
		return shape_ ? "bad-shape" : failureKindName(client_.lastFailure().kind);
	}

	Result<Reading> read() override
	{
		shape_ = false;
		auto r = client_.query(query_);
		if (!r)
			return r.error();
		Reading out;
		if (r->type == QueryResult::Type::Scalar) {
			out.kind = Reading::Kind::Scalar;
			out.series.push_back({{}, r->scalar.value});
			return out;
		}
		if (r->type != QueryResult::Type::Vector) {
			shape_ = true;
			return makeError(Errc::Invalid, "{}: the query returned a {}, not an instant vector or scalar (drop the "
					 "range selector)", query_, resultTypeName(r->type));
		}
		for (const auto &smp : r->vector)
			out.series.push_back({smp.labels, smp.point.value});
		return out;
	}

private:
	std::string name_;
	PrometheusClient client_;
	std::string query_;
	bool shape_ = false;
};

class JmxSource : public MetricSource {
public:
	JmxSource(std::string name, HttpTarget target, std::string mbean, std::string attribute, std::string path)
		: name_(std::move(name)), client_(std::move(target)), mbean_(std::move(mbean)),
		  attribute_(std::move(attribute)), path_(std::move(path))
	{
	}
	const std::string &name() const override { return name_; }
	json describe() const override
	{
		return {{"kind", "jmx"}, {"url", client_.target().url}, {"mbean", mbean_}, {"attribute", attribute_},
			{"path", path_}};
	}
	std::string lastErrorKind() const override
	{
		return shape_ ? "bad-shape" : failureKindName(client_.lastFailure().kind);
	}

	Result<Reading> read() override
	{
		shape_ = false;
		auto v = client_.read(mbean_, attribute_, path_);
		if (!v)
			return v.error();
		Reading out;
		if (v->is_number() || v->is_boolean()) {
			out.kind = Reading::Kind::Scalar;
			out.series.push_back({{}, v->is_boolean() ? (v->get<bool>() ? 1.0 : 0.0) : v->get<double>()});
			return out;
		}
		if (v->is_object()) {
			for (auto it = v->begin(); it != v->end(); ++it)
				if (it.value().is_number())
					out.series.push_back({{{"key", it.key()}}, it.value().get<double>()});
			if (!out.series.empty())
				return out;
		}
		shape_ = true;
		const std::string text = v->dump();
		return makeError(Errc::Protocol, "{} {}{}: not a number or an object of numbers: {}", mbean_, attribute_,
				 path_.empty() ? "" : "/" + path_, text.substr(0, 200));
	}

private:
	std::string name_;
	JolokiaClient client_;
	std::string mbean_, attribute_, path_;
	bool shape_ = false;
};

class StreamsSource : public MetricSource {
public:
	StreamsSource(std::string name, std::vector<streams::Endpoint> eps, StreamsSelector sel,
		      std::function<std::string()> activeDc)
		: name_(std::move(name)), sel_(std::move(sel)), activeDc_(std::move(activeDc))
	{
		for (auto &ep : eps) {
			if (!sel_.job.empty()) {
				ep.jobName = sel_.job;
				ep.application.clear();
			}
			clients_.push_back(std::make_unique<streams::Client>(std::move(ep)));
		}
	}
	const std::string &name() const override { return name_; }
	json describe() const override
	{
		json j = {{"kind", "streams"}, {"dc", sel_.dc}, {"metrics", sel_.metrics}};
		if (!sel_.job.empty())
			j["job"] = sel_.job;
		if (sel_.peLevel)
			j["pes"] = sel_.pes;
		else
			j["operators"] = sel_.operators;
		if (!sel_.port.empty())
			j["port"] = sel_.port;
		return j;
	}
	std::string lastErrorKind() const override { return errorKind_; }

	Result<Reading> read() override
	{
		errorKind_.clear();
		std::string dc = sel_.dc;
		if (dc == "active") {
			dc = activeDc_ ? activeDc_() : "";
			if (dc.empty())
				return fail("not-found", makeError(Errc::NotFound, "no DC is active in the toolkit view"));
		}
		streams::Client *c = nullptr;
		for (auto &x : clients_)
			if (x->endpoint().dc == dc)
				c = x.get();
		if (!c)
			return fail("config", makeError(Errc::Invalid, "the streams config has no instance for DC '{}'", dc));
		auto jobs = c->jobs();
		if (!jobs)
			return fail(c, jobs.error());
		const streams::Job *job = streams::pickJob(*jobs, c->endpoint());
		if (!job)
			return fail("not-found", makeError(Errc::NotFound, "{}: no job {} in the instance", dc,
							   c->endpoint().jobName.empty() ? c->endpoint().application
											 : c->endpoint().jobName));
		Reading out;
		auto want = [this](const std::string &metric) {
			return sel_.metrics.empty() ||
			       std::find(sel_.metrics.begin(), sel_.metrics.end(), metric) != sel_.metrics.end();
		};
		if (sel_.peLevel) {
			auto pes = c->jobPes(job->id);
			if (!pes)
				return fail(c, pes.error());
			for (const auto &pe : *pes) {
				if (!(sel_.pes.empty() || (sel_.pes.size() == 1 && sel_.pes[0] == "all") ||
				      std::find(sel_.pes.begin(), sel_.pes.end(), pe.id) != sel_.pes.end()))
					continue;
				auto ms = c->peMetrics(pe.id);
				if (!ms)
					return fail(c, ms.error());
				for (const auto &m : *ms)
					if (want(m.name))
						out.series.push_back({{{"dc", dc}, {"job", job->name}, {"pe", pe.id}, {"metric", m.name}},
								      static_cast<double>(m.value)});
			}
		} else {
			auto ops = c->jobOperators(job->id);
			if (!ops)
				return fail(c, ops.error());
			for (const auto &op : *ops) {
				if (!sel_.operators.empty() &&
				    std::find(sel_.operators.begin(), sel_.operators.end(), op.name) == sel_.operators.end())
					continue;
				if (!sel_.port.empty()) {
					XDC_TRY(readPorts(c, dc, job->name, op, want, out));
					continue;
				}
				auto ms = c->operatorMetrics(op.id);
				if (!ms)
					return fail(c, ms.error());
				for (const auto &m : *ms)
					if (want(m.name))
						out.series.push_back({{{"dc", dc}, {"job", job->name}, {"operator", op.name},
								       {"metric", m.name}},
								      static_cast<double>(m.value)});
			}
		}
		return out;
	}

private:
	// The metrics of the operator's ports of one direction (`{op}/inputPorts` -> each port's `metrics`).
	template <typename Want>
	Result<void> readPorts(streams::Client *c, const std::string &dc, const std::string &job, const streams::Operator &op,
			       const Want &want, Reading &out)
	{
		const std::string plural = sel_.port == "input" ? "inputPorts" : "outputPorts";
		auto ports = c->list(op.self + "/" + plural, plural);
		if (!ports)
			return fail(c, ports.error());
		for (const auto &p : *ports) {
			const std::string index = p.value("indexWithinOperator", json(p.value("id", ""))).dump();
			const std::string url = p.value("metrics", "");
			if (url.empty())
				return fail("bad-shape", makeError(Errc::Protocol, "{}: port {} without a metrics URL", op.name, index));
			auto ms = c->list(url, "metrics");
			if (!ms)
				return fail(c, ms.error());
			for (const auto &mj : *ms) {
				auto m = streams::parseMetric(mj);
				if (!m)
					return fail("bad-shape", m.error());
				if (want(m->name))
					out.series.push_back({{{"dc", dc}, {"job", job}, {"operator", op.name},
							       {"port", fmt::format("{}{}", sel_.port, index)}, {"metric", m->name}},
							      static_cast<double>(m->value)});
			}
		}
		return success();
	}

	Error fail(const std::string &kind, Error e)
	{
		errorKind_ = kind;
		return e;
	}
	Error fail(streams::Client *c, Error e)
	{
		using K = streams::ApiFailure::Kind;
		switch (c->lastFailure().kind) {
		case K::Connect: errorKind_ = "connect"; break;
		case K::Timeout: errorKind_ = "timeout"; break;
		case K::Tls: errorKind_ = "tls"; break;
		case K::Auth: errorKind_ = "auth"; break;
		case K::NotFound: errorKind_ = "not-found"; break;
		case K::Http: errorKind_ = "http"; break;
		case K::BadJson: errorKind_ = "bad-json"; break;
		case K::BadShape: errorKind_ = "bad-shape"; break;
		default: errorKind_ = "server"; break;
		}
		return e;
	}

	std::string name_;
	StreamsSelector sel_;
	std::function<std::string()> activeDc_;
	std::vector<std::unique_ptr<streams::Client>> clients_;
	std::string errorKind_;
};

} // namespace

std::unique_ptr<MetricSource> makePromSource(std::string name, HttpTarget target, std::string query)
{
	return std::make_unique<PromSource>(std::move(name), std::move(target), std::move(query));
}

std::unique_ptr<MetricSource> makeJmxSource(std::string name, HttpTarget target, std::string mbean, std::string attribute,
					    std::string path)
{
	return std::make_unique<JmxSource>(std::move(name), std::move(target), std::move(mbean), std::move(attribute),
					   std::move(path));
}

std::unique_ptr<MetricSource> makeStreamsSource(std::string name, std::vector<streams::Endpoint> endpoints,
						StreamsSelector sel, std::function<std::string()> activeDc)
{
	return std::make_unique<StreamsSource>(std::move(name), std::move(endpoints), std::move(sel),
					       std::move(activeDc));
}

} // namespace xdc::metrics
