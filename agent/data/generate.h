// SPDX-License-Identifier: Apache-2.0
// data.generate.start / data.generate.stop: the test-tuple generator (common/data/generator.h) run by the agent on
// its own thread, for a scenario's `data.generate_on: HOST` (the producers sit in a chosen lab host or DC).
//
// Contracts: start() checks every argument against the agent's own limits before anything runs (rates, keys,
// payload, sources: http/https URLs only, numeric TCP hosts); a run stops by itself after maxDurationMs on the
// agent's monotonic clock, so a controller that disappears leaves no generator behind; stop() joins and returns the
// figures once (the run is forgotten). At most kMaxRuns run at once.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/data/generator.h"
#include "common/proto/messages.h"
#include "common/result.h"

namespace xdc::agent {

// The arguments as the agent accepts them; the message names the field.
[[nodiscard]] Result<void> validateGenerateArgs(const proto::DataGenerateStartArgs &a);

class DataGenerators {
public:
	static constexpr size_t kMaxRuns = 4;
	DataGenerators() = default;
	~DataGenerators();
	DataGenerators(const DataGenerators &) = delete;
	DataGenerators &operator=(const DataGenerators &) = delete;

	[[nodiscard]] Result<proto::DataGenerateStartReply> start(const proto::DataGenerateStartArgs &a);
	[[nodiscard]] Result<proto::DataGenerateStopReply> stop(const std::string &runId);

private:
	struct Run {
		std::unique_ptr<data::Generator> gen;
		int64_t startedNs = 0, stoppedNs = 0;
		bool stopping = false, expired = false;
		std::thread watchdog; // stops the generator at the deadline
	};
	std::mutex m_;
	std::condition_variable cv_;
	std::map<std::string, std::unique_ptr<Run>> runs_;
};

// The stop reply of a stopped generator (times delta-encoded, left out beyond kMaxGenTimes).
proto::DataGenerateStopReply generatorReply(const data::TupleGenerator &g);

} // namespace xdc::agent
