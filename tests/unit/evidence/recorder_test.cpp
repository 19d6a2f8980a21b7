// SPDX-License-Identifier: Apache-2.0
// The agent's recorder: sequence numbers, batches in order, acks freeing memory and spool, spilling under a small
// memory buffer, losing (and reporting) only when the spool is full, go-back-N resends, and the agent-side deadline.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include "agent/evidence/recorder.h"
#include "common/clock.h"

#include "tests/unit/unit_util.h"

using namespace xdc;
using namespace xdc::test;
using namespace xdc::agent;
using xdc::proto::EvidenceBatch;
using xdc::proto::Sample;

namespace {

RecorderOptions options(const std::string &dir)
{
	RecorderOptions o;
	o.dir = dir + "/evidence";
	o.flushNs = 0;
	return o;
}

proto::EvidenceStartArgs startArgs(const std::string &id, uint64_t memory = 0, int64_t maxMs = 60000)
{
	proto::EvidenceStartArgs a;
	a.recording = id;
	// One host sample at the start and then none for an hour: the test drives the rest through event().
	a.specs = {"{kind: host, name: h, on: {host: x}, interval: 1h}"};
	a.maxDurationMs = maxMs;
	a.memorySamples = memory;
	return a;
}

Sample event(int i)
{
	Sample s;
	s.kind = "fault";
	s.source = "f" + std::to_string(i);
	s.wallNs = clk::wallNs();
	s.values = {{"i", static_cast<double>(i)}};
	return s;
}

// Drains every batch due now; returns the sequence numbers in the order sent.
std::vector<uint64_t> drain(Recorder &r, std::vector<uint64_t> *lost = nullptr)
{
	std::vector<uint64_t> seqs;
	EvidenceBatch b;
	while (r.nextBatch(clk::monoNs(), b)) {
		for (const auto &s : b.samples)
			seqs.push_back(s.seq);
		if (lost)
			*lost = b.lost;
	}
	return seqs;
}

bool waitFor(const std::function<bool()> &pred)
{
	const int64_t end = clk::monoNs() + 5 * clk::kSec;
	while (clk::monoNs() < end) {
		if (pred())
			return true;
		std::this_thread::yield();
	}
	return pred();
}

} // namespace

TEST_CASE("Recorder: samples numbered from 1 in order, sent in order, freed by the cumulative ack")
{
	TempDir d("recorder");
	Recorder r(options(d.path));
	auto st = r.start(startArgs("r1"));
	REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
	CHECK(st->samplers == std::vector<std::string>{"h"});
	REQUIRE(waitFor([&] { return r.memoryHeld() >= 1; })); // the host sampler's first slot
	for (int i = 0; i < 9; i++)
		r.event(event(i));
	auto seqs = drain(r);
	REQUIRE(seqs.size() == 10);
	for (size_t i = 0; i < seqs.size(); i++)
		CHECK(seqs[i] == i + 1);
	CHECK(drain(r).empty()); // all in flight: nothing more to send
	r.onAck({"r1", 6});
	CHECK(r.memoryHeld() == 4);
	r.onAck({"r1", 99}); // beyond what exists: ignored
	CHECK(r.memoryHeld() == 4);
	auto stop = r.stopRequested("r1");
	REQUIRE(stop.ok());
	CHECK(stop->lastSeq == 10);
	CHECK(stop->counts.at("h") == 1);
	r.onAck({"r1", 10});
	r.service(clk::monoNs());
	CHECK(r.recordings() == 0); // stopped and fully acked: forgotten, spool directory gone
	CHECK_FALSE(std::filesystem::exists(d.path + "/evidence/r1"));
}

TEST_CASE("Recorder: a small memory buffer spills to the spool; resent in order from disk; acks remove the files")
{
	TempDir d("recorder");
	Recorder r(options(d.path));
	REQUIRE(r.start(startArgs("r2", 20)).ok());
	REQUIRE(waitFor([&] { return r.memoryHeld() >= 1; }));
	for (int i = 0; i < 199; i++)
		r.event(event(i));
	r.service(clk::monoNs());
	CHECK(r.memoryHeld() <= 20);
	CHECK(r.spoolBytes() > 0);
	auto seqs = drain(r);
	REQUIRE(seqs.size() == 200);
	for (size_t i = 0; i < seqs.size(); i++)
		CHECK(seqs[i] == i + 1);
	r.onAck({"r2", 200});
	CHECK(r.spoolBytes() == 0);
	auto stop = r.stop("r2");
	REQUIRE(stop.ok());
	CHECK(stop->spilled >= 180);
	CHECK(stop->dropped == 0);
}

TEST_CASE("Recorder: a full spool loses the oldest segment, and says which sequence numbers")
{
	TempDir d("recorder");
	auto o = options(d.path);
	o.spoolMaxBytes = 3000;
	Recorder r(o);
	REQUIRE(r.start(startArgs("r3", 10)).ok());
	REQUIRE(waitFor([&] { return r.memoryHeld() >= 1; }));
	for (int i = 0; i < 300; i++)
		r.event(event(i));
	r.service(clk::monoNs());
	CHECK(r.spoolBytes() <= 3000);
	std::vector<uint64_t> lost;
	auto seqs = drain(r, &lost);
	REQUIRE(lost.size() >= 2);
	CHECK(lost[0] == 1);
	// Everything is either sent or declared lost, never silently missing.
	uint64_t declared = 0;
	for (size_t i = 0; i + 1 < lost.size(); i += 2)
		declared += lost[i + 1] - lost[i] + 1;
	CHECK(seqs.size() + declared == 301);
	auto stop = r.stop("r3");
	REQUIRE(stop.ok());
	CHECK(stop->dropped == declared);
}

TEST_CASE("Recorder: without acks it goes back to the last ack and resends; a reconnect does the same")
{
	TempDir d("recorder");
	auto o = options(d.path);
	o.ackTimeoutNs = 1000 * clk::kMs;
	Recorder r(o);
	REQUIRE(r.start(startArgs("r4")).ok());
	REQUIRE(waitFor([&] { return r.memoryHeld() >= 1; }));
	for (int i = 0; i < 4; i++)
		r.event(event(i));
	CHECK(drain(r).size() == 5);
	r.onAck({"r4", 2});
	r.service(clk::monoNs() + 2 * clk::kSec); // no ack for longer than the timeout
	auto again = drain(r);
	CHECK(again == std::vector<uint64_t>{3, 4, 5});
	r.onConnected();
	CHECK(drain(r) == std::vector<uint64_t>{3, 4, 5});
}

TEST_CASE("Recorder: stops its samplers at its own deadline; refuses bad starts")
{
	TempDir d("recorder");
	Recorder r(options(d.path));
	REQUIRE(r.start(startArgs("r5", 0, 50)).ok());
	r.service(clk::monoNs() + 100 * clk::kMs);
	auto stop = r.stop("r5");
	REQUIRE(stop.ok());
	CHECK(stop->stoppedNs > 0);
	CHECK_FALSE(r.start(startArgs("r5")).ok());           // still delivering under that id
	CHECK_FALSE(r.start(startArgs("../x")).ok());         // not an id
	auto bad = startArgs("r6");
	bad.specs = {"{kind: probe.tcp, on: {host: x}, target: '10.0.0.1:99999'}"};
	CHECK_FALSE(r.start(bad).ok());
	auto cmd = startArgs("r7");
	cmd.specs = {"{kind: command, on: {host: x}, command: not-configured, interval: 10s}"};
	auto c = r.start(cmd);
	REQUIRE_FALSE(c.ok());
	CHECK(c.error().message.find("not-configured") != std::string::npos);
	CHECK_FALSE(r.stop("nope").ok());
}
