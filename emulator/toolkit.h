// SPDX-License-Identifier: Apache-2.0
// The cross-DC failover toolkit's composite (CrossDataCenterFailover), operator by operator, as its source code has
// it (shared/reference/crossdc-toolkit.md; the file-based snapshot store): the Beacon, the heartbeat message
// preparer, the HTTP senders and receivers, the heartbeat watchdog (the failure detector), the snapshot store and
// the merger. One Toolkit lives for one launch of the PE that hosts the composite: its state and its port counters
// start from scratch with each launch, as a relaunched PE's do.
//
// Locking contract: the owner's mutex (given to the constructor) guards all state. Methods marked "lock held" must
// be called with it held; the composite's outputs (ToolkitOutputs) are called with it held. start() may be called
// with it held; requestStop() must be; join() must NOT be (it joins threads that take the lock).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "emulator/hb_message.h"
#include "emulator/options.h"
#include "emulator/receivers.h"
#include "emulator/trace.h"
#include "emulator/truth_log.h"

namespace xdc::emu {

// The toolkit's configuration keys (crossdc-config.txt) and the submission-time channel count.
struct ToolkitConfig {
	std::string dc;                   // localDataCenterName
	int mode = 1;                     // crossDCOperationMode: 1 active, 0 passive
	HostPort listen;                  // this side's crossDCHttpPort: heartbeats; channel k on port + 1 + k
	HostPort peer;                    // remoteDataCenterApplicationMachineNames:crossDCHttpPort; port 0 = none
	int64_t initDelayMs = 40000;      // crossDCInitDelay
	int64_t intervalMs = 30000;       // heartbeatExchangeInterval
	int allowed = 4;                  // consecutiveHeartbeatMissesAllowed (uint8 in the toolkit)
	int64_t snapshotIntervalMs = 180000; // dataSnapshotExchangeInterval
	int channels = 1;                 // numberOfHttpSenderReceiverPairs
	int64_t connectTimeoutMs = 25000; // httpConnectionTimeout
	int64_t readTimeoutMs = 100000;   // httpReadTimeout
	std::string snapshotDir;          // dataSnapshotStorageDirectory ("" = snapshots are not stored)
	bool retainSnapshots = false;     // retainOlderDataSnapshotsAtStartup
	bool sendSnapshotsToOrigin = false; // sendDataSnapshotsToOriginDCAtStartup
	std::string prefix = "CrossDCFailover"; // the invoking composite instance: operators are "<prefix>.<name>"
};

// The composite's output streams, as the application receives them.
struct ToolkitOutputs {
	std::function<void(const HbMessage &)> dataSnapshotSignal; // DataSnapshotSignal
	std::function<void(bool)> remoteStatus;                    // RemoteDataCenterStatus
	std::function<void(const HbMessage &)> processDataFromRemote; // ProcessDataFromRemoteDC
};

// An operator as the REST API lists it, with its port counts.
struct OpModel {
	std::string name;   // local name ("HeartbeatSignalGenerator"); REST shows "<prefix>.<name>"
	std::string kind;
	int inputs = 0, outputs = 0;
};

// Tuples through each port since the operator's PE was launched: nTuplesProcessed (in), nTuplesSubmitted (out).
struct OpCounts {
	std::vector<int64_t> in, out;
};

// The operators of the composite for a channel count, in the order counts() reports them.
std::vector<OpModel> toolkitOperators(int channels);

class Toolkit {
public:
	Toolkit(std::mutex &mu, ToolkitConfig cfg, ToolkitOutputs out, TruthLog &truth, TraceWriter &trace);
	~Toolkit();
	Toolkit(const Toolkit &) = delete;
	Toolkit &operator=(const Toolkit &) = delete;

	// The PE started: opens the receivers' ports and starts the Beacon (first tick after initDelay) and the senders.
	// A port that cannot be opened is traced and written to the truth log; the rest runs.
	void start();
	// Lock held. The PE is gone: nothing is received, sent or ticked from now on.
	void requestStop();
	// Lock NOT held. Closes the ports and joins the threads (after requestStop()).
	void join();

	// Lock held. The composite's inputs: SerializedDataSnapshotMessage (a serialized type-2 message from the
	// application) and SpecialMessage ("OrderlyShutdown", "SendMeDataFromSnapshotFiles").
	void serializedSnapshot(const std::string &bytes);
	void specialMessage(const std::string &msg);

	// Lock held.
	std::vector<OpCounts> counts() const { return counts_; }
	const ToolkitConfig &config() const { return cfg_; }
	bool remoteActive() const { return wdActive_; }

private:
	struct Outgoing {
		std::string bytes;
		HbMessage msg;
	};
	struct Sender {
		int op = 0;                 // operator index
		uint16_t port = 0;
		std::string path;
		std::deque<Outgoing> queue;
		std::thread thread;
	};

	void beaconLoop();
	void senderLoop(Sender &s);
	void onHeartbeatPost(const std::string &body, const std::map<std::string, std::string> &headers);
	void onChannelPost(int k, const std::string &body, const std::map<std::string, std::string> &headers);
	// Lock held, below.
	void preparerTick();
	void watchdogTick();
	void emitStatus(bool active, const std::string &cause);
	void preparerOnStatus(bool active);
	void storeOnStatus(bool active);
	void sendNonHeartbeat(const HbMessage &m); // the preparer's output 1, to Sender2
	void sendBytes(const std::string &bytes, const HbMessage &m); // Sender2, round robin over the channels
	void toMerger(const HbMessage &m);
	void sendSnapshotFilesData();
	void deleteSnapshotFiles(const std::string &cause);
	void traceBlob(int op, const char *aspect, const std::string &body,
		       const std::map<std::string, std::string> &headers);
	void trace(TraceLevel l, int op, const char *aspect, const std::string &msg);

	std::mutex &mu_;
	ToolkitConfig cfg_;
	ToolkitOutputs out_;
	TruthLog &truth_;
	TraceWriter &trace_;
	std::vector<OpModel> ops_;
	std::vector<OpCounts> counts_;
	std::condition_variable cv_;
	bool stop_ = false;
	bool started_ = false;

	// Operator indexes into ops_/counts_.
	int iBeacon_ = 0, iPrep_ = 0, iS1_ = 0, iS2_ = 0, iResp_ = 0, iHbRx_ = 0, iHbWd_ = 0, iRx_ = 0, iStore_ = 0,
	    iFiles_ = 0, iMerger_ = 0;

	// HeartbeatMessagePreparer.
	uint64_t hbCnt_ = 1;
	bool sensedBefore_ = false, prepRemoteActive_ = false, startedJustNow_ = true, prepShutdown_ = false;
	bool suppressed_ = false; // for the truth log only: heartbeats are being skipped
	// RemoteDataCenterHeartbeatWatchdog.
	int missed_ = 0;
	bool wdActive_ = false, wdShutdown_ = false;
	int64_t lastHbRealNs_ = 0;
	uint64_t ticks_ = 0;
	// RemoteDataCenterWatchdog.
	std::map<std::string, bool> stored_; // snapshot names ("dc1-0") received in this launch
	bool storeShutdown_ = false;
	int nextChannel_ = 0;

	std::vector<std::unique_ptr<Sender>> senders_; // [0] = Sender1, [1 + k] = Sender2[k]
	std::unique_ptr<BlobReceiver> hbRx_;
	std::vector<std::unique_ptr<BlobReceiver>> rx_;
	std::thread beacon_;
	int64_t startMono_ = 0;
};

} // namespace xdc::emu
