#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usbscsid-nbd.sh - a scheme file as a Linux block
# device: rxu-nbd serves memd's mem: ramdisk over NBD on a UNIX socket,
# Debian's nbd-client hands it to the kernel's nbd driver, and Linux's own
# tools use it.  Prints TAP.  Runs in any guest (no VFIO needed):
#
#   selftests/vm/run.sh -k 6.12 -- selftests/drivers/usbscsid-nbd.sh [redox_uring.ko]
#
# Cases: the export's size as the kernel sees it; bytes written to
# /dev/nbd0 read back through the scheme and the reverse; a partition
# table (sfdisk), mkfs.ext4 on the partition, mount, a file written and
# read back after a remount, e2fsck clean; a read-only export refuses
# writes; disconnect ends rxu-nbd cleanly; memd killed under a reader:
# the reader gets an I/O error and nothing hangs; before the module is
# loaded, rxu-nbd names /dev/redox_uring as what is missing.
NAME=usbscsid-nbd.sh
. "$(dirname "$0")/usbscsid-lib.sh"

start_memd() { # NAME SIZE_MB
	"$memd" -f -n "$1" -s "$2" >"$tmp/memd-$1.out" 2>&1 &
	MEMD_PID=$!
	pids="$pids $MEMD_PID"
	wait_for 10 grep -q "^memd: serving $1:\$" "$tmp/memd-$1.out"
}

need nbd-client sfdisk mkfs.ext4 e2fsck "$memd" "$nbd" "$rxuctl"
# Before the module is in: rxu-nbd blames the missing device, not PATH.
if [ ! -e /dev/redox_uring ]; then
	timeout 10 "$nbd" -1 "$tmp/nomod.sock" disk:0 >"$tmp/nomod.out" 2>&1
	check "without the module, rxu-nbd names /dev/redox_uring ($(head -n 1 "$tmp/nomod.out"))" \
		grep -q '^rxu-nbd: /dev/redox_uring (is the redox_uring module loaded?): No such file or directory$' "$tmp/nomod.out"
fi
load_module
check "modprobe nbd max_part=8" modprobe nbd max_part=8

if ! start_memd nbdmem 64; then
	nok "memd serves nbdmem: (64 MiB)"
	diag "$(cat "$tmp/memd-nbdmem.out")"
	finish
fi
ok "memd serves nbdmem: (64 MiB)"
if ! start_nbd "$tmp/sock" nbdmem:; then
	nok "rxu-nbd serves nbdmem: on a UNIX socket"
	diag "$(cat "$tmp/nbd.out")"
	finish
fi
ok "rxu-nbd serves nbdmem: on a UNIX socket ($(cat "$tmp/nbd.out"))"
if ! connect "$tmp/sock"; then
	nok "nbd-client connects /dev/nbd0"
	diag "$(cat "$tmp/client.out") / $(cat "$tmp/nbd.out")"
	finish
fi
ok "nbd-client connects /dev/nbd0"
check "/dev/nbd0 is 64 MiB (131072 sectors)" \
	test "$(cat /sys/block/nbd0/size)" = 131072

# Linux writes, the scheme reads; the scheme writes, Linux reads.
head -c 1048576 /dev/urandom >"$tmp/a"
head -c 1048576 /dev/urandom >"$tmp/b"
dd if="$tmp/a" of=/dev/nbd0 bs=64k seek=16 oflag=direct conv=fsync status=none
"$rxuctl" open -i nbdmem: -- dd bs=64k skip=16 count=16 status=none >"$tmp/a.back"
check "1 MiB written to /dev/nbd0 at 1 MiB is in nbdmem: (read through the ring)" \
	cmp -s "$tmp/a" "$tmp/a.back"
"$rxuctl" open -o nbdmem: -w -- dd bs=64k seek=48 status=none <"$tmp/b"
dd if=/dev/nbd0 bs=64k skip=48 count=16 iflag=direct status=none >"$tmp/b.back"
check "1 MiB written through the ring at 3 MiB is what /dev/nbd0 reads" \
	cmp -s "$tmp/b" "$tmp/b.back"
# unaligned through the block device (the page cache does the rest)
printf 'unaligned-%s' "$$" | dd of=/dev/nbd0 bs=1 seek=4097 conv=notrunc,fsync status=none
got=$("$rxuctl" open -i nbdmem: -- dd bs=1 skip=4097 count=$((10 + ${#$})) status=none 2>/dev/null)
check "an unaligned write to /dev/nbd0 is in nbdmem: ($got)" test "$got" = "unaligned-$$"

# A partition table, a file system on the partition, a file in it.
printf 'label: dos\nstart=2048, type=83\n' | sfdisk -q /dev/nbd0 >"$tmp/sfdisk.out" 2>&1
wait_for 5 test -b /dev/nbd0p1
check "sfdisk writes a partition table, /dev/nbd0p1 appears" test -b /dev/nbd0p1
check "mkfs.ext4 /dev/nbd0p1" mkfs.ext4 -q -F /dev/nbd0p1
mkdir -p "$tmp/mnt"
check "mount /dev/nbd0p1" mount -t ext4 /dev/nbd0p1 "$tmp/mnt"
head -c 3000000 /dev/urandom >"$tmp/file"
cp "$tmp/file" "$tmp/mnt/file" && echo "hello from mem: over nbd" >"$tmp/mnt/hello"
sync
check "umount" umount "$tmp/mnt"
check "e2fsck -fn clean" e2fsck -fn /dev/nbd0p1
echo 3 >/proc/sys/vm/drop_caches
mount -t ext4 -o ro /dev/nbd0p1 "$tmp/mnt"
check "after a remount the 3 MB file reads back" cmp -s "$tmp/file" "$tmp/mnt/file"
check "and so does hello" grep -q "hello from mem: over nbd" "$tmp/mnt/hello"
umount "$tmp/mnt"

check "nbd-client -d disconnects" nbd-client -d /dev/nbd0
kill "$NBD_PID" 2>/dev/null
wait "$NBD_PID" 2>/dev/null
grep -q 'disconnected:' "$tmp/nbd.out"
check "rxu-nbd saw the disconnect ($(grep disconnected "$tmp/nbd.out" | head -n 1))" \
	grep -q 'disconnected: .* 0 errors' "$tmp/nbd.out"

# Read-only: the kernel is told, and a write is refused.
if start_nbd -r -1 "$tmp/sock" nbdmem: && connect "$tmp/sock"; then
	ok "a read-only export connects"
	check "/sys/block/nbd0/ro is 1" test "$(cat /sys/block/nbd0/ro)" = 1
	if dd if=/dev/zero of=/dev/nbd0 bs=4k count=1 oflag=direct status=none 2>"$tmp/ro.err"; then
		nok "a write to the read-only /dev/nbd0 fails"
	else
		ok "a write to the read-only /dev/nbd0 fails ($(head -n 1 "$tmp/ro.err"))"
	fi
	nbd-client -d /dev/nbd0 >/dev/null 2>&1
	check "rxu-nbd -1 exits after its connection" wait_for 10 sh -c "! kill -0 $NBD_PID 2>/dev/null"
else
	nok "a read-only export connects"
fi

# The provider dies under a reader: EIO, no hang, the device goes on
# answering (errors) until disconnected.
if start_nbd -1 "$tmp/sock" nbdmem: && connect "$tmp/sock"; then
	dd if=/dev/nbd0 of=/dev/null bs=64k iflag=direct status=none 2>"$tmp/dd.err" &
	ddp=$!
	sleep 0.5
	kill -9 "$MEMD_PID"
	wait_for 30 sh -c "! kill -0 $ddp 2>/dev/null"
	if kill -0 "$ddp" 2>/dev/null; then
		nok "memd killed under dd: dd ends (it hangs)"
		kill -9 "$ddp"
	else
		wait "$ddp"
		rc=$?
		check "memd killed under dd: dd fails (status $rc: $(head -n 1 "$tmp/dd.err"))" \
			test "$rc" -ne 0
	fi
	check "and rxu-nbd lives on to be disconnected" kill -0 "$NBD_PID"
	nbd-client -d /dev/nbd0 >/dev/null 2>&1
else
	nok "export for the kill test connects"
fi
finish
