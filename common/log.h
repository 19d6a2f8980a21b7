// SPDX-License-Identifier: Apache-2.0
// Logging set-up: one named spdlog logger per subsystem, text or JSON lines, to stderr or a file.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "common/result.h"

namespace xdc::log {

struct Options {
	std::string level = "info";  // trace, debug, info, warn, error
	std::string format = "text"; // text | json
	std::string file;            // empty: stderr
};

// Configures the sinks shared by every logger. Call once at start-up, before get().
Result<void> init(const Options &opts);
// The logger of one subsystem ("transport", "fleet", "agent", ...), created on first use.
std::shared_ptr<spdlog::logger> get(const std::string &name);
// Adds a sink to every logger, present and future (the agent's evidence log tap). Call during start-up.
void addSink(spdlog::sink_ptr sink);

} // namespace xdc::log
