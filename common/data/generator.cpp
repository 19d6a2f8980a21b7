// SPDX-License-Identifier: Apache-2.0
// The tuple generator (common/data/generator.h).
#include "common/data/generator.h"

#include <algorithm>

#include "common/clock.h"
#include "common/data/tuple.h"

namespace xdc::data {

nlohmann::json toJson(const GeneratorStats &s)
{
	nlohmann::json changes = nlohmann::json::array();
	for (const auto &[t, src] : s.sourceChanges)
		changes.push_back({{"t_ns", t}, {"source", src}});
	return {{"generated", s.generated}, {"accepted", s.accepted},
		{"failed_batches", s.failedBatches}, {"uncertain", s.uncertain}, {"backlog", s.backlog},
		{"switches", s.switches}, {"fell_behind", s.fellBehind}, {"per_source", s.perSource},
		{"unwritten", s.unwritten}, {"route_changes", changes}, {"last_error", s.lastError}};
}

double RateProfile::due(int64_t t) const
{
	if (t <= 0)
		return 0;
	const double s = static_cast<double>(t) / 1e9;
	double n;
	if (rampFrom >= 0 && rampNs > 0) {
		const double T = static_cast<double>(rampNs) / 1e9;
		const double in = std::min(s, T);
		n = rampFrom * in + (rate - rampFrom) * in * in / (2 * T) + rate * std::max(0.0, s - T);
	} else {
		n = rate * s;
	}
	if (burstEveryNs > 0 && burstForNs > 0 && burstFactor != 1) {
		// Time spent inside bursts so far: whole periods, plus the part of the current one. The extra rate during a
		// burst is (factor - 1) x the steady rate (bursts ride on the ramp's end rate).
		const int64_t periods = t / burstEveryNs, into = t % burstEveryNs;
		const double inBurst = static_cast<double>(periods * burstForNs + std::min(into, burstForNs)) / 1e9;
		n += (burstFactor - 1) * rate * inBurst;
	}
	return n;
}

Generator::Generator(GeneratorOptions o, std::vector<std::unique_ptr<DataSource>> sources)
    : o_(o), sources_(std::move(sources)), accepted_(o.keys, 0), times_(o.keys)
{
	if (o_.profile.rate == RateProfile{}.rate && o_.profile.rampFrom < 0 && o_.profile.burstEveryNs == 0)
		o_.profile.rate = o_.rate;
	for (size_t i = 0; i < sources_.size(); ++i)
		route_.push_back(i);
}

void Generator::setRoute(const std::vector<std::string> &names)
{
	std::vector<size_t> r;
	std::string label;
	for (const auto &n : names)
		for (size_t i = 0; i < sources_.size(); ++i)
			if (sources_[i]->name() == n) {
				r.push_back(i);
				label += (label.empty() ? "" : ",") + n;
			}
	std::lock_guard lk(m_);
	if (r == route_)
		return;
	route_ = std::move(r);
	stats_.switches++;
	stats_.sourceChanges.emplace_back(clk::wallNs(), label.empty() ? "(nowhere)" : label);
}

Generator::~Generator() { stop(); }

Result<void> Generator::start()
{
	t_ = std::thread([this] { loop(); });
	return success();
}

void Generator::stop()
{
	{
		std::lock_guard lk(m_);
		stop_ = true;
	}
	cv_.notify_all();
	if (t_.joinable())
		t_.join();
}

GeneratorStats Generator::stats() const
{
	std::lock_guard lk(m_);
	return stats_;
}

std::map<uint32_t, uint64_t> Generator::sentPerKey() const
{
	std::lock_guard lk(m_);
	std::map<uint32_t, uint64_t> out;
	for (uint32_t k = 0; k < accepted_.size(); k++)
		out[k] = accepted_[k];
	return out;
}

std::map<uint32_t, std::vector<int64_t>> Generator::sendTimes() const
{
	std::lock_guard lk(m_);
	std::map<uint32_t, std::vector<int64_t>> out;
	for (uint32_t k = 0; k < times_.size(); k++)
		out[k] = times_[k];
	return out;
}

void Generator::loop()
{
	struct Pending {
		uint32_t key;
		uint64_t seq;
		int64_t eventNs;
	};
	std::vector<Pending> backlog;
	std::vector<uint64_t> nextSeq(o_.keys, 0);
	uint64_t made = 0;
	const int64_t start = clk::monoNs();
	int64_t next = start;
	std::string body;
	Tuple t;
	for (;;) {
		{
			std::unique_lock lk(m_);
			if (cv_.wait_for(lk, std::chrono::nanoseconds(std::max<int64_t>(0, next - clk::monoNs())),
					 [this] { return stop_; }))
				return;
		}
		next += o_.tickNs;
		// Tuples due by now at the set rate (an absolute schedule: a slow send does not lower the rate).
		const auto due = static_cast<uint64_t>(o_.profile.due(clk::monoNs() - start));
		const int64_t wall = clk::wallNs();
		bool behind = false;
		while (made < due) {
			if (backlog.size() >= o_.maxBacklog) {
				behind = true;
				break;
			}
			// Keys in a seeded order: each round of `keys` tuples visits every key once.
			const uint32_t key = static_cast<uint32_t>((made + o_.seed) % o_.keys);
			backlog.push_back({key, ++nextSeq[key], wall});
			made++;
		}
		// Write the backlog in batches of up to 1000, in order, to every source of the route. A tuple is sent once
		// one of them wrote it; the first that none wrote ends this tick (it waits for the next).
		std::vector<size_t> route;
		{
			std::lock_guard lk(m_);
			route = route_;
		}
		size_t sentNow = 0;
		while (!route.empty() && sentNow < backlog.size()) {
			const size_t n = std::min<size_t>(1000, backlog.size() - sentNow);
			body.clear();
			for (size_t i = sentNow; i < sentNow + n; i++) {
				t.key = backlog[i].key;
				t.seq = backlog[i].seq;
				t.eventNs = backlog[i].eventNs;
				t.payload.clear();
				appendPayload(o_.seed, t.key, t.seq, o_.payload, t.payload);
				appendJsonLine(t, body);
			}
			size_t written = 0, uncertain = 0;
			std::vector<std::pair<std::string, SendResult>> results;
			for (size_t idx : route) {
				auto &src = sources_[idx];
				SendResult r = src->send(body, n);
				written = std::max(written, r.written);
				uncertain = std::max(uncertain, r.written + r.uncertain);
				results.emplace_back(src->name(), std::move(r));
			}
			uncertain = uncertain > written ? uncertain - written : 0;
			const size_t done = written + uncertain;
			std::lock_guard lk(m_);
			for (const auto &[name, r] : results) {
				stats_.perSource[name] += r.written;
				if (r.written < done)
					stats_.unwritten[name] += done - r.written;
				if (r.error)
					stats_.lastError = r.error->message;
			}
			for (size_t i = sentNow; i < sentNow + done; i++) {
				accepted_[backlog[i].key] = backlog[i].seq;
				times_[backlog[i].key].push_back(backlog[i].eventNs);
			}
			stats_.accepted += done;
			stats_.uncertain += uncertain;
			if (done < n)
				stats_.failedBatches++;
			sentNow += done;
			if (done < n)
				break; // the rest waits for the next tick
		}
		backlog.erase(backlog.begin(), backlog.begin() + static_cast<std::ptrdiff_t>(sentNow));
		std::lock_guard lk(m_);
		stats_.generated = made;
		stats_.backlog = backlog.size();
		stats_.fellBehind = stats_.fellBehind || behind;
	}
}

} // namespace xdc::data
