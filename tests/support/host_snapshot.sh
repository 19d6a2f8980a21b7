#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Writes a deterministic snapshot of the host network namespace to OUTFILE, so tests can prove the lab leaves no trace.
#
# Volatile output is normalised away (interface indexes, peer ifindexes, netns ids, address lifetimes, route expiry,
# packet counters), so two runs on an unchanged host give identical files.
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTFILE" >&2
	exit 2
fi
out=$1

section() { printf '\n### %s\n' "$*"; }

# Runs a command if it exists; a missing tool is recorded rather than failing, so snapshots stay comparable.
maybe() {
	if command -v "$1" >/dev/null 2>&1; then
		"$@" 2>&1 || echo "($1 exited $?)"
	else
		echo "($1 not installed)"
	fi
}

# Interface indexes change whenever anything is created, even if it is later removed; names are what matter.
strip_link_ids() {
	sed -E -e 's/^[0-9]+: //' -e 's/@if[0-9]+:/:/' -e 's/ link-netnsid [0-9]+//' -e 's/ link-netns [^ ]+//'
}

strip_counters() {
	sed -E -e '/^#/d' -e 's/\[[0-9]+:[0-9]+\]/[0:0]/g'
}

{
	section "ip -d link show"
	ip -d link show | strip_link_ids
	section "ip addr"
	ip addr show | strip_link_ids | sed -E '/^[[:space:]]+valid_lft /d'
	section "ip -4 route show table all"
	ip -4 route show table all
	section "ip -6 route show table all"
	ip -6 route show table all | sed -E 's/ expires [0-9]+sec//'
	section "ip -4 rule"
	ip -4 rule show
	section "ip -6 rule"
	ip -6 rule show
	section "nft list ruleset"
	maybe nft list ruleset | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/g'
	section "iptables-save"
	maybe iptables-save | strip_counters
	section "ip6tables-save"
	maybe ip6tables-save | strip_counters
	section "tc qdisc show"
	tc qdisc show
	section "sysctl"
	for key in net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.conf.all.rp_filter; do
		sysctl "$key" 2>&1 || true
	done
	if [ -d /proc/sys/net/bridge ]; then
		sysctl net.bridge 2>&1 | LC_ALL=C sort
	fi
	section "ip netns list"
	ip netns list | sed -E 's/ \(id: [0-9]+\)//' | LC_ALL=C sort
} >"$out.tmp"
mv "$out.tmp" "$out"
