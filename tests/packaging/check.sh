#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks the packages scripts/make-packages.sh built (Estate #23, acceptance 3 and the unit's review):
#   - the RPM requires only the C runtime, the shell, systemd and the host tools (rpm -qp --requires);
#   - the .deb depends only on the same, by Debian's names (Depends);
#   - both hold exactly the agent binary given and the unit packaging/xdc-agent.service;
#   - systemd-analyze security --offline=true scores the unit at most MAX_EXPOSURE (default 4.0);
#   - the Ansible role's unit for path installs has the same service settings but its paths.
# Usage: tests/packaging/check.sh BINARY DEB RPM
# Prints each finding; exit 0 when all hold, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$1 deb=$2 rpmf=$3
max=${MAX_EXPOSURE:-4.0}
fail=0
bad() { echo "packaging: FAIL: $*"; fail=1; }

rt='(ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libstdc\+\+\.so\.6|libpthread\.so\.0|librt\.so\.1|libdl\.so\.2)(\([A-Z_0-9.]*\))?(\(64bit\))?'
allowed_rpm="^($rt|/bin/sh|systemd|nftables|/usr/sbin/iptables|iproute|iproute-tc|rtld\(GNU_HASH\)|rpmlib\(.*\).*)\$"
n=0
while read -r r; do
	[ -n "$r" ] || continue
	n=$((n + 1))
	[[ $r =~ $allowed_rpm ]] || bad "the RPM requires '$r'"
done < <(rpm -qp --requires "$rpmf" 2>/dev/null)
[ "$n" -gt 0 ] || bad "rpm -qp --requires $rpmf printed nothing"
[ $fail = 1 ] || echo "packaging: the RPM's $n requirements are the C runtime, the shell, systemd and the host tools"

deps=$(dpkg-deb -f "$deb" Depends)
[ -n "$deps" ] || bad "the .deb has no Depends"
IFS=',' read -r -a items <<< "$deps"
for d in "${items[@]}"; do
	name=$(echo "$d" | awk '{print $1}')
	case "$name" in
	libc6|libgcc-s1|libstdc++6|nftables|iptables|iproute2|systemd) ;;
	*) bad "the .deb depends on '$name'" ;;
	esac
done
echo "packaging: the .deb depends on: $deps"

# Contents: the binary given, byte for byte, and the unit.
x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT
dpkg-deb -x "$deb" "$x/deb"
rpm_abs=$(realpath "$rpmf")
mkdir "$x/rpm"
(cd "$x/rpm" && rpm2cpio "$rpm_abs" | cpio -idm --quiet) || bad "cannot unpack $rpmf"
for kind in deb rpm; do
	case $kind in
	deb) unitpath="$x/deb/lib/systemd/system/xdc-agent.service" ;;
	rpm) unitpath="$x/rpm/usr/lib/systemd/system/xdc-agent.service" ;;
	esac
	cmp -s "$bin" "$x/$kind/usr/bin/xdc-agent" || bad "the $kind's /usr/bin/xdc-agent is not $bin"
	cmp -s packaging/xdc-agent.service "$unitpath" || bad "the $kind's unit is not packaging/xdc-agent.service"
	files=$(cd "$x/$kind" && find . -type f | sort | tr '\n' ' ')
	[ "$(echo "$files" | wc -w)" = 2 ] || bad "the $kind holds more than the binary and the unit: $files"
done

score=$(systemd-analyze security --offline=true --no-pager packaging/xdc-agent.service 2>/dev/null |
	awk '/Overall exposure level/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+$/) print $i}')
[ -n "$score" ] || bad "systemd-analyze security printed no exposure level"
if [ -n "$score" ]; then
	awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }' || bad "the unit's exposure is $score, above $max"
	echo "packaging: the unit's exposure (systemd-analyze security --offline=true) is $score (at most $max)"
fi
# The Ansible role's unit for a path install (ansible/roles/xdc_agent/templates/xdc-agent.service.j2) keeps the same
# capabilities and protections; only its paths differ (ExecStart, ReadWritePaths, and the package's own directories).
settings() {
	sed -n '/^\[Service\]/,/^\[/p' "$1" | grep -E '^[A-Za-z]+=' |
		grep -vE '^(ExecStart|ReadWritePaths|StateDirectory|StateDirectoryMode|LogsDirectory|ConfigurationDirectory|ConfigurationDirectoryMode)=' |
		sort
}
role_unit=ansible/roles/xdc_agent/templates/xdc-agent.service.j2
if d=$(diff <(settings packaging/xdc-agent.service) <(settings "$role_unit")); then
	echo "packaging: the role's unit has the package unit's $(settings "$role_unit" | wc -l) service settings"
else
	bad "the role's unit ($role_unit) differs from packaging/xdc-agent.service in: $(echo "$d" | grep '^[<>]' | tr '\n' ' ')"
fi
exit $fail
