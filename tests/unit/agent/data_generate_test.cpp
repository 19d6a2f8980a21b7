// SPDX-License-Identifier: Apache-2.0
// data.generate.*: the agent's checks of the generator's arguments, one run per id, stop's figures.
#include <doctest/doctest.h>

#include <string>

#include "agent/data/generate.h"

using namespace xdc;
using namespace xdc::agent;

namespace {

proto::DataGenerateStartArgs good()
{
	proto::DataGenerateStartArgs a;
	a.runId = "r1.gen";
	a.seed = 7;
	a.rate = 100;
	a.keys = 4;
	a.payload = 8;
	a.maxDurationMs = 60000;
	a.sources.push_back({.name = "dc1", .kind = "tcp", .url = "", .host = "127.0.0.1", .port = 1, .user = "",
			     .password = "", .caFile = "", .insecure = false});
	a.sources.push_back({.name = "dc2", .kind = "http_json", .url = "http://127.0.0.1:1/src", .host = "", .port = 0,
			     .user = "u", .password = "p", .caFile = "", .insecure = false});
	return a;
}

} // namespace

TEST_CASE("data.generate.start: the agent checks rates, keys, sources and the duration")
{
	CHECK(validateGenerateArgs(good()));
	struct Bad {
		void (*change)(proto::DataGenerateStartArgs &);
		const char *says;
	};
	const Bad bad[] = {
		{[](auto &a) { a.runId = "a/b"; }, "runId 'a/b'"},
		{[](auto &a) { a.rate = 0; }, "rate 0"},
		{[](auto &a) { a.rate = 2e6; }, "rate 2000000"},
		{[](auto &a) { a.keys = 0; }, "keys 0"},
		{[](auto &a) { a.keys = 200000; }, "keys 200000"},
		{[](auto &a) { a.payload = 1 << 20; }, "payload"},
		{[](auto &a) { a.maxDurationMs = 0; }, "maxDurationMs 0"},
		{[](auto &a) { a.sources.clear(); }, "0 sources"},
		{[](auto &a) { a.sources[1].url = "file:///etc/shadow"; }, "only http:// and https://"},
		{[](auto &a) { a.sources[1].url = "gopher://x"; }, "only http:// and https://"},
		{[](auto &a) { a.sources[0].host = "dc1-h1"; }, "expected a numeric address"},
		{[](auto &a) { a.sources[0].port = 70000; }, "port 70000"},
		{[](auto &a) { a.sources[0].kind = "udp"; }, "kind 'udp'"},
		{[](auto &a) {
			 a.burstEveryNs = 100;
			 a.burstForNs = 100;
		 },
		 "bursts"},
		{[](auto &a) { a.rampFrom = 10; }, "ramp"},
	};
	for (const auto &b : bad) {
		auto a = good();
		b.change(a);
		auto r = validateGenerateArgs(a);
		REQUIRE_FALSE_MESSAGE(r, b.says);
		CHECK_MESSAGE(r.error().message.find(b.says) != std::string::npos, r.error().message);
	}
}

TEST_CASE("data.generate: one run per id; stop returns its figures once; nothing accepted is nothing sent")
{
	DataGenerators g;
	auto a = good();
	auto bad = a;
	bad.sources[0].host = "example.org";
	CHECK_FALSE(g.start(bad)); // refused before anything runs
	auto s = g.start(a);
	REQUIRE_MESSAGE(s, (s ? "" : s.error().message));
	CHECK(s->runId == "r1.gen");
	CHECK(s->startedNs > 0);
	auto again = g.start(a);
	REQUIRE_FALSE(again);
	CHECK(again.error().code == Errc::Exists);
	// Both sources refuse (nothing listens on port 1): nothing is accepted, so nothing counts as sent.
	auto r = g.stop("r1.gen");
	REQUIRE(r);
	CHECK(r->accepted == 0);
	CHECK(r->sentPerKey.size() == 4);
	for (const auto &kv : r->sentPerKey)
		CHECK(kv.second == 0);
	CHECK(r->uncertain == 0);
	CHECK_FALSE(r->expired);
	CHECK(r->stoppedNs >= r->startedNs);
	auto gone = g.stop("r1.gen");
	REQUIRE_FALSE(gone);
	CHECK(gone.error().code == Errc::NotFound);
}
