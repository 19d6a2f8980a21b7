#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds xdc-agent_<version>_<arch>.deb from a build tree, for the xdc_agent Ansible role (xdc_agent_install_from: deb).
# The package holds /usr/bin/xdc-agent; its Depends come from the Debian packages that own the libraries it links.
#
# Usage: scripts/make-deb.sh [--build DIR] [--out DIR] [--version V]
#   --build DIR    build tree with agent/xdc-agent (default: build)
#   --out DIR      where the .deb goes (default: dist)
#   --version V    package version (default: the binary's --version)
# Prints the path of the package. Exit 1 if the binary is missing or dpkg-deb fails.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
out=dist
version=
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--version) version=$2; shift 2 ;;
	-h|--help) sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "make-deb: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
bin="$build/agent/xdc-agent"
[ -x "$bin" ] || { echo "make-deb: $bin not found; build first (meson setup $build && ninja -C $build)" >&2; exit 1; }
[ -n "$version" ] || version=$("$bin" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)
# The packages owning the shared libraries the agent links (libc included), with the installed versions as minimums.
deps=$(ldd "$bin" | awk '/=> \//{print $3}' | while read -r lib; do
	real=$(readlink -f "$lib")
	dpkg -S "$real" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || true
done | cut -d: -f1 | sort -u | while read -r p; do
	printf '%s (>= %s), ' "$p" "$(dpkg-query -W -f='${Version}' "$p")"
done)
deps="${deps%, }"
stage=$(mktemp -d)
chmod 0755 "$stage"
trap 'rm -rf "$stage"' EXIT
install -D -m 0755 "$bin" "$stage/usr/bin/xdc-agent"
strip --strip-unneeded "$stage/usr/bin/xdc-agent" 2>/dev/null || true
mkdir -p "$stage/DEBIAN" "$out"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: xdc-agent
Version: $version
Architecture: $arch
Maintainer: xdc developers <xdc@example.invalid>
Depends: $deps, nftables, iptables, iproute2
Section: admin
Priority: optional
Description: xdc agent: datacenter failure injection and evidence for Streams hosts
 Connects out to the xdc controller over CurveZMQ, injects local faults (nftables partitions, tc, process and resource
 faults), samples host and process metrics and reports timestamped evidence. Deployed by the xdc_agent Ansible role.
CONTROL
deb="$out/xdc-agent_${version}_${arch}.deb"
dpkg-deb --build --root-owner-group "$stage" "$deb" >/dev/null
echo "$deb"
