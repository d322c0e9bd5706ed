#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/demo.sh - `make demo`: boot a QEMU guest on Debian's 6.1 kernel,
# load the freshly built module there and run rxu-demo, a narrated ring
# session.  Nothing is loaded into the kernel running this shell.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make --no-print-directory deps
make --no-print-directory guest-bins >/dev/null
k=${KVER:-$(make -s --no-print-directory print-kvers | tr ' ' '\n' | head -n 1)}
echo "== booting a QEMU guest (TCG) on $k, loading build/module/$k/redox_uring.ko"
exec selftests/vm/run.sh -k "$k" -- \
	"insmod build/module/$k/redox_uring.ko && build/userspace/tools/rxu-demo; rc=\$?; rmmod redox_uring && exit \$rc"
