#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench-usb.sh - a USB stick read and written four ways in one guest boot
# of the USB rig: through disk: (pcid-less xhcid -> usbscsid, rxuctl open +
# dd), through /dev/nbd0 (rxu-nbd on disk:0), through /dev/ublkbN
# (rxu-ublk on disk:0, where modprobe ublk_drv works: 6.12, not 6.1), and
# through Linux's own xhci_hcd + usb-storage (/dev/sdX) on the same
# controller and stick.
# RUNS rounds, each of our ways and then Linux's (the controller
# rebound in between), so that the machine's load changing in the middle
# hits both alike.  Prints each figure (median of the rounds), the ratios
# to Linux of the medians and the median of each round's ratio.  Not a
# test: it never fails on a figure.
#
#   dd if=/dev/zero of=build/stick.img bs=1M count=64
#   RXU_VM_USB_STICK=build/stick.img selftests/vm/run.sh -u qemu-xhci -k 6.12 -t 3000 \
#       -- env RUNS=5 userspace/tools/bench-usb.sh [redox_uring.ko]
#
# Environment: RUNS (3), RANDOM_READS (200 reads of 4 KiB).
NAME=bench-usb.sh
cd "$(dirname "$0")/../.." || exit 1
. selftests/drivers/usbscsid-lib.sh
xhcid=$top/build/userspace/xhcid/xhcid
topo=/run/rxu-vm/usb-topology
runs=${RUNS:-3}
nrand=${RANDOM_READS:-200}
ublk=$top/build/userspace/tools/rxu-ublk
for b in "$xhcid" "$usbscsid" "$rxuctl" "$nbd" "$ublk"; do
	[ -x "$b" ] || { echo "bench-usb: $b is not built (make -C userspace && make -C userspace/tools)"; exit 1; }
done
[ -r "$topo" ] || { echo "bench-usb: needs the rig (run.sh -u)"; exit 1; }
insmod "$ko" || exit 1
modprobe nbd max_part=8
# ublk_drv: Debian's 6.12 has it, 6.1 does not (then no ublk column)
if modprobe ublk_drv >"$tmp/ublk-modprobe.out" 2>&1; then
	ways="disk nbd ublk linux"
else
	ways="disk nbd linux"
	echo "bench-usb: modprobe ublk_drv failed ($(head -n 1 "$tmp/ublk-modprobe.out")): the /dev/ublkbN column is skipped"
fi
ids=$(awk '$1 == "controller" { print $3 }' "$topo")
size=$(awk '$1 == "image" && $2 == "stickimg" { print $4 }' "$topo")
mib=$((size / 1048576))
for d in /sys/bus/pci/devices/*; do
	[ "$(sed 's/^0x//' "$d/vendor"):$(sed 's/^0x//' "$d/device")" = "$ids" ] && addr=${d##*/}
done
. selftests/drivers/pci-bind.sh
bind() { pci_bind "$addr" "$1"; }
now() { date +%s.%N; }
# timed CMD...: seconds CMD took
timed() {
	_a=$(now)
	"$@" >/dev/null 2>&1
	_b=$(now)
	echo "$_a $_b" | awk '{ printf "%.3f", $2 - $1 }'
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# measure NAME CMD...: one run, its time appended to $t_NAME
measure() {
	_n=$1
	shift
	_t=$(timed "$@")
	eval "t_$_n=\"\${t_$_n:-} $_t\""
}
# random reads of 4 KiB at fixed offsets, on stdin
offsets() { awk -v n="$nrand" -v b=$((size / 4096)) 'BEGIN { s = 12345; for (i = 0; i < n; i++) { s = (s * 1103515245 + 12345) % 2147483648; print s % b } }'; }
offsets >"$tmp/offsets"
# blk_rand_read DEV: the random reads on a block device, O_DIRECT
blk_rand_read() {
	python3 -c '
import os, mmap, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
for line in open("'"$tmp/offsets"'"):
    os.preadv(fd, [buf], int(line) * 4096)' "$1"
}
# blk_measure NAME DEV: the three figures of a block device, direct I/O
blk_measure() {
	measure "$1_seq_read" dd if="$2" of=/dev/null bs=1M iflag=direct status=none
	measure "$1_seq_write" dd if=/dev/zero of="$2" bs=1M count=$mib oflag=direct status=none
	measure "$1_rand_read" blk_rand_read "$2"
}

conf=$tmp/xhcid.d
mkdir -p "$conf"
printf '[usbscsid]\nclass = 0x08\nsubclass = 0x06\nprotocol = 0x50\ncommand = %s\n' "$usbscsid" >"$conf/usbscsid.conf"
modprobe -a xhci_pci usb_storage sd_mod
# stick2 behind the hub is a BOT stick too: its usbscsid would race the
# stick's for the "disk" alias (and win, on 6.1, with its 4 MiB).
"$top/selftests/vm/qemu-monitor" 'device_del stick2' >/dev/null 2>&1

# ours: xhcid -> usbscsid, through disk:, /dev/nbd0 and /dev/ublkbN
ours() {
	bind vfio-pci
	"$xhcid" --vfio "$addr" --config "$conf" --token-file "$tmp/token" >"$tmp/xhcid.log" 2>&1 &
	xp=$!
	wait_for 120 grep -q '^usbscsid: serving disk:$' "$tmp/xhcid.log" || { cat "$tmp/xhcid.log"; exit 1; }
	# what the timed dd reads is the whole stick, checked once
	[ -n "${t_disk_seq_read:-}" ] ||
		echo "disk:0 gives $("$rxuctl" open -i disk:0 -- dd bs=1M status=none | wc -c) bytes of $size"
	measure disk_seq_read "$rxuctl" open -i disk:0 -- dd of=/dev/null bs=1M status=none
	measure disk_seq_write sh -c "dd if=/dev/zero bs=1M count=$mib status=none | '$rxuctl' open -o disk:0 -w -- dd bs=1M iflag=fullblock status=none"
	measure disk_rand_read "$rxuctl" open -i disk:0 -- python3 -c '
import os
for line in open("'"$tmp/offsets"'"):
    os.pread(0, 4096, int(line) * 4096)'
	"$nbd" "$tmp/sock" disk:0 >"$tmp/nbd.out" 2>&1 &
	np=$!
	wait_for 10 grep -q serving "$tmp/nbd.out"
	nbd-client -unix "$tmp/sock" /dev/nbd0 -b 4096 >/dev/null 2>&1
	wait_for 10 test "$(cat /sys/block/nbd0/size)" != 0
	blk_measure nbd /dev/nbd0
	nbd-client -d /dev/nbd0 >/dev/null 2>&1
	kill $np 2>/dev/null
	wait $np 2>/dev/null
	case $ways in *ublk*) ours_ublk ;; esac
	kill $xp 2>/dev/null
	wait $xp 2>/dev/null
}

# rxu-ublk on disk:0 as /dev/ublkbN, stopped (SIGTERM) before xhcid goes
ours_ublk() {
	"$ublk" disk:0 >"$tmp/ublk.dev" 2>"$tmp/ublk.err" &
	up=$!
	wait_for 20 grep -q '^/dev/ublkb[0-9]*$' "$tmp/ublk.dev" ||
		{ cat "$tmp/ublk.dev" "$tmp/ublk.err"; exit 1; }
	ub=$(cat "$tmp/ublk.dev")
	wait_for 10 test -b "$ub"
	[ -n "${t_ublk_seq_read:-}" ] ||
		echo "$ub is $(blockdev --getsize64 "$ub") bytes of $size"
	blk_measure ublk "$ub"
	kill -TERM $up 2>/dev/null
	wait $up 2>/dev/null
	# its counts once, and any round with errors
	if [ -z "${ublk_said:-}" ] || ! grep -q 'stopped: .* 0 errors$' "$tmp/ublk.err"; then
		grep 'stopped:' "$tmp/ublk.err"
		ublk_said=1
	fi
}

# Linux: xhci_hcd + usb-storage on the same controller and stick
linux() {
	bind xhci_hcd
	wait_for 60 sh -c 'for b in /sys/block/sd*; do [ "$(cat $b/size 2>/dev/null)" -gt 0 ] 2>/dev/null && exit 0; done; exit 1'
	sd=
	for b in /sys/block/sd*; do [ "$(cat "$b/size")" = $((size / 512)) ] && sd=/dev/${b##*/}; done
	[ -n "$sd" ] || { echo "bench-usb: no /dev/sdX of $size bytes"; exit 1; }
	blk_measure linux "$sd"
}

echo "stick: $mib MiB; $runs rounds (ours, then Linux, each round); $nrand random 4 KiB reads"
# Rounds alternate between the two stacks, so that a change of the
# machine's load in the middle hits both alike.
r=0
while [ $r -lt "$runs" ]; do
	ours
	linux
	r=$((r + 1))
	echo "round $r: uptime: $(uptime)"
done
for v in $ways; do
	for w in ${v}_seq_read ${v}_seq_write ${v}_rand_read; do
		eval "_all=\$t_$w"
		eval "m_$w=$(echo $_all | median)"
		eval "echo \"$w: median \$m_$w s of [$_all ]\""
	done
done
ratio() { echo "$1 $2" | awk '{ printf "%.2fx", ($2 > 0 && $1 > 0) ? $2 / $1 : 0 }'; }
# per_round OURS LINUX: time_linux / time_ours of each round
per_round() { echo "$1|$2" | awk -F'|' '{ n = split($1, a, " "); split($2, b, " "); for (i = 1; i <= n; i++) printf "%.2f ", (a[i] > 0 ? b[i] / a[i] : 0) }'; }
echo "--- throughput relative to Linux's usb-storage (time_linux / time_ours; > 1 is faster)"
for w in seq_read seq_write rand_read; do
	eval "d=\$m_disk_$w nb=\$m_nbd_$w ub=\${m_ublk_$w:-} l=\$m_linux_$w"
	eval "td=\$t_disk_$w tn=\$t_nbd_$w tu=\${t_ublk_$w:-} tl=\$t_linux_$w"
	rd=$(per_round "$td" "$tl")
	rn=$(per_round "$tn" "$tl")
	case $ways in
	*ublk*)
		echo "$w: disk: $(ratio "$d" "$l")  /dev/nbd0: $(ratio "$nb" "$l")  /dev/ublkbN: $(ratio "$ub" "$l")  (linux $l s, disk: $d s, nbd $nb s, ublk $ub s)"
		ru=$(per_round "$tu" "$tl")
		echo "$w, round by round: disk: [ $rd] median $(echo $rd | median)x  /dev/nbd0: [ $rn] median $(echo $rn | median)x  /dev/ublkbN: [ $ru] median $(echo $ru | median)x"
		;;
	*)
		echo "$w: disk: $(ratio "$d" "$l")  /dev/nbd0: $(ratio "$nb" "$l")  /dev/ublkbN: skipped (no ublk_drv)  (linux $l s, disk: $d s, nbd $nb s)"
		echo "$w, round by round: disk: [ $rd] median $(echo $rd | median)x  /dev/nbd0: [ $rn] median $(echo $rn | median)x"
		;;
	esac
done
echo "MB/s: disk: read $(echo "$mib $m_disk_seq_read" | awk '{printf "%.2f", $1/$2}'), linux read $(echo "$mib $m_linux_seq_read" | awk '{printf "%.2f", $1/$2}')"
