#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usbscsid-luns.sh - one Bulk-Only device with two LUNs,
# both with a unit, on the USB rig's "luns" topology: a usb-bot attached
# from boot whose SCSI bus holds stick.img as LUN 0 and stick2.img as
# LUN 1.  xhcid drives the rig's xHCI through VFIO and spawns usbscsid by
# its rule; the two LUNs are read and written through disk: and then
# through Linux's own xhci_hcd + usb-storage (two sd disks) on the same
# images.  Prints TAP.  Needs the rig (selftests/vm/run.sh -u MODEL:luns):
#
#   selftests/vm/run.sh -u qemu-xhci:luns -k 6.12 -- selftests/drivers/usbscsid-luns.sh [redox_uring.ko]
#
# Cases: Get Max LUN gives two LUNs and usbscsid serves both (its log,
# the listing "0 1", FSTAT of each); each LUN reads its own image by hash
# and by the markers at its first and last LBA; an unaligned write to
# LUN 1 reads back and leaves LUN 0 alone (and the reverse); LUN 2 is
# ENOENT; Linux's usb-storage then finds the same two LUNs and reads what
# disk: wrote, and a write through Linux reads back through disk:; a CBW
# spoiled on purpose (USBSCSID_SPOIL_CBW) is stalled by QEMU's device and
# reset recovery brings it back, the reads around it intact.
NAME=usbscsid-luns.sh
. "$(dirname "$0")/usbscsid-lib.sh"
xhcid=$top/build/userspace/xhcid/xhcid
topo=/run/rxu-vm/usb-topology

if [ ! -x "$xhcid" ] || ! grep -q '^lun ' "$topo" 2>/dev/null; then
	n=$((n + 1))
	echo "ok $n - two LUNs on the USB rig # SKIP no xhcid or no rig of topology luns (-u MODEL:luns)"
	finish
fi
need sha256sum cmp "$usbscsid" "$rxuctl" "$nbd"
load_module

rig_xhci
check "the rig's xHCI ($ids) is at ${addr:-nowhere}" test -n "$addr"
[ -n "$addr" ] || finish
. "$(dirname "$0")/pci-bind.sh"
bind() { pci_bind "$addr" "$1"; } # DRIVER

# img_of LUN, size_of LUN: the image behind a LUN of the bot, in the guest.
img_of() {
	_node=$(awk -v l="$1" '$1 == "lun" && $4 == l { print $3 }' "$topo")
	awk -v n="$_node" '$1 == "image" && $2 == n { print $3 }' "$topo"
}
size_of() { stat -c %s "$(img_of "$1")"; }
s0=$(size_of 0)
s1=$(size_of 1)
h0=$(sha256sum <"$(img_of 0)")
h1=$(sha256sum <"$(img_of 1)")
diag "LUN 0: $(img_of 0) ($s0 bytes); LUN 1: $(img_of 1) ($s1 bytes)"

conf=$tmp/xhcid.d
mkdir -p "$conf"
printf '[usbscsid]\nclass = 0x08\nsubclass = 0x06\nprotocol = 0x50\ncommand = %s\n' \
	"$usbscsid" >"$conf/usbscsid.conf"
# start_xhcid LOG [VAR=VALUE...]: the controller to vfio-pci, xhcid on it
# (its environment, and so its usbscsid's, with the VARs), XHCID_PID; 0
# once usbscsid serves disk:.
start_xhcid() {
	_log=$1
	shift
	bind vfio-pci || return 1
	env "$@" "$xhcid" --vfio "$addr" --config "$conf" --token-file "$tmp/token" \
		>"$_log" 2>&1 &
	XHCID_PID=$!
	pids="$pids $XHCID_PID"
	wait_for 120 grep -q '^usbscsid: serving disk:$' "$_log"
}
stop_xhcid() {
	kill "$XHCID_PID"
	wait "$XHCID_PID" 2>/dev/null
}
if ! start_xhcid "$tmp/xhcid.log"; then
	nok "xhcid spawns usbscsid for the two-LUN bot, which serves disk:"
	diag "$(tail -n 20 "$tmp/xhcid.log")"
	bind ""
	finish
fi
ok "xhcid spawns usbscsid for the two-LUN bot, which serves disk:"
grep '^usbscsid: LUN' "$tmp/xhcid.log" | sed 's/^/# /'
check "usbscsid found LUN 0 ($((s0 / 512)) blocks of 512)" \
	grep -q "^usbscsid: LUN 0: .* $((s0 / 512)) blocks of 512" "$tmp/xhcid.log"
check "and LUN 1 ($((s1 / 512)) blocks of 512)" \
	grep -q "^usbscsid: LUN 1: .* $((s1 / 512)) blocks of 512" "$tmp/xhcid.log"
check "the listing of disk: is \"0 1\"" test "$(rd disk: | tr '\n' ' ')" = "0 1 "
check "FSTAT of disk:0 gives $s0" test "$(fstat_size disk:0)" = "$s0"
check "FSTAT of disk:1 gives $s1" test "$(fstat_size disk:1)" = "$s1"
check "disk:2 is ENOENT" test "$(errof -i disk:2)" = "No such file or directory"

# marker LUN: the text run.sh wrote at the first and the last LBA.
marker() {
	_s=$(size_of "$1")
	printf '%s|%s' \
		"$(rd "disk:$1" | head -c 64 | tr -d '\0')" \
		"$("$rxuctl" open -i "disk:$1" -- dd bs=512 skip=$((_s / 512 - 1)) count=1 status=none | tr -d '\0')"
}
for l in 0 1; do
	node=$(basename "$(img_of "$l")" .img)
	check "disk:$l has ${node}'s markers at LBA 0 and its last LBA" \
		test "$(marker "$l")" = "rxu-vm $node lba 0|rxu-vm $node lba $(($(size_of "$l") / 512 - 1))"
done
check "disk:0 = LUN 0's image, by sha256" test "$(rd disk:0 | sha256sum)" = "$h0"
check "disk:1 = LUN 1's image, by sha256" test "$(rd disk:1 | sha256sum)" = "$h1"

# An unaligned write on each LUN: it reads back there, the other LUN is
# untouched (its hash), and both still read whole.
# write_lun LUN BYTES AT OTHER OTHER_HASH: random bytes at byte AT of
# disk:LUN ($tmp/wLUN keeps them).
write_lun() {
	head -c "$2" /dev/urandom >"$tmp/w$1"
	"$rxuctl" open -o "disk:$1" -w -- dd bs="$2" seek="$3" oflag=seek_bytes status=none <"$tmp/w$1"
	"$rxuctl" open -i "disk:$1" -- dd bs="$2" skip="$3" count=1 iflag=skip_bytes status=none >"$tmp/r$1"
	check "$2 bytes written to disk:$1 at byte $3 read back" cmp -s "$tmp/w$1" "$tmp/r$1"
	check "disk:$4 is unchanged (sha256)" test "$(rd "disk:$4" | sha256sum)" = "$5"
	check "disk:$1 still reads whole ($(size_of "$1") bytes)" \
		test "$(rd "disk:$1" | wc -c)" = "$(size_of "$1")"
}
write_lun 1 5000 77777 0 "$h0"
h1=$(rd disk:1 | sha256sum)
write_lun 0 3000 4097 1 "$h1"
h0=$(rd disk:0 | sha256sum)

# Each LUN as a block device too: rxu-nbd on LUN 1 while LUN 0 is read.
modprobe nbd max_part=8
if start_nbd -r "$tmp/l1.sock" disk:1 && connect "$tmp/l1.sock"; then
	rd disk:0 | sha256sum >"$tmp/h0" &
	reader=$!
	check "/dev/nbd0 (rxu-nbd -r disk:1) = disk:1, by sha256, while disk:0 is read" \
		test "$(sha256sum </dev/nbd0)" = "$h1"
	wait "$reader"
	check "and that read of disk:0 is right too" test "$(cat "$tmp/h0")" = "$h0"
	timeout 30 nbd-client -d /dev/nbd0 >/dev/null 2>&1
	kill "$NBD_PID" 2>/dev/null
	wait "$NBD_PID" 2>/dev/null
else
	nok "rxu-nbd -r exports disk:1 as /dev/nbd0"
	diag "$(cat "$tmp/nbd.out" "$tmp/client.out" 2>/dev/null)"
fi
check "xhcid lives on" kill -0 "$XHCID_PID"
stop_xhcid

# linux_lun LUN: /dev/sdX of that LUN of the bot, once xhci_hcd has it.
linux_lun() {
	for _b in /sys/block/sd*; do
		[ -e "$_b/device" ] || continue
		_p=$(readlink -f "$_b/device")
		case $_p in
		*"/$addr/"*:"$1") echo "/dev/${_b##*/}"; return 0 ;;
		esac
	done
	return 1
}
both() { linux_lun 0 >/dev/null && linux_lun 1 >/dev/null; }
modprobe -a xhci_pci usb_storage sd_mod 2>/dev/null
bind xhci_pci >/dev/null 2>&1 || bind xhci_hcd >/dev/null 2>&1
if wait_for 60 both; then
	sd0=$(linux_lun 0)
	sd1=$(linux_lun 1)
	ok "Linux's usb-storage sees the two LUNs as $sd0 and $sd1"
	check "$sd0 = disk:0 as usbscsid left it, by sha256" test "$(sha256sum <"$sd0")" = "$h0"
	dd if="$sd1" bs=5000 skip=77777 count=1 iflag=skip_bytes status=none >"$tmp/r1l"
	check "$sd1 reads the 5000 bytes disk:1 wrote" cmp -s "$tmp/w1" "$tmp/r1l"
	head -c 8192 /dev/urandom >"$tmp/w2"
	dd if="$tmp/w2" of="$sd1" bs=8192 seek=123 conv=fsync,notrunc status=none
	sync
	if start_xhcid "$tmp/xhcid2.log"; then
		"$rxuctl" open -i disk:1 -- dd bs=8192 skip=123 count=1 status=none >"$tmp/r2"
		check "8 KiB Linux wrote to $sd1 read back through disk:1" cmp -s "$tmp/w2" "$tmp/r2"
		check "disk:0 is still what Linux read (sha256)" test "$(rd disk:0 | sha256sum)" = "$h0"
	else
		nok "the chain comes back after Linux: disk: served again"
		diag "$(tail -n 20 "$tmp/xhcid2.log")"
	fi
	stop_xhcid
else
	nok "Linux's usb-storage sees the two LUNs"
	ls -l /sys/block/ | sed 's/^/# /'
fi

# A stalled bulk endpoint on QEMU's own device: usbscsid's test hook
# sends the CBW of command 30 with a wrong signature, which the device
# refuses by stalling bulk OUT (BOT 6.6.1).  Reset recovery (Bulk-Only
# reset, CLEAR_FEATURE(HALT) on IN and OUT, each endpoint reset in the
# xHCI by xhcid) must bring it back, and the command run again.
if start_xhcid "$tmp/xhcid3.log" USBSCSID_SPOIL_CBW=30; then
	bad=0
	for i in 1 2 3 4 5 6; do
		[ "$(rd disk:0 | sha256sum)" = "$h0" ] || bad=$((bad + 1))
		grep -q '^usbscsid: reset recovery' "$tmp/xhcid3.log" && break
	done
	grep '^usbscsid: reset recovery' "$tmp/xhcid3.log" | sed 's/^/# /'
	check "CBW 30 spoiled: QEMU stalls it and usbscsid recovers (reset recovery, once)" \
		test "$(grep -c '^usbscsid: reset recovery' "$tmp/xhcid3.log")" = 1
	check "every whole read of disk:0 around it is its image ($i reads, $bad wrong)" test "$bad" = 0
	check "disk:0 reads its image once more" test "$(rd disk:0 | sha256sum)" = "$h0"
	check "and disk:1 its own" test "$(rd disk:1 | wc -c)" = "$s1"
	check "xhcid lives on" kill -0 "$XHCID_PID"
	stop_xhcid
else
	nok "xhcid and usbscsid with USBSCSID_SPOIL_CBW=30 serve disk:"
	diag "$(tail -n 20 "$tmp/xhcid3.log")"
fi
bind "" >/dev/null 2>&1
finish
