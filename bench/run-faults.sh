#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Builds and runs the fault benchmarks (docs/PERFORMANCE.md, "Faults"). Each bench makes and deletes its own network
# namespaces (xnb<pid>a, xnb<pid>b); this script also sweeps any left by a bench that died hard. Needs root.
#
# Usage: bench/run-faults.sh [--build-dir DIR] [--only delayline] [--quick]
#   --quick   development run: fewer rates, 1 s each (the recorded figures use the full run)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/build-bench"
only=""
quick=0
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--build-dir) build="$2"; shift ;;
	--only) only="$2"; shift ;;
	-h|--help) sed -n '3,8p' "$0"; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "run-faults.sh: needs root (network namespaces)" >&2; exit 1; }

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" >/dev/null
fi
ninja -C "$build" bench/delay_line_bench >/dev/null

# Namespaces of a bench that is no longer running.
sweep() {
	for ns in $(ip netns list | awk '{print $1}' | grep -E '^xnb[0-9]+[ab]$' || true); do
		pid=${ns#xnb}; pid=${pid%?}
		kill -0 "$pid" 2>/dev/null && continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
}
trap sweep EXIT

status=0
if [ -z "$only" ] || [ "$only" = "delayline" ]; then
	if [ "$quick" -eq 1 ]; then args=(--rates 5000,20000,60000 --seconds 1); else args=(); fi
	echo "== delay_line_bench ${args[*]:-} (load average $(cut -d' ' -f1-3 /proc/loadavg), nproc $(nproc), kernel $(uname -r))"
	timeout 300 "$build/bench/delay_line_bench" "${args[@]}" | grep -v '^ROW|' || status=1
fi
exit "$status"
