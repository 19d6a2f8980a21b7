// SPDX-License-Identifier: Apache-2.0
// network.duplicate on the agent (agent/faults/network_duplicate.h): the registry builds it without sch_netem, the
// spec's percent and correlation become the line's duplicate draw with no delay, its checks, and what plan and
// mechanism say.
#include <doctest/doctest.h>

#include "agent/faults/delay_line.h"
#include "agent/faults/fault.h"
#include "agent/faults/network_duplicate.h"
#include "common/fault/spec.h"
#include "tests/unit/unit_util.h"

using namespace xdc;
using namespace xdc::agent;

namespace {

FaultRequest duplicateRequest(const std::string &spec)
{
	auto s = fault::parseSpecText(spec, "<test>");
	REQUIRE_MESSAGE(s, s.error().message);
	FaultRequest r;
	r.id = "u1";
	r.spec = *s;
	r.peers = {"10.0.2.0/24", "fd00:2::/64"};
	r.ttlMs = 10000;
	return r;
}

} // namespace

TEST_CASE("network.duplicate: built without sch_netem; percent and correlation drive the duplicate draw")
{
	FaultEnv env;
	env.haveNetem = false;
	auto req = duplicateRequest("{kind: network.duplicate, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, "
				    "percent: 20, correlation: 30, direction: in}");
	auto f = makeFault(req, env);
	REQUIRE_MESSAGE(f, f.error().message);
	CHECK((*f)->kind() == "network.duplicate");
	CHECK(test::contains((*f)->mechanism(), "20% of packets (correlation 30%) sent twice"));
	std::string plan;
	for (const auto &step : (*f)->plan())
		plan += step + "\n";
	CHECK(test::contains(plan, "copy packet; duplicates through raw sockets marked 0x58444331"));
	CHECK(test::contains(plan, "-A XDC_u1_I -m mark --mark 0x58444331 -j RETURN"));
	CHECK(test::contains(plan, "-j NFQUEUE --queue-num"));
	CHECK(test::contains((*f)->undo().dump(), "XDC_u1_I"));

	auto p = duplicateParams(req, env);
	CHECK(p.duplicatePercent == 20);
	CHECK(p.duplicateCorrelationPercent == 30);
	CHECK(p.delayNs == 0);
	CHECK(p.reorderPercent == 0);
	CHECK(p.correlationPercent == 0);
}

TEST_CASE("network.duplicate: the agent's checks")
{
	FaultEnv env;
	auto req = duplicateRequest("{kind: network.duplicate, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, "
				    "percent: 5}");
	auto p = duplicateParams(req, env);
	CHECK(NetworkDuplicate::validate(p));
	p.duplicatePercent = 0;
	auto r = NetworkDuplicate::validate(p);
	REQUIRE(!r);
	CHECK(test::contains(r.error().message, "delay"));
	p.duplicatePercent = 5;
	p.delayNs = 10 * test::kMs;
	CHECK(!NetworkDuplicate::validate(p));
	p.delayNs = 0;
	p.peers.clear();
	CHECK(!NetworkDuplicate::validate(p));
	CHECK(!fault::needsNetem(fault::Kind::NetworkDuplicate));
	CHECK(fault::needsNetem(fault::Kind::NetworkCorrupt));
}
