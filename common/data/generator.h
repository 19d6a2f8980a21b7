// SPDX-License-Identifier: Apache-2.0
// The tuple generator: keyed, sequence-numbered tuples at a set rate, deterministic from the seed, written to the
// DataSources the route names (one DC, or every DC), on its own thread. Used by the controller (client side) and by
// an agent (data.generate.start on a chosen lab host).
//
// Contracts:
//  - The generator writes every tuple in order, per key seq 1, 2, 3, ..., to each source of the current route. A
//    tuple is sent once some source of the route wrote it; one that no source could write is kept (never dropped)
//    and written when one can (the route may change meanwhile), so `accepted` is exactly what was written to some
//    DC. A source that could not write a tuple while routed to counts it in its `unwritten`; a tuple whose outcome is
//    unknown (a timeout after writing) is counted in `uncertain` and not written again: a run whose figures can be
//    settled exactly has uncertain == 0.
//  - stop() joins; figures can be read while running (copies, under a lock); setRoute() may be called any time.
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
	uint64_t switches = 0;           // times the route changed
	bool fellBehind = false;         // the backlog hit maxBacklog
	std::map<std::string, uint64_t> perSource; // tuples written, per source
	std::map<std::string, uint64_t> unwritten; // tuples a routed source could not write, per source
	std::vector<std::pair<int64_t, std::string>> sourceChanges; // (wall ns, route "dc1" / "dc1,dc2") at each change
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
	// The route starts as every source.
	Generator(GeneratorOptions o, std::vector<std::unique_ptr<DataSource>> sources);
	~Generator() override;
	Result<void> start() override;
	void stop() override;
	GeneratorStats stats() const override;
	std::map<uint32_t, uint64_t> sentPerKey() const override;
	std::map<uint32_t, std::vector<int64_t>> sendTimes() const override;
	// The sources (by name) tuples are written to from now on; an unknown name is ignored; empty = nowhere (tuples
	// wait).
	void setRoute(const std::vector<std::string> &names);

private:
	void loop();
	GeneratorOptions o_;
	std::vector<std::unique_ptr<DataSource>> sources_;
	std::vector<size_t> route_;                  // indexes into sources_
	mutable std::mutex m_;
	std::condition_variable cv_;
	bool stop_ = false;
	GeneratorStats stats_;
	std::vector<uint64_t> accepted_;            // per key
	std::vector<std::vector<int64_t>> times_;    // per key, per accepted seq
	std::thread t_;
};

} // namespace xdc::data
