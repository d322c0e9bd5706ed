#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/pcid.sh - pcid's failure cases in the VFIO guest
# (selftests/vm/run.sh -V), issue 5 item 5.  Prints TAP.
#
#   selftests/vm/run.sh -V -k 6.12 -- selftests/drivers/pcid.sh [redox_uring.ko]
#
# 1. Original drivers: the guest has no udev, so xhci_pci, nvme and e1000e
#    are loaded here and bind their devices; those, and edu (no driver),
#    are what release must restore.
# 2. pcid binds all four (rules for each; edu's driver is a wrapper, the
#    others a sleep) to vfio-pci.
# 3. Bad requests: edu's first driver runs `pcid-u2u-check --errors`,
#    every bad request of rxu_pci.h with its error, on the u2u ring and
#    on paths, and a second connection's CLAIM refused with EBUSY.
# 4. It then execs `edud --dma-loop 0`; a second edud with the same
#    token and address is refused (EBUSY) while the first keeps going.
# 5. edud is killed with SIGKILL in the middle of its DMA loop: pcid
#    lives on, the function is disabled before the restart (bus master and
#    MSI off, as the new driver finds it), the restarted edud claims it and
#    passes its checks, DMA both ways included.
# 6. pcid's config-space view (u2u CONFIG_READ with the admin token, and
#    FETCH_CONFIG) equals sysfs's for every function.
# 7. SIGTERM: every function is back on its original driver; then a pcid
#    killed with SIGKILL and `pcid --release` from its state file, again.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
ko=${1:-build/module/${RXU_VM_KVER:-$(uname -r)}/redox_uring.ko}
pcid=$top/build/userspace/pcid/pcid
edud=$top/build/userspace/edud/edud
chk=$top/build/userspace/pcid/pcid-u2u-check
w=/tmp/pcid-t
n=0
fails=0

t0=$(date +%s)
ok() { n=$((n + 1)); echo "ok $n - $*"; }
stamp() { echo "# $(($(date +%s) - t0)) s: $*"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { # check DESC CMD...
	d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}
finish() {
	echo "1..$n"
	echo "# pcid.sh: $fails of $n failed"
	[ "$fails" -eq 0 ]
	exit $?
}
waitfor() { # waitfor SECONDS CMD...
	t=$(($1 * 10))
	shift
	while [ $t -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}
# A TAP file's "ok K - x" lines become ours, numbered on; a file without
# its plan line (the program died) is a failure of its own.
run_tap() { # run_tap PREFIX FILE
	got=0
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "$1: ${line#* - }"; got=$((got + 1)) ;;
		"not ok "*) nok "$1: ${line#* - }"; got=$((got + 1)) ;;
		1..*) plan=${line#1..} ;;
		"#"*) echo "$line" ;;
		*) echo "# $line" ;;
		esac
	done <"$2"
	check "$1: complete (plan ${plan:-missing}, $got results)" \
		test "${plan:--1}" -eq "$got" -a "$got" -gt 0
	plan=
}
driver_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
find_fn() { # find_fn VENDOR DEVICE: the first function with these ids
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ]; then
			echo "${d##*/}"
			return
		fi
	done
}
# Every function (edu xhci nvme e1000e) on the driver named in $1..$4.
drivers_are() {
	[ "$(driver_of "$edu")" = "$1" ] && [ "$(driver_of "$xhci")" = "$2" ] &&
		[ "$(driver_of "$nvme")" = "$3" ] && [ "$(driver_of "$e1k")" = "$4" ]
}
show_drivers() {
	echo "edu=$(driver_of "$edu") xhci=$(driver_of "$xhci") nvme=$(driver_of "$nvme") e1000e=$(driver_of "$e1k")"
}

if [ "${RXU_VM_VFIO:-0}" != 1 ] || [ ! -c /dev/vfio/vfio ]; then
	nok "running in a VFIO guest (selftests/vm/run.sh -V)"
	finish
fi
for x in "$pcid" "$edud" "$chk"; do
	[ -x "$x" ] || { nok "$x is built"; finish; }
done
edu=$(find_fn 0x1234 0x11e8)
xhci=$(find_fn 0x1b36 0x000d)
nvme=$(find_fn 0x1b36 0x0010)
e1k=$(find_fn 0x8086 0x10d3)
if [ -z "$edu" ] || [ -z "$xhci" ] || [ -z "$nvme" ] || [ -z "$e1k" ]; then
	nok "edu, qemu-xhci, nvme, e1000e on the bus ($edu/$xhci/$nvme/$e1k)"
	finish
fi
ok "edu $edu, qemu-xhci $xhci, nvme $nvme, e1000e $e1k on the bus"
if ! insmod "$ko"; then
	nok "insmod $ko"
	finish
fi
ok "insmod $ko"

# 1. The Linux drivers that release must give the functions back to.
modprobe -a xhci_pci nvme e1000e
waitfor 20 drivers_are "" xhci_hcd nvme e1000e
check "original drivers bound: $(show_drivers)" drivers_are "" xhci_hcd nvme e1000e

# 2. pcid with a rule for each function.
stamp "2."
rm -rf "$w"
mkdir -p "$w/conf" "$w/st"
cat >"$w/edu-drv.sh" <<EOF
#!/bin/sh
# edu's driver: spawn 1 checks the bad requests and then loops on DMA;
# later spawns note how they find the function and run edud's checks.
k=\$((\$(cat $w/spawns 2>/dev/null || echo 0) + 1))
echo \$k >$w/spawns
if [ \$k = 1 ]; then
	(umask 077; printf %s "\$PCID_TOKEN" >$w/token)
	$chk --errors "\$1" >$w/errors.tap 2>&1
	echo \$? >$w/errors.rc
	exec $edud --dma-loop 0 "\$1" >$w/loop.out 2>&1
fi
cp /sys/bus/pci/devices/\$1/config $w/config.\$k
exec $edud --rounds 5 "\$1" >$w/run.\$k.out 2>&1
EOF
chmod +x "$w/edu-drv.sh"
{
	printf '[edu]\nvendor = 0x1234\ndevice = 0x11e8\ncommand = %s $ADDR\nrestart = 3\n' "$w/edu-drv.sh"
	printf '[xhci]\nvendor = 0x1b36\ndevice = 0x000d\ncommand = /bin/sleep 900\nrestart = 0\n'
	printf '[nvme]\nvendor = 0x1b36\ndevice = 0x0010\ncommand = /bin/sleep 900\nrestart = 0\n'
	printf '[e1000e]\nvendor = 0x8086\ndevice = 0x10d3\ncommand = /bin/sleep 900\nrestart = 0\n'
} >"$w/conf/rules.conf"
"$pcid" --config "$w/conf" --state-dir "$w/st" -v >"$w/pcid.out" 2>"$w/pcid.err" &
pid=$!
check "pcid serves pci:" waitfor 30 grep -q "serving pci:" "$w/pcid.out"
check "all four bound to vfio-pci: $(show_drivers)" drivers_are vfio-pci vfio-pci vfio-pci vfio-pci

# 3. Bad requests, from edu's first driver.
stamp "3."
if waitfor 60 test -s "$w/errors.rc"; then
	run_tap "bad request" "$w/errors.tap"
	check "pcid-u2u-check --errors exits 0 (status $(cat "$w/errors.rc"))" \
		test "$(cat "$w/errors.rc")" = 0
else
	nok "edu's first driver ran pcid-u2u-check --errors"
fi

# 4. edud in its DMA loop; a second driver for the same function.
stamp "4."
loops() { grep -c '^# dma loop' "$w/loop.out" 2>/dev/null || echo 0; }
loops_past() { [ "$(loops)" -gt "$1" ]; }
check "edud loops on DMA (pcid spawned it)" waitfor 60 loops_past 2
PCID_TOKEN=$(cat "$w/token" 2>/dev/null) PCID_ADDRESS=$edu PCID_SCHEME=pci \
	"$edud" --rounds 1 "$edu" >"$w/second.out" 2>&1
rc=$?
sed 's/^/# second edud: /' "$w/second.out"
check "a second edud for the claimed function is refused (status $rc)" test $rc -eq 2
check "... with EBUSY" grep -q "Device or resource busy" "$w/second.out"
before=$(loops)
check "the first edud's DMA goes on (past $before round trips)" waitfor 30 loops_past "$before"

# 5. kill -9 in the middle of the DMA loop.
stamp "5."
dpid=$(pgrep -f -- "--dma-loop 0" | head -n 1)
before=$(loops)
kill -9 "$dpid" 2>/dev/null
check "edud (pid ${dpid:-none}) killed after $before DMA round trips" test -n "$dpid"
check "pcid reports the kill" waitfor 10 grep -q "$edu: driver killed by signal 9" "$w/pcid.err"
check "pcid runs on" kill -0 $pid
check "pcid restarts edu's driver" waitfor 30 test -s "$w/config.2"
if [ -s "$w/config.2" ]; then
	cmd=$(od -An -tx1 -j4 -N1 "$w/config.2" | tr -d ' ')
	check "the restarted driver finds bus mastering off (Command $cmd)" \
		test $((0x$cmd & 4)) -eq 0
	# MSI control: walk the capability list for id 5.
	cap=$(od -An -tu1 -j52 -N1 "$w/config.2" | tr -d ' ')
	msien=x
	while [ "${cap:-0}" -ne 0 ]; do
		id=$(od -An -tu1 -j"$cap" -N1 "$w/config.2" | tr -d ' ')
		if [ "$id" -eq 5 ]; then
			msien=$(($(od -An -tu1 -j$((cap + 2)) -N1 "$w/config.2" | tr -d ' ') & 1))
			break
		fi
		cap=$(od -An -tu1 -j$((cap + 1)) -N1 "$w/config.2" | tr -d ' ')
	done
	check "... and its MSI disabled (enable bit $msien)" test "$msien" = 0
fi
check "the restarted edud exits 0" waitfor 90 grep -q "$edu: driver exited (status 0)" "$w/pcid.err"
run_tap "edud after the kill" "$w/run.2.out"
check "pcid never failed to reopen the function" \
	sh -c "! grep -q 'cannot reopen' '$w/pcid.err'"
check "pcid runs on" kill -0 $pid

# 6. pcid's config space equals sysfs's, for every function.
stamp "6."
PCID_TOKEN=$(cat "$w/st/pci.token") "$chk" --compare >"$w/compare.tap" 2>&1
rc=$?
run_tap "config view" "$w/compare.tap"
check "pcid-u2u-check --compare exits 0 (status $rc)" test $rc -eq 0

# 7. Release: SIGTERM, then kill -9 and --release.
stamp "7."
kill -TERM $pid
wait $pid
rc=$?
check "pcid exits 0 on SIGTERM (status $rc)" test $rc -eq 0
waitfor 20 drivers_are "" xhci_hcd nvme e1000e
check "SIGTERM gave every function back: $(show_drivers)" drivers_are "" xhci_hcd nvme e1000e
check "state file removed" test ! -e "$w/st/pci.state"

"$pcid" --config "$w/conf" --state-dir "$w/st" --no-spawn >"$w/pcid.out" 2>>"$w/pcid.err" &
pid=$!
waitfor 30 grep -q "serving pci:" "$w/pcid.out"
check "a new pcid bound all four: $(show_drivers)" drivers_are vfio-pci vfio-pci vfio-pci vfio-pci
kill -9 $pid
wait $pid 2>/dev/null
check "after its kill -9 they stay on vfio-pci" drivers_are vfio-pci vfio-pci vfio-pci vfio-pci
"$pcid" --release --state-dir "$w/st" >"$w/release.out" 2>&1
rc=$?
check "pcid --release: status $rc" test $rc -eq 0
waitfor 20 drivers_are "" xhci_hcd nvme e1000e
check "--release gave every function back: $(show_drivers)" drivers_are "" xhci_hcd nvme e1000e

stamp "end"
sed 's/^/# pcid: /' "$w/pcid.err"
check "rmmod redox_uring" rmmod redox_uring
finish
