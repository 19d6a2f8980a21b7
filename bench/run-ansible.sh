#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What deployment costs and what xdc saves over the users' baseline, in one invocation on one lab:
#   a  `ansible-playbook deploy.yml` to the 4 lab hosts (2 DCs x 2, over SSH): wall time of the first deploy and of a
#      no-change rerun
#   b  the baseline users have today: a dc1 <-> dc2 partition put on the 4 hosts with an Ansible ad-hoc command
#      (nft rules through ansible.builtin.command), beside the same partition through `xdc fault apply` (applied and
#      verified on every agent; --no-sync: each agent applies as its command arrives); N rounds each, interleaved,
#      medians and the ratio (the issue's goal: xdc >= 100x faster); whole command wall times, CLI start included
# Tears the lab down on exit, also on failure. Needs root, ansible-core and openssh-server.
#
#   c  the same with a synchronised start (the default of `xdc fault apply`: one instant >= 150 ms ahead)
# Usage: bench/run-ansible.sh [--build-dir DIR] [--name LAB] [--rounds N]
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/build-bench"
lab="hcan$(($$ % 1000))"
rounds=5
while [ $# -gt 0 ]; do
	case "$1" in
	--build-dir) build=$(realpath "$2"); shift ;;
	--name) lab="$2"; shift ;;
	--rounds) rounds="$2"; shift ;;
	-h|--help) sed -n '3,12p' "$0"; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$build" >/dev/null
xdc="$build/controller/xdc"
export XDC_AGENT_BIN="$build/agent/xdc-agent"
cleanup() { "$xdc" lab down --name "$lab" >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$xdc" lab up --name "$lab" --no-agents --sshd >/dev/null
state=$("$xdc" lab status --name "$lab" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["state_dir"])' 2>/dev/null || echo "/run/xdc/lab/$lab")
inv="$state/ansible/inventory.yml"
export ANSIBLE_CONFIG="$src/ansible/ansible.cfg" ANSIBLE_NOCOLOR=1
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }

t0=$(now); ansible-playbook -i "$inv" "$src/ansible/deploy.yml" >/dev/null; t1=$(now)
ansible-playbook -i "$inv" "$src/ansible/deploy.yml" >/dev/null; t2=$(now)
echo "a deploy to 4 lab hosts: first $(secs "$t0" "$t1") s, no-change rerun $(secs "$t1" "$t2") s"

# The DCs' data addresses, for the ad-hoc rules (the same pairs xdc partitions).
read -r dc1 dc2 < <("$xdc" lab status --name "$lab" --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
h = s["hosts"]
print(",".join(x["data4"] for x in h if x["dc"] == "dc1"), ",".join(x["data4"] for x in h if x["dc"] == "dc2"))')
# The rule files (the lab hosts share this filesystem; elsewhere a copy task would come first, not timed here).
rules=$(mktemp -d /tmp/xdc-bench-ansible.XXXXXX)
trap 'cleanup; rm -rf "$rules"' EXIT
for pair in "dc1 $dc2" "dc2 $dc1"; do
	set -- $pair
	cat > "$rules/$1.nft" <<R
table inet xdcbench_adhoc {
  chain in { type filter hook input priority -5; ip saddr { $2 } drop; }
  chain out { type filter hook output priority -5; ip daddr { $2 } drop; }
}
R
done
measure() {
adhoc=()
xdcs=()
for i in $(seq "$rounds"); do
	t0=$(now)
	ansible xdc_agents -i "$inv" -m ansible.builtin.command \
		-a "nft -f $rules/{{ group_names | select('match', '^dc[0-9]+$') | first }}.nft" >/dev/null
	t1=$(now)
	ansible xdc_agents -i "$inv" -m ansible.builtin.command -a "nft delete table inet xdcbench_adhoc" >/dev/null
	adhoc+=("$(secs "$t0" "$t1")")
	t0=$(now)
	out=$("$xdc" fault apply --lab "$lab" --json "${sync[@]}" \
		'{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 30s}')
	t1=$(now)
	id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<< "$out")
	"$xdc" fault revert --lab "$lab" "$id" >/dev/null
	xdcs+=("$(secs "$t0" "$t1")")
done
python3 - "${adhoc[*]}" "${xdcs[*]}" "$1" "$2" <<'PY'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]
x = [float(v) for v in sys.argv[2].split()]
ma, mx = statistics.median(a), statistics.median(x)
print(f"{sys.argv[3]} partition on 4 hosts, {len(a)} rounds: ansible ad-hoc median {ma*1000:.0f} ms (max {max(a)*1000:.0f}), "
      f"xdc fault apply {sys.argv[4]} median {mx*1000:.1f} ms (max {max(x)*1000:.1f}); xdc is {ma/mx:.0f}x faster (goal >= 100x)")
PY
}
sync=(--no-sync); measure b --no-sync
sync=(); measure c "(synchronised)"
ansible-playbook -i "$inv" "$src/ansible/remove.yml" >/dev/null
