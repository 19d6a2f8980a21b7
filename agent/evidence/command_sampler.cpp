// SPDX-License-Identifier: Apache-2.0
// The command sampler: runs a site-specific check that the agent's own config declares (evidence.commands) and
// records whether it succeeded. The wire only names the command; its argv comes from the agent's config and runs
// through sys::run (argv, no shell), so a recording can never make an agent run something its operator did not list.
#include <algorithm>
#include <chrono>

#include "agent/evidence/sampler.h"
#include "common/clock.h"
#include "common/sys/process.h"

namespace xdc::agent::samplers {

namespace {

constexpr size_t kMaxOutput = 200;

// The first line of text, without a trailing '\r', at most kMaxOutput characters.
std::string firstLine(const std::string &text)
{
	std::string line = text.substr(0, text.find('\n'));
	if (!line.empty() && line.back() == '\r')
		line.pop_back();
	if (line.size() > kMaxOutput)
		line.resize(kMaxOutput);
	return line;
}

class CommandSampler final : public Sampler {
public:
	CommandSampler(const evidence::SamplerSpec &spec, CommandDef def) : spec_(spec), def_(std::move(def))
	{
		// The tighter of the spec's timeout and the agent's own for this command; whole milliseconds, at least 1.
		auto specMs = std::chrono::duration_cast<std::chrono::milliseconds>(spec_.timeout);
		if (specMs.count() <= 0)
			specMs = def_.timeout;
		timeout_ = std::max(std::chrono::milliseconds(1), std::min(specMs, def_.timeout));
	}

	const evidence::SamplerSpec &spec() const override { return spec_; }

	void sample(std::vector<proto::Sample> &out) override
	{
		proto::Sample s;
		s.kind = "command";
		s.source = spec_.name;
		s.wallNs = clk::wallNs();
		s.monoNs = clk::monoNs();
		s.tags["command"] = spec_.command;
		sys::RunOptions opts;
		opts.timeout = timeout_;
		auto r = sys::run(def_.argv, opts);
		s.values["duration_ms"] = static_cast<double>(clk::monoNs() - s.monoNs) / 1e6;
		std::string error, output;
		int exitCode = -1;
		if (!r) {
			error = r.error().code == Errc::Timeout
					? fmt::format("timeout after {} ms", timeout_.count())
					: r.error().message;
		} else {
			exitCode = r->exitCode;
			output = firstLine(r->out);
			if (r->signal)
				error = fmt::format("killed by signal {}", r->signal);
			else if (r->exitCode != 0) {
				const std::string why = firstLine(r->err);
				error = why.empty() ? fmt::format("exit {}", r->exitCode)
						    : fmt::format("exit {}: {}", r->exitCode, why);
			}
		}
		s.values["ok"] = error.empty() ? 1 : 0;
		s.values["exit_code"] = exitCode;
		s.tags["output"] = output;
		s.tags["error"] = error;
		out.push_back(std::move(s));
	}

private:
	evidence::SamplerSpec spec_;
	CommandDef def_;
	std::chrono::milliseconds timeout_{5000};
};

} // namespace

Result<std::unique_ptr<Sampler>> makeCommand(const evidence::SamplerSpec &spec, const SamplerEnv &env)
{
	if (spec.kind != evidence::SamplerKind::Command)
		return makeError(Errc::Invalid, "makeCommand: a {} spec", evidence::samplerKindName(spec.kind));
	auto it = env.commands.find(spec.command);
	if (it == env.commands.end()) {
		std::vector<std::string> names;
		for (const auto &kv : env.commands)
			names.push_back(kv.first);
		return makeError(Errc::Refused, "command: '{}' is not declared in this agent's config (evidence.commands: {})",
				 spec.command, names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")));
	}
	if (it->second.argv.empty())
		return makeError(Errc::Invalid, "command: '{}' has an empty argv in the agent's config", spec.command);
	return std::unique_ptr<Sampler>(std::make_unique<CommandSampler>(spec, it->second));
}

} // namespace xdc::agent::samplers
