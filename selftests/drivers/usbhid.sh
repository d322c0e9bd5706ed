#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usbhid.sh - usbhidd and `rxuctl usb` against usb-fake,
# a stand-in for xhcid that serves rxu_usb.h's paths for canned QEMU
# devices (kbd on port1, tablet on port2, port3 empty, storage on port4),
# in a guest (selftests/vm/run.sh; VFIO not needed).  Prints TAP.
#
#   selftests/vm/run.sh -k 6.12 -- selftests/drivers/usbhid.sh [redox_uring.ko]
#
# Checks: the `rxuctl usb` listing (exact text) and -v dump; usbhidd's
# bad arguments and wrong token; a boot keyboard (SET_PROTOCOL(boot) and
# SET_IDLE sent, key lines, rollover, a stalled endpoint retried); the
# tablet in report protocol (GET_DESCRIPTOR(Report), absolute lines,
# buttons); --uinput read back through evdev; a detach mid-READ (usbhidd
# says "detached", exits 0; the listing shows the port empty).
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
ko=${1:-build/module/${RXU_VM_KVER:-$(uname -r)}/redox_uring.ko}
bin=$top/build/userspace
fake=$bin/tools/usb-fake
rxuctl=$bin/tools/rxuctl
hidd=$bin/usbhidd/usbhidd
token=0123456789abcdef0123456789abcdef
S=usb.fake
n=0
fails=0
tmp=$(mktemp -d /tmp/usbhid.XXXXXX)
pids=
t0=$(date +%s)

ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { # check DESC CMD...
	d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
finish() {
	cleanup
	echo "1..$n"
	echo "# usbhid.sh: $fails of $n failed, $(($(date +%s) - t0)) s"
	[ "$fails" -eq 0 ]
	exit $?
}
# wait_for FILE EXTENDED-REGEX: up to 10 s
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "# timed out waiting for /$2/ in $1:"
	sed 's/^/#   /' "$1"
	return 1
}
# ctl "report port1 00..." : drive usb-fake
ctl() { "$rxuctl" open -w -o "$S:control" -- sh -c "printf '%s' '$1'"; }
# exited PID: it has ended within 10 s; its status in $st
exited() {
	i=0
	while [ $i -lt 100 ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -0 "$1" 2>/dev/null && return 1
	wait "$1"
	st=$?
	return 0
}

for f in "$fake" "$rxuctl" "$hidd"; do
	if [ ! -x "$f" ]; then
		nok "built: $f (make -C userspace && make -C userspace/tools)"
		finish
	fi
done
if ! lsmod | grep -q '^redox_uring ' && ! insmod "$ko"; then
	nok "insmod $ko"
	finish
fi
ok "redox_uring loaded"

"$fake" -n "$S" -t "$token" >"$tmp/fake.out" 2>&1 &
pids="$pids $!"
check "usb-fake serves $S:" wait_for "$tmp/fake.out" "serving $S:"

# --- rxuctl usb -----------------------------------------------------
cat >"$tmp/want" <<EOF
$S
  PORT      STATE       SPEED  ID         CLASS         DRIVER    PRODUCT
  port1     configured  high   0627:0001  HID           usbhid    QEMU USB Keyboard
  port2     configured  high   0627:0001  HID           usbhid    QEMU USB Tablet
  port3     empty
  port4     configured  high   46f4:0001  Mass Storage  -         QEMU USB HARDDRIVE
EOF
"$rxuctl" usb >"$tmp/list" 2>"$tmp/list.err"
rc=$?
check "rxuctl usb finds $S in /proc/redox_uring and exits 0 ($rc)" test $rc -eq 0
if diff -u "$tmp/want" "$tmp/list" >"$tmp/diff"; then
	ok "rxuctl usb: ports, ids, classes, drivers, products"
else
	nok "rxuctl usb: ports, ids, classes, drivers, products"
	sed 's/^/#   /' "$tmp/diff"
fi
"$rxuctl" usb -v "$S" >"$tmp/listv" 2>&1
check "rxuctl usb -v: the keyboard's HID descriptor" \
	grep -q "HID 1.11, country 0, report descriptor 63 bytes" "$tmp/listv"
check "rxuctl usb -v: the tablet's interrupt endpoint" \
	grep -q "Endpoint 81: interrupt in, mps 8, interval 4" "$tmp/listv"
check "rxuctl usb -v: the storage's bulk endpoints" \
	grep -q "Endpoint 02: bulk out, mps 64, interval 0" "$tmp/listv"
"$rxuctl" usb usb.none >"$tmp/none" 2>&1
rc=$?
check "rxuctl usb on a scheme nobody serves: exit 1 ($rc)" test $rc -eq 1

# --- usbhidd: bad starts --------------------------------------------
"$hidd" --scheme "$S" --port port1 --interface 0 >/dev/null 2>&1
rc=$?
check "usbhidd without a token: usage, exit 2 ($rc)" test $rc -eq 2
"$hidd" --scheme "$S" --port port1 --interface 0 --token 00 \
	>/dev/null 2>"$tmp/err"
rc=$?
check "usbhidd with a wrong token: exit 1 ($rc)" test $rc -eq 1
check "usbhidd with a wrong token: says EACCES" grep -q "Permission denied" "$tmp/err"
XHCID_SCHEME=$S XHCID_PORT=port4 XHCID_INTERFACE=0 XHCID_TOKEN=$token \
	"$hidd" >/dev/null 2>"$tmp/err"
rc=$?
check "usbhidd on the mass-storage interface: refused, exit 1 ($rc)" test $rc -eq 1
XHCID_SCHEME=$S XHCID_PORT=port3 XHCID_INTERFACE=0 XHCID_TOKEN=$token \
	"$hidd" >"$tmp/out3" 2>"$tmp/err"
rc=$?
check "usbhidd on an empty port: ENODEV is 'detached', exit 0 ($rc)" test $rc -eq 0

# --- the boot keyboard, spawned as xhcid would --------------------
XHCID_SCHEME=$S XHCID_PORT=port1 XHCID_INTERFACE=0 XHCID_TOKEN=$token \
	"$hidd" >"$tmp/kbd" 2>"$tmp/kbd.err" &
kbd=$!
pids="$pids $kbd"
check "keyboard: ready line" wait_for "$tmp/kbd" '^ready port1 interface 0 keyboard boot ep81$'
"$rxuctl" open -i "$S:log" -- cat >"$tmp/log"
check "keyboard: SET_PROTOCOL(boot) sent" grep -q '^port1 21 0b 0000 0000 0$' "$tmp/log"
check "keyboard: SET_IDLE(0) sent" grep -q '^port1 21 0a 0000 0000 0$' "$tmp/log"
ctl "report port1 0000040000000000"
check "keyboard: key down KEY_A" wait_for "$tmp/kbd" '^key down KEY_A$'
ctl "report port1 0200040500000000"
check "keyboard: shift + b" wait_for "$tmp/kbd" '^key down KEY_LEFTSHIFT$'
check "keyboard: key down KEY_B" grep -q '^key down KEY_B$' "$tmp/kbd"
ctl "report port1 0200010101010101"
ctl "stall port1"
ctl "report port1 0000000000000000"
check "keyboard: after a phantom report and a stall, all keys up" \
	wait_for "$tmp/kbd" '^key up KEY_LEFTSHIFT$'
check "keyboard: KEY_A and KEY_B up" sh -c "grep -q '^key up KEY_A\$' '$tmp/kbd' && grep -q '^key up KEY_B\$' '$tmp/kbd'"
check "keyboard: the phantom report gave no key event" \
	test "$(grep -c 'KEY_A' "$tmp/kbd")" -eq 2
kill "$kbd"
wait "$kbd" 2>/dev/null
# The killed usbhidd's READ is still held by usb-fake (a stand-in does
# not learn of its consumer's death); this report answers it.
ctl "report port1 0000000000000000"

# --- the tablet in report protocol ----------------------------------
"$hidd" --scheme "$S" --port port2 --interface 0 --token "$token" \
	>"$tmp/tab" 2>"$tmp/tab.err" &
tab=$!
pids="$pids $tab"
check "tablet: ready line" wait_for "$tmp/tab" '^ready port2 interface 0 tablet report ep81$'
"$rxuctl" open -i "$S:log" -- cat >"$tmp/log"
check "tablet: GET_DESCRIPTOR(Report, 74 bytes)" grep -q '^port2 81 06 2200 0000 74$' "$tmp/log"
check "tablet: no SET_PROTOCOL" sh -c "! grep -q '^port2 21 0b' '$tmp/log'"
ctl "report port2 00ff3fff3f00"
check "tablet: abs x=16383 y=16383" wait_for "$tmp/tab" '^abs x=16383 y=16383$'
ctl "report port2 01ff3fff3f00"
check "tablet: button left down" wait_for "$tmp/tab" '^button left down$'
ctl "report port2 000000ff7fff"
check "tablet: button up, wheel, new position" wait_for "$tmp/tab" '^abs x=0 y=32767$'
check "tablet: wheel -1" grep -q '^rel wheel=-1$' "$tmp/tab"

# --- detach while the tablet's READ is in flight --------------------
ctl "detach port2"
if exited "$tab"; then
	check "detach mid-READ: usbhidd exits 0 ($st)" test "$st" -eq 0
else
	nok "detach mid-READ: usbhidd exits"
fi
check "detach mid-READ: usbhidd printed 'detached'" grep -q '^detached$' "$tmp/tab"
"$rxuctl" usb "$S" >"$tmp/list2" 2>&1
check "after the detach, rxuctl usb shows port2 empty" grep -qE '^  port2 +empty$' "$tmp/list2"

# --- --uinput: the keystrokes reach Linux's evdev ------------------
modprobe uinput 2>/dev/null
modprobe evdev 2>/dev/null	# the /dev/input/event* nodes read back below
if [ ! -c /dev/uinput ]; then
	skip "--uinput" "no /dev/uinput"
elif ! command -v python3 >/dev/null; then
	skip "--uinput" "no python3 to read evdev"
else
	XHCID_SCHEME=$S XHCID_PORT=port1 XHCID_INTERFACE=0 XHCID_TOKEN=$token \
		"$hidd" --uinput >"$tmp/ui" 2>"$tmp/ui.err" &
	ui=$!
	pids="$pids $ui"
	check "--uinput: ready line" wait_for "$tmp/ui" '^ready port1 '
	ev=
	for d in /sys/class/input/event*; do
		[ "$(cat "$d/device/name" 2>/dev/null)" = "usbhidd port1 keyboard" ] &&
			ev=/dev/input/${d##*/}
	done
	check "--uinput: an input device 'usbhidd port1 keyboard' (${ev:-none})" test -n "$ev"
	if [ -n "$ev" ]; then
		python3 selftests/drivers/evdev-keys.py "$ev" 30 >"$tmp/evdev" 2>&1 &
		rd=$!
		wait_for "$tmp/evdev" '^open$' >/dev/null
		ctl "report port1 0000040000000000"
		ctl "report port1 0000000000000000"
		wait "$rd"
		check "--uinput: evdev reads KEY_A down then up" grep -q '^evdev 30 1 0$' "$tmp/evdev"
		sed 's/^/# /' "$tmp/evdev"
	fi
	check "--uinput: the text lines too" wait_for "$tmp/ui" '^key up KEY_A$'
	ctl "detach port1"
	if exited "$ui"; then
		check "--uinput: detached, exit 0 ($st)" test "$st" -eq 0
	else
		nok "--uinput: usbhidd exits on detach"
	fi
fi

# Nothing left holding the module: every ring and handle was given back.
cleanup
pids=
check "rmmod redox_uring" rmmod redox_uring
finish
