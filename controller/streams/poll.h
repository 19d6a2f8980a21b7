// SPDX-License-Identifier: Apache-2.0
// One poll of one DC's instance: the followed job, its PEs, the port counters of the cross-DC toolkit's operators
// (found by their local names under any composite instance) and of the application's output, gathered into a
// DcSnapshot for the toolkit view and the status command.
#pragma once

#include <cstdint>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "controller/streams/client.h"
#include "controller/streams/toolkit_view.h"

namespace xdc::streams {

struct PollOptions {
	bool metrics = true;                             // read port metrics (status --no-metrics skips them)
	bool parallel = true;                            // one thread per DC; false: one after the other (cheaper)
};

// The operators whose port counters a poll reads, found once per job (findOperators).
struct FoundOperators {
	ToolkitSignals names;                  // prefix, found, missing, otherPrefixes, channels, watchdogPe
	std::string watchdog, hbReceiver, preparer, store; // operator ids ("" when missing)
	std::vector<std::string> receivers;    // CrossDataCenterReceiver[k] ids
	std::string sink, sinkName;            // the application's output operator
};
// Finds the toolkit's operators by their local names (under the endpoint's toolkit prefix when it sets one, else
// under any prefix; with several composite instances, the first in name order) and the sink operator (the
// endpoint's sink_operator, else one named "Sink", else the only FileSink).
FoundOperators findOperators(const std::vector<Operator> &ops, const Endpoint &ep);

// What repeated polls of one DC keep between rounds so that a round costs fewer requests: the followed job's
// operators (listed again when the job changes or a metrics request fails) and the instance's status (read again
// every `instanceEvery` rounds; the jobs request still tells reachability every round).
struct PollCache {
	std::string jobId;
	FoundOperators ops;
	bool operatorsKnown = false;
	// The instance collects metrics on a schedule: until its next collection is due, a repeated poll reuses the
	// port counters it read last instead of asking again for the same values (docs/STREAMS.md).
	bool haveMetrics = false;
	ToolkitSignals lastToolkit;
	PortSignal lastSink;
	int64_t collectedNs = 0; // the oldest lastTimeRetrieved among the counters read last
	int64_t periodNs = 0;    // the shortest spacing between two collections seen (0 = not known yet)
	std::string instanceStatus, instanceHealth;
	uint64_t rounds = 0;
	int instanceEvery = 10;
};

// Polls one DC with its client. Never fails: an unreachable or broken API gives reachable=false and the error.
// With a cache (repeated polling), skips what it still knows.
DcSnapshot pollDc(Client &client, const PollOptions &opts, PollCache *cache = nullptr);

// Polls every DC at once, one thread per client; the snapshots come back in the clients' order. caches, when
// given, has one entry per client.
std::vector<DcSnapshot> pollRound(std::vector<std::unique_ptr<Client>> &clients, const PollOptions &opts,
				  std::vector<PollCache> *caches = nullptr);

// Repeated rounds over all DCs with one long-lived thread per DC (a thread per round cost a 10 Hz watch about a
// fifth of its CPU) and a PollCache each. round() is called from one thread at a time.
class Poller {
public:
	Poller(std::vector<std::unique_ptr<Client>> &clients, PollOptions opts);
	~Poller();
	Poller(const Poller &) = delete;
	Poller &operator=(const Poller &) = delete;
	// Polls every DC at once and returns when all have answered (or failed), in the clients' order.
	std::vector<DcSnapshot> round();

private:
	void work(size_t i);
	std::vector<std::unique_ptr<Client>> &clients_;
	PollOptions opts_;
	std::vector<PollCache> caches_;
	std::vector<DcSnapshot> out_;
	std::mutex m_;
	std::condition_variable start_, done_;
	uint64_t generation_ = 0;
	size_t pending_ = 0;
	bool stop_ = false;
	std::vector<std::thread> threads_;
};

// The job a DC follows: the endpoint's jobName, else its application, else the only job.
const Job *pickJob(const std::vector<Job> &jobs, const Endpoint &ep);

} // namespace xdc::streams
