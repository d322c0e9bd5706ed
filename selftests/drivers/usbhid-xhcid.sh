#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usbhid-xhcid.sh - usbhidd spawned by xhcid for the USB
# rig's keyboard and tablet, input typed through the QEMU monitor, and a
# hot unplug/replug.  Needs the USB rig (selftests/vm/run.sh -u MODEL, std
# topology), xhcid (userspace/xhcid) and the monitor bridge.  Prints TAP.
#
#   selftests/vm/run.sh -u nec-usb-xhci -k 6.12 -- selftests/drivers/usbhid-xhcid.sh
#
# xhcid runs standalone (--vfio) with one rule, class 3 -> usbhidd, whose
# output goes to one file per port.  Checked: both drivers start (boot
# keyboard, report-protocol tablet), `rxuctl usb` names them; `sendkey`
# arrives as key lines, `input-send-event` as absolute and button lines;
# with --uinput, a `sendkey` is read back from Linux's evdev node of
# usbhidd's uinput device; `device_del kbd` ends the keyboard's usbhidd
# (ENODEV or xhcid's SIGTERM, exit 0 either way) while xhcid and the
# tablet's driver live on; `device_add` brings a new usbhidd that types
# again.  The controller is
# left with no driver, every device plugged in.
set -u
cd "$(dirname "$0")/../.." || exit 1
S=usbh
c=/tmp/usbhid-xhcid
. selftests/drivers/tap.sh
. selftests/drivers/usb-rig-lib.sh
hidd=$bin/usbhidd/usbhidd
rxuctl=$bin/tools/rxuctl

rig_find std "$hidd" "$rxuctl"
# device ID DRIVER QEMU_PORT XHCI_ROOT_PORT LINUX_PORT SPEED DEVICE_ADD_ARGS
kport=$(awk '$1 == "device" && $2 == "kbd" { print $5 }' "$topo")
tport=$(awk '$1 == "device" && $2 == "tablet" { print $5 }' "$topo")
kadd=$(awk '$1 == "device" && $2 == "kbd" { print $8 }' "$topo")
if [ -z "$kport" ] || [ -z "$tport" ]; then
	nok "a $model rig with the std topology (kbd, tablet) at ${bdf:-?}"
	finish
fi
ok "$model at $bdf: kbd on xHCI port $kport, tablet on port $tport"
rig_vfio "$ko"

rm -rf "$c"
mkdir -p "$c/xhcid.d"
# With uinput (and evdev to read it back), the drivers feed Linux too.
modprobe uinput 2>/dev/null
modprobe evdev 2>/dev/null
uinput=
[ -c /dev/uinput ] && command -v python3 >/dev/null && uinput=--uinput
cat >"$c/hid.sh" <<EOT
#!/bin/sh
exec $hidd $uinput >>"$c/hid.\$XHCID_PORT" 2>&1
EOT
chmod +x "$c/hid.sh"
printf '[usbhid]\nclass = 0x03\ncommand = %s\n' "$c/hid.sh" >"$c/xhcid.d/usbhid.conf"
"$xhcid" --vfio "$bdf" --scheme "$S" --token-file "$c/token" \
	--config "$c/xhcid.d" >"$c/xhcid.out" 2>&1 &
xp=$!
K=$c/hid.port$kport
T=$c/hid.port$tport

check "xhcid serves $S:" waitfor 60 has "$c/xhcid.out" "serving $S:"
check "xhcid spawns usbhidd for the keyboard: boot protocol" \
	waitfor 60 has "$K" "^ready port$kport interface 0 keyboard boot ep81$"
check "xhcid spawns usbhidd for the tablet: report protocol" \
	waitfor 60 has "$T" "^ready port$tport interface 0 tablet report ep81$"
"$rxuctl" usb "$S" >"$c/list" 2>&1
show "rxuctl usb" "$c/list"
check "rxuctl usb: the keyboard, bound to usbhid" \
	has "$c/list" "^  port$kport +configured +high +0627:0001 +HID +usbhid +QEMU USB Keyboard$"
check "rxuctl usb: the tablet, bound to usbhid" \
	has "$c/list" "^  port$tport +configured +high +0627:0001 +HID +usbhid +QEMU USB Tablet$"

# --- keys through the monitor --------------------------------------
"$mon" 'sendkey a' >/dev/null
check "sendkey a: key down KEY_A" waitfor 20 has "$K" '^key down KEY_A$'
check "sendkey a: key up KEY_A" waitfor 20 has "$K" '^key up KEY_A$'
"$mon" 'sendkey shift-b' >/dev/null
check "sendkey shift-b: KEY_LEFTSHIFT down" waitfor 20 has "$K" '^key down KEY_LEFTSHIFT$'
check "sendkey shift-b: KEY_B down, then up" waitfor 20 has "$K" '^key up KEY_B$'
check "sendkey shift-b: KEY_LEFTSHIFT up" waitfor 20 has "$K" '^key up KEY_LEFTSHIFT$'

# --- the same keys as Linux's evdev sees them (--uinput) -------------
if [ -z "$uinput" ]; then
	skip "sendkey a through uinput to evdev" "no /dev/uinput or no python3"
else
	ev=
	for d in /sys/class/input/event*; do
		[ "$(cat "$d/device/name" 2>/dev/null)" = "usbhidd port$kport keyboard" ] &&
			ev=/dev/input/${d##*/}
	done
	python3 selftests/drivers/evdev-keys.py "${ev:-/dev/null}" 30 >"$c/evdev" 2>&1 &
	rd=$!
	waitfor 20 has "$c/evdev" '^open$'
	"$mon" 'sendkey a' >/dev/null
	wait "$rd"
	check "sendkey a reaches evdev (${ev:-no device}): KEY_A down, up" \
		has "$c/evdev" '^evdev 30 1 0$'
fi

# --- the tablet: absolute position and a button ----------------------
"$mon" -j '{"execute": "input-send-event", "arguments": {"events": [{"type": "abs", "data": {"axis": "x", "value": 1000}}, {"type": "abs", "data": {"axis": "y", "value": 2000}}]}}' >/dev/null
check "input-send-event abs: abs x=1000 y=2000" waitfor 20 has "$T" '^abs x=1000 y=2000$'
# The usb-mouse behind the hub gets a usbhidd too (xhcid drives hubs), and
# QEMU gives buttons to the pointer its guest polled last: unplug the mouse
# for the tablet's button, plug it back after.
madd=$(awk '$1 == "device" && $2 == "mouse" { print $8 }' "$topo")
if [ -n "$madd" ]; then
	"$mon" 'device_del mouse' >/dev/null
	waitfor 30 sh -c "'$rxuctl' usb '$S' | grep -qE '^  port8\.2 +empty$'"
fi
"$mon" -j '{"execute": "input-send-event", "arguments": {"events": [{"type": "btn", "data": {"down": true, "button": "left"}}]}}' >/dev/null
check "input-send-event btn: button left down" waitfor 20 has "$T" '^button left down$'
"$mon" -j '{"execute": "input-send-event", "arguments": {"events": [{"type": "btn", "data": {"down": false, "button": "left"}}]}}' >/dev/null
check "input-send-event btn: button left up" waitfor 20 has "$T" '^button left up$'
[ -n "$madd" ] && "$mon" "device_add $madd" >/dev/null

# --- unplug the keyboard while its READ waits ------------------------
gone() { has "$K" '^(detached|stopped)$'; }
"$mon" 'device_del kbd' >/dev/null
check "device_del kbd: the keyboard's usbhidd ends (detached or stopped)" waitfor 30 gone
check "usbhidd reported no error" \
	test "$(grep '^usbhidd: ' "$K" | grep -vc 'device detached$')" -eq 0
check "xhcid lives on" kill -0 "$xp"
"$rxuctl" usb "$S" >"$c/list2" 2>&1
check "rxuctl usb: port$kport empty after the unplug" \
	waitfor 20 sh -c "'$rxuctl' usb '$S' | grep -qE '^  port$kport +empty$'"
"$mon" 'sendkey c' >/dev/null
check "the tablet's usbhidd is still up" sh -c "! grep -qE '^(detached|stopped)$' '$T'"

# --- and plug it in again -------------------------------------------
"$mon" "device_add $kadd" >/dev/null
check "device_add: a new usbhidd for the keyboard" \
	waitfor 60 sh -c "[ \$(grep -c '^ready port$kport ' '$K') -ge 2 ]"
"$mon" 'sendkey z' >/dev/null
check "sendkey z after the replug: key down KEY_Z" waitfor 20 has "$K" '^key down KEY_Z$'
check "no key line from while it was unplugged" sh -c "! grep -q KEY_C '$K'"

kill "$xp"
wait "$xp"
check "xhcid ends on SIGTERM, its usbhidd processes with it" \
	waitfor 10 sh -c "! pgrep -f '^$hidd' >/dev/null"
show xhcid "$c/xhcid.out" | tail -n 20
show kbd "$K"
show tablet "$T"
bind "" || nok "$bdf given back (driver: $(drv_of))"
check "rmmod redox_uring: xhcid and its drivers gave everything back" \
	rmmod redox_uring
finish
