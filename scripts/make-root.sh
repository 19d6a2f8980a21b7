#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A throwaway Debian root filesystem for the package install tests (tests/packaging/install_test.sh, and the
# Ansible test's hosts with their own roots: `xdc lab up --sshd --host-root`): debootstrap's minbase of SUITE plus
# the host tools the agent's packages require (nftables, iptables, iproute2), libcurl4 (which the controller's
# package requires and the agent's recommends) and what Ansible needs on a managed
# Debian host to install a .deb (python3, python3-apt), nothing of ours. Built once and cached, keyed by suite and
# package list; tests use it as the read-only lower layer of an overlay.
#
# Usage: scripts/make-root.sh [--cache DIR] SUITE      (SUITE: bookworm = Debian 12, bullseye = Debian 11)
#   --cache DIR   where roots are kept (default: $XDC_DEPS_CACHE, else /var/cache/xdc-build)
# Prints the root's path. Exit 1 when debootstrap fails (nothing is left behind), 2 on a bad argument.
set -euo pipefail
cache=${XDC_DEPS_CACHE:-/var/cache/xdc-build}
suite=
while [ $# -gt 0 ]; do
	case "$1" in
	--cache) cache=$2; shift 2 ;;
	-h|--help) sed -n '3,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "make-root: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	*) suite=$1; shift ;;
	esac
done
case "$suite" in
bookworm|bullseye) ;;
*) echo "make-root: SUITE must be bookworm or bullseye, not '$suite'" >&2; exit 2 ;;
esac
command -v debootstrap > /dev/null || { echo "make-root: debootstrap not found (scripts/install-deps.sh)" >&2; exit 1; }
include=nftables,iptables,iproute2,libcurl4,python3,python3-apt
key=$(printf '%s\n' "$suite" minbase "$include" | sha256sum | cut -c1-12)
root="$cache/roots/$suite-$key"
if [ -f "$root/.complete" ]; then
	echo "$root"
	exit 0
fi
mkdir -p "$cache/roots"
tmp="$root.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
echo "make-root: debootstrap $suite into $root (once per cache)" >&2
debootstrap --variant=minbase --include="$include" "$suite" "$tmp" http://deb.debian.org/debian > "$tmp.log" 2>&1 || {
	tail -20 "$tmp.log" >&2
	rm -f "$tmp.log"
	echo "make-root: debootstrap $suite failed" >&2
	exit 1
}
rm -f "$tmp.log"
# Nothing in it may start at install time (the install test runs dpkg inside it).
printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"
chmod 0755 "$tmp/usr/sbin/policy-rc.d"
touch "$tmp/.complete"
rm -rf "$root"
mv "$tmp" "$root"
trap - EXIT
echo "$root"
