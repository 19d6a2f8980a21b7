// SPDX-License-Identifier: Apache-2.0
// The toolkit message's binary layout.
#include "emulator/hb_message.h"

#include <cstring>

namespace xdc::emu {

namespace {

template<typename T>
void put(std::string &out, T v)
{
	for (size_t i = 0; i < sizeof(T); ++i)
		out += static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
}

template<typename T>
bool get(std::string_view &in, T &v)
{
	if (in.size() < sizeof(T))
		return false;
	uint64_t acc = 0;
	for (size_t i = 0; i < sizeof(T); ++i)
		acc |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
	v = static_cast<T>(acc);
	in.remove_prefix(sizeof(T));
	return true;
}

template<typename Len>
bool getBytes(std::string_view &in, std::string &out)
{
	Len n = 0;
	if (!get(in, n) || n > in.size())
		return false;
	out.assign(in.data(), static_cast<size_t>(n));
	in.remove_prefix(static_cast<size_t>(n));
	return true;
}

} // namespace

std::string serialize(const HbMessage &m)
{
	std::string out;
	out.reserve(32 + m.origin.size() + m.snapshot.size() + m.snapshotOrigin.size());
	put<uint32_t>(out, m.type);
	put<uint64_t>(out, m.cnt);
	put<uint32_t>(out, static_cast<uint32_t>(m.origin.size()));
	out += m.origin;
	put<uint64_t>(out, m.snapshot.size());
	out += m.snapshot;
	put<uint32_t>(out, static_cast<uint32_t>(m.snapshotOrigin.size()));
	out += m.snapshotOrigin;
	return out;
}

std::optional<HbMessage> deserialize(std::string_view in)
{
	HbMessage m;
	if (!get(in, m.type) || !get(in, m.cnt) || !getBytes<uint32_t>(in, m.origin) ||
	    !getBytes<uint64_t>(in, m.snapshot) || !getBytes<uint32_t>(in, m.snapshotOrigin) || !in.empty())
		return std::nullopt;
	return m;
}

} // namespace xdc::emu
