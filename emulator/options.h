// SPDX-License-Identifier: Apache-2.0
// The emulator's command line, parsed once at start-up into a typed struct.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "emulator/trace.h"

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
	HostPort hbListen{"0.0.0.0", 25091};   // crossDCHttpPort: heartbeats here, channel k on port + 1 + k
	// The application's ingest (docs/DATA.md): each port 0 / empty = that operator is not in the application.
	HostPort dataHttp{"", 0};              // HTTPJSONInjection: one JSON tuple per POST
	HostPort dataTcp{"", 0};               // TCPSource: one JSON tuple per line, no answer
	std::string dataDir;                   // DirectoryScan + FileSource: files of JSON tuple lines, deleted when read
	int scanIntervalMs = 100;              // DirectoryScan's sleepTime
	HostPort tupleView{"", 0};             // HTTPTupleView on the application's output (GET the window's tuples)
	int tupleViewSize = 10000;             // its window: sliding, count(tupleViewSize), trigger count(1)
	HostPort peer;                         // the other DC's crossDCHttpPort; port 0: no peer, nothing is sent
	HostPort specialListen{"", 0};         // the application's SpecialMessage TCP port; port 0 = off
	bool active = true;                    // --role active|standby: the application's role at job start
	// The toolkit's settings (crossdc-config.txt), with lab-sized defaults (the toolkit's sample: 40 s init delay,
	// 30 s x 4, 180 s snapshots).
	int initDelayMs = 1000;                // crossDCInitDelay
	int hbIntervalMs = 1000;               // heartbeatExchangeInterval
	int hbMisses = 3;                      // consecutiveHeartbeatMissesAllowed
	int snapshotIntervalMs = 5000;         // dataSnapshotExchangeInterval (whole seconds count, as in the toolkit)
	int channels = 1;                      // numberOfHttpSenderReceiverPairs
	int httpConnectTimeoutMs = 25000;      // httpConnectionTimeout
	int httpReadTimeoutMs = 100000;        // httpReadTimeout
	std::string snapshotDir;               // dataSnapshotStorageDirectory ("": snapshots are not stored)
	bool retainSnapshots = false;          // retainOlderDataSnapshotsAtStartup
	bool sendSnapshotsToOrigin = false;    // sendDataSnapshotsToOriginDCAtStartup
	std::string toolkitPrefix = "CrossDCFailover"; // the application's name for its composite instance
	bool noToolkit = false;                // a job without the toolkit's composite
	int appDelayMs = 0;                    // the application's reaction time to the remote's replicated data
	int peRestartDelayMs = 500;
	int pes = 3;
	std::string jobName = "CrossDcApp";
	std::string application = "CrossDcApp";
	double sourceRate = 50;
	int processDelayMs = 100; // data plane: an injected tuple reaches the sink this long after it was accepted
	int metricsIntervalMs = 1000;          // how often the instance collects metrics (lastTimeRetrieved)
	std::string traceDir;                  // PE trace files: <dir>/jobs/<job>/pe<pe>.trc ("": none)
	TraceLevel traceLevel = TraceLevel::Error; // the jobs' trace level unless the submission sets `tracing`
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
