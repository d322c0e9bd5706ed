#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/edu.sh - edud against QEMU's edu device, in the VFIO
# guest (selftests/vm/run.sh -V).  Prints TAP.
#
#   selftests/vm/run.sh -V -k 6.12 -- selftests/drivers/edu.sh [redox_uring.ko]
#
# Loads the module (default build/module/$RXU_VM_KVER/redox_uring.ko),
# finds edu (1234:11e8) in sysfs, binds it to vfio-pci (driver_override +
# drivers_probe), runs edud standalone (--vfio: factorials through MMIO,
# MSI as EVENT CQEs on a ring, DMA both ways verified byte for byte; its
# TAP lines are numbered into this one's), runs it again to show the
# function is reusable after a driver exits, then as pcid spawns it (pcid
# binds edu itself, edud claims it through pci:), and finally gives the
# function back (no driver).
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
ko=${1:-build/module/${RXU_VM_KVER:-$(uname -r)}/redox_uring.ko}
edud=$top/build/userspace/edud/edud
pcid=$top/build/userspace/pcid/pcid
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { # check DESC CMD...
	d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
finish() {
	echo "1..$n"
	echo "# edu.sh: $fails of $n failed"
	[ "$fails" -eq 0 ]
	exit $?
}

# Run a driver; its TAP "ok K - x" lines become ours, numbered on.
run_tap() { # run_tap PREFIX CMD...
	prefix=$1
	shift
	out=$(mktemp /tmp/edu-tap.XXXXXX)
	"$@" >"$out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "$prefix: ${line#* - }" ;;
		"not ok "*) nok "$prefix: ${line#* - }" ;;
		1..*) ;;
		"#"*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done <"$out"
	rm -f "$out"
	return $rc
}

if [ "${RXU_VM_VFIO:-0}" != 1 ] || [ ! -c /dev/vfio/vfio ]; then
	nok "running in a VFIO guest (selftests/vm/run.sh -V)"
	finish
fi

dev=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		dev=${d##*/}
		break
	fi
done
if [ -z "$dev" ]; then
	nok "edu (1234:11e8) is on the bus"
	finish
fi
ok "edu (1234:11e8) is on the bus at $dev"
sys=/sys/bus/pci/devices/$dev
grp=$(basename "$(readlink "$sys/iommu_group")")
check "$dev is in IOMMU group $grp" test -n "$grp"

if ! insmod "$ko"; then
	nok "insmod $ko"
	finish
fi
ok "insmod $ko"

# Bind to vfio-pci: override, leave the old driver, probe.
echo vfio-pci >"$sys/driver_override"
[ -e "$sys/driver" ] && echo "$dev" >"$sys/driver/unbind"
echo "$dev" >/sys/bus/pci/drivers_probe
drv=$(basename "$(readlink "$sys/driver" 2>/dev/null)" 2>/dev/null)
check "$dev bound to vfio-pci (driver: ${drv:-none})" test "$drv" = vfio-pci
check "/dev/vfio/$grp exists" test -c "/dev/vfio/$grp"

if [ ! -x "$edud" ]; then
	nok "edud is built ($edud)"
	finish
fi

run_tap "edud --vfio" "$edud" --vfio "$dev" --rounds 20
rc=$?
check "edud --vfio $dev exits 0 (status $rc)" test $rc -eq 0

# A second driver instance after the first exited: the group, the MSI
# and the IOVA space were all given back.
run_tap "edud --vfio, again" "$edud" --vfio "$dev" --rounds 3
rc=$?
check "a second edud on the same function exits 0 (status $rc)" test $rc -eq 0

if [ -x "$pcid" ]; then
	# pcid binds edu, spawns edud with PCID_ADDRESS/PCID_TOKEN; edud gets
	# its fds by PASS_FD, claims the function on a u2u ring and enables
	# the MSI with SET_CAPABILITY.  Its TAP comes out in pcid's output.
	conf=$(mktemp -d /tmp/edu-pcid.XXXXXX)
	printf '[edu]\nvendor = 0x1234\ndevice = 0x11e8\ncommand = %s --rounds 10 $ADDR\nrestart = 0\n' \
		"$edud" >"$conf/edu.conf"
	before=$(basename "$(readlink "$sys/driver" 2>/dev/null)" 2>/dev/null)
	"$pcid" --config "$conf" --state-dir "$conf" >"$conf/out" 2>&1 &
	pp=$!
	i=0
	while [ $i -lt 120 ] && ! grep -qE 'driver exited|giving up' "$conf/out"; do
		sleep 0.5
		i=$((i + 1))
	done
	kill "$pp" 2>/dev/null
	wait "$pp"
	prc=$?
	run_tap "edud via pcid" cat "$conf/out"
	check "edud spawned by pcid exits 0" grep -q 'driver exited (status 0)' "$conf/out"
	check "pcid ends on SIGTERM (status $prc)" test $prc -eq 0 -o $prc -eq 143
	after=$(basename "$(readlink "$sys/driver" 2>/dev/null)" 2>/dev/null)
	check "pcid gave $dev back to the driver it had (${before:-none}; now ${after:-none})" \
		test "$before" = "$after"
	rm -rf "$conf"
else
	skip "edud through pcid (pci: ATTACH, fds by PASS_FD)" "pcid is not built ($pcid)"
fi

# Give the function back: clear the override, unbind, probe (no driver).
echo >"$sys/driver_override"
[ -e "$sys/driver" ] && echo "$dev" >"$sys/driver/unbind"
echo "$dev" >/sys/bus/pci/drivers_probe
check "$dev released (no driver)" test ! -e "$sys/driver"
check "rmmod redox_uring" rmmod redox_uring
finish
