// SPDX-License-Identifier: Apache-2.0
// The emulator's command line, parsed once at start-up into a typed struct.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace xdc::emu {

struct HostPort {
	std::string host;
	uint16_t port = 0;
	std::string str() const;
};

struct Options {
	std::string dc = "dc1";
	std::string instance;                  // "<dc>-instance" when not given
	HostPort rest{"0.0.0.0", 8440};
	HostPort hbListen{"0.0.0.0", 25091};
	HostPort dataTcp{"", 0}; // the data plane's TCP line source; port 0 = off
	HostPort peer;                         // port 0: no peer, so no heartbeats are sent
	bool active = true;                    // --role active|standby
	int hbIntervalMs = 1000;
	int hbMisses = 3;
	int snapshotIntervalMs = 5000;
	int takeoverDelayMs = 0;
	int peRestartDelayMs = 500;
	int pes = 3;
	std::string jobName = "CrossDcApp";
	std::string application = "CrossDcApp";
	double sourceRate = 50;
	int processDelayMs = 100; // data plane: an injected tuple reaches the sink this long after it was accepted
	std::string user = "streamsadmin";
	std::string password = "passw0rd";    // never printed
	int tokenTtlS = 300;
	std::string truthLog;
	std::string sinkFile;                  // every delivered tuple line is appended here too (flushed per batch)
	std::string pec;                       // the streams-pec binary
	bool noJob = false;
	std::string host;                      // host name PEs report (the `resource`); default gethostname()
};

// Why --help was asked for, or the options; errors name the option and the value.
struct ParseOutcome {
	bool help = false;
	Options opts;
};

[[nodiscard]] Result<ParseOutcome> parseOptions(const std::vector<std::string> &args);
std::string usage();
[[nodiscard]] Result<HostPort> parseHostPort(const std::string &s);

} // namespace xdc::emu
