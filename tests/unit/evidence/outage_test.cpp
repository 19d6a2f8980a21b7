// SPDX-License-Identifier: Apache-2.0
// findOutages over synthetic probe points: runs, open ends, the minFailed filter, unsorted input and the bounds.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>

#include "common/evidence/outage.h"

#include "tests/unit/unit_util.h"

using namespace xdc::test;
using namespace xdc::evidence;

namespace {


// One point every 10 ms from kT0; pattern '.' = ok, 'x' = failed (error "refused"), 'r' = failed (error "reset").
std::vector<ProbePoint> pattern(const std::string &p, int64_t boundNs = 0)
{
	std::vector<ProbePoint> v;
	for (size_t i = 0; i < p.size(); i++) {
		ProbePoint pt;
		pt.tNs = kT0 + static_cast<int64_t>(i) * 10 * kMs;
		pt.boundNs = boundNs;
		pt.ok = p[i] == '.';
		pt.error = p[i] == 'x' ? "refused" : p[i] == 'r' ? "reset" : "";
		v.push_back(pt);
	}
	return v;
}

int64_t at(int i) { return kT0 + i * 10 * kMs; }

OutageOptions opts(size_t minFailed = 1) { return OutageOptions{10 * kMs, minFailed}; }

} // namespace

TEST_CASE("outage: no points and no failures give no outages")
{
	CHECK(findOutages({}, opts()).empty());
	CHECK(findOutages(pattern("..........."), opts()).empty());
}

TEST_CASE("outage: one closed outage starts at the first failure and ends at the first success after it")
{
	const auto o = findOutages(pattern("...xxxx.."), opts());
	REQUIRE(o.size() == 1);
	CHECK(o[0].startNs == at(3));
	CHECK(o[0].endNs == at(7));
	CHECK_FALSE(o[0].open);
	CHECK(o[0].failed == 4);
	CHECK(o[0].firstError == "refused");
	CHECK(o[0].durationNs() == 40 * kMs);
}

TEST_CASE("outage: two outages, each with its own first error and count")
{
	const auto o = findOutages(pattern(".xx...rxr.."), opts());
	REQUIRE(o.size() == 2);
	CHECK(o[0].startNs == at(1));
	CHECK(o[0].endNs == at(3));
	CHECK(o[0].failed == 2);
	CHECK(o[0].firstError == "refused");
	CHECK(o[1].startNs == at(6));
	CHECK(o[1].endNs == at(9));
	CHECK(o[1].failed == 3);
	CHECK(o[1].firstError == "reset");
}

TEST_CASE("outage: probes that end failing give an open outage without an end")
{
	const auto o = findOutages(pattern("..xx...xxx"), opts());
	REQUIRE(o.size() == 2);
	CHECK_FALSE(o[0].open);
	CHECK(o[1].open);
	CHECK(o[1].startNs == at(7));
	CHECK(o[1].endNs == 0);
	CHECK(o[1].failed == 3);
	CHECK(o[1].durationNs() == 0);

	// All failed from the start: one open outage from the first point.
	const auto all = findOutages(pattern("xxx"), opts());
	REQUIRE(all.size() == 1);
	CHECK(all[0].open);
	CHECK(all[0].startNs == at(0));
	CHECK(all[0].failed == 3);
}

TEST_CASE("outage: runs shorter than minFailed are not outages")
{
	const auto pts = pattern(".x..xx..xxx..x");
	CHECK(findOutages(pts, opts(1)).size() == 4);
	const auto two = findOutages(pts, opts(2));
	REQUIRE(two.size() == 2);
	CHECK(two[0].startNs == at(4));
	CHECK(two[1].startNs == at(8));
	const auto three = findOutages(pts, opts(3));
	REQUIRE(three.size() == 1);
	CHECK(three[0].failed == 3);
	CHECK(findOutages(pts, opts(4)).empty());
	// minFailed 0 behaves as 1: an empty run is never an outage.
	CHECK(findOutages(pts, opts(0)).size() == 4);
}

TEST_CASE("outage: unsorted input gives the same result as sorted input")
{
	const auto sorted = pattern("..xxx...x..xx.");
	auto shuffled = sorted;
	std::mt19937 rng(42);
	std::shuffle(shuffled.begin(), shuffled.end(), rng);
	REQUIRE_FALSE(std::is_sorted(shuffled.begin(), shuffled.end(),
				     [](const ProbePoint &x, const ProbePoint &y) { return x.tNs < y.tNs; }));
	const auto a = findOutages(sorted, opts());
	const auto b = findOutages(shuffled, opts());
	REQUIRE(a.size() == 3);
	REQUIRE(b.size() == a.size());
	for (size_t i = 0; i < a.size(); i++) {
		CHECK(b[i].startNs == a[i].startNs);
		CHECK(b[i].endNs == a[i].endNs);
		CHECK(b[i].failed == a[i].failed);
		CHECK(b[i].firstError == a[i].firstError);
	}
	CHECK(a[0].startNs == at(2));
	CHECK(a[0].endNs == at(5));
}

TEST_CASE("outage: bounds are the interval plus the clock bound of the point that marks each end")
{
	auto pts = pattern("..xxx..", 2 * kMs);
	// A different clock bound on the first failed and the first ok point after the run (the agent's offset bound
	// changes over a recording): each end takes its own point's bound.
	pts[2].boundNs = 3 * kMs;
	pts[5].boundNs = 5 * kMs;
	const auto o = findOutages(pts, opts());
	REQUIRE(o.size() == 1);
	CHECK(o[0].startBoundNs == 10 * kMs + 3 * kMs);
	CHECK(o[0].endBoundNs == 10 * kMs + 5 * kMs);

	// Without a clock bound the uncertainty is the interval alone.
	const auto z = findOutages(pattern(".x."), opts());
	REQUIRE(z.size() == 1);
	CHECK(z[0].startBoundNs == 10 * kMs);
	CHECK(z[0].endBoundNs == 10 * kMs);
}
