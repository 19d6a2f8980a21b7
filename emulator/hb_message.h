// SPDX-License-Identifier: Apache-2.0
// The cross-DC toolkit's message tuple (HeartbeatMessageType in the toolkit's schema) and its binary form on the
// wire. The toolkit serializes SPL tuples with Streams' native byte buffer; the emulator uses its own fixed binary
// layout (little-endian: uint32 heartbeatMsgType, uint64 heartbeatCnt, rstring dataCenterOrigin, blob dataSnapshot,
// rstring dataSnapshotOrigin; rstring = uint32 length + bytes, blob = uint64 length + bytes). Only the emulators read
// it; xdc never does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xdc::emu {

enum HbType : uint32_t {
	kHbHeartbeat = 1,      // plain heartbeat
	kHbSnapshot = 2,       // carries an application data snapshot
	kHbOrderlyShutdown = 3,
	kHbReturnSnapshot = 4, // a stored snapshot sent back to the DC it came from
};

struct HbMessage {
	uint32_t type = kHbHeartbeat;
	uint64_t cnt = 0;
	std::string origin;          // dataCenterOrigin
	std::string snapshot;        // dataSnapshot (blob)
	std::string snapshotOrigin;  // dataSnapshotOrigin
};

std::string serialize(const HbMessage &m);
// nullopt for bytes that are not one whole message (truncated, trailing bytes, lengths beyond the buffer).
std::optional<HbMessage> deserialize(std::string_view bytes);

} // namespace xdc::emu
