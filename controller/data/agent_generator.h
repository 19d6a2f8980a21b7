// SPDX-License-Identifier: Apache-2.0
// A TupleGenerator that runs on a lab or Streams host through its agent (data.generate.start / data.generate.stop
// via the controller daemon), for a scenario's `data.generate_on: HOST`.
//
// Contract: start() returns once the agent's generator runs (or with the agent's refusal); stop() stops it and
// fetches the figures once; stats(), sentPerKey() and sendTimes() are empty until then. Send times come back on the
// agent's wall clock and are moved to the controller's timeline with the agent's clock offset as the controller
// estimated it when it stopped (clockBoundNs() is that estimate's bound; -1 when there was none, offset 0). The
// agent stops by itself after maxDurationMs, so a run that dies leaves nothing generating.
#pragma once

#include <functional>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/data/generator.h"
#include "common/proto/messages.h"
#include "controller/control/requests.h"

namespace xdc::data {

struct AgentGeneratorOptions {
	std::string host;                 // the agent that generates
	std::string runId;
	GeneratorOptions gen;             // seed, profile, keys, payload
	std::vector<proto::DataGenSource> sources;
	int64_t maxDurationMs = 3600000;
	control::Caller call;
};

class AgentGenerator final : public TupleGenerator {
public:
	explicit AgentGenerator(AgentGeneratorOptions o) : o_(std::move(o)) {}
	~AgentGenerator() override { stop(); }
	Result<void> start() override;
	void stop() override;
	GeneratorStats stats() const override;
	std::map<uint32_t, uint64_t> sentPerKey() const override;
	std::map<uint32_t, std::vector<int64_t>> sendTimes() const override;
	int64_t clockOffsetNs() const;
	int64_t clockBoundNs() const;
	bool timesOmitted() const;

private:
	AgentGeneratorOptions o_;
	mutable std::mutex m_;
	bool started_ = false, stopped_ = false, omitted_ = false;
	GeneratorStats stats_;
	std::map<uint32_t, uint64_t> sent_;
	std::map<uint32_t, std::vector<int64_t>> times_;
	int64_t offsetNs_ = 0, boundNs_ = -1;
};

} // namespace xdc::data
