#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Engine's size rule (docs/EXTENDING.md "Measuring size"): no file in controller/ or common/ over 800 lines, no
# function there over 120 lines (clang-tidy's readability-function-size). Needs a configured build directory for
# compile_commands.json. The file half also runs in every unit test run (tests/unit/common/source_size_test.cpp);
# this function half takes minutes, so it is run by hand and before a stop, not in .ci/run.
#
# Usage: scripts/check-size.sh [BUILD_DIR] (default: build). Exit 0 when both hold, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
if [ ! -f "$build/compile_commands.json" ]; then
	echo "check-size: $build/compile_commands.json not found (meson setup $build first)" >&2
	exit 2
fi
rc=0
over=$(find controller common -name '*.cpp' -o -name '*.h' | xargs wc -l | awk '$2 != "total" && $1 > 800')
if [ -n "$over" ]; then
	echo "files over 800 lines:"
	echo "$over"
	rc=1
fi
out=$(run-clang-tidy -j"$(nproc)" -p "$build" -checks='-*,readability-function-size' \
	-config="{CheckOptions: [{key: readability-function-size.LineThreshold, value: 120}]}" \
	'controller/|common/' 2>&1 | grep -A2 'exceeds recommended size' || true)
if [ -n "$out" ]; then
	echo "functions over 120 lines:"
	echo "$out"
	rc=1
fi
[ "$rc" = 0 ] && echo "check-size: no file over 800 lines, no function over 120 lines"
exit "$rc"
