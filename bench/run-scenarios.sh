#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What scenarios cost: builds, then measures
#   a  `xdc validate` of a scenario with 100 faults against a 1,000-host inventory (10 DCs x 100 hosts), N runs:
#      median and max wall time (the issue's figure: under 1 s), beside validating the 1-fault sample scenario
#      (the baseline of the same invocation)
#   b  synchronised inject on 4 hosts: a lab (2 DCs x 2 hosts) runs a 4-host partition scenario K times
#      (`xdc run --repeat K`); per run the spread of the agents' verified apply times (report.json
#      faults[0].spread_ns): p50 and p99 (the issue's figure: p99 <= 2 ms)
# Tears the lab down on exit, also on failure. Needs root for b.
#
# Usage: bench/run-scenarios.sh [--quick] [--build-dir DIR] [--name LAB] [--runs N] [--repeat K]
#   --quick   5 validate runs and 10 inject runs instead of 20 and 50 (development run)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/build-bench"
lab="hcsc$(($$ % 1000))"
runs=20
repeat=50
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) runs=5; repeat=10 ;;
	--build-dir) build=$(realpath "$2"); shift ;;
	--name) lab="$2"; shift ;;
	--runs) runs="$2"; shift ;;
	--repeat) repeat="$2"; shift ;;
	-h|--help) sed -n '3,13p' "$0"; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
command -v python3 >/dev/null || { echo "run-scenarios.sh: needs python3" >&2; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$build" >/dev/null
xdc="$build/controller/xdc"
tmp=$(mktemp -d /tmp/xdc-bench-scn.XXXXXX)
cleanup() {
	"$xdc" lab down --name "$lab" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# a: the big inventory and the 100-fault scenario.
python3 - "$tmp" <<'PY'
import sys
d = sys.argv[1]
with open(f"{d}/hosts.ini", "w") as f:
    for dc in range(1, 11):
        f.write(f"[dc{dc}]\n")
        for h in range(1, 101):
            f.write(f"dc{dc}-h{h} role={'streams' if h % 2 else 'zk'} rack=r{h % 10}\n")
with open(f"{d}/big.yaml", "w") as f:
    f.write("version: 1\nname: big\nevidence:\n  probes:\n")
    for dc in range(1, 11):
        f.write(f"    - {{name: p{dc}, kind: probe.tcp, on: {{host: dc{dc}-h1}}, target: 'dc{dc % 10 + 1}-h1:8440', rate: 10hz}}\n")
    f.write("phases:\n  baseline: {duration: 1s}\n  inject:\n    faults:\n")
    for i in range(100):
        dc = i % 10 + 1
        h = i // 10 + 1
        f.write(f"      - {{kind: network.loss, targets: {{host: dc{dc}-h{h}}}, peers: {{dc: dc{dc % 10 + 1}}}, "
                f"percent: 10, duration: 30s, start: {i * 100}ms}}\n")
    f.write("  observe: {duration: 10s}\n  recover: {duration: 1s}\nassertions:\n")
    for dc in range(1, 11):
        f.write(f"  - {{outage: {{probe: p{dc}, max: 60s}}}}\n")
PY
time_runs() { # label, then the command
	local label=$1; shift
	python3 - "$runs" "$label" "$@" <<'PY'
import subprocess, sys, time
n, label, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
t = []
for _ in range(n):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True)
    t.append((time.perf_counter() - t0) * 1000)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed: {r.stderr.decode()}")
t.sort()
print(f"{label}: median {t[len(t) // 2]:.1f} ms, max {t[-1]:.1f} ms over {n} runs")
PY
}
echo "== a: xdc validate, 1,000-host inventory, 100 faults"
time_runs "baseline (sample scenario, no topology)" "$xdc" validate "$src/scenarios/lab-dc-partition.yaml"
time_runs "100 faults x 1,000 hosts" "$xdc" validate "$tmp/big.yaml" --inventory "$tmp/hosts.ini"

if [ "$(id -u)" -ne 0 ]; then
	echo "b: skipped (needs root for the lab)"
	exit 0
fi
echo
echo "== b: synchronised inject on 4 hosts, $repeat runs"
cat > "$tmp/sync.yaml" <<'YAML'
version: 1
name: sync-inject
phases:
  baseline: {duration: 200ms}
  inject:
    faults:
      - {kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 300ms}
  observe: {duration: 400ms}
  recover: {duration: 100ms}
YAML
"$xdc" lab up --name "$lab" >/dev/null
XDC_HISTORY_DB="$tmp/history.db" "$xdc" run "$tmp/sync.yaml" --lab "$lab" --out "$tmp/sync" --repeat "$repeat" \
	--seed 1 --json > "$tmp/sync.json"
python3 - "$tmp/sync.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
bad = [r for r in s["runs"] if r["exit_code"] != 0]
if bad:
    sys.exit(f"{len(bad)} runs failed: {bad[0]}")
st = s["statistics"]["fault.1.spread_ms"]
print(f"spread of verified apply times over 4 hosts: p50 {st['median']:.3f} ms, p99 {st['p99']:.3f} ms, "
      f"max {st['max']:.3f} ms over {st['n']} runs")
PY
