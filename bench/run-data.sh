#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Data path speed: builds, brings up a 2-DC lab with the Streams emulator, and runs a control scenario (no faults,
# 4 s baseline + 4 s observe + 1 s recover; route: active, as the failover sample) through each ingest shape
# (HTTPJSONInjection, TCPSource lines, DirectoryScan file drops through the agent): first at the sample's 200/s (the
# baseline), then at increasing set rates. For each run it reads the report: tuples generated and accepted, the
# backlog when the generator stopped, lost, p99 latency. A shape sustains a rate when it wrote at least 98 % of the
# set rate, its backlog stayed under one tick's worth (the generator kept up), nothing was lost and the run passed.
# Also runs the validator benchmark (build/bench/data_validator_bench) in the same invocation. Needs root.
#
# Usage: bench/run-data.sh [--build-dir DIR] [--name LAB] [--rates "4000 8000 ..."] [--sources "http_json tcp file"]
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/build-bench"
lab="hcda$(($$ % 1000))"
rates="4000 8000 16000"
sources="http_json tcp file"
while [ $# -gt 0 ]; do
	case "$1" in
	--build-dir) build=$(realpath "$2"); shift ;;
	--name) lab="$2"; shift ;;
	--rates) rates="$2"; shift ;;
	--sources) sources="$2"; shift ;;
	-h|--help) sed -n '3,11p' "$0"; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "run-data.sh: needs root (lab namespaces)" >&2; exit 1; }
command -v jq >/dev/null || { echo "run-data.sh: needs jq" >&2; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$build" >/dev/null
ninja -C "$build" bench/data_validator_bench >/dev/null
xdc="$build/controller/xdc"
export XDC_BIN="$xdc" XDC_AGENT_BIN="$build/agent/xdc-agent" XDC_EMU_BIN="$build/emulator/xdc-streams-emu"

out=$(mktemp -d /tmp/xdc-data.XXXXXX)
labUp=0
cleanup() {
	if [ "$labUp" -eq 1 ]; then
		"$xdc" lab down --name "$lab" >"$out/lab-down.log" 2>&1 || echo "lab down failed: see $out/lab-down.log" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== validator on a recorded 10 M-tuple stream" >&2
"$build/bench/data_validator_bench"

echo "== lab $lab up with --streams (load average $(cut -d' ' -f1-3 /proc/loadavg), nproc $(nproc))" >&2
labUp=1
"$xdc" lab up --name "$lab" --hosts-per-dc 1 --streams >"$out/lab-up.log" 2>&1 || { cat "$out/lab-up.log" >&2; exit 1; }

printf "%-10s %-10s %11s %11s %9s %11s %8s %7s %10s %8s %s\n" source "set rate" generated accepted backlog "accepted/s" \
	"of set" lost "p99 ms" "p99/base" verdict
summary=""
for src in $sources; do
	sustained=0
	base99=""
	for r in 200 $rates; do
		f="$out/control-$src-$r.yaml"
		cat >"$f" <<YAML
version: 1
name: data-rate-$src-$r
data: {rate: $r, keys: 64, payload: 16, poll: 50ms, source: $src, route: active}
phases:
  baseline: {duration: 4s}
  inject: {control: true}
  observe: {duration: 4s}
  recover: {duration: 1s}
assertions:
  - data: {lost_max: 0}
YAML
		"$xdc" run "$f" --lab "$lab" --seed 1 --out "$out/run-$src-$r" >"$out/run-$src-$r.log" 2>&1 || true
		rep="$out/run-$src-$r/report.json"
		[ -f "$rep" ] || { echo "no report for $src at $r/s: see $out/run-$src-$r.log" >&2; continue; }
		gen=$(jq '.data.generator.generated' "$rep")
		acc=$(jq '.data.generator.accepted' "$rep")
		back=$(jq '.data.generator.backlog' "$rep")
		lost=$(jq '.data.validation.total.lost' "$rep")
		p99=$(jq '.data.validation.latency_ms.p99' "$rep")
		verdict=$(jq -r '.verdict' "$rep")
		secs=$(jq '[.phases[] | select(.name=="baseline" or .name=="observe" or .name=="recover") | (.end_ns - .start_ns)] | add / 1e9' "$rep")
		persec=$(echo "$acc $secs" | awk '{printf "%.0f", $1 / $2}')
		ofset=$(echo "$persec $r" | awk '{printf "%.3f", $1 / $2}')
		[ -n "$base99" ] || base99=$p99
		ratio=$(echo "$p99 $base99" | awk '{printf "%.2f", ($2 > 0 ? $1 / $2 : 0)}')
		printf "%-10s %-10s %11s %11s %9s %11s %8s %7s %10.1f %8s %s\n" "$src" "$r/s" "$gen" "$acc" "$back" "$persec" \
			"$ofset" "$lost" "$p99" "$ratio" "$verdict"
		tick=$(( r / 100 + 1 ))
		kept=$(echo "$ofset" | awk '{print ($1 >= 0.98) ? 1 : 0}')
		if [ "$r" -ne 200 ] && [ "$back" -le "$tick" ] && [ "$kept" -eq 1 ] && [ "$lost" -eq 0 ] && [ "$verdict" = passed ]; then
			sustained=$r
		fi
	done
	summary+="$src: sustained $sustained tuples/s ($(( sustained / 200 ))x the sample's 200/s); "
done
echo "$summary(the highest set rate the generator kept up with, nothing lost; logs in $out)"
