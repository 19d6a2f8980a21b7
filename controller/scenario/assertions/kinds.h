// SPDX-License-Identifier: Apache-2.0
// The assertion kinds' parsers, one per file in this folder; registry.cpp puts them in the table.
#pragma once

#include <cstdint>
#include <optional>

#include "controller/scenario/assertions/assertion.h"

namespace xdc::scenario {

std::shared_ptr<const AssertionCheck> parseOutage(AssertionParse &p);
std::shared_ptr<const AssertionCheck> parseSuccessRatio(AssertionParse &p);
std::shared_ptr<const AssertionCheck> parseProcessEvents(AssertionParse &p);
std::shared_ptr<const AssertionCheck> parseMetric(AssertionParse &p);
std::shared_ptr<const AssertionCheck> parseStreams(AssertionParse &p);
std::shared_ptr<const AssertionCheck> parseData(AssertionParse &p);
std::shared_ptr<const AssertionCheck> parseThroughput(AssertionParse &p);

// count_min / count_max (0..1,000,000), when given.
void readCountBounds(MapReader &r, std::optional<int64_t> &min, std::optional<int64_t> &max);
// A phase name a window can be: "" (the whole run), baseline, inject, observe or recover.
bool isWindowPhase(const std::string &phase);

} // namespace xdc::scenario
