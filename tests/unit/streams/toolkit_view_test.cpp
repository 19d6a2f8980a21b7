// SPDX-License-Identifier: Apache-2.0
// The toolkit view's inference: states from snapshots, and events across poll rounds.
#include <doctest/doctest.h>

#include "controller/streams/toolkit_view.h"

#include "tests/unit/unit_util.h"

using namespace xdc::test;
using namespace xdc::streams;

namespace {


// A reachable DC with a running job of `pes` running PEs and the toolkit's metrics.
DcSnapshot dc(const std::string &name, int64_t tMs, int active, int remoteUp, int64_t sink, int pes = 2)
{
	DcSnapshot s;
	s.dc = name;
	s.tNs = tMs * kMs;
	s.reachable = true;
	s.instanceStatus = "running";
	Job j;
	j.id = "0";
	j.name = "CrossDcApp";
	j.status = "running";
	j.health = "healthy";
	s.job = j;
	for (int i = 0; i < pes; ++i) {
		Pe p;
		p.id = std::to_string(i);
		p.status = "running";
		s.pes.push_back(p);
	}
	s.toolkit["isActive"] = active;
	s.toolkit["remoteDataCenterStatus"] = remoteUp;
	s.sinkTuples = sink;
	return s;
}

std::vector<std::string> kinds(const std::vector<ToolkitEvent> &ev)
{
	std::vector<std::string> k;
	for (const auto &e : ev)
		k.push_back(e.kind + ":" + e.dc);
	return k;
}

} // namespace

TEST_CASE("toolkit view: classify")
{
	CHECK(classify(dc("dc1", 0, 1, 1, 10)) == DcState::Active);
	CHECK(classify(dc("dc2", 0, 0, 1, 0)) == DcState::Standby);
	auto s = dc("dc1", 0, 1, 1, 10);
	s.reachable = false;
	CHECK(classify(s) == DcState::Unknown);
	s = dc("dc1", 0, 1, 1, 10);
	for (auto &p : s.pes)
		p.status = "stopped";
	CHECK(classify(s) == DcState::Down);
	s = dc("dc1", 0, 1, 1, 10);
	s.job->status = "canceling";
	CHECK(classify(s) == DcState::Down);
	s = dc("dc1", 0, 1, 1, 10);
	s.toolkit.clear();
	CHECK(classify(s) == DcState::Active);
	s.sinkTuples = 0;
	CHECK(classify(s) == DcState::Standby);
}

TEST_CASE("toolkit view: isolation with stopped PEs gives detection then takeover once output flows")
{
	ToolkitView v;
	CHECK(v.update({dc("dc1", 0, 1, 1, 100), dc("dc2", 0, 0, 1, 0)}).empty());
	CHECK(v.activeDc() == "dc1");
	auto down = dc("dc1", 200, 1, 1, 110);
	for (auto &p : down.pes)
		p.status = "stopped";
	CHECK(kinds(v.update({down, dc("dc2", 200, 0, 1, 0)})) == std::vector<std::string>{"dc_down:dc1"});
	// dc2 declares dc1 down at 400 ms, is active at 600 ms, but its sink only moves at 800 ms.
	auto ev = v.update({down, dc("dc2", 400, 0, 0, 0)});
	REQUIRE(kinds(ev) == std::vector<std::string>{"remote_down:dc2"});
	CHECK(ev[0].tNs == 400 * kMs);
	CHECK(ev[0].sinceNs == 200 * kMs);
	CHECK(v.update({down, dc("dc2", 600, 1, 0, 0)}).empty());
	CHECK(v.state("dc2") == DcState::Active);
	ev = v.update({down, dc("dc2", 800, 1, 0, 12)});
	REQUIRE(kinds(ev) == std::vector<std::string>{"takeover_complete:dc2"});
	CHECK(ev[0].tNs == 800 * kMs);
	CHECK_FALSE(v.splitBrain());
	CHECK(v.activeDc() == "dc2");
}

TEST_CASE("toolkit view: a plain partition is split brain, and healing ends it")
{
	ToolkitView v;
	(void)v.update({dc("dc1", 0, 1, 1, 100), dc("dc2", 0, 0, 1, 0)});
	(void)v.update({dc("dc1", 200, 1, 0, 110), dc("dc2", 200, 0, 0, 0)});
	auto ev = v.update({dc("dc1", 400, 1, 0, 120), dc("dc2", 400, 1, 0, 5)});
	CHECK(kinds(ev) == std::vector<std::string>{"takeover_complete:dc2", "split_brain:dc1,dc2"});
	CHECK(v.splitBrain());
	ev = v.update({dc("dc1", 600, 1, 1, 130), dc("dc2", 600, 0, 1, 5)});
	CHECK(kinds(ev) == std::vector<std::string>{"split_brain_end:dc1"});
	CHECK_FALSE(v.splitBrain());
}

TEST_CASE("toolkit view: orderly shutdown is not a detection and no takeover follows")
{
	ToolkitView v;
	(void)v.update({dc("dc1", 0, 1, 1, 100), dc("dc2", 0, 0, 1, 0)});
	auto gone = dc("dc1", 200, 1, 1, 100);
	gone.job.reset();
	gone.pes.clear();
	auto ev = v.update({gone, dc("dc2", 200, 0, 0, 0)});
	CHECK(kinds(ev) == std::vector<std::string>{"orderly_shutdown:dc1"});
	CHECK(v.update({gone, dc("dc2", 400, 0, 0, 0)}).empty());
	CHECK(v.activeDc().empty());
}

TEST_CASE("toolkit view: a takeover back into the first active DC is a fail-back")
{
	ToolkitView v;
	(void)v.update({dc("dc1", 0, 1, 1, 100), dc("dc2", 0, 0, 1, 0)});
	(void)v.update({dc("dc1", 100, 0, 1, 100), dc("dc2", 100, 1, 1, 0)});
	auto ev = v.update({dc("dc1", 200, 0, 1, 100), dc("dc2", 200, 1, 1, 9)});
	CHECK(kinds(ev) == std::vector<std::string>{"takeover_complete:dc2"});
	(void)v.update({dc("dc1", 300, 1, 1, 100), dc("dc2", 300, 0, 1, 9)});
	ev = v.update({dc("dc1", 400, 1, 1, 104), dc("dc2", 400, 0, 1, 9)});
	CHECK(kinds(ev) == std::vector<std::string>{"fail_back:dc1"});
}

TEST_CASE("toolkit view: an unreachable REST API is unknown, not down")
{
	ToolkitView v;
	(void)v.update({dc("dc1", 0, 1, 1, 100), dc("dc2", 0, 0, 1, 0)});
	auto lost = dc("dc1", 200, 1, 1, 100);
	lost.reachable = false;
	CHECK(v.update({lost, dc("dc2", 200, 0, 1, 0)}).empty());
	CHECK(v.state("dc1") == DcState::Unknown);
	CHECK(v.update({dc("dc1", 400, 1, 1, 120), dc("dc2", 400, 0, 1, 0)}).empty());
	CHECK(v.activeDc() == "dc1");
}

TEST_CASE("toolkit view: a PE's launch count going up is a relaunch")
{
	ToolkitView v;
	(void)v.update({dc("dc1", 0, 1, 1, 100), dc("dc2", 0, 0, 1, 0)});
	auto r = dc("dc1", 200, 1, 1, 110);
	r.pes[1].launchCount = 2;
	auto ev = v.update({r, dc("dc2", 200, 0, 1, 0)});
	REQUIRE(kinds(ev) == std::vector<std::string>{"pe_relaunch:dc1"});
	CHECK(ev[0].pe == "1");
	CHECK(ev[0].launchCount == 2);
	CHECK(v.update({r, dc("dc2", 400, 0, 1, 0)}).empty());
}
