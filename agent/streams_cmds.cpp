// SPDX-License-Identifier: Apache-2.0
// streams.pe and streams.orderly_shutdown (agent/streams_cmds.h).
#include "agent/streams_cmds.h"

#include <algorithm>

#include "common/clock.h"
#include "common/sys/process.h"

namespace xdc::agent {

namespace {

constexpr size_t kMaxOutputBytes = 4096;
constexpr size_t kMaxIdDigits = 18;

bool digitsId(const std::string &id)
{
	return !id.empty() && id.size() <= kMaxIdDigits && id.find_first_not_of("0123456789") == std::string::npos;
}

// Runs rep.argv the way every Streams command does; what a failure to run is called comes from `what`.
Result<proto::StreamsPeReply> runStreamsArgv(const AgentConfig::Streams &cfg, proto::StreamsPeReply rep,
					     const char *what)
{
	sys::RunOptions ro;
	ro.timeout = cfg.timeout;
	ro.mergeStderr = true;
	ro.env = cfg.env;
	rep.startedNs = clk::wallNs();
	auto out = sys::run(rep.argv, ro);
	rep.endedNs = clk::wallNs();
	if (!out)
		return out.error().context(what);
	rep.exitCode = out->exitCode;
	rep.output = out->out.substr(0, kMaxOutputBytes);
	return rep;
}

} // namespace

// streams.pe: the only way the agent runs streamtool — a fixed verb and a PE id of digits, never a shell.
Result<proto::StreamsPeReply> runStreamtool(const AgentConfig::Streams &cfg, const proto::StreamsPeArgs &args)
{
	if (cfg.streamtool.empty())
		return makeError(Errc::Unsupported, "streams.pe: this agent has no streams.streamtool configured");
	if (args.verb != "stop" && args.verb != "restart")
		return makeError(Errc::Invalid, "streams.pe: verb '{}': expected stop or restart", args.verb);
	if (!digitsId(args.pe))
		return makeError(Errc::Invalid, "streams.pe: pe '{}': expected a PE id (digits)", args.pe);
	proto::StreamsPeReply rep;
	rep.argv = {cfg.streamtool, args.verb == "stop" ? "stoppe" : "restartpe", args.pe};
	if (!cfg.instance.empty()) {
		rep.argv.push_back("-i");
		rep.argv.push_back(cfg.instance);
	}
	if (!cfg.passwordFile.empty()) {
		rep.argv.push_back("--password-file");
		rep.argv.push_back(cfg.passwordFile);
	}
	return runStreamsArgv(cfg, std::move(rep), "streams.pe: streamtool");
}

Result<proto::StreamsOrderlyShutdownReply> runOrderlyShutdown(const AgentConfig::Streams &cfg,
							       const proto::StreamsOrderlyShutdownArgs &args)
{
	if (cfg.orderlyShutdown.empty())
		return makeError(Errc::Unsupported, "streams.orderly_shutdown: this agent has no streams.orderly_shutdown "
				 "configured (the site's command, an argv list, that makes the application start the "
				 "cross-DC toolkit's orderly shutdown)");
	if (!args.job.empty() && !digitsId(args.job))
		return makeError(Errc::Invalid, "streams.orderly_shutdown: job '{}': expected a job id (digits)", args.job);
	proto::StreamsOrderlyShutdownReply rep;
	rep.argv = cfg.orderlyShutdown;
	const bool wantsJob = std::find(rep.argv.begin() + 1, rep.argv.end(), kJobPlaceholder) != rep.argv.end();
	if (wantsJob && args.job.empty())
		return makeError(Errc::Invalid, "streams.orderly_shutdown: the configured command takes the job id ({}) "
				 "and none was given", kJobPlaceholder);
	for (auto it = rep.argv.begin() + 1; it != rep.argv.end(); ++it)
		if (*it == kJobPlaceholder)
			*it = args.job;
	return runStreamsArgv(cfg, std::move(rep), "streams.orderly_shutdown");
}

} // namespace xdc::agent
