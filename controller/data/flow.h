// SPDX-License-Identifier: Apache-2.0
// A run's sink reader: every DataSink polled on a schedule into one Validator, on its own thread (the generator
// is common/data/generator.h).
//
// Contracts:
//  - The reader timestamps each poll's lines with the controller's wall clock when they arrived.
//  - stop() joins; figures can be read while running (copies, under a lock).
#pragma once

#include <atomic>
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
#include "common/data/generator.h"
#include "controller/data/validator.h"

namespace xdc::data {

struct SinkArrivals {
	std::string sink;
	std::vector<std::pair<int64_t, uint64_t>> polls; // (arrival wall ns, lines) for polls that brought lines
	uint64_t lines = 0;
	std::string lastError;
	std::string how;       // DataSink::how()
	uint64_t restarts = 0; // DataSink::restarts() when last polled
	uint64_t missed = 0;   // DataSink::missed() when last polled
};

class SinkReader {
public:
	SinkReader(ValidatorOptions v, std::vector<std::unique_ptr<DataSink>> sinks, int64_t intervalNs);
	~SinkReader();
	// Skips what the sinks already hold, then polls every interval on its own thread.
	void start();
	void stop();
	// Polls until every sink brought nothing for `quietNs` or `maxNs` passed (after the generator stopped).
	void drain(int64_t quietNs, int64_t maxNs);
	ValidationReport finish(const std::map<uint32_t, uint64_t> &sent,
				const std::map<uint32_t, std::vector<int64_t>> *times) const;
	std::vector<SinkArrivals> arrivals() const;

private:
	void loop();
	uint64_t pollOnce(); // lines read this round
	std::vector<std::unique_ptr<DataSink>> sinks_;
	int64_t intervalNs_;
	mutable std::mutex m_;
	std::condition_variable cv_;
	bool stop_ = false;
	Validator validator_;
	std::vector<SinkArrivals> arrivals_;
	std::thread t_;
};

} // namespace xdc::data
