#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usbscsid-ublk.sh - a scheme file as a Linux block
# device through ublk_drv: rxu-ublk serves memd's mem: ramdisk as
# /dev/ublkbN, and Linux's own tools use it.  Prints TAP.  Runs in any
# guest whose kernel has ublk_drv (6.12; elsewhere one SKIP):
#
#   selftests/vm/run.sh -k 6.12 -- selftests/drivers/usbscsid-ublk.sh [redox_uring.ko]
#
# Cases: the device's size as the kernel sees it; the sha256 of bytes
# written through the ring is that of /dev/ublkbN read back, and bytes
# written to /dev/ublkbN read back through the ring; mkfs.ext4, mount, a
# file written and read back after a remount, e2fsck clean, FLUSH reached
# the ring; SIGTERM takes the device away (exit 0, no /dev/ublkbN, no
# /sys/block/ublkbN); -r makes it read-only (getro 1, writes fail); a bad
# path is a clear error; memd killed under a reader: the reader gets an
# I/O error, nothing hangs, and rxu-ublk still stops cleanly.
NAME=usbscsid-ublk.sh
. "$(dirname "$0")/usbscsid-lib.sh"
ublk=$top/build/userspace/tools/rxu-ublk

if ! modprobe ublk_drv >"$tmp/modprobe.out" 2>&1; then
	echo "ok 1 # SKIP modprobe ublk_drv failed: $(head -n 1 "$tmp/modprobe.out")"
	echo "1..1"
	rm -rf "$tmp"
	exit 0
fi

start_memd() { # NAME SIZE_MB
	"$memd" -f -n "$1" -s "$2" >"$tmp/memd-$1.out" 2>&1 &
	MEMD_PID=$!
	pids="$pids $MEMD_PID"
	wait_for 10 grep -q "^memd: serving $1:\$" "$tmp/memd-$1.out"
}

# start_ublk ARGS...: rxu-ublk in the background, UBLK_PID; 0 once it
# printed its device, then in DEV.
start_ublk() {
	"$ublk" "$@" >"$tmp/ublk.dev" 2>"$tmp/ublk.err" &
	UBLK_PID=$!
	pids="$pids $UBLK_PID"
	DEV=
	wait_for 20 grep -q '^/dev/ublkb[0-9]*$' "$tmp/ublk.dev" || return 1
	DEV=$(cat "$tmp/ublk.dev")
	test -b "$DEV"
}

# stop_ublk: SIGTERM; RC is rxu-ublk's exit status, or "hung" if it did
# not end within 20 s (then it is killed).
stop_ublk() {
	kill -TERM "$UBLK_PID" 2>/dev/null
	if wait_for 20 sh -c "! kill -0 $UBLK_PID 2>/dev/null"; then
		wait "$UBLK_PID"
		RC=$?
	else
		RC=hung
		kill -9 "$UBLK_PID" 2>/dev/null
	fi
}

# gone DEV: neither the node nor its sysfs directory is left.
gone() { test ! -e "$1" && test ! -e "/sys/block/${1#/dev/}"; }

need mkfs.ext4 e2fsck blockdev sha256sum timeout "$memd" "$ublk" "$rxuctl"
load_module

if ! start_memd ublkmem 64; then
	nok "memd serves ublkmem: (64 MiB)"
	diag "$(cat "$tmp/memd-ublkmem.out")"
	finish
fi
ok "memd serves ublkmem: (64 MiB)"
if ! start_ublk ublkmem:; then
	nok "rxu-ublk serves ublkmem: as a block device"
	diag "$(cat "$tmp/ublk.dev" "$tmp/ublk.err")"
	finish
fi
ok "rxu-ublk serves ublkmem: as $DEV ($(cat "$tmp/ublk.err"))"
check "$DEV is 64 MiB (blockdev --getsize64)" \
	test "$(blockdev --getsize64 "$DEV")" = 67108864

# The scheme writes, Linux reads; Linux writes, the scheme reads.
head -c 4194304 /dev/urandom >"$tmp/a"
head -c 1048576 /dev/urandom >"$tmp/b"
"$rxuctl" open -o ublkmem: -w -- dd bs=64k seek=16 status=none <"$tmp/a"
want=$(sha256sum <"$tmp/a" | cut -d' ' -f1)
got=$(timeout 60 dd if="$DEV" bs=64k skip=16 count=64 iflag=direct status=none | sha256sum | cut -d' ' -f1)
check "4 MiB written through the ring at 1 MiB: $DEV reads the same sha256 ($got)" \
	test "$got" = "$want"
timeout 60 dd if="$tmp/b" of="$DEV" bs=64k seek=128 oflag=direct conv=fsync status=none
"$rxuctl" open -i ublkmem: -- dd bs=64k skip=128 count=16 status=none >"$tmp/b.back"
check "1 MiB written to $DEV at 8 MiB is in ublkmem: (read through the ring)" \
	cmp -s "$tmp/b" "$tmp/b.back"

# A file system, a file in it.
check "mkfs.ext4 $DEV" timeout 120 mkfs.ext4 -q -F "$DEV"
mkdir -p "$tmp/mnt"
check "mount $DEV" timeout 60 mount -t ext4 "$DEV" "$tmp/mnt"
head -c 3000000 /dev/urandom >"$tmp/file"
cp "$tmp/file" "$tmp/mnt/file" && echo "hello from mem: over ublk" >"$tmp/mnt/hello"
check "a file written and synced" timeout 60 sync
check "umount" timeout 60 umount "$tmp/mnt"
check "e2fsck -fn clean" timeout 120 e2fsck -fn "$DEV"
echo 3 >/proc/sys/vm/drop_caches
timeout 60 mount -t ext4 -o ro "$DEV" "$tmp/mnt"
check "after a remount the 3 MB file reads back" \
	sh -c "mountpoint -q '$tmp/mnt' && cmp -s '$tmp/file' '$tmp/mnt/file'"
check "and so does hello" \
	sh -c "mountpoint -q '$tmp/mnt' && grep -q 'hello from mem: over ublk' '$tmp/mnt/hello'"
timeout 60 umount "$tmp/mnt"

# SIGTERM: STOP_DEV and DEL_DEV, the device gone, exit 0.
stop_ublk
check "SIGTERM: rxu-ublk exits 0 (status $RC)" test "$RC" = 0
check "and $DEV and /sys/block/${DEV#/dev/} are gone" wait_for 10 gone "$DEV"
stats=$(grep 'stopped:' "$tmp/ublk.err")
if grep -q 'stopped: .* 0 errors$' "$tmp/ublk.err"; then
	ok "rxu-ublk served with 0 errors ($stats)"
else
	nok "rxu-ublk served with 0 errors ($stats)"
	diag "$(head -n 20 "$tmp/ublk.err")"
fi
check "FLUSH reached the ring (fsync)" \
	sh -c "! grep -q ' 0 flushes' '$tmp/ublk.err' && grep -q ' flushes' '$tmp/ublk.err'"

# Read-only: the kernel is told, and a write is refused.
if start_ublk -r ublkmem:; then
	ok "rxu-ublk -r serves ublkmem: as $DEV"
	check "blockdev --getro $DEV is 1" test "$(blockdev --getro "$DEV")" = 1
	if timeout 60 dd if=/dev/zero of="$DEV" bs=4k count=1 oflag=direct status=none 2>"$tmp/ro.err"; then
		nok "a write to the read-only $DEV fails"
	else
		check "a write to the read-only $DEV fails ($(head -n 1 "$tmp/ro.err"))" \
			grep -qE 'Operation not permitted|Read-only file system' "$tmp/ro.err"
	fi
	stop_ublk
	check "rxu-ublk -r stops on SIGTERM (status $RC)" test "$RC" = 0
else
	nok "rxu-ublk -r serves ublkmem:"
	diag "$(cat "$tmp/ublk.dev" "$tmp/ublk.err")"
fi

# A path the ring cannot open: a clear error, no device.
before=$(ls /sys/block | grep -c '^ublkb')
timeout 20 "$ublk" nosuchscheme:x >"$tmp/bad.out" 2>"$tmp/bad.err"
rc=$?
check "a bad path: rxu-ublk exits nonzero (status $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "with a clear error ($(head -n 1 "$tmp/bad.err"))" \
	grep -q '^rxu-ublk: nosuchscheme:x: ' "$tmp/bad.err"
check "and leaves no device" test "$(ls /sys/block | grep -c '^ublkb')" = "$before" -a ! -s "$tmp/bad.out"

# The provider dies under a reader: EIO, no hang, rxu-ublk still stops.
if start_ublk ublkmem:; then
	sh -c "while dd if=$DEV of=/dev/null bs=64k iflag=direct status=none; do :; done" \
		2>"$tmp/dd.err" &
	ddp=$!
	sleep 0.5
	kill -9 "$MEMD_PID"
	ends_eio "$ddp" 30 "$tmp/dd.err" "memd killed under dd: dd"
	check "rxu-ublk lives on" kill -0 "$UBLK_PID"
	stop_ublk
	check "and stops on SIGTERM (status $RC)" test "$RC" = 0
	check "and $DEV is gone" wait_for 10 gone "$DEV"
else
	nok "rxu-ublk serves ublkmem: for the kill test"
	diag "$(cat "$tmp/ublk.dev" "$tmp/ublk.err")"
fi
finish
