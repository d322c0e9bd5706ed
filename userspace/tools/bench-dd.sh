#!/bin/bash
# SPDX-License-Identifier: MIT
#
# userspace/tools/bench-dd.sh - `make bench-dd`: sequential dd throughput on a
# file served by memd, the in-memory scheme daemon (build/userspace/memd/memd),
# through ordinary read(2)/write(2) on fds that `rxuctl open` got from a
# kernel ring OPEN of "mem:disk", against dd on a tmpfs file of the same
# size, in the same guest boot, for every kernel in KVERS.  Writes (from
# /dev/zero) and reads (to /dev/null) alternate between the two for several
# rounds; it prints the median MB/s of each and the ratio mem/tmpfs (target
# >= 0.5) and, for mem:, the time per 256 KiB scheme round trip that the
# rate implies; then checks once that what was read back is what was written.
# Figures go to stdout and build/bench/dd-<kver>.txt.
#
# memd is built by `make -C userspace` (guest-bins).
#
# Environment: BENCH_DD_MB (file size, 64), BENCH_DD_BS (dd block sizes, a
# blank-separated list, each measured in turn in the same boot: "256k 1M";
# 256k is the contract's largest single round trip, so a larger read(2)
# on the scheme returns short and a larger write(2) loops in the kernel),
# BENCH_DD_ROUNDS (5), BENCH_DD_PLACEMENTS ("any same": "any" lets the
# guest's scheduler place dd and memd, "same" pins both, and the tmpfs dd,
# to the first vCPU, so that a round trip needs no cross-vCPU wake-up),
# KVERS, BENCH_MODULE_DIR (as in bench-scheme.sh).  Guests boot with
# tsc=reliable.  A benchmark, never a test: it fails only if it cannot run.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
export LC_ALL=C

# dd's summary line -> MB/s (10^6 bytes per second), or "fail".
dd_rate() {
	awk '/bytes .* copied/ {
		for (i = 1; i <= NF; i++) if ($i == "s," || $i == "s") s = $(i - 1)
		if (s > 0) { printf "%.1f\n", $1 / s / 1e6; ok = 1 }
	} END { if (!ok) print "fail" }' "$1"
}

median() {
	tr ' ' '\n' | grep -v -e '^$' -e fail | sort -g |
		awk '{ v[++n] = $1 } END {
			if (!n) print "n/a"
			else if (n % 2) print v[(n + 1) / 2]
			else printf "%.1f\n", (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "n/a" || b == "n/a" || b <= 0) print "n/a"
		else printf "%.2f\n", a / b }'
}

# In the guest: bench-dd.sh --in-guest MB ROUNDS "BS..." "PLACEMENT..."
if [ "${1:-}" = --in-guest ]; then
	mb=$2 rounds=$3 bss=$4 placements=$5
	memd=build/userspace/memd/memd
	rxuctl=build/userspace/tools/rxuctl
	bytes=$((mb * 1024 * 1024))
	work=$(mktemp -d /tmp/bench-dd.XXXXXX)
	if [ ! -x "$memd" ]; then
		echo "bench-dd: $memd is not built" >&2
		exit 1
	fi
	# -f: stay in the foreground, so that $! is memd and can be stopped.
	"$memd" -f -n mem -s $((mb + 16)) >"$work/memd.log" 2>&1 &
	memd_pid=$!
	trap 'kill $memd_pid 2>/dev/null; wait $memd_pid 2>/dev/null; rm -rf "$work"' EXIT
	for ((i = 0; i < 100; i++)); do
		grep -q 'memd: serving mem:' "$work/memd.log" && break
		kill -0 $memd_pid 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q 'memd: serving mem:' "$work/memd.log"; then
		echo "bench-dd: memd did not register mem:" >&2
		sed 's/^/    /' "$work/memd.log" >&2
		exit 1
	fi

	for pl in $placements; do
	if [ "$pl" = same ]; then
		pin="taskset -c 0"
		taskset -apc 0 $memd_pid >/dev/null
	else
		pin=
		taskset -apc "0-$(($(nproc) - 1))" $memd_pid >/dev/null
	fi
	for bs in $bss; do
	bsb=$(numfmt --from=iec "${bs^^}")
	count=$((bytes / bsb))
	w_tmp= r_tmp= w_mem= r_mem=
	run() {	# run NAME CMD...: dd's rate; the first failure goes to a file
		if "${@:2}" 2>"$work/$1.err"; then
			dd_rate "$work/$1.err"
		else
			[ -s "$work/first.err" ] ||
				echo "$1: $(tail -n 3 "$work/$1.err" | tr '\n' ' ')" >"$work/first.err"
			echo fail
		fi
	}
	tmpfile=/tmp/bench-dd.disk
	wcmd_t="${pin:+$pin }dd if=/dev/zero of=$tmpfile bs=$bs count=$count conv=notrunc"
	rcmd_t="${pin:+$pin }dd if=$tmpfile of=/dev/null bs=$bs"
	wcmd_m="${pin:+$pin }$rxuctl open -o mem:disk -w -c -- dd if=/dev/zero bs=$bs count=$count"
	rcmd_m="${pin:+$pin }$rxuctl open -i mem:disk -- dd of=/dev/null bs=$bs"
	for ((r = 0; r < rounds; r++)); do
		if ((r % 2)); then
			w_mem+=" $(run write-mem $wcmd_m)"; w_tmp+=" $(run write-tmpfs $wcmd_t)"
			r_mem+=" $(run read-mem $rcmd_m)"; r_tmp+=" $(run read-tmpfs $rcmd_t)"
		else
			w_tmp+=" $(run write-tmpfs $wcmd_t)"; w_mem+=" $(run write-mem $wcmd_m)"
			r_tmp+=" $(run read-tmpfs $rcmd_t)"; r_mem+=" $(run read-mem $rcmd_m)"
		fi
	done
	echo "# placement $pl${pin:+ (memd: taskset -apc 0)}: $rounds alternating rounds, $mb MiB with bs=$bs (count $count), MB/s (10^6 B/s), medians"
	echo "# tmpfs: $wcmd_t ; $rcmd_t"
	echo "# mem:   $wcmd_m ; $rcmd_m"
	printf '%-5s %-6s %-6s %10s %10s %10s %8s   %s\n' place bs op tmpfs mem: mem/tmpfs us/rt "rounds (mem)"
	for op in write read; do
		if [ $op = write ]; then t=$w_tmp m=$w_mem; else t=$r_tmp m=$r_mem; fi
		mt=$(echo "$t" | median) mm=$(echo "$m" | median)
		rt=$(awk -v m="$mm" -v b="$bsb" 'BEGIN { if (b > 262144) b = 262144
			if (m == "n/a" || m <= 0) print "n/a"; else printf "%.0f\n", b / m }')
		printf '%-5s %-6s %-6s %10s %10s %10s %8s   %s\n' $pl "$bs" $op "$mt" "$mm" "$(ratio "$mm" "$mt")" "$rt" "$m"
	done
	done
	done
	# Read back through the scheme: is it what was written?
	if $rxuctl open -i mem:disk -- cmp -n "$bytes" - /dev/zero >"$work/cmp" 2>&1; then
		check="read back $mb MiB of zeros: ok"
	else
		check="read back: MISMATCH or error: $(head -c 200 "$work/cmp")"
	fi
	rm -f "$tmpfile"

	echo "# us/rt: microseconds per scheme round trip (min(bs, 256 KiB) bytes each) implied by the mem: rate"
	echo "# target: mem/tmpfs >= 0.5; $check"
	[ ! -s "$work/first.err" ] || echo "# first failure: $(cat "$work/first.err")"
	exit 0
fi

make --no-print-directory deps
moddir=${BENCH_MODULE_DIR:-build/module}
if [ -z "${BENCH_MODULE_DIR:-}" ]; then
	make --no-print-directory guest-bins >/dev/null
else
	make --no-print-directory -C userspace >/dev/null
	make --no-print-directory -C userspace/tools >/dev/null
fi
mkdir -p build/bench
mb=${BENCH_DD_MB:-64}
bs=${BENCH_DD_BS:-256k}
rounds=${BENCH_DD_ROUNDS:-5}
placements=${BENCH_DD_PLACEMENTS:-any same}
for k in ${KVERS:-$(make -s --no-print-directory print-kvers)}; do
	cmd="userspace/tools/bench-dd.sh --in-guest $mb $rounds '$bs' '$placements'"
	echo "== $k guest (TCG, 2 vCPUs, kernel args tsc=reliable, $moddir/$k/redox_uring.ko): $cmd"
	selftests/vm/run.sh -k "$k" -t 900 -a tsc=reliable -- \
		"insmod $moddir/$k/redox_uring.ko && $cmd; rc=\$?; rmmod redox_uring && exit \$rc" |
		tee "build/bench/dd-$k.txt"
done
