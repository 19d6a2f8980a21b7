// SPDX-License-Identifier: Apache-2.0
// Tests of the streams: config loader: defaults and overrides, passwords from files and the environment, errors.
#include <cstdlib>
#include <fstream>

#include <unistd.h>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "controller/streams/config.h"

#include "tests/unit/unit_util.h"

using namespace xdc::test;
using namespace xdc;
using namespace xdc::streams;

namespace {

// A password file that removes itself.
struct TempFile {
	std::string path;
	explicit TempFile(const std::string &content)
	{
		char p[] = "/tmp/xdc-pw-XXXXXX";
		const int fd = ::mkstemp(p);
		path = p;
		if (fd >= 0) {
			(void)!::write(fd, content.data(), content.size());
			::close(fd);
		}
	}
	~TempFile() { ::unlink(path.c_str()); }
};

} // namespace

TEST_CASE("streams config: defaults, per-instance overrides, passwords from a file and the environment")
{
	TempFile pw("  s3cret \nsecond line\n");
	::setenv("XDC_TEST_STREAMS_PW", "from-env", 1);
	const std::string yaml = fmt::format(R"(
streams:
  defaults: {{user: streamsadmin, password_file: {}, insecure: false, timeout: 5s, connect_timeout: 500ms,
             retries: 3, page_size: 50, tokens: true, job_name: CrossDcApp, application: CrossDcApp}}
  instances:
    - {{dc: dc1, url: "https://h1:8443/", instance: inst1, path_style: resources}}
    - dc: dc2
      url: http://h2:8080
      instance: inst2
      path_style: instances
      user: other
      password_env: XDC_TEST_STREAMS_PW
      tokens: false
      timeout: 2s
      ca_file: /etc/ca.pem
)", pw.path);
	auto r = parseStreamsConfig(yaml, "streams.yaml");
	REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
	REQUIRE(r->size() == 2);
	const Endpoint &a = (*r)[0];
	CHECK(a.dc == "dc1");
	CHECK(a.url == "https://h1:8443");
	CHECK(a.style == PathStyle::Resources);
	CHECK(a.user == "streamsadmin");
	CHECK(a.password == "s3cret");
	CHECK(a.timeoutMs == 5000);
	CHECK(a.connectTimeoutMs == 500);
	CHECK(a.retries == 3);
	CHECK(a.pageSize == 50);
	CHECK(a.useTokens);
	CHECK(a.jobName == "CrossDcApp");
	const Endpoint &b = (*r)[1];
	CHECK(b.style == PathStyle::Instances);
	CHECK(b.user == "other");
	CHECK(b.password == "from-env");
	CHECK_FALSE(b.useTokens);
	CHECK(b.timeoutMs == 2000);
	CHECK(b.caFile == "/etc/ca.pem");
	CHECK(b.application == "CrossDcApp");
	::unsetenv("XDC_TEST_STREAMS_PW");
}

TEST_CASE("streams config: errors name the file, line, key and what was expected")
{
	struct Case {
		const char *yaml;
		const char *expect;
	};
	const Case cases[] = {
		{"streams:\n  instances:\n    - {dc: dc1, url: http://h:1, timout: 5s}\n",
		 "streams.yaml:3:34: streams.instances[0].timout: unknown key; did you mean 'timeout'?"},
		{"streams:\n  defaults: {retries: many}\n  instances: [{dc: a, url: http://h:1}]\n",
		 "streams.yaml:2:23: streams.defaults.retries: expected an integer"},
		{"streams:\n  instances:\n    - {dc: dc1, url: http://h:1, timeout: 5}\n", "streams.instances[0].timeout"},
		{"streams:\n  instances:\n    - {dc: dc1, url: ftp://h:1}\n", "streams.yaml:3:22: streams.instances[0].url"},
		{"streams:\n  instances:\n    - {dc: dc1, url: http://h:1/streams/rest}\n", "has a path"},
		{"streams:\n  instances:\n    - {dc: dc1, url: http://u:p@h:1}\n", "credentials in the URL"},
		{"streams:\n  instances:\n    - {url: http://h:1}\n", "streams.instances[0].dc: required"},
		{"streams:\n  instances:\n    - {dc: a, url: http://h:1, path_style: v7}\n",
		 "'v7' (expected auto, resources or instances)"},
		{"streams:\n  instances:\n    - {dc: a, url: http://h:1, password_file: /nonexistent/pw}\n",
		 "streams.yaml:3:47: streams.instances[0].password_file: cannot read '/nonexistent/pw'"},
		{"streams:\n  instances:\n    - {dc: a, url: http://h:1, password_env: XDC_SURELY_UNSET_VAR}\n",
		 "environment variable XDC_SURELY_UNSET_VAR is not set"},
		{"streams:\n  instances: []\n", "expected a list of at least one instance"},
		{"streams:\n  instance: []\n", "did you mean 'instances'?"},
		{"stream: {}\n", "did you mean 'streams'?"},
		{"streams:\n  instances:\n    - {dc: a, url: http://h:1}\n    - {dc: a, url: http://h:2}\n",
		 "streams.instances[1].dc: 'a' is given twice"},
		{"streams: [\n", "streams.yaml:"},
	};
	for (const auto &c : cases) {
		auto r = parseStreamsConfig(c.yaml, "streams.yaml");
		REQUIRE_MESSAGE(!r.ok(), c.yaml);
		CHECK(r.error().code == Errc::Invalid);
		CHECK_MESSAGE(contains(r.error().message, c.expect), r.error().message);
	}
}

TEST_CASE("streams config: a missing file is NotFound")
{
	auto r = loadStreamsConfig("/nonexistent/streams.yaml");
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().code == Errc::NotFound);
	CHECK(contains(r.error().message, "/nonexistent/streams.yaml"));
}
