// SPDX-License-Identifier: Apache-2.0
// network.delay, network.reorder and network.duplicate (NFQUEUE line: this kernel has no sch_netem) and network.loss
// (nft numgen) in one real 2x2 lab: the added delay, the reordered and duplicated shares and the loss rate are
// measured against a baseline taken in the same run, delay and loss together, revert, what a killed agent leaves (nothing that holds packets), and
// that nothing of ours remains.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>

#include "tests/support/harness.h"
#include "tests/support/netprobe.h"

using namespace xdc;
using namespace xdc::test;
using nlohmann::json;

namespace {

// One lab for every case (bringing one up is the slow part); taken down at exit.
LabFixture &theLab()
{
	static LabFixture l("xn");
	return l;
}

struct Baseline {
	double connectMs = 0, oneWayMs = 0;
};

const Baseline &baseline()
{
	static Baseline b = [] {
		Baseline r;
		auto st = theLab().state();
		const auto &h11 = st.hosts[0], &h21 = st.hosts[2];
		// One listener on dc2-h1 for every case, up as long as the lab.
		static Listener l21(h21.netns);
		// The first packets wait for neighbour resolution.
		REQUIRE(waitUntil([&] { return tcpConnect(h11.netns, h21.data4); }, 3s));
		auto c = medianConnectMs(h11.netns, h21.data4);
		REQUIRE(c);
		r.connectMs = *c;
		auto u = udpProbe(h11.netns, h21.netns, h21.data4, 500);
		REQUIRE(u);
		CHECK(u->received == u->sent);
		r.oneWayMs = u->medianOneWayMs;
		MESSAGE("baseline: connect median " << r.connectMs << " ms, UDP one-way median " << r.oneWayMs << " ms");
		return r;
	}();
	return b;
}

json apply(const std::string &spec)
{
	auto r = test::xdc({"fault", "apply", spec, "--json", "--lab", theLab().name()});
	REQUIRE_MESSAGE(r.exitCode == 0, spec << "\n" << r.out << r.err);
	return json::parse(r.out);
}

void revert(const std::string &id)
{
	auto r = test::xdc({"fault", "revert", id, "--json", "--lab", theLab().name()});
	REQUIRE_MESSAGE(r.exitCode == 0, r.out << r.err);
}

// Every case leaves the lab without faults, also when a check fails half-way.
struct HaltAtEnd {
	~HaltAtEnd() { (void)test::xdc({"halt", "--lab", theLab().name()}); }
};

std::string chainsOn(const std::string &netns)
{
	std::string all;
	for (const std::string tool : {"iptables", "ip6tables"})
		if (auto r = sys::run({tool, "-w", "-t", "mangle", "-S"}, {.netns = netns}); r)
			all += r->out;
	return all;
}

} // namespace

TEST_CASE("iptables-nft works inside a lab namespace and the kernel has no sch_netem")
{
	REQUIRE(theLab().up());
	auto r = sys::run({"iptables", "-w", "-t", "mangle", "-S"}, {.netns = theLab().netns("dc1-h1")});
	REQUIRE(r);
	CHECK(r->ok());
	CHECK(r->out.find("-P OUTPUT ACCEPT") != std::string::npos);
	auto m = sys::run({"modprobe", "sch_netem"});
	if (m && m->ok())
		MESSAGE("this kernel has sch_netem; the delay line is exercised regardless");
}

TEST_CASE("delay 100 ms dc1-h1 -> dc2: connect median rises by 100-115 ms, falls back after revert; names NFQUEUE")
{
	REQUIRE(theLab().up());
	HaltAtEnd halt;
	const auto &b = baseline();
	auto st = theLab().state();
	const auto &h11 = st.hosts[0], &h21 = st.hosts[2];
	auto j = apply("{id: xnd1, kind: network.delay, targets: {host: dc1-h1}, peers: {dc: dc2}, direction: out, "
		       "delay: 100ms, duration: 30s}");
	REQUIRE(j["agents"].size() == 1);
	for (const auto &[agent, e] : j["agents"].items()) {
		CHECK(e["ok"] == true);
		CHECK(e["mechanism"].get<std::string>().find("NFQUEUE") != std::string::npos);
		const std::string rb = e["readback"].get<std::string>();
		CHECK(rb.find("-j NFQUEUE --queue-num") != std::string::npos);
		CHECK(rb.find("--queue-bypass") != std::string::npos);
		CHECK(rb.find("nfnetlink_queue") != std::string::npos);
	}
	CHECK(chainsOn(h11.netns).find("XDC_xnd1_O") != std::string::npos);
	auto during = medianConnectMs(h11.netns, h21.data4);
	REQUIRE(during);
	MESSAGE("connect median during the delay: " << *during << " ms (baseline " << b.connectMs << ")");
	// At least the delay itself: a SYN held 100 ms cannot be answered sooner. Not "baseline + 100": a loaded
	// machine's baseline (0.64 ms in one CI run, against 0.08 ms after the revert) is scheduling noise, which the
	// held packet does not add to (that run read 100.24 ms, 99.6 above its baseline).
	CHECK(*during >= 100.0);
	CHECK(*during - b.connectMs <= 115.0);
	// Only the targeted direction and peers: dc1-h1 -> dc1-h2 is untouched.
	Listener l12(st.hosts[1].netns);
	REQUIRE(waitUntil([&] { return tcpConnect(h11.netns, st.hosts[1].data4); }, 3s));
	auto local = medianConnectMs(h11.netns, st.hosts[1].data4, 5);
	REQUIRE(local);
	CHECK(*local < 20.0);
	// IPv6 peers are delayed as well.
	REQUIRE(waitUntil([&] { return tcpConnect(h11.netns, h21.data6, 1000); }, 5s));
	auto v6 = medianConnectMs(h11.netns, h21.data6, 5);
	REQUIRE(v6);
	CHECK(*v6 >= 100.0);

	revert("xnd1");
	CHECK(chainsOn(h11.netns).find("XDC_") == std::string::npos);
	auto after = medianConnectMs(h11.netns, h21.data4);
	REQUIRE(after);
	MESSAGE("connect median after revert: " << *after << " ms");
	CHECK(*after - b.connectMs < 10.0);
	CHECK(theLab().allLive(4));
}

TEST_CASE("loss 30 %: 30 +- 5 % of 2,000 one-way UDP probes lost; gone after revert")
{
	REQUIRE(theLab().up());
	HaltAtEnd halt;
	(void)baseline();
	auto st = theLab().state();
	const auto &h11 = st.hosts[0], &h21 = st.hosts[2];
	auto j = apply("{id: xnl1, kind: network.loss, targets: {host: dc1-h1}, peers: {dc: dc2}, direction: out, "
		       "percent: 30, duration: 30s}");
	for (const auto &[agent, e] : j["agents"].items()) {
		CHECK(e["ok"] == true);
		CHECK(e["readback"].get<std::string>().find("numgen random mod 10000 < 3000 drop") != std::string::npos);
	}
	auto u = udpProbe(h11.netns, h21.netns, h21.data4, 2000);
	REQUIRE(u);
	MESSAGE("loss: " << u->received << " of " << u->sent << " received (" << u->lossPercent() << " % lost)");
	CHECK(u->lossPercent() >= 25.0);
	CHECK(u->lossPercent() <= 35.0);
	// direction out: what dc2-h1 sends to dc1-h1 is not dropped.
	auto back = udpProbe(h21.netns, h11.netns, h11.data4, 500);
	REQUIRE(back);
	CHECK(back->received == back->sent);
	revert("xnl1");
	CHECK(noFaultTables(theLab()));
	auto clean = udpProbe(h11.netns, h21.netns, h21.data4, 500);
	REQUIRE(clean);
	CHECK(clean->received == clean->sent);
}

TEST_CASE("delay + loss on the same host: both take effect, both measured")
{
	REQUIRE(theLab().up());
	HaltAtEnd halt;
	const auto &b = baseline();
	auto st = theLab().state();
	const auto &h11 = st.hosts[0], &h21 = st.hosts[2];
	apply("{id: xnd2, kind: network.delay, targets: {host: dc1-h1}, peers: {dc: dc2}, direction: out, "
	      "delay: 100ms, duration: 30s}");
	apply("{id: xnl2, kind: network.loss, targets: {host: dc1-h1}, peers: {dc: dc2}, direction: out, "
	      "percent: 30, duration: 30s}");
	auto list = json::parse(test::xdc({"fault", "list", "--json", "--lab", theLab().name()}).out);
	CHECK(list.size() == 2);
	auto u = udpProbe(h11.netns, h21.netns, h21.data4, 2000);
	REQUIRE(u);
	MESSAGE("delay + loss: " << u->lossPercent() << " % lost, one-way median " << u->medianOneWayMs << " ms");
	CHECK(u->lossPercent() >= 25.0);
	CHECK(u->lossPercent() <= 35.0);
	CHECK(u->medianOneWayMs - b.oneWayMs >= 100.0);
	CHECK(u->medianOneWayMs - b.oneWayMs <= 115.0);
	revert("xnl2");
	revert("xnd2");
	CHECK(noFaultTables(theLab()));
	CHECK(noFaultChains(theLab()));
	auto clean = udpProbe(h11.netns, h21.netns, h21.data4, 500);
	REQUIRE(clean);
	CHECK(clean->received == clean->sent);
	CHECK(clean->medianOneWayMs - b.oneWayMs < 10.0);
}

TEST_CASE("reorder 25 % behind 20 ms: 20-30 % of 2,000 numbered UDP datagrams overtake, the rest +20 ms; revert")
{
	REQUIRE(theLab().up());
	HaltAtEnd halt;
	const auto &b = baseline();
	auto st = theLab().state();
	const auto &h11 = st.hosts[0], &h21 = st.hosts[2];
	// Without the fault nothing overtakes: the measure itself does not invent reordering.
	auto plain = udpProbe(h11.netns, h21.netns, h21.data4, 2000);
	REQUIRE(plain);
	CHECK(plain->reorderedPercent() == 0.0);
	auto j = apply("{id: xnr1, kind: network.reorder, targets: {host: dc1-h1}, peers: {dc: dc2}, direction: out, "
		       "percent: 25, delay: 20ms, duration: 30s}");
	REQUIRE(j["agents"].size() == 1);
	for (const auto &[agent, e] : j["agents"].items()) {
		CHECK(e["ok"] == true);
		CHECK(e["mechanism"].get<std::string>().find("25% of packets") != std::string::npos);
		// Read back: the NFQUEUE rules, the queue bound by the agent, and the line's reorder settings.
		const std::string rb = e["readback"].get<std::string>();
		CHECK(rb.find("-j NFQUEUE --queue-num") != std::string::npos);
		CHECK(rb.find("nfnetlink_queue") != std::string::npos);
		CHECK(rb.find("reorder 25% at once") != std::string::npos);
	}
	CHECK(chainsOn(h11.netns).find("XDC_xnr1_O") != std::string::npos);
	auto u = udpProbe(h11.netns, h21.netns, h21.data4, 2000);
	REQUIRE(u);
	MESSAGE("reorder 25 %: " << u->reorderedPercent() << " % of " << u->sent << " datagrams overtook, "
		<< u->received << " received, one-way median " << u->medianOneWayMs << " ms (baseline " << b.oneWayMs
		<< ")");
	CHECK(u->received == u->sent);
	// 2,000 draws of 25 %: sd about 1 %, so 20-30 is 5 sd wide; 0 (reorder off) or 100 (all at once) fail.
	CHECK(u->reorderedPercent() >= 20.0);
	CHECK(u->reorderedPercent() <= 30.0);
	// Three quarters wait the delay, so the median is a delayed datagram; the line never releases one early.
	CHECK(u->medianOneWayMs >= 20.0);
	CHECK(u->medianOneWayMs - b.oneWayMs <= 30.0);
	// direction out: what dc2-h1 sends back is neither delayed nor reordered.
	auto back = udpProbe(h21.netns, h11.netns, h11.data4, 500);
	REQUIRE(back);
	CHECK(back->reorderedPercent() == 0.0);
	CHECK(back->medianOneWayMs - b.oneWayMs < 10.0);

	revert("xnr1");
	CHECK(chainsOn(h11.netns).find("XDC_") == std::string::npos);
	CHECK(noFaultChains(theLab()));
	auto after = udpProbe(h11.netns, h21.netns, h21.data4, 2000);
	REQUIRE(after);
	CHECK(after->received == after->sent);
	CHECK(after->reorderedPercent() == 0.0);
	CHECK(after->medianOneWayMs - b.oneWayMs < 10.0);
}

TEST_CASE("duplicate 20 % out, 50 % in: that share of 2,000 numbered UDP datagrams arrives twice; revert")
{
	REQUIRE(theLab().up());
	HaltAtEnd halt;
	const auto &b = baseline();
	auto st = theLab().state();
	const auto &h11 = st.hosts[0], &h21 = st.hosts[2];
	auto plain = udpProbe(h11.netns, h21.netns, h21.data4, 2000);
	REQUIRE(plain);
	CHECK(plain->duplicatedPercent() == 0.0);
	auto j = apply("{id: xnu1, kind: network.duplicate, targets: {host: dc1-h1}, peers: {dc: dc2}, direction: out, "
		       "percent: 20, duration: 30s}");
	REQUIRE(j["agents"].size() == 1);
	for (const auto &[agent, e] : j["agents"].items()) {
		CHECK(e["ok"] == true);
		CHECK(e["mechanism"].get<std::string>().find("20% of packets") != std::string::npos);
		// Read back: the NFQUEUE rules, the rule that lets the copies pass, the queue bound, the line's settings.
		const std::string rb = e["readback"].get<std::string>();
		CHECK(rb.find("-j NFQUEUE --queue-num") != std::string::npos);
		CHECK(rb.find("-m mark --mark 0x58444331 -j RETURN") != std::string::npos);
		CHECK(rb.find("nfnetlink_queue") != std::string::npos);
		CHECK(rb.find("duplicate 20%") != std::string::npos);
	}
	CHECK(chainsOn(h11.netns).find("XDC_xnu1_O") != std::string::npos);
	auto u = udpProbe(h11.netns, h21.netns, h21.data4, 2000);
	REQUIRE(u);
	MESSAGE("duplicate 20 % out: " << u->duplicatedPercent() << " % of " << u->sent << " datagrams arrived twice, "
		<< u->received << " received, one-way median " << u->medianOneWayMs << " ms");
	// Nothing lost: every datagram arrives at least once, and the copies are extra.
	CHECK(u->received - static_cast<int>(u->duplicatedPercent() * u->sent / 100.0 + 0.5) == u->sent);
	// 2,000 draws of 20 %: sd about 0.9 %, so 15-25 is over 5 sd wide; 0 (off) or a copy loop fail.
	CHECK(u->duplicatedPercent() >= 15.0);
	CHECK(u->duplicatedPercent() <= 25.0);
	CHECK(u->medianOneWayMs - b.oneWayMs < 10.0);
	// IPv6 peers: the copy goes out through the IPv6 raw socket.
	auto v6 = udpProbe(h11.netns, h21.netns, h21.data6, 1000);
	REQUIRE(v6);
	MESSAGE("duplicate 20 % out, IPv6: " << v6->duplicatedPercent() << " % of " << v6->sent << " arrived twice");
	CHECK(v6->duplicatedPercent() >= 13.0);
	CHECK(v6->duplicatedPercent() <= 27.0);
	// direction out: what dc2-h1 sends back is not duplicated.
	auto back = udpProbe(h21.netns, h11.netns, h11.data4, 500);
	REQUIRE(back);
	CHECK(back->duplicatedPercent() == 0.0);
	revert("xnu1");
	CHECK(noFaultChains(theLab()));

	// direction in: the copy of a packet from a peer is delivered through loopback to the local socket.
	apply("{id: xnu2, kind: network.duplicate, targets: {host: dc1-h1}, peers: {dc: dc2}, direction: in, "
	      "percent: 50, duration: 30s}");
	auto in = udpProbe(h21.netns, h11.netns, h11.data4, 2000);
	REQUIRE(in);
	MESSAGE("duplicate 50 % in: " << in->duplicatedPercent() << " % of " << in->sent << " arrived twice");
	CHECK(in->duplicatedPercent() >= 44.0);
	CHECK(in->duplicatedPercent() <= 56.0);
	revert("xnu2");
	CHECK(noFaultChains(theLab()));
	auto after = udpProbe(h11.netns, h21.netns, h21.data4, 2000);
	REQUIRE(after);
	CHECK(after->received == after->sent);
	CHECK(after->duplicatedPercent() == 0.0);
	auto afterIn = udpProbe(h21.netns, h11.netns, h11.data4, 500);
	REQUIRE(afterIn);
	CHECK(afterIn->duplicatedPercent() == 0.0);
}

TEST_CASE("delay, reorder and duplicate share the NFQUEUE line: a second one on a host is refused, elsewhere fine")
{
	REQUIRE(theLab().up());
	HaltAtEnd halt;
	apply("{id: xns1, kind: network.delay, targets: {host: dc1-h1}, peers: {dc: dc2}, delay: 50ms, duration: 30s}");
	for (const std::string spec :
	     {"{id: xns2, kind: network.reorder, targets: {host: dc1-h1}, peers: {dc: dc2}, percent: 25, delay: 20ms, "
	      "duration: 30s}",
	      "{id: xns3, kind: network.duplicate, targets: {dc: dc1}, peers: {dc: dc2}, percent: 20, duration: 30s}"}) {
		auto r = test::xdc({"fault", "apply", spec, "--lab", theLab().name()});
		INFO(spec << " -> " << r.out << r.err);
		CHECK(r.exitCode == 2);
		CHECK(r.err.find("both use the agent's NFQUEUE line") != std::string::npos);
	}
	// Nothing of the refused ones was applied: only xns1's chains.
	auto st = theLab().state();
	const std::string chains = chainsOn(st.hosts[0].netns);
	CHECK(chains.find("XDC_xns1_O") != std::string::npos);
	CHECK(chains.find("XDC_xns2") == std::string::npos);
	CHECK(chainsOn(st.hosts[1].netns).find("XDC_") == std::string::npos);
	// Another host is free for it.
	apply("{id: xns4, kind: network.duplicate, targets: {host: dc1-h2}, peers: {dc: dc2}, percent: 20, "
	      "duration: 30s}");
	CHECK(chainsOn(st.hosts[1].netns).find("XDC_xns4_O") != std::string::npos);
	revert("xns4");
	revert("xns1");
	CHECK(noFaultChains(theLab()));
}

TEST_CASE("SIGKILL the agent during a delay: packets pass undelayed (queue bypass), its restart removes the chains")
{
	REQUIRE(theLab().up());
	HaltAtEnd halt;
	const auto &b = baseline();
	auto st = theLab().state();
	const auto &h11 = st.hosts[0], &h21 = st.hosts[2];
	apply("{id: xnd3, kind: network.delay, targets: {host: dc1-h1}, peers: {dc: dc2}, direction: both, "
	      "delay: 100ms, duration: 60s}");
	auto during = medianConnectMs(h11.netns, h21.data4, 5);
	REQUIRE(during);
	CHECK(*during >= 100.0);
	const int pid = theLab().agentPid("dc1-h1");
	REQUIRE(pid > 1);
	REQUIRE(::kill(pid, SIGKILL) == 0);
	REQUIRE(waitUntil([&] { return !sys::processAlive(pid); }, 2s));
	// The chains are still there, but nobody holds the queue: --queue-bypass lets packets through.
	CHECK(chainsOn(h11.netns).find("XDC_xnd3") != std::string::npos);
	auto bypass = medianConnectMs(h11.netns, h21.data4, 5);
	REQUIRE(bypass);
	CHECK(*bypass - b.connectMs < 10.0);
	theLab().startAgent("dc1-h1");
	CHECK(waitUntil([&] { return chainsOn(h11.netns).find("XDC_") == std::string::npos; }, 5s));
	CHECK(waitUntil([&] { return theLab().allLive(4); }, 10s));
	(void)test::xdc({"halt", "--lab", theLab().name()});
}

TEST_CASE("refused: correlated loss; afterwards nothing of ours is left anywhere and every agent is live")
{
	REQUIRE(theLab().up());
	auto r = test::xdc({"fault", "apply",
			     "{kind: network.loss, targets: {host: dc1-h1}, peers: {dc: dc2}, percent: 30, correlation: 25, "
			     "duration: 10s}",
			     "--lab", theLab().name()});
	CHECK(r.exitCode != 0);
	// The agent's reason reaches the user.
	CHECK_MESSAGE(r.err.find("correlation 25 is not supported") != std::string::npos, r.out << r.err);
	CHECK(noFaultTables(theLab()));
	CHECK(noFaultChains(theLab()));
	CHECK(waitUntil([&] { return theLab().allLive(4); }, 5s));
	CHECK(json::parse(test::xdc({"fault", "list", "--json", "--lab", theLab().name()}).out).empty());
}

int main(int argc, char **argv)
{
	requireRoot();
	doctest::Context ctx(argc, argv);
	return ctx.run();
}
