// SPDX-License-Identifier: MIT
/*
 * bench-ctrl - control-transfer round trips (GET_DESCRIPTOR(device), 18
 * bytes) on one device, two ways, for xhcid's benchmark
 * (selftests/drivers/xhcid-bench.sh):
 *
 *   bench-ctrl usbfs /dev/bus/usb/BBB/DDD N   Linux's xhci_hcd through raw
 *                                             usbfs ioctls (USBDEVFS_CONTROL)
 *   bench-ctrl usb 'usb:portP/request?token=T' N   xhcid through usb:
 *                                             (WRITE of the setup, READ of
 *                                             the data stage, plain syscalls
 *                                             on a scheme fd)
 *
 * Five runs of N round trips; prints each run's mean and the median, in
 * microseconds per round trip.  Not a test: it never fails on a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/usbdevice_fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "rxu.h"

#define RUNS	5

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int open_scheme(const char *path)
{
	struct rxu_instance ring;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int rc;

	rc = rxu_setup(&ring, 8, 8, 0);
	if (rc)
		return rc;
	rxu_prep_open(&sqe, path, strlen(path), O_RDWR | O_CLOEXEC, 0, 1);
	rc = rxu_queue_sqe(&ring, &sqe);
	while (!rc) {
		rc = rxu_wait_cqe(&ring, &cqe, 10ULL * 1000000000ULL);
		if (!rc && cqe.user_data == 1 && !rxu_cqe_is_event(&cqe))
			return (int)rxu_cqe_result(&cqe);	/* ring stays open */
	}
	return rc;
}

static int one_usbfs(int fd)
{
	unsigned char buf[18];
	struct usbdevfs_ctrltransfer c = {
		.bRequestType = 0x80, .bRequest = 6, .wValue = 0x100,
		.wIndex = 0, .wLength = 18, .timeout = 5000, .data = buf,
	};

	return ioctl(fd, USBDEVFS_CONTROL, &c) == 18 ? 0 : -1;
}

static int one_usb(int fd)
{
	static const unsigned char setup[8] = { 0x80, 6, 0, 1, 0, 0, 18, 0 };
	unsigned char buf[18];

	if (write(fd, setup, 8) != 8)
		return -1;
	return read(fd, buf, sizeof(buf)) == 18 ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double t[RUNS];
	int (*one)(int);
	unsigned long n, i;
	int fd, r;

	if (argc != 4) {
		fprintf(stderr, "usage: bench-ctrl usbfs|usb PATH N\n");
		return 2;
	}
	n = strtoul(argv[3], NULL, 0);
	if (!strcmp(argv[1], "usbfs")) {
		fd = open(argv[2], O_RDWR);
		one = one_usbfs;
	} else {
		fd = open_scheme(argv[2]);
		one = one_usb;
	}
	if (fd < 0) {
		fprintf(stderr, "bench-ctrl: open %s: %s\n", argv[2],
			strerror(fd == -1 ? errno : -fd));
		return 1;
	}
	for (r = 0; r < RUNS; r++) {
		double t0 = now_us();

		for (i = 0; i < n; i++)
			if (one(fd)) {
				fprintf(stderr, "bench-ctrl: round trip %lu failed\n", i);
				return 1;
			}
		t[r] = (now_us() - t0) / (double)n;
		printf("# %s run %d: %.1f us per GET_DESCRIPTOR round trip\n",
		       argv[1], r + 1, t[r]);
	}
	qsort(t, RUNS, sizeof(t[0]), cmp);
	printf("%s: median %.1f us per round trip (%lu per run, %d runs)\n",
	       argv[1], t[RUNS / 2], n, RUNS);
	return 0;
}
