// SPDX-License-Identifier: Apache-2.0
// One poll of one DC's instance: the followed job, its PEs, the toolkit operator's custom metrics and the sink's
// throughput, gathered into a DcSnapshot for the toolkit view and the status command.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "controller/streams/client.h"
#include "controller/streams/toolkit_view.h"

namespace xdc::streams {

struct PollOptions {
	std::string toolkitOperator = "CrossDCFailover"; // operator whose custom metrics are the toolkit's state
	std::string sinkOperator = "Sink";               // operator whose nTuplesProcessed is the output
	bool metrics = true;                             // read operator metrics (status --no-metrics skips them)
};

// Polls one DC with its client. Never fails: an unreachable or broken API gives reachable=false and the error.
DcSnapshot pollDc(Client &client, const PollOptions &opts);

// Polls every DC at once, one thread per client; the snapshots come back in the clients' order.
std::vector<DcSnapshot> pollRound(std::vector<std::unique_ptr<Client>> &clients, const PollOptions &opts);

// The job a DC follows: the endpoint's jobName, else its application, else the only job.
const Job *pickJob(const std::vector<Job> &jobs, const Endpoint &ep);

} // namespace xdc::streams
