// SPDX-License-Identifier: Apache-2.0
// The typed run report (controller/scenario/run_report.h): report.json's one printer and reader.
#include <doctest/doctest.h>

#include "controller/scenario/parts/assertions_part.h"
#include "controller/scenario/parts/context.h"
#include "controller/scenario/run_report.h"

using namespace xdc::scenario;
using nlohmann::json;

namespace {

// A report with every section and every optional key a run can write (the shapes of a partition run with Streams,
// data, metrics, a stop condition and a failed one-shot operation).
json fullReport()
{
	return json::parse(R"({
  "schema": "xdc.report/3", "run_id": "r-1", "user": "qa", "seed": 42, "repetition": 2,
  "scenario": {"name": "partition", "description": "cut dc2", "file": "/s/p.yaml"},
  "inputs": {"params": {"loss": "30"}}, "variables": {"loss": "30"}, "random": {},
  "started_ns": 1000, "ended_ns": 9000, "verdict": "failed", "exit_code": 1, "reason": "assertion 'x' failed",
  "aborted": false,
  "phases": [
    {"name": "baseline", "status": "passed", "start_ns": 1000, "end_ns": 2000},
    {"name": "inject", "status": "passed", "start_ns": 2000, "end_ns": 2500, "inject_start_ns": 2100},
    {"name": "observe", "status": "skipped", "message": "stopped"}
  ],
  "faults": [
    {"id": "r-1.1", "kind": "network.partition", "spec": "kind: network.partition\n", "path": "inject[0]",
     "offset_ms": 0, "duration_ms": 4000, "planned_ns": 2100, "status": "applied", "hosts": ["dc2-h1"],
     "agents": {"a1": {"applied_ns": 2101, "verified_ns": 2102, "bound_ns": 50}}, "applied_ns": 2101,
     "verified_ns": 2102, "bound_ns": 50, "spread_ns": 3, "revert_verified_ns": 6200, "window_start_ns": 2101,
     "window_end_ns": 6100, "window_bound_ns": 50},
    {"id": "r-1.s1", "kind": "streams.stop_pe", "dc": "dc1", "path": "inject[1]", "offset_ms": 500,
     "duration_ms": 0, "planned_ns": 2600, "hosts": [], "detail": [{"pe": "3", "ok": false, "error": "no"}],
     "status": "failed", "error": "PE 3: no"},
    {"id": "r-1.s2", "kind": "data.route", "to": "dc2", "path": "inject[2]", "offset_ms": 0, "duration_ms": 0,
     "planned_ns": 2100, "hosts": [], "detail": [], "status": "applied", "applied_ns": 2100, "verified_ns": 2100,
     "window_start_ns": 2100, "window_end_ns": 2100, "window_bound_ns": 0}
  ],
  "assertions": [
    {"name": "outage wan <= 7s", "where": "p.yaml:20:5", "kind": "outage", "probe": "wan", "max_ms": 7000,
     "observed": {"dc1-h1": {"count": 1, "longest_ms": 5000.5, "open": false}}, "status": "failed",
     "message": "longest outage 5000.5 ms > max 4s"},
    {"name": "ok", "where": "p.yaml:30:5", "kind": "streams", "observed": {}, "status": "passed"}
  ],
  "steady_state": [
    {"when": "before inject", "streams": {"active": "dc1", "split_brain": false, "unreachable": []},
     "status": "passed"},
    {"when": "after recover", "probe": "wan", "host": "dc1-h1", "window_ms": 2000, "attempts": 40, "ratio": 0.95,
     "min": 0.9, "window_end_ns": 9000, "complete": false, "note": "late", "status": "passed"},
    {"when": "after recover", "sampler": "cpu", "value": "busy", "stat": "mean", "host": "dc1-h1",
     "window_ms": 2000, "samples": 20, "observed": 0.25, "status": "passed"},
    {"when": "after recover", "condition": "up{job=\"dc2\"} == 1", "samples": 4, "held": 3, "window_ms": 2000,
     "window_end_ns": 9000, "complete": true, "status": "failed"}
  ],
  "outages": [
    {"host": "dc1-h1", "source": "wan", "target": "10.0.0.2:80", "interval_ns": 100000000,
     "outages": [{"start_ns": 2200, "start_bound_ns": 100, "end_ns": 7200, "end_bound_ns": 100, "open": false,
                  "failed": 50, "duration_ms": 0.005, "first_error": "timeout"}]}
  ],
  "hosts": [{"host": "dc1-h1", "dc": "dc1", "agent": "a1", "state": "live", "clock": {"offset_ns": 5}}],
  "charts": [{"id": "output_rate", "title": "Output rate per DC", "unit": "tuples/s",
              "series": [{"name": "dc1", "style": "line", "raw": 3, "points": [[1000, 1.5], [1500, null], [2000, 2]]}]}],
  "stop_condition": {"reason": "probe wan failing", "at_ns": 2400, "phase": "observe"},
  "residue": {"clean": false, "found": ["dc1-h1 runs r-1.1"]},
  "evidence_dir": "evidence",
  "evidence": {"complete": true, "gaps": []},
  "streams": {"config": "streams.yaml", "interval_ms": 500, "dcs": ["dc1", "dc2"], "active_after_observe": "dc2",
              "events": [{"kind": "remote_down", "dc": "dc2", "t_ns": 3000, "since_ns": 2900, "detail": "x"}],
              "states": [{"dc": "dc1", "state": "active", "t_ns": 1000}], "rounds": 17, "signals": {"dc1": {}},
              "host": {"events": []}, "detection_ms": 900.5, "failover_ms": null},
  "data": {"rate": 200.0, "keys": 16, "payload": 16, "ramp_from": null, "ramp_over_ms": 0, "burst_every_ms": 0,
           "burst_for_ms": 0, "burst_factor": 1.0, "generated_on": "controller", "seed": 42, "source": "http_json",
           "ingest": ["dc1: POST http://x/tuples"], "route": "both", "sink_via": "agent", "generator": {"generated": 10},
           "validation": {"total": {"sent": 10, "lost": 0}}, "sinks": [{"dc": "dc1", "arrivals": [[3000, 5]]}],
           "rto_ms": 2540.0, "rpo_s": 0.09},
  "metrics": {"interval_ms": 1000, "sources": [{"name": "m", "samples": 3, "failed": 0}],
              "samples": [{"source": "m", "t_ns": 3000, "ok": true}],
              "until": {"condition": "m > 1", "held": false}, "timeline_error": "cannot write"}
})");
}

} // namespace

TEST_CASE("run report: every key of a full report.json survives reading and printing unchanged")
{
	const json in = fullReport();
	auto r = reportFromJson(in);
	REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
	const json out = toJson(*r);
	CHECK_MESSAGE(out == in, json::diff(in, out).dump(1));
	// And the struct itself survives a second trip.
	auto again = reportFromJson(out);
	REQUIRE(again.ok());
	CHECK(*again == *r);
}

TEST_CASE("run report: the typed fields hold what the JSON said")
{
	auto r = reportFromJson(fullReport());
	REQUIRE(r.ok());
	CHECK(r->phases.size() == 3);
	CHECK(r->phase("inject")->injectStartNs == 2100);
	CHECK(r->phase("observe")->message == "stopped");
	CHECK(r->phase("recover") == nullptr);
	REQUIRE(r->faults.size() == 3);
	CHECK(r->faults[0].windowEndNs == 6100);
	CHECK(r->faults[1].isOperation());
	CHECK(r->faults[1].error == "PE 3: no");
	CHECK(r->faults[2].to == "dc2");
	CHECK(r->assertions[0].bounds == json{{"probe", "wan"}, {"max_ms", 7000}});
	CHECK(r->outages[0].outages[0].failed == 50);
	CHECK(r->steadyState[1].ratio == 0.95);
	CHECK(r->steadyState[1].windowEndNs == 9000);
	CHECK(r->steadyState[1].complete == false);
	CHECK(r->steadyState[1].note == "late");
	REQUIRE(r->steadyState.size() == 4);
	CHECK(r->steadyState[3].condition == "up{job=\"dc2\"} == 1");
	CHECK(r->steadyState[3].held == 3);
	CHECK(r->steadyState[3].samples == 4);
	CHECK(r->streams->rounds == 17u);
	CHECK(r->streams->failoverMs == json(nullptr));
	CHECK_FALSE(r->data->rampFrom.has_value());
	CHECK(r->metrics->timelineError == "cannot write");
	CHECK(r->stopCondition->phase == "observe");
	CHECK(r->exitCode == 1);
}

TEST_CASE("run report: a minimal report prints only what was set; a bad one names the key")
{
	RunReport r;
	r.runId = "x";
	r.startedNs = 5;
	const json j = toJson(r);
	CHECK(j["schema"] == "xdc.report/3");
	CHECK(j["phases"] == json::array());
	for (const char *absent : {"verdict", "exit_code", "residue", "streams", "data", "metrics", "evidence",
				   "stop_condition", "ended_ns"})
		CHECK_MESSAGE(!j.contains(absent), absent);

	json bad = fullReport();
	bad["faults"][1]["offset_ms"] = "soon";
	auto e = reportFromJson(bad);
	REQUIRE_FALSE(e.ok());
	CHECK_MESSAGE(e.error().message.find("faults[1].offset_ms") != std::string::npos, e.error().message);

	json other = fullReport();
	other["schema"] = "xdc.report/2";
	auto o = reportFromJson(other);
	REQUIRE_FALSE(o.ok());
	CHECK_MESSAGE(o.error().message.find("xdc.report/2") != std::string::npos, o.error().message);

	json noPhaseName = fullReport();
	noPhaseName["phases"][0].erase("name");
	auto p = reportFromJson(noPhaseName);
	REQUIRE_FALSE(p.ok());
	CHECK_MESSAGE(p.error().message.find("phases[0].name is missing") != std::string::npos, p.error().message);
}

TEST_CASE("the console's measured values: per host, ratios in %, durations without the _ms suffix, a cap")
{
	using xdc::scenario::measuredText;
	CHECK(measuredText(json::parse(R"({"dc1-h1": {"ratio": 0.985, "attempts": 200, "longest_ms": 5012.3}})")) ==
	      "dc1-h1 attempts 200, dc1-h1 longest 5012 ms, dc1-h1 ratio 98.5%");
	CHECK(measuredText(json::object()).empty());
	json many = json::object();
	for (int i = 0; i < 10; i++)
		many[fmt::format("h{}", i)] = i;
	CHECK(measuredText(many) == "h0 0, h1 1, h2 2, h3 3, h4 4, h5 5, h6 6, h7 7, ... (2 more in report.json)");
}

TEST_CASE("the live status line: phase, elapsed and time left, faults in place per host, probe health")
{
	using xdc::scenario::statusLineText;
	CHECK(statusLineText("observe", 12'340'000'000, 2'700'000'000, {{"dc1-h1", 1}, {"dc2-h1", 2}},
			     " wan@dc1-h1 ok wan-back@dc2-h1 FAIL 1.2s") ==
	      "observe 12.3s, 2.7s left | faults dc1-h1:1 dc2-h1:2 | wan@dc1-h1 ok wan-back@dc2-h1 FAIL 1.2s");
	CHECK(statusLineText("baseline", 1'000'000'000, 0, {}, " no probes") == "baseline 1.0s | faults none | no probes");
}
