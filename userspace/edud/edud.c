// SPDX-License-Identifier: MIT
/*
 * edud - a driver for QEMU's "edu" educational PCI device (1234:11e8) on
 * librxu's PCI driver library (rxu_pcidrv.h) and a redox_uring ring.
 *
 * It checks the device the way a driver's bring-up would and prints one
 * TAP line per check: identification and liveness registers, factorials
 * through MMIO (polled, and completed by an interrupt), an interrupt
 * raised through the raise register, and the DMA engine in both
 * directions with the data verified byte for byte.  Every interrupt is
 * an MSI whose VFIO eventfd is subscribed with FILES_UPDATE on edud's
 * ring, so it arrives as an EVENT CQE.
 *
 *   edud --vfio ADDR        standalone: open VFIO for ADDR directly (the
 *                           function must be bound to vfio-pci)
 *   edud ADDR               as pcid spawns it (see rxu_pci.h)
 *
 * Exit status 0 when every check passed, 1 when one failed, 2 on a setup
 * error (no device, no VFIO, no ring).
 *
 * edu's registers (QEMU docs/specs/edu.rst): 0x00 id 0xRRrr00ed,
 * 0x04 liveness (reads back inverted), 0x08 factorial, 0x20 status
 * (0x01 computing, 0x80 interrupt when done), 0x24 interrupt status,
 * 0x60 raise, 0x64 acknowledge, 0x80/0x88/0x90/0x98 DMA source,
 * destination, count, command (0x01 start, 0x02 edu -> RAM, 0x04
 * interrupt 0x100 when done); a 4 KiB buffer at 0x40000 in device space.
 * Only 4-byte accesses below 0x80.  The device does 28-bit DMA.
 *
 * QEMU 7.2's range check of the device side of a DMA (edu_check_range)
 * wants the end of the transfer strictly inside the buffer, so its last
 * byte (0x40fff) cannot be reached, and a range it refuses aborts QEMU
 * (hw_error).  edud keeps every transfer within 0x40000..0x40ffe and
 * checks that itself before starting one.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rxu.h"
#include "rxu_pcidrv.h"

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8

#define EDU_ID		0x00
#define EDU_LIVE	0x04
#define EDU_FACT	0x08
#define EDU_STATUS	0x20
#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98

#define EDU_STATUS_COMPUTING	0x01
#define EDU_STATUS_IRQFACT	0x80
#define EDU_DMA_RUN		0x01
#define EDU_DMA_TO_RAM		0x02
#define EDU_DMA_IRQ		0x04
#define EDU_IRQ_FACT		0x001
#define EDU_IRQ_DMA		0x100

#define EDU_BUF		0x40000ULL
#define EDU_BUF_SIZE	4096ULL
#define EDU_BUF_USABLE	(EDU_BUF_SIZE - 1)	/* see above: QEMU 7.2 */
#define EDU_DMA_MASK	((1ULL << 28) - 1)

#define UD_IRQ		0x1d0ULL	/* user_data of the MSI subscription */
#define WAIT_NS		(10ULL * 1000000000ULL)	/* TCG is slow */

struct edu {
	struct rxu_pcidrv_dev dev;
	void *bar;
	struct rxu_instance ring;
	int efd;
	struct rxu_pcidrv_dma dma;	/* two pages: [0] to edu, [1] back */
	unsigned int ntests, nfail;
	uint64_t irqs;			/* EVENT CQEs received */
};

static void tap(struct edu *e, int ok, const char *fmt, ...)
{
	va_list ap;

	e->ntests++;
	if (!ok)
		e->nfail++;
	printf("%sok %u - ", ok ? "" : "not ", e->ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static uint32_t rd(struct edu *e, uint64_t off)
{
	return rxu_mmio_read32(e->bar, off);
}

static void wr(struct edu *e, uint64_t off, uint32_t v)
{
	rxu_mmio_write32(e->bar, off, v);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Wait for the next interrupt: an EVENT CQE of the MSI subscription on
 * the ring.  Then read (reset) the eventfd, read edu's interrupt status
 * and acknowledge it.  Returns the interrupt status, or -errno (-ETIME).
 */
static int64_t wait_irq(struct edu *e)
{
	struct rxu_cqe64 cqe;
	uint32_t st;
	int rc;

	for (;;) {
		rc = rxu_wait_cqe(&e->ring, &cqe, WAIT_NS);
		if (rc)
			return rc;
		if (cqe.user_data == UD_IRQ && rxu_cqe_is_event(&cqe))
			break;
		diag("unexpected CQE user_data %#" PRIx64 " status %" PRId64
		     " flags %#x", cqe.user_data, rxu_cqe_result(&cqe),
		     (unsigned int)cqe.flags);
		if (cqe.user_data == UD_IRQ && rxu_cqe_is_last_update(&cqe))
			return -EPIPE;
	}
	if (rxu_cqe_result(&cqe) != e->efd ||
	    !(rxu_cqe_event_mask(&cqe) & RXU_EVENT_READ)) {
		diag("EVENT CQE for fd %" PRId64 " mask %#x, expected fd %d READ",
		     rxu_cqe_result(&cqe), rxu_cqe_event_mask(&cqe), e->efd);
		return -EPROTO;
	}
	e->irqs++;
	rxu_pcidrv_irq_count(e->efd);
	st = rd(e, EDU_IRQ_STATUS);
	wr(e, EDU_IRQ_ACK, st);
	return st;
}

/* No EVENT CQE may be pending: interrupts arrive once each. */
static int no_pending_cqe(struct edu *e)
{
	struct rxu_cqe64 cqe;

	if (rxu_enter(&e->ring, 0, 0, 0) < 0)
		return 0;
	if (rxu_pop_cqe(&e->ring, &cqe) == -EAGAIN)
		return 1;
	diag("stray CQE user_data %#" PRIx64 " flags %#x", cqe.user_data,
	     (unsigned int)cqe.flags);
	return 0;
}

static uint32_t fact32(uint32_t n)
{
	uint32_t r = 1;

	while (n > 1)
		r *= n--;
	return r;
}

/* Poll a register until (value & mask) == 0; 0 or -ETIME. */
static int poll_clear(struct edu *e, uint64_t off, uint32_t mask)
{
	uint64_t end = now_ns() + WAIT_NS;

	while (rd(e, off) & mask) {
		if (now_ns() > end)
			return -ETIME;
		usleep(50);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Checks                                                              */
/* ------------------------------------------------------------------ */

static void check_identity(struct edu *e)
{
	uint32_t id = rd(e, EDU_ID), ok = 1;
	static const uint32_t vals[] = { 0, 0x12345678, 0xffffffff, 0xa5a5a5a5 };
	unsigned int i;

	tap(e, (id & 0xffff) == 0x00ed, "identification %#010x (0xRRrr00ed, version %u.%u)",
	    id, id >> 24, (id >> 16) & 0xff);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		wr(e, EDU_LIVE, vals[i]);
		if (rd(e, EDU_LIVE) != ~vals[i]) {
			diag("liveness: wrote %#x, read %#x", vals[i],
			     rd(e, EDU_LIVE));
			ok = 0;
		}
	}
	tap(e, ok, "liveness register inverts what is written");
}

static void check_factorial_polled(struct edu *e)
{
	uint32_t n, got, bad = 0;

	wr(e, EDU_STATUS, 0);		/* no interrupt */
	for (n = 0; n <= 12; n++) {
		wr(e, EDU_FACT, n);
		if (poll_clear(e, EDU_STATUS, EDU_STATUS_COMPUTING)) {
			diag("factorial %u: still computing", n);
			bad++;
			break;
		}
		got = rd(e, EDU_FACT);
		if (got != fact32(n)) {
			diag("factorial %u: got %u, expected %u", n, got,
			     fact32(n));
			bad++;
		}
	}
	tap(e, !bad, "factorials 0! .. 12! through MMIO, polled");
}

static void check_factorial_irq(struct edu *e)
{
	int64_t st;
	uint32_t got;

	wr(e, EDU_STATUS, EDU_STATUS_IRQFACT);
	wr(e, EDU_FACT, 10);
	st = wait_irq(e);
	got = rd(e, EDU_FACT);
	wr(e, EDU_STATUS, 0);
	tap(e, st >= 0 && (st & EDU_IRQ_FACT) && got == 3628800,
	    "factorial 10! completes with an MSI as an EVENT CQE (irq status %#" PRIx64
	    ", result %u)", (uint64_t)st, got);
}

static void check_raise(struct edu *e, unsigned int rounds)
{
	unsigned int i, bad = 0;
	uint64_t before = e->irqs;

	for (i = 0; i < rounds; i++) {
		uint32_t v = 0x40000000u | (i << 12) | 0x20u;
		int64_t st;

		wr(e, EDU_IRQ_RAISE, v);
		st = wait_irq(e);
		if (st != v) {
			diag("raise %#x: got %" PRId64, v, st);
			bad++;
			if (st < 0)
				break;
		}
		if (rd(e, EDU_IRQ_STATUS) != 0) {
			diag("irq status %#x after ack", rd(e, EDU_IRQ_STATUS));
			bad++;
		}
	}
	tap(e, !bad && e->irqs - before == rounds && no_pending_cqe(e),
	    "%u raised interrupts (0x60) arrive as one EVENT CQE each, acknowledged (0x64)",
	    rounds);
}

/* One DMA transfer; 0 or -errno.  Checks the device-side range itself: a
 * range outside edu's buffer makes QEMU abort. */
static int dma(struct edu *e, uint64_t src, uint64_t dst, uint64_t cnt,
	       int to_ram)
{
	uint64_t devaddr = to_ram ? src : dst, ram = to_ram ? dst : src;
	int64_t st;

	if (!cnt || devaddr < EDU_BUF || cnt > EDU_BUF_USABLE ||
	    devaddr + cnt > EDU_BUF + EDU_BUF_USABLE || ram + cnt - 1 > EDU_DMA_MASK)
		return -ERANGE;
	rxu_mmio_write64(e->bar, EDU_DMA_SRC, src);
	rxu_mmio_write64(e->bar, EDU_DMA_DST, dst);
	rxu_mmio_write64(e->bar, EDU_DMA_CNT, cnt);
	rxu_mmio_write64(e->bar, EDU_DMA_CMD,
			 EDU_DMA_RUN | EDU_DMA_IRQ | (to_ram ? EDU_DMA_TO_RAM : 0));
	st = wait_irq(e);
	if (st < 0)
		return (int)st;
	if (!(st & EDU_IRQ_DMA)) {
		diag("DMA interrupt status %#" PRIx64, (uint64_t)st);
		return -EPROTO;
	}
	if (rxu_mmio_read64(e->bar, EDU_DMA_CMD) & EDU_DMA_RUN)
		return -EBUSY;
	return 0;
}

static int first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return (int)i;
	return -1;
}

static void check_dma(struct edu *e)
{
	uint8_t *out = e->dma.va, *in = out + EDU_BUF_SIZE;
	uint64_t out_iova = e->dma.iova, in_iova = out_iova + EDU_BUF_SIZE;
	uint8_t expect[EDU_BUF_SIZE];
	int rc, d;
	size_t i;

	/* A pattern that no page or word offset repeats. */
	for (i = 0; i < EDU_BUF_SIZE; i++)
		out[i] = (uint8_t)(i * 7 + (i >> 8) * 13 + 1);
	memset(in, 0, EDU_BUF_SIZE);
	rc = dma(e, out_iova, EDU_BUF, EDU_BUF_USABLE, 0);
	tap(e, !rc, "DMA RAM -> edu, 4095 bytes from IOVA %#" PRIx64 " (%s)",
	    out_iova, rc ? strerror(-rc) : "interrupt 0x100 as an EVENT CQE");
	rc = dma(e, EDU_BUF, in_iova, EDU_BUF_USABLE, 1);
	d = rc ? -2 : first_diff(out, in, EDU_BUF_USABLE);
	if (d >= 0)
		diag("byte %d: wrote %#x, read back %#x", d, out[d], in[d]);
	if (d == -1 && in[EDU_BUF_USABLE] != 0)
		d = (int)EDU_BUF_USABLE;	/* wrote past the count */
	tap(e, !rc && d < 0,
	    "DMA edu -> RAM, 4095 bytes to IOVA %#" PRIx64 ", equal byte for byte",
	    in_iova);

	/* 100 bytes into the middle of edu's buffer, then all of it back. */
	memcpy(expect, out, EDU_BUF_SIZE);
	for (i = 0; i < 100; i++) {
		out[i] = (uint8_t)(0xff - i);
		expect[0x801 + i] = out[i];
	}
	memset(in, 0, EDU_BUF_SIZE);
	rc = dma(e, out_iova, EDU_BUF + 0x801, 100, 0);
	if (!rc)
		rc = dma(e, EDU_BUF, in_iova, EDU_BUF_USABLE, 1);
	d = rc ? -2 : first_diff(expect, in, EDU_BUF_USABLE);
	if (d >= 0)
		diag("byte %d: expected %#x, read back %#x", d, expect[d], in[d]);
	tap(e, !rc && d < 0,
	    "DMA of 100 bytes to edu offset 0x801, whole buffer back: equal byte for byte");
	tap(e, dma(e, out_iova, EDU_BUF + 0xf80, 0x80, 0) == -ERANGE,
	    "a DMA past edu's buffer is refused before it reaches the device");
}

/*
 * --dma-loop N: N round trips (RAM -> edu -> RAM, 4095 bytes each, a new
 * pattern each time, compared byte for byte), 0 = until killed.  One
 * "# dma loop K" line per round trip, so that a test can kill edud while
 * a transfer is in flight and check that pcid cleans up after it.
 */
static void dma_loop(struct edu *e, unsigned long n)
{
	uint8_t *out = e->dma.va, *in = out + EDU_BUF_SIZE;
	uint64_t out_iova = e->dma.iova, in_iova = out_iova + EDU_BUF_SIZE;
	unsigned long k;
	size_t i;
	int rc, d;

	for (k = 1; !n || k <= n; k++) {
		for (i = 0; i < EDU_BUF_SIZE; i++)
			out[i] = (uint8_t)(i * 7 + k * 31 + (i >> 8));
		memset(in, 0, EDU_BUF_SIZE);
		rc = dma(e, out_iova, EDU_BUF, EDU_BUF_USABLE, 0);
		if (!rc)
			rc = dma(e, EDU_BUF, in_iova, EDU_BUF_USABLE, 1);
		d = rc ? -2 : first_diff(out, in, EDU_BUF_USABLE);
		if (rc || d >= 0) {
			tap(e, 0, "DMA loop, round trip %lu: %s", k,
			    rc ? strerror(-rc) : "data differs");
			return;
		}
		diag("dma loop %lu", k);
	}
	tap(e, 1, "DMA loop: %lu round trips of 4095 bytes, equal byte for byte", n);
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

static int setup(struct edu *e)
{
	uint16_t ids[2];
	uint32_t count = 0, flags = 0;
	int rc;

	rc = rxu_pcidrv_config_read(&e->dev, 0, ids, sizeof(ids));
	if (rc)
		return fprintf(stderr, "edud: config read: %s\n", strerror(-rc)), rc;
	if (ids[0] != EDU_VENDOR || ids[1] != EDU_DEVICE) {
		fprintf(stderr, "edud: %s is %04x:%04x, not edu %04x:%04x\n",
			e->dev.addr, ids[0], ids[1], EDU_VENDOR, EDU_DEVICE);
		return -ENODEV;
	}
	rc = rxu_pcidrv_map_bar(&e->dev, 0, &e->bar, NULL);
	if (rc)
		return fprintf(stderr, "edud: BAR0: %s\n", strerror(-rc)), rc;
	rc = rxu_pcidrv_enable_bus_master(&e->dev);
	if (rc)
		return fprintf(stderr, "edud: bus master: %s\n", strerror(-rc)), rc;
	/* edu does 28-bit DMA: its IOVAs must stay below 256 MiB. */
	rxu_pcidrv_set_iova_limit(&e->dev, EDU_DMA_MASK + 1);
	rc = rxu_pcidrv_dma_alloc(&e->dev, 2 * EDU_BUF_SIZE, &e->dma);
	if (rc)
		return fprintf(stderr, "edud: DMA memory: %s\n", strerror(-rc)), rc;
	rxu_pcidrv_irq_info(&e->dev, RXU_PCIDRV_IRQ_MSI, &count, &flags);
	diag("%s: BAR0 %" PRIu64 " KiB, %u IOVA range(s), first %#" PRIx64 "-%#" PRIx64
	     ", DMA buffer at IOVA %#" PRIx64 ", MSI vectors %u (flags %#x)",
	     e->dev.addr, e->dev.bar[0].size >> 10, e->dev.nranges,
	     e->dev.range[0].start, e->dev.range[0].end, e->dma.iova, count, flags);
	/* edu has MSI, not MSI-X. */
	rc = rxu_pcidrv_irq_enable(&e->dev, RXU_PCIDRV_IRQ_MSI, 1, &e->efd);
	if (rc < 0)
		return fprintf(stderr, "edud: MSI: %s\n", strerror(-rc)), rc;
	if (e->ring.fd < 0) {
		rc = rxu_setup(&e->ring, 16, 16, 0);
		if (rc)
			return fprintf(stderr, "edud: ring: %s\n", strerror(-rc)), rc;
	}
	rc = rxu_pcidrv_irq_subscribe(&e->ring, e->efd, UD_IRQ);
	if (rc)
		return fprintf(stderr, "edud: FILES_UPDATE on the MSI eventfd: %s\n",
			       strerror(-rc)), rc;
	/* Nothing left over from an earlier user of the device. */
	wr(e, EDU_STATUS, 0);
	wr(e, EDU_IRQ_ACK, rd(e, EDU_IRQ_STATUS));
	return 0;
}

static void teardown(struct edu *e)
{
	if (e->dma.va)
		rxu_pcidrv_dma_free(&e->dev, &e->dma);
	rxu_instance_close(&e->ring);
	rxu_pcidrv_close(&e->dev);
}

/*
 * pcid's way (rxu_pci.h): the address from argv or PCID_ADDRESS, the
 * token from PCID_TOKEN; the container and device fds arrive by PASS_FD
 * on OPENs through edud's kernel ring, the function is claimed on a u2u
 * ring to pci:, and the MSI is enabled with SET_CAPABILITY.
 */
static int open_via_pcid(struct edu *e, const char *addr)
{
	int rc = rxu_setup(&e->ring, 16, 16, 0);

	if (rc) {
		fprintf(stderr, "edud: ring: %s\n", strerror(-rc));
		return rc;
	}
	rc = rxu_pcidrv_open_pcid(&e->dev, &e->ring, addr, NULL, NULL);
	if (rc) {
		fprintf(stderr, "edud: pci: for %s: %s\n",
			addr ? addr : "$PCID_ADDRESS", strerror(-rc));
		return rc;
	}
	diag("through pcid: %s claimed, container and device fds by PASS_FD",
	     e->dev.addr);
	return 0;
}

/* pcid's config-space view equals VFIO's (the first 64 bytes). */
static void check_pcid_config(struct edu *e)
{
	uint8_t a[64], b[64];
	int64_t n;
	int rc;

	n = rxu_pcidrv_pcid_config_read(&e->dev, 0, a, sizeof(a));
	rc = rxu_pcidrv_config_read(&e->dev, 0, b, sizeof(b));
	/* ids, revision and class, subsystem ids: never virtualized */
	tap(e, n == (int64_t)sizeof(a) && !rc && !memcmp(a, b, 4) &&
	    !memcmp(a + 8, b + 8, 4) && !memcmp(a + 0x2c, b + 0x2c, 4),
	    "config space through pci: CONFIG_READ matches the VFIO region (%" PRId64 " bytes)",
	    n);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: edud [--rounds N | --dma-loop N] --vfio ADDR\n"
		"                        open VFIO directly (bound to vfio-pci)\n"
		"       edud [--rounds N | --dma-loop N] [ADDR]\n"
		"                        as pcid spawns it (PCID_ADDRESS, PCID_TOKEN,\n"
		"                        PCID_SCHEME; rxu_pci.h)\n"
		"Checks QEMU's edu device (1234:11e8) through MMIO, MSI as EVENT CQEs on\n"
		"a redox_uring ring, and DMA both ways; prints TAP.  --rounds: raised\n"
		"interrupts to check (default 20).  --dma-loop N: only DMA round trips,\n"
		"N of them (0: until killed), one \"# dma loop K\" line each.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vfio", required_argument, NULL, 'v' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "dma-loop", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *vfio_addr = NULL;
	unsigned int rounds = 20;
	unsigned long loops = 0;
	int loop = 0;
	struct edu e;
	int c, rc;

	memset(&e, 0, sizeof(e));
	e.efd = -1;
	e.ring.fd = -1;
	e.dev.device = e.dev.group = e.dev.container = -1;
	e.dev.irq_kind = -1;
	while ((c = getopt_long(argc, argv, "v:r:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			vfio_addr = optarg;
			break;
		case 'r':
			rounds = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'd':
			loop = 1;
			loops = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (vfio_addr) {
		if (optind != argc) {
			usage(stderr);
			return 2;
		}
		rc = rxu_pcidrv_open_vfio(&e.dev, vfio_addr);
		if (rc) {
			fprintf(stderr, "edud: VFIO for %s: %s\n", vfio_addr,
				strerror(-rc));
			return 2;
		}
		diag("standalone: VFIO opened directly for %s", e.dev.addr);
	} else {
		if (optind + 1 < argc) {
			usage(stderr);
			return 2;
		}
		rc = open_via_pcid(&e, optind < argc ? argv[optind] : NULL);
		if (rc) {
			teardown(&e);
			return 2;
		}
	}
	rc = setup(&e);
	if (rc) {
		teardown(&e);
		return 2;
	}
	if (loop) {
		dma_loop(&e, loops);
		printf("1..%u\n", e.ntests);
		teardown(&e);
		return e.nfail ? 1 : 0;
	}
	if (e.dev.pcid)
		check_pcid_config(&e);
	check_identity(&e);
	check_factorial_polled(&e);
	check_factorial_irq(&e);
	check_raise(&e, rounds);
	check_dma(&e);
	printf("1..%u\n", e.ntests);
	diag("%u interrupts received as EVENT CQEs; %u of %u checks failed",
	     (unsigned int)e.irqs, e.nfail, e.ntests);
	teardown(&e);
	return e.nfail ? 1 : 0;
}
