// SPDX-License-Identifier: Apache-2.0
// network.bandwidth, resource.cpu, resource.memory and resource.disk_fill in a real 2x2 lab: the limit measured with
// a TCP bulk transfer (outbound and inbound through the IFB), the resources seen from /proc and the file system while
// in place and gone after revert and after expiry, the guarantees when the agent is SIGKILLed, refused specs, and
// nothing of ours left at the end. One lab serves every case.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <csignal>
#include <dirent.h>
#include <fstream>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "tests/support/harness.h"
#include "tests/support/netprobe.h"

using namespace xdc;
using namespace xdc::test;
using nlohmann::json;

namespace {

std::unique_ptr<LabFixture> gLab;

LabFixture &theLab()
{
	if (!gLab)
		gLab = std::make_unique<LabFixture>("xb");
	return *gLab;
}

double nowSec() { return static_cast<double>(clk::monoNs()) / 1e9; }

// A TCP bulk transfer from senderNs to addr:port (a receiver in receiverNs): the receiver counts payload bytes over
// `window` seconds, starting `warmup` seconds after the first byte. Returns bits per second, or -1 on failure.
double throughput(const std::string &senderNs, const std::string &receiverNs, const std::string &addr, int port,
		  double warmup, double window)
{
	int res[2], ready[2];
	if (::pipe(res) != 0 || ::pipe(ready) != 0)
		return -1;
	const pid_t rx = ::fork();
	if (rx == 0) {
		::close(res[0]);
		::close(ready[0]);
		if (!enter(receiverNs))
			_exit(1);
		int s = ::socket(AF_INET6, SOCK_STREAM, 0);
		int zero = 0, one = 1;
		::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
		::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		sockaddr_in6 a{};
		a.sin6_family = AF_INET6;
		a.sin6_port = htons(static_cast<uint16_t>(port));
		a.sin6_addr = in6addr_any;
		if (::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) || ::listen(s, 4))
			_exit(1);
		(void)!::write(ready[1], "r", 1);
		int c = ::accept(s, nullptr, nullptr);
		if (c < 0)
			_exit(1);
		static char buf[1 << 16];
		double first = -1, counted = 0;
		while (true) {
			ssize_t n = ::read(c, buf, sizeof buf);
			if (n <= 0)
				_exit(1); // the sender stopped before the window was over
			const double t = nowSec();
			if (first < 0)
				first = t;
			if (t >= first + warmup + window)
				break;
			if (t >= first + warmup)
				counted += static_cast<double>(n);
		}
		double bps = counted * 8 / window;
		(void)!::write(res[1], &bps, sizeof bps);
		_exit(0);
	}
	::close(res[1]);
	::close(ready[1]);
	char r;
	pollfd rp{ready[0], POLLIN, 0};
	const bool listening = ::poll(&rp, 1, 3000) == 1 && ::read(ready[0], &r, 1) == 1;
	::close(ready[0]);
	pid_t tx = -1;
	if (listening) {
		tx = ::fork();
		if (tx == 0) {
			if (!enter(senderNs))
				_exit(1);
			sockaddr_in a{};
			a.sin_family = AF_INET;
			a.sin_port = htons(static_cast<uint16_t>(port));
			inet_pton(AF_INET, addr.c_str(), &a.sin_addr);
			int s = ::socket(AF_INET, SOCK_STREAM, 0);
			if (::connect(s, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0)
				_exit(1);
			static char buf[1 << 16] = {};
			const double end = nowSec() + warmup + window + 10;
			while (nowSec() < end)
				if (::write(s, buf, sizeof buf) < 0)
					_exit(0);
			_exit(0);
		}
	}
	double bps = -1;
	pollfd p{res[0], POLLIN, 0};
	const int waitMs = static_cast<int>((warmup + window + 8) * 1000);
	if (listening && ::poll(&p, 1, waitMs) == 1 && ::read(res[0], &bps, sizeof bps) != sizeof bps)
		bps = -1;
	::close(res[0]);
	for (pid_t pid : {rx, tx})
		if (pid > 0) {
			::kill(pid, SIGKILL);
			::waitpid(pid, nullptr, 0);
		}
	return bps;
}

// `xdc fault apply SPEC --json`; the test fails (REQUIRE) unless it succeeded.
json applyOk(const std::string &spec)
{
	auto r = test::xdc({"fault", "apply", spec, "--json", "--lab", theLab().name()});
	INFO(spec);
	REQUIRE_MESSAGE(r.exitCode == 0, r.out << r.err);
	return json::parse(r.out);
}

bool revertOk(const std::string &id)
{
	auto r = test::xdc({"fault", "revert", id, "--json", "--lab", theLab().name()});
	INFO(id << ": " << r.out << r.err);
	CHECK(r.exitCode == 0);
	return r.exitCode == 0;
}

std::string run(const std::string &ns, const std::vector<std::string> &argv)
{
	auto r = sys::run(argv, {.netns = ns});
	return r && r->ok() ? r->out : std::string();
}

bool hasOurQdisc(const std::string &ns) { return run(ns, {"tc", "qdisc", "show"}).find(" dc01: ") != std::string::npos; }
bool hasIngress(const std::string &ns) { return run(ns, {"tc", "qdisc", "show"}).find("qdisc ingress") != std::string::npos; }
bool hasIfb(const std::string &ns) { return run(ns, {"ip", "-o", "link", "show"}).find("xdcifb") != std::string::npos; }

// The names of IFB-looking links in `ip -o link show` output (the root namespace's own ifb0/ifb1 and any of ours).
std::vector<std::string> ifbLinks(const std::string &links)
{
	std::vector<std::string> out;
	std::istringstream in(links);
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream l(line);
		std::string idx, name;
		l >> idx >> name;
		if (name.find("ifb") != std::string::npos)
			out.push_back(name);
	}
	return out;
}

// Pids in netns whose name (comm) starts with prefix.
std::vector<pid_t> pidsNamed(const std::string &ns, const std::string &prefix)
{
	std::vector<pid_t> out;
	auto r = sys::run({"ip", "netns", "pids", ns});
	if (!r || !r->ok())
		return out;
	std::istringstream in(r->out);
	pid_t pid;
	while (in >> pid) {
		std::ifstream f("/proc/" + std::to_string(pid) + "/comm");
		std::string comm;
		if (std::getline(f, comm) && comm.rfind(prefix, 0) == 0)
			out.push_back(pid);
	}
	return out;
}

// State letter and utime+stime (ticks) of a process.
std::pair<char, uint64_t> stat(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
	std::string line;
	if (!std::getline(f, line))
		return {0, 0};
	std::istringstream rest(line.substr(line.rfind(')') + 2));
	std::string field;
	char state = 0;
	uint64_t t = 0;
	for (int i = 3; i <= 15 && rest >> field; i++) {
		if (i == 3)
			state = field[0];
		if (i == 14 || i == 15)
			t += std::stoull(field);
	}
	return {state, t};
}

uint64_t memAvailableMiB()
{
	std::ifstream f("/proc/meminfo");
	std::string key;
	uint64_t kb = 0, value = 0;
	std::string unit;
	while (f >> key >> kb) {
		std::getline(f, unit);
		if (key == "MemAvailable:")
			value = kb / 1024;
	}
	return value;
}

uint64_t rssMiB(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/status");
	std::string line;
	while (std::getline(f, line))
		if (line.rfind("VmRSS:", 0) == 0)
			return std::stoull(line.substr(6)) / 1024;
	return 0;
}

bool exists(const std::string &path)
{
	struct stat st;
	return ::stat(path.c_str(), &st) == 0;
}

bool alive(pid_t pid)
{
	auto [state, t] = stat(pid);
	(void)t;
	return state != 0 && state != 'Z';
}

std::string agentError(const json &j)
{
	std::string all;
	if (!j.contains("agents") || !j.at("agents").is_object())
		return all;
	const json &agents = j.at("agents");
	for (auto it = agents.begin(); it != agents.end(); ++it)
		if (it->contains("error"))
			all += (it->at("error").is_string() ? it->at("error").get<std::string>() : it->at("error").dump()) +
			       "\n";
	return all;
}

} // namespace

TEST_CASE("Bandwidth 8 Mbit/s: measured throughput 7.2-8.8 Mbit/s, out and in (IFB), unshaped before and after")
{
	REQUIRE(theLab().up());
	auto st = theLab().state();
	const auto &h11 = st.hosts[0], &h21 = st.hosts[2];
	const std::string rootLinks = run("", {"ip", "-o", "link", "show"});

	const double base = throughput(h11.netns, h21.netns, h21.data4, 9101, 0.3, 1.0);
	MESSAGE("baseline dc1-h1 -> dc2-h1: " << base / 1e6 << " Mbit/s");
	REQUIRE(base > 50e6);

	SUBCASE("out")
	{
		auto j = applyOk("{id: xbbwout, kind: network.bandwidth, targets: {host: dc1-h1}, peers: {host: dc2-h1}, "
				 "direction: out, rate: 8mbit, duration: 30s}");
		REQUIRE(j["agents"].size() == 1);
		const auto e = j["agents"].begin().value();
		CHECK(e["readback"].get<std::string>().find("htb dc01:") != std::string::npos);
		CHECK(hasOurQdisc(h11.netns));
		CHECK_FALSE(hasIfb(h11.netns)); // outbound needs no IFB
		const double shaped = throughput(h11.netns, h21.netns, h21.data4, 9102, 0.5, 3.0);
		MESSAGE("shaped out: " << shaped / 1e6 << " Mbit/s");
		CHECK(shaped >= 7.2e6);
		CHECK(shaped <= 8.8e6);
		// Only traffic to the peers: the other direction and other hosts are not limited.
		const double back = throughput(h21.netns, h11.netns, h11.data4, 9103, 0.3, 1.0);
		CHECK(back > 50e6);
		CHECK(theLab().allLive(4));
		REQUIRE(revertOk("xbbwout"));
		CHECK_FALSE(hasOurQdisc(h11.netns));
		const double after = throughput(h11.netns, h21.netns, h21.data4, 9104, 0.3, 1.0);
		MESSAGE("after revert: " << after / 1e6 << " Mbit/s");
		CHECK(after > 50e6);
	}
	SUBCASE("in, through the IFB")
	{
		auto j = applyOk("{id: xbbwin, kind: network.bandwidth, targets: {host: dc1-h1}, peers: {host: dc2-h1}, "
				 "direction: in, rate: 8mbit, duration: 30s}");
		CHECK(hasIfb(h11.netns));
		CHECK(hasIngress(h11.netns));
		const double shaped = throughput(h21.netns, h11.netns, h11.data4, 9105, 0.5, 3.0);
		MESSAGE("shaped in: " << shaped / 1e6 << " Mbit/s");
		CHECK(shaped >= 7.2e6);
		CHECK(shaped <= 8.8e6);
		const double out = throughput(h11.netns, h21.netns, h21.data4, 9106, 0.3, 1.0);
		CHECK(out > 50e6);
		REQUIRE(revertOk("xbbwin"));
		CHECK_FALSE(hasIfb(h11.netns));
		CHECK_FALSE(hasIngress(h11.netns));
		CHECK_FALSE(hasOurQdisc(h11.netns));
		const double after = throughput(h21.netns, h11.netns, h11.data4, 9107, 0.3, 1.0);
		CHECK(after > 50e6);
	}
	// No IFB device (ours or ifb0/ifb1) appeared in the root namespace.
	CHECK(run("", {"ip", "-o", "link", "show"}).find("xdcifb") == std::string::npos);
	CHECK(ifbLinks(run("", {"ip", "-o", "link", "show"})) == ifbLinks(rootLinks));
}

TEST_CASE("resource.disk_fill, resource.cpu, resource.memory reverted: file gone, workers gone, memory returned")
{
	REQUIRE(theLab().up());
	const std::string ns = theLab().netns("dc1-h2");
	const std::string file = "/var/tmp/xdc-fill-xbfill";
	const uint64_t memMiB = 2048; // large against the noise of other processes on the machine
	const uint64_t availBefore = memAvailableMiB();

	applyOk("{id: xbfill, kind: resource.disk_fill, targets: {host: dc1-h2}, path: /var/tmp, bytes: 64MiB, "
		"duration: 60s}");
	auto mj = applyOk(fmt::format("{{id: xbmem, kind: resource.memory, targets: {{host: dc1-h2}}, bytes: {}MiB, "
				      "duration: 60s}}", memMiB));
	CHECK(mj["agents"].begin().value()["readback"].get<std::string>().find("VmRSS") != std::string::npos);
	// cpu last: touching the memory can take seconds on a loaded machine, and cpu's 5 s must cover the sampling.
	applyOk("{id: xbcpu, kind: resource.cpu, targets: {host: dc1-h2}, workers: 2, cpu_percent: 50, duration: 5s}");
	const auto tCpu = std::chrono::steady_clock::now();

	// The fill file: there, with the size, allocated.
	struct stat fst;
	REQUIRE(::stat(file.c_str(), &fst) == 0);
	CHECK(fst.st_size == 64 << 20);
	CHECK(static_cast<uint64_t>(fst.st_blocks) * 512 >= 64ull << 20);

	// The cpu workers: two, in the agent's namespace, running, and getting about their half of a CPU each.
	auto workers = pidsNamed(ns, "xdc-cpu-");
	REQUIRE(workers.size() == 2);
	std::vector<uint64_t> t0;
	std::vector<bool> sawRunning(workers.size(), false);
	for (pid_t p : workers)
		t0.push_back(stat(p).second);
	const auto s0 = std::chrono::steady_clock::now();
	while (secondsSince(s0) < 1.0) {
		for (size_t i = 0; i < workers.size(); i++)
			if (stat(workers[i]).first == 'R')
				sawRunning[i] = true;
		::usleep(5000);
	}
	const double interval = secondsSince(s0);
	const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
	for (size_t i = 0; i < workers.size(); i++) {
		const auto end = stat(workers[i]);
		REQUIRE_MESSAGE(end.first != 0, "worker " << workers[i] << " ended before its 5 s were up");
		const double share = static_cast<double>(end.second - t0[i]) / hz / interval;
		MESSAGE("worker " << workers[i] << " CPU share " << share);
		CHECK(sawRunning[i]);
		CHECK(share >= 0.05); // busy (50% asked; a loaded machine gives it less)
		CHECK(share <= 0.75); // and duty-cycled, not spinning flat out
	}

	// The memory holder: resident, and MemAvailable shows it.
	auto holders = pidsNamed(ns, "xdc-mem-");
	REQUIRE(holders.size() == 1);
	const uint64_t rss = rssMiB(holders[0]);
	CHECK(rss >= memMiB - 8);
	CHECK(rss <= memMiB + 64);
	const uint64_t availDuring = memAvailableMiB();
	MESSAGE("MemAvailable before " << availBefore << " MiB, during " << availDuring << " MiB");
	// Machine-wide, so approximate: other tenants free and take memory meanwhile (a CI run saw 265 MiB come back
	// over this test while the holder held 2 GiB, and the drop read 1016 MiB). The holder's own residency is the
	// exact check above; this one only shows the machine lost a good part of it.
	CHECK(availDuring + memMiB / 4 <= availBefore);

	// cpu ends by itself at its 5 s; the other two are reverted by request.
	REQUIRE(waitUntil([&] { return pidsNamed(ns, "xdc-cpu-").empty(); }, 8s));
	CHECK(secondsSince(tCpu) >= 4.0);
	for (pid_t p : workers)
		CHECK_FALSE(alive(p));
	REQUIRE(revertOk("xbfill"));
	CHECK_FALSE(exists(file));
	REQUIRE(revertOk("xbmem"));
	CHECK_FALSE(alive(holders[0]));
	CHECK(pidsNamed(ns, "xdc-mem-").empty());
	// MemAvailable is machine-wide: another tenant's allocation (a compiler, another test) can hold it down for a
	// moment after the holder exits, so the wait is generous; the holder's exit itself is checked above.
	CHECK(waitUntil([&] { return memAvailableMiB() >= availDuring + memMiB / 4; }, 10s));
	MESSAGE("MemAvailable after " << memAvailableMiB() << " MiB");
	// The controller keeps a record 2 s past its end (the agents revert at TTL on their own).
	CHECK(waitUntil([&] {
		return json::parse(test::xdc({"fault", "list", "--json", "--lab", theLab().name()}).out).empty();
	}, 4s, 200ms));
	CHECK(theLab().allLive(4));
}

TEST_CASE("SIGKILL the agent during disk_fill and cpu, no restart: workers die at once, the guard removes the file")
{
	REQUIRE(theLab().up());
	const std::string ns = theLab().netns("dc2-h2");
	const std::string file = "/var/tmp/xdc-fill-xbkfill";
	const auto t0 = std::chrono::steady_clock::now();
	applyOk("{id: xbkfill, kind: resource.disk_fill, targets: {host: dc2-h2}, path: /var/tmp, bytes: 16MiB, "
		"duration: 4s}");
	applyOk("{id: xbkcpu, kind: resource.cpu, targets: {host: dc2-h2}, workers: 1, cpu_percent: 20, duration: 60s}");
	REQUIRE(exists(file));
	auto workers = pidsNamed(ns, "xdc-cpu-");
	REQUIRE(workers.size() == 1);
	const int pid = theLab().agentPid("dc2-h2");
	REQUIRE(pid > 1);
	REQUIRE(::kill(pid, SIGKILL) == 0);
	REQUIRE(waitUntil([&] { return !sys::processAlive(pid); }, 2s));
	const auto tKill = std::chrono::steady_clock::now();
	// PR_SET_PDEATHSIG: the worker goes with its parent.
	CHECK(waitUntil([&] { return !alive(workers[0]); }, 1s));
	CHECK(secondsSince(tKill) < 0.5);
	CHECK(exists(file)); // not before its time
	REQUIRE(waitUntil([&] { return !exists(file); }, 8s));
	const double gone = secondsSince(t0);
	MESSAGE("fill file removed by the guard " << gone << " s after apply");
	CHECK(gone >= 3.5);
	CHECK(gone <= 5.5); // TTL + 1 s (the apply round trip is inside the slack)
	// Back to a live agent for the cases below; it clears the remaining journal entry (the cpu fault) at start.
	theLab().startAgent("dc2-h2");
	CHECK(waitUntil([&] { return theLab().allLive(4); }, 10s));
	CHECK(pidsNamed(ns, "xdc-cpu-").empty());
}

TEST_CASE("bad specs refused before anything is applied: fill path outside the allow-list, memory over the cap")
{
	REQUIRE(theLab().up());
	struct Bad {
		std::string spec, expect;
	};
	const std::vector<Bad> bad = {
		{"{id: xbbad1, kind: resource.disk_fill, targets: {host: dc1-h1}, path: /etc, bytes: 1MiB, duration: 5s}",
		 "path"},
		{"{id: xbbad2, kind: resource.disk_fill, targets: {host: dc1-h1}, path: /var/tmp, bytes: 100000GiB, "
		 "duration: 5s}",
		 "bytes"},
		{"{id: xbbad3, kind: resource.memory, targets: {host: dc1-h1}, bytes: 100000GiB, duration: 5s}", "bytes"},
	};
	for (const auto &b : bad) {
		auto r = test::xdc({"fault", "apply", b.spec, "--json", "--lab", theLab().name()});
		INFO(b.spec << " -> " << r.out << r.err);
		CHECK(r.exitCode == 2); // refused by the agent: a refused spec
		auto j = json::parse(r.out, nullptr, false);
		REQUIRE_FALSE(j.is_discarded());
		const std::string msg = agentError(j);
		CHECK(msg.find(b.expect + ":") != std::string::npos);
	}
	CHECK_FALSE(exists("/etc/xdc-fill-xbbad1"));
	CHECK_FALSE(exists("/var/tmp/xdc-fill-xbbad2"));
	CHECK(pidsNamed(theLab().netns("dc1-h1"), "xdc-mem-").empty());
	// (The controller may still list the killed agent's cpu fault from the case above until its end.)
	CHECK(test::xdc({"fault", "list", "--json", "--lab", theLab().name()}).out.find("xbbad") == std::string::npos);
}

TEST_CASE("after everything: no dc01: qdisc, no IFB link, no worker, no fill file in any lab namespace; agents live")
{
	REQUIRE(theLab().up());
	for (const auto &h : theLab().state().hosts) {
		INFO(h.netns);
		CHECK_FALSE(hasOurQdisc(h.netns));
		CHECK_FALSE(hasIngress(h.netns));
		CHECK_FALSE(hasIfb(h.netns));
		CHECK(pidsNamed(h.netns, "xdc-").size() == pidsNamed(h.netns, "xdc-agent").size());
	}
	bool fills = false;
	if (DIR *d = ::opendir("/var/tmp")) {
		while (dirent *e = ::readdir(d))
			if (std::string(e->d_name).rfind("xdc-fill-xb", 0) == 0)
				fills = true;
		::closedir(d);
	}
	CHECK_FALSE(fills);
	CHECK(theLab().allLive(4));
}

int main(int argc, char **argv)
{
	requireRoot();
	doctest::Context ctx(argc, argv);
	const int rc = ctx.run();
	gLab.reset(); // lab down, whatever happened
	return rc;
}
