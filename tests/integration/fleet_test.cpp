// SPDX-License-Identifier: Apache-2.0
// Foundation acceptance in a real 2x2 lab: registration time, clock offsets under skew, loss and return of agents
// (SIGKILL, black-holed management path), controller restart, refusal of unknown keys and of foreign protocol
// versions.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "common/transport/curve.h"
#include "tests/support/harness.h"

using namespace xdc;
using namespace xdc::test;
using nlohmann::json;

namespace {

std::string readFile(const std::string &path)
{
	std::ifstream f(path);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

// Drops everything on the host's management interface, from inside its own namespace.
void blackhole(const std::string &netns, bool on)
{
	if (on) {
		auto r = sys::runChecked({"nft", "-f", "-"},
					 {.netns = netns,
					  .input = "table inet xdctest_blackhole {\n"
						   " chain in { type filter hook input priority -10; iifname \"mgmt0\" drop; }\n"
						   " chain out { type filter hook output priority -10; oifname \"mgmt0\" drop; }\n"
						   "}\n"});
		REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
	} else {
		auto r = sys::runChecked({"nft", "delete", "table", "inet", "xdctest_blackhole"}, {.netns = netns});
		REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
	}
}

} // namespace

TEST_CASE("2x2 lab: all live within 5 s, offsets right within bounds under skew")
{
	LabFixture lab("xdcfl", {"--skew", "dc2-h1=+250"});
	REQUIRE(lab.up());
	CHECK(lab.upSeconds() < 5.0);
	auto agents = lab.agents();
	REQUIRE(agents.size() == 4);
	std::map<std::string, int> perDc;
	for (const auto &a : agents) {
		CHECK(a["state"] == "live");
		perDc[a["dc"]]++;
	}
	CHECK(perDc["dc1"] == 2);
	CHECK(perDc["dc2"] == 2);
	// Every agent has a clock estimate from several exchanges with a bound under 5 ms.
	REQUIRE(waitUntil([&] {
		for (const auto &a : lab.agents())
			if (a["clock"].is_null() || a["clock"]["samples"].get<int>() < 5)
				return false;
		return true;
	}, 5s));
	for (const auto &a : lab.agents()) {
		const double offset = a["clock"]["offset_ms"], bound = a["clock"]["bound_ms"];
		const double truth = a["id"] == "dc2-h1" ? 250.0 : 0.0;
		INFO(a["id"].get<std::string>() << " offset " << offset << " bound " << bound);
		CHECK(bound < 5.0);
		CHECK(std::abs(offset - truth) <= bound);
	}

	// lab status, exec and the console over the same lab.
	auto st = test::xdc({"lab", "status", "--name", lab.name(), "--json"});
	REQUIRE(st.exitCode == 0);
	auto sj = json::parse(st.out);
	REQUIRE(sj["hosts"].size() == 4);
	const auto h1 = sj["hosts"][0];
	CHECK(h1["name"] == "dc1-h1");
	CHECK(h1["agent"]["running"] == true);
	auto ex = test::xdc({"lab", "exec", "dc1-h1", "--name", lab.name(), "--", "ip", "-o", "addr", "show", "dev", "eth0"});
	CHECK(ex.exitCode == 0);
	CHECK(ex.out.find(h1["data4"].get<std::string>() + "/24") != std::string::npos);
	CHECK(ex.out.find(h1["data6"].get<std::string>() + "/64") != std::string::npos);
	CHECK(test::xdc({"lab", "exec", "dc1-h1", "--name", lab.name(), "--", "false"}).exitCode == 1);
	CHECK(test::xdc({"lab", "exec", "dc9-h9", "--name", lab.name(), "--", "true"}).exitCode == 2);
	auto con = sys::run({xdcBin(), "console", "--lab", lab.name()},
			    {.timeout = 20s, .input = "bogus\nagents\nping '*'\nstats --json\nquit\n"});
	REQUIRE(con.ok());
	CHECK(con->exitCode == 0);
	CHECK(con->out.find("dc2-h1") != std::string::npos);
	// dc2-h1's row shows its offset, "+250.xxxms ±...", within a millisecond of the skew (it may print as +249.9xx).
	{
		double shown = 0;
		bool found = false;
		std::istringstream rows(con->out);
		for (std::string row; std::getline(rows, row);) {
			const auto ms = row.find("ms ±");
			if (row.find("dc2-h1") == std::string::npos || ms == std::string::npos)
				continue;
			const auto sign = row.find_last_of("+-", ms);
			if (sign != std::string::npos) {
				shown = std::strtod(row.c_str() + sign, nullptr);
				found = true;
			}
		}
		INFO(con->out);
		CHECK(found);
		CHECK(std::abs(shown - 250.0) <= 1.0);
	}
	CHECK(con->out.find("\"controller_id\"") != std::string::npos);
	CHECK(con->err.find("unknown command 'bogus'") != std::string::npos);
	// The default control socket is not this lab's: without --lab nothing answers there (or another controller).
	auto agentsJson = test::xdc({"agents", "--json", "--lab", lab.name()});
	CHECK(json::parse(agentsJson.out).size() == 4);
}

TEST_CASE("agents are marked lost and come back: SIGKILL, black-holed management path, controller restart")
{
	LabFixture lab("xdcfk");
	REQUIRE(lab.up());

	SUBCASE("SIGKILL one agent, then restart it")
	{
		const int pid = lab.agentPid("dc1-h2");
		REQUIRE(pid > 1);
		REQUIRE(::kill(pid, SIGKILL) == 0);
		auto t0 = std::chrono::steady_clock::now();
		REQUIRE(waitUntil([&] { return lab.agentState("dc1-h2") == "lost"; }, 6s));
		CHECK(secondsSince(t0) <= 3.5);
		CHECK(lab.agentState("dc1-h1") == "live");
		t0 = std::chrono::steady_clock::now();
		const int pid2 = lab.startAgent("dc1-h2");
		REQUIRE(waitUntil([&] { return lab.agentState("dc1-h2") == "live"; }, 5s));
		CHECK(secondsSince(t0) <= 2.0);
		CHECK(lab.agentPid("dc1-h2") == pid2);
	}

	SUBCASE("black-hole one agent's management path, then lift it")
	{
		const std::string ns = lab.netns("dc2-h1");
		REQUIRE(!ns.empty());
		blackhole(ns, true);
		auto t0 = std::chrono::steady_clock::now();
		bool lost = waitUntil([&] { return lab.agentState("dc2-h1") == "lost"; }, 6s);
		const double lostAfter = secondsSince(t0);
		blackhole(ns, false);
		REQUIRE(lost);
		CHECK(lostAfter <= 3.5);
		t0 = std::chrono::steady_clock::now();
		REQUIRE(waitUntil([&] { return lab.agentState("dc2-h1") == "live"; }, 6s));
		CHECK(secondsSince(t0) <= 2.0);
	}

	SUBCASE("restart the controller: every agent back within 5 s")
	{
		const int cpid = lab.controllerPid();
		REQUIRE(cpid > 1);
		const auto start = sys::processStartTime(cpid);
		REQUIRE(::kill(cpid, SIGTERM) == 0);
		REQUIRE(waitUntil([&] { return !sys::processAlive(cpid, start); }, 5s));
		auto t0 = std::chrono::steady_clock::now();
		const int npid = lab.startController();
		REQUIRE(waitUntil([&] { return lab.allLive(4); }, 8s));
		CHECK(secondsSince(t0) <= 5.0);
		CHECK(lab.controllerPid() == npid);
	}
}

TEST_CASE("an agent whose key is not allowed never appears; the refusal names its fingerprint")
{
	LabFixture lab("xdcfz", {"--dcs", "1", "--hosts-per-dc", "1"});
	REQUIRE(lab.up());
	TempDir tmp;
	auto kp = transport::generateKeyPair();
	REQUIRE(kp.ok());
	REQUIRE(transport::writeKeyPair(tmp.path(), "rogue", *kp).ok());
	const std::string dir = lab.stateDir();
	// Same controller and same config as a lab agent, but a key that is not on the allow-list.
	std::string cfg = readFile(dir + "/agents/dc1-h1.yaml");
	auto pid = sys::spawn({agentBin(), "--config", dir + "/agents/dc1-h1.yaml", "--id", "rogue", "--key",
			       tmp.path() + "/rogue.key", "--log-file", tmp.path() + "/rogue.log", "--state-dir",
			       tmp.path() + "/rogue"},
			      {.netns = lab.netns("dc1-h1")});
	REQUIRE(pid.ok());
	const std::string fp = transport::fingerprint(kp->publicKey);
	bool logged = waitUntil([&] {
		return readFile(dir + "/controller.log").find("refused agent key " + fp) != std::string::npos;
	}, 10s);
	bool appeared = false;
	for (const auto &a : lab.agents())
		appeared |= a["id"] == "rogue";
	(void)sys::stopProcess(*pid, std::nullopt, 2000ms);
	CHECK(logged);
	CHECK_FALSE(appeared);
	CHECK(lab.stats()["zap"]["refused"].get<int>() >= 1);
	// The agent says why too.
	CHECK(readFile(tmp.path() + "/rogue.log").find("handshake") != std::string::npos);
}

TEST_CASE("an agent may not register under another agent's id, nor with a protocol version outside N-1..N")
{
	LabFixture lab("xdcfv", {"--dcs", "1", "--hosts-per-dc", "2"});
	REQUIRE(lab.up());
	TempDir tmp;
	const std::string dir = lab.stateDir();
	SUBCASE("impersonation")
	{
		// dc1-h1's key, claiming to be dc1-h2.
		auto pid = sys::spawn({agentBin(), "--config", dir + "/agents/dc1-h1.yaml", "--id", "dc1-h2", "--log-file",
				       tmp.path() + "/imp.log", "--state-dir", tmp.path() + "/imp"},
				      {.netns = lab.netns("dc1-h1")});
		REQUIRE(pid.ok());
		bool refused = waitUntil([&] {
			return readFile(tmp.path() + "/imp.log").find("allowed as agent 'dc1-h1' and cannot register as "
								      "'dc1-h2'") != std::string::npos;
		}, 10s);
		(void)sys::stopProcess(*pid, std::nullopt, 2000ms);
		CHECK(refused);
		CHECK(lab.agentPid("dc1-h2") != *pid);
	}
	SUBCASE("unsupported version")
	{
		const int old = lab.agentPid("dc1-h2");
		auto pid = sys::spawn({agentBin(), "--config", dir + "/agents/dc1-h2.yaml", "--test-proto-version", "9",
				       "--log-file", tmp.path() + "/v9.log", "--state-dir", tmp.path() + "/v9"},
				      {.netns = lab.netns("dc1-h2")});
		REQUIRE(pid.ok());
		bool agentSide = waitUntil([&] {
			return readFile(tmp.path() + "/v9.log").find("controller refused registration: protocol version 9 "
								     "unsupported") != std::string::npos;
		}, 10s);
		bool controllerSide = readFile(dir + "/controller.log").find("protocol version 9 unsupported") !=
				      std::string::npos;
		(void)sys::stopProcess(*pid, std::nullopt, 2000ms);
		CHECK(agentSide);
		CHECK(controllerSide);
		CHECK(lab.agentPid("dc1-h2") == old);
		CHECK(lab.stats()["drops"]["bad_version"].get<int>() >= 1);
	}
}

TEST_CASE("the host namespace after lab down equals the one before lab up (agents and controller included)")
{
	TempDir tmp;
	const std::string script = sourceRoot() + "/tests/support/host_snapshot.sh";
	auto snap = [&](const std::string &tag) {
		const std::string path = tmp.path() + "/" + tag;
		auto r = sys::runChecked({"bash", script, path});
		REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
		return readFile(path);
	};
	const std::string before = snap("before");
	std::string during;
	{
		LabFixture lab("xdcfs", {"--skew", "dc1-h2=-40"});
		REQUIRE(lab.up());
		REQUIRE(lab.agents().size() == 4);
		during = snap("during");
		// Something changes while the lab is up (its one veth), so the equality below is not vacuous.
		CHECK(during != before);
	}
	const std::string after = snap("after");
	if (after != before) {
		auto d = sys::run({"diff", "-u", tmp.path() + "/before", tmp.path() + "/after"});
		FAIL("host namespace changed:\n" << (d ? d->out : std::string("(diff failed)")));
	}
	// Nothing of the lab's is left running either.
	auto p = sys::run({"pgrep", "-f", "xdcfs"});
	CHECK((p && p->exitCode == 1));
}

int main(int argc, char **argv)
{
	requireRoot();
	doctest::Context ctx(argc, argv);
	return ctx.run();
}
