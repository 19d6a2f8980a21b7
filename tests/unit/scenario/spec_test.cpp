// SPDX-License-Identifier: Apache-2.0
// Scenario parsing (values, variables, defaults), topology checks, inventories, and the JUnit writer.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>

#include "controller/scenario/history.h"
#include "controller/scenario/report.h"
#include "controller/scenario/assertions/assertion.h"
#include "controller/scenario/spec.h"

using namespace xdc;
using namespace xdc::scenario;
using namespace std::chrono_literals;

namespace {

const char *kGood = R"(version: 1
name: two-faults
description: a partition, then a PE kill
variables:
  len: 4s
evidence:
  probes:
    - {name: wan, kind: probe.tcp, on: {host: dc1-h1}, target: "dc2-h1:8440", rate: 50hz}
  samplers:
    - {name: pes, kind: process, on: {dc: dc1}, match: {preset: streams-pe}, interval: 200ms}
steady_state:
  - {probe: wan, min_success: 0.9, window: 3s}
phases:
  setup: {duration: 1s}
  baseline: {duration: 2s}
  inject:
    faults:
      - {kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: "${len}"}
      - {kind: process.kill, targets: {host: dc1-h1}, match: {preset: streams-pe}, count: 1, start: 2s, duration: 1s}
  observe: {until: {probe: wan, ok_for: 2s}, timeout: 30s}
  recover: {duration: 3s}
assertions:
  - {outage: {probe: wan, max: 6s, count_max: 1}}
  - {name: relaunched, process_events: {sampler: pes, event: started, count_min: 1}}
  - {success_ratio: {probe: wan, phase: baseline, min: 99.5%}}
stop_conditions:
  - {probe: wan, failing_for: 10s}
)";

std::vector<Host> lab2x2()
{
	std::vector<Host> h;
	for (int d = 1; d <= 2; d++)
		for (int i = 1; i <= 2; i++)
			h.push_back({fmt::format("dc{}-h{}", d, i), fmt::format("dc{}", d), {{"role", "streams"}}, {}});
	return h;
}

} // namespace

TEST_CASE("a full scenario parses into its values")
{
	auto s = parseScenario(kGood, "good.yaml");
	REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
	CHECK(s->name == "two-faults");
	CHECK(s->probes.size() == 1);
	CHECK(s->samplers.size() == 1);
	REQUIRE(s->faults.size() == 2);
	CHECK(s->faults[0].spec.duration == 4s);
	CHECK(s->faults[0].path == "phases.inject.faults[0]");
	CHECK(s->faults[0].where == "good.yaml:18:9");
	CHECK(s->faults[1].spec.start == 2s);
	REQUIRE(s->steadyState.size() == 1);
	CHECK(s->steadyState[0].minSuccess == doctest::Approx(0.9));
	CHECK(s->steadyState[0].window == 3s);
	REQUIRE(s->observe.until.has_value());
	CHECK(s->observe.until->probe == "wan");
	CHECK(s->observe.okFor == 2s);
	CHECK(s->observe.timeout == 30s);
	REQUIRE(s->assertions.size() == 3);
	CHECK(s->assertions[0].kind == "outage");
	CHECK(s->assertions[0].check->parameters()["max_ms"] == 6000);
	CHECK(s->assertions[0].check->parameters()["count_max"] == 1);
	CHECK(s->assertions[0].name == "outage wan <= 6s, count <= 1");
	CHECK(s->assertions[1].name == "relaunched");
	CHECK(s->assertions[2].check->parameters()["min"].get<double>() == doctest::Approx(0.995));
	CHECK(s->assertions[2].check->parameters()["phase"] == "baseline");
	REQUIRE(s->stopConditions.size() == 1);
	CHECK(s->stopConditions[0].failingFor == 10s);
	// setup 1 + baseline 2 + max(last start 2 s, ...) + observe timeout 30 + recover 3.
	CHECK(s->plannedDuration() == 1s + 2s + 2s + 30s + 3s);
	CHECK(checkTopology(*s, lab2x2()).ok());
}

TEST_CASE("--param overrides a variable and can define one; values stay plain words")
{
	ParseOptions o;
	o.params["len"] = "9s";
	auto s = parseScenario(kGood, "good.yaml", o);
	REQUIRE(s.ok());
	CHECK(s->faults[0].spec.duration == 9s);
	CHECK(s->variables.at("len") == "9s");
	o.params["len"] = "9s}\nevil: {";
	auto bad = parseScenario(kGood, "good.yaml", o);
	REQUIRE(!bad.ok());
	CHECK(bad.error().message.find("--param len=") != std::string::npos);
}

TEST_CASE("topology checks: unknown hosts, peers, overlapping faults per host, netem on the live fleet")
{
	std::string text = kGood;
	auto hosts = lab2x2();
	{
		auto s = parseScenario(std::regex_replace(text, std::regex("targets: \\{host: dc1-h1\\}"), "targets: {host: dc1-h9}"), "t.yaml");
		REQUIRE(s.ok());
		auto r = checkTopology(*s, hosts);
		REQUIRE(!r.ok());
		CHECK(r.error().message.find("phases.inject.faults[1].targets: host 'dc1-h9' matches no host") != std::string::npos);
		CHECK(r.error().message.find("did you mean 'dc1-h1'") != std::string::npos);
	}
	{
		// Two partitions of different targets that share dc2-h1 as a peer, overlapping in time.
		const std::string two = R"(version: 1
name: overlap
phases:
  baseline: {duration: 1s}
  inject:
    faults:
      - {kind: network.partition, targets: {host: dc1-h1}, peers: {host: dc2-h1}, duration: 5s}
      - {kind: network.partition, targets: {host: dc1-h2}, peers: {host: dc2-h1}, duration: 5s, start: 2s}
  observe: {duration: 1s}
  recover: {duration: 1s}
)";
		auto s = parseScenario(two, "o.yaml");
		REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
		auto r = checkTopology(*s, hosts);
		REQUIRE(!r.ok());
		CHECK(r.error().message.find("o.yaml:8:9: phases.inject.faults[1]: overlaps phases.inject.faults[0] on host "
					     "'dc2-h1'") != std::string::npos);
		// After the first one ends they do not overlap.
		auto later = parseScenario(std::regex_replace(two, std::regex("start: 2s"), "start: 5s"), "o.yaml");
		REQUIRE(later.ok());
		CHECK(checkTopology(*later, hosts).ok());
	}
	{
		const std::string corrupt = R"(version: 1
name: netem
phases:
  baseline: {duration: 1s}
  inject:
    faults:
      - {kind: network.corrupt, targets: {host: dc1-h1}, peers: {host: dc2-h1}, percent: 1, duration: 5s}
  observe: {duration: 1s}
  recover: {duration: 1s}
)";
		auto s = parseScenario(corrupt, "n.yaml");
		REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
		CHECK(checkTopology(*s, hosts, false).ok());
		auto live = hosts;
		live[0].capabilities["qdisc.netem"] = "no (sch_netem not available)";
		auto r = checkTopology(*s, live, true);
		REQUIRE(!r.ok());
		CHECK(r.error().message.find("lacks sch_netem") != std::string::npos);
	}
}

TEST_CASE("Streams in scenarios: operations, the until condition, assertions, and their errors")
{
	const std::string text = R"(version: 1
name: isolate
streams: {interval: 100ms}
phases:
  baseline: {duration: 1s}
  inject:
    faults:
      - {kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 30s}
      - {kind: streams.stop_pe, dc: dc1, start: 1s}
      - {kind: streams.restart_pe, dc: dc2, pes: ["3", "4"], start: 2s}
      - {kind: streams.submit_job, dc: dc1, bundle: app.sab, job_name: app, start: 3s}
  observe: {until: {streams: failover_complete}, timeout: 20s}
  recover: {duration: 1s}
assertions:
  - streams: {takeover: true, split_brain: false, detection_max: 5s, failover_max: 8s, active: dc2}
)";
	auto s = parseScenario(text, "/srv/x/iso.yaml");
	REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
	CHECK(s->usesStreams());
	CHECK(s->streams.interval == 100ms);
	REQUIRE(s->faults.size() == 1);
	REQUIRE(s->streamsActions.size() == 3);
	CHECK(s->streamsActions[0].kind == "stop_pe");
	CHECK(s->streamsActions[0].pes.empty());
	CHECK(s->streamsActions[0].start == 1s);
	CHECK(s->streamsActions[1].pes == std::vector<std::string>{"3", "4"});
	CHECK(s->streamsActions[2].bundle == "/srv/x/app.sab");
	CHECK(s->streamsActions[2].path == "phases.inject.faults[3]");
	CHECK(s->observe.untilStreams == "failover_complete");
	CHECK(s->plannedDuration() == 1s + 3s + 20s + 1s);
	REQUIRE(s->assertions.size() == 1);
	const auto &a = s->assertions[0];
	CHECK(a.kind == "streams");
	const auto ap = a.check->parameters();
	CHECK(ap["takeover"] == true);
	CHECK(ap["split_brain"] == false);
	CHECK(ap["detection_max_ms"] == 5000);
	CHECK(ap["failover_max_ms"] == 8000);
	CHECK(ap["active"] == "dc2");
	CHECK(a.name == "streams: takeover, no split brain, detected <= 5s, failed over <= 8s, dc2 active");
	CHECK(checkTopology(*s, lab2x2()).ok());
	auto dc9 = parseScenario(std::regex_replace(text, std::regex("dc: dc1, start: 1s"), "dc: dc9, start: 1s"), "i.yaml");
	REQUIRE(dc9.ok());
	auto top = checkTopology(*dc9, lab2x2());
	REQUIRE(!top.ok());
	CHECK(top.error().message.find("phases.inject.faults[1].dc: 'dc9' is not a DC of the topology") != std::string::npos);

	// Each mistake names the line and the key path.
	const std::vector<std::pair<std::string, std::string>> bad = {
		{"streams.stop_pe, dc: dc1, start: 1s", "streams.stop_pes, dc: dc1, start: 1s"},
		{"streams.stop_pe, dc: dc1, start: 1s", "streams.stop_pe, start: 1s"},
		{"streams.stop_pe, dc: dc1, start: 1s", "streams.stop_pe, dc: dc1, start: 1s, host: h"},
		{"bundle: app.sab, ", ""},
		{"streams: failover_complete", "streams: failover_done"},
		{"interval: 100ms", "interval: 10ms"},
		{"takeover: true, split_brain: false, detection_max: 5s, failover_max: 8s, active: dc2", "takeover: maybe"},
		{"{takeover: true, split_brain: false, detection_max: 5s, failover_max: 8s, active: dc2}", "{}"},
		{"takeover: true, split_brain: false, detection_max: 5s", "takeover: false, split_brain: false, detection_max: 5s"},
	};
	const std::vector<std::string> expect = {
		"iso.yaml:9:16: phases.inject.faults[1].kind: 'streams.stop_pes' is not a Streams operation",
		"phases.inject.faults[1].dc: required",
		"phases.inject.faults[1].host: unknown key (known keys: dc, kind, pes, start)",
		"phases.inject.faults[3].bundle: required",
		"phases.observe.until.streams: 'failover_done' is not a Streams condition",
		"streams.interval: expected a poll interval from 50ms to 10s",
		"assertions[0].streams.takeover",
		"assertions[0].streams: give at least one of takeover",
		"assertions[0].streams.failover_max: contradicts takeover: false",
	};
	for (size_t i = 0; i < bad.size(); i++) {
		const std::string t = std::regex_replace(text, std::regex(std::regex_replace(bad[i].first, std::regex("[{}\\[\\]]"), "\\$&")), bad[i].second);
		REQUIRE_MESSAGE(t != text, bad[i].first);
		auto r = parseScenario(t, "iso.yaml");
		REQUIRE_MESSAGE(!r.ok(), bad[i].second);
		CHECK_MESSAGE(r.error().message.find(expect[i]) != std::string::npos, r.error().message);
	}
}

TEST_CASE("streams.orderly_shutdown in scenarios: the site's hook as an inject step")
{
	const std::string text = R"(version: 1
name: orderly
phases:
  baseline: {duration: 1s}
  inject:
    faults:
      - {kind: streams.orderly_shutdown, dc: dc1, start: 2s}
  observe: {until: {streams: remote_down}, timeout: 20s}
  recover: {duration: 1s}
)";
	auto s = parseScenario(text, "/srv/x/o.yaml");
	REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
	CHECK(s->usesStreams());
	CHECK(s->faults.empty());
	REQUIRE(s->streamsActions.size() == 1);
	const auto &a = s->streamsActions[0];
	CHECK(a.kind == "orderly_shutdown");
	CHECK(a.dc == "dc1");
	CHECK(a.start == 2s);
	CHECK(a.pes.empty());
	CHECK(a.path == "phases.inject.faults[0]");
	CHECK(a.where == "/srv/x/o.yaml:7:9");
	CHECK(checkTopology(*s, lab2x2()).ok());

	// Only kind, dc and start: a PE list, a bundle or anything else is refused with the line and the key path.
	const std::vector<std::pair<std::string, std::string>> bad = {
		{"dc: dc1, start: 2s}", "dc: dc1, start: 2s, pes: [\"3\"]}"},
		{"dc: dc1, start: 2s}", "dc: dc1, start: 2s, bundle: app.sab}"},
		{"dc: dc1, start: 2s}", "dc: dc1, start: 2s, job: \"7\"}"},
		{"dc: dc1, start: 2s}", "start: 2s}"},
		{"streams.orderly_shutdown", "streams.orderly_shutdwn"},
	};
	const std::vector<std::string> expect = {
		"o.yaml:7:62: phases.inject.faults[0].pes: unknown key (known keys: dc, kind, start)",
		"o.yaml:7:62: phases.inject.faults[0].bundle: unknown key",
		"o.yaml:7:62: phases.inject.faults[0].job: unknown key",
		"phases.inject.faults[0].dc: required",
		"o.yaml:7:16: phases.inject.faults[0].kind: 'streams.orderly_shutdwn' is not a Streams operation (expected "
		"streams.stop_pe, streams.restart_pe, streams.orderly_shutdown, streams.cancel_job, streams.submit_job); did "
		"you mean 'streams.orderly_shutdown'?",
	};
	for (size_t i = 0; i < bad.size(); i++) {
		std::string t = text;
		const auto at = t.find(bad[i].first);
		REQUIRE(at != std::string::npos);
		t.replace(at, bad[i].first.size(), bad[i].second);
		auto r = parseScenario(t, "o.yaml");
		REQUIRE_MESSAGE(!r.ok(), bad[i].second);
		CHECK_MESSAGE(r.error().message.find(expect[i]) != std::string::npos, r.error().message);
	}
}

TEST_CASE("data in scenarios: the block, control runs, the data assertion, and their errors")
{
	const std::string text = R"(version: 1
name: data
data: {rate: 500/s, keys: 8, payload: 32, gap: 300ms, ramp: {from: 100/s, over: 10s}, bursts: {every: 5s, for: 1s, factor: 3}}
phases:
  baseline: {duration: 1s}
  inject: {control: true}
  observe: {duration: 1s}
  recover: {duration: 1s}
assertions:
  - data: {lost_max: 0, duplicated_max: 10, rpo_max: 2s, rto_max: 5s, latency_p99_max: 1s}
)";
	auto s = parseScenario(text, "d.yaml");
	REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
	CHECK(s->usesStreams());
	CHECK(s->controlRun);
	CHECK(s->faults.empty());
	CHECK(s->data.rate == 500);
	CHECK(s->data.rampFrom == 100);
	CHECK(s->data.rampOver == 10s);
	CHECK(s->data.burstFactor == 3);
	CHECK(s->data.keys == 8);
	CHECK(s->data.gap == 300ms);
	REQUIRE(s->assertions.size() == 1);
	CHECK(s->assertions[0].kind == "data");
	CHECK(s->assertions[0].check->parameters()["lost_max"] == 0);
	CHECK(s->assertions[0].check->parameters()["rto_max_ms"] == 5000);
	CHECK(s->assertions[0].name == "data: lost <= 0, duplicated <= 10, RPO <= 2s, RTO <= 5s, p99 latency <= 1s");
	const std::vector<std::pair<std::string, std::string>> bad = {
		{"rate: 500/s", "rate: fast"},
		{"for: 1s", "for: 6s"},
		{"ramp: {from: 100/s, over: 10s}", "ramp: {from: 100/s}"},
		{"lost_max: 0, ", "lost_max: -1, "},
		{"{lost_max: 0, duplicated_max: 10, rpo_max: 2s, rto_max: 5s, latency_p99_max: 1s}", "{}"},
		{"inject: {control: true}", "inject: {}"},
	};
	const std::vector<std::string> expect = {
		"data.rate: 'fast' is not a rate",
		"data.bursts: give every and for",
		"data.ramp: give from",
		"assertions[0].data.lost_max",
		"assertions[0].data: no limit given: expected a mapping of limits: tuples_lost",
		"phases.inject.faults: required",
	};
	for (size_t i = 0; i < bad.size(); i++) {
		const std::string t = std::regex_replace(text, std::regex(std::regex_replace(bad[i].first, std::regex("[{}\\[\\]]"), "\\$&")), bad[i].second);
		REQUIRE_MESSAGE(t != text, bad[i].first);
		auto r = parseScenario(t, "d.yaml");
		REQUIRE_MESSAGE(!r.ok(), bad[i].second);
		CHECK_MESSAGE(r.error().message.find(expect[i]) != std::string::npos, r.error().message);
	}
	// The issue's names: nested limits, the same fields as the short forms; a limit given both ways is refused.
	const std::string longForm = std::regex_replace(
		text, std::regex("\\{lost_max: 0, duplicated_max: 10, rpo_max: 2s, rto_max: 5s, latency_p99_max: 1s\\}"),
		"{tuples_lost: {max: 0}, tuples_duplicated: {min: 1, max: 10}, rpo: {max: 2s}, rto: {max: 5s}, "
		"latency_p99: {max: 1s}}");
	REQUIRE(longForm != text);
	auto l = parseScenario(longForm, "d.yaml");
	REQUIRE_MESSAGE(l.ok(), (l.ok() ? "" : l.error().message));
	const auto lp = l->assertions[0].check->parameters();
	CHECK(lp["lost_max"] == 0);
	CHECK(!lp.contains("lost_min"));
	CHECK(lp["duplicated_min"] == 1);
	CHECK(lp["duplicated_max"] == 10);
	CHECK(lp["rpo_max_ms"] == 2000);
	CHECK(lp["rto_max_ms"] == 5000);
	CHECK(lp["latency_p99_max_ms"] == 1000);
	for (const auto &[from, to, says] : std::vector<std::tuple<std::string, std::string, std::string>>{
		     {"tuples_lost: {max: 0}", "tuples_lost: {max: 0}, lost_max: 3", "data.tuples_lost.max: given twice: here and as lost_max"},
		     {"tuples_lost: {max: 0}", "tuples_lost: {}", "data.tuples_lost: expected {min: COUNT} and/or {max: COUNT}"},
		     {"tuples_lost: {max: 0}", "tuples_lost: {max: -2}", "data.tuples_lost.max"},
		     {"tuples_lost: {max: 0}", "tuples_lost: {maks: 0}", "data.tuples_lost.maks"},
		     {"rto: {max: 5s}", "rto: {max: soon}", "data.rto.max"},
		     {"rto: {max: 5s}", "rto: {min: 5s}", "data.rto.min"},
		     {"rpo: {max: 2s}", "rpo: {max: 2s}, rpo_max: 1s", "data.rpo.max: given twice"}}) {
		const std::string t = std::regex_replace(longForm, std::regex(std::regex_replace(from, std::regex("[{}]"), "\\$&")), to);
		REQUIRE_MESSAGE(t != longForm, from);
		auto r = parseScenario(t, "d.yaml");
		REQUIRE_MESSAGE(!r.ok(), to);
		CHECK_MESSAGE(r.error().message.find(says) != std::string::npos, r.error().message);
		CHECK_MESSAGE(r.error().message.find("d.yaml:") == 0, r.error().message);
	}
	// data.sink: the FileSink read through the agents by default; the ingest shape and the route.
	CHECK(s->data.sinkVia == "agent");
	CHECK(s->data.source == "http_json");
	CHECK(s->data.route == "both");
	auto tcpActive = parseScenario(std::regex_replace(text, std::regex("gap: 300ms"),
							  "gap: 300ms, source: tcp, route: active"),
				       "d.yaml");
	REQUIRE_MESSAGE(tcpActive.ok(), (tcpActive.ok() ? "" : tcpActive.error().message));
	CHECK(tcpActive->data.source == "tcp");
	CHECK(tcpActive->data.route == "active");
	auto viaAgent = parseScenario(std::regex_replace(text, std::regex("gap: 300ms"), "gap: 300ms, sink: {via: agent}"),
				      "d.yaml");
	REQUIRE_MESSAGE(viaAgent.ok(), (viaAgent.ok() ? "" : viaAgent.error().message));
	CHECK(viaAgent->data.sinkVia == "agent");
	CHECK(viaAgent->data.sinkFile == "streams-out");
	CHECK(viaAgent->data.generateOn == "controller");
	auto onHost = parseScenario(std::regex_replace(text, std::regex("gap: 300ms"), "gap: 300ms, generate_on: dc2-h2"),
				    "d.yaml");
	REQUIRE_MESSAGE(onHost.ok(), (onHost.ok() ? "" : onHost.error().message));
	CHECK(onHost->data.generateOn == "dc2-h2");
	for (const auto &[sink, says] : std::vector<std::pair<std::string, std::string>>{
		     {"{via: ssh}", "data.sink.via: 'ssh' is not a way to read the sinks"},
		     {"{via: http}", "data.sink.via: 'http' (the emulator-only endpoint) is gone"},
		     {"{via: agent, file: ../x}", "data.sink.file: '../x' is not a sink name"},
		     {"{via: agent}, source: http", "data.source: 'http' (the emulator-only endpoint) is gone"},
		     {"{via: agent}, source: udp", "data.source: 'udp' is not a source"},
		     {"{via: agent}, source: file, generate_on: dc2-h1", "data.generate_on: file drops go through"},
		     {"{via: agent}, route: active, generate_on: dc2-h1", "data.route: route: active follows"},
		     {"{via: agent, path: /x}", "data.sink.path"},
		     {"agent", "data.sink: expected a mapping"},
		     {"{via: agent}, generate_on: \"a b\"", "data.generate_on: 'a b' is neither controller nor a host"}}) {
		auto r = parseScenario(std::regex_replace(text, std::regex("gap: 300ms"), "gap: 300ms, sink: " + sink),
				       "d.yaml");
		REQUIRE_MESSAGE(!r.ok(), sink);
		CHECK_MESSAGE(r.error().message.find(says) != std::string::npos, r.error().message);
		CHECK_MESSAGE(r.error().message.find("d.yaml:3:") != std::string::npos, r.error().message);
	}
	// A data assertion needs the data block.
	auto noData = parseScenario(std::regex_replace(text, std::regex("data: \\{rate[^\n]*\n"), ""), "d.yaml");
	REQUIRE(!noData.ok());
	CHECK(noData.error().message.find("needs a data: block") != std::string::npos);
}

TEST_CASE("data.route steps: parsed beside faults; need a data block and the controller's generator")
{
	const std::string base = R"(version: 1
name: r
data: {rate: 100/s}
phases:
  baseline: {duration: 1s}
  inject:
    faults:
      - {kind: data.route, to: dc2, start: 2s}
  observe: {duration: 1s}
  recover: {duration: 1s}
)";
	auto s = parseScenario(base, "r.yaml");
	REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
	REQUIRE(s->streamsActions.size() == 1);
	CHECK(s->streamsActions[0].kind == "route");
	CHECK(s->streamsActions[0].dc == "dc2");
	CHECK(s->streamsActions[0].start == 2s);
	CHECK(s->faults.empty());
	for (const auto &[from, to, says] : std::vector<std::tuple<std::string, std::string, std::string>>{
		     {"to: dc2, ", "", "r.yaml:8:9: phases.inject.faults[0].to: required: both, active or a DC"},
		     {"to: dc2", "to: \"a b\"", "phases.inject.faults[0].to: required"},
		     {"start: 2s", "start: 2s, dc: dc1", "phases.inject.faults[0].dc"},
		     {"data: {rate: 100/s}\n", "", "a data.route step needs a data: block"},
		     {"rate: 100/s", "rate: 100/s, generate_on: dc1-h1", "with generate_on: dc1-h1 the route is fixed"}}) {
		const std::string t = std::regex_replace(base, std::regex(std::regex_replace(from, std::regex("[{}]"), "\\$&")), to);
		REQUIRE_MESSAGE(t != base, from);
		auto r = parseScenario(t, "r.yaml");
		REQUIRE_MESSAGE(!r.ok(), t);
		CHECK_MESSAGE(r.error().message.find(says) != std::string::npos, r.error().message);
	}
}

TEST_CASE("YAML inventories: groups (also under all.children) are datacenters, vars are labels")
{
	const std::string path = "/tmp/xdc-unit-inventory-" + std::to_string(::getpid()) + ".yml";
	std::ofstream(path) << "all:\n  children:\n    east:\n      hosts:\n        e1: {role: streams}\n        e2:\n"
			       "      vars: {site: nyc}\n    west:\n      hosts:\n        w1: {role: streams}\n";
	auto hosts = loadInventory(path);
	std::remove(path.c_str());
	REQUIRE_MESSAGE(hosts.ok(), (hosts.ok() ? "" : hosts.error().message));
	REQUIRE(hosts->size() == 3);
	fault::Selector s;
	s.labels["role"] = "streams";
	CHECK(selectHosts(s, *hosts) == std::vector<std::string>{"e1", "w1"});
	fault::Selector site;
	site.labels["site"] = "nyc";
	CHECK(selectHosts(site, *hosts) == std::vector<std::string>{"e1", "e2"});
	fault::Selector dc;
	dc.dc = "west";
	CHECK(selectHosts(dc, *hosts) == std::vector<std::string>{"w1"});
}

TEST_CASE("JUnit: counts match the cases, text is escaped, the verdict is a case of its own")
{
	nlohmann::json r = {
		{"schema", "xdc.report/3"}, {"run_id", "r1"}, {"scenario", {{"name", "s<1>"}}}, {"verdict", "failed"}, {"reason", "a \"b\" & c"},
		{"started_ns", 1000000000}, {"ended_ns", 3000000000},
		{"phases", {{{"name", "baseline"}, {"status", "passed"}, {"start_ns", 1000000000}, {"end_ns", 2000000000}},
			    {{"name", "inject"}, {"status", "error"}, {"message", "x"}},
			    {{"name", "observe"}, {"status", "skipped"}, {"message", "run ended early"}}}},
		{"assertions", {{{"name", "a<b"}, {"status", "failed"}, {"message", "1 > 0"}},
				{{"name", "ok"}, {"status", "passed"}}}}};
	auto typed = reportFromJson(r);
	REQUIRE_MESSAGE(typed.ok(), (typed.ok() ? "" : typed.error().message));
	const std::string x = junitXml(*typed);
	CHECK(x.find("tests=\"6\" failures=\"2\" errors=\"1\" skipped=\"1\"") != std::string::npos);
	CHECK(x.find("name=\"a&lt;b\"") != std::string::npos);
	CHECK(x.find("message=\"a &quot;b&quot; &amp; c\"") != std::string::npos);
	CHECK(x.find("s&lt;1&gt;") != std::string::npos);
	CHECK(x.find("<s<1>") == std::string::npos);
	CHECK(xmlEscape(std::string("a\x01z\n")) == "az\n");
}

TEST_CASE("history figures include the Streams and data figures of a run")
{
	const json r = {{"schema", "xdc.report/3"}, {"run_id", "r"}, {"started_ns", 0},
			{"streams", {{"detection_ms", 2442.9}, {"failover_ms", 2600.1}}},
			{"data", {{"rpo_s", 0.09}, {"rto_ms", 2540.0},
				  {"validation", {{"total", {{"sent", 2004}, {"delivered", 2770}, {"lost", 20}, {"duplicated", 786},
							   {"out_of_order", 0}}},
						  {"latency_ms", {{"p99", 6979.3}}}}}}},
			{"steady_state", json::array({{{"when", "before inject"}, {"streams", json::object()},
						       {"status", "passed"}}})}};
	auto typed = reportFromJson(r);
	REQUIRE_MESSAGE(typed.ok(), (typed.ok() ? "" : typed.error().message));
	const json f = figures(*typed);
	CHECK(f["streams.detection_ms"] == 2442.9);
	CHECK(f["streams.failover_ms"] == 2600.1);
	CHECK(f["data.lost"] == 20);
	CHECK(f["data.duplicated"] == 786);
	CHECK(f["data.latency_p99_ms"] == 6979.3);
	CHECK(f["data.rto_ms"] == 2540.0);
	CHECK(f["steady.before.streams_active_ok"] == 1);
	CHECK_FALSE(f.contains("steady.before.@.ratio"));
}

TEST_CASE("validation reports every error of a file in one pass, in the order of their positions")
{
	const std::string text = R"(version: 1
name: many
evidence:
  probes:
    - {name: wan, kind: probe.tcp, on: {host: dc1-h1}, target: "dc2-h1:22", rate: 10hz, colour: red}
phases:
  baseline: {duration: 1s}
  inject:
    faults:
      - {kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 5}
      - {kind: network.partition, targets: {dc: dc2}, peers: {dc: dc1}, duration: 1s, start: 9s}
  observe: {duration: 1s}
  recover: {duration: 1s}
assertions:
  - outage: {probe: wan}
  - success_ratio: {probe: wan, min: 95%}
  - success_ratio: {probe: wan, min: 195%}
stop_conditions:
  - {probe: wan}
steady_state: nope
)";
	auto s = parseScenario(text, "many.yaml");
	REQUIRE_FALSE(s.ok());
	const std::string m = s.error().message;
	INFO(m);
	std::vector<std::string> lines;
	for (size_t at = 0; at <= m.size();) {
		const size_t nl = std::min(m.find('\n', at), m.size());
		lines.push_back(m.substr(at, nl - at));
		at = nl + 1;
	}
	REQUIRE(lines.size() == 6);
	CHECK(lines[0].rfind("many.yaml:5:", 0) == 0);
	CHECK(lines[0].find("colour") != std::string::npos);
	CHECK(lines[1].rfind("many.yaml:10:", 0) == 0);
	CHECK(lines[1].find("phases.inject.faults[0].duration") != std::string::npos);
	CHECK(lines[2].rfind("many.yaml:15:", 0) == 0);
	CHECK(lines[2].find("assertions[0].outage: give at least one bound") != std::string::npos);
	CHECK(lines[3].rfind("many.yaml:17:", 0) == 0);
	CHECK(lines[3].find("assertions[2].success_ratio.min") != std::string::npos);
	CHECK(lines[4].rfind("many.yaml:19:", 0) == 0);
	CHECK(lines[4].find("stop_conditions[0].failing_for: required") != std::string::npos);
	CHECK(lines[5].rfind("many.yaml:20:", 0) == 0);
	CHECK(lines[5].find("steady_state: expected a list") != std::string::npos);

	// Past 20 errors the rest are counted, not listed.
	std::string many = "version: 1\nname: lots\nphases:\n  baseline: {duration: 1s}\n  inject: {faults: [{kind: "
			   "network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1s}]}\n  observe: {duration: "
			   "1s}\n  recover: {duration: 1s}\nassertions:\n";
	for (int i = 0; i < 25; i++)
		many += "  - outage: {probe: wan}\n";
	auto l = parseScenario(many, "lots.yaml");
	REQUIRE_FALSE(l.ok());
	CHECK(std::count(l.error().message.begin(), l.error().message.end(), '\n') == 20);
	CHECK(l.error().message.find("(and 5 more errors: the first 20 are shown)") != std::string::npos);
}
