#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds and runs the Foundation benchmarks (docs/PERFORMANCE.md) and prints their results as one table.
# Each bench makes and deletes its own network namespace xdcbench<pid>; this script also sweeps one left by a bench
# that died hard. Needs root.
#
# Usage: bench/run-foundation.sh [--quick] [--build-dir DIR] [--only rtt|fanout|reconnect|idle|scale] [--shipped]
#   --quick     development run: fewer rounds, 10 s idle (the recorded figures use the full run)
#   --shipped   also build the shipped agent (scripts/build-agent.sh) and measure it idle beside the dynamic one
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/build-bench"
quick=0
only=""
shipped=0
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--build-dir) build="$2"; shift ;;
	--only) only="$2"; shift ;;
	--shipped) shipped=1 ;;
	-h|--help) sed -n '3,10p' "$0"; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "run-foundation.sh: needs root (network namespaces)" >&2; exit 1; }

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" >/dev/null
fi
ninja -C "$build" bench >/dev/null

export XDC_BIN="$build/controller/xdc" XDC_AGENT_BIN="$build/agent/xdc-agent"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "$quick" -eq 1 ]; then
	rtt_args=(--pings 1000 --blocks 5); fan_args=(--agents 100,1000 --rounds 10)
	rec_args=(--agents 1000 --restarts 1); idle_args=(--seconds 10)
	scale_args=(--agents 2000 --per-process 1000 --rounds 3 --idle-seconds 5 --list-runs 2 --fault-agents 200)
else
	rtt_args=(--pings 4000 --blocks 20); fan_args=(--agents 100,1000 --rounds 50)
	rec_args=(--agents 1000 --restarts 3); idle_args=(--seconds 60)
	scale_args=(--agents 10000)
fi
if [ "$shipped" -eq 1 ]; then
	idle_args+=(--shipped-agent "$("$src/scripts/build-agent.sh" --build "$build-ship" --out "$build-ship/dist")")
fi

out=$(mktemp -d /tmp/xdc-foundation.XXXXXX)
current=""
# Stops a bench still running and removes what it may have left: its namespace (with any process in it) and its
# temporary directory.
sweep() {
	local pid="$1"
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null && sleep 1 || true
	kill -KILL "$pid" 2>/dev/null || true
	if ip netns list | grep -qw "xdcbench$pid"; then
		for p in $(ip netns pids "xdcbench$pid" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		ip netns del "xdcbench$pid" 2>/dev/null || true
	fi
	rm -rf /tmp/xdcbench"$pid"-* 2>/dev/null || true
}
trap 'sweep "$current"; current=""' EXIT
trap 'exit 130' INT TERM

status=0
# run NAME TIMEOUT ARGS...: runs one bench with a time bound, keeps its output in $out/NAME.log.
run() {
	local name="$1" limit="$2"; shift 2
	[ -z "$only" ] || [ "$only" = "$name" ] || return 0
	echo "== ${name}_bench $* (up to ${limit}s)" >&2
	local argv=("$build/bench/${name}_bench" "$@")
	"${argv[@]}" >"$out/$name.log" 2>&1 &
	current=$!
	local waited=0
	while kill -0 "$current" 2>/dev/null; do
		if [ "$waited" -ge "$limit" ]; then
			echo "   $name: over ${limit}s, stopped" >&2
			echo "ROW|$name|run|timed out after ${limit}s|-|NO|" >>"$out/$name.log"
			break
		fi
		sleep 1; waited=$((waited + 1))
	done
	local rc=0
	wait "$current" 2>/dev/null || rc=$?
	sweep "$current"; current=""
	grep -v '^ROW|' "$out/$name.log" | sed 's/^/   /' >&2 || true
	[ "$rc" -eq 0 ] || { echo "   $name: exit $rc" >&2; status=1; }
}

echo "load average at start: $(cut -d" " -f1-3 /proc/loadavg)" >&2
run rtt 300 "${rtt_args[@]}"
run fanout 600 "${fan_args[@]}"
run reconnect 600 "${rec_args[@]}"
run idle 200 "${idle_args[@]}"
run scale 900 "${scale_args[@]}"

echo
echo "Foundation benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), nproc $(nproc), kernel $(uname -r), load average at end $(cut -d" " -f1-3 /proc/loadavg)$( [ "$quick" -eq 1 ] && echo ', QUICK')"
{
	echo "figure|metric|value|goal|met|note"
	for n in rtt fanout reconnect idle scale; do
		[ -f "$out/$n.log" ] && grep '^ROW|' "$out/$n.log" | cut -d'|' -f2-
	done || true
} | column -t -s '|'
echo "(raw logs: $out)"
exit "$status"
