// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the `xdc lab` command's files (lab_cmd.cpp, lab_streams.cpp, lab_sshd.cpp).
#pragma once

#include <string>
#include <sys/types.h>

#include "common/result.h"
#include "controller/cli/cli.h"
#include "controller/lab/lab_state.h"

#include <nlohmann/json.hpp>

namespace xdc::cli::labx {

// The directory of the running xdc binary.
std::string selfDir();
// The running xdc binary.
std::string selfExe();
// xdc-agent next to xdc (installed), or in the build tree's agent/ folder; $XDC_AGENT_BIN first.
std::string findAgentBinary();
// Processes the lab starts run from "/" (spawn starts a new session there): a relative binary path must be made
// absolute first.
std::string absolutePath(const std::string &p);
Result<void> writeText(const std::string &path, const std::string &text, mode_t mode = 0644);
// One progress line on stderr (nothing with --json).
void progress(bool json, const std::string &msg);

// The Streams emulators' settings for `lab up --streams` (the toolkit's configuration keys, the application), from
// the command line; kept in <lab>/streams/lab-streams.json so `lab streams reset` restarts the same way.
struct StreamsLabSpec {
	std::string mode = "active-active";    // or active-passive: dc2 runs the passive monitor, not the job
	int pes = 3;
	int64_t initDelayMs = 1000, hbIntervalMs = 1000, snapshotIntervalMs = 3000, appDelayMs = 0;
	int64_t peRestartDelayMs = 500, metricsIntervalMs = 1000;
	int hbMisses = 3, channels = 1;
	int sourceRate = 50;
	std::string traceLevel = "error";
	bool noToolkit = false;                // test: an application without the toolkit's composite
	std::string toolkitPrefix = "CrossDCFailover";
};
Result<StreamsLabSpec> parseStreamsSpec(const Args &a);
nlohmann::json toJson(const StreamsLabSpec &s);
std::string findEmulatorBinary();
// The `streams:`, `data:` and `evidence:` blocks of the agent config of DC d's Streams host.
std::string streamsAgentConfig(const std::string &dir, int dc, const StreamsLabSpec &ss);
// Starts one emulator per DC (and in active/passive mode dc2's monitor), writes the lab's streams.yaml (REST over
// the management network) and waits for the starting state (waitStreamsReady).
Result<void> startStreams(lab::LabState &st, const std::string &dir, const StreamsLabSpec &ss, bool js);
// `up --sshd`: an sshd in every host (in its own root with --host-root) and the lab's Ansible inventory
// (lab_sshd.cpp).
Result<void> startSshd(lab::LabState &st, const std::string &dir, const std::string &endpoint, bool js);
// `xdc lab streams reset`: cancels the jobs, restarts the monitor (active/passive), submits the jobs again and waits
// for the starting state, without rebuilding the lab.
Result<void> resetStreams(lab::LabState &st, const std::string &dir, bool js);

} // namespace xdc::cli::labx
