// SPDX-License-Identifier: Apache-2.0
// Data acceptance in the lab: test tuples through the emulated application, checked by xdc's validator against the
// emulators' ground truth (their truth logs, which xdc never reads): a control run loses and duplicates nothing;
// isolating dc1 at a random moment, for 10 seeds, gives exactly the emulators' lost and duplicated counts; a plain
// partition (split brain) duplicates without losing; the HTML report shows the output gap.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <fstream>
#include <set>

#include <fmt/format.h>

#include "tests/support/harness.h"

using namespace xdc;
using namespace xdc::test;

namespace {

json readJson(const std::string &path)
{
	std::ifstream f(path);
	if (!f)
		return json::object();
	try {
		return json::parse(std::string(std::istreambuf_iterator<char>(f), {}));
	} catch (...) {
		return json::object();
	}
}

// The emulators' ground truth: a tuple the old active DC dropped in flight and the new one did not replay is lost;
// a replayed tuple that was not dropped had been delivered already, so it is delivered twice.
struct Truth {
	std::set<std::string> dropped, replayed;
	uint64_t lost() const
	{
		uint64_t n = 0;
		for (const auto &id : dropped)
			n += !replayed.count(id);
		return n;
	}
	uint64_t duplicated() const
	{
		uint64_t n = 0;
		for (const auto &id : replayed)
			n += !dropped.count(id);
		return n;
	}
};

Truth truthOf(const LabFixture &lab)
{
	Truth t;
	for (const char *dc : {"dc1", "dc2"}) {
		std::ifstream f(lab.stateDir() + "/streams/" + dc + ".truth.jsonl");
		std::string line;
		while (std::getline(f, line)) {
			json j = json::parse(line, nullptr, false);
			if (j.is_discarded())
				continue;
			const std::string ev = j.value("event", "");
			if (ev != "data_dropped" && ev != "data_replayed")
				continue;
			for (const auto &id : j.value("ids", json::array()))
				(ev == "data_dropped" ? t.dropped : t.replayed).insert(id.get<std::string>());
		}
	}
	return t;
}

json run(const LabFixture &lab, const TempDir &tmp, const std::string &file, std::vector<std::string> extra, int &rc)
{
	std::vector<std::string> args = {"run", file, "--lab", lab.name(), "--out", tmp.path() + "/run"};
	args.insert(args.end(), extra.begin(), extra.end());
	auto r = test::xdc(args);
	rc = r.exitCode;
	MESSAGE("xdc run " << file << " exit " << r.exitCode << "\n" << r.out << r.err);
	return readJson(tmp.path() + "/run/report.json");
}

// A run without faults (`inject: {control: true}`) with this `data:` mapping, written to DIR/NAME.yaml.
std::string controlScenario(const TempDir &dir, const std::string &name, const std::string &data,
			    const std::string &observe = "1s",
			    const std::string &assertion = "{lost_max: 0, duplicated_max: 0}")
{
	const std::string file = dir.path() + "/" + name + ".yaml";
	std::ofstream(file) << fmt::format(R"(version: 1
name: {}
data: {}
phases:
  baseline: {{duration: 2s}}
  inject: {{control: true}}
  observe: {{duration: {}}}
  recover: {{duration: 1s}}
assertions:
  - data: {}
)",
					   name, data, observe, assertion);
	return file;
}

// A validation in which every tuple sent (at least minSent) came out exactly once, intact.
void checkExactlyOnce(const json &v, uint64_t minSent)
{
	CHECK(v["total"]["sent"].get<uint64_t>() >= minSent);
	CHECK(v["total"]["delivered"] == v["total"]["sent"]);
	CHECK(v["total"]["distinct"] == v["total"]["sent"]);
	CHECK(v["total"]["lost"] == 0);
	CHECK(v["total"]["duplicated"] == 0);
	CHECK(v["total"]["out_of_order"] == 0);
	CHECK(v["total"]["unexpected"] == 0);
	CHECK(v["corrupt"] == 0);
	CHECK(v["malformed"] == 0);
}

const std::vector<std::string> kLab = {"--hosts-per-dc", "1", "--streams", "--hb-interval", "1s", "--hb-misses", "3",
				       "--snapshot-interval", "2s"};

} // namespace

TEST_CASE("data: a control run loses and duplicates nothing and reports latency percentiles")
{
	requireRoot();
	LabFixture lab("dta", kLab);
	REQUIRE(lab.up());
	TempDir tmp;
	const std::string file = controlScenario(tmp, "data-control", "{rate: 300/s, keys: 8, payload: 24}", "2s",
						 "{lost_max: 0, duplicated_max: 0, latency_p99_max: 2s}");
	int rc = -1;
	const json rep = run(lab, tmp, file, {"--seed", "11"}, rc);
	CHECK(rc == 0);
	CHECK(rep.value("verdict", "") == "passed");
	const json v = rep["data"]["validation"];
	// About 300/s for the 5 s of baseline, observe and recover, every tuple delivered once, in order, intact.
	checkExactlyOnce(v, 1200);
	// The emulator holds each tuple 100 ms; the sink is polled every 100 ms.
	const json lat = v["latency_ms"];
	CHECK(lat["p50"].get<double>() >= 100);
	CHECK(lat["p50"].get<double>() <= lat["p99"].get<double>());
	CHECK(lat["p99"].get<double>() < 1000);
	CHECK(truthOf(lab).dropped.empty());
	CHECK(rep["data"]["generator"]["uncertain"] == 0);

	// The same through the TCP line source (the second DataSource), in the same lab: the reader skips the first
	// run's tuples, so only this run's are counted.
	TempDir tmp2;
	const std::string tcp = controlScenario(tmp2, "data-control-tcp", "{rate: 300/s, keys: 8, payload: 24, source: tcp}");
	const json rep2 = run(lab, tmp2, tcp, {"--seed", "12"}, rc);
	CHECK(rc == 0);
	CHECK(rep2["data"]["source"] == "tcp lines, port 8441");
	const json v2 = rep2["data"]["validation"];
	checkExactlyOnce(v2, 900);
}

TEST_CASE("data: isolating dc1 at a random moment, 10 seeds: lost and duplicated equal the emulators' ground truth")
{
	requireRoot();
	int nonZero = 0;
	for (int seed = 1; seed <= 10; seed++) {
		CAPTURE(seed);
		LabFixture lab("db" + std::to_string(seed), kLab);
		REQUIRE(lab.up());
		TempDir tmp;
		int rc = -1;
		const json rep = run(lab, tmp, sourceRoot() + "/scenarios/streams-dc-failover.yaml",
				     {"--seed", std::to_string(seed), "--param", "rpo_max=3s"}, rc);
		CHECK(rc == 0);
		REQUIRE(rep.contains("data"));
		const json tot = rep["data"]["validation"]["total"];
		const Truth t = truthOf(lab);
		MESSAGE("seed " << seed << ": xdc lost " << tot["lost"] << " duplicated " << tot["duplicated"]
				<< "; emulators lost " << t.lost() << " duplicated " << t.duplicated() << "; RTO "
				<< rep["data"].value("rto_ms", json(nullptr)) << " ms, RPO " << rep["data"].value("rpo_s", json(nullptr))
				<< " s; drawn " << rep["random"]);
		CHECK(tot["lost"].get<uint64_t>() == t.lost());
		CHECK(tot["duplicated"].get<uint64_t>() == t.duplicated());
		CHECK(rep["data"]["generator"]["uncertain"] == 0);
		CHECK(rep["data"]["validation"]["corrupt"] == 0);
		nonZero += t.lost() > 0 && t.duplicated() > 0;
		// The HTML report shows the output gap of the failover.
		std::ifstream html(tmp.path() + "/run/report.html");
		const std::string page(std::istreambuf_iterator<char>(html), {});
		CHECK(page.find("class=\"output-gap\"") != std::string::npos);
		CHECK(page.find("id=\"data-summary\"") != std::string::npos);
	}
	CHECK(nonZero >= 8);
}

TEST_CASE("data: a plain partition is split brain: replayed tuples are duplicated, none lost")
{
	requireRoot();
	LabFixture lab("dsb", kLab);
	REQUIRE(lab.up());
	TempDir tmp;
	int rc = -1;
	const json rep = run(lab, tmp, sourceRoot() + "/scenarios/streams-split-brain.yaml", {"--seed", "5"}, rc);
	CHECK(rc == 0);
	CHECK(rep.value("verdict", "") == "passed");
	const json tot = rep["data"]["validation"]["total"];
	const Truth t = truthOf(lab);
	CHECK(t.lost() == 0);
	CHECK(tot["lost"] == 0);
	CHECK(tot["duplicated"].get<uint64_t>() == t.duplicated());
	CHECK(t.duplicated() > 0);
}

TEST_CASE("data: sinks read through the agents (data.tail), a generator on a lab host: control runs and an isolate-dc1 failover equal the truth")
{
	requireRoot();
	LabFixture lab("dag", kLab);
	REQUIRE(lab.up());
	TempDir tmp;
	const std::string file = controlScenario(tmp, "data-control-agent-sink",
						 "{rate: 300/s, keys: 8, payload: 24, sink: {via: agent, file: streams-out}}");
	int rc = -1;
	const json rep = run(lab, tmp, file, {"--seed", "21"}, rc);
	CHECK(rc == 0);
	CHECK(rep.value("verdict", "") == "passed");
	CHECK(rep["data"]["sink_via"] == "agent");
	REQUIRE(rep["data"]["sinks"].size() == 2);
	for (const auto &s : rep["data"]["sinks"]) {
		CAPTURE(s.dump());
		const std::string host = s.value("dc", "") + "-h1";
		CHECK(s.value("read", "").find("agent " + host + ": sink file 'streams-out'") != std::string::npos);
		CHECK(s.value("error", "x").empty());
		CHECK(s["restarts"] == 0);
	}
	const json v = rep["data"]["validation"];
	checkExactlyOnce(v, 900);
	CHECK(truthOf(lab).dropped.empty());

	// Generated on a lab host through its agent (dc2-h1, the standby DC's host), read through the agents: the same
	// exact figures, and the report says where the tuples were made.
	TempDir tmp3;
	const std::string remote = controlScenario(tmp3, "data-control-remote-generator",
						   "{rate: 300/s, keys: 8, payload: 24, generate_on: dc2-h1, sink: {via: agent}}");
	const json rep3 = run(lab, tmp3, remote, {"--seed", "22"}, rc);
	CHECK(rc == 0);
	CHECK(rep3.value("verdict", "") == "passed");
	CHECK(rep3["data"]["generated_on"] == "dc2-h1 (through its agent)");
	const json g3 = rep3["data"]["generator"];
	CHECK(g3["uncertain"] == 0);
	CHECK(g3["clock_bound_ns"].get<int64_t>() >= 0);
	CHECK(g3["send_times_omitted"] == false);
	CHECK(g3["per_source"].value("dc1", uint64_t{0}) == g3["accepted"].get<uint64_t>());
	const json v3 = rep3["data"]["validation"];
	checkExactlyOnce(v3, 900);
	CHECK(v3["total"]["sent"] == g3["accepted"]);
	CHECK(truthOf(lab).dropped.empty());

	// The failover sample with its sinks read through the agents, in the same lab (the reader skips what the sink
	// files hold from the control run): lost and duplicated are the emulators' truth.
	std::ifstream in(sourceRoot() + "/scenarios/streams-dc-failover.yaml");
	std::string yaml(std::istreambuf_iterator<char>(in), {});
	const auto at = yaml.find("  gap: 500ms\n");
	REQUIRE(at != std::string::npos);
	yaml.insert(at, "  sink: {via: agent}\n");
	// No recording at all (the Streams hosts' signals would be one): the fault windows come from the reverts.
	const auto streamsAt = yaml.find("\nstreams:\n");
	REQUIRE(streamsAt != std::string::npos);
	yaml.insert(streamsAt + 10, "  host_signals: false\n");
	TempDir tmp2;
	const std::string failover = tmp2.path() + "/failover.yaml";
	std::ofstream(failover) << yaml;
	const json rep2 = run(lab, tmp2, failover, {"--seed", "3", "--param", "rpo_max=3s"}, rc);
	CHECK(rc == 0);
	REQUIRE(rep2.contains("data"));
	CHECK(rep2["data"]["sink_via"] == "agent");
	// This scenario records no evidence (no probe or sampler), so the partition's window ends at the revert the
	// agents verified at recover, not at its planned 60 s end.
	for (const auto &f : rep2["faults"]) {
		if (f.value("kind", "") != "network.partition")
			continue;
		REQUIRE(f.contains("revert_verified_ns"));
		CHECK(f["window_end_ns"] == f["revert_verified_ns"]);
		const int64_t len = f["window_end_ns"].get<int64_t>() - f["window_start_ns"].get<int64_t>();
		MESSAGE("partition window " << len / 1e9 << " s (planned 60 s)");
		CHECK(len > 0);
		CHECK(len < 40 * 1000000000LL);
	}
	const json tot = rep2["data"]["validation"]["total"];
	const Truth t = truthOf(lab);
	MESSAGE("via agent: xdc lost " << tot["lost"] << " duplicated " << tot["duplicated"] << "; emulators lost "
				       << t.lost() << " duplicated " << t.duplicated());
	CHECK(tot["lost"].get<uint64_t>() == t.lost());
	CHECK(tot["duplicated"].get<uint64_t>() == t.duplicated());
	CHECK(t.lost() + t.duplicated() > 0);
	CHECK(rep2["data"]["generator"]["uncertain"] == 0);
	CHECK(rep2["data"]["validation"]["corrupt"] == 0);
	CHECK(rep2["data"]["validation"]["malformed"] == 0);
	for (const auto &s : rep2["data"]["sinks"])
		CHECK(s.value("read", "").find("(data.tail)") != std::string::npos);
}

int main(int argc, char **argv)
{
	requireRoot();
	doctest::Context ctx(argc, argv);
	return ctx.run();
}
