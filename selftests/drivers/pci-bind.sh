# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/pci-bind.sh - moving a PCI function between drivers
# through sysfs, for the scripts that hand a controller from Linux to
# VFIO and back; sourced, no output of its own.

# pci_drv BDF: the name of the driver BDF is bound to (empty: none)
pci_drv() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }

# pci_unbind BDF: BDF off its driver.  A USB host controller first loses
# its devices the way an unplug would (each root hub deauthorized, then
# up to 5 s for the devices to go), so that no URB is still being given
# back when the HCD is removed: 6.12's usbcore warns in __queue_work from
# usb_giveback_urb_bh when xhci_hcd is unbound while a device's URBs
# complete (seen once, an HID keyboard attached, in stop 17's CI).
pci_unbind() {
	_d=/sys/bus/pci/devices/$1
	[ -e "$_d/driver" ] || return 0
	for _a in "$_d"/usb*/authorized; do
		[ -w "$_a" ] && echo 0 >"$_a"
	done
	_i=0
	while [ $_i -lt 50 ] && ls -d "$_d"/usb*/*-* >/dev/null 2>&1; do
		sleep 0.1
		_i=$((_i + 1))
	done
	echo "$1" >"$_d/driver/unbind"
}

# pci_bind BDF DRIVER ("" = none): override, unbind, probe; true if BDF
# ends up on DRIVER.
pci_bind() {
	echo "$2" >"/sys/bus/pci/devices/$1/driver_override"
	pci_unbind "$1"
	echo "$1" >/sys/bus/pci/drivers_probe
	[ "$(pci_drv "$1")" = "${2:-}" ]
}
