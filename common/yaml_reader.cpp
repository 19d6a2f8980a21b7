// SPDX-License-Identifier: Apache-2.0
// Typed YAML reading.
#include "common/yaml_reader.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/duration.h"

namespace xdc {

Result<YAML::Node> parseYaml(const std::string &text, const std::string &origin, size_t maxBytes)
{
	if (text.size() > maxBytes)
		return makeError(Errc::Invalid, "{}: file of {} bytes is larger than the {} byte limit", origin,
				 text.size(), maxBytes);
	try {
		return YAML::Load(text);
	} catch (const YAML::Exception &e) {
		return makeError(Errc::Invalid, "{}:{}:{}: invalid YAML: {}", origin, e.mark.line + 1, e.mark.column + 1,
				 e.msg);
	} catch (const std::exception &e) {
		return makeError(Errc::Invalid, "{}: invalid YAML: {}", origin, e.what());
	}
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

std::string MapReader::where(const YAML::Node &n) const
{
	auto m = n.Mark();
	if (m.is_null())
		return origin_;
	return fmt::format("{}:{}:{}", origin_, m.line + 1, m.column + 1);
}

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
