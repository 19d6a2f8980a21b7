// SPDX-License-Identifier: Apache-2.0
// The run's test tuples: the generator into the DCs' ingest (the route's DCs), the reader over every DC's sink, from
// before the baseline to teardown; at teardown the generator stops, the sinks drain and what came out is validated
// against what went in (lost, duplicated, out of order, latency, RPO/RTO inputs).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controller/data/flow.h"
#include "controller/scenario/parts/run_part.h"

namespace xdc::scenario {

// A data.route operation's report entry before it runs (also when the scenario sends no data).
ReportFault routeEntry(const StreamsAction &a, const std::string &id, int64_t offset, int64_t at);

class DataPart : public RunPart {
public:
	using RunPart::RunPart;
	~DataPart() override;
	const char *name() const override { return "data"; }

	// Builds the ingest and the sinks from the streams config, starts the reader and the generator.
	bool prepare() override;
	// Stops the generator, waits for the sinks to go quiet and validates; unknown outcomes, unread outputs and a
	// full backlog are harness errors.
	void teardown() override;
	// `data`: generator statistics, validation, per-sink arrivals.
	void report() override;

	// data.route during inject: its report entry.
	ReportFault route(const StreamsAction &a, const std::string &id, int64_t offset, int64_t at);
	// nullptr when no generator ran; complete once teardown validated.
	const data::ValidationReport *validation() const { return generator_ ? &report_ : nullptr; }
	// RTO: from the faults' start to the first output of the DC that delivered last (see runner RunTimeline).
	std::optional<int64_t> rto(int64_t faultStart) const;

private:
	bool makeSinks(std::vector<std::unique_ptr<data::DataSink>> &sinks, std::set<std::string> &dcs);
	data::GeneratorOptions generatorOptions() const;
	void waitForActive();
	void routeTo(const std::string &to);
	void followRoute();

	std::unique_ptr<data::TupleGenerator> generator_;
	data::Generator *localGen_ = nullptr; // generator_ when it runs in this process (routes can change)
	std::mutex routeMu_;
	std::string routeMode_; // under routeMu_: the follower's thread reads it
	std::unique_ptr<data::SinkReader> reader_;
	data::ValidationReport report_;
	data::GeneratorStats stats_;
	std::vector<data::SinkArrivals> arrivals_;
};

} // namespace xdc::scenario
