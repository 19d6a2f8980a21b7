// SPDX-License-Identifier: Apache-2.0
// The scenario language (docs/SCENARIOS.md): a failover test as metadata, topology, variables, evidence (probes and
// samplers in the Evidence spec format), steady-state checks, phases (setup, baseline, inject with fault specs in the
// Faults format embedded unchanged, observe, recover, validate, teardown), assertions and stop conditions.
//
// Parsed once, offline, into these structs; every error names file:line:column, the key path and what was expected,
// and no input (empty, binary, huge, deeply nested, alias bombs) makes the parser crash, hang or throw.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/evidence/spec.h"
#include "common/fault/spec.h"
#include "common/result.h"
#include "controller/scenario/metrics_spec.h"

namespace xdc::scenario {

using Nanos = std::chrono::nanoseconds;

constexpr int kVersion = 1;

// A host as validation sees it: from a lab record, an inventory file, or the live fleet.
struct Host {
	std::string name, dc;
	std::map<std::string, std::string> labels;
	std::map<std::string, std::string> capabilities; // live fleet only ("qdisc.netem": "yes", ...)
};

struct Topology {
	std::string lab;       // a lab by name (`xdc lab up --name`); --lab on the command line overrides
	std::string inventory; // an Ansible inventory (INI or YAML), relative to the scenario file
	std::string where;     // origin:line:col of the block
};

// A probe condition: `{probe: NAME, host: H}` with host optional (every host the probe runs on).
struct ProbeRef {
	std::string probe, host;
	std::string where;
};

// A steady-state check: a probe's success ratio, or a metric of a host/process sampler, over the last `window`.
struct SteadyCheck {
	ProbeRef ref;            // probe checks; ref.host also narrows a metric check to one host
	double minSuccess = 1.0; // fraction of attempts that succeeded in the window
	Nanos window = std::chrono::seconds(2);
	// metric checks: {sampler, value, stat (mean, max, min, last), min, max}
	std::string sampler, value, stat = "mean";
	std::optional<double> minValue, maxValue;
	bool isMetric() const { return !sampler.empty(); }
	// metric-source checks (`metric: {source, op, value}` or `prom: {url, query}`): the condition held at every
	// sample of the source taken in the window, and there was at least one
	std::optional<MetricPredicate> condition;
};

struct Phase {
	bool present = false;
	Nanos duration{0};
	// observe: wait until the probe has succeeded for `okFor` without a failure, at most `timeout`.
	std::optional<ProbeRef> until;
	// observe: or wait until the Streams toolkit view reports this event after the faults began (one of
	// kStreamsConditions), at most `timeout`.
	std::string untilStreams;
	// observe: or wait until a metric condition holds at a sample taken after the faults began (docs/SCENARIOS.md
	// "Metrics"), at most `timeout`.
	std::optional<MetricPredicate> untilMetric;
	Nanos okFor = std::chrono::seconds(1);
	Nanos timeout{0};
	std::string where;
};

// The toolkit-view conditions `observe.until: {streams: X}` waits for, and the event each stands for.
// failover_complete = takeover_complete (the standby is active and its output flows).
extern const std::vector<std::pair<std::string, std::string>> kStreamsConditions;

class AssertionCheck; // controller/scenario/assertions/assertion.h

// One entry of `assertions:`: a kind of the table in controller/scenario/assertions/, parsed by that kind.
struct Assertion {
	std::string kind;  // the kind's key (outage, success_ratio, ...)
	std::string name;  // given, or the kind's default ("outage wan <= 7s")
	std::string where; // origin:line:col
	std::shared_ptr<const AssertionCheck> check;
};

struct StopCondition {
	std::string name;
	ProbeRef ref;
	Nanos failingFor{0}; // the run stops when the probe has failed continuously this long
	// Or a metric condition (`metric: {source, op, value, for}`, or `prom: {url, query}`, e.g. a firing alert): the
	// run is aborted (exit 4) when it holds at a sample taken after the run began.
	std::optional<MetricPredicate> metric;
	std::string where;
};

struct FaultEntry {
	fault::FaultSpec spec;
	std::string text;  // the spec as YAML flow (fault::toYaml), as sent to the controller
	std::string where; // origin:line:col
	std::string path;  // "phases.inject.faults[0]"
};

// `streams:` how the run follows the Streams instances (docs/STREAMS.md's toolkit view). Implied, with these
// defaults, by any streams.* operation, observe.until.streams or streams assertion.
struct StreamsWatch {
	bool present = false;
	std::string config;                 // streams config file as written ("" = the lab's, $XDC_STREAMS_CONFIG, /etc/xdc)
	Nanos interval = std::chrono::milliseconds(200); // time between poll rounds
	bool requireActive = true;          // steady state: exactly one DC active before inject and every DC reachable
	// The run needs the starting state (jobs fresh, dc1 active, heartbeats flowing): in a lab, `xdc lab streams
	// reset` first; elsewhere the run cannot make it and stops as a harness error.
	bool reset = false;
	// Record what the Streams hosts show (trace lines, the passive monitor, snapshot files, process starts) where the
	// streams config names it (`host_signals:`). Default on.
	bool hostSignals = true;
	std::string where;
};

// A Streams operation in the inject phase, written like a fault with kind streams.*. One-shot: it is not reverted.
// `data.route {to: both | active | DC}` is one too (kind "route", `dc` = the new route): from its instant on the
// test tuples go there.
//   streams.stop_pe / streams.restart_pe {dc, pes: [ids] (default: every PE of the followed job)} through the
//     agent of the DC's Streams host (streamtool); streams.orderly_shutdown {dc} the site's orderly-shutdown hook
//     (the agent config's streams.orderly_shutdown) through the same agent; streams.cancel_job {dc} the followed
//     job, and streams.submit_job {dc, bundle, job_name} through the REST API.
struct StreamsAction {
	std::string kind; // stop_pe | restart_pe | orderly_shutdown | cancel_job | submit_job (without "streams.")
	std::string dc;
	std::vector<std::string> pes;
	std::string bundle;  // submit_job: path of the .sab, relative to the scenario file
	std::string jobName; // submit_job: the job name (default: the streams config's job_name)
	Nanos start{0};
	std::string where, path;
};

// `data:` test tuples through the application (docs/DATA.md): generated on the controller's side into the first
// DC whose source accepts them, read from every DC's sink, checked by the validator. Needs the streams config's
// endpoints (implies Streams).
struct DataFlow {
	bool present = false;
	double rate = 200;   // tuples/s (the end rate of a ramp)
	double rampFrom = -1; // ramp: {from: 100/s, over: 30s} starts at `from` and reaches `rate` after `over`
	Nanos rampOver{0};
	Nanos burstEvery{0}, burstFor{0}; // bursts: {every: 5s, for: 500ms, factor: 5}
	double burstFactor = 1;
	uint32_t keys = 16;
	size_t payload = 16; // characters
	Nanos gap = std::chrono::seconds(1);             // an output gap: no tuple for at least this long
	Nanos poll = std::chrono::milliseconds(100);     // sink poll interval
	Nanos drain = std::chrono::seconds(10);          // after recover: the longest to wait for the sinks to go quiet
	// How the tuples enter each DC's application (the streams config's `ingest:` per instance, docs/DATA.md):
	// http_json (HTTPJSONInjection: one POST per tuple) | tcp (TCPSource lines) | file (DirectoryScan: files dropped
	// through the agent of the DC's Streams host).
	std::string source = "http_json";
	// Which DCs receive them: both (every DC; each application filters by its role) | active (the DC the toolkit view
	// says is active, following it) | a DC name. A data.route inject step changes it during the run.
	std::string route = "both";
	// sink: {via: agent, file: NAME}: the sink file NAME (a name of the agent's data.sinks) read through the agent of
	// each DC's Streams host (the streams config's `host:`).
	std::string sinkVia = "agent";
	// generate_on: controller (this process, client side) | HOST (the generator runs in that host's agent).
	std::string generateOn = "controller";
	std::string sinkFile = "streams-out";
	std::string where;
};

struct Scenario {
	std::string origin;
	int version = kVersion;
	std::string name, description;
	Topology topology;
	std::map<std::string, std::string> variables; // after --param overrides and random draws
	std::map<std::string, std::string> drawn;     // the variables drawn at random from the seed (a subset)
	std::vector<evidence::SamplerSpec> probes, samplers;
	std::vector<SteadyCheck> steadyState;
	Phase setup, baseline, inject, observe, recover;
	std::vector<FaultEntry> faults;
	bool controlRun = false; // phases.inject.control: true: nothing is injected (a baseline to compare runs with)
	StreamsWatch streams;
	std::vector<StreamsAction> streamsActions;
	DataFlow data;
	MetricsBlock metrics; // `metrics:` named sources, sampled during the run
	std::vector<Assertion> assertions;
	std::vector<StopCondition> stopConditions;

	// The longest the run can take from the start of setup to the end of recover (the observe timeout counted).
	Nanos plannedDuration() const;
	const evidence::SamplerSpec *probe(const std::string &name) const;
	// True when the run follows Streams (a streams: block, a streams.* operation, condition or assertion).
	bool usesStreams() const;
};

struct ParseOptions {
	std::map<std::string, std::string> params; // --param k=v: override (or add) variables
	uint64_t seed = 0;                          // draws the random variables ({choose: [...]}, {uniform: [a, b]})
	fault::Limits limits;
	std::map<std::string, std::string> variables; // internal: the resolved variables handed to the parser
};

// Parses scenario text. origin names the file in messages.
Result<Scenario> parseScenario(const std::string &text, const std::string &origin, const ParseOptions &opt = {});
Result<Scenario> loadScenario(const std::string &path, const ParseOptions &opt = {});

// Hosts matched by a selector (fault format: dc, host, hosts, labels). Empty when none match.
std::vector<std::string> selectHosts(const fault::Selector &s, const std::vector<Host> &hosts);

// Checks against a topology: every selector (evidence `on`, fault targets and peers, probe refs' hosts) matches at
// least one host; probe.tcp/http targets that name a host exist; no two faults of one kind overlap in time on one
// host. With live=true also each target's kernel capabilities (netem-only faults).
Result<void> checkTopology(const Scenario &s, const std::vector<Host> &hosts, bool live = false);

// Reads an Ansible inventory (INI or YAML) as a topology: every group with hosts is a DC (groups `all` and
// `ungrouped` excepted; `children` groups are flattened), host vars become labels. Errors name file:line.
Result<std::vector<Host>> loadInventory(const std::string &path);

} // namespace xdc::scenario
