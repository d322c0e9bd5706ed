#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usb-linux-view.sh - what Linux's own xhci_hcd sees on the
# guest's xHCI controller, as one line per fact, for byte-for-byte
# comparison with what a userspace driver reports through usb:.
#
#   usb-linux-view.sh [-o FILE] [-n COUNT] [-t SECS] [-k] [BDF]
#
# In a guest of selftests/vm/run.sh (-V, -u). Binds the xHCI function (BDF,
# default: the first PCI function of class 0x0c0330) to xhci_hcd, whatever
# held it before (nothing, or vfio-pci), waits until enumeration settles
# (COUNT devices seen, and the set unchanged for 4 s; at most SECS, default
# 90), writes the records below to FILE (default stdout), then gives the
# function back as it was: unbound from xhci_hcd, driver_override restored,
# the old driver (if any) probed again, xhci_pci unloaded if this script
# loaded it. -k keeps it bound to xhci_hcd instead. Exit 0 on success, 1 if
# the controller could not be bound, enumerated or given back (with a
# message on stderr). The format is in selftests/vm/README.md ("Linux view").
set -u
me=usb-linux-view
out=
want=0
limit=90
keep=0
settle=4

die() {
	echo "$me: $*" >&2
	exit 1
}
while getopts 'o:n:t:kh' opt; do
	case $opt in
	o) out=$OPTARG ;;
	n) want=$OPTARG ;;
	t) limit=$OPTARG ;;
	k) keep=1 ;;
	*) echo "usage: $me [-o FILE] [-n COUNT] [-t SECS] [-k] [BDF]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

pci=/sys/bus/pci/devices
if [ $# -gt 0 ]; then
	bdf=$1
else
	bdf=
	for d in "$pci"/*; do
		IFS= read -r c <"$d/class"
		if [ "$c" = 0x0c0330 ]; then
			bdf=${d##*/}
			break
		fi
	done
fi
[ -n "$bdf" ] && [ -d "$pci/$bdf" ] || die "no xHCI function${bdf:+ $bdf} in $pci"
dev=$pci/$bdf
id=$(cut -c3- "$dev/vendor"):$(cut -c3- "$dev/device")

# ------------------------------------------------------------ bind

. "$(dirname "$0")/pci-bind.sh"
drv_of() { pci_drv "$bdf"; }
old_drv=$(drv_of)
old_ovr=$(cat "$dev/driver_override")
loaded_pci=0
grep -q '^xhci_pci ' /proc/modules || loaded_pci=1
modprobe xhci_pci || die "modprobe xhci_pci failed"
# The PCI driver of the xhci_pci module calls itself xhci_hcd (or xhci-pci).
xdrv=
for n in xhci_hcd xhci-pci xhci_pci; do
	[ -d "/sys/bus/pci/drivers/$n" ] && { xdrv=$n; break; }
done
[ -n "$xdrv" ] || die "xhci_pci loaded, but no xHCI driver in /sys/bus/pci/drivers"

give_back() {
	[ "$keep" = 1 ] && return 0
	if [ "$(drv_of)" = "$xdrv" ]; then
		pci_unbind "$bdf" ||
			{ echo "$me: cannot unbind $bdf from $xdrv" >&2; return 1; }
	fi
	if [ "$old_ovr" = "(null)" ]; then
		echo >"$dev/driver_override"
	else
		echo "$old_ovr" >"$dev/driver_override"
	fi
	if [ "$loaded_pci" = 1 ] && [ "$old_drv" != "$xdrv" ]; then
		modprobe -r xhci_pci ||
			{ echo "$me: cannot unload xhci_pci" >&2; return 1; }
	fi
	if [ -n "$old_drv" ] && [ "$old_drv" != "$xdrv" ]; then
		echo "$bdf" >/sys/bus/pci/drivers_probe 2>/dev/null
		if [ "$(drv_of)" != "$old_drv" ]; then
			echo "$me: $bdf is not back on $old_drv (now: $(drv_of))" >&2
			return 1
		fi
	fi
	if [ -n "$(drv_of)" ] && [ -z "$old_drv" ]; then
		echo "$me: $bdf was unbound, now it is bound to $(drv_of)" >&2
		return 1
	fi
	return 0
}
fail() { # fail MSG: give the function back, then die
	give_back
	die "$*"
}

if [ "$old_drv" != "$xdrv" ]; then
	if [ -n "$old_drv" ]; then
		pci_unbind "$bdf" ||
			fail "cannot unbind $bdf from $old_drv"
	fi
	echo "$xdrv" >"$dev/driver_override" || fail "cannot set driver_override"
	echo "$bdf" >/sys/bus/pci/drivers_probe
	[ "$(drv_of)" = "$xdrv" ] || fail "$bdf did not bind to $xdrv"
fi

# ------------------------------------------------------------ enumerate

# Under TCG every fork costs tens of milliseconds: sysfs is read with the
# shell's own "read", and the polling loop forks nothing but sleep.
get() { # get VAR FILE: the first line of FILE into VAR ("" if unreadable)
	eval "$1="
	IFS= read -r "$1" <"$2" 2>/dev/null
	return 0
}
# Root hubs of this controller: USB 2 (Linux's first bus) and USB 3.
buses=
nbuses=0
scan_buses() {
	buses=
	nbuses=0
	for r in "$dev"/usb*; do
		[ -e "$r/busnum" ] || continue
		get b "$r/busnum"
		buses="$buses $b"
		nbuses=$((nbuses + 1))
	done
}
devs=
ndevs=0
scan_devices() { # every device of this controller but the root hubs
	scan_buses
	devs=
	ndevs=0
	for b in $buses; do
		for d in /sys/bus/usb/devices/"$b"-*; do
			case ${d##*/} in *:*) continue ;; esac
			[ -e "$d/descriptors" ] || continue
			devs="$devs ${d##*/}"
			ndevs=$((ndevs + 1))
		done
	done
}

t0=$(date +%s)
tick=0
last=
stable=0
while :; do
	scan_devices
	if [ "$devs" != "$last" ]; then
		last=$devs
		stable=0
	else
		stable=$((stable + 1))
		# settle s of no change, at 2 polls a second
		if [ "$ndevs" -ge "$want" ] && [ "$stable" -ge $((settle * 2)) ] &&
		   [ "$nbuses" -ge 2 ]; then
			break
		fi
	fi
	tick=$((tick + 1))
	if [ $((tick % 10)) = 0 ] && [ $(($(date +%s) - t0)) -ge "$limit" ]; then
		fail "enumeration did not settle within $limit s ($ndevs devices:$devs; wanted $want)"
	fi
	sleep 0.5
done

# ------------------------------------------------------------ dump

# xHCI root ports of each protocol, from the Supported Protocol capabilities
# (xhci debugfs): Linux numbers each root hub's ports 1..N in xHCI port
# order, so Linux port K of the USB 2 root hub is xHCI port usb2_first+K-1.
dbg=/sys/kernel/debug/usb/xhci/$bdf
usb2_first=
usb2_count=0
usb3_first=
usb3_count=0
for f in "$dbg"/reg-ext-protocol:*; do
	[ -r "$f" ] || fail "no $dbg/reg-ext-protocol:* (debugfs not mounted?)"
	rev=
	info=
	while IFS=' =' read -r k v; do
		case $k in
		EXTCAP_REVISION) rev=$v ;;
		EXTCAP_PORTINFO) info=$v ;;
		esac
	done <"$f"
	[ -n "$rev" ] && [ -n "$info" ] || fail "cannot parse $f"
	first=$((info & 0xff))
	count=$((info >> 8 & 0xff))
	case $((rev >> 24)) in
	2) usb2_first=$first; usb2_count=$count ;;
	3) usb3_first=$first; usb3_count=$count ;;
	esac
done
[ -n "$usb2_first" ] && [ -n "$usb3_first" ] || fail "no USB 2 and USB 3 protocol capabilities in $dbg"
usb2_bus=
for r in "$dev"/usb*; do
	get sp "$r/speed"
	[ "$sp" = 480 ] && get usb2_bus "$r/busnum"
done
[ -n "$usb2_bus" ] || fail "no USB 2 root hub on $bdf"

hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# One device: its records on stdout.
dump_device() { # dump_device PATH
	p=$1
	d=/sys/bus/usb/devices/$p
	bus=${p%%-*}
	chain=${p#*-}
	lport=${chain%%.*}
	if [ "$bus" = "$usb2_bus" ]; then
		root=$((usb2_first + lport - 1))
	else
		root=$((usb3_first + lport - 1))
	fi
	# Route string: hub ports below the root port, tier 1 in the low nibble.
	route=0
	sh_n=0
	rest=$chain
	while [ "$rest" != "${rest#*.}" ]; do
		rest=${rest#*.}
		route=$((route | ${rest%%.*} << sh_n))
		sh_n=$((sh_n + 4))
	done
	h=$(hex "$d/descriptors")
	# bcdUSB: bytes 2-3 of the device descriptor, little endian.
	rest=${h#????}
	lo=${rest%"${rest#??}"}
	rest=${rest#??}
	hi=${rest%"${rest#??}"}
	for a in speed idVendor idProduct bcdDevice bDeviceClass bDeviceSubClass \
		bDeviceProtocol bMaxPacketSize0 bNumConfigurations bConfigurationValue; do
		get "$a" "$d/$a"
	done
	case $speed in
	1.5) xs=2 ;; 12) xs=1 ;; 480) xs=3 ;; 5000) xs=4 ;; 10000) xs=5 ;; *) xs=0 ;;
	esac
	printf 'device path=%s root_port=%d route=%05x speed=%s xhci_speed=%d id=%s:%s bcdUSB=%s%s bcdDevice=%s class=%s subclass=%s protocol=%s maxpacket0=%d configs=%d config=%s\n' \
		"$p" "$root" "$route" "$speed" "$xs" "$idVendor" "$idProduct" "$hi" "$lo" \
		"$bcdDevice" "$bDeviceClass" "$bDeviceSubClass" "$bDeviceProtocol" \
		"$bMaxPacketSize0" "$bNumConfigurations" "$bConfigurationValue"
	echo "descriptors path=$p hex=$h"
	for i in "$d/$p":*; do
		[ -e "$i/bInterfaceNumber" ] || continue
		for a in bInterfaceNumber bAlternateSetting bInterfaceClass bInterfaceSubClass \
			bInterfaceProtocol bNumEndpoints; do
			get "$a" "$i/$a"
		done
		printf 'interface path=%s name=%s number=%s alt=%d class=%s subclass=%s protocol=%s endpoints=%s\n' \
			"$p" "${i##*/}" "$bInterfaceNumber" "$bAlternateSetting" "$bInterfaceClass" \
			"$bInterfaceSubClass" "$bInterfaceProtocol" "$bNumEndpoints"
	done
	for a in manufacturer product serial; do
		[ -r "$d/$a" ] || continue
		get v "$d/$a"
		echo "string path=$p $a=$v"
	done
}

dump() {
	echo "# usb-linux-view v1: kernel $(uname -r)"
	printf 'controller pci=%s id=%s usb2_ports=%d-%d usb3_ports=%d-%d\n' "$bdf" "$id" \
		"$usb2_first" $((usb2_first + usb2_count - 1)) "$usb3_first" $((usb3_first + usb3_count - 1))
	# shellcheck disable=SC2086 # devs is a blank-separated list
	for p in $(printf '%s\n' $devs | sort -V); do
		dump_device "$p"
	done
}

if [ -n "$out" ]; then
	dump >"$out.tmp.$$" && mv -f "$out.tmp.$$" "$out" || fail "cannot write $out"
else
	dump
fi
give_back || exit 1
exit 0
