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
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "agent/faults/network_partition.h"
#include "common/clock.h"
#include "common/log.h"

namespace xdc::agent {

using namespace xdc::proto;

FaultManager::FaultManager(FaultManagerOptions o) : opt_(std::move(o))
{
	::mkdir((opt_.stateDir + "/faults").c_str(), 0700);
}

std::string FaultManager::journalPath(const std::string &id) const
{
	return opt_.stateDir + "/faults/" + faultTable(id) + ".json";
}

Result<void> FaultManager::journal(const std::string &id, const std::string &text)
{
	// Written and fsynced before the kernel is touched: a crash between the two leaves a record to revert from.
	const std::string path = journalPath(id), tmp = path + ".tmp";
	int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return makeError(Errc::Io, "journal {}: {}", tmp, strerror(errno));
	bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
	::close(fd);
	if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0)
		return makeError(Errc::Io, "journal {}: {}", path, strerror(errno));
	int dfd = ::open((opt_.stateDir + "/faults").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		::fsync(dfd);
		::close(dfd);
	}
	return success();
}

std::vector<std::string> FaultManager::recover()
{
	std::vector<std::string> cleaned;
	auto lg = log::get("faults");
	if (DIR *d = ::opendir((opt_.stateDir + "/faults").c_str())) {
		while (dirent *e = ::readdir(d)) {
			std::string n = e->d_name;
			if (n.size() < 6 || n.substr(n.size() - 5) != ".json")
				continue;
			const std::string table = n.substr(0, n.size() - 5);
			if (auto r = deleteFaultTable(table); r)
				cleaned.push_back(table + " (journal)");
			else
				lg->error("cannot revert journaled fault {}: {}", table, r.error().message);
			::unlink((opt_.stateDir + "/faults/" + n).c_str());
		}
		::closedir(d);
	}
	if (auto tables = listFaultTables(); tables) {
		for (const auto &t : *tables) {
			if (auto r = deleteFaultTable(t); r)
				cleaned.push_back(t);
			else
				lg->error("cannot remove leftover table {}: {}", t, r.error().message);
		}
	}
	return cleaned;
}

Result<FaultApplyReply> FaultManager::apply(const FaultApplyArgs &args)
{
	FaultApplyReply rep;
	rep.id = args.id;
	rep.requestedNs = clk::wallNs();
	if (args.id.empty())
		return makeError(Errc::Invalid, "fault id: empty");
	if (args.kind != "network.partition")
		return makeError(Errc::Unsupported, "kind '{}' is not implemented by this agent yet", args.kind);
	if (args.durationMs > opt_.maxDurationMs)
		return makeError(Errc::Invalid, "duration: {} ms exceeds this agent's cap of {} ms", args.durationMs,
				 opt_.maxDurationMs);
	if (faults_.count(args.id) && !args.dryRun)
		return makeError(Errc::Exists, "fault '{}' is already in place", args.id);
	PartitionParams p;
	p.peers = args.peers;
	p.direction = args.direction;
	p.action = args.action;
	p.ttlMs = args.durationMs;
	p.exemptAddr = opt_.exemptAddr;
	p.exemptPort = opt_.exemptPort;
	XDC_TRY(NetworkPartition::validate(p));
	auto fault = std::make_unique<NetworkPartition>(args.id, p);
	rep.mechanism = fault->mechanism();
	rep.plan = fault->plan();
	if (args.dryRun)
		return rep;
	// Another fault's table already blocking these peers would make the two overlap: refused rather than composed
	// until composition is defined per kind (the Faults issue).
	for (const auto &[id, e] : faults_)
		if (e.info.kind == args.kind)
			return makeError(Errc::Refused, "fault '{}' ({}) is already in place on this host; revert it first or "
					 "combine the peers into one fault", id, e.info.kind);
	const int64_t expiresWall = rep.requestedNs + args.durationMs * clk::kMs;
	nlohmann::json j = {{"id", args.id}, {"kind", args.kind}, {"table", fault->table()}, {"spec", args.spec},
			    {"expires_ns", expiresWall}, {"peers", args.peers}};
	XDC_TRY(journal(args.id, j.dump(2)));
	auto applied = fault->apply();
	rep.appliedNs = clk::wallNs();
	if (!applied) {
		::unlink(journalPath(args.id).c_str());
		return applied.error().context(fmt::format("Failed to apply '{}'", args.kind));
	}
	rep.verifiedNs = clk::wallNs();
	rep.readback = *applied;
	rep.expiresNs = rep.verifiedNs + args.durationMs * clk::kMs;
	Entry e;
	e.info = {args.id, args.kind, rep.mechanism, rep.verifiedNs, rep.expiresNs};
	e.expiresMono = clk::monoNs() + args.durationMs * clk::kMs;
	e.fault = std::move(fault);
	faults_[args.id] = std::move(e);
	log::get("faults")->info("applied {} '{}' for {} ms: {}", args.kind, args.id, args.durationMs, rep.mechanism);
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
		auto r = it->second.fault->revert();
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
	for (const auto &[id, e] : faults_)
		if (nowMono >= e.expiresMono)
			due.push_back(id);
	for (const auto &id : due)
		revert(id, "duration elapsed");
}

int64_t FaultManager::nextDeadline() const
{
	int64_t next = INT64_MAX;
	for (const auto &[id, e] : faults_)
		next = std::min(next, e.expiresMono);
	return next;
}

} // namespace xdc::agent
