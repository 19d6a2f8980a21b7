// SPDX-License-Identifier: Apache-2.0
#include "controller/data/flow.h"

#include <algorithm>

#include "common/clock.h"
#include "common/data/tuple.h"

namespace xdc::data {


SinkReader::SinkReader(ValidatorOptions v, std::vector<std::unique_ptr<DataSink>> sinks, int64_t intervalNs)
    : sinks_(std::move(sinks)), intervalNs_(intervalNs), validator_(v)
{
	for (const auto &s : sinks_)
		arrivals_.push_back({s->name(), {}, 0, "", s->how(), 0, 0});
}

SinkReader::~SinkReader() { stop(); }

void SinkReader::start()
{
	// What the sinks hold from before this run (an earlier run's tuples) is skipped: the cursor starts at the end.
	for (auto &s : sinks_)
		for (int i = 0; i < 1000; i++) {
			auto r = s->poll();
			if (!r || r->empty())
				break;
		}
	t_ = std::thread([this] { loop(); });
}

void SinkReader::stop()
{
	{
		std::lock_guard lk(m_);
		stop_ = true;
	}
	cv_.notify_all();
	if (t_.joinable())
		t_.join();
}

uint64_t SinkReader::pollOnce()
{
	uint64_t total = 0;
	for (size_t i = 0; i < sinks_.size(); i++) {
		for (;;) {
			auto r = sinks_[i]->poll();
			const int64_t now = clk::wallNs();
			std::lock_guard lk(m_);
			arrivals_[i].restarts = sinks_[i]->restarts();
			arrivals_[i].missed = sinks_[i]->missed();
			if (!r) {
				arrivals_[i].lastError = r.error().message;
				break;
			}
			if (r->empty())
				break;
			const uint64_t before = arrivals_[i].lines;
			uint64_t n = 0;
			for (char c : *r)
				n += c == '\n';
			validator_.addLines(*r, now);
			arrivals_[i].lines = before + n;
			arrivals_[i].polls.emplace_back(now, n);
			total += n;
			if (n < 20000)
				break; // a full batch means more is waiting
		}
	}
	return total;
}

void SinkReader::loop()
{
	int64_t next = clk::monoNs();
	for (;;) {
		{
			std::unique_lock lk(m_);
			if (cv_.wait_for(lk, std::chrono::nanoseconds(std::max<int64_t>(0, next - clk::monoNs())),
					 [this] { return stop_; }))
				return;
		}
		next += intervalNs_;
		(void)pollOnce();
	}
}

void SinkReader::drain(int64_t quietNs, int64_t maxNs)
{
	// The polling thread keeps running; this only waits until it has seen nothing new for quietNs.
	const int64_t deadline = clk::monoNs() + maxNs;
	uint64_t last = 0;
	int64_t quietSince = clk::monoNs();
	for (;;) {
		uint64_t lines = 0;
		{
			std::lock_guard lk(m_);
			for (const auto &a : arrivals_)
				lines += a.lines;
		}
		const int64_t now = clk::monoNs();
		if (lines != last) {
			last = lines;
			quietSince = now;
		}
		if (now - quietSince >= quietNs || now >= deadline)
			return;
		std::unique_lock lk(m_);
		cv_.wait_for(lk, std::chrono::nanoseconds(intervalNs_));
	}
}

ValidationReport SinkReader::finish(const std::map<uint32_t, uint64_t> &sent,
				    const std::map<uint32_t, std::vector<int64_t>> *times) const
{
	std::lock_guard lk(m_);
	return validator_.finish(sent, times);
}

std::vector<SinkArrivals> SinkReader::arrivals() const
{
	std::lock_guard lk(m_);
	return arrivals_;
}

} // namespace xdc::data
