// SPDX-License-Identifier: Apache-2.0
// The data sources of a run, one per DC, in the ingest shape the scenario chose and at the place the streams config's
// `ingest:` gives for each instance (docs/DATA.md): HTTPJSONInjection, TCPSource, or files dropped through the agent
// of the DC's Streams host. Also their form for a generator that runs on an agent (HTTP and TCP only).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/data/endpoints.h"
#include "common/proto/messages.h"
#include "common/result.h"
#include "controller/streams/client.h"
#include "controller/control/requests.h"

namespace xdc::data {

struct IngestSet {
	std::vector<std::unique_ptr<DataSource>> sources; // in the streams config's order
	std::vector<proto::DataGenSource> remote;         // the same, for data.generate.start (empty for file)
	std::vector<std::string> how;                     // per source, for the report
};

// shape: http_json | tcp | file. Errors name the instance and the `ingest:` key it lacks.
Result<IngestSet> makeIngest(const std::vector<streams::Endpoint> &eps, const std::string &shape,
			     control::Caller call);

} // namespace xdc::data
