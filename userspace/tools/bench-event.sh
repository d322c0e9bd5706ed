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
# loads redox_uring.ko from <dir>/<kver>/ instead of build/module/ (and
# then does not build this tree's module).  A benchmark, never a test: it
# fails only if it cannot run.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
make --no-print-directory deps
moddir=${BENCH_MODULE_DIR:-build/module}
if [ -z "${BENCH_MODULE_DIR:-}" ]; then
	make --no-print-directory guest-bins >/dev/null
else
	# A module built elsewhere (e.g. from a given commit): build only
	# the userspace side, not this tree's module.
	make --no-print-directory -C userspace >/dev/null
	make --no-print-directory -C userspace/tools >/dev/null
fi
mkdir -p build/bench
# Both sections with the writer and the consumer on different CPUs, then
# the latency again with both on one CPU (no cross-CPU wake-up, which
# TCG makes slow and jittery: that shows the mechanisms' own cost).
args=${BENCH_EVENT_ARGS:--r 21 -n 1000 -g 50 -f 1000 -s 20}
for k in ${KVERS:-$(make -s --no-print-directory print-kvers)}; do
	cmd="build/userspace/tools/bench-event $args && build/userspace/tools/bench-event -m lat -p same $args"
	echo "== $k guest (TCG, 2 vCPUs, kernel args tsc=reliable, $moddir/$k/redox_uring.ko): $cmd"
	selftests/vm/run.sh -k "$k" -t 900 -a tsc=reliable -- \
		"insmod $moddir/$k/redox_uring.ko && $cmd; rc=\$?; rmmod redox_uring && exit \$rc" |
		tee "build/bench/event-$k.txt"
done
