#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/vm/scan-dmesg.sh FILE... - does a kernel log show a kernel problem?
#
# Prints the offending lines (and the first report in full) and exits 1 if any
# FILE shows a BUG, WARNING, Oops, general protection fault, lockdep or RCU
# report, leak report, call trace, panic, lockup or stall; exits 0 if all are
# clean, 2 if a FILE cannot be read. run.sh calls it on the guest's dmesg.
#
# RXU_VM_DMESG_ALLOW: an extended regex of extra lines to ignore.

set -euo pipefail

# What a kernel problem looks like (grep -E).
readonly BAD='BUG:|kernel BUG at|WARNING:|Oops|general protection|circular locking|suspicious RCU|kmemleak: [0-9]+ new suspected|unreferenced object|Call Trace|Kernel panic|UBSAN:|soft lockup|hard LOCKUP|blocked for more than [0-9]+ seconds|rcu.*detected stall'

# Lines that match BAD but are not problems: the command line as echoed at
# boot, and the CPU-vulnerability notes printed on some (emulated) CPUs, such
# as "RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable ...".
readonly ALLOW='(Kernel )?[Cc]ommand line:|(RETBleed|Spectre V[12]|Spectre v2|MDS|TAA|MMIO Stale Data|SRBDS|GDS|RFDS|ITS|BHI|VMSCAPE|L1TF|Speculative Store Bypass|x86/bugs) ?: WARNING:'

if (($# == 0)); then
	echo "usage: $0 DMESG-FILE..." >&2
	exit 2
fi

allow=$ALLOW${RXU_VM_DMESG_ALLOW:+|$RXU_VM_DMESG_ALLOW}
rc=0
for f in "$@"; do
	if [[ ! -r $f ]]; then
		echo "scan-dmesg: cannot read $f" >&2
		exit 2
	fi
	hits=$(grep -nE -- "$BAD" "$f" | grep -vE -- "$allow" || true)
	[[ -n $hits ]] || continue
	rc=1
	n=$(wc -l <<<"$hits")
	echo "scan-dmesg: $f: $n line(s) show a kernel problem:"
	head -n 40 <<<"$hits" | sed 's/^/  /'
	((n <= 40)) || echo "  ... ($((n - 40)) more)"
	first=${hits%%:*}
	echo "scan-dmesg: the first report, from line $first:"
	sed -n "$((first > 2 ? first - 2 : 1)),$((first + 40))p" "$f" | sed 's/^/  | /'
done
exit "$rc"
