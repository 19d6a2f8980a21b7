// SPDX-License-Identifier: Apache-2.0
// docs/FAULTS.md's key and kinds tables are generated from the declarations (common/fault/keys.cpp,
// spec_parser.h's kKinds): these tests fail, and print the table to paste, when the two differ.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "common/fault/spec.h"

#ifndef XDC_SOURCE_ROOT
#error "tests/meson.build defines XDC_SOURCE_ROOT for this file"
#endif

TEST_CASE("docs/FAULTS.md's key table is the keys' declarations")
{
	std::ifstream f(std::string(XDC_SOURCE_ROOT) + "/docs/FAULTS.md");
	REQUIRE(f.good());
	std::stringstream ss;
	ss << f.rdbuf();
	const std::string table = xdc::fault::keysMarkdown();
	INFO("the table docs/FAULTS.md must hold under '## Keys':\n" << table);
	CHECK(ss.str().find(table) != std::string::npos);
}

TEST_CASE("docs/FAULTS.md's kinds table is the kinds' declarations")
{
	std::ifstream f(std::string(XDC_SOURCE_ROOT) + "/docs/FAULTS.md");
	REQUIRE(f.good());
	std::stringstream ss;
	ss << f.rdbuf();
	const std::string table = xdc::fault::kindsMarkdown();
	INFO("the table docs/FAULTS.md must hold under its kinds heading:\n" << table);
	CHECK(ss.str().find(table) != std::string::npos);
}

TEST_CASE("every key of the table is one the parser reads and the printer prints back")
{
	// A delay fault with every key it takes prints them back in the table's order.
	auto spec = xdc::fault::parseSpecText("{kind: network.delay, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, "
					      "delay: 100ms, jitter: 10ms, correlation: 25, protocol: tcp, ports: [80]}",
					      "t.yaml");
	REQUIRE(spec);
	CHECK(xdc::fault::toYaml(*spec) ==
	      "{kind: network.delay, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, direction: both, protocol: tcp, "
	      "ports: [80], delay: 100ms, jitter: 10ms, correlation: 25}");
}
