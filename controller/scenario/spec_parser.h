// SPDX-License-Identifier: Apache-2.0
// The scenario parser's insides, shared by the files that implement it: spec.cpp (the document, evidence, steady
// state, assertions, stop conditions; the file's errors), spec_flow.cpp (the streams: and data: blocks and streams.*
// operations), spec_phases.cpp (phases and the offline cross-checks) and variables.cpp (variables and random draws).
// Not an interface: parseScenario() (spec.h) is.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/yaml_reader.h"
#include "controller/scenario/spec.h"

namespace xdc::scenario::detail {

// True for a value made of letters, digits and _ . : / % + @ - only (what a variable may hold).
bool plainWord(const std::string &v);
// Replaces ${name} by the variable's value in the text; line numbers stay (values never hold line breaks).
Result<std::string> substitute(const std::string &text, const std::string &origin,
			       const std::map<std::string, std::string> &vars);
// The variables block (see variables.cpp): vars gets every variable's value, drawn the random ones.
Result<void> readVariables(const YAML::Node &doc, const std::string &origin, uint64_t seed,
			   std::map<std::string, std::string> &vars, std::map<std::string, std::string> &drawn);

class Parser {
public:
	Parser(std::string origin, const ParseOptions &opt) : origin_(std::move(origin)), opt_(opt) {}

	Result<Scenario> parse(const YAML::Node &doc);

private:
	void readTopology(MapReader &top, const YAML::Node &n, Topology &t);

	void readStreams(MapReader &top, const YAML::Node &n, StreamsWatch &w);

	void readData(MapReader &top, const YAML::Node &n, DataFlow &d);

	// data.sink: {via: agent, file: NAME} or {via: tuple_view}.
	void readDataSink(const YAML::Node &sub, DataFlow &d);

	static bool validDataSinkName(const std::string &name);

	// One inject entry of kind streams.*: {kind, dc, pes, bundle, job_name, start}.
	Result<StreamsAction> readStreamsAction(const YAML::Node &n, const std::string &path);

	static std::string fileDirOf(const std::string &file);

	// Moves a nested reader's error into the top reader (first error wins).
	void carry(MapReader &top, MapReader &r);

	void readEvidence(MapReader &top, const YAML::Node &n, Scenario &s);

	void readSteady(MapReader &top, const YAML::Node &n, Scenario &s);

	void readAssertions(MapReader &top, const YAML::Node &n, Scenario &s);

	void readStops(MapReader &top, const YAML::Node &n, Scenario &s);

	Result<void> readPhases(const YAML::Node &phases, Scenario &s);

	// observe.until: {metric: {source, op, value}} or {prom: {url, query, ...}} (an unnamed source of its own).
	Result<void> readUntilMetric(MapReader &u, const YAML::Node &until, const std::string &path, Scenario &s);
	Result<MetricPredicate> readMetricCondition(MapReader &u, const YAML::Node &n, const std::string &path,
						    const std::string &anonName, Scenario &s);

	Result<void> crossCheck(const Scenario &s);

	// Every error of the file in one pass, up to kMaxErrors; error_ is the one of the section being read.
	static constexpr size_t kMaxErrors = 20;
	std::vector<Error> errors_;
	size_t moreErrors_ = 0;

	void note(const Error &e);

	// Moves the section's error (if any) to the file's list.
	void settle();

	// The file's errors as one, in the order of their positions (file:line:column), one per line.
	Error combined() const;

	std::string origin_;
	ParseOptions opt_;

public:
	// Set before parse(): the variables as substituted.
	void setVariables(std::map<std::string, std::string> v) { opt_.variables = std::move(v); }
	std::optional<Error> error_;
};

} // namespace xdc::scenario::detail
