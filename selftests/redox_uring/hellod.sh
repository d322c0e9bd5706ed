#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hellod.sh: the example provider of docs/providers.md
# (userspace/examples/hellod.c, librxu's rxu_scheme framework) against
# the real module: it registers hello:, cat and dd read its one file
# through `rxuctl open`, its refusals reach the client (ENOENT for an
# unknown path, EACCES for a write open), and it goes away on SIGTERM.
# Runs inside the test guest as root, with the module loaded; prints TAP
# 13 and a kselftest "# Totals:" line.
#
# Environment: RXU_HELLOD, RXU_RXUCTL (default: the builds under build/).

set -u

MOD=redox_uring
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
HELLOD=${RXU_HELLOD:-$top/build/userspace/examples/hellod}
RXUCTL=${RXU_RXUCTL:-$top/build/userspace/tools/rxuctl}
NCASES=6

n=0 pass=0 fail=0
ok()     { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n $1"; }
diag()   { echo "# $*"; }
totals() { echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"; }

echo "TAP version 13"
if [ ! -d /run/rxu-vm ] && [ "${RXU_IN_TEST_VM:-}" != 1 ]; then
	echo "1..0 # SKIP not inside a test guest (use selftests/vm/run.sh)"
	exit 4
fi
if [ "$(id -u)" != 0 ] || [ ! -d /sys/module/$MOD ]; then
	echo "1..0 # SKIP needs root and $MOD loaded"
	exit 4
fi
for b in "$HELLOD" "$RXUCTL"; do
	if [ ! -x "$b" ]; then
		echo "1..0 # SKIP $b missing: make guest-bins"
		exit 4
	fi
done
echo "1..$NCASES"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rxu-hellod.XXXXXX") || exit 1
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# ---- 1: it registers hello: ----
"$HELLOD" >"$tmp/hellod.out" 2>&1 &
pid=$!
i=0
while [ $i -lt 100 ] && ! grep -q '^hellod: serving hello:$' "$tmp/hellod.out"; do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
	i=$((i + 1))
done
if grep -q '^hellod: serving hello:$' "$tmp/hellod.out" &&
	grep -q '^scheme hello ' /proc/$MOD; then
	ok "hellod registers hello: and says it is serving"
else
	diag "hellod: $(cat "$tmp/hellod.out")"
	not_ok "hellod registers hello: and says it is serving"
	echo "Bail out! hellod did not start"
	totals
	exit 1
fi

# ---- 2: cat hello: ----
got=$("$RXUCTL" open -i hello: -- cat 2>&1)
if [ "$got" = "Hello from the hello: scheme!" ]; then
	ok "cat hello: prints the greeting"
else
	diag "got: $got"
	not_ok "cat hello: prints the greeting"
fi

# ---- 3: reads in small pieces end at EOF with the same bytes ----
got=$("$RXUCTL" open -i hello: -- dd bs=7 2>/dev/null | od -An -c | tr -d ' \n')
want=$(printf 'Hello from the hello: scheme!\n' | od -An -c | tr -d ' \n')
if [ "$got" = "$want" ]; then
	ok "7-byte reads of hello: give the 30 bytes, then EOF"
else
	diag "got: $got"
	not_ok "7-byte reads of hello: give the 30 bytes, then EOF"
fi

# ---- 4: an unknown path ----
out=$("$RXUCTL" open -i hello:nosuch -- cat 2>&1)
rc=$?
if [ $rc = 1 ] && [ "$out" = "rxuctl: open hello:nosuch: No such file or directory" ]; then
	ok "hello:nosuch: ENOENT, exit 1"
else
	diag "exit $rc: $out"
	not_ok "hello:nosuch: ENOENT, exit 1"
fi

# ---- 5: a write open is refused ----
out=$(echo x | "$RXUCTL" open -o hello: -- cat 2>&1)
rc=$?
if [ $rc = 1 ] && [ "$out" = "rxuctl: open hello:: Permission denied" ]; then
	ok "hello: opened for writing: EACCES, exit 1"
else
	diag "exit $rc: $out"
	not_ok "hello: opened for writing: EACCES, exit 1"
fi

# ---- 6: SIGTERM ends it and hello: is gone ----
kill "$pid"
i=0
while [ $i -lt 100 ] && grep -q '^scheme hello ' /proc/$MOD; do
	sleep 0.1
	i=$((i + 1))
done
if ! grep -q '^scheme hello ' /proc/$MOD; then
	ok "hello: is unregistered once hellod is killed"
else
	not_ok "hello: is unregistered once hellod is killed"
fi
wait "$pid" 2>/dev/null
pid=
totals
[ $fail -eq 0 ]
