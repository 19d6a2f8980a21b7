// SPDX-License-Identifier: Apache-2.0
// Application trace, as a PE (or a standalone program) writes it: one line per appTrc() call whose level is at or
// below the configured trace level. Lines go to a file (a PE's trace file on the Streams host) or to stdout (a
// standalone program). The line layout is the emulator's own (docs/EMULATOR.md "Trace files"):
//
//   2026-12-06T11:36:20.123456+00:00 [4711] INFO #splapptrc,J[1],P[3],CrossDCFailover.RemoteDataCenterHeartbeatWatchdog,
//       RemoteDC-Heartbeat-Watchdog - _XXXXX_ Received the heartbeat message 17 ...
//
// (one line; wrapped here). Thread-safe.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "common/result.h"

namespace xdc::emu {

enum class TraceLevel { Off = 0, Error, Warn, Info, Debug, Trace };

// "off", "error", "warn", "info", "debug", "trace" (Streams' names); Invalid otherwise.
Result<TraceLevel> parseTraceLevel(std::string_view s);
const char *traceLevelName(TraceLevel l);

class TraceWriter {
public:
	TraceWriter() = default;
	~TraceWriter();
	TraceWriter(const TraceWriter &) = delete;
	TraceWriter &operator=(const TraceWriter &) = delete;

	// Appends to `path` (its directories are made); an empty path or level Off writes nothing.
	// `pid` is the process the lines are of (a PE's); 0 = this process.
	[[nodiscard]] Result<void> open(const std::string &path, TraceLevel level, std::string context, int pid = 0);
	// Writes to stdout instead (a standalone program's trace).
	void toStdout(TraceLevel level, std::string context);
	void close();

	bool enabled(TraceLevel l);
	// One line: time, pid, level, the context ("J[1],P[3]"), the operator and the aspect, then the message.
	void write(TraceLevel l, std::string_view op, std::string_view aspect, std::string_view msg);

private:
	std::mutex mu_;
	FILE *f_ = nullptr;
	bool ownsFile_ = false;
	TraceLevel level_ = TraceLevel::Off;
	std::string context_;
	int pid_ = 0;
};

// ISO-8601 with microseconds and an explicit UTC offset of the CLOCK_REALTIME instant tNs.
std::string isoTime(int64_t tNs);

} // namespace xdc::emu
