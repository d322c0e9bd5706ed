#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/vm/selftest.sh [KERNEL...] - check the VM rig itself.
#
# Checks scan-dmesg.sh on made-up logs, then runs a set of cases through
# run.sh on each KERNEL (default: $RXU_VM_SELFTEST_KERNELS, else "6.1 6.12",
# each meaning the newest installed kernel of that series) and prints the
# boot-to-command times. Exits 0 if every check passed.

# The guest commands are in single quotes on purpose: the guest expands them.
# shellcheck disable=SC2016
set -uo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$SELF_DIR/../.." && pwd -P)
RUN=$SELF_DIR/run.sh
SCAN=$SELF_DIR/scan-dmesg.sh
readonly SELF_DIR REPO RUN SCAN

if (($#)); then kernels=("$@"); else read -r -a kernels <<<"${RXU_VM_SELFTEST_KERNELS:-6.1 6.12}"; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rxu-vm-selftest.XXXXXX")
# The results share of these runs: under build/ so the guest can see it.
export RXU_VM_OUT=$REPO/build/vm/selftest-out.$$
mkdir -p "$RXU_VM_OUT"
trap 'rm -rf "$work" "$RXU_VM_OUT"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'ok     %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'FAIL   %s\n' "$*"; }

# expect WANT_STATUS NAME STATUS
expect() {
	if [[ $3 == "$1" ]]; then ok "$2"; else bad "$2: exit status $3, want $1"; fi
}

# ---------------------------------------------------------------- scanner

echo "# scan-dmesg.sh on made-up logs"
clean=$work/clean.txt
cat >"$clean" <<'EOF'
[    0.000000] Linux version 6.1.0-0-amd64 (fake)
[    0.000000] Command line: console=ttyS0 rxu.note=BUG:not-really
[    0.010000] Kernel command line: console=ttyS0 rxu.note=BUG:not-really
[    0.120000] RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed attacks, data leaks possible!
[    0.130000] Spectre V2 : WARNING: Unprivileged eBPF is enabled with eIBRS on, data leaks possible via Spectre v2 BHB attacks!
[    1.000000] redox_uring: loading out-of-tree module taints kernel.
[    1.000001] redox_uring: module verification failed: signature and/or required key missing - tainting kernel
EOF
if "$SCAN" "$clean" >"$work/scan.out" 2>&1; then ok "scan: clean log passes"; else bad "scan: clean log flagged:"; cat "$work/scan.out"; fi

while IFS= read -r line; do
	printf '%s\n' "[    0.000000] Linux version 6.1.0-0-amd64 (fake)" "$line" >"$work/dirty.txt"
	"$SCAN" "$work/dirty.txt" >"$work/scan.out" 2>&1
	st=$?
	if ((st == 1)) && grep -qF -- "${line:15:20}" "$work/scan.out"; then
		ok "scan: flags '${line:15:45}'"
	else
		bad "scan: status $st for '${line:15}'"
	fi
done <<'EOF'
[    5.000000] BUG: kernel NULL pointer dereference, address: 0000000000000008
[    5.000000] kernel BUG at mm/slub.c:123!
[    5.000000] WARNING: CPU: 1 PID: 42 at drivers/rxu/ring.c:10 rxu_ring_enter+0x10/0x20 [redox_uring]
[    5.000000] Oops: 0002 [#1] PREEMPT SMP NOPTI
[    5.000000] general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1]
[    5.000000] WARNING: possible circular locking dependency detected
[    5.000000] WARNING: suspicious RCU usage
[    5.000000] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)
[    5.000000] unreferenced object 0xffff888003a1c000 (size 64):
[    5.000000] Call Trace:
[    5.000000] Kernel panic - not syncing: Fatal exception
[    5.000000] UBSAN: array-index-out-of-bounds in drivers/rxu/ring.c:10:5
[    5.000000] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [rxu:42]
[    5.000000] INFO: task rxu:42 blocked for more than 120 seconds.
[    5.000000] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:
EOF
printf '%s\n' '[    5.000000] Call Trace:' >"$work/dirty.txt"
RXU_VM_DMESG_ALLOW='Call Trace' "$SCAN" "$work/dirty.txt" >/dev/null 2>&1
expect 0 "scan: RXU_VM_DMESG_ALLOW silences a line" $?
"$SCAN" "$work/no-such-file" >/dev/null 2>&1
expect 2 "scan: unreadable file is an error" $?

# ---------------------------------------------------------------- guests

declare -A boots=()

# vm NAME RUN-ARGS... : run.sh with no stdin; its stdout in $work/out,
# stderr in $work/err; sets $st.
vm() {
	local name=$1 b
	shift
	"$RUN" "$@" </dev/null >"$work/out" 2>"$work/err"
	st=$?
	b=$(sed -n 's/.*boot-to-command \([0-9.]*\) s.*/\1/p' "$work/err" | tail -n 1)
	[[ -n $b ]] && boots[$kernel]+=" $b"
	if [[ ${VERBOSE:-0} == 1 ]]; then
		echo "--- $name: exit $st"
		sed 's/^/  out| /' "$work/out"
		sed 's/^/  err| /' "$work/err"
	fi
}
show() { sed 's/^/         | /' "$work/out" "$work/err" | tail -n 30; }

for kernel in "${kernels[@]}"; do
	if ! kver=$("$RUN" -k "$kernel" -p); then
		bad "[$kernel] no such kernel"
		continue
	fi
	echo "# kernel $kernel: $kver"

	vm true -k "$kernel" -- true
	expect 0 "[$kernel] true" "$st"

	vm exit3 -k "$kernel" -- 'exit 3'
	expect 3 "[$kernel] exit 3" "$st"

	vm argv -k "$kernel" -- printf '[%s]\n' "a b" "c'd" '$HOME' '*'
	if ((st == 0)) && [[ $(<"$work/out") == $'[a b]\n[c\'d]\n[$HOME]\n[*]' ]]; then
		ok "[$kernel] arguments keep their words and quotes"
	else
		bad "[$kernel] arguments:"; show
	fi

	token=$kernel-$$-$RANDOM
	rm -f "$RXU_VM_OUT/token"
	vm out -k "$kernel" -- 'id -u; pwd; uname -r; echo '"$token"' >"$RXU_VM_OUT/token"'
	if ((st == 0)) && [[ $(cat "$RXU_VM_OUT/token" 2>/dev/null) == "$token" ]] &&
		[[ $(sed -n 1p "$work/out") == 0 && $(sed -n 2p "$work/out") == "$PWD" ]] &&
		[[ $(sed -n 3p "$work/out") == "$kver" ]]; then
		ok "[$kernel] root, same cwd, file written to \$RXU_VM_OUT seen by the host"
	else
		bad "[$kernel] out share / cwd / uname (status $st):"; show
	fi
	if [[ -s $RXU_VM_OUT/dmesg-$kver.txt ]] && grep -q 'Linux version' "$RXU_VM_OUT/dmesg-$kver.txt"; then
		ok "[$kernel] guest dmesg saved to \$RXU_VM_OUT/dmesg-$kver.txt"
	else
		bad "[$kernel] no dmesg-$kver.txt in $RXU_VM_OUT"
	fi

	# A module from the guest's /lib/modules, and one insmod'ed from a path
	# in the tree, as the project does with its own freshly built .ko.
	ko=$(find "/lib/modules/$kver/kernel/drivers/net" -name 'dummy.ko*' | head -n 1)
	mkdir -p "$RXU_VM_OUT/ko"
	case $ko in
	*.xz) xz -dc "$ko" >"$RXU_VM_OUT/ko/dummy.ko" ;;
	*.zst) zstd -qdc "$ko" >"$RXU_VM_OUT/ko/dummy.ko" ;;
	*) cp "$ko" "$RXU_VM_OUT/ko/dummy.ko" ;;
	esac
	vm insmod -k "$kernel" -- 'set -e; modprobe brd rd_nr=1 rd_size=1024; test -b /dev/ram0; rmmod brd
		/sbin/insmod "$RXU_VM_OUT/ko/dummy.ko"; grep -q "^dummy " /proc/modules
		ip link add rxu0 type dummy; ip link del rxu0; rmmod dummy; echo insmod-ok'
	if ((st == 0)) && grep -q insmod-ok "$work/out"; then
		ok "[$kernel] modprobe brd, /sbin/insmod of a .ko from the tree, rmmod"
	else
		bad "[$kernel] insmod (status $st):"; show
	fi

	# Kernel complaints fail the run: a real call trace (sysrq-l shows the
	# CPUs' backtraces) and a WARNING line in the guest's kernel log.
	vm trace -k "$kernel" -- 'echo l >/proc/sysrq-trigger; sleep 1'
	if ((st == 1)) && grep -q 'Call Trace' "$work/err"; then
		ok "[$kernel] a kernel call trace fails the run (exit 1)"
	else
		bad "[$kernel] call trace: status $st"; show
	fi
	vm warn -k "$kernel" -- 'echo "WARNING: CPU: 0 PID: 1 at selftest.c:1 rxu_selftest+0x0/0x1" >/dev/kmsg; exit 7'
	if ((st == 7)) && grep -q 'WARNING: CPU: 0 PID: 1 at selftest.c' "$work/err"; then
		ok "[$kernel] a WARNING fails the run, the command's own status is kept"
	else
		bad "[$kernel] warning: status $st"; show
	fi

	vm panic -k "$kernel" -- 'echo c >/proc/sysrq-trigger'
	if ((st == 123)) && grep -q 'panicked' "$work/err"; then
		ok "[$kernel] a guest kernel panic is reported (exit 123)"
	else
		bad "[$kernel] panic: status $st"; show
	fi

	vm timeout -k "$kernel" -t 3 -- 'sleep 600'
	if ((st == 124)) && grep -q 'timed out' "$work/err"; then
		ok "[$kernel] a command over its time limit is stopped (exit 124)"
	else
		bad "[$kernel] timeout: status $st"; show
	fi

	# A command stuck in the kernel (D state: writing to a frozen ext4) cannot
	# be killed: the guest shows the blocked tasks and stops by itself. The
	# mount also needs module autoloading (ext4) to work in the chroot.
	vm stuck -k "$kernel" -t 3 -- 'set -e; modprobe brd rd_nr=1 rd_size=8192
		mkfs.ext4 -q /dev/ram0; mkdir /tmp/m; mount /dev/ram0 /tmp/m
		fsfreeze -f /tmp/m; echo x >/tmp/m/f'
	if ((st == 124)) && grep -q 'could not be killed' "$work/err" &&
		grep -q 'Show Blocked State' "$RXU_VM_OUT/dmesg-$kver.txt"; then
		ok "[$kernel] a command stuck in the kernel: blocked tasks logged (exit 124)"
	else
		bad "[$kernel] stuck: status $st"; show
	fi
done

"$RUN" -q "-no-such-qemu-option" -- true </dev/null >"$work/out" 2>"$work/err"
st=$?
if ((st == 125)) && grep -q 'never started' "$work/err"; then
	ok "QEMU failing to start is reported (exit 125)"
else
	bad "QEMU failing to start: status $st"; show
fi

# Two runs at once must not trip over each other.
if ((${#kernels[@]})); then
	k1=${kernels[0]}
	k2=${kernels[${#kernels[@]} - 1]}
	"$RUN" -k "$k1" -- 'exit 11' </dev/null >"$work/p1" 2>&1 &
	p1=$!
	"$RUN" -k "$k2" -- 'exit 12' </dev/null >"$work/p2" 2>&1 &
	p2=$!
	wait "$p1"; s1=$?
	wait "$p2"; s2=$?
	if ((s1 == 11 && s2 == 12)); then
		ok "two runs at once ($k1, $k2)"
	else
		bad "two runs at once: $s1 $s2"; sed 's/^/         | /' "$work/p1" "$work/p2"
	fi
fi

echo "# boot-to-command times (s), one per guest run, with $(nproc) host CPUs:"
for kernel in "${kernels[@]}"; do
	read -r -a t <<<"${boots[$kernel]-}"
	if ((${#t[@]})); then
		printf '#   %-6s min %s  median %s  max %s  (%d runs)\n' "$kernel" \
			"$(printf '%s\n' "${t[@]}" | sort -g | head -n 1)" \
			"$(printf '%s\n' "${t[@]}" | sort -g | sed -n "$(((${#t[@]} + 1) / 2))p")" \
			"$(printf '%s\n' "${t[@]}" | sort -g | tail -n 1)" "${#t[@]}"
	fi
done
echo "# $pass passed, $fail failed"
((fail == 0))
