// SPDX-License-Identifier: Apache-2.0
// network.reorder on the agent (agent/faults/network_reorder.h): the registry builds it without sch_netem, the spec's
// percent and correlation become the delay line's reorder draw, its checks, and what plan and mechanism say.
#include <doctest/doctest.h>

#include "agent/faults/fault.h"
#include "agent/faults/network_reorder.h"
#include "common/fault/spec.h"
#include "tests/unit/unit_util.h"

using namespace xdc;
using namespace xdc::agent;

namespace {

FaultRequest reorderRequest(const std::string &spec)
{
	auto s = fault::parseSpecText(spec, "<test>");
	REQUIRE_MESSAGE(s, s.error().message);
	FaultRequest r;
	r.id = "r1";
	r.spec = *s;
	r.peers = {"10.0.2.0/24", "fd00:2::/64"};
	r.ttlMs = 10000;
	return r;
}

} // namespace

TEST_CASE("network.reorder: built without sch_netem; percent and correlation drive the reorder draw")
{
	FaultEnv env;
	env.haveNetem = false;
	auto req = reorderRequest("{kind: network.reorder, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, "
				  "percent: 25, correlation: 40, delay: 20ms, jitter: 5ms, direction: out}");
	auto f = makeFault(req, env);
	REQUIRE_MESSAGE(f, f.error().message);
	CHECK((*f)->kind() == "network.reorder");
	const std::string m = (*f)->mechanism();
	CHECK(test::contains(m, "NFQUEUE"));
	CHECK(test::contains(m, "25% of packets (correlation 40%) accepted at once, the others delayed 20ms +- 5ms"));
	bool nfqueue = false;
	for (const auto &step : (*f)->plan())
		nfqueue = nfqueue || test::contains(step, "-j NFQUEUE --queue-num");
	CHECK(nfqueue);
	// network.delay's chains and undo steps, so the guard and the start-up sweep remove it like a delay.
	CHECK(test::contains((*f)->undo().dump(), "XDC_r1_O"));

	auto p = reorderParams(req, env);
	CHECK(p.reorderPercent == 25);
	CHECK(p.reorderCorrelationPercent == 40);
	CHECK(p.correlationPercent == 0);
	CHECK(p.delayNs == 20 * test::kMs);
	CHECK(p.jitterNs == 5 * test::kMs);
}

TEST_CASE("network.reorder: the agent's checks; network.corrupt still needs sch_netem")
{
	FaultEnv env;
	auto req = reorderRequest("{kind: network.reorder, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, "
				  "percent: 25, delay: 20ms}");
	auto p = reorderParams(req, env);
	CHECK(NetworkReorder::validate(p));
	p.reorderPercent = 0;
	auto r = NetworkReorder::validate(p);
	REQUIRE(!r);
	CHECK(test::contains(r.error().message, "percent: 0"));
	p.reorderPercent = 25;
	p.peers.clear();
	CHECK(!NetworkReorder::validate(p));

	CHECK(!fault::needsNetem(fault::Kind::NetworkReorder));
	auto corrupt = reorderRequest("{kind: network.corrupt, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, "
				      "percent: 5}");
	auto c = makeFault(corrupt, env);
	REQUIRE(!c);
	CHECK(c.error().code == Errc::Unsupported);
	CHECK(test::contains(c.error().message, "lacks sch_netem"));
}
