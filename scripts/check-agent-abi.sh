#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Checks that an agent binary runs on the oldest supported target (docs/DEPLOYMENT.md): no symbol version above
# the floor (RHEL 9: GLIBC_2.34, GLIBCXX_3.4.29, CXXABI_1.3.13) and no shared library but the C/C++ runtime.
#
# Usage: scripts/check-agent-abi.sh [--json] BINARY
#   --json   one JSON object: the highest version per library, the needed libraries, and the verdict
# Exit 0 when it holds, 1 when not (each offending symbol or library named), 2 on a bad argument.
set -euo pipefail
json=false
bin=
while [ $# -gt 0 ]; do
	case "$1" in
	--json) json=true; shift ;;
	-h|--help) sed -n '3,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "check-agent-abi: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	*) bin=$1; shift ;;
	esac
done
[ -n "$bin" ] || { echo "check-agent-abi: which binary? (see --help)" >&2; exit 2; }
[ -f "$bin" ] || { echo "check-agent-abi: $bin: no such file" >&2; exit 2; }

declare -A floor=([GLIBC]=2.34 [GLIBCXX]=3.4.29 [CXXABI]=1.3.13)
allowed='^(libc|libm|libstdc\+\+|libgcc_s|libpthread|librt|libdl|ld-linux-x86-64|ld-linux-aarch64)\.so'
fail=0
problems=()
# The versions the binary requires (readelf -V, .gnu.version_r), as NAME_X.Y.Z per line.
needed_versions=$(readelf -V --wide "$bin" | awk '/Name: [A-Z]+_[0-9.]+/ {for (i = 1; i <= NF; i++) if ($i == "Name:") print $(i + 1)}' | sort -u)
declare -A highest=()
while read -r v; do
	[ -n "$v" ] || continue
	name=${v%%_[0-9]*}
	ver=${v#"${name}"_}
	if [ -z "${highest[$name]:-}" ] || [ "$(printf '%s\n%s\n' "${highest[$name]}" "$ver" | sort -V | tail -1)" = "$ver" ]; then
		highest[$name]=$ver
	fi
	if [ -n "${floor[$name]:-}" ] && [ "$(printf '%s\n%s\n' "${floor[$name]}" "$ver" | sort -V | tail -1)" != "${floor[$name]}" ]; then
		syms=$(objdump -T "$bin" | awk -v v="$v" '$0 ~ "[ (]" v "[) ]" {print $NF}' | sort -u | tr '\n' ' ')
		problems+=("$v is above the floor ${name}_${floor[$name]}: ${syms% }")
		fail=1
	fi
done <<< "$needed_versions"
libs=$(readelf -d "$bin" | awk '/\(NEEDED\)/ {gsub(/[\[\]]/, "", $NF); print $NF}')
while read -r l; do
	[ -n "$l" ] || continue
	if ! [[ $l =~ $allowed ]]; then
		problems+=("needs $l, which is not part of the C/C++ runtime")
		fail=1
	fi
done <<< "$libs"
if $json; then
	h=$(for k in "${!highest[@]}"; do printf '"%s":"%s",' "$k" "${highest[$k]}"; done)
	n=$(while read -r l; do [ -n "$l" ] && printf '"%s",' "$l"; done <<< "$libs")
	p=$(for x in "${problems[@]}"; do printf '"%s",' "${x//\"/\\\"}"; done)
	printf '{"binary":"%s","highest":{%s},"needed":[%s],"problems":[%s],"ok":%s}\n' "$bin" "${h%,}" "${n%,}" \
		"${p%,}" "$([ $fail = 0 ] && echo true || echo false)"
else
	for k in $(printf '%s\n' "${!highest[@]}" | sort); do echo "check-agent-abi: highest ${k}_${highest[$k]}"; done
	echo "check-agent-abi: needs $(echo $libs)"
	for x in "${problems[@]}"; do echo "check-agent-abi: $x" >&2; done
	[ $fail = 0 ] && echo "check-agent-abi: $bin runs on the floor (RHEL 9)"
fi
exit $fail
