// SPDX-License-Identifier: Apache-2.0
// The test data xdc injects into a Streams application and checks on the way out: keyed, sequence-numbered tuples
// whose payload is a pure function of (seed, key, seq), so the validator can check every tuple's content from the
// run's seed alone, without a copy of what was sent.
//
// Wire form (one JSON object per tuple, what the HTTP source posts and the sink returns):
//   {"key":"k3","seq":17,"ts":1795815098410467600,"payload":"q0x..."}
// key: "k" + the key index; seq: 1, 2, 3, ... per key; ts: event time, ns since the epoch on the generator's clock;
// payload: `size` characters of [0-9a-z].
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace xdc::data {

struct Tuple {
	uint32_t key = 0;
	uint64_t seq = 0;
	int64_t eventNs = 0;
	std::string payload;
};

// The payload of (seed, key, seq): `size` characters of [0-9a-z], appended to out.
void appendPayload(uint64_t seed, uint32_t key, uint64_t seq, size_t size, std::string &out);
// True when `p` is exactly the payload of (seed, key, seq) (no allocation).
bool payloadMatches(uint64_t seed, uint32_t key, uint64_t seq, std::string_view p);

// Appends the tuple's JSON line (with a trailing newline) to out.
void appendJsonLine(const Tuple &t, std::string &out);

// A tuple line read back. Views point into the line.
struct ParsedTuple {
	uint32_t key = 0;
	uint64_t seq = 0;
	int64_t eventNs = 0;
	std::string_view payload;
	bool hasPayload = false;
};

// Reads one line of the wire form. Fields in any order, unknown fields skipped, whitespace allowed; a string with
// escapes or a key not of the form "k<N>" is refused (the generator never makes one). Fast: no allocation.
bool parseTupleLine(std::string_view line, ParsedTuple &out);

} // namespace xdc::data
