#!/bin/bash
# SPDX-License-Identifier: MIT
#
# userspace/tools/bench.sh - `make bench`: NOP throughput of the kernel ring
# (u2k) against liburing's io_uring NOPs, in the same guest boot, for every
# kernel in KVERS, then the event benchmark and a plot of the ratios
# (bench-plot.sh).  Figures go to stdout and build/bench/.  A benchmark,
# never a test: it fails only if it cannot run.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
make --no-print-directory deps
make --no-print-directory guest-bins >/dev/null
mkdir -p build/bench
args=${BENCH_ARGS:--r 7 -n 200000 -b 1,32}
for k in ${KVERS:-$(make -s --no-print-directory print-kvers)}; do
	cmd="build/userspace/tools/bench-nop $args"
	echo "== $k guest (TCG, 2 vCPUs): $cmd"
	selftests/vm/run.sh -k "$k" -t 900 -- \
		"insmod build/module/$k/redox_uring.ko && $cmd; rc=\$?; rmmod redox_uring && exit \$rc" |
		tee "build/bench/nop-$k.txt"
done

# Second section: FILES_UPDATE events against epoll and io_uring (its own
# script, so that it also runs alone; it boots its guests with tsc=reliable).
"$top/userspace/tools/bench-event.sh"

# The ratio tables above as build/bench/ratios.tsv and, with gnuplot, one
# picture of them per kernel, build/bench/ratios.svg (docs/benchmarks.md
# embeds a copy, docs/img/bench-ratios.svg).
"$top/userspace/tools/bench-plot.sh" "$top/build/bench"
