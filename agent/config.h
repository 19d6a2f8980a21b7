// SPDX-License-Identifier: Apache-2.0
// The agent's configuration, read once at start-up from YAML and command-line flags into this struct.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "agent/evidence/sampler.h"
#include "agent/faults/fault.h"
#include "common/log.h"
#include "common/proto/protocol.h"
#include "common/result.h"

namespace xdc::agent {

using std::chrono::milliseconds;

struct AgentConfig {
	std::string id;                // agent id; defaults to host. Must match the allow-list entry of its key.
	std::string host;              // defaults to the system host name
	std::string dc;                // required
	std::map<std::string, std::string> labels;
	std::string controller;        // e.g. tcp://10.200.0.1:7700 (required)
	std::string controllerKey;     // controller public key: Z85 or a .pub/.key file (required unless insecure)
	std::string keyFile;           // this agent's .key file (required unless insecure)
	bool insecure = false;         // no CURVE: explicit, warned about on every start
	std::string stateDir = "/var/lib/xdc-agent";
	size_t maxFrame = proto::kDefaultMaxFrame;
	milliseconds reconnectMax{1000};
	milliseconds connectTimeout{500};
	milliseconds helloRetry{1000};
	milliseconds maxFaultDuration{3600000}; // cap on any fault's duration
	FaultEnv faults;               // the `faults:` block: match cap, Streams PE preset, fill allow-list, ...
	// The `evidence:` block: site commands (the only way a command sampler runs anything), buffer sizes.
	struct Evidence {
		std::map<std::string, CommandDef> commands;
		// The only files log and file samplers read (names [a-zA-Z0-9._-]{1,64}, absolute paths without '..'):
		// logs NAME -> a file, or {path: dir, glob, recursive}; files NAME -> a file or a directory.
		std::map<std::string, LogSourceDef> logs;
		std::map<std::string, std::string> files;
		uint64_t memorySamples = 20000;      // per recording, held in memory while the controller is away
		size_t spoolMaxBytes = 256u << 20;   // disk spool beyond that, all recordings together
	} evidence;
	// The `streams:` block: how this host runs `streamtool` for streams.pe (stop/restart a PE) and the site's
	// orderly-shutdown hook for streams.orderly_shutdown. Empty streamtool / orderlyShutdown = that command is
	// refused. The agent runs only `streamtool stoppe|restartpe <digits>` and the configured hook argv (with a job
	// id of digits in place of a `{job}` element), with these settings (env, timeout).
	struct Streams {
		std::string streamtool;                  // absolute path
		std::string instance;                    // passed as -i
		std::map<std::string, std::string> env;  // e.g. STREAMS_EMU_URL, STREAMS_USERNAME (no secrets here:
		std::string passwordFile;                // the password is passed as --password-file)
		milliseconds timeout{30000};
		// orderly_shutdown: [/abs/program, arg, ...] (at most 32 args, no shell): tells the application to send
		// OrderlyShutdown into the cross-DC toolkit's SpecialMessage port, the site's own way.
		std::vector<std::string> orderlyShutdown;
	} streams;
	// The `data:` block: the sink files data.tail may read, by name (the only files the agent reads for test data;
	// nothing path-like comes from the wire). Names [a-zA-Z0-9._-]{1,64}, absolute paths.
	struct Data {
		std::map<std::string, std::string> sinks;
		// data.drop: directories files of test tuples may be dropped into (an application's DirectoryScan), by name.
		std::map<std::string, std::string> drops;
	} data;
	bool testFeatures = false;
	int64_t testClockSkewMs = 0;
	bool cleanupOnly = false;      // --cleanup: revert what an earlier run left (journal), then exit; never connects
	int testProtoVersion = 0;      // test only: send Hello with this header version
	log::Options log;
};

// Reads FILE (may be empty) then applies flags; validates the result. argv parsing lives in main.cpp.
Result<AgentConfig> loadAgentConfig(const std::string &file);
Result<void> validateAgentConfig(const AgentConfig &c);

} // namespace xdc::agent
