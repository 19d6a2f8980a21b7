// SPDX-License-Identifier: Apache-2.0
// A fault the agent can put in place and take away again. One file per kind implements Fault; makeFault() picks it.
#pragma once

#include <cstdint>
#include <climits>
#include <memory>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/fault/spec.h"
#include "common/result.h"

namespace xdc::agent {

// Agent-wide settings the faults obey (from the agent's config), and what they must never touch.
struct FaultEnv {
	std::string stateDir;
	std::string exemptAddr;          // the controller's address: never blocked, delayed or shaped
	int exemptPort = 0;
	std::string mgmtIface;           // the interface the controller is reached through: never shaped
	bool haveNetem = false;          // the kernel has sch_netem (capability qdisc.netem)
	size_t processMatchCap = 64;     // a process match larger than this is refused
	std::string streamsPePattern = "^streams-pec"; // preset "streams-pe": regex over the process name (comm)
	std::vector<std::string> diskFillAllow = {"/var/tmp"}; // resource.disk_fill only below these directories
	uint64_t diskFillMaxBytes = 10ull << 30;          // and never more than this
	double memoryMaxFraction = 0.9;  // resource.memory holds at most this share of MemAvailable
	std::vector<pid_t> protectedPids; // never signalled: the controller, sshd, ... (PID 1, the agent and its
					  // ancestors are always protected)
};

// One fault to put in place on this host.
struct FaultRequest {
	std::string id;
	fault::FaultSpec spec;           // parsed and validated by fault::parseSpec
	std::vector<std::string> peers;  // network faults: peer addresses/CIDRs the controller resolved
	int64_t ttlMs = 0;
};

// Undo steps: a JSON array of {"op": ..., ...} objects that remove every trace of a fault without the Fault object
// (journal, guard, start-up recovery). See agent/faults/undo.h for the ops.
using Undo = nlohmann::json;

class Fault {
public:
	virtual ~Fault() = default;
	virtual std::string_view kind() const = 0;
	// How the fault is carried out, in words for reports ("nft table inet xdc_f1 with set timeouts").
	virtual std::string mechanism() const = 0;
	// The exact actions apply() takes, for --dry-run and the journal. No side effects. Valid after prepare().
	virtual std::vector<std::string> plan() const = 0;
	// Checks the request against this host without changing anything (memory available, the processes a match
	// selects, the fill path) and fixes what apply() will act on. Errors name the spec field.
	[[nodiscard]] virtual Result<void> prepare() { return success(); }
	// The steps that remove the fault; journaled (fsynced) before apply() and again after it. Must cover a partial
	// apply.
	virtual Undo undo() const = 0;
	// Before a synchronised start's instant (after the journal is written): puts in place whatever does not take
	// effect yet, so that apply() at the instant makes only the last, smallest change (the nft kinds commit their
	// table with empty peer sets). Optional: a kind without it does everything in apply(). On failure it leaves
	// nothing behind.
	[[nodiscard]] virtual Result<void> stage() { return success(); }
	// Puts the fault in place and reads it back; fails unless the read-back shows it in effect. Returns the
	// read-back. On failure it leaves nothing behind.
	[[nodiscard]] virtual Result<std::string> apply() = 0;
	// Removes every trace of the fault and verifies that it is gone. Idempotent.
	[[nodiscard]] virtual Result<void> revert() = 0;
	// Periodic work while in place (process.kill with `every`): the monotonic time it is next due, and the work.
	virtual int64_t nextWork() const { return INT64_MAX; }
	virtual void work(int64_t /*nowMono*/) {}
	// Set when the undo steps changed (e.g. new worker pids) and the journal must be rewritten.
	bool undoChanged = false;
	// Set by apply() to the wall time the kernel change took effect, before its read-back; 0 = when apply()
	// returned.
	int64_t effectiveNs = 0;
	// Set by revert() likewise: when the fault stopped being in effect, before the read-back that verifies it;
	// 0 = when revert() returned.
	int64_t revertEffectiveNs = 0;
};

// Builds the Fault for a request (kind from spec.kind). Errors: Unsupported for kinds this host cannot do (netem
// kinds without sch_netem: "kernel lacks sch_netem"), Invalid for parameters this host refuses.
Result<std::unique_ptr<Fault>> makeFault(const FaultRequest &req, const FaultEnv &env);

} // namespace xdc::agent
