#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages xdc needs. Idempotent: only installs what is missing.
#
# Usage: scripts/install-deps.sh [--demo | --all] [--also PKG[,PKG...]]
#   --demo   what scripts/demo.sh needs: the build, the libraries, the tools the agent and the lab drive
#   --all    that plus every test-only package scripts/test.sh needs (the default)
#   --also   these packages too, under the same rules
# No service an install pulls in is left enabled or running (sshd and Prometheus among them): every unit that this
# install enabled is disabled again and stopped, whether systemd runs or not (a chroot, a container).
set -euo pipefail

profile=all
also=()
while [ $# -gt 0 ]; do
	case "$1" in
	--demo) profile=demo; shift ;;
	--all) profile=all; shift ;;
	--also) IFS=',' read -r -a more <<< "$2"; also+=("${more[@]}"); shift 2 ;;
	-h|--help) sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install-deps: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

DEMO_PKGS=(
	# build (the demo builds everything, tests included: meson needs doctest and libssl to configure them)
	build-essential meson ninja-build pkg-config
	# meson finds ccache by itself: a machine that keeps its cache (~/.cache/ccache) rebuilds only what changed
	ccache
	# libraries
	libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libboost-dev libyaml-cpp-dev libcurl4-openssl-dev
	libfmt-dev libspdlog-dev libedit-dev doctest-dev nlohmann-json3-dev libsqlite3-dev
	libnftables-dev libsodium-dev libssl-dev
	# runtime tools the agent and the lab drive
	nftables iptables iproute2 ethtool procps psmisc kmod iputils-ping diffutils
)
# Only scripts/test.sh needs these (tests/packaging/demo_deps_test.sh checks that the demo pulls none of them).
TEST_PKGS=(
	# the fuzz target is built with clang and libFuzzer
	clang libclang-rt-14-dev
	# the shipped agent's static libzmq is rebuilt from Debian's source package (scripts/static-deps.sh)
	cmake
	# the agent's RPM is built and inspected (rpmbuild, rpm2cpio) beside its .deb
	rpm cpio
	# the packages are installed into throwaway Debian roots (scripts/make-root.sh)
	debootstrap
	# the REST client's TLS cases make their certificates with the openssl CLI
	openssl
	# report.html is rendered in headless Chromium
	chromium
	# ansible/: the lab runs a private sshd per host; the roles are run and linted for real
	openssh-server openssh-client ansible-core ansible-lint
	# metric sources (docs/METRICS.md): a real Prometheus server, and a JVM serving its MBeans over Jolokia
	prometheus default-jdk-headless libjolokia-core-java libjson-simple-java
)
PKGS=("${DEMO_PKGS[@]}")
[ "$profile" = all ] && PKGS+=("${TEST_PKGS[@]}")
PKGS+=("${also[@]}")

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root to install them" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Installing openssh-server must not start an sshd in this machine's own namespace: the lab runs its own, with
# private configs. Nor may installing prometheus start its packaged server: the metrics test runs its own, with its
# own config and storage, inside a lab namespace. A policy-rc.d that refuses service starts is in place for the
# install only (unless one exists).
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	own_policy=1
fi
trap '[ "$own_policy" = 1 ] && rm -f "$policy"' EXIT
# The units (and SysV links) enabled before, to find those this install enables.
links() { find /etc/systemd/system /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d -maxdepth 2 -type l 2>/dev/null | sort; }
links_before=$(links)
# dpkg syncs every file it writes so that a power cut cannot leave a half-written package. A CI machine (CI=true)
# is thrown away after its run, so there it skips the syncs, which makes the install faster; elsewhere it keeps them.
unsafe_io=()
[ "${CI:-}" = true ] && unsafe_io=(-o Dpkg::Options::=--force-unsafe-io)
apt-get install -y -qq --no-install-recommends "${unsafe_io[@]}" "${missing[@]}"
# Whatever policy was in force, nothing this install enabled stays enabled, nor running: an existing policy-rc.d may
# allow starts, and a later boot must not start them either. Disabled the Debian way (deb-systemd-helper keeps its
# own record, so an upgrade does not enable them again), with systemctl or plain link removal as fallbacks; works
# without a running systemd (a chroot, a container).
new_links=$(comm -13 <(echo "$links_before") <(links))
units=$(echo "$new_links" | grep -E '^/etc/systemd/system/[^/]+\.wants/' | xargs -r -n1 basename | sort -u || true)
booted=0
[ -d /run/systemd/system ] && command -v systemctl > /dev/null && booted=1
for u in $units; do
	deb-systemd-helper disable "$u" > /dev/null 2>&1 || systemctl disable "$u" > /dev/null 2>&1 || true
	find /etc/systemd/system -maxdepth 2 -type l -name "$u" -delete 2>/dev/null || true
	[ "$booted" = 0 ] || systemctl stop "$u" > /dev/null 2>&1 || true
done
# Aliases that enabling made (sshd.service -> ssh.service) also count as enabled: removed with their unit.
aliases=$(echo "$new_links" | grep -E '^/etc/systemd/system/[^/]+$' || true)
for a in $aliases; do
	[ "$(readlink "$a")" = /dev/null ] || rm -f "$a"
done
sysv=$(echo "$new_links" | grep -E '^/etc/rc[2-5]\.d/S' | sed -E 's|.*/S[0-9]+||' | sort -u || true)
for n in $sysv; do
	update-rc.d "$n" disable > /dev/null 2>&1 || true
	[ "$booted" = 1 ] || [ ! -x "/etc/init.d/$n" ] || "/etc/init.d/$n" stop > /dev/null 2>&1 || true
done
if [ -n "$units$sysv" ]; then
	echo "install-deps: left disabled and stopped, as installed: $(echo $units $sysv)"
fi
