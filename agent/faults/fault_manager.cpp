// SPDX-License-Identifier: Apache-2.0
// Fault lifecycle on the agent.
#include "agent/faults/fault_manager.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "agent/faults/network_partition.h"
#include "agent/faults/undo.h"
#include "common/clock.h"
#include "common/log.h"

namespace xdc::agent {

namespace {
std::function<void()> &keepAliveFn()
{
	static std::function<void()> fn;
	return fn;
}
} // namespace

void setKeepAlive(std::function<void()> fn) { keepAliveFn() = std::move(fn); }

void keepAlive()
{
	if (keepAliveFn())
		keepAliveFn()();
}


using namespace xdc::proto;

FaultManager::FaultManager(FaultManagerOptions o) : opt_(std::move(o))
{
	const std::string dir = opt_.env.stateDir + "/faults";
	::mkdir(dir.c_str(), 0700);
	// The journal directory's own entry is made durable once; each record is synced as it is written.
	int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		::fsync(dfd);
		::close(dfd);
	}
}

std::string FaultManager::journalPath(const std::string &id) const
{
	return opt_.env.stateDir + "/faults/" + faultTable(id) + ".json";
}

Result<void> FaultManager::journal(const std::string &id, const Entry &e, int64_t expiresWall)
{
	// Written and fsynced before the kernel is touched: a crash between the two leaves a record to revert from.
	// The guard process and the next start read it (expires_ns: when the guard removes it; undo: how).
	nlohmann::json j = {{"id", id}, {"kind", e.info.kind}, {"spec", e.spec}, {"expires_ns", expiresWall},
			    {"undo", e.fault->undo()}};
	const std::string text = j.dump(1);
	const std::string path = journalPath(id), tmp = path + ".tmp";
	int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return makeError(Errc::Io, "journal {}: {}", tmp, strerror(errno));
	// fdatasync of the record, then an atomic rename: a killed agent (the case that matters: the kernel keeps our
	// rules) always leaves a whole record. The directory itself is synced once at start-up, not per fault: after a
	// power loss the kernel's rules are gone anyway and the record only matters for fill files.
	bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fdatasync(fd) == 0;
	::close(fd);
	if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0)
		return makeError(Errc::Io, "journal {}: {}", path, strerror(errno));
	return success();
}

std::vector<std::string> FaultManager::recover()
{
	std::vector<std::string> cleaned;
	auto lg = log::get("faults");
	const std::string dir = opt_.env.stateDir + "/faults";
	if (DIR *d = ::opendir(dir.c_str())) {
		while (dirent *e = ::readdir(d)) {
			std::string n = e->d_name;
			if (n.size() < 6 || n.substr(n.size() - 5) != ".json")
				continue;
			std::ifstream f(dir + "/" + n);
			std::stringstream ss;
			ss << f.rdbuf();
			auto j = nlohmann::json::parse(ss.str(), nullptr, false);
			if (j.is_discarded() || !j.contains("undo")) {
				lg->error("journal entry {} is unreadable; removing it (the sweep below still runs)", n);
			} else if (auto r = runUndo(j["undo"]); r) {
				cleaned.push_back(fmt::format("{} ({}, journal)", j.value("id", n), j.value("kind", "?")));
			} else {
				lg->error("cannot revert journaled fault {}: {}", j.value("id", n), r.error().message);
				continue; // keep the record: the guard or the next start tries again
			}
			::unlink((dir + "/" + n).c_str());
		}
		::closedir(d);
	}
	for (auto &c : sweepOwnObjects())
		cleaned.push_back(c);
	return cleaned;
}

Result<FaultApplyReply> FaultManager::apply(const FaultApplyArgs &args)
{
	FaultApplyReply rep;
	rep.id = args.id;
	rep.requestedNs = clk::wallNs();
	if (args.id.empty())
		return makeError(Errc::Invalid, "fault id: empty");
	fault::Limits limits;
	limits.maxDuration = std::chrono::milliseconds(opt_.maxDurationMs);
	auto spec = fault::parseSpecText(args.spec, "fault " + args.id, limits);
	if (!spec)
		return spec.error();
	FaultRequest req;
	req.id = args.id;
	req.spec = *spec;
	req.peers = args.peers;
	req.ttlMs = args.durationMs > 0 ? args.durationMs
					: std::chrono::duration_cast<std::chrono::milliseconds>(spec->duration).count();
	if (req.ttlMs > opt_.maxDurationMs)
		return makeError(Errc::Invalid, "duration: {} ms exceeds this agent's cap of {} ms", req.ttlMs,
				 opt_.maxDurationMs);
	if (faults_.count(args.id) && !args.dryRun)
		return makeError(Errc::Exists, "fault '{}' is already in place", args.id);
	const std::string kind(fault::kindName(spec->kind));
	// Faults of different kinds compose (delay + loss, partition + cpu); two of one kind on a host would fight
	// over the same rules or processes, and two on the NFQUEUE line would hide one another (fault::stackable), so
	// the second is refused, never allowed to replace the first.
	for (const auto &[id, e] : faults_) {
		auto other = fault::kindFromName(e.info.kind);
		if (args.dryRun || !other || fault::stackable(*other, spec->kind))
			continue;
		return makeError(Errc::Refused, "kind: fault '{}' ({}) is already in place on this host; {}", id,
				 e.info.kind, fault::unstackableReason(*other, spec->kind));
	}
	auto made = makeFault(req, opt_.env);
	if (!made)
		return made.error();
	auto fault = std::move(*made);
	XDC_TRY(fault->prepare());
	rep.mechanism = fault->mechanism();
	rep.plan = fault->plan();
	if (args.dryRun)
		return rep;

	int64_t waitNs = 0;
	if (args.startAtNs > 0) {
		waitNs = args.startAtNs - clk::wallNs();
		if (waitNs > opt_.maxStartAheadMs * clk::kMs)
			return makeError(Errc::Invalid, "start: {} ms ahead exceeds the {} ms limit", waitNs / clk::kMs,
					 opt_.maxStartAheadMs);
	}
	Entry e;
	e.info.id = args.id;
	e.info.kind = kind;
	e.spec = args.spec;
	e.fault = std::move(fault);
	const int64_t startWall = rep.requestedNs + std::max<int64_t>(0, waitNs);
	XDC_TRY(journal(args.id, e, startWall + req.ttlMs * clk::kMs));
	int64_t wokeLateNs = 0, wokeWall = 0;
	if (waitNs > 0) {
		// Everything that takes no effect yet goes in before the instant, so that the instant's change is the
		// smallest one (docs/PERFORMANCE.md, synchronised start).
		if (auto st = e.fault->stage(); !st) {
			::unlink(journalPath(args.id).c_str());
			return st.error().context(fmt::format("Failed to stage '{}'", kind));
		}
		// Synchronised start: sleep on the monotonic clock to the agreed instant (converted once, here).
		// Slept to the instant itself: the agent runs with a 1 ns timer slack (main.cpp), so the wake-up is as
		// punctual as the scheduler allows. (Spinning the last stretch was tried: with several agents per core,
		// as in the lab, the spinners delay the others.)
		const int64_t target = clk::monoNs() + (args.startAtNs - clk::wallNs());
		// Long waits in slices, heartbeating between them; the last slice sleeps to the instant itself.
		while (target - clk::monoNs() > 150 * clk::kMs) {
			::usleep(100000);
			keepAlive();
		}
		struct timespec ts;
		ts.tv_sec = target / clk::kSec;
		ts.tv_nsec = target % clk::kSec;
		while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
		}
		wokeLateNs = clk::monoNs() - target;
		wokeWall = clk::wallNs();
	}
	auto applied = e.fault->apply();
	rep.appliedNs = e.fault->effectiveNs > 0 ? e.fault->effectiveNs : clk::wallNs();
	if (args.startAtNs > 0)
		rep.lateNs = std::max<int64_t>(0, rep.appliedNs - args.startAtNs);
	if (wokeWall > 0 && applied)
		// Where a synchronised start's lateness goes (bench/fault_bench reads this line).
		log::get("faults")->info("synchronised start of '{}': woke {} us after the instant, in effect {} us later",
					 args.id, wokeLateNs / 1000, (rep.appliedNs - wokeWall) / 1000);
	if (!applied) {
		::unlink(journalPath(args.id).c_str());
		return applied.error().context(fmt::format("Failed to apply '{}'", kind));
	}
	rep.verifiedNs = clk::wallNs();
	rep.readback = *applied;
	rep.expiresNs = rep.appliedNs + req.ttlMs * clk::kMs;
	e.info.mechanism = rep.mechanism;
	e.info.appliedNs = rep.appliedNs;
	e.info.expiresNs = rep.expiresNs;
	e.info.spec = args.spec;
	e.expiresMono = clk::monoNs() - (rep.verifiedNs - rep.appliedNs) + req.ttlMs * clk::kMs;
	if (e.fault->undoChanged) {
		e.fault->undoChanged = false;
		if (auto j = journal(args.id, e, rep.expiresNs); !j)
			log::get("faults")->error("journal rewrite for '{}': {}", args.id, j.error().message);
	}
	faults_[args.id] = std::move(e);
	log::get("faults")->info("applied {} '{}' for {} ms: {}", kind, args.id, req.ttlMs, rep.mechanism);
	if (observer_) {
		Sample s;
		s.kind = "fault";
		s.source = args.id;
		s.wallNs = rep.appliedNs;
		s.monoNs = clk::monoNs() - (clk::wallNs() - rep.appliedNs);
		s.values = {{"requested_ns", static_cast<double>(rep.requestedNs)},
			    {"applied_ns", static_cast<double>(rep.appliedNs)},
			    {"verified_ns", static_cast<double>(rep.verifiedNs)},
			    {"expires_ns", static_cast<double>(rep.expiresNs)},
			    {"late_ns", static_cast<double>(rep.lateNs)}};
		s.tags = {{"event", "applied"}, {"fault_kind", kind}, {"mechanism", rep.mechanism},
			  {"readback", rep.readback.substr(0, 4000)}, {"spec", args.spec.substr(0, 2000)}};
		observer_(std::move(s));
	}
	return rep;
}

FaultRevertReply FaultManager::revert(const std::string &id, const std::string &why)
{
	FaultRevertReply rep;
	auto lg = log::get("faults");
	for (auto it = faults_.begin(); it != faults_.end();) {
		if (id != "*" && it->first != id) {
			++it;
			continue;
		}
		const int64_t startedNs = clk::wallNs();
		const int64_t startedMono = clk::monoNs();
		const std::string kind = it->second.info.kind;
		it->second.fault->revertEffectiveNs = 0;
		auto r = it->second.fault->revert();
		if (observer_) {
			const int64_t verifiedNs = clk::wallNs();
			const int64_t effective = it->second.fault->revertEffectiveNs;
			Sample s;
			s.kind = "fault";
			s.source = it->first;
			s.wallNs = startedNs;
			s.monoNs = startedMono;
			s.values = {{"revert_started_ns", static_cast<double>(startedNs)},
				    {"reverted_ns", static_cast<double>(effective > 0 ? effective : verifiedNs)},
				    {"verified_ns", static_cast<double>(verifiedNs)}};
			s.tags = {{"event", r ? "reverted" : "revert_failed"}, {"fault_kind", kind}, {"why", why}};
			if (!r)
				s.tags["error"] = r.error().message;
			observer_(std::move(s));
		}
		if (r) {
			rep.reverted.push_back(it->first);
			::unlink(journalPath(it->first).c_str());
			lg->info("reverted '{}' ({}), verified gone", it->first, why);
			it = faults_.erase(it);
		} else {
			rep.unverified.push_back(it->first + ": " + r.error().message);
			lg->error("revert of '{}' ({}) not verified: {}", it->first, why, r.error().message);
			++it;
		}
	}
	rep.verifiedNs = clk::wallNs();
	return rep;
}

FaultListReply FaultManager::list() const
{
	FaultListReply l;
	for (const auto &[id, e] : faults_)
		l.faults.push_back(e.info);
	return l;
}

void FaultManager::tick(int64_t nowMono, int64_t controllerSilentNs, int64_t leaseNs)
{
	if (faults_.empty())
		return;
	if (controllerSilentNs > leaseNs) {
		revert("*", fmt::format("lease expired: no word from the controller for {} ms", controllerSilentNs / clk::kMs));
		return;
	}
	std::vector<std::string> due;
	for (auto &[id, e] : faults_) {
		if (nowMono >= e.expiresMono) {
			due.push_back(id);
			continue;
		}
		if (nowMono >= e.fault->nextWork()) {
			e.fault->work(nowMono);
			if (e.fault->undoChanged) {
				e.fault->undoChanged = false;
				if (auto j = journal(id, e, e.info.expiresNs); !j)
					log::get("faults")->error("journal rewrite for '{}': {}", id, j.error().message);
			}
		}
	}
	for (const auto &id : due)
		revert(id, "duration elapsed");
}

int64_t FaultManager::nextDeadline() const
{
	int64_t next = INT64_MAX;
	for (const auto &[id, e] : faults_)
		next = std::min({next, e.expiresMono, e.fault->nextWork()});
	return next;
}

} // namespace xdc::agent
