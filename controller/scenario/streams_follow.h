// SPDX-License-Identifier: Apache-2.0
// A scenario run's view of Streams: polls every DC's instance on its own thread for the whole run and feeds the
// toolkit view (controller/streams/toolkit_view.h), so conditions and assertions can ask what it saw and when.
//
// Contract: start() returns once the first round is in (or fails when the config cannot be read); the poll
// thread runs until stop() or destruction; every accessor is thread-safe and returns copies. Event and state times
// are the controller host's wall clock (the console runs beside the controller), the clock of the run's report.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/streams/client.h"
#include "controller/streams/poll.h"
#include "controller/streams/toolkit_view.h"

namespace xdc::scenario {

class StreamsFollower {
public:
	StreamsFollower() = default;
	~StreamsFollower();
	StreamsFollower(const StreamsFollower &) = delete;
	StreamsFollower &operator=(const StreamsFollower &) = delete;

	// Reads the streams config at `configPath` and starts polling every `intervalNs`.
	Result<void> start(const std::string &configPath, int64_t intervalNs);
	void stop();
	// Called on the poll thread after every round (outside the follower's lock); set it before it matters.
	void setOnRound(std::function<void()> f);

	const std::vector<streams::Endpoint> &endpoints() const { return endpoints_; }
	std::vector<streams::ToolkitEvent> events() const;
	// The last round's snapshot of a DC (reachable=false and an error when it was never polled).
	streams::DcSnapshot latest(const std::string &dc) const;
	std::string activeDc() const;
	bool splitBrain() const;
	// Every DC's state changes: {dc, state, t_ns}, the first round included.
	nlohmann::json states() const;
	uint64_t rounds() const;
	// Per DC, every distinct collection of the application's output counter (a new value or a new collection time),
	// in poll order. A DC whose output operator was never read has none.
	std::map<std::string, std::vector<streams::OutputPoint>> outputSeries() const;
	// Per DC, the toolkit operators and the sink found so far (union over the run's rounds):
	// {dc: {prefix, found[], missing[], sink_operator}}; a DC whose job was never listed has found [] and every name
	// in missing.
	nlohmann::json signals() const;
	// True when some DC showed the watchdog (detection can be measured) / any toolkit operator and a sink.
	bool canTellDetection() const;
	bool canTellTakeover() const;
	int64_t intervalNs() const { return intervalNs_; }

private:
	void loop();
	void noteSignals(const streams::DcSnapshot &s); // m_ held

	std::vector<streams::Endpoint> endpoints_;
	std::vector<std::unique_ptr<streams::Client>> clients_;
	std::unique_ptr<streams::Poller> poller_;
	int64_t intervalNs_ = 0;
	mutable std::mutex m_;
	std::condition_variable cv_;
	streams::ToolkitView view_;
	std::map<std::string, streams::DcSnapshot> latest_;
	std::map<std::string, streams::DcState> shown_;
	std::map<std::string, nlohmann::json> signals_;
	std::map<std::string, std::vector<streams::OutputPoint>> outputs_;
	std::function<void()> onRound_;
	nlohmann::json states_ = nlohmann::json::array();
	uint64_t rounds_ = 0;
	bool stop_ = false;
	std::thread thread_;
};

} // namespace xdc::scenario
