#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/xhcid-bench.sh - the benchmark of xhcid (not a test):
# GET_DESCRIPTOR round trips and interrupt IN transfers (HID SET_IDLE 4 ms)
# on QEMU's usb-kbd behind qemu-xhci, first through Linux's xhci_hcd (raw
# usbfs ioctls), then, in the same guest boot, through xhcid's usb:
# (bench-ctrl).  Prints the medians and the ratios.
#
#   selftests/vm/run.sh -c 1 -V -k 6.12 -q "$(selftests/drivers/xhcid.sh --qemu-args)" \
#       -- selftests/drivers/xhcid-bench.sh [redox_uring.ko]
#
# RXU_BENCH_N: round trips per run (default 200; five runs each way).
set -u
QX=0000:00:10.0
. "$(dirname "$0")/xhcid-lib.sh"
bench=$top/build/userspace/xhcid/bench-ctrl
n=${RXU_BENCH_N:-200}
load_module >/dev/null
linux_view "$QX" /tmp/xb-linux 2 || exit 1
dev=
for d in /sys/bus/pci/devices/$QX/usb*/*-*; do
	case ${d##*/} in *:*) continue ;; esac
	[ "$(cat "$d/idProduct")" = 0001 ] && [ "$(cat "$d/idVendor")" = 0627 ] && dev=$d
done
[ -n "$dev" ] || { echo "no usb-kbd under $QX"; exit 1; }
node=$(printf '/dev/bus/usb/%03d/%03d' "$(cat "$dev/busnum")" "$(cat "$dev/devnum")")
echo "# command: bench-ctrl usbfs $node $n"
"$bench" usbfs "$node" "$n" | tee /tmp/xb-usbfs
echo "# command: bench-ctrl usbfs-intr $node $n"
"$bench" usbfs-intr "$node" "$n" | tee /tmp/xb-usbfs-intr
bind "$QX" vfio-pci
"$xhcid" --vfio "$QX" --scheme usbb --token-file /tmp/xb-token >/tmp/xb-log 2>&1 &
xp=$!
i=0
while [ $i -lt 300 ] && [ "$(grep -c ' speed, slot ' /tmp/xb-log)" -lt 2 ]; do
	sleep 0.2
	i=$((i + 1))
done
echo "# command: bench-ctrl usb 'usbb:port5/request?token=...' $n"
"$bench" usb "usbb:port5/request?token=$(cat /tmp/xb-token)" "$n" | tee /tmp/xb-usb
echo "# command: bench-ctrl usb-intr 'usbb:port5?token=...' $n"
"$bench" usb-intr "usbb:port5?token=$(cat /tmp/xb-token)" "$n" | tee /tmp/xb-usb-intr
kill $xp
wait $xp
ratio() { # ratio WHAT FILE-A FILE-B: B's median over A's
	a=$(sed -nE 's/^[a-z-]+: median ([0-9.]+) us.*/\1/p' "$2")
	b=$(sed -nE 's/^[a-z-]+: median ([0-9.]+) us.*/\1/p' "$3")
	echo "$1: ratio usb:/usbfs = $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')"
}
ratio "GET_DESCRIPTOR round trip" /tmp/xb-usbfs /tmp/xb-usb
ratio "interrupt IN transfer" /tmp/xb-usbfs-intr /tmp/xb-usb-intr
# xhci_pci is loaded now: with no override the function may go back to it
bind "$QX" "" || echo "# $QX is on $(drv_of "$QX") now"
