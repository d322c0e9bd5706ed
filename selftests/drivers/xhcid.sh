#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/xhcid.sh - xhcid against QEMU's qemu-xhci and
# nec-usb-xhci in the VFIO guest.  Prints TAP.
#
#   selftests/vm/run.sh -V -k 6.12 -q "$(selftests/drivers/xhcid.sh --qemu-args)" \
#       -- selftests/drivers/xhcid.sh [redox_uring.ko]
#
# For each controller: Linux's xhci_hcd enumerates it first and its sysfs
# descriptors are kept; the function then goes to vfio-pci and xhcid
# brings it up (reset, rings, MSI-X as EVENT CQEs, a No Op command),
# enumerates every port and dumps what it read; the descriptors must be
# the same bytes Linux read, device for device, and the speeds the same.
set -u
QX=0000:00:10.0		# qemu-xhci: kbd on a USB 2 port, storage on USB 3
NX=0000:00:11.0		# nec-usb-xhci: tablet (USB 2), storage (USB 3)
if [ "${1:-}" = --qemu-args ]; then
	img=${RXU_VM_OUT:-build/vm/out}/xhcid-stick
	mkdir -p "$(dirname "$img")"
	for i in 1 2; do
		[ -f "$img$i.img" ] || dd if=/dev/zero of="$img$i.img" bs=1M count=4 2>/dev/null
	done
	echo "-bios /usr/share/qemu/qboot.rom -device qemu-xhci,id=ux,addr=0x10 -device usb-kbd,bus=ux.0,port=1,id=ukbd" \
	     "-drive if=none,id=st,format=raw,file=${img}1.img -device usb-storage,bus=ux.0,port=2,drive=st,id=ust" \
	     "-device nec-usb-xhci,id=nx,addr=0x11 -device usb-tablet,bus=nx.0,port=1" \
	     "-drive if=none,id=st2,format=raw,file=${img}2.img -device usb-storage,bus=nx.0,port=2,drive=st2"
	exit 0
fi
. "$(dirname "$0")/xhcid-lib.sh"

need_vfio_guest
load_module
check "xhcid is built" test -x "$xhcid"

for addr in $QX $NX; do
	sys=/sys/bus/pci/devices/$addr
	if [ ! -e "$sys" ]; then
		nok "$addr present (run with --qemu-args)"
		continue
	fi
	name=$(cat "$sys/vendor"):$(cat "$sys/device")
	w=$(mktemp -d /tmp/xhcid.XXXXXX)
	diag "$addr: Linux's view"
	check "$addr ($name): Linux's xhci_hcd enumerates it" linux_view "$addr" "$w/linux" 2
	nlin=$(ls "$w/linux" | grep -c '\.desc$')
	check "$addr: Linux sees 2 devices (saw $nlin)" test "$nlin" -eq 2
	check "$addr: handed to vfio-pci" bind "$addr" vfio-pci
	diag "$addr: xhcid --once"
	timeout 120 "$xhcid" --vfio "$addr" --once --dump "$w/x" >"$w/log" 2>&1
	rc=$?
	sed 's/^/# /' "$w/log"
	check "$addr: xhcid --once exits 0 (status $rc)" test $rc -eq 0
	check "$addr: controller up, No Op command completed" grep -q 'No Op command: completed' "$w/log"
	check "$addr: interrupts are MSI-X or MSI EVENT CQEs" grep -qE 'interrupt: MSI' "$w/log"
	check "$addr: the No Op completion came by interrupt" \
		grep -qE 'No Op command: completed in [0-9]+ us, [1-9][0-9]* interrupt' "$w/log"
	nx=$(ls "$w/x" 2>/dev/null | grep -c '\.descriptors$')
	check "$addr: xhcid enumerated 2 devices (got $nx)" test "$nx" -eq 2
	same=0
	for f in "$w"/x/*.descriptors; do
		[ -f "$f" ] || continue
		h=$(md5sum <"$f" | cut -c1-32)
		p=$(basename "$f" .descriptors)
		if [ -f "$w/linux/$h.desc" ]; then
			same=$((same + 1))
			sp=$(grep "^$p " "$w/x/ports" | cut -d' ' -f3)
			case $(cat "$w/linux/$h.speed") in
			1.5) want=low ;; 12) want=full ;; 480) want=high ;;
			5000) want=super ;; *) want=super+ ;;
			esac
			check "$addr $p: descriptors ($(wc -c <"$f") bytes) equal Linux's $(cat "$w/linux/$h.name"), speed $sp" \
				test "$sp" = "$want"
		else
			nok "$addr $p: descriptors equal one device Linux read"
			od -A d -t x1 "$f" | head -5 | sed 's/^/# /'
		fi
	done
	check "$addr: every device matched ($same of $nlin)" test "$same" -eq "$nlin" -a "$nlin" -gt 0
	bind "$addr" ""
	rm -rf "$w"
done
finish
