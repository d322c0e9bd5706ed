#!/bin/sh
# SPDX-License-Identifier: MIT
#
# userspace/tools/bench-irq.sh - interrupt delivery latency on QEMU's edu
# device in the VFIO guest (selftests/vm/run.sh -V), for every kernel in
# KVERS: edu's raise-interrupt write (0x60) until the waiter has the MSI,
# as an EVENT CQE of a FILES_UPDATE subscription on a redox_uring ring
# against epoll_wait on the same VFIO eventfd, rounds alternating, in the
# same guest boot (bench-irq.c).  Target: ratio ring/epoll <= 1.1.  Then,
# in the same boot, the config-space read round trip: bench-irq --pcid,
# spawned by pcid for edu, reads 4 bytes through pci: (a u2u CONFIG_READ,
# and pread on the pci:ADDR/config path) against pread of the VFIO config
# region.  Figures go to stdout and build/bench/irq-<kver>.txt.
#
# Environment: BENCH_IRQ_N (interrupts per round, 500), BENCH_IRQ_ROUNDS
# (10), BENCH_IRQ_WHAT (all, irq or cfg; default all), KVERS.  Guests boot with tsc=reliable (6.1 otherwise reads the
# clock through the HPET, ~5 us a call).  A benchmark, never a test: it
# fails only if it cannot run.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
n=${BENCH_IRQ_N:-500}
rounds=${BENCH_IRQ_ROUNDS:-10}

# In the guest: bench-irq.sh --in-guest N ROUNDS (run.sh passes only
# RXU_* variables on).
if [ "${1:-}" = --in-guest ]; then
	n=$2 rounds=$3 what=${4:-all}
	ko=build/module/$RXU_VM_KVER/redox_uring.ko
	insmod "$ko"
	dev=
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
			dev=${d##*/}
		fi
	done
	[ -n "$dev" ] || { echo "bench-irq.sh: no edu device" >&2; exit 1; }
	echo "# guest kernel $(uname -r), $(nproc) vCPUs, QEMU TCG"
	if [ "$what" != cfg ]; then
		echo vfio-pci >"/sys/bus/pci/devices/$dev/driver_override"
		echo "$dev" >/sys/bus/pci/drivers_probe
		build/userspace/tools/bench-irq -n "$n" -r "$rounds" --vfio "$dev" || exit
		echo >"/sys/bus/pci/devices/$dev/driver_override"
		echo "$dev" >"/sys/bus/pci/devices/$dev/driver/unbind"
	fi
	[ "$what" = irq ] && exit 0
	# pcid binds edu and spawns bench-irq --pcid as edu's driver.
	conf=$(mktemp -d /tmp/bench-pcicfg.XXXXXX)
	printf '[edu]\nvendor = 0x1234\ndevice = 0x11e8\ncommand = %s -n %s -r %s --pcid $ADDR\nrestart = 0\n' \
		"$top/build/userspace/tools/bench-irq" "$((n * 4))" "$rounds" >"$conf/edu.conf"
	build/userspace/pcid/pcid --config "$conf" --state-dir "$conf" >"$conf/out" 2>"$conf/err" &
	pp=$!
	i=0
	while [ $i -lt 1200 ] && ! grep -qE 'driver exited|driver killed|giving up' "$conf/err"; do
		sleep 0.5
		i=$((i + 1))
	done
	kill "$pp" 2>/dev/null
	wait "$pp"
	grep -v '^pcid: serving' "$conf/out"
	grep -q 'driver exited (status 0)' "$conf/err" || { cat "$conf/err" >&2; exit 1; }
	exit 0
fi

make -s -C userspace >/dev/null
kvers=${KVERS:-$(make -s --no-print-directory print-kvers)}
mkdir -p build/bench
for k in $kvers; do
	make -s --no-print-directory "module-$k" >/dev/null
	out=build/bench/irq-$k.txt
	selftests/vm/run.sh -V -k "$k" -a tsc=reliable -t 600 -- \
		userspace/tools/bench-irq.sh --in-guest "$n" "$rounds" "${BENCH_IRQ_WHAT:-all}" >"$out"
	cat "$out"
done
