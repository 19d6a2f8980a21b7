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

TEST_CASE("an exchange on the heartbeats: a hold of a second and drifting clocks stay inside the bound")
{
	// t1: the controller sends a HeartbeatAck; t2: it arrives; the agent holds it until its next heartbeat (t3,
	// one interval later on its own clock, which runs fast or slow by up to 50 ppm); t4: the controller receives.
	std::mt19937_64 rng(11);
	for (int trial = 0; trial < 200; trial++) {
		const int64_t truth = static_cast<int64_t>(rng() % (200 * kMs)) - 100 * kMs;
		const double drift = (static_cast<double>(rng() % 1001) - 500.0) * 1e-7; // -50..+50 ppm
		ClockEstimator est;
		int64_t mono = 0;
		for (int i = 0; i < 30; i++) {
			const int64_t out = 30000 + static_cast<int64_t>(rng() % 400000);
			const int64_t back = 30000 + static_cast<int64_t>(rng() % 400000);
			const int64_t hold = 1000 * kMs + static_cast<int64_t>(rng() % (50 * kMs)); // true seconds
			ClockExchange e;
			e.t1 = mono + 5000 * kMs;
			e.t2 = e.t1 + out + truth;
			e.t3 = e.t2 + static_cast<int64_t>(static_cast<double>(hold) * (1.0 + drift));
			e.t4 = e.t1 + out + hold + back;
			mono += out + hold + back;
			// The truth at t4: the agent clock has moved by drift x hold against the controller's since t2.
			const int64_t truthAtEnd = truth + static_cast<int64_t>(static_cast<double>(hold) * drift);
			REQUIRE(est.add(e, mono));
			auto got = est.estimate(mono);
			REQUIRE(got.valid);
			CHECK(std::llabs(got.offsetNs - truth) <= got.boundNs + std::llabs(truthAtEnd - truth));
			CHECK(got.boundNs < 500000); // a heartbeat exchange keeps the bound well under a millisecond here
		}
	}
}

TEST_CASE("without the hold in the bound, a drifting heartbeat exchange would escape it")
{
	// The mutation check of the case above: a 1 s hold at +50 ppm with a 60 us round trip puts the offset 25 us
	// off, beyond half the delay (30 us) plus the resolution; the hold's allowance (50 us) covers it.
	ClockExchange e;
	e.t1 = 0;
	e.t2 = 30000;                       // truth 0, 30 us out
	e.t3 = e.t2 + 1000 * kMs + 50000;   // the agent's clock counts 1 s + 50 us for 1 s
	e.t4 = 30000 + 1000 * kMs + 30000;  // 30 us back
	CHECK(std::llabs(e.offset()) > e.delay() / 2 + 1000);
	ClockEstimator est;
	REQUIRE(est.add(e, 0));
	CHECK(std::llabs(est.estimate(0).offsetNs) <= est.estimate(0).boundNs);
}
