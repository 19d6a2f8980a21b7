// SPDX-License-Identifier: Apache-2.0
// resource.memory with a forked holder process.
#include "agent/faults/resource_memory.h"

#include <fstream>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/faults/undo.h"
#include "agent/faults/fault_manager.h"
#include "agent/faults/worker.h"
#include "common/clock.h"

namespace xdc::agent {

namespace {

// The holder: async-signal-safe calls only. Exit codes tell the parent why it could not hold the memory.
[[noreturn]] void hold(void *arg)
{
	const size_t bytes = *static_cast<const size_t *>(arg);
	// MAP_POPULATE allocates the pages up front; the writes below make sure each is a private page of its own
	// (not the shared zero page) whatever the kernel's populate does.
	void *p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		::_exit(3);
	const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
	volatile char *c = static_cast<volatile char *>(p);
	for (size_t off = 0; off < bytes; off += page)
		c[off] = 1;
	while (true)
		::pause();
}

} // namespace

Result<uint64_t> memAvailable()
{
	std::ifstream f("/proc/meminfo");
	std::string key;
	uint64_t kb = 0;
	std::string unit;
	while (f >> key >> kb) {
		std::getline(f, unit);
		if (key == "MemAvailable:")
			return kb * 1024;
	}
	return makeError(Errc::Unsupported, "/proc/meminfo has no MemAvailable");
}

ResourceMemory::ResourceMemory(std::string id, uint64_t bytes, double maxFraction)
	: id_(std::move(id)), name_(("xdc-mem-" + id_).substr(0, 15)), bytes_(bytes), maxFraction_(maxFraction)
{
}

std::string ResourceMemory::mechanism() const
{
	return fmt::format("forked process '{}' holding {} bytes of written anonymous memory, killed with the agent "
			   "(PR_SET_PDEATHSIG)", name_, bytes_);
}

std::vector<std::string> ResourceMemory::plan() const
{
	return {fmt::format("fork '{}': mmap {} bytes (MAP_POPULATE), write every page, pause", name_, bytes_)};
}

Result<void> ResourceMemory::prepare()
{
	auto avail = memAvailable();
	XDC_TRY(avail);
	availableAtPrepare_ = *avail;
	const auto cap = static_cast<uint64_t>(static_cast<double>(*avail) * maxFraction_);
	if (bytes_ > cap)
		return makeError(Errc::Invalid,
				 "bytes: {} bytes is more than this host allows ({} bytes: {:.0f}% of MemAvailable {} "
				 "bytes, agent setting faults.memory_max_percent)",
				 bytes_, cap, maxFraction_ * 100, *avail);
	return success();
}

Undo ResourceMemory::undo() const
{
	std::vector<std::pair<int, uint64_t>> pids;
	if (pid_.first > 0)
		pids.push_back(pid_);
	return Undo::array({{{"op", "kill"}, {"pids", pidList(pids)}}});
}

Result<std::string> ResourceMemory::apply()
{
	size_t bytes = static_cast<size_t>(bytes_);
	// The child starts with the agent's own anonymous pages (copy on write, counted in its RSS too): what it holds
	// is what it has beyond those. Under a large parent (a sanitizer build) the plain RSS would pass at once.
	const uint64_t inheritedKb = statusKb(::getpid(), "RssAnon").value_or(0);
	// The child gets its own copy of the address space, so &bytes stays valid for it after fork.
	auto w = forkWorker(name_, hold, &bytes);
	if (!w)
		return w.error().context("cannot start the memory holder");
	pid_ = *w;
	undoChanged = true;
	// Read back: the holder's resident set reaches the size (writing 1 GiB of pages takes well under a second;
	// the deadline allows for a busy host).
	const uint64_t wantKb = bytes_ / 1024;
	const int64_t deadline = clk::monoNs() + std::max<int64_t>(5, static_cast<int64_t>(bytes_ >> 28)) * clk::kSec;
	uint64_t rssKb = 0, heldKb = 0;
	while (true) {
		int status = 0;
		if (::waitpid(pid_.first, &status, WNOHANG) == pid_.first) {
			const bool mapFailed = WIFEXITED(status) && WEXITSTATUS(status) == 3;
			pid_ = {0, 0};
			return makeError(Errc::Io, "the memory holder ended before holding {} bytes ({})", bytes_,
					 mapFailed ? "mmap failed"
					 : WIFSIGNALED(status) ? fmt::format("killed by signal {}, likely the OOM killer",
									     WTERMSIG(status))
							       : fmt::format("exit {}", WEXITSTATUS(status)));
		}
		rssKb = statusKb(pid_.first, "VmRSS").value_or(0);
		const uint64_t anonKb = statusKb(pid_.first, "RssAnon").value_or(0);
		heldKb = anonKb > inheritedKb ? anonKb - inheritedKb : 0;
		if (heldKb >= wantKb * 9 / 10 || clk::monoNs() >= deadline)
			break;
		::usleep(5000);
		keepAlive();
	}
	if (heldKb < wantKb * 9 / 10) {
		(void)killWorkers({pid_});
		pid_ = {0, 0};
		return makeError(Errc::Io, "the memory holder holds {} kB of its own (VmRSS {} kB), short of {} kB after "
				 "the deadline", heldKb, rssKb, wantKb);
	}
	const uint64_t after = memAvailable().valueOr(0);
	return fmt::format("pid {} {} VmRSS {} kB (held {} bytes); MemAvailable {} -> {} bytes", pid_.first, name_,
			   rssKb, bytes_, availableAtPrepare_, after);
}

Result<void> ResourceMemory::revert()
{
	if (pid_.first > 0)
		XDC_TRY(killWorkers({pid_}));
	return runUndo(undo());
}

} // namespace xdc::agent
