// SPDX-License-Identifier: Apache-2.0
// What the Streams hosts show of the cross-DC toolkit, through their agents (docs/STREAMS.md "Host signals"): PE
// trace lines (`_XXXXX_`, present only where the trace level was raised), the passive monitor's output, the failover
// script and the job's PEs as process starts, and the snapshot files' size and mtime. A run that follows Streams
// records them when the streams config names them (`host_signals:` per instance); afterwards they become timed
// events on the run's timeline with their clock bounds, and the state age at failover.
//
// Contract: hostSignalSamplers() returns sampler specs (in the recording's YAML form) for every instance with a
// `host:` and `host_signals:`; hostSignalReport() reads the bundle's timeline entries (times already on the
// controller's clock, `t_ns` with `bound_ns`) and never fails: a signal that is absent is left out of the report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/streams/client.h"
#include "controller/streams/toolkit_view.h"

namespace xdc::scenario {

// The sampler specs as YAML flow text, named "streams.<signal>.<dc>".
Result<std::vector<std::string>> hostSignalSamplers(const std::vector<streams::Endpoint> &eps);

// report.json's streams.host: events (kind, dc, host, t_ns, since_ns, bound_ms, detail, source), heartbeat receipts
// from the trace per DC, the state age at failover, and the passive mode's failover steps in order.
nlohmann::json hostSignalReport(const std::vector<nlohmann::json> &entries, const std::vector<streams::Endpoint> &eps,
				const std::vector<streams::ToolkitEvent> &events, int64_t faultsStartNs);

} // namespace xdc::scenario
