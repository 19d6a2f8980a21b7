// SPDX-License-Identifier: Apache-2.0
// Duration parsing and printing.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "common/duration.h"
#include "common/yaml_reader.h"

using namespace xdc;
using namespace std::chrono_literals;

TEST_CASE("durations users write")
{
	CHECK(*parseDuration("250ms") == 250ms);
	CHECK(*parseDuration("3s") == 3s);
	CHECK(*parseDuration("2m") == 2min);
	CHECK(*parseDuration("1m30s") == 90s);
	CHECK(*parseDuration("1.5s") == 1500ms);
	CHECK(*parseDuration("100us") == 100us);
	CHECK(*parseDuration("0") == 0s);
	CHECK(*parseDuration(" 1h ") == 1h);
}

TEST_CASE("bad durations name the problem")
{
	for (const char *bad : {"", "5", "-3s", "3x", "s", "1.5.2s", "3 s", "99999999999999h"}) {
		auto r = parseDuration(bad);
		CHECK_MESSAGE(!r.ok(), bad);
	}
	CHECK(parseDuration("-3s").error().message.find("negative") != std::string::npos);
	CHECK(parseDuration("3x").error().message.find("unknown unit 'x'") != std::string::npos);
}

TEST_CASE("formatting picks the largest exact unit")
{
	CHECK(formatDuration(1500ms) == "1500ms");
	CHECK(formatDuration(120s) == "2m");
	CHECK(formatDuration(0s) == "0s");
	CHECK(formatDuration(250ms) == "250ms");
}

TEST_CASE("formatApprox: ms below 10 s, then seconds and minutes to three significant figures")
{
	using namespace std::chrono_literals;
	CHECK(formatApprox(0s) == "0 ms");
	CHECK(formatApprox(850ms) == "850 ms");
	CHECK(formatApprox(9999ms) == "9999 ms");
	CHECK(formatApprox(10s) == "10.0 s");
	CHECK(formatApprox(22754ms) == "22.8 s");
	CHECK(formatApprox(99960ms) == "100 s");
	CHECK(formatApprox(125s) == "125 s");
	CHECK(formatApprox(3725s) == "62.1 min");
	CHECK(formatApprox(-1500ms) == "-1500 ms");
}

TEST_CASE("sizes")
{
	CHECK(*parseSize("4MiB") == 4u << 20);
	CHECK(*parseSize("65536") == 65536u);
	CHECK_FALSE(parseSize("4XB").ok());
	CHECK_FALSE(parseSize("MiB").ok());
}

TEST_CASE("yaml reader names file, line, key and what was expected")
{
	auto doc = parseYaml("listen: tcp://x\nheartbeat: fast\n", "c.yaml");
	REQUIRE(doc.ok());
	MapReader r(*doc, "c.yaml", "");
	std::string listen;
	std::chrono::milliseconds hb{1000};
	r.str("listen", listen);
	r.duration("heartbeat", hb);
	auto res = r.result();
	REQUIRE_FALSE(res.ok());
	CHECK(res.error().message.find("c.yaml:2:12: heartbeat:") == 0);

	auto doc2 = parseYaml("listen: a\nheartbaet: 1s\n", "c.yaml");
	MapReader r2(*doc2, "c.yaml", "");
	r2.str("listen", listen);
	r2.duration("heartbeat", hb);
	r2.rejectUnknown();
	REQUIRE_FALSE(r2.ok());
	CHECK(r2.result().error().message.find("did you mean 'heartbeat'") != std::string::npos);

	auto broken = parseYaml("a: [1, 2\n", "b.yaml");
	REQUIRE_FALSE(broken.ok());
	CHECK(broken.error().message.find("b.yaml:") == 0);
}

TEST_CASE("yaml reader: a key given twice, bad bytes and tab indentation are errors naming where")
{
	auto dup = parseYaml("a: 1\nb:\n  x: 1\n  y: [1, {k: 1, k: 2}]\n  x: 3\n", "d.yaml");
	REQUIRE_FALSE(dup.ok());
	// The first duplicate in document order: b.y[1].k (line 4) comes before b.x (line 5).
	CHECK(dup.error().message == "d.yaml:4:17: b.y[1].k: key given twice (first at line 4, column 11); a key "
				     "appears once in a mapping");
	auto top = parseYaml("assertions: []\nname: n\nassertions: [x]\n", "t.yaml");
	REQUIRE_FALSE(top.ok());
	CHECK(top.error().message.find("t.yaml:3:1: assertions: key given twice (first at line 1, column 1)") == 0);
	// Keys that differ only in case are different keys.
	CHECK(parseYaml("a: 1\nA: 2\n", "c.yaml").ok());

	auto utf = parseYaml("name: \"ok\"\nother:\n  v: ab\xff" "c\n", "u.yaml");
	REQUIRE_FALSE(utf.ok());
	CHECK(utf.error().message == "u.yaml:3:8: other.v: invalid UTF-8 (byte 0xFF)");
	auto comment = parseYaml("a: 1 # caf\xe9\n", "u.yaml");
	REQUIRE_FALSE(comment.ok());
	CHECK(comment.error().message == "u.yaml:1:11: (comment): invalid UTF-8 (byte 0xE9)");
	// Overlong forms and surrogates are not UTF-8; proper multi-byte characters are.
	CHECK_FALSE(parseYaml("a: \xc0\xaf\n", "u.yaml").ok());
	CHECK_FALSE(parseYaml("a: \xed\xa0\x80\n", "u.yaml").ok());
	CHECK(parseYaml("a: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n", "u.yaml").ok());
	auto ctl = parseYaml("a: x\x07y\n", "c.yaml");
	REQUIRE_FALSE(ctl.ok());
	CHECK(ctl.error().message == "c.yaml:1:5: a: a control character (0x07)");
	auto nul = parseYaml(std::string("a: 1\n\0", 6), "n.yaml");
	REQUIRE_FALSE(nul.ok());
	CHECK(nul.error().message.find("n.yaml:1:1: (document): not a text file") == 0);

	auto tab = parseYaml("a:\n  b: 1\n\tc: 2\n", "tab.yaml");
	REQUIRE_FALSE(tab.ok());
	CHECK_MESSAGE(tab.error().message.find("a tab in the indentation") != std::string::npos, tab.error().message);
	CHECK(tab.error().message.find("tab.yaml:3:") == 0);

	// Aliases are walked once: a billion-laughs document is not expanded by the checks.
	std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
	for (char c = 'b'; c <= 'z'; c++) {
		const std::string p(1, static_cast<char>(c - 1));
		bomb += fmt::format("{0}: &{0} [*{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}]\n", std::string(1, c), p);
	}
	CHECK(parseYaml(bomb, "bomb.yaml").ok());
}
