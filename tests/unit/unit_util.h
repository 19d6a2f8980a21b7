// SPDX-License-Identifier: Apache-2.0
// Small helpers shared by the unit tests. They live here once rather than in each test file: the unity build
// (scripts/test.sh's sanitizer build) compiles several test files as one, where two copies would collide.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/clock.h"

namespace xdc::test {

using clk::kMs;
// A fixed wall time (2023-11-14T22:13:20Z) that timeline tests start from.
constexpr int64_t kT0 = 1'700'000'000'000'000'000;

// Proxies from the environment would take the unit tests' 127.0.0.1 requests elsewhere: cleared before main().
struct NoProxy {
	NoProxy()
	{
		for (const char *v : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
			::unsetenv(v);
	}
};
inline NoProxy noProxy;

inline bool contains(const std::string &hay, const std::string &needle)
{
	return hay.find(needle) != std::string::npos;
}

// A fresh directory /tmp/xdc-<tag>-XXXXXX, removed with everything in it when the object goes.
struct TempDir {
	std::string path;
	explicit TempDir(const std::string &tag = "unit")
	{
		std::string tmpl = "/tmp/xdc-" + tag + "-XXXXXX";
		if (char *p = ::mkdtemp(tmpl.data()))
			path = p;
		else
			throw std::filesystem::filesystem_error("mkdtemp", tmpl, std::error_code(errno, std::generic_category()));
	}
	~TempDir()
	{
		std::error_code ec;
		std::filesystem::remove_all(path, ec);
	}
	TempDir(const TempDir &) = delete;
	TempDir &operator=(const TempDir &) = delete;
};

} // namespace xdc::test
