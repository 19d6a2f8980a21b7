// SPDX-License-Identifier: Apache-2.0
// Scenario variables: ${name} substitution and random draws from the seed (spec_parser.h).
#include "controller/scenario/spec_parser.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "common/duration.h"
#include "common/yaml_reader.h"
#include "controller/scenario/assertions/assertion.h"
#include "controller/scenario/spec_read.h"

namespace xdc::scenario::detail {

using namespace std::chrono_literals;

bool plainWord(const std::string &v)
{
	static const std::regex re("^[A-Za-z0-9_.:/%+@-]*$");
	return std::regex_match(v, re);
}

// Replaces ${name} by the variable's value in the text; line numbers stay (values never hold line breaks).
Result<std::string> substitute(const std::string &text, const std::string &origin,
			       const std::map<std::string, std::string> &vars)
{
	std::string out;
	out.reserve(text.size());
	size_t line = 1, col = 1;
	for (size_t i = 0; i < text.size();) {
		if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
			size_t end = text.find('}', i + 2);
			const size_t nl = text.find('\n', i);
			if (end == std::string::npos || (nl != std::string::npos && nl < end))
				return makeError(Errc::Invalid, "{}:{}:{}: '${{' without a closing '}}' on the same line",
						 origin, line, col);
			const std::string name = text.substr(i + 2, end - i - 2);
			auto it = vars.find(name);
			if (it == vars.end()) {
				std::vector<std::string> names;
				for (const auto &[k, v] : vars)
					names.push_back(k);
				const std::string hint = didYouMean(name, names);
				return makeError(Errc::Invalid, "{}:{}:{}: variables: undefined variable '{}'{}", origin, line, col,
						 name,
						 hint.empty() ? fmt::format(" (defined: {})", names.empty() ? "none"
									: fmt::format("{}", fmt::join(names, ", ")))
							      : fmt::format("; did you mean '{}'?", hint));
			}
			out += it->second;
			col += end + 1 - i;
			i = end + 1;
			continue;
		}
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		out += text[i++];
	}
	return out;
}

// The variables block: plain values, or random ones drawn from the seed: {choose: [a, b, c]} picks one value,
// {uniform: [1s, 5s]} a duration between the two (whole milliseconds). Each variable draws from its own generator,
// seeded by the run's seed and its name, so adding a variable never changes what the others draw.
Result<void> readVariables(const YAML::Node &doc, const std::string &origin, uint64_t seed,
			   std::map<std::string, std::string> &vars, std::map<std::string, std::string> &drawn)
{
	const YAML::Node block = doc["variables"];
	if (!block || block.IsNull())
		return success();
	if (!block.IsMap())
		return failAt(origin, block, "variables", "expected a mapping of names to values");
	static const std::regex varName("^[A-Za-z_][A-Za-z0-9_]{0,63}$");
	for (const auto &kv : block) {
		if (!kv.first.IsScalar())
			return failAt(origin, kv.first, "variables", "expected variable names as keys");
		const std::string k = kv.first.Scalar(), path = "variables." + k;
		if (!std::regex_match(k, varName))
			return failAt(origin, kv.first, path, "not a valid variable name (letters, digits, '_')");
		const YAML::Node &v = kv.second;
		std::string value;
		if (v.IsScalar()) {
			value = v.Scalar();
		} else if (v.IsMap() && v.size() == 1 && (v["choose"] || v["uniform"])) {
			uint64_t h = 1469598103934665603ULL; // FNV-1a of the name, mixed with the seed
			for (unsigned char c : k)
				h = (h ^ c) * 1099511628211ULL;
			std::mt19937_64 rng(seed ^ h);
			const bool choose = static_cast<bool>(v["choose"]);
			const YAML::Node list = choose ? v["choose"] : v["uniform"];
			const std::string lpath = path + (choose ? ".choose" : ".uniform");
			if (!list.IsSequence() || list.size() == 0 || (!choose && list.size() != 2))
				return failAt(origin, list, lpath, choose ? "expected a non-empty list of values to choose from"
									 : "expected [min, max] durations, e.g. [1s, 5s]");
			for (const auto &e : list)
				if (!e.IsScalar())
					return failAt(origin, e, lpath, "expected plain values");
			if (choose) {
				value = list[static_cast<size_t>(rng() % list.size())].Scalar();
			} else {
				auto lo = parseDuration(list[0].Scalar());
				auto hi = parseDuration(list[1].Scalar());
				if (!lo)
					return failAt(origin, list[0], lpath + "[0]", lo.error().message);
				if (!hi)
					return failAt(origin, list[1], lpath + "[1]", hi.error().message);
				if (*hi < *lo)
					return failAt(origin, list, lpath, "max is below min");
				const int64_t a = std::chrono::duration_cast<std::chrono::milliseconds>(*lo).count();
				const int64_t b = std::chrono::duration_cast<std::chrono::milliseconds>(*hi).count();
				value = fmt::format("{}ms", a + static_cast<int64_t>(rng() % static_cast<uint64_t>(b - a + 1)));
			}
			drawn[k] = value;
		} else {
			return failAt(origin, v, path, "expected a plain value, {choose: [a, b, ...]} or {uniform: [min, max]}");
		}
		if (!plainWord(value))
			return failAt(origin, v, path,
				      fmt::format("'{}' is not a plain value (letters, digits and _ . : / % + @ - only)", value));
		vars[k] = value;
	}
	return success();
}

} // namespace xdc::scenario::detail
