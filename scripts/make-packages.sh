#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Packages the shipped binaries (scripts/build-agent.sh) as .deb and RPM, each with its hardened systemd unit:
#   xdc-agent: /usr/bin/xdc-agent and packaging/xdc-agent.service. Requires only the C runtime, the shell, systemd
#     and the host tools the agent drives (nft and libnftables, iptables, ip, tc), by each family's package names;
#     libcurl (HTTP probes) is recommended, not required. Owns /etc/xdc-agent (0700).
#   xdc (with --controller-bin): the console and controller, /usr/bin/xdc and packaging/xdc-controller.service.
#     Requires the C runtime, systemd and libcurl (the Streams REST client and metric sources). Owns /etc/xdc (0700).
# Installing does not enable or start a service: the roles write the config, then enable it.
#
# Usage: scripts/make-packages.sh [--bin FILE] [--controller-bin FILE] [--out DIR] [--version V] [--deb-only|--rpm-only]
#   --bin FILE             the shipped agent (default: dist/xdc-agent)
#   --controller-bin FILE  the shipped controller (xdc); without it only the agent is packaged
#   --out DIR              where the packages go (default: dist)
#   --version V            package version (default: each binary's --version)
# Prints the path of each package built. Exit 1 if a tool fails or a binary is not a self-contained one,
# 2 on a bad argument.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=dist/xdc-agent
controller_bin=
out=dist
version=
formats=(deb rpm)
while [ $# -gt 0 ]; do
	case "$1" in
	--bin) bin=$2; shift 2 ;;
	--controller-bin) controller_bin=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--version) version=$2; shift 2 ;;
	--deb-only) formats=(deb); shift ;;
	--rpm-only) formats=(rpm); shift ;;
	-h|--help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "make-packages: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
postinst='if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi'

# package NAME BINARY TOOL UNIT CONFDIR DEB_DEPENDS DEB_RECOMMENDS RPM_REQUIRES RPM_RECOMMENDS SUMMARY DESCRIPTION
# Builds NAME's .deb and RPM: BINARY as /usr/bin/TOOL, UNIT in the family's unit directory, CONFDIR owned (0700).
# DEB_DEPENDS is appended to libc6 (>= the binary's glibc), libgcc-s1; RPM_REQUIRES (space-separated) to what
# rpmbuild finds from the binary's own libraries.
package() {
	local name=$1 binary=$2 tool=$3 unit=$4 confdir=$5 deb_depends=$6 deb_recommends=$7 rpm_requires=$8
	local rpm_recommends=$9 summary=${10} long=${11}
	[ -x "$binary" ] || { echo "make-packages: $binary not found; build it first (scripts/build-agent.sh)" >&2; exit 1; }
	scripts/check-agent-abi.sh "$binary" > /dev/null || {
		echo "make-packages: $binary is not a self-contained build (scripts/check-agent-abi.sh $binary)" >&2
		exit 1
	}
	local v=$version
	[ -n "$v" ] || v=$("$binary" --version | awk '{print $2}')
	# The oldest glibc the binary accepts: the highest GLIBC_ version it requires.
	local glibc
	glibc=$(scripts/check-agent-abi.sh --json "$binary" | sed -n 's/.*"GLIBC":"\([0-9.]*\)".*/\1/p')
	[ -n "$glibc" ] || { echo "make-packages: cannot read $binary's glibc version" >&2; exit 1; }
	local unit_name
	unit_name=$(basename "$unit")
	for f in "${formats[@]}"; do
		case "$f" in
		deb)
			local arch stage="$work/deb-$name"
			arch=$(dpkg --print-architecture)
			install -D -m 0755 "$binary" "$stage/usr/bin/$tool"
			install -D -m 0644 "$unit" "$stage/lib/systemd/system/$unit_name"
			install -d -m 0700 "$stage$confdir"
			mkdir -p "$stage/DEBIAN"
			{
				echo "Package: $name"
				echo "Version: $v"
				echo "Architecture: $arch"
				echo "Maintainer: xdc developers <xdc@example.invalid>"
				echo "Depends: libc6 (>= $glibc), libgcc-s1${deb_depends:+, $deb_depends}"
				[ -z "$deb_recommends" ] || echo "Recommends: $deb_recommends"
				echo "Section: admin"
				echo "Priority: optional"
				echo "Description: $summary"
				echo "$long" | sed 's/^/ /'
			} > "$stage/DEBIAN/control"
			printf '#!/bin/sh\nset -e\n%s\n' "$postinst" > "$stage/DEBIAN/postinst"
			printf '#!/bin/sh\nset -e\n%s\n' "$postinst" > "$stage/DEBIAN/postrm"
			chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/postrm"
			local deb="$out/${name}_${v}_${arch}.deb"
			dpkg-deb --build --root-owner-group "$stage" "$deb" > /dev/null
			echo "$deb"
			;;
		rpm)
			command -v rpmbuild > /dev/null || { echo "make-packages: rpmbuild not found (Debian package rpm)" >&2; exit 1; }
			local top="$work/rpm-$name" r requires=
			mkdir -p "$top/SOURCES" "$top/SPECS"
			cp "$binary" "$top/SOURCES/$tool"
			cp "$unit" "$top/SOURCES/$unit_name"
			for r in $rpm_requires; do requires+="Requires: $r"$'\n'; done
			cat > "$top/SPECS/$name.spec" <<SPEC
# The binary is already stripped (its debug info is split off by scripts/build-agent.sh): no debuginfo package,
# no post-install processing.
%global debug_package %{nil}
%global __os_install_post %{nil}
Name: $name
Version: $v
Release: 1
Summary: $summary
License: Apache-2.0
BuildArch: x86_64
${requires}${rpm_recommends:+Recommends: $rpm_recommends}

%description
$long

%install
install -D -m 0755 %{_sourcedir}/$tool %{buildroot}/usr/bin/$tool
install -D -m 0644 %{_sourcedir}/$unit_name %{buildroot}/usr/lib/systemd/system/$unit_name
install -d -m 0700 %{buildroot}$confdir

%post
$postinst

%postun
$postinst

%files
/usr/bin/$tool
/usr/lib/systemd/system/$unit_name
%dir %attr(0700, root, root) $confdir
SPEC
			rpmbuild --quiet --define "_topdir $top" --define "_build_id_links none" -bb "$top/SPECS/$name.spec" \
				> "$work/rpmbuild.log" 2>&1 || { cat "$work/rpmbuild.log" >&2; exit 1; }
			local rpm_file
			rpm_file=$(find "$top/RPMS" -name '*.rpm' | head -1)
			cp "$rpm_file" "$out/"
			echo "$out/$(basename "$rpm_file")"
			;;
		esac
	done
}

# The agent: the host tools it drives, by RHEL's package names on the RPM side; libnftables.so.1 comes with nftables.
# iptables is a file requirement because RHEL 8 and 9 name its package iptables or iptables-nft.
package xdc-agent "$bin" xdc-agent packaging/xdc-agent.service /etc/xdc-agent \
	"nftables, iptables, iproute2" libcurl4 "nftables /usr/sbin/iptables iproute iproute-tc systemd" libcurl \
	"xdc agent: datacenter failure injection and evidence for Streams hosts" \
	"Connects out to the xdc controller over CurveZMQ, injects local faults (nftables partitions, tc, process and
resource faults), samples host and process metrics and reports timestamped evidence. Self-contained: needs only
the C runtime and the host tools it drives. Deployed by the xdc_agent Ansible role (docs/DEPLOYMENT.md)."
# The controller loads libcurl on first use (no ELF dependency for rpmbuild to find): required by soname, which
# RHEL's libcurl and libcurl-minimal both provide.
if [ -n "$controller_bin" ]; then
	package xdc "$controller_bin" xdc packaging/xdc-controller.service /etc/xdc \
		"libcurl4" "" "libcurl.so.4()(64bit) systemd" "" \
		"xdc: controller and console for datacenter failure tests of Teracloud Streams" \
		"The xdc controller daemon (agents connect to it over CurveZMQ) and the console: scenarios and campaigns,
the Streams REST client, test tuples with RPO and RTO, reports and history. Self-contained: needs only the C
runtime and libcurl. Deployed by the xdc_controller Ansible role (docs/DEPLOYMENT.md)."
fi
