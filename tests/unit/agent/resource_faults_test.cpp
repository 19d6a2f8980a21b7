// SPDX-License-Identifier: Apache-2.0
// The resource faults without a lab: disk-fill refusals and a real fill in a temporary directory, cpu workers and
// the memory holder forked from the test process and taken away again.
#include <doctest/doctest.h>

#include <climits>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/clock.h"
#include "agent/faults/resource_cpu.h"
#include "agent/faults/resource_disk_fill.h"
#include "agent/faults/resource_memory.h"
#include "agent/faults/worker.h"
#include "common/sys/process.h"

using namespace xdc;
using namespace xdc::agent;

namespace {

struct Tmp {
	std::string path;
	Tmp()
	{
		char t[] = "/tmp/xdc-unit-XXXXXX";
		path = ::mkdtemp(t);
	}
	~Tmp()
	{
		(void)sys::run({"rm", "-rf", path});
	}
};

DiskFillParams fillParams(const std::string &path, const std::string &allow)
{
	DiskFillParams p;
	p.path = path;
	p.bytes = 1 << 20;
	p.allow = {allow};
	p.maxBytes = 64 << 20;
	return p;
}

bool exists(const std::string &p)
{
	struct stat st;
	return ::stat(p.c_str(), &st) == 0;
}

} // namespace

TEST_CASE("disk_fill: the allow-list is checked on the resolved path")
{
	Tmp allowed, other;
	::mkdir((allowed.path + "/sub").c_str(), 0700);
	CHECK(ResourceDiskFill("f1", fillParams(allowed.path + "/sub", allowed.path)).prepare());
	CHECK(ResourceDiskFill("f1", fillParams(allowed.path, allowed.path)).prepare());
	auto out = ResourceDiskFill("f1", fillParams(other.path, allowed.path)).prepare();
	REQUIRE_FALSE(out);
	CHECK(out.error().message.rfind("path:", 0) == 0);
	// A symlink inside the allowed directory that leads out of it is refused.
	REQUIRE(::symlink(other.path.c_str(), (allowed.path + "/link").c_str()) == 0);
	auto link = ResourceDiskFill("f1", fillParams(allowed.path + "/link", allowed.path)).prepare();
	REQUIRE_FALSE(link);
	CHECK(link.error().message.rfind("path:", 0) == 0);
	// A sibling whose name only starts like the allowed one.
	::mkdir((allowed.path + "x").c_str(), 0700);
	auto sib = ResourceDiskFill("f1", fillParams(allowed.path + "x", allowed.path)).prepare();
	::rmdir((allowed.path + "x").c_str());
	CHECK_FALSE(sib);
	CHECK_FALSE(ResourceDiskFill("f1", fillParams(allowed.path + "/missing", allowed.path)).prepare());
}

TEST_CASE("disk_fill: size caps, and a real fill that revert removes")
{
	Tmp d;
	auto p = fillParams(d.path, d.path);
	p.bytes = 65 << 20; // over maxBytes
	auto big = ResourceDiskFill("f2", p).prepare();
	REQUIRE_FALSE(big);
	CHECK(big.error().message.rfind("bytes:", 0) == 0);
	CHECK(big.error().message.find("disk_fill_max") != std::string::npos);
	p.bytes = 1ull << 50; // over the space available
	p.maxBytes = UINT64_MAX;
	auto huge = ResourceDiskFill("f2", p).prepare();
	REQUIRE_FALSE(huge);
	CHECK(huge.error().message.rfind("bytes:", 0) == 0);
	// free_percent at or above what is free now: nothing to fill, refused naming the field.
	struct statvfs v;
	REQUIRE(::statvfs(d.path.c_str(), &v) == 0);
	const double freeNow = 100.0 * static_cast<double>(v.f_bavail) / static_cast<double>(v.f_blocks);
	if (freeNow < 99) {
		p.bytes = 0;
		p.freePercent = 99;
		p.maxBytes = 64 << 20;
		auto fp = ResourceDiskFill("f2", p).prepare();
		REQUIRE_FALSE(fp);
		CHECK(fp.error().message.rfind("free_percent:", 0) == 0);
	}

	ResourceDiskFill f("f3", fillParams(d.path, d.path));
	REQUIRE(f.prepare());
	CHECK(f.file() == d.path + "/xdc-fill-f3");
	CHECK(f.undo().dump() == "[{\"op\":\"unlink\",\"path\":\"" + f.file() + "\"}]");
	auto r = f.apply();
	REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
	struct stat st;
	REQUIRE(::stat(f.file().c_str(), &st) == 0);
	CHECK(st.st_size == 1 << 20);
	REQUIRE(f.revert());
	CHECK_FALSE(exists(f.file()));
	CHECK(f.revert()); // idempotent
}

TEST_CASE("cpu: workers run under their name, use CPU, and are gone after revert")
{
	ResourceCpu c("u1", 2, 30);
	auto r = c.apply();
	REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
	CHECK(c.undoChanged);
	REQUIRE(c.workers().size() == 2);
	for (const auto &[pid, start] : c.workers()) {
		auto st = readProcStat(pid);
		REQUIRE(st);
		CHECK(st->comm == "xdc-cpu-u1");
		CHECK(sys::processAlive(pid, start));
	}
	CHECK(c.undo()[0]["pids"].size() == 2);
	const auto pids = c.workers();
	REQUIRE(c.revert());
	for (const auto &[pid, start] : pids) {
		CHECK_FALSE(sys::processAlive(pid, start));
		CHECK_FALSE(readProcStat(pid)); // reaped, not a zombie
	}
}

TEST_CASE("memory: held resident, refused over the cap, returned on revert")
{
	auto avail = memAvailable();
	REQUIRE(avail);
	ResourceMemory over("u2", *avail, 0.5);
	auto o = over.prepare();
	REQUIRE_FALSE(o);
	CHECK(o.error().message.rfind("bytes:", 0) == 0);

	ResourceMemory m("u3", 32 << 20, 0.9);
	REQUIRE(m.prepare());
	auto r = m.apply();
	REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
	const pid_t pid = m.pid();
	REQUIRE(pid > 0);
	// apply() returns once 90 % is resident; the holder goes on touching the rest. Wait for all of it, on a deadline.
	const int64_t deadline = clk::monoNs() + 10 * clk::kSec;
	while (statusKb(pid, "VmRSS").value_or(0) < 32 * 1024 && clk::monoNs() < deadline)
		::usleep(5000);
	CHECK(statusKb(pid, "VmRSS").value_or(0) >= 32 * 1024);
	CHECK(readProcStat(pid)->comm == "xdc-mem-u3");
	REQUIRE(m.revert());
	CHECK_FALSE(readProcStat(pid));
}
