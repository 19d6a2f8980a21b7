#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the agent that ships in the packages: self-contained (docs/DEPLOYMENT.md, "A self-contained agent"), its
# debug info split off, and checked against the oldest target's symbol versions (scripts/check-agent-abi.sh).
# With --controller, the controller (xdc) too, built and checked the same way.
#
# Usage: scripts/build-agent.sh [--build DIR] [--out DIR] [--cache DIR] [--controller]
#   --build DIR    meson build directory for the shipped binaries (default: build-ship)
#   --out DIR      where xdc-agent and xdc-agent.debug (and xdc, xdc.debug) go (default: dist)
#   --cache DIR    scripts/static-deps.sh's cache (default: its own)
#   --controller   also build the controller
# Prints the path of each stripped binary, the agent's first. Exit 1 when a step or the symbol check fails, 2 on a
# bad argument.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-ship
out=dist
cache_args=()
targets=(agent/xdc-agent)
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--cache) cache_args=(--cache "$2"); shift 2 ;;
	--controller) targets+=(controller/xdc); shift ;;
	-h|--help) sed -n '3,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "build-agent: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
prefix=$(scripts/static-deps.sh "${cache_args[@]}")
# -O2 with assertions off, without the test-only switches; -g1 keeps file:line for backtraces in the split debug file.
# A unity build (8 sources per compiler run) like the CI's test build: the same code, compiled in a third of the time.
opts=(-Dship_agent=true "-Dstatic_prefix=$prefix" -Dtest_features=false -Dbuildtype=debugoptimized -Dcpp_args=-g1
	-Db_ndebug=true -Dunity=on -Dunity_size=8)
if [ -f "$build/build.ninja" ]; then
	meson configure "$build" "${opts[@]}" > /dev/null
else
	meson setup "$build" "${opts[@]}" > "$build.setup.log" 2>&1 || { cat "$build.setup.log" >&2; exit 1; }
	rm -f "$build.setup.log"
fi
ninja -C "$build" "${targets[@]}" >&2
mkdir -p "$out"
for t in "${targets[@]}"; do
	name=$(basename "$t")
	bin="$out/$name"
	cp "$build/$t" "$bin.tmp"
	objcopy --only-keep-debug "$bin.tmp" "$out/$name.debug"
	objcopy --strip-all --add-gnu-debuglink="$out/$name.debug" "$bin.tmp"
	mv "$bin.tmp" "$bin"
	scripts/check-agent-abi.sh "$bin" >&2
	echo "$bin"
done
