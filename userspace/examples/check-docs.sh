#!/bin/sh
# SPDX-License-Identifier: MIT
#
# check-docs.sh [DOC SOURCE]: the example between the markers
# "<!-- NAME begin -->" and "<!-- NAME end -->" of DOC (default
# docs/providers.md), less its code fences, must be SOURCE (default
# userspace/examples/hellod.c) byte for byte, so that neither rots.
# NAME is SOURCE's file name.  Prints the diff and exits 1 if not.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
doc=${1:-$top/docs/providers.md}
src=${2:-$top/userspace/examples/hellod.c}
name=$(basename "$src")
fence='```'

if ! grep -qxF "<!-- $name begin -->" "$doc" ||
   ! grep -qxF "<!-- $name end -->" "$doc"; then
	echo "$doc: no <!-- $name begin/end --> markers" >&2
	exit 1
fi
awk -v b="<!-- $name begin -->" -v e="<!-- $name end -->" -v f="$fence" '
	$0 == e { p = 0 }
	p && index($0, f) != 1 { print }
	$0 == b { p = 1 }' "$doc" | diff -u - "$src"
