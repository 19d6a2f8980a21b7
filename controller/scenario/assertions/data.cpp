// SPDX-License-Identifier: Apache-2.0
// `data: {tuples_lost, tuples_duplicated, rpo, rto, latency_p99}`: the validator's figures over the run
// (docs/DATA.md): tuples lost / duplicated within [min, max], RPO (the event-time span of the lost tuples), RTO (the
// faults' start to the first output of the surviving DC after the output stopped), p99 end-to-end latency.
#include <tuple>

#include <fmt/format.h>

#include "common/duration.h"
#include "controller/data/validator.h"
#include "controller/scenario/assertions/kinds.h"
#include "controller/scenario/spec.h"
#include "controller/scenario/spec_read.h"

namespace xdc::scenario {

namespace {

using nlohmann::json;

class Data : public AssertionCheck {
public:
	std::optional<int64_t> lostMin, lostMax, duplicatedMin, duplicatedMax;
	std::optional<Nanos> maxRpo, maxRto, maxLatencyP99;

	std::string defaultName() const override
	{
		std::string t;
		auto part = [&](const std::string &x) { t += (t.empty() ? "" : ", ") + x; };
		if (lostMin)
			part(fmt::format("lost >= {}", *lostMin));
		if (lostMax)
			part(fmt::format("lost <= {}", *lostMax));
		if (duplicatedMin)
			part(fmt::format("duplicated >= {}", *duplicatedMin));
		if (duplicatedMax)
			part(fmt::format("duplicated <= {}", *duplicatedMax));
		if (maxRpo)
			part("RPO <= " + formatDuration(*maxRpo));
		if (maxRto)
			part("RTO <= " + formatDuration(*maxRto));
		if (maxLatencyP99)
			part("p99 latency <= " + formatDuration(*maxLatencyP99));
		return "data: " + t;
	}

	Result<void> crossCheck(const Scenario &s, const std::string &path, const std::string &where) const override
	{
		if (!s.data.present)
			return makeError(Errc::Invalid, "{}: {}.data: needs a data: block (the tuples to generate and check)",
					 where, path);
		return success();
	}

	json parameters() const override
	{
		json j = json::object();
		if (lostMin)
			j["lost_min"] = *lostMin;
		if (lostMax)
			j["lost_max"] = *lostMax;
		if (duplicatedMin)
			j["duplicated_min"] = *duplicatedMin;
		if (duplicatedMax)
			j["duplicated_max"] = *duplicatedMax;
		if (maxRpo)
			j["rpo_max_ms"] = maxRpo->count() / 1e6;
		if (maxRto)
			j["rto_max_ms"] = maxRto->count() / 1e6;
		if (maxLatencyP99)
			j["latency_p99_max_ms"] = maxLatencyP99->count() / 1e6;
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
		out.failure = judge(run, out.observed);
		return out;
	}

private:
	std::string judge(RunTimeline &run, json &observed) const
	{
		const data::ValidationReport *r = run.dataReport();
		if (!r)
			return "no data flowed";
		const int64_t faultStart = run.faultsWindow().first;
		const auto &t = r->total;
		observed["sent"] = t.sent;
		observed["delivered"] = t.delivered;
		observed["lost"] = t.lost;
		observed["duplicated"] = t.duplicated;
		observed["out_of_order"] = t.outOfOrder;
		observed["corrupt"] = r->corrupt;
		observed["rpo_s"] = r->lostEventSpanNs / 1e9;
		observed["latency_p99_ms"] = r->latencyP99 / 1e6;
		std::optional<int64_t> rto;
		if (faultStart != INT64_MAX)
			rto = run.dataRto(faultStart);
		std::optional<DataSection> &section = run.report().data;
		if (rto) {
			observed["rto_ms"] = *rto / 1e6;
			observed["rto_bound_ms"] = run.scenario().data.poll.count() / 1e6;
			if (section)
				section->rtoMs = *rto / 1e6;
		}
		if (section)
			section->rpoS = r->lostEventSpanNs / 1e9;
		if (t.sent == 0)
			return "no tuple was accepted by any DC";
		if (lostMax && static_cast<int64_t>(t.lost) > *lostMax)
			return fmt::format("{} tuples lost > lost_max {}", t.lost, *lostMax);
		if (lostMin && static_cast<int64_t>(t.lost) < *lostMin)
			return fmt::format("{} tuples lost < lost_min {}", t.lost, *lostMin);
		if (duplicatedMax && static_cast<int64_t>(t.duplicated) > *duplicatedMax)
			return fmt::format("{} tuples duplicated > duplicated_max {}", t.duplicated, *duplicatedMax);
		if (duplicatedMin && static_cast<int64_t>(t.duplicated) < *duplicatedMin)
			return fmt::format("{} tuples duplicated < duplicated_min {}", t.duplicated, *duplicatedMin);
		if (maxRpo && r->lostEventSpanNs > maxRpo->count())
			return fmt::format("RPO {:.3f} s (event-time span of the lost tuples) > rpo_max {}",
					   r->lostEventSpanNs / 1e9, formatDuration(*maxRpo));
		if (maxRto) {
			if (!rto)
				return "no output after the faults began, so no RTO";
			if (*rto > maxRto->count())
				return fmt::format("RTO {:.0f} ms > rto_max {}", *rto / 1e6, formatDuration(*maxRto));
		}
		if (maxLatencyP99 && r->latencyP99 > maxLatencyP99->count())
			return fmt::format("p99 latency {:.1f} ms > latency_p99_max {}", r->latencyP99 / 1e6,
					   formatDuration(*maxLatencyP99));
		return "";
	}
};

} // namespace

// The limits, each a mapping ({min, max} for the tuple counts, {max} for the times): tuples_lost,
// tuples_duplicated, rpo, rto, latency_p99; or the flat short forms lost_min/lost_max, duplicated_min/duplicated_max,
// rpo_max, rto_max, latency_p99_max. One limit is given once.
std::shared_ptr<const AssertionCheck> parseData(AssertionParse &p)
{
	auto d = std::make_shared<Data>();
	Data &a = *d;
	MapReader &b = p.r;
	const YAML::Node &body = p.body;
	const std::string &path = p.path;
	const std::string &origin = p.origin;
	std::optional<Error> &error = p.error;
	static const char *kExpected =
		"expected a mapping of limits: tuples_lost: {min, max}, tuples_duplicated: {min, max}, rpo: {max}, "
		"rto: {max}, latency_p99: {max} (or the short forms lost_min, lost_max, duplicated_min, "
		"duplicated_max, rpo_max, rto_max, latency_p99_max)";
	if (!body.IsMap()) {
		b.fail(body, path, kExpected);
		return d;
	}
	for (auto [key, dst] : {std::pair<const char *, std::optional<int64_t> *>{"lost_min", &a.lostMin},
				{"lost_max", &a.lostMax}, {"duplicated_min", &a.duplicatedMin},
				{"duplicated_max", &a.duplicatedMax}}) {
		int64_t v = -1;
		b.integer(key, v, 0, INT64_MAX / 2);
		if (v >= 0)
			*dst = v;
	}
	readDurationOpt(b, "rpo_max", a.maxRpo);
	readDurationOpt(b, "rto_max", a.maxRto);
	readDurationOpt(b, "latency_p99_max", a.maxLatencyP99);
	// Sets *dst from the nested key, refusing a limit the short form already gave.
	auto once = [&](const YAML::Node &at, const std::string &key, bool given, const char *shortForm) {
		if (given)
			b.fail(at, key, fmt::format("given twice: here and as {}", shortForm));
		return !given;
	};
	for (auto [name, minDst, maxDst, minShort, maxShort] :
	     {std::tuple<const char *, std::optional<int64_t> *, std::optional<int64_t> *, const char *, const char *>{
		      "tuples_lost", &a.lostMin, &a.lostMax, "lost_min", "lost_max"},
	      {"tuples_duplicated", &a.duplicatedMin, &a.duplicatedMax, "duplicated_min", "duplicated_max"}}) {
		YAML::Node n;
		if (!b.ok() || !b.child(name, n))
			continue;
		MapReader r(n, origin, path + "." + name);
		int64_t lo = -1, hi = -1;
		r.integer("min", lo, 0, INT64_MAX / 2);
		r.integer("max", hi, 0, INT64_MAX / 2);
		r.rejectUnknown();
		if (r.ok() && lo < 0 && hi < 0)
			r.fail(n, path + "." + name, "expected {min: COUNT} and/or {max: COUNT}");
		if (!r.ok()) {
			if (!error)
				error = r.result().error();
			return d;
		}
		if (lo >= 0 && once(n, path + "." + name + ".min", minDst->has_value(), minShort))
			*minDst = lo;
		if (hi >= 0 && once(n, path + "." + name + ".max", maxDst->has_value(), maxShort))
			*maxDst = hi;
	}
	for (auto [name, dst, shortForm] :
	     {std::tuple<const char *, std::optional<Nanos> *, const char *>{"rpo", &a.maxRpo, "rpo_max"},
	      {"rto", &a.maxRto, "rto_max"},
	      {"latency_p99", &a.maxLatencyP99, "latency_p99_max"}}) {
		YAML::Node n;
		if (!b.ok() || !b.child(name, n))
			continue;
		MapReader r(n, origin, path + "." + name);
		std::optional<Nanos> v;
		readDurationOpt(r, "max", v);
		r.rejectUnknown();
		if (r.ok() && !v)
			r.fail(n, path + "." + name, "expected {max: DURATION}");
		if (!r.ok()) {
			if (!error)
				error = r.result().error();
			return d;
		}
		if (once(n, path + "." + name + ".max", dst->has_value(), shortForm))
			*dst = v;
	}
	b.rejectUnknown();
	if (b.ok() && !a.lostMin && !a.lostMax && !a.duplicatedMin && !a.duplicatedMax && !a.maxRpo && !a.maxRto &&
	    !a.maxLatencyP99)
		b.fail(body, path, fmt::format("no limit given: {}", kExpected));
	return d;
}

} // namespace xdc::scenario
