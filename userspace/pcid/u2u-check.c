// SPDX-License-Identifier: MIT
/*
 * pcid-u2u-check: a driver's view of pci: over a user-to-user ring, for
 * guest-smoke.sh.  Run as (or like) a driver pcid spawned:
 *
 *	pcid-u2u-check ADDR		(PCID_TOKEN, PCID_SCHEME from the env)
 *
 * ATTACHes SCHEME: u2u, maps a pool, then prints one line per step,
 * "NAME RESULT [details]": claim, a second claim of another function,
 * fetch_config, caps, get_cap of the MSI capability, set_cap (MSI enable
 * 1), the irq/0 eventfd by OPEN with the token, mask/unmask, a refused
 * config write, config_read.  Exit 0 if it got that far.
 *
 *	pcid-u2u-check --errors ADDR	(as a driver: PCID_TOKEN of ADDR)
 *
 * TAP: the bad requests of rxu_pci.h with the error each must get, on
 * the u2u ring and on paths (unknown function, malformed SQEs, rights,
 * out-of-range config accesses, forbidden config writes, SET_CAPABILITY
 * on a missing or wrong capability, ...), the allowed writes next to
 * them, and a second connection claiming the same function (EBUSY).
 * Exit 0 if every check passed.
 *
 *	pcid-u2u-check --compare	(PCID_TOKEN = pcid's admin token)
 *
 * TAP: for every function in /sys/bus/pci/devices, CONFIG_READ of the
 * whole config space on a u2u ring (admin claim) equals the sysfs config
 * file, and FETCH_CONFIG's ids and class equal sysfs's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rxu.h"
#include "rxu_pci.h"

static struct rxu_reactor *r;
static int ring;
static struct rxu_pool pool;
static struct rxu_instance cons_g;
static uint64_t extra;

static int64_t call_on(int rg, uint8_t op, uint64_t addr, uint64_t a,
		       uint64_t len, uint64_t off)
{
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int64_t res;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = op;
	sqe.syscall_flags = RXU_PCI_VERSION;
	sqe.fd = addr;
	sqe.addr = a;
	sqe.len = len;
	sqe.offset = off;
	res = rxu_reactor_call(r, rg, &sqe, &cqe, 5000000000ULL);
	extra = cqe.extra;
	return res;
}

static int64_t call(uint8_t op, uint32_t addr, uint64_t a, uint64_t len,
		    uint64_t off)
{
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int64_t res;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = op;
	sqe.syscall_flags = RXU_PCI_VERSION;
	sqe.fd = addr;
	sqe.addr = a;
	sqe.len = len;
	sqe.offset = off;
	res = rxu_reactor_call(r, ring, &sqe, &cqe, 5000000000ULL);
	extra = cqe.extra;
	return res;
}

/* ------------------------------------------------------------------ */
/* --errors and --compare: TAP                                         */
/* ------------------------------------------------------------------ */

#define NOFN	RXU_PCI_ADDR(0, 0x77, 0, 0)	/* no such function */
#define BIG	(1ULL << 40)			/* no such pool offset */

static unsigned int ntap, nfail;

static void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	ntap++;
	if (!ok)
		nfail++;
	printf("%sok %u - ", ok ? "" : "not ", ntap);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static const char *ename(int64_t v)
{
	static char buf[4][48];
	static int k;
	char *b = buf[k++ & 3];

	if (v >= 0)
		snprintf(b, sizeof(buf[0]), "%lld", (long long)v);
	else
		snprintf(b, sizeof(buf[0]), "-%s", strerrorname_np((int)-v) ?
			 strerrorname_np((int)-v) : "?");
	return b;
}

static void expect(const char *what, int64_t got, int64_t want)
{
	tap(got == want, "%s: %s (want %s)", what, ename(got), ename(want));
}

/* A u2u connection to SCHEME: with a 64 KiB pool range. */
static int conn_open(const char *scheme, struct rxu_instance *cons,
		     struct rxu_pool *pl, int *rg, uint64_t *base,
		     uint8_t **ptr)
{
	struct rxu_sqe64 sqe;
	void *mem;
	int ret;

	ret = rxu_u2u_connect(cons, scheme, 64);
	if (ret)
		return ret;
	rxu_prep_dup_param(&sqe, cons->fd, RXU_DUP_PARAM_POOL,
			   strlen(RXU_DUP_PARAM_POOL), 0);
	ret = rxu_u2u_pool(pl, rxu_reactor_call(r, RXU_RING_PRIMARY, &sqe,
						NULL, 5000000000ULL),
			   65536, base, &mem);
	if (ret)
		return ret;
	*ptr = mem;
	*rg = rxu_reactor_add_consumer(r, cons);
	return *rg < 0 ? *rg : 0;
}

static int reactor_up(void)
{
	static struct rxu_instance prim;
	int ret = rxu_setup(&prim, 64, 128, 0);

	if (!ret)
		ret = rxu_reactor_create(&r, &prim, 64);
	return ret;
}

/* A hand-made SQE on ring rg: for the malformed ones. */
static int64_t raw(int rg, uint8_t op, uint8_t version, uint64_t fd,
		   uint8_t flags, uint64_t add1)
{
	struct rxu_sqe64 sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = op;
	sqe.syscall_flags = version;
	sqe.fd = fd;
	sqe.flags = flags;
	sqe.additional1 = add1;
	return rxu_reactor_call(r, rg, &sqe, NULL, 5000000000ULL);
}

/* OPEN through the kernel ring: an fd of the scheme file, or -errno. */
static int64_t path_open(const char *scheme, const char *rest, int flags)
{
	struct rxu_sqe64 sqe;
	char path[200];

	snprintf(path, sizeof(path), "%s:%s", scheme, rest);
	rxu_prep_open(&sqe, path, strlen(path), flags, 0, 0);
	return rxu_reactor_call(r, RXU_RING_PRIMARY, &sqe, NULL, 5000000000ULL);
}

static int64_t sys_rw(int write, int fd, void *buf, size_t len, off_t off)
{
	ssize_t n = write ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);

	return n < 0 ? -errno : n;
}

static int errors_main(const char *a, const char *tok, const char *scheme)
{
	struct rxu_instance cons, cons2;
	struct rxu_pool pl2;
	struct rxu_pci_config *cfg;
	struct rxu_pci_cap_record *recs;
	struct rxu_pci_set_capability *set;
	struct rxu_pci_set_capability good;
	uint64_t base, base2;
	uint8_t *p, *p2, hdr[RXU_PCI_CONFIG_MAX], b4[4];
	uint32_t addr, csize;
	int64_t n, i, msi = -1, other = -1, ncaps;
	uint16_t msi_off = 0, cmd;
	char rest[160];
	int ring2, has_reset, fd;
	struct { uint16_t off, len; const char *what; } forbidden[] = {
		{ 0x00, 2, "vendor id" }, { 0x02, 2, "device id" },
		{ 0x08, 1, "revision" }, { 0x09, 3, "class code" },
		{ 0x0c, 1, "cache line size" }, { 0x0e, 1, "header type" },
		{ 0x0f, 1, "BIST" }, { 0x10, 4, "BAR0" }, { 0x24, 4, "BAR5" },
		{ 0x28, 4, "CardBus CIS" }, { 0x2c, 4, "subsystem ids" },
		{ 0x30, 4, "expansion ROM" }, { 0x34, 1, "capability pointer" },
		{ 0x3d, 1, "interrupt pin" }, { 0x3e, 2, "Min_Gnt/Max_Lat" },
		{ 0x3c, 4, "Interrupt Line with Pin (one forbidden byte)" },
		{ 0x00, 64, "the whole header" },
	};

	if (rxu_pci_addr_parse(a, strlen(a), &addr))
		return 2;
	if (reactor_up() || conn_open(scheme, &cons, &pool, &ring, &base, &p)) {
		tap(0, "a u2u connection to %s:", scheme);
		goto out;
	}
	tap(1, "a u2u connection to %s: with a pool", scheme);

	/* ---- malformed requests and unknown functions (no claim) ---- */
	expect("FETCH_CONFIG of an unknown function", call(RXU_PCI_OP_FETCH_CONFIG, NOFN, base, 4096, 0), -ENOENT);
	expect("CONFIG_READ of an unknown function", call(RXU_PCI_OP_CONFIG_READ, NOFN, base, 4, 0), -ENOENT);
	expect("CLAIM of an unknown function", call(RXU_PCI_OP_CLAIM, NOFN, base, RXU_PCI_TOKEN_LEN, 0), -ENOENT);
	expect("SET_CAPABILITY of an unknown function", call(RXU_PCI_OP_SET_CAPABILITY, NOFN, 0, 16, base), -ENOENT);
	expect("an address with bits 32-63 set", raw(ring, RXU_PCI_OP_FETCH_CONFIG, RXU_PCI_VERSION, (1ULL << 32) | addr, 0, 0), -EINVAL);
	expect("opcode 138 (past RESET)", raw(ring, 138, RXU_PCI_VERSION, addr, 0, 0), -ENOSYS);
	expect("opcode 127 (before FETCH_CONFIG)", raw(ring, 127, RXU_PCI_VERSION, addr, 0, 0), -ENOSYS);
	expect("standard READ on the u2u ring", raw(ring, RXU_OP_READ, RXU_PCI_VERSION, addr, 0, 0), -ENOSYS);
	expect("NOOP on the u2u ring", raw(ring, RXU_OP_NOOP, 0, 0, 0, 0), 0);
	expect("version 0", raw(ring, RXU_PCI_OP_FETCH_CONFIG, 0, addr, 0, 0), -ENOSYS);
	expect("flags set", raw(ring, RXU_PCI_OP_FETCH_CONFIG, RXU_PCI_VERSION, addr, 1, 0), -EINVAL);
	expect("additional1 set", raw(ring, RXU_PCI_OP_FETCH_CONFIG, RXU_PCI_VERSION, addr, 0, 1), -EINVAL);
	expect("FETCH_CONFIG into 327 bytes", call(RXU_PCI_OP_FETCH_CONFIG, addr, base, sizeof(*cfg) - 1, 0), -EINVAL);
	expect("FETCH_CONFIG to a pool offset outside the pool", call(RXU_PCI_OP_FETCH_CONFIG, addr, BIG, 4096, 0), -EFAULT);

	/* ---- rights before a claim ---- */
	expect("CONFIG_READ without a claim: the 64 public bytes", call(RXU_PCI_OP_CONFIG_READ, addr, base, 256, 0), RXU_PCI_HEADER_PUBLIC);
	expect("CONFIG_READ without a claim at 64: nothing", call(RXU_PCI_OP_CONFIG_READ, addr, base, 4, 64), 0);
	memset(p, 0, 4);
	expect("CONFIG_WRITE without a claim", call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 1, 0x3c), -EACCES);
	expect("FETCH_ALL_CAPABILITIES without a claim", call(RXU_PCI_OP_FETCH_ALL_CAPABILITIES, addr, 0, 8, base), -EACCES);
	expect("GET_CAPABILITY without a claim", call(RXU_PCI_OP_GET_CAPABILITY, addr, 0, 4096, base), -EACCES);
	expect("SET_CAPABILITY without a claim", call(RXU_PCI_OP_SET_CAPABILITY, addr, 0, 16, base), -EACCES);
	expect("IRQ_MASK without a claim", call(RXU_PCI_OP_IRQ_MASK, addr, 0, 1, 0), -EACCES);
	expect("RESET without a claim", call(RXU_PCI_OP_RESET, addr, 0, 0, 0), -EACCES);
	memcpy(p, "0123456789abcdef0123456789abcdef", RXU_PCI_TOKEN_LEN);
	expect("CLAIM with a wrong token", call(RXU_PCI_OP_CLAIM, addr, base, RXU_PCI_TOKEN_LEN, 0), -EACCES);
	memcpy(p, tok, RXU_PCI_TOKEN_LEN);
	expect("CLAIM with half the token", call(RXU_PCI_OP_CLAIM, addr, base, RXU_PCI_TOKEN_LEN / 2, 0), -EACCES);
	expect("CLAIM with the token outside the pool", call(RXU_PCI_OP_CLAIM, addr, BIG, RXU_PCI_TOKEN_LEN, 0), -EFAULT);
	expect("CLAIM with the driver token", call(RXU_PCI_OP_CLAIM, addr, base, RXU_PCI_TOKEN_LEN, 0), 0);

	/* ---- a second driver: another connection, the same token ---- */
	if (conn_open(scheme, &cons2, &pl2, &ring2, &base2, &p2)) {
		tap(0, "a second u2u connection");
	} else {
		memcpy(p2, tok, RXU_PCI_TOKEN_LEN);
		expect("a second connection CLAIMs the claimed function (second driver refused)",
		       call_on(ring2, RXU_PCI_OP_CLAIM, addr, base2, RXU_PCI_TOKEN_LEN, 0), -EBUSY);
		n = call_on(ring2, RXU_PCI_OP_FETCH_CONFIG, addr, base2, 4096, 0);
		cfg = (struct rxu_pci_config *)p2;
		tap(n == (int64_t)sizeof(*cfg) && (cfg->flags & RXU_PCI_CFG_OWNED),
		    "FETCH_CONFIG from the second connection shows it owned (flags %#x)", cfg->flags);
		memset(p2, 0, 4);
		expect("CONFIG_WRITE from the refused connection", call_on(ring2, RXU_PCI_OP_CONFIG_WRITE, addr, base2, 1, 0x3c), -EACCES);
		expect("SET_CAPABILITY from the refused connection", call_on(ring2, RXU_PCI_OP_SET_CAPABILITY, addr, 0, 16, base2), -EACCES);
		rxu_reactor_remove(r, ring2);
		rxu_pool_close(&pl2);
		rxu_instance_close(&cons2);
	}

	/* ---- what the function is ---- */
	n = call(RXU_PCI_OP_FETCH_CONFIG, addr, base, 4096, 0);
	cfg = (struct rxu_pci_config *)p;
	csize = cfg->config_size;
	has_reset = !!(cfg->flags & RXU_PCI_CFG_RESET);
	tap(n == (int64_t)sizeof(*cfg) && (csize == 256 || csize == 4096) &&
	    (cfg->flags & RXU_PCI_CFG_OWNED),
	    "FETCH_CONFIG after the claim: %lld bytes, config size %u, flags %#x",
	    (long long)n, csize, cfg->flags);
	ncaps = call(RXU_PCI_OP_FETCH_ALL_CAPABILITIES, addr, 0, 96, base);
	recs = (struct rxu_pci_cap_record *)p;
	for (i = 0; i < ncaps; i++) {
		if (!recs[i].extended && recs[i].id == RXU_PCI_CAP_ID_MSI) {
			msi = i;
			msi_off = recs[i].offset;
		} else if (other < 0 && (recs[i].extended ||
					 recs[i].id != RXU_PCI_CAP_ID_MSIX)) {
			other = i;
		}
	}
	tap(ncaps >= 1 && msi >= 0, "FETCH_ALL_CAPABILITIES: %lld record(s), MSI at index %lld (0x%x)",
	    (long long)ncaps, (long long)msi, msi_off);
	expect("FETCH_ALL_CAPABILITIES of 97 records (96 at most)", call(RXU_PCI_OP_FETCH_ALL_CAPABILITIES, addr, 0, 97, base), -EINVAL);
	n = call(RXU_PCI_OP_FETCH_ALL_CAPABILITIES, addr, (uint64_t)ncaps, 8, base);
	tap(n == 0 && extra == 0, "FETCH_ALL_CAPABILITIES from past the last index: %s records, %llu left",
	    ename(n), (unsigned long long)extra);
	expect("FETCH_ALL_CAPABILITIES into a buffer outside the pool", call(RXU_PCI_OP_FETCH_ALL_CAPABILITIES, addr, 0, 8, BIG), -EFAULT);
	expect("GET_CAPABILITY of a missing index", call(RXU_PCI_OP_GET_CAPABILITY, addr, (uint64_t)ncaps, 4096, base), -ENOENT);
	n = call(RXU_PCI_OP_GET_CAPABILITY, addr, 0, 16, base);
	tap(n == -ENOBUFS && extra > 16, "GET_CAPABILITY into 16 bytes: %s, %llu needed",
	    ename(n), (unsigned long long)extra);

	/* ---- out-of-range config accesses ---- */
	expect("CONFIG_READ of 0 bytes", call(RXU_PCI_OP_CONFIG_READ, addr, base, 0, 0), -EINVAL);
	expect("CONFIG_READ of 4097 bytes", call(RXU_PCI_OP_CONFIG_READ, addr, base, 4097, 0), -EINVAL);
	expect("CONFIG_READ at offset 4097", call(RXU_PCI_OP_CONFIG_READ, addr, base, 4, 4097), -EINVAL);
	expect("CONFIG_READ at offset 2^63", call(RXU_PCI_OP_CONFIG_READ, addr, base, 4, 1ULL << 63), -EINVAL);
	expect("CONFIG_READ at the end of config space: nothing", call(RXU_PCI_OP_CONFIG_READ, addr, base, 4, csize), 0);
	expect("CONFIG_READ crossing the end: short", call(RXU_PCI_OP_CONFIG_READ, addr, base, 16, csize - 4), 4);
	expect("CONFIG_READ of all 4096 bytes: the config size", call(RXU_PCI_OP_CONFIG_READ, addr, base, 4096, 0), csize);
	memcpy(hdr, p, csize);
	expect("CONFIG_READ into a buffer outside the pool", call(RXU_PCI_OP_CONFIG_READ, addr, BIG, 4, 0), -EFAULT);
	expect("CONFIG_READ into a buffer crossing the pool's end", call(RXU_PCI_OP_CONFIG_READ, addr, base + 65536 - 2, 4, 0), -EFAULT);
	memset(p, 0, 8);
	expect("CONFIG_WRITE of 0 bytes", call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 0, 0x3c), -EINVAL);
	expect("CONFIG_WRITE crossing the end", call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 4, csize - 2), -EINVAL);
	expect("CONFIG_WRITE at the end", call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 1, csize), -EINVAL);
	expect("CONFIG_WRITE at offset 4097", call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 1, 4097), -EINVAL);

	/* ---- forbidden config writes: EPERM, nothing written ---- */
	for (i = 0; i < (int64_t)(sizeof(forbidden) / sizeof(forbidden[0])); i++) {
		char what[96];

		memcpy(p, hdr + forbidden[i].off, forbidden[i].len);
		p[forbidden[i].len - 1] ^= 0x01;	/* a change */
		snprintf(what, sizeof(what), "CONFIG_WRITE of the %s (0x%02x, %u bytes)",
			 forbidden[i].what, forbidden[i].off, forbidden[i].len);
		expect(what, call(RXU_PCI_OP_CONFIG_WRITE, addr, base, forbidden[i].len, forbidden[i].off), -EPERM);
	}
	memcpy(&cmd, hdr + 4, 2);
	cmd = (uint16_t)(cmd | 0x0008);		/* Special Cycles: not allowed */
	memcpy(p, &cmd, 2);
	expect("CONFIG_WRITE of Command with Special Cycles set", call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 2, 4), -EPERM);
	memcpy(&cmd, hdr + 4, 2);
	cmd = (uint16_t)(cmd | 0x0200);		/* Fast Back-to-Back */
	memcpy(p, &cmd, 2);
	expect("CONFIG_WRITE of Command with Fast Back-to-Back set", call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 2, 4), -EPERM);
	if (msi >= 0) {
		static const struct { uint8_t at, len; const char *what; } m[] = {
			{ 0, 1, "ID" }, { 1, 1, "next pointer" },
			{ 2, 2, "Message Control (enable)" }, { 4, 4, "Message Address" },
			{ 8, 2, "Message Data / upper address" },
		};
		unsigned k;

		for (k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
			char what[96];

			memcpy(p, hdr + msi_off + m[k].at, m[k].len);
			p[0] ^= 0x01;
			snprintf(what, sizeof(what), "CONFIG_WRITE of the MSI capability's %s (0x%x)",
				 m[k].what, msi_off + m[k].at);
			expect(what, call(RXU_PCI_OP_CONFIG_WRITE, addr, base, m[k].len, msi_off + m[k].at), -EPERM);
		}
	}
	n = call(RXU_PCI_OP_CONFIG_READ, addr, base, csize, 0);
	tap(n == csize && !memcmp(p, hdr, 0x40) &&
	    (msi < 0 || !memcmp(p + msi_off, hdr + msi_off, 8)),
	    "after the refused writes the header and the MSI capability are unchanged");

	/* ---- allowed writes next to them ---- */
	/* vfio-pci virtualizes Interrupt Line: accepted, not on the device */
	p[0] = (uint8_t)(hdr[0x3c] ^ 0x5a);
	expect("CONFIG_WRITE of Interrupt Line (allowed)", call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 1, 0x3c), 1);
	p[0] = hdr[0x3c];
	call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 1, 0x3c);
	/* Command's bus master reaches the device: sysfs shows it */
	memcpy(&cmd, hdr + 4, 2);
	cmd = (uint16_t)(cmd ^ 0x0004);
	memcpy(p, &cmd, 2);
	expect("CONFIG_WRITE of Command, bus master toggled (allowed)", call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 2, 4), 2);
	n = call(RXU_PCI_OP_CONFIG_READ, addr, base, 2, 4);
	tap(n == 2 && !memcmp(p, &cmd, 2), "Command reads back %02x%02x (wrote %04x)", p[1], p[0], cmd);
	memcpy(p, hdr + 4, 2);
	expect("CONFIG_WRITE of Command back as it was (allowed)", call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 2, 4), 2);
	memset(p, 0, 2);
	expect("CONFIG_WRITE of Status, 0 (allowed, write-1-to-clear)", call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 2, 6), 2);

	/* ---- SET_CAPABILITY: missing and wrong capabilities ---- */
	set = (struct rxu_pci_set_capability *)p;
	memset(&good, 0, sizeof(good));
	good.id = RXU_PCI_CAP_ID_MSI;
	good.flags = RXU_PCI_SET_ENABLE;
	good.count = 1;
	*set = good;
	expect("SET_CAPABILITY on a missing capability (index = count)", call(RXU_PCI_OP_SET_CAPABILITY, addr, (uint64_t)ncaps, sizeof(*set), base), -ENOENT);
	expect("SET_CAPABILITY on a missing capability (index 99)", call(RXU_PCI_OP_SET_CAPABILITY, addr, 99, sizeof(*set), base), -ENOENT);
	expect("SET_CAPABILITY on a missing capability (index 2^32)", call(RXU_PCI_OP_SET_CAPABILITY, addr, 1ULL << 32, sizeof(*set), base), -ENOENT);
	if (other >= 0) {
		set->id = recs[other].id;
		expect("SET_CAPABILITY on a capability that is not MSI/MSI-X", call(RXU_PCI_OP_SET_CAPABILITY, addr, (uint64_t)other, sizeof(*set), base), -EINVAL);
	} else {
		ntap++;
		printf("ok %u - SET_CAPABILITY on a capability that is not MSI/MSI-X # SKIP the function has none\n", ntap);
	}
	if (msi >= 0) {
		uint64_t mi = (uint64_t)msi;

		*set = good;
		set->id = RXU_PCI_CAP_ID_MSIX;
		expect("SET_CAPABILITY of MSI with the MSI-X id", call(RXU_PCI_OP_SET_CAPABILITY, addr, mi, sizeof(*set), base), -EINVAL);
		*set = good;
		set->flags = 0;
		expect("SET_CAPABILITY with no flag", call(RXU_PCI_OP_SET_CAPABILITY, addr, mi, sizeof(*set), base), -EINVAL);
		*set = good;
		set->flags = RXU_PCI_SET_ENABLE | RXU_PCI_SET_DISABLE;
		expect("SET_CAPABILITY with ENABLE|DISABLE", call(RXU_PCI_OP_SET_CAPABILITY, addr, mi, sizeof(*set), base), -EINVAL);
		*set = good;
		set->flags = 1u << 7;
		expect("SET_CAPABILITY with an unknown flag", call(RXU_PCI_OP_SET_CAPABILITY, addr, mi, sizeof(*set), base), -EINVAL);
		*set = good;
		set->reserved = 1;
		expect("SET_CAPABILITY with reserved set", call(RXU_PCI_OP_SET_CAPABILITY, addr, mi, sizeof(*set), base), -EINVAL);
		*set = good;
		set->count = 0;
		expect("SET_CAPABILITY ENABLE of 0 vectors", call(RXU_PCI_OP_SET_CAPABILITY, addr, mi, sizeof(*set), base), -EINVAL);
		*set = good;
		set->count = 33;
		expect("SET_CAPABILITY ENABLE of 33 MSI vectors", call(RXU_PCI_OP_SET_CAPABILITY, addr, mi, sizeof(*set), base), -EINVAL);
		*set = good;
		set->flags = RXU_PCI_SET_DISABLE;
		set->count = 1;
		expect("SET_CAPABILITY DISABLE with a count", call(RXU_PCI_OP_SET_CAPABILITY, addr, mi, sizeof(*set), base), -EINVAL);
		*set = good;
		expect("SET_CAPABILITY with len 8", call(RXU_PCI_OP_SET_CAPABILITY, addr, mi, 8, base), -EINVAL);
		expect("SET_CAPABILITY from outside the pool", call(RXU_PCI_OP_SET_CAPABILITY, addr, mi, sizeof(*set), BIG), -EFAULT);
		*set = good;
		set->flags = RXU_PCI_SET_MASK_ALL;
		set->count = 0;
		expect("SET_CAPABILITY MASK_ALL with nothing enabled", call(RXU_PCI_OP_SET_CAPABILITY, addr, mi, sizeof(*set), base), -EINVAL);
		*set = good;
		set->flags = RXU_PCI_SET_DISABLE;
		set->count = 0;
		expect("SET_CAPABILITY DISABLE with nothing enabled", call(RXU_PCI_OP_SET_CAPABILITY, addr, mi, sizeof(*set), base), 0);
	}
	*set = good;
	set->id = RXU_PCI_CAP_ID_MSI;
	expect("SET_CAPABILITY of INTx with an id", call(RXU_PCI_OP_SET_CAPABILITY, addr, RXU_PCI_INDEX_INTX, sizeof(*set), base), -EINVAL);
	expect("IRQ_MASK with nothing enabled", call(RXU_PCI_OP_IRQ_MASK, addr, 0, 1, 0), -EINVAL);
	expect("IRQ_UNMASK of 0 vectors", call(RXU_PCI_OP_IRQ_UNMASK, addr, 0, 0, 0), -EINVAL);
	expect("IRQ_MASK from vector 2^32", call(RXU_PCI_OP_IRQ_MASK, addr, 1ULL << 32, 1, 0), -EINVAL);
	expect(has_reset ? "RESET (the function has a reset)" : "RESET (the function has no reset)",
	       call(RXU_PCI_OP_RESET, addr, 0, 0, 0), has_reset ? 0 : -EOPNOTSUPP);

	/* ---- the same through paths (k2u, plain syscalls on the fd) ---- */
	snprintf(rest, sizeof(rest), "%s", "0000:77:00.0/config");
	expect("OPEN of an unknown function's config", path_open(scheme, rest, O_RDONLY), -ENOENT);
	expect("OPEN of a malformed address", path_open(scheme, "0000:00:zz.0/config", O_RDONLY), -ENOENT);
	expect("OPEN of a device number past 0x1f", path_open(scheme, "0000:00:20.0", O_RDONLY), -ENOENT);
	snprintf(rest, sizeof(rest), "%s/nothing", a);
	expect("OPEN of an unknown file", path_open(scheme, rest, O_RDONLY), -ENOENT);
	snprintf(rest, sizeof(rest), "%s/irq/0%s%s", a, RXU_PCI_TOKEN_SUFFIX, tok);
	expect("OPEN of irq/0 before SET_CAPABILITY", path_open(scheme, rest, O_RDWR), -ENOENT);
	snprintf(rest, sizeof(rest), "%s/irq/x%s%s", a, RXU_PCI_TOKEN_SUFFIX, tok);
	expect("OPEN of irq/x", path_open(scheme, rest, O_RDWR), -ENOENT);
	snprintf(rest, sizeof(rest), "%s/device", a);
	expect("OPEN of device without a token", path_open(scheme, rest, O_RDWR), -EACCES);
	snprintf(rest, sizeof(rest), "%s/container%s0123456789abcdef0123456789abcdef", a, RXU_PCI_TOKEN_SUFFIX);
	expect("OPEN of container with a wrong token", path_open(scheme, rest, O_RDWR), -EACCES);
	expect("OPEN of the listing for writing", path_open(scheme, "", O_WRONLY), -EACCES);
	snprintf(rest, sizeof(rest), "%s/bars", a);
	expect("OPEN of bars for writing", path_open(scheme, rest, O_RDWR), -EACCES);

	snprintf(rest, sizeof(rest), "%s/config%s%s", a, RXU_PCI_TOKEN_SUFFIX, tok);
	n = path_open(scheme, rest, O_RDWR);
	tap(n >= 0, "OPEN of config with the driver token, O_RDWR: %s", ename(n));
	if (n >= 0) {
		fd = (int)n;
		memset(b4, 0xff, 4);
		expect("pwrite of BAR0 on the config file", sys_rw(1, fd, b4, 4, 0x10), -EPERM);
		expect("pwrite of the MSI control on the config file", msi >= 0 ? sys_rw(1, fd, b4, 2, msi_off + 2) : -EPERM, -EPERM);
		expect("pwrite crossing the end of config space", sys_rw(1, fd, b4, 4, csize - 2), -EINVAL);
		expect("pwrite past the end of config space", sys_rw(1, fd, b4, 1, csize + 4), -EINVAL);
		expect("pread at the end of config space: nothing", sys_rw(0, fd, hdr, 4, csize), 0);
		expect("pread crossing the end: short", sys_rw(0, fd, hdr, 16, csize - 6), 6);
		expect("pread of 64 KiB: the config size", sys_rw(0, fd, p, 65536, 0), csize);
		b4[0] = hdr[0x3c];
		expect("pwrite of Interrupt Line (allowed)", sys_rw(1, fd, b4, 1, 0x3c), 1);
		close(fd);
	}
	snprintf(rest, sizeof(rest), "%s/config%s%s", a, RXU_PCI_TOKEN_SUFFIX, tok);
	n = path_open(scheme, rest, O_RDONLY);
	if (n >= 0) {
		expect("pwrite on config opened O_RDONLY", sys_rw(1, (int)n, b4, 1, 0x3c), -EBADF);
		close((int)n);
	} else {
		tap(0, "OPEN of config O_RDONLY: %s", ename(n));
	}
	snprintf(rest, sizeof(rest), "%s/config", a);
	n = path_open(scheme, rest, O_RDWR);
	if (n >= 0) {
		expect("pread of config without a token: the 64 public bytes", sys_rw(0, (int)n, hdr, 256, 0), RXU_PCI_HEADER_PUBLIC);
		expect("pwrite of config without a token", sys_rw(1, (int)n, b4, 1, 0x3c), -EACCES);
		close((int)n);
	} else {
		tap(0, "OPEN of config without a token: %s", ename(n));
	}
out:
	printf("1..%u\n", ntap);
	printf("# pcid-u2u-check --errors: %u of %u failed\n", nfail, ntap);
	return nfail ? 1 : 0;
}

static int read_file(const char *path, uint8_t *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, tot = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)tot < size &&
	       (n = read(fd, buf + tot, size - (size_t)tot)) > 0)
		tot += n;
	close(fd);
	return (int)tot;
}

static unsigned long sysfs_hex(const char *dev, const char *what)
{
	char path[300], txt[32] = "";
	int n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", dev, what);
	n = read_file(path, (uint8_t *)txt, sizeof(txt) - 1);
	if (n < 0)
		return ~0UL;
	txt[n] = '\0';
	return strtoul(txt, NULL, 16);
}

static int compare_main(const char *tok, const char *scheme)
{
	static uint8_t sys[RXU_PCI_CONFIG_MAX];
	struct rxu_pci_config *cfg;
	struct dirent **list;
	uint64_t base;
	uint8_t *p;
	int i, nd, claimed = 0;

	nd = scandir("/sys/bus/pci/devices", &list, NULL, alphasort);
	if (nd < 0 || reactor_up() ||
	    conn_open(scheme, &cons_g, &pool, &ring, &base, &p)) {
		tap(0, "sysfs listing and a u2u connection to %s:", scheme);
		goto out;
	}
	for (i = 0; i < nd; i++) {
		const char *d = list[i]->d_name;
		char path[300];
		uint32_t addr;
		int64_t n;
		int sn;

		if (d[0] == '.' || rxu_pci_addr_parse(d, strlen(d), &addr))
			continue;
		if (!claimed) {
			memcpy(p, tok, RXU_PCI_TOKEN_LEN);
			expect("CLAIM with the admin token", call(RXU_PCI_OP_CLAIM, addr, base, RXU_PCI_TOKEN_LEN, 0), 0);
			claimed = 1;
		}
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", d);
		sn = read_file(path, sys, sizeof(sys));
		n = call(RXU_PCI_OP_CONFIG_READ, addr, base, RXU_PCI_CONFIG_MAX, 0);
		tap(sn > 0 && n == sn && !memcmp(p, sys, (size_t)sn),
		    "%s: CONFIG_READ (%s bytes) equals sysfs config (%d bytes)", d, ename(n), sn);
		n = call(RXU_PCI_OP_FETCH_CONFIG, addr, base, 4096, 0);
		cfg = (struct rxu_pci_config *)p;
		tap(n == (int64_t)sizeof(*cfg) && cfg->vendor == sysfs_hex(d, "vendor") &&
		    cfg->device == sysfs_hex(d, "device") &&
		    ((unsigned long)cfg->class_code << 16 | (unsigned long)cfg->subclass << 8 |
		     cfg->prog_if) == sysfs_hex(d, "class") &&
		    cfg->config_size == (unsigned)sn,
		    "%s: FETCH_CONFIG %04x:%04x class %02x%02x%02x size %u as in sysfs", d,
		    cfg->vendor, cfg->device, cfg->class_code, cfg->subclass, cfg->prog_if,
		    cfg->config_size);
	}
	if (!claimed)
		tap(0, "no PCI function in sysfs");
out:
	printf("1..%u\n", ntap);
	printf("# pcid-u2u-check --compare: %u of %u failed\n", nfail, ntap);
	return nfail ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *tok = getenv(RXU_PCI_ENV_TOKEN);
	const char *scheme = getenv(RXU_PCI_ENV_SCHEME);
	struct rxu_instance prim, cons;
	struct rxu_sqe64 sqe;
	struct rxu_pci_config *cfg;
	struct rxu_pci_cap_record *recs;
	struct rxu_pci_set_capability *set;
	char path[160];
	void *mem;
	uint64_t base;
	uint32_t addr;
	uint8_t *p;
	int64_t res, n, i, msi = -1;
	int ret;

	if (!scheme)
		scheme = RXU_PCI_SCHEME;
	if (argc == 3 && !strcmp(argv[1], "--errors") && tok &&
	    strlen(tok) == RXU_PCI_TOKEN_LEN)
		return errors_main(argv[2], tok, scheme);
	if (argc == 2 && !strcmp(argv[1], "--compare") && tok &&
	    strlen(tok) == RXU_PCI_TOKEN_LEN)
		return compare_main(tok, scheme);
	if (argc != 2 || !tok ||
	    rxu_pci_addr_parse(argv[1], strlen(argv[1]), &addr)) {
		fprintf(stderr, "usage: PCID_TOKEN=T pcid-u2u-check [--errors] ADDR\n"
			"       PCID_TOKEN=ADMIN pcid-u2u-check --compare\n");
		return 2;
	}
	if (!scheme)
		scheme = RXU_PCI_SCHEME;
	ret = rxu_setup(&prim, 64, 128, 0);
	if (!ret)
		ret = rxu_u2u_connect(&cons, scheme, 64);
	printf("attach %d\n", ret);
	if (ret)
		return 1;
	ret = rxu_reactor_create(&r, &prim, 64);
	if (ret)
		return 1;
	rxu_prep_dup_param(&sqe, cons.fd, RXU_DUP_PARAM_POOL,
			   strlen(RXU_DUP_PARAM_POOL), 0);
	res = rxu_reactor_call(r, RXU_RING_PRIMARY, &sqe, NULL, 5000000000ULL);
	printf("pool %lld\n", (long long)(res < 0 ? res : 0));
	if (rxu_u2u_pool(&pool, res, 65536, &base, &mem))
		return 1;
	p = mem;
	ring = rxu_reactor_add_consumer(r, &cons);
	if (ring < 0)
		return 1;

	/* before claiming: FETCH_CONFIG is public, caps are not */
	printf("caps_unclaimed %lld\n",
	       (long long)call(RXU_PCI_OP_FETCH_ALL_CAPABILITIES, addr, 0, 8,
			       base));
	memcpy(p, "0123456789abcdef0123456789abcdef", RXU_PCI_TOKEN_LEN);
	printf("claim_bad %lld\n", (long long)call(RXU_PCI_OP_CLAIM, addr,
						   base, RXU_PCI_TOKEN_LEN, 0));
	memcpy(p, tok, RXU_PCI_TOKEN_LEN);
	printf("claim %lld\n", (long long)call(RXU_PCI_OP_CLAIM, addr, base,
					       RXU_PCI_TOKEN_LEN, 0));
	printf("claim_again %lld\n", (long long)call(RXU_PCI_OP_CLAIM, addr,
						     base, RXU_PCI_TOKEN_LEN,
						     0));
	printf("claim_other %lld\n",
	       (long long)call(RXU_PCI_OP_CLAIM, RXU_PCI_ADDR(0, 0, 0, 0),
			       base, RXU_PCI_TOKEN_LEN, 0));
	printf("unknown_fn %lld\n",
	       (long long)call(RXU_PCI_OP_FETCH_CONFIG,
			       RXU_PCI_ADDR(0, 0x77, 0, 0), base, 4096, 0));

	res = call(RXU_PCI_OP_FETCH_CONFIG, addr, base, 4096, 0);
	cfg = (struct rxu_pci_config *)p;
	printf("fetch_config %lld %04x:%04x class %02x%02x%02x rule %s "
	       "bar0 %llu flags %#x msi %u msix %u\n", (long long)res,
	       cfg->vendor, cfg->device, cfg->class_code, cfg->subclass,
	       cfg->prog_if, cfg->rule,
	       (unsigned long long)cfg->bars[0].size, cfg->bars[0].flags,
	       cfg->irq_count[RXU_PCI_IRQ_MSI],
	       cfg->irq_count[RXU_PCI_IRQ_MSIX]);

	n = call(RXU_PCI_OP_FETCH_ALL_CAPABILITIES, addr, 0, 32, base);
	recs = (struct rxu_pci_cap_record *)p;
	printf("caps %lld left %llu:", (long long)n,
	       (unsigned long long)extra);
	for (i = 0; i < n; i++) {
		printf(" %x@%x", recs[i].id, recs[i].offset);
		if (!recs[i].extended && recs[i].id == RXU_PCI_CAP_ID_MSI)
			msi = i;
	}
	printf("\n");
	if (msi >= 0) {
		struct rxu_pci_capability *c = (void *)p;

		res = call(RXU_PCI_OP_GET_CAPABILITY, addr, (uint64_t)msi, 8,
			   base);
		printf("get_cap_small %lld need %llu\n", (long long)res,
		       (unsigned long long)extra);
		res = call(RXU_PCI_OP_GET_CAPABILITY, addr, (uint64_t)msi,
			   4096, base);
		printf("get_cap %lld id %x max_vectors %u 64bit %u\n",
		       (long long)res, c->rec.id, c->u.msi.max_vectors,
		       c->u.msi.is_64bit);
	}
	printf("get_cap_missing %lld\n",
	       (long long)call(RXU_PCI_OP_GET_CAPABILITY, addr, 99, 4096,
			       base));

	set = (struct rxu_pci_set_capability *)p;
	memset(set, 0, sizeof(*set));
	set->id = RXU_PCI_CAP_ID_MSIX;
	set->flags = RXU_PCI_SET_ENABLE;
	set->count = 1;
	printf("set_cap_wrong_id %lld\n",
	       (long long)call(RXU_PCI_OP_SET_CAPABILITY, addr,
			       (uint64_t)(msi < 0 ? 0 : msi), sizeof(*set),
			       base));
	printf("set_cap_missing %lld\n",
	       (long long)call(RXU_PCI_OP_SET_CAPABILITY, addr, 99,
			       sizeof(*set), base));
	set->id = RXU_PCI_CAP_ID_MSI;
	printf("set_cap %lld\n",
	       (long long)call(RXU_PCI_OP_SET_CAPABILITY, addr,
			       (uint64_t)(msi < 0 ? 0 : msi), sizeof(*set),
			       base));

	snprintf(path, sizeof(path), "%s:%s/irq/0%s%s", scheme, argv[1],
		 RXU_PCI_TOKEN_SUFFIX, tok);
	rxu_prep_open(&sqe, path, strlen(path), O_RDWR, 0, 0);
	res = rxu_reactor_call(r, RXU_RING_PRIMARY, &sqe, NULL, 5000000000ULL);
	{
		char link[64] = "", lp[64];
		ssize_t l;

		snprintf(lp, sizeof(lp), "/proc/self/fd/%lld", (long long)res);
		l = res >= 0 ? readlink(lp, link, sizeof(link) - 1) : -1;
		if (l > 0)
			link[l] = '\0';
		printf("irq0 %s\n", res >= 0 ? link : strerror((int)-res));
	}
	printf("mask %lld\n", (long long)call(RXU_PCI_OP_IRQ_MASK, addr, 0, 1,
					      0));
	printf("unmask %lld\n", (long long)call(RXU_PCI_OP_IRQ_UNMASK, addr,
						0, 1, 0));
	printf("mask_range %lld\n", (long long)call(RXU_PCI_OP_IRQ_MASK, addr,
						    0, 5, 0));
	memset(p, 0xff, 4);
	printf("config_write_bar %lld\n",
	       (long long)call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 4, 0x10));
	res = call(RXU_PCI_OP_CONFIG_READ, addr, base, 4096, 0);
	printf("config_read %lld %02x%02x:%02x%02x\n", (long long)res, p[1],
	       p[0], p[3], p[2]);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = RXU_PCI_OP_FETCH_CONFIG;
	sqe.syscall_flags = 2;
	sqe.fd = addr;
	res = rxu_reactor_call(r, ring, &sqe, NULL, 5000000000ULL);
	printf("bad_version %lld\n", (long long)res);
	printf("done\n");
	return 0;
}
