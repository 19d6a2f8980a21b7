// SPDX-License-Identifier: Apache-2.0
// Typed reading of YAML config files with errors that name file:line:column, the key path and what was expected.
// Loaders use it once at start-up to fill plain structs; no YAML node travels further than the loader.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/log.h"
#include "common/result.h"

namespace xdc {

// Parses YAML text; syntax errors come back as "origin:line:col: message". Documents above maxBytes are refused.
Result<YAML::Node> parseYaml(const std::string &text, const std::string &origin, size_t maxBytes = 8 << 20);
Result<YAML::Node> loadYamlFile(const std::string &path);

// Closest candidate by edit distance, or "" when none is close.
std::string didYouMean(const std::string &word, const std::vector<std::string> &candidates);

// "origin:line:column" of a node (1-based), or just origin when the node has no position (undefined, or built in
// memory). Every spec reader names places this way.
std::string nodeWhere(const std::string &origin, const YAML::Node &n);

// Reads the keys of one mapping. Collects the first error; check error() after reading.
class MapReader {
public:
	MapReader(const YAML::Node &node, std::string origin, std::string path);

	// Each getter leaves `out` untouched when the key is absent.
	void str(const char *key, std::string &out);
	void integer(const char *key, int64_t &out, int64_t min, int64_t max);
	void boolean(const char *key, bool &out);
	void duration(const char *key, std::chrono::milliseconds &out);
	void size(const char *key, size_t &out);  // bytes: 4194304, "4MiB", "64KiB"
	void strMap(const char *key, std::map<std::string, std::string> &out);
	void strList(const char *key, std::vector<std::string> &out); // a sequence of strings (replaces out)
	// A nested mapping for the caller to read with its own MapReader.
	bool child(const char *key, YAML::Node &out);
	// Fails on any key not read so far, suggesting the nearest known key.
	void rejectUnknown();

	bool ok() const { return error_.empty(); }
	Result<void> result() const;
	std::string where(const YAML::Node &n) const;
	std::string keyPath(const char *key) const { return path_.empty() ? key : path_ + "." + key; }
	const std::string &origin() const { return origin_; }
	void fail(const YAML::Node &at, const std::string &key, const std::string &what);
	// Takes a nested reader's first error as this reader's (when this one has none yet).
	void adopt(const MapReader &nested);

private:
	YAML::Node get(const char *key);
	YAML::Node node_;
	std::string origin_;
	std::string path_;
	std::set<std::string> known_;
	std::string error_;
};

Result<size_t> parseSize(const std::string &text);

// Reads the optional `log:` block (level, format, file) shared by the agent's and the controller's configs.
Result<void> readLogOptions(MapReader &r, log::Options &out);

} // namespace xdc
