#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Packages the shipped agent (scripts/build-agent.sh) as a .deb and an RPM, each with the hardened systemd unit
# packaging/xdc-agent.service. Both require only the C runtime, the shell, systemd and the host tools the agent
# drives (nft and libnftables, iptables, ip, tc), by each family's package names; libcurl (HTTP probes) is
# recommended, not required. Installing does not enable or start the service: the role writes the config, then
# enables it. Both own /etc/xdc-agent (0700), where the config and key pair go.
#
# Usage: scripts/make-packages.sh [--bin FILE] [--out DIR] [--version V] [--deb-only|--rpm-only]
#   --bin FILE     the shipped agent (default: dist/xdc-agent)
#   --out DIR      where the packages go (default: dist)
#   --version V    package version (default: the binary's --version)
# Prints the path of each package built. Exit 1 if a tool fails or the binary is not the self-contained one,
# 2 on a bad argument.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=dist/xdc-agent
out=dist
version=
formats=(deb rpm)
while [ $# -gt 0 ]; do
	case "$1" in
	--bin) bin=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--version) version=$2; shift 2 ;;
	--deb-only) formats=(deb); shift ;;
	--rpm-only) formats=(rpm); shift ;;
	-h|--help) sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "make-packages: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ -x "$bin" ] || { echo "make-packages: $bin not found; build it first (scripts/build-agent.sh)" >&2; exit 1; }
scripts/check-agent-abi.sh "$bin" > /dev/null || {
	echo "make-packages: $bin is not the self-contained agent (scripts/check-agent-abi.sh $bin)" >&2
	exit 1
}
[ -n "$version" ] || version=$("$bin" --version | awk '{print $2}')
# The oldest glibc the binary accepts: the highest GLIBC_ version it requires.
glibc=$(scripts/check-agent-abi.sh --json "$bin" | sed -n 's/.*"GLIBC":"\([0-9.]*\)".*/\1/p')
[ -n "$glibc" ] || { echo "make-packages: cannot read the binary's glibc version" >&2; exit 1; }
unit=packaging/xdc-agent.service
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
description="xdc agent: datacenter failure injection and evidence for Streams hosts"
long="Connects out to the xdc controller over CurveZMQ, injects local faults (nftables partitions, tc, process and
resource faults), samples host and process metrics and reports timestamped evidence. Self-contained: needs only
the C runtime and the host tools it drives. Deployed by the xdc_agent Ansible role (docs/DEPLOYMENT.md)."
postinst='if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi'

for f in "${formats[@]}"; do
	case "$f" in
	deb)
		arch=$(dpkg --print-architecture)
		stage="$work/deb"
		install -D -m 0755 "$bin" "$stage/usr/bin/xdc-agent"
		install -D -m 0644 "$unit" "$stage/lib/systemd/system/xdc-agent.service"
		install -d -m 0700 "$stage/etc/xdc-agent"
		mkdir -p "$stage/DEBIAN"
		cat > "$stage/DEBIAN/control" <<CONTROL
Package: xdc-agent
Version: $version
Architecture: $arch
Maintainer: xdc developers <xdc@example.invalid>
Depends: libc6 (>= $glibc), libgcc-s1, nftables, iptables, iproute2
Recommends: libcurl4
Section: admin
Priority: optional
Description: $description
$(echo "$long" | sed 's/^/ /')
CONTROL
		printf '#!/bin/sh\nset -e\n%s\n' "$postinst" > "$stage/DEBIAN/postinst"
		printf '#!/bin/sh\nset -e\n%s\n' "$postinst" > "$stage/DEBIAN/postrm"
		chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/postrm"
		deb="$out/xdc-agent_${version}_${arch}.deb"
		dpkg-deb --build --root-owner-group "$stage" "$deb" > /dev/null
		echo "$deb"
		;;
	rpm)
		command -v rpmbuild > /dev/null || { echo "make-packages: rpmbuild not found (Debian package rpm)" >&2; exit 1; }
		top="$work/rpm"
		mkdir -p "$top/SOURCES" "$top/SPECS"
		cp "$bin" "$top/SOURCES/xdc-agent"
		cp "$unit" "$top/SOURCES/xdc-agent.service"
		cat > "$top/SPECS/xdc-agent.spec" <<SPEC
# The binary is already stripped (its debug info is split off by scripts/build-agent.sh): no debuginfo package,
# no post-install processing.
%global debug_package %{nil}
%global __os_install_post %{nil}
Name: xdc-agent
Version: $version
Release: 1
Summary: $description
License: Apache-2.0
BuildArch: x86_64
# The host tools the agent drives, by RHEL's package names; libnftables.so.1 comes with nftables. iptables is a
# file requirement because RHEL 8 and 9 name its package iptables or iptables-nft.
Requires: nftables
Requires: /usr/sbin/iptables
Requires: iproute
Requires: iproute-tc
Requires: systemd
Recommends: libcurl

%description
$long

%install
install -D -m 0755 %{_sourcedir}/xdc-agent %{buildroot}/usr/bin/xdc-agent
install -D -m 0644 %{_sourcedir}/xdc-agent.service %{buildroot}/usr/lib/systemd/system/xdc-agent.service
install -d -m 0700 %{buildroot}/etc/xdc-agent

%post
$postinst

%postun
$postinst

%files
/usr/bin/xdc-agent
/usr/lib/systemd/system/xdc-agent.service
%dir %attr(0700, root, root) /etc/xdc-agent
SPEC
		rpmbuild --quiet --define "_topdir $top" --define "_build_id_links none" -bb "$top/SPECS/xdc-agent.spec" \
			> "$work/rpmbuild.log" 2>&1 || { cat "$work/rpmbuild.log" >&2; exit 1; }
		rpm_file=$(find "$top/RPMS" -name '*.rpm' | head -1)
		cp "$rpm_file" "$out/"
		echo "$out/$(basename "$rpm_file")"
		;;
	esac
done
