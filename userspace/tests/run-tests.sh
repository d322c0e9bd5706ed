#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Run TAP test programs, show their output, and print a summary.  A
# program passes when it exits 0, prints its plan and reports as many
# "ok" lines as planned and no "not ok".  Exit status 1 if any failed.

# Leaks are errors too; any sanitizer report stops the program.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

now() { date +%s.%N; }
elapsed() { echo "$1 $2" | awk '{ printf "%.1f", $2 - $1 }'; }

programs=0; bad_programs=""; tests=0; failed=0; skipped=0
start=$(now)
for prog in "$@"; do
	name=$(basename "$prog")
	log=$prog.log
	t0=$(now)
	"$prog" >"$log" 2>&1
	rc=$?
	cat "$log"
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
	ok=$(grep -c '^ok ' "$log")
	notok=$(grep -c '^not ok ' "$log")
	skip=$(grep -c '^ok .*# SKIP' "$log")
	programs=$((programs + 1))
	tests=$((tests + ok + notok))
	failed=$((failed + notok))
	skipped=$((skipped + skip))
	if [ "$rc" -ne 0 ] || [ "$notok" -ne 0 ] || [ -z "$plan" ] ||
	   [ $((ok + notok)) -ne "$plan" ]; then
		bad_programs="$bad_programs $name"
		# A program that died (a sanitizer report, a signal, a leak at
		# exit) reported nothing for the test it was in: say it in TAP,
		# so that whoever only counts "not ok" lines sees it too.
		if [ "$notok" -eq 0 ]; then
			echo "not ok $((ok + 1)) - $name died (exit status $rc) after $ok results; see $log"
			failed=$((failed + 1))
			tests=$((tests + 1))
		fi
		echo "# FAIL $name (exit $rc, plan ${plan:-none}, $ok ok, $notok not ok)"
	else
		echo "# PASS $name ($ok tests, $(elapsed "$t0" "$(now)") s)"
	fi
done
echo "# ==== $programs programs, $tests tests, $failed failed, $skipped skipped, $(elapsed "$start" "$(now)") s"
if [ -n "$bad_programs" ]; then
	echo "# failing programs:$bad_programs"
	exit 1
fi
exit 0
