#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run_tests.sh MODULE_KO - the redox_uring selftests, inside a test guest.
#
# NEVER run this on a machine whose kernel you care about: it loads the
# module.  It is meant for the QEMU guest of selftests/vm/run.sh:
#
#   make -C selftests/redox_uring
#   selftests/vm/run.sh -k 6.1 -- \
#       selftests/redox_uring/run_tests.sh build/module/<kver>/redox_uring.ko
#
# As root: insmod the module, run every test program and script named in
# build/selftests/redox_uring/test_list (kselftest-style TAP 13, each
# program's output nested as "# " lines), check the kernel log after each,
# check that rmmod works at the end, and print "N passed, N failed"
# counting individual test cases.  Exit status 0 only if nothing failed.
#
# Environment: RXU_TEST_BIN_DIR (default build/selftests/redox_uring),
# RXU_TEST_TIMEOUT (seconds per program, default from ./settings),
# RXU_TEST_LIST (the list file in the bin dir, default test_list;
# stress_list runs the long stress programs instead).

set -u

MOD=redox_uring
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bindir=${RXU_TEST_BIN_DIR:-$top/build/selftests/redox_uring}
list=${RXU_TEST_LIST:-test_list}

if [ $# -ne 1 ]; then
	echo "usage: $0 MODULE_KO" >&2
	exit 2
fi
case $1 in
/*) ko=$1 ;;
*) ko=$(pwd)/$1 ;;
esac

timeout_s=${RXU_TEST_TIMEOUT:-$(sed -n 's/^timeout=//p' "$here/settings" 2>/dev/null)}
timeout_s=${timeout_s:-300}

echo "TAP version 13"
# Refuse to load anything into a kernel that is not a throw-away guest:
# selftests/vm/run.sh guests have /run/rxu-vm; another runner may say so
# with RXU_IN_TEST_VM=1.
if [ ! -d /run/rxu-vm ] && [ "${RXU_IN_TEST_VM:-}" != 1 ]; then
	echo "1..0 # SKIP not inside a test guest (use selftests/vm/run.sh)"
	exit 4
fi
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP must run as root (inside the test guest)"
	exit 4
fi
if [ ! -r "$bindir/$list" ]; then
	echo "1..0 # SKIP $bindir/$list missing: make -C selftests/redox_uring"
	exit 4
fi

tests=$(cat "$bindir/$list")
ntests=$(echo "$tests" | wc -w)
# insmod, device node, one per program, rmmod
echo "1..$((ntests + 3))"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rxu-run.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

num=0		# top-level TAP number
cases_pass=0	# individual test cases
cases_fail=0
cases_skip=0

top_ok()     { num=$((num + 1)); echo "ok $num $1"; }
top_not_ok() { num=$((num + 1)); echo "not ok $num $1"; }
case_pass()  { cases_pass=$((cases_pass + 1)); top_ok "$1"; }
case_fail()  { cases_fail=$((cases_fail + 1)); top_not_ok "$1"; }
diag()       { echo "# $*"; }

finish() {
	echo "# Totals: pass:$cases_pass fail:$cases_fail xfail:0 xpass:0 skip:$cases_skip error:0"
	echo "$cases_pass passed, $cases_fail failed"
	[ "$cases_fail" -eq 0 ] && [ "$cases_pass" -gt 0 ]
	exit $?
}

loaded() { grep -q "^$MOD " /proc/modules; }

# The kernel log since a marker, scanned for warnings, BUGs, oopses...
mark() { echo "rxu-selftest: $1" >/dev/kmsg 2>/dev/null; }
log_since() { # MARKER
	dmesg 2>/dev/null | sed -n "/rxu-selftest: $1\$/,\$p"
}
scan_log() { # FILE: 0 if clean
	if [ -x "$top/selftests/vm/scan-dmesg.sh" ]; then
		"$top/selftests/vm/scan-dmesg.sh" "$1" >"$1.scan" 2>&1
		rc=$?
		sed 's/^/# /' "$1.scan"
		return $rc
	fi
	if grep -E 'BUG:|WARNING:|Oops|general protection|circular locking|suspicious RCU|Call Trace|UBSAN:|unreferenced object' \
		"$1" >"$1.scan"; then
		sed 's/^/# dmesg: /' "$1.scan"
		return 1
	fi
	return 0
}

# ---- load ----
if loaded; then
	diag "$MOD already loaded; removing it first"
	/sbin/rmmod $MOD 2>&1 | sed 's/^/# /'
fi
mark "insmod"
if out=$(/sbin/insmod "$ko" 2>&1); then
	case_pass "insmod $ko"
else
	diag "$out"
	case_fail "insmod $ko"
	echo "Bail out! the module did not load"
	finish
fi

# devtmpfs creates the node; give it (or udev) a moment
i=0
while [ ! -e /dev/$MOD ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -c /dev/$MOD ]; then
	case_pass "/dev/$MOD is a character device"
else
	case_fail "/dev/$MOD is a character device"
fi

# ---- programs and scripts ----
for t in $tests; do
	case $t in
	*.sh) prog=$here/$t ;;
	*) prog=$bindir/$t ;;
	esac
	out=$tmp/$t.out
	echo "# selftests: $MOD: $t"
	if [ ! -x "$prog" ]; then
		diag "$prog missing or not executable"
		case_fail "selftests: $MOD: $t # missing"
		continue
	fi
	mark "begin $t"
	(cd "$tmp" && RXU_MODULE_KO=$ko RXU_PROBE=$bindir/rxu_probe \
		timeout "$timeout_s" "$prog") >"$out" 2>&1
	rc=$?
	sed 's/^/# /' "$out"

	# individual cases, from the program's own kselftest totals
	totals=$(grep '^# Totals:' "$out" | tail -n 1)
	# "# Totals: pass:P fail:F xfail:XF xpass:XP skip:S error:E"
	# shellcheck disable=SC2046  # six numbers, split on purpose
	set -- $(echo "$totals" | sed -n \
		's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) xfail:\([0-9]*\) xpass:\([0-9]*\) skip:\([0-9]*\) error:\([0-9]*\).*/\1 \2 \3 \4 \5 \6/p')
	if [ $# -eq 6 ]; then
		p=$(($1 + $3)) f=$(($2 + $4 + $6)) s=$5
	else
		totals='' p=0 f=0 s=0
	fi
	why=
	if [ -z "$totals" ]; then
		why="no totals (exit status $rc)"
		f=$((f + 1))
	elif [ $rc -ne 0 ] && [ $rc -ne 4 ] && [ "$f" -eq 0 ]; then
		why="exit status $rc"
		f=$((f + 1))
	fi
	[ $rc -eq 124 ] && why="timed out after ${timeout_s}s"
	log_since "begin $t" >"$tmp/$t.dmesg"
	if ! scan_log "$tmp/$t.dmesg"; then
		why="${why:+$why, }kernel log shows a problem"
		f=$((f + 1))
	fi
	cases_pass=$((cases_pass + p))
	cases_fail=$((cases_fail + f))
	cases_skip=$((cases_skip + s))
	diag "$t: $p passed, $f failed, $s skipped"
	if [ "$f" -eq 0 ]; then
		top_ok "selftests: $MOD: $t"
	else
		top_not_ok "selftests: $MOD: $t${why:+ # $why}"
	fi
done

# ---- unload ----
refcnt=$(cat /sys/module/$MOD/refcnt 2>/dev/null)
diag "refcnt before rmmod: ${refcnt:-?}"
mark "rmmod"
if out=$(/sbin/rmmod $MOD 2>&1) && ! loaded && [ ! -e /dev/$MOD ]; then
	case_pass "rmmod $MOD"
else
	diag "${out:-module still loaded}"
	case_fail "rmmod $MOD"
fi
log_since "rmmod" >"$tmp/rmmod.dmesg"
if ! scan_log "$tmp/rmmod.dmesg"; then
	diag "kernel log shows a problem during rmmod"
	cases_fail=$((cases_fail + 1))
fi

finish
