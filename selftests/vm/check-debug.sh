#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/vm/check-debug.sh - what `make check-debug` runs: the whole
# selftest suite in a guest on the debug kernel (KASAN, KFENCE, lockdep,
# kmemleak, UBSAN, fault injection; selftests/vm/debug.config), then a
# kmemleak scan. Any kernel report fails it.
#
# Steps, each a PASS/FAIL line, then "N passed, N failed" (cases of the suite
# included, as in make check):
#   1. the debug kernel, built or taken from its cache (debug-kernel.sh)
#   2. redox_uring.ko against it, W=1 -Werror (with -g, so that addresses in
#      reports can be decoded: see below), in build/module-debug/<release>/
#   3. librxu, the tools and the selftests
#   4. one guest (run.sh -K): kmemleak scan + clear of what boot left, then
#      run_tests.sh (insmod, every program, rmmod; failnth, which needs
#      this kernel's fault injection, among them), then the fuzzer
#      (insmod, fuzz -s SEED -n OPS with its scheme providers, rmmod),
#      then two kmemleak scans 5 s apart. The run fails on a non-empty
#      kmemleak report, and run.sh fails it on any KASAN/KFENCE/lockdep/
#      UBSAN/BUG/WARNING line in dmesg (scan-dmesg.sh) or a B/D/W/L taint.
#
# Outputs in build/check-debug/: guest.log (TAP), dmesg.txt, console.txt,
# kmemleak.txt, fuzz.txt (the fuzzer's report), modules.txt (where the
# module was loaded), build logs.
#
# Environment: RXU_DEBUG_TIMEOUT (the guest's time limit, default 5400 s),
# RXU_TEST_TIMEOUT (per test program, default 600 s from the settings file:
# raise it if one program is slow under KASAN), RXU_DEBUG_MEM (2G; KASAN
# takes 1/8 of memory for its shadow), RXU_DEBUG_CPUS (2), RXU_TEST_LIST,
# RXU_DEBUG_KERNEL_DIR and RXU_DEBUG_KERNEL_JOBS (debug-kernel.sh),
# RXU_DEBUG_FUZZ_OPS (1000000; 0 leaves the fuzzer out: about 15 min under
# KASAN) and RXU_DEBUG_FUZZ_SEED (1).
#
# Decoding a report: the module is built with -g; for a frame such as
# "rxu_foo+0x12/0x80 [redox_uring]",
#   gdb -batch -ex 'list *(rxu_foo+0x12)' build/module-debug/<release>/redox_uring.ko
# (the kernel itself has no debug info, to keep its build short).

set -u
SELF=$(readlink -f "${BASH_SOURCE[0]}")
top=$(cd "${SELF%/*}/../.." && pwd -P)
cd "$top" || exit 1
out=$top/build/check-debug
mkdir -p "$out"
: >"$out/cases"
pass=0
fail=0
record() { # PASS|FAIL name
	if [ "$1" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
	printf '%s %s\n' "$1" "$2" | tee -a "$out/cases"
}
finish() {
	echo "$pass $fail" >"$out/summary"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
	exit $?
}
step() { # NAME LOG CMD...
	local name=$1 log=$out/$2
	shift 2
	if "$@" >"$log" 2>&1; then
		record PASS "$name"
		return 0
	fi
	record FAIL "$name (log: ${log#"$top"/})"
	tail -n 30 "$log" | sed 's/^/    /'
	return 1
}

# 1. The kernel. Its build prints where it is; minutes to hours the first time.
t0=$(date +%s)
if ! kdir=$(selftests/vm/debug-kernel.sh 2>"$out/kernel.log"); then
	record FAIL "debug kernel build (log: build/check-debug/kernel.log)"
	tail -n 30 "$out/kernel.log" | sed 's/^/    /'
	finish
fi
release=$(cat "$kdir/release")
record PASS "debug kernel $release ($kdir, built in $(cat "$kdir/build-seconds") s)"
t1=$(date +%s)

# 2. The module, from a copy of its sources (objects never mix with make
# modules' ones).
mdir=$top/build/module-debug/$release
# shellcheck disable=SC2317 # called through step
build_module() {
	rm -rf "$mdir" && mkdir -p "$mdir/module" "$mdir/uapi/linux" &&
		cp -p Kbuild "$mdir/" && cp -p module/*.c module/*.h "$mdir/module/" &&
		cp -p uapi/linux/redox_uring.h "$mdir/uapi/linux/" &&
		make -C "$kdir/src" M="$mdir" W=1 KCFLAGS="-Werror -g" modules
}
step "module build W=1 -Werror against $release" build-module.log build_module ||
	finish

# 3. Userspace.
step "librxu, tools and selftests build" build-userspace.log sh -c \
	'make -C userspace && make -C userspace/tools && make -C selftests/redox_uring' ||
	finish

# 4. The guest. kmemleak: a scan + clear first, so that what boot left
# unreferenced is not blamed on the tests; after the suite (which ends with
# rmmod), two scans, since kmemleak reports an object only once it has been
# unreferenced for 5 s and seen so by a scan.
read -r -d '' guest_cmd <<'EOF'
kl=/sys/kernel/debug/kmemleak
o=$RXU_VM_OUT
sleep 6
if ! [ -w $kl ] || ! echo scan >$kl || ! echo clear >$kl; then
	echo "check-debug: kmemleak is not working" >&2
	cat $kl >&2
	exit 125
fi
selftests/redox_uring/run_tests.sh "$RXU_DEBUG_KO"
rc=$?
cat /proc/modules >$o/modules.txt
if [ "$RXU_DEBUG_FUZZ_OPS" -gt 0 ]; then
	if insmod "$RXU_DEBUG_KO"; then
		# O_APPEND: its forked providers share the file
		: >$o/fuzz.txt
		build/selftests/redox_uring/fuzz -s "$RXU_DEBUG_FUZZ_SEED" -n "$RXU_DEBUG_FUZZ_OPS" >>$o/fuzz.txt 2>&1
		frc=$?
		sleep 1
		rmmod redox_uring || frc=99
	else
		frc=98
	fi
	echo $frc >$o/fuzz.rc
	echo "check-debug: fuzz exit $frc: $(grep -aoE 'fuzz: [0-9]+ ops in [0-9.]+ s \([0-9]+ ops/s\)' $o/fuzz.txt)"
	[ $frc -eq 0 ] || [ $rc -ne 0 ] || rc=1
fi
sleep 6
echo scan >$kl && sleep 6 && echo scan >$kl || { echo "check-debug: kmemleak scan failed" >&2; rc=1; }
cat $kl >$o/kmemleak.txt
if [ -s $o/kmemleak.txt ]; then
	echo "check-debug: kmemleak reports $(grep -c '^unreferenced object' $o/kmemleak.txt) leak(s):"
	sed 's/^/# kmemleak: /' $o/kmemleak.txt
	[ $rc -ne 0 ] || rc=1
else
	echo "check-debug: kmemleak: nothing unreferenced"
fi
exit $rc
EOF

# no5lvl: QEMU's "-cpu max" offers LA57, and with 5-level paging this
# KASAN kernel reported a wild-memory-access in an early interrupt during
# identify_cpu (ff11... direct-map address, PID 0, at 1.5 s), which also
# switched lockdep off for the whole run.
# The lockup and stall detectors get more time than their defaults (20 s
# soft lockup, 21 s RCU stall): under TCG on a loaded 2-core host, with
# KASAN, a vCPU can be starved that long without any kernel bug.
# The boot (12 to 25 s to the command) is tried up to six times, each
# given 120 s: under TCG on a loaded host this kernel hangs early in boot,
# before any module is involved, in up to three boots of four (loglevel=8
# shows where: after "Running RCU-tasks wait API self tests", before the
# early initcalls' "Performance Events" line; the self tests come with
# PROVE_LOCKING, and Debian's kernels never hang there).
gt0=$(date +%s)
rc=125
fuzz_ops=${RXU_DEBUG_FUZZ_OPS:-1000000}
for attempt in 1 2 3 4 5 6; do
	rm -f "$out/kmemleak.txt" "$out/fuzz.rc" "$out/fuzz.txt"
	RXU_DEBUG_KO=$mdir/redox_uring.ko RXU_VM_OUT=$out \
		RXU_DEBUG_FUZZ_OPS=$fuzz_ops RXU_DEBUG_FUZZ_SEED=${RXU_DEBUG_FUZZ_SEED:-1} \
		RXU_VM_BOOT_TIMEOUT=${RXU_VM_BOOT_TIMEOUT:-120} \
		selftests/vm/run.sh -K "$kdir/src/arch/x86/boot/bzImage" -M "$kdir/mod/lib/modules/$release" \
		-m "${RXU_DEBUG_MEM:-2G}" -c "${RXU_DEBUG_CPUS:-2}" -t "${RXU_DEBUG_TIMEOUT:-5400}" \
		-a "no5lvl watchdog_thresh=60 rcupdate.rcu_cpu_stall_timeout=120" \
		-- "$guest_cmd" >"$out/guest.log" 2>&1
	rc=$?
	if [ $rc -ne 125 ] || ! grep -qE 'never started the command|did not start the command' "$out/guest.log"; then
		break
	fi
	echo "note: the debug guest did not boot (attempt $attempt); last console lines:"
	tail -n 3 "$out/console-$release.txt" 2>/dev/null | sed 's/^/    /'
done
gt1=$(date +%s)
mv -f "$out/dmesg-$release.txt" "$out/dmesg.txt" 2>/dev/null
mv -f "$out/console-$release.txt" "$out/console.txt" 2>/dev/null

line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out/guest.log" | tail -n 1)
p=$(echo "$line" | sed -nE 's/^([0-9]+) passed.*/\1/p')
f=$(echo "$line" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')
pass=$((pass + ${p:-0}))
fail=$((fail + ${f:-0}))
printf 'kselftests in the debug guest: %s (%d s)\n' "${line:-no count}" $((gt1 - gt0)) |
	tee -a "$out/cases"
grep -E '^not ok|^# *not ok' "$out/guest.log" | head -n 20 | sed 's/^/    /'
if [ "$fuzz_ops" -gt 0 ]; then
	fline=$(grep -aoE 'fuzz: [0-9]+ ops in [0-9.]+ s \([0-9]+ ops/s\)' "$out/fuzz.txt" 2>/dev/null)
	if [ "$(cat "$out/fuzz.rc" 2>/dev/null)" = 0 ]; then
		record PASS "fuzz -s ${RXU_DEBUG_FUZZ_SEED:-1} -n $fuzz_ops, then rmmod ($fline)"
	else
		record FAIL "fuzz -s ${RXU_DEBUG_FUZZ_SEED:-1} -n $fuzz_ops: exit $(cat "$out/fuzz.rc" 2>/dev/null || echo none) (build/check-debug/fuzz.txt)"
		tail -n 20 "$out/fuzz.txt" 2>/dev/null | sed 's/^/    /'
	fi
fi
if [ -s "$out/kmemleak.txt" ]; then
	record FAIL "kmemleak after the suite: $(grep -c '^unreferenced object' "$out/kmemleak.txt") object(s) (build/check-debug/kmemleak.txt)"
elif [ -e "$out/kmemleak.txt" ]; then
	record PASS "kmemleak after the suite: nothing unreferenced"
else
	record FAIL "kmemleak after the suite: no scan (the guest did not get that far)"
fi
if [ $rc -eq 0 ]; then
	record PASS "debug guest run and dmesg clean ($release)"
else
	record FAIL "debug guest run and dmesg clean ($release), exit $rc (logs: build/check-debug/guest.log, dmesg.txt)"
	grep -E '^vm: ' "$out/guest.log" | tail -n 30 | sed 's/^/    /'
fi
echo "times: kernel $((t1 - t0)) s (cached: ${kdir##*/}), guest $((gt1 - gt0)) s" | tee -a "$out/cases"
finish
