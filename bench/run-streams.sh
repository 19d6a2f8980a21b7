#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What watching Streams costs: builds, brings up a 2-DC lab with the Streams emulator (50 PEs per DC by default) and
# measures
#   a  `xdc streams status` wall time over both DCs (each run a new process: connect, discover, poll, print), N runs:
#      median, p95 and max, with --no-metrics as the baseline of the same run, with --settle 0 (one poll: the port
#      metrics of one collection) and in full (it polls until a second metric collection tells active from standby)
#   b  `xdc streams watch --interval 100ms` (10 Hz polling) CPU over the window, % of one core (utime + stime of
#      /proc/PID/stat; the issue's figure: under 2 %), beside an idle `sleep` baseline of zero
# Tears the lab down on exit, also on failure. Needs root.
#
# Usage: bench/run-streams.sh [--quick] [--build-dir DIR] [--name LAB] [--pes N] [--runs N]
#   --quick   15 s watch window and 20 status runs instead of 60 s and 100 (development run)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/build-bench"
lab="hcst$(($$ % 1000))"
pes=50
runs=100
window=60
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) window=15; runs=20 ;;
	--build-dir) build=$(realpath "$2"); shift ;;
	--name) lab="$2"; shift ;;
	--pes) pes="$2"; shift ;;
	--runs) runs="$2"; shift ;;
	-h|--help) sed -n '3,13p' "$0"; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "run-streams.sh: needs root (lab namespaces)" >&2; exit 1; }
command -v jq >/dev/null || { echo "run-streams.sh: needs jq" >&2; exit 1; }

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$build" >/dev/null
xdc="$build/controller/xdc"
export XDC_BIN="$xdc" XDC_AGENT_BIN="$build/agent/xdc-agent" XDC_EMU_BIN="$build/emulator/xdc-streams-emu"

out=$(mktemp -d /tmp/xdc-streams.XXXXXX)
watcher=""
labUp=0
cleanup() {
	if [ -n "$watcher" ]; then
		kill -INT "$watcher" 2>/dev/null || true
		wait "$watcher" 2>/dev/null || true
	fi
	if [ "$labUp" -eq 1 ]; then
		"$xdc" lab down --name "$lab" >"$out/lab-down.log" 2>&1 ||
			echo "lab down failed: see $out/lab-down.log" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== lab $lab up with --streams --streams-pes $pes (load average $(cut -d' ' -f1-3 /proc/loadavg), nproc $(nproc))" >&2
labUp=1
"$xdc" lab up --name "$lab" --hosts-per-dc 1 --streams --streams-pes "$pes" >"$out/lab-up.log" 2>&1 ||
	{ cat "$out/lab-up.log" >&2; exit 1; }
n=$("$xdc" streams status --lab "$lab" --json | jq '[.dcs[].pes | length] | add')
[ "$n" -eq $((2 * pes)) ] || { echo "expected $((2 * pes)) PEs, status shows $n" >&2; exit 1; }

# statusRuns LABEL ARGS...: wall time of N runs in ms, sorted, to $out/LABEL.ms; prints median p95 max.
statusRuns() {
	local label="$1"; shift
	: >"$out/$label.ms"
	for _ in $(seq "$runs"); do
		local t0 t1
		t0=$(date +%s%N)
		"$xdc" streams status --lab "$lab" "$@" >/dev/null
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000)) >>"$out/$label.ms"
	done
	sort -n "$out/$label.ms" | awk -v n="$runs" '{v[NR] = $1} END {
		printf "%.1f %.1f %.1f", v[int((n + 1) / 2)] / 1000, v[int(n * 0.95 + 0.999)] / 1000, v[n] / 1000}'
}
echo "== a: xdc streams status x $runs ($((2 * pes)) PEs)" >&2
read -r bMed bP95 bMax <<<"$(statusRuns base --no-metrics)"
read -r oMed oP95 oMax <<<"$(statusRuns oneshot --settle 0)"
read -r sMed sP95 sMax <<<"$(statusRuns full)"

echo "== b: xdc streams watch --interval 100ms for $window s" >&2
"$xdc" streams watch --lab "$lab" --interval 100ms --json >"$out/watch.jsonl" 2>"$out/watch.err" &
watcher=$!
for _ in $(seq 100); do grep -q '"ready"' "$out/watch.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"ready"' "$out/watch.jsonl" || { echo "watch did not start" >&2; cat "$out/watch.err" >&2; exit 1; }
hz=$(getconf CLK_TCK)
cpuTicks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
t0=$(date +%s.%N); c0=$(cpuTicks "$watcher")
sleep "$window"
t1=$(date +%s.%N); c1=$(cpuTicks "$watcher")
rss=$(awk '$1 == "VmRSS:" {print $2}' "/proc/$watcher/status")
kill -INT "$watcher"; wait "$watcher" || true; watcher=""
rounds=$(jq -r 'select(.end) | .rounds' "$out/watch.jsonl")
cpu=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) / hz / (t1 - t0) * 100}')

echo
printf '%-46s %9s %9s %9s\n' "xdc streams status, 2 DCs x $pes PEs, $runs runs" "median ms" "p95 ms" "max ms"
printf '%-46s %9s %9s %9s\n' "  --no-metrics (baseline: instance, jobs, PEs)" "$bMed" "$bP95" "$bMax"
printf '%-46s %9s %9s %9s\n' "  --settle 0 (+ operators and port metrics, one poll)" "$oMed" "$oP95" "$oMax"
printf '%-46s %9s %9s %9s\n' "  full (polls until a second collection)" "$sMed" "$sP95" "$sMax"
awk -v s="$oMed" -v b="$bMed" 'BEGIN {printf "  --settle 0 / baseline median: %.2fx\n", s / b}'
echo "xdc streams watch at 10 Hz over $window s: $rounds rounds, CPU $cpu % of one core, RSS $rss kB"
echo "(logs in $out)"
