// SPDX-License-Identifier: Apache-2.0
// Frame encoding and decoding. Decoding never throws and never trusts a length: every failure is a value naming
// the drop category it belongs to.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/proto/messages.h"
#include "common/result.h"

namespace xdc::proto {

struct Header {
	uint8_t version = kVersion;
	MsgType type = MsgType::Hello;
	uint64_t id = 0;         // message id, unique per sender and run
	int64_t wallNs = 0;      // sender's wall clock at send
	int64_t monoNs = 0;      // sender's monotonic clock at send
	std::string sender;      // what the sender claims to be; authority comes from the transport (ZAP user id)
};

// A decoded frame whose body is still msgpack; body points into the caller's buffer.
struct Frame {
	Header header;
	std::span<const uint8_t> body;
};

struct DecodeError {
	Drop reason;
	std::string detail;
};

class FrameResult {
public:
	FrameResult(Frame f) : frame_(std::move(f)), ok_(true) {}
	FrameResult(DecodeError e) : err_(std::move(e)) {}
	bool ok() const { return ok_; }
	const Frame &frame() const { return frame_; }
	const DecodeError &error() const { return err_; }

private:
	Frame frame_;
	DecodeError err_{Drop::Malformed, {}};
	bool ok_ = false;
};

// Splits a frame into header and body and checks size, magic, version, type and lengths.
FrameResult decodeFrame(std::span<const uint8_t> bytes, size_t maxFrame = kDefaultMaxFrame);

// Encodes header + body. The header's type is taken from T.
std::string encodeRaw(const Header &h, std::span<const uint8_t> body);

namespace detail {
Result<msgpack::object_handle> unpackBody(std::span<const uint8_t> body);
} // namespace detail

template<typename T>
std::string encode(const T &msg, Header h)
{
	h.type = T::kType;
	msgpack::sbuffer buf;
	msgpack::pack(buf, msg);
	return encodeRaw(h, {reinterpret_cast<const uint8_t *>(buf.data()), buf.size()});
}

namespace detail {
// Unpacks msgpack bytes (with limits) and converts them to T; `what` names T in the error.
template<typename T>
Result<T> convert(std::span<const uint8_t> bytes, std::string_view what)
{
	auto oh = unpackBody(bytes);
	if (!oh)
		return oh.error();
	try {
		T out;
		oh->get().convert(out);
		return out;
	} catch (const std::exception &e) {
		return makeError(Errc::Protocol, "{} does not convert: {}", what, e.what());
	}
}
} // namespace detail

// Converts a frame body to T; a conversion failure is an Error (counted as Drop::BadBody by callers).
template<typename T>
Result<T> decodeBody(std::span<const uint8_t> body)
{
	return detail::convert<T>(body, msgTypeName(T::kType));
}

// Packs any msgpack-able value into bytes (command args and results).
template<typename T>
Bytes packBytes(const T &v)
{
	msgpack::sbuffer buf;
	msgpack::pack(buf, v);
	return Bytes(reinterpret_cast<const uint8_t *>(buf.data()),
		     reinterpret_cast<const uint8_t *>(buf.data()) + buf.size());
}

template<typename T>
Result<T> unpackBytes(const Bytes &b)
{
	return detail::convert<T>({b.data(), b.size()}, "arguments");
}

} // namespace xdc::proto
