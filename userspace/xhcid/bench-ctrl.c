// SPDX-License-Identifier: MIT
/*
 * bench-ctrl - control-transfer round trips (GET_DESCRIPTOR(device), 18
 * bytes) and interrupt IN transfers on one HID device, two ways, for
 * xhcid's benchmark (selftests/drivers/xhcid-bench.sh):
 *
 *   bench-ctrl usbfs /dev/bus/usb/BBB/DDD N   Linux's xhci_hcd through raw
 *                                             usbfs ioctls (USBDEVFS_CONTROL)
 *   bench-ctrl usb 'usb:portP/request?token=T' N   xhcid through usb:
 *                                             (WRITE of the setup, READ of
 *                                             the data stage, plain syscalls
 *                                             on a scheme fd)
 *   bench-ctrl usbfs-intr /dev/bus/usb/BBB/DDD N   interrupt IN (EP 0x81,
 *                                             USBDEVFS_BULK, which usbcore
 *                                             turns into an interrupt URB)
 *   bench-ctrl usb-intr 'usb:portP?token=T' N  interrupt IN through
 *                                             usb:portP/ep81
 *
 * The interrupt modes first send HID SET_IDLE(4 ms) to interface 0, so
 * that the device has a report every 4 ms without input; each transfer
 * then completes on the first interval boundary after the report is due,
 * and the time per transfer says whether the driver's turnaround (event,
 * delivery, next submission) keeps up with the endpoint's interval.
 *
 * Five runs of N transfers; prints each run's mean and the median, in
 * microseconds per transfer.  Not a test: it never fails on a time.
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

/* HID SET_IDLE: class request to interface 0, duration 1 (4 ms), all reports */
#define SET_IDLE_4MS	0x21, 0x0a, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00

static int intr_ep;	/* usb-intr: the usb:portP/ep81 fd */

static int one_usbfs_intr(int fd)
{
	unsigned char buf[8];
	struct usbdevfs_bulktransfer b = {
		.ep = 0x81, .len = sizeof(buf), .timeout = 5000, .data = buf,
	};

	return ioctl(fd, USBDEVFS_BULK, &b) > 0 ? 0 : -1;
}

static int one_usb_intr(int fd)
{
	unsigned char buf[8];

	(void)fd;
	return read(intr_ep, buf, sizeof(buf)) > 0 ? 0 : -1;
}

/* usbfs: take interface 0 from any kernel driver, then SET_IDLE */
static int usbfs_intr_setup(int fd)
{
	struct usbdevfs_ioctl dis = { .ifno = 0, .ioctl_code = USBDEVFS_DISCONNECT };
	unsigned int ifno = 0;
	struct usbdevfs_ctrltransfer c = {
		.bRequestType = 0x21, .bRequest = 0x0a, .wValue = 0x100,
		.wIndex = 0, .wLength = 0, .timeout = 5000,
	};

	ioctl(fd, USBDEVFS_IOCTL, &dis);	/* ENODATA: no driver bound */
	if (ioctl(fd, USBDEVFS_CLAIMINTERFACE, &ifno))
		return -errno;
	return ioctl(fd, USBDEVFS_CONTROL, &c) < 0 ? -errno : 0;
}

/* usb: one WRITE of LEN bytes to usb:portP/NAME?token=T */
static int usb_write(const char *port, const char *q, const char *name,
		     const void *buf, size_t len)
{
	char path[512];
	int fd, rc;

	snprintf(path, sizeof(path), "%.*s/%s%s", (int)(q - port), port, name, q);
	fd = open_scheme(path);
	if (fd < 0)
		return fd;
	rc = write(fd, buf, len) == (ssize_t)len ? 0 : -errno;
	close(fd);
	return rc;
}

/* usb: configuration 1 (endpoint files exist once one is set), SET_IDLE,
 * then portP/ep81 open for the transfers
 */
static int usb_intr_setup(const char *port)
{
	static const unsigned char setup[8] = { SET_IDLE_4MS };
	const char *q = strchr(port, '?');
	char path[512];
	int rc;

	if (!q)
		return -EINVAL;
	rc = usb_write(port, q, "configure", "1", 1);
	if (!rc)
		rc = usb_write(port, q, "request", setup, sizeof(setup));
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%.*s/ep81%s", (int)(q - port), port, q);
	intr_ep = open_scheme(path);
	return intr_ep < 0 ? intr_ep : 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double t[RUNS];
	const char *what = "GET_DESCRIPTOR round trip";
	int (*one)(int);
	unsigned long n, i;
	int fd, r, rc = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: bench-ctrl usbfs|usb|usbfs-intr|usb-intr PATH N\n");
		return 2;
	}
	n = strtoul(argv[3], NULL, 0);
	if (!strcmp(argv[1], "usbfs") || !strcmp(argv[1], "usbfs-intr")) {
		fd = open(argv[2], O_RDWR);
		one = one_usbfs;
		if (fd >= 0 && argv[1][5]) {
			rc = usbfs_intr_setup(fd);
			one = one_usbfs_intr;
		}
	} else if (!strcmp(argv[1], "usb-intr")) {
		fd = 0;
		rc = usb_intr_setup(argv[2]);
		one = one_usb_intr;
	} else {
		fd = open_scheme(argv[2]);
		one = one_usb;
	}
	if (fd < 0 || rc) {
		fprintf(stderr, "bench-ctrl: open %s: %s\n", argv[2],
			strerror(fd == -1 ? errno : fd < 0 ? -fd : -rc));
		return 1;
	}
	if (one != one_usbfs && one != one_usb)
		what = "interrupt IN transfer";
	for (r = 0; r < RUNS; r++) {
		double t0 = now_us();

		for (i = 0; i < n; i++)
			if (one(fd)) {
				fprintf(stderr, "bench-ctrl: %s %lu failed: %s\n",
					what, i, strerror(errno));
				return 1;
			}
		t[r] = (now_us() - t0) / (double)n;
		printf("# %s run %d: %.1f us per %s\n", argv[1], r + 1, t[r], what);
	}
	qsort(t, RUNS, sizeof(t[0]), cmp);
	printf("%s: median %.1f us per %s (%lu per run, %d runs)\n",
	       argv[1], t[RUNS / 2], what, n, RUNS);
	return 0;
}
