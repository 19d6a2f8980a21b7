// SPDX-License-Identifier: Apache-2.0
// Assertions (docs/SCENARIOS.md "Assertions"): what a scenario requires of the run, one kind per file in this folder,
// registered in one table (registry.cpp). Adding a kind is a file here, a line in the table, its docs and its tests
// (docs/EXTENDING.md).
//
// A kind's life: parse() reads its body (`assertions[i].<kind>`) with positions; crossCheck() checks it against the
// whole scenario offline (probes, samplers, sources it names exist); once the run's evidence is in, evaluate() judges
// it over the run's timeline; describe() adds what it was held against to its report entry.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "common/result.h"
#include "common/yaml_reader.h"
#include "controller/scenario/run_report.h"
#include "controller/streams/toolkit_view.h"

namespace xdc::data {
struct ValidationReport;
}

namespace xdc::scenario {

struct Scenario;
struct ProbeRef;
struct MetricAssertion;

// What an assertion reads of a finished run. The runner implements it. Every time is the controller's wall clock in
// ns. Valid only during evaluate().
class RunTimeline {
public:
	virtual ~RunTimeline() = default;

	virtual const Scenario &scenario() const = 0;
	// The faults' span from the agents' records: the first verified apply and the last verified revert;
	// {INT64_MAX, 0} when no fault took effect.
	virtual std::pair<int64_t, int64_t> faultsWindow() const = 0;
	// A phase's [start, end); {0, 0} when it did not run to its end.
	virtual std::pair<int64_t, int64_t> phaseWindow(const std::string &name) const = 0;
	// The hosts a probe reference covers: its host, or every host the probe ran on.
	virtual std::vector<std::string> probeHosts(const ProbeRef &r) const = 0;
	// The recording's evidence entries, and the outages found in them (report.json's `outages`).
	virtual const std::vector<nlohmann::json> &entries() const = 0;
	virtual const std::vector<ProbeOutages> &outages() const = 0;
	// The report as written so far: a kind may add its headline figures to its own section (`streams`, `data`).
	virtual RunReport &report() = 0;

	// Streams. followsStreams() is false when the run did not follow Streams.
	virtual bool followsStreams() const = 0;
	// Why a Streams signal cannot be measured on this deployment ("" when it can).
	virtual std::string streamsUnmeasurable(bool detection, bool takeover) const = 0;
	// The toolkit view's first event of `kind` at or after fromNs.
	virtual std::optional<streams::ToolkitEvent> firstEvent(const std::string &kind, int64_t fromNs) const = 0;
	// The DC the toolkit view said was active as observe ended ("" when none).
	virtual std::string activeAtObserveEnd() const = 0;
	// Per DC, the application's output counter as the polls saw it (empty when Streams was not followed).
	virtual std::map<std::string, std::vector<streams::OutputPoint>> outputSeries() const = 0;

	// Data: nullptr when no data flowed; dataRto the faults' start to the first output after the gap.
	virtual const data::ValidationReport *dataReport() const = 0;
	virtual std::optional<int64_t> dataRto(int64_t faultStartNs) const = 0;

	// A `metric: {source: ...}` assertion over the run's metric samples: "" when it held, else why not.
	virtual std::string checkMetricSource(const MetricAssertion &a, nlohmann::json &observed) = 0;
};

// What evaluate() found.
struct AssertionOutcome {
	nlohmann::json observed = nlohmann::json::object(); // the measured values, per host or DC where it applies
	std::string failure;      // "" when the assertion held
	std::string unmeasurable; // not "" when the deployment does not show what it needs (a harness error)
};

class AssertionCheck {
public:
	virtual ~AssertionCheck() = default;

	// The name reports use when the scenario gives none ("outage wan <= 7s").
	virtual std::string defaultName() const = 0;
	// Offline, against the whole scenario (path "assertions[i]", where "file:line:col"): everything it names exists.
	virtual Result<void> crossCheck(const Scenario &s, const std::string &path, const std::string &where) const = 0;
	// The probe references whose hosts must exist in the topology.
	virtual std::vector<const ProbeRef *> probeRefs() const { return {}; }
	// True when the run must follow Streams for it.
	virtual bool needsStreams() const { return false; }
	// Adds what it is held against (probe, sampler, source, ...) to its report entry.
	virtual void describe(nlohmann::json &entry) const = 0;
	// What the scenario asked for after defaults, bounds included, by the scenario's key names (durations in ms,
	// ratios as fractions): {"probe": "wan", "max_ms": 6000, ...}. For tests and for reports that show the bounds.
	virtual nlohmann::json parameters() const = 0;
	// Judges the finished run. Called once, after recover, on the runner's thread.
	virtual AssertionOutcome evaluate(RunTimeline &run) const = 0;
};

// What a kind's parser reads: its body at `path` ("assertions[i].<kind>"), through `r` (a reader of that body; the
// first error wins). A nested reader's error goes to `error` when r has none.
struct AssertionParse {
	MapReader &r;
	const YAML::Node &body;
	std::string path;
	std::string origin;
	std::optional<Error> &error;
	// Moves a nested reader's error into `error` (the first wins).
	void carry(const MapReader &nested)
	{
		if (!nested.ok() && r.ok() && !error)
			error = nested.result().error();
	}
};

struct AssertionKind {
	const char *name; // the key in the scenario: `- outage: {...}`
	std::shared_ptr<const AssertionCheck> (*parse)(AssertionParse &p);
};

// Every kind, in the order the docs list them.
const std::vector<AssertionKind> &assertionKinds();

} // namespace xdc::scenario
