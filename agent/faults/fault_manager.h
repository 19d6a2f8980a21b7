// SPDX-License-Identifier: Apache-2.0
// The agent's faults: journaled before they touch the kernel, bounded by a TTL on the monotonic clock and by the
// controller's lease, reverted and verified on expiry, on request, on halt, and at start-up for whatever a previous
// run left behind.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/faults/fault.h"
#include "common/proto/messages.h"
#include "common/result.h"

namespace xdc::agent {

struct FaultManagerOptions {
	int64_t maxDurationMs = 3600000; // cap on any fault's TTL
	int64_t maxStartAheadMs = 10000; // a synchronised start further ahead than this is refused
	FaultEnv env;                    // env.stateDir holds the journal (stateDir/faults/)
};

// Called during long waits inside a fault's apply (the synchronised start, a memory holder filling its pages) so
// the agent's heartbeats go on; the agent installs it. Runs on the thread that applies faults (the agent's loop).
void setKeepAlive(std::function<void()> fn);
void keepAlive();

class FaultManager {
public:
	explicit FaultManager(FaultManagerOptions o);

	// Removes leftovers of an earlier run: every journaled fault and every object of ours in this namespace.
	// Returns what it cleaned, for the log.
	std::vector<std::string> recover();

	Result<proto::FaultApplyReply> apply(const proto::FaultApplyArgs &args);
	proto::FaultRevertReply revert(const std::string &id, const std::string &why);
	proto::FaultListReply list() const;

	// Reverts faults whose TTL has passed, and every fault when the controller has been silent longer than its lease.
	void tick(int64_t nowMono, int64_t controllerSilentNs, int64_t leaseNs);
	// The monotonic time of the next expiry or periodic work, or INT64_MAX.
	int64_t nextDeadline() const;
	size_t size() const { return faults_.size(); }
	// Receives a record of every apply and revert (kind "fault", source the fault id; values in agent wall ns:
	// requested_ns, applied_ns (the effective time), verified_ns, expires_ns, late_ns for "applied";
	// revert_started_ns, reverted_ns (no longer in effect, before the read-back), verified_ns for "reverted" /
	// "revert_failed"; tags event, fault_kind, mechanism, readback,
	// why, error). The agent passes them to its running recordings.
	void setObserver(std::function<void(proto::Sample)> f) { observer_ = std::move(f); }

private:
	struct Entry {
		std::unique_ptr<Fault> fault;
		proto::FaultInfo info;
		std::string spec;
		int64_t expiresMono = 0;
	};
	std::string journalPath(const std::string &id) const;
	Result<void> journal(const std::string &id, const Entry &e, int64_t expiresWall);

	FaultManagerOptions opt_;
	std::map<std::string, Entry> faults_;
	std::function<void(proto::Sample)> observer_;
};

} // namespace xdc::agent
