#!/bin/bash
# SPDX-License-Identifier: MIT
#
# userspace/tools/bench-scheme.sh - `make bench-scheme`: blocking round trips
# of 64 bytes through a scheme (a provider of ":benchrt" answering READ SQEs,
# a client doing read(2) on a "benchrt:x" fd), and through the same
# provider reached user-to-user (u2u: a 64-byte READ SQE on a shared ring,
# the reply in a pool, both sides sleeping in ENTER), against a UNIX-socket
# request/response daemon and a pipe ping-pong, in the same guest boot, for
# every kernel in KVERS; "zc" is the scheme path with the provider answering
# zero-copy (bench-scheme -z: RXU_CQE_ZC_DATA, docs/zero-copy.md).
# bench-scheme runs one mechanism at a time; rounds rotate the order of the
# five; medians, the ratios scheme/unix (target >= 2), zc/unix, scheme/pipe
# and u2u/unix, and in brackets the median of per-round ratios.
# Two placements: client and server on different vCPUs (split) and on one
# (same): under TCG a cross-vCPU wake-up costs far more than on hardware.
# Figures go to stdout and build/bench/scheme-<kver>.txt.
#
# Environment: BENCH_SCHEME_ROUNDS (7), BENCH_SCHEME_N (round trips per run,
# 2000), BENCH_SCHEME_PLACEMENTS ("split same"), KVERS, BENCH_MODULE_DIR
# (load redox_uring.ko from <dir>/<kver>/ and do not build this tree's
# module).  Guests boot with tsc=reliable (see bench-event.sh).  A
# benchmark, never a test: it fails only if it cannot run.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

# In the guest: bench-scheme.sh --in-guest ROUNDS N PLACEMENTS...
if [ "${1:-}" = --in-guest ]; then
	rounds=$2 n=$3
	shift 3
	bin=build/userspace/tools/bench-scheme
	mechs=(unix pipe scheme zc u2u)
	nm=${#mechs[@]}
	out=$(mktemp /tmp/bench-scheme.XXXXXX)
	for p in "$@"; do
		for ((r = 0; r < rounds; r++)); do
			for ((i = 0; i < nm; i++)); do
				m=${mechs[$(((i + r) % nm))]}
				if [ "$m" = zc ]; then
					args=(-z -p "$p" -n "$n" scheme)
				else
					args=(-p "$p" -n "$n" "$m")
				fi
				if line=$("$bin" "${args[@]}" 2>/tmp/bench-scheme.err); then
					rate=$(echo "$line" | sed -n 's/.*: \([0-9.]*\) round trips\/s$/\1/p')
				else
					rate=fail
					[ -s "$out.err" ] || cp /tmp/bench-scheme.err "$out.err"
				fi
				echo "$p $m $r ${rate:-fail}" >>"$out"
			done
		done
	done
	echo "# $rounds rounds of $n round trips (after 200 warm-up) per mechanism, order rotating; round trips/s, medians"
	echo "# command of each run: $bin -p PLACEMENT -n $n unix|pipe|scheme|u2u (zc: $bin -z -p PLACEMENT -n $n scheme)"
	awk -v rounds="$rounds" '
	function median(a, k,   i, j, t) {
		for (i = 1; i <= k; i++)
			for (j = i + 1; j <= k; j++)
				if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	function med_of(p, m,   r, k, v) {
		k = 0
		for (r = 0; r < rounds; r++)
			if ((p, m, r) in rate && rate[p, m, r] != "fail")
				v[++k] = rate[p, m, r]
		return k ? median(v, k) : -1
	}
	function med_ratio(p, m, base,   r, k, v) {
		k = 0
		for (r = 0; r < rounds; r++)
			if ((p, m, r) in rate && (p, base, r) in rate &&
			    rate[p, m, r] != "fail" && rate[p, base, r] != "fail" &&
			    rate[p, base, r] > 0)
				v[++k] = rate[p, m, r] / rate[p, base, r]
		return k ? median(v, k) : -1
	}
	function fmt(x) { return x < 0 ? "n/a" : sprintf("%.0f", x) }
	function fr(a, b, paired) {
		if (a < 0 || b <= 0) return "n/a"
		return sprintf("%.2f (%.2f)", a / b, paired)
	}
	{ rate[$1, $2, $3] = $4; if (!($1 in seen)) { seen[$1] = 1; order[++np] = $1 } }
	END {
		printf "%-9s %10s %10s %10s %10s %10s %14s %14s %14s %14s\n", "placement",
		       "unix", "pipe", "scheme", "zc", "u2u", "scheme/unix", "zc/unix",
		       "scheme/pipe", "u2u/unix"
		for (i = 1; i <= np; i++) {
			p = order[i]
			u = med_of(p, "unix"); q = med_of(p, "pipe"); s = med_of(p, "scheme")
			z = med_of(p, "zc"); w = med_of(p, "u2u")
			printf "%-9s %10s %10s %10s %10s %10s %14s %14s %14s %14s\n", p,
			       fmt(u), fmt(q), fmt(s), fmt(z), fmt(w),
			       fr(s, u, med_ratio(p, "scheme", "unix")),
			       fr(z, u, med_ratio(p, "zc", "unix")),
			       fr(s, q, med_ratio(p, "scheme", "pipe")),
			       fr(w, u, med_ratio(p, "u2u", "unix"))
		}
		print "# target (a): scheme/unix >= 2 (scheme: read(2) on a scheme fd; u2u: the same provider over a user-to-user ring)"
	}' "$out"
	if grep -q ' fail$' "$out"; then
		echo "# some runs failed (n/a, or medians of fewer rounds); the first error:"
		sed 's/^/#   /' "$out.err" 2>/dev/null || true
	fi
	rm -f "$out" "$out.err" /tmp/bench-scheme.err
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
rounds=${BENCH_SCHEME_ROUNDS:-7}
n=${BENCH_SCHEME_N:-2000}
placements=${BENCH_SCHEME_PLACEMENTS:-split same}
for k in ${KVERS:-$(make -s --no-print-directory print-kvers)}; do
	cmd="userspace/tools/bench-scheme.sh --in-guest $rounds $n $placements"
	echo "== $k guest (TCG, 2 vCPUs, kernel args tsc=reliable, $moddir/$k/redox_uring.ko): $cmd"
	selftests/vm/run.sh -k "$k" -t 900 -a tsc=reliable -- \
		"insmod $moddir/$k/redox_uring.ko && $cmd; rc=\$?; rmmod redox_uring && exit \$rc" |
		tee "build/bench/scheme-$k.txt"
done
