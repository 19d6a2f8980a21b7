// SPDX-License-Identifier: Apache-2.0
// Durations as users write them: "250ms", "3s", "2m", "1h", "1m30s", "100us".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace xdc {

using Nanos = std::chrono::nanoseconds;

// Parses a duration; a bare number is refused (a unit is always required) so "5" never silently means 5 ns or 5 s.
Result<Nanos> parseDuration(std::string_view text);
// The shortest exact spelling: 1500ms -> "1.5s", 120s -> "2m".
std::string formatDuration(Nanos d);
// A measured or planned duration for people, in one consistent style: milliseconds below 10 s ("850 ms",
// "9999 ms"), seconds to three significant figures from 10 s ("22.8 s", "125 s"), minutes from 1000 s ("62.1 min").
// Not exact: config values are spelled with formatDuration.
std::string formatApprox(Nanos d);

} // namespace xdc
