// SPDX-License-Identifier: Apache-2.0
// The cross-DC failover toolkit as xdc infers it: the toolkit has no management API of its own, so each DC's state
// (active, standby, down, unknown) and the events between DCs (detection, takeover, fail-back, split brain, orderly
// shutdown) are derived from what the REST API shows: job health and status, PE states, the toolkit operator's
// custom metrics and the sink's throughput, polled in rounds.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/streams/models.h"

namespace xdc::streams {

// What one poll of one DC saw. Filled by pollDc() (streams_poll.h) or by tests.
struct DcSnapshot {
	std::string dc;
	int64_t tNs = 0;         // controller wall clock when the poll's answers were complete
	bool reachable = false;  // the REST API answered
	std::string error;       // why not, when !reachable
	std::string instanceStatus;
	std::string instanceHealth;
	std::optional<Job> job;  // the followed job (by name, then application); nullopt when the instance has none
	std::vector<Pe> pes;     // that job's PEs
	// The toolkit operator's custom metrics (isActive, remoteDataCenterStatus, nHeartbeatsReceived, ...).
	std::map<std::string, int64_t> toolkit;
	std::optional<int64_t> sinkTuples; // the sink's input-port nTuplesProcessed, when there is a sink
};

enum class DcState { Unknown, Active, Standby, Down };
const char *dcStateName(DcState s);

struct ToolkitEvent {
	int64_t tNs = 0;      // the poll round that saw it
	int64_t sinceNs = 0;  // the previous round: the change happened in (sinceNs, tNs]
	std::string kind;     // remote_down | takeover_complete | fail_back | split_brain | split_brain_end |
			      // orderly_shutdown | dc_down | dc_recovered | pe_relaunch
	std::string dc;       // the DC the event is about (the one that took over, declared down, shut down, ...)
	std::string detail;
	std::string pe;       // pe_relaunch: the PE id
	int64_t launchCount = 0; // pe_relaunch: its new launch count
};
nlohmann::json toJson(const ToolkitEvent &e);

// The state of one DC from one snapshot alone.
DcState classify(const DcSnapshot &s);

// Follows poll rounds and emits events. Not thread-safe: one poller feeds it.
class ToolkitView {
public:
	// Feeds one round (one snapshot per DC; DCs may be missing from a round). Returns the events it produced,
	// which are also appended to events().
	std::vector<ToolkitEvent> update(const std::vector<DcSnapshot> &round);

	DcState state(const std::string &dc) const;
	// The DC the view says is active ("" when none; the first in name order when several, i.e. split brain).
	std::string activeDc() const;
	const std::vector<ToolkitEvent> &events() const { return events_; }
	// True from the round that saw two or more active DCs until the round that saw at most one.
	bool splitBrain() const { return splitBrain_; }

private:
	struct Track {
		DcState state = DcState::Unknown;
		DcState lastKnown = DcState::Unknown; // the last state other than Unknown
		std::optional<int64_t> sinkTuples;
		std::optional<int64_t> remoteStatus;
		bool pendingTakeover = false;         // became active, output not yet seen flowing
		bool shutDown = false;                // its job was canceled while it was active
		int64_t lastTNs = 0;
		std::map<std::string, int64_t> launches; // PE id -> launchCount last seen
	};
	std::map<std::string, Track> dcs_;
	std::vector<ToolkitEvent> events_;
	std::string firstActive_;  // the DC seen active first: a takeover back into it is a fail-back
	bool tookOver_ = false;
	bool splitBrain_ = false;
	int64_t lastRoundNs_ = 0;
};

} // namespace xdc::streams
