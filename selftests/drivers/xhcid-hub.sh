#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/xhcid-hub.sh - xhcid drives the USB rig's usb-hub (xHCI
# root port 8): the devices behind it appear at port8.1 (stick2) and
# port8.2 (mouse) with the descriptors Linux's xhci_hcd read from them,
# class drivers are spawned for them by rule, and device_del/device_add
# behind the hub are seen through the hub's status-change endpoint.  Needs
# the USB rig (selftests/vm/run.sh -u MODEL, std topology) and the monitor
# bridge.  Prints TAP.
#
#   selftests/vm/run.sh -u qemu-xhci -k 6.12 -- selftests/drivers/xhcid-hub.sh
#
# Checked: the listing's hub line (DRIVER "hub") and one line per hub port
# (8 ports: 6 empty); descriptors of port8.1 and port8.2 byte-equal to
# Linux's 1-4.1 and 1-4.2; state and strings files behind the hub; the u2u
# ring's CLAIM, CONTROL and CONFIGURE on port id (8, route 2); ENOENT
# for hub port 9 and for a port below a non-hub, ENODEV for an empty hub
# port; a rule for class 8 starts a driver for stick2 with
# XHCID_PORT=port8.1; device_del mouse with an interrupt IN read in flight
# gives that read ENODEV and the line goes empty, device_add brings it
# back; device_del stick2 ends its driver (SIGTERM).  Everything is plugged
# back in and the controller given back at the end.
set -u
cd "$(dirname "$0")/../.." || exit 1
S=usbhub
c=/tmp/xhcid-hub
. selftests/drivers/tap.sh
. selftests/drivers/usb-rig-lib.sh

dev_field() { awk -v id="$1" -v f="$2" '$1 == "device" && $2 == id { print $f }' "$topo"; }

rig_find std "$usbreq"
hport=$(dev_field hub 5)
if [ "$hport" != 8 ] ||
	[ "$(dev_field stick2 6)" != 1-4.1 ] || [ "$(dev_field mouse 6)" != 1-4.2 ]; then
	nok "a $model rig with the std topology (hub on port 8, stick2 1-4.1, mouse 1-4.2) at ${bdf:-?}"
	finish
fi
ok "$model at $bdf: hub on xHCI port $hport, stick2 and mouse behind it"

rm -rf "$c"
mkdir -p "$c/xhcid.d"
# --- Linux's view first (xhci_hcd, then the function is given back) ---
check "usb-linux-view.sh: Linux's view of the 6 devices" \
	sh -c "'$view' -n 6 -o '$c/linux' '$bdf' 2>'$c/view.err'"
lhex() { awk -v p="path=$1" '$1 == "descriptors" && $2 == p { sub("^hex=", "", $3); print $3 }' "$c/linux"; }

rig_vfio "$ko"

cat >"$c/drv.sh" <<EOT
#!/bin/sh
trap 'echo term >>"$c/drv.\$XHCID_PORT"; exit 0' TERM
echo "start \$XHCID_PORT" >>"$c/drv.\$XHCID_PORT"
while :; do sleep 1; done
EOT
chmod +x "$c/drv.sh"
printf '[stick]\nclass = 0x08\ncommand = %s\n' "$c/drv.sh" >"$c/xhcid.d/stick.conf"
"$xhcid" --vfio "$bdf" --scheme "$S" --token-file "$c/token" \
	--config "$c/xhcid.d" >"$c/xhcid.out" 2>&1 &
xp=$!

check "xhcid serves $S:" waitfor 60 has "$c/xhcid.out" "serving $S:"
check "xhcid enumerates the mouse behind the hub" \
	waitfor 120 has "$c/xhcid.out" "^.*port8\\.2: 0627:0001 full speed, slot "
tok=$(cat "$c/token")
list >"$c/list" 2>&1
show listing "$c/list"
check "listing: port8 is a configured full-speed hub driven by xhcid" \
	has "$c/list" '^port8 configured full 0409:55aa 09/00/00 hub$'
check "listing: port8.1 is stick2 (usb-storage, full speed)" \
	waitfor 30 listed '^port8\.1 (addressed|configured) full 46f4:0001 00/00/00 '
check "listing: port8.2 is the mouse (full speed)" \
	has "$c/list" '^port8\.2 addressed full 0627:0001 00/00/00 -$'
check "listing: hub ports 3..8 are empty" \
	test "$(grep -cE '^port8\.[3-8] empty - - - -$' "$c/list")" -eq 6
check "listing: the hub port lines follow port8, before port9 or the end" \
	sh -c "grep -A8 '^port8 ' '$c/list' | sed -n 2,9p | cut -d' ' -f1 | tr '\n' ' ' | grep -qx 'port8.1 port8.2 port8.3 port8.4 port8.5 port8.6 port8.7 port8.8 '"

for p in 1 2; do
	lh=$(lhex "1-4.$p")
	xh=$(hex "$S:port8.$p/descriptors")
	check "port8.$p: descriptors (${#xh} hex digits) equal Linux's 1-4.$p" \
		test -n "$lh" -a "$xh" = "$lh"
done
check "port8.2/state: addressed full, a slot and an address" \
	sh -c "'$usbreq' cat $S:port8.2/state | grep -qE '^addressed full slot=[1-9][0-9]* address=[1-9][0-9]* config=0$'"
check "port8.2/strings: the product is QEMU USB Mouse" \
	sh -c "'$usbreq' cat $S:port8.2/strings | grep -qx 'product=QEMU USB Mouse'"
check "open port8.9 (the hub has 8 ports): ENOENT" \
	sh -c "'$usbreq' open $S:port8.9 | grep -qx 'error ENOENT'"
check "open port8.2.1 (the mouse is no hub): ENOENT" \
	sh -c "'$usbreq' open $S:port8.2.1 | grep -qx 'error ENOENT'"
check "open port8.3 (an empty hub port): ENODEV" \
	sh -c "'$usbreq' open $S:port8.3 | grep -qx 'error ENODEV'"
check "the class-8 rule started a driver for stick2 with XHCID_PORT=port8.1" \
	waitfor 30 has "$c/drv.port8.1" '^start port8\.1$'

# --- the u2u ring behind the hub: RXU_USB_PORT_ID(8, 0x2) ------------
"$usbreq" u2u "$S" 8.2 "$tok" >"$c/u2u" 2>&1
show u2u "$c/u2u"
check "u2u port 8.2: CLAIM with the token" grep -qx 'claim ok' "$c/u2u"
d18=$(lhex 1-4.2 | cut -c1-36)
check "u2u port 8.2: CONTROL GET_DESCRIPTOR gives Linux's device descriptor" \
	grep -qx "control ok 18 $d18" "$c/u2u"
check "u2u port 8.2: CONFIGURE 1" grep -qx 'configure-1 ok' "$c/u2u"
check "u2u port 8.2: TRANSFER on a missing endpoint is ENOENT" \
	grep -qx 'transfer-no-endpoint error ENOENT' "$c/u2u"

# --- the mouse: unplugged with a read in flight, plugged back --------
check "port8.2 is configured (configuration 1)" \
	sh -c "'$usbreq' cat '$S:port8.2/configure?token=$tok' | grep -qx 1"
"$usbreq" read "$S:port8.2/ep81?token=$tok" 4 >"$c/gone" 2>&1 &
rp=$!
sleep 2
check "device_del mouse" "$mon" 'device_del mouse'
waitfor 30 sh -c "! kill -0 $rp 2>/dev/null"
kill $rp 2>/dev/null
check "the read in flight on port8.2/ep81 ends with ENODEV ($(cat "$c/gone"))" \
	grep -qx 'error ENODEV' "$c/gone"
check "the listing shows port8.2 empty" waitfor 30 listed '^port8\.2 empty - - - -$'
check "the hub and stick2 stay" \
	sh -c "'$usbreq' cat $S: | grep -qE '^port8 configured .* hub$' && '$usbreq' cat $S: | grep -q '^port8\.1 '"
"$mon" "device_add $(dev_field mouse 8)" >/dev/null
check "device_add mouse: port8.2 addressed again" \
	waitfor 60 listed '^port8\.2 addressed full 0627:0001 '
check "port8.2's descriptors after the replug equal Linux's" \
	test "$(hex "$S:port8.2/descriptors")" = "$(lhex 1-4.2)"

# --- stick2: its driver ends when it goes ----------------------------
check "device_del stick2" "$mon" 'device_del stick2'
check "stick2's driver gets SIGTERM" waitfor 30 has "$c/drv.port8.1" '^term$'
check "the listing shows port8.1 empty" waitfor 30 listed '^port8\.1 empty - - - -$'
"$mon" "device_add $(dev_field stick2 8)" >/dev/null
check "device_add stick2: a new driver for port8.1" \
	waitfor 60 sh -c "[ \$(grep -c '^start port8.1$' '$c/drv.port8.1') -ge 2 ]"
rig_end "$xp"
finish
