// SPDX-License-Identifier: Apache-2.0
// Whole-file reads, one implementation for the agent (spool segments, /proc entries) and the controller (scenario
// files, lab keys).
//
// Contract: readFile() returns at most `limit` bytes from the start of `path`, read with plain read(2) calls (no
// iostreams: /proc files are read at high rates by the process matcher). Errors: Errc::NotFound when the path does
// not exist, Errc::Io for any other failure; the message names the path and the system's reason.
#pragma once

#include <cstddef>
#include <limits>
#include <string>

#include "common/result.h"

namespace xdc::sys {

Result<std::string> readFile(const std::string &path, size_t limit = std::numeric_limits<size_t>::max());

} // namespace xdc::sys
