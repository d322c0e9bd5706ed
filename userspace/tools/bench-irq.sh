#!/bin/sh
# SPDX-License-Identifier: MIT
#
# userspace/tools/bench-irq.sh - interrupt delivery latency on QEMU's edu
# device in the VFIO guest (selftests/vm/run.sh -V), for every kernel in
# KVERS: edu's raise-interrupt write (0x60) until the waiter has the MSI,
# as an EVENT CQE of a FILES_UPDATE subscription on a redox_uring ring
# against epoll_wait on the same VFIO eventfd, rounds alternating, in the
# same guest boot (bench-irq.c).  Target: ratio ring/epoll <= 1.1.  Also
# the config-space read baseline (pread of the VFIO config region).
# Figures go to stdout and build/bench/irq-<kver>.txt.
#
# Environment: BENCH_IRQ_N (interrupts per round, 500), BENCH_IRQ_ROUNDS
# (10), KVERS.  Guests boot with tsc=reliable (6.1 otherwise reads the
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
	n=$2 rounds=$3
	ko=build/module/$RXU_VM_KVER/redox_uring.ko
	insmod "$ko"
	dev=
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
			dev=${d##*/}
		fi
	done
	[ -n "$dev" ] || { echo "bench-irq.sh: no edu device" >&2; exit 1; }
	echo vfio-pci >"/sys/bus/pci/devices/$dev/driver_override"
	echo "$dev" >/sys/bus/pci/drivers_probe
	echo "# guest kernel $(uname -r), $(nproc) vCPUs, QEMU TCG"
	build/userspace/tools/bench-irq -n "$n" -r "$rounds" --vfio "$dev"
	exit $?
fi

make -s -C userspace >/dev/null
kvers=${KVERS:-$(make -s --no-print-directory print-kvers)}
mkdir -p build/bench
for k in $kvers; do
	make -s --no-print-directory "module-$k" >/dev/null
	out=build/bench/irq-$k.txt
	selftests/vm/run.sh -V -k "$k" -a tsc=reliable -t 600 -- \
		userspace/tools/bench-irq.sh --in-guest "$n" "$rounds" >"$out"
	cat "$out"
done
