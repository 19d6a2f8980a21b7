// SPDX-License-Identifier: Apache-2.0
// The agent's Streams commands: streams.pe (streamtool stoppe|restartpe) and streams.orderly_shutdown (the site's
// hook that makes the application start the cross-DC toolkit's orderly shutdown). Both run one argv that the agent
// builds from its own `streams:` config through sys::run: no shell, the config's env, its timeout, stdout and stderr
// captured together.
//
// Contract: nothing from the wire becomes a program or a free-form argument. streams.pe takes a verb of two and a
// PE id of digits; streams.orderly_shutdown takes at most a job id of digits, which only replaces an argv element
// that is exactly `{job}`. Errors: Errc::Unsupported when the config lacks the program (the message names the config
// key), Errc::Invalid for a bad verb or id, the runner's error (Errc::Io, Errc::Timeout) when the program could not
// run to its end. A program that ran and exited non-zero is a reply, not an error: the caller judges exitCode.
#pragma once

#include <string_view>

#include "agent/config.h"
#include "common/proto/messages.h"
#include "common/result.h"

namespace xdc::agent {

// The argv element of streams.orderly_shutdown that the job id replaces.
constexpr std::string_view kJobPlaceholder = "{job}";

Result<proto::StreamsPeReply> runStreamtool(const AgentConfig::Streams &cfg, const proto::StreamsPeArgs &args);
Result<proto::StreamsOrderlyShutdownReply> runOrderlyShutdown(const AgentConfig::Streams &cfg,
							       const proto::StreamsOrderlyShutdownArgs &args);

} // namespace xdc::agent
