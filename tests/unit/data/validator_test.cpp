// SPDX-License-Identifier: Apache-2.0
// Test tuples and the validator: payloads from the seed, the wire form, and exact loss / duplicate / order /
// corruption counts, latency percentiles and output gaps on streams with known damage.
#include <doctest/doctest.h>

#include <random>

#include "controller/data/flow.h"
#include "common/data/tuple.h"
#include "controller/data/validator.h"

using namespace xdc::data;

namespace {

std::string line(uint64_t seed, uint32_t key, uint64_t seq, int64_t ts, size_t size = 16)
{
	Tuple t{key, seq, ts, {}};
	appendPayload(seed, key, seq, size, t.payload);
	std::string out;
	appendJsonLine(t, out);
	out.pop_back(); // the newline
	return out;
}

} // namespace

TEST_CASE("payloads are a function of (seed, key, seq) and the wire form reads back in any field order")
{
	std::string a, b, c;
	appendPayload(7, 3, 11, 40, a);
	appendPayload(7, 3, 11, 40, b);
	appendPayload(8, 3, 11, 40, c);
	CHECK(a == b);
	CHECK(a != c);
	CHECK(a.size() == 40);
	CHECK(a.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyz") == std::string::npos);
	CHECK(payloadMatches(7, 3, 11, a));
	CHECK_FALSE(payloadMatches(7, 3, 12, a));
	CHECK_FALSE(payloadMatches(7, 4, 11, a));

	const std::string l = line(7, 3, 11, 1795815098410467600);
	CHECK(l == "{\"key\":\"k3\",\"seq\":11,\"ts\":1795815098410467600,\"payload\":\"" + a.substr(0, 16) + "\"}");
	ParsedTuple t;
	REQUIRE(parseTupleLine(l, t));
	CHECK(t.key == 3);
	CHECK(t.seq == 11);
	CHECK(t.eventNs == 1795815098410467600);
	CHECK(t.payload == a.substr(0, 16));
	// A sink may reorder fields, add its own and space them out.
	REQUIRE(parseTupleLine(R"( { "sinkTime": 12.5, "payload" : "ab", "ts":5, "dc":"dc2", "seq": 9 , "key":"k0", "ok":true } )", t));
	CHECK(t.key == 0);
	CHECK(t.seq == 9);
	CHECK(t.eventNs == 5);
	CHECK(t.payload == "ab");
	for (const char *bad : {"", "{}", "not json", R"({"key":"k1","seq":1})", R"({"key":"x1","seq":1,"ts":1})",
				R"({"key":"k1","seq":-1,"ts":1})", R"({"key":"k1","seq":1,"ts":1,"payload":"a\"b"})",
				R"({"key":"k1","seq":1,"ts":1,"x":{"y":1}})", R"({"key":"k1","seq":1,"ts":1)",
				R"({"key":"k1x","seq":1,"ts":1})"})
		CHECK_MESSAGE(!parseTupleLine(bad, t), bad);
}

TEST_CASE("the validator counts exactly what a damaged stream lost, duplicated, reordered and corrupted")
{
	const uint64_t seed = 42;
	ValidatorOptions o;
	o.seed = seed;
	o.gapNs = 1000000000;
	Validator v(o);
	const int64_t t0 = 1795815000000000000;
	std::map<uint32_t, uint64_t> sent = {{0, 1000}, {1, 1000}, {2, 1000}, {3, 5}};
	// Key 0: intact. Key 1: seqs 101..150 lost, 200..209 delivered twice. Key 2: 500 and 501 swapped, seq 900
	// corrupted (so also lost). Key 3: never delivered. Key 4: delivered but never sent.
	std::string buf;
	int64_t arrival = t0;
	uint64_t n = 0;
	for (uint64_t s = 1; s <= 1000; s++)
		for (uint32_t k = 0; k < 3; k++) {
			uint64_t seq = s;
			if (k == 1 && s > 100 && s <= 150)
				continue;
			if (k == 2 && s == 500)
				seq = 501;
			else if (k == 2 && s == 501)
				seq = 500;
			std::string l = line(seed, k, seq, t0 + static_cast<int64_t>(n) * 1000000);
			if (k == 2 && seq == 900)
				l[l.size() - 3] = l[l.size() - 3] == 'a' ? 'b' : 'a';
			arrival = t0 + static_cast<int64_t>(n) * 1000000 + 5000000; // 5 ms latency
			v.add(l, arrival);
			if (k == 1 && s >= 200 && s < 210)
				v.add(l, arrival);
			n++;
		}
	// A 3 s silence, then key 4 (unexpected), malformed lines, and a batch through addLines.
	arrival += 3000000000;
	v.add(line(seed, 4, 1, arrival - 1000000), arrival);
	v.add("garbage", arrival);
	v.addLines("\n" + line(seed, 0, 1000, arrival) + "\n{\"key\":\"k0\"}\n", arrival + 1);

	const ValidationReport r = v.finish(sent);
	CHECK(r.malformed == 2);
	CHECK(r.corrupt == 1);
	CHECK(r.perKey.at(0).lost == 0);
	CHECK(r.perKey.at(0).duplicated == 1); // the addLines copy of seq 1000
	CHECK(r.perKey.at(1).lost == 50);
	CHECK(r.perKey.at(1).firstLost == 101);
	CHECK(r.perKey.at(1).lastLost == 150);
	CHECK(r.perKey.at(1).duplicated == 10);
	CHECK(r.perKey.at(2).outOfOrder == 1);
	CHECK(r.perKey.at(2).lost == 1);
	CHECK(r.perKey.at(2).firstLost == 900);
	CHECK(r.perKey.at(3).lost == 5);
	CHECK(r.perKey.at(3).delivered == 0);
	CHECK(r.perKey.at(4).unexpected == 1);
	CHECK(r.perKey.at(4).sent == 0);
	CHECK(r.total.sent == 3005);
	CHECK(r.total.lost == 56);
	CHECK(r.total.duplicated == 11);
	CHECK(r.total.distinct == 3000 - 50 - 1 + 1);
	REQUIRE(r.gaps.size() == 1);
	CHECK(r.gaps[0].endNs - r.gaps[0].startNs == 3000000000);
	// Every latency but key 4's (1 ms) and the last batch's (0 / 1 ns) is 5 ms; the histogram reports an upper edge
	// within 1.6 %.
	CHECK(r.latencyP50 >= 5000000);
	CHECK(r.latencyP50 <= 5080000);
	CHECK(r.latencyP99 <= 5080000);
	CHECK(r.latencyMax == 5000000);
	CHECK(r.latencyMin <= 1);

	// With the send times, the lost tuples' event-time span (RPO in time): key 1's seqs 101..150 and key 2's 900,
	// 1 ms apart per seq per key in this stream's clock.
	std::map<uint32_t, std::vector<int64_t>> times;
	for (uint32_t k = 0; k < 4; k++)
		for (uint64_t s = 1; s <= sent[k]; s++)
			times[k].push_back(static_cast<int64_t>(s) * 1000000);
	const ValidationReport rt = v.finish(sent, &times);
	CHECK(rt.lostEventSpanNs == (900 - 1) * 1000000);
}

TEST_CASE("the validator refuses absurd keys and sequence numbers instead of allocating for them")
{
	ValidatorOptions o;
	o.checkPayload = false;
	Validator v(o);
	v.add(R"({"key":"k99999999","seq":1,"ts":0})", 1);
	v.add(R"({"key":"k1","seq":99999999999,"ts":0})", 1);
	v.add(R"({"key":"k1","seq":0,"ts":0})", 1);
	const auto r = v.finish({});
	CHECK(r.malformed == 3);
	CHECK(r.perKey.empty());
}

TEST_CASE("rate profiles: steady, ramp and bursts integrate exactly")
{
	RateProfile steady;
	steady.rate = 200;
	CHECK(steady.due(0) == 0);
	CHECK(steady.due(1500000000) == doctest::Approx(300));
	RateProfile ramp;
	ramp.rate = 300;
	ramp.rampFrom = 100;
	ramp.rampNs = 2000000000;
	// From 100/s to 300/s over 2 s: 400 tuples in the ramp, then 300/s.
	CHECK(ramp.due(1000000000) == doctest::Approx(100 + 50));
	CHECK(ramp.due(2000000000) == doctest::Approx(400));
	CHECK(ramp.due(3000000000) == doctest::Approx(700));
	RateProfile bursts;
	bursts.rate = 100;
	bursts.burstEveryNs = 1000000000;
	bursts.burstForNs = 200000000;
	bursts.burstFactor = 5;
	// Each second: 0.2 s at 500/s and 0.8 s at 100/s = 180 tuples.
	CHECK(bursts.due(1000000000) == doctest::Approx(180));
	CHECK(bursts.due(100000000) == doctest::Approx(50));
	CHECK(bursts.due(2500000000) == doctest::Approx(2 * 180 + 100 + 0.3 * 100));
}
