// SPDX-License-Identifier: Apache-2.0
// JSON logs: every line parses, whatever the message holds.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/log.h"

TEST_CASE("json log lines stay valid JSON with quotes, backslashes and control characters")
{
	char tmpl[] = "/tmp/xdc-logtest-XXXXXX";
	int fd = mkstemp(tmpl);
	REQUIRE(fd >= 0);
	close(fd);
	REQUIRE(xdc::log::init({.level = "info", .format = "json", .file = tmpl}).ok());
	const std::string nasty = "he said \"hi\" \\ then\nnew line\ttab \x01";
	xdc::log::get("logtest")->info("{}", nasty);
	spdlog::drop_all();
	std::ifstream f(tmpl);
	std::string line;
	int lines = 0;
	while (std::getline(f, line)) {
		auto j = nlohmann::json::parse(line, nullptr, false);
		REQUIRE_FALSE(j.is_discarded());
		CHECK(j["msg"] == nasty);
		CHECK(j["logger"] == "logtest");
		lines++;
	}
	CHECK(lines == 1);
	unlink(tmpl);
	REQUIRE(xdc::log::init({}).ok());
	CHECK_FALSE(xdc::log::init({.level = "loud"}).ok());
	CHECK_FALSE(xdc::log::init({.format = "xml"}).ok());
}
