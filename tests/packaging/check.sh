#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks the packages scripts/make-packages.sh built (Estate #23, acceptance 3 and the units' review), for the agent
# and, when given, the controller (xdc):
#   - the RPM requires only the C runtime, the shell, systemd and the host tools (the agent) or libcurl (xdc)
#     (rpm -qp --requires);
#   - the .deb depends only on the same, by Debian's names (Depends);
#   - both hold exactly the binary given and its unit (packaging/xdc-agent.service, packaging/xdc-controller.service);
#   - systemd-analyze security --offline=true scores the unit at most MAX_EXPOSURE (default 4.0);
#   - the Ansible roles' units for path installs have the same service settings as the packages' but their paths.
# Usage: tests/packaging/check.sh BINARY DEB RPM [XDC_BINARY XDC_DEB XDC_RPM]
# Prints each finding; exit 0 when all hold, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/../.."
max=${MAX_EXPOSURE:-4.0}
fail=0
bad() { echo "packaging: FAIL: $*"; fail=1; }
x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT

rt='(ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libstdc\+\+\.so\.6|libpthread\.so\.0|librt\.so\.1|libdl\.so\.2)(\([A-Z_0-9.]*\))?(\(64bit\))?'

# check NAME TOOL UNIT BINARY DEB RPM RPM_ALLOWED DEB_ALLOWED
#   RPM_ALLOWED: an extended regex of the requirements allowed besides the C runtime, the shell and rpmlib's;
#   DEB_ALLOWED: the package names allowed in Depends besides libc6 and libgcc-s1 (space-separated).
check() {
	local name=$1 tool=$2 unit=$3 bin=$4 deb=$5 rpmf=$6 rpm_allowed=$7 deb_allowed=$8
	local allowed="^($rt|/bin/sh|$rpm_allowed|rtld\(GNU_HASH\)|rpmlib\(.*\).*)\$" n=0 r
	while read -r r; do
		[ -n "$r" ] || continue
		n=$((n + 1))
		[[ $r =~ $allowed ]] || bad "the $name RPM requires '$r'"
	done < <(rpm -qp --requires "$rpmf" 2>/dev/null)
	[ "$n" -gt 0 ] || bad "rpm -qp --requires $rpmf printed nothing"
	echo "packaging: $name: the RPM's $n requirements are the C runtime, the shell and: $(rpm -qp --requires "$rpmf" 2>/dev/null | grep -vE "^($rt|/bin/sh|rtld.*|rpmlib.*)\$" | tr '\n' ' ')"

	local deps d dep items
	deps=$(dpkg-deb -f "$deb" Depends)
	[ -n "$deps" ] || bad "the $name .deb has no Depends"
	IFS=',' read -r -a items <<< "$deps"
	for d in "${items[@]}"; do
		dep=$(echo "$d" | awk '{print $1}')
		[[ " libc6 libgcc-s1 $deb_allowed " == *" $dep "* ]] || bad "the $name .deb depends on '$dep'"
	done
	echo "packaging: $name: the .deb depends on: $deps"

	# Contents: the binary given, byte for byte, and the unit.
	local kind unitpath files
	rm -rf "$x/deb" "$x/rpm"
	dpkg-deb -x "$deb" "$x/deb"
	mkdir "$x/rpm"
	local rpm_abs
	rpm_abs=$(realpath "$rpmf")
	(cd "$x/rpm" && rpm2cpio "$rpm_abs" | cpio -idm --quiet) || bad "cannot unpack $rpmf"
	for kind in deb rpm; do
		case $kind in
		deb) unitpath="$x/deb/lib/systemd/system/$(basename "$unit")" ;;
		rpm) unitpath="$x/rpm/usr/lib/systemd/system/$(basename "$unit")" ;;
		esac
		cmp -s "$bin" "$x/$kind/usr/bin/$tool" || bad "the $name $kind's /usr/bin/$tool is not $bin"
		cmp -s "$unit" "$unitpath" || bad "the $name $kind's unit is not $unit"
		files=$(cd "$x/$kind" && find . -type f | sort | tr '\n' ' ')
		[ "$(echo "$files" | wc -w)" = 2 ] || bad "the $name $kind holds more than the binary and the unit: $files"
	done

	local score
	score=$(systemd-analyze security --offline=true --no-pager "$unit" 2>/dev/null |
		awk '/Overall exposure level/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+$/) print $i}')
	[ -n "$score" ] || bad "systemd-analyze security printed no exposure level for $unit"
	if [ -n "$score" ]; then
		awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }' || bad "$unit's exposure is $score, above $max"
		echo "packaging: $name: the unit's exposure (systemd-analyze security --offline=true) is $score (at most $max)"
	fi
}

check xdc-agent xdc-agent packaging/xdc-agent.service "$1" "$2" "$3" \
	'systemd|nftables|/usr/sbin/iptables|iproute|iproute-tc' "nftables iptables iproute2 systemd libstdc++6"
[ $# -lt 6 ] || check xdc xdc packaging/xdc-controller.service "$4" "$5" "$6" 'systemd|libcurl\.so\.4\(\)\(64bit\)' \
	"libcurl4 libstdc++6"

# The Ansible role's unit for a path install (ansible/roles/xdc_agent/templates/xdc-agent.service.j2) keeps the same
# capabilities and protections; only its paths differ (ExecStart, ReadWritePaths, and the package's own directories).
settings() {
	sed -n '/^\[Service\]/,/^\[/p' "$1" | grep -E '^[A-Za-z]+=' |
		grep -vE '^(ExecStart|ReadWritePaths|StateDirectory|StateDirectoryMode|LogsDirectory|ConfigurationDirectory|ConfigurationDirectoryMode)=' |
		sort
}
for pair in xdc-agent.service:ansible/roles/xdc_agent/templates/xdc-agent.service.j2 \
	xdc-controller.service:ansible/roles/xdc_controller/templates/xdc-controller.service.j2; do
	unit=packaging/${pair%%:*} role_unit=${pair#*:}
	if d=$(diff <(settings "$unit") <(settings "$role_unit")); then
		echo "packaging: the role's $(basename "$unit") has the package's $(settings "$role_unit" | wc -l) service settings"
	else
		bad "the role's unit ($role_unit) differs from $unit in: $(echo "$d" | grep '^[<>]' | tr '\n' ' ')"
	fi
done
exit $fail
