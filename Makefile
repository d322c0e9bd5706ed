# SPDX-License-Identifier: GPL-2.0
#
# redox_uring: top-level targets.  The module itself is described by Kbuild,
# so the usual out-of-tree build works from here too:
#     make -C /lib/modules/$(uname -r)/build M=$PWD
#
#   make deps       install what building and testing need (Debian 12, root)
#   make            module for the running kernel (KDIR) + librxu
#   make modules    module for every kernel in KVERS, in build/module/<kver>/
#   make check      every test: host, style, and the QEMU guests (both kernels)
#   make check-usb  the USB rig's guests only (qemu-xhci and nec-usb-xhci)
#   make check-debug  the selftests on a KASAN/lockdep/kmemleak/UBSAN kernel
#                   built from linux-source-6.1 (cached outside the tree; long)
#   make demo       boot a guest, load the module, run a short ring session
#   make bench      NOP throughput against io_uring (a benchmark, not a test)
#   make bench-u2u  polled user-to-user round trip vs a cache-line ping-pong (host)
#   make bench-scheme  scheme round trips vs a UNIX-socket daemon and a pipe (guest)
#   make bench-dd   dd on a memd scheme file vs a tmpfs file (guest)
#   make dkms-build DKMS build for every kernel in KVERS

KDIR	?= /lib/modules/$(shell uname -r)/build
BUILD	:= $(CURDIR)/build
# Kernels to build and test for: every Debian amd64 kernel whose headers
# and image are both installed.
KVERS	?= $(shell for d in /usr/src/linux-headers-*-amd64; do \
		v=$$(basename $$d | sed s/^linux-headers-//); \
		[ -e /boot/vmlinuz-$$v ] && echo $$v; \
		done 2>/dev/null | grep -v -e cloud -e rt- | sort -V)
KSRC	= /usr/src/linux-headers-$(1)

MODULE_SRCS := Kbuild $(wildcard module/*.c module/*.h) uapi/linux/redox_uring.h

DEPS := build-essential pkg-config clang sparse kmod cpio xz-utils perl \
	linux-headers-amd64 linux-image-amd64 \
	linux-headers-6.12-amd64 linux-image-6.12-amd64 linux-source-6.1 \
	qemu-system-x86 python3-minimal busybox-static dkms liburing-dev libinih-dev libclang-rt-14-dev \
	gnuplot-nox mandoc

.PHONY: all default lib guest-bins modules module-% deps check check-usb check-debug style demo bench bench-u2u bench-scheme bench-dd \
	print-kvers \
	dkms-build dkms-install clean

default: all

all:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
	$(MAKE) -C userspace

lib:
	$(MAKE) -C userspace

# What a guest run needs: the module for every kernel, librxu and the tools.
guest-bins: modules
	$(MAKE) -C userspace
	$(MAKE) -C userspace/tools

# the NBD block device of usbscsid's disk: (rxu-nbd) and its tests
DEPS += nbd-client fdisk e2fsprogs

# A stick read through pcid -> xhcid -> usbscsid, mounted as /dev/nbd0p1
# (needs xhcid and the USB rig, selftests/vm/run.sh -u).
.PHONY: demo-usb
demo-usb:
	@selftests/demo-usb.sh

deps:
	@missing=$$(for p in $(DEPS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# One copy of the sources per kernel, so that objects never mix.
modules: $(addprefix module-,$(KVERS))

module-%: $(MODULE_SRCS)
	@mkdir -p $(BUILD)/module/$*/module $(BUILD)/module/$*/uapi/linux
	@cp -p Kbuild $(BUILD)/module/$*/
	@cp -p module/*.c module/*.h $(BUILD)/module/$*/module/
	@cp -p uapi/linux/redox_uring.h $(BUILD)/module/$*/uapi/linux/
	$(MAKE) -C $(call KSRC,$*) M=$(BUILD)/module/$* W=1 KCFLAGS=-Werror modules

check:
	@selftests/check.sh

# Only the USB rig's guests (both kernels, both xHCI models; see check.sh).
check-usb:
	@selftests/check.sh usb

style:
	@selftests/check.sh style

# Not part of check: the first run builds a kernel (see README, "Debug kernel").
check-debug:
	@selftests/vm/check-debug.sh

demo:
	@selftests/demo.sh

bench:
	@userspace/tools/bench.sh

# Benchmarks of issue 4; like bench, never part of check.  bench-u2u needs no
# module and runs on this machine (BENCH_U2U_ARGS: its arguments).
bench-u2u:
	@$(MAKE) -s --no-print-directory -C userspace >/dev/null
	@$(MAKE) -s --no-print-directory -C userspace/tools $(BUILD)/userspace/tools/bench-u2u >/dev/null
	@$(BUILD)/userspace/tools/bench-u2u $(BENCH_U2U_ARGS)

# In QEMU guests, one per kernel in KVERS (see the scripts for their knobs).
bench-scheme:
	@userspace/tools/bench-scheme.sh

bench-dd:
	@userspace/tools/bench-dd.sh

DKMS_NAME := redox_uring
DKMS_VER  := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DKMS_SRC  := /usr/src/$(DKMS_NAME)-$(DKMS_VER)

# Copy exactly the module's sources to where DKMS wants them.
dkms-install:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)/module $(DKMS_SRC)/uapi/linux
	cp -p Kbuild dkms.conf $(DKMS_SRC)/
	cp -p module/*.c module/*.h $(DKMS_SRC)/module/
	cp -p uapi/linux/redox_uring.h $(DKMS_SRC)/uapi/linux/
	dkms add -m $(DKMS_NAME) -v $(DKMS_VER) 2>/dev/null || true

dkms-build: dkms-install
	@for k in $(KVERS); do \
		dkms build -m $(DKMS_NAME) -v $(DKMS_VER) -k $$k --force || exit 1; \
	done

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	$(MAKE) -C userspace clean
	rm -rf $(BUILD)

print-kvers:
	@echo $(KVERS)
