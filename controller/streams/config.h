// SPDX-License-Identifier: Apache-2.0
// The `streams:` config file: one Endpoint per DC's instance, per-instance keys over shared defaults.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "controller/streams/client.h"

namespace xdc::streams {

// Reads the YAML file at `path`. Passwords come from `password_file` (first line, trimmed) or `password_env`, never
// from the file itself. Errors name the file, line, key path and what was expected; unknown keys suggest the nearest
// known one.
[[nodiscard]] Result<std::vector<Endpoint>> loadStreamsConfig(const std::string &path);
// The same from YAML text; `origin` names it in errors (tests and embedded configs).
[[nodiscard]] Result<std::vector<Endpoint>> parseStreamsConfig(const std::string &text, const std::string &origin);

} // namespace xdc::streams
