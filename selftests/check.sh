#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/check.sh - everything `make check` runs, counted.
#
#   selftests/check.sh [all|style|docs|stress|drivers|usb|xhcid]
#
# Each step is one or more test cases: builds (both compilers, both kernels,
# W=1 -Werror), the uapi header under gcc and clang -pedantic, checkpatch
# --strict and sparse, librxu's host tests (ASan+UBSan), the docs (man pages,
# usage texts, links: selftests/docs-check.sh), and the module's
# kselftests inside a QEMU guest for every kernel in KVERS (a guest whose
# dmesg shows a warning fails, see selftests/vm/scan-dmesg.sh), and the
# 1,000,000-event FILES_UPDATE stress on each kernel.  Prints
# one line per case and ends with "N passed, N failed"; the counts are also
# left in build/check/summary for .ci/run.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
what=${1:-all}
out=$top/build/check
mkdir -p "$out"
: >"$out/cases"

pass=0
fail=0

record() { # record PASS|FAIL name
	if [ "$1" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
	printf '%s %s\n' "$1" "$2" | tee -a "$out/cases"
}

# step NAME LOGFILE CMD...: one test case, the command's output kept in a log.
step() {
	local name=$1 log=$out/$2
	shift 2
	if "$@" >"$log" 2>&1; then
		record PASS "$name"
	else
		record FAIL "$name (log: ${log#"$top"/})"
		tail -n 30 "$log" | sed 's/^/    /'
	fi
}

# count_tap NAME LOG: add the log's TAP results (ok / not ok lines).
count_tap() {
	local name=$1 log=$2 ok nok
	ok=$(grep -cE '^ok [0-9]+' "$log")
	nok=$(grep -cE '^not ok [0-9]+' "$log")
	pass=$((pass + ok))
	fail=$((fail + nok))
	printf 'TAP %s: %d ok, %d not ok\n' "$name" "$ok" "$nok" | tee -a "$out/cases"
	grep -E '^not ok [0-9]+' "$log" | sed 's/^/    /'
}

kvers() {
	make -s --no-print-directory -f Makefile print-kvers
}

checkpatch() {
	local cp=$top/build/linux-tools/scripts/checkpatch.pl
	if [ ! -x "$cp" ] && [ ! -f "$cp" ]; then
		mkdir -p "$top/build/linux-tools"
		tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$top/build/linux-tools" \
			--strip-components=1 linux-source-6.1/scripts/checkpatch.pl \
			linux-source-6.1/scripts/spelling.txt \
			linux-source-6.1/scripts/const_structs.checkpatch || return 1
	fi
	perl "$cp" --no-tree --strict --terse --show-types --max-line-length=100 "$@"
}

# Exceptions to checkpatch, each for a reason:
#  ENOSYS: the ABI makes an unknown opcode complete with -ENOSYS, as Redox did.
#  LINUX_VERSION_CODE, CONSTANT_COMPARISON (compat.h only): compat.h exists to
#    hold the version tests, and KERNEL_VERSION() reads as a variable to it.
#  BIT_MACRO, PREFER_DEFINED_ATTRIBUTE_MACRO, CAMELCASE (uapi only): BIT() and __aligned()
#    do not exist in userspace, and _Static_assert/_Alignof are C11 keywords.
style_checks() {
	step "checkpatch --strict module/*.c" checkpatch-c.log \
		checkpatch --ignore ENOSYS -f module/*.c
	step "checkpatch --strict module/*.h (but compat.h)" checkpatch-h.log \
		checkpatch -f $(ls module/*.h | grep -v compat.h)
	step "checkpatch --strict module/compat.h" checkpatch-compat.log \
		checkpatch --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f module/compat.h
	step "checkpatch --strict uapi/linux/redox_uring.h" checkpatch-uapi.log \
		checkpatch --ignore BIT_MACRO,PREFER_DEFINED_ATTRIBUTE_MACRO,CAMELCASE -f uapi/linux/redox_uring.h
	for k in $(kvers); do
		step "sparse C=2 module ($k)" "sparse-$k.log" sh -c "
			make --no-print-directory module-$k >/dev/null &&
			make -C /usr/src/linux-headers-$k M=$top/build/module/$k C=2 modules 2>&1 |
			grep -E 'warning|error' && exit 1 || exit 0"
	done
}

uapi_checks() {
	local cc
	for cc in gcc clang; do
		step "uapi header, $cc -std=c11 -pedantic -Wall -Wextra" "uapi-$cc.log" \
			sh -c "echo 'int main(void){return 0;}' |
			$cc -std=c11 -pedantic -Wall -Wextra -Werror -Iuapi \
			-include uapi/linux/redox_uring.h -x c - -o /dev/null"
	done
}

host_checks() {
	step "librxu + tools build (gcc)" build-lib.log \
		sh -c "make -C userspace && make -C userspace/tools"
	step "librxu build (clang)" build-lib-clang.log \
		make -C userspace BUILD="$top/build/userspace-clang" CC=clang
	# libFuzzer on the ring and pool code, 10 s per target (the corpus
	# in build/userspace/fuzz grows from run to run).  Its runtime is in
	# libclang-rt-14-dev, which clang only recommends: without it, say so.
	if echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' |
		clang -fsanitize=fuzzer -x c - -o "$out/fuzz-probe" >/dev/null 2>&1; then
		step "libFuzzer targets (fuzz_ring, fuzz_pool, fuzz_hid), 10 s each" \
			fuzz.log make -C userspace fuzz FUZZ_SECONDS=10
	else
		echo "SKIP librxu libFuzzer targets: clang -fsanitize=fuzzer does not link (apt-get install libclang-rt-14-dev)"
	fi
	local rc=0
	make -C userspace check >"$out/host-tests.log" 2>&1 || rc=$?
	count_tap "librxu host tests (ASan+UBSan)" "$out/host-tests.log"
	if [ $rc -ne 0 ] || ! grep -qE '^ok [0-9]+' "$out/host-tests.log"; then
		record FAIL "librxu host tests, exit $rc (log: build/check/host-tests.log)"
	fi
}

# The documentation (selftests/docs-check.sh, TAP): man pages render
# cleanly, each program's usage names the options its man page names,
# install puts the pages in place, the README's example compiles, links
# resolve.  A script that dies before its whole plan is one more failure.
docs_checks() {
	local rc=0 plan got
	selftests/docs-check.sh >"$out/docs.log" 2>&1 || rc=$?
	count_tap "documentation (man pages, usage = man, README, links)" "$out/docs.log"
	plan=$(sed -nE 's/^1\.\.([0-9]+)$/\1/p' "$out/docs.log")
	got=$(grep -cE '^(not )?ok [0-9]+' "$out/docs.log")
	if [ "${plan:-x}" != "$got" ] || { [ $rc -ne 0 ] && ! grep -q '^not ok' "$out/docs.log"; }; then
		record FAIL "selftests/docs-check.sh: exit $rc, plan ${plan:-missing}, $got results (log: build/check/docs.log)"
	fi
}

module_builds() {
	for k in $(kvers); do
		step "module build W=1 -Werror ($k)" "build-$k.log" \
			make --no-print-directory "module-$k"
	done
}

# boot LOG RUN.SH-ARGS...: one guest boot, its output in LOG; run.sh's exit
# status.  Debian's kernel under TCG has oopsed during its own early boot
# (a NULL dereference in try_to_wake_up from an initcall, before
# userspace and before our module is loaded); such a boot never runs the
# command and ends with 125.  It is booted once more, said aloud, and the
# first log is kept as LOG.boot1.  A boot whose command ran is never redone.
boot() {
	local log=$1 rc
	shift
	selftests/vm/run.sh "$@" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 125 ] && ! grep -q '^# script ' "$log" &&
	   grep -qE '^vm: error: (the guest never started the command|the guest did not start the command|the guest kernel panicked$)' "$log"; then
		echo "RETRY $(basename "$log" .log): the guest kernel did not boot to the command (exit 125), booting once more" |
			tee -a "$out/cases"
		grep -m 3 -E 'RIP:|BUG:|Kernel panic' "$log" | sed 's/^/    first boot: /'
		mv -f "$log" "$log.boot1"
		selftests/vm/run.sh "$@" >"$log" 2>&1
		rc=$?
	fi
	return $rc
}

guest_checks() {
	local k log
	step "selftests build" build-selftests.log make -C selftests/redox_uring
	for k in $(kvers); do
		log=$out/guest-$k.log
		boot "$log" -k "$k" -t 900 -- \
			selftests/redox_uring/run_tests.sh "build/module/$k/redox_uring.ko"
		local rc=$? line p f
		# run_tests.sh closes with its own count of individual cases.
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
		p=$(echo "$line" | sed -nE 's/^([0-9]+) passed.*/\1/p')
		f=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
		pass=$((pass + ${p:-0}))
		fail=$((fail + ${f:-0}))
		printf 'kselftests in the %s guest: %s\n' "$k" "${line:-no count}" |
			tee -a "$out/cases"
		grep -E '^not ok|^# *not ok|FAIL' "$log" | head -n 20 | sed 's/^/    /'
		if [ $rc -eq 0 ]; then
			record PASS "guest run and dmesg clean ($k)"
		else
			record FAIL "guest run and dmesg clean ($k), exit $rc (log: ${log#"$top"/})"
			tail -n 30 "$log" | sed 's/^/    /'
		fi
	done
}

# The drivers against emulated hardware, in the VFIO guest (run.sh -V:
# intel-iommu, edu, qemu-xhci, nvme, e1000e), one guest boot per kernel
# running these scripts in turn:
#   selftests/drivers/edu.sh       edud on edu, standalone and spawned by pcid
#   userspace/pcid/guest-smoke.sh  pcid's paths, tokens, u2u ring, restarts
#   selftests/drivers/pcid.sh      bad requests and their errors, a second
#                                  driver refused, a driver killed mid-DMA,
#                                  config view = sysfs, original drivers back
#   selftests/drivers/usbhid.sh    usbhidd and `rxuctl usb` against usb-fake
# Each script's TAP cases are counted.  One more case per script and kernel
# needs the script to have exited 0 and its plan ("1..N") to equal the
# results it printed, and one per kernel needs the guest run to end with a
# clean dmesg: a script that dies half-way or never runs (panic, timeout,
# crash) fails loudly instead of passing with fewer cases.  A kernel where
# the VFIO guest cannot work fails with its reason; nothing is skipped
# silently.  2-3 min per kernel on the 2-core machine (more when loaded).
driver_scripts="selftests/drivers/edu.sh userspace/pcid/guest-smoke.sh selftests/drivers/pcid.sh selftests/drivers/usbhid.sh"
driver_checks() {
	local k
	step "edud + pcid + bench-irq build" build-drivers.log make -C userspace
	for k in $(kvers); do
		guest_scripts "$k" "VFIO guest" "drivers-$k" "$driver_scripts" -V
	done
}

# guest_scripts KVER WHAT LOGNAME "SCRIPTS" RUN.SH-OPTIONS...: one guest boot
# (900 s unless the options say -t)
# running SCRIPTS in turn, each given the module of KVER.  Counts each
# script's TAP, one case per script for "exit 0 and plan == results", and
# one for the boot ("WHAT guest run and dmesg clean").
guest_scripts() {
	local k=$1 what=$2 name=$3 scripts=$4 log rc s sec plan got src cmd
	shift 4
	log=$out/$name.log
	make --no-print-directory -s "module-$k" >/dev/null 2>&1
	# "# script S" ... "# script S exit N" around each script's output
	cmd='r=0; for s in '"$scripts"'; do echo "# script $s";'
	cmd+=' "$s" build/module/'"$k"'/redox_uring.ko; c=$?;'
	cmd+=' echo "# script $s exit $c"; [ $c -eq 0 ] || r=1; done; exit $r'
	boot "$log" -t 900 "$@" -k "$k" -- "$cmd"
	rc=$?
	for s in $scripts; do
		sec=$out/${name%-"$k"}-$(basename "$s" .sh)-$k.log
		sed -n "\|^# script $s\$|,\|^# script $s exit|p" "$log" >"$sec"
		count_tap "$s in the $what ($k)" "$sec"
		grep -E '# SKIP' "$sec" | sed 's/^/    /'
		plan=$(sed -nE 's/^1\.\.([0-9]+)$/\1/p' "$sec" | tail -n 1)
		got=$(grep -cE '^(not )?ok [0-9]+' "$sec")
		src=$(sed -nE "s|^# script $s exit ([0-9]+)\$|\1|p" "$sec")
		if [ "${src:-x}" = 0 ] && [ -n "$plan" ] && [ "$plan" -eq "$got" ] &&
		   [ "$got" -gt 0 ]; then
			record PASS "$s: complete, $got of plan $plan ($what, $k)"
		else
			record FAIL "$s ($what, $k): exit ${src:-none}, plan ${plan:-missing}, $got results (log: ${log#"$top"/})"
			tail -n 20 "$sec" | sed 's/^/    /'
		fi
	done
	if [ $rc -eq 0 ]; then
		record PASS "$what run and dmesg clean ($k)"
	else
		record FAIL "$what run and dmesg clean ($k), exit $rc (log: ${log#"$top"/})"
		tail -n 30 "$log" | sed 's/^/    /'
	fi
}

# The USB drivers on the USB rig (run.sh -u MODEL: the VFIO guest with MODEL
# as its xHCI and the std topology: usb-storage "stick" on a USB 3 port,
# usb-kbd, usb-tablet, a usb-hub with a usb-storage and a usb-mouse behind
# it; the QEMU monitor reachable from the guest).  One boot per kernel and
# controller model, running these scripts in turn, counted as driver_checks
# counts them:
#   selftests/drivers/usb-rig.sh   the rig itself: Linux's xhci_hcd sees the
#                                  topology where the table says, the monitor
#                                  bridge, sendkey/mouse_move reach evdev,
#                                  device_del/device_add, controller given back
# Each script is called with the module's path, as in driver_checks.  The
# boot limit is 300 s (boot-to-command reached 90 s on the loaded 2-core
# machine); one boot took 7 min there.
usb_models="qemu-xhci nec-usb-xhci"
# In a second, short boot per model with the none topology (nothing plugged
# at boot), the scripts that plug their own devices through the monitor:
#   selftests/drivers/xhcid-topo.sh  another topology against Linux's view,
#                                    unplug mid-transfer, replug
#   selftests/drivers/xhcid-hang.sh  Bus Master Enable cleared under xhcid:
#                                    ETIMEDOUT, reset, enumerated again
usb_none_scripts="selftests/drivers/xhcid-topo.sh selftests/drivers/xhcid-hang.sh"
# In a third boot, on qemu-xhci only (each plug takes a minute under TCG):
#   selftests/drivers/usbscsid-rig.sh  pcid -> xhcid -> usbscsid with a
#                                      write-protected stick, ext4 on
#                                      /dev/nbd0 with the stick pulled
#                                      mid-write, usbscsid SIGKILLed,
#                                      a two-LUN usb-bot plugged
usb_scsi_scripts="selftests/drivers/usbscsid-rig.sh"
# And one boot per model of the "luns" topology (a usb-bot with two LUNs
# from boot):
#   selftests/drivers/usbscsid-luns.sh  both LUNs through disk: (hash,
#                                       markers, unaligned writes, one as
#                                       /dev/nbd0) and through Linux's
#                                       usb-storage (sda, sdb); a CBW
#                                       spoiled on purpose: stall, reset
#                                       recovery
usb_luns_scripts="selftests/drivers/usbscsid-luns.sh"
usb_scripts="selftests/drivers/usb-rig.sh selftests/drivers/usbhid-xhcid.sh selftests/drivers/xhcid-hub.sh"
usb_checks() {
	local k m
	step "USB drivers build" build-usb.log make -C userspace
	for k in $(kvers); do
		for m in $usb_models; do
			RXU_VM_BOOT_TIMEOUT=${RXU_VM_BOOT_TIMEOUT:-300} \
				guest_scripts "$k" "USB rig $m" "usb-$m-$k" "$usb_scripts" -u "$m:std"
			RXU_VM_BOOT_TIMEOUT=${RXU_VM_BOOT_TIMEOUT:-300} \
				guest_scripts "$k" "USB rig $m, none" "usb-$m-none-$k" \
				"$usb_none_scripts" -u "$m:none"
		done
		RXU_VM_BOOT_TIMEOUT=${RXU_VM_BOOT_TIMEOUT:-300} \
			guest_scripts "$k" "USB rig qemu-xhci, usbscsid" "usb-scsi-$k" \
			"$usb_scsi_scripts" -u qemu-xhci:std
		for m in $usb_models; do
			RXU_VM_BOOT_TIMEOUT=${RXU_VM_BOOT_TIMEOUT:-300} \
				guest_scripts "$k" "USB rig $m, two LUNs" "usb-luns-$m-$k" \
				"$usb_luns_scripts" -u "$m:luns"
		done
	done
}

# xhcid (userspace/xhcid) in a VFIO guest of its own, with qemu-xhci and
# nec-usb-xhci at fixed addresses (usb-kbd and usb-storage, usb-tablet and
# usb-storage: selftests/drivers/xhcid.sh --qemu-args) and the monitor:
#   xhcid.sh          bring-up, enumeration, descriptors = Linux's sysfs
#   xhcid-scheme.sh   usb: paths and u2u ring, EP0 requests, configure,
#                     bulk INQUIRY, stall recovery, every refusal's error
#   xhcid-pcid.sh     spawned by pcid, class drivers by rule, SIGKILL restart
#   xhcid-hotplug.sh  sendkey to the interrupt endpoint, device_del with a
#                     transfer in flight (ENODEV), device_add
xhcid_scripts="selftests/drivers/xhcid.sh selftests/drivers/xhcid-scheme.sh selftests/drivers/xhcid-pcid.sh selftests/drivers/xhcid-hotplug.sh"
xhcid_checks() {
	local k
	step "xhcid build" build-xhcid.log make -C userspace
	for k in $(kvers); do
		guest_scripts "$k" "xhcid VFIO guest" "xhcid-$k" "$xhcid_scripts" \
			-V -Q -t 2400 -q "$(selftests/drivers/xhcid.sh --qemu-args)"
	done
}

# The 1,000,000-event two-thread stress of FILES_UPDATE (lost and
# duplicated events must be 0).  On one vCPU: cross-vCPU wake-ups cost
# milliseconds under TCG, which would stretch it to half an hour; the
# normal suite runs a shorter one on two vCPUs, for true parallelism.
stress_checks() {
	local k log
	step "stress build" build-stress.log make -C selftests/redox_uring stress
	for k in $(kvers); do
		log=$out/stress-$k.log
		RXU_TEST_LIST=stress_list RXU_TEST_TIMEOUT=1500 \
			boot "$log" -k "$k" -c 1 -t 1600 -- \
			selftests/redox_uring/run_tests.sh "build/module/$k/redox_uring.ko"
		local rc=$?
		grep -E 'stress: [0-9]+ events' "$log" | sed 's/^[# ]*/    /'
		if [ $rc -eq 0 ] && grep -qE 'stress: [0-9]+ events, 0 lost, 0 duplicated' "$log"; then
			record PASS "1,000,000-event stress, nothing lost or duplicated ($k)"
		else
			record FAIL "1,000,000-event stress ($k), exit $rc (log: ${log#"$top"/})"
			tail -n 20 "$log" | sed 's/^/    /'
		fi
	done
}

# usbscsid's disk: and the NBD and ublk block devices, in a guest of their
# own per kernel (no VFIO needed; a driver guest would not hold them in its
# time):
#   selftests/drivers/usbscsid-nbd.sh  mem: as /dev/nbd0 through rxu-nbd:
#                                  mkfs, mount, fsck, read-only, provider killed
#   selftests/drivers/usbscsid.sh  disk: over usbscsid --sim: hashes, unaligned
#                                  I/O, errors, EROFS, nbd + ext4, killed mid-dd
#   selftests/drivers/usbscsid-ublk.sh  mem: as /dev/ublkbN through rxu-ublk
#                                  (ublk_drv; one SKIP where the kernel has
#                                  none, 6.1): hashes, mkfs, mount, fsck,
#                                  SIGTERM, read-only, bad path, provider killed
# Each script's TAP is counted, plus one case per script for a complete
# run (exit 0, plan = results) and one per kernel for a clean dmesg.
usbscsid_scripts="selftests/drivers/usbscsid-nbd.sh selftests/drivers/usbscsid.sh"
usbscsid_scripts="$usbscsid_scripts selftests/drivers/usbscsid-ublk.sh"
usbscsid_checks() {
	local k log rc s sec plan got cmd
	step "usbscsid + rxu-nbd + rxu-ublk + rxuctl build" build-usbscsid.log \
		sh -c "make -C userspace && make -C userspace/tools"
	for k in $(kvers); do
		log=$out/usbscsid-$k.log
		make --no-print-directory -s "module-$k" >/dev/null 2>&1
		cmd='r=0; for s in '"$usbscsid_scripts"'; do echo "# script $s";'
		cmd+=' "$s" build/module/'"$k"'/redox_uring.ko; echo "# script $s exit $?"; done'
		boot "$log" -k "$k" -t 1500 -- "$cmd"
		rc=$?
		for s in $usbscsid_scripts; do
			sec=$out/usbscsid-$(basename "$s" .sh)-$k.log
			sed -n "\|^# script $s\$|,\|^# script $s exit|p" "$log" >"$sec"
			count_tap "$s ($k)" "$sec"
			plan=$(sed -nE 's/^1\.\.([0-9]+)$/\1/p' "$sec" | tail -n 1)
			got=$(grep -cE '^(not )?ok [0-9]+' "$sec")
			if grep -q "^# script $s exit 0\$" "$sec" && [ "${plan:-0}" -eq "$got" ] &&
			   [ "$got" -gt 0 ]; then
				record PASS "$s: complete, $got of plan $plan ($k)"
			else
				record FAIL "$s ($k): plan ${plan:-missing}, $got results (log: ${log#"$top"/})"
			fi
		done
		if [ $rc -eq 0 ]; then
			record PASS "usbscsid guest run and dmesg clean ($k)"
		else
			record FAIL "usbscsid guest run and dmesg clean ($k), exit $rc (log: ${log#"$top"/})"
			tail -n 30 "$log" | sed 's/^/    /'
		fi
	done
}
# and the whole chain (xhcid spawning usbscsid, Linux's usb-storage on the
# same stick, the stick pulled) in the USB rig's guests, where there are
#   selftests/drivers/usbscsid-usb.sh
usb_scripts="${usb_scripts:-} selftests/drivers/usbscsid-usb.sh"
# and bulk data straight between the stick and usbscsid's pool (xhcid
# maps the pool for DMA, and unmaps it when usbscsid goes):
#   selftests/drivers/usb-pool-dma.sh
usb_scripts="$usb_scripts selftests/drivers/usb-pool-dma.sh"

case $what in
stress)
	stress_checks
	;;
drivers)
	usbscsid_checks
	driver_checks
	;;
usb)
	usb_checks
	;;
xhcid)
	xhcid_checks
	;;
style)
	style_checks
	;;
docs)
	docs_checks
	;;
all)
	if ! make --no-print-directory deps >"$out/deps.log" 2>&1; then
		record FAIL "make deps (log: build/check/deps.log)"
	fi
	uapi_checks
	host_checks
	docs_checks
	module_builds
	style_checks
	guest_checks
	usbscsid_checks
	driver_checks
	usb_checks
	xhcid_checks
	stress_checks
	;;
*)
	echo "usage: $0 [all|style|docs|stress|drivers|usb|xhcid]" >&2
	exit 2
	;;
esac

echo "$pass $fail" >"$out/summary"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
