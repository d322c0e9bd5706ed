#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/xhcid-bench.sh - the benchmark of xhcid (not a test):
# GET_DESCRIPTOR round trips on QEMU's usb-kbd behind qemu-xhci, first
# through Linux's xhci_hcd (raw usbfs ioctls), then, in the same guest
# boot, through xhcid's usb: (bench-ctrl).  Prints both medians and the
# ratio.
#
#   selftests/vm/run.sh -V -k 6.12 -q "$(selftests/drivers/xhcid.sh --qemu-args)" \
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
kill $xp
wait $xp
a=$(sed -nE 's/^usbfs: median ([0-9.]+) us.*/\1/p' /tmp/xb-usbfs)
b=$(sed -nE 's/^usb: median ([0-9.]+) us.*/\1/p' /tmp/xb-usb)
echo "ratio usb:/usbfs = $(echo "scale=2; $b / $a" | bc 2>/dev/null || awk "BEGIN{printf \"%.2f\", $b/$a}")"
bind "$QX" ""
