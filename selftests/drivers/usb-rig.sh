#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usb-rig.sh - the USB test rig works: the topology of
# selftests/vm/run.sh -u is where its table says, seen by Linux's own
# xhci_hcd; the monitor bridge answers; sendkey and mouse_move reach Linux's
# input layer; device_del and device_add unplug and replug. Prints TAP.
#
#   selftests/vm/run.sh -u qemu-xhci -k 6.12 -- selftests/drivers/usb-rig.sh
#
# Leaves the controller as it found it (no driver, no driver_override) and
# every topology device plugged in, so that the drivers' scripts that follow
# in the same boot start from a fresh rig.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
mon=$top/selftests/vm/qemu-monitor
view=$top/selftests/drivers/usb-linux-view.sh
topo=${RXU_VM_USB_TOPOLOGY:-/run/rxu-vm/usb-topology}
w=/tmp/usb-rig
# shellcheck source=selftests/drivers/tap.sh
. selftests/drivers/tap.sh
. selftests/drivers/pci-bind.sh

driver_of() { basename "$(readlink "/sys/bus/pci/devices/$bdf/driver" 2>/dev/null)" 2>/dev/null; }

if [ -z "${RXU_VM_USB:-}" ] || [ ! -r "$topo" ]; then
	nok "running in a USB rig guest (selftests/vm/run.sh -u MODEL)"
	finish
fi
rm -rf "$w"
mkdir -p "$w"

# ------------------------------------------------------------ the table

read -r _ model pciid usb3 usb2 topology <<EOF
$(grep '^controller ' "$topo")
EOF
bdf=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x${pciid%:*}:0x${pciid#*:}" ]; then
		bdf=${d##*/}
		break
	fi
done
check "controller $model ($pciid) is PCI function ${bdf:-missing}, topology $topology" \
	test -n "$bdf"
[ -n "$bdf" ] || finish
unbound() { [ -z "$(driver_of)" ] && [ "$(cat "/sys/bus/pci/devices/$bdf/driver_override")" = "(null)" ]; }
check "$bdf starts with no driver and no driver_override" unbound
grep '^device ' "$topo" >"$w/devices"
if [ "$topology" = std ]; then
	check "std topology: 6 devices (stick kbd tablet hub stick2 mouse)" \
		test "$(cut -d' ' -f2 "$w/devices" | tr '\n' ' ')" = "stick kbd tablet hub stick2 mouse "
fi
ndev=$(wc -l <"$w/devices")

# ------------------------------------------------------------ monitor

if "$mon" 'info usb' >"$w/info" 2>"$w/info.err"; then
	ok "qemu-monitor 'info usb' exits 0"
else
	nok "qemu-monitor 'info usb' exits 0 ($(cat "$w/info.err"))"
fi
sed 's/^/# /' "$w/info"
# info usb: "Device 0.2, Port 1, Speed 5000 Mb/s, Product QEMU USB MSD, ID: stick"
while read -r _ id drv qport root lport speed args; do
	check "info usb: $id ($drv) on QEMU port $qport at $speed Mb/s" \
		grep -q "Port $qport, Speed $speed Mb/s, .*ID: $id\$" "$w/info"
done <"$w/devices"

"$mon" 'device_del rxu-no-such-device' >"$w/err.out" 2>"$w/err.err"
rc=$?
check "qemu-monitor: a refused command exits 1 with QEMU's Error on stdout (rc $rc)" \
	sh -c "[ $rc -eq 1 ] && grep -q '^Error: .*rxu-no-such-device' '$w/err.out'"
"$mon" 'rxu-no-such-command' >"$w/err.out" 2>"$w/err.err"
rc=$?
check "qemu-monitor: an unknown command exits 1 (rc $rc)" test $rc -eq 1
"$mon" -j '{"execute": "query-status"}' >"$w/qmp.out" 2>&1
rc=$?
check "qemu-monitor -j: QMP query-status says running (rc $rc)" \
	sh -c "[ $rc -eq 0 ] && grep -q '\"status\": \"running\"' '$w/qmp.out'"
"$mon" >/dev/null 2>&1
check "qemu-monitor without a command is a usage error (exit 2)" test $? -eq 2
# Eight at once: each gets its own answer.
i=0
while [ $i -lt 8 ]; do
	"$mon" 'info status' >"$w/par.$i" 2>&1 &
	i=$((i + 1))
done
wait
check "qemu-monitor: 8 concurrent requests, 8 answers" \
	test "$(cat "$w"/par.* | grep -c 'VM status: running')" -eq 8

# ------------------------------------------------------------ Linux's view

# First from vfio-pci, as a driver's test would call it: back on vfio-pci.
echo vfio-pci >"/sys/bus/pci/devices/$bdf/driver_override"
echo "$bdf" >/sys/bus/pci/drivers_probe
t0=$(date +%s)
"$view" -n "$ndev" -o "$w/view" 2>"$w/view.err"
rc=$?
t1=$(date +%s)
check "usb-linux-view.sh from vfio-pci: exit 0 in $((t1 - t0)) s (rc $rc $(cat "$w/view.err"))" \
	test $rc -eq 0
check "usb-linux-view.sh gave $bdf back to vfio-pci, driver_override kept" \
	test "$(driver_of)" = vfio-pci -a "$(cat "/sys/bus/pci/devices/$bdf/driver_override")" = vfio-pci
pci_unbind "$bdf"
echo >"/sys/bus/pci/devices/$bdf/driver_override"
sed 's/^/# /' "$w/view"

check "Linux view: controller $pciid, USB 3 ports $usb3, USB 2 ports $usb2" \
	grep -q "^controller pci=$bdf id=$pciid usb2_ports=$usb2 usb3_ports=$usb3\$" "$w/view"
check "Linux view: $ndev devices, as many as the topology" \
	test "$(grep -c '^device ' "$w/view")" -eq "$ndev"
while read -r _ id drv qport root lport speed args; do
	check "Linux view: $id at $lport, xHCI root port $root, $speed Mb/s" \
		grep -q "^device path=$lport root_port=$root route=[0-9a-f]* speed=$speed " "$w/view"
done <"$w/devices"
# Descriptors: the device descriptor (18 bytes, 12 01 ...) then each
# configuration (09 02, wTotalLength): the lengths must add up exactly.
desc_ok() {
	while read -r _ path hex; do
		h=${hex#hex=}
		case $h in 1201*) ;; *) echo "# $path: no device descriptor"; return 1 ;; esac
		len=$((${#h} / 2))
		off=18
		while [ "$off" -lt "$len" ]; do
			c=$(echo "$h" | cut -c$((off * 2 + 1))-$((off * 2 + 8)))
			case $c in ??02????) ;; *) echo "# $path: no config at $off"; return 1 ;; esac
			tl=$((0x$(echo "$c" | cut -c7-8)$(echo "$c" | cut -c5-6)))
			off=$((off + tl))
		done
		[ "$off" -eq "$len" ] || { echo "# $path: $off != $len"; return 1; }
	done <<EOF
$(grep '^descriptors ' "$w/view")
EOF
}
check "Linux view: every descriptors record is 18 bytes + whole configurations" desc_ok
check "Linux view: the stick is a mass-storage (08/06/50) interface, the kbd a boot keyboard (03/01/01)" \
	sh -c "grep -q '^interface path=2-1 .* class=08 subclass=06 protocol=50 ' '$w/view' &&
	       grep -q '^interface path=1-2 .* class=03 subclass=01 protocol=01 ' '$w/view'"

# Then kept bound (-k), from no driver, for the input and hot-plug checks.
"$view" -k -n "$ndev" -o "$w/view2" 2>"$w/view2.err"
rc=$?
check "usb-linux-view.sh -k from no driver: exit 0, $bdf stays on xhci_hcd (rc $rc $(cat "$w/view2.err"))" \
	test $rc -eq 0 -a "$(driver_of)" = xhci_hcd
check "the two views agree (apart from the kernel line)" \
	sh -c "[ \"\$(grep -v '^#' '$w/view')\" = \"\$(grep -v '^#' '$w/view2')\" ]"

if [ "$topology" != std ]; then
	pci_unbind "$bdf"
	finish
fi

# ------------------------------------------------------------ input

modprobe -a usbhid hid_generic evdev
evdev_of() { # evdev_of USBPATH: /dev/input/eventN of that device's interface 0
	for e in /sys/bus/usb/devices/"$1":1.0/*/input/input*/event*; do
		[ -e "$e" ] && { echo "/dev/input/${e##*/}"; return 0; }
	done
	return 1
}
waitfor 30 evdev_of 1-2 >/dev/null
kbd_ev=$(evdev_of 1-2)
waitfor 30 evdev_of 1-3 >/dev/null
tab_ev=$(evdev_of 1-3)
waitfor 30 evdev_of 1-4.2 >/dev/null
mouse_ev=$(evdev_of 1-4.2)
check "usbhid: kbd ${kbd_ev:-none}, tablet ${tab_ev:-none}, mouse ${mouse_ev:-none}" \
	test -c "${kbd_ev:-/}" -a -c "${tab_ev:-/}" -a -c "${mouse_ev:-/}"

# Wait (at most 40 s) for one evdev event of type $2 and code $3 with value
# $4; "ready" in $5 once the device is open (which starts usbhid's polling).
cat >"$w/evwait.py" <<'EOF'
import os, select, struct, sys, time
path, etype, code, value, ready = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
open(ready, "w").close()
fmt = "llHHi"
size = struct.calcsize(fmt)
end = time.monotonic() + 40
buf = b""
seen = []
while time.monotonic() < end:
    r, _, _ = select.select([fd], [], [], 1.0)
    if not r:
        continue
    buf += os.read(fd, 64 * size)
    while len(buf) >= size:
        _, _, t, c, v = struct.unpack(fmt, buf[:size])
        buf = buf[size:]
        if t == etype and c == code and v == value:
            print("event type %d code %d value %d" % (t, c, v))
            sys.exit(0)
        if t != 0:
            seen.append("%d/%d/%d" % (t, c, v))
print("no such event within 40 s (saw: %s)" % " ".join(seen[-8:]))
sys.exit(1)
EOF
# expect_event DESC EVDEV TYPE CODE VALUE TRIES MONITOR-ARGS...: send the
# monitor command (up to TRIES times, 3 s apart, while the event is
# missing) and wait for the event.
expect_event() {
	desc=$1 evdev=$2 etype=$3 code=$4 value=$5 tries=$6
	shift 6
	rm -f "$w/ready"
	/usr/bin/python3 "$w/evwait.py" "$evdev" "$etype" "$code" "$value" "$w/ready" >"$w/ev.out" 2>&1 &
	pid=$!
	waitfor 30 test -e "$w/ready"
	sent=0
	mrc=0
	while [ $sent -lt "$tries" ] && kill -0 $pid 2>/dev/null; do
		"$mon" "$@" >"$w/ev.mon" 2>&1 || mrc=$?
		sent=$((sent + 1))
		[ $sent -lt "$tries" ] && sleep 3
	done
	wait $pid
	erc=$?
	check "$desc: qemu-monitor exit $mrc (sent $sent), $(cat "$w/ev.out")" test $mrc -eq 0 -a $erc -eq 0
}
# EV_KEY 1 KEY_A 30 down 1; EV_REL 2 REL_X 0; EV_ABS 3 ABS_X 0.
# mouse_move sends relative motion, which only a relative mouse takes (not
# the tablet); QEMU gives it to the pointer the guest polled last, so the
# first send may still go to the PS/2 mouse: up to 3 sends.
if [ -n "$kbd_ev" ] && [ -n "$tab_ev" ] && [ -n "$mouse_ev" ]; then
	expect_event "sendkey a: KEY_A down on the USB keyboard" "$kbd_ev" 1 30 1 1 'sendkey a'
	expect_event "mouse_move 10 20: REL_X 10 on the USB mouse" "$mouse_ev" 2 0 10 3 'mouse_move 10 20'
	expect_event "QMP input-send-event abs x=1000: ABS_X 1000 on the USB tablet" "$tab_ev" 3 0 1000 1 \
		-j '{"execute": "input-send-event", "arguments": {"events": [{"type": "abs", "data": {"axis": "x", "value": 1000}}, {"type": "abs", "data": {"axis": "y", "value": 2000}}]}}'
fi

# ------------------------------------------------------------ hot-plug

gone() { [ ! -e "/sys/bus/usb/devices/$1" ]; }
back() { # back PATH SPEED
	[ -e "/sys/bus/usb/devices/$1/speed" ] && [ "$(cat "/sys/bus/usb/devices/$1/speed")" = "$2" ]
}
replug() { # replug ID PATH SPEED
	args=$(awk -v id="$1" '$1 == "device" && $2 == id { print $8 }' "$w/devices")
	"$mon" "device_del $1" >"$w/del.out" 2>&1
	rc=$?
	waitfor 30 gone "$2"
	check "device_del $1: exit $rc, $2 gone from sysfs" gone "$2"
	"$mon" 'info usb' | grep -q "ID: $1\$"
	check "device_del $1: 'info usb' no longer lists it" test $? -ne 0
	"$mon" "device_add $args" >"$w/add.out" 2>&1
	rc=$?
	waitfor 40 back "$2" "$3"
	check "device_add $args: exit $rc, $2 back at $3 Mb/s" back "$2" "$3"
}
replug stick 2-1 5000
replug stick2 1-4.1 12
"$mon" 'info usb' >"$w/info2"
check "after the hot-plugs 'info usb' is what it was at boot" \
	sh -c "[ \"\$(sed 's/Device [0-9.]*, //' '$w/info' | sort)\" = \"\$(sed 's/Device [0-9.]*, //' '$w/info2' | sort)\" ]"

# ------------------------------------------------------------ give back

pci_unbind "$bdf"
echo >"/sys/bus/pci/devices/$bdf/driver_override"
modprobe -r xhci_pci
check "$bdf given back: no driver, no driver_override, xhci_pci unloaded" \
	sh -c "[ -z \"\$(readlink /sys/bus/pci/devices/$bdf/driver)\" ] &&
	       [ \"\$(cat /sys/bus/pci/devices/$bdf/driver_override)\" = '(null)' ] &&
	       ! grep -q '^xhci_pci ' /proc/modules"
finish
