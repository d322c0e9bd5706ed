#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# selftests/drivers/usb-pool-dma.sh - bulk data between the stick and
# usbscsid's u2u pool with no copy: xhcid maps the pool's pages for DMA
# (VFIO pins them, which shows in xhcid's VmLck) for as long as usbscsid
# is attached, and unmaps them when it goes.  Prints TAP.  Needs the USB
# rig (selftests/vm/run.sh -u MODEL:std) and xhcid:
#
#   selftests/vm/run.sh -u qemu-xhci -k 6.12 -- selftests/drivers/usb-pool-dma.sh [redox_uring.ko]
#
# Cases: xhcid configures the stick and starts its rule's command, which
# holds usbscsid back until told; the pool pinned once usbscsid serves
# (VmLck up by at least the 256 KiB of its data buffer, spans logged);
# the whole stick by hash and a read that starts 1 byte before a 64 KiB
# boundary and spans several TRBs and boundaries, byte for byte against
# the image; a u2u TRANSFER whose buffer runs past the pool refused with
# EFAULT (last: its steps reconfigure the stick);
# usbscsid killed: xhcid's VmLck back to what it was before usbscsid
# came, so no mapping (and no bounce buffer) is left.
NAME=usb-pool-dma.sh
. "$(dirname "$0")/usbscsid-lib.sh"
xhcid=$top/build/userspace/xhcid/xhcid
usbreq=$top/build/userspace/xhcid/usbreq
topo=/run/rxu-vm/usb-topology

if [ ! -x "$xhcid" ] || [ ! -r "$topo" ]; then
	n=$((n + 1))
	echo "ok $n - pool DMA on the USB rig # SKIP no xhcid or no rig (-u)"
	finish
fi
need sha256sum cmp dd "$usbscsid" "$rxuctl" "$usbreq"
load_module

rig_xhci
img=$(awk '$1 == "image" && $2 == "stickimg" { print $3 }' "$topo")
port=$(awk '$1 == "device" && $2 == "stick" { print $5 }' "$topo")
check "the rig's xHCI ($ids) is at ${addr:-nowhere}, the stick on port ${port:-?}" \
	test -n "$addr" -a -n "$port"
[ -n "$addr" ] && [ -n "$port" ] || finish
. "$(dirname "$0")/pci-bind.sh"
check "$addr bound to vfio-pci" pci_bind "$addr" vfio-pci

# The rule's command waits for $tmp/go, then becomes usbscsid (same pid),
# for the stick only (stick2 behind the hub matches the rule too).
cat >"$tmp/hold.sh" <<EOF
[ "\$XHCID_PORT" = "port$port" ] || exit 0
echo \$\$ >"$tmp/usbscsid.pid"
while [ ! -e "$tmp/go" ]; do sleep 0.1; done
exec "$usbscsid"
EOF
conf=$tmp/xhcid.d
mkdir -p "$conf"
printf '[usbscsid]\nclass = 0x08\nsubclass = 0x06\nprotocol = 0x50\ncommand = /bin/sh %s\n' \
	"$tmp/hold.sh" >"$conf/usbscsid.conf"
log=$tmp/xhcid.log
"$xhcid" -v --vfio "$addr" --config "$conf" --token-file "$tmp/token" >"$log" 2>&1 &
xp=$!
pids="$pids $xp"
locked() { awk '$1 == "VmLck:" { print $2 }' "/proc/$xp/status"; } # KiB
check "xhcid configured the stick and started the rule's command" \
	wait_for 120 test -s "$tmp/usbscsid.pid"
up=$(cat "$tmp/usbscsid.pid" 2>/dev/null)
# Other devices of the rig may still be enumerating: wait for it to settle.
before=$(locked)
for i in 1 2 3 4 5 6 7 8 9 10; do
	sleep 1
	now=$(locked)
	[ "$now" = "$before" ] && break
	before=$now
done
touch "$tmp/go"
check "usbscsid serves disk:" wait_for 60 grep -q '^usbscsid: serving disk:$' "$log"

# Reads of 256 KiB: one SCSI command each, data in five TRBs.
check "the whole stick through disk: has its image's hash" \
	test "$("$rxuctl" open -i disk:0 -- dd bs=256k status=none | sha256sum)" = \
	"$(sha256sum <"$img")"
# 65535: one byte before the first 64 KiB boundary of the medium; 700001
# bytes: three 256 KiB commands of five or six TRBs each.
at=65535
len=700001
"$rxuctl" open -i disk:0 -- dd iflag=skip_bytes,count_bytes skip=$at count=$len \
	bs=64k of="$tmp/got" status=none
dd if="$img" iflag=skip_bytes,count_bytes skip=$at count=$len bs=64k \
	of="$tmp/want" status=none
check "$len bytes at $at through disk: are the image's" cmp "$tmp/got" "$tmp/want"

during=$(locked)
diag "xhcid VmLck: ${before:-?} KiB before usbscsid, ${during:-?} KiB while it serves"
check "usbscsid's pool is pinned for DMA (VmLck +256 KiB or more)" \
	test "${during:-0}" -ge $((${before:-0} + 256))
grep "pool span" "$log" | sed "s/^/# /"
check "xhcid logged the pool spans it mapped" grep -q 'pool span of [0-9]* KiB mapped for DMA' "$log"
check "no span fell back to copying" sh -c "! grep -q 'copying instead' '$log'"

[ -n "$up" ] && kill "$up"
check "usbscsid killed" wait_for 30 sh -c "! kill -0 $up 2>/dev/null"
check "xhcid unmapped every span: VmLck back to ${before:-?} KiB" \
	wait_for 10 sh -c "[ \"\$(awk '\$1 == \"VmLck:\" { print \$2 }' /proc/$xp/status)\" = '$before' ]"
diag "xhcid VmLck after: $(locked) KiB"
grep "client gone\|pool span" "$log" | sed "s/^/# /"
tok=$(cat "$tmp/token" 2>/dev/null)
"$usbreq" u2u usb "$port" "$tok" >"$tmp/u2u" 2>&1
sed 's/^/# u2u: /' "$tmp/u2u"
check "a u2u TRANSFER running past its pool: EFAULT" \
	grep -qx 'transfer-beyond-pool error EFAULT' "$tmp/u2u"

check "xhcid still runs" kill -0 "$xp"
finish
