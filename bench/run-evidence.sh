#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What recording costs the agent: builds, brings up a lab, and measures the dc1-h1 agent's CPU (% of one core: the
# time its threads ran over the window, from /proc/PID/task/*/schedstat) and RSS (VmRSS at the end of the window,
# VmHWM) in three phases:
#   a  idle agent, no recording (the baseline)
#   b  recording {kind: host, on: {host: dc1-h1}, interval: 1s}
#   c  b plus a 100 Hz probe.tcp from dc1-h1 to a listener on dc2-h1
# and prints them as a table with the ratios to the baseline. Tears the lab down on exit, also on failure. Needs root.
#
# Usage: bench/run-evidence.sh [--quick] [--build-dir DIR] [--agent-bin PATH] [--name LAB] [--port PORT] [--ingest]
#   --quick   15 s windows instead of 60 s (development run; the recorded figures use the full run)
#   --agent-bin  the agent the lab runs (default: the build's); docs/PERFORMANCE.md measures the shipped one,
#             build-ship/dist/xdc-agent. Phase a is the agent-idle figure of bench/idle_bench, defined the same way:
#             CPU = the run time of all threads (schedstat) over the window / its wall time, RSS = VmRSS at its end.
#   --name    lab name (default hcev<pid mod 1000>; at most 8 characters)
#   --ingest  also run build-bench/bench/evidence_ingest_bench (controller ingest from 100 simulated agents; it
#             makes its own private namespace and needs no lab)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/build-bench"
quick=0
ingest=0
agentBin=""
lab="hcev$(($$ % 1000))"
port=7000
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--build-dir) build="$2"; shift ;;
	--name) lab="$2"; shift ;;
	--port) port="$2"; shift ;;
	--ingest) ingest=1 ;;
	--agent-bin) agentBin="$2"; shift ;;
	-h|--help) sed -n '3,17p' "$0"; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "run-evidence.sh: needs root (lab namespaces)" >&2; exit 1; }
command -v jq >/dev/null || { echo "run-evidence.sh: needs jq" >&2; exit 1; }
python=$(command -v python3) || { echo "run-evidence.sh: needs python3 (the probe's listener)" >&2; exit 1; }
window=60
[ "$quick" -eq 1 ] && window=15
warmup=5

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$build" bench >/dev/null
xdc="$build/controller/xdc"
export XDC_BIN="$xdc" XDC_AGENT_BIN="${agentBin:-$build/agent/xdc-agent}"
echo "== agent: $XDC_AGENT_BIN" >&2

out=$(mktemp -d /tmp/xdc-evidence.XXXXXX)
listener=""
recorder=""
labUp=0
cleanup() {
	# Only what this script started, by process id (the listener runs in its own session: its group is its pid).
	if [ -n "$recorder" ]; then
		kill -INT "$recorder" 2>/dev/null || true
		wait "$recorder" 2>/dev/null || true
	fi
	if [ -n "$listener" ]; then
		kill -TERM -- "-$listener" 2>/dev/null || true
	fi
	if [ "$labUp" -eq 1 ]; then
		"$xdc" lab down --name "$lab" >"$out/lab-down.log" 2>&1 ||
			echo "lab down failed: see $out/lab-down.log" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== lab $lab up (load average $(cut -d' ' -f1-3 /proc/loadavg), nproc $(nproc), kernel $(uname -r))" >&2
labUp=1
"$xdc" lab up --name "$lab" >"$out/lab-up.log" 2>&1 || { cat "$out/lab-up.log" >&2; exit 1; }
labRoot=${XDC_LAB_ROOT:-/run/xdc/lab}
agentPid=$(jq -r '.processes[] | select(.role == "agent" and .name == "dc1-h1") | .pid' "$labRoot/$lab/lab.json")
if [ -z "$agentPid" ] || ! kill -0 "$agentPid" 2>/dev/null; then
	echo "no dc1-h1 agent process in $labRoot/$lab/lab.json" >&2
	exit 1
fi
# runNs PID: nanoseconds the process's threads have run (schedstat's first field, summed over its threads).
runNs() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{t += $1} END {printf "%d", t}'; }
statusKb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# measure PHASE: CPU % and RSS of the agent over $window seconds.
declare -A cpu rss hwm
measure() {
	local t0 c0 t1 c1
	kill -0 "$agentPid" 2>/dev/null || { echo "the dc1-h1 agent ($agentPid) is gone" >&2; exit 1; }
	t0=$(date +%s%N); c0=$(runNs "$agentPid")
	sleep "$window"
	t1=$(date +%s%N); c1=$(runNs "$agentPid")
	cpu[$1]=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.3f", (b - a) / (t1 - t0) * 100}')
	rss[$1]=$(statusKb "$agentPid" VmRSS)
	hwm[$1]=$(statusKb "$agentPid" VmHWM)
	echo "   $1: CPU ${cpu[$1]} % of a core, RSS ${rss[$1]} kB (peak ${hwm[$1]} kB) over ${window} s" >&2
}

# record PHASE SPECFLAGS...: runs `xdc record` across warm-up + window, measures inside it, stops it with SIGINT (the
# CLI's Ctrl-C: record.stop, drain, bundle) and checks the bundle. Not --for: the controller ends a --for recording on
# its own timer, and the CLI's record.stop racing it then fails with "no recording is running".
record() {
	local phase="$1"; shift
	local dir="$out/bundle-$phase"
	"$xdc" --lab "$lab" record "$@" --max "$((warmup + window + 120))s" --out "$dir" --name "bench-$phase" \
		>"$out/record-$phase.out" 2>"$out/record-$phase.err" &
	recorder=$!
	# Started once every agent accepted: xdc record then says "recording ID -> DIR" on stderr.
	local waited=0
	until grep -q "^recording bench-$phase " "$out/record-$phase.err"; do
		if ! kill -0 "$recorder" 2>/dev/null; then
			echo "xdc record ($phase) ended early:" >&2
			cat "$out/record-$phase.err" >&2
			exit 1
		fi
		[ "$waited" -lt 300 ] || { echo "recording $phase did not start within 30 s" >&2; exit 1; }
		sleep 0.1; waited=$((waited + 1))
	done
	sleep "$warmup"
	measure "$phase"
	kill -INT "$recorder"
	local rc=0
	wait "$recorder" || rc=$?
	recorder=""
	local ok
	ok=$(jq -r '[.complete, ([.hosts[] | select(.host == "dc1-h1") | .received] | add)] | @tsv' \
		"$dir/meta.json" 2>/dev/null || echo "? ?")
	echo "   $phase: xdc record exit $rc; bundle complete / dc1-h1 samples: $ok" >&2
	if [ "$rc" -ne 0 ]; then
		echo "xdc record ($phase) failed (exit $rc):" >&2
		cat "$out/record-$phase.err" "$out/record-$phase.out" >&2
		exit 1
	fi
}

echo "== a: idle agent, no recording ($window s)" >&2
sleep "$warmup"
measure a

echo "== b: host sampler, 1 s" >&2
hostSpec='{kind: host, on: {host: dc1-h1}, interval: 1s}'
record b --sample "$hostSpec"

echo "== c: host sampler + probe.tcp 100 Hz to dc2-h1:$port" >&2
# A listener that accepts and closes, in dc2-h1's namespace, in a session of its own so cleanup can stop it by id.
setsid "$xdc" lab exec --name "$lab" dc2-h1 -- "$python" -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(1024)
while True:
    c, _ = s.accept()
    c.close()
' "$port" >"$out/listener.log" 2>&1 &
listener=$!
probeSpec="{kind: probe.tcp, on: {host: dc1-h1}, target: dc2-h1:$port, rate: 100hz}"
record c --sample "$hostSpec" --probe "$probeSpec"
probeOk=$(jq -r '[.hosts[] | select(.host == "dc1-h1") | .samplers | to_entries[] |
	select(.value.kind == "probe.tcp") | .value.received] | add' "$out/bundle-c/meta.json" 2>/dev/null || echo "?")
echo "   c: probe.tcp samples received: $probeOk (100 a second for about $((warmup + window)) s)" >&2
kill -TERM -- "-$listener" 2>/dev/null || true
listener=""

ratio() { awk -v x="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", x / b; else print "-" }'; }
echo
fmtRow='%-32s %13s %7s %9s %9s %7s %11s\n'
# The idle baseline is a few clock ticks a minute (noisy): the ratio is printed with the difference in points beside.
points() { awk -v x="$1" -v b="$2" 'BEGIN { printf "%+.3f", x - b }'; }
# shellcheck disable=SC2059
{
	printf "$fmtRow" "dc1-h1 agent, $window s windows" "CPU % of core" ratio +points "RSS kB" ratio "peak RSS kB"
	printf "$fmtRow" "a  idle (baseline)" "${cpu[a]}" "1.00x" "-" "${rss[a]}" "1.00x" "${hwm[a]}"
	for p in b c; do
		label="b  host sampler 1 s"
		[ "$p" = c ] && label="c  host 1 s + probe.tcp 100 Hz"
		printf "$fmtRow" "$label" "${cpu[$p]}" "$(ratio "${cpu[$p]}" "${cpu[a]}")" \
			"$(points "${cpu[$p]}" "${cpu[a]}")" "${rss[$p]}" "$(ratio "${rss[$p]}" "${rss[a]}")" \
			"${hwm[$p]}"
	done
}
echo "(agent pid $agentPid; logs and bundles in $out)"

if [ "$ingest" -eq 1 ]; then
	echo "== evidence_ingest_bench" >&2
	args=()
	[ "$quick" -eq 1 ] && args=(--seconds 5)
	timeout 900 "$build/bench/evidence_ingest_bench" "${args[@]}" | grep -v '^ROW|'
fi
