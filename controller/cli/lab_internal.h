// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the `xdc lab` command's files (lab_cmd.cpp, lab_streams.cpp).
#pragma once

#include <string>
#include <sys/types.h>

#include "common/result.h"
#include "controller/cli/cli.h"
#include "controller/lab/lab_state.h"

namespace xdc::cli::labx {

// The directory of the running xdc binary.
std::string selfDir();
// Processes the lab starts run from "/" (spawn starts a new session there): a relative binary path must be made
// absolute first.
std::string absolutePath(const std::string &p);
Result<void> writeText(const std::string &path, const std::string &text, mode_t mode = 0644);
// One progress line on stderr (nothing with --json).
void progress(bool json, const std::string &msg);

// The Streams emulator's ground-truth settings for `lab up --streams`, from the command line.
struct StreamsLabSpec {
	int pes = 3;
	int64_t hbIntervalMs = 1000, snapshotIntervalMs = 5000, takeoverDelayMs = 0, peRestartDelayMs = 500;
	int hbMisses = 3;
	int sourceRate = 50;
};
Result<StreamsLabSpec> parseStreamsSpec(const Args &a);
std::string findEmulatorBinary();
// Starts one emulator per DC (dc1 active, dc2 standby, heartbeats over the WAN between their first hosts), writes
// the lab's streams.yaml (REST over the management network) and waits until both answer with a running job.
Result<void> startStreams(lab::LabState &st, const std::string &dir, const StreamsLabSpec &ss, bool js);

} // namespace xdc::cli::labx
