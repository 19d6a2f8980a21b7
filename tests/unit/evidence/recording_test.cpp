// SPDX-License-Identifier: Apache-2.0
// The controller's recording: clock mapping with bounds, dedup and cumulative acks, lost ranges, gaps, and the
// bundle it writes.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "controller/evidence/recording.h"

#include "tests/unit/unit_util.h"

using namespace xdc;
using namespace xdc::test;
using namespace xdc::controller::evidence;
using xdc::proto::EvidenceBatch;
using xdc::proto::Sample;

namespace {


Sample probeSample(uint64_t seq, int64_t wall, bool ok)
{
	Sample s;
	s.seq = seq;
	s.kind = "probe.tcp";
	s.source = "p";
	s.wallNs = wall;
	s.values = {{"ok", ok ? 1.0 : 0.0}, {"latency_ms", 0.2}};
	s.tags = {{"target", "10.0.0.1:9000"}, {"error", ok ? "" : "refused"}};
	return s;
}

Recording::HostInfo host(const std::string &name)
{
	Recording::HostInfo h;
	h.agent = name;
	h.host = name;
	h.dc = "dc1";
	h.samplers = {"p"};
	h.intervalNs = {{"p", 10 * kMs}};
	h.kinds = {{"p", "probe.tcp"}};
	return h;
}

std::vector<nlohmann::json> lines(const std::string &path)
{
	std::vector<nlohmann::json> out;
	std::ifstream f(path);
	std::string l;
	while (std::getline(f, l))
		out.push_back(nlohmann::json::parse(l));
	return out;
}

} // namespace

TEST_CASE("ClockMap: subtracts the nearest estimate's offset; the bound grows with the distance to it")
{
	ClockMap m(50.0);
	CHECK(m.map(kT0).boundNs == -1); // nothing known
	m.add({kT0, 250 * kMs, 2 * kMs, 1 * kMs});
	m.add({kT0 + 10'000 * kMs, 260 * kMs, 1 * kMs, 1 * kMs});
	m.add({kT0 + 20'000 * kMs, -1, -1, 0}); // invalid: ignored
	auto a = m.map(kT0 + 1000 * kMs + 250 * kMs);
	CHECK(a.tNs == kT0 + 1000 * kMs);
	CHECK(a.boundNs == 2 * kMs + 50 * 1000); // 1 s from the estimate at 50 ppm = 50 us
	auto b = m.map(kT0 + 9000 * kMs + 260 * kMs);
	CHECK(b.tNs == kT0 + 9000 * kMs);
	CHECK(b.boundNs == 1 * kMs + 50 * 1000);
}

TEST_CASE("Recording: duplicates are dropped, acks are cumulative, lost ranges are acked past and reported")
{
	TempDir d("rec");
	Recording r("r1", d.path + "/b");
	REQUIRE(r.open({host("h1")}, nlohmann::json::array(), kT0).ok());
	EvidenceBatch b;
	b.recording = "r1";
	b.samples = {probeSample(1, kT0, true), probeSample(2, kT0 + 10 * kMs, true)};
	CHECK(r.ingest("h1", b) == 2);
	CHECK(r.ingest("h1", b) == 2); // a resend: nothing new
	b.samples = {probeSample(4, kT0 + 30 * kMs, true)};
	CHECK(r.ingest("h1", b) == 2); // 3 missing: the ack stays
	b.samples = {probeSample(3, kT0 + 20 * kMs, false)};
	CHECK(r.ingest("h1", b) == 4);
	b.samples = {probeSample(8, kT0 + 70 * kMs, true)};
	b.lost = {5, 7};
	CHECK(r.ingest("h1", b) == 8); // 5..7 declared lost
	CHECK_FALSE(r.drained());
	proto::EvidenceStopReply stop;
	stop.lastSeq = 8;
	stop.counts = {{"p", 8}};
	r.stopped("h1", stop);
	CHECK(r.drained());
	r.clock("h1", {kT0, 0, 1 * kMs, 1 * kMs});
	auto meta = r.finalize(kT0 + 100 * kMs);
	REQUIRE(meta.ok());
	CHECK((*meta)["complete"] == false);
	REQUIRE((*meta)["gaps"].size() == 1);
	CHECK((*meta)["gaps"][0]["first_seq"] == 5);
	CHECK((*meta)["gaps"][0]["last_seq"] == 7);
	CHECK((*meta)["gaps"][0]["reason"].get<std::string>().find("spool full") != std::string::npos);
	auto tl = lines(d.path + "/b/timeline.jsonl");
	CHECK(tl.size() == 5 + 2); // samples plus recording start/stop
	for (size_t i = 1; i < tl.size(); i++)
		CHECK(tl[i - 1]["t_ns"].get<int64_t>() <= tl[i]["t_ns"].get<int64_t>());
	// The one failed probe is an outage from seq 3's time to seq 4's, each end +- interval + bound.
	REQUIRE((*meta)["outages"].size() == 1);
	auto o = (*meta)["outages"][0]["outages"];
	REQUIRE(o.size() == 1);
	CHECK(o[0]["start_ns"] == kT0 + 20 * kMs);
	CHECK(o[0]["end_ns"] == kT0 + 30 * kMs);
	CHECK(o[0]["start_bound_ns"].get<int64_t>() >= 11 * kMs);
	CHECK(std::filesystem::exists(d.path + "/b/hosts/h1/samples.jsonl"));
	CHECK_FALSE(std::filesystem::exists(d.path + "/b/hosts/h1/raw.jsonl"));
	auto loaded = loadBundle(d.path + "/b", "h1", "probe.tcp");
	REQUIRE(loaded.ok());
	CHECK(loaded->entries.size() == 5);
}

TEST_CASE("Recording: agent-clock times among the values move by the entry's own offset; others stay")
{
	TempDir d("rec");
	Recording r("r4", d.path + "/b");
	auto hi = host("h1");
	hi.samplers = {"log:t", "file:s"};
	hi.intervalNs = {{"log:t", 200 * kMs}, {"file:s", 500 * kMs}};
	hi.kinds = {{"log:t", "log"}, {"file:s", "file"}};
	REQUIRE(r.open({hi}, nlohmann::json::array(), kT0).ok());
	const int64_t off = 250 * kMs; // the agent's clock is 250 ms ahead
	auto sample = [&](uint64_t seq, const char *kind, const char *source, int64_t wall,
			  std::map<std::string, double> values) {
		Sample s;
		s.seq = seq;
		s.kind = kind;
		s.source = source;
		s.wallNs = wall;
		s.values = std::move(values);
		return s;
	};
	const double lineAt = static_cast<double>(kT0 + off + 150 * kMs), prevAt = static_cast<double>(kT0 + off);
	EvidenceBatch b;
	b.recording = "r4";
	b.samples = {sample(1, "log.line", "log:t", kT0 + off + 200 * kMs,
			    {{"prev_wall_ns", prevAt}, {"line_wall_ns", lineAt}}),
		     sample(2, "log.line", "log:t", kT0 + off + 400 * kMs, {{"prev_wall_ns", 0}}),
		     sample(3, "file.event", "file:s", kT0 + off + 500 * kMs,
			    {{"prev_wall_ns", prevAt}, {"mtime_ns", lineAt}, {"size_bytes", 1e12}}),
		     sample(4, "log", "log:t", kT0 + off + 600 * kMs, {{"read_bytes", 1e18}, {"lines", 2}})};
	CHECK(r.ingest("h1", b) == 4);
	proto::EvidenceStopReply stop;
	stop.lastSeq = 4;
	r.stopped("h1", stop);
	r.clock("h1", {kT0, off, 1 * kMs, 1 * kMs});
	REQUIRE(r.finalize(kT0 + 1000 * kMs).ok());
	std::map<uint64_t, nlohmann::json> bySeq;
	for (const auto &e : lines(d.path + "/b/timeline.jsonl"))
		if (e.contains("seq"))
			bySeq[e["seq"].get<uint64_t>()] = e;
	REQUIRE(bySeq.size() == 4);
	const auto &l1 = bySeq[1];
	CHECK(l1["t_ns"] == kT0 + 200 * kMs);
	CHECK(l1["agent_wall_ns"] == kT0 + off + 200 * kMs);
	CHECK(l1["values"]["line_wall_ns"].get<double>() == static_cast<double>(kT0 + 150 * kMs));
	CHECK(l1["values"]["prev_wall_ns"].get<double>() == static_cast<double>(kT0));
	CHECK(bySeq[2]["values"]["prev_wall_ns"].get<double>() == 0); // none stays none
	CHECK(bySeq[3]["values"]["mtime_ns"].get<double>() == static_cast<double>(kT0 + 150 * kMs));
	CHECK(bySeq[3]["values"]["prev_wall_ns"].get<double>() == static_cast<double>(kT0));
	CHECK(bySeq[3]["values"]["size_bytes"].get<double>() == 1e12); // not a time
	CHECK(bySeq[4]["values"]["read_bytes"].get<double>() == 1e18);
}

TEST_CASE("Recording: an agent that never answered the stop makes the bundle incomplete, never silently complete")
{
	TempDir d("rec");
	Recording r("r2", d.path + "/b");
	REQUIRE(r.open({host("h1"), host("h2")}, nlohmann::json::array(), kT0).ok());
	proto::EvidenceStopReply stop;
	stop.lastSeq = 0;
	r.stopped("h1", stop);
	CHECK_FALSE(r.drained());
	auto meta = r.finalize(kT0 + 1);
	REQUIRE(meta.ok());
	CHECK((*meta)["complete"] == false);
}

TEST_CASE("Recording: refuses to write into a non-empty directory")
{
	TempDir d("rec");
	std::ofstream(d.path + "/x") << "x";
	Recording r("r3", d.path);
	auto o = r.open({host("h1")}, nlohmann::json::array(), kT0);
	CHECK_FALSE(o.ok());
}
