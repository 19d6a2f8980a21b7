// SPDX-License-Identifier: Apache-2.0
// Parsing and printing of user-written durations.
#include "common/duration.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>

namespace xdc {

namespace {

struct Unit {
	std::string_view name;
	int64_t ns;
};

constexpr Unit kUnits[] = {
	{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000},
	{"m", 60LL * 1000000000}, {"h", 3600LL * 1000000000},
};

} // namespace

Result<Nanos> parseDuration(std::string_view text)
{
	const std::string_view original = text;
	auto bad = [&](std::string_view why) {
		return makeError(Errc::Invalid, "invalid duration '{}': {} (expected e.g. 250ms, 3s, 2m, 1m30s)",
				 original, why);
	};
	while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
		text.remove_prefix(1);
	while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
		text.remove_suffix(1);
	if (text.empty())
		return bad("empty");
	if (text.front() == '-')
		return bad("negative");
	if (text == "0")
		return Nanos{0};

	long double total = 0;
	while (!text.empty()) {
		size_t i = 0;
		long double value = 0;
		bool digits = false;
		while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
			value = value * 10 + (text[i] - '0');
			digits = true;
			i++;
		}
		if (i < text.size() && text[i] == '.') {
			i++;
			long double scale = 0.1L;
			while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
				value += (text[i] - '0') * scale;
				scale /= 10;
				digits = true;
				i++;
			}
		}
		if (!digits)
			return bad("a number must come before each unit");
		size_t j = i;
		while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j])))
			j++;
		std::string_view unit = text.substr(i, j - i);
		if (unit.empty())
			return bad("missing unit");
		const Unit *found = nullptr;
		for (const auto &u : kUnits)
			if (u.name == unit)
				found = &u;
		if (!found)
			return bad(fmt::format("unknown unit '{}'", unit));
		total += value * found->ns;
		if (total > static_cast<long double>(std::numeric_limits<int64_t>::max() / 2))
			return bad("too large");
		text.remove_prefix(j);
	}
	return Nanos{static_cast<int64_t>(total + 0.5L)};
}

std::string formatDuration(Nanos d)
{
	int64_t ns = d.count();
	if (ns == 0)
		return "0s";
	std::string sign = ns < 0 ? "-" : "";
	if (ns < 0)
		ns = -ns;
	for (auto it = std::rbegin(kUnits); it != std::rend(kUnits); ++it) {
		if (ns % it->ns == 0)
			return fmt::format("{}{}{}", sign, ns / it->ns, it->name);
	}
	// Fall back to the largest unit below the value with decimals.
	for (auto it = std::rbegin(kUnits); it != std::rend(kUnits); ++it) {
		if (ns >= it->ns && it->ns <= 1000000000)
			return fmt::format("{}{:g}{}", sign, static_cast<double>(ns) / it->ns, it->name);
	}
	return fmt::format("{}{}ns", sign, ns);
}

std::string formatApprox(Nanos d)
{
	const int64_t ns = d.count();
	const std::string sign = ns < 0 ? "-" : "";
	const double a = std::abs(static_cast<double>(ns));
	if (a < 10e9)
		return fmt::format("{}{:.0f} ms", sign, a / 1e6);
	const double s = a / 1e9;
	if (s < 99.95)
		return fmt::format("{}{:.1f} s", sign, s);
	if (s < 999.5)
		return fmt::format("{}{:.0f} s", sign, s);
	const double min = s / 60;
	if (min < 99.95)
		return fmt::format("{}{:.1f} min", sign, min);
	return fmt::format("{}{:.0f} min", sign, min);
}

} // namespace xdc
