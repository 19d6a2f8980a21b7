// SPDX-License-Identifier: Apache-2.0
#include "common/data/tuple.h"

#include <charconv>

namespace xdc::data {

namespace {

constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";

// splitmix64: a fast, well-mixed 64-bit function; one call per 8 payload characters.
inline uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

template <typename F> inline void forEachChar(uint64_t seed, uint32_t key, uint64_t seq, size_t size, F &&f)
{
	const uint64_t base = mix(seed ^ mix((static_cast<uint64_t>(key) << 40) ^ seq));
	for (size_t i = 0; i < size; i += 8) {
		uint64_t r = mix(base + i);
		for (size_t j = i; j < size && j < i + 8; j++, r >>= 8)
			if (!f(j, kAlphabet[(r & 0xff) % 36]))
				return;
	}
}

inline void skipWs(std::string_view s, size_t &i)
{
	while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
		i++;
}

// A JSON string without escapes starting at s[i] == '"'; i ends after the closing quote.
inline bool readString(std::string_view s, size_t &i, std::string_view &out)
{
	if (i >= s.size() || s[i] != '"')
		return false;
	const size_t start = ++i;
	while (i < s.size() && s[i] != '"') {
		if (s[i] == '\\')
			return false;
		i++;
	}
	if (i >= s.size())
		return false;
	out = s.substr(start, i - start);
	i++;
	return true;
}

template <typename T> inline bool readInt(std::string_view s, size_t &i, T &out)
{
	const auto [p, ec] = std::from_chars(s.data() + i, s.data() + s.size(), out);
	if (ec != std::errc())
		return false;
	i = static_cast<size_t>(p - s.data());
	return true;
}

// Skips one value we do not read: a string, a number, true/false/null. Nested objects and arrays are refused.
inline bool skipValue(std::string_view s, size_t &i)
{
	std::string_view ignored;
	if (i < s.size() && s[i] == '"')
		return readString(s, i, ignored);
	const size_t start = i;
	while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ' ' && s[i] != '[' && s[i] != '{')
		i++;
	return i > start && (i >= s.size() || (s[i] != '[' && s[i] != '{'));
}

} // namespace

void appendPayload(uint64_t seed, uint32_t key, uint64_t seq, size_t size, std::string &out)
{
	const size_t at = out.size();
	out.resize(at + size);
	forEachChar(seed, key, seq, size, [&](size_t j, char c) {
		out[at + j] = c;
		return true;
	});
}

bool payloadMatches(uint64_t seed, uint32_t key, uint64_t seq, std::string_view p)
{
	bool ok = true;
	forEachChar(seed, key, seq, p.size(), [&](size_t j, char c) { return ok = p[j] == c; });
	return ok;
}

void appendJsonLine(const Tuple &t, std::string &out)
{
	char num[24];
	out += "{\"key\":\"k";
	out.append(num, static_cast<size_t>(std::to_chars(num, num + sizeof num, t.key).ptr - num));
	out += "\",\"seq\":";
	out.append(num, static_cast<size_t>(std::to_chars(num, num + sizeof num, t.seq).ptr - num));
	out += ",\"ts\":";
	out.append(num, static_cast<size_t>(std::to_chars(num, num + sizeof num, t.eventNs).ptr - num));
	out += ",\"payload\":\"";
	out += t.payload;
	out += "\"}\n";
}

bool parseTupleLine(std::string_view s, ParsedTuple &out)
{
	size_t i = 0;
	skipWs(s, i);
	if (i >= s.size() || s[i] != '{')
		return false;
	i++;
	bool haveKey = false, haveSeq = false, haveTs = false;
	out.hasPayload = false;
	for (;;) {
		skipWs(s, i);
		if (i < s.size() && s[i] == '}')
			break;
		std::string_view name;
		if (!readString(s, i, name))
			return false;
		skipWs(s, i);
		if (i >= s.size() || s[i] != ':')
			return false;
		i++;
		skipWs(s, i);
		if (name == "key") {
			std::string_view k;
			if (!readString(s, i, k) || k.size() < 2 || k[0] != 'k')
				return false;
			const auto [p, ec] = std::from_chars(k.data() + 1, k.data() + k.size(), out.key);
			if (ec != std::errc() || p != k.data() + k.size())
				return false;
			haveKey = true;
		} else if (name == "seq") {
			if (!readInt(s, i, out.seq))
				return false;
			haveSeq = true;
		} else if (name == "ts") {
			if (!readInt(s, i, out.eventNs))
				return false;
			haveTs = true;
		} else if (name == "payload") {
			if (!readString(s, i, out.payload))
				return false;
			out.hasPayload = true;
		} else if (!skipValue(s, i)) {
			return false;
		}
		skipWs(s, i);
		if (i < s.size() && s[i] == ',') {
			i++;
			continue;
		}
		if (i < s.size() && s[i] == '}')
			break;
		return false;
	}
	return haveKey && haveSeq && haveTs;
}

} // namespace xdc::data
