// SPDX-License-Identifier: Apache-2.0
// data.tail: offsets, partial last lines, truncation and replacement of a sink file, the configured names only.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "agent/config.h"
#include "agent/data/sink_tail.h"

#include "tests/unit/unit_util.h"

using namespace xdc;
using namespace xdc::test;
using namespace xdc::agent;

namespace {

void append(const std::filesystem::path &p, const std::string &text)
{
	std::ofstream f(p, std::ios::app | std::ios::binary);
	f << text;
}

proto::DataTailReply tailOk(const std::string &path, const proto::DataTailArgs &a, uint64_t cap = kDataTailMaxBytes)
{
	auto r = tailFile(path, a, cap);
	REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
	return *r;
}

// Follows the file the way the controller's reader does: the previous reply's nextOffset and inode.
proto::DataTailArgs next(const proto::DataTailReply &r, uint64_t maxBytes = 0)
{
	return {.sink = "s", .offset = r.nextOffset, .inode = r.inode, .maxBytes = maxBytes, .fromEnd = false};
}

} // namespace

TEST_CASE("data.tail: complete lines only, from the offset; a partial last line waits for its end")
{
	TempDir d("sinktail");
	const auto p = d.path + "/sink.jsonl";
	append(p, "a1\nb22\nc3");
	auto r = tailOk(p, {});
	CHECK(r.data == "a1\nb22\n");
	CHECK(r.offset == 0);
	CHECK(r.nextOffset == 7);
	CHECK(r.size == 9);
	CHECK(r.inode != 0);
	CHECK_FALSE(r.restarted);
	// Nothing complete yet: no data, the offset stays.
	auto r2 = tailOk(p, next(r));
	CHECK(r2.data.empty());
	CHECK(r2.nextOffset == 7);
	append(p, "33\nd4\n");
	auto r3 = tailOk(p, next(r2));
	CHECK(r3.data == "c333\nd4\n");
	CHECK(r3.offset == 7);
	CHECK(r3.nextOffset == 15);
	CHECK(tailOk(p, next(r3)).data.empty());
}

TEST_CASE("data.tail: maxBytes and the cap cut at the last complete line; a line longer than the limit is an error")
{
	TempDir d("sinktail");
	const auto p = d.path + "/sink.jsonl";
	append(p, "aaaa\nbbbb\ncccc\n");
	auto r = tailOk(p, {.sink = "s", .offset = 0, .inode = 0, .maxBytes = 12, .fromEnd = false});
	CHECK(r.data == "aaaa\nbbbb\n");
	auto r2 = tailOk(p, next(r, 12));
	CHECK(r2.data == "cccc\n");
	// The agent's cap wins over a larger maxBytes.
	auto capped = tailOk(p, {.sink = "s", .offset = 0, .inode = 0, .maxBytes = 1000, .fromEnd = false}, 7);
	CHECK(capped.data == "aaaa\n");
	auto tooLong = tailFile(p, {.sink = "s", .offset = 0, .inode = 0, .maxBytes = 3, .fromEnd = false});
	REQUIRE_FALSE(tooLong);
	CHECK(tooLong.error().message.find("longer than 3 bytes") != std::string::npos);
}

TEST_CASE("data.tail: a truncated or replaced file is read again from 0 and the reply says so")
{
	TempDir d("sinktail");
	const auto p = d.path + "/sink.jsonl";
	append(p, "one\ntwo\nthree\n");
	auto r = tailOk(p, {});
	REQUIRE(r.nextOffset == 14);
	// Truncated (shorter than the offset): same inode, read from 0.
	std::filesystem::resize_file(p, 0);
	append(p, "x\n");
	auto t = tailOk(p, next(r));
	CHECK(t.restarted);
	CHECK(t.offset == 0);
	CHECK(t.data == "x\n");
	// Replaced (rename over it): another inode, read from 0 even though it is longer than the offset.
	const auto tmp = d.path + "/new";
	append(tmp, "n1\nn2\nn3\nn4\n");
	std::filesystem::rename(tmp, p);
	auto n = tailOk(p, next(t));
	CHECK(n.restarted);
	CHECK(n.data == "n1\nn2\nn3\nn4\n");
	CHECK_FALSE(tailOk(p, next(n)).restarted);
	// Removed: empty, restarted; then it comes back and is read from 0 (the inode it had is gone: 0).
	std::filesystem::remove(p);
	auto gone = tailOk(p, next(n));
	CHECK(gone.restarted);
	CHECK(gone.inode == 0);
	CHECK(gone.nextOffset == 0);
	append(p, "back\n");
	CHECK(tailOk(p, next(gone)).data == "back\n");
}

TEST_CASE("data.tail: fromEnd skips to after the last complete line")
{
	TempDir d("sinktail");
	const auto p = d.path + "/sink.jsonl";
	// A last line longer than the backward scan's chunk, still being written.
	append(p, "old1\nold2\n" + std::string(70000, 'p'));
	auto r = tailOk(p, {.sink = "s", .offset = 0, .inode = 0, .maxBytes = 0, .fromEnd = true});
	CHECK(r.data.empty());
	CHECK(r.nextOffset == 10);
	append(p, "\nnew\n");
	auto r2 = tailOk(p, next(r));
	CHECK(r2.data == std::string(70000, 'p') + "\nnew\n");
	// Not there yet: offset 0, and whatever it later holds is new.
	auto none = tailOk(d.path + "/absent", {.sink = "s", .offset = 0, .inode = 0, .maxBytes = 0,
							  .fromEnd = true});
	CHECK(none.nextOffset == 0);
	CHECK_FALSE(none.restarted);
}

TEST_CASE("data.tail: only the configured names; the agent config checks names and paths")
{
	TempDir d("sinktail");
	const auto p = d.path + "/out.jsonl";
	append(p, "l\n");
	const std::map<std::string, std::string> sinks{{"streams-out", p}};
	auto ok = tailSink(sinks, {.sink = "streams-out", .offset = 0, .inode = 0, .maxBytes = 0, .fromEnd = false});
	REQUIRE(ok);
	CHECK(ok->data == "l\n");
	auto unknown = tailSink(sinks, {.sink = "/etc/shadow", .offset = 0, .inode = 0, .maxBytes = 0, .fromEnd = false});
	REQUIRE_FALSE(unknown);
	CHECK(unknown.error().code == Errc::NotFound);
	CHECK(unknown.error().message.find("no sink '/etc/shadow'") != std::string::npos);
	CHECK(unknown.error().message.find("streams-out") != std::string::npos);
	auto dir = tailSink({{"d", d.path}}, {.sink = "d", .offset = 0, .inode = 0, .maxBytes = 0,
						       .fromEnd = false});
	REQUIRE_FALSE(dir);
	CHECK(dir.error().message.find("not a regular file") != std::string::npos);

	CHECK(validSinkName("streams-out"));
	CHECK(validSinkName("a.b_c-1"));
	CHECK_FALSE(validSinkName(""));
	CHECK_FALSE(validSinkName("a/b"));
	CHECK_FALSE(validSinkName(std::string(65, 'a')));

	auto load = [&](const std::string &yaml) {
		const auto f = d.path + "/agent.yaml";
		std::ofstream(f) << yaml;
		return loadAgentConfig(f);
	};
	auto c = load("dc: dc1\ndata:\n  sinks: {streams-out: /var/lib/streams/out.jsonl}\n");
	REQUIRE(c);
	CHECK(c->data.sinks.at("streams-out") == "/var/lib/streams/out.jsonl");
	auto rel = load("dc: dc1\ndata:\n  sinks: {out: relative/out.jsonl}\n");
	REQUIRE_FALSE(rel);
	CHECK(rel.error().message.find("data.sinks.out: expected an absolute path") != std::string::npos);
	auto dots = load("dc: dc1\ndata:\n  sinks: {out: /var/../etc/shadow}\n");
	CHECK_FALSE(dots);
	auto badName = load("dc: dc1\ndata:\n  sinks: {\"a b\": /x}\n");
	REQUIRE_FALSE(badName);
	CHECK(badName.error().message.find("'a b'") != std::string::npos);
	auto unknownKey = load("dc: dc1\ndata:\n  sink: {out: /x}\n");
	CHECK_FALSE(unknownKey);
}
