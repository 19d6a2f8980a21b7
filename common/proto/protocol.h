// SPDX-License-Identifier: Apache-2.0
// Wire protocol constants: magic, versions, message types and the categories a dropped frame is counted under.
// The layout is documented in docs/PROTOCOL.md; change both together.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace xdc::proto {

// First two bytes of every frame: 'X' 'D'.
constexpr uint8_t kMagic0 = 0x58;
constexpr uint8_t kMagic1 = 0x44;
// The version this build speaks, and the oldest one it still accepts (N-1), so agents can be upgraded one DC at a
// time. Version 1 is the first, so the window is just {1} until version 2 exists.
constexpr uint8_t kVersion = 1;
constexpr uint8_t kMinVersion = kVersion > 1 ? kVersion - 1 : 1;
// Fixed header size in bytes; the sender id and the msgpack body follow it.
constexpr size_t kHeaderSize = 40;
// Default cap on one frame; configurable on both sides (max_frame).
constexpr size_t kDefaultMaxFrame = 4 * 1024 * 1024;
// Longest sender id accepted in a header.
constexpr size_t kMaxSender = 255;

enum class MsgType : uint8_t {
	Hello = 1,         // agent -> controller: registration
	Welcome = 2,       // controller -> agent: registration accepted or refused
	Heartbeat = 3,     // agent -> controller
	HeartbeatAck = 4,  // controller -> agent: also renews the agent's fault lease
	Command = 5,       // controller -> agent: one entry of the agent's fixed command table
	Result = 6,        // agent -> controller: outcome of a command
	ClockPing = 7,     // controller -> agent: t1
	ClockPong = 8,     // agent -> controller: t1, t2, t3
	EvidenceBatch = 9, // agent -> controller: samples with per-agent sequence numbers
	Bye = 10,          // either way: orderly goodbye
	EvidenceAck = 11,  // controller -> agent: every sample of a recording up to ackSeq is stored
	FaultEvent = 12,   // agent -> controller: a fault ended on the agent, or its revert failed (when Welcome asks)
};
constexpr uint8_t kMaxMsgType = 12;

std::string_view msgTypeName(MsgType t);

// Why a frame was dropped. Every dropped frame increments exactly one of these.
enum class Drop : uint8_t {
	Oversized,     // larger than max_frame
	Truncated,     // shorter than its header says
	BadMagic,      // not an xdc frame
	BadVersion,    // a protocol version outside [kMinVersion, kVersion]
	UnknownType,   // a message type this version does not define
	BadBody,       // the body does not decode or convert to the message's struct
	Malformed,     // trailing bytes, extra frame parts, a bad sender field
	Replayed,      // a command nonce already seen
	Expired,       // a command past its not-after deadline
	Unauthorized,  // a message from a peer that has not registered, or that claims another identity
	Unexpected,    // a well-formed message of a type this side never receives
	Count_
};
constexpr size_t kDropCount = static_cast<size_t>(Drop::Count_);

std::string_view dropName(Drop d);

// Per-category drop counters. Updated from the one I/O thread; read from anywhere.
class DropCounters {
public:
	void add(Drop d) { c_[static_cast<size_t>(d)].fetch_add(1, std::memory_order_relaxed); }
	uint64_t get(Drop d) const { return c_[static_cast<size_t>(d)].load(std::memory_order_relaxed); }
	uint64_t total() const;

private:
	std::array<std::atomic<uint64_t>, kDropCount> c_{};
};

} // namespace xdc::proto
