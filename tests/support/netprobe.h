// SPDX-License-Identifier: Apache-2.0
// Network checks from inside lab host namespaces for integration tests: a TCP listener, timed TCP connects, and
// "no xdc object left" checks. Each runs in a forked child that enters the namespace, so the test process itself
// never changes namespace.
#pragma once

#include <optional>
#include <string>
#include <vector>
#include <sys/types.h>

#include "tests/support/harness.h"

namespace xdc::test {

constexpr int kPort = 9000;

// Enters /run/netns/<netns> (this thread). For forked children only.
bool enter(const std::string &netns);

// A dual-stack TCP listener in a lab host's namespace that accepts and closes; stopped in the destructor.
struct Listener {
	pid_t pid = -1;
	explicit Listener(const std::string &netns, int port = kPort);
	~Listener();
	Listener(const Listener &) = delete;
	Listener &operator=(const Listener &) = delete;
};

// One TCP connect from inside netns to addr:port within timeoutMs; true if it connected.
bool tcpConnect(const std::string &netns, const std::string &addr, int timeoutMs = 300, int port = kPort);

// The time one TCP connect from inside netns to addr:port takes, in ms (measured in the namespace, so the fork is
// not counted); nullopt if it failed or did not complete within timeoutMs.
std::optional<double> tcpConnectMs(const std::string &netns, const std::string &addr, int timeoutMs = 1000,
				   int port = kPort);
// The median of n such connects, failures counting as slower than any success; nullopt if half or more failed.
std::optional<double> medianConnectMs(const std::string &netns, const std::string &addr, int n = 20,
				      int timeoutMs = 1000, int port = kPort);

// One-way UDP probe: `count` datagrams sent (paced, ~20 per ms) from fromNs to addr:port, counted by a receiver in
// toNs. Each datagram carries its CLOCK_MONOTONIC send time (one clock for every namespace of the machine), so the
// receiver measures one-way delays.
struct UdpProbe {
	int sent = 0, received = 0;
	double medianOneWayMs = 0;
	std::vector<int> arrivals; // the sequence numbers (0..sent-1) in the order they arrived
	double lossPercent() const { return sent ? 100.0 * (sent - received) / sent : 0; }
	// The share of the sent datagrams that arrived ahead of a lower-numbered one (they overtook it), in %: netem's
	// reordered packets, each counted once however many it overtook.
	double reorderedPercent() const;
	// The datagrams that arrived more than once, as a share of those sent, in % (each extra arrival counted).
	double duplicatedPercent() const;
};
std::optional<UdpProbe> udpProbe(const std::string &fromNs, const std::string &toNs, const std::string &addr,
				 int count = 2000, int port = kPort + 1);

// True when no lab host has an nft table named xdc_* left.
bool noFaultTables(const LabFixture &lab);
// True when no lab host has an iptables/ip6tables chain XDC_* left (mangle or filter).
bool noFaultChains(const LabFixture &lab);

} // namespace xdc::test
