// SPDX-License-Identifier: MIT
/* usb-io.c: synchronous ring operations for `usb:` clients (usb-io.h). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "usb-io.h"

/* Queue one SQE, wait for its CQE (the ring holds nothing else). */
static int64_t ring_do(struct rxu_instance *in, const struct rxu_sqe64 *sqe)
{
	struct rxu_cqe64 cqe;
	int r;

	r = rxu_queue_sqe(in, sqe);
	if (!r)
		r = rxu_wait_cqe(in, &cqe, 0);
	if (r)
		return r;
	return rxu_cqe_result(&cqe);
}

int usb_ring_open(struct rxu_instance *in, const char *path, int flags)
{
	struct rxu_sqe64 sqe;
	int64_t r;

	rxu_prep_open(&sqe, path, strlen(path), flags | O_CLOEXEC, 0, 1);
	r = ring_do(in, &sqe);
	return r > INT32_MAX ? -EOVERFLOW : (int)r;
}

ssize_t usb_ring_read(struct rxu_instance *in, int fd, void *buf, size_t len)
{
	struct rxu_sqe64 sqe;

	rxu_prep_read(&sqe, fd, buf, len, 2);
	return (ssize_t)ring_do(in, &sqe);
}

ssize_t usb_ring_write(struct rxu_instance *in, int fd, const void *buf,
		       size_t len)
{
	struct rxu_sqe64 sqe;

	rxu_prep_write(&sqe, fd, buf, len, 3);
	return (ssize_t)ring_do(in, &sqe);
}

int usb_ring_close(struct rxu_instance *in, int fd)
{
	struct rxu_sqe64 sqe;

	rxu_prep_close(&sqe, fd, 4);
	return (int)ring_do(in, &sqe);
}

ssize_t usb_read_file(struct rxu_instance *in, const char *path, void *buf,
		      size_t cap)
{
	size_t len = 0;
	ssize_t n;
	char extra;
	int fd = usb_ring_open(in, path, O_RDONLY);

	if (fd < 0)
		return fd;
	for (;;) {
		n = len < cap ? usb_ring_read(in, fd, (char *)buf + len, cap - len)
			      : usb_ring_read(in, fd, &extra, 1);
		if (n <= 0)
			break;
		if (len == cap) {
			n = -EFBIG;
			break;
		}
		len += (size_t)n;
	}
	usb_ring_close(in, fd);
	return n < 0 ? n : (ssize_t)len;
}
