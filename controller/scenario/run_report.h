// SPDX-License-Identifier: Apache-2.0
// The run report: the one owner of report.json's shape (schema "xdc.report/3", docs/SCENARIOS.md). The run's parts
// fill a RunReport as the run goes; it is printed to JSON once, when the run ends (toJson), and report.html,
// junit.xml, the history's figures and campaign summaries read the struct, never JSON keys.
//
// A field another issue adds goes here, with its printer and reader in run_report.cpp, so the shape has one place.
// Sub-documents produced by another module's own typed printer (the toolkit view's events, the validator's report,
// the generator's figures, the metric samples) are carried as that printer's JSON: their shape is owned by that
// printer (named at each such field).
//
// Absent vs empty: an std::optional field that is unset is absent from report.json; every other field is always
// printed. fromJson(toJson(r)) == r for every report (tests/unit/scenario/run_report_test.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace xdc::scenario {

using nlohmann::json;

// One host of the fleet as the run found it (the controller's agents list).
struct ReportHost {
	std::string host, dc, agent, state;
	json clock = json::object(); // the agent's clock offset and bound as the controller keeps them
	bool operator==(const ReportHost &) const = default;
};

// One phase: setup, baseline, inject, observe, recover (or skipped).
struct ReportPhase {
	std::string name;
	std::string status = "running"; // running | passed | failed | error | aborted | skipped | stopped
	std::optional<std::string> message;
	std::optional<int64_t> startNs, endNs;
	std::optional<int64_t> injectStartNs; // inject: the agreed instant offsets count from
	bool operator==(const ReportPhase &) const = default;
};

// One fault, or one one-shot operation (streams.stop_pe, data.route, ...), of the inject phase.
struct ReportFault {
	std::string id, kind, path;
	std::string status;                       // applied | failed
	std::optional<std::string> spec;          // a fault's YAML as the scenario gave it (after variables)
	std::optional<std::string> dc, to;        // a Streams operation's DC; a data.route's target
	std::optional<std::string> error;         // why it failed
	int64_t offsetMs = 0, durationMs = 0, plannedNs = 0;
	std::optional<std::vector<std::string>> hosts;
	std::optional<json> agents;               // the controller's apply answer per agent
	std::optional<json> detail;               // an operation's per-host (or per-PE) outcomes
	std::optional<int64_t> appliedNs, verifiedNs, boundNs, spreadNs, revertVerifiedNs;
	// The window the fault was in effect, from the agents' records; its uncertainty.
	std::optional<int64_t> windowStartNs, windowEndNs, windowBoundNs;
	bool isOperation() const { return kind.rfind("streams.", 0) == 0 || kind.rfind("data.", 0) == 0; }
	bool operator==(const ReportFault &) const = default;
};

// One assertion's outcome. `bounds` are what the kind held it against (Assertion::describe), printed flat beside
// the common keys; `observed` is what it measured.
struct ReportAssertion {
	std::string name, where, kind;
	std::string status; // passed | failed | error
	std::optional<std::string> message;
	json bounds = json::object();
	json observed = json::object();
	bool operator==(const ReportAssertion &) const = default;
};

// One steady-state check's outcome on one host (a probe's success ratio, a sampler's statistic) or the Streams
// check before inject.
struct SteadyResult {
	std::string when; // "before inject" | "after recover"
	std::string status;
	// Probe checks.
	std::optional<std::string> probe;
	std::optional<uint64_t> attempts;
	std::optional<double> ratio, min;
	// Sampler checks.
	std::optional<std::string> sampler, value, stat;
	std::optional<int64_t> samples;
	std::optional<double> observed;
	// Metric-source checks: the condition in words, and at how many of the window's samples it held.
	std::optional<std::string> condition;
	std::optional<int64_t> held;
	// All.
	std::optional<std::string> host;
	std::optional<int64_t> windowMs;
	// The window judged, [window_end_ns - window_ms, window_end_ns) on the controller's clock, and whether every
	// sample of it had arrived when it was judged (false: `note` says what was missing).
	std::optional<int64_t> windowEndNs;
	std::optional<bool> complete;
	std::optional<std::string> note;
	// The Streams check: {active, split_brain, unreachable}.
	std::optional<json> streams;
	bool operator==(const SteadyResult &) const = default;
};

// The outages one probe saw on one host (the recording's meta.json `outages`, controller/evidence/recording.cpp).
struct ReportOutage {
	int64_t startNs = 0, startBoundNs = 0, endNs = 0, endBoundNs = 0;
	bool open = false;
	uint64_t failed = 0;
	double durationMs = 0;
	std::string firstError;
	bool operator==(const ReportOutage &) const = default;
};
struct ProbeOutages {
	std::string host, source, target;
	int64_t intervalNs = 0;
	std::vector<ReportOutage> outages;
	bool operator==(const ProbeOutages &) const = default;
};

struct ReportStop {
	std::string reason, phase;
	int64_t atNs = 0;
	bool operator==(const ReportStop &) const = default;
};

struct Residue {
	bool clean = true;
	std::vector<std::string> found;
	bool operator==(const Residue &) const = default;
};

struct EvidenceSummary {
	bool complete = false;
	json gaps = json::array(); // meta.json's gaps
	bool operator==(const EvidenceSummary &) const = default;
};

// The Streams section: how the run followed Streams and what it saw.
struct StreamsSection {
	std::string config;
	int64_t intervalMs = 0;
	std::vector<std::string> dcs;
	std::optional<std::string> activeAfterObserve;
	std::optional<json> events;  // streams::toJson(ToolkitEvent) each (controller/streams/toolkit_view.h)
	std::optional<json> states;  // StreamsFollower::states()
	std::optional<uint64_t> rounds; // the toolkit view's poll rounds
	std::optional<json> signals; // StreamsFollower::signals()
	std::optional<json> host;    // hostSignalReport() (streams_host.h)
	// The streams assertion's headline figures: a number, or null when it measured none.
	std::optional<json> detectionMs, failoverMs;
	bool operator==(const StreamsSection &) const = default;
};

// The data section: what the generator was asked for, what it did, what the validator found.
struct DataSection {
	double rate = 0, burstFactor = 1;
	std::optional<double> rampFrom; // printed as null without a ramp
	uint64_t keys = 0, payload = 0;
	int64_t rampOverMs = 0, burstEveryMs = 0, burstForMs = 0;
	uint64_t seed = 0;
	std::string generatedOn, source, route, sinkVia;
	std::vector<std::string> ingest; // how each DC was written
	std::optional<json> generator;  // data::toJson(GeneratorStats) plus the agent generator's clock fields
	std::optional<json> validation; // data::toJson(ValidationReport) (controller/data/validator.h)
	std::optional<json> sinks;      // per DC: {dc, read, restarts, missed, lines, error, arrivals}
	std::optional<double> rtoMs, rpoS;
	bool operator==(const DataSection &) const = default;
};

// The metrics section: the sources, their samples, the observe phase's `until` condition.
struct MetricsSection {
	int64_t intervalMs = 0;
	json sources = json::array();   // MetricsFollower::sources(), each with its samples/failed counts
	std::optional<json> samples;    // metrics::toJson(Sample) each
	std::optional<json> until;      // {condition, held, t_ns, bound_ns, after_inject_ms}
	std::optional<std::string> timelineError;
	bool operator==(const MetricsSection &) const = default;
};

// One series of a chart, thinned for drawing (charts.h): [t_ns, value] in time order on the controller's clock; a
// null value is a gap in the data (the line breaks there). `raw`: how many points it had before thinning.
struct ChartSeries {
	std::string name;
	std::string style = "line"; // line | points
	std::vector<std::pair<int64_t, std::optional<double>>> points;
	uint64_t raw = 0;
	bool operator==(const ChartSeries &) const = default;
};

// One chart of report.html; every chart shares the run's time axis.
struct ReportChart {
	std::string id, title, unit;
	std::vector<ChartSeries> series;
	bool operator==(const ReportChart &) const = default;
};

struct RunReport {
	static constexpr const char *kSchema = "xdc.report/3";

	std::string runId;
	struct ScenarioRef {
		std::string name, description, file;
		bool operator==(const ScenarioRef &) const = default;
	} scenario;
	std::string user;
	uint64_t seed = 0;
	int repetition = 0;
	json inputs = json::object(), variables = json::object(), random = json::object();
	int64_t startedNs = 0;
	std::optional<int64_t> endedNs;

	// Set when the run ends.
	std::optional<std::string> verdict, reason;
	std::optional<int> exitCode;
	std::optional<bool> aborted;

	std::vector<ReportPhase> phases;
	std::vector<ReportFault> faults;
	std::vector<ReportAssertion> assertions;
	std::vector<SteadyResult> steadyState;
	std::vector<ProbeOutages> outages;
	std::vector<ReportHost> hosts;
	std::optional<ReportStop> stopCondition;
	std::optional<Residue> residue;
	std::optional<std::string> evidenceDir;
	std::optional<EvidenceSummary> evidence;
	std::optional<StreamsSection> streams;
	std::optional<DataSection> data;
	std::optional<MetricsSection> metrics;
	std::vector<ReportChart> charts; // what report.html plots (charts.h), written by the runner after the parts' reports

	// The phase of that name, or null.
	const ReportPhase *phase(const std::string &name) const;
	bool operator==(const RunReport &) const = default;
};

json toJson(const RunReport &r);
// Reads a report.json of schema xdc.report/3; Invalid naming the key when a field has the wrong type or the schema
// is another.
Result<RunReport> reportFromJson(const json &j);
// The recording's meta.json `outages` list (controller/evidence/recording.cpp), read into the report's form.
Result<std::vector<ProbeOutages>> outagesFromJson(const json &list);

} // namespace xdc::scenario
