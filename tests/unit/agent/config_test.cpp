// SPDX-License-Identifier: Apache-2.0
// The agent config's evidence.logs and evidence.files: the forms accepted, and the mistakes refused with
// file:line:column, the key path and what was expected.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "agent/config.h"

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
