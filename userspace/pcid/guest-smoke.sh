#!/bin/sh
# SPDX-License-Identifier: MIT
#
# userspace/pcid/guest-smoke.sh - pcid on QEMU's edu in the VFIO guest,
# through k2u paths only (rxuctl), with a shell "driver".  Prints TAP.
#
#   selftests/vm/run.sh -V -k 6.12 -- userspace/pcid/guest-smoke.sh
#
# Checks: pcid binds edu to vfio-pci and spawns the rule's driver with
# PCID_TOKEN; the driver gets the VFIO device and container fds (PASS_FD)
# and irq/N is ENOENT before interrupts are enabled; no token or a wrong
# one is EACCES; the listing; config space through pci: equals sysfs's
# (admin token; 64 bytes without a token); forbidden config writes; the
# u2u ring (pcid-u2u-check: CLAIM, FETCH_CONFIG, capabilities, MSI by
# SET_CAPABILITY, irq/0 by PASS_FD, mask/unmask, errors); a
# killed driver is restarted; SIGTERM gives edu back; --release after a
# kill -9 gives it back from the state file.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
ko=${1:-build/module/${RXU_VM_KVER:-$(uname -r)}/redox_uring.ko}
pcid=$top/build/userspace/pcid/pcid
rxuctl=$top/build/userspace/tools/rxuctl
st=/tmp/pcid-state
cfg=/tmp/pcid-conf
n=0
fails=0

t0=$(date +%s)
stamp() { echo "# $(($(date +%s) - t0)) s: $*"; }
ok() { n=$((n + 1)); echo "ok $n - $*"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
check() { d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
finish() { echo "1..$n"; echo "# guest-smoke.sh: $fails of $n failed"; exit $((fails != 0)); }
waitfor() { # waitfor SECONDS CMD...
	t=$(($1 * 10)); shift
	while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.1; t=$((t - 1)); done
	return 1
}

dev=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		dev=${d##*/}
	fi
done
[ -n "$dev" ] || { nok "edu on the bus"; finish; }
sys=/sys/bus/pci/devices/$dev
orig=$(basename "$(readlink "$sys/driver" 2>/dev/null)" 2>/dev/null)
insmod "$ko" || { nok "insmod $ko"; finish; }
ok "edu at $dev (driver: ${orig:-none}), module loaded"

stamp "# The driver: prov"
# The "driver": proves what it can get with its token, then waits.
mkdir -p "$cfg" "$st"
cat >/tmp/pcid-drv.sh <<EOF
#!/bin/sh
a=\$1
out=/tmp/pcid-drv.\$\$
{
echo "env \$PCID_ADDRESS \$PCID_SCHEME \$PCID_RULE \${#PCID_TOKEN}"
$rxuctl open "pci:\$a/device?token=\$PCID_TOKEN" "pci:\$a/container?token=\$PCID_TOKEN" -- sh -c 'readlink /proc/self/fd/3; readlink /proc/self/fd/4'
$rxuctl open "pci:\$a/irq/0?token=\$PCID_TOKEN" -- true; echo "irq0 \$?"
$rxuctl open "pci:\$a/device" -- true; echo "notoken \$?"
$rxuctl open "pci:\$a/device?token=0123456789abcdef0123456789abcdef" -- true; echo "badtoken \$?"
printf '\377\377' >/tmp/pcid-bar.bin
$rxuctl open -w "pci:\$a/config?token=\$PCID_TOKEN" -- sh -c 'dd if=/tmp/pcid-bar.bin bs=1 seek=16 2>/dev/null >&3'; echo "barwrite \$?"
printf '\006' >/tmp/pcid-cmd.bin
$rxuctl open -w "pci:\$a/config?token=\$PCID_TOKEN" -- sh -c 'dd if=/tmp/pcid-cmd.bin bs=1 seek=4 2>/dev/null >&3'; echo "cmdwrite \$?"
$top/build/userspace/pcid/pcid-u2u-check \$a | sed 's/^/u2u /'
echo ready
} >\$out 2>&1
mv \$out /tmp/pcid-drv.out
exec sleep 1000
EOF
chmod +x /tmp/pcid-drv.sh
printf '[edu]\nvendor = 0x1234\ndevice = 0x11e8\ncommand = /tmp/pcid-drv.sh $ADDR\nrestart = 2\n' >"$cfg/edu.conf"

stamp "pcid --config c"
"$pcid" --config "$cfg" --state-dir "$st" -v >/tmp/pcid.out 2>/tmp/pcid.err &
pid=$!
check "pcid says it serves pci:" waitfor 20 grep -q "serving pci:" /tmp/pcid.out
drv=$(basename "$(readlink "$sys/driver" 2>/dev/null)" 2>/dev/null)
check "edu bound to vfio-pci (driver: ${drv:-none})" test "$drv" = vfio-pci
check "state file names edu" grep -q "^$dev " "$st/pci.state"
check "the driver ran its checks" waitfor 30 test -f /tmp/pcid-drv.out
sed 's/^/# drv: /' /tmp/pcid-drv.out
check "driver env: address, scheme, rule, 32-char token" \
	grep -q "^env $dev pci edu 32$" /tmp/pcid-drv.out
check "device fd by PASS_FD" grep -q "vfio-device" /tmp/pcid-drv.out
check "container fd by PASS_FD" grep -q "/dev/vfio/vfio" /tmp/pcid-drv.out
check "irq/0 before SET_CAPABILITY: refused" grep -q "^irq0 1" /tmp/pcid-drv.out
check "device without a token: refused" grep -q "^notoken 1" /tmp/pcid-drv.out
check "device with a wrong token: refused" grep -q "^badtoken 1" /tmp/pcid-drv.out
check "a BAR write: refused" grep -q "^barwrite 1" /tmp/pcid-drv.out
check "a Command write (memory + bus master): allowed" grep -q "^cmdwrite 0" /tmp/pcid-drv.out
for want in "attach 0" "pool 0" "caps_unclaimed -13" "claim_bad -13" \
	"claim 0" "claim_again 0" "claim_other -13" "unknown_fn -2" \
	"fetch_config 328 1234:11e8 class 00ff00 rule edu" "get_cap_missing -2" \
	"set_cap_wrong_id -22" "set_cap_missing -2" "set_cap 1" \
	"irq0 anon_inode:\[eventfd\]" "mask 0" "unmask 0" "mask_range -22" \
	"config_write_bar -1" "config_read 256 1234:11e8" "bad_version -38" "done"; do
	check "u2u: $want" grep -q "^u2u $want" /tmp/pcid-drv.out
done
cmd=$(od -An -tx1 -j4 -N1 "$sys/config" | tr -d ' ')
check "Command register is 06 in sysfs ($cmd)" test "$cmd" = 06

stamp "rxuctl open -i pc"
"$rxuctl" open -i pci: -- cat >/tmp/pcid-list 2>&1
sed 's/^/# list: /' /tmp/pcid-list
check "listing: edu running under [edu]" grep -q "^$dev 1234:11e8 00ff00 .* vfio-pci edu running$" /tmp/pcid-list
check "listing has every sysfs function" test "$(wc -l </tmp/pcid-list)" -eq "$(ls /sys/bus/pci/devices | wc -l)"

stamp "tok=(cat st/pci.t"
tok=$(cat "$st/pci.token")
same=1
for d in /sys/bus/pci/devices/*; do
	a=${d##*/}
	"$rxuctl" open -i "pci:$a/config?token=$tok" -- cat >/tmp/pcid-cfg 2>/dev/null
	cmp -s /tmp/pcid-cfg "$d/config" || { same=0; echo "# differs: $a"; }
done
check "config through pci: (admin token) equals sysfs for every function" test $same = 1
"$rxuctl" open -i "pci:$dev/config" -- cat >/tmp/pcid-cfg 2>/dev/null
check "config without a token: the 64-byte header" test "$(wc -c </tmp/pcid-cfg)" -eq 64
"$rxuctl" open "pci:$dev/device?token=$tok" -- true 2>/dev/null
check "the admin token gets no device fd" test $? -ne 0
"$rxuctl" open -i "pci:0000:00:1f.7/config" -- true 2>/dev/null
check "unknown function: refused" test $? -ne 0

stamp "# Crash: kill the dr"
# Crash: kill the driver; pcid restarts it with a new pid after ~1 s.
dpid=$(pgrep -f "sleep 1000" | head -1)
rm -f /tmp/pcid-drv.out
kill -9 "$dpid" 2>/dev/null
check "driver killed: pcid restarts it" waitfor 30 test -f /tmp/pcid-drv.out
check "pcid still runs" kill -0 $pid
check "restarted driver got the device fd with its new token" grep -q "vfio-device" /tmp/pcid-drv.out

stamp "kill -TERM pid"
kill -TERM $pid
wait $pid
rc=$?
check "pcid exits 0 on SIGTERM (status $rc)" test $rc -eq 0
drv=$(basename "$(readlink "$sys/driver" 2>/dev/null)" 2>/dev/null)
check "edu back to its driver (${orig:-none}; now ${drv:-none})" test "$drv" = "$orig"
check "state files removed" test ! -e "$st/pci.state"

stamp "# kill -9 pcid, then"
# kill -9 pcid, then --release from the state file.
"$pcid" --config "$cfg" --state-dir "$st" --no-spawn >/tmp/pcid.out 2>>/tmp/pcid.err &
pid=$!
waitfor 20 grep -q "serving pci:" /tmp/pcid.out
kill -9 $pid
wait $pid 2>/dev/null
"$pcid" --release --state-dir "$st" >/tmp/pcid-rel 2>&1
check "pcid --release after kill -9: status 0" test $? -eq 0
drv=$(basename "$(readlink "$sys/driver" 2>/dev/null)" 2>/dev/null)
check "edu back to its driver after --release (${drv:-none})" test "$drv" = "$orig"
stamp "sed 's/^/# pcid: /' "
sed 's/^/# pcid: /' /tmp/pcid.err
rmmod redox_uring
finish
