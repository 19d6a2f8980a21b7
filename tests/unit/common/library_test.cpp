// SPDX-License-Identifier: Apache-2.0
// sys::Library: a library loaded on first use, its functions resolved by name, and the messages when either fails.
#include <doctest/doctest.h>

#include <string>
#include <unistd.h>

#include "common/sys/library.h"

using xdc::sys::Library;

TEST_CASE("library: functions of a loaded library resolve, a missing one names itself once")
{
	Library libc("libc.so.6", "libc (the C library)");
	REQUIRE(libc.error().empty());
	pid_t (*getPid)() = nullptr;
	libc.resolve(getPid, "getpid");
	REQUIRE(static_cast<bool>(getPid));
	CHECK(getPid() == ::getpid());
	void (*missing)() = nullptr;
	libc.resolve(missing, "xdc_no_such_function");
	CHECK_FALSE(static_cast<bool>(missing));
	CHECK(libc.error() == "libc.so.6 has no xdc_no_such_function");
	// After the first error nothing else resolves, and the first message stays.
	pid_t (*again)() = nullptr;
	libc.resolve(again, "getppid");
	CHECK_FALSE(static_cast<bool>(again));
	CHECK(libc.error() == "libc.so.6 has no xdc_no_such_function");
}

TEST_CASE("library: a library that is not there says what is needed and why")
{
	Library none("libxdc-not-installed.so.7", "libxdc-not-installed (package xdc-nothing)");
	const std::string e = none.error();
	CHECK(e.rfind("needs libxdc-not-installed (package xdc-nothing): ", 0) == 0);
	CHECK(e.find("libxdc-not-installed.so.7") != std::string::npos); // the loader's own reason names the file
	int (*fn)() = nullptr;
	none.resolve(fn, "anything");
	CHECK_FALSE(static_cast<bool>(fn));
	CHECK(none.error() == e);
}
