#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/demo-usb.sh - `make demo-usb`: a USB stick read entirely from
# userspace, then used by Linux as a disk.  Builds a 32 MiB stick image
# with a DOS partition table and an ext4 file system holding hello.txt,
# boots the USB rig (VFIO guest, qemu-xhci, the image as a usb-storage
# stick), and narrates each hop: pcid binds the xHCI to vfio-pci and
# spawns xhcid, xhcid enumerates the stick and spawns usbscsid, usbscsid
# serves disk:, rxu-nbd makes it /dev/nbd0, Linux mounts /dev/nbd0p1 and
# the file is printed.  Needs the xhcid and USB-rig pieces (userspace/xhcid,
# selftests/vm/run.sh -u).  Nothing touches the kernel of this shell.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
if [ "${1:-}" != --guest ]; then
	make --no-print-directory deps
	make --no-print-directory guest-bins >/dev/null
	img=build/demo-usb/stick.img
	mkdir -p build/demo-usb/root
	echo "Hello from a USB stick, read by pcid -> xhcid -> usbscsid over redox_uring rings." \
		>build/demo-usb/root/hello.txt
	rm -f "$img"
	truncate -s 32M "$img"
	printf 'label: dos\nstart=2048, type=83\n' | /sbin/sfdisk -q "$img"
	/sbin/mkfs.ext4 -q -F -b 4096 -E offset=1048576 -d build/demo-usb/root "$img" 31M
	k=${KVER:-$(make -s --no-print-directory print-kvers | tr ' ' '\n' | tail -n 1)}
	k=$(selftests/vm/run.sh -k "$k" -p) # KVER=6.1 names the newest 6.1
	echo "== the stick: $img (32 MiB: a DOS partition table, ext4 in partition 1, hello.txt)"
	echo "== booting the USB rig (qemu-xhci + usb-storage) on $k"
	RXU_VM_USB_STICK=$img exec selftests/vm/run.sh -u qemu-xhci -k "$k" -t 900 -- \
		selftests/demo-usb.sh --guest "build/module/$k/redox_uring.ko"
fi

# --- in the guest ---
ko=$2
b=$top/build/userspace
say() { printf '\n== %s\n' "$*"; }
wait_for() { # SECS FILE PATTERN
	local t=$(($1 * 5))
	while ((t-- > 0)); do grep -q "$3" "$2" 2>/dev/null && return 0; sleep 0.2; done
	echo "demo-usb: timed out waiting for '$3' in $2" >&2
	cat "$2" >&2
	return 1
}
w=$(mktemp -d /tmp/demo-usb.XXXXXX)
say "insmod $ko: the redox_uring rings"
insmod "$ko"
ids=$(awk '$1 == "controller" { print $3 }' /run/rxu-vm/usb-topology)
mkdir -p "$w/pcid.d" "$w/xhcid.d"
cat >"$w/pcid.d/xhci.conf" <<EOT
[xhci]
vendor = 0x${ids%:*}
device = 0x${ids#*:}
command = $b/xhcid/xhcid --token-file $w/token --config $w/xhcid.d \$ADDR
restart = 0
EOT
cat >"$w/xhcid.d/usbscsid.conf" <<EOT
[usbscsid]
class = 0x08
subclass = 0x06
protocol = 0x50
command = $b/usbscsid/usbscsid
EOT
say "pcid: finds the xHCI ($ids), binds it to vfio-pci, spawns xhcid (rule pcid.d/xhci.conf)"
"$b/pcid/pcid" --config "$w/pcid.d" --state-dir "$w" >"$w/log" 2>&1 &
wait_for 120 "$w/log" 'serving usb'
grep -E 'xhcid|pcid' "$w/log" | head -n 8 | sed 's/^/   /'
say "xhcid: serves usb:, enumerates the stick, spawns usbscsid for 08/06/50 (rule xhcid.d/usbscsid.conf)"
wait_for 120 "$w/log" '^usbscsid: serving disk:$'
grep -E 'HARDDRIVE|usbscsid' "$w/log" | sed 's/^/   /'
# The std rig has a second stick behind its hub, with a usbscsid of its
# own; whichever registers first also gets the alias disk:, so the demo
# names the stick on root port 1 by its own scheme name.
wait_for 60 "$w/log" '^usbscsid: serving disk\..*+port1-scsi:$'
d=$(sed -n 's/^usbscsid: serving \(disk\..*+port1-scsi\):$/\1/p' "$w/log")
say "usbscsid -> $d:  (rxuctl open -i $d: -- cat: the LUNs)"
"$b/tools/rxuctl" open -i "$d:" -- cat | sed 's/^/   LUN /'
say "the first sector through $d:0 ends in the MBR signature"
"$b/tools/rxuctl" open -i "$d:0" -- dd bs=512 count=1 status=none | od -An -tx1 -j 510 | sed 's/^/  /'
say "rxu-nbd: $d:0 as an NBD export on a UNIX socket; nbd-client gives it to Linux's nbd driver"
modprobe nbd max_part=8
"$b/tools/rxu-nbd" "$w/sock" "$d:0" >"$w/nbd.log" 2>&1 &
wait_for 10 "$w/nbd.log" serving
sed 's/^/   /' "$w/nbd.log"
# 512-byte blocks: the partition table counts 512-byte sectors.
nbd-client -unix "$w/sock" /dev/nbd0 -b 512 2>&1 | grep -v -e oldstyle -e 'newstyle protocol' | sed 's/^/   /'
for _ in $(seq 50); do [ -b /dev/nbd0p1 ] && break; sleep 0.2; done
say "Linux reads the partition table (fdisk -l /dev/nbd0)"
fdisk -l /dev/nbd0 | sed 's/^/   /'
say "mount /dev/nbd0p1 and print hello.txt"
mkdir -p "$w/mnt"
mount -t ext4 -o ro /dev/nbd0p1 "$w/mnt"
echo
cat "$w/mnt/hello.txt"
umount "$w/mnt"
nbd-client -d /dev/nbd0 >/dev/null 2>&1
kill %2 %1 2>/dev/null || true
wait 2>/dev/null || true
say "done: stick -> xHCI -> pcid (VFIO) -> xhcid (usb:) -> usbscsid (disk:) -> rxu-nbd -> /dev/nbd0 -> ext4"
