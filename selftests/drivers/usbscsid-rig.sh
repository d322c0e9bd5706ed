#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usbscsid-rig.sh - the hard cases of the whole chain on
# the USB rig: pcid gives the rig's xHCI to xhcid, xhcid spawns usbscsid for
# every Bulk-Only device, and devices are plugged on root port 2 (the
# keyboard's, unplugged meanwhile) through the QEMU monitor, each on an
# image of its own under $RXU_VM_OUT (a -blockdev made with QMP
# blockdev-add, which outlives device_del as the rig's own images do).
# Prints TAP.  Needs the rig (selftests/vm/run.sh -u MODEL:std), pcid and
# xhcid:
#
#   selftests/vm/run.sh -u qemu-xhci -k 6.12 -- selftests/drivers/usbscsid-rig.sh [redox_uring.ko]
#
# Cases: a usb-storage on a read-only drive: reported write-protected, an
# open for writing gives EROFS, rxu-nbd -r exports it read-only, nothing
# changes; on the real chain, fdisk, mkfs.ext4 and mount through /dev/nbd0,
# then the stick pulled (device_del) while ext4 writes: the writer gets an
# error, nothing hangs, pcid and xhcid live, and once it is plugged back the
# mount replays the journal, what was synced before the pull is intact and
# e2fsck -fn is clean; usbscsid SIGKILLed under a reader: the reader gets
# EIO, xhcid logs the exit, lives and restarts it (restart = 1), which
# serves the same bytes; killed again, xhcid gives up, and usbscsid
# started again by hand (docs/usbscsid.md) serves the same bytes; a usb-bot
# with two LUNs plugged: both served, each reads its own image; a
# removable medium taken out (ENOMEDIUM) and another put in (its size and
# bytes).
NAME=usbscsid-rig.sh
. "$(dirname "$0")/usbscsid-lib.sh"
. "$(dirname "$0")/usb-rig-lib.sh"
pcid=$top/build/userspace/pcid/pcid
xhcid=$top/build/userspace/xhcid/xhcid
mon=$top/selftests/vm/qemu-monitor
topo=/run/rxu-vm/usb-topology

if [ ! -x "$xhcid" ] || [ ! -x "$pcid" ] || [ ! -r "$topo" ] || [ -z "${RXU_VM_OUT:-}" ]; then
	n=$((n + 1))
	echo "ok $n - the chain's hard cases on the USB rig # SKIP no pcid/xhcid or no rig (-u)"
	finish
fi
need sha256sum cmp sfdisk fdisk mkfs.ext4 e2fsck nbd-client "$usbscsid" "$rxuctl" "$nbd"
load_module
modprobe nbd max_part=8

kbd=$(awk '$1 == "device" && $2 == "kbd" { print $8 }' "$topo")
s2=$(awk '$1 == "device" && $2 == "stick2" { print $8 }' "$topo")
img=$RXU_VM_OUT/usbscsid-rig.$$
mkdir -p "$img"

# done_rig: everything back as the rig had it, then finish.
done_rig() {
	diag "$(date +%T) done, cleaning up"
	cleanup
	diag "$(date +%T) daemons stopped"
	[ -n "$kbd" ] && "$mon" "device_add $kbd" >/dev/null
	[ -n "$s2" ] && "$mon" "device_add $s2" >/dev/null
	[ -n "${bdf:-}" ] && bind "" >/dev/null
	rm -rf "$img"
	finish
}

# qmp COMMAND ARGUMENTS_JSON: one QMP command to this QEMU.
qmp() { "$mon" -j "{\"execute\": \"$1\", \"arguments\": $2}" >/dev/null; }
# blk NODE FILE [ro]: FILE as the raw block node NODE of this QEMU.
blk() {
	_ro=false
	[ "${3:-}" = ro ] && _ro=true
	qmp blockdev-add "{\"driver\": \"raw\", \"node-name\": \"$1\", \"read-only\": $_ro, \"file\": {\"driver\": \"file\", \"filename\": \"$2\", \"read-only\": $_ro}}"
}
# mkimg FILE BYTES: random bytes, on the host's disk before QEMU opens it.
mkimg() { head -c "$2" /dev/urandom >"$1" && sync "$1"; }
# served PORT: how many times a usbscsid said it serves PORT's disk.
served() { grep -c "^usbscsid: serving disk\..*+$1-scsi:\$" "$tmp/log"; }
more_served() { [ "$(served "$1")" -gt "$2" ]; } # PORT COUNT
# driver_pid PORT: the pid of the last usbscsid xhcid started for PORT.
driver_pid() { sed -n "s/.* $1 interface 0: usbscsid started (pid \([0-9]*\)).*/\1/p" "$tmp/log" | tail -n 1; }
# plug PORT DEVICE_ADD_ARGS...: device_add each, wait for PORT's new disk.
plug() {
	_port=$1
	shift
	_was=$(served "$_port")
	for _a in "$@"; do "$mon" "$_a" >/dev/null || return 1; done
	wait_for 120 more_served "$_port" "$_was"
}
# unplug ID PORT: device_del; xhcid stops PORT's usbscsid (SIGTERM).
unplug() {
	_p=$(driver_pid "$2")
	"$mon" "device_del $1" >/dev/null &&
		wait_for 60 sh -c "! kill -0 ${_p:-0} 2>/dev/null"
}
lives() { kill -0 "$1" 2>/dev/null; }
# other_pid PORT PID: PORT's last usbscsid is another than PID.
other_pid() { _o=$(driver_pid "$1"); [ -n "$_o" ] && [ "$_o" != "$2" ]; }
# Every call through a ring is bounded here: a stuck usbscsid must fail a
# case, not hang the guest until the run's limit.
rd() { timeout 120 "$rxuctl" open -i "$1" -- cat; }
errof() { timeout 60 "$rxuctl" open "$@" -- true 2>&1 | sed 's/.*: //'; }
rx() { timeout 120 "$rxuctl" "$@"; } # rx open ...: rxuctl, bounded
since() { diag "$(date +%T) $*"; }
# nbd_down: /dev/nbd0 let go, rxu-nbd stopped (the daemons stay).
nbd_down() {
	timeout 30 nbd-client -d /dev/nbd0 >/dev/null 2>&1
	kill "$NBD_PID" 2>/dev/null
	wait "$NBD_PID" 2>/dev/null
}

rig_xhci
bdf=$addr
check "the rig's xHCI ($ids) is at ${bdf:-nowhere}" test -n "${bdf:-}"
[ -n "${bdf:-}" ] || done_rig

# Root port 2 is ours; stick2 (behind the hub) would only add a usbscsid.
[ -n "$kbd" ] && "$mon" 'device_del kbd' >/dev/null
[ -n "$s2" ] && "$mon" 'device_del stick2' >/dev/null
sleep 1

# pcid -> xhcid -> usbscsid, each by its rule.
mkdir -p "$tmp/pcid.d" "$tmp/xhcid.d"
printf '[xhci]\nvendor = 0x%s\ndevice = 0x%s\ncommand = %s --token-file %s --config %s $ADDR\nrestart = 0\n' \
	"${ids%:*}" "${ids#*:}" "$xhcid" "$tmp/token" "$tmp/xhcid.d" >"$tmp/pcid.d/xhci.conf"
printf '[usbscsid]\nclass = 0x08\nsubclass = 0x06\nprotocol = 0x50\ncommand = %s\nrestart = 1\n' \
	"$usbscsid" >"$tmp/xhcid.d/usbscsid.conf"
"$pcid" --config "$tmp/pcid.d" --state-dir "$tmp" >"$tmp/log" 2>&1 &
PCID_PID=$!
pids="$pids $PCID_PID"
if ! wait_for 120 more_served port1 0; then
	nok "pcid spawns xhcid, which spawns usbscsid for the stick"
	diag "$(tail -n 20 "$tmp/log")"
	done_rig
fi
ok "pcid spawns xhcid, which spawns usbscsid for the stick"
XHCID_PID=$(sed -n 's/.*started \[xhci\] .*, pid \([0-9]*\).*/\1/p' "$tmp/log" | head -n 1)
usb=$(sed -n 's/.*xhcid .*: serving \(usb\.[^:]*\):.*/\1/p' "$tmp/log" | head -n 1)
d1=disk.usb-$usb+port1-scsi
d2=disk.usb-$usb+port2-scsi
diag "xhcid pid ${XHCID_PID:-?} serves $usb:; the stick is $d1:, port 2's device $d2:"

since "a write-protected stick"
# --- a write-protected stick ---
mkimg "$img/ro.img" 5242880
hro=$(sha256sum <"$img/ro.img")
if blk rig-ro "$img/ro.img" ro &&
   plug port2 'device_add usb-storage,bus=xhci.0,port=2,id=wp,drive=rig-ro'; then
	ok "usb-storage on a read-only drive: usbscsid serves $d2:"
	check "reported write-protected (10240 blocks)" \
		grep -q 'LUN 0: .* 10240 blocks of 512, write-protected' "$tmp/log"
	check "opened for writing: EROFS" test "$(errof -o "$d2:0" -w)" = "Read-only file system"
	check "it reads: its image's sha256" test "$(rd "$d2:0" | sha256sum)" = "$hro"
	timeout 20 "$nbd" -1 "$tmp/rw.sock" "$d2:0" >"$tmp/nbd-rw.out" 2>&1
	check "rxu-nbd without -r refuses it: EROFS" grep -q 'Read-only file system' "$tmp/nbd-rw.out"
	if start_nbd -r "$tmp/ro.sock" "$d2:0" && connect "$tmp/ro.sock"; then
		check "rxu-nbd -r: /dev/nbd0 is read-only" test "$(cat /sys/block/nbd0/ro)" = 1
		check "a write to /dev/nbd0 fails" \
			sh -c "! dd if=/dev/zero of=/dev/nbd0 bs=4096 count=1 oflag=direct status=none 2>/dev/null"
		check "/dev/nbd0 has the image's sha256" test "$(sha256sum </dev/nbd0)" = "$hro"
		nbd_down
	else
		nok "rxu-nbd -r exports it as /dev/nbd0"
		diag "$(cat "$tmp/nbd.out" "$tmp/client.out" 2>/dev/null)"
	fi
	check "nothing changed: the image's sha256" test "$(sha256sum <"$img/ro.img")" = "$hro"
	check "device_del wp: usbscsid stopped" unplug wp port2
else
	nok "usb-storage on a read-only drive: usbscsid serves $d2:"
	tail -n 6 "$tmp/log" | sed 's/^/# /'
	"$mon" 'device_del wp' >/dev/null
	sleep 5
fi

since "ext4 and the pull"
# --- fdisk, mkfs.ext4, mount on the real chain; the stick pulled mid-write ---
truncate -s 24M "$img/fs.img"
sync "$img/fs.img"
fsadd='device_add usb-storage,bus=xhci.0,port=2,id=fsstick,drive=rig-fs'
# nbd_up: rxu-nbd on port 2's disk, /dev/nbd0 with 512-byte blocks
# (so that its partition table reads the same through Linux's sd).
nbd_up() { start_nbd "$tmp/fs.sock" "$d2:0" && nbd-client -unix "$tmp/fs.sock" /dev/nbd0 -b 512 >"$tmp/client.out" 2>&1; }
mkdir -p "$tmp/mnt"
if blk rig-fs "$img/fs.img" && plug port2 "$fsadd" && nbd_up; then
	ok "a 24 MiB stick on port 2 is /dev/nbd0 through rxu-nbd"
	printf 'label: dos\nstart=2048, type=83\n' | sfdisk -q /dev/nbd0 >/dev/null 2>&1
	wait_for 10 test -b /dev/nbd0p1
	check "sfdisk + fdisk -l: /dev/nbd0p1 from sector 2048" \
		sh -c "fdisk -l /dev/nbd0 | grep -q '^/dev/nbd0p1  *2048 '"
	check "mkfs.ext4 /dev/nbd0p1" mkfs.ext4 -q -F -b 4096 /dev/nbd0p1
	check "mount /dev/nbd0p1" mount -t ext4 /dev/nbd0p1 "$tmp/mnt"
	head -c 1048576 /dev/urandom >"$tmp/a"
	cp "$tmp/a" "$tmp/mnt/a" && sync
	check "a 1 MiB file written and synced" cmp -s "$tmp/a" "$tmp/mnt/a"
	# The pull: ext4 writes (and fsyncs) in a loop.
	sh -c "while dd if=/dev/urandom of='$tmp/mnt/b' bs=65536 count=32 conv=fsync status=none; do :; done" \
		2>"$tmp/wr.err" &
	wr=$!
	sleep 2
	check "device_del fsstick while ext4 writes" "$mon" 'device_del fsstick'
	ends_eio "$wr" 60 "$tmp/wr.err" "the writer"
	check "umount returns" timeout 60 umount "$tmp/mnt"
	nbd_down
	check "pcid lives on" lives "$PCID_PID"
	check "xhcid lives on" lives "${XHCID_PID:-0}"
	if plug port2 "$fsadd" && nbd_up && wait_for 10 test -b /dev/nbd0p1; then
		ok "plugged back: /dev/nbd0p1 again"
		dumpe2fs -h /dev/nbd0p1 2>/dev/null | grep -i '^Filesystem features' | sed 's/^/# after the pull: /'
		check "mount replays the journal" mount -t ext4 /dev/nbd0p1 "$tmp/mnt"
		check "the file synced before the pull is intact" cmp -s "$tmp/a" "$tmp/mnt/a"
		umount "$tmp/mnt"
		check "e2fsck -fn /dev/nbd0p1: clean" \
			sh -c "e2fsck -fn /dev/nbd0p1 >'$tmp/fsck.out' 2>&1"
		tail -n 1 "$tmp/fsck.out" | sed 's/^/# e2fsck: /'
		check "/dev/nbd0 = $d2:0, by sha256" \
			test "$(sha256sum </dev/nbd0)" = "$(rd "$d2:0" | sha256sum)"
		nbd_down
	else
		nok "plugged back: /dev/nbd0p1 again"
		diag "$(tail -n 10 "$tmp/log")"
	fi
	unplug fsstick port2
else
	nok "a 24 MiB stick on port 2 is /dev/nbd0 through rxu-nbd"
	diag "$(tail -n 10 "$tmp/log"; cat "$tmp/nbd.out" "$tmp/client.out" 2>/dev/null)"
fi

since "usbscsid SIGKILLed"
# --- usbscsid SIGKILLed under a reader: xhcid restarts it (the rule's
# restart = 1); SIGKILLed again: the limit is reached, and it is started
# again by hand ---
hs=$(rd "$d1:0" | sha256sum)
u=$(driver_pid port1)
"$rxuctl" open -i "$d1:0" -- sh -c 'while dd bs=256k status=none >/dev/null; do :; done' \
	2>"$tmp/dd.err" &
ddp=$!
sleep 2
[ -n "$u" ] && kill -9 "$u"
ends_eio "$ddp" 30 "$tmp/dd.err" "usbscsid (pid $u) SIGKILLed mid-dd: the reader"
check "xhcid logs its exit (status 137)" \
	wait_for 10 grep -q "port1: driver usbscsid (pid $u) exited (status 137)" "$tmp/log"
check "xhcid restarts it after 1 s (crash 1 of 1 allowed)" \
	wait_for 10 grep -q 'port1: driver usbscsid: restarting in 1000 ms (crash 1 of 1 allowed)' "$tmp/log"
u2=
wait_for 60 other_pid port1 "$u" && u2=$(driver_pid port1)
check "a new usbscsid (pid ${u2:-none}) for port1" test -n "$u2"
if [ -n "$u2" ] && wait_for 60 sh -c "'$rxuctl' open -i '$d1:0' -- true 2>/dev/null"; then
	ok "the restarted usbscsid serves $d1:"
	check "the same bytes (sha256)" test "$(rd "$d1:0" | sha256sum)" = "$hs"
else
	nok "the restarted usbscsid serves $d1:"
	diag "$(tail -n 10 "$tmp/log")"
fi
[ -n "$u2" ] && kill -9 "$u2"
check "SIGKILLed again: xhcid gives up (restart limit 1)" \
	wait_for 10 grep -q 'port1: driver usbscsid: 2 crash(es), restart limit 1: giving up' "$tmp/log"
check "xhcid lives on" lives "${XHCID_PID:-0}"
check "$d1: is gone" sh -c "! '$rxuctl' open -i '$d1:0' -- true 2>/dev/null"
XHCID_SCHEME=$usb XHCID_PORT=port1 XHCID_INTERFACE=0 XHCID_TOKEN=$(cat "$tmp/token") \
	"$usbscsid" >"$tmp/again.out" 2>&1 &
pids="$pids $!"
if wait_for 60 grep -q "^usbscsid: serving $d1:\$" "$tmp/again.out"; then
	ok "usbscsid started again with the admin token serves $d1:"
	check "the same bytes (sha256)" test "$(rd "$d1:0" | sha256sum)" = "$hs"
	head -c 4097 /dev/urandom >"$tmp/w"
	rx open -o "$d1:0" -w -- dd bs=4097 seek=99999 oflag=seek_bytes status=none <"$tmp/w"
	rx open -i "$d1:0" -- dd bs=4097 skip=99999 count=1 iflag=skip_bytes status=none >"$tmp/r"
	check "and writes (4097 bytes at 99999 read back)" cmp -s "$tmp/w" "$tmp/r"
else
	nok "usbscsid started again with the admin token serves $d1:"
	diag "$(cat "$tmp/again.out")"
fi
check "pcid lives on" lives "$PCID_PID"

since "a usb-bot with two LUNs"
# --- a usb-bot with two LUNs, plugged on port 2 ---
# A hot-plugged usb-bot stays detached until its "attached" property is
# set (after its scsi-hd are added).  QEMU then reports LUN 1's first
# unit attention as LOGICAL UNIT NOT SUPPORTED; usbscsid, whose INQUIRY
# found a unit there, asks again and serves both LUNs.
mkimg "$img/l0.img" 3145728
mkimg "$img/l1.img" 2097152
h0=$(sha256sum <"$img/l0.img")
h1=$(sha256sum <"$img/l1.img")
was=$(served port2)
if blk rig-l0 "$img/l0.img" && blk rig-l1 "$img/l1.img" &&
   "$mon" 'device_add usb-bot,bus=xhci.0,port=2,id=bot2' >/dev/null &&
   "$mon" 'device_add scsi-hd,bus=bot2.0,scsi-id=0,lun=0,drive=rig-l0' >/dev/null &&
   "$mon" 'device_add scsi-hd,bus=bot2.0,scsi-id=0,lun=1,drive=rig-l1' >/dev/null &&
   qmp qom-set '{"path": "/machine/peripheral/bot2", "property": "attached", "value": true}' &&
   wait_for 120 more_served port2 "$was"; then
	ok "usbscsid serves the two-LUN usb-bot ($d2:)"
	grep "^usbscsid: LUN" "$tmp/log" | tail -n 2 | sed 's/^/# /'
	list=$(rd "$d2:" | tr '\n' ,)
	check "its listing is LUN 0 and LUN 1 ($list)" test "$list" = "0,1,"
	check "LUN 0 reads its own image (sha256)" test "$(rd "$d2:0" | sha256sum)" = "$h0"
	check "LUN 1 reads its own image (sha256)" test "$(rd "$d2:1" | sha256sum)" = "$h1"
	check "xhcid lives on" lives "$XHCID_PID"
	unplug bot2 port2 || diag "bot2 did not go"
else
	nok "usbscsid serves the two-LUN usb-bot ($d2:)"
	diag "$(tail -n 20 "$tmp/log")"
fi

since "a removable medium taken out and changed"
# --- a removable medium: taken out (ENOMEDIUM), another put in ---
# A usb-bot with one removable scsi-hd on port 2; QMP opens its tray and
# removes the medium, then inserts a smaller one and closes the tray.
# usbscsid must answer ENOMEDIUM meanwhile, and then the new medium's
# bytes and size (the unit attention makes it probe again).
mkimg "$img/m1.img" 3145728
mkimg "$img/m2.img" 1048576
hm1=$(sha256sum <"$img/m1.img")
hm2=$(sha256sum <"$img/m2.img")
was=$(served port2)
if blk rig-m1 "$img/m1.img" && blk rig-m2 "$img/m2.img" &&
   "$mon" 'device_add usb-bot,bus=xhci.0,port=2,id=bot3' >/dev/null &&
   "$mon" 'device_add scsi-hd,bus=bot3.0,scsi-id=0,lun=0,drive=rig-m1,removable=on,id=rm0' >/dev/null &&
   qmp qom-set '{"path": "/machine/peripheral/bot3", "property": "attached", "value": true}' &&
   wait_for 120 more_served port2 "$was"; then
	ok "usbscsid serves the removable disk ($d2:)"
	check "it reads the first medium (sha256)" test "$(rd "$d2:0" | sha256sum)" = "$hm1"
	if qmp blockdev-open-tray '{"id": "rm0", "force": true}' &&
	   qmp blockdev-remove-medium '{"id": "rm0"}'; then
		ok "QMP: tray opened, medium removed"
		e=$(timeout 60 "$rxuctl" open -i "$d2:0" -- dd bs=4096 count=1 of=/dev/null 2>&1 | sed -n 's/.*: //p' | tail -n 1)
		check "a read without a medium: ENOMEDIUM ($e)" test "$e" = "No medium found"
	else
		nok "QMP: tray opened, medium removed"
	fi
	if qmp blockdev-insert-medium '{"id": "rm0", "node-name": "rig-m2"}' &&
	   qmp blockdev-close-tray '{"id": "rm0"}'; then
		ok "QMP: another medium inserted, tray closed"
		check "FSTAT gives the new medium's size (1048576)" \
			test "$(fstat_size "$d2:0")" = 1048576
		check "it reads the new medium (sha256)" test "$(rd "$d2:0" | sha256sum)" = "$hm2"
	else
		nok "QMP: another medium inserted, tray closed"
	fi
	check "xhcid lives on" lives "$XHCID_PID"
	unplug bot3 port2 || diag "bot3 did not go"
else
	nok "usbscsid serves the removable disk ($d2:)"
	diag "$(tail -n 20 "$tmp/log")"
fi

check "pcid lives on" lives "$PCID_PID"
grep -E 'reset|stall|exited' "$tmp/log" "$tmp/again.out" | sed 's/^/# /'
done_rig
