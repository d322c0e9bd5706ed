# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usbscsid-lib.sh - what usbscsid.sh and usbscsid-nbd.sh
# share: TAP output, a scratch directory, background daemons stopped at
# the end, polling, rxu-nbd started and connected to /dev/nbd0.  Sourced
# with NAME set to the script's name; defines top, ko, tmp and the paths
# of the binaries.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
ko=${1:-build/module/${RXU_VM_KVER:-$(uname -r)}/redox_uring.ko}
usbscsid=$top/build/userspace/usbscsid/usbscsid
memd=$top/build/userspace/memd/memd
nbd=$top/build/userspace/tools/rxu-nbd
rxuctl=$top/build/userspace/tools/rxuctl
n=0
fails=0
tmp=$(mktemp -d /tmp/rxu-usbscsid.XXXXXX)
pids=

ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { # check DESC CMD...
	d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
diag() { echo "# $*"; }

cleanup() {
	umount "$tmp/mnt" 2>/dev/null
	nbd-client -d /dev/nbd0 >/dev/null 2>&1
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	pids=
}

# The module goes at the end (the next script in the same guest loads
# it again): every daemon and fd of ours must be gone by then.
loaded=0
finish() {
	cleanup
	if [ "$loaded" = 1 ]; then
		loaded=0
		wait_for 10 rmmod redox_uring 2>/dev/null
		check "rmmod redox_uring" test ! -d /sys/module/redox_uring
	fi
	echo "1..$n"
	echo "# $NAME: $fails of $n failed"
	[ "$fails" -eq 0 ]
	exit $?
}

# wait_for SECS CMD...: poll CMD every 0.1 s for up to SECS seconds.
wait_for() {
	_end=$(($(date +%s) + $1))
	shift
	while [ "$(date +%s)" -le $_end ]; do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# need TOOL... and BINARY...: a case that fails (and ends) if one is missing.
need() {
	for _x in "$@"; do
		case $_x in
		/*) [ -x "$_x" ] || { nok "$_x is built"; finish; } ;;
		*) command -v "$_x" >/dev/null 2>&1 ||
			{ nok "$_x is installed (make deps)"; finish; } ;;
		esac
	done
}

load_module() {
	if ! insmod "$ko"; then
		nok "insmod $ko"
		finish
	fi
	ok "insmod $ko"
	loaded=1
}

# start_nbd ARGS... (SOCKET PATH last): rxu-nbd in the background,
# NBD_PID; 0 once it says it is serving.
start_nbd() {
	"$nbd" "$@" >"$tmp/nbd.out" 2>&1 &
	NBD_PID=$!
	pids="$pids $NBD_PID"
	wait_for 10 grep -q "serving" "$tmp/nbd.out"
}

# connect SOCKET: nbd-client puts the export on /dev/nbd0.
connect() {
	nbd-client -unix "$1" /dev/nbd0 -b 4096 >"$tmp/client.out" 2>&1 &&
		wait_for 10 test "$(cat /sys/block/nbd0/size 2>/dev/null)" != 0
}

# pins: "ACQUIRED RELEASED", /proc/vmstat's FOLL_PIN page counters
# (folded by stat_refresh); a zero-copy scheme answer pins the
# consumer's pages for the kernel's one copy, in the provider's ENTER.
pins() {
	echo 1 >/proc/sys/vm/stat_refresh
	awk '$1 == "nr_foll_pin_acquired" { a = $2 } $1 == "nr_foll_pin_released" { r = $2 } END { print a, r }' /proc/vmstat
}

# rd PATH: the file through the ring on stdout
rd() { "$rxuctl" open -i "$1" -- cat; }
# errof PATH [-w]: rxuctl's error opening PATH (empty: it opened)
errof() { "$rxuctl" open "$@" -- true 2>&1 | sed 's/.*: //'; }
# FSTAT through a ring: rxu-nbd asks it and says the size ("(N bytes)").
fstat_size() {
	"$nbd" -r -1 "$tmp/size.sock" "$1" >"$tmp/size.out" 2>&1 &
	_p=$!
	wait_for 10 grep -q serving "$tmp/size.out"
	kill "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
	sed -n 's/.*(\([0-9]*\) bytes.*/\1/p' "$tmp/size.out"
}

# rig_xhci: the USB rig's xHCI, from its topology ($topo): ids
# (vendor:device) and addr (its PCI address, empty if it is not there).
rig_xhci() {
	ids=$(awk '$1 == "controller" { print $3 }' "$topo")
	addr=
	for _d in /sys/bus/pci/devices/*; do
		[ "$(sed 's/^0x//' "$_d/vendor"):$(sed 's/^0x//' "$_d/device")" = "$ids" ] &&
			addr=${_d##*/}
	done
}

# ends_eio PID SECS ERRFILE WHAT: WHAT (process PID, its stderr in ERRFILE)
# ends within SECS, with an I/O error; one that hangs is killed.
ends_eio() {
	if wait_for "$2" sh -c "! kill -0 $1 2>/dev/null"; then
		ok "$4 ends ($(head -n 1 "$3"))"
		check "with an I/O error" grep -q 'Input/output error' "$3"
	else
		nok "$4 ends (it hangs)"
		kill -9 "$1" 2>/dev/null
	fi
}
