// SPDX-License-Identifier: Apache-2.0
// The agent-side generator's proxy (controller/data/agent_generator.h).
#include "controller/data/agent_generator.h"

#include <fmt/format.h>

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
	if (!r->value("ok", false)) {
		const json err = r->value("error", json::object());
		return makeError(Errc::Refused, "data.generate.start on {}: {}", o_.host, err.value("message", r->dump()));
	}
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
	std::lock_guard lk(m_);
	if (!r || !r->value("ok", false)) {
		stats_.lastError = fmt::format("data.generate.stop on {}: {}", o_.host,
					       !r ? r.error().message
						  : r->value("error", json::object()).value("message", r->dump()));
		// Unknown: whatever the agent made may have been accepted; the run cannot trust its counts.
		stats_.uncertain = 1;
		return;
	}
	const json &j = *r;
	offsetNs_ = j.value("offset_ns", int64_t{0});
	boundNs_ = j.value("bound_ns", int64_t{-1});
	stats_.generated = j.value("generated", uint64_t{0});
	stats_.accepted = j.value("accepted", uint64_t{0});
	stats_.refusedBatches = j.value("refused_batches", uint64_t{0});
	stats_.failedBatches = j.value("failed_batches", uint64_t{0});
	stats_.uncertain = j.value("uncertain", uint64_t{0});
	stats_.backlog = j.value("backlog", uint64_t{0});
	stats_.switches = j.value("switches", uint64_t{0});
	stats_.fellBehind = j.value("fell_behind", false);
	stats_.lastError = j.value("last_error", "");
	if (j.value("expired", false))
		stats_.lastError = fmt::format("the agent stopped generating by itself after {} ms (max duration){}",
					       o_.maxDurationMs, stats_.lastError.empty() ? "" : "; " + stats_.lastError);
	const json perSource = j.value("per_source", json::object());
	for (const auto &kv : perSource.items())
		stats_.perSource[kv.key()] = kv.value().get<uint64_t>();
	const json unwritten = j.value("unwritten", json::object());
	for (const auto &kv : unwritten.items())
		stats_.unwritten[kv.key()] = kv.value().get<uint64_t>();
	const json changes = j.value("source_changes", json::array());
	for (const auto &c : changes)
		stats_.sourceChanges.emplace_back(c.value("t_ns", int64_t{0}), c.value("source", ""));
	const json sent = j.value("sent_per_key", json::object());
	for (const auto &kv : sent.items())
		sent_[static_cast<uint32_t>(std::stoul(kv.key()))] = kv.value().get<uint64_t>();
	omitted_ = j.value("times_omitted", false);
	const json times = j.value("send_times_delta", json::object());
	for (const auto &kv : times.items()) {
		auto &out = times_[static_cast<uint32_t>(std::stoul(kv.key()))];
		int64_t t = 0;
		for (const auto &d : kv.value()) {
			t += d.get<int64_t>();
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
