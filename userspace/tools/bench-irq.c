// SPDX-License-Identifier: MIT
/*
 * bench-irq - interrupt delivery latency on QEMU's edu device (1234:11e8):
 * from the MMIO write to edu's raise-interrupt register (0x60) until the
 * waiting thread has the interrupt, two ways on the same MSI eventfd of
 * VFIO, in the same process and guest boot:
 *
 *   ring   the eventfd subscribed with FILES_UPDATE on a redox_uring ring,
 *          waited for with ENTER(min_complete 1): the EVENT CQE;
 *   epoll  the eventfd in an epoll set, waited for with epoll_wait.
 *
 * Rounds alternate (ring, epoll, ring, ...; the first mechanism alternates
 * too); during a round only that mechanism watches the eventfd (the ring
 * subscription is ended, the epoll registration deleted, between rounds).
 * Reading the eventfd and acknowledging edu (0x64) happen outside the
 * timed window, the same for both.  Prints the median of each round, the
 * median of the round medians per mechanism and the ratio ring/epoll.
 *
 * Each latency is also split at the end of the MMIO write: "wait" is the
 * part from there on (ENTER or epoll_wait), where the two differ; under
 * TCG the trapped MMIO write is most of the total.  And the floor of each
 * wait with nothing to deliver: ENTER(min_complete 0) on an idle ring
 * against epoll_wait(timeout 0) on an empty set.
 *
 * Also: config-space read round trip, a 4-byte pread of the VFIO config
 * region (the baseline for reads through pci:).
 *
 *   bench-irq [-n N] [-r ROUNDS] [-w WARMUP] --vfio ADDR
 *
 * --pcid: spawned by pcid for edu (PCID_ADDRESS, PCID_TOKEN: rxu_pci.h),
 * only the config-space read round trip, 4 bytes at offset 0, three ways
 * in the same process (rounds rotate the order):
 *
 *   u2u    CONFIG_READ on the driver's u2u ring to pci: (librxu's
 *          rxu_pcidrv_pcid_config_read: SQE, pcid's pread of sysfs, CQE);
 *   path   pread(2) on "pci:ADDR/config?token=T" opened through the
 *          driver's kernel ring (a k2u scheme file: the kernel forwards it
 *          to pcid's provider ring and waits for the answer);
 *   vfio   pread(2) of the VFIO config region on the device fd pcid
 *          passed (rxu_pcidrv_config_read).
 *
 *   bench-irq [-n N] [-r ROUNDS] [-w WARMUP] --pcid [ADDR]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "rxu.h"
#include "rxu_pci.h"
#include "rxu_pcidrv.h"

#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64
#define UD_SUB		0x5bULL
#define UD_END		0x5eULL
#define WAIT_NS		(5ULL * 1000000000ULL)

static struct rxu_pcidrv_dev dev;
static struct rxu_instance ring;
static void *bar;
static int efd, ep;
static uint64_t last_wait;	/* wait part of the last measurement */

static void die(const char *what, int err)
{
	fprintf(stderr, "bench-irq: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* After the timed window: reset the eventfd and edu's interrupt status. */
static void settle(void)
{
	rxu_pcidrv_irq_count(efd);
	rxu_mmio_write32(bar, EDU_IRQ_ACK, rxu_mmio_read32(bar, EDU_IRQ_STATUS));
}

static void ring_start(void)
{
	int rc = rxu_pcidrv_irq_subscribe(&ring, efd, UD_SUB);

	if (rc)
		die("FILES_UPDATE subscribe", rc);
}

/* End the subscription; drop every CQE up to its LAST_UPDATE. */
static void ring_stop(void)
{
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int rc, got_last = 0, got_end = 0;

	rxu_prep_files_update_end(&sqe, efd, UD_END);
	rc = rxu_queue_sqe(&ring, &sqe);
	if (rc)
		die("FILES_UPDATE end", rc);
	while (!got_last || !got_end) {
		rc = rxu_wait_cqe(&ring, &cqe, WAIT_NS);
		if (rc)
			die("waiting for LAST_UPDATE", rc);
		if (cqe.user_data == UD_END)
			got_end = 1;
		else if (cqe.user_data == UD_SUB && rxu_cqe_is_last_update(&cqe))
			got_last = 1;
	}
}

static uint64_t one_ring(void)
{
	struct rxu_cqe64 cqe;
	uint64_t t0, tw, t1;
	int rc;

	t0 = now_ns();
	rxu_mmio_write32(bar, EDU_IRQ_RAISE, 1);
	tw = now_ns();
	do {
		rc = rxu_wait_cqe(&ring, &cqe, WAIT_NS);
		if (rc)
			die("waiting for the EVENT CQE", rc);
	} while (!(cqe.user_data == UD_SUB && rxu_cqe_is_event(&cqe)));
	t1 = now_ns();
	settle();
	last_wait = t1 - tw;
	return t1 - t0;
}

static uint64_t one_epoll(void)
{
	struct epoll_event ev;
	uint64_t t0, tw, t1;
	int n;

	t0 = now_ns();
	rxu_mmio_write32(bar, EDU_IRQ_RAISE, 1);
	tw = now_ns();
	do {
		n = epoll_wait(ep, &ev, 1, (int)(WAIT_NS / 1000000));
	} while (n < 0 && errno == EINTR);
	if (n != 1)
		die("epoll_wait", n < 0 ? errno : ETIME);
	t1 = now_ns();
	settle();
	last_wait = t1 - tw;
	return t1 - t0;
}

static void epoll_start(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = efd };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0)
		die("epoll_ctl ADD", errno);
}

static void epoll_stop(void)
{
	if (epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL) < 0)
		die("epoll_ctl DEL", errno);
}

/* OPEN through a kernel ring: the fd (the EVENT after it is skipped). */
static int kring_open(struct rxu_instance *in, const char *path)
{
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int rc;

	rxu_prep_open(&sqe, path, strlen(path), O_RDONLY | O_CLOEXEC, 0, 0x0be);
	rc = rxu_queue_sqe(in, &sqe);
	while (!rc) {
		rc = rxu_wait_cqe(in, &cqe, WAIT_NS);
		if (!rc && cqe.user_data == 0x0be && !rxu_cqe_is_event(&cqe))
			return (int)rxu_cqe_result(&cqe);
	}
	return rc;
}

/* --pcid: config reads, through pci: (u2u, path) and VFIO. */
static int bench_pcicfg(const char *addr, unsigned int n, unsigned int rounds,
			unsigned int warm)
{
	static const char *const cname[3] = { "u2u", "path", "vfio" };
	const char *env = getenv(RXU_PCI_ENV_TOKEN);
	const char *scheme = getenv(RXU_PCI_ENV_SCHEME);
	uint64_t *lat, *med[3], t0;
	char tok[RXU_PCI_TOKEN_LEN + 1], path[200];
	struct rxu_instance kring;
	uint32_t id[3];
	unsigned int r, i, c;
	int rc, pfd;
	int64_t got;

	if (!env || strlen(env) != RXU_PCI_TOKEN_LEN)
		die("PCID_TOKEN", EINVAL);
	snprintf(tok, sizeof(tok), "%s", env);	/* open_pcid unsets it */
	rc = rxu_setup(&kring, 16, 16, 0);
	if (rc)
		die("ring", rc);
	rc = rxu_pcidrv_open_pcid(&dev, &kring, addr, NULL, NULL);
	if (rc)
		die("pci: (open_pcid)", rc);
	snprintf(path, sizeof(path), "%s:%s/config%s%s",
		 scheme && *scheme ? scheme : RXU_PCI_SCHEME, dev.addr,
		 RXU_PCI_TOKEN_SUFFIX, tok);
	pfd = kring_open(&kring, path);
	if (pfd < 0)
		die("OPEN pci:ADDR/config", pfd);
	lat = calloc(n, sizeof(*lat));
	for (c = 0; c < 3; c++)
		med[c] = calloc(rounds, sizeof(uint64_t));
	if (!lat || !med[0] || !med[1] || !med[2])
		die("calloc", ENOMEM);
	/* all three read the same 4 bytes */
	got = rxu_pcidrv_pcid_config_read(&dev, 0, &id[0], 4);
	if (got != 4 || pread(pfd, &id[1], 4, 0) != 4 ||
	    rxu_pcidrv_config_read(&dev, 0, &id[2], 4) ||
	    id[0] != id[1] || id[0] != id[2])
		die("config reads disagree", EPROTO);
	printf("# bench-irq --pcid -n %u -r %u -w %u: %s, config read of 4 bytes at 0 "
	       "(ids %08x), %u round(s) per way, order rotating\n",
	       n, rounds, warm, dev.addr, id[0], rounds);
	for (r = 0; r < rounds; r++) {
		for (c = 0; c < 3; c++) {
			unsigned int m = (c + r) % 3;

			for (i = 0; i < warm + n; i++) {
				uint32_t v;

				t0 = now_ns();
				if (m == 0)
					got = rxu_pcidrv_pcid_config_read(&dev, 0, &v, 4);
				else if (m == 1)
					got = pread(pfd, &v, 4, 0) == 4 ? 4 : -errno;
				else
					got = rxu_pcidrv_config_read(&dev, 0, &v, 4) ? -EIO : 4;
				if (i >= warm)
					lat[i - warm] = now_ns() - t0;
				if (got != 4 || v != id[0])
					die(cname[m], got < 0 ? (int)-got : EPROTO);
			}
			med[m][r] = median(lat, n);
			printf("round %u %-4s median %.2f us (min %.2f, max %.2f)\n", r,
			       cname[m], med[m][r] / 1e3, lat[0] / 1e3, lat[n - 1] / 1e3);
		}
	}
	{
		uint64_t u = median(med[0], rounds), pth = median(med[1], rounds);
		uint64_t v = median(med[2], rounds);

		printf("config read: pci: u2u CONFIG_READ %.2f us, pci: path pread %.2f us, "
		       "VFIO region pread %.2f us; u2u/vfio %.2f, path/vfio %.2f\n",
		       u / 1e3, pth / 1e3, v / 1e3, (double)u / (double)v,
		       (double)pth / (double)v);
	}
	close(pfd);
	rxu_pcidrv_close(&dev);
	rxu_instance_close(&kring);
	free(lat);
	for (c = 0; c < 3; c++)
		free(med[c]);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vfio", required_argument, NULL, 'v' },
		{ "pcid", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int n = 500, rounds = 10, warm = 50, r, i;
	const char *addr = NULL;
	uint64_t *lat, *wait, *med[2], *wmed[2], *ratio, cfg_med, v;
	static const char *const name[2] = { "ring", "epoll" };
	int c, rc, via_pcid = 0;

	while ((c = getopt_long(argc, argv, "n:r:w:v:p", opts, NULL)) != -1) {
		switch (c) {
		case 'n': n = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'r': rounds = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'w': warm = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'v': addr = optarg; break;
		case 'p': via_pcid = 1; break;
		default:
			fprintf(stderr, "usage: bench-irq [-n N] [-r ROUNDS] [-w WARMUP] --vfio ADDR | --pcid [ADDR]\n");
			return 2;
		}
	}
	if (via_pcid && !addr && n && rounds)
		return bench_pcicfg(optind < argc ? argv[optind] : NULL, n,
				    rounds, warm);
	if (!addr || !n || !rounds) {
		fprintf(stderr, "usage: bench-irq [-n N] [-r ROUNDS] [-w WARMUP] --vfio ADDR | --pcid [ADDR]\n");
		return 2;
	}
	rc = rxu_pcidrv_open_vfio(&dev, addr);
	if (rc)
		die("VFIO", rc);
	rc = rxu_pcidrv_map_bar(&dev, 0, &bar, NULL);
	if (rc)
		die("BAR0", rc);
	rc = rxu_pcidrv_enable_bus_master(&dev);
	if (rc)
		die("bus master", rc);
	rc = rxu_pcidrv_irq_enable(&dev, RXU_PCIDRV_IRQ_MSI, 1, &efd);
	if (rc < 0)
		die("MSI", rc);
	rc = rxu_setup(&ring, 8, 8, 0);
	if (rc)
		die("ring", rc);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1", errno);
	settle();

	lat = calloc(n, sizeof(*lat));
	wait = calloc(n, sizeof(*wait));
	med[0] = calloc(rounds, sizeof(uint64_t));
	med[1] = calloc(rounds, sizeof(uint64_t));
	wmed[0] = calloc(rounds, sizeof(uint64_t));
	wmed[1] = calloc(rounds, sizeof(uint64_t));
	ratio = calloc(rounds, sizeof(uint64_t));
	if (!lat || !wait || !med[0] || !med[1] || !wmed[0] || !wmed[1] || !ratio)
		die("calloc", ENOMEM);

	printf("# bench-irq -n %u -r %u -w %u --vfio %s: edu raise (0x60) -> "
	       "waiter has the MSI; %u round(s) per mechanism, alternating\n",
	       n, rounds, warm, dev.addr, rounds);
	for (r = 0; r < rounds; r++) {
		for (c = 0; c < 2; c++) {
			/* ring first in even rounds, epoll first in odd ones */
			int m = (c + (int)r) % 2;

			if (m == 0)
				ring_start();
			else
				epoll_start();
			for (i = 0; i < warm; i++)
				m == 0 ? one_ring() : one_epoll();
			for (i = 0; i < n; i++) {
				lat[i] = m == 0 ? one_ring() : one_epoll();
				wait[i] = last_wait;
			}
			if (m == 0)
				ring_stop();
			else
				epoll_stop();
			med[m][r] = median(lat, n);
			wmed[m][r] = median(wait, n);
			printf("round %u %-5s median %.2f us (min %.2f, max %.2f), wait part %.2f us\n",
			       r, name[m], med[m][r] / 1e3, lat[0] / 1e3,
			       lat[n - 1] / 1e3, wmed[m][r] / 1e3);
		}
		ratio[r] = med[0][r] * 1000 / (med[1][r] ? med[1][r] : 1);
	}
	{
		uint64_t mr = median(med[0], rounds), me = median(med[1], rounds);
		uint64_t pr = median(ratio, rounds);

		uint64_t wr = median(wmed[0], rounds), we = median(wmed[1], rounds);

		printf("irq latency: ring (FILES_UPDATE EVENT CQE) %.2f us, "
		       "epoll %.2f us, ratio ring/epoll %.3f (median of per-round ratios %.3f; target <= 1.1)\n",
		       mr / 1e3, me / 1e3, (double)mr / (double)me, pr / 1000.0);
		printf("wait part (after the MMIO write): ring %.2f us, epoll %.2f us, ratio %.3f\n",
		       wr / 1e3, we / 1e3, (double)wr / (double)we);
	}

	/* The floor: each wait with nothing to deliver. */
	for (c = 0; c < 2; c++) {
		struct epoll_event ev;

		for (i = 0; i < n; i++) {
			uint64_t t0 = now_ns();

			if (c == 0)
				rc = (int)rxu_enter(&ring, 0, 0, 0);
			else
				rc = epoll_wait(ep, &ev, 1, 0);
			lat[i] = now_ns() - t0;
			if (rc != 0)
				die(c == 0 ? "idle ENTER" : "idle epoll_wait",
				    rc < 0 ? (c == 0 ? rc : errno) : EPROTO);
		}
		wait[c] = median(lat, n);
	}
	printf("floor: idle ENTER(min_complete 0) %.2f us, idle epoll_wait(timeout 0) %.2f us\n",
	       wait[0] / 1e3, wait[1] / 1e3);

	/* Config read: 4 bytes at 0 through the VFIO config region. */
	for (i = 0; i < n; i++) {
		uint32_t id;
		uint64_t t0 = now_ns();

		rc = rxu_pcidrv_config_read(&dev, 0, &id, sizeof(id));
		v = now_ns() - t0;
		if (rc)
			die("config read", rc);
		lat[i] = v;
	}
	cfg_med = median(lat, n);
	printf("config read (4 bytes at 0): pread on the VFIO config region %.2f us "
	       "(median of %u)\n", cfg_med / 1e3, n);

	close(ep);
	rxu_instance_close(&ring);
	rxu_pcidrv_close(&dev);
	free(lat);
	free(wait);
	free(med[0]);
	free(med[1]);
	free(wmed[0]);
	free(wmed[1]);
	free(ratio);
	return 0;
}
