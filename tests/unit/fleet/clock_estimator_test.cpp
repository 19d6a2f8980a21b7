// SPDX-License-Identifier: Apache-2.0
// Clock estimator against synthetic exchanges: asymmetric delays, jitter, a step; the bound must hold the truth.
#include <doctest/doctest.h>

#include <cstdlib>
#include <random>

#include "controller/fleet/clock_estimator.h"
#include "tests/unit/unit_util.h"

using xdc::test::kMs;
using namespace xdc::fleet;

namespace {

// An exchange with true offset `offset` (agent - controller), one-way delays out/back, agent processing proc.
ClockExchange make(int64_t t1, int64_t offset, int64_t out, int64_t back, int64_t proc = 20000)
{
	ClockExchange e;
	e.t1 = t1;
	e.t2 = t1 + out + offset;
	e.t3 = e.t2 + proc;
	e.t4 = t1 + out + proc + back;
	return e;
}
} // namespace

TEST_CASE("symmetric exchange recovers the offset exactly")
{
	ClockEstimator est;
	REQUIRE(est.add(make(1000 * kMs, 250 * kMs, 100000, 100000), 0));
	auto e = est.estimate(0);
	REQUIRE(e.valid);
	CHECK(e.offsetNs == 250 * kMs);
	CHECK(e.rttNs == 200000);
}

TEST_CASE("the bound always contains the truth under asymmetry and jitter")
{
	std::mt19937_64 rng(7);
	for (int trial = 0; trial < 200; trial++) {
		const int64_t truth = static_cast<int64_t>(rng() % (2000 * kMs)) - 1000 * kMs;
		ClockEstimator est;
		int64_t mono = 0;
		for (int i = 0; i < 50; i++) {
			const int64_t out = 20000 + static_cast<int64_t>(rng() % 3000000);
			const int64_t back = 20000 + static_cast<int64_t>(rng() % 300000);
			mono += 100 * kMs;
			est.add(make(mono, truth, out, back), mono);
			auto e = est.estimate(mono);
			REQUIRE(e.valid);
			CHECK(std::llabs(e.offsetNs - truth) <= e.boundNs);
		}
	}
}

TEST_CASE("the min-RTT exchange wins")
{
	ClockEstimator est;
	est.add(make(0, 0, 5 * kMs, 100000), 0);      // asymmetric, slow: offset off by ~2.45 ms
	est.add(make(kMs, 0, 50000, 50000), 1);       // fast and symmetric
	est.add(make(2 * kMs, 0, 100000, 4 * kMs), 2);
	auto e = est.estimate(2);
	CHECK(std::llabs(e.offsetNs) < 1000);
	CHECK(e.rttNs == 100000);
}

TEST_CASE("a step in the agent's clock is followed at once")
{
	ClockEstimator est;
	int64_t mono = 0;
	for (int i = 0; i < 10; i++) {
		mono += kMs;
		est.add(make(mono, 0, 50000, 50000), mono);
	}
	// The agent's clock jumps by +500 ms; exchanges now are slower than the old best.
	mono += kMs;
	est.add(make(mono, 500 * kMs, 400000, 400000), mono);
	auto e = est.estimate(mono);
	CHECK(std::llabs(e.offsetNs - 500 * kMs) <= e.boundNs);
}

TEST_CASE("impossible exchanges are ignored, and the bound grows with age")
{
	ClockEstimator est;
	ClockExchange bad{100, 50, 60, 90}; // negative delay
	CHECK_FALSE(est.add(bad, 0));
	CHECK_FALSE(est.estimate(0).valid);
	est.add(make(0, 0, 50000, 50000), 0);
	auto fresh = est.estimate(0);
	auto old = est.estimate(10'000 * kMs); // 10 s later
	CHECK(old.boundNs > fresh.boundNs);
}
