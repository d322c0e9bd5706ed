// SPDX-License-Identifier: MIT
/*
 * usbreq - a test client of usb: (rxu_usb.h): opens one path through a
 * redox_uring kernel ring, then does one thing on the fd with plain
 * syscalls and prints the outcome on one line: "ok [N [HEX]]" or
 * "error ENAME".
 *
 *   usbreq open PATH             the OPEN alone
 *   usbreq read PATH [N]         one read of N bytes (default 4096): hex
 *   usbreq cat PATH              the file's bytes to stdout, raw
 *   usbreq write PATH HEX        one write of the bytes
 *   usbreq text PATH STRING      one write of STRING
 *   usbreq control PATH SETUP [DATA]   write the 8-byte setup (hex) and
 *                                the OUT data, then for an IN request
 *                                read the data stage: "ok N HEX"
 *   usbreq wait PATH SECS        FILES_UPDATE the fd; "ok" on an EVENT
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rxu.h"

static const char *ename(int e)
{
	static const struct { int e; const char *n; } t[] = {
		{ ENOENT, "ENOENT" }, { ENODEV, "ENODEV" }, { EACCES, "EACCES" },
		{ EBADF, "EBADF" }, { EINVAL, "EINVAL" }, { EMSGSIZE, "EMSGSIZE" },
		{ EPERM, "EPERM" }, { EPIPE, "EPIPE" }, { EPROTO, "EPROTO" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
		{ ENOSYS, "ENOSYS" }, { EIO, "EIO" }, { ETIME, "ETIME" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	return "E?";
}

static int fail(int e)
{
	printf("error %s\n", ename(e));
	return 1;
}

static size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int v;

	while (s[0] && s[1] && n < max && sscanf(s, "%2x", &v) == 1) {
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void hex(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02x", b[i]);
}

int main(int argc, char **argv)
{
	static uint8_t buf[(1 << 20) + 4096];
	struct rxu_instance ring;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	const char *op, *path;
	ssize_t n;
	int fd, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: usbreq open|read|cat|write|text|control|wait PATH ...\n");
		return 2;
	}
	op = argv[1];
	path = argv[2];
	rc = rxu_setup(&ring, 8, 8, 0);
	if (rc)
		return fail(-rc);
	rxu_prep_open(&sqe, path, strlen(path), O_RDWR | O_CLOEXEC, 0, 1);
	rc = rxu_queue_sqe(&ring, &sqe);
	for (;;) {
		if (rc)
			return fail(-rc);
		rc = rxu_wait_cqe(&ring, &cqe, 10ULL * 1000000000ULL);
		if (!rc && cqe.user_data == 1 && !rxu_cqe_is_event(&cqe))
			break;
	}
	if (rxu_cqe_result(&cqe) < 0)
		return fail((int)-rxu_cqe_result(&cqe));
	fd = (int)rxu_cqe_result(&cqe);
	if (!strcmp(op, "open")) {
		printf("ok\n");
	} else if (!strcmp(op, "read")) {
		size_t want = argc > 3 ? strtoul(argv[3], NULL, 0) : 4096;

		if (want > sizeof(buf))
			want = sizeof(buf);
		n = read(fd, buf, want);
		if (n < 0)
			return fail(errno);
		printf("ok %zd ", n);
		hex(buf, (size_t)n);
		printf("\n");
	} else if (!strcmp(op, "cat")) {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
				return 1;
		if (n < 0)
			return fail(errno);
	} else if (!strcmp(op, "write") || !strcmp(op, "text")) {
		size_t len;

		if (argc < 4)
			return 2;
		if (op[0] == 't') {
			len = strlen(argv[3]);
			memcpy(buf, argv[3], len);
		} else {
			len = unhex(argv[3], buf, sizeof(buf));
		}
		n = write(fd, buf, len);
		if (n < 0)
			return fail(errno);
		printf("ok %zd\n", n);
	} else if (!strcmp(op, "control")) {
		size_t len;

		if (argc < 4)
			return 2;
		len = unhex(argv[3], buf, 8);
		if (argc > 4)
			len += unhex(argv[4], buf + len, sizeof(buf) - len);
		n = write(fd, buf, len);
		if (n < 0)
			return fail(errno);
		if (len >= 8 && (buf[0] & 0x80)) {
			n = read(fd, buf, sizeof(buf));
			if (n < 0)
				return fail(errno);
			printf("ok %zd ", n);
			hex(buf, (size_t)n);
			printf("\n");
		} else {
			printf("ok %zd\n", n);
		}
	} else if (!strcmp(op, "wait")) {
		unsigned long secs = argc > 3 ? strtoul(argv[3], NULL, 0) : 10;

		rxu_prep_files_update(&sqe, fd, RXU_EVENT_READ, 1, 2);
		rc = rxu_queue_sqe(&ring, &sqe);
		for (;;) {
			if (rc)
				return fail(-rc);
			rc = rxu_wait_cqe(&ring, &cqe, secs * 1000000000ULL);
			if (!rc && cqe.user_data == 2 && rxu_cqe_is_event(&cqe))
				break;
			if (!rc && cqe.user_data == 2 && rxu_cqe_result(&cqe) < 0)
				return fail((int)-rxu_cqe_result(&cqe));
		}
		printf("ok\n");
	} else {
		return 2;
	}
	close(fd);
	rxu_instance_close(&ring);
	return 0;
}
