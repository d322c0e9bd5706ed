#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# params.sh: module parameters of redox_uring and refusal to unload while
# the module is in use.  Runs inside the test guest as root, with the
# module loaded; prints TAP 13 and a kselftest "# Totals:" line.
#
# Environment (set by run_tests.sh):
#   RXU_MODULE_KO  the .ko, to reload the module when a parameter is
#                  read-only in sysfs
#   RXU_PROBE      the rxu_probe helper (default: beside the other tests)
#
# It changes parameters only temporarily and leaves the module loaded
# with its defaults.

set -u

MOD=redox_uring
P=/sys/module/$MOD/parameters
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PROBE=${RXU_PROBE:-$top/build/selftests/redox_uring/rxu_probe}
KO=${RXU_MODULE_KO:-}

n=0 pass=0 fail=0 skip=0
ok()      { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok()  { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
diag()    { echo "# $*"; }
check()   { # check NAME CMD...: ok if CMD succeeds
	_check_name=$1; shift
	if "$@"; then ok "$_check_name"; else not_ok "$_check_name"; fi
}

echo "TAP version 13"
if [ ! -d /run/rxu-vm ] && [ "${RXU_IN_TEST_VM:-}" != 1 ]; then
	echo "1..0 # SKIP not inside a test guest (use selftests/vm/run.sh)"
	exit 4
fi
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP must run as root"
	exit 4
fi
if [ ! -d /sys/module/$MOD ]; then
	echo "1..0 # SKIP $MOD is not loaded"
	exit 4
fi
echo "1..12"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rxu-params.XXXXXX") || exit 1
holder=
cleanup() {
	if [ -n "$holder" ]; then
		exec 9>&-
		wait "$holder" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

loaded() { grep -q "^$MOD " /proc/modules; }

# Set a parameter: through sysfs when it is writable, else by reloading
# the module with it.  Returns nonzero if neither worked.
set_param() { # NAME VALUE
	mode=$(stat -c %a "$P/$1" 2>/dev/null) || return 1
	case $mode in
	[2367]??)
		echo "$2" >"$P/$1" 2>/dev/null && return 0
		return 1 ;;
	esac
	[ -n "$KO" ] || { diag "$1 is read-only and RXU_MODULE_KO is unset"; return 1; }
	/sbin/rmmod $MOD || return 1
	/sbin/insmod "$KO" "$1=$2" || return 1
	udevadm settle 2>/dev/null
	i=0
	while [ ! -e /dev/$MOD ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	return 0
}

param_is() { # NAME VALUE...: the parameter reads as one of the values
	v=$(cat "$P/$1" 2>/dev/null) || return 1
	_param=$1; shift
	for want in "$@"; do
		[ "$v" = "$want" ] && return 0
	done
	diag "$_param is '$v', expected one of: $*"
	return 1
}

probe_is() { # WANT ARGS...: rxu_probe ARGS prints WANT
	want=$1; shift
	got=$("$PROBE" "$@" 2>&1)
	[ "$got" = "$want" ] && return 0
	diag "rxu_probe $*: got '$got', expected '$want'"
	return 1
}

# Start "rxu_probe MODE" in the background and wait until it is READY.
start_holder() { # MODE
	rm -f "$tmp/fifo" "$tmp/hold.out"
	mkfifo "$tmp/fifo" || return 1
	"$PROBE" "$1" <"$tmp/fifo" >"$tmp/hold.out" 2>&1 &
	holder=$!
	exec 9>"$tmp/fifo"
	i=0
	while [ $i -lt 100 ]; do
		grep -q READY "$tmp/hold.out" 2>/dev/null && return 0
		grep -q FAIL "$tmp/hold.out" 2>/dev/null && break
		kill -0 "$holder" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	diag "holder $1: $(cat "$tmp/hold.out" 2>/dev/null)"
	return 1
}

stop_holder() {
	exec 9>&-
	[ -n "$holder" ] || return 0
	wait "$holder"
	rc=$?
	holder=
	return $rc
}

# rmmod must fail with "in use" and leave the module loaded.
rmmod_refused() {
	out=$(/sbin/rmmod $MOD 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		diag "rmmod succeeded while in use; reloading"
		[ -n "$KO" ] && /sbin/insmod "$KO"
		return 1
	fi
	case $out in
	*"in use"*|*"Resource temporarily unavailable"*|*"busy"*) ;;
	*) diag "rmmod failed, but not as 'in use': $out"; return 1 ;;
	esac
	loaded
}

refcnt_is() { # N
	v=$(cat /sys/module/$MOD/refcnt 2>/dev/null)
	[ "$v" = "$1" ] && return 0
	diag "refcnt is '$v', expected $1"
	return 1
}

# 1-2
check "parameter max_entries exists" test -r "$P/max_entries"
check "parameter enabled exists" test -r "$P/enabled"
# 3-4
check "max_entries defaults to 32768" param_is max_entries 32768
check "enabled defaults to on" param_is enabled 1 Y

# 5: enabled=0 refuses new instances with EPERM
if set_param enabled 0; then
	check "enabled=0: open of /dev/$MOD fails with EPERM" probe_is EPERM open
else
	not_ok "enabled=0: open of /dev/$MOD fails with EPERM (could not set)"
fi
# 6
if set_param enabled 1; then
	check "enabled=1: open succeeds again" probe_is OK open
else
	not_ok "enabled=1: open succeeds again (could not set)"
fi

# 7-8: max_entries bounds the counts of a create info
if set_param max_entries 16; then
	check "max_entries=16: counts 16 accepted" probe_is OK create 16 16
	if probe_is EINVAL create 32 16 && probe_is EINVAL create 16 32; then
		ok "max_entries=16: count 32 fails with EINVAL"
	else
		not_ok "max_entries=16: count 32 fails with EINVAL"
	fi
else
	not_ok "max_entries=16: counts 16 accepted (could not set)"
	not_ok "max_entries=16: count 32 fails with EINVAL (could not set)"
fi
set_param max_entries 32768 || diag "could not restore max_entries"
param_is max_entries 32768 || diag "max_entries not restored"

# 9: rmmod refused while an instance fd is open
if start_holder hold; then
	check "rmmod refused while an instance fd is open" rmmod_refused
	stop_holder || diag "holder exited with $?"
else
	not_ok "rmmod refused while an instance fd is open (no holder)"
	stop_holder
fi

# 10: no reference left once the holder is gone
check "module refcnt back to 0 after the fd is closed" refcnt_is 0

# 11: rmmod refused while a mapping outlives its fd
if start_holder hold-mapped; then
	check "rmmod refused while a mapping outlives its fd" rmmod_refused
	stop_holder || diag "holder exited with $?"
else
	not_ok "rmmod refused while a mapping outlives its fd (no holder)"
	stop_holder
fi

# 12
check "module refcnt back to 0 after munmap" refcnt_is 0

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ $fail -eq 0 ]
