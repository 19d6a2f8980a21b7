// SPDX-License-Identifier: Apache-2.0
// The agent-side generator's proxy (controller/data/agent_generator.h).
#include "controller/data/agent_generator.h"

#include <fmt/format.h>

#include "controller/control/answers.h"

namespace xdc::data {

using nlohmann::json;

Result<void> AgentGenerator::start()
{
	const auto &g = o_.gen;
	control::DataGenerateStartRequest req;
	req.host = o_.host;
	auto &a = req.args;
	a.runId = o_.runId;
	a.seed = g.seed;
	a.rate = g.profile.rate;
	a.rampFrom = g.profile.rampFrom;
	a.rampNs = g.profile.rampNs;
	a.burstEveryNs = g.profile.burstEveryNs;
	a.burstForNs = g.profile.burstForNs;
	a.burstFactor = g.profile.burstFactor;
	a.keys = g.keys;
	a.payload = g.payload;
	a.maxDurationMs = o_.maxDurationMs;
	a.sources = o_.sources;
	auto r = o_.call(req, 15000);
	if (!r)
		return r.error().context(fmt::format("data.generate.start on {}", o_.host));
	if (!r->value("ok", false))
		return makeError(Errc::Refused, "data.generate.start on {}: {}", o_.host, control::answerError(*r).message);
	auto started = control::parseAnswer<control::DataGenerateStartAnswer>(*r);
	if (!started)
		return started.error().context(fmt::format("data.generate.start on {}", o_.host));
	std::lock_guard lk(m_);
	started_ = true;
	return success();
}

void AgentGenerator::stop()
{
	{
		std::lock_guard lk(m_);
		if (!started_ || stopped_)
			return;
		stopped_ = true;
	}
	auto r = o_.call(control::DataGenerateStopRequest{o_.host, o_.runId}, 30000);
	auto figures = !r			  ? Result<control::DataGenerateStopAnswer>(r.error())
		       : !r->value("ok", false) ? Result<control::DataGenerateStopAnswer>(
							  makeError(Errc::Refused, "{}", control::answerError(*r).message))
						: control::parseAnswer<control::DataGenerateStopAnswer>(*r);
	std::lock_guard lk(m_);
	if (!figures) {
		stats_.lastError = fmt::format("data.generate.stop on {}: {}", o_.host, figures.error().message);
		// Unknown: whatever the agent made may have been accepted; the run cannot trust its counts.
		stats_.uncertain = 1;
		return;
	}
	const auto &f = *figures;
	offsetNs_ = f.offsetNs;
	boundNs_ = f.boundNs;
	stats_.generated = f.generated;
	stats_.accepted = f.accepted;
	stats_.refusedBatches = f.refusedBatches;
	stats_.failedBatches = f.failedBatches;
	stats_.uncertain = f.uncertain;
	stats_.backlog = f.backlog;
	stats_.switches = f.switches;
	stats_.fellBehind = f.fellBehind;
	stats_.lastError = f.lastError;
	if (f.expired)
		stats_.lastError = fmt::format("the agent stopped generating by itself after {} ms (max duration){}",
					       o_.maxDurationMs, stats_.lastError.empty() ? "" : "; " + stats_.lastError);
	for (const auto &[src, n] : f.perSource)
		stats_.perSource[src] = n;
	for (const auto &[src, n] : f.unwritten)
		stats_.unwritten[src] = n;
	for (const auto &c : f.sourceChanges)
		stats_.sourceChanges.emplace_back(c.tNs, c.source);
	sent_ = f.sentPerKey;
	omitted_ = f.timesOmitted;
	for (const auto &[key, deltas] : f.sendTimesDelta) {
		auto &out = times_[key];
		int64_t t = 0;
		for (const int64_t d : deltas) {
			t += d;
			out.push_back(t - offsetNs_); // the agent's wall clock -> the controller's timeline
		}
	}
}

GeneratorStats AgentGenerator::stats() const
{
	std::lock_guard lk(m_);
	return stats_;
}

std::map<uint32_t, uint64_t> AgentGenerator::sentPerKey() const
{
	std::lock_guard lk(m_);
	return sent_;
}

std::map<uint32_t, std::vector<int64_t>> AgentGenerator::sendTimes() const
{
	std::lock_guard lk(m_);
	return times_;
}

int64_t AgentGenerator::clockOffsetNs() const
{
	std::lock_guard lk(m_);
	return offsetNs_;
}

int64_t AgentGenerator::clockBoundNs() const
{
	std::lock_guard lk(m_);
	return boundNs_;
}

bool AgentGenerator::timesOmitted() const
{
	std::lock_guard lk(m_);
	return omitted_;
}

} // namespace xdc::data
