#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Fault soak: N random trials in one lab. Each trial applies a random fault with a random short duration, then at a
# random moment does one of: nothing, SIGKILL the agent and restart it, SIGKILL the agent and leave it dead until
# the fault's end, SIGKILL the controller and restart it. After each trial it checks every lab host for residue
# (nft tables xdc_*, iptables chains XDC_*, qdiscs dc01:, links xdcifb*, stopped processes, xdc-cpu/xdc-mem
# workers, fill files) by the guaranteed time: the fault's end + 1 s (or the lease + 1 s after a controller kill).
# Prints one line per trial and a summary; exit status 0 only with zero residue. Results go to docs/RELIABILITY.md.
#
# Usage: bench/soak-faults.sh [--trials N] [--seed S] [--build-dir DIR] [--lab NAME] [--kinds k1,k2,...]
set -uo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/build-test"
trials=200
seed=$RANDOM
lab="xsoak"
kinds="network.partition,network.loss,network.delay,network.bandwidth,process.pause,process.kill,resource.cpu,resource.memory,resource.disk_fill"
while [ $# -gt 0 ]; do
	case "$1" in
	--trials) trials="$2"; shift ;;
	--seed) seed="$2"; shift ;;
	--build-dir) build="$2"; shift ;;
	--lab) lab="$2"; shift ;;
	--kinds) kinds="$2"; shift ;;
	-h|--help) sed -n '3,11p' "$0"; exit 0 ;;
	*) echo "soak-faults.sh: unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "soak-faults.sh: needs root (a lab)" >&2; exit 1; }
RANDOM=$seed
xdc="$build/controller/xdc"
agent="$build/agent/xdc-agent"
[ -x "$xdc" ] && [ -x "$agent" ] || { echo "soak-faults.sh: build first (ninja -C $build)" >&2; exit 1; }
export XDC_AGENT_BIN="$agent" XDC_LAB="$lab"
IFS=, read -r -a kindlist <<<"$kinds"
hosts=(dc1-h1 dc1-h2 dc2-h1 dc2-h2)
tmp=$(mktemp -d /tmp/xdc-soak.XXXXXX)
victim="$tmp/soakvictim"
cp /bin/sleep "$victim"

cleanup() {
	"$xdc" lab down --name "$lab" >/dev/null 2>&1
	rm -rf "$tmp" /var/tmp/xdc-fill-soak* 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$xdc" lab down --name "$lab" >/dev/null 2>&1
"$xdc" lab up --name "$lab" >"$tmp/up.log" 2>&1 || { cat "$tmp/up.log"; exit 1; }
statedir=$(sed -n 's/^state dir: //p' "$tmp/up.log")
[ -n "$statedir" ] || statedir="/run/xdc/lab/$lab"
ns() { echo "${lab}_$1"; }

live_count() { "$xdc" agents --json 2>/dev/null | python3 -c 'import json,sys; print(sum(1 for a in json.load(sys.stdin) if a["state"]=="live"))' 2>/dev/null || echo 0; }
wait_live() {
	local deadline=$((SECONDS + 20))
	while [ $SECONDS -lt $deadline ]; do [ "$(live_count)" = 4 ] && return 0; sleep 0.1; done
	return 1
}
agent_pid() { "$xdc" agents --json 2>/dev/null | python3 -c "import json,sys; print(next((a['pid'] for a in json.load(sys.stdin) if a['id']=='$1'), 0))"; }
# Started in a subshell so that this script does not report their deaths as jobs.
start_agent() { ( ip netns exec "$(ns "$1")" setsid "$agent" --config "$statedir/agents/$1.yaml" >>"$statedir/agents/$1.out" 2>&1 </dev/null & ) }
start_controller() { ( setsid "$xdc" controller --config "$statedir/controller.yaml" >>"$statedir/controller.out" 2>&1 </dev/null & ) }
ensure_victims() {
	for h in "${hosts[@]}"; do
		local n; n=$(ns "$h")
		# (No `grep -q` in a pipeline here: with pipefail its early exit would read as "no victim".)
		local comms; comms=$(ip netns pids "$n" | xargs -r -I{} cat /proc/{}/comm 2>/dev/null)
		grep -qx soakvictim <<<"$comms" ||
			( ip netns exec "$n" setsid "$victim" 100000 </dev/null >/dev/null 2>&1 & )
	done
}

# What is left of ours in the lab, one line per object; empty when clean. One namespace entry per host.
residue() {
	for h in "${hosts[@]}"; do
		ip netns exec "$(ns "$h")" bash -c '
			nft list tables 2>/dev/null | grep -o "xdc_[a-z0-9_]*" | sed "s/^/nft /"
			for t in iptables ip6tables; do
				$t -w -t mangle -S 2>/dev/null | grep -o "^-N XDC_[A-Za-z0-9_]*" | sed "s/^/$t /"
			done
			tc qdisc show 2>/dev/null | grep " dc01: "
			ip -o link show 2>/dev/null | grep -o "xdcifb[0-9]*" | sed "s/^/link /"' | sed "s/^/$h /"
		for p in $(ip netns pids "$(ns "$h")"); do
			local st comm
			comm=$(cat /proc/$p/comm 2>/dev/null) || continue
			st=$(awk '{print $3}' /proc/$p/stat 2>/dev/null)
			[ "$st" = T ] && echo "$h stopped pid $p ($comm)"
			case "$comm" in xdc-cpu*|xdc-mem*) echo "$h worker pid $p ($comm)" ;; esac
		done
	done
	ls /var/tmp/xdc-fill-* 2>/dev/null | sed 's/^/fill file /'
}

spec_for() { # kind host id dur
	local k=$1 h=$2 id=$3 d=$4 peer
	case "$h" in dc1-*) peer=dc2 ;; *) peer=dc1 ;; esac
	case "$k" in
	network.partition) echo "{id: $id, kind: $k, targets: {host: $h}, peers: {dc: $peer}, duration: ${d}ms}" ;;
	network.loss) echo "{id: $id, kind: $k, targets: {host: $h}, peers: {dc: $peer}, percent: 30, duration: ${d}ms}" ;;
	network.delay) echo "{id: $id, kind: $k, targets: {host: $h}, peers: {dc: $peer}, delay: 50ms, duration: ${d}ms}" ;;
	network.bandwidth) echo "{id: $id, kind: $k, targets: {host: $h}, peers: {dc: $peer}, rate: 8mbit, duration: ${d}ms}" ;;
	process.pause) echo "{id: $id, kind: $k, targets: {host: $h}, match: {name: soakvictim}, duration: ${d}ms}" ;;
	process.kill) echo "{id: $id, kind: $k, targets: {host: $h}, match: {name: soakvictim}, every: 500ms, duration: ${d}ms}" ;;
	resource.cpu) echo "{id: $id, kind: $k, targets: {host: $h}, workers: 2, cpu_percent: 50, duration: ${d}ms}" ;;
	resource.memory) echo "{id: $id, kind: $k, targets: {host: $h}, bytes: 64MiB, duration: ${d}ms}" ;;
	resource.disk_fill) echo "{id: $id, kind: $k, targets: {host: $h}, path: /var/tmp, bytes: 32MiB, duration: ${d}ms}" ;;
	esac
}

echo "soak: $trials trials, seed $seed, kinds $kinds, lab $lab"
wait_live || { echo "soak: agents not live"; exit 1; }
pass=0; fail=0; applyfail=0; maxlate=0
# Sleeps MS milliseconds (printf '0.%03d' of a moment above 999 ms slept a tenth of it: every crash landed in the
# first second of its fault).
sleep_ms() { [ "$1" -gt 0 ] && sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; return 0; }
declare -A actions
for ((i = 1; i <= trials; i++)); do
	ensure_victims
	kind=${kindlist[RANDOM % ${#kindlist[@]}]}
	host=${hosts[RANDOM % 4]}
	dur=$((1000 + RANDOM % 2000))
	id="soak$i"
	spec=$(spec_for "$kind" "$host" "$id" "$dur")
	action=$(( RANDOM % 4 )) # 0 none, 1 kill+restart agent, 2 kill agent (no restart), 3 kill+restart controller
	names=(none agent-restart agent-dead controller-restart)
	t0=$(date +%s%N)
	if ! out=$("$xdc" fault apply "$spec" --json 2>&1); then
		applyfail=$((applyfail + 1))
		echo "trial $i: $kind on $host: apply failed: $(echo "$out" | tr '\n' ' ' | cut -c1-300)"
		continue
	fi
	# The random moment of the crash, in ms after the apply returned (not a synchronisation); the moment the crash
	# really came is measured and reported beside it.
	t_applied=$(date +%s%N)
	at=$(( RANDOM % dur ))
	sleep_ms $(( at - ($(date +%s%N) - t_applied) / 1000000 ))
	crash_ms=$(( ($(date +%s%N) - t_applied) / 1000000 ))
	[ $((crash_ms - at)) -gt $maxlate ] && maxlate=$((crash_ms - at))
	deadline_ms=$((dur + 1000))
	case $action in
	1|2)
		pid=$(agent_pid "$host")
		[ "$pid" -gt 1 ] && kill -KILL "$pid"
		[ $action = 1 ] && { while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done; start_agent "$host"; } ;;
	3)
		cpid=$("$xdc" stats --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
		kill -KILL "$cpid"; while kill -0 "$cpid" 2>/dev/null; do sleep 0.01; done
		start_controller ;;
	esac
	# Poll for a clean lab until the guaranteed time; then one more check that starts after it must find nothing.
	clean_ms=-1
	while :; do
		now=$(( ($(date +%s%N) - t0) / 1000000 ))
		[ $now -ge $deadline_ms ] && break
		if [ -z "$(residue)" ]; then clean_ms=$now; break; fi
		sleep 0.05
	done
	now=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ $now -lt $deadline_ms ] && sleep_ms $((deadline_ms - now))
	r=$(residue)
	actions[${names[$action]}]=$(( ${actions[${names[$action]}]:-0} + 1 ))
	if [ -z "$r" ]; then
		pass=$((pass + 1))
		echo "trial $i: $kind on $host for ${dur}ms, ${names[$action]} at ${at}ms (came at ${crash_ms}ms): clean at ${deadline_ms}ms$([ $clean_ms -ge 0 ] && echo " (already at ${clean_ms}ms)")"
	else
		fail=$((fail + 1))
		echo "trial $i: $kind on $host for ${dur}ms, ${names[$action]} at ${at}ms (came at ${crash_ms}ms): RESIDUE after ${deadline_ms}ms:"
		echo "$r" | sed 's/^/    /'
	fi
	[ $action = 2 ] && start_agent "$host"
	wait_live || { echo "soak: agents did not come back after trial $i"; fail=$((fail + 1)); break; }
	"$xdc" halt >/dev/null 2>&1 # a kill fault with no residue may still be listed until its end
done
echo "soak summary: $trials trials, seed $seed: $pass clean, $fail with residue, $applyfail apply failures; crashes at most ${maxlate} ms after their drawn moment; actions: $(for k in "${!actions[@]}"; do printf '%s=%s ' "$k" "${actions[$k]}"; done)"
[ $fail -eq 0 ] && [ $applyfail -eq 0 ]
