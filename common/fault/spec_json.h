// SPDX-License-Identifier: Apache-2.0
// A fault spec as a JSON object (the control socket's fault.apply, docs/PROTOCOL.md): printed and read through the
// same key declarations (keys.cpp keyDecls()) as the YAML form, so both forms have one set of keys and checks.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/fault/spec.h"

namespace xdc::fault {

// The spec as a JSON object with the keys toYaml() prints (each key's own printer), values as JSON numbers where
// the printed text is exactly a number's spelling and strings otherwise ("200ms", "8mbit", "10%").
nlohmann::json toJson(const FaultSpec &spec);

// Reads a spec from its JSON object with every check of the YAML parser (each key's own reader); errors name origin
// and the key path ("<console>: duration: must be greater than 0"). Never throws. Bounded: a value deeper than the
// spec format allows or with more nodes than it allows is refused before any key is read.
Result<FaultSpec> parseSpecJson(const nlohmann::json &object, const std::string &origin, const Limits &limits = {});

} // namespace xdc::fault
