// SPDX-License-Identifier: Apache-2.0
// The tuple generator: keyed, sequence-numbered tuples at a set rate, deterministic from the seed, into the first
// DataSource that accepts them, on its own thread. Used by the controller (client side) and by an agent
// (data.generate.start on a chosen lab host).
//
// Contracts:
//  - The generator sends every tuple in order, per key seq 1, 2, 3, ...; a batch a source refuses is offered to the
//    next source, and kept (never dropped) until one accepts it, so `sent` is exactly what some DC accepted. A batch
//    whose outcome is unknown (a timeout) is sent again and counted in `uncertain` (it may be delivered twice by the
//    producer, not the application): a trustworthy run has uncertain == 0.
//  - stop() joins; figures can be read while running (copies, under a lock).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/data/endpoints.h"

namespace xdc::data {

// The rate over time: steady `rate`; or a ramp from `rampFrom` to `rate` over `rampNs` (then steady); plus bursts:
// every `burstEveryNs`, for `burstForNs`, the rate times `burstFactor`.
struct RateProfile {
	double rate = 200;
	double rampFrom = -1; // < 0: no ramp
	int64_t rampNs = 0;
	int64_t burstEveryNs = 0, burstForNs = 0;
	double burstFactor = 1;
	// Tuples due from the start to `t` ns (the integral of the rate), exact for each shape.
	double due(int64_t t) const;
};

struct GeneratorOptions {
	uint64_t seed = 0;
	RateProfile profile;
	double rate = 200;       // tuples per second (used when profile.rate is left at its default)
	uint32_t keys = 16;
	size_t payload = 16;
	int64_t tickNs = 10000000; // a batch every 10 ms
	size_t maxBacklog = 2000000; // tuples made but not accepted yet; beyond it the generator pauses (reported)
};

struct GeneratorStats {
	uint64_t generated = 0, accepted = 0, refusedBatches = 0, failedBatches = 0, uncertain = 0, backlog = 0;
	uint64_t switches = 0;           // times it moved to another source
	bool fellBehind = false;         // the backlog hit maxBacklog
	std::map<std::string, uint64_t> perSource; // accepted tuples per source
	std::vector<std::pair<int64_t, std::string>> sourceChanges; // (wall ns, source) whenever the accepting source changed
	std::string lastError;
};
nlohmann::json toJson(const GeneratorStats &s);

// What a run needs of a generator, wherever it runs: this process's Generator or one on an agent.
class TupleGenerator {
public:
	virtual ~TupleGenerator() = default;
	// Starts making tuples (on this host or on the agent it runs on); an error means nothing runs.
	[[nodiscard]] virtual Result<void> start() = 0;
	virtual void stop() = 0; // stops making tuples; what is in the backlog is not sent
	virtual GeneratorStats stats() const = 0;
	// Per key, the highest seq accepted (1..n were accepted), and each accepted seq's event time (the run's clock).
	virtual std::map<uint32_t, uint64_t> sentPerKey() const = 0;
	virtual std::map<uint32_t, std::vector<int64_t>> sendTimes() const = 0;
};

class Generator final : public TupleGenerator {
public:
	Generator(GeneratorOptions o, std::vector<std::unique_ptr<DataSource>> sources);
	~Generator() override;
	Result<void> start() override;
	void stop() override;
	GeneratorStats stats() const override;
	std::map<uint32_t, uint64_t> sentPerKey() const override;
	std::map<uint32_t, std::vector<int64_t>> sendTimes() const override;

private:
	void loop();
	GeneratorOptions o_;
	std::vector<std::unique_ptr<DataSource>> sources_;
	mutable std::mutex m_;
	std::condition_variable cv_;
	bool stop_ = false;
	GeneratorStats stats_;
	std::vector<uint64_t> accepted_;            // per key
	std::vector<std::vector<int64_t>> times_;    // per key, per accepted seq
	std::thread t_;
};

} // namespace xdc::data
