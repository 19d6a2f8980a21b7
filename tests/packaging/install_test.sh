#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Estate #23, acceptance 2: the agent installed from its .deb and from its RPM into clean Debian 12 roots (nothing
# of ours in them) starts there, registers with a lab controller, and applies and reverts a partition.
#
# Each lab host gets its own install root: an overlay whose lower layer is the cached debootstrap root
# (scripts/make-root.sh) and whose upper layer is the test's, mounted under the test's directory; the agent runs
# chrooted into it inside the host's network namespace (`ip netns exec NS chroot ROOT /usr/bin/xdc-agent`), with
# the root's own /usr/bin/xdc-agent, libraries and host tools. dc1-h1 gets the .deb (dpkg --root), dc2-h1 the RPM
# (rpm --root --nodeps: the root's packages are dpkg's, so rpm's database cannot see that they are there).
#
# With the controller's packages too (XDC_DEB, XDC_RPM): the xdc .deb goes into dc1-h1's root and the xdc RPM into
# dc2-h1's; each installed controller is started there (chrooted, in the host's namespace, with no capability at
# all, as its unit runs it) and each host's agent is pointed at the other host's controller: the .deb's agent at the
# RPM's controller and the other way round. Both must register, and a partition applied through the .deb's
# controller's console must hold and revert.
#
# Usage: tests/packaging/install_test.sh DEB RPM [XDC_DEB XDC_RPM]    (root; XDC_BIN: the lab's xdc binary)
# Exit 0 when every check holds, 1 on the first that does not (named), 77 never (CI counts skips as failures).
set -euo pipefail
cd "$(dirname "$0")/../.."
deb=$(realpath "$1")
rpmf=$(realpath "$2")
xdc_deb=${3:+$(realpath "$3")}
xdc_rpm=${4:+$(realpath "$4")}
xdc=${XDC_BIN:-build-test/controller/xdc}
lab=xpk$$
work=$(mktemp -d "/tmp/xdc-install-$lab.XXXXXX")
mounts=()
pids=()
fail() { echo "install_test: FAIL: $*" >&2; exit 1; }
cleanup() {
	set +e
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null; done
	"$xdc" lab down --name "$lab" > /dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
# Waits up to $1 seconds for the command after it to succeed (a condition with a deadline, not a sleep).
wait_for() {
	local limit=$1; shift
	local end=$(($(date +%s%N) + limit * 1000000000))
	while [ "$(date +%s%N)" -lt "$end" ]; do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

root=$(scripts/make-root.sh bookworm)
"$xdc" lab up --name "$lab" --dcs 2 --hosts-per-dc 1 --no-agents > "$work/lab.out" 2>&1 || { cat "$work/lab.out" >&2; fail "lab up"; }
status=$("$xdc" lab status --name "$lab" --json)
endpoint=$(echo "$status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["controller"]["endpoint"])')
state=$(echo "$status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state_dir"])')
ctl_pub=$(awk '/^public:/ {print $2}' "$state/keys/controller.pub")

for host in dc1-h1 dc2-h1; do
	dc=${host%%-*}
	R="$work/$host/root"
	mkdir -p "$work/$host/upper" "$work/$host/work" "$R"
	mount -t overlay overlay -o "lowerdir=$root,upperdir=$work/$host/upper,workdir=$work/$host/work" "$R"
	mounts+=("$R")
	[ ! -e "$R/usr/bin/xdc-agent" ] || fail "the cached root already holds an xdc-agent"
	if [ "$host" = dc1-h1 ]; then
		dpkg --root="$R" --force-script-chrootless -i "$deb" > "$work/$host/install.log" 2>&1 ||
			{ cat "$work/$host/install.log" >&2; fail "dpkg --root -i $deb"; }
		chroot "$R" dpkg-query -W -f='${Status}' xdc-agent | grep -q "install ok installed" || fail "dpkg does not list xdc-agent installed in $host's root"
		unit="$R/lib/systemd/system/xdc-agent.service"
	else
		rpm --root "$R" --initdb
		rpm --root "$R" -i --nodeps "$rpmf" > "$work/$host/install.log" 2>&1 ||
			{ cat "$work/$host/install.log" >&2; fail "rpm --root -i $rpmf"; }
		rpm --root "$R" -q xdc-agent > /dev/null || fail "rpm does not list xdc-agent installed in $host's root"
		unit="$R/usr/lib/systemd/system/xdc-agent.service"
	fi
	[ -f "$unit" ] || fail "$host: the package did not install its unit"
	# Installing does not enable the service.
	[ -z "$(find "$R/etc/systemd/system" -name 'xdc-agent.service' 2>/dev/null)" ] || fail "$host: the package enabled the service"
	mount -t proc proc "$R/proc"
	mounts+=("$R/proc")
	mount --bind /dev "$R/dev"
	mounts+=("$R/dev")
	# Prints 'created ID PUBLIC-KEY'; the secret stays in the host's root.
	pub=$(chroot "$R" /usr/bin/xdc-agent --gen-key /etc/xdc-agent/agent.key | awk '{print $3}')
	[ -n "$pub" ] || fail "$host: xdc-agent --gen-key printed no public key"
	cat > "$R/etc/xdc-agent/agent.yaml" <<EOF
id: $host
host: $host
dc: $dc
labels:
  lab: $lab
controller: $endpoint
controller_key: '$ctl_pub'
key: /etc/xdc-agent/agent.key
state_dir: /var/lib/xdc-agent
log:
  file: /var/log/xdc-agent/agent.log
EOF
	mkdir -p "$R/var/log/xdc-agent"
	echo "$host $pub" >> "$state/keys/agents.allow"
done
"$xdc" reload --lab "$lab" > /dev/null || fail "xdc reload"
for host in dc1-h1 dc2-h1; do
	ip netns exec "${lab}_$host" chroot "$work/$host/root" /usr/bin/xdc-agent --config /etc/xdc-agent/agent.yaml \
		> "$work/$host/agent.out" 2>&1 &
	pids+=($!)
done

live() {
	"$xdc" agents --lab "$lab" --json | python3 -c '
import json, sys
a = json.load(sys.stdin)
a = a.get("agents", a) if isinstance(a, dict) else a
live = {x["id"] for x in a if x.get("state", x.get("status")) == "live"}
sys.exit(0 if {"dc1-h1", "dc2-h1"} <= live else 1)'
}
wait_for 20 live || {
	for h in dc1-h1 dc2-h1; do echo "--- $h"; cat "$work/$h/agent.out"; tail -5 "$work/$h/root/var/log/xdc-agent/agent.log"; done >&2
	"$xdc" agents --lab "$lab" >&2
	fail "the installed agents did not both register within 20 s"
}
# What registered is the packaged binary: its version is the package's.
pkgver=$(dpkg-deb -f "$deb" Version)
versions=$("$xdc" agents --lab "$lab" --json | python3 -c 'import json,sys; print(" ".join(sorted({a["version"] for a in json.load(sys.stdin)})))')
[ "$versions" = "$pkgver" ] || fail "the agents report version(s) '$versions', the packages are $pkgver"
echo "install_test: both installed agents registered (version $pkgver)"

peer4() { echo "$status" | python3 -c "import json,sys; print([h['data4'] for h in json.load(sys.stdin)['hosts'] if h['name']=='$1'][0])"; }
reach() { ip netns exec "${lab}_$1" ping -c 1 -W 1 "$(peer4 "$2")" > /dev/null 2>&1; }
wait_for 10 reach dc1-h1 dc2-h1 || fail "dc1-h1 cannot reach dc2-h1 before the fault"
out=$("$xdc" fault apply --lab "$lab" --json '{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 60s}') ||
	fail "fault apply: $out"
id=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
! reach dc1-h1 dc2-h1 || fail "dc1-h1 still reaches dc2-h1 under the partition"
ip netns exec "${lab}_dc1-h1" nft list tables | grep -q xdc || fail "no xdc table in dc1-h1 under the partition"
"$xdc" fault revert --lab "$lab" "$id" > "$work/revert.out" 2>&1 || { cat "$work/revert.out" >&2; fail "fault revert"; }
wait_for 10 reach dc1-h1 dc2-h1 || fail "dc1-h1 cannot reach dc2-h1 after the revert"
! ip netns exec "${lab}_dc1-h1" nft list tables | grep -q xdc || fail "an xdc table is left in dc1-h1 after the revert"
echo "install_test: partition applied and reverted by the .deb's agent (dc1-h1)"

# The RPM's agent: the same from dc2's side.
out=$("$xdc" fault apply --lab "$lab" --json '{kind: network.partition, targets: {dc: dc2}, peers: {dc: dc1}, duration: 60s}') ||
	fail "fault apply on dc2: $out"
id=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
! reach dc2-h1 dc1-h1 || fail "dc2-h1 still reaches dc1-h1 under the partition"
"$xdc" fault revert --lab "$lab" "$id" > "$work/revert.out" 2>&1 || { cat "$work/revert.out" >&2; fail "fault revert on dc2"; }
wait_for 10 reach dc2-h1 dc1-h1 || fail "dc2-h1 cannot reach dc1-h1 after the revert"
! ip netns exec "${lab}_dc2-h1" nft list tables | grep -q xdc || fail "an xdc table is left in dc2-h1 after the revert"
echo "install_test: partition applied and reverted by the RPM's agent (dc2-h1)"
if [ -z "$xdc_deb" ]; then
	echo "install_test: OK (agent packages only)"
	exit 0
fi

# The controller's packages: the .deb beside the agent's in dc1-h1's root, the RPM in dc2-h1's.
mgmt4() { echo "$status" | python3 -c "import json,sys; print([h['mgmt4'] for h in json.load(sys.stdin)['hosts'] if h['name']=='$1'][0])"; }
for host in dc1-h1 dc2-h1; do
	R="$work/$host/root"
	if [ "$host" = dc1-h1 ]; then
		dpkg --root="$R" --force-script-chrootless -i "$xdc_deb" > "$work/$host/xdc-install.log" 2>&1 ||
			{ cat "$work/$host/xdc-install.log" >&2; fail "dpkg --root -i $xdc_deb"; }
		chroot "$R" dpkg-query -W -f='${Status}' xdc | grep -q "install ok installed" || fail "dpkg does not list xdc installed in $host's root"
		[ -f "$R/lib/systemd/system/xdc-controller.service" ] || fail "the xdc .deb did not install its unit"
	else
		rpm --root "$R" -i --nodeps "$xdc_rpm" > "$work/$host/xdc-install.log" 2>&1 ||
			{ cat "$work/$host/xdc-install.log" >&2; fail "rpm --root -i $xdc_rpm"; }
		rpm --root "$R" -q xdc > /dev/null || fail "rpm does not list xdc installed in $host's root"
		[ -f "$R/usr/lib/systemd/system/xdc-controller.service" ] || fail "the xdc RPM did not install its unit"
	fi
	[ -z "$(find "$R/etc/systemd/system" -name 'xdc-controller.service' 2>/dev/null)" ] || fail "$host: the xdc package enabled the service"
	# What the unit's StateDirectory=, LogsDirectory= and RuntimeDirectory= would create.
	mkdir -p "$R/var/lib/xdc" "$R/var/log/xdc" "$R/run/xdc"
	chroot "$R" /usr/bin/xdc keys generate controller --out /etc/xdc > "$work/$host/keys.out" 2>&1 ||
		{ cat "$work/$host/keys.out" >&2; fail "$host: xdc keys generate controller"; }
	cat > "$R/etc/xdc/controller.yaml" <<EOF
listen: tcp://$(mgmt4 "$host"):7700
control: /run/xdc/control.sock
key: /etc/xdc/controller.key
allow: /etc/xdc/agents.allow
data_dir: /var/lib/xdc
log:
  file: /var/log/xdc/controller.log
EOF
done
# Each agent moves to the other host's controller: that controller's allow-list gets the agent's key, the agent's
# config the controller's endpoint and key. The agents stop first (no fault is in place).
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()
for pair in "dc1-h1 dc2-h1" "dc2-h1 dc1-h1"; do
	agent_host=${pair% *} ctl_host=${pair#* }
	A="$work/$agent_host/root" C="$work/$ctl_host/root"
	pub=$(awk '/^public:/ {print $2}' "$A/etc/xdc-agent/agent.pub")
	[ -n "$pub" ] || fail "$agent_host: no public key in /etc/xdc-agent/agent.pub"
	echo "$agent_host $pub" > "$C/etc/xdc/agents.allow"
	chmod 0600 "$C/etc/xdc/agents.allow"
	# The controller's public key file, as the role installs it (a Z85 key may hold '&', which sed would expand).
	install -m 0644 "$C/etc/xdc/controller.pub" "$A/etc/xdc-agent/controller.pub"
	sed -i "s|^controller: .*|controller: tcp://$(mgmt4 "$ctl_host"):7700|; s|^controller_key: .*|controller_key: /etc/xdc-agent/controller.pub|" \
		"$A/etc/xdc-agent/agent.yaml"
done
for host in dc1-h1 dc2-h1; do
	# No capability at all (the unit's empty CapabilityBoundingSet=) and no new privileges.
	ip netns exec "${lab}_$host" chroot "$work/$host/root" setpriv --bounding-set -all --inh-caps -all --no-new-privs -- \
		/usr/bin/xdc controller --config /etc/xdc/controller.yaml > "$work/$host/controller.out" 2>&1 &
	pids+=($!)
done
for host in dc1-h1 dc2-h1; do
	ip netns exec "${lab}_$host" chroot "$work/$host/root" /usr/bin/xdc-agent --config /etc/xdc-agent/agent.yaml \
		> "$work/$host/agent2.out" 2>&1 &
	pids+=($!)
done
# The console of the controller installed in HOST's root.
console() { local host=$1; shift; chroot "$work/$host/root" /usr/bin/xdc "$@" --control /run/xdc/control.sock; }
live_at() {
	console "$1" agents --json | python3 -c '
import json, sys
a = json.load(sys.stdin)
a = a.get("agents", a) if isinstance(a, dict) else a
sys.exit(0 if any(x["id"] == sys.argv[1] and x["state"] == "live" for x in a) else 1)' "$2"
}
wait_for 20 live_at dc2-h1 dc1-h1 || {
	cat "$work/dc2-h1/controller.out" "$work/dc2-h1/root/var/log/xdc/controller.log" "$work/dc1-h1/agent2.out" >&2 2>/dev/null
	fail "the .deb's agent (dc1-h1) did not register with the RPM's controller (dc2-h1) within 20 s"
}
wait_for 20 live_at dc1-h1 dc2-h1 || {
	cat "$work/dc1-h1/controller.out" "$work/dc1-h1/root/var/log/xdc/controller.log" "$work/dc2-h1/agent2.out" >&2 2>/dev/null
	fail "the RPM's agent (dc2-h1) did not register with the .deb's controller (dc1-h1) within 20 s"
}
for p in "${pids[0]}" "${pids[1]}"; do
	[ "$(awk '/^CapEff:/ {print $2}' "/proc/$p/status")" = 0000000000000000 ] ||
		fail "controller process $p ($(tr '\0' ' ' < "/proc/$p/cmdline")) holds capabilities"
done
echo "install_test: each installed controller, without capabilities, has the other package's agent live"
# dc1-h1 has no agent of this controller's: the peer is its data address.
out=$(console dc1-h1 fault apply --json "{kind: network.partition, targets: {host: dc2-h1}, peers: {cidrs: [$(peer4 dc1-h1)/32]}, duration: 60s}") ||
	fail "fault apply through the .deb's controller: $out"
id=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
! reach dc2-h1 dc1-h1 || fail "dc2-h1 still reaches dc1-h1 under the partition applied through the .deb's controller"
console dc1-h1 fault revert "$id" > "$work/revert.out" 2>&1 || { cat "$work/revert.out" >&2; fail "fault revert through the .deb's controller"; }
wait_for 10 reach dc2-h1 dc1-h1 || fail "dc2-h1 cannot reach dc1-h1 after the revert"
! ip netns exec "${lab}_dc2-h1" nft list tables | grep -q xdc || fail "an xdc table is left in dc2-h1 after the revert"
echo "install_test: partition applied and reverted through the .deb's controller"
echo "install_test: OK"
