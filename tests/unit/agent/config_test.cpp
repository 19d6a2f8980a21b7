// SPDX-License-Identifier: Apache-2.0
// The agent config's evidence.logs, evidence.files and streams.orderly_shutdown: the forms accepted, and the
// mistakes refused with file:line:column, the key path and what was expected. Also the streams.orderly_shutdown
// command itself (agent/streams_cmds.h) with small real programs.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "agent/config.h"
#include "agent/streams_cmds.h"

#include "tests/unit/unit_util.h"

using namespace xdc;
using namespace xdc::agent;
using xdc::test::TempDir;

namespace {

// Loads text as an agent config file; the file is named cfg.yaml in its own temporary directory.
Result<AgentConfig> loadAgentText(const TempDir &d, const std::string &text)
{
	const std::string path = d.path + "/cfg.yaml";
	std::ofstream(path) << text;
	return loadAgentConfig(path);
}

const char *kHead = "dc: dc1\ncontroller: tcp://127.0.0.1:7700\n";

} // namespace

TEST_CASE("agent config: evidence.logs and evidence.files")
{
	TempDir d("agentcfg");
	auto c = loadAgentText(d, std::string(kHead) + "evidence:\n"
						       "  logs:\n"
						       "    monitor: /var/log/app/monitor.out\n"
						       "    pe-trace: {path: /opt/streams/trace, glob: \"*.trc\", recursive: true}\n"
						       "    flat.dir: {path: /var/log/flat}\n"
						       "  files:\n"
						       "    snapshots: /var/lib/toolkit/snapshots\n"
						       "    state_1: /var/lib/app/state.bin\n");
	REQUIRE_MESSAGE(c.ok(), (c.ok() ? std::string() : c.error().message));
	const auto &logs = c->evidence.logs;
	REQUIRE(logs.size() == 3);
	CHECK(logs.at("monitor").path == "/var/log/app/monitor.out");
	CHECK(!logs.at("monitor").directory);
	CHECK(logs.at("pe-trace").path == "/opt/streams/trace");
	CHECK(logs.at("pe-trace").directory);
	CHECK(logs.at("pe-trace").glob == "*.trc");
	CHECK(logs.at("pe-trace").recursive);
	CHECK(logs.at("flat.dir").directory);
	CHECK(logs.at("flat.dir").glob == "*"); // every file
	CHECK(!logs.at("flat.dir").recursive);
	CHECK(c->evidence.files.at("snapshots") == "/var/lib/toolkit/snapshots");
	CHECK(c->evidence.files.at("state_1") == "/var/lib/app/state.bin");

	// Each mistake: file:line:column, the key path, what was expected.
	const std::string E = std::string(kHead) + "evidence:\n";
	const std::string cases[][2] = {
		{E + "  logs:\n    trace: var/log/x.trc\n", "cfg.yaml:5:12: evidence.logs.trace: expected an absolute path"},
		{E + "  logs:\n    trace: /var/log/../etc/shadow\n", "evidence.logs.trace: expected an absolute path without '..'"},
		{E + "  logs:\n    \"bad name\": /var/log/x\n", "cfg.yaml:5:5: evidence.logs: 'bad name': expected a name of 1 to 64"},
		{E + "  logs:\n    t: {path: trace, glob: \"*.trc\"}\n", "cfg.yaml:5:15: evidence.logs.t.path: expected an absolute path without '..', got 'trace'"},
		{E + "  logs:\n    t: {glob: \"*.trc\"}\n", "evidence.logs.t.path: expected an absolute path without '..', got ''"},
		{E + "  logs:\n    t: {path: /d, glob: \"a/*.trc\"}\n", "cfg.yaml:5:25: evidence.logs.t.glob: expected a pattern"},
		{E + "  logs:\n    t: {path: /d, glob: \"\"}\n", "evidence.logs.t.glob: expected a pattern"},
		{E + "  logs:\n    t: {path: /d, recursive: maybe}\n", "cfg.yaml:5:30: evidence.logs.t.recursive: expected true or false"},
		{E + "  logs:\n    t: {path: /d, globb: \"*\"}\n", "cfg.yaml:5:19: evidence.logs.t.globb: unknown key; did you mean 'glob'?"},
		{E + "  logs:\n    t: [/a, /b]\n", "cfg.yaml:5:8: evidence.logs.t: expected an absolute file path, or {path:"},
		{E + "  logs: [/var/log/x]\n", "cfg.yaml:4:9: evidence.logs: expected a mapping of name: /abs/file"},
		{E + "  files:\n    snapshots: snapshots\n", "cfg.yaml:5:16: evidence.files.snapshots: expected the absolute path"},
		{E + "  files:\n    snapshots: {path: /x}\n", "evidence.files.snapshots: expected the absolute path (without '..') of a file or a directory, got 'a mapping'"},
		{E + "  files:\n    \"x/y\": /x\n", "evidence.files: 'x/y': expected a name of 1 to 64"},
		{E + "  files: /x\n", "cfg.yaml:4:10: evidence.files: expected a mapping of name: /abs/path"},
		{E + "  logz: {}\n", "cfg.yaml:4:3: evidence.logz: unknown key; did you mean 'logs'?"},
	};
	for (const auto &[text, expect] : cases) {
		INFO(text);
		auto r = loadAgentText(d, text);
		REQUIRE(!r.ok());
		CHECK(r.error().code == Errc::Invalid);
		CHECK_MESSAGE(test::contains(r.error().message, expect), r.error().message, " / expected ", expect);
	}
}

TEST_CASE("agent config: streams.orderly_shutdown")
{
	TempDir d("agentcfg");
	auto c = loadAgentText(d, std::string(kHead) + "streams:\n"
						       "  streamtool: /opt/ibm/streams/bin/streamtool\n"
						       "  orderly_shutdown: [/opt/site/bin/app-shutdown, --instance, prod, \"{job}\"]\n"
						       "  timeout: 20s\n");
	REQUIRE_MESSAGE(c.ok(), (c.ok() ? std::string() : c.error().message));
	CHECK(c->streams.orderlyShutdown ==
	      std::vector<std::string>{"/opt/site/bin/app-shutdown", "--instance", "prod", "{job}"});
	CHECK(c->streams.timeout == std::chrono::seconds(20));
	auto none = loadAgentText(d, std::string(kHead) + "streams: {streamtool: /bin/streamtool}\n");
	REQUIRE(none.ok());
	CHECK(none->streams.orderlyShutdown.empty());

	std::string many = "[/bin/x";
	for (int i = 0; i < 33; i++)
		many += ", a";
	many += "]";
	const std::string S = std::string(kHead) + "streams:\n  orderly_shutdown: ";
	const std::string cases[][2] = {
		{S + "[]\n", "cfg.yaml:4:21: streams.orderly_shutdown: expected a list whose first element is the absolute "
			     "path of the program, e.g. [/opt/site/bin/app-shutdown, --instance, prod]; got an empty list"},
		{S + "[app-shutdown, now]\n", "cfg.yaml:4:21: streams.orderly_shutdown: expected a list whose first element is "
					      "the absolute path of the program"},
		{S + "[\"\"]\n", "streams.orderly_shutdown: expected a list whose first element"},
		{S + "/bin/app-shutdown\n", "cfg.yaml:4:21: streams.orderly_shutdown: expected a list of strings"},
		{S + "[/bin/x, [a]]\n", "streams.orderly_shutdown: expected a list of strings"},
		{S + many + "\n", "cfg.yaml:4:21: streams.orderly_shutdown: 33 arguments; at most 32"},
		{std::string(kHead) + "streams:\n  orderly_shutdwn: [/bin/x]\n",
		 "cfg.yaml:4:3: streams.orderly_shutdwn: unknown key; did you mean 'orderly_shutdown'?"},
	};
	for (const auto &[text, expect] : cases) {
		INFO(text);
		auto r = loadAgentText(d, text);
		REQUIRE(!r.ok());
		CHECK_MESSAGE(test::contains(r.error().message, expect), r.error().message, " / expected ", expect);
	}
}

TEST_CASE("streams.orderly_shutdown: runs the configured argv, a job id only in place of {job}")
{
	AgentConfig::Streams cfg;
	cfg.timeout = std::chrono::seconds(10);
	proto::StreamsOrderlyShutdownArgs args;

	// Not configured: refused, naming the config key.
	auto r0 = runOrderlyShutdown(cfg, args);
	REQUIRE(!r0.ok());
	CHECK(r0.error().code == Errc::Unsupported);
	CHECK(test::contains(r0.error().message, "no streams.orderly_shutdown configured"));

	cfg.orderlyShutdown = {"/bin/echo", "shutdown", "prod"};
	auto r1 = runOrderlyShutdown(cfg, args);
	REQUIRE_MESSAGE(r1.ok(), (r1.ok() ? std::string() : r1.error().message));
	CHECK(r1->argv == cfg.orderlyShutdown);
	CHECK(r1->exitCode == 0);
	CHECK(r1->output == "shutdown prod\n");
	CHECK(r1->startedNs > 0);
	CHECK(r1->endedNs >= r1->startedNs);
	args.job = "17";
	auto unused = runOrderlyShutdown(cfg, args); // no {job} in the argv: the id is not used
	REQUIRE(unused.ok());
	CHECK(unused->argv == cfg.orderlyShutdown);

	cfg.orderlyShutdown = {"/bin/echo", "--job", "{job}", "now"};
	auto r2 = runOrderlyShutdown(cfg, args);
	REQUIRE(r2.ok());
	CHECK(r2->argv == std::vector<std::string>{"/bin/echo", "--job", "17", "now"});
	CHECK(r2->output == "--job 17 now\n");
	args.job = "";
	auto noJob = runOrderlyShutdown(cfg, args);
	REQUIRE(!noJob.ok());
	CHECK(noJob.error().code == Errc::Invalid);
	CHECK(test::contains(noJob.error().message, "takes the job id ({job}) and none was given"));
	for (const char *bad : {"1; reboot", "-1", "12a", "1234567890123456789"}) {
		args.job = bad;
		auto r = runOrderlyShutdown(cfg, args);
		REQUIRE(!r.ok());
		CHECK(r.error().code == Errc::Invalid);
	}

	// A hook that exits non-zero is a reply (the caller judges the exit code); its output comes along, with the
	// config's environment.
	cfg.orderlyShutdown = {"/bin/sh", "-c", "echo \"no app $XDC_HOOK_TEST\" >&2; exit 3"};
	cfg.env = {{"XDC_HOOK_TEST", "prod"}};
	args.job = "";
	auto r3 = runOrderlyShutdown(cfg, args);
	REQUIRE(r3.ok());
	CHECK(r3->exitCode == 3);
	CHECK(r3->output == "no app prod\n");

	// A program that cannot run is an error.
	cfg.orderlyShutdown = {"/nonexistent/hook"};
	auto r4 = runOrderlyShutdown(cfg, args);
	REQUIRE(!r4.ok());
	CHECK(test::contains(r4.error().message, "streams.orderly_shutdown"));
}
