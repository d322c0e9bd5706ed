#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/vm/debug-kernel.sh - build (once) and cache the debug kernel of
# `make check-debug`: Debian's linux-source-6.1, x86_64 defconfig plus
# selftests/vm/debug.config (KASAN, KFENCE, lockdep, kmemleak, UBSAN, fault
# injection, and the guest's virtio/9p built in).
#
#   selftests/vm/debug-kernel.sh        build if needed; print the build's directory
#   selftests/vm/debug-kernel.sh -n     print it only if it is built (exit 1 if not)
#
# The cache lives outside the repository (a fresh clone must not rebuild it):
# $RXU_DEBUG_KERNEL_DIR, default /var/cache/redox_uring/debug-kernel. Each
# build is in a directory named after a hash of the source package's version,
# the fragment's settings, this script's recipe and the compiler, so an unchanged setup
# reuses it and any change rebuilds. In it:
#
#   src/              the configured and built tree; `make -C src M=... modules`
#                     builds an out-of-tree module against it
#   src/arch/x86/boot/bzImage   the image run.sh boots (its ELF src/vmlinux
#                     does not start through PVH with this config: QEMU
#                     stops at once, so check-debug boots the bzImage)
#   mod/lib/modules/<release>/   modules_install output (modules.dep, .builtin)
#   release           the kernel release (6.1.NNN-rxu-debug)
#   build-seconds     how long the build took
#   ok                written last: the build is complete
#
# An interrupted build is resumed (make is incremental). Older builds are
# removed once a new one is complete. Jobs: $RXU_DEBUG_KERNEL_JOBS (default 2),
# always under nice -n 19. Messages go to stderr; the directory to stdout.

set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
SELF_DIR=${SELF%/*}
FRAGMENT=$SELF_DIR/debug.config
TARBALL=/usr/src/linux-source-6.1.tar.xz
SRC_PKG=linux-source-6.1
ROOT=${RXU_DEBUG_KERNEL_DIR:-/var/cache/redox_uring/debug-kernel}
JOBS=${RXU_DEBUG_KERNEL_JOBS:-2}
# Bump when the steps below change in a way that needs a rebuild.
RECIPE=1

msg() { printf 'debug-kernel: %s\n' "$*" >&2; }
die() { msg "error: $*"; exit 1; }

only_print=0
case ${1-} in
-n) only_print=1 ;;
-h | --help) sed -n '4,30p' "$SELF" | sed 's/^# \{0,1\}//'; exit 0 ;;
'') ;;
*) die "usage: $0 [-n]" ;;
esac

if [[ ! -r $TARBALL ]]; then
	((only_print)) && exit 1
	msg "installing $SRC_PKG"
	if ! { apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$SRC_PKG" >&2; }; then
		die "cannot install $SRC_PKG"
	fi
fi
missing=
for p in build-essential bc flex bison libelf-dev libssl-dev kmod xz-utils; do
	dpkg -s "$p" >/dev/null 2>&1 || missing+=" $p"
done
if [[ -n $missing ]] && ((!only_print)); then
	msg "installing$missing"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2 ||
		die "cannot install$missing"
fi

src_ver=$(dpkg-query -W -f='${Version}' "$SRC_PKG" 2>/dev/null || true)
key=$({
	printf 'recipe %s\n' "$RECIPE"
	printf 'source %s %s\n' "$src_ver" "$(stat -c '%s %Y' "$TARBALL")"
	printf 'gcc %s\n' "$(gcc -dumpfullversion) $(gcc -dumpmachine)"
	# Only the settings count, not the comments.
	grep -E '^(CONFIG_|# CONFIG_[A-Za-z0-9_]+ is not set)' "$FRAGMENT"
} | sha256sum | cut -c1-16)
dir=$ROOT/6.1-$key

if [[ -e $dir/ok ]]; then
	printf '%s\n' "$dir"
	exit 0
fi
((only_print)) && exit 1

mkdir -p "$ROOT"
exec 9>"$ROOT/.lock"
if ! flock -n 9; then
	msg "another build holds $ROOT/.lock; waiting"
	flock 9
fi
if [[ -e $dir/ok ]]; then
	printf '%s\n' "$dir"
	exit 0
fi

t0=$(date +%s)
mkdir -p "$dir"
if [[ ! -e $dir/extracted ]]; then
	msg "extracting $TARBALL ($src_ver) into $dir/src"
	rm -rf "$dir/src"
	mkdir -p "$dir/src"
	tar -xJf "$TARBALL" -C "$dir/src" --strip-components=1
	: >"$dir/extracted"
fi

cd "$dir/src"
kmake() { nice -n 19 make -j"$JOBS" "$@"; }

if [[ ! -e $dir/configured ]]; then
	msg "configuring: defconfig + $FRAGMENT"
	kmake defconfig >&2
	scripts/kconfig/merge_config.sh -m .config "$FRAGMENT" >&2
	kmake olddefconfig >&2
	# Every option the fragment sets must have survived olddefconfig (a
	# missing dependency silently drops it).
	bad=
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF -- "$line" .config || bad+=" $line" ;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			grep -q "^$opt=" .config && bad+=" !$opt" ;;
		esac
	done <"$FRAGMENT"
	[[ -z $bad ]] || die "options of the fragment not in the final .config:$bad"
	cp .config "$dir/config"
	: >"$dir/configured"
fi

msg "building bzImage and modules with $JOBS jobs (nice 19); this takes a while"
kmake bzImage modules >"$dir/build.log" 2>&1 ||
	{ tail -n 40 "$dir/build.log" >&2; die "kernel build failed (log: $dir/build.log)"; }
kmake modules_prepare >>"$dir/build.log" 2>&1 || die "modules_prepare failed"
release=$(cat include/config/kernel.release)
rm -rf "$dir/mod"
kmake INSTALL_MOD_PATH="$dir/mod" modules_install >>"$dir/build.log" 2>&1 ||
	die "modules_install failed (log: $dir/build.log)"
# The source and build links point at this tree (M= builds use either).
ln -sfn "$dir/src" "$dir/mod/lib/modules/$release/build"
[[ -s vmlinux && -s arch/x86/boot/bzImage ]] || die "no vmlinux/bzImage after the build"
printf '%s\n' "$release" >"$dir/release"
t1=$(date +%s)
# (A resumed build counts only its last part.)
echo $((t1 - t0)) >"$dir/build-seconds"
: >"$dir/ok"
msg "built $release in $(cat "$dir/build-seconds") s: $dir"

# Only the newest build is kept (each is several GB).
for old in "$ROOT"/6.1-*; do
	[[ $old == "$dir" || ! -d $old ]] && continue
	msg "removing the older build $old"
	rm -rf "$old"
done
printf '%s\n' "$dir"
