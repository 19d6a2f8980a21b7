// SPDX-License-Identifier: Apache-2.0
// Logger construction.
#include "common/log.h"

#include <mutex>
#include <vector>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace xdc::log {

namespace {
std::mutex gMutex;
std::vector<spdlog::sink_ptr> gSinks;
spdlog::level::level_enum gLevel = spdlog::level::info;
std::string gPattern = "%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ [%n] %v";

constexpr const char *kJsonPattern =
	R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","logger":"%n","pid":%P,"msg":"%*"})";

// %* : the message escaped for a JSON string, so every line of a JSON log parses whatever the message holds.
class JsonEscapedMessage : public spdlog::custom_flag_formatter {
public:
	void format(const spdlog::details::log_msg &msg, const std::tm &, spdlog::memory_buf_t &dest) override
	{
		static const char *hex = "0123456789abcdef";
		for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
			const auto u = static_cast<unsigned char>(c);
			if (c == '"' || c == '\\') {
				dest.push_back('\\');
				dest.push_back(c);
			} else if (u < 0x20) {
				const char esc[] = {'\\', 'u', '0', '0', hex[u >> 4], hex[u & 15]};
				dest.append(esc, esc + sizeof esc);
			} else {
				dest.push_back(c);
			}
		}
	}
	std::unique_ptr<custom_flag_formatter> clone() const override
	{
		return std::make_unique<JsonEscapedMessage>();
	}
};

std::unique_ptr<spdlog::formatter> makeFormatter()
{
	auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
	f->add_flag<JsonEscapedMessage>('*').set_pattern(gPattern);
	return f;
}
} // namespace

Result<void> init(const Options &opts)
{
	std::lock_guard lock(gMutex);
	auto level = spdlog::level::from_str(opts.level);
	if (level == spdlog::level::off && opts.level != "off")
		return makeError(Errc::Invalid, "unknown log level '{}' (expected trace, debug, info, warn, error)",
				 opts.level);
	if (opts.format != "text" && opts.format != "json")
		return makeError(Errc::Invalid, "unknown log format '{}' (expected text or json)", opts.format);
	gLevel = level;
	gPattern = opts.format == "json" ? kJsonPattern : "%Y-%m-%dT%H:%M:%S.%fZ %^%l%$ [%n] %v";
	gSinks.clear();
	try {
		if (opts.file.empty())
			gSinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
		else
			gSinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(opts.file));
	} catch (const spdlog::spdlog_ex &e) {
		return makeError(Errc::Io, "cannot open log file '{}': {}", opts.file, e.what());
	}
	spdlog::drop_all();
	spdlog::flush_on(spdlog::level::info);
	return success();
}

std::shared_ptr<spdlog::logger> get(const std::string &name)
{
	std::lock_guard lock(gMutex);
	if (auto existing = spdlog::get(name))
		return existing;
	if (gSinks.empty())
		gSinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
	auto logger = std::make_shared<spdlog::logger>(name, gSinks.begin(), gSinks.end());
	logger->set_level(gLevel);
	logger->set_formatter(makeFormatter());
	logger->flush_on(spdlog::level::info);
	spdlog::register_logger(logger);
	return logger;
}

void addSink(spdlog::sink_ptr sink)
{
	std::lock_guard lock(gMutex);
	if (gSinks.empty())
		gSinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
	gSinks.push_back(sink);
	spdlog::apply_all([&](const std::shared_ptr<spdlog::logger> &l) { l->sinks().push_back(sink); });
}

} // namespace xdc::log
