// SPDX-License-Identifier: Apache-2.0
// The cross-DC failover toolkit as xdc infers it from what a real deployment shows over REST, and nothing else
// (shared/reference/crossdc-toolkit.md, docs/STREAMS.md "What xdc reads on a real deployment"): the toolkit has no
// management API and no custom metrics, so each DC's state (active, standby, no job, down, unknown) and the events
// between DCs (detection, recovery, takeover, fail-back, split brain, jobs appearing) come from job and PE status,
// the port metrics of the toolkit's own operators (found by their local names under any composite instance), and
// the application's output (its sink operator's input port). Metric values are as old as the instance's last
// metric collection: each carries its lastTimeRetrieved, and event bounds include it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/streams/models.h"

namespace xdc::streams {

// One port counter as the instance's last metric collection had it.
struct PortSignal {
	bool present = false;     // the operator was found and its port metric read
	int64_t value = 0;
	int64_t retrievedNs = 0;  // lastTimeRetrieved (the REST server's clock, ns); 0 when the server gave none
};

// One metric collection of a DC's application output (its sink operator's input port) as the polls saw it: first
// seen by the poll at tNs (controller clock), collected at retrievedNs (the REST server's clock; 0 when it gave none).
struct OutputPoint {
	int64_t tNs = 0;
	int64_t retrievedNs = 0;
	int64_t value = 0;
};

// The toolkit's operators found in one job, and their signals.
struct ToolkitSignals {
	std::string prefix;                      // the composite instance ("" when none was found)
	std::vector<std::string> found;          // local names found (CrossDataCenterReceiver[k] once, as "[k]")
	std::vector<std::string> missing;        // local names looked for and not found
	std::vector<std::string> otherPrefixes;  // further composite instances (the first in name order is followed)
	int channels = 0;                        // CrossDataCenterReceiver[k] found
	PortSignal heartbeatsSent;               // HeartbeatMessagePreparer output 0
	PortSignal heartbeatsReceived;           // CrossDataCenterReceiverForHB output 0
	PortSignal transitions;                  // RemoteDataCenterHeartbeatWatchdog output 0 (RemoteDataCenterStatus)
	PortSignal messagesReceived;             // CrossDataCenterReceiver[k] output 0, summed over the channels
	PortSignal stateHandedOver;              // RemoteDataCenterWatchdog output 0 (ProcessDataFromRemoteDC)
	std::string watchdogPe;                  // the PE hosting the watchdog: its relaunch restarts the counters
};

// What one poll of one DC saw. Filled by pollDc() (poll.h) or by tests.
struct DcSnapshot {
	std::string dc;
	int64_t tNs = 0;         // controller wall clock when the poll's answers were complete
	bool reachable = false;  // the REST API answered
	std::string error;       // why not, when !reachable
	std::string instanceStatus;
	std::string instanceHealth;
	std::optional<Job> job;  // the followed job (by name, then application); nullopt when the instance has none
	std::vector<Pe> pes;     // that job's PEs
	bool metricsRead = false; // port metrics were asked for (status --no-metrics skips them)
	ToolkitSignals toolkit;
	std::string sinkOperator; // the application's output operator found ("" when none)
	PortSignal sink;          // its input port 0 nTuplesProcessed
};

enum class DcState { Unknown, Active, Standby, Running, NoJob, Down };
const char *dcStateName(DcState s);

// What a DC's toolkit says of its remote, from the watchdog's transition count since its PE's launch: no contact
// yet (0), up (odd), declared down (even, at least 2).
enum class RemoteState { Unknown, NoContact, Up, Down };
const char *remoteStateName(RemoteState s);
RemoteState remoteState(const DcSnapshot &s);

struct ToolkitEvent {
	int64_t tNs = 0;      // the latest instant it can have happened (controller clock)
	int64_t sinceNs = 0;  // the earliest: the change happened in (sinceNs, tNs]
	std::string kind;     // remote_down | remote_up | state_handed_over | takeover_complete | fail_back |
			      // split_brain | split_brain_end | job_submitted | job_healthy | dc_down | dc_recovered |
			      // pe_relaunch
	std::string dc;       // the DC the event is about (the one that detected, took over, ...)
	std::string detail;
	std::string source;   // what it was read from ("watchdog output port", "sink input port", "job", ...)
	std::string pe;       // pe_relaunch: the PE id
	int64_t launchCount = 0; // pe_relaunch: its new launch count
	int64_t boundNs() const { return tNs - sinceNs; }
};
nlohmann::json toJson(const ToolkitEvent &e);

// Follows poll rounds and emits events. Not thread-safe: one poller feeds it.
class ToolkitView {
public:
	// quietCollections: distinct metric collections without output growth before a DC counts as standby (a
	// following view waits for a few, so a slow collection does not make an active DC look idle; a one-shot status
	// takes one).
	explicit ToolkitView(int quietCollections = 3) : quiet_(quietCollections) {}

	// Feeds one round (one snapshot per DC; DCs may be missing from a round). Returns the events it produced,
	// which are also appended to events().
	std::vector<ToolkitEvent> update(const std::vector<DcSnapshot> &round);

	DcState state(const std::string &dc) const;
	RemoteState remote(const std::string &dc) const;
	// "flowing", "stalled" or "unknown": whether the DC's heartbeat receiver counted new heartbeats lately.
	std::string heartbeats(const std::string &dc) const;
	// The DC whose output flows ("" when none; the first in name order when several, i.e. split brain).
	std::string activeDc() const;
	const std::vector<ToolkitEvent> &events() const { return events_; }
	bool splitBrain() const { return splitBrain_; }
	// False while a reachable DC with a running job and an output operator has not been seen in two metric
	// collections yet (so whether its output flows is not known).
	bool settled() const;

private:
	// A counter's distinct observations: each new lastTimeRetrieved (or, without one, each poll) is one.
	struct Counter {
		int64_t value = -1;      // -1 before the first observation
		int64_t atNs = 0;        // when the current value was retrieved
		int64_t grewAtNs = 0;    // the retrieval that last saw it grow
		int quiet = 0;           // distinct observations since it last grew
		int observations = 0;
	};
	struct Track {
		DcState state = DcState::Unknown;
		// The state and poll time of the last round in which the DC answered: a round in which it did not (its
		// REST API timed out, or its job's PEs vanished between two requests of one poll) hides no change.
		DcState known = DcState::Unknown;
		int64_t knownTNs = 0;
		Counter sink, heartbeats, transitions, handedOver;
		std::string watchdogLaunch;         // "<pe>:<launchCount>" of the counters' epoch
		std::string jobId;
		std::string jobHealth;
		std::string upJob;                  // the job in which the DC was last seen up (not down, not without job)
		int64_t lastTNs = 0;
		std::map<std::string, int64_t> launches; // PE id -> launchCount last seen
	};
	// Feeds one observation; returns true when it is a new collection (distinct from the last).
	// The DC's state before this round: the last one it answered in.
	static DcState stateBefore(const Track &p) { return p.state == DcState::Unknown ? p.known : p.state; }
	// The earliest a change seen now can have happened: the last round that saw the DC (any DC's, at the start).
	int64_t sinceKnown(const Track &p) const
	{
		if (p.state == DcState::Unknown && p.knownTNs)
			return p.knownTNs;
		return p.lastTNs ? p.lastTNs : lastRoundNs_;
	}
	static bool observe(Counter &c, const PortSignal &p, int64_t pollNs, int64_t prevPollNs, int64_t &sinceNs,
			    int64_t &atNs, int64_t &prevValue);
	void jobEvents(const DcSnapshot &s, Track &t, const Track &p, std::vector<ToolkitEvent> &out);
	void toolkitEvents(const DcSnapshot &s, Track &t, std::vector<ToolkitEvent> &out);
	void outputEvents(const DcSnapshot &s, Track &t, const Track &p, std::vector<ToolkitEvent> &out);
	DcState classify(const DcSnapshot &s, const Track &t) const;

	int quiet_ = 3;
	std::map<std::string, Track> dcs_;
	std::vector<ToolkitEvent> events_;
	std::string firstActive_;  // the DC seen active first: a takeover back into it is a fail-back
	std::string lastActive_;   // the DC that last started delivering: output starting elsewhere is a takeover
	bool initialRound_ = true; // no DC was seen delivering before this round
	bool tookOver_ = false;
	bool splitBrain_ = false;
	int64_t lastRoundNs_ = 0;
};

} // namespace xdc::streams
