// SPDX-License-Identifier: Apache-2.0
// Trace lines to a PE's trace file or a standalone program's stdout.
#include "emulator/trace.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <unistd.h>

#include <fmt/format.h>

#include "emulator/truth_log.h"

namespace xdc::emu {

Result<TraceLevel> parseTraceLevel(std::string_view s)
{
	static const std::pair<const char *, TraceLevel> kNames[] = {
		{"off", TraceLevel::Off},   {"error", TraceLevel::Error}, {"warn", TraceLevel::Warn},
		{"info", TraceLevel::Info}, {"debug", TraceLevel::Debug}, {"trace", TraceLevel::Trace}};
	for (const auto &[n, l] : kNames)
		if (s == n)
			return l;
	return makeError(Errc::Invalid, "'{}' is not a trace level (off, error, warn, info, debug, trace)", s);
}

const char *traceLevelName(TraceLevel l)
{
	switch (l) {
	case TraceLevel::Error: return "ERROR";
	case TraceLevel::Warn: return "WARN";
	case TraceLevel::Info: return "INFO";
	case TraceLevel::Debug: return "DEBUG";
	case TraceLevel::Trace: return "TRACE";
	case TraceLevel::Off: break;
	}
	return "OFF";
}

std::string isoTime(int64_t tNs)
{
	const time_t secs = static_cast<time_t>(tNs / 1000000000);
	struct tm tm{};
	::gmtime_r(&secs, &tm);
	return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
			   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (tNs % 1000000000) / 1000);
}

TraceWriter::~TraceWriter()
{
	close();
}

Result<void> TraceWriter::open(const std::string &path, TraceLevel level, std::string context, int pid)
{
	close();
	std::lock_guard lk(mu_);
	pid_ = pid;
	level_ = level;
	context_ = std::move(context);
	if (path.empty() || level == TraceLevel::Off)
		return success();
	std::error_code ec;
	std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
	f_ = std::fopen(path.c_str(), "ae");
	if (!f_)
		return makeError(Errc::Io, "cannot open trace file '{}': {}", path, std::strerror(errno));
	ownsFile_ = true;
	return success();
}

void TraceWriter::toStdout(TraceLevel level, std::string context)
{
	close();
	std::lock_guard lk(mu_);
	level_ = level;
	context_ = std::move(context);
	f_ = stdout;
	ownsFile_ = false;
}

void TraceWriter::close()
{
	std::lock_guard lk(mu_);
	if (f_ && ownsFile_)
		std::fclose(f_);
	f_ = nullptr;
	ownsFile_ = false;
}

bool TraceWriter::enabled(TraceLevel l)
{
	std::lock_guard lk(mu_);
	return f_ && l != TraceLevel::Off && l <= level_;
}

void TraceWriter::write(TraceLevel l, std::string_view op, std::string_view aspect, std::string_view msg)
{
	std::lock_guard lk(mu_);
	if (!f_ || l == TraceLevel::Off || l > level_)
		return;
	const std::string line = fmt::format("{} [{}] {} #splapptrc,{},{},{} - {}\n", isoTime(TruthLog::realtimeNs()),
					     pid_ ? pid_ : ::getpid(), traceLevelName(l), context_, op, aspect, msg);
	std::fwrite(line.data(), 1, line.size(), f_);
	std::fflush(f_);
}

} // namespace xdc::emu
