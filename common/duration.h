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

} // namespace xdc
