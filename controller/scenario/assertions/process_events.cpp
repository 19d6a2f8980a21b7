// SPDX-License-Identifier: Apache-2.0
// `process_events: {sampler, event, count_min, count_max}`: the events (started / exited) a process sampler saw over
// the run.
#include <fmt/format.h>

#include "controller/scenario/assertions/kinds.h"
#include "controller/scenario/spec.h"

namespace xdc::scenario {

namespace {

using nlohmann::json;

class ProcessEvents : public AssertionCheck {
public:
	std::string sampler, event = "started";
	std::optional<int64_t> minCount, maxCount;

	std::string defaultName() const override
	{
		std::string bounds;
		auto add = [&](const std::string &t) { bounds += (bounds.empty() ? "" : ", ") + t; };
		if (minCount)
			add(fmt::format("count >= {}", *minCount));
		if (maxCount)
			add(fmt::format("count <= {}", *maxCount));
		return fmt::format("{} {} {}", sampler, event, bounds);
	}

	Result<void> crossCheck(const Scenario &s, const std::string &path, const std::string &where) const override
	{
		for (const auto &sm : s.samplers)
			if (sm.name == sampler && sm.kind == evidence::SamplerKind::Process)
				return success();
		return makeError(Errc::Invalid, "{}: {}.process_events.sampler: no process sampler named '{}' under "
				 "evidence.samplers", where, path, sampler);
	}

	json parameters() const override
	{
		json j = json::object();
		j["sampler"] = sampler;
		j["event"] = event;
		if (minCount)
			j["count_min"] = *minCount;
		if (maxCount)
			j["count_max"] = *maxCount;
		return j;
	}

	void describe(json &e) const override { e["sampler"] = sampler; }

	AssertionOutcome evaluate(RunTimeline &run) const override
	{
		AssertionOutcome out;
		int64_t count = 0;
		for (const auto &x : run.entries())
			if (x.value("kind", "") == "process.event" && x.value("source", "") == sampler &&
			    x.value("tags", json::object()).value("event", "") == event)
				count++;
		out.observed["count"] = count;
		if (minCount && count < *minCount)
			out.failure = fmt::format("{} '{}' events < count_min {}", count, event, *minCount);
		else if (maxCount && count > *maxCount)
			out.failure = fmt::format("{} '{}' events > count_max {}", count, event, *maxCount);
		return out;
	}
};

} // namespace

std::shared_ptr<const AssertionCheck> parseProcessEvents(AssertionParse &p)
{
	auto a = std::make_shared<ProcessEvents>();
	MapReader &b = p.r;
	b.str("sampler", a->sampler);
	b.str("event", a->event);
	if (b.ok() && a->sampler.empty())
		b.fail(p.body, b.keyPath("sampler"), "required: the name of a process sampler under evidence.samplers");
	if (b.ok() && a->event != "started" && a->event != "exited")
		b.fail(p.body["event"], b.keyPath("event"),
		       fmt::format("'{}' is not an event (expected started or exited)", a->event));
	readCountBounds(b, a->minCount, a->maxCount);
	b.rejectUnknown();
	if (b.ok() && !a->minCount && !a->maxCount)
		b.fail(p.body, p.path, "give at least one bound: count_min, count_max");
	return a;
}

} // namespace xdc::scenario
