// SPDX-License-Identifier: Apache-2.0
#include "controller/scenario/streams_follow.h"

#include <set>

#include "common/clock.h"
#include "controller/streams/config.h"

namespace xdc::scenario {

StreamsFollower::~StreamsFollower() { stop(); }

Result<void> StreamsFollower::start(const std::string &configPath, int64_t intervalNs)
{
	auto eps = streams::loadStreamsConfig(configPath);
	if (!eps)
		return eps.error();
	if (eps->empty())
		return makeError(Errc::Invalid, "{}: no instance", configPath);
	endpoints_ = *eps;
	for (const auto &ep : endpoints_)
		clients_.push_back(std::make_unique<streams::Client>(ep));
	intervalNs_ = intervalNs;
	poller_ = std::make_unique<streams::Poller>(clients_, streams::PollOptions{});
	thread_ = std::thread([this] { loop(); });
	std::unique_lock lk(m_);
	// The first round: a DC that does not answer shows as unreachable, so this wait ends within the clients'
	// timeouts (connect + total, with retries) whatever the network does.
	cv_.wait(lk, [this] { return rounds_ > 0 || stop_; });
	return success();
}

std::map<std::string, std::vector<streams::OutputPoint>> StreamsFollower::outputSeries() const
{
	std::lock_guard lk(m_);
	return outputs_;
}

void StreamsFollower::setOnRound(std::function<void()> f)
{
	std::lock_guard lk(m_);
	onRound_ = std::move(f);
}

void StreamsFollower::stop()
{
	{
		std::lock_guard lk(m_);
		stop_ = true;
	}
	cv_.notify_all();
	if (thread_.joinable())
		thread_.join();
}

void StreamsFollower::loop()
{
	int64_t next = clk::monoNs();
	for (;;) {
		auto round = poller_->round();
		{
			std::lock_guard lk(m_);
			(void)view_.update(round);
			for (auto &s : round) {
				const auto st = view_.state(s.dc);
				auto it = shown_.find(s.dc);
				if (it == shown_.end() || it->second != st) {
					states_.push_back({{"dc", s.dc}, {"state", streams::dcStateName(st)}, {"t_ns", s.tNs},
							   {"error", s.reachable ? "" : s.error}});
					shown_[s.dc] = st;
				}
				noteSignals(s);
				if (s.sink.present) {
					auto &series = outputs_[s.dc];
					if (series.empty() || series.back().value != s.sink.value ||
					    series.back().retrievedNs != s.sink.retrievedNs)
						series.push_back({s.tNs, s.sink.retrievedNs, s.sink.value});
				}
				latest_[s.dc] = std::move(s);
			}
			rounds_++;
		}
		cv_.notify_all();
		std::function<void()> onRound;
		{
			std::lock_guard lk(m_);
			onRound = onRound_;
		}
		if (onRound)
			onRound();
		// An absolute schedule: a slow round does not push the later ones back.
		next += intervalNs_;
		const int64_t now = clk::monoNs();
		if (next < now)
			next = now;
		std::unique_lock lk(m_);
		if (cv_.wait_for(lk, std::chrono::nanoseconds(next - now), [this] { return stop_; }))
			return;
	}
}

void StreamsFollower::noteSignals(const streams::DcSnapshot &s)
{
	nlohmann::json &j = signals_[s.dc];
	if (j.is_null())
		j = {{"prefix", ""}, {"found", nlohmann::json::array()}, {"missing", nlohmann::json::array()},
		     {"sink_operator", ""}, {"job_seen", false}};
	if (!s.reachable || !s.job || !s.metricsRead)
		return;
	j["job_seen"] = true;
	std::set<std::string> found;
	for (const auto &f : j["found"])
		found.insert(f.get<std::string>());
	for (const auto &f : s.toolkit.found)
		found.insert(f);
	j["found"] = found;
	std::vector<std::string> missing;
	for (const auto &m : s.toolkit.missing)
		if (!found.count(m))
			missing.push_back(m);
	j["missing"] = missing;
	if (!s.toolkit.prefix.empty())
		j["prefix"] = s.toolkit.prefix;
	if (!s.sinkOperator.empty())
		j["sink_operator"] = s.sinkOperator;
}

nlohmann::json StreamsFollower::signals() const
{
	std::lock_guard lk(m_);
	nlohmann::json out = nlohmann::json::object();
	for (const auto &[dc, j] : signals_)
		out[dc] = j;
	return out;
}

bool StreamsFollower::canTellDetection() const
{
	std::lock_guard lk(m_);
	for (const auto &[dc, j] : signals_)
		for (const auto &f : j["found"])
			if (f == "RemoteDataCenterHeartbeatWatchdog")
				return true;
	return false;
}

bool StreamsFollower::canTellTakeover() const
{
	std::lock_guard lk(m_);
	bool toolkit = false, sink = false;
	for (const auto &[dc, j] : signals_) {
		toolkit = toolkit || !j["found"].empty();
		sink = sink || !j["sink_operator"].get<std::string>().empty();
	}
	return toolkit && sink;
}

std::vector<streams::ToolkitEvent> StreamsFollower::events() const
{
	std::lock_guard lk(m_);
	return view_.events();
}

streams::DcSnapshot StreamsFollower::latest(const std::string &dc) const
{
	std::lock_guard lk(m_);
	auto it = latest_.find(dc);
	if (it != latest_.end())
		return it->second;
	streams::DcSnapshot s;
	s.dc = dc;
	s.error = "not polled";
	return s;
}

std::string StreamsFollower::activeDc() const
{
	std::lock_guard lk(m_);
	return view_.activeDc();
}

bool StreamsFollower::splitBrain() const
{
	std::lock_guard lk(m_);
	return view_.splitBrain();
}

nlohmann::json StreamsFollower::states() const
{
	std::lock_guard lk(m_);
	return states_;
}

uint64_t StreamsFollower::rounds() const
{
	std::lock_guard lk(m_);
	return rounds_;
}

} // namespace xdc::scenario
