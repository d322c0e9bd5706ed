#!/bin/bash
# SPDX-License-Identifier: MIT
#
# userspace/tools/bench-event.sh - the event half of `make bench` (bench.sh
# calls it after the NOPs; it also runs alone): latency of one FILES_UPDATE
# event and event throughput with 1,000 subscriptions, against epoll and
# io_uring's multishot POLL_ADD, in the same guest boot, for every kernel
# in KVERS.  Figures go to stdout and build/bench/event-<kver>.txt.
#
# The guests boot with tsc=reliable: without it the 6.1 guest falls back to
# HPET and each clock_gettime() costs ~5 us, as much as what is measured
# (selftests/vm/README.md).  6.12 picks the TSC by itself.
#
# BENCH_EVENT_ARGS replaces the arguments of bench-event; BENCH_MODULE_DIR
# loads redox_uring.ko from <dir>/<kver>/ instead of build/module/.  A
# benchmark, never a test: it fails only if it cannot run.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
make --no-print-directory deps
make --no-print-directory guest-bins >/dev/null
mkdir -p build/bench
args=${BENCH_EVENT_ARGS:--r 7 -n 2000 -g 50 -f 1000 -s 20}
moddir=${BENCH_MODULE_DIR:-build/module}
for k in ${KVERS:-$(make -s --no-print-directory print-kvers)}; do
	cmd="build/userspace/tools/bench-event $args"
	echo "== $k guest (TCG, 2 vCPUs, kernel args tsc=reliable, $moddir/$k/redox_uring.ko): $cmd"
	selftests/vm/run.sh -k "$k" -t 900 -a tsc=reliable -- \
		"insmod $moddir/$k/redox_uring.ko && $cmd; rc=\$?; rmmod redox_uring && exit \$rc" |
		tee "build/bench/event-$k.txt"
done
