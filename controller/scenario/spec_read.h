// SPDX-License-Identifier: Apache-2.0
// Readers the scenario parser and the assertion kinds share: each reports into the MapReader of the enclosing
// mapping (the first error wins), with the key path and position.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <yaml-cpp/yaml.h>

#include "common/result.h"
#include "common/yaml_reader.h"

namespace xdc::scenario {

struct ProbeRef;
struct Scenario;

// "origin:line:column" of a node (origin alone when it has no position).
std::string whereOf(const std::string &origin, const YAML::Node &n);
// An Invalid error "origin:line:column: path: what".
Error failAt(const std::string &origin, const YAML::Node &n, const std::string &path, const std::string &what);
// Parses YAML (common/yaml_reader.h's checks) and refuses an empty document, one too large or too deep (alias bombs
// hit a node limit) and one that is not a mapping.
Result<YAML::Node> parseChecked(const std::string &text, const std::string &origin);

// `key` as a ratio: a percentage ("95%") or a fraction from 0 to 1. Leaves out unset when the key is absent.
void readRatio(MapReader &r, const YAML::Node &parent, const char *key, std::optional<double> &out);
// `key` as a duration, when present.
void readDurationOpt(MapReader &r, const char *key, std::optional<std::chrono::nanoseconds> &out);
// {probe: NAME, host: H} inside the mapping r reads; probe required.
ProbeRef readProbeRef(MapReader &r, const YAML::Node &n);
// The probe a reference names exists under evidence.probes (else an error at the reference, with a did-you-mean).
Result<void> checkProbeRef(const ProbeRef &ref, const Scenario &s, const std::string &path);

} // namespace xdc::scenario
