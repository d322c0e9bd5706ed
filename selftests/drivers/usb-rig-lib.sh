# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usb-rig-lib.sh - helpers of the scripts that drive the
# USB rig's controller themselves (xhcid-hub.sh, usbhid-xhcid.sh); sourced
# after tap.sh, with $bdf set to the controller before bind is called.

drv_of() { basename "$(readlink "/sys/bus/pci/devices/$bdf/driver" 2>/dev/null)" 2>/dev/null; }
bind() { # bind DRIVER ("" = none)
	s=/sys/bus/pci/devices/$bdf
	echo "$1" >"$s/driver_override"
	[ -e "$s/driver" ] && echo "$bdf" >"$s/driver/unbind"
	echo "$bdf" >/sys/bus/pci/drivers_probe
	[ "$(drv_of)" = "$1" ]
}
has() { grep -qE "$2" "$1" 2>/dev/null; }
show() { sed "s/^/# $1: /" "$2" 2>/dev/null; }
