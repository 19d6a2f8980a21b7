// SPDX-License-Identifier: Apache-2.0
// Unit tests of the lab's naming, addressing, subnet choice and record format; no root, no network changes.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <unistd.h>

#include "controller/lab/lab_state.h"
#include "controller/lab/topology.h"

using namespace xdc::lab;

TEST_CASE("lab: lab names")
{
	for (const char *good : {"xdc", "a", "lab-2", "abcdefghij0123456789"})
		CHECK_MESSAGE(validateLabName(good).ok(), good);
	for (const char *bad : {"", "2lab", "-lab", "Lab", "lab_1", "lab.1", "lab/x", "abcdefghij0123456789x", "a b"}) {
		auto r = validateLabName(bad);
		REQUIRE_MESSAGE(!r.ok(), bad);
		CHECK(r.error().code == xdc::Errc::Invalid);
		CHECK(r.error().message.find("invalid lab name") != std::string::npos);
	}
}

TEST_CASE("lab: spec limits")
{
	CHECK(validateSpec(LabSpec{}).ok());
	CHECK(validateSpec(LabSpec{"x", 1, 50}).ok());
	CHECK(validateSpec(LabSpec{"x", 9, 27}).ok());
	// 9 x 28 hosts would overflow the management /24 (10.B.0.11 .. 10.B.0.254).
	auto full = validateSpec(LabSpec{"x", 9, 28});
	REQUIRE(!full.ok());
	CHECK(full.error().message.find("244") != std::string::npos);
	CHECK(!validateSpec(LabSpec{"x", 0, 1}).ok());
	CHECK(!validateSpec(LabSpec{"x", 10, 1}).ok());
	CHECK(!validateSpec(LabSpec{"x", 1, 0}).ok());
	CHECK(!validateSpec(LabSpec{"x", 1, 51}).ok());
	CHECK(!validateSpec(LabSpec{"x_y", 1, 1}).ok());
}

TEST_CASE("lab: namespace and interface names")
{
	CHECK(hostName(2, 13) == "dc2-h13");
	CHECK(netnsName("xdc", hostName(1, 2)) == "xdc_dc1-h2");
	CHECK(wanNetns("xdc") == "xdc_wan");
	CHECK(mgmtNetns("xdc") == "xdc_mgmt");

	CHECK(hostVethName("xdc") == "xm-xdc");
	CHECK(hostVethName("abcdefghijkl") == "xm-abcdefghijkl"); // 15: still fits
	const std::string longName = "abcdefghij0123456789";
	const std::string veth = hostVethName(longName);
	CHECK(veth.size() == 15);
	CHECK(veth.starts_with("xm-abcdefg-"));
	CHECK(hostVethName(longName) == veth); // stable
	CHECK(hostVethName("abcdefghij0123456788") != veth); // a shared start still gives distinct names
	for (int n = 1; n <= 20; n++)
		CHECK(hostVethName(std::string(static_cast<size_t>(n), 'q')).size() <= 15);
}

TEST_CASE("lab: addresses")
{
	CHECK(dataAddress4(200, 1, 1) == "10.200.1.11");
	CHECK(dataAddress6(200, 1, 1) == "fd78:c8:1::11");
	CHECK(dataAddress6(250, 9, 50) == "fd78:fa:9::60");
	CHECK(gatewayAddress4(231, 3) == "10.231.3.1");
	CHECK(gatewayAddress6(231, 3) == "fd78:e7:3::1");
	CHECK(mgmtAddress4(200, 7) == "10.200.0.17");
	CHECK(controllerAddress4(200) == "10.200.0.1");

	LabState s = planLab(LabSpec{"t", 2, 3}, 210);
	REQUIRE(s.hosts.size() == 6);
	CHECK(s.hosts[0].name == "dc1-h1");
	CHECK(s.hosts[3].name == "dc2-h1");
	CHECK(s.hosts[3].dc == 2);
	CHECK(s.hosts[3].index == 4);
	CHECK(s.hosts[3].netns == "t_dc2-h1");
	CHECK(s.hosts[3].data4 == "10.210.2.11");
	CHECK(s.hosts[3].data6 == "fd78:d2:2::11");
	CHECK(s.hosts[3].mgmt4 == "10.210.0.14");
	CHECK(hostNetns(s, "dc2-h3") == "t_dc2-h3");
	CHECK(hostNetns(s, "dc3-h1").empty());
	CHECK(s.namespaces.empty());
	CHECK(s.hostVeth.empty());

	// The largest lab keeps every management address inside its /24.
	LabState big = planLab(LabSpec{"t", 9, 27}, 200);
	CHECK(big.hosts.back().mgmt4 == "10.200.0.253");
}

TEST_CASE("lab: parsing host routes and addresses")
{
	const char *routes = "default via 192.0.2.1 dev eth0 \n"
			     "192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2 \n"
			     "unreachable 10.201.0.0/16 \n"
			     "local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1 \n"
			     "broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1 \n";
	auto p = parseRoutePrefixes(routes);
	REQUIRE(p.size() == 4);
	CHECK(p[0].addr == 0xc0000200u);
	CHECK(p[0].len == 24);
	CHECK(p[1].addr == 0x0ac90000u);
	CHECK(p[1].len == 16);
	CHECK(p[2].len == 32);

	const char *addrs = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n"
			    "4: eth0    inet 10.202.5.7/24 brd 10.202.5.255 scope global eth0\\       valid_lft forever\n";
	auto a = parseAddrPrefixes(addrs);
	REQUIRE(a.size() == 2);
	CHECK(a[1].addr == 0x0aca0507u);
	CHECK(a[1].len == 24);
	CHECK(parseRoutePrefixes("garbage 1.2.3\n\n").empty());
}

TEST_CASE("lab: subnet choice")
{
	auto first = chooseSubnet("xdc", {}, {});
	REQUIRE(first.ok());
	CHECK(*first >= 200);
	CHECK(*first <= 250);
	CHECK(chooseSubnet("xdc", {}, {}).value() == *first); // stable

	// A route inside the /16, one covering it, and a record of another lab each push the choice on.
	const uint32_t ten = 10u << 24;
	auto inside = chooseSubnet("xdc", {{ten | (static_cast<uint32_t>(*first) << 16) | (5u << 8), 24}}, {});
	REQUIRE(inside.ok());
	CHECK(*inside != *first);
	auto recorded = chooseSubnet("xdc", {}, {*first});
	REQUIRE(recorded.ok());
	CHECK(*recorded != *first);
	auto covered = chooseSubnet("xdc", {{ten, 8}}, {});
	REQUIRE(!covered.ok());
	CHECK(covered.error().code == xdc::Errc::Exists);
	// The default route overlaps everything, so it is not passed in; a /1 would be.
	CHECK(!chooseSubnet("xdc", {{0, 1}}, {}).ok());
	CHECK(chooseSubnet("xdc", {{0xc0000000u, 8}}, {}).ok());
}

TEST_CASE("lab: lab record round trip keeps unknown keys")
{
	char tmpl[] = "/tmp/xdc-lab-unit-XXXXXX";
	REQUIRE(::mkdtemp(tmpl) != nullptr);
	const std::string root = tmpl;
	// Shared unit binary: put back whatever XDC_LAB_ROOT was, even when a REQUIRE ends the test early.
	struct RestoreRoot {
		std::optional<std::string> old;
		~RestoreRoot()
		{
			if (old)
				::setenv("XDC_LAB_ROOT", old->c_str(), 1);
			else
				::unsetenv("XDC_LAB_ROOT");
		}
	} restore{std::getenv("XDC_LAB_ROOT") ? std::optional<std::string>(std::getenv("XDC_LAB_ROOT")) : std::nullopt};
	::setenv("XDC_LAB_ROOT", root.c_str(), 1);
	CHECK(stateRoot() == root);
	CHECK(stateDir("t") == root + "/t");

	LabState s = planLab(LabSpec{"t", 1, 2}, 222);
	s.namespaces = {"t_mgmt", "t_wan"};
	s.hostVeth = "xm-t";
	s.created = "2024-01-01T00:00:00Z";
	s.processes.push_back({1234, 99, "agent", "dc1-h1", {}});
	s.files = {"/tmp/x"};
	REQUIRE(s.save().ok());
	CHECK(listLabs() == std::vector<std::string>{"t"});

	// Someone else adds keys at every level; a load and save by this version must keep them.
	auto doc = toJson(s);
	doc["future"] = {{"a", 1}};
	doc["hosts"][0]["extra"] = "h";
	doc["processes"][0]["cgroup"] = "/x";
	{
		std::ofstream(statePath("t")) << doc.dump();
	}
	auto loaded = loadLab("t");
	REQUIRE(loaded.ok());
	CHECK(loaded->subnet == 222);
	CHECK(loaded->hosts.size() == 2);
	CHECK(loaded->hosts[1].data6 == "fd78:de:1::12");
	CHECK(loaded->namespaces == s.namespaces);
	CHECK(loaded->hostVeth == "xm-t");
	REQUIRE(loaded->processes.size() == 1);
	CHECK(loaded->processes[0].pid == 1234);
	CHECK(loaded->processes[0].startTime == 99);
	CHECK(loaded->files == s.files);
	loaded->processes[0].name = "renamed";
	REQUIRE(loaded->save().ok());
	auto again = loadLab("t");
	REQUIRE(again.ok());
	auto out = toJson(*again);
	CHECK(out["future"]["a"] == 1);
	CHECK(out["hosts"][0]["extra"] == "h");
	CHECK(out["processes"][0]["cgroup"] == "/x");
	CHECK(out["processes"][0]["name"] == "renamed");

	CHECK(loadLab("nope").error().code == xdc::Errc::NotFound);
	CHECK(loadLab("Bad_name").error().code == xdc::Errc::Invalid);
	{
		std::ofstream(statePath("t")) << "{not json";
	}
	CHECK(loadLab("t").error().code == xdc::Errc::Invalid);

	REQUIRE(removeLabState("t").ok());
	CHECK(removeLabState("t").ok()); // already gone is fine
	CHECK(listLabs().empty());
	CHECK(!removeLabState("../etc").ok());
	std::filesystem::remove_all(root);
}
