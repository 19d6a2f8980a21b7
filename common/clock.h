// SPDX-License-Identifier: Apache-2.0
// Time sources: the wall clock every timestamp on the wire uses, and the monotonic clock every deadline uses.
#pragma once

#include <cstdint>

namespace xdc::clk {

// CLOCK_REALTIME in ns since the epoch, plus the test skew if one was set.
int64_t wallNs();
// CLOCK_MONOTONIC in ns; never skewed, never jumps.
int64_t monoNs();
// Shifts wallNs() readings by skewNs. Test-only: the agent calls it only when test features are enabled, so the
// lab can prove the offset estimator on one machine.
void setTestSkew(int64_t skewNs);
int64_t testSkew();

constexpr int64_t kMs = 1000000;
constexpr int64_t kSec = 1000000000;

} // namespace xdc::clk
