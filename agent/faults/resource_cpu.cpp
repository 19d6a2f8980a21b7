// SPDX-License-Identifier: Apache-2.0
// resource.cpu with forked busy workers.
#include "agent/faults/resource_cpu.h"

#include <time.h>

#include "agent/faults/undo.h"
#include "agent/faults/worker.h"
#include "common/clock.h"

namespace xdc::agent {

namespace {

constexpr int64_t kPeriodNs = 10 * 1000 * 1000;

int64_t nowNs()
{
	struct timespec ts;
	::clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The worker: async-signal-safe calls only (it is a fork of a multithreaded process without exec).
[[noreturn]] void burn(void *arg)
{
	const int percent = static_cast<int>(reinterpret_cast<intptr_t>(arg));
	const int64_t busy = kPeriodNs * percent / 100;
	int64_t periodStart = nowNs();
	volatile uint64_t sink = 0;
	while (true) {
		while (nowNs() - periodStart < busy)
			sink = sink + 1;
		if (busy < kPeriodNs) {
			// Sleep to the end of this period on absolute time, so the duty cycle does not drift.
			const int64_t end = periodStart + kPeriodNs;
			struct timespec ts;
			ts.tv_sec = end / 1000000000;
			ts.tv_nsec = end % 1000000000;
			while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
			}
		}
		periodStart += kPeriodNs;
		// Late (preempted): start afresh instead of catching up with a burst.
		if (nowNs() - periodStart > kPeriodNs)
			periodStart = nowNs();
	}
}

} // namespace

ResourceCpu::ResourceCpu(std::string id, int workers, int cpuPercent)
	: id_(std::move(id)), name_(("xdc-cpu-" + id_).substr(0, 15)), workers_(workers), percent_(cpuPercent)
{
}

std::string ResourceCpu::mechanism() const
{
	return fmt::format("{} forked worker process(es) '{}' burning {}% of one CPU each (10 ms duty cycle), killed "
			   "with the agent (PR_SET_PDEATHSIG)", workers_, name_, percent_);
}

std::vector<std::string> ResourceCpu::plan() const
{
	return {fmt::format("fork {} x '{}': busy {} ms, sleep {} ms, every 10 ms", workers_, name_, percent_ / 10.0,
			    (100 - percent_) / 10.0)};
}

Undo ResourceCpu::undo() const { return Undo::array({{{"op", "kill"}, {"pids", pidList(pids_)}}}); }

Result<std::string> ResourceCpu::apply()
{
	for (int i = 0; i < workers_; i++) {
		auto w = forkWorker(name_, burn, reinterpret_cast<void *>(static_cast<intptr_t>(percent_)));
		if (!w) {
			(void)killWorkers(pids_);
			pids_.clear();
			return w.error().context(fmt::format("cannot start cpu worker {} of {}", i + 1, workers_));
		}
		pids_.push_back(*w);
	}
	undoChanged = true;
	// Read back: every worker alive under its name and actually getting CPU time.
	std::vector<uint64_t> base;
	for (const auto &[pid, start] : pids_)
		base.push_back(cpuTimeNs(pid).value_or(0));
	std::vector<std::string> lines;
	const int64_t deadline = clk::monoNs() + 2 * clk::kSec;
	for (size_t i = 0; i < pids_.size(); i++) {
		const auto [pid, start] = pids_[i];
		std::optional<ProcStat> st;
		uint64_t used = 0;
		while (true) {
			st = readProcStat(pid);
			auto t = cpuTimeNs(pid);
			used = t && *t > base[i] ? *t - base[i] : 0;
			if (!st || st->state == 'Z' || used > 0 || clk::monoNs() >= deadline)
				break;
			::usleep(5000);
		}
		if (!st || st->state == 'Z' || st->comm != name_ || used == 0) {
			const std::string why = !st || st->state == 'Z' ? "it is gone"
						: st->comm != name_ ? "its name is '" + st->comm + "'"
								    : "it got no CPU time within 2 s";
			(void)killWorkers(pids_);
			pids_.clear();
			return makeError(Errc::Io, "cpu worker pid {} is not running: {}", pid, why);
		}
		lines.push_back(fmt::format("pid {} {} state {} cpu {} us", pid, st->comm, st->state, used / 1000));
	}
	return fmt::format("{} worker(s) at {}%: {}", pids_.size(), percent_, fmt::join(lines, "; "));
}

Result<void> ResourceCpu::revert()
{
	auto r = killWorkers(pids_);
	if (!r)
		return r;
	// The journal's step is the same kill; run it too so revert and guard share one definition of "gone".
	return runUndo(undo());
}

} // namespace xdc::agent
