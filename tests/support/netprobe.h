// SPDX-License-Identifier: Apache-2.0
// Network checks from inside lab host namespaces for integration tests: a TCP listener, timed TCP connects, and
// "no xdc object left" checks. Each runs in a forked child that enters the namespace, so the test process itself
// never changes namespace.
#pragma once

#include <string>
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

// True when no lab host has an nft table named xdc_* left.
bool noFaultTables(const LabFixture &lab);

} // namespace xdc::test
