// SPDX-License-Identifier: Apache-2.0
// A DataSink that reads a sink file on another host through that host's agent (data.tail via the controller
// daemon), so the output of a Streams host in another DC is validated without a path or a shell on the wire.
//
// Contract: like every DataSink, poll() returns only complete lines, each once. The first poll skips what the file
// holds already (the lines of earlier runs), as the HTTP sink skips the tuples it held. When the agent reports the
// file replaced or truncated the sink reads it again from 0 and counts it in restarts() (the lines read again may
// show as duplicates: the report says why).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "common/data/endpoints.h"
#include "controller/control/answers.h"
#include "controller/control/requests.h"

namespace xdc::data {

struct AgentSinkOptions {
	std::string name;        // the DC, for reports
	std::string host;        // the agent (host id) that reads the file
	std::string sink;        // the name in that agent's data.sinks
	uint64_t maxBytes = 1u << 20; // per data.tail call
	int timeoutMs = 5000;
	// The controller's control socket: one request, one reply (thread-safe: a connection per call).
	control::Caller call;
};

class AgentFileSink final : public DataSink {
public:
	explicit AgentFileSink(AgentSinkOptions o) : o_(std::move(o)) {}
	std::string name() const override { return o_.name; }
	std::string how() const override;
	Result<std::string> poll() override;
	uint64_t restarts() const override { return restarts_; }

private:
	Result<control::DataTailAnswer> tail(bool fromEnd);
	AgentSinkOptions o_;
	bool started_ = false;
	uint64_t offset_ = 0, inode_ = 0, restarts_ = 0;
};

std::unique_ptr<DataSink> makeAgentSink(AgentSinkOptions o);

} // namespace xdc::data
