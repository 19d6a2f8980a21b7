// SPDX-License-Identifier: Apache-2.0
// What every part of a run shares (run_part.h): the scenario and its options, the report as written so far, the
// verdict, the fleet, the phases and the one wait loop. Owned by the Run (runner.cpp); a part holds a reference.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "controller/control/answers.h"
#include "controller/scenario/run_report.h"
#include "controller/scenario/runner.h"

namespace xdc::scenario {

class StreamsFollower;
class RecordingPart;
class FaultsPart;
class StreamsPart;
class DataPart;
class MetricsPart;

constexpr int64_t kMs = clk::kMs;
constexpr int64_t kLeadNs = 500 * kMs; // faults are sent this far ahead of their agreed instant
constexpr int64_t kTickNs = 100 * kMs; // how often waits look at interrupts, probes and stop conditions

inline int64_t ns(Nanos d) { return d.count(); }
std::string secs(int64_t ns);
// "observe 12.3s, 2.7s left | faults dc1-h1:1 dc2-h1:1 | wan@dc1-h1 ok": the line `xdc run` keeps rewriting on a
// terminal (leftNs 0: no time left shown; probeHealth as RecordingPart::probeHealth gives it).
std::string statusLineText(const std::string &phase, int64_t elapsedNs, int64_t leftNs,
			   const std::map<std::string, int> &faultsPerHost, const std::string &probeHealth);

class RunContext {
public:
	enum class Wait { Done, Aborted, Stopped, Lost };

	RunContext(const Scenario &scenario, const RunOptions &options) : s(scenario), opt(options) {}

	const Scenario &s;
	const RunOptions &opt;
	RunReport report;
	int64_t t0 = 0;
	int exit = kPassed;
	std::string verdict = "passed", reason, phase = "start", stopReason;
	bool stopAborts = false; // the stop came from a metric condition: the run is aborted (exit 4), not failed
	bool controllerLost = false;
	std::string controllerError;
	// The fleet (loadFleet): live hosts, lost ones, and each live host's DC.
	std::vector<Host> hosts;
	std::set<std::string> lost;
	std::map<std::string, std::string> dcOf;

	// The run's parts; null when the scenario does not use one (streams, data, metrics) or before they exist.
	RecordingPart *recording = nullptr;
	FaultsPart *faults = nullptr;
	StreamsPart *streams = nullptr;
	DataPart *data = nullptr;
	MetricsPart *metrics = nullptr;
	// The toolkit view the run follows; null when it does not follow Streams.
	StreamsFollower *streamsView() const;

	// The first failure decides the verdict; later ones are noted in the log only.
	void setVerdict(int code, const std::string &verdict, const std::string &reason);
	// A progress line, stamped with the time since the run began.
	void say(const std::string &line) const;
	// One control request; a reply that is not ok becomes its error. raw, when given, receives the reply as it came
	// (a refusal can still carry details, e.g. the exit code of a program that failed). A control socket that does not
	// answer marks the controller lost.
	Result<json> call(const control::Request &req, int timeoutMs = 15000, json *raw = nullptr);
	bool interrupted() const { return opt.interrupted && opt.interrupted->load() != 0; }

	// Tells the controller where the run is (run.state, for its /metrics): at each phase, and once ended with the
	// report's verdict and headline figures. Best effort: a controller that does not answer or does not know the
	// request (an older one) changes nothing in the run.
	void publishState(bool ended);

	// Phases: report.json's `phases`, one entry each, in order.
	ReportPhase &beginPhase(const std::string &name);
	void endPhase(const std::string &status, const std::string &message = "");
	void skipPhase(const std::string &name, const std::string &why);

	// Reads the fleet from the controller and checks the scenario's topology against it; false (verdict set) when
	// the controller cannot be reached or a host the scenario needs is missing.
	bool loadFleet();
	// The hosts a probe reference covers: its host, or every host the probe ran on.
	std::vector<std::string> probeHosts(const ProbeRef &r) const;
	// A phase's [start, end); {0, 0} when it did not run to its end.
	std::pair<int64_t, int64_t> phaseWindow(const std::string &name) const;
	// The live status line: phase, elapsed, time left in the current wait, faults in place per host, probe health.
	std::string statusLine(const json &st) const;
	int64_t waitingUntil = 0; // the end of the current wait (wall clock)

	// Waits until untilWall (controller wall clock) or pred() holds, watching interrupts, the controller and stop
	// conditions; pred sees the recording's status (an empty object without a recording).
	Wait waitUntil(int64_t untilWall, const std::function<bool(const json &)> &pred = nullptr);
	// Handles a wait's outcome (ends the phase and sets the verdict); false when the run must go straight to
	// recovery/teardown.
	bool waited(Wait w);
};

} // namespace xdc::scenario
