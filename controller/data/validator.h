// SPDX-License-Identifier: Apache-2.0
// The validator: reads the tuples that came out of the application's sink and finds, per key, what was lost,
// delivered twice, delivered out of order or corrupted, the end-to-end latency and the gaps in the output.
//
// It sees only the sink's stream, the run's seed (payloads are a function of it: data/tuple.h) and what the
// generator says it sent (per key, seqs 1..n); never the application's or the emulator's own counts.
//
// Contract: add()/addLines() in arrival order from one thread; finish() any time after (it does not change the
// state, so it can be called for interim figures). Memory: one bit per sent sequence number per key, plus a fixed
// latency histogram and the gap list.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace xdc::data {

struct ValidatorOptions {
	uint64_t seed = 0;
	bool checkPayload = true;
	int64_t gapNs = 1000000000; // an output gap: no tuple arrived for at least this long
	uint32_t maxKeys = 1u << 20;  // keys beyond this are refused as malformed (memory bound)
	uint64_t maxSeq = 1ull << 28; // likewise for sequence numbers (a key's bitmap is at most 32 MiB)
};

struct KeyFigures {
	uint64_t sent = 0;       // what the generator reports for the key (seqs 1..sent)
	uint64_t delivered = 0;  // tuples of the key seen (duplicates counted)
	uint64_t distinct = 0;   // distinct seqs seen
	uint64_t lost = 0;       // sent, never seen
	uint64_t duplicated = 0; // delivered - distinct
	uint64_t outOfOrder = 0; // seen after a higher seq of the same key (first sight only)
	uint64_t unexpected = 0; // seqs above `sent` (the generator never sent them)
	uint64_t firstLost = 0;  // the lowest lost seq (0 = none)
	uint64_t lastLost = 0;
};

struct Gap {
	int64_t startNs = 0; // the last arrival before the gap
	int64_t endNs = 0;   // the first arrival after it
};

struct ValidationReport {
	uint64_t lines = 0, malformed = 0, corrupt = 0;
	KeyFigures total;
	std::map<uint32_t, KeyFigures> perKey; // keys with anything to report (sent or seen)
	// End-to-end latency (arrival - event time), ns; valid when latencySamples > 0.
	uint64_t latencySamples = 0;
	int64_t latencyP50 = 0, latencyP90 = 0, latencyP99 = 0, latencyMax = 0, latencyMin = 0;
	std::vector<Gap> gaps;
	int64_t firstArrivalNs = 0, lastArrivalNs = 0;
	// Data loss in time: the span of event times of the lost tuples (RPO in seconds), when the generator's send
	// times are known (lostEventSpanNs = 0 otherwise).
	int64_t lostEventSpanNs = 0;
};
nlohmann::json toJson(const ValidationReport &r);

class Validator {
public:
	explicit Validator(ValidatorOptions opts);

	// One tuple line (without its newline) that arrived at arrivalNs (the reader's clock).
	void add(std::string_view line, int64_t arrivalNs);
	// A buffer of newline-separated lines that arrived together; a last line without a newline counts too.
	void addLines(std::string_view buffer, int64_t arrivalNs);

	// The figures, given what the generator sent: per key, the highest seq (1..n were sent). With sendNs (optional,
	// per key the event time of each seq, index seq-1) the lost tuples' event-time span is computed too.
	ValidationReport finish(const std::map<uint32_t, uint64_t> &sentPerKey,
				const std::map<uint32_t, std::vector<int64_t>> *sendNs = nullptr) const;

private:
	struct KeyState {
		std::vector<uint64_t> seen; // bit per seq (seq 1 = bit 0)
		uint64_t delivered = 0, distinct = 0, outOfOrder = 0, maxSeq = 0;
	};
	void record(int64_t latencyNs);

	ValidatorOptions opts_;
	std::vector<KeyState> keys_;
	uint64_t lines_ = 0, malformed_ = 0, corrupt_ = 0;
	// Latency histogram: log-linear buckets (64 per power of two), exact to ~1.6 %.
	std::vector<uint64_t> hist_;
	uint64_t latencyN_ = 0;
	int64_t latencyMax_ = INT64_MIN, latencyMin_ = INT64_MAX;
	uint64_t negativeLatency_ = 0;
	std::vector<Gap> gaps_;
	int64_t firstArrival_ = 0, lastArrival_ = 0;
};

} // namespace xdc::data
