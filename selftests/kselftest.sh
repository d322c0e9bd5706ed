#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Extract kselftest.h and kselftest_harness.h from Debian's linux-source
# tarball into build/kselftest/ (cached; never committed).  Prints the
# directory on stdout, so that a Makefile can use it as an -I path.
#
#   selftests/kselftest.sh [OUTDIR]
#
# LINUX_SOURCE_TAR overrides the tarball (default /usr/src/linux-source-6.1.tar.xz).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/kselftest}
tarball=${LINUX_SOURCE_TAR:-/usr/src/linux-source-6.1.tar.xz}
members="tools/testing/selftests/kselftest.h tools/testing/selftests/kselftest_harness.h"

have_all() {
	for m in $members; do
		[ -s "$out/$(basename "$m")" ] || return 1
	done
	return 0
}

if ! have_all; then
	if [ ! -r "$tarball" ]; then
		echo "kselftest.sh: $tarball not readable (install linux-source-6.1)" >&2
		exit 1
	fi
	# The tarball's top directory is linux-source-X.Y/; match any.
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/kselftest.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	pats=
	for m in $members; do
		pats="$pats */$m"
	done
	# shellcheck disable=SC2086  # word splitting of the pattern list is wanted
	tar -xJf "$tarball" -C "$tmp" --wildcards $pats
	mkdir -p "$out"
	for m in $members; do
		f=$(find "$tmp" -path "*/$m" -type f | head -n 1)
		[ -n "$f" ] || { echo "kselftest.sh: $m missing in $tarball" >&2; exit 1; }
		cp "$f" "$out/$(basename "$m").tmp"
		mv "$out/$(basename "$m").tmp" "$out/$(basename "$m")"
	done
fi
echo "$out"
