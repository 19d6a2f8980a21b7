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

// `key` as a ratio: a percentage ("95%") or a fraction from 0 to 1. Leaves out unset when the key is absent.
void readRatio(MapReader &r, const YAML::Node &parent, const char *key, std::optional<double> &out);
// `key` as a duration, when present.
void readDurationOpt(MapReader &r, const char *key, std::optional<std::chrono::nanoseconds> &out);
// {probe: NAME, host: H} inside the mapping r reads; probe required.
ProbeRef readProbeRef(MapReader &r, const YAML::Node &n);
// The probe a reference names exists under evidence.probes (else an error at the reference, with a did-you-mean).
Result<void> checkProbeRef(const ProbeRef &ref, const Scenario &s, const std::string &path);

} // namespace xdc::scenario
