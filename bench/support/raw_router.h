// SPDX-License-Identifier: Apache-2.0
// The baseline server: a plain cppzmq ROUTER with CURVE (no ZAP, no protocol) run as a child process of the bench,
// that waits for N peers to say hello and then times request/reply rounds (one message to every peer, all replies
// back), writing its figures as JSON.
#pragma once

#include <string>

#include "bench/support/bench.h"

namespace xdc::bench {

struct RawRouterOptions {
	std::string listen;
	std::string secretKeyFile; // a .key file
	int expect = 1;            // peers to wait for
	int rounds = 0;
	int warmup = 0;            // rounds run before the timed ones
	size_t requestBytes = 100;
	std::string out;           // JSON: {"ready_ms": .., "rounds_us": [..]}
	bool hold = false;         // keep serving (answering nothing) after writing `out` until killed
	int timeoutMs = 120000;    // give up (exit 1) after this long
};

// argv to run the raw router as `SELF --raw-router ...`.
std::vector<std::string> rawRouterArgv(const RawRouterOptions &o);
// If argv asks for the raw router, runs it and returns its exit code; otherwise returns -1.
int maybeRunRawRouter(int argc, char **argv);

// Starts the router child and waits for its JSON output; an empty object on timeout or failure.
json runRawRouter(Child &child, const RawRouterOptions &o, const std::string &logFile);

} // namespace xdc::bench
