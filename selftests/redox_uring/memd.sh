#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# memd.sh: the mem: scheme daemon (userspace/memd) and rxuctl against the
# real module: registration, files written and read back by ordinary
# programs through `rxuctl open`, poll(2) on a scheme fd, `rxuctl ls`, the
# error messages of rxuctl, and what a consumer sees when memd is killed.
# Runs inside the test guest as root, with the module loaded; prints TAP
# 13 and a kselftest "# Totals:" line.
#
# Environment: RXU_MEMD, RXU_RXUCTL (default: the builds under build/).

set -u

MOD=redox_uring
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
MEMD=${RXU_MEMD:-$top/build/userspace/memd/memd}
RXUCTL=${RXU_RXUCTL:-$top/build/userspace/tools/rxuctl}
PY=/usr/bin/python3
NCASES=18

n=0 pass=0 fail=0 skip=0
ok()      { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok()  { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
skip()    { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n $1 # SKIP $2"; }
diag()    { echo "# $*"; }
check()   { # check NAME CMD...: ok if CMD succeeds
	_check_name=$1; shift
	if "$@"; then ok "$_check_name"; else not_ok "$_check_name"; fi
}
totals() {
	echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
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
for b in "$MEMD" "$RXUCTL"; do
	if [ ! -x "$b" ]; then
		echo "1..0 # SKIP $b missing: make guest-bins"
		exit 4
	fi
done
echo "1..$NCASES"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rxu-memd.XXXXXX") || exit 1
memd_pids=
cleanup() {
	for p in $memd_pids; do
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# Start "memd -f ARGS" in the background; MEMD_PID is its pid.  0 once it
# printed "memd: serving NAME:", 1 if it exited or took more than 10 s.
start_memd() { # NAME ARGS...
	_name=$1; shift
	"$MEMD" -f -n "$_name" "$@" >"$tmp/memd-$_name.out" 2>&1 &
	MEMD_PID=$!
	memd_pids="$memd_pids $MEMD_PID"
	i=0
	while [ $i -lt 100 ]; do
		grep -q "^memd: serving $_name:\$" "$tmp/memd-$_name.out" && return 0
		kill -0 "$MEMD_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	diag "memd -n $_name: $(cat "$tmp/memd-$_name.out")"
	return 1
}

# Wait up to 10 s for pid to exit; its status in WAIT_RC.
wait_exit() { # PID
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do
		# a zombie still answers kill -0: reap it with wait below
		[ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" = Z ] && break
		sleep 0.1
		i=$((i + 1))
	done
	if [ $i -ge 100 ]; then
		diag "pid $1 did not exit"
		WAIT_RC=255
		return 1
	fi
	wait "$1"
	WAIT_RC=$?
	return 0
}

# Is NAME listed as a scheme in /proc/redox_uring?
registered() { # NAME
	grep -q "^scheme $1 " /proc/$MOD
}

# ---- 1: registration ----
name=mem$$
if start_memd "$name" -s 4 && registered "$name"; then
	ok "memd registers $name: and says it is serving"
	memd=$MEMD_PID
else
	not_ok "memd registers $name: and says it is serving"
	echo "Bail out! memd did not start"
	totals
	exit 1
fi

# ---- 2: the name is taken ----
out=$("$MEMD" -f -n "$name" 2>&1 </dev/null)
rc=$?
case $rc:$out in
1:*"register :$name: File exists"*) ok "a second memd on $name: fails with EEXIST, exit 1" ;;
*)
	diag "second memd: exit $rc: $out"
	not_ok "a second memd on $name: fails with EEXIST, exit 1" ;;
esac

# ---- 3: daemon mode: the parent returns once serving, the child serves ----
name2=memd$$
if "$MEMD" -n "$name2" -s 1 >"$tmp/daemon.out" 2>&1 &&
	grep -q "^memd: serving $name2:\$" "$tmp/daemon.out" && registered "$name2"; then
	pid2=$(sed -n "s/^scheme $name2 pid \([0-9]*\) .*/\1/p" /proc/$MOD)
	memd_pids="$memd_pids $pid2"
	ok "memd without -f returns once $name2: is registered"
else
	diag "memd (daemon): $(cat "$tmp/daemon.out")"
	not_ok "memd without -f returns once $name2: is registered"
	pid2=
fi

# ---- 4: dd writes 64 KiB, cat reads it back ----
f=$name:zero
if "$RXUCTL" open -o "$f" -w -c -- dd if=/dev/zero bs=4k count=16 \
	2>"$tmp/dd.err"; then
	got=$("$RXUCTL" open -i "$f" -- cat | wc -c)
	if [ "$got" = 65536 ]; then
		ok "rxuctl+dd writes 64 KiB to $f, rxuctl+cat reads 65536 bytes"
	else
		diag "read back $got bytes"
		not_ok "rxuctl+dd writes 64 KiB to $f, rxuctl+cat reads 65536 bytes"
	fi
else
	diag "dd: $(cat "$tmp/dd.err")"
	not_ok "rxuctl+dd writes 64 KiB to $f, rxuctl+cat reads 65536 bytes"
fi

# ---- 5: a round trip of random bytes (odd size, several chunks) ----
head -c 300001 /dev/urandom >"$tmp/rand"
if "$RXUCTL" open -o "$name:rand" -w -c -- dd if="$tmp/rand" bs=64k \
	2>"$tmp/dd.err" &&
	"$RXUCTL" open -i "$name:rand" -- cat >"$tmp/rand.back" &&
	cmp "$tmp/rand" "$tmp/rand.back"; then
	ok "300001 random bytes survive dd into $name:rand and cat out"
else
	diag "dd: $(cat "$tmp/dd.err")"
	not_ok "300001 random bytes survive dd into $name:rand and cat out"
fi

# ---- 6: two files stay apart; positional fds 3 and 4 ----
if printf 'alpha' | "$RXUCTL" open -o "$name:a" -c -- cat &&
	printf 'beta!' | "$RXUCTL" open -o "$name:b" -c -- cat &&
	[ "$("$RXUCTL" open "$name:a" "$name:b" -- sh -c 'cat <&3; cat <&4')" = alphabeta! ]; then
	ok "two files keep their own data; PATHs arrive on fds 3 and 4"
else
	not_ok "two files keep their own data; PATHs arrive on fds 3 and 4"
fi

# ---- 7: poll(2) on a scheme fd, from python3 ----
if [ -x $PY ]; then
	# shellcheck disable=SC2016  # python, not shell
	out=$("$RXUCTL" open "$name:a" -- timeout 20 $PY -c '
import os, select
p = select.poll()
p.register(3, select.POLLIN)
ev = p.poll(5000)
assert ev == [(3, select.POLLIN)], ev
data = os.read(3, 100)
assert data == b"alpha", data
assert os.read(3, 100) == b"", "EOF"
print("polled")
' 2>&1)
	if [ "$out" = polled ]; then
		ok "poll(2) says POLLIN on a $name: fd, read(2) gets the data then EOF"
	else
		diag "$out"
		not_ok "poll(2) says POLLIN on a $name: fd, read(2) gets the data then EOF"
	fi
else
	skip "poll(2) says POLLIN on a $name: fd" "no $PY"
fi

# ---- 8-9: rxuctl ls ----
"$RXUCTL" ls >"$tmp/ls" 2>&1
if awk -v n="$name" -v p="$memd" '$1 == n && $2 == p { f = 1 } END { exit !f }' "$tmp/ls" &&
	awk -v n="$name2" '$1 == n { f = 1 } END { exit !f }' "$tmp/ls"; then
	ok "rxuctl ls lists both schemes with memd's pid"
else
	sed 's/^/# /' "$tmp/ls"
	not_ok "rxuctl ls lists both schemes with memd's pid"
fi
if awk -v p="$memd" '$2 == p && $3 == "provider" && $4 == "attached" { pr++ }
	$2 == p && $3 == "kernel" && $4 == "attached" { k++ }
	END { exit !(pr == 1 && k == 1) }' "$tmp/ls"; then
	ok "rxuctl ls shows memd's provider and kernel instances"
else
	sed 's/^/# /' "$tmp/ls"
	not_ok "rxuctl ls shows memd's provider and kernel instances"
fi

# ---- 10: a file that does not exist ----
out=$("$RXUCTL" open -i "$name:nosuch" -- cat 2>&1)
rc=$?
if [ $rc = 1 ] && [ "$out" = "rxuctl: open $name:nosuch: No such file or directory" ]; then
	ok "rxuctl open of a missing file: ENOENT message, exit 1"
else
	diag "exit $rc: $out"
	not_ok "rxuctl open of a missing file: ENOENT message, exit 1"
fi

# ---- 11: an unknown scheme ----
out=$("$RXUCTL" open -i "nosuch$$:x" -- cat 2>&1)
rc=$?
if [ $rc = 1 ] && [ "$out" = "rxuctl: open nosuch$$:x: No such device" ]; then
	ok "rxuctl open of an unknown scheme: ENODEV message, exit 1"
else
	diag "exit $rc: $out"
	not_ok "rxuctl open of an unknown scheme: ENODEV message, exit 1"
fi

# ---- 12: SIGTERM: memd exits 0 and the name goes ----
if [ -n "$pid2" ] && kill -TERM "$pid2"; then
	# not our child (daemon mode): wait for it to disappear
	i=0
	while kill -0 "$pid2" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if ! kill -0 "$pid2" 2>/dev/null && ! registered "$name2"; then
		ok "SIGTERM ends the daemon memd; $name2: is unregistered"
	else
		not_ok "SIGTERM ends the daemon memd; $name2: is unregistered"
	fi
else
	not_ok "SIGTERM ends the daemon memd; $name2: is unregistered (no daemon)"
fi
name3=memt$$
if start_memd "$name3" -s 1 && kill -TERM "$MEMD_PID" && wait_exit "$MEMD_PID" &&
	[ "$WAIT_RC" = 0 ]; then
	ok "memd -f exits 0 on SIGTERM"
else
	diag "exit ${WAIT_RC:-?}: $(cat "$tmp/memd-$name3.out" 2>/dev/null)"
	not_ok "memd -f exits 0 on SIGTERM"
fi

# ---- 14-16: kill -9 memd under an open reader ----
# The reader holds $name:rand on fd 3, reads one block, says so, waits for
# "go"; then (after the kill) polls fd 3 from python3 and reads the rest:
# poll must say POLLERR|POLLHUP and the read must fail with EIO.
# shellcheck disable=SC2016  # expanded by the inner shell
"$RXUCTL" open "$name:rand" -- sh -c '
	dd bs=4k count=1 <&3 >/dev/null 2>&1 || exit 3
	echo ready >"$1/ready"
	i=0
	while [ ! -e "$1/go" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	if [ -x "$2" ]; then
		timeout 20 "$2" -c "import select
p = select.poll()
p.register(3, select.POLLIN)
ev = p.poll(5000)
hup = select.POLLERR | select.POLLHUP
print(\"poll: hup\" if len(ev) == 1 and ev[0][1] & hup == hup else \"poll: %r\" % ev)"
	fi
	cat <&3 >/dev/null' reader "$tmp" "$PY" >"$tmp/reader.out" 2>&1 &
reader=$!
i=0
while [ ! -e "$tmp/ready" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if [ -e "$tmp/ready" ]; then
	kill -9 "$memd"
	wait_exit "$memd"
	case $WAIT_RC in
	137) ok "kill -9 ends memd" ;;
	*) diag "memd exit $WAIT_RC"; not_ok "kill -9 ends memd" ;;
	esac
	touch "$tmp/go"
	wait_exit "$reader"
	if [ "$WAIT_RC" = 1 ] && grep -q 'Input/output error' "$tmp/reader.out"; then
		ok "a reader of an open $name: fd gets EIO once memd is killed"
	else
		diag "reader exit $WAIT_RC: $(cat "$tmp/reader.out")"
		not_ok "a reader of an open $name: fd gets EIO once memd is killed"
	fi
	if [ ! -x $PY ]; then
		skip "poll(2) on it says POLLERR|POLLHUP" "no $PY"
	elif grep -q '^poll: hup$' "$tmp/reader.out"; then
		ok "poll(2) on it says POLLERR|POLLHUP"
	else
		diag "reader: $(cat "$tmp/reader.out")"
		not_ok "poll(2) on it says POLLERR|POLLHUP"
	fi
else
	diag "reader: $(cat "$tmp/reader.out")"
	not_ok "kill -9 ends memd (the reader never started)"
	not_ok "a reader of an open $name: fd gets EIO once memd is killed"
	not_ok "poll(2) on it says POLLERR|POLLHUP"
	kill -9 "$memd" "$reader" 2>/dev/null
fi
"$RXUCTL" ls >"$tmp/ls" 2>&1
if ! awk -v n="$name" '$1 == n { f = 1 } END { exit !f }' "$tmp/ls" &&
	! awk -v p="$memd" '$2 == p { f = 1 } END { exit !f }' "$tmp/ls"; then
	ok "rxuctl ls no longer lists $name: nor memd's instances"
else
	sed 's/^/# /' "$tmp/ls"
	not_ok "rxuctl ls no longer lists $name: nor memd's instances"
fi
out=$("$RXUCTL" open -i "$name:rand" -- cat 2>&1)
rc=$?
if [ $rc = 1 ] && [ "$out" = "rxuctl: open $name:rand: No such device" ]; then
	ok "after the kill, $name: is an unknown scheme (ENODEV)"
else
	diag "exit $rc: $out"
	not_ok "after the kill, $name: is an unknown scheme (ENODEV)"
fi

[ $n -eq $NCASES ] || diag "ran $n cases, planned $NCASES"
totals
[ $fail -eq 0 ] && [ $n -eq $NCASES ]
