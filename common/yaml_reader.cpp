// SPDX-License-Identifier: Apache-2.0
// Typed YAML reading.
#include "common/yaml_reader.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/duration.h"

namespace xdc {

namespace {

// The first byte of the text that is not valid UTF-8, or a control character other than tab, CR and LF, with its
// 0-based line and column (columns count bytes).
struct BadByte {
	size_t offset = std::string::npos, line = 0, column = 0;
	std::string what;
};

BadByte findBadByte(const std::string &t)
{
	BadByte b;
	size_t line = 0, lineStart = 0;
	for (size_t i = 0; i < t.size();) {
		const auto c = static_cast<unsigned char>(t[i]);
		size_t len = 1;
		bool ok = true;
		if (c == '\n') {
			line++;
			lineStart = i + 1;
		} else if (c < 0x20 && c != '\t' && c != '\r') {
			b.what = fmt::format("a control character (0x{:02X})", c);
			ok = false;
		} else if (c == 0x7F) {
			b.what = "a control character (0x7F)";
			ok = false;
		} else if (c >= 0x80) {
			// Well-formed UTF-8 only: no overlong forms, no surrogates, nothing above U+10FFFF.
			len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
			ok = len != 0 && i + len <= t.size();
			for (size_t k = 1; ok && k < len; k++)
				ok = (static_cast<unsigned char>(t[i + k]) & 0xC0) == 0x80;
			if (ok && len >= 3) {
				const auto c1 = static_cast<unsigned char>(t[i + 1]);
				ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0) && !(c == 0xF0 && c1 < 0x90) &&
				     !(c == 0xF4 && c1 >= 0x90);
			}
			if (!ok)
				b.what = fmt::format("invalid UTF-8 (byte 0x{:02X})", c);
		}
		if (!ok) {
			b.offset = i;
			b.line = line;
			b.column = i - lineStart;
			return b;
		}
		i += len;
	}
	return b;
}

std::string join(const std::string &path, const std::string &key)
{
	return path.empty() ? key : path + "." + key;
}

// The key path of the last node that starts at or before (line, column): the value the position is in.
// Each collection is walked once (by its position), so aliases cannot make the walks explode.
using Visited = std::set<std::pair<int, int>>;

bool firstVisit(const YAML::Node &n, Visited &seen)
{
	return !(n.IsMap() || n.IsSequence()) || seen.emplace(n.Mark().line, n.Mark().column).second;
}

void nodeAt(const YAML::Node &n, const std::string &path, size_t line, size_t column, std::string &best,
	    std::pair<size_t, size_t> &bestAt, int depth, Visited &seen)
{
	if (depth > 200 || !firstVisit(n, seen))
		return;
	const auto m = n.Mark();
	const std::pair<size_t, size_t> at{static_cast<size_t>(std::max(0, m.line)), static_cast<size_t>(std::max(0, m.column))};
	if (m.line >= 0 && at <= std::make_pair(line, column) && (best.empty() || at >= bestAt)) {
		best = path.empty() ? "(top level)" : path;
		bestAt = at;
	}
	if (n.IsSequence()) {
		for (size_t i = 0; i < n.size(); i++)
			nodeAt(n[i], fmt::format("{}[{}]", path, i), line, column, best, bestAt, depth + 1, seen);
	} else if (n.IsMap()) {
		for (const auto &kv : n) {
			const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
			nodeAt(kv.first, join(path, key), line, column, best, bestAt, depth + 1, seen);
			nodeAt(kv.second, join(path, key), line, column, best, bestAt, depth + 1, seen);
		}
	}
}

// A key given twice in one mapping: yaml-cpp keeps both and answers lookups with the first, so the second would be
// dropped without a word.
Result<void> checkDuplicateKeys(const YAML::Node &n, const std::string &origin, const std::string &path, int depth,
				Visited &visited)
{
	if (depth > 200 || !firstVisit(n, visited))
		return success();
	if (n.IsSequence()) {
		for (size_t i = 0; i < n.size(); i++)
			XDC_TRY(checkDuplicateKeys(n[i], origin, fmt::format("{}[{}]", path, i), depth + 1, visited));
	} else if (n.IsMap()) {
		std::map<std::string, YAML::Mark> seen;
		for (const auto &kv : n) {
			if (!kv.first.IsScalar())
				continue;
			const std::string key = kv.first.Scalar();
			const auto [it, fresh] = seen.emplace(key, kv.first.Mark());
			if (!fresh)
				return makeError(Errc::Invalid, "{}:{}:{}: {}: key given twice (first at line {}, column {}); a "
						 "key appears once in a mapping", origin, kv.first.Mark().line + 1,
						 kv.first.Mark().column + 1, join(path, key), it->second.line + 1,
						 it->second.column + 1);
			XDC_TRY(checkDuplicateKeys(kv.second, origin, join(path, key), depth + 1, visited));
		}
	}
	return success();
}

bool inComment(const std::string &text, const BadByte &b)
{
	const size_t start = b.offset - b.column;
	bool quoted = false;
	char quote = 0;
	for (size_t i = start; i < b.offset; i++) {
		const char c = text[i];
		if (quoted) {
			quoted = c != quote;
		} else if (c == '"' || c == '\'') {
			quoted = true;
			quote = c;
		} else if (c == '#' && (i == start || text[i - 1] == ' ' || text[i - 1] == '\t')) {
			return true;
		}
	}
	return false;
}

// The line's indentation holds a tab (YAML indents with spaces only).
bool tabIndented(const std::string &text, int line)
{
	size_t at = 0;
	for (int l = 0; l < line; l++) {
		at = text.find('\n', at);
		if (at == std::string::npos)
			return false;
		at++;
	}
	for (; at < text.size() && (text[at] == ' ' || text[at] == '\t'); at++)
		if (text[at] == '\t')
			return true;
	return false;
}

} // namespace

Result<YAML::Node> parseYaml(const std::string &text, const std::string &origin, size_t maxBytes)
{
	if (text.size() > maxBytes)
		return makeError(Errc::Invalid, "{}: file of {} bytes is larger than the {} byte limit", origin,
				 text.size(), maxBytes);
	if (text.find('\0') != std::string::npos)
		return makeError(Errc::Invalid, "{}:1:1: (document): not a text file (it holds NUL bytes)", origin);
	const BadByte bad = findBadByte(text);
	YAML::Node doc;
	try {
		doc = YAML::Load(text);
	} catch (const YAML::Exception &e) {
		if (bad.offset != std::string::npos)
			return makeError(Errc::Invalid, "{}:{}:{}: (document): {}", origin, bad.line + 1, bad.column + 1, bad.what);
		if (e.mark.line >= 0 && tabIndented(text, e.mark.line))
			return makeError(Errc::Invalid, "{}:{}:1: (document): invalid YAML: a tab in the indentation (YAML "
					 "indents with spaces only)", origin, e.mark.line + 1);
		return makeError(Errc::Invalid, "{}:{}:{}: (document): invalid YAML: {}", origin, e.mark.line + 1,
				 e.mark.column + 1, e.msg);
	} catch (const std::exception &e) {
		return makeError(Errc::Invalid, "{}: (document): invalid YAML: {}", origin, e.what());
	}
	if (bad.offset != std::string::npos) {
		std::string where;
		std::pair<size_t, size_t> at;
		if (inComment(text, bad))
			where = "(comment)";
		else {
			Visited seen;
			nodeAt(doc, "", bad.line, bad.column, where, at, 0, seen);
		}
		return makeError(Errc::Invalid, "{}:{}:{}: {}: {}", origin, bad.line + 1, bad.column + 1,
				 where.empty() ? "(document)" : where, bad.what);
	}
	Visited visited;
	XDC_TRY(checkDuplicateKeys(doc, origin, "", 0, visited));
	return doc;
}

Result<YAML::Node> loadYamlFile(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	if (!f)
		return makeError(Errc::NotFound, "cannot read '{}'", path);
	std::stringstream ss;
	ss << f.rdbuf();
	return parseYaml(ss.str(), path);
}

std::string didYouMean(const std::string &word, const std::vector<std::string> &candidates)
{
	auto dist = [](const std::string &a, const std::string &b) {
		std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
		for (size_t j = 0; j <= b.size(); j++)
			prev[j] = j;
		for (size_t i = 1; i <= a.size(); i++) {
			cur[0] = i;
			for (size_t j = 1; j <= b.size(); j++)
				cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
			std::swap(prev, cur);
		}
		return prev[b.size()];
	};
	std::string best;
	size_t bestD = std::max<size_t>(2, word.size() / 3) + 1;
	for (const auto &c : candidates) {
		size_t d = dist(word, c);
		if (d < bestD) {
			bestD = d;
			best = c;
		}
	}
	return best;
}

Result<size_t> parseSize(const std::string &text)
{
	size_t i = 0;
	while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])))
		i++;
	if (i == 0)
		return makeError(Errc::Invalid, "invalid size '{}' (expected e.g. 4194304, 64KiB, 4MiB)", text);
	if (i > 15)
		return makeError(Errc::Invalid, "size '{}' is too large", text);
	unsigned long long n = std::stoull(text.substr(0, i));
	std::string unit = text.substr(i);
	static const std::map<std::string, unsigned long long> units = {
		{"", 1}, {"B", 1}, {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30},
		{"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000}};
	auto it = units.find(unit);
	if (it == units.end())
		return makeError(Errc::Invalid, "invalid size unit '{}' in '{}' (expected B, KiB, MiB, GiB)", unit, text);
	if (n > (1ULL << 50) / it->second)
		return makeError(Errc::Invalid, "size '{}' is too large", text);
	return static_cast<size_t>(n * it->second);
}

MapReader::MapReader(const YAML::Node &node, std::string origin, std::string path)
	: node_(node), origin_(std::move(origin)), path_(std::move(path))
{
	if (node_ && !node_.IsNull() && !node_.IsMap())
		fail(node_, path_.empty() ? "(top level)" : path_, "expected a mapping of keys to values");
}

std::string nodeWhere(const std::string &origin, const YAML::Node &n)
{
	if (!n.IsDefined())
		return origin;
	auto m = n.Mark();
	if (m.is_null())
		return origin;
	return fmt::format("{}:{}:{}", origin, m.line + 1, m.column + 1);
}

std::string MapReader::where(const YAML::Node &n) const { return nodeWhere(origin_, n); }

void MapReader::fail(const YAML::Node &at, const std::string &key, const std::string &what)
{
	if (error_.empty())
		error_ = fmt::format("{}: {}: {}", where(at), key, what);
}

void MapReader::adopt(const MapReader &nested)
{
	if (error_.empty())
		error_ = nested.error_;
}

YAML::Node MapReader::get(const char *key)
{
	known_.insert(key);
	if (!ok() || !node_ || !node_.IsMap())
		return YAML::Node();
	return node_[key];
}

void MapReader::str(const char *key, std::string &out)
{
	auto n = get(key);
	if (!n)
		return;
	if (!n.IsScalar())
		return fail(n, keyPath(key), "expected a string");
	out = n.Scalar();
}

void MapReader::integer(const char *key, int64_t &out, int64_t min, int64_t max)
{
	auto n = get(key);
	if (!n)
		return;
	int64_t v = 0;
	if (!n.IsScalar() || !YAML::convert<int64_t>::decode(n, v))
		return fail(n, keyPath(key), "expected an integer");
	if (v < min || v > max)
		return fail(n, keyPath(key), fmt::format("{} is out of range (expected {}..{})", v, min, max));
	out = v;
}

void MapReader::boolean(const char *key, bool &out)
{
	auto n = get(key);
	if (!n)
		return;
	bool v = false;
	if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v))
		return fail(n, keyPath(key), "expected true or false");
	out = v;
}

void MapReader::duration(const char *key, std::chrono::milliseconds &out)
{
	auto n = get(key);
	if (!n)
		return;
	if (!n.IsScalar())
		return fail(n, keyPath(key), "expected a duration such as 250ms, 3s or 2m");
	auto d = parseDuration(n.Scalar());
	if (!d)
		return fail(n, keyPath(key), d.error().message);
	out = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

void MapReader::size(const char *key, size_t &out)
{
	auto n = get(key);
	if (!n)
		return;
	if (!n.IsScalar())
		return fail(n, keyPath(key), "expected a size such as 4194304 or 4MiB");
	auto s = parseSize(n.Scalar());
	if (!s)
		return fail(n, keyPath(key), s.error().message);
	out = *s;
}

void MapReader::strMap(const char *key, std::map<std::string, std::string> &out)
{
	auto n = get(key);
	if (!n || n.IsNull())
		return;
	if (!n.IsMap())
		return fail(n, keyPath(key), "expected a mapping of names to strings");
	for (const auto &kv : n) {
		if (!kv.first.IsScalar() || !kv.second.IsScalar())
			return fail(kv.first, keyPath(key), "expected string keys and string values");
		out[kv.first.Scalar()] = kv.second.Scalar();
	}
}

void MapReader::strList(const char *key, std::vector<std::string> &out)
{
	auto n = get(key);
	if (!n || n.IsNull())
		return;
	if (!n.IsSequence())
		return fail(n, keyPath(key), "expected a list of strings");
	std::vector<std::string> v;
	for (const auto &e : n) {
		if (!e.IsScalar())
			return fail(e, keyPath(key), "expected a list of strings");
		v.push_back(e.Scalar());
	}
	out = std::move(v);
}

bool MapReader::child(const char *key, YAML::Node &out)
{
	auto n = get(key);
	if (!ok() || !n)
		return false;
	out = n;
	return true;
}

void MapReader::rejectUnknown()
{
	if (!ok() || !node_ || !node_.IsMap())
		return;
	std::vector<std::string> known(known_.begin(), known_.end());
	for (const auto &kv : node_) {
		std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
		if (known_.count(k))
			continue;
		std::string hint = didYouMean(k, known);
		fail(kv.first, keyPath(k.c_str()),
		     hint.empty() ? fmt::format("unknown key (known keys: {})", fmt::join(known, ", "))
				  : fmt::format("unknown key; did you mean '{}'?", hint));
		return;
	}
}

Result<void> MapReader::result() const
{
	if (ok())
		return success();
	return Error{Errc::Invalid, error_};
}

Result<void> readLogOptions(MapReader &r, log::Options &out)
{
	YAML::Node n;
	if (!r.child("log", n))
		return success();
	MapReader lr(n, r.origin(), "log");
	lr.str("level", out.level);
	lr.str("format", out.format);
	lr.str("file", out.file);
	lr.rejectUnknown();
	return lr.result();
}

} // namespace xdc
