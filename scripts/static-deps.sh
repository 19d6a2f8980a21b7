#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the static libzmq the shipped agent links (scripts/build-agent.sh), from Debian's own source package
# (zeromq3, the version libzmq3-dev ships), with CURVE through Debian's static libsodium and without Kerberos, PGM,
# NORM, libbsd, TLS or drafts: Debian's libzmq.a needs libgssapi_krb5, which has no static archive, and RHEL ships
# none of those libraries in the versions Debian builds against.
#
# Usage: scripts/static-deps.sh [--cache DIR] [--quiet]
#   --cache DIR   where built prefixes are kept between runs (default: $XDC_DEPS_CACHE, else /var/cache/xdc-build)
#   --quiet       print only the prefix
# Prints the prefix (DIR/zeromq3-<version>-<options hash>) holding include/ and lib/libzmq.a. A prefix already
# built is reused as it is; a failed build leaves nothing behind.
# Needs: apt-get (Debian's deb-src index is fetched into a private directory: the host's apt sources are not
# touched), dpkg-source (dpkg-dev), cmake, g++, libsodium-dev. Exit 1 on failure, 2 on a bad argument.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${XDC_DEPS_CACHE:-/var/cache/xdc-build}
quiet=false
while [ $# -gt 0 ]; do
	case "$1" in
	--cache) cache=$2; shift 2 ;;
	--quiet) quiet=true; shift ;;
	-h|--help) sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "static-deps: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
say() { $quiet || echo "static-deps: $*" >&2; }

# The version Debian's libzmq3-dev has (the headers the rest of the build compiles against).
version=$(dpkg-query -W -f='${source:Version}' libzmq3-dev 2>/dev/null || true)
[ -n "$version" ] || { echo "static-deps: libzmq3-dev is not installed (scripts/install-deps.sh)" >&2; exit 1; }
cmake_opts=(
	-DCMAKE_BUILD_TYPE=Release -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_INSTALL_LIBDIR=lib
	-DBUILD_SHARED=OFF -DBUILD_STATIC=ON -DBUILD_TESTS=OFF -DWITH_PERF_TOOL=OFF -DWITH_DOCS=OFF -DWITH_DOC=OFF
	-DENABLE_CPACK=OFF -DENABLE_PRECOMPILED=OFF -DENABLE_DRAFTS=OFF -DENABLE_WS=OFF -DWITH_TLS=OFF
	-DWITH_OPENPGM=OFF -DWITH_NORM=OFF -DWITH_VMCI=OFF -DWITH_LIBBSD=OFF
	-DWITH_LIBSODIUM=ON -DWITH_LIBSODIUM_STATIC=ON -DENABLE_CURVE=ON
	-DCMAKE_CXX_FLAGS=-g1 -DCMAKE_C_FLAGS=-g1
)
hash=$(printf '%s\n' "$version" "${cmake_opts[@]}" | sha256sum | cut -c1-12)
prefix="$cache/zeromq3-$version-$hash"
if [ -f "$prefix/lib/libzmq.a" ] && [ -f "$prefix/include/zmq.h" ]; then
	say "reusing $prefix"
	echo "$prefix"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say "building libzmq $version into $prefix (once per cache)"
# A deb-src index of the same suites as the host's, in a private directory.
mkdir -p "$work/apt/parts" "$work/apt/lists/partial"
. /etc/os-release
cat > "$work/apt/parts/src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $VERSION_CODENAME $VERSION_CODENAME-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $VERSION_CODENAME-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/apt/parts"
	-o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache" -q)
mkdir -p "$work/apt/cache/archives/partial"
apt-get "${apt_opts[@]}" update > "$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; echo "static-deps: cannot fetch the deb-src index" >&2; exit 1; }
(cd "$work" && apt-get "${apt_opts[@]}" source --download-only "zeromq3=$version") >> "$work/apt.log" 2>&1 || {
	cat "$work/apt.log" >&2
	echo "static-deps: cannot download Debian's source of zeromq3 $version" >&2
	exit 1
}
# apt checked the files against the signed index; dpkg-source checks them against the .dsc and applies Debian's patches.
dpkg-source -x "$work"/zeromq3_*.dsc "$work/src" > "$work/src.log" 2>&1 || { cat "$work/src.log" >&2; exit 1; }
cmake -S "$work/src" -B "$work/build" -DCMAKE_INSTALL_PREFIX="$prefix.tmp" "${cmake_opts[@]}" > "$work/cmake.log" 2>&1 ||
	{ tail -40 "$work/cmake.log" >&2; echo "static-deps: cmake failed" >&2; exit 1; }
cmake --build "$work/build" -j "$(nproc)" > "$work/make.log" 2>&1 ||
	{ tail -40 "$work/make.log" >&2; echo "static-deps: build failed" >&2; exit 1; }
rm -rf "$prefix.tmp"
cmake --install "$work/build" > /dev/null
# Nothing of what was left out may have slipped in.
if nm -u "$prefix.tmp/lib/libzmq.a" 2>/dev/null | grep -E ' (gss_|pgm_|norm_|strlcpy|gnutls_)' | head -1 | grep -q .; then
	echo "static-deps: the built libzmq.a still references Kerberos, PGM, NORM, libbsd or GnuTLS" >&2
	exit 1
fi
mkdir -p "$cache"
rm -rf "$prefix"
mv "$prefix.tmp" "$prefix"
say "built $prefix"
echo "$prefix"
