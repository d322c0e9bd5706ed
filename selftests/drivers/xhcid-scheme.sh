#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/xhcid-scheme.sh - the usb: scheme of xhcid
# (rxu_usb.h) on both QEMU controllers, in the VFIO guest.  Prints TAP.
#
#   selftests/vm/run.sh -V -k 6.12 -q "$(selftests/drivers/xhcid.sh --qemu-args)" \
#       -- selftests/drivers/xhcid-scheme.sh [redox_uring.ko]
#
# Linux's xhci_hcd reads the devices first (sysfs); then xhcid serves the
# controller and the test reads usb: with usbreq: the listing, each
# device's descriptors, strings and state against Linux's view, control
# transfers on EP0 with the device token, configure, the endpoint files
# (a Bulk-Only INQUIRY on usb-storage), readiness of the listing, and
# every refusal with its exact error.
set -u
QX=0000:00:10.0
NX=0000:00:11.0
. "$(dirname "$0")/xhcid-lib.sh"
usbreq=$top/build/userspace/xhcid/usbreq

need_vfio_guest
load_module
check "xhcid and usbreq are built" test -x "$xhcid" -a -x "$usbreq"

# expect DESC WANT CMD...: the command's one-line answer is WANT.
expect() {
	_d=$1 _w=$2
	shift 2
	_got=$("$@" 2>&1 | head -1)
	if [ "$_got" = "$_w" ]; then ok "$_d"; else nok "$_d (got: $_got, want: $_w)"; fi
}

# The devices QEMU puts on each controller (xhcid.sh --qemu-args).
for addr in $QX $NX; do
	w=$(mktemp -d /tmp/xhcid-s.XXXXXX)
	check "$addr: Linux's view read" linux_view "$addr" "$w/linux" 2
	bind "$addr" vfio-pci
	"$xhcid" --vfio "$addr" --scheme usbt --token-file "$w/token" >"$w/log" 2>&1 &
	xp=$!
	# a loaded 2-core host has taken more than a minute to enumerate
	wait_grep 2 ' speed, slot ' "$w/log" 240
	check "$addr: xhcid serves usbt: and enumerated 2 devices" \
		test "$(grep -c ' speed, slot ' "$w/log")" -eq 2
	tok=$(cat "$w/token" 2>/dev/null)
	check "$addr: admin token file (0600, 32 hex)" sh -c \
		"[ \$(stat -c %a '$w/token') = 600 ] && echo '$tok' | grep -qE '^[0-9a-f]{32}\$'"
	"$usbreq" cat usbt: >"$w/list" 2>&1
	sed 's/^/# usbt: /' "$w/list"
	check "$addr: the listing has one line per root port (8)" test "$(wc -l <"$w/list")" -eq 8
	check "$addr: empty ports read 'portN empty - - - -'" grep -q '^port1 empty - - - -$' "$w/list"
	for h in "$w"/linux/*.desc; do
		h=${h%.desc}
		name=$(cat "$h.name")
		vid=$(cat "$h.idVendor") pid=$(cat "$h.idProduct")
		line=$(grep " $vid:$pid " "$w/list")
		p=${line%% *}
		check "$addr: Linux's $name ($vid:$pid) is listed ($p)" test -n "$p"
		[ -n "$p" ] || continue
		cls=$(cat "$h.bDeviceClass")/$(cat "$h.bDeviceSubClass")/$(cat "$h.bDeviceProtocol")
		check "$addr $p: listing line is '$p addressed <speed> $vid:$pid $cls -'" \
			sh -c "echo '$line' | grep -qE '^$p addressed [a-z+]+ $vid:$pid $cls -\$'"
		"$usbreq" cat "usbt:$p/descriptors" >"$w/d" 2>&1
		check "$addr $p/descriptors: the bytes of Linux's sysfs descriptors ($(wc -c <"$w/d"))" \
			cmp -s "$w/d" "$h.desc"
		prod=$(cat "$h.product") manu=$(cat "$h.manufacturer") ser=$(cat "$h.serial")
		"$usbreq" cat "usbt:$p/strings" >"$w/s"
		printf 'manufacturer=%s\nproduct=%s\nserial=%s\n' "$manu" "$prod" "$ser" >"$w/s.want"
		check "$addr $p/strings: Linux's manufacturer, product, serial ($prod)" cmp -s "$w/s" "$w/s.want"
		check "$addr $p/state: addressed, config=0" \
			sh -c "'$usbreq' cat 'usbt:$p/state' | grep -qE '^addressed [a-z+]+ slot=[0-9]+ address=[0-9]+ config=0\$'"
		check "$addr $p: the directory lists its files" \
			sh -c "'$usbreq' cat 'usbt:$p' | tr '\n' ' ' | grep -q '^descriptors strings state endpoints request configure \$'"
		d18=$(od -An -tx1 -N18 "$h.desc" | tr -d ' \n')
		expect "$addr $p/request: GET_DESCRIPTOR(device) with the admin token" \
			"ok 18 $d18" "$usbreq" control "usbt:$p/request?token=$tok" 8006000100001200
		expect "$addr $p/request: a short IN read (wLength 8)" \
			"ok 8 $(echo "$d18" | cut -c1-16)" "$usbreq" control "usbt:$p/request?token=$tok" 8006000100000800
		expect "$addr $p/request: no token is EACCES" "error EACCES" \
			"$usbreq" open "usbt:$p/request"
		expect "$addr $p/request: a wrong token is EACCES" "error EACCES" \
			"$usbreq" open "usbt:$p/request?token=0123456789abcdef0123456789abcdef"
		expect "$addr $p/configure: no token is EACCES" "error EACCES" \
			"$usbreq" open "usbt:$p/configure"
		expect "$addr $p/request: 4 bytes is EINVAL" "error EINVAL" \
			"$usbreq" write "usbt:$p/request?token=$tok" 80060001
		expect "$addr $p/request: wLength 4097 is EMSGSIZE" "error EMSGSIZE" \
			"$usbreq" write "usbt:$p/request?token=$tok" 8006000100000110
		expect "$addr $p/request: SET_ADDRESS is EPERM" "error EPERM" \
			"$usbreq" write "usbt:$p/request?token=$tok" 0005050000000000
		expect "$addr $p/request: SET_CONFIGURATION is EPERM" "error EPERM" \
			"$usbreq" write "usbt:$p/request?token=$tok" 0009010000000000
		expect "$addr $p/request: data after an IN setup is EINVAL" "error EINVAL" \
			"$usbreq" write "usbt:$p/request?token=$tok" 8006000100001200aa
		expect "$addr $p/request: OUT data shorter than wLength is EINVAL" "error EINVAL" \
			"$usbreq" write "usbt:$p/request?token=$tok" 0001000000000200aa
		expect "$addr $p/nosuchfile is ENOENT" "error ENOENT" "$usbreq" open "usbt:$p/nosuchfile"
		expect "$addr $p/configure: 'x' is EINVAL" "error EINVAL" \
			"$usbreq" text "usbt:$p/configure?token=$tok" x
		expect "$addr $p/configure: configuration 7 is ENOENT" "error ENOENT" \
			"$usbreq" text "usbt:$p/configure?token=$tok" 7
		expect "$addr $p/configure: '1' sets configuration 1" "ok 1" \
			"$usbreq" text "usbt:$p/configure?token=$tok" 1
		check "$addr $p/state: configured, config=1" \
			sh -c "'$usbreq' cat 'usbt:$p/state' | grep -qE '^configured [a-z+]+ slot=[0-9]+ address=[0-9]+ config=1\$'"
		"$usbreq" cat "usbt:$p/endpoints" >"$w/eps"
		sed 's/^/# endpoints: /' "$w/eps"
		check "$addr $p/endpoints: one line per endpoint of Linux's interface" \
			test "$(wc -l <"$w/eps")" -eq "$(cat "$h.neps")"
		inep=$(grep ' in ' "$w/eps" | head -1 | cut -d' ' -f1)
		expect "$addr $p/$inep: WRITE on an IN endpoint is EBADF" "error EBADF" \
			"$usbreq" write "usbt:$p/$inep?token=$tok" 00
		expect "$addr $p/$inep: no token is EACCES" "error EACCES" "$usbreq" open "usbt:$p/$inep"
		expect "$addr $p/ep0f: no such endpoint is ENOENT" "error ENOENT" \
			"$usbreq" open "usbt:$p/ep0f?token=$tok"
		# (A READ of more than 1 MiB cannot be asked through a path: the
		# module hands it over in data-region chunks; the u2u test below
		# checks EMSGSIZE for a TRANSFER of 1 MiB + 1.)
		if [ "$(cat "$h.bDeviceClass")/$(cat "$h.ifclass")" = 00/08 ]; then
			outep=$(grep 'bulk out' "$w/eps" | cut -d' ' -f1)
			# Bulk-Only: an IN transfer with no command is stalled.
			expect "$addr $p/$inep: a bulk IN with no CBW stalls: EPIPE" "error EPIPE" \
				"$usbreq" read "usbt:$p/$inep?token=$tok" 512
			# Reset Endpoint leaves it Stopped; the next doorbell runs it.
			check "$addr $p/endpoints: $inep is no longer halted after the stall" \
				sh -c "'$usbreq' cat 'usbt:$p/endpoints' | grep -qE '^$inep bulk in .* (stopped|running)\$'"
			# CBW: signature, tag, 36 bytes IN, LUN 0, 6-byte INQUIRY
			expect "$addr $p/$outep: a Bulk-Only CBW (INQUIRY) is 31 bytes written" "ok 31" \
				"$usbreq" write "usbt:$p/$outep?token=$tok" \
				55534243785634122400000080000612000000240000000000000000000000
			"$usbreq" read "usbt:$p/$inep?token=$tok" 36 >"$w/inq"
			check "$addr $p/$inep: INQUIRY data says QEMU ($(cut -c1-20 "$w/inq"))" \
				sh -c "grep -q '^ok 36 ' '$w/inq' && cut -d' ' -f3 '$w/inq' | cut -c17-24 | grep -qi 51454d55"
			expect "$addr $p/$inep: the CSW: tag echoed, status 0" \
				"ok 13 55534253785634120000000000" "$usbreq" read "usbt:$p/$inep?token=$tok" 13
		fi
		expect "$addr $p/configure: '0' unconfigures" "ok 1" \
			"$usbreq" text "usbt:$p/configure?token=$tok" 0
	done
	# The u2u ring (part B) on the first device, with the admin token.
	p=$(grep ' addressed ' "$w/list" | head -1 | cut -d' ' -f1)
	h=$(md5sum <"$w/linux/$(ls "$w/linux" | grep '\.desc$' | head -1)" | cut -c1-32)
	"$usbreq" u2u usbt "${p#port}" "$tok" >"$w/u2u" 2>&1
	sed 's/^/# u2u: /' "$w/u2u"
	for want in "noop ok" "control-unclaimed error EACCES" "claim-wrong-token error EACCES" \
		"claim-bad-version error ENOSYS" "claim-no-such-port error ENOENT" "claim ok" \
		"control-len-mismatch error EINVAL" "control-set-address error EPERM" \
		"control-outside-pool error EFAULT" "transfer-no-endpoint error ENOENT" \
		"transfer-oversize error EMSGSIZE" "configure-1 ok" "configure-9 error ENOENT" \
		"clear-halt-no-endpoint error ENOENT"; do
		check "$addr u2u $p: $want" grep -qx "$want" "$w/u2u"
	done
	d18=$("$usbreq" cat "usbt:$p/descriptors" | od -An -tx1 -N18 | tr -d ' \n')
	check "$addr u2u $p: CONTROL GET_DESCRIPTOR into the pool: the device descriptor" \
		grep -qx "control ok 18 $d18" "$w/u2u"
	"$usbreq" text "usbt:$p/configure?token=$tok" 0 >/dev/null
	expect "$addr: port9 is ENOENT (8 ports)" "error ENOENT" "$usbreq" open usbt:port9/state
	expect "$addr: port0 is ENOENT" "error ENOENT" "$usbreq" open usbt:port0
	expect "$addr: a hub port of a port without a hub is ENOENT" "error ENOENT" "$usbreq" open usbt:port2.1
	expect "$addr: an empty port is ENODEV" "error ENODEV" "$usbreq" open usbt:port1/state
	# Readiness: a listing handle gets an EVENT on a change.
	p=$(grep ' addressed ' "$w/list" | head -1 | cut -d' ' -f1)
	"$usbreq" wait usbt: 30 >"$w/wait" 2>&1 &
	wp=$!
	sleep 1
	"$usbreq" text "usbt:$p/configure?token=$tok" 1 >/dev/null
	wait $wp
	check "$addr: the listing handle gets an EVENT when $p is configured" grep -q '^ok$' "$w/wait"
	kill $xp 2>/dev/null
	wait $xp
	rc=$?
	check "$addr: xhcid ends on SIGTERM (status $rc)" test $rc -eq 0
	check "$addr: it removed its token file" test ! -e "$w/token"
	sed 's/^/# xhcid: /' "$w/log"
	bind "$addr" ""
	rm -rf "$w"
done
finish
