// SPDX-License-Identifier: Apache-2.0
// Clock readings.
#include "common/clock.h"

#include <atomic>
#include <ctime>

namespace xdc::clk {

namespace {
std::atomic<int64_t> gSkew{0};

int64_t read(clockid_t id)
{
	timespec ts{};
	clock_gettime(id, &ts);
	return static_cast<int64_t>(ts.tv_sec) * kSec + ts.tv_nsec;
}
} // namespace

int64_t wallNs() { return read(CLOCK_REALTIME) + gSkew.load(std::memory_order_relaxed); }
int64_t monoNs() { return read(CLOCK_MONOTONIC); }
void setTestSkew(int64_t skewNs) { gSkew.store(skewNs); }
int64_t testSkew() { return gSkew.load(); }

} // namespace xdc::clk
