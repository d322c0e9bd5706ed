# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usb-rig-lib.sh - helpers of the scripts that drive the
# USB rig's controller themselves (xhcid-hub.sh, usbhid-xhcid.sh,
# xhcid-topo.sh, xhcid-hang.sh); sourced after tap.sh, with $bdf set to the
# controller before bind is called (rig_find sets it).

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
