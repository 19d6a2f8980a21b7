#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Estate #23, acceptance 7: what `scripts/demo.sh` installs on a fresh Debian 12 root (its `install-deps.sh --demo`
# step, run chrooted in an overlay of the cached debootstrap root, scripts/make-root.sh) pulls no test-only package
# and leaves neither ssh nor prometheus enabled; and a service an install does pull in (openssh-server, through
# `--also`) is left installed but disabled, with no process of it running in that root.
#
# Usage: tests/packaging/demo_deps_test.sh      (root)
# Exit 0 when every check holds, 1 on the first that does not (named).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d /tmp/xdc-demo-deps.XXXXXX)
R="$work/root"
mounts=()
fail() { echo "demo_deps_test: FAIL: $*" >&2; exit 1; }
cleanup() {
	set +e
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
[ -z "${KEEP:-}" ] || trap - EXIT

root=$(scripts/make-root.sh bookworm)
mkdir -p "$work/upper" "$work/work" "$R"
mount -t overlay overlay -o "lowerdir=$root,upperdir=$work/upper,workdir=$work/work" "$R"
mounts+=("$R")
mount -t proc proc "$R/proc"
mounts+=("$R/proc")
mount --bind /dev "$R/dev"
mounts+=("$R/dev")
# Downloads come through the host's apt cache (read by apt in the root, filled by it too), names resolve as on
# the host.
mkdir -p /var/cache/apt/archives/partial
mount --bind /var/cache/apt/archives "$R/var/cache/apt/archives"
mounts+=("$R/var/cache/apt/archives")
cp /etc/resolv.conf "$R/etc/resolv.conf"
cp scripts/install-deps.sh "$R/tmp/install-deps.sh"

chroot "$R" env CI=true bash /tmp/install-deps.sh --demo > "$work/demo.log" 2>&1 ||
	{ tail -30 "$work/demo.log" >&2; fail "install-deps.sh --demo in a fresh Debian 12 root"; }
echo "demo_deps_test: install-deps.sh --demo installed $(chroot "$R" dpkg-query -W -f='${Status}\n' | grep -c 'install ok installed') packages in a fresh root"

# No test-only package (the script's own TEST_PKGS list) came with the demo's.
mapfile -t test_pkgs < <(bash -c 'eval "$(sed -n "/^TEST_PKGS=(/,/^)/p" scripts/install-deps.sh)"; printf "%s\n" "${TEST_PKGS[@]}"')
[ "${#test_pkgs[@]}" -gt 5 ] || fail "cannot read TEST_PKGS from scripts/install-deps.sh"
for p in "${test_pkgs[@]}"; do
	if chroot "$R" dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		fail "the demo's install pulled the test-only package $p"
	fi
done
echo "demo_deps_test: none of the ${#test_pkgs[@]} test-only packages was installed"

enabled() { systemctl --root="$R" is-enabled "$1" 2>/dev/null || true; }
for u in ssh prometheus; do
	[ "$(enabled "$u")" != enabled ] || fail "$u is enabled after the demo's install"
done
echo "demo_deps_test: systemctl is-enabled ssh prometheus: '$(enabled ssh)' '$(enabled prometheus)'"

# A package that does enable its service: installed, and left disabled and not running.
chroot "$R" env CI=true bash /tmp/install-deps.sh --demo --also openssh-server > "$work/ssh.log" 2>&1 ||
	{ tail -30 "$work/ssh.log" >&2; fail "install-deps.sh --also openssh-server"; }
chroot "$R" dpkg-query -W -f='${Status}' openssh-server | grep -q "install ok installed" || fail "openssh-server was not installed"
state=$(enabled ssh)
[ "$state" = disabled ] || fail "ssh is '$state' after install-deps, not disabled"
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/root" 2>/dev/null)" != "$R" ] || fail "a process runs in the root after the install: $(tr '\0' ' ' < "$p/cmdline")"
done
grep -q "left disabled and stopped, as installed: .*ssh" "$work/ssh.log" || fail "install-deps did not say it left ssh disabled: $(cat "$work/ssh.log")"
echo "demo_deps_test: openssh-server installed, ssh '$state', nothing running in the root"
echo "demo_deps_test: OK"
