#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/xhcid-hang.sh - a controller that stops answering while
# xhcid runs: Bus Master Enable is cleared in the function's PCI command
# register from outside xhcid (sysfs config), so the emulated xHCI fails
# every DMA (TRB fetches, event writes, MSI-X) and answers nothing. Needs
# the USB rig with the none topology (selftests/vm/run.sh -u MODEL:none);
# it plugs a usb-kbd (connector 1: port5) and a usb-mouse (connector 3:
# port7) itself. Prints TAP.
#
#   selftests/vm/run.sh -u qemu-xhci:none -k 6.12 -- selftests/drivers/xhcid-hang.sh
#
# Checked: a GET_DESCRIPTOR through port5/request ends with ETIMEDOUT (not
# a hang); the interrupt IN read in flight on port7/ep81 ends with ENODEV
# when xhcid resets the controller; xhcid logs the reset, turns bus
# mastering back on, enumerates both devices again with the descriptors
# they had, and answers GET_DESCRIPTOR again; xhcid lives on throughout.
set -u
cd "$(dirname "$0")/../.." || exit 1
S=usbhang
c=/tmp/xhcid-hang
. selftests/drivers/tap.sh
. selftests/drivers/usb-rig-lib.sh

cmdreg() { od -An -tu1 -j4 -N1 "/sys/bus/pci/devices/$bdf/config" | tr -d ' '; }
bme_off() { # clear bit 2 (Bus Master Enable) of the command register
	v=$(($(cmdreg) & ~4))
	printf "\\$(printf %o "$v")" |
		dd of="/sys/bus/pci/devices/$bdf/config" bs=1 seek=4 count=1 conv=notrunc status=none
}
bme() { [ $(($(cmdreg) & 4)) -ne 0 ]; }

rig_find none "$usbreq"
ok "$model at $bdf, nothing plugged at boot"
t0=$(date +%s)
rm -rf "$c"
mkdir -p "$c/xhcid.d"
check "device_add usb-kbd on connector 1" "$mon" 'device_add usb-kbd,bus=xhci.0,port=1,id=hkbd'
check "device_add usb-mouse on connector 3" "$mon" 'device_add usb-mouse,bus=xhci.0,port=3,id=hmouse'

rig_vfio "$ko"
"$xhcid" --vfio "$bdf" --scheme "$S" --token-file "$c/token" \
	--config "$c/xhcid.d" >"$c/xhcid.out" 2>&1 &
xp=$!
check "xhcid serves $S:" waitfor 60 has "$c/xhcid.out" "serving $S:"
check "port5 and port7 addressed" \
	waitfor 60 sh -c "'$usbreq' cat $S: | grep -q '^port5 addressed ' && '$usbreq' cat $S: | grep -q '^port7 addressed '"
tok=$(cat "$c/token")
d5=$(hex "$S:port5/descriptors")
d7=$(hex "$S:port7/descriptors")
d18=$(echo "$d5" | cut -c1-36)
getdesc() { "$usbreq" control "$S:port5/request?token=$tok" 8006000100001200; }
check "GET_DESCRIPTOR on port5 before the hang" test "$(getdesc)" = "ok 18 $d18"
check "port7/configure 1" sh -c "'$usbreq' text '$S:port7/configure?token=$tok' 1 | grep -qx 'ok 1'"
"$usbreq" read "$S:port7/ep81?token=$tok" 4 >"$c/inflight" 2>&1 &
rp=$!
sleep 1
check "the read on port7/ep81 is in flight" kill -0 "$rp"

# --- the hang --------------------------------------------------------
check "Bus Master Enable cleared from outside xhcid (sysfs config)" bme_off
check "the command register reads bus mastering off" test $(($(cmdreg) & 4)) -eq 0
s0=$(date +%s)
r=$(getdesc)
s1=$(date +%s)
check "GET_DESCRIPTOR on the hung controller: ETIMEDOUT ($r after $((s1 - s0)) s)" \
	test "$r" = "error ETIMEDOUT"
check "xhcid resets the controller" waitfor 60 has "$c/xhcid.out" 'resetting the controller'
waitfor 30 sh -c "! kill -0 $rp 2>/dev/null"
kill "$rp" 2>/dev/null
check "the read in flight on port7/ep81 ends with ENODEV ($(cat "$c/inflight"))" \
	grep -qx 'error ENODEV' "$c/inflight"
check "xhcid turned bus mastering back on" waitfor 30 bme
check "port5 and port7 addressed again" \
	waitfor 90 sh -c "'$usbreq' cat $S: | grep -q '^port5 addressed ' && '$usbreq' cat $S: | grep -q '^port7 addressed '"
check "port5's descriptors are those before the hang" test "$(hex "$S:port5/descriptors")" = "$d5"
check "port7's descriptors are those before the hang" test "$(hex "$S:port7/descriptors")" = "$d7"
check "GET_DESCRIPTOR on port5 after the reset" test "$(getdesc)" = "ok 18 $d18"
rig_end "$xp"
for id in hkbd hmouse; do "$mon" "device_del $id" >/dev/null 2>&1; done
echo "# xhcid-hang: $(($(date +%s) - t0)) s"
finish
