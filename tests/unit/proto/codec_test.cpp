// SPDX-License-Identifier: Apache-2.0
// Frame codec: round trips, and every malformed input lands in its drop category without throwing.
#include <doctest/doctest.h>

#include <random>

#include "common/proto/codec.h"

using namespace xdc::proto;

namespace {
Header hdr(const std::string &sender = "dc1-h1")
{
	Header h;
	h.id = 42;
	h.wallNs = 1700000000000000000;
	h.monoNs = 123456789;
	h.sender = sender;
	return h;
}
std::span<const uint8_t> span(const std::string &s) { return {reinterpret_cast<const uint8_t *>(s.data()), s.size()}; }
} // namespace

TEST_CASE("hello round-trips with header fields intact")
{
	Hello h;
	h.agentId = "dc2-h1";
	h.dc = "dc2";
	h.labels = {{"role", "streams"}};
	h.capabilities = {{"nft", "yes"}, {"qdisc.netem", "no: kernel lacks sch_netem"}};
	h.pid = 77;
	auto bytes = encode(h, hdr());
	auto fr = decodeFrame(span(bytes));
	REQUIRE(fr.ok());
	CHECK(fr.frame().header.type == MsgType::Hello);
	CHECK(fr.frame().header.id == 42);
	CHECK(fr.frame().header.sender == "dc1-h1");
	CHECK(fr.frame().header.wallNs == 1700000000000000000);
	auto back = decodeBody<Hello>(fr.frame().body);
	REQUIRE(back.ok());
	CHECK(back->agentId == "dc2-h1");
	CHECK(back->labels.at("role") == "streams");
	CHECK(back->capabilities.size() == 2);
	CHECK(back->pid == 77);
}

TEST_CASE("command args travel as typed msgpack")
{
	Command c;
	c.id = 9;
	c.nonce = 0xdeadbeef;
	c.notAfterNs = 5;
	c.name = "ping";
	c.args = packBytes(PingArgs{"hi"});
	const std::string bytes = encode(c, hdr("controller"));
	auto fr = decodeFrame(span(bytes));
	REQUIRE(fr.ok());
	auto back = decodeBody<Command>(fr.frame().body);
	REQUIRE(back.ok());
	auto args = unpackBytes<PingArgs>(back->args);
	REQUIRE(args.ok());
	CHECK(args->text == "hi");
	CHECK_FALSE(unpackBytes<Hello>(Bytes{0xc1}).ok());
}

TEST_CASE("each kind of damage is classified")
{
	const std::string good = encode(Heartbeat{}, hdr());
	SUBCASE("oversized") {
		auto fr = decodeFrame(span(good), good.size() - 1);
		REQUIRE_FALSE(fr.ok());
		CHECK(fr.error().reason == Drop::Oversized);
	}
	SUBCASE("truncated below the header") {
		auto fr = decodeFrame(span(good.substr(0, 20)));
		REQUIRE_FALSE(fr.ok());
		CHECK(fr.error().reason == Drop::Truncated);
	}
	SUBCASE("truncated body") {
		auto fr = decodeFrame(span(good.substr(0, good.size() - 1)));
		REQUIRE_FALSE(fr.ok());
		CHECK(fr.error().reason == Drop::Truncated);
	}
	SUBCASE("bad magic") {
		std::string b = good;
		b[0] = 'Y';
		CHECK(decodeFrame(span(b)).error().reason == Drop::BadMagic);
	}
	SUBCASE("unsupported versions") {
		std::string b = good;
		b[2] = static_cast<char>(kVersion + 1);
		CHECK(decodeFrame(span(b)).error().reason == Drop::BadVersion);
		b[2] = 0;
		CHECK(decodeFrame(span(b)).error().reason == Drop::BadVersion);
	}
	SUBCASE("unknown type") {
		std::string b = good;
		b[3] = static_cast<char>(kMaxMsgType + 1);
		CHECK(decodeFrame(span(b)).error().reason == Drop::UnknownType);
		b[3] = 0;
		CHECK(decodeFrame(span(b)).error().reason == Drop::UnknownType);
	}
	SUBCASE("trailing bytes") {
		CHECK(decodeFrame(span(good + "x")).error().reason == Drop::Malformed);
	}
	SUBCASE("body of the wrong shape") {
		Header h = hdr();
		h.type = MsgType::Heartbeat;
		const uint8_t notAMap[] = {0xa3, 'a', 'b', 'c'};
		auto bytes = encodeRaw(h, notAMap);
		auto fr = decodeFrame(span(bytes));
		REQUIRE(fr.ok());
		CHECK_FALSE(decodeBody<Heartbeat>(fr.frame().body).ok());
	}
	SUBCASE("field of the wrong type") {
		// {"seq": "text"}
		const uint8_t body[] = {0x81, 0xa3, 's', 'e', 'q', 0xa4, 't', 'e', 'x', 't'};
		Header h = hdr();
		h.type = MsgType::Heartbeat;
		auto bytes = encodeRaw(h, body);
		auto fr = decodeFrame(span(bytes));
		REQUIRE(fr.ok());
		CHECK_FALSE(decodeBody<Heartbeat>(fr.frame().body).ok());
	}
}

TEST_CASE("unknown fields are skipped and missing ones keep defaults (N-1 compatibility)")
{
	// {"seq": 7, "future_field": [1,2]}
	const uint8_t body[] = {0x82, 0xa3, 's', 'e', 'q', 0x07, 0xac, 'f', 'u', 't', 'u', 'r', 'e', '_', 'f', 'i', 'e', 'l',
				'd', 0x92, 0x01, 0x02};
	auto hb = decodeBody<Heartbeat>(body);
	REQUIRE(hb.ok());
	CHECK(hb->seq == 7);
	CHECK(hb->activeFaults == 0);
}

TEST_CASE("random bytes never throw and never decode into a message by accident")
{
	std::mt19937 rng(1234);
	for (int i = 0; i < 20000; i++) {
		std::string b(static_cast<size_t>(rng() % 200), '\0');
		for (auto &c : b)
			c = static_cast<char>(rng());
		if (i % 2 && b.size() >= 4) {
			b[0] = static_cast<char>(kMagic0);
			b[1] = static_cast<char>(kMagic1);
			b[2] = static_cast<char>(kVersion);
			b[3] = static_cast<char>(1 + rng() % kMaxMsgType);
		}
		auto fr = decodeFrame(span(b));
		if (fr.ok()) {
			(void)decodeBody<Hello>(fr.frame().body);
			(void)decodeBody<Command>(fr.frame().body);
			(void)decodeBody<EvidenceBatch>(fr.frame().body);
		}
	}
	CHECK(true);
}

TEST_CASE("hostile msgpack sizes are refused by the unpack limits")
{
	// array32 claiming 2^32-1 elements with no data, and 40 levels of nesting.
	const uint8_t huge[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
	CHECK_FALSE(decodeBody<Hello>(huge).ok());
	std::vector<uint8_t> deep(40, 0x91);
	deep.push_back(0x01);
	CHECK_FALSE(decodeBody<Hello>(deep).ok());
}
