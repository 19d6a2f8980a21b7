#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds, and runs every test: unit and integration tests, the sanitizer build (unit
# tests plus the integration tests of the 'sanitize' suite) and a short fuzz run of the wire decoder.
# Exit code 0 only if everything passed; with CI=true a skipped test counts as a failure.
#
# Environment: XDC_TEST_QUICK=1 skips the sanitizer build and the fuzz run (for development only).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Each stage's start, and at the end how long each took (docs/PERFORMANCE.md records them).
stage_names=()
stage_starts=()
log() {
	stage_names+=("$*")
	stage_starts+=("$(date +%s)")
	printf '\n== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"
}
stage_times() {
	local end i next
	end=$(date +%s)
	echo
	echo "stage times:"
	for i in "${!stage_names[@]}"; do
		next=${stage_starts[$((i + 1))]:-$end}
		printf '  %5ds  %s\n' "$((next - stage_starts[i]))" "${stage_names[i]}"
	done
	printf '  %5ds  total\n' "$((end - stage_starts[0]))"
}

log "dependencies"
bash scripts/install-deps.sh --all

passed=0
failed=0
skipped=0
# Runs one meson test invocation and adds its counts to the totals.
run_suite() {
	local dir=$1; shift
	local out
	set +e
	meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$dir/last-test.log"
	local rc=${PIPESTATUS[0]}
	set -e
	local ok fail skip tout
	ok=$(awk '/^Ok:/{print $2}' "$dir/last-test.log" | tail -1)
	fail=$(awk '/^Fail:/{print $2}' "$dir/last-test.log" | tail -1)
	skip=$(awk '/^Skipped:/{print $2}' "$dir/last-test.log" | tail -1)
	tout=$(awk '/^Timeout:/{print $2}' "$dir/last-test.log" | tail -1)
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${fail:-0} + ${tout:-0}))
	skipped=$((skipped + ${skip:-0}))
	if [ "$rc" != 0 ] && [ "${fail:-0}" = 0 ] && [ "${tout:-0}" = 0 ]; then
		failed=$((failed + 1))
	fi
}

setup() {
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@"
	fi
}

configure() {
	setup "$@"
	ninja -C "$1"
}

# Both builds keep only line tables for debug information (-g1: backtraces and sanitizer reports still name file
# and line): full -g made each compile a third slower. The test build is a unity build like the sanitizer build:
# several sources per compiler run parse the heavy headers once and emit their inline functions once.
# docs/PERFORMANCE.md ("CI") has the figures.
log "build"
configure build-test -Dunity=on -Dunity_size=8 -Dcpp_args=-g1
log "unit tests"
run_suite build-test --suite unit
log "shipped agent and controller: self-contained builds, symbol checks, packages (docs/DEPLOYMENT.md)"
# The agent and controller the packages ship: static libzmq (built once per machine, cached), libstdc++ static,
# checked against RHEL 9's symbol versions and runtime libraries (scripts/check-agent-abi.sh). Before the
# integration tests, so their compiling does not run beside them.
# Then their .debs and RPMs, checked for what they require and hold, and the units' systemd-analyze exposure.
pkg() { echo "$pkgs" | grep -E "/$1[-_][0-9][^/]*\.$2\$"; }
if scripts/build-agent.sh --build build-ship --out build-ship/dist --controller > /dev/null; then
	passed=$((passed + 1))
	if pkgs=$(scripts/make-packages.sh --bin build-ship/dist/xdc-agent --controller-bin build-ship/dist/xdc \
			--out build-ship/dist) &&
		tests/packaging/check.sh build-ship/dist/xdc-agent "$(pkg xdc-agent deb)" "$(pkg xdc-agent rpm)" \
			build-ship/dist/xdc "$(pkg xdc deb)" "$(pkg xdc rpm)"; then
		passed=$((passed + 1))
		# The Ansible suite deploys this .deb into lab hosts with their own roots (the role's package path).
		XDC_AGENT_DEB=$(realpath "$(pkg xdc-agent deb)")
		export XDC_AGENT_DEB
		# Installed into clean Debian 12 roots (cached debootstrap), run chrooted in lab hosts: the agents
		# register, apply and revert a partition; then each installed controller drives the other host's agent.
		if XDC_BIN=build-test/controller/xdc tests/packaging/install_test.sh "$(pkg xdc-agent deb)" \
			"$(pkg xdc-agent rpm)" "$(pkg xdc deb)" "$(pkg xdc rpm)"; then
			passed=$((passed + 1))
		else
			echo "FAIL: the packaged agent installed into a clean root (tests/packaging/install_test.sh)"
			failed=$((failed + 1))
		fi
		# What the demo installs on a fresh root: no test-only package, no service left enabled.
		if tests/packaging/demo_deps_test.sh; then
			passed=$((passed + 1))
		else
			echo "FAIL: the demo's dependencies on a fresh root (tests/packaging/demo_deps_test.sh)"
			failed=$((failed + 1))
		fi
	else
		echo "FAIL: the packages (scripts/make-packages.sh, tests/packaging/check.sh)"
		failed=$((failed + 1))
	fi
else
	echo "FAIL: the shipped agent and controller (scripts/build-agent.sh --controller)"
	failed=$((failed + 1))
fi
log "integration tests (real binaries in network namespaces)"
# Two at a time for the suites marked parallel in tests/meson.build; every other suite runs alone.
run_suite build-test --suite integration --num-processes 2

if [ "${XDC_TEST_QUICK:-0}" != 1 ]; then
	log "sanitizer build: address,undefined"
	# Only what the sanitize suite runs is built (meson test builds the selected tests' dependencies): the
	# emulator, benchmarks and the other integration tests under ASan would double the CI's build time. A unity
	# build (several sources per compiler run) parses the heavy headers (Asio, nlohmann, spdlog) once per batch:
	# about 16 instead of 25 minutes on 2 cores. -O1 is ASan's advice and compiled faster here than
	# -O0 did. Helpers therefore may not be repeated per file (tests/unit/unit_util.h).
	setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dunity=on -Doptimization=1 -Dcpp_args=-g1
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		run_suite build-asan --suite sanitize --num-processes 1

	log "fuzz: wire decoder (libFuzzer, short run; longer runs in bench/)"
	# Only the fuzz target and its seed writer are built with clang (meson test builds what the suite needs).
	CXX=clang++ setup build-fuzz -Dfuzz=true
	run_suite build-fuzz --suite fuzz
fi

# Leftovers check: nothing of ours may remain on the host.
left=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^xdc' || true)
if [ -n "$left" ]; then
	echo "FAIL: network namespaces left behind: $left"
	failed=$((failed + 1))
fi

echo
if [ "${CI:-}" = true ] && [ "$skipped" != 0 ]; then
	echo "CI=true: $skipped skipped test(s) count as failures"
	failed=$((failed + skipped))
fi
stage_times
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
