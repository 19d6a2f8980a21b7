// SPDX-License-Identifier: Apache-2.0
// data.tail: reads complete lines of a configured sink file from an offset, so a reader on another host (the
// controller) can follow a Streams sink file the way `tail -F` would, without ever naming a path on the wire.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/proto/messages.h"
#include "common/result.h"

namespace xdc::agent {

// The most one reply carries, before the frame limit.
constexpr uint64_t kDataTailMaxBytes = 4u << 20;

// Reads `path` from args.offset: at most min(args.maxBytes, cap) bytes, cut after the last '\n' (a partial last line
// is left for the next call). When the file's inode differs from args.inode (non-zero) or the file is shorter than
// args.offset, it was replaced or truncated: the read starts again at 0 and the reply says `restarted`. A missing
// file is an empty reply with inode 0 (restarted when the reader had read some of it). fromEnd skips to after the
// file's last complete line without returning data. A line longer than the byte limit is an error (it could never
// be returned whole).
[[nodiscard]] Result<proto::DataTailReply> tailFile(const std::string &path, const proto::DataTailArgs &args,
						    uint64_t cap = kDataTailMaxBytes);

// Resolves args.sink in the agent's data.sinks (name -> absolute path) and tails it; an unknown name is refused with
// the known names.
[[nodiscard]] Result<proto::DataTailReply> tailSink(const std::map<std::string, std::string> &sinks,
						    const proto::DataTailArgs &args, uint64_t cap = kDataTailMaxBytes);

// A sink name as data.sinks accepts it: [a-zA-Z0-9._-]{1,64}.
bool validSinkName(const std::string &name);

// data.drop: args.data written to `<dir>/.xdc-drop-<n>.tmp`, synced, then renamed to `<dir>/xdc-<wall ns>-<n>.jsonl`
// (so a DirectoryScan never sees a partial file), dir being args.drop in the agent's data.drops. Refused: an unknown
// name (with the known names), data that is not complete lines or whose line count differs from args.lines, more than
// kDataTailMaxBytes.
[[nodiscard]] Result<proto::DataDropReply> dropFile(const std::map<std::string, std::string> &drops,
						    const proto::DataDropArgs &args);

} // namespace xdc::agent
