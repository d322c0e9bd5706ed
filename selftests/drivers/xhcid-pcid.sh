#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/xhcid-pcid.sh - xhcid as pcid spawns it, and the
# class drivers xhcid spawns, in the VFIO guest.  Prints TAP.
#
#   selftests/vm/run.sh -V -k 6.12 -q "$(selftests/drivers/xhcid.sh --qemu-args)" \
#       -- selftests/drivers/xhcid-pcid.sh [redox_uring.ko]
#
# pcid gets a rule for the nec-usb-xhci (1033:0194) that runs xhcid; xhcid
# gets its VFIO fds from pcid by PASS_FD, claims the function, takes MSI-X
# through pcid, serves usbp: and, by its own INI rule for HID interfaces,
# configures the tablet and spawns a class driver with the XHCID_*
# environment and the device token.  The token opens that device's
# request file and no other's.  Then xhcid is killed with SIGKILL: its
# driver dies with it, pcid restarts xhcid, which resets the controller,
# enumerates again and spawns the driver again with a new token.
set -u
. "$(dirname "$0")/xhcid-lib.sh"
usbreq=$top/build/userspace/xhcid/usbreq
pcid=$top/build/userspace/pcid/pcid
NX=0000:00:11.0

need_vfio_guest
load_module
check "xhcid, usbreq and pcid are built" test -x "$xhcid" -a -x "$usbreq" -a -x "$pcid"
c=$(mktemp -d /tmp/xhcid-p.XXXXXX)
mkdir -p "$c/pcid.d" "$c/xhcid.d"
cat >"$c/pcid.d/xhci.conf" <<EOT
[xhci-nec]
vendor = 0x1033
device = 0x0194
command = $xhcid --scheme usbp --token-file $c/token --config $c/xhcid.d \$ADDR
restart = 3
EOT
cat >"$c/drv.sh" <<EOT
#!/bin/sh
env | grep '^XHCID_' | sort >"$c/env.\$XHCID_PORT.\$\$"
$usbreq open "\$XHCID_SCHEME:\$XHCID_PORT/request?token=\$XHCID_TOKEN" >"$c/own.\$\$"
$usbreq open "\$XHCID_SCHEME:port2/request?token=\$XHCID_TOKEN" >"$c/other.\$\$"
exec sleep 1000
EOT
chmod +x "$c/drv.sh"
cat >"$c/xhcid.d/hid.conf" <<EOT
[hidtest]
class = 0x03
command = $c/drv.sh \$SCHEME \$PORT \$INTERFACE
EOT
"$pcid" --config "$c/pcid.d" --state-dir "$c" >"$c/out" 2>&1 &
pp=$!

wait_for() { wait_grep "$1" "$2" "$c/out"; }
check "pcid spawns xhcid for 1033:0194, which serves usbp:" wait_for 1 'serving usbp:'
check "xhcid got the function through pcid (no VFIO of its own)" \
	test "$(basename "$(readlink /sys/bus/pci/devices/$NX/driver)")" = vfio-pci
check "it configures the tablet and starts the class driver of the HID rule" \
	wait_for 1 'interface 0: hidtest started'
sleep 2
"$usbreq" cat usbp: >"$c/list"
sed 's/^/# usbp: /' "$c/list"
check "the listing names the tablet's driver: 'port5 configured high 0627:0001 00/00/00 hidtest'" \
	grep -q '^port5 configured high 0627:0001 00/00/00 hidtest$' "$c/list"
check "the storage device has no driver: 'port2 addressed super 46f4:0001 00/00/00 -'" \
	grep -q '^port2 addressed super 46f4:0001 00/00/00 -$' "$c/list"
envf=$(ls "$c"/env.port5.* 2>/dev/null | head -1)
check "the driver's environment: XHCID_SCHEME, PORT, INTERFACE, RULE, TOKEN" sh -c \
	"grep -qx XHCID_SCHEME=usbp '$envf' && grep -qx XHCID_PORT=port5 '$envf' &&
	 grep -qx XHCID_INTERFACE=0 '$envf' && grep -qx XHCID_RULE=hidtest '$envf' &&
	 grep -qE '^XHCID_TOKEN=[0-9a-f]{32}\$' '$envf'"
pid1=${envf##*.}
check "the device token opens its device's request file" grep -qx ok "$c/own.$pid1"
check "the device token is EACCES on another device" grep -qx 'error EACCES' "$c/other.$pid1"
tok1=$(grep XHCID_TOKEN "$envf")
xp=$(pgrep -o -f '[-]-scheme usbp')
diag "xhcid pid ${xp:-?}, its driver pid $pid1"
kill -9 "$xp"
sleep 1
check "the class driver died with xhcid (SIGKILL)" sh -c "! kill -0 $pid1 2>/dev/null"
check "pcid restarts xhcid, which serves usbp: again" wait_for 2 'serving usbp:'
check "the restarted xhcid enumerates and starts the driver again" \
	wait_for 2 'interface 0: hidtest started'
sleep 2
"$usbreq" cat usbp: >"$c/list2"
check "the listing is the same as before the kill" cmp -s "$c/list" "$c/list2"
envf2=$(ls -t "$c"/env.port5.* | head -1)
check "the new driver has a new token" test "$(grep XHCID_TOKEN "$envf2")" != "$tok1"
check "the old token is refused now (EACCES)" sh -c \
	"'$usbreq' open 'usbp:port5/request?token=${tok1#XHCID_TOKEN=}' | grep -qx 'error EACCES'"
kill "$pp"
i=0
while [ $i -lt 100 ] && kill -0 "$pp" 2>/dev/null; do
	sleep 0.2
	i=$((i + 1))
done
check "pcid ends on SIGTERM within 20 s" sh -c "! kill -0 $pp 2>/dev/null"
check "and xhcid with it" sh -c "! pgrep -f '[-]-scheme usbp' >/dev/null"
kill -9 "$pp" $(pgrep -f '[-]-scheme usbp') 2>/dev/null
sed 's/^/# pcid: /' "$c/out"
bind "$NX" ""
rm -rf "$c"
finish
