// SPDX-License-Identifier: Apache-2.0
// A DataSource that drops files of tuple lines on a Streams host through that host's agent (data.drop via the
// controller daemon), for an application that ingests with DirectoryScan + FileSource: each send() is one file,
// written under a hidden name and renamed into the directory the agent's data.drops names.
//
// Contract: all or nothing per send(): the file is in place (every line written) or not (none); a timeout leaves
// the outcome unknown (every line uncertain). Thread-compatible, like every DataSource.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/data/endpoints.h"
#include "controller/control/requests.h"

namespace xdc::data {

struct AgentDropOptions {
	std::string name;        // the DC, for reports
	std::string host;        // the agent (host id) that writes the file
	std::string drop;        // the name in that agent's data.drops
	int timeoutMs = 5000;
	// The controller's control socket: one request, one reply (thread-safe: a connection per call).
	control::Caller call;
};

std::unique_ptr<DataSource> makeAgentDropSource(AgentDropOptions o);

} // namespace xdc::data
