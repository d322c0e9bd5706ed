# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/xhcid-lib.sh - sourced by the xhcid*.sh guest tests:
# TAP counters, the module, finding and binding xHCI functions, and
# Linux's own view of the devices behind one (xhci_hcd, sysfs).
top=$(cd "$(dirname "$0")/../.." && pwd)
ko=${1:-$top/build/module/${RXU_VM_KVER:-$(uname -r)}/redox_uring.ko}
xhcid=$top/build/userspace/xhcid/xhcid
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { # check DESC CMD...
	_desc=$1
	shift
	if "$@"; then ok "$_desc"; else nok "$_desc"; fi
}
finish() {
	echo "1..$n"
	echo "# $(basename "$0"): $fails of $n failed"
	[ "$fails" -eq 0 ]
	exit $?
}
diag() { echo "# $(cut -d" " -f1 /proc/uptime)s: $*"; }

need_vfio_guest() {
	if [ "${RXU_VM_VFIO:-0}" != 1 ] || [ ! -c /dev/vfio/vfio ]; then
		nok "running in a VFIO guest (selftests/vm/run.sh -V)"
		finish
	fi
}

load_module() {
	if ! lsmod | grep -q '^redox_uring '; then
		if ! insmod "$ko"; then
			nok "insmod $ko"
			finish
		fi
	fi
	ok "redox_uring loaded"
}

# wait_grep N PATTERN FILE [SECS]: until FILE has N lines matching
# PATTERN (SECS, default 60)
wait_grep() {
	_i=0
	while [ $_i -lt $((${4:-60} * 5)) ] && [ "$(grep -c "$2" "$3")" -lt "$1" ]; do
		sleep 0.2
		_i=$((_i + 1))
	done
	[ "$(grep -c "$2" "$3")" -ge "$1" ]
}

. "$(dirname "$0")/pci-bind.sh"
drv_of() { pci_drv "$1"; }
# bind ADDR DRIVER ("" = none): override, unbind, probe.
bind() { pci_bind "$1" "$2"; }

# linux_view ADDR OUTDIR: bind ADDR to xhci_hcd, wait for its devices,
# copy each one's sysfs descriptors and speed to OUTDIR/<md5>.{desc,speed}.
linux_view() {
	addr=$1 outd=$2
	mkdir -p "$outd"
	modprobe xhci_pci 2>/dev/null
	bind "$addr" xhci_hcd || bind "$addr" xhci_pci || return 1
	i=0
	while [ $i -lt 40 ]; do
		sleep 0.5
		i=$((i + 1))
		cnt=$(ls -d /sys/bus/pci/devices/"$addr"/usb*/*-*/ 2>/dev/null | grep -v ':' | wc -l)
		[ "$cnt" -ge "${3:-1}" ] && break
	done
	sleep 1
	for d in /sys/bus/pci/devices/"$addr"/usb*/*-*; do
		case ${d##*/} in *:*) continue ;; esac
		[ -f "$d/descriptors" ] || continue
		h=$(md5sum <"$d/descriptors" | cut -c1-32)
		cat "$d/descriptors" >"$outd/$h.desc"
		cat "$d/speed" >"$outd/$h.speed"
		echo "${d##*/}" >"$outd/$h.name"
		for a in idVendor idProduct bDeviceClass bDeviceSubClass \
			bDeviceProtocol manufacturer product serial; do
			cat "$d/$a" >"$outd/$h.$a" 2>/dev/null || : >"$outd/$h.$a"
		done
		cat "$d/${d##*/}:1.0/bInterfaceClass" >"$outd/$h.ifclass" 2>/dev/null
		ls -d "$d/${d##*/}:1.0"/ep_* 2>/dev/null | wc -l >"$outd/$h.neps"
	done
	return 0
}
