// SPDX-License-Identifier: Apache-2.0
// `xdc validate` on the malformed-scenario corpus (tests/scenarios/bad): every file exits 2 with the line and key
// path its first line expects ("# expect: LINE KEY.PATH | fragment of the message"), and the sample scenarios in
// scenarios/ validate. No fleet and no root needed: the binary runs offline.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "common/sys/process.h"
#include "tests/support/harness.h"

using namespace xdc;
using namespace xdc::test;
namespace fs = std::filesystem;

namespace {

struct Expect {
	int line = 0;
	std::string keyPath, says;
};

Expect expectOf(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	std::string first;
	std::getline(f, first);
	static const std::regex re("^# expect: ([0-9]+) (.+?) \\| (.+)$");
	std::smatch m;
	REQUIRE_MESSAGE(std::regex_match(first, m, re), path << ": first line must be '# expect: LINE KEY | TEXT'");
	return {std::stoi(m[1]), m[2], m[3]};
}

std::vector<std::string> filesIn(const std::string &dir)
{
	std::vector<std::string> out;
	for (const auto &e : fs::directory_iterator(dir))
		if (e.path().extension() == ".yaml")
			out.push_back(e.path().string());
	std::sort(out.begin(), out.end());
	return out;
}

} // namespace

TEST_CASE("every malformed scenario of the corpus exits 2 naming its line and key path")
{
	const auto files = filesIn(sourceRoot() + "/tests/scenarios/bad");
	REQUIRE(files.size() >= 25);
	for (const auto &file : files) {
		const Expect e = expectOf(file);
		// No lab: the offline checks alone. XDC_LAB must not leak in from the caller's environment.
		auto r = test::xdc({"validate", file});
		INFO(file << "\nstdout: " << r.out << "\nstderr: " << r.err);
		CHECK(r.exitCode == 2);
		const std::string where = fmt::format("{}:{}:", file, e.line);
		CHECK_MESSAGE(r.err.find(where) != std::string::npos, "expected location " << where);
		CHECK_MESSAGE(r.err.find(" " + e.keyPath + ":") != std::string::npos, "expected key path " << e.keyPath);
		CHECK_MESSAGE(r.err.find(e.says) != std::string::npos, "expected text: " << e.says);
		// One error line, never a crash or an exception's text.
		CHECK(r.signal == 0);
		CHECK(r.err.find("terminate called") == std::string::npos);
	}
}

TEST_CASE("commands that need a controller or a lab's streams.yaml find the only lab up, say so, and ask with several")
{
	TempDir root;
	const std::string defaultSocket = "/run/xdc/control.sock";
	const bool deployment = fs::exists(defaultSocket); // a controller there wins over finding a lab
	auto run = [&](std::vector<std::string> args) {
		std::vector<std::string> argv{xdcBin()};
		argv.insert(argv.end(), args.begin(), args.end());
		auto r = sys::run(argv, {.timeout = 20s, .env = {{"XDC_LAB_ROOT", root.path()}, {"XDC_LAB", ""},
								  {"XDC_CONTROL", ""}, {"XDC_STREAMS_CONFIG", ""}}});
		REQUIRE(r.ok());
		INFO(args[0] << ": " << r->out << r->err);
		return *r;
	};
	auto addLab = [&](const std::string &name) {
		fs::create_directories(root.path() + "/" + name);
		std::ofstream(root.path() + "/" + name + "/lab.json") << "{}";
	};

	// None up: the default socket, nothing said about labs.
	auto none = run({"agents"});
	CHECK(none.err.find("using lab") == std::string::npos);
	if (!deployment) {
		CHECK(none.exitCode == 3);
		CHECK(none.err.find(defaultSocket) != std::string::npos);
	}

	// One up: its controller and its streams.yaml, and the command says which lab it used.
	addLab("solo");
	auto one = run({"agents"});
	if (!deployment) {
		CHECK(one.exitCode == 3);
		CHECK(one.err.find("xdc: using lab solo (the only one up; --lab NAME to choose)") != std::string::npos);
		CHECK(one.err.find(root.path() + "/solo/control.sock") != std::string::npos);
	}
	if (!fs::exists("/etc/xdc/streams.yaml")) {
		auto st = run({"streams", "status"});
		CHECK(st.exitCode != 0);
		CHECK(st.err.find("using lab solo") != std::string::npos);
		CHECK(st.err.find(root.path() + "/solo/streams.yaml") != std::string::npos);
	}

	// Several up and none named: exit 2 asking for --lab; naming one picks it without a note.
	addLab("duo");
	auto two = run({"agents"});
	if (!deployment) {
		CHECK(two.exitCode == 2);
		CHECK(two.err.find("several labs are up (duo, solo): name one with --lab") != std::string::npos);
	}
	auto named = run({"agents", "--lab", "duo"});
	CHECK(named.exitCode == 3);
	CHECK(named.err.find("using lab") == std::string::npos);
	CHECK(named.err.find(root.path() + "/duo/control.sock") != std::string::npos);
	auto exec = run({"lab", "exec", "dc1-h1", "--", "true"});
	CHECK(exec.exitCode == 2);
	CHECK(exec.err.find("several labs are up") != std::string::npos);
}

TEST_CASE("--json reports every file, the valid and the invalid")
{
	const std::string good = sourceRoot() + "/scenarios/lab-dc-partition.yaml";
	const std::string bad = sourceRoot() + "/tests/scenarios/bad/05-version-unsupported.yaml";
	auto r = test::xdc({"validate", good, bad, "--json"});
	INFO(r.out << r.err);
	CHECK(r.exitCode == 2);
	auto j = nlohmann::json::parse(r.out, nullptr, false);
	REQUIRE(!j.is_discarded());
	REQUIRE(j["files"].size() == 2);
	CHECK(j["files"][0]["ok"] == true);
	CHECK(j["files"][0]["faults"] == 1);
	CHECK(j["files"][1]["ok"] == false);
	CHECK(j["files"][1]["error"].get<std::string>().find("version") != std::string::npos);
	CHECK(j["files"][1]["errors"].size() == 1);

	// A file with several mistakes: each is a line of its own, in the file's order, in one pass.
	TempDir dir;
	const std::string many = dir.path() + "/many.yaml";
	std::ofstream(many) << R"(version: 1
name: many
evidence:
  probes:
    - {name: wan, kind: probe.tcp, on: {host: dc1-h1}, target: "dc2-h1:22", rate: 10hz, colour: red}
phases:
  baseline: {duration: 1s}
  inject:
    faults:
      - {kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 5}
  observe: {duration: 1s}
  recover: {duration: 1s}
assertions:
  - outage: {probe: wan}
  - throughput: {min: 80%}
)";
	auto m = test::xdc({"validate", many, "--json"});
	INFO(m.out << m.err);
	CHECK(m.exitCode == 2);
	auto mj = nlohmann::json::parse(m.out, nullptr, false);
	REQUIRE(!mj.is_discarded());
	const auto errors = mj["files"][0]["errors"];
	REQUIRE(errors.size() == 4);
	CHECK(errors[0].get<std::string>().find(":5:") != std::string::npos);
	CHECK(errors[0].get<std::string>().find("evidence.probes[0].colour") != std::string::npos);
	CHECK(errors[1].get<std::string>().find("phases.inject.faults[0].duration") != std::string::npos);
	CHECK(errors[2].get<std::string>().find("assertions[0].outage") != std::string::npos);
	CHECK(errors[3].get<std::string>().find("assertions[1].throughput.within") != std::string::npos);
	auto human = test::xdc({"validate", many});
	CHECK(human.exitCode == 2);
	CHECK(std::count(human.err.begin(), human.err.end(), '\n') == 4);
}

TEST_CASE("the console names what is wrong: a directory, a missing file, a mistyped command, a help line")
{
	TempDir dir;
	auto d = test::xdc({"validate", dir.path()});
	CHECK(d.exitCode == 2);
	CHECK(d.err == dir.path() + ": is a directory, not a scenario file\n");
	auto m = test::xdc({"validate", dir.path() + "/missing.yaml"});
	CHECK(m.exitCode == 2);
	CHECK(m.err == dir.path() + "/missing.yaml: cannot read the file: No such file or directory\n");
	auto t = test::xdc({"fualt", "list"});
	CHECK(t.exitCode == 2);
	CHECK(t.err == "xdc: unknown command 'fualt' (did you mean 'fault'?); see xdc --help\n");
	// `record --help` names the options that exist (it listed a --socket that never did).
	auto h = test::xdc({"record", "--help"});
	CHECK(h.exitCode == 0);
	CHECK(h.out.find("--socket") == std::string::npos);
	CHECK(h.out.find("--control PATH") != std::string::npos);
}

TEST_CASE("the sample scenarios validate, and variables come from --param")
{
	for (const auto &file : filesIn(sourceRoot() + "/scenarios")) {
		auto r = test::xdc({"validate", file});
		INFO(file << ": " << r.out << r.err);
		CHECK(r.exitCode == 0);
		CHECK(r.out.find(": ok: ") != std::string::npos);
	}
	const std::string file = sourceRoot() + "/scenarios/lab-dc-partition.yaml";
	auto bad = test::xdc({"validate", file, "--param", "partition=5 parsecs"});
	CHECK(bad.exitCode == 2);
	CHECK(bad.err.find("not a plain value") != std::string::npos);
	auto unit = test::xdc({"validate", file, "--param", "partition=5"});
	INFO(unit.err);
	CHECK(unit.exitCode == 2);
	CHECK(unit.err.find("phases.inject.faults[0].duration") != std::string::npos);
	// A selector naming a host the topology lacks (the lab's default shape: dc1-h1 .. dc2-h2).
	TempDir dir;
	std::ifstream in(file);
	std::string text((std::istreambuf_iterator<char>(in)), {});
	const size_t at = text.find("targets: {dc: dc1}");
	text.replace(at, 18, "targets: {host: dc3-h1}");
	// The fault's line: the error points at the start of its flow mapping ("- {kind: ...").
	const size_t lineStart = text.rfind('\n', at) + 1;
	const int line = static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n')) + 1;
	const int col = static_cast<int>(text.find('{', lineStart) - lineStart) + 1;
	std::ofstream(dir.path() + "/s.yaml") << text;
	auto sel = test::xdc({"validate", dir.path() + "/s.yaml", "--lab", "nosuchlab"});
	INFO(sel.err);
	CHECK(sel.exitCode == 2);
	CHECK(sel.err.find(fmt::format("s.yaml:{}:{}: phases.inject.faults[0].targets: host 'dc3-h1' matches no host",
				       line, col)) != std::string::npos);
}

TEST_CASE("an inventory is a topology: groups are datacenters, host vars are labels")
{
	TempDir dir;
	std::ofstream(dir.path() + "/hosts.ini") << "# two DCs\n[east]\ne1 role=streams\ne2 role=db\n\n[west]\nw1 role=streams\n";
	std::ifstream in(sourceRoot() + "/scenarios/lab-dc-partition.yaml");
	std::string text((std::istreambuf_iterator<char>(in)), {});
	for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
		     {"dc1-h1", "e1"}, {"dc2-h1", "w1"}, {"{dc: dc1}", "{dc: east}"}, {"{dc: dc2}", "{dc: west}"}})
		for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
			text.replace(at, from.size(), to);
	std::ofstream(dir.path() + "/s.yaml") << text;
	auto ok = test::xdc({"validate", dir.path() + "/s.yaml", "--inventory", dir.path() + "/hosts.ini"});
	INFO(ok.out << ok.err);
	CHECK(ok.exitCode == 0);
	// Labels select: role=db is e2 only; a label no host has matches nothing.
	text.replace(text.find("targets: {dc: east}"), 19, "targets: {role: web}");
	std::ofstream(dir.path() + "/s2.yaml") << text;
	auto bad = test::xdc({"validate", dir.path() + "/s2.yaml", "--inventory", dir.path() + "/hosts.ini"});
	INFO(bad.err);
	CHECK(bad.exitCode == 2);
	CHECK(bad.err.find("matches no host") != std::string::npos);
}

int main(int argc, char **argv)
{
	::unsetenv("XDC_LAB");
	doctest::Context ctx(argc, argv);
	return ctx.run();
}
