#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usbscsid-usb.sh - the whole chain on the USB rig:
# xhcid drives the rig's xHCI through VFIO and spawns usbscsid for QEMU's
# usb-storage stick by its rule; the stick is read and written through
# disk: and through Linux's own xhci_hcd + usb-storage on the same image.
# Prints TAP.  Needs the rig (selftests/vm/run.sh -u MODEL:std) and xhcid:
#
#   selftests/vm/run.sh -u qemu-xhci -k 6.12 -- selftests/drivers/usbscsid-usb.sh [redox_uring.ko]
#
# Cases: usbscsid spawned and serving disk:; the listing; the whole stick
# by hash against its image; an unaligned write through disk: read back
# through disk: and then through Linux's /dev/sdX, and a write through
# Linux read back through disk:; the stick pulled (device_del) under a
# reader: it gets EIO, nothing hangs, xhcid lives on; stick2 behind the
# hub plugged back: read by hash, written, pulled under a reader.
NAME=usbscsid-usb.sh
. "$(dirname "$0")/usbscsid-lib.sh"
xhcid=$top/build/userspace/xhcid/xhcid
mon=$top/selftests/vm/qemu-monitor
topo=/run/rxu-vm/usb-topology

if [ ! -x "$xhcid" ] || [ ! -r "$topo" ]; then
	n=$((n + 1))
	echo "ok $n - the chain on the USB rig # SKIP no xhcid or no rig (-u)"
	finish
fi
need sha256sum cmp "$usbscsid" "$rxuctl"
load_module

rig_xhci
img=$(awk '$1 == "image" && $2 == "stickimg" { print $3 }' "$topo")
size=$(awk '$1 == "image" && $2 == "stickimg" { print $4 }' "$topo")
check "the rig's xHCI ($ids) is at ${addr:-nowhere}" test -n "$addr"
[ -n "$addr" ] || finish
sys=/sys/bus/pci/devices/$addr
want=$(sha256sum <"$img")

. "$(dirname "$0")/pci-bind.sh"
bind() { pci_bind "$addr" "$1"; } # DRIVER

conf=$tmp/xhcid.d
mkdir -p "$conf"
printf '[usbscsid]\nclass = 0x08\nsubclass = 0x06\nprotocol = 0x50\ncommand = %s\n' \
	"$usbscsid" >"$conf/usbscsid.conf"

start_chain() { # TAG
	bind vfio-pci || return 1
	"$xhcid" --vfio "$addr" --config "$conf" --token-file "$tmp/token" \
		>"$tmp/xhcid-$1.log" 2>&1 &
	XHCID_PID=$!
	pids="$pids $XHCID_PID"
	wait_for 120 grep -q '^usbscsid: serving disk:$' "$tmp/xhcid-$1.log"
}

stop_chain() {
	kill "$XHCID_PID" 2>/dev/null
	wait "$XHCID_PID" 2>/dev/null
}

# linux_dev: bind the controller to xhci_hcd; the stick's /dev/sdX.
linux_dev() {
	modprobe -a xhci_pci usb_storage sd_mod 2>/dev/null
	bind xhci_pci >/dev/null 2>&1 || bind xhci_hcd >/dev/null 2>&1
	wait_for 60 sh -c 'for b in /sys/block/sd*; do [ "$(cat $b/size)" -gt 0 ] && exit 0; done; exit 1' || return 1
	for b in /sys/block/sd*; do
		if [ "$(cat "$b/size")" = $((size / 512)) ]; then
			echo "/dev/${b##*/}"
			return 0
		fi
	done
	return 1
}

# stick2, behind the hub, is a BOT stick too: xhcid drives hubs, so its
# usbscsid would race the stick's for the "disk" alias. Unplugged meanwhile.
s2add=$(awk '$1 == "device" && $2 == "stick2" { print $8 }' "$topo")
[ -n "$s2add" ] && "$mon" 'device_del stick2' >/dev/null
if ! start_chain first; then
	nok "xhcid spawns usbscsid for the stick, which serves disk:"
	diag "$(tail -n 20 "$tmp/xhcid-first.log")"
	finish
fi
ok "xhcid spawns usbscsid for the stick, which serves disk:"
grep '^usbscsid: LUN' "$tmp/xhcid-first.log" | sed 's/^/# /'
check "the listing of disk: is \"0\"" test "$("$rxuctl" open -i disk: -- cat)" = 0
# (xhcid's VFIO pins of the pool count too, and stay: only the
# acquired side is compared.)
set -- $(pins)
pin_a=$1
check "sha256 of disk:0 = that of the stick's image" \
	test "$("$rxuctl" open -i disk:0 -- sha256sum)" = "$want"
set -- $(pins)
pages=$(($(stat -c %s "$img") / 4096))
check "answered zero-copy from the pool: $(($1 - pin_a)) pages pinned, at least the stick's $pages" \
	test $(($1 - pin_a)) -ge "$pages"

head -c 65536 /dev/urandom >"$tmp/w1"
"$rxuctl" open -o disk:0 -w -- dd bs=65536 seek=123457 oflag=seek_bytes status=none <"$tmp/w1"
"$rxuctl" open -i disk:0 -- dd bs=65536 skip=123457 count=1 iflag=skip_bytes status=none >"$tmp/r1"
check "64 KiB written through disk:0 at byte 123457 reads back through disk:0" cmp -s "$tmp/w1" "$tmp/r1"
stop_chain

if dev=$(linux_dev); then
	ok "Linux's usb-storage sees the stick again as $dev"
	dd if="$dev" bs=65536 skip=123457 count=1 iflag=skip_bytes,direct status=none >"$tmp/r2" 2>/dev/null ||
		dd if="$dev" bs=65536 skip=123457 count=1 iflag=skip_bytes status=none >"$tmp/r2"
	check "and reads there what disk:0 wrote" cmp -s "$tmp/w1" "$tmp/r2"
	head -c 131072 /dev/urandom >"$tmp/w2"
	dd if="$tmp/w2" of="$dev" bs=131072 seek=1048576 oflag=seek_bytes conv=fsync status=none
	sync
	whole=$(sha256sum <"$dev")
else
	nok "Linux's usb-storage sees the stick again"
fi

if start_chain second; then
	ok "the chain comes back on the same controller"
	"$rxuctl" open -i disk:0 -- dd bs=131072 skip=1048576 count=1 iflag=skip_bytes status=none >"$tmp/r3"
	check "what Linux wrote at 1 MiB reads back through disk:0" cmp -s "$tmp/w2" "$tmp/r3"
	check "sha256 of disk:0 = Linux's of $dev" \
		test "$("$rxuctl" open -i disk:0 -- sha256sum)" = "${whole:-none}"
else
	nok "the chain comes back on the same controller"
	diag "$(tail -n 20 "$tmp/xhcid-second.log")"
	finish
fi

# The stick pulled under a reader.
"$rxuctl" open -i disk:0 -- sh -c 'while dd bs=64k status=none >/dev/null; do :; done' \
	2>"$tmp/dd.err" &
ddp=$!
sleep 1
check "device_del stick" "$mon" 'device_del stick'
ends_eio "$ddp" 60 "$tmp/dd.err" "the reader"
check "xhcid lives on" kill -0 "$XHCID_PID"
check "disk: is gone or refuses with ENODEV/EIO" \
	sh -c "! '$rxuctl' open -i disk:0 -- true 2>/dev/null"

# stick2, behind the full-speed hub (64-byte bulk packets), plugged back
# while xhcid runs: its own usbscsid serves it, and it too is pulled
# under a reader.
if [ -n "$s2add" ]; then
	s2img=$(awk '$1 == "image" && $2 == "stick2img" { print $3 }' "$topo")
	h2=$(sha256sum <"$s2img")
	"$mon" "device_add $s2add" >/dev/null
	if wait_for 120 grep -q '^usbscsid: serving disk\..*+port8\.1-scsi:$' "$tmp/xhcid-second.log"; then
		d2=$(sed -n 's/^usbscsid: serving \(disk\..*+port8\.1-scsi\):$/\1/p' "$tmp/xhcid-second.log" | tail -n 1)
		ok "stick2 behind the hub: usbscsid serves $d2:"
		check "$d2:0 = stick2's image, by sha256" \
			test "$("$rxuctl" open -i "$d2:0" -- sha256sum)" = "$h2"
		head -c 4097 /dev/urandom >"$tmp/w4"
		"$rxuctl" open -o "$d2:0" -w -- dd bs=4097 seek=333333 oflag=seek_bytes status=none <"$tmp/w4"
		"$rxuctl" open -i "$d2:0" -- dd bs=4097 skip=333333 count=1 iflag=skip_bytes status=none >"$tmp/r4"
		check "4097 bytes written to $d2:0 at byte 333333 read back" cmp -s "$tmp/w4" "$tmp/r4"
		"$rxuctl" open -i "$d2:0" -- sh -c 'while dd bs=64k status=none >/dev/null; do :; done' \
			2>"$tmp/dd2.err" &
		ddp=$!
		sleep 1
		check "device_del stick2 (behind the hub)" "$mon" 'device_del stick2'
		ends_eio "$ddp" 60 "$tmp/dd2.err" "its reader"
		check "xhcid lives on" kill -0 "$XHCID_PID"
	else
		nok "stick2 behind the hub: usbscsid serves it"
		diag "$(tail -n 20 "$tmp/xhcid-second.log")"
		"$mon" 'device_del stick2' >/dev/null
	fi
fi
stop_chain
# Both sticks back, as the rig had them, for the scripts after this one.
sadd=$(awk '$1 == "device" && $2 == "stick" { print $8 }' "$topo")
check "device_add stick: back for the next script" "$mon" "device_add $sadd"
[ -n "$s2add" ] && "$mon" "device_add $s2add" >/dev/null
finish
