// SPDX-License-Identifier: Apache-2.0
// The toolkit view's inference from what a real deployment shows: the toolkit operators' port counters (with their
// lastTimeRetrieved), job and PE status and the application's output; and the operator discovery by local names.
#include <algorithm>

#include <doctest/doctest.h>

#include "controller/streams/poll.h"
#include "controller/cli/cli.h"
#include "controller/streams/toolkit_view.h"

#include "tests/unit/unit_util.h"

using namespace xdc::test;
using namespace xdc::streams;

namespace {

// A DC's poll at tMs: a running job of 3 PEs (PE "3" hosts the toolkit), the watchdog's transition count, the
// sink's count, both retrieved by the collection at retrievedMs.
DcSnapshot dc(const std::string &name, int64_t tMs, int64_t transitions, int64_t sink, int64_t retrievedMs,
	      int64_t watchdogLaunch = 1)
{
	DcSnapshot s;
	s.dc = name;
	s.tNs = tMs * kMs;
	s.reachable = true;
	s.instanceStatus = "running";
	Job j;
	j.id = "1";
	j.name = "CrossDcApp";
	j.status = "running";
	j.health = "healthy";
	s.job = j;
	for (int i = 1; i <= 3; ++i) {
		Pe p;
		p.id = std::to_string(i);
		p.status = "running";
		p.launchCount = i == 3 ? watchdogLaunch : 1;
		s.pes.push_back(p);
	}
	s.metricsRead = true;
	s.toolkit.prefix = "CrossDCFailover";
	s.toolkit.found = {"RemoteDataCenterHeartbeatWatchdog"};
	s.toolkit.watchdogPe = "3";
	s.toolkit.transitions = {true, transitions, retrievedMs * kMs};
	s.sinkOperator = "Sink";
	s.sink = {true, sink, retrievedMs * kMs};
	return s;
}

std::vector<std::string> kinds(const std::vector<ToolkitEvent> &ev)
{
	std::vector<std::string> k;
	for (const auto &e : ev)
		k.push_back(e.kind + ":" + e.dc);
	return k;
}

// Feeds rounds every 200 ms over collections every second; dc1 delivers, dc2 does not, both in contact (1).
struct Feed {
	ToolkitView view;
	int64_t t = 100000, sink1 = 0, sink2 = 0, tr1 = 1, tr2 = 1; // collections at whole seconds from 100 s
	std::vector<ToolkitEvent> all;
	bool flow1 = true, flow2 = false;
	void steps(int n)
	{
		for (int i = 0; i < n; ++i) {
			t += 200;
			const int64_t collected = t / 1000 * 1000;
			if (t % 1000 == 0) {
				sink1 += flow1 ? 50 : 0;
				sink2 += flow2 ? 50 : 0;
			}
			auto ev = view.update({dc("dc1", t, tr1, sink1, collected), dc("dc2", t, tr2, sink2, collected)});
			all.insert(all.end(), ev.begin(), ev.end());
		}
	}
};

} // namespace

TEST_CASE("toolkit view: the remote's state from the watchdog's transition count")
{
	CHECK(remoteState(dc("dc1", 0, 0, 0, 0)) == RemoteState::NoContact);
	CHECK(remoteState(dc("dc1", 0, 1, 0, 0)) == RemoteState::Up);
	CHECK(remoteState(dc("dc1", 0, 2, 0, 0)) == RemoteState::Down);
	CHECK(remoteState(dc("dc1", 0, 3, 0, 0)) == RemoteState::Up);
	DcSnapshot s = dc("dc1", 0, 1, 0, 0);
	s.toolkit.transitions = {};
	CHECK(remoteState(s) == RemoteState::Unknown);
	s.reachable = false;
	CHECK(remoteState(s) == RemoteState::Unknown);
}

TEST_CASE("toolkit view: states settle from the output; start-up is not a takeover")
{
	Feed f;
	f.steps(25);
	CHECK(f.view.state("dc1") == DcState::Active);
	CHECK(f.view.state("dc2") == DcState::Standby);
	CHECK(f.view.activeDc() == "dc1");
	CHECK(kinds(f.all).empty());
	CHECK(f.view.remote("dc1") == RemoteState::Up);
}

TEST_CASE("toolkit view: detection is bounded by the collections that saw it, not by the polls")
{
	Feed f;
	f.steps(25); // t = 105000, last collection 105000
	f.tr2 = 2;   // dc2 declares dc1 down; the next collection (106000) shows it
	f.steps(5);  // t = 106000
	REQUIRE(f.all.size() == 1);
	const ToolkitEvent &e = f.all[0];
	CHECK(e.kind == "remote_down");
	CHECK(e.dc == "dc2");
	CHECK(e.tNs == 106000 * kMs);
	CHECK(e.sinceNs == 105000 * kMs);
	CHECK(e.boundNs() == 1000 * kMs);
	CHECK(e.source == "RemoteDataCenterHeartbeatWatchdog output port");
	CHECK(f.view.remote("dc2") == RemoteState::Down);
	// The same collection read again by later polls makes no further event.
	f.steps(4);
	CHECK(f.all.size() == 1);
}

TEST_CASE("toolkit view: isolation: detection, then takeover when the standby's output starts")
{
	Feed f;
	f.steps(25);
	f.tr2 = 2;
	f.steps(5);
	f.flow2 = true; // dc2's application takes over: its output grows from the next collection on
	f.flow1 = false;
	f.steps(5); // 7000: dc2 grew between 6000 and 7000
	const auto k = kinds(f.all);
	REQUIRE(k.size() >= 2);
	CHECK(k[0] == "remote_down:dc2");
	CHECK(k[1] == "takeover_complete:dc2");
	CHECK(f.all[1].tNs == 107000 * kMs);
	CHECK(f.all[1].sinceNs == 106000 * kMs);
	CHECK(f.view.activeDc() == "dc2");
	f.steps(20);
	CHECK(f.view.state("dc1") == DcState::Standby);
	CHECK(!f.view.splitBrain());
}

TEST_CASE("toolkit view: output from both DCs is split brain; a takeover back into the first is a fail-back")
{
	Feed f;
	f.steps(25);
	f.flow2 = true;
	f.steps(5);
	CHECK(kinds(f.all) == std::vector<std::string>{"takeover_complete:dc2", "split_brain:dc1,dc2"});
	CHECK(f.view.splitBrain());
	f.flow1 = false;
	f.steps(20);
	CHECK(!f.view.splitBrain());
	CHECK(kinds(f.all).back() == "split_brain_end:dc2");
	f.flow2 = false;
	f.flow1 = true;
	f.steps(20);
	const auto k = kinds(f.all);
	CHECK(std::find(k.begin(), k.end(), "fail_back:dc1") != k.end());
}

TEST_CASE("toolkit view: a DC that stops and comes back is not a takeover")
{
	Feed f;
	f.steps(25);
	ToolkitView &v = f.view;
	auto down = dc("dc1", 105200, 1, f.sink1, 105000);
	for (auto &p : down.pes)
		p.status = "stopped";
	auto ev = v.update({down, dc("dc2", 105200, 1, 0, 105000)});
	CHECK(kinds(ev) == std::vector<std::string>{"dc_down:dc1"});
	f.t = 105200;
	f.steps(15);
	CHECK(f.view.state("dc1") == DcState::Active);
	for (const auto &e : f.all)
		CHECK(e.kind != "takeover_complete");
}

TEST_CASE("toolkit view: a relaunched watchdog's counters start again from 0")
{
	ToolkitView v;
	(void)v.update({dc("dc1", 100000, 1, 0, 100000)});
	(void)v.update({dc("dc1", 101000, 2, 0, 101000)}); // declared down
	// The toolkit's PE relaunches: the watchdog counts first contact again (1), from 0.
	auto ev = v.update({dc("dc1", 102000, 1, 0, 102000, 2)});
	CHECK(kinds(ev) == std::vector<std::string>{"pe_relaunch:dc1", "remote_up:dc1"});
	CHECK(ev.back().detail.find("first contact") != std::string::npos);
	CHECK(v.remote("dc1") == RemoteState::Up);
}

TEST_CASE("toolkit view: several transitions between two collections are each reported")
{
	ToolkitView v;
	(void)v.update({dc("dc1", 100000, 0, 0, 100000)});
	auto ev = v.update({dc("dc1", 101000, 3, 0, 101000)});
	CHECK(kinds(ev) == std::vector<std::string>{"remote_up:dc1", "remote_down:dc1", "remote_up:dc1"});
	for (const auto &e : ev)
		CHECK(e.boundNs() == 1000 * kMs);
}

TEST_CASE("toolkit view: without lastTimeRetrieved the polls bound the event")
{
	ToolkitView v;
	auto a = dc("dc1", 0, 1, 0, 0);
	a.toolkit.transitions.retrievedNs = 0;
	(void)v.update({a});
	auto b = dc("dc1", 300, 2, 0, 0);
	b.toolkit.transitions.retrievedNs = 0;
	auto ev = v.update({b});
	REQUIRE(ev.size() == 1);
	CHECK(ev[0].tNs == 300 * kMs);
	CHECK(ev[0].sinceNs == 0);
}

TEST_CASE("toolkit view: the passive DC's job appearing and turning healthy")
{
	ToolkitView v;
	DcSnapshot none;
	none.dc = "dc2";
	none.tNs = 0;
	none.reachable = true;
	(void)v.update({none});
	CHECK(v.state("dc2") == DcState::NoJob);
	DcSnapshot starting = dc("dc2", 1000, 0, 0, 1000);
	starting.job->submitTime = 900;
	starting.job->id = "7";
	starting.job->health = "unhealthy";
	for (auto &p : starting.pes)
		p.status = "starting";
	auto ev = v.update({starting});
	REQUIRE(kinds(ev) == std::vector<std::string>{"job_submitted:dc2"});
	CHECK(ev[0].tNs == 900 * kMs);
	CHECK(ev[0].boundNs() == 1 * kMs);
	DcSnapshot up = dc("dc2", 1200, 0, 0, 1000);
	up.job->submitTime = 900;
	up.job->id = "7";
	ev = v.update({up});
	CHECK(kinds(ev) == std::vector<std::string>{"job_healthy:dc2"});
	CHECK(ev[0].sinceNs == 1000 * kMs);
}

TEST_CASE("toolkit view: an unreachable REST API is unknown, not down")
{
	ToolkitView v;
	(void)v.update({dc("dc1", 0, 1, 0, 0)});
	DcSnapshot s;
	s.dc = "dc1";
	s.tNs = 200 * kMs;
	auto ev = v.update({s});
	CHECK(ev.empty());
	CHECK(v.state("dc1") == DcState::Unknown);
}

TEST_CASE("toolkit view: a job gone after a round in which its DC did not answer is still down, since the last answer")
{
	// The job canceled between two requests of one poll: its PEs' request fails, the round is unknown, and the
	// next round finds no job. The change is bounded by the last round that saw the DC.
	Feed f;
	f.steps(25);
	REQUIRE(f.view.state("dc1") == DcState::Active);
	const int64_t lastSeen = f.t * kMs;
	DcSnapshot lost;
	lost.dc = "dc1";
	lost.tNs = (f.t + 200) * kMs;
	auto ev = f.view.update({lost, dc("dc2", f.t + 200, 1, 0, f.t / 1000 * 1000)});
	CHECK(ev.empty());
	CHECK(f.view.state("dc1") == DcState::Unknown);
	auto gone = dc("dc1", f.t + 400, 1, f.sink1, f.t / 1000 * 1000);
	gone.job.reset();
	gone.pes.clear();
	ev = f.view.update({gone, dc("dc2", f.t + 400, 1, 0, f.t / 1000 * 1000)});
	REQUIRE(kinds(ev) == std::vector<std::string>{"dc_down:dc1"});
	CHECK(ev[0].sinceNs == lastSeen);
	CHECK(ev[0].tNs == (f.t + 400) * kMs);
	CHECK(ev[0].detail == "job no longer listed");
	CHECK(f.view.state("dc1") == DcState::NoJob);
}

TEST_CASE("toolkit view: a PE's launch count going up is a relaunch")
{
	ToolkitView v;
	(void)v.update({dc("dc1", 0, 1, 0, 0)});
	auto s = dc("dc1", 200, 1, 0, 0);
	s.pes[0].launchCount = 2;
	auto ev = v.update({s});
	REQUIRE(kinds(ev) == std::vector<std::string>{"pe_relaunch:dc1"});
	CHECK(ev[0].pe == "1");
	CHECK(ev[0].launchCount == 2);
}

namespace {

Operator op(const std::string &id, const std::string &name, const std::string &kind = "spl.utility::Custom",
	    const std::string &pe = "3")
{
	Operator o;
	o.id = id;
	o.name = name;
	o.operatorKind = kind;
	o.peUrl = "http://h:8440/streams/rest/instances/i/pes/" + pe;
	return o;
}

} // namespace

TEST_CASE("operator discovery: the toolkit's operators under any prefix, and the sink")
{
	const std::vector<Operator> ops = {
		op("1", "Source", "spl.utility::Beacon", "1"),
		op("2", "Sink", "spl.adapter::FileSink", "2"),
		op("3", "App.Cdc.HeartbeatSignalGenerator"),
		op("4", "App.Cdc.HeartbeatMessagePreparer"),
		op("5", "App.Cdc.CrossDataCenterReceiverForHB"),
		op("6", "App.Cdc.RemoteDataCenterHeartbeatWatchdog"),
		op("7", "App.Cdc.CrossDataCenterReceiver[0]"),
		op("8", "App.Cdc.CrossDataCenterReceiver[1]"),
		op("9", "App.Cdc.RemoteDataCenterWatchdog"),
	};
	Endpoint ep;
	auto f = findOperators(ops, ep);
	CHECK(f.names.prefix == "App.Cdc");
	CHECK(f.watchdog == "6");
	CHECK(f.hbReceiver == "5");
	CHECK(f.preparer == "4");
	CHECK(f.store == "9");
	CHECK(f.receivers == std::vector<std::string>{"7", "8"});
	CHECK(f.names.channels == 2);
	CHECK(f.names.watchdogPe == "3");
	CHECK(f.names.missing == std::vector<std::string>{"CrossDataCenterSender1"});
	CHECK(f.sink == "2");
	CHECK(f.sinkName == "Sink");

	// A configured prefix that matches nothing: every operator missing, named.
	ep.toolkitPrefix = "Other";
	f = findOperators(ops, ep);
	CHECK(f.watchdog.empty());
	CHECK(f.names.found.empty());
	CHECK(f.names.missing.size() == 7);
	CHECK(f.names.otherPrefixes == std::vector<std::string>{"App.Cdc"});

	// No toolkit at all, the sink found by its kind when it is not called Sink.
	std::vector<Operator> app = {op("1", "Ingest", "spl.adapter::TCPSource"),
				     op("2", "Out", "spl.adapter::FileSink")};
	f = findOperators(app, Endpoint{});
	CHECK(f.names.prefix.empty());
	CHECK(f.names.found.empty());
	CHECK(f.sinkName == "Out");
	// A configured sink operator that does not exist is not replaced by a guess.
	Endpoint named;
	named.sinkOperator = "Missing";
	CHECK(findOperators(app, named).sink.empty());
}

TEST_CASE("streams watch: an event line gives the interval it lies in, or says it was seen at the first look")
{
	xdc::streams::ToolkitEvent e;
	e.tNs = xdc::test::kT0 + 1500 * kMs; // 22:13:21.500Z
	e.sinceNs = xdc::test::kT0 + 1300 * kMs;
	e.kind = "remote_down";
	e.dc = "dc2";
	e.detail = "dc2 declared dc1 down";
	e.source = "watchdog output port";
	CHECK(xdc::cli::toolkitEventLine(e) == "22:13:21.500Z  dc2    remote_down        dc2 declared dc1 down (between "
					       "22:13:21.300Z and 22:13:21.500Z; from the watchdog output port)");
	e.sinceNs = 0;
	CHECK(xdc::cli::toolkitEventLine(e) == "22:13:21.500Z  dc2    remote_down        dc2 declared dc1 down (already "
					       "so at the first look; from the watchdog output port)");
}
