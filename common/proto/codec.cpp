// SPDX-License-Identifier: Apache-2.0
// Frame layout (little endian), see docs/PROTOCOL.md:
//   0 magic 'X' 'D' | 2 version u8 | 3 type u8 | 4 sender length u16 | 6 reserved u16 (0) | 8 body length u32 |
//  12 reserved u32 (0) | 16 message id u64 | 24 sender wall ns i64 | 32 sender monotonic ns i64 | 40 sender | body
#include "common/proto/codec.h"

#include <cstring>

namespace xdc::proto {

namespace {

template<typename T>
T readLe(const uint8_t *p)
{
	T v = 0;
	for (size_t i = 0; i < sizeof(T); i++)
		v |= static_cast<T>(static_cast<std::make_unsigned_t<T>>(p[i]) << (8 * i));
	return v;
}

template<typename T>
void writeLe(std::string &out, T v)
{
	auto u = static_cast<std::make_unsigned_t<T>>(v);
	for (size_t i = 0; i < sizeof(T); i++)
		out.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}

} // namespace

std::string_view msgTypeName(MsgType t)
{
	switch (t) {
	case MsgType::Hello: return "hello";
	case MsgType::Welcome: return "welcome";
	case MsgType::Heartbeat: return "heartbeat";
	case MsgType::HeartbeatAck: return "heartbeat_ack";
	case MsgType::Command: return "command";
	case MsgType::Result: return "result";
	case MsgType::ClockPing: return "clock_ping";
	case MsgType::ClockPong: return "clock_pong";
	case MsgType::EvidenceBatch: return "evidence_batch";
	case MsgType::EvidenceAck: return "evidence_ack";
	case MsgType::FaultEvent: return "fault_event";
	case MsgType::Bye: return "bye";
	}
	return "unknown";
}

std::string_view dropName(Drop d)
{
	switch (d) {
	case Drop::Oversized: return "oversized";
	case Drop::Truncated: return "truncated";
	case Drop::BadMagic: return "bad_magic";
	case Drop::BadVersion: return "bad_version";
	case Drop::UnknownType: return "unknown_type";
	case Drop::BadBody: return "bad_body";
	case Drop::Malformed: return "malformed";
	case Drop::Replayed: return "replayed";
	case Drop::Expired: return "expired";
	case Drop::Unauthorized: return "unauthorized";
	case Drop::Unexpected: return "unexpected";
	case Drop::Count_: break;
	}
	return "unknown";
}

uint64_t DropCounters::total() const
{
	uint64_t t = 0;
	for (const auto &c : c_)
		t += c.load(std::memory_order_relaxed);
	return t;
}

FrameResult decodeFrame(std::span<const uint8_t> bytes, size_t maxFrame)
{
	if (bytes.size() > maxFrame)
		return DecodeError{Drop::Oversized, "frame of " + std::to_string(bytes.size()) + " bytes exceeds " +
							    std::to_string(maxFrame)};
	// Whatever bytes of the magic arrived must match; a frame cut inside the magic counts as truncated.
	if ((bytes.size() >= 1 && bytes[0] != kMagic0) || (bytes.size() >= 2 && bytes[1] != kMagic1))
		return DecodeError{Drop::BadMagic, "bad magic"};
	if (bytes.size() < kHeaderSize)
		return DecodeError{Drop::Truncated, "frame of " + std::to_string(bytes.size()) +
							    " bytes is shorter than the header"};
	const uint8_t *p = bytes.data();
	Frame f;
	f.header.version = p[2];
	uint8_t type = p[3];
	uint16_t senderLen = readLe<uint16_t>(p + 4);
	uint32_t bodyLen = readLe<uint32_t>(p + 8);
	f.header.id = readLe<uint64_t>(p + 16);
	f.header.wallNs = readLe<int64_t>(p + 24);
	f.header.monoNs = readLe<int64_t>(p + 32);
	if (f.header.version < kMinVersion || f.header.version > kVersion)
		return DecodeError{Drop::BadVersion, "protocol version " + std::to_string(f.header.version) +
							     " unsupported (this side speaks " + std::to_string(kMinVersion) +
							     ".." + std::to_string(kVersion) + ")"};
	if (type == 0 || type > kMaxMsgType)
		return DecodeError{Drop::UnknownType, "unknown message type " + std::to_string(type)};
	f.header.type = static_cast<MsgType>(type);
	const uint64_t want = uint64_t{kHeaderSize} + senderLen + bodyLen;
	if (want > bytes.size())
		return DecodeError{Drop::Truncated, "header announces " + std::to_string(want) + " bytes, frame has " +
							    std::to_string(bytes.size())};
	if (want < bytes.size())
		return DecodeError{Drop::Malformed, std::to_string(bytes.size() - want) + " trailing bytes"};
	if (readLe<uint16_t>(p + 6) != 0 || readLe<uint32_t>(p + 12) != 0)
		return DecodeError{Drop::Malformed, "reserved header fields are not zero"};
	if (senderLen > kMaxSender)
		return DecodeError{Drop::Malformed, "sender id too long"};
	f.header.sender.assign(reinterpret_cast<const char *>(p + kHeaderSize), senderLen);
	f.body = bytes.subspan(kHeaderSize + senderLen, bodyLen);
	return f;
}

std::string encodeRaw(const Header &h, std::span<const uint8_t> body)
{
	std::string out;
	const size_t senderLen = std::min(h.sender.size(), kMaxSender);
	out.reserve(kHeaderSize + senderLen + body.size());
	out.push_back(static_cast<char>(kMagic0));
	out.push_back(static_cast<char>(kMagic1));
	out.push_back(static_cast<char>(h.version));
	out.push_back(static_cast<char>(h.type));
	writeLe<uint16_t>(out, static_cast<uint16_t>(senderLen));
	writeLe<uint16_t>(out, 0);
	writeLe<uint32_t>(out, static_cast<uint32_t>(body.size()));
	writeLe<uint32_t>(out, 0);
	writeLe<uint64_t>(out, h.id);
	writeLe<int64_t>(out, h.wallNs);
	writeLe<int64_t>(out, h.monoNs);
	out.append(h.sender.data(), senderLen);
	out.append(reinterpret_cast<const char *>(body.data()), body.size());
	return out;
}

namespace detail {

Result<msgpack::object_handle> unpackBody(std::span<const uint8_t> body)
{
	// Limits keep a hostile body from allocating without bound: element counts, string sizes and depth.
	const msgpack::unpack_limit limits(/*array*/ 100000, /*map*/ 100000, /*str*/ 1 << 22, /*bin*/ 1 << 22,
					   /*ext*/ 1 << 16, /*depth*/ 32);
	try {
		size_t off = 0;
		auto oh = msgpack::unpack(reinterpret_cast<const char *>(body.data()), body.size(), off, nullptr,
					  nullptr, limits);
		if (off != body.size())
			return makeError(Errc::Protocol, "{} bytes after the body", body.size() - off);
		return oh;
	} catch (const std::exception &e) {
		return makeError(Errc::Protocol, "body is not valid msgpack: {}", e.what());
	}
}

} // namespace detail

} // namespace xdc::proto
