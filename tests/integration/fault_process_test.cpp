// SPDX-License-Identifier: Apache-2.0
// process.pause and process.kill in a real 2x2 lab, on victim processes started inside lab host namespaces: stopped
// during the window and running after (revert and expiry), repeated kills of a relaunched process, the network
// namespace fence between lab hosts, refused specs, and the guard continuing a paused process after the agent is
// SIGKILLed. One lab for the whole binary; every victim is killed and reaped however a case ends.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "tests/support/harness.h"
#include "tests/support/victims.h"

using namespace xdc;
using namespace xdc::test;
using nlohmann::json;

namespace {

LabFixture *gLab = nullptr;

LabFixture &theLab()
{
	REQUIRE(gLab != nullptr);
	REQUIRE(gLab->up());
	return *gLab;
}

// The state letter of /proc/PID/stat (read here, independently of the agent), 0 when the pid is gone.
char procState(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
	std::string line;
	if (!std::getline(f, line))
		return 0;
	auto close = line.rfind(')');
	return close != std::string::npos && close + 2 < line.size() ? line[close + 2] : 0;
}

json applyJson(const std::string &spec)
{
	auto r = test::xdc({"fault", "apply", spec, "--json", "--lab", theLab().name()});
	INFO(spec << " -> " << r.out << r.err);
	REQUIRE(r.exitCode == 0);
	return json::parse(r.out);
}

void revert(const std::string &id)
{
	auto r = test::xdc({"fault", "revert", id, "--lab", theLab().name()});
	INFO(r.out << r.err);
	CHECK(r.exitCode == 0);
}

size_t faultCount() { return json::parse(test::xdc({"fault", "list", "--json", "--lab", theLab().name()}).out).size(); }

std::string readback(const json &j, const std::string &agent) { return j["agents"][agent].value("readback", ""); }

} // namespace

TEST_CASE("process.pause: state T during the window on dc1-h1 only, running after revert and after expiry")
{
	VictimBinary bin("xpp");
	Victims v;
	const pid_t h1 = v.start(bin, theLab().netns("dc1-h1")), h2 = v.start(bin, theLab().netns("dc1-h2"));
	REQUIRE(waitUntil([&] { return procState(h1) == 'S' && procState(h2) == 'S'; }, 2s));
	const std::string spec = "{id: xpp1, kind: process.pause, targets: {host: dc1-h1}, match: {name: " + bin.name() +
				 "}, duration: 30s}";
	auto j = applyJson(spec);
	const std::string rb = readback(j, "dc1-h1");
	CHECK(rb.find(fmt::format("pid {} ({}) state T", h1, bin.name())) != std::string::npos);
	CHECK(rb.find(std::to_string(h2)) == std::string::npos);
	CHECK(j["agents"]["dc1-h1"]["mechanism"].get<std::string>().find("SIGSTOP to 1 of 1") != std::string::npos);
	CHECK(procState(h1) == 'T');
	CHECK(procState(h2) == 'S'); // the same name on another lab host is not touched
	CHECK(faultCount() == 1);
	// Revert: continued and verified by the agent before it answers.
	revert("xpp1");
	CHECK(procState(h1) != 'T');
	CHECK(procState(h1) != 0);

	// Expiry: stopped for the 2 s, then continued by the agent on its own.
	const auto t0 = std::chrono::steady_clock::now();
	applyJson("{id: xpp2, kind: process.pause, targets: {host: dc1-h1}, match: {name: " + bin.name() +
		  "}, duration: 2s}");
	CHECK(procState(h1) == 'T');
	REQUIRE(waitUntil([&] { return procState(h1) != 'T'; }, 4s));
	const double resumed = secondsSince(t0);
	CHECK(resumed >= 1.5);
	CHECK(resumed <= 3.0);
	CHECK(procState(h1) != 0);
	CHECK(procState(h2) == 'S');
	CHECK(waitUntil([&] { return faultCount() == 0; }, 4s));
}

TEST_CASE("process.kill on dc1-h1: count picks the lowest pids, the same name on dc1-h2 is never touched")
{
	VictimBinary bin("xpk");
	Victims v;
	const pid_t a = v.start(bin, theLab().netns("dc1-h1")), b = v.start(bin, theLab().netns("dc1-h1"));
	const pid_t other = v.start(bin, theLab().netns("dc1-h2"));
	REQUIRE(a < b);
	auto j = applyJson("{id: xpk1, kind: process.kill, targets: {host: dc1-h1}, match: {name: " + bin.name() +
			   "}, count: 1, duration: 5s}");
	CHECK(j["agents"]["dc1-h1"]["mechanism"].get<std::string>().find("SIGKILL to 1 of 2") != std::string::npos);
	const std::string rb = readback(j, "dc1-h1");
	CHECK(rb.find(fmt::format("pid {} ({}) killed", a, bin.name())) != std::string::npos);
	// Verified gone before the agent answered: the zombie is waiting for us, killed by SIGKILL.
	CHECK(v.reapedBy(a, 100ms) == SIGKILL);
	CHECK(procState(b) == 'S');
	revert("xpk1");
	// count: all (the default) takes the rest; dc1-h2's victim stays.
	j = applyJson("{id: xpk2, kind: process.kill, targets: {host: dc1-h1}, match: {name: " + bin.name() +
		      "}, duration: 5s}");
	CHECK(readback(j, "dc1-h1").find(fmt::format("pid {} ({}) killed", b, bin.name())) != std::string::npos);
	CHECK(v.reapedBy(b, 100ms) == SIGKILL);
	CHECK(procState(other) == 'S');
	revert("xpk2");
	// A signal other than KILL/TERM is delivered without waiting for an exit (sleep dies of SIGUSR1 anyway).
	const pid_t c = v.start(bin, theLab().netns("dc1-h1"));
	j = applyJson("{id: xpk3, kind: process.kill, signal: USR1, targets: {host: dc1-h1}, match: {cmdline: '^" +
		      bin.path() + " 1000$'}, duration: 5s}");
	CHECK(readback(j, "dc1-h1").find(fmt::format("pid {} ({}) signalled", c, bin.name())) != std::string::npos);
	CHECK(v.reapedBy(c, 2s) == SIGUSR1);
	CHECK(procState(other) == 'S');
	revert("xpk3");
}

TEST_CASE("a kill on several hosts goes out only if every host accepts it")
{
	VictimBinary bin("xpm");
	Victims v;
	// The victim runs on dc1-h1 only: dc1-h2 has no match and refuses, so dc1-h1's victim must not be killed.
	const pid_t a = v.start(bin, theLab().netns("dc1-h1"));
	auto r = test::xdc({"fault", "apply", "{id: xpm1, kind: process.kill, targets: {dc: dc1}, match: {name: " +
				      bin.name() + "}, duration: 5s}", "--lab", theLab().name()});
	INFO(r.out << r.err);
	CHECK(r.exitCode == 2);
	CHECK(r.err.find("before any signal was sent") != std::string::npos);
	CHECK(r.err.find("dc1-h2") != std::string::npos);
	CHECK(procState(a) == 'S');
	// With the victim on both hosts the same kill goes out to both.
	const pid_t b = v.start(bin, theLab().netns("dc1-h2"));
	auto j = applyJson("{id: xpm2, kind: process.kill, targets: {dc: dc1}, match: {name: " + bin.name() +
			   "}, duration: 5s}");
	CHECK(v.reapedBy(a, 2s) == SIGKILL);
	CHECK(v.reapedBy(b, 2s) == SIGKILL);
	revert("xpm2");
}

TEST_CASE("process.kill with every: 500ms kills the relaunched process again, and stops at the end")
{
	VictimBinary bin("xpr");
	Victims v;
	Supervisor sup(bin, theLab().netns("dc1-h1"));
	const pid_t other = v.start(bin, theLab().netns("dc1-h2"));
	const pid_t first = sup.current();
	REQUIRE(waitUntil([&] { return procState(first) == 'S'; }, 2s));
	const auto t0 = std::chrono::steady_clock::now();
	auto j = applyJson("{id: xpr1, kind: process.kill, targets: {host: dc1-h1}, match: {name: " + bin.name() +
			   "}, every: 500ms, duration: 3s}");
	CHECK(readback(j, "dc1-h1").find(fmt::format("pid {} ({}) killed", first, bin.name())) != std::string::npos);
	// The first kill plus the repeats: each relaunched victim is killed within a period or so.
	CHECK(waitUntil([&] { return sup.killedBySigkill() >= 4; }, 4s));
	const auto pids = sup.pids();
	CHECK(pids.size() >= 4);
	MESSAGE(sup.killedBySigkill() << " kills in " << secondsSince(t0) << " s; pids launched: " << pids.size());
	// After the end no more kills: the latest victim lives on.
	REQUIRE(waitUntil([&] { return faultCount() == 0; }, 6s));
	const int killsAtEnd = sup.killedBySigkill();
	const pid_t survivor = sup.current();
	CHECK_FALSE(waitUntil([&] { return sup.killedBySigkill() > killsAtEnd; }, 1500ms));
	CHECK(procState(survivor) == 'S');
	CHECK(procState(other) == 'S'); // never touched on dc1-h2
	CHECK(sup.killedBySigkill() <= 8); // 3 s / 500 ms + the first: the repeat is bounded by the window
}

TEST_CASE("bad process specs are refused with the field named, before anything is applied")
{
	VictimBinary bin("xpc");
	Victims v;
	std::vector<pid_t> many;
	for (int i = 0; i < 65; i++)
		many.push_back(v.start(bin, theLab().netns("dc1-h1")));
	TempDir tmp;
	const std::string pid1 = tmp.path() + "/xp-pid1";
	std::ofstream(pid1) << "1\n";
	std::string init;
	std::getline(std::ifstream("/proc/1/comm"), init);
	struct Bad {
		std::string spec, expect;
	};
	const std::vector<Bad> bad = {
		{"{kind: process.kill, targets: {host: dc1-h1}, match: {pidfile: " + pid1 + "}, duration: 5s}",
		 "match.pidfile: names PID 1, which is never signalled"},
		{"{kind: process.pause, targets: {host: dc1-h1}, match: {pidfile: " + pid1 + "}, duration: 5s}",
		 "match.pidfile: names PID 1, which is never signalled"},
		{"{kind: process.kill, targets: {host: dc1-h1}, match: {name: '" + init + "'}, duration: 5s}",
		 "match.name: matches only processes that are never signalled: pid 1 ("},
		{"{kind: process.kill, targets: {host: dc1-h1}, match: {name: xdc-agent}, duration: 5s}",
		 "match.name: matches only processes that are never signalled"},
		{"{kind: process.kill, targets: {host: dc1-h1}, match: {name: " + bin.name() + "}, duration: 5s}",
		 "match: 65 processes match, more than the cap of 64 (faults.process_match_cap)"},
		{"{kind: process.pause, targets: {host: dc1-h1}, match: {name: " + bin.name() + "}, duration: 5s}",
		 "match: 65 processes match, more than the cap of 64"},
		{"{kind: process.kill, targets: {host: dc1-h1}, match: {name: xpnone}, duration: 5s}",
		 "match: no process matches name 'xpnone'"},
		{"{kind: process.pause, targets: {host: dc1-h1}, match: {name: xpnone}, duration: 5s}",
		 "match: no process matches name 'xpnone'"},
		{"{kind: process.kill, targets: {host: dc1-h1}, match: {pidfile: " + tmp.path() + "/none}, duration: 5s}",
		 "match.pidfile: cannot read"},
		{"{kind: process.kill, targets: {host: dc1-h1}, match: {cgroup: xp/none}, duration: 5s}",
		 "match.cgroup: "},
	};
	for (const auto &b : bad) {
		auto r = test::xdc({"fault", "apply", b.spec, "--lab", theLab().name()});
		INFO(b.spec << " -> " << r.out << r.err);
		CHECK(r.exitCode == 2); // a refused spec, not a failed fault
		CHECK(r.err.find(b.expect) != std::string::npos);
	}
	// Nothing happened: every victim still runs, none stopped, no fault recorded.
	for (pid_t p : many)
		CHECK(procState(p) == 'S');
	CHECK(faultCount() == 0);
}

TEST_CASE("SIGKILL the agent during a pause and never restart it: the guard continues the process by TTL + 1 s")
{
	VictimBinary bin("xpg");
	Victims v;
	const pid_t victim = v.start(bin, theLab().netns("dc1-h1"));
	REQUIRE(waitUntil([&] { return procState(victim) == 'S'; }, 2s));
	const auto t0 = std::chrono::steady_clock::now();
	applyJson("{id: xpg1, kind: process.pause, targets: {host: dc1-h1}, match: {name: " + bin.name() +
		  "}, duration: 3s}");
	REQUIRE(procState(victim) == 'T');
	const int agent = theLab().agentPid("dc1-h1");
	REQUIRE(agent > 1);
	REQUIRE(::kill(agent, SIGKILL) == 0);
	REQUIRE(waitUntil([&] { return !sys::processAlive(agent); }, 2s));
	CHECK(procState(victim) == 'T'); // nobody continued it yet
	REQUIRE(waitUntil([&] { return procState(victim) != 'T'; }, 6s));
	const double resumed = secondsSince(t0);
	CHECK(resumed >= 2.5); // not before its time
	CHECK(resumed <= 4.0); // TTL + 1 s
	CHECK(procState(victim) == 'S');
	// Back to a full lab for whatever runs next.
	theLab().startAgent("dc1-h1");
	CHECK(waitUntil([&] { return theLab().allLive(4); }, 10s));
}

int main(int argc, char **argv)
{
	requireRoot();
	doctest::Context ctx(argc, argv);
	// One lab for every case (bringing one up is the slow part); taken down when main returns.
	LabFixture fixture("xp");
	gLab = &fixture;
	const int rc = ctx.run();
	gLab = nullptr;
	return rc;
}
