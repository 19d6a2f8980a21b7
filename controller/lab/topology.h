// SPDX-License-Identifier: Apache-2.0
// The lab's network: datacenters built from network namespaces on one machine, created and removed as a whole.
//
// Layout for lab N with subnet B (see docs in topology.cpp for the why):
//   <N>_wan              WAN router: bridge dc<d> per datacenter, 10.B.d.1/24 and fd78:<B hex>:<d>::1/64, forwarding
//   <N>_mgmt             management switch: bridge br0
//   <N>_dc<d>-h<h>       host: eth0 (data, default routes via its DC gateway), mgmt0 (10.B.0.(10+i)/24, no route)
//   host namespace       hostVethName(N) with 10.B.0.1/24, peer on br0: the only change made to the host
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "controller/lab/lab_state.h"

namespace xdc::lab {

struct LabSpec {
	std::string name = "xdc";
	int dcs = 2;        // 1..9
	int hostsPerDc = 2; // 1..50
};

// Creates the whole network of a lab and records it (lab.json, rewritten after every namespace and the host veth).
// Needs root. Refuses (Errc::Exists) when namespaces or the host veth of a lab with that name exist. On failure
// it removes what it created, and its record, before returning the error. Serialised with destroyNetwork() and
// other builds on this machine by a lock, so concurrent builds never pick the same subnet.
Result<LabState> buildNetwork(const LabSpec &spec);

// Deletes the lab's host veth and namespaces: those recorded, and also any netns named "<name>_*" and the host
// veth named by convention, so a record that lagged behind a crash still cleans up. Missing objects are not
// errors; safe to run twice. A LabState with only `name` set is enough. Does not stop processes (stop them first:
// a netns held by a process lives on until it exits) and does not remove the record (see removeLabState()).
Result<void> destroyNetwork(const LabState &state);

// The netns of one host of the lab ("dc1-h2"), or "" when the lab has no such host.
std::string hostNetns(const LabState &state, const std::string &host);
// The address the host namespace has on the management network: where agents reach the controller.
std::string controllerAddress4(int subnet);

// Naming and addressing. Pure functions; buildNetwork() uses them and tests check them.

// N must match [a-z][a-z0-9-]{0,19}; '_' is excluded so that "<N>_" prefixes never match another lab.
Result<void> validateLabName(std::string_view name);
Result<void> validateSpec(const LabSpec &spec);
std::string hostName(int dc, int host);           // "dc<d>-h<h>"
std::string netnsName(std::string_view lab, std::string_view suffix); // "<lab>_<suffix>"
std::string wanNetns(std::string_view lab);       // "<lab>_wan"
std::string mgmtNetns(std::string_view lab);      // "<lab>_mgmt"
// "xm-<N>" when it fits the 15-character interface name limit, else "xm-<first 7 of N>-<4 hex of hash(N)>".
std::string hostVethName(std::string_view lab);
std::string dataAddress4(int subnet, int dc, int host);  // 10.B.d.(10+h)
std::string dataAddress6(int subnet, int dc, int host);  // fd78:<B hex>:<d>::<10+h written in decimal digits>
std::string gatewayAddress4(int subnet, int dc);         // 10.B.d.1
std::string gatewayAddress6(int subnet, int dc);         // fd78:<B hex>:<d>::1
std::string mgmtAddress4(int subnet, int index);         // 10.B.0.(10+index)
// The record buildNetwork() starts from: everything but namespaces, hostVeth and created. Spec must be valid.
LabState planLab(const LabSpec &spec, int subnet);

struct Ipv4Prefix {
	uint32_t addr = 0; // host byte order
	int len = 0;
};
// Prefixes in `ip -4 route show table all` output ("default" routes are skipped, they overlap everything).
std::vector<Ipv4Prefix> parseRoutePrefixes(std::string_view text);
// Prefixes of the addresses in `ip -4 -o addr show` output.
std::vector<Ipv4Prefix> parseAddrPrefixes(std::string_view text);
// B in 200..250, trying first the one a stable hash of the name picks, skipping B whose 10.B.0.0/16 overlaps a
// prefix in use or that another lab recorded. Errc::Exists when none is free.
Result<int> chooseSubnet(std::string_view lab, const std::vector<Ipv4Prefix> &inUse, const std::set<int> &takenByLabs);

} // namespace xdc::lab
