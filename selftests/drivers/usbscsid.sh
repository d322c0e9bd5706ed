#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usbscsid.sh - usbscsid's disk: scheme in a guest,
# over its simulated Bulk-Only device (usbscsid --sim: image files, the
# same BOT and SCSI code that drives a stick).  Prints TAP.
#
#   selftests/vm/run.sh -k 6.12 -- selftests/drivers/usbscsid.sh [redox_uring.ko]
#
# Cases: the listing; two LUNs read whole and compared by hash (cmp,
# sha256sum) with their images; large reads answered zero-copy (pages
# pinned and released); FSTAT size; unaligned writes through
# disk: land in the image and unaligned reads match it; FSYNC; the end of
# the medium (0 bytes, ENOSPC); malformed paths and opens with their
# errors; a write-protected stick (EROFS); an ext4 image mounted through
# rxu-nbd as /dev/nbd0, written, fsck clean; usbscsid killed mid-dd (the
# reader gets EIO, nothing hangs) and restarted.
NAME=usbscsid.sh
. "$(dirname "$0")/usbscsid-lib.sh"

start_usbscsid() { # TAG ARGS...
	_tag=$1
	shift
	"$usbscsid" "$@" >"$tmp/u-$_tag.out" 2>&1 &
	U_PID=$!
	pids="$pids $U_PID"
	wait_for 20 grep -q "^usbscsid: serving .*:\$" "$tmp/u-$_tag.out" ||
		{ diag "$(cat "$tmp/u-$_tag.out")"; return 1; }
	sleep 0.2	# both names
}

need python3 sha256sum mkfs.ext4 e2fsck debugfs nbd-client "$usbscsid" "$nbd" "$rxuctl"
load_module

# LUN 0: an ext4 file system with a file; LUN 1: random bytes.
head -c 8388608 /dev/zero >"$tmp/lun0.img"
mkfs.ext4 -q -F -b 4096 "$tmp/lun0.img"	# nbd-client -b 4096
mkdir -p "$tmp/mnt" "$tmp/src"
echo "hello from a USB stick, through usbscsid" >"$tmp/src/hello"
e2fsck -fy "$tmp/lun0.img" >/dev/null 2>&1
debugfs -w -R "write $tmp/src/hello hello" "$tmp/lun0.img" >/dev/null 2>&1
head -c 4194304 /dev/urandom >"$tmp/lun1.img"
cp "$tmp/lun1.img" "$tmp/lun1.orig"

if ! start_usbscsid two --sim "$tmp/lun0.img,$tmp/lun1.img"; then
	nok "usbscsid --sim serves two LUNs"
	finish
fi
ok "usbscsid --sim serves two LUNs ($(grep -c 'LUN' "$tmp/u-two.out") probed)"
check "it also serves disk:" grep -q '^usbscsid: serving disk:$' "$tmp/u-two.out"
check "the listing is \"0\\n1\\n\"" test "$(rd disk: | tr '\n' ,)" = "0,1,"
check "disk:0 and disk.sim:0 are the same LUN" \
	test "$(rd disk.sim:0 | sha256sum)" = "$(rd disk:0 | sha256sum)"
check "sha256sum of disk:0 = the image's" \
	test "$(rd disk:0 | sha256sum)" = "$(sha256sum <"$tmp/lun0.img")"
check "cmp disk:1 with its image" sh -c "'$rxuctl' open -i disk:1 -- cmp - '$tmp/lun1.img'"
check "dd if=disk:1 bs=4k (through rxuctl open) = the image" \
	sh -c "'$rxuctl' open -i disk:1 -- dd bs=4k status=none | cmp - '$tmp/lun1.img'"
# Zero-copy answers pin the reader's pages for the kernel's one copy.
set -- $(pins)
pin_a=$1 pin_r=$2
check "dd if=disk:1 bs=256k = the image" \
	sh -c "'$rxuctl' open -i disk:1 -- dd bs=256k status=none | cmp - '$tmp/lun1.img'"
set -- $(pins)
check "its reads were answered zero-copy: $(($1 - pin_a)) pages pinned, at least the image's 1024" \
	test $(($1 - pin_a)) -ge 1024
check "and every pin was released ($(($2 - pin_r)) of $(($1 - pin_a)))" \
	test $(($2 - pin_r)) -eq $(($1 - pin_a))
check "FSTAT st_size of disk:1 is 4194304" test "$(fstat_size disk:1)" = 4194304
check "FSTAT st_size of disk:0 is 8388608" test "$(fstat_size disk:0)" = 8388608

# Unaligned writes through disk: are in the image (read through Linux).
printf 'ABCDEFG' | "$rxuctl" open -o disk:1 -w -- dd bs=1 seek=1000001 status=none
printf 'ABCDEFG' | dd of="$tmp/lun1.orig" bs=1 seek=1000001 conv=notrunc status=none
head -c 70000 /dev/urandom >"$tmp/chunk"
"$rxuctl" open -o disk:1 -w -- dd bs=70000 seek=1 oflag=seek_bytes status=none <"$tmp/chunk"
dd if="$tmp/chunk" of="$tmp/lun1.orig" bs=70000 seek=1 oflag=seek_bytes conv=notrunc status=none
check "7 bytes at 1000001 and 70000 bytes at 1, written through disk:1, are in the image" \
	cmp -s "$tmp/lun1.img" "$tmp/lun1.orig"
got=$("$rxuctl" open -i disk:1 -- dd bs=1 skip=999999 count=10 status=none | od -An -c | tr -d ' \n')
want=$(dd if="$tmp/lun1.orig" bs=1 skip=999999 count=10 status=none | od -An -c | tr -d ' \n')
check "an unaligned 10-byte read across them matches ($got)" test "$got" = "$want"
check "FSYNC (SYNCHRONIZE CACHE) on disk:1 succeeds" \
	"$rxuctl" open -o disk:1 -w -- python3 -c 'import os; os.fsync(1)'
end=$("$rxuctl" open -i disk:1 -- python3 -c 'import os; print(len(os.pread(0, 4096, 4194304 - 100)), len(os.pread(0, 10, 4194304)))')
check "reads at the end: 100 bytes short, then 0 ($end)" test "$end" = "100 0"
e=$("$rxuctl" open -o disk:1 -w -- python3 -c '
import os, sys
try:
    os.pwrite(1, b"x", 4194304)
except OSError as e:
    print(e.strerror, file=sys.stderr)' 2>&1)
check "a write at the end: ENOSPC ($e)" test "$e" = "No space left on device"

# Malformed paths and opens.
check "disk:2 (no such LUN): ENOENT" test "$(errof -i disk:2)" = "No such file or directory"
check "disk:00: ENOENT" test "$(errof -i disk:00)" = "No such file or directory"
check "disk:x: ENOENT" test "$(errof -i disk:x)" = "No such file or directory"
check "disk:0/p1 (no partitions): ENOENT" test "$(errof -i disk:0/p1)" = "No such file or directory"
check "disk: opened for writing: EISDIR" test "$(errof -o disk: -w)" = "Is a directory"
check "disk:/1 (a leading /) is LUN 1" test "$(rd disk:/1 | sha256sum)" = "$(sha256sum <"$tmp/lun1.img")"

# The ext4 LUN as a block device.
modprobe nbd max_part=8
if start_nbd -1 "$tmp/sock" disk:0 && connect "$tmp/sock" &&
   test "$(cat /sys/block/nbd0/size)" = 16384; then
	ok "disk:0 is /dev/nbd0 through rxu-nbd (16384 sectors)"
	check "mount /dev/nbd0" mount -t ext4 /dev/nbd0 "$tmp/mnt"
	check "the file made at build time reads back" \
		grep -q "hello from a USB stick" "$tmp/mnt/hello"
	head -c 1000000 /dev/urandom >"$tmp/f"
	cp "$tmp/f" "$tmp/mnt/f"
	check "umount after writing 1 MB" umount "$tmp/mnt"
	nbd-client -d /dev/nbd0 >/dev/null 2>&1
	wait_for 10 sh -c "! kill -0 $NBD_PID 2>/dev/null"
	check "the 1 MB file is in the image (debugfs, through Linux)" \
		sh -c "debugfs -R 'cat f' '$tmp/lun0.img' 2>/dev/null | cmp -s - '$tmp/f'"
	check "e2fsck -fn of the image: clean" e2fsck -fn "$tmp/lun0.img"
else
	nok "disk:0 is /dev/nbd0 through rxu-nbd"
	diag "$(cat "$tmp/client.out" "$tmp/nbd.out")"
fi

# usbscsid killed under a reader, then restarted.
"$rxuctl" open -i disk:1 -- sh -c 'while dd bs=4k status=none >/dev/null; do :; done; exit 7' \
	2>"$tmp/dd.err" &
ddp=$!
sleep 0.5
kill -9 "$U_PID"
if wait_for 20 sh -c "! kill -0 $ddp 2>/dev/null"; then
	wait "$ddp"
	check "usbscsid killed mid-dd: the reader ends with an error ($(head -n 1 "$tmp/dd.err"))" \
		grep -q 'Input/output error' "$tmp/dd.err"
else
	nok "usbscsid killed mid-dd: the reader ends (it hangs)"
	kill -9 "$ddp"
fi
if start_usbscsid again --sim "$tmp/lun0.img,$tmp/lun1.img"; then
	ok "usbscsid restarts on the same images"
	check "and disk:1 reads as before" sh -c "'$rxuctl' open -i disk:1 -- cmp - '$tmp/lun1.orig'"
	kill "$U_PID"
else
	nok "usbscsid restarts on the same images"
fi

# A write-protected stick (descriptor-format sense as well).
cp "$tmp/lun1.orig" "$tmp/ro.img"
if start_usbscsid ro --scheme diskro --sim-ro --sim-descriptor-sense --sim "$tmp/ro.img"; then
	ok "a write-protected stick is served (diskro:)"
	check "it is reported write-protected" grep -q 'write-protected' "$tmp/u-ro.out"
	check "diskro:0 opened for writing: EROFS" test "$(errof -o diskro:0 -w)" = "Read-only file system"
	check "diskro:0 reads" sh -c "'$rxuctl' open -i diskro:0 -- cmp - '$tmp/ro.img'"
	check "FSTAT st_size of diskro:0 is 4194304" test "$(fstat_size diskro:0)" = 4194304
else
	nok "a write-protected stick is served (diskro:)"
fi
finish
