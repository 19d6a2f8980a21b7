#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages xdc needs to build, test and run its lab. Idempotent: only installs what is missing.
set -euo pipefail

PKGS=(
	# build
	build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
	# meson finds ccache by itself: a machine that keeps its cache (~/.cache/ccache) rebuilds only what changed
	ccache
	# libraries
	libzmq3-dev cppzmq-dev libmsgpack-cxx-dev libboost-dev libyaml-cpp-dev libcurl4-openssl-dev
	libfmt-dev libspdlog-dev libedit-dev doctest-dev nlohmann-json3-dev libsqlite3-dev
	libnftables-dev libsodium-dev libssl-dev
	# the shipped agent's static libzmq is rebuilt from Debian's source package (scripts/static-deps.sh)
	cmake dpkg-dev
	# tests: the agent's RPM is built and inspected (rpmbuild, rpm2cpio) beside its .deb
	rpm cpio
	# tests: the packages are installed into throwaway Debian roots (scripts/make-root.sh)
	debootstrap
	# runtime tools the agent and the lab drive
	nftables iptables iproute2 ethtool procps psmisc kmod iputils-ping diffutils
	# tests: the REST client's TLS cases make their certificates with the openssl CLI
	openssl
	# tests: report.html is rendered in headless Chromium
	chromium
	# ansible/: the lab runs a private sshd per host; the roles are run and linted for real
	openssh-server openssh-client ansible-core ansible-lint
	# tests: metric sources (docs/METRICS.md): a real Prometheus server, and a JVM serving its MBeans over Jolokia
	prometheus default-jdk-headless libjolokia-core-java libjson-simple-java
)

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
# dpkg syncs every file it writes so that a power cut cannot leave a half-written package. A CI machine (CI=true)
# is thrown away after its run, so there it skips the syncs, which makes the install faster; elsewhere it keeps them.
unsafe_io=()
[ "${CI:-}" = true ] && unsafe_io=(-o Dpkg::Options::=--force-unsafe-io)
apt-get install -y -qq --no-install-recommends "${unsafe_io[@]}" "${missing[@]}"
# Whatever policy was in force, the packaged Prometheus service is left stopped and disabled (an existing
# policy-rc.d may allow starts; a later boot must not start it either).
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
	for unit in prometheus.service prometheus-node-exporter.service; do
		if systemctl list-unit-files "$unit" >/dev/null 2>&1; then
			systemctl disable --now "$unit" >/dev/null 2>&1 || true
		fi
	done
elif [ -x /etc/init.d/prometheus ]; then
	/etc/init.d/prometheus stop >/dev/null 2>&1 || true
fi
