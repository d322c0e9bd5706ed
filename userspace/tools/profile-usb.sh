#!/bin/sh
# SPDX-License-Identifier: MIT
#
# profile-usb.sh - where the time of one disk: read goes, hop by hop.
# In the USB rig's guest: xhcid (and the usbscsid it spawns) run with
# RXU_TRACE=1 (rxu_trace.h); a client then reads disk:0, 4 KiB at a time
# and 1 MiB at a time, and marks each read in the same trace.  Prints the
# merged trace and, per read, the time between its hops.  Not a test.
#
#   RXU_VM_USB_STICK=build/stick.img selftests/vm/run.sh -u qemu-xhci -k 6.12 \
#       -- userspace/tools/profile-usb.sh
#
# Environment: READS (8 of each size), OUT (where the raw trace goes).
NAME=profile-usb.sh
cd "$(dirname "$0")/../.." || exit 1
. selftests/drivers/usbscsid-lib.sh
xhcid=$top/build/userspace/xhcid/xhcid
topo=/run/rxu-vm/usb-topology
reads=${READS:-8}
[ -x "$xhcid" ] && [ -r "$topo" ] || { echo "profile-usb: needs xhcid and the rig (-u)"; exit 1; }
insmod "$ko" || exit 1
ids=$(awk '$1 == "controller" { print $3 }' "$topo")
for d in /sys/bus/pci/devices/*; do
	[ "$(sed 's/^0x//' "$d/vendor"):$(sed 's/^0x//' "$d/device")" = "$ids" ] && addr=${d##*/}
done
sys=/sys/bus/pci/devices/$addr
echo vfio-pci >"$sys/driver_override"
[ -e "$sys/driver" ] && echo "$addr" >"$sys/driver/unbind"
echo "$addr" >/sys/bus/pci/drivers_probe
conf=$tmp/xhcid.d
mkdir -p "$conf"
printf '[usbscsid]\nclass = 0x08\nsubclass = 0x06\nprotocol = 0x50\ncommand = %s\n' "$usbscsid" >"$conf/usbscsid.conf"
RXU_TRACE=1 "$xhcid" --vfio "$addr" --config "$conf" --token-file "$tmp/token" >"$tmp/xhcid.log" 2>&1 &
xp=$!
wait_for 120 grep -q '^usbscsid: serving disk:$' "$tmp/xhcid.log" || { cat "$tmp/xhcid.log"; exit 1; }
start=$(wc -l <"$tmp/xhcid.log")
"$rxuctl" open -i disk:0 -- python3 -c '
import os, sys, time
def mark(s):
    t = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    sys.stderr.write("rxu-trace %d.%09d client %s\n" % (t // 10**9, t % 10**9, s))
for size in (4096, 1 << 20):
    for i in range(int(sys.argv[1])):
        mark("pread %d at %d" % (size, i * size * 3))
        n = len(os.pread(0, size, i * size * 3))
        mark("done %d" % n)
' "$reads" 2>"$tmp/client.log"
kill $xp
wait $xp 2>/dev/null
tail -n +"$((start + 1))" "$tmp/xhcid.log" | cat - "$tmp/client.log" | grep '^rxu-trace' | sort -k2,2n >"$tmp/trace"
[ -n "${OUT:-}" ] && cp "$tmp/trace" "$OUT"
# Per line: time since the previous line and since the client's pread.
awk '{ t = $2; if ($3 == "client" && $4 == "pread") t0 = t
	printf "%9.3f ms %9.3f ms  %s\n", (p ? (t - p) * 1000 : 0), (t0 ? (t - t0) * 1000 : 0), substr($0, index($0, $3)); p = t }' "$tmp/trace"
rm -rf "$tmp"
