#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The long fuzz run of the wire decoder (the test suite runs 20 s of it). Usage: bench/fuzz-decoder.sh [SECONDS]
# Builds with clang in build-fuzz, keeps the corpus in bench/fuzz-corpus/ between runs (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-1800}
if [ -f build-fuzz/build.ninja ]; then meson setup --reconfigure build-fuzz -Dfuzz=true >/dev/null
else CXX=clang++ meson setup build-fuzz -Dfuzz=true >/dev/null; fi
ninja -C build-fuzz tests/fuzz_decoder tests/fuzz_seeds
corpus=bench/fuzz-corpus
mkdir -p "$corpus"
build-fuzz/tests/fuzz_seeds "$corpus"
exec build-fuzz/tests/fuzz_decoder -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
	-print_final_stats=1 -jobs=1 "$corpus"
