# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/tap.sh - TAP helpers for the drivers' guest scripts.
# Source it (". selftests/drivers/tap.sh"); it keeps the count in n and the
# failures in fails, and finish prints the plan "1..n" last.

n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { # check DESC CMD...: ok if CMD succeeds
	tap_d=$1
	shift
	if "$@"; then ok "$tap_d"; else nok "$tap_d"; fi
}
finish() { # the plan, a summary, and exit 0 only if nothing failed
	echo "1..$n"
	echo "# ${0##*/}: $fails of $n failed"
	[ "$fails" -eq 0 ]
	exit $?
}
waitfor() { # waitfor SECS CMD...: until CMD succeeds, at most SECS seconds
	tap_t=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -lt "$tap_t" ] || return 1
		sleep 0.3
	done
}
