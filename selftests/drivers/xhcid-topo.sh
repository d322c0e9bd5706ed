#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/xhcid-topo.sh - xhcid against a topology other than the
# rig's std one, built through the monitor in a guest booted with none:
#
#   connector 1: usb-tablet  (a USB 2 device on a USB 3 connector: port5)
#   connector 2: usb-hub     (port6) with usb-kbd on hub port 1 (port6.1)
#                and usb-ccid, a class no rule matches, on hub port 8,
#                the hub's last (port6.8)
#   connector 3: usb-mouse   (port7)
#   connector 4: usb-storage (SuperSpeed on the last USB 3 port: port4)
#
#   selftests/vm/run.sh -u nec-usb-xhci:none -k 6.1 -- selftests/drivers/xhcid-topo.sh
#
# Checked, for every device Linux's xhci_hcd reports (usb-linux-view.sh,
# the controller handed to xhci_hcd and back): the name xhcid gives it
# (root port from Linux's view, hub ports after it), its vendor:product
# and speed in the listing, and its descriptors byte for byte; no device
# in the listing that Linux did not see. Then, with xhcid running: an
# interrupt IN read in flight on the mouse ends ENODEV when it is
# device_del'ed and xhcid lives on; the same for the keyboard when its hub
# is unplugged (the hub's lines all go); everything plugged back has the
# same descriptors as before. Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 1
S=usbtopo
c=/tmp/xhcid-topo
. selftests/drivers/tap.sh
. selftests/drivers/usb-rig-lib.sh

# the devices of this test: id, then device_add's arguments
devs="tablet:usb-tablet,bus=xhci.0,port=1,id=tablet
thub:usb-hub,bus=xhci.0,port=2,id=thub
tkbd:usb-kbd,bus=xhci.0,port=2.1,id=tkbd
tccid:usb-ccid,bus=xhci.0,port=2.8,id=tccid
tmouse:usb-mouse,bus=xhci.0,port=3,id=tmouse
tstick:usb-storage,bus=xhci.0,port=4,id=tstick,drive=spareimg"
plug() { # plug ID...
	for id; do
		a=$(printf '%s\n' "$devs" | sed -n "s/^$id://p")
		check "device_add $a" "$mon" "device_add $a"
	done
}

rig_find none "$usbreq"
ok "$model at $bdf, nothing plugged at boot"
t0=$(date +%s)

rm -rf "$c"
mkdir -p "$c/xhcid.d"
plug tablet thub tkbd tccid tmouse tstick
# --- Linux's view first (xhci_hcd, then the function is given back) ---
check "usb-linux-view.sh: Linux's view of the 6 devices" \
	sh -c "'$view' -n 6 -o '$c/linux' '$bdf' 2>'$c/view.err'"
show view.err "$c/view.err"
check "Linux sees exactly 6 devices" test "$(grep -c '^device ' "$c/linux")" -eq 6
lhex() { awk -v p="path=$1" '$1 == "descriptors" && $2 == p { sub("^hex=", "", $3); print $3 }' "$c/linux"; }
# one line per device Linux saw: LINUX_PATH XHCID_NAME SPEED VID:PID
awk '$1 == "device" {
	for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	rest = f["path"]; sub(/^[0-9]+-[0-9]+/, "", rest)
	s = f["speed"]
	sp = s == "1.5" ? "low" : s == "12" ? "full" : s == "480" ? "high" : s == "5000" ? "super" : "?"
	print f["path"], "port" f["root_port"] rest, sp, f["id"]
}' "$c/linux" >"$c/want"
show want "$c/want"

rig_vfio "$ko"
# No rule: every device stays with xhcid (hubs are its own).
"$xhcid" --vfio "$bdf" --scheme "$S" --token-file "$c/token" \
	--config "$c/xhcid.d" >"$c/xhcid.out" 2>&1 &
xp=$!
check "xhcid serves $S:" waitfor 60 has "$c/xhcid.out" "serving $S:"
check "xhcid lists 6 devices" waitfor 120 sh -c "[ \"\$('$usbreq' cat $S: | grep -vc ' empty - - - -\$')\" -eq 6 ]"
tok=$(cat "$c/token")
list >"$c/list" 2>&1
show listing "$c/list"

while read -r lp name sp id; do
	check "$lp is $name, $sp speed, $id in the listing" \
		grep -qE "^$name (addressed|configured) $sp $id " "$c/list"
	lh=$(lhex "$lp")
	xh=$(hex "$S:$name/descriptors")
	check "$name: descriptors (${#xh} hex digits) equal Linux's $lp" \
		test -n "$lh" -a "$xh" = "$lh"
done <"$c/want"
check "port6 (the hub) is driven by xhcid" grep -qE '^port6 configured full [0-9a-f:]+ 09/00/00 hub$' "$c/list"
check "port6.8 (usb-ccid, class 0b, no rule) stays addressed, no driver" \
	grep -qE '^port6\.8 addressed full [0-9a-f:]+ [0-9a-f/]+ -$' "$c/list"
check "port4 (usb-storage) is SuperSpeed on the last USB 3 port" \
	grep -qE '^port4 addressed super ' "$c/list"
check "port8 (the last USB 2 port) is empty" grep -qx 'port8 empty - - - -' "$c/list"

# --- the mouse: unplugged with an interrupt IN read in flight --------
check "port7/configure 1" sh -c "'$usbreq' text '$S:port7/configure?token=$tok' 1 | grep -qx 'ok 1'"
"$usbreq" read "$S:port7/ep81?token=$tok" 4 >"$c/gone7" 2>&1 &
rp=$!
sleep 2
check "the read on port7/ep81 is in flight" kill -0 "$rp"
check "device_del tmouse" "$mon" 'device_del tmouse'
waitfor 30 sh -c "! kill -0 $rp 2>/dev/null"
kill "$rp" 2>/dev/null
check "the read in flight on port7/ep81 ends with ENODEV ($(cat "$c/gone7"))" \
	grep -qx 'error ENODEV' "$c/gone7"
check "port7 goes empty" waitfor 30 listed '^port7 empty - - - -$'
check "xhcid lives on" kill -0 "$xp"

# --- the hub: unplugged with a read in flight on the keyboard behind it
check "port6.1/configure 1" sh -c "'$usbreq' text '$S:port6.1/configure?token=$tok' 1 | grep -qx 'ok 1'"
"$usbreq" read "$S:port6.1/ep81?token=$tok" 8 >"$c/gone61" 2>&1 &
rp=$!
sleep 2
check "device_del thub (and what is behind it)" "$mon" 'device_del thub'
waitfor 30 sh -c "! kill -0 $rp 2>/dev/null"
kill "$rp" 2>/dev/null
check "the read in flight on port6.1/ep81 ends with ENODEV ($(cat "$c/gone61"))" \
	grep -qx 'error ENODEV' "$c/gone61"
check "port6 goes empty and its hub ports leave the listing" \
	waitfor 30 sh -c "'$usbreq' cat $S: | grep -qx 'port6 empty - - - -' && ! '$usbreq' cat $S: | grep -q '^port6\\.'"
check "port5 (tablet) and port4 (stick) stay" \
	sh -c "'$usbreq' cat $S: | grep -q '^port5 addressed ' && '$usbreq' cat $S: | grep -q '^port4 addressed '"
check "xhcid lives on" kill -0 "$xp"

# --- everything back: the same descriptors ---------------------------
plug tmouse thub tkbd tccid
check "xhcid lists 6 devices again" waitfor 120 sh -c "[ \"\$('$usbreq' cat $S: | grep -vc ' empty - - - -\$')\" -eq 6 ]"
while read -r lp name sp id; do
	case $name in port7 | port6*) ;; *) continue ;; esac
	check "$name after the replug: descriptors equal Linux's $lp" \
		test "$(hex "$S:$name/descriptors")" = "$(lhex "$lp")"
done <"$c/want"
rig_end "$xp"
for id in tablet thub tmouse tstick; do "$mon" "device_del $id" >/dev/null 2>&1; done
echo "# xhcid-topo: $(($(date +%s) - t0)) s"
finish
