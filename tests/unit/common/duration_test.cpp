// SPDX-License-Identifier: Apache-2.0
// Duration parsing and printing.
#include <doctest/doctest.h>

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
