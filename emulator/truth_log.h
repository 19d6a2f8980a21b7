// SPDX-License-Identifier: Apache-2.0
// The ground-truth log: one JSON line per event, stamped with CLOCK_REALTIME, for tests to compare xdc's findings with.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace xdc::emu {

class TruthLog {
public:
	TruthLog() = default;
	~TruthLog();
	TruthLog(const TruthLog &) = delete;
	TruthLog &operator=(const TruthLog &) = delete;

	// Opens path for appending; with an empty path every write() is a no-op.
	[[nodiscard]] Result<void> open(const std::string &path, const std::string &dc);
	// Appends {"t_ns","dc","event", ...fields} and flushes, so a killed emulator loses no line.
	void write(const std::string &event, const nlohmann::json &fields = nlohmann::json::object());

	static int64_t realtimeNs();

private:
	std::mutex mu_;
	FILE *f_ = nullptr;
	std::string dc_;
};

} // namespace xdc::emu
