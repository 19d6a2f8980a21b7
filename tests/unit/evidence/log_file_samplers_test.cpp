// SPDX-License-Identifier: Apache-2.0
// The log and file samplers on real files in a temporary directory: where the log sampler starts, complete and
// partial lines, truncation, replacement, new files, the directory walk, the regex, line timestamps, the per-round
// caps and the prev_wall_ns chain; the file sampler's rounds and created/modified/deleted events. Every test writes
// files, then calls sample() itself: no sleeps, no threads.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/evidence/sampler.h"
#include "common/clock.h"

#include "tests/unit/unit_util.h"

using namespace xdc;
using namespace xdc::agent;
using xdc::test::TempDir;

namespace {

// Appends text to path (creating it), the way a logger writes.
void appendTo(const std::string &path, const std::string &text)
{
	const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	REQUIRE(fd >= 0);
	REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
	::close(fd);
}

// Replaces path's content (same inode): O_TRUNC, then text.
void truncateTo(const std::string &path, const std::string &text)
{
	const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
	REQUIRE(fd >= 0);
	REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
	::close(fd);
}

std::unique_ptr<Sampler> hostSigSampler(const std::string &text, const SamplerEnv &env)
{
	auto spec = evidence::parseSamplerText(text, "<test>");
	REQUIRE_MESSAGE(spec.ok(), (spec.ok() ? std::string() : spec.error().message));
	auto r = makeSampler(*spec, env);
	REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
	return std::move(*r);
}

std::vector<proto::Sample> oneRound(Sampler &s)
{
	std::vector<proto::Sample> out;
	s.sample(out);
	return out;
}

std::vector<const proto::Sample *> ofKind(const std::vector<proto::Sample> &round, const std::string &kind)
{
	std::vector<const proto::Sample *> v;
	for (const auto &s : round)
		if (s.kind == kind)
			v.push_back(&s);
	return v;
}

// The `line` tags of the round's log.line samples, in order.
std::vector<std::string> lineTags(const std::vector<proto::Sample> &round)
{
	std::vector<std::string> v;
	for (const auto *s : ofKind(round, "log.line"))
		v.push_back(s->tags.at("line"));
	return v;
}

// The round's one summary sample of `kind`.
const proto::Sample &summaryOf(const std::vector<proto::Sample> &round, const std::string &kind)
{
	const auto v = ofKind(round, kind);
	REQUIRE(v.size() == 1);
	return *v[0];
}

double valueOf(const proto::Sample &s, const std::string &key)
{
	auto it = s.values.find(key);
	REQUIRE_MESSAGE(it != s.values.end(), key);
	return it->second;
}

SamplerEnv oneLogEnv(const std::string &name, const std::string &path)
{
	SamplerEnv env;
	env.logs[name] = LogSourceDef{path, false, "*", false};
	return env;
}

} // namespace

TEST_CASE("log sampler: starts at the end, reads new complete lines, holds a partial one, chains prev_wall_ns")
{
	TempDir d("hostsig");
	const std::string path = d.path + "/pe.trc";
	appendTo(path, "old 1\nold 2\nbegun before");
	auto s = hostSigSampler("{kind: log, on: {host: h}, source: trace}", oneLogEnv("trace", path));

	auto r1 = oneRound(*s);
	CHECK(lineTags(r1).empty()); // only what comes after the start
	const auto &sum1 = summaryOf(r1, "log");
	CHECK(valueOf(sum1, "lines") == 0);
	CHECK(valueOf(sum1, "files") == 1);
	CHECK(valueOf(sum1, "capped") == 0);
	CHECK(sum1.source == "log:trace");

	appendTo(path, " and ended after\nnew 1\nnew 2\nhal");
	auto r2 = oneRound(*s);
	const int64_t afterRound = clk::wallNs();
	// The line in progress at the start is reported whole once complete; the partial "hal" waits.
	CHECK(lineTags(r2) == std::vector<std::string>{"begun before and ended after", "new 1", "new 2"});
	const auto lines2 = ofKind(r2, "log.line");
	REQUIRE(lines2.size() == 3);
	CHECK(lines2[0]->source == "log:trace");
	CHECK(lines2[0]->tags.at("file") == "pe.trc");
	for (const auto *l : lines2) { // every line of a round carries the time that round's read ended
		CHECK(l->wallNs == lines2[0]->wallNs);
		CHECK(l->wallNs >= summaryOf(r2, "log").wallNs);
		CHECK(l->monoNs >= summaryOf(r2, "log").monoNs);
		CHECK(l->wallNs <= afterRound);
	}
	CHECK(valueOf(*lines2[0], "prev_wall_ns") == static_cast<double>(sum1.wallNs));
	CHECK(valueOf(*lines2[0], "prev_wall_ns") < static_cast<double>(lines2[0]->wallNs));
	CHECK(valueOf(summaryOf(r2, "log"), "lines") == 3);
	CHECK(valueOf(summaryOf(r2, "log"), "read_bytes") > 0);

	auto r3 = oneRound(*s);
	CHECK(lineTags(r3).empty()); // still partial
	appendTo(path, "f done\r\n");
	auto r4 = oneRound(*s);
	REQUIRE(lineTags(r4) == std::vector<std::string>{"half done"}); // '\r' of a CRLF line dropped
	// The line was completed between the two reads: (prev_wall_ns, wallNs] is the round before's start to this one's.
	CHECK(valueOf(*ofKind(r4, "log.line")[0], "prev_wall_ns") == static_cast<double>(summaryOf(r3, "log").wallNs));
	CHECK(lineTags(oneRound(*s)).empty()); // nothing is read twice
}

TEST_CASE("log sampler: a truncated or replaced file is read again from 0; a new file from 0")
{
	TempDir d("hostsig");
	const std::string path = d.path + "/monitor.out";
	appendTo(path, "a fairly long first line of the old file\n");
	auto s = hostSigSampler("{kind: log, on: {host: h}, source: mon}", oneLogEnv("mon", path));
	(void)oneRound(*s);
	appendTo(path, "x\n");
	CHECK(lineTags(oneRound(*s)) == std::vector<std::string>{"x"});

	// Truncated (same inode, shorter than the position): from 0.
	truncateTo(path, "fresh 1\n");
	CHECK(lineTags(oneRound(*s)) == std::vector<std::string>{"fresh 1"});
	appendTo(path, "fresh 2\n");
	CHECK(lineTags(oneRound(*s)) == std::vector<std::string>{"fresh 2"});

	// Replaced by a rename (another inode), even a longer file: from 0.
	const std::string tmp = d.path + "/monitor.out.new";
	appendTo(tmp, "rotated 1\nrotated 2 is longer than anything the old file had at its position\n");
	REQUIRE(::rename(tmp.c_str(), path.c_str()) == 0);
	CHECK(lineTags(oneRound(*s)) ==
	      std::vector<std::string>{"rotated 1", "rotated 2 is longer than anything the old file had at its position"});

	// Gone, then back: a new file, from 0.
	REQUIRE(::unlink(path.c_str()) == 0);
	auto gone = oneRound(*s);
	CHECK(valueOf(summaryOf(gone, "log"), "files") == 0);
	CHECK(summaryOf(gone, "log").tags.count("error") == 0);
	appendTo(path, "back\n");
	CHECK(lineTags(oneRound(*s)) == std::vector<std::string>{"back"});

	// A one-file source that does not exist at the start: its first lines are reported.
	TempDir d2("hostsig");
	auto late = hostSigSampler("{kind: log, on: {host: h}, source: l}", oneLogEnv("l", d2.path + "/later.log"));
	CHECK(valueOf(summaryOf(oneRound(*late), "log"), "files") == 0);
	appendTo(d2.path + "/later.log", "first\n");
	CHECK(lineTags(oneRound(*late)) == std::vector<std::string>{"first"});
}

TEST_CASE("log sampler: a directory source walks matching files up to 4 levels and names them relatively")
{
	TempDir d("hostsig");
	namespace fs = std::filesystem;
	fs::create_directories(d.path + "/a/b/c/d/e");
	appendTo(d.path + "/x.trc", "old\n");
	SamplerEnv env;
	env.logs["pe"] = LogSourceDef{d.path, true, "*.trc", true};
	auto s = hostSigSampler("{kind: log, on: {host: h}, source: pe}", env);
	CHECK(valueOf(summaryOf(oneRound(*s), "log"), "files") == 1);

	appendTo(d.path + "/x.trc", "x new\n");
	appendTo(d.path + "/y.trc", "y from 0\n");               // appeared after the start: from 0
	appendTo(d.path + "/z.log", "not a trace\n");            // the glob leaves it out
	appendTo(d.path + "/a/b/c/d/deep.trc", "4 levels\n");    // a/b/c/d is 4 levels below the source
	appendTo(d.path + "/a/b/c/d/e/deeper.trc", "5 levels\n"); // too deep
	auto r = oneRound(*s);
	std::vector<std::pair<std::string, std::string>> got;
	for (const auto *l : ofKind(r, "log.line"))
		got.emplace_back(l->tags.at("file"), l->tags.at("line"));
	std::sort(got.begin(), got.end());
	CHECK(got == std::vector<std::pair<std::string, std::string>>{
			     {"a/b/c/d/deep.trc", "4 levels"}, {"x.trc", "x new"}, {"y.trc", "y from 0"}});
	CHECK(valueOf(summaryOf(r, "log"), "files") == 3);

	// Not recursive: only the directory's own files.
	SamplerEnv flat;
	flat.logs["pe"] = LogSourceDef{d.path, true, "*.trc", false};
	auto f = hostSigSampler("{kind: log, on: {host: h}, source: pe}", flat);
	CHECK(valueOf(summaryOf(oneRound(*f), "log"), "files") == 2);
	// A missing directory is zero files, not an error.
	SamplerEnv none;
	none.logs["pe"] = LogSourceDef{d.path + "/nope", true, "*", true};
	auto n = hostSigSampler("{kind: log, on: {host: h}, source: pe}", none);
	auto nr = oneRound(*n);
	CHECK(valueOf(summaryOf(nr, "log"), "files") == 0);
	CHECK(summaryOf(nr, "log").tags.count("error") == 0);
}

TEST_CASE("log sampler: match keeps the lines that contain it; the rest are counted as skipped")
{
	TempDir d("hostsig");
	const std::string path = d.path + "/pe.trc";
	appendTo(path, "");
	auto lit = hostSigSampler("{kind: log, on: {host: h}, source: t, match: _XXXXX_}", oneLogEnv("t", path));
	auto re = hostSigSampler("{name: errs, kind: log, on: {host: h}, source: t, match: \"^ERR[0-9]+ \"}",
				 oneLogEnv("t", path));
	(void)oneRound(*lit);
	(void)oneRound(*re);
	appendTo(path, "a _XXXXX_ b\nplain\nERR42 failed\nwarn ERR1 x\n_XXXXX\n");
	auto rl = oneRound(*lit);
	CHECK(lineTags(rl) == std::vector<std::string>{"a _XXXXX_ b"});
	CHECK(valueOf(summaryOf(rl, "log"), "lines") == 1);
	CHECK(valueOf(summaryOf(rl, "log"), "skipped_lines") == 4);
	auto rr = oneRound(*re);
	CHECK(lineTags(rr) == std::vector<std::string>{"ERR42 failed"}); // searched, anchored only by ^
	CHECK(ofKind(rr, "log.line")[0]->source == "errs");
	CHECK(valueOf(summaryOf(rr, "log"), "skipped_lines") == 4);

	// Built from a spec the parser did not check: a regex that does not compile is refused, as is an unknown
	// source (the agent's config names the files, never the wire).
	evidence::SamplerSpec bad;
	bad.kind = evidence::SamplerKind::Log;
	bad.on.host = "h";
	bad.interval = std::chrono::seconds(1);
	bad.source = "t";
	bad.lineMatch = "(";
	auto b = makeSampler(bad, oneLogEnv("t", path));
	REQUIRE(!b.ok());
	CHECK(b.error().code == Errc::Invalid);
	bad.lineMatch = "";
	bad.source = "other";
	auto u = makeSampler(bad, oneLogEnv("t", path));
	REQUIRE(!u.ok());
	CHECK(u.error().code == Errc::Refused);
	CHECK(test::contains(u.error().message, "evidence.logs: t"));
}

TEST_CASE("log sampler: a leading ISO-8601 time with a zone becomes line_wall_ns")
{
	using samplers::parseLineTime;
	const int64_t t = 1796556980; // 2026-12-06T11:36:20Z
	CHECK(parseLineTime("2026-12-06T11:36:20.123Z x") == t * clk::kSec + 123000000);
	CHECK(parseLineTime("2026-12-06T11:36:20.123456+01:00 y") == (t - 3600) * clk::kSec + 123456000);
	CHECK(parseLineTime("2026-12-06T11:36:20+0100 z") == (t - 3600) * clk::kSec);
	CHECK(parseLineTime("2026-12-06T11:36:20-05:30") == (t + 5 * 3600 + 1800) * clk::kSec);
	CHECK(parseLineTime("2026-12-06T11:36:20,5Z") == t * clk::kSec + 500000000);
	CHECK(parseLineTime("2026-12-06T11:36:20.123456789Z") == t * clk::kSec + 123456789);
	CHECK(parseLineTime("2028-02-29T00:00:00Z") == int64_t{1835395200} * clk::kSec);
	const char *none[] = {"", "no time here", "2026-12-06 11:36:20Z", "2026-12-06T11:36:20.123 no zone",
			      "2026-12-06T11:36:20", "2026-13-06T11:36:20Z", "2026-02-30T11:36:20Z", "2027-02-29T00:00:00Z",
			      "2026-12-06T24:00:00Z", "2026-12-06T11:60:00Z", "2026-12-06T11:36:20+01", "2026-12-06T11:36:20+2400",
			      "2026-12-06T11:36:20.Z", "2026-12-06T11:36:20.1234567891Z", "2026-1x-06T11:36:20Z",
			      "9999-12-06T11:36:20Z"};
	for (const char *n : none) {
		INFO(n);
		CHECK(!parseLineTime(n).has_value());
	}

	TempDir d("hostsig");
	const std::string path = d.path + "/pe.trc";
	appendTo(path, "");
	auto s = hostSigSampler("{kind: log, on: {host: h}, source: t}", oneLogEnv("t", path));
	(void)oneRound(*s);
	appendTo(path, "2026-12-06T11:36:20.123Z a\n2026-12-06T11:36:20.123456+01:00 b\n2026-12-06T11:36:20+0100 c\n"
		       "none\n2026-12-06Tgarbage\n");
	const auto tr = oneRound(*s); // the samples ofKind points into
	const auto lines = ofKind(tr, "log.line");
	REQUIRE(lines.size() == 5);
	const int64_t skew = clk::testSkew(); // agent wall clock: 0 outside clock-skew tests
	CHECK(valueOf(*lines[0], "line_wall_ns") == static_cast<double>(t * clk::kSec + 123000000 + skew));
	CHECK(valueOf(*lines[1], "line_wall_ns") == static_cast<double>((t - 3600) * clk::kSec + 123456000 + skew));
	CHECK(valueOf(*lines[2], "line_wall_ns") == static_cast<double>((t - 3600) * clk::kSec + skew));
	CHECK(lines[3]->values.count("line_wall_ns") == 0);
	CHECK(lines[4]->values.count("line_wall_ns") == 0);
	CHECK(lines[4]->values.count("prev_wall_ns") == 1);
}

TEST_CASE("log sampler: the per-round caps carry the rest to the next round; over-long lines are cut")
{
	TempDir d("hostsig");
	const std::string path = d.path + "/busy.log";
	appendTo(path, "");
	auto s = hostSigSampler("{kind: log, on: {host: h}, source: b}", oneLogEnv("b", path));
	(void)oneRound(*s);
	std::string text;
	for (int i = 1; i <= 2500; i++)
		text += "line " + std::to_string(i) + "\n";
	appendTo(path, text);
	auto r1 = oneRound(*s);
	auto l1 = lineTags(r1);
	REQUIRE(l1.size() == 2000);
	CHECK(l1.front() == "line 1");
	CHECK(l1.back() == "line 2000");
	CHECK(valueOf(summaryOf(r1, "log"), "capped") == 1);
	auto r2 = oneRound(*s);
	auto l2 = lineTags(r2);
	REQUIRE(l2.size() == 500);
	CHECK(l2.front() == "line 2001"); // nothing skipped, nothing repeated
	CHECK(l2.back() == "line 2500");
	CHECK(valueOf(summaryOf(r2, "log"), "capped") == 0);
	CHECK(valueOf(*ofKind(r2, "log.line")[0], "prev_wall_ns") == static_cast<double>(summaryOf(r1, "log").wallNs));

	// The byte cap: 600 lines of 8000 bytes are 4.8 MB, more than the 4 MiB of one round.
	const std::string big(7990, 'b');
	std::string bigText;
	for (int i = 0; i < 600; i++)
		bigText += std::to_string(1000 + i) + big + "\n";
	appendTo(path, bigText);
	auto b1 = oneRound(*s);
	const auto &bs1 = summaryOf(b1, "log");
	CHECK(valueOf(bs1, "read_bytes") <= 4.0 * 1024 * 1024);
	CHECK(valueOf(bs1, "capped") == 1);
	const size_t first = lineTags(b1).size();
	CHECK(first > 400);
	CHECK(first < 600);
	auto b2 = lineTags(oneRound(*s));
	REQUIRE(first + b2.size() == 600);
	CHECK(b2.front().substr(0, 4) == std::to_string(1000 + first));
	CHECK(b2.front().size() == 1000); // the line tag holds at most 1000 characters

	// Lines over 8 KiB: the regex sees the first 8 KiB; one written in two parts is reported once, when complete.
	auto m = hostSigSampler("{kind: log, on: {host: h}, source: b, match: MARK}", oneLogEnv("b", path));
	(void)oneRound(*m);
	appendTo(path, std::string(9000, 'a') + "MARK late\n" + "MARK" + std::string(20000, 'c') + "\n");
	auto m1 = oneRound(*m);
	REQUIRE(lineTags(m1).size() == 1);
	CHECK(lineTags(m1)[0] == "MARK" + std::string(996, 'c'));
	CHECK(valueOf(summaryOf(m1, "log"), "skipped_lines") == 1);
	appendTo(path, "MARK" + std::string(10000, 'd'));
	CHECK(lineTags(oneRound(*m)).empty());
	appendTo(path, std::string(5000, 'e') + "\nMARK next\n");
	CHECK(lineTags(oneRound(*m)) == std::vector<std::string>{"MARK" + std::string(996, 'd'), "MARK next"});
}

TEST_CASE("log sampler: the cap is shared fairly: the next round starts after the file where it struck")
{
	TempDir d("hostsig");
	SamplerEnv env;
	env.logs["pe"] = LogSourceDef{d.path, true, "*.trc", false};
	appendTo(d.path + "/a.trc", "");
	appendTo(d.path + "/b.trc", "");
	auto s = hostSigSampler("{kind: log, on: {host: h}, source: pe}", env);
	(void)oneRound(*s);
	std::string many;
	for (int i = 0; i < 3000; i++)
		many += "a" + std::to_string(i) + "\n";
	appendTo(d.path + "/a.trc", many);
	appendTo(d.path + "/b.trc", "b0\n");
	auto r1 = oneRound(*s);
	CHECK(lineTags(r1).size() == 2000);
	CHECK(lineTags(r1).back() == "a1999");
	auto r2 = lineTags(oneRound(*s));
	REQUIRE(r2.size() == 1001);
	CHECK(r2.front() == "b0"); // b's turn first
	CHECK(r2[1] == "a2000");
	CHECK(r2.back() == "a2999");
}

TEST_CASE("file sampler: what exists, then created, modified and deleted events in their window")
{
	TempDir d("hostsig");
	const std::string dir = d.path + "/snapshots";
	::mkdir(dir.c_str(), 0755);
	appendTo(dir + "/ckpt-1", "abc");
	appendTo(dir + "/ckpt-2", "defg");
	::mkdir((dir + "/sub").c_str(), 0755); // directories are not files
	appendTo(dir + "/sub/inner", "x");
	SamplerEnv env;
	env.files["snapshots"] = dir;
	auto s = hostSigSampler("{kind: file, on: {host: h}, source: snapshots}", env);

	auto r1 = oneRound(*s);
	const auto f1 = ofKind(r1, "file");
	REQUIRE(f1.size() == 2);
	CHECK(f1[0]->tags.at("file") == "ckpt-1");
	CHECK(f1[0]->source == "file:snapshots");
	CHECK(valueOf(*f1[0], "size_bytes") == 3);
	struct stat st{};
	REQUIRE(::stat((dir + "/ckpt-1").c_str(), &st) == 0);
	CHECK(valueOf(*f1[0], "mtime_ns") ==
	      static_cast<double>(st.st_mtim.tv_sec * clk::kSec + st.st_mtim.tv_nsec + clk::testSkew()));
	CHECK(ofKind(r1, "file.event").empty()); // the first round only sets the baseline
	const auto &sum1 = summaryOf(r1, "file.summary");
	CHECK(valueOf(sum1, "files") == 2);
	CHECK(valueOf(sum1, "exists") == 1);
	CHECK(sum1.tags.count("error") == 0);

	CHECK(ofKind(oneRound(*s), "file.event").empty()); // nothing changed
	const int64_t wallBefore = summaryOf(oneRound(*s), "file.summary").wallNs;

	appendTo(dir + "/ckpt-1", "more");          // modified (size)
	REQUIRE(::unlink((dir + "/ckpt-2").c_str()) == 0); // deleted
	appendTo(dir + "/ckpt-3", "new!!");          // created
	auto r2 = oneRound(*s);
	const int64_t afterRound = clk::wallNs();
	const auto ev = ofKind(r2, "file.event");
	REQUIRE(ev.size() == 3);
	CHECK(ev[0]->tags.at("event") == "deleted");
	CHECK(ev[0]->tags.at("file") == "ckpt-2");
	CHECK(valueOf(*ev[0], "size_bytes") == 4); // the last seen
	CHECK(ev[1]->tags.at("event") == "modified");
	CHECK(ev[1]->tags.at("file") == "ckpt-1");
	CHECK(valueOf(*ev[1], "size_bytes") == 7);
	CHECK(ev[2]->tags.at("event") == "created");
	CHECK(ev[2]->tags.at("file") == "ckpt-3");
	CHECK(valueOf(*ev[2], "size_bytes") == 5);
	for (const auto *e : ev) {
		CHECK(valueOf(*e, "prev_wall_ns") == static_cast<double>(wallBefore));
		// Seen by the end of the listing: not before the round began, not after it returned.
		CHECK(e->wallNs >= summaryOf(r2, "file.summary").wallNs);
		CHECK(e->wallNs <= afterRound);
		CHECK(e->values.count("mtime_ns") == 1);
	}
	CHECK(ofKind(r2, "file").size() == 2);

	// Only the modification time changed: modified too.
	const timespec times[2] = {{0, UTIME_OMIT}, {1700000000, 5}};
	REQUIRE(::utimensat(AT_FDCWD, (dir + "/ckpt-3").c_str(), times, 0) == 0);
	const auto r3 = oneRound(*s); // the samples ofKind points into
	const auto ev2 = ofKind(r3, "file.event");
	REQUIRE(ev2.size() == 1);
	CHECK(ev2[0]->tags.at("event") == "modified");
	CHECK(valueOf(*ev2[0], "mtime_ns") == static_cast<double>(1700000000 * clk::kSec + 5 + clk::testSkew()));
}

TEST_CASE("file sampler: a missing directory is zero files; a one-file source; errors and unknown sources")
{
	TempDir d("hostsig");
	const std::string dir = d.path + "/later";
	SamplerEnv env;
	env.files["later"] = dir;
	env.files["one"] = d.path + "/state.bin";
	env.files["fifo"] = d.path + "/pipe";
	auto s = hostSigSampler("{kind: file, on: {host: h}, source: later, interval: 500ms}", env);
	auto r1 = oneRound(*s);
	CHECK(ofKind(r1, "file").empty());
	const auto &sum = summaryOf(r1, "file.summary");
	CHECK(valueOf(sum, "files") == 0);
	CHECK(valueOf(sum, "exists") == 0);
	CHECK(sum.tags.count("error") == 0);
	::mkdir(dir.c_str(), 0755);
	appendTo(dir + "/first", "1");
	const auto r2 = oneRound(*s); // the samples ofKind points into
	const auto ev = ofKind(r2, "file.event");
	REQUIRE(ev.size() == 1);
	CHECK(ev[0]->tags.at("event") == "created");
	CHECK(valueOf(*ev[0], "prev_wall_ns") == static_cast<double>(sum.wallNs));

	appendTo(d.path + "/state.bin", "0123456789");
	auto one = hostSigSampler("{kind: file, on: {host: h}, source: one}", env);
	const auto r3 = oneRound(*one); // the samples ofKind points into
	const auto f = ofKind(r3, "file");
	REQUIRE(f.size() == 1);
	CHECK(f[0]->tags.at("file") == "state.bin");
	CHECK(valueOf(*f[0], "size_bytes") == 10);

	REQUIRE(::mkfifo((d.path + "/pipe").c_str(), 0600) == 0);
	auto p = hostSigSampler("{kind: file, on: {host: h}, source: fifo}", env);
	auto pr = oneRound(*p);
	CHECK(valueOf(summaryOf(pr, "file.summary"), "exists") == 1);
	CHECK(test::contains(summaryOf(pr, "file.summary").tags.at("error"), "neither a regular file nor a directory"));

	auto spec = evidence::parseSamplerText("{kind: file, on: {host: h}, source: nope}", "<test>");
	REQUIRE(spec.ok());
	auto u = makeSampler(*spec, env);
	REQUIRE(!u.ok());
	CHECK(u.error().code == Errc::Refused);
	CHECK(test::contains(u.error().message, "evidence.files: fifo, later, one"));
}
