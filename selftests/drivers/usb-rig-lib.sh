# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usb-rig-lib.sh - helpers of the scripts that drive the
# USB rig's controller themselves (xhcid-hub.sh, usbhid-xhcid.sh,
# xhcid-topo.sh, xhcid-hang.sh); sourced after tap.sh, with $bdf set to the
# controller before bind is called (rig_find sets it).  Sourced from the
# top of the tree, after $S (the scheme name xhcid serves) is set: the
# script's first argument is the module to load.

top=$(pwd)
ko=${1:-build/module/${RXU_VM_KVER:-$(uname -r)}/redox_uring.ko}
mon=$top/selftests/vm/qemu-monitor
topo=${RXU_VM_USB_TOPOLOGY:-/run/rxu-vm/usb-topology}
bin=$top/build/userspace
xhcid=$bin/xhcid/xhcid
usbreq=$bin/xhcid/usbreq
view=$top/selftests/drivers/usb-linux-view.sh

list() { "$usbreq" cat "$S:"; }		# xhcid's listing
listed() { list | grep -qE "$1"; }	# listed ERE: a line of it matches
hex() { "$usbreq" cat "$1" | od -An -v -tx1 | tr -d ' \n'; }	# a file as hex

. "$(dirname "$0")/pci-bind.sh"
drv_of() { pci_drv "$bdf"; }
bind() { pci_bind "$bdf" "$1"; } # bind DRIVER ("" = none)
has() { grep -qE "$2" "$1" 2>/dev/null; }
show() { sed "s/^/# $1: /" "$2" 2>/dev/null; }
# rig_find TOPOLOGY [PROGRAM...]: in a USB rig guest of that topology
# ($topo, the rig's usb-topology) with $xhcid and the PROGRAMs built, set
# model, pciid, topology and bdf; otherwise a "not ok" saying why, and
# finish.
rig_find() {
	_want=$1
	shift
	if [ -z "${RXU_VM_USB:-}" ] || [ ! -r "$topo" ]; then
		nok "running in a USB rig guest (selftests/vm/run.sh -u MODEL:$_want)"
		finish
	fi
	for f in "$xhcid" "$@"; do
		if [ ! -x "$f" ]; then
			nok "built: $f"
			finish
		fi
	done
	read -r _ model pciid _ _ topology <<EOF
$(grep '^controller ' "$topo")
EOF
	bdf=
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = "0x${pciid%:*}:0x${pciid#*:}" ] &&
			bdf=${d##*/}
	done
	if [ "$topology" != "$_want" ] || [ -z "$bdf" ]; then
		nok "a $model rig with the $_want topology (found: ${topology:-?} at ${bdf:-?})"
		finish
	fi
}
# rig_vfio KO: the module loaded and $bdf on vfio-pci, or finish.
rig_vfio() {
	if ! lsmod | grep -q '^redox_uring ' && ! insmod "$1"; then
		nok "insmod $1"
		finish
	fi
	modprobe vfio-pci 2>/dev/null
	check "$bdf bound to vfio-pci" bind vfio-pci
}
# rig_end PID: xhcid (PID, logging to $c/xhcid.out) alive to the end, then
# stopped; its log's tail, the controller given back, the module unloaded.
rig_end() {
	check "xhcid lives on" kill -0 "$1"
	kill "$1"
	wait "$1"
	show xhcid "$c/xhcid.out" | tail -n 30
	bind "" || nok "$bdf given back (driver: $(drv_of))"
	check "rmmod redox_uring: xhcid gave everything back" rmmod redox_uring
}
