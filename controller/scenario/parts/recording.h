// SPDX-License-Identifier: Apache-2.0
// The run's evidence recording: the scenario's probes and samplers, the Streams hosts' signals and a host sampler for
// every other host the run touches, recorded by the agents from the baseline to teardown. Its live status feeds the
// stop conditions, the steady-state checks, observe's probe condition and the console's status line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "controller/evidence/recording.h"
#include "controller/scenario/parts/run_part.h"

namespace xdc::scenario {

class RecordingPart : public RunPart {
public:
	using RunPart::RunPart;
	const char *name() const override { return "recording"; }

	// baseline: starts the recording (when there is anything to record) and waits, bounded, until every probe has
	// delivered a sample.
	bool phaseBegin(const std::string &phase) override;
	// baseline: the steady state "before inject"; recover: "after recovery".
	bool phaseEnd(const std::string &phase) override;
	// Stops the recording (draining the agents) and loads the bundle; a bundle with gaps is a harness error.
	void teardown() override;
	// `evidence_dir`, `evidence` and `outages`.
	void report() override;

	bool recording() const { return !recording_.empty(); }
	// The recording's status (record.status) over the last windowMs of each source, or with windowEndNs over
	// [windowEndNs - windowMs, windowEndNs) on the controller's clock; nullopt without a recording or an answer.
	std::optional<json> status(int64_t windowMs, int64_t windowEndNs = 0);
	// A stop condition that holds in st, if any.
	std::optional<std::string> stopCondition(const json &st) const;
	// " probe@host ok|FAIL 1.2s" for each probe, or " no probes".
	std::string probeHealth(const json &st) const;
	// A probe's entry in a status, {} when absent.
	static json probeOf(const json &st, const std::string &host, const std::string &probe);
	// The bundle's entries, on the controller's timeline (empty before teardown or without a recording).
	const std::vector<json> &entries() const { return bundle_.entries; }

private:
	bool start();
	std::vector<std::string> touchedHostsWithoutSamplers() const;
	// The steady-state checks over windows ending now, each judged once its samples have arrived (bounded).
	bool steadyState(const std::string &when);
	int64_t windowWaitNs(const SteadyCheck &c) const;
	std::vector<std::string> checkHosts(const SteadyCheck &c) const;
	std::optional<std::string> windowMissing(const SteadyCheck &c, const std::optional<json> &st,
						 const std::string &host, int64_t endNs) const;
	bool metricSteady(const SteadyCheck &c, const std::optional<json> &st, const std::string &when,
			  std::string &first);
	bool probeSteady(const SteadyCheck &c, const std::optional<json> &st, const std::string &when,
			 std::string &first);

	std::string recording_;
	controller::evidence::Bundle bundle_;
	json meta_;
	bool stopped_ = false;
};

} // namespace xdc::scenario
