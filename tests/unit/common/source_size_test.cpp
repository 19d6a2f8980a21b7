// SPDX-License-Identifier: Apache-2.0
// Engine's size rule, kept: no source file in controller/ or common/ over 800 lines (docs/EXTENDING.md "Measuring
// size"; the function-size half is scripts/check-size.sh, too slow for every CI run).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#ifndef XDC_SOURCE_ROOT
#error "tests/meson.build defines XDC_SOURCE_ROOT for this file"
#endif

TEST_CASE("no source file in controller/ or common/ is over 800 lines")
{
	namespace fs = std::filesystem;
	std::vector<std::string> over;
	size_t files = 0;
	for (const char *dir : {"controller", "common"})
		for (const auto &e : fs::recursive_directory_iterator(fs::path(XDC_SOURCE_ROOT) / dir)) {
			const auto ext = e.path().extension();
			if (!e.is_regular_file() || (ext != ".cpp" && ext != ".h"))
				continue;
			files++;
			std::ifstream f(e.path());
			size_t lines = 0;
			for (std::string l; std::getline(f, l);)
				lines++;
			if (lines > 800)
				over.push_back(fs::relative(e.path(), XDC_SOURCE_ROOT).string() + ": " + std::to_string(lines));
		}
	CHECK(files > 50);
	for (const auto &o : over)
		FAIL_CHECK("over 800 lines (split it along its responsibilities): " << o);
}
