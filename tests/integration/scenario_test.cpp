// SPDX-License-Identifier: Apache-2.0
// `xdc run` in a real 2-DC lab with the Streams emulator: the sample partition scenario passes with an outage as
// long as the partition (report.json, junit.xml), the same scenario with an impossible assertion exits 1 naming it
// in a JUnit failure, and Ctrl-C during inject exits 4 with every fault reverted, no residue, and a partial report.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <regex>
#include <tuple>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/harness.h"
#include "tests/support/netprobe.h"

using namespace xdc;
using namespace xdc::test;
using nlohmann::json;

namespace {

// "YYYY-MM-DD HH:MM:SSZ" of a wall-clock time in ns, as `xdc history` prints a run's start.
std::string dateTimeUtcForTest(int64_t ns)
{
	const time_t secs = ns / 1000000000;
	tm t{};
	gmtime_r(&secs, &t);
	char buf[32];
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &t);
	return buf;
}

LabFixture *gLab = nullptr;

LabFixture &theLab()
{
	REQUIRE(gLab != nullptr);
	REQUIRE(gLab->up());
	return *gLab;
}

std::string scenarioFile() { return sourceRoot() + "/scenarios/lab-dc-partition.yaml"; }

json readJson(const std::string &path)
{
	std::ifstream f(path);
	REQUIRE_MESSAGE(f.good(), path);
	auto j = json::parse(f, nullptr, false);
	REQUIRE(!j.is_discarded());
	return j;
}

std::string readText(const std::string &path)
{
	std::ifstream f(path);
	return std::string(std::istreambuf_iterator<char>(f), {});
}

int countOf(const std::string &text, const std::string &what)
{
	int n = 0;
	for (size_t i = text.find(what); i != std::string::npos; i = text.find(what, i + 1))
		n++;
	return n;
}

// The counts a JUnit reader computes must match the counts the file declares.
void checkJunitConsistent(const std::string &xml)
{
	std::smatch m;
	REQUIRE(std::regex_search(xml, m, std::regex("<testsuite name=\"[^\"]*\" id=\"[^\"]*\" tests=\"(\\d+)\" "
						      "failures=\"(\\d+)\" errors=\"(\\d+)\" skipped=\"(\\d+)\"")));
	CHECK(std::stoi(m[1]) == countOf(xml, "<testcase "));
	CHECK(std::stoi(m[2]) == countOf(xml, "<failure "));
	CHECK(std::stoi(m[3]) == countOf(xml, "<error "));
	CHECK(std::stoi(m[4]) == countOf(xml, "<skipped "));
}

// A page as headless Chromium renders it: the DOM after parsing (so the page must be well-formed enough for a
// browser to build the elements the test counts).
std::string renderedDom(const std::string &html) { return chromiumDom(html); }

bool noScenarioFaults(const LabFixture &lab)
{
	auto r = test::xdc({"fault", "list", "--json", "--lab", lab.name()});
	auto j = json::parse(r.out, nullptr, false);
	return r.exitCode == 0 && !j.is_discarded() && j.is_array() && j.empty();
}

// `xdc run` of the sample with a 60 s partition, in the background; returns its pid once the partition is in place
// (0 if it never was: the caller checks).
pid_t startLongRun(const LabFixture &lab, const std::string &dir)
{
	auto pid = sys::spawn({xdcBin(), "run", scenarioFile(), "--lab", lab.name(), "--out", dir + "/run", "--param",
			       "partition=60s", "--param", "max_outage=70s"},
			      {.stdoutFile = dir + "/log", .newSession = true});
	REQUIRE(pid.ok());
	if (waitUntil([&] { return !noScenarioFaults(lab); }, 30s, 100ms))
		return *pid;
	::kill(*pid, SIGKILL);
	::waitpid(*pid, nullptr, 0);
	return 0;
}

// The probe's attempts on one host in [from, to) on the controller's timeline, from a run's evidence bundle: those
// surely inside (with their clock bound) and those that may be.
struct WindowCount {
	uint64_t surely = 0, maybe = 0, surelyFailed = 0, maybeFailed = 0;
};

WindowCount countWindow(const std::string &bundle, const std::string &host, const std::string &probe, int64_t from,
			int64_t to)
{
	WindowCount c;
	std::ifstream f(bundle + "/timeline.jsonl");
	REQUIRE(f.good());
	std::string line;
	while (std::getline(f, line)) {
		const json e = json::parse(line, nullptr, false);
		if (e.is_discarded() || e.value("kind", "") != "probe.tcp" || e.value("host", "") != host ||
		    e.value("source", "") != probe)
			continue;
		const int64_t t = e.value("t_ns", int64_t{0}), b = std::max<int64_t>(e.value("bound_ns", int64_t{0}), 0);
		const bool failed = e["values"].value("ok", 1.0) < 0.5;
		if (t - b >= from && t + b < to) {
			c.surely++;
			c.surelyFailed += failed;
		}
		if (t + b >= from && t - b < to) {
			c.maybe++;
			c.maybeFailed += failed;
		}
	}
	return c;
}

// The steady state after recovery of one run of lab-dc-loss.yaml: judged on a complete window, and its counts are
// the bundle's attempts in that window. Returns the failed fraction the report gives.
double checkRecoveryWindow(const std::string &runDir, const std::string &host)
{
	const json rep = readJson(runDir + "/report.json");
	INFO(runDir << ": " << rep.value("reason", ""));
	json steady;
	for (const auto &s : rep["steady_state"])
		if (s["when"] == "after recovery" && s.value("probe", "") == "wan" && s.value("host", "") == host)
			steady = s;
	REQUIRE(steady.is_object());
	CHECK(steady["complete"] == true);
	CHECK_FALSE(steady.contains("note"));
	const int64_t end = steady["window_end_ns"], from = end - steady["window_ms"].get<int64_t>() * 1000000;
	// The window ends when recover does, after its 2 s.
	int64_t recoverStart = 0;
	for (const auto &p : rep["phases"])
		if (p["name"] == "recover")
			recoverStart = p["start_ns"];
	CHECK(from >= recoverStart);
	CHECK(from - recoverStart < 500000000);
	const uint64_t n = steady["attempts"];
	const auto failed = static_cast<uint64_t>(std::llround((1.0 - steady["ratio"].get<double>()) * static_cast<double>(n)));
	const WindowCount c = countWindow(runDir + "/evidence", host, "wan", from, end);
	INFO("report: " << steady.dump() << "; bundle: " << c.surely << ".." << c.maybe << " attempts, " << c.surelyFailed
			<< ".." << c.maybeFailed << " failed");
	CHECK(n >= 35); // 20 Hz for 2 s
	CHECK(c.surely <= n);
	CHECK(n <= c.maybe);
	CHECK(c.surelyFailed <= failed);
	CHECK(failed <= c.maybeFailed);
	return 1.0 - steady["ratio"].get<double>();
}


} // namespace

TEST_CASE("the sample partition scenario passes: one outage per direction as long as the partition")
{
	auto &lab = theLab();
	TempDir dir;
	const std::string out = dir.path() + "/run";
	auto r = test::xdc({"run", scenarioFile(), "--lab", lab.name(), "--out", out, "--seed", "7"}, 180s);
	INFO(r.out << r.err);
	REQUIRE(r.exitCode == 0);
	CHECK(r.out.find("verdict: passed") != std::string::npos);
	CHECK(r.out.find(out + "/report.html") != std::string::npos);
	const json rep = readJson(out + "/report.json");
	CHECK(rep["schema"] == "xdc.report/3");
	CHECK(rep["verdict"] == "passed");
	CHECK(rep["seed"] == 7);
	CHECK(rep["residue"]["clean"] == true);
	CHECK(rep["evidence"]["complete"] == true);
	CHECK(rep["inputs"]["text"].get<std::string>().find("lab-dc-partition") != std::string::npos);
	CHECK(!rep["user"].get<std::string>().empty());
	// The phases in order, each passed.
	std::vector<std::string> phases;
	for (const auto &p : rep["phases"]) {
		phases.push_back(p["name"]);
		CHECK_MESSAGE(p["status"] == "passed", p.dump());
	}
	CHECK(phases == std::vector<std::string>{"baseline", "inject", "observe", "recover", "teardown"});
	// The fault: applied on the four hosts (both sides of the partition), its window ~5 s from the agents' records.
	REQUIRE(rep["faults"].size() == 1);
	const json &f = rep["faults"][0];
	CHECK(f["status"] == "applied");
	CHECK(f["hosts"].size() == 4);
	const double window = (f["window_end_ns"].get<int64_t>() - f["window_start_ns"].get<int64_t>()) / 1e9;
	CHECK(window > 4.9);
	CHECK(window < 5.6);
	// Every host the run touched has its folder in the bundle with its fault journal, clock samples and agent log,
	// dc2-h2 too (a peer of the partition with no probe or sampler of its own).
	for (const std::string host : {"dc1-h1", "dc1-h2", "dc2-h1", "dc2-h2"}) {
		CAPTURE(host);
		const std::string hdir = out + "/evidence/hosts/" + host;
		const std::string journal = readText(hdir + "/faults.jsonl");
		CHECK(journal.find("\"applied\"") != std::string::npos);
		CHECK(journal.find(f["id"].get<std::string>()) != std::string::npos);
		CHECK(journal.find("\"reverted\"") != std::string::npos);
		CHECK(!readText(hdir + "/clock.jsonl").empty());
		CHECK(std::filesystem::exists(hdir + "/agent.log"));
	}
	// Each probe saw one outage, about as long as the window, inside it (± the probe interval and clock bound).
	for (const std::string probe : {"wan", "wan-back"}) {
		bool seen = false;
		for (const auto &o : rep["outages"])
			if (o["source"] == probe) {
				seen = true;
				REQUIRE(o["outages"].size() == 1);
				const json &x = o["outages"][0];
				const double d = (x["end_ns"].get<int64_t>() - x["start_ns"].get<int64_t>()) / 1e9;
				MESSAGE(probe << ": outage " << d << " s, fault window " << window << " s");
				CHECK(std::abs(d - window) < 0.3);
				CHECK(x["start_ns"].get<int64_t>() >= f["window_start_ns"].get<int64_t>() - 100000000);
			}
		CHECK_MESSAGE(seen, probe);
	}
	for (const auto &a : rep["assertions"])
		CHECK_MESSAGE(a["status"] == "passed", a.dump());
	CHECK(rep["assertions"].size() == 5);
	const std::string junit = readText(out + "/junit.xml");
	checkJunitConsistent(junit);
	CHECK(countOf(junit, "<failure ") == 0);
	CHECK(junit.find("the partition cut dc1 -&gt; dc2 for as long as it lasted") != std::string::npos);
	CHECK(noFaultTables(lab));
	CHECK(noScenarioFaults(lab));

	// The console prints each assertion with what it measured.
	CHECK(r.err.find("assertion the partition cut dc1 -> dc2 for as long as it lasted: passed (measured: ") !=
	      std::string::npos);
	// The fault records on the timeline: times as clock times (never floats such as 1.79e+18), and a multi-line
	// nft read-back as its first line with the count of the rest, so every entry stays on one line.
	auto tl = test::xdc({"evidence", out + "/evidence", "--kind", "fault", "--host", "dc1-h1"});
	INFO(tl.out << tl.err);
	CHECK(tl.exitCode == 0);
	CHECK(tl.out.find("e+1") == std::string::npos);
	CHECK(std::regex_search(tl.out, std::regex(" reverted_ns=\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z")));
	CHECK(std::regex_search(tl.out, std::regex(" readback=table inet [^\\n]* \\(\\+\\d+ lines; --json has all\\)")));
	int faultLines = 0;
	for (size_t at = tl.out.find(" fault "); at != std::string::npos; at = tl.out.find(" fault ", at + 1)) {
		const size_t bol = tl.out.rfind('\n', at) + 1;
		CHECK(std::regex_match(tl.out.substr(bol, 13), std::regex("\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z")));
		faultLines++;
	}
	CHECK(faultLines >= 2); // applied and reverted

	// report.html, rendered: one fault window per fault, its times those of report.json (within 1 ms), and one
	// timeline per host.
	const std::string dom = renderedDom(out + "/report.html");
	const std::regex win("<div class=\"fault-window\" data-fault-id=\"([^\"]+)\" data-start-ns=\"(\\d+)\" "
			     "data-end-ns=\"(\\d+)\"");
	int windows = 0;
	for (auto it = std::sregex_iterator(dom.begin(), dom.end(), win); it != std::sregex_iterator(); ++it) {
		windows++;
		CHECK((*it)[1] == f["id"].get<std::string>());
		CHECK(std::llabs(std::stoll((*it)[2]) - f["window_start_ns"].get<int64_t>()) <= 1000000);
		CHECK(std::llabs(std::stoll((*it)[3]) - f["window_end_ns"].get<int64_t>()) <= 1000000);
	}
	CHECK(windows == 1);
	CHECK(countOf(dom, "class=\"lane timeline\"") == 4);
	for (const std::string host : {"dc1-h1", "dc1-h2", "dc2-h1", "dc2-h2"})
		CHECK(dom.find("data-host=\"" + host + "\"") != std::string::npos);
	// The probes' failing intervals are drawn on their hosts' lanes.
	CHECK(countOf(dom, "class=\"probe-fail\"") == 2);
	CHECK(dom.find("id=\"verdict\">passed<") != std::string::npos);
}

TEST_CASE("an impossible assertion fails the run (exit 1) with a JUnit failure naming it")
{
	auto &lab = theLab();
	TempDir dir;
	const std::string out = dir.path() + "/run";
	auto r = test::xdc({"run", scenarioFile(), "--lab", lab.name(), "--out", out, "--param", "max_outage=1s",
			    "--param", "min_outage=0s"}, 180s);
	INFO(r.out << r.err);
	CHECK(r.exitCode == 1);
	const json rep = readJson(out + "/report.json");
	CHECK(rep["verdict"] == "failed");
	CHECK(rep["reason"].get<std::string>().find("the partition cut dc1 -> dc2") != std::string::npos);
	CHECK(rep["residue"]["clean"] == true);
	const std::string junit = readText(out + "/junit.xml");
	checkJunitConsistent(junit);
	// Both directions' outage assertions fail (and the run-level verdict case); the baseline one passes.
	std::smatch m;
	REQUIRE(std::regex_search(junit, m, std::regex("<testcase classname=\"lab-dc-partition.assertion\" name=\"the "
						       "partition cut dc1 -&gt; dc2 for as long as it lasted\"[^>]*>\\s*"
						       "<failure message=\"([^\"]*)\"")));
	CHECK(std::string(m[1]).find("&gt; max 1s") != std::string::npos);
	CHECK(countOf(junit, "<failure ") == 3);
	CHECK(noFaultTables(lab));
}

TEST_CASE("Ctrl-C during inject: exit 4, every fault reverted, no residue, a partial report marked aborted")
{
	auto &lab = theLab();
	TempDir dir;
	const std::string out = dir.path() + "/run";
	// A long partition, so the interrupt certainly lands while it is in place.
	const pid_t pid = startLongRun(lab, dir.path());
	INFO(readText(dir.path() + "/log"));
	REQUIRE(pid > 0);
	REQUIRE(::kill(pid, SIGINT) == 0);
	int status = 0;
	bool exited = waitUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 60s, 50ms);
	if (!exited)
		::kill(pid, SIGKILL);
	REQUIRE(exited);
	REQUIRE(WIFEXITED(status));
	CHECK(WEXITSTATUS(status) == 4);
	// Reverted at once, not by the 60 s TTL.
	CHECK(noScenarioFaults(lab));
	CHECK(noFaultTables(lab));
	CHECK(noFaultChains(lab));
	const json rep = readJson(out + "/report.json");
	CHECK(rep["verdict"] == "aborted");
	CHECK(rep["aborted"] == true);
	CHECK(rep["residue"]["clean"] == true);
	REQUIRE(rep["faults"].size() == 1);
	CHECK(rep["faults"][0]["status"] == "applied");
	// The window ends at the interrupt, not 60 s later.
	const double window =
		(rep["faults"][0]["window_end_ns"].get<int64_t>() - rep["faults"][0]["window_start_ns"].get<int64_t>()) / 1e9;
	CHECK(window < 30);
	checkJunitConsistent(readText(out + "/junit.xml"));
	// The lab still works afterwards: dc1 reaches dc2 again.
	auto st = lab.state();
	Listener l(lab.netns("dc2-h2"));
	CHECK(waitUntil([&] { return tcpConnect(lab.netns("dc1-h2"), st.hosts[3].data4); }, 5s));
}

TEST_CASE("--dry-run prints the plan with the agents' rules and changes nothing")
{
	auto &lab = theLab();
	auto r = test::xdc({"run", scenarioFile(), "--lab", lab.name(), "--dry-run", "--json"});
	INFO(r.out << r.err);
	REQUIRE(r.exitCode == 0);
	auto plan = json::parse(r.out);
	REQUIRE(plan["faults"].size() == 1);
	const json &f = plan["faults"][0];
	CHECK(f["at_ms"] == 3000);
	CHECK(f["until_ms"] == 8000);
	REQUIRE(f.contains("agents"));
	CHECK(f["agents"].size() == 4);
	for (const auto &item : f["agents"].items()) {
		const std::string agent = item.key();
		CHECK_MESSAGE(!item.value()["plan"].empty(), agent);
	}
	CHECK(noFaultTables(lab));
	CHECK(noScenarioFaults(lab));
}

TEST_CASE("a stop condition ends the run early: faults reverted, verdict failed naming it, exit 1")
{
	auto &lab = theLab();
	TempDir dir;
	std::ifstream in(scenarioFile());
	std::string text((std::istreambuf_iterator<char>(in)), {});
	const std::string from = "failing_for: 20s";
	text.replace(text.find(from), from.size(), "failing_for: 1500ms");
	std::ofstream(dir.path() + "/stop.yaml") << text;
	const auto t0 = std::chrono::steady_clock::now();
	auto r = test::xdc({"run", dir.path() + "/stop.yaml", "--lab", lab.name(), "--out", dir.path() + "/run",
			    "--param", "partition=30s", "--param", "max_outage=40s"}, 120s);
	INFO(r.out << r.err);
	CHECK(r.exitCode == 1);
	// Baseline 3 s, then 1.5 s of failure: far from the 30 s partition.
	CHECK(secondsSince(t0) < 20);
	const json rep = readJson(dir.path() + "/run/report.json");
	CHECK(rep["verdict"] == "failed");
	CHECK(rep["reason"].get<std::string>().find("stop condition 'the link never came back' held") != std::string::npos);
	REQUIRE(rep.contains("stop_condition"));
	CHECK(rep["stop_condition"]["phase"] == "observe");
	CHECK(rep["residue"]["clean"] == true);
	// The partition's window ends at the stop, not after its 30 s.
	const json &f = rep["faults"][0];
	CHECK((f["window_end_ns"].get<int64_t>() - f["window_start_ns"].get<int64_t>()) / 1e9 < 10);
	CHECK(noScenarioFaults(lab));
	CHECK(noFaultTables(lab));
}

TEST_CASE("validate --fleet checks the live fleet: hosts present, netem-only faults refused on this kernel")
{
	auto &lab = theLab();
	auto ok = test::xdc({"validate", scenarioFile(), "--lab", lab.name(), "--fleet"});
	INFO(ok.out << ok.err);
	CHECK(ok.exitCode == 0);
	CHECK(ok.out.find("live fleet checked") != std::string::npos);
	// Whether the kernel has sch_netem decides the answer for a netem-only fault; the agents report it.
	auto agents = lab.agents();
	REQUIRE(!agents.empty());
	const bool netem = agents[0]["capabilities"].value("qdisc.netem", "") == "yes";
	TempDir dir;
	std::ofstream(dir.path() + "/corrupt.yaml")
		<< "version: 1\nname: corrupt\nphases:\n  baseline: {duration: 1s}\n  inject:\n    faults:\n"
		   "      - {kind: network.corrupt, targets: {host: dc1-h1}, peers: {host: dc2-h1}, percent: 1, duration: 5s}\n"
		   "  observe: {duration: 1s}\n  recover: {duration: 1s}\n";
	auto offline = test::xdc({"validate", dir.path() + "/corrupt.yaml", "--lab", lab.name()});
	CHECK(offline.exitCode == 0);
	auto live = test::xdc({"validate", dir.path() + "/corrupt.yaml", "--lab", lab.name(), "--fleet"});
	INFO(live.out << live.err);
	if (netem) {
		CHECK(live.exitCode == 0);
	} else {
		CHECK(live.exitCode == 2);
		CHECK(live.err.find("phases.inject.faults[0].kind: network.corrupt needs tc netem and the kernel of host "
				    "'dc1-h1' lacks sch_netem") != std::string::npos);
	}
}

TEST_CASE("residue after teardown fails the run as a harness failure (exit 3), naming what was left")
{
	auto &lab = theLab();
	TempDir dir;
	// A fill file in the agents' disk_fill directory (the lab's hosts share the filesystem) that no fault owns.
	const std::string stray = "/var/tmp/xdc-fill-residue-test-" + std::to_string(::getpid());
	std::ofstream(stray) << "left behind";
	auto r = test::xdc({"run", scenarioFile(), "--lab", lab.name(), "--out", dir.path() + "/run", "--param",
			    "partition=1s", "--param", "min_outage=500ms"}, 120s);
	::unlink(stray.c_str());
	INFO(r.out << r.err);
	CHECK(r.exitCode == 3);
	const json rep = readJson(dir.path() + "/run/report.json");
	CHECK(rep["verdict"] == "harness");
	CHECK(rep["residue"]["clean"] == false);
	CHECK(rep["residue"]["found"].dump().find("fill file " + stray) != std::string::npos);
	// The system under test passed: the assertions say so, apart from the harness verdict.
	for (const auto &a : rep["assertions"])
		CHECK_MESSAGE(a["status"] == "passed", a.dump());
}

TEST_CASE("random choices come from the seed; --repeat gives statistics; the runs are in the history; compare")
{
	auto &lab = theLab();
	const std::string file = sourceRoot() + "/scenarios/lab-random-host-partition.yaml";
	auto drawn = [&](const std::string &seed) {
		auto r = test::xdc({"run", file, "--lab", lab.name(), "--dry-run", "--json", "--seed", seed});
		INFO(r.out << r.err);
		REQUIRE(r.exitCode == 0);
		return json::parse(r.out)["random"];
	};
	const json a1 = drawn("42"), a2 = drawn("42"), b = drawn("43");
	MESSAGE("seed 42: " << a1.dump() << ", seed 43: " << b.dump());
	CHECK(a1.size() == 3);
	CHECK(a1 == a2);
	CHECK(a1 != b);

	TempDir dir;
	const std::string out = dir.path() + "/camp";
	auto r = test::xdc({"run", file, "--lab", lab.name(), "--out", out, "--repeat", "5", "--seed", "42", "--json"}, 300s);
	INFO(r.out << r.err);
	REQUIRE(r.exitCode == 0);
	const json summary = json::parse(r.out);
	REQUIRE(summary["runs"].size() == 5);
	const json &st = summary["statistics"];
	REQUIRE(st.contains("fault.1.window_ms"));
	const json &w = st["fault.1.window_ms"];
	CHECK(w["n"] == 5);
	CHECK(w["min"].get<double>() <= w["median"].get<double>());
	CHECK(w["median"].get<double>() <= w["p95"].get<double>());
	CHECK(w["p95"].get<double>() <= w["max"].get<double>());
	CHECK(w["ci95_low"].get<double>() <= w["mean"].get<double>());
	CHECK(w["mean"].get<double>() <= w["ci95_high"].get<double>());
	// The partition lengths were drawn from [2s, 4s].
	CHECK(w["min"].get<double>() > 1900);
	CHECK(w["max"].get<double>() < 4300);
	// Repetition i ran with seed 42 + i - 1 and drew what a dry run with that seed draws.
	const json rep1 = readJson(out + "/rep-1/report.json");
	CHECK(rep1["seed"] == 42);
	CHECK(rep1["random"] == a1);
	const json rep2 = readJson(out + "/rep-2/report.json");
	CHECK(rep2["seed"] == 43);
	CHECK(rep2["random"] == b);
	CHECK(rep2["faults"][0]["hosts"][0] == b["victim"]);

	// The campaign's reports: campaign.json and campaign.html, as headless Chromium builds the page, show each run's
	// fault window exactly as its report.json has it, and the distribution over the five.
	const json camp = readJson(out + "/campaign.json");
	CHECK(camp["schema"] == "xdc.campaign/1");
	CHECK(camp["passed"] == 5);
	REQUIRE(camp["cells"].size() == 1);
	const json &cell = camp["cells"][0];
	CHECK(cell["pass_rate"] == 1.0);
	CHECK(cell["statistics"]["fault.1.window_ms"]["median"] == w["median"]);
	const std::string dom = renderedDom(out + "/campaign.html");
	CHECK(dom.find("5 of 5 passed") != std::string::npos);
	std::smatch figRow;
	REQUIRE(std::regex_search(dom, figRow, std::regex("<tr class=\"figure\" data-figure=\"fault\\.1\\.window_ms\"([^>]*)>"
							"([\\s\\S]*?)</tr>")));
	const std::string attrs = figRow[1], cells = figRow[2];
	std::vector<double> windows;
	for (int i = 1; i <= 5; i++) {
		const json rep = readJson(out + "/rep-" + std::to_string(i) + "/report.json");
		const json &f = rep["faults"][0];
		const double ms = static_cast<double>(f["window_end_ns"].get<int64_t>() - f["window_start_ns"].get<int64_t>()) / 1e6;
		windows.push_back(ms);
		// The run's point in the strip plot carries its value; its link leads to its report.
		std::smatch pt;
		const std::string runId = rep["run_id"];
		REQUIRE_MESSAGE(std::regex_search(cells, pt, std::regex("<circle class=\"run-value\" data-run=\"" + runId +
									"\" data-value=\"([^\"]+)\"")),
				"no point for " << runId);
		CHECK(std::abs(std::stod(pt[1]) - ms) <= 1e-9 * ms);
		CHECK(dom.find("<a href=\"rep-" + std::to_string(i) + "/report.html\">") != std::string::npos);
		CHECK(std::filesystem::exists(out + "/rep-" + std::to_string(i) + "/report.html"));
	}
	std::sort(windows.begin(), windows.end());
	auto attr = [&](const std::string &name) {
		std::smatch m;
		REQUIRE_MESSAGE(std::regex_search(attrs, m, std::regex(name + "=\"([^\"]+)\"")), name << " in " << attrs);
		return std::stod(m[1]);
	};
	CHECK(attr("data-n") == 5);
	CHECK(std::abs(attr("data-min") - windows.front()) <= 1e-9 * windows.front());
	CHECK(std::abs(attr("data-p50") - windows[2]) <= 1e-9 * windows[2]);
	CHECK(std::abs(attr("data-max") - windows.back()) <= 1e-9 * windows.back());

	auto hist = test::xdc({"history", "--json", "--scenario", "lab-random-host-partition"});
	INFO(hist.out << hist.err);
	REQUIRE(hist.exitCode == 0);
	const json runs = json::parse(hist.out);
	REQUIRE(runs.size() == 5);
	for (const auto &run : runs)
		CHECK(run["verdict"] == "passed");
	const std::string ida = summary["runs"][0]["run_id"], idb = summary["runs"][1]["run_id"];
	auto cmp = test::xdc({"compare", ida, idb, "--json"});
	INFO(cmp.out << cmp.err);
	REQUIRE(cmp.exitCode == 0);
	const json c = json::parse(cmp.out);
	bool sawWindow = false;
	for (const auto &row : c["figures"])
		if (row["figure"] == "fault.1.window_ms") {
			sawWindow = true;
			CHECK(std::abs(row["delta"].get<double>() - (row["b"].get<double>() - row["a"].get<double>())) < 1e-6);
		}
	CHECK(sawWindow);
	// The parameters that differ come first: the repetitions drew their own partition lengths from their seeds.
	REQUIRE(c["parameters"].is_array());
	bool sawLength = false;
	for (const auto &p : c["parameters"]) {
		CHECK(p["a"] != p["b"]);
		sawLength = sawLength || p["name"] == "length";
	}
	CHECK_MESSAGE(sawLength, c["parameters"].dump());
	auto human = test::xdc({"compare", ida, idb});
	INFO(human.out);
	CHECK(human.out.find("parameters that differ:\n") != std::string::npos);
	CHECK(human.out.find("\n  length ") != std::string::npos);
	CHECK(human.out.find("parameters that differ:") < human.out.find("\nfigure "));
	// The same as a page: the parameters that differ before the figures, each figure's values as the JSON has them.
	const std::string page = dir.path() + "/compare.html";
	auto ch = test::xdc({"compare", ida, idb, "--html", page});
	REQUIRE_MESSAGE(ch.exitCode == 0, ch.err);
	const std::string cdom = renderedDom(page);
	const auto paramsAt = cdom.find("id=\"parameters\""), figuresAt = cdom.find("id=\"figures\"");
	REQUIRE(paramsAt != std::string::npos);
	REQUIRE(figuresAt != std::string::npos);
	CHECK(paramsAt < figuresAt);
	CHECK(cdom.find("<tr class=\"parameter\" data-name=\"length\">") != std::string::npos);
	for (const auto &row : c["figures"])
		if (row["figure"] == "fault.1.window_ms") {
			std::smatch m;
			REQUIRE(std::regex_search(cdom, m, std::regex("data-figure=\"fault\\.1\\.window_ms\" data-a=\"([^\"]+)\" "
								      "data-b=\"([^\"]+)\"")));
			CHECK(std::stod(m[1]) == doctest::Approx(row["a"].get<double>()).epsilon(1e-12));
			CHECK(std::stod(m[2]) == doctest::Approx(row["b"].get<double>()).epsilon(1e-12));
		}
	CHECK(test::xdc({"compare", ida, idb, "--html", dir.path() + "/no/such/dir/c.html"}).exitCode == 1);
	auto unknown = test::xdc({"compare", ida, "r-no-such-run"});
	CHECK(unknown.exitCode == 2);
	CHECK(unknown.err.find("no run 'r-no-such-run'") != std::string::npos);
}

TEST_CASE("a campaign: --matrix runs every combination, each with its parameters, and summarises per cell")
{
	auto &lab = theLab();
	TempDir dir;
	auto r = test::xdc({"run", scenarioFile(), "--lab", lab.name(), "--out", dir.path() + "/m", "--matrix",
			    "partition=1s,2s", "--param", "min_outage=500ms", "--json"}, 180s);
	INFO(r.out << r.err);
	REQUIRE(r.exitCode == 0);
	const json summary = json::parse(r.out);
	REQUIRE(summary["cells"].size() == 2);
	for (const std::string len : {"1s", "2s"}) {
		const json rep = readJson(dir.path() + "/m/partition=" + len + "/report.json");
		CHECK(rep["verdict"] == "passed");
		CHECK(rep["inputs"]["params"]["partition"] == len);
		const json &f = rep["faults"][0];
		const double window = (f["window_end_ns"].get<int64_t>() - f["window_start_ns"].get<int64_t>()) / 1e9;
		CHECK(std::abs(window - (len == "1s" ? 1.0 : 2.0)) < 0.3);
	}
	CHECK(json::parse(readText(dir.path() + "/m/summary.json"))["cells"][1]["params"]["partition"] == "2s");
	// A bad value in the matrix is refused before anything runs.
	auto bad = test::xdc({"run", scenarioFile(), "--lab", lab.name(), "--out", dir.path() + "/bad", "--matrix",
			      "partition=1s,5"});
	CHECK(bad.exitCode == 2);
	CHECK(bad.err.find("(with partition=5)") != std::string::npos);
	CHECK(noScenarioFaults(lab));
}

TEST_CASE("a runner killed mid-run shows as broken in the history")
{
	auto &lab = theLab();
	TempDir dir;
	const pid_t pid = startLongRun(lab, dir.path());
	INFO(readText(dir.path() + "/log"));
	REQUIRE(pid > 0);
	::kill(pid, SIGKILL);
	::waitpid(pid, nullptr, 0);
	// Its faults stay until their TTL; a halt takes them back now.
	auto halt = test::xdc({"halt", "--lab", lab.name()});
	CHECK(halt.exitCode == 0);
	CHECK(waitUntil([&] { return noScenarioFaults(lab) && noFaultTables(lab); }, 10s));
	auto hist = test::xdc({"history", "--json", "--limit", "1"});
	INFO(hist.out << hist.err);
	const json runs = json::parse(hist.out);
	REQUIRE(runs.size() == 1);
	CHECK(runs[0]["verdict"] == "broken");
	CHECK(runs[0]["dir"] == dir.path() + "/run");
	auto text = test::xdc({"history", "--limit", "1"});
	CHECK(text.out.find("broken") != std::string::npos);
	// A header, then the run with the date it started (UTC).
	CHECK(text.out.rfind("RUN ", 0) == 0);
	CHECK(text.out.find("STARTED (UTC)") != std::string::npos);
	CHECK(text.out.find(dateTimeUtcForTest(runs[0].value("started_ns", int64_t{0}))) != std::string::npos);
}

// Last: it restarts the lab's controller.
TEST_CASE("the controller dies mid-run: the run ends as broken (exit 3), the agents' lease reverts the faults")
{
	auto &lab = theLab();
	TempDir dir;
	const pid_t pid = startLongRun(lab, dir.path());
	const int cpid = lab.controllerPid();
	INFO(readText(dir.path() + "/log"));
	REQUIRE(pid > 0);
	REQUIRE(cpid > 1);
	REQUIRE(::kill(cpid, SIGKILL) == 0);
	int status = 0;
	const bool exited = waitUntil([&] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 30s, 50ms);
	if (!exited)
		::kill(pid, SIGKILL);
	REQUIRE(exited);
	CHECK(WIFEXITED(status));
	CHECK(WEXITSTATUS(status) == 3);
	// The agents revert on their own once the controller has been silent for the lease (5 s in the lab).
	CHECK(waitUntil([&] { return noFaultTables(lab); }, 20s, 200ms));
	const json rep = readJson(dir.path() + "/run/report.json");
	CHECK(rep["verdict"] == "broken");
	CHECK(rep["reason"].get<std::string>().find("lost the controller") != std::string::npos);
	lab.startController();
	CHECK(waitUntil([&] { return lab.allLive(4); }, 15s));
	auto hist = test::xdc({"history", "--json", "--limit", "1"});
	const json runs = json::parse(hist.out, nullptr, false);
	REQUIRE(!runs.is_discarded());
	REQUIRE(runs.size() == 1);
	CHECK(runs[0]["verdict"] == "broken");
	CHECK(noScenarioFaults(lab));
}

// Precision #24, item 0: the samples of a window arrive in the agents' batches, up to a batch after the window ends.
// Judged at once, the steady state after recovery used to count the fault's last second and miss its own.
TEST_CASE("the steady state after recovery is judged on its whole window: 30 % loss for 5 s then recover 2 s passes "
	  "10 of 10; with the target blocked late in that window it fails 10 of 10")
{
	auto &lab = theLab();
	const std::string file = sourceRoot() + "/scenarios/lab-dc-loss.yaml";
	TempDir dir;
	// Both campaigns at once, on the two dc1 hosts: the plain one on dc1-h1 and, on dc1-h2, the one whose
	// recovery window the test spoils.
	const std::string passLog = dir.path() + "/pass.log", failLog = dir.path() + "/fail.log";
	auto pass = sys::spawn({xdcBin(), "run", file, "--lab", lab.name(), "--out", dir.path() + "/pass", "--repeat",
				"10", "--param", "host=dc1-h1"},
			       {.stdoutFile = passLog, .newSession = true});
	auto fail = sys::spawn({xdcBin(), "run", file, "--lab", lab.name(), "--out", dir.path() + "/fail", "--repeat",
				"10", "--param", "host=dc1-h2"},
			       {.stdoutFile = failLog, .newSession = true});
	REQUIRE(pass.ok());
	REQUIRE(fail.ok());
	// dc1-h2 is cut from dc2-h1 from outside its run for 0.9 s, from 1 s into each recover phase: the last part of
	// the judged window, the part that had not arrived when it was judged at once.
	for (int i = 1; i <= 10; i++) {
		INFO("repetition " << i << "\n" << readText(failLog));
		REQUIRE(waitUntil([&] { return countOf(readText(failLog), "phase recover") >= i; }, 60s, 10ms));
		// The block is placed by time on purpose: 1 s after the phase began, whatever the run is doing.
		const auto at = std::chrono::steady_clock::now() + 1000ms;
		waitUntil([&] { return std::chrono::steady_clock::now() >= at; }, 2s, 5ms);
		auto block = test::xdc({"fault", "apply", "--lab", lab.name(), "--no-sync",
					"{kind: network.partition, targets: {host: dc1-h2}, peers: {host: dc2-h1}, "
					"action: reject, duration: 900ms}"});
		CHECK(block.exitCode == 0);
	}
	for (const auto &[pid, log, code] : {std::tuple{*pass, passLog, 0}, std::tuple{*fail, failLog, 1}}) {
		int status = -1;
		CHECK(waitUntil([&, pid = pid] { return ::waitpid(pid, &status, WNOHANG) == pid; }, 120s, 50ms));
		INFO(readText(log));
		CHECK(WIFEXITED(status));
		CHECK(WEXITSTATUS(status) == code);
	}
	for (int i = 1; i <= 10; i++) {
		const std::string run = fmt::format("{}/pass/rep-{}", dir.path(), i);
		CHECK(readJson(run + "/report.json")["verdict"] == "passed");
		CHECK(checkRecoveryWindow(run, "dc1-h1") <= 0.05);
	}
	for (int i = 1; i <= 10; i++) {
		const std::string run = fmt::format("{}/fail/rep-{}", dir.path(), i);
		const json rep = readJson(run + "/report.json");
		CHECK(rep["verdict"] == "failed");
		CHECK(rep.value("reason", "").rfind("steady state after recovery: probe wan on dc1-h2: ", 0) == 0);
		CHECK(checkRecoveryWindow(run, "dc1-h2") > 0.05);
	}
}

TEST_CASE("on a terminal xdc run keeps one live line: phase, time left, faults in place per host, probe health")
{
	auto &lab = theLab();
	REQUIRE(::access("/usr/bin/script", X_OK) == 0);
	TempDir dir;
	const std::string file = sourceRoot() + "/scenarios/lab-random-host-partition.yaml";
	// script(1) gives the run a pseudo-terminal; its output is what a person at a terminal sees.
	const std::string cmd = fmt::format("{} run {} --lab {} --out {} --seed 42", xdcBin(), file,
					    lab.name(), dir.path() + "/run");
	sys::RunOptions o;
	o.timeout = 120s;
	auto r = sys::run({"/usr/bin/script", "-qfec", cmd, "/dev/null"}, o);
	REQUIRE(r.ok());
	INFO(r->out);
	CHECK(r->exitCode == 0);
	// The line is rewritten in place (carriage return, erase line) and shows, during observe, the time left
	// before the timeout, the partition in place on the victim and both dc2 hosts, and each probe's health.
	CHECK(r->out.find("\r\033[K") != std::string::npos);
	CHECK(std::regex_search(r->out, std::regex("\r\033\\[Kobserve \\d+\\.\\ds, \\d+\\.\\ds left \\| faults dc1-h[12]:1 "
						   "dc2-h1:1 dc2-h2:1 \\| dc1-h1@dc1-h1 (ok|FAIL \\d+\\.\\ds) "
						   "dc1-h2@dc1-h2 (ok|FAIL \\d+\\.\\ds)")));
	CHECK(std::regex_search(r->out, std::regex("\r\033\\[Kbaseline \\d+\\.\\ds, \\d+\\.\\ds left \\| faults none \\|")));
	// Progress lines and the measured values still come as lines.
	CHECK(r->out.find("phase recover") != std::string::npos);
	CHECK(r->out.find("passed (measured: ") != std::string::npos);
}

int main(int argc, char **argv)
{
	requireRoot();
	doctest::Context ctx(argc, argv);
	int rc = 0;
	// The runs' history goes to a database of this test, never the user's.
	TempDir historyDir;
	::setenv("XDC_HISTORY_DB", (historyDir.path() + "/history.db").c_str(), 1);
	{
		LabFixture lab("scn", {"--streams", "--streams-pes", "2"});
		gLab = &lab;
		rc = ctx.run();
		gLab = nullptr;
	}
	return rc;
}
