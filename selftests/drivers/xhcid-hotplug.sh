#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/xhcid-hotplug.sh - xhcid while devices come and go,
# and HID input, through the QEMU monitor (run.sh -Q, qemu-monitor), in
# the VFIO guest.  Prints TAP.
#
#   selftests/vm/run.sh -V -Q -k 6.12 -q "$(selftests/drivers/xhcid.sh --qemu-args)" \
#       -- selftests/drivers/xhcid-hotplug.sh [redox_uring.ko]
#
# On qemu-xhci: the keyboard's interrupt endpoint gets a key typed with
# `sendkey`; a read waiting on it when the keyboard is removed with
# `device_del` ends with ENODEV, xhcid lives on, the listing handle gets
# an EVENT and shows the port empty; `device_add` brings a keyboard back,
# enumerated with a new token (the old one is refused).  The same for the
# storage device removed in the middle of a transfer.  Run it last in a
# boot: the stick it removes does not come back (QEMU drops its drive).
set -u
. "$(dirname "$0")/xhcid-lib.sh"
usbreq=$top/build/userspace/xhcid/usbreq
mon=$top/selftests/vm/qemu-monitor
QX=0000:00:10.0

need_vfio_guest
load_module
if [ ! -x "$mon" ] || ! "$mon" -t 20 'info version' >/dev/null 2>&1; then
	nok "the QEMU monitor is reachable (run.sh -Q, selftests/vm/qemu-monitor)"
	finish
fi
ok "the QEMU monitor is reachable"
w=$(mktemp -d /tmp/xhcid-h.XXXXXX)
bind "$QX" vfio-pci
"$xhcid" --vfio "$QX" --scheme usbh --token-file "$w/token" >"$w/log" 2>&1 &
xp=$!
wait_log() { wait_grep "$1" "$2" "$w/log"; }
check "xhcid enumerates the keyboard and the stick" wait_log 2 ' speed, slot '
tok=$(cat "$w/token")
"$usbreq" text "usbh:port5/configure?token=$tok" 1 >/dev/null

# A key: the boot-protocol report has the usage of 'a' (0x04) in byte 2.
"$usbreq" read "usbh:port5/ep81?token=$tok" 8 >"$w/key" 2>&1 &
rp=$!
sleep 2
"$mon" 'sendkey a' >/dev/null
i=0
while [ $i -lt 100 ] && kill -0 $rp 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
kill $rp 2>/dev/null
check "sendkey a arrives as an interrupt IN report with usage 0x04 ($(cat "$w/key"))" \
	grep -qE '^ok 8 0000040000000000$' "$w/key"

# sendkey presses and releases: the release is the next report.
check "the key release follows as an all-zero report" \
	sh -c "'$usbreq' read 'usbh:port5/ep81?token=$tok' 8 | grep -qx 'ok 8 0000000000000000'"

# Removal with a read in flight.
"$usbreq" read "usbh:port5/ep81?token=$tok" 8 >"$w/gone" 2>&1 &
rp=$!
"$usbreq" wait usbh: 60 >"$w/ev" 2>&1 &
ep=$!
sleep 2
check "device_del ukbd" "$mon" 'device_del ukbd'
i=0
while [ $i -lt 150 ] && kill -0 $rp 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
kill $rp 2>/dev/null
check "the read in flight ends with ENODEV ($(cat "$w/gone"))" grep -qx 'error ENODEV' "$w/gone"
wait $ep
check "the listing handle gets an EVENT" grep -qx ok "$w/ev"
check "xhcid lives on" kill -0 $xp
check "the listing shows port5 empty" sh -c "'$usbreq' cat usbh: | grep -qx 'port5 empty - - - -'"
expect_line() { "$usbreq" "$@" 2>&1 | head -1; }
check "a handle of the gone device is ENODEV" \
	test "$(expect_line open "usbh:port5/state")" = "error ENODEV"
check "device_add usb-kbd back on the same port" "$mon" 'device_add usb-kbd,bus=ux.0,port=1,id=ukbd2'
check "xhcid enumerates it again" wait_log 3 ' speed, slot '
check "port5 is addressed again" sh -c "'$usbreq' cat usbh: | grep -q '^port5 addressed high 0627:0001 '"
check "the admin token still works on the new device" \
	test "$(expect_line open "usbh:port5/request?token=$tok")" = ok

# The stick removed in the middle of a bulk transfer.
"$usbreq" text "usbh:port2/configure?token=$tok" 1 >/dev/null
# 64 KiB READ(10) of LBA 0: the CBW, then the data read in flight.
"$usbreq" write "usbh:port2/ep02?token=$tok" \
	55534243010000000000010080000a28000000000000008000000000000000 >/dev/null 2>&1
"$usbreq" read "usbh:port2/ep81?token=$tok" 1048576 >"$w/bulk" 2>&1 &
rp=$!
check "device_del ust" "$mon" 'device_del ust'
i=0
while [ $i -lt 150 ] && kill -0 $rp 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
kill $rp 2>/dev/null
check "the bulk read ends (ENODEV, or the data if it won the race): $(cut -c1-20 "$w/bulk")" \
	grep -qE '^(error ENODEV|ok [0-9]+ )' "$w/bulk"
check "xhcid lives on after the stick is gone" kill -0 $xp
check "the listing shows port2 empty" sh -c "'$usbreq' cat usbh: | grep -qx 'port2 empty - - - -'"
kill $xp
wait $xp
rc=$?
check "xhcid ends on SIGTERM (status $rc)" test $rc -eq 0
sed 's/^/# xhcid: /' "$w/log"
bind "$QX" ""
rm -rf "$w"
finish
