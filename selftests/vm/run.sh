#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/vm/run.sh - run one command as root inside a throw-away QEMU guest.
#
# The kernel running this shell is never touched: everything that loads a
# module happens in the guest. The guest boots a Debian kernel from /boot with
# a tiny busybox initramfs (built here, cached under build/vm/), sees the
# host's / read-only over virtio-9p, chroots into it, cd's to the caller's
# directory and runs the command. See selftests/vm/README.md.

set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
SELF_DIR=${SELF%/*}
REPO=$(cd "$SELF_DIR/../.." && pwd -P)
VM_DIR=$REPO/build/vm
readonly SELF SELF_DIR REPO VM_DIR

# Exit statuses of our own (the command's status is passed through otherwise).
readonly RC_DMESG=1       # command succeeded but the guest kernel complained
readonly RC_CRASH=123     # guest kernel died (panic, reset) while the command ran
readonly RC_TIMEOUT=124   # command or guest ran out of time
readonly RC_INFRA=125     # bad usage, QEMU failed, or the guest never ran the command

usage() {
	cat <<'EOF'
usage: selftests/vm/run.sh [options] -- CMD [ARGS...]

Boot a QEMU (TCG) guest on a Debian kernel from /boot, with the host's / mounted
read-only, and run CMD as root in the caller's directory. One argument is a
/bin/sh -c string; several are quoted word by word (argv is kept exactly).

  -k KVER     guest kernel: a full version (6.1.0-56-amd64), or a prefix such as
              6.1 or 6.12 meaning the newest /boot/vmlinuz-PREFIX.* (default:
              $RXU_VM_KVER, else the newest /boot/vmlinuz-*)
  -K IMAGE    guest kernel from anywhere, not /boot (a kernel you built): an
              ELF vmlinux (booted through PVH) or a bzImage; needs -M
              (also $RXU_VM_KERNEL)
  -M MODDIR   with -K: its modules, a directory named after the kernel
              release (INSTALL_MOD_PATH/lib/modules/<release>, with
              modules.dep and modules.builtin); the guest sees it as its
              /lib/modules/<release> (also $RXU_VM_MODDIR)
  -t SECS     time limit of CMD, counted from when it starts in the guest
              (default: $RXU_VM_TIMEOUT, else 300); the boot has its own
              limit, $RXU_VM_BOOT_TIMEOUT (default 120)
  -m MEM      guest memory (default: $RXU_VM_MEM, else 1G)
  -c CPUS     guest CPUs (default: $RXU_VM_CPUS, else 2)
  -q ARGS     extra QEMU arguments, split on blanks; they come before this
              script's own devices, so "-device intel-iommu,..." is first
              (may be repeated; also $RXU_VM_QEMU_ARGS)
  -a ARGS     extra kernel command line (may be repeated; also $RXU_VM_APPEND)
  -V          VFIO guest: q35 with kernel-irqchip=split and an intel-iommu
              (intremap=on, caching-mode=on, aw-bits=48) created first, guest
              intel_iommu=on iommu=pt no_timer_check, the devices edu,
              qemu-xhci, nvme (1 MiB raw drive) and e1000e, and vfio,
              vfio_iommu_type1, vfio_pci loaded before CMD (also
              RXU_VM_VFIO=1)
  -u MODEL[:TOPO]  USB rig (implies -V and -Q): the xHCI of -V becomes MODEL
              (qemu-xhci or nec-usb-xhci, id xhci, p2=4 p3=4) with the devices
              of topology TOPO attached: std (default: stick, kbd, tablet,
              hub with stick2 and mouse behind it), none, or luns (one
              usb-bot with two LUNs); see selftests/vm/README.md
              (also RXU_VM_USB)
  -Q          QEMU monitor for the guest: selftests/vm/qemu-monitor 'CMD' run
              in the guest sends CMD to this QEMU through a host-side bridge
              (also RXU_VM_MONITOR=1)
  -p          print the kernel version -k resolves to, and exit (no CMD)
  -h          this help

Environment: RXU_VM_OUT (writable share, default build/vm/out, mounted at the
same path in the guest), RXU_VM_ACCEL (tcg or kvm, default tcg), RXU_VM_KEEP=1
(keep the per-run directory), RXU_VM_QUIET=1 (no summary line), RXU_VM_PVH=0
(boot the bzImage, not its extracted vmlinux), RXU_VM_ROOT_CACHE (9p cache
option of the root, default cache=loose). RXU_* variables are passed on to CMD.

Exit status: CMD's status if the guest's dmesg is clean; 1 (or CMD's nonzero
status) if it is not; 123 guest kernel crashed; 124 timeout; 125 the command
never ran (usage error, QEMU or boot failure).
EOF
}

msg() { printf 'vm: %s\n' "$*" >&2; }
die() { msg "error: $*"; exit "$RC_INFRA"; }

# Quote one word for any POSIX shell (busybox sh and dash read our files).
shquote() {
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}

# ---------------------------------------------------------------- options

kver_req=${RXU_VM_KVER:-}
timeout_s=${RXU_VM_TIMEOUT:-300}
boot_timeout_s=${RXU_VM_BOOT_TIMEOUT:-120}
mem=${RXU_VM_MEM:-1G}
cpus=${RXU_VM_CPUS:-2}
extra_qemu=${RXU_VM_QEMU_ARGS:-}
extra_append=${RXU_VM_APPEND:-}
accel=${RXU_VM_ACCEL:-tcg}
vfio=${RXU_VM_VFIO:-0}
custom_image=${RXU_VM_KERNEL:-}
custom_moddir=${RXU_VM_MODDIR:-}
usb=${RXU_VM_USB:-}
monitor=${RXU_VM_MONITOR:-0}

print_kver=0
while getopts ':k:K:M:t:m:c:q:a:u:pQVh' opt; do
	case $opt in
	k) kver_req=$OPTARG ;;
	K) custom_image=$OPTARG ;;
	M) custom_moddir=$OPTARG ;;
	t) timeout_s=$OPTARG ;;
	m) mem=$OPTARG ;;
	c) cpus=$OPTARG ;;
	q) extra_qemu+=" $OPTARG" ;;
	a) extra_append+=" $OPTARG" ;;
	p) print_kver=1 ;;
	V) vfio=1 ;;
	u) usb=$OPTARG ;;
	Q) monitor=1 ;;
	h) usage; exit 0 ;;
	:) usage >&2; die "option -$OPTARG needs an argument" ;;
	*) usage >&2; die "unknown option -$OPTARG" ;;
	esac
done
shift $((OPTIND - 1))
[[ ${1-} == -- ]] && shift
(($# > 0 || print_kver)) || { usage >&2; die "no command given"; }
[[ $timeout_s =~ ^[0-9]+$ && $timeout_s -gt 0 ]] || die "bad timeout: $timeout_s"
[[ $boot_timeout_s =~ ^[0-9]+$ ]] || die "bad RXU_VM_BOOT_TIMEOUT: $boot_timeout_s"
[[ $cpus =~ ^[0-9]+$ && $cpus -gt 0 ]] || die "bad CPU count: $cpus"
[[ $monitor == [01] ]] || die "RXU_VM_MONITOR must be 0 or 1, not '$monitor'"
usb_model=
usb_topo=
if [[ -n $usb ]]; then
	usb_model=${usb%%:*}
	usb_topo=std
	[[ $usb == *:* ]] && usb_topo=${usb#*:}
	case $usb_model in
	qemu-xhci | nec-usb-xhci) ;;
	*) die "-u: the controller is qemu-xhci or nec-usb-xhci, not '$usb_model'" ;;
	esac
	case $usb_topo in
	std | none | luns) ;;
	*) die "-u: the topology is std, none or luns, not '$usb_topo'" ;;
	esac
	# The rig is the VFIO guest with another xHCI, driven from the monitor.
	vfio=1
	monitor=1
fi

if (($# == 1)); then
	cmd=$1
else
	cmd=
	for a in "$@"; do cmd+="${cmd:+ }$(shquote "$a")"; done
fi

# ---------------------------------------------------------------- kernel

# Pick the guest kernel: an exact version, or the newest one with a prefix.
resolve_kver() {
	local want=$1 f best=
	if [[ -n $want && -e /boot/vmlinuz-$want ]]; then
		printf '%s\n' "$want"
		return
	fi
	local -a cands=()
	for f in /boot/vmlinuz-"$want"*; do
		[[ -e $f ]] || continue
		local v=${f#/boot/vmlinuz-}
		# "6.1" must not pick 6.12: the prefix ends at a '.', '-' or '+'.
		if [[ -n $want && ${v:${#want}:1} != [.+-] ]]; then continue; fi
		[[ -d /lib/modules/$v ]] || continue
		cands+=("$v")
	done
	((${#cands[@]})) || return 1
	best=$(printf '%s\n' "${cands[@]}" | sort -V | tail -n 1)
	printf '%s\n' "$best"
}

if [[ -n $custom_image ]]; then
	# A kernel built elsewhere (selftests/vm/debug-kernel.sh): its release
	# is the name of its modules directory.
	[[ -n $custom_moddir ]] || die "-K needs -M (the kernel's modules directory)"
	custom_image=$(readlink -f "$custom_image")
	custom_moddir=$(readlink -f "$custom_moddir")
	[[ -d $custom_moddir ]] || die "no directory $custom_moddir"
	kver=${custom_moddir##*/}
	vmlinuz=$custom_image
	case $custom_moddir/ in
	/tmp/* | /run/* | /proc/* | /sys/* | /dev/*)
		die "$custom_moddir is hidden in the guest; keep -M elsewhere" ;;
	esac
else
	[[ -z $custom_moddir ]] || die "-M goes with -K"
	kver=$(resolve_kver "$kver_req") ||
		die "no kernel matches '${kver_req:-any}' in /boot (with /lib/modules/<ver>)"
	vmlinuz=/boot/vmlinuz-$kver
fi
if ((print_kver)); then
	printf '%s\n' "$kver"
	exit 0
fi
moddir=${custom_moddir:-/lib/modules/$kver}
[[ -r $vmlinuz ]] || die "cannot read $vmlinuz"
[[ -r $moddir/modules.dep ]] || die "no $moddir/modules.dep (run depmod $kver)"

for tool in qemu-system-x86_64 cpio; do
	command -v "$tool" >/dev/null ||
		die "$tool not found (apt-get install qemu-system-x86 cpio busybox-static)"
done

# ---------------------------------------------------------------- kernel image

# Under TCG, unpacking an xz-compressed bzImage takes ~2 s of every boot. When
# the kernel has a PVH entry point (CONFIG_PVH), boot its ELF vmlinux instead:
# it is extracted once from the bzImage's payload and cached. RXU_VM_PVH=0
# boots the bzImage as it is. (PVH boots skip KASLR.)
extract_vmlinux() {
	local img=$1 out=$2 config=/boot/config-$kver decomp ss po pl start size tmp
	grep -q '^CONFIG_PVH=y' "$config" 2>/dev/null || return 1
	if grep -q '^CONFIG_KERNEL_XZ=y' "$config"; then decomp=(xz -qdc)
	elif grep -q '^CONFIG_KERNEL_ZSTD=y' "$config"; then decomp=(zstd -qdc)
	elif grep -q '^CONFIG_KERNEL_GZIP=y' "$config"; then decomp=(gzip -qdc)
	else return 1
	fi
	command -v "${decomp[0]}" >/dev/null || return 1
	[[ $(dd if="$img" bs=1 skip=$((0x202)) count=4 status=none) == HdrS ]] || return 1
	ss=$(od -An -tu1 -j $((0x1f1)) -N1 "$img") && ((ss)) || ss=4
	po=$(od -An -tu4 -j $((0x248)) -N4 "$img")
	pl=$(od -An -tu4 -j $((0x24c)) -N4 "$img")
	start=$(((ss + 1) * 512 + po))
	# The payload ends with the uncompressed size (32-bit little endian).
	size=$(tail -c +$((start + pl - 3)) "$img" | head -c 4 | od -An -tu4)
	tmp=$out.tmp.$$
	tail -c +$((start + 1)) "$img" | head -c $((pl - 4)) | "${decomp[@]}" >"$tmp" 2>/dev/null || true
	if [[ $(stat -c %s "$tmp") -eq $size && $(head -c 4 "$tmp" | od -An -tx1) == " 7f 45 4c 46" ]]; then
		mv -f "$tmp" "$out"
		return 0
	fi
	rm -f "$tmp"
	return 1
}

mkdir -p "$VM_DIR"
kernel_image=$vmlinuz
if [[ -n $custom_image ]]; then
	# An ELF vmlinux boots through its PVH entry, a bzImage as it is.
	: # (nothing to extract: a build tree has its vmlinux)
elif [[ ${RXU_VM_PVH:-1} == 1 ]]; then
	vmlinux=$VM_DIR/vmlinux-$kver
	if [[ -s $vmlinux && ! $vmlinuz -nt $vmlinux ]] || extract_vmlinux "$vmlinuz" "$vmlinux"; then
		kernel_image=$vmlinux
	fi
fi

# ---------------------------------------------------------------- initramfs

# The guest's PID 1. Static text: everything specific to one run is in the
# run share (conf, cmd.sh), so the initramfs is cached per kernel version.
IFS= read -r -d '' GUEST_INIT <<'EOF' || true
#!/bin/sh
# PID 1 of a selftests/vm guest (busybox, from the initramfs). Generated by
# selftests/vm/run.sh; the run's own settings come from the run share.
export PATH=/bin
R=/newroot
mount -t devtmpfs devtmpfs /dev
exec </dev/null >/dev/console 2>&1

fail() {
	echo "vm-init: $*"
	echo "vm-init: $*" >/dev/kmsg
	poweroff -f
	sleep 1000
}
mnt() { mount "$@" || fail "mount $*"; }
p9() { echo "trans=virtio,version=9p2000.L,msize=512000${1:+,$1}"; }

mnt -t proc proc /proc
mnt -t sysfs sysfs /sys
while read -r m; do
	insmod "/lib/modules/$m" || fail "insmod $m"
done </lib/modules/load-order

mnt -t 9p -o "$(p9)" rxurun /rxu
. /rxu/conf
mnt -t 9p -o "$(p9 ro,${RXU_ROOT_CACHE:-cache=loose})" hostroot $R
mnt -t proc proc $R/proc
mnt -t sysfs sysfs $R/sys
mnt -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mnt -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
mnt -t tmpfs -o mode=1777,nosuid,nodev tmpfs $R/dev/shm
for l in fd:/proc/self/fd stdin:/proc/self/fd/0 stdout:/proc/self/fd/1 stderr:/proc/self/fd/2; do
	[ -e "$R/dev/${l%%:*}" ] || ln -s "${l#*:}" "$R/dev/${l%%:*}"
done
[ -d $R/sys/kernel/debug ] && mount -t debugfs debugfs $R/sys/kernel/debug
# A kernel from -K: its modules directory (somewhere on the host) becomes
# /lib/modules/<release>, over a tmpfs that hides the host kernels' modules.
# (Held at /moddir meanwhile: it may itself be under /lib/modules.)
if [ -n "$RXU_MODDIR" ]; then
	mkdir -p /moddir
	mnt -o bind "$R$RXU_MODDIR" /moddir
	mnt -t tmpfs -o mode=755 tmpfs $R/lib/modules
	mkdir -p "$R/lib/modules/${RXU_MODDIR##*/}"
	mnt -o bind /moddir "$R/lib/modules/${RXU_MODDIR##*/}"
fi
[ -d $R/sys/kernel/tracing ] && mount -t tracefs tracefs $R/sys/kernel/tracing
# /tmp and /run are the guest's own; a caller working under one of them
# (a CI clone in /tmp) keeps its directory, re-attached on top.
keep=
case "$RXU_CWD/" in
/tmp/* | /run/*) mkdir -p /keep && mnt -o bind "$R$RXU_CWD" /keep && keep=1 ;;
esac
mnt -t tmpfs -o mode=1777,nosuid,nodev tmpfs $R/tmp
mnt -t tmpfs -o mode=755,nosuid,nodev tmpfs $R/run
if [ -n "$keep" ]; then
	mkdir -p "$R$RXU_CWD"
	mnt -o bind /keep "$R$RXU_CWD"
fi
mkdir -p $R/run/rxu-vm "$R$RXU_VM_OUT"
mnt -o bind /rxu $R/run/rxu-vm
mnt -t 9p -o "$(p9)" rxuout "$R$RXU_VM_OUT"
ip link set lo up 2>/dev/null
hostname rxu-vm
# The kernel runs its helpers (modprobe for module autoloading) and reads
# firmware relative to PID 1's root, the initramfs: point them at the host's.
echo /bin/rxu-modprobe >/proc/sys/kernel/modprobe
fw=/sys/module/firmware_class/parameters/path
[ -w $fw ] && echo -n $R/lib/firmware >$fw

stty -F /dev/ttyS1 -onlcr 2>/dev/null
: >/rxu/started
setsid chroot $R /bin/sh /run/rxu-vm/cmd.sh </dev/null >/dev/ttyS1 2>&1 &
cmd=$!
(
	sleep "$RXU_TIMEOUT"
	: >/rxu/timeout
	echo "vm-init: command timed out after $RXU_TIMEOUT s" >/dev/kmsg
	kill -KILL -"$cmd" "$cmd" 2>/dev/null
	sleep 10
	# Still here: the command is stuck in the kernel. Show where, then stop.
	echo w >/proc/sysrq-trigger
	dmesg -s 16777216 >/rxu/dmesg
	cat /proc/sys/kernel/tainted >/rxu/tainted
	poweroff -f
) &
wait "$cmd"
rc=$?
kill -KILL -1 2>/dev/null
dmesg -s 16777216 >/rxu/dmesg
cat /proc/sys/kernel/tainted >/rxu/tainted
echo "$rc" >/rxu/rc
sync
poweroff -f
sleep 1000
EOF

# Modules to load before the root can be mounted; their dependencies come
# from modules.dep, built-in ones are skipped.
readonly BOOT_MODULES="virtio_pci 9pnet_virtio 9p"

# Append to mod_list the modules.dep paths to load for module $1,
# dependencies first; each path once.
declare -A mod_seen=()
mod_list=()
mod_order() {
	local name=${1//-/_} line path d
	line=$(awk -v n="$name" '{
		p = $1; sub(/:$/, "", p); b = p; sub(/.*\//, "", b); sub(/\.ko.*/, "", b)
		gsub(/-/, "_", b); if (b == n) { print; exit } }' "$moddir/modules.dep")
	if [[ -z $line ]]; then
		grep -Eq "/${name//_/[-_]}\.ko" "$moddir/modules.builtin" 2>/dev/null ||
			die "module $name is neither in $moddir/modules.dep nor built in"
		return 0
	fi
	path=${line%%:*}
	[[ -n ${mod_seen[$path]-} ]] && return 0
	for d in ${line#*:}; do
		[[ -n ${mod_seen[$d]-} ]] && continue
		d=${d##*/}
		mod_order "${d%%.ko*}"
	done
	mod_seen[$path]=1
	mod_list+=("$path")
}

build_initramfs() {
	local out=$1 stage bb m name
	bb=$(command -v busybox || true)
	[[ -n $bb ]] || die "busybox not found (apt-get install busybox-static)"
	if ldd "$bb" >/dev/null 2>&1; then
		die "$bb is dynamically linked; install busybox-static"
	fi
	stage=$(mktemp -d "$VM_DIR/.initramfs.XXXXXX")
	mkdir -p "$stage"/{bin,dev,proc,sys,rxu,newroot,lib/modules}
	cp "$bb" "$stage/bin/busybox"
	local applet
	for applet in $("$bb" --list); do
		[[ $applet == busybox ]] || ln -s busybox "$stage/bin/$applet"
	done
	printf '%s\n' "$GUEST_INIT" >"$stage/init"
	printf '#!/bin/sh\nexec chroot /newroot /sbin/modprobe "$@"\n' >"$stage/bin/rxu-modprobe"
	chmod 755 "$stage/init" "$stage/bin/rxu-modprobe"

	for m in $BOOT_MODULES; do
		mod_order "$m"
	done
	: >"$stage/lib/modules/load-order"
	for m in "${mod_list[@]}"; do
		name=${m##*/}
		case $name in
		*.ko.xz) xz -dc "$moddir/$m" >"$stage/lib/modules/${name%.xz}" ;;
		*.ko.zst) zstd -qdc "$moddir/$m" >"$stage/lib/modules/${name%.zst}" ;;
		*.ko.gz) gzip -dc "$moddir/$m" >"$stage/lib/modules/${name%.gz}" ;;
		*.ko) cp "$moddir/$m" "$stage/lib/modules/$name" ;;
		*) die "unexpected module file $m" ;;
		esac
		printf '%s\n' "${name%.ko*}.ko" >>"$stage/lib/modules/load-order"
	done
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0) >"$out.tmp.$$"
	rm -rf "$stage"
	mv -f "$out.tmp.$$" "$out"
}

mkdir -p "$VM_DIR"
script_hash=$(sha256sum "$SELF" | cut -c1-12)
initramfs=$VM_DIR/initramfs-$kver-$script_hash.cpio
if [[ ! -s $initramfs || $moddir/modules.dep -nt $initramfs ]]; then
	build_initramfs "$initramfs"
	# Older builds for this kernel are stale now.
	for f in "$VM_DIR/initramfs-$kver-"*.cpio; do
		[[ $f == "$initramfs" ]] || rm -f "$f"
	done
fi

# ---------------------------------------------------------------- run dir

out_dir=${RXU_VM_OUT:-$VM_DIR/out}
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd -P)
cwd=$(pwd -P)
case $cwd/ in
/proc/* | /sys/* | /dev/*)
	msg "warning: $cwd is hidden in the guest (its /proc, /sys, /dev are its own)" ;;
/tmp/* | /run/*)
	msg "note: only $cwd is visible under the guest's own /tmp and /run" ;;
esac

mkdir -p "$VM_DIR/runs"
rundir=$(mktemp -d "$VM_DIR/runs/$kver.XXXXXX")
qpid=
bpid=
sockdir=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [[ -n $qpid ]] && kill -0 "$qpid" 2>/dev/null; then
		kill -TERM "$qpid" 2>/dev/null || true
	fi
	stop_bridge
	[[ -z $sockdir || $sockdir == "$rundir" ]] || rm -rf "$sockdir"
	if [[ ${RXU_VM_KEEP:-0} == 1 ]]; then
		msg "kept $rundir"
	else
		rm -rf "$rundir"
	fi
}
# The monitor bridge ends by itself when QEMU does; this is the backstop.
stop_bridge() {
	[[ -n $bpid ]] || return 0
	local _i
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$bpid" 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM "$bpid" 2>/dev/null || true
	wait "$bpid" 2>/dev/null || true
	bpid=
}
trap cleanup EXIT
trap 'msg "interrupted"; exit 130' INT TERM HUP

{
	printf 'RXU_VM_OUT=%s\n' "$(shquote "$out_dir")"
	printf 'RXU_TIMEOUT=%s\n' "$timeout_s"
	printf 'RXU_CWD=%s\n' "$(shquote "$cwd")"
	printf 'RXU_ROOT_CACHE=%s\n' "$(shquote "${RXU_VM_ROOT_CACHE:-cache=loose}")"
	printf 'RXU_MODDIR=%s\n' "$(shquote "$custom_moddir")"
} >"$rundir/conf"

{
	echo '# generated by selftests/vm/run.sh: the command, run by /bin/sh in the guest'
	echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	echo 'export HOME=/root TERM=dumb LANG=C.UTF-8'
	for name in $(compgen -e); do
		[[ $name == RXU_* ]] && printf 'export %s=%s\n' "$name" "$(shquote "${!name}")"
	done
	printf 'export RXU_VM_OUT=%s RXU_VM_KVER=%s\n' "$(shquote "$out_dir")" "$(shquote "$kver")"
	if [[ $vfio == 1 ]]; then
		# The VFIO modules come from the guest kernel's own tree (the
		# host's /lib/modules/<kver>, seen through the chroot).
		echo 'modprobe -a vfio vfio_iommu_type1 vfio_pci && [ -c /dev/vfio/vfio ] ||'
		echo '	{ echo "vm: the VFIO modules did not load" >&2; exit 125; }'
		echo 'export RXU_VM_VFIO=1'
	fi
	if [[ $monitor == 1 ]]; then
		printf 'export RXU_VM_MONITOR=1 RXU_VM_QEMU_MONITOR=%s\n' "$(shquote "$SELF_DIR/qemu-monitor")"
	fi
	if [[ -n $usb_model ]]; then
		printf 'export RXU_VM_USB=%s RXU_VM_USB_TOPOLOGY=/run/rxu-vm/usb-topology\n' \
			"$(shquote "$usb_model:$usb_topo")"
	fi
	printf 'cd %s || exit 125\n' "$(shquote "$cwd")"
	printf 'exec /bin/sh -c %s\n' "$(shquote "$cmd")"
} >"$rundir/cmd.sh"

# ---------------------------------------------------------------- QEMU

# QEMU splits -fsdev/-device values on ',': a literal comma is written ",,".
qpath() { printf '%s' "${1//,/,,}"; }

# Two serial ports: ttyS0 is the kernel console, written to console.log; the
# command writes to ttyS1, which is our stdout, so kernel messages can never
# mix with its output. loglevel=5 puts warnings and worse on the console (so
# they survive a guest that hangs) but keeps the info chatter off this slow
# emulated UART; the full log is read from the guest at the end, and on a
# panic panic_print=0x20 replays it all on the console. no_timer_check: the
# boot-time timer check counts ticks during a busy wait, which a vCPU
# descheduled on a loaded host (TCG) can miss entirely; a 6.12 guest then
# panicked with "IO-APIC + timer doesn't work!" although the timer works.
append="console=ttyS0 loglevel=5 panic=-1 panic_print=0x20 log_buf_len=4M 8250.nr_uarts=2"
append+=" no_timer_check"
append+=" ${extra_append}"

case $accel in
tcg) accel_args=(-accel 'tcg,thread=multi' -cpu max) ;;
kvm) accel_args=(-accel kvm -cpu host) ;;
*) die "RXU_VM_ACCEL must be tcg or kvm, not '$accel'" ;;
esac

# -V: the IOMMU must exist before any other PCI device, so it comes before
# the caller's -q devices too. QEMU 7.2 defaults to a 39-bit IOVA space
# (aw-bits=39); 48 bits matches real machines (and QEMU >= 9.2). The edu
# device itself only does 28-bit DMA: drivers still take IOVAs from the
# ranges VFIO reports, low ones first. kernel-irqchip=split is what
# intremap needs under KVM; TCG accepts and ignores it.
# (no_timer_check, on every guest's command line above, matters most here:
# with interrupt remapping on, a failed boot-time timer check has no
# fallback, and 6.12 panicked with "timer doesn't work through
# Interrupt-remapped IO-APIC".)
# -u MODEL[:TOPO]: the xHCI of the VFIO guest becomes MODEL, with the
# topology's devices on fixed ports and ids, so that tests (and the monitor
# commands they send) can name them. Both models get p2=4 p3=4 (QEMU's
# defaults, written out) and list their USB 3 ports first: xHCI ports 1-4
# are USB 3, 5-8 USB 2. QEMU's "port=N" is one connector holding xHCI ports
# N (USB 3) and 4+N (USB 2): a SuperSpeed device (usb-storage) takes the
# first, any other the second. usb-hub is a USB 1.1 (full-speed) hub, so
# what sits behind it is full-speed. Facts for the tests are written to
# $rundir/usb-topology (the guest's /run/rxu-vm/usb-topology); the table in
# selftests/vm/README.md says the same.
#
# The firmware is qboot, not SeaBIOS: SeaBIOS drives the xHCI and its
# devices during POST and leaves the controller's structures live at the top
# of RAM, where QEMU then loads the initramfs. Booted that way, most guests
# with the std topology failed to insmod their initramfs modules ("Key was
# rejected by service": the module image was no longer what was signed);
# qboot touches no USB and boots the same kernel and initramfs.
usb_rig() {
	local pcid img
	usb_qemu=(-bios "$QBOOT")
	case $usb_model in
	qemu-xhci) pcid=1b36:000d; xhci_dev=(-device 'qemu-xhci,id=xhci,p2=4,p3=4') ;;
	nec-usb-xhci)
		pcid=1033:0194
		xhci_dev=(-device 'nec-usb-xhci,id=xhci,p2=4,p3=4,superspeed-ports-first=on') ;;
	esac
	{
		echo '# generated by selftests/vm/run.sh -u: the USB rig of this guest'
		echo '# controller MODEL VENDOR:DEVICE USB3_PORTS USB2_PORTS TOPOLOGY'
		printf 'controller %s %s 1-4 5-8 %s\n' "$usb_model" "$pcid" "$usb_topo"
		echo '# image NODE PATH-IN-GUEST SIZE (raw, blockdev node names for device_add drive=)'
		echo '# device ID DRIVER QEMU_PORT XHCI_ROOT_PORT LINUX_PORT SPEED DEVICE_ADD_ARGS'
	} >"$rundir/usb-topology"
	# Three raw images: stick, stick2 (behind the hub) and spare (attached
	# to nothing, for device_add). -blockdev, not -drive: a -drive is
	# deleted along with its device by device_del, a blockdev node stays
	# and can be plugged again. LBA 0 and the last LBA carry a marker.
	local node size path
	for node in stick:8M spare:4M stick2:4M; do
		size=${node#*:}
		node=${node%%:*}
		path=$rundir/$node.img
		if [[ $node == stick && -n ${RXU_VM_USB_STICK:-} ]]; then
			path=$(readlink -f "$RXU_VM_USB_STICK")
			[[ -f $path ]] || die "RXU_VM_USB_STICK: no file $RXU_VM_USB_STICK"
		else
			truncate -s "$size" "$path"
			local bytes sectors
			bytes=$(stat -c %s "$path")
			sectors=$((bytes / 512))
			printf 'rxu-vm %s lba 0' "$node" | dd of="$path" conv=notrunc status=none
			printf 'rxu-vm %s lba %d' "$node" $((sectors - 1)) |
				dd of="$path" bs=512 seek=$((sectors - 1)) conv=notrunc status=none
		fi
		usb_qemu+=(-blockdev "node-name=${node}img,driver=raw,file.driver=file,file.filename=$(qpath "$path")")
		img=$path
		[[ $img == "$rundir"/* ]] && img=/run/rxu-vm/${img#"$rundir"/}
		printf 'image %simg %s %s\n' "$node" "$img" "$(stat -c %s "$path")" >>"$rundir/usb-topology"
	done
	local d id drv qport extra args
	if [[ $usb_topo == luns ]]; then
		# One usb-bot on port 1 whose SCSI bus holds two disks: LUN 0
		# on stickimg, LUN 1 on stick2img, attached from boot (a
		# hot-plugged usb-bot waits for "attached"; see usbscsid-rig.sh).
		args=usb-bot,bus=xhci.0,port=1,id=bot
		usb_qemu+=(-device "$args")
		printf 'device bot usb-bot 1 1 2-1 5000 %s\n' "$args" >>"$rundir/usb-topology"
		echo '# lun ID NODE LUN DEVICE_ADD_ARGS (a scsi-hd on the bot'"'"'s bus bot.0)' >>"$rundir/usb-topology"
		for d in lun0:stick:0 lun1:stick2:1; do
			IFS=: read -r id node extra <<<"$d"
			args="scsi-hd,bus=bot.0,scsi-id=0,lun=$extra,drive=${node}img,id=$id"
			usb_qemu+=(-device "$args")
			printf 'lun %s %simg %s %s\n' "$id" "$node" "$extra" "$args" >>"$rundir/usb-topology"
		done
		return 0
	fi
	[[ $usb_topo == std ]] || return 0
	# id driver qemu_port xhci_root_port linux_port speed qemu_args
	for d in \
		"stick usb-storage 1 1 2-1 5000 drive=stickimg" \
		"kbd usb-kbd 2 6 1-2 480 -" \
		"tablet usb-tablet 3 7 1-3 480 -" \
		"hub usb-hub 4 8 1-4 12 -" \
		"stick2 usb-storage 4.1 8 1-4.1 12 drive=stick2img" \
		"mouse usb-mouse 4.2 8 1-4.2 12 -"; do
		read -r id drv qport _ _ _ extra <<<"$d"
		args="$drv,bus=xhci.0,port=$qport,id=$id"
		[[ $extra == - ]] || args+=",$extra"
		usb_qemu+=(-device "$args")
		printf 'device %s %s\n' "${d% *}" "$args" >>"$rundir/usb-topology"
	done
}

machine=q35
vfio_qemu=()
xhci_dev=(-device qemu-xhci)
usb_qemu=()
readonly QBOOT=/usr/share/qemu/qboot.rom
if [[ -n $usb_model ]]; then
	[[ -r $QBOOT ]] || die "-u needs $QBOOT (apt-get install qemu-system-data)"
	usb_rig
fi
if [[ $vfio == 1 ]]; then
	machine=q35,kernel-irqchip=split
	append+=" intel_iommu=on iommu=pt"
	truncate -s 1M "$rundir/nvme.img"
	vfio_qemu=(-device 'intel-iommu,intremap=on,caching-mode=on,aw-bits=48'
		-device edu
		"${xhci_dev[@]}"
		-drive "if=none,id=rxunvme,format=raw,file=$(qpath "$rundir/nvme.img")"
		-device 'nvme,drive=rxunvme,serial=rxu-nvme-0'
		-netdev 'user,id=rxunet,restrict=on'
		-device 'e1000e,netdev=rxunet'
		"${usb_qemu[@]}")
elif [[ $vfio != 0 ]]; then
	die "RXU_VM_VFIO must be 0 or 1, not '$vfio'"
fi

# -Q: QMP for the bridge and an HMP for people, on unix sockets of this run
# (in $rundir unless its path is too long for a socket address, 108 bytes).
monitor_qemu=()
sockdir=
if [[ $monitor == 1 ]]; then
	sockdir=$rundir
	if ((${#rundir} > 90)); then
		sockdir=$(mktemp -d "${TMPDIR:-/tmp}/rxu-vm-mon.XXXXXX")
	fi
	mkdir "$rundir/monitor"
	monitor_qemu=(-chardev "socket,id=rxuqmp,path=$(qpath "$sockdir/qmp.sock"),server=on,wait=off"
		-mon 'chardev=rxuqmp,mode=control'
		-chardev "socket,id=rxuhmp,path=$(qpath "$sockdir/hmp.sock"),server=on,wait=off"
		-mon 'chardev=rxuhmp,mode=readline')
fi

read -r -a user_qemu <<<"$extra_qemu" || true
qemu=(qemu-system-x86_64 "${accel_args[@]}" -machine "$machine" -m "$mem" -smp "$cpus"
	-nographic -nodefaults -no-reboot -no-user-config
	-monitor none "${monitor_qemu[@]}"
	-chardev "file,id=kcon,path=$(qpath "$rundir/console.log")" -serial chardev:kcon
	-chardev 'stdio,id=out' -serial chardev:out
	-kernel "$kernel_image" -initrd "$initramfs" -append "$append"
	"${vfio_qemu[@]}"
	"${user_qemu[@]}"
	-fsdev 'local,id=hostroot,path=/,readonly=on,security_model=none,multidevs=remap'
	-device 'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot'
	-fsdev "local,id=rxurun,path=$(qpath "$rundir"),security_model=none"
	-device 'virtio-9p-pci,fsdev=rxurun,mount_tag=rxurun'
	-fsdev "local,id=rxuout,path=$(qpath "$out_dir"),security_model=none"
	-device 'virtio-9p-pci,fsdev=rxuout,mount_tag=rxuout')

: >"$rundir/console.log"
t0=$(date +%s.%N)
"${qemu[@]}" </dev/null &
qpid=$!
if [[ $monitor == 1 ]]; then
	python=/usr/bin/python3
	[[ -x $python ]] || python=python3
	"$python" "$SELF_DIR/monitor-bridge" "$sockdir/qmp.sock" "$rundir/monitor" "$qpid" \
		</dev/null 2>>"$rundir/monitor-bridge.log" &
	bpid=$!
fi

# Watch the guest: boot limit until the command starts, then the command's
# limit plus a margin for the guest's own watchdog to collect the dmesg.
why=
while kill -0 "$qpid" 2>/dev/null; do
	sleep 0.2
	now=$(date +%s)
	if [[ ! -e $rundir/started ]]; then
		if ((now - ${t0%.*} > boot_timeout_s)); then
			why=boot
			break
		fi
	elif ((now - $(stat -c %Y "$rundir/started") > timeout_s + 30)); then
		why=hang
		break
	fi
done
if [[ -n $why ]]; then
	kill -TERM "$qpid" 2>/dev/null || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$qpid" 2>/dev/null || break
		sleep 0.2
	done
	kill -KILL "$qpid" 2>/dev/null || true
fi
qrc=0
wait "$qpid" 2>/dev/null || qrc=$?
qpid=
stop_bridge
if [[ -s $rundir/monitor-bridge.log ]]; then
	msg "the monitor bridge said:"
	sed 's/^/  | /' "$rundir/monitor-bridge.log" >&2
fi
t1=$(date +%s.%N)

# ---------------------------------------------------------------- verdict

# The kernel console is kept beside the dmesg (the run directory goes away).
console_file=$out_dir/console-$kver.txt
tr -d '\r' <"$rundir/console.log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' >"$console_file.tmp.$$"
mv -f "$console_file.tmp.$$" "$console_file"
show_console_tail() {
	if [[ -s $console_file ]]; then
		msg "last lines of the guest console ($console_file):"
		tail -n 40 "$console_file" | sed 's/^/  | /' >&2
	else
		msg "the guest console is empty"
	fi
}

boot_s=
if [[ -e $rundir/started ]]; then
	boot_s=$(awk -v a="$t0" -v b="$(stat -c %.3Y "$rundir/started")" 'BEGIN { printf "%.1f", b - a }')
fi
total_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')

# The dmesg: from the guest if it got that far, else what the console shows.
dmesg_file=$out_dir/dmesg-$kver.txt
if [[ -s $rundir/dmesg ]]; then
	cp "$rundir/dmesg" "$dmesg_file.tmp.$$"
else
	# Kernel lines of the console; a panic replays the log from its first
	# line, "Linux version ...": keep the last replay.
	tr -d '\r' <"$rundir/console.log" | awk '/^\[ *[0-9]+\.[0-9]+\] / {
		if (index($0, "] Linux version ")) n = 0
		line[++n] = $0
	} END { for (i = 1; i <= n; i++) print line[i] }' >"$dmesg_file.tmp.$$"
fi
mv -f "$dmesg_file.tmp.$$" "$dmesg_file"

status=
if [[ -e $rundir/rc ]]; then
	status=$(<"$rundir/rc")
	if [[ -e $rundir/timeout ]]; then
		msg "error: the command timed out after $timeout_s s"
		status=$RC_TIMEOUT
	fi
elif [[ -e $rundir/timeout ]]; then
	msg "error: the command timed out after $timeout_s s and could not be killed (stuck in the kernel?)"
	status=$RC_TIMEOUT
elif [[ $why == boot ]]; then
	msg "error: the guest did not start the command within $boot_timeout_s s"
	show_console_tail
	status=$RC_INFRA
elif [[ $why == hang ]]; then
	msg "error: the guest stopped responding (command limit $timeout_s s); QEMU killed"
	show_console_tail
	status=$RC_TIMEOUT
elif grep -q 'Kernel panic' "$rundir/console.log"; then
	msg "error: the guest kernel panicked$([[ -e $rundir/started ]] && echo ' while running the command')"
	grep -m1 'Kernel panic' "$rundir/console.log" | sed 's/^/  | /' >&2
	status=$([[ -e $rundir/started ]] && echo "$RC_CRASH" || echo "$RC_INFRA")
elif [[ -e $rundir/started ]]; then
	msg "error: the guest went away while running the command (QEMU status $qrc)"
	show_console_tail
	status=$RC_CRASH
else
	msg "error: the guest never started the command (QEMU status $qrc)"
	show_console_tail
	status=$RC_INFRA
fi
[[ $status =~ ^[0-9]+$ ]] || { msg "error: bad status '$status' from the guest"; status=$RC_INFRA; }

# Kernel complaints fail the run, whatever the command said.
dirty=0
if [[ -s $dmesg_file ]] && ! "$SELF_DIR/scan-dmesg.sh" "$dmesg_file" >&2; then
	dirty=1
fi
if [[ -s $rundir/tainted ]]; then
	taint=$(<"$rundir/tainted")
	# B bad page, D died (oops), W warning, L soft lockup.
	bad=""
	for bit in 5:B 7:D 9:W 14:L; do
		((taint >> ${bit%:*} & 1)) && bad+=${bit#*:}
	done
	if [[ -n $bad ]]; then
		msg "the guest kernel is tainted '$bad' (value $taint)"
		dirty=1
	fi
fi
if ((dirty)); then
	msg "FAIL: the guest kernel reported problems (full log: $dmesg_file)"
	((status != 0)) || status=$RC_DMESG
fi

if [[ ${RXU_VM_QUIET:-0} != 1 ]]; then
	msg "kernel $kver: boot-to-command ${boot_s:-n/a} s, total ${total_s} s, exit $status"
fi
exit "$status"
