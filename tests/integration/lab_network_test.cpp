// SPDX-License-Identifier: Apache-2.0
// Integration tests of the lab network on the real kernel: reachability, isolation, coexistence, and no trace left.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>

#include "common/sys/process.h"
#include "controller/lab/lab_state.h"
#include "controller/lab/topology.h"

using namespace xdc;
using namespace xdc::lab;
using namespace std::chrono_literals;

namespace {

// Runs before doctest's main: meson treats exit 77 as a skip, which is right on a developer's non-root run but
// would hide a broken CI set-up, so CI=true turns it into failures.
struct Environment {
	std::string root;

	Environment()
	{
		if (::geteuid() != 0) {
			const char *ci = std::getenv("CI");
			if (!ci || std::string(ci) != "true") {
				std::fprintf(stderr, "lab_network_test: needs root (network namespaces); skipping\n");
				std::exit(77);
			}
		}
		// Records go to a private root, so the test never reads or lists a real lab's state.
		char tmpl[] = "/tmp/xdc-lab-test-XXXXXX";
		if (::mkdtemp(tmpl))
			root = tmpl;
		::setenv("XDC_LAB_ROOT", root.c_str(), 1);
	}
	~Environment()
	{
		std::error_code ec;
		if (!root.empty())
			std::filesystem::remove_all(root, ec);
	}
} environment;

std::string uniqueName(const std::string &tag) { return fmt::format("xdctn{}{}", ::getpid(), tag); }

// Removes a lab on scope exit, so a failing REQUIRE still leaves the host clean.
struct LabGuard {
	std::string name;
	~LabGuard()
	{
		LabState s;
		s.name = name;
		if (auto loaded = loadLab(name))
			s = *loaded;
		if (auto r = destroyNetwork(s); !r)
			std::fprintf(stderr, "cleanup of %s: %s\n", name.c_str(), r.error().message.c_str());
		(void)removeLabState(name);
	}
};

// Polls pred until it holds or the deadline passes; the condition, not a fixed sleep, decides when to go on.
bool eventually(const std::function<bool()> &pred, std::chrono::milliseconds deadline = 10s)
{
	const auto end = std::chrono::steady_clock::now() + deadline;
	while (true) {
		if (pred())
			return true;
		if (std::chrono::steady_clock::now() >= end)
			return false;
		std::this_thread::sleep_for(100ms); // poll interval only
	}
}

sys::RunOptions inNetns(const std::string &netns)
{
	sys::RunOptions o;
	o.netns = netns;
	return o;
}

bool pingOnce(const std::string &netns, const std::string &addr)
{
	auto r = sys::run({"ping", "-n", "-q", "-c1", "-W1", addr}, inNetns(netns));
	return r && r->ok();
}

bool reaches(const std::string &netns, const std::string &addr)
{
	return eventually([&] { return pingOnce(netns, addr); });
}

std::string snapshotScript()
{
	if (const char *s = std::getenv("XDC_HOST_SNAPSHOT"))
		return s;
	if (const char *root = std::getenv("XDC_SOURCE_ROOT"))
		return std::string(root) + "/tests/support/host_snapshot.sh";
#ifdef XDC_SOURCE_DIR
	return std::string(XDC_SOURCE_DIR) + "/tests/support/host_snapshot.sh";
#else
	return "tests/support/host_snapshot.sh";
#endif
}

std::string readFile(const std::string &path)
{
	std::ifstream in(path);
	std::stringstream s;
	s << in.rdbuf();
	return s.str();
}

std::string snapshot(const std::string &tag)
{
	const std::string path = fmt::format("{}/snapshot-{}", environment.root, tag);
	sys::RunOptions o;
	o.timeout = 30s;
	auto r = sys::runChecked({"bash", snapshotScript(), path}, o);
	REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
	return path;
}

void requireSameSnapshot(const std::string &before, const std::string &after)
{
	if (readFile(before) == readFile(after))
		return;
	auto diff = sys::run({"diff", "-u", before, after});
	FAIL("host namespace changed:\n" << (diff ? diff->out : std::string("(diff failed)")));
}

std::vector<std::string> netnsWithPrefix(const std::string &prefix)
{
	std::vector<std::string> out;
	auto r = sys::runChecked({"ip", "netns", "list"});
	REQUIRE(r.ok());
	std::istringstream in(r->out);
	std::string line;
	while (std::getline(in, line))
		if (line.starts_with(prefix))
			out.push_back(line.substr(0, line.find(' ')));
	return out;
}

bool hostLinkExists(const std::string &dev)
{
	auto r = sys::run({"ip", "link", "show", "dev", dev});
	return r && r->ok();
}

const HostInfo &host(const LabState &s, const std::string &name)
{
	for (const auto &h : s.hosts)
		if (h.name == name)
			return h;
	FAIL("no host " << name);
	throw std::logic_error("unreachable");
}

void requireGone(const std::string &name)
{
	CHECK(netnsWithPrefix(name + "_").empty());
	CHECK(!hostLinkExists(hostVethName(name)));
}

// Addresses of the host namespace that are not the lab's: the lab must not be a way to reach them.
std::vector<std::string> hostOwnAddresses(const std::string &labVeth)
{
	std::vector<std::string> out;
	auto r = sys::runChecked({"ip", "-4", "-o", "addr", "show"});
	REQUIRE(r.ok());
	std::istringstream in(r->out);
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream words(line);
		std::string w, dev, addr;
		words >> w >> dev;
		while (words >> w)
			if (w == "inet" && words >> addr)
				break;
		if (dev == labVeth || addr.empty() || addr.starts_with("127."))
			continue;
		out.push_back(addr.substr(0, addr.find('/')));
	}
	return out;
}

} // namespace

TEST_CASE("the test runs as root")
{
	REQUIRE_MESSAGE(::geteuid() == 0, "network namespaces need root");
	auto ping = sys::run({"ping", "-V"});
	REQUIRE_MESSAGE((ping && ping->ok()), "ping is missing (Debian: iputils-ping)");
}

TEST_CASE("a lab is reachable inside, isolated outside, and leaves the host as it was")
{
	const std::string before = snapshot("before");
	const std::string name = uniqueName("a");
	{
		LabGuard guard{name};
		auto built = buildNetwork(LabSpec{name, 2, 2});
		REQUIRE_MESSAGE(built.ok(), (built.ok() ? "" : built.error().message));
		const LabState &s = *built;

		// The snapshot does see the lab's one change to the host, so its equality below means something.
		CHECK(readFile(before) != readFile(snapshot("during")));
		CHECK(s.namespaces.size() == 6);
		CHECK(s.hostVeth == hostVethName(name));
		CHECK(hostLinkExists(s.hostVeth));
		CHECK(netnsWithPrefix(name + "_").size() == 6);
		auto recorded = loadLab(name);
		REQUIRE(recorded.ok());
		CHECK(recorded->namespaces == s.namespaces);
		CHECK(recorded->subnet == s.subnet);
		CHECK(recorded->hosts.size() == 4);

		const auto &h11 = host(s, "dc1-h1");
		const auto &h12 = host(s, "dc1-h2");
		const auto &h21 = host(s, "dc2-h1");
		CHECK(hostNetns(s, "dc1-h1") == h11.netns);
		CHECK(reaches(h11.netns, h21.data4));
		CHECK(reaches(h11.netns, h21.data6));
		CHECK(reaches(h11.netns, h12.data4));
		CHECK(reaches(h11.netns, h12.data6));
		CHECK(reaches("", h11.mgmt4));                              // controller to agent
		CHECK(reaches(h21.netns, controllerAddress4(s.subnet))); // agent to controller

		// The WAN router knows only the lab's datacenters: nothing leaves the lab through it.
		auto wanOut = sys::run({"ip", "route", "get", "8.8.8.8"}, inNetns(wanNetns(name)));
		REQUIRE(wanOut.ok());
		CHECK(wanOut->exitCode != 0);
		auto wanOut6 = sys::run({"ip", "-6", "route", "get", "2001:4860:4860::8888"}, inNetns(wanNetns(name)));
		REQUIRE(wanOut6.ok());
		CHECK(wanOut6->exitCode != 0);
		auto hostOut = sys::runChecked({"ip", "route", "get", "8.8.8.8"}, inNetns(h11.netns));
		REQUIRE(hostOut.ok());
		CHECK(hostOut->out.find("via " + gatewayAddress4(s.subnet, 1) + " dev eth0") != std::string::npos);
		// Exactly: the data /24, the mgmt /24 and the default route via the DC gateway.
		auto routes = sys::runChecked({"ip", "-4", "route", "show"}, inNetns(h11.netns));
		REQUIRE(routes.ok());
		CHECK(std::count(routes->out.begin(), routes->out.end(), '\n') == 3);
		for (const auto &addr : hostOwnAddresses(s.hostVeth))
			CHECK_MESSAGE(!pingOnce(h11.netns, addr), "lab host reached the host's address " << addr);
		// The host namespace reaches the management network only, not the data networks.
		auto toData = sys::runChecked({"ip", "route", "get", h11.data4});
		REQUIRE(toData.ok());
		CHECK(toData->out.find("dev " + s.hostVeth) == std::string::npos);

		auto again = buildNetwork(LabSpec{name, 1, 1});
		REQUIRE(!again.ok());
		CHECK(again.error().code == Errc::Exists);
		CHECK(again.error().message ==
		      fmt::format("lab '{}' is already up; run `xdc lab down --name {}` first", name, name));
		CHECK(reaches(h11.netns, h21.data4)); // the refused build touched nothing

		REQUIRE(destroyNetwork(s).ok());
		requireGone(name);
		CHECK(destroyNetwork(s).ok()); // twice is fine
		CHECK(loadLab(name).ok());      // the record is the caller's to remove
		REQUIRE(removeLabState(name).ok());
	}
	requireGone(name);
	requireSameSnapshot(before, snapshot("after"));
}

TEST_CASE("two labs coexist, one with a 20-character name")
{
	const std::string before = snapshot("before2");
	const std::string nameA = uniqueName("b");
	std::string nameB = uniqueName("-");
	nameB += std::string(20 - nameB.size(), 'z');
	REQUIRE(nameB.size() == 20);
	LabGuard guardA{nameA};
	LabGuard guardB{nameB};

	auto a = buildNetwork(LabSpec{nameA, 2, 1});
	REQUIRE_MESSAGE(a.ok(), (a.ok() ? "" : a.error().message));
	auto b = buildNetwork(LabSpec{nameB, 2, 1});
	REQUIRE_MESSAGE(b.ok(), (b.ok() ? "" : b.error().message));
	CHECK(a->subnet != b->subnet);
	CHECK(b->hostVeth.size() <= 15);
	CHECK(hostLinkExists(b->hostVeth));
	CHECK(listLabs() == std::vector<std::string>{std::min(nameA, nameB), std::max(nameA, nameB)});

	for (const LabState *s : {&*a, &*b}) {
		CHECK(reaches(host(*s, "dc1-h1").netns, host(*s, "dc2-h1").data4));
		CHECK(reaches(host(*s, "dc1-h1").netns, host(*s, "dc2-h1").data6));
		CHECK(reaches("", host(*s, "dc2-h1").mgmt4));
	}
	// Labs do not see each other: neither the data nor the management network of one reaches the other.
	CHECK(!pingOnce(host(*a, "dc1-h1").netns, host(*b, "dc1-h1").data4));
	CHECK(!pingOnce(host(*a, "dc1-h1").netns, host(*b, "dc1-h1").mgmt4));

	REQUIRE(destroyNetwork(*a).ok());
	requireGone(nameA);
	CHECK(reaches(host(*b, "dc1-h1").netns, host(*b, "dc2-h1").data4)); // B is untouched
	REQUIRE(destroyNetwork(*b).ok());
	requireGone(nameB);
	CHECK(removeLabState(nameA).ok());
	CHECK(removeLabState(nameB).ok());
	requireSameSnapshot(before, snapshot("after2"));
}

TEST_CASE("removal sweeps what a lagging record missed")
{
	const std::string name = uniqueName("c");
	LabGuard guard{name};
	auto built = buildNetwork(LabSpec{name, 1, 2});
	REQUIRE_MESSAGE(built.ok(), (built.ok() ? "" : built.error().message));

	// As if the process died right after creating the first namespace: the record knows of nothing else.
	LabState lagging = *built;
	lagging.namespaces.resize(1);
	lagging.hostVeth.clear();
	REQUIRE(lagging.save().ok());
	auto loaded = loadLab(name);
	REQUIRE(loaded.ok());
	REQUIRE(destroyNetwork(*loaded).ok());
	requireGone(name);

	// A record-less leftover goes too, from the name alone.
	auto rebuilt = buildNetwork(LabSpec{name, 1, 1});
	REQUIRE_MESSAGE(rebuilt.ok(), (rebuilt.ok() ? "" : rebuilt.error().message));
	REQUIRE(removeLabState(name).ok());
	auto refused = buildNetwork(LabSpec{name, 1, 1});
	REQUIRE(!refused.ok());
	CHECK(refused.error().code == Errc::Exists);
	LabState bare;
	bare.name = name;
	REQUIRE(destroyNetwork(bare).ok());
	requireGone(name);
}

TEST_CASE("a build failing midway removes what it created")
{
	// A sysctl that fails makes the build stop after the mgmt and wan namespaces and the host veth exist.
	const std::string fakeDir = environment.root + "/fake-bin";
	std::filesystem::create_directories(fakeDir);
	{
		std::ofstream f(fakeDir + "/sysctl");
		f << "#!/bin/sh\necho 'sysctl: simulated failure' >&2\nexit 1\n";
	}
	std::filesystem::permissions(fakeDir + "/sysctl", std::filesystem::perms::owner_all);
	const std::string oldPath = std::getenv("PATH") ? std::getenv("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin";
	::setenv("PATH", (fakeDir + ":" + oldPath).c_str(), 1);
	struct RestorePath {
		std::string path;
		~RestorePath() { ::setenv("PATH", path.c_str(), 1); }
	} restore{oldPath};

	const std::string name = uniqueName("e");
	LabGuard guard{name};
	auto r = buildNetwork(LabSpec{name, 2, 2});
	REQUIRE(!r.ok());
	CHECK(r.error().message.find("Failed to build lab '" + name + "'") != std::string::npos);
	CHECK(r.error().message.find("simulated failure") != std::string::npos);
	requireGone(name);
	CHECK(loadLab(name).error().code == Errc::NotFound);
}

TEST_CASE("invalid specs change nothing")
{
	for (const LabSpec &spec : {LabSpec{"Bad", 1, 1}, LabSpec{"x_y", 1, 1}, LabSpec{uniqueName("d"), 0, 1},
				    LabSpec{uniqueName("d"), 1, 51}, LabSpec{uniqueName("d"), 9, 28}}) {
		auto r = buildNetwork(spec);
		REQUIRE(!r.ok());
		CHECK(r.error().code == Errc::Invalid);
	}
	CHECK(netnsWithPrefix(uniqueName("d") + "_").empty());
	CHECK(!loadLab(uniqueName("d")).ok());
}
