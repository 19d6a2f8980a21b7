// SPDX-License-Identifier: Apache-2.0
// The delay line's release schedule (agent/faults/delay_line.h): order kept, mean = delay, jitter bounds, netem-like
// correlation; its reorder draw (CorrelatedChance: share, independence, netem's correlation and its bias); and the
// names/queues a network.delay fault derives from its id.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "agent/faults/delay_line.h"
#include "agent/faults/network_delay.h"
#include "tests/unit/unit_util.h"

using xdc::test::kMs;
using namespace xdc::agent;

namespace {


struct Moments {
	double mean = 0, sd = 0, lag1 = 0;
};

Moments moments(const std::vector<int64_t> &v)
{
	Moments m;
	for (auto x : v)
		m.mean += static_cast<double>(x);
	m.mean /= static_cast<double>(v.size());
	double var = 0, cov = 0;
	for (size_t i = 0; i < v.size(); i++) {
		const double d = static_cast<double>(v[i]) - m.mean;
		var += d * d;
		if (i > 0)
			cov += d * (static_cast<double>(v[i - 1]) - m.mean);
	}
	m.sd = std::sqrt(var / static_cast<double>(v.size()));
	m.lag1 = var > 0 ? cov / var : 0;
	return m;
}

} // namespace

TEST_CASE("no jitter: every packet leaves exactly delay after it arrived")
{
	DelaySchedule s(100 * kMs, 0, 0, 1);
	for (int64_t t = 0; t < 1000 * kMs; t += 7 * kMs)
		CHECK(s.releaseAt(t) == t + 100 * kMs);
}

TEST_CASE("jitter: samples within delay +- jitter, mean = delay, uniform spread")
{
	DelaySchedule s(100 * kMs, 20 * kMs, 0, 42);
	std::vector<int64_t> v;
	for (int i = 0; i < 100000; i++)
		v.push_back(s.sampleNs());
	for (auto x : v) {
		REQUIRE(x >= 80 * kMs);
		REQUIRE(x <= 120 * kMs);
	}
	auto m = moments(v);
	CHECK(std::abs(m.mean - 100.0 * kMs) < 0.2 * kMs);
	// Uniform over 2 * jitter: sd = 2 * jitter / sqrt(12).
	CHECK(m.sd == doctest::Approx(40.0 * kMs / std::sqrt(12.0)).epsilon(0.03));
	CHECK(std::abs(m.lag1) < 0.02);
}

TEST_CASE("correlation: successive samples correlate by the given share, the mean stays")
{
	for (double c : {25.0, 75.0}) {
		DelaySchedule s(100 * kMs, 50 * kMs, c, 7);
		std::vector<int64_t> v;
		for (int i = 0; i < 100000; i++)
			v.push_back(s.sampleNs());
		auto m = moments(v);
		INFO("correlation " << c);
		CHECK(std::abs(m.mean - 100.0 * kMs) < 1.0 * kMs);
		CHECK(m.lag1 == doctest::Approx(c / 100.0).epsilon(0.05));
	}
	// 100 %: the first draw repeats for ever.
	DelaySchedule s(100 * kMs, 50 * kMs, 100, 9);
	const int64_t first = s.sampleNs();
	for (int i = 0; i < 100; i++)
		CHECK(s.sampleNs() == first);
}

TEST_CASE("order is kept: release times never decrease, never precede arrival + delay - jitter")
{
	DelaySchedule s(100 * kMs, 90 * kMs, 0, 3);
	int64_t last = INT64_MIN, t = 0;
	std::vector<int64_t> added;
	for (int i = 0; i < 20000; i++) {
		t += (i % 10) * 100000; // bursts and gaps
		const int64_t r = s.releaseAt(t);
		CHECK(r >= last);
		CHECK(r >= t + 10 * kMs);
		last = r;
		added.push_back(r - t);
	}
	// Raising a sample to the previous release only ever adds delay.
	CHECK(moments(added).mean >= 100.0 * kMs);
	// Sparse arrivals (gaps larger than 2 * jitter) are not held back: the mean stays at delay.
	DelaySchedule sparse(100 * kMs, 20 * kMs, 0, 5);
	std::vector<int64_t> d;
	for (int i = 0; i < 20000; i++) {
		const int64_t at = static_cast<int64_t>(i) * 50 * kMs;
		d.push_back(sparse.releaseAt(at) - at);
	}
	CHECK(std::abs(moments(d).mean - 100.0 * kMs) < 0.5 * kMs);
}

namespace {

struct Draws {
	double share = 0, lag1 = 0; // share of true draws (%), lag-1 autocorrelation of the 0/1 sequence
};

Draws draws(double percent, double correlation, uint64_t seed, int n = 200000)
{
	CorrelatedChance c(percent, correlation, seed);
	std::vector<int64_t> v;
	for (int i = 0; i < n; i++)
		v.push_back(c.draw() ? 1 : 0);
	auto m = moments(v);
	return {m.mean * 100.0, m.lag1};
}

} // namespace

TEST_CASE("reorder draw: 0 % never, 100 % always, the same seed the same sequence")
{
	CorrelatedChance never(0, 50, 1), always(100, 50, 1);
	for (int i = 0; i < 10000; i++) {
		REQUIRE(!never.draw());
		REQUIRE(always.draw());
	}
	CorrelatedChance a(30, 40, 99), b(30, 40, 99);
	for (int i = 0; i < 10000; i++)
		REQUIRE(a.draw() == b.draw());
}

TEST_CASE("reorder draw without correlation: the asked share, each draw independent")
{
	for (double p : {1.0, 10.0, 25.0, 50.0, 90.0}) {
		auto d = draws(p, 0, 11);
		INFO("percent " << p);
		// 200,000 Bernoulli draws: sd of the share is at most 0.11 %; 0.5 % is > 4 sd.
		CHECK(std::abs(d.share - p) < 0.5);
		CHECK(std::abs(d.lag1) < 0.01);
	}
}

TEST_CASE("reorder draw with correlation: draws cluster; like netem the share drifts towards 50 %")
{
	// p = 50 is symmetric: the share stays, the clustering grows with the correlation.
	auto low = draws(50, 25, 21), high = draws(50, 75, 21);
	CHECK(std::abs(low.share - 50) < 1.0);
	CHECK(std::abs(high.share - 50) < 1.0);
	CHECK(low.lag1 > 0.1);
	CHECK(high.lag1 > low.lag1 + 0.1);
	// p = 25: netem's mixed draw gathers around 0.5 (variance (1 - c) / (1 + c) / 12), so fewer draws fall below
	// 0.25 than asked. c = 50 %: u has sd 1/6, P(u < 0.25) = about 7 %; measured here so the docs can say so.
	auto d = draws(25, 50, 23);
	MESSAGE("percent 25, correlation 50: share " << d.share << " %, lag-1 " << d.lag1);
	CHECK(d.share > 3.0);
	CHECK(d.share < 15.0);
	CHECK(d.lag1 > 0.1);
	// A small correlation changes the share only a little.
	auto slight = draws(25, 5, 25);
	CHECK(std::abs(slight.share - 25) < 2.0);
}

TEST_CASE("chain names fit iptables and queue numbers stay in range")
{
	CHECK(faultChain("f1") == "XDC_f1");
	CHECK(faultChain("my.fault-1") == "XDC_my_fault-1");
	const std::string longId(64, 'a');
	const std::string c = faultChain(longId);
	CHECK(c.size() + 2 <= 28);
	CHECK(c != faultChain(longId.substr(0, 63) + "b"));
	for (const auto &id : std::vector<std::string>{"f1", "f2", longId, "x"}) {
		CHECK(faultQueue(id) >= 1000);
		CHECK(faultQueue(id) <= 64999);
	}
	CHECK(faultQueue("f1") == faultQueue("f1"));
}

TEST_CASE("duplicate draw: the chains let the line's marked copies pass first; delay 0 only when duplicating")
{
	DelayParams p;
	p.peers = {"10.0.2.0/24"};
	p.direction = "out";
	p.ttlMs = 1000;
	p.delayNs = 0;
	CHECK(!NetworkDelay::validate(p));
	p.duplicatePercent = 10;
	CHECK(NetworkDelay::validate(p));
	const std::string withDup = NetworkDelay("d1", p).restoreInput(false, 1234);
	const auto mark = withDup.find(fmt::format("-A XDC_d1_O -m mark --mark {:#x} -j RETURN", kInjectMark));
	const auto queue = withDup.find("-j NFQUEUE --queue-num 1234");
	REQUIRE(mark != std::string::npos);
	REQUIRE(queue != std::string::npos);
	CHECK(mark < queue);
	p.duplicatePercent = 0;
	p.delayNs = 10 * kMs;
	CHECK(NetworkDelay("d1", p).restoreInput(false, 1234).find("--mark") == std::string::npos);
	p.duplicatePercent = 101;
	CHECK(!NetworkDelay::validate(p));
}
