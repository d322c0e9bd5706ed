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
 *   usbreq u2u SCHEME PORT TOKEN a u2u ring to SCHEME (PORT: 2, 8.1): one
 *                                line per step of a fixed sequence
 *                                (bad claims, claim, GET_DESCRIPTOR, bad
 *                                transfers), "NAME ok [N HEX]" or
 *                                "NAME error ENAME"
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rxu.h"
#include "rxu_usb.h"

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

struct u2u {
	struct rxu_instance kring, ring;
	struct rxu_pool pool;
	uint8_t *buf;
	uint64_t off;
	uint64_t seq;
};

static int64_t u2u_call(struct u2u *u, uint8_t op, uint32_t version,
			uint64_t fd, uint64_t addr, uint64_t len, uint64_t off)
{
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int rc;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = op;
	sqe.syscall_flags = version;
	sqe.fd = fd;
	sqe.addr = addr;
	sqe.len = len;
	sqe.offset = off;
	sqe.user_data = ++u->seq;
	rc = rxu_queue_sqe(&u->ring, &sqe);
	while (!rc) {
		rc = rxu_wait_cqe(&u->ring, &cqe, 10ULL * 1000000000ULL);
		if (!rc && cqe.user_data == sqe.user_data)
			return rxu_cqe_result(&cqe);
	}
	return rc;
}

static void step(const char *name, int64_t r, const uint8_t *data)
{
	if (r < 0) {
		printf("%s error %s\n", name, ename((int)-r));
		return;
	}
	printf("%s ok", name);
	if (data) {
		printf(" %lld ", (long long)r);
		hex(data, (size_t)r);
	}
	printf("\n");
}

/* "R" or "R.P[.P...]" (root port, hub ports) as RXU_USB_PORT_ID. */
static uint32_t port_id(const char *s)
{
	unsigned long root = strtoul(s, (char **)&s, 0), route = 0;
	unsigned int level = 0;

	while (*s == '.' && level < RXU_USB_MAX_HUB_DEPTH)
		route |= (strtoul(s + 1, (char **)&s, 10) & 15) << (4 * level++);
	return RXU_USB_PORT_ID(root, route);
}

static int u2u_main(const char *scheme, uint32_t id, const char *tok)
{
	struct u2u u;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	void *mem;
	int rc;

	memset(&u, 0, sizeof(u));
	rc = rxu_setup(&u.kring, 8, 8, 0);
	if (!rc)
		rc = rxu_u2u_connect(&u.ring, scheme, 16);
	if (rc)
		return fail(-rc);
	rxu_prep_dup_param(&sqe, u.ring.fd, RXU_DUP_PARAM_POOL,
			   sizeof(RXU_DUP_PARAM_POOL) - 1, 9);
	rc = rxu_queue_sqe(&u.kring, &sqe);
	do {
		if (rc)
			return fail(-rc);
		rc = rxu_wait_cqe(&u.kring, &cqe, 10ULL * 1000000000ULL);
	} while (!rc && cqe.user_data != 9);
	if (!rc)
		rc = rxu_u2u_pool(&u.pool, rxu_cqe_result(&cqe), 8192, &u.off,
				  &mem);
	if (rc)
		return fail(-rc);
	u.buf = mem;
	step("noop", u2u_call(&u, RXU_OP_NOOP, 0, 0, 0, 0, 0), NULL);
	step("control-unclaimed", u2u_call(&u, RXU_USB_OP_CONTROL, RXU_USB_VERSION, id,
					   u.off, 18, RXU_USB_SETUP_U64(0x80, 6, 0x100, 0, 18)), NULL);
	memset(u.buf, 'x', RXU_USB_TOKEN_LEN);
	step("claim-wrong-token", u2u_call(&u, RXU_USB_OP_CLAIM, RXU_USB_VERSION, id,
					   u.off, RXU_USB_TOKEN_LEN, 0), NULL);
	memcpy(u.buf, tok, RXU_USB_TOKEN_LEN);
	step("claim-bad-version", u2u_call(&u, RXU_USB_OP_CLAIM, 7, id, u.off,
					   RXU_USB_TOKEN_LEN, 0), NULL);
	step("claim-no-such-port", u2u_call(&u, RXU_USB_OP_CLAIM, RXU_USB_VERSION,
					    RXU_USB_PORT_ID(200, 0), u.off,
					    RXU_USB_TOKEN_LEN, 0), NULL);
	step("claim", u2u_call(&u, RXU_USB_OP_CLAIM, RXU_USB_VERSION, id, u.off,
			       RXU_USB_TOKEN_LEN, 0), NULL);
	memset(u.buf, 0, 64);
	step("control", u2u_call(&u, RXU_USB_OP_CONTROL, RXU_USB_VERSION, id, u.off, 18,
				 RXU_USB_SETUP_U64(0x80, 6, 0x100, 0, 18)), u.buf);
	step("control-len-mismatch", u2u_call(&u, RXU_USB_OP_CONTROL, RXU_USB_VERSION, id,
					      u.off, 17, RXU_USB_SETUP_U64(0x80, 6, 0x100, 0, 18)),
	     NULL);
	step("control-set-address", u2u_call(&u, RXU_USB_OP_CONTROL, RXU_USB_VERSION, id,
					     u.off, 0, RXU_USB_SETUP_U64(0, 5, 9, 0, 0)), NULL);
	step("control-outside-pool", u2u_call(&u, RXU_USB_OP_CONTROL, RXU_USB_VERSION, id,
					      u.off + (1ULL << 30), 18,
					      RXU_USB_SETUP_U64(0x80, 6, 0x100, 0, 18)), NULL);
	step("transfer-no-endpoint", u2u_call(&u, RXU_USB_OP_TRANSFER, RXU_USB_VERSION, id,
					      u.off, 8, 0x8f), NULL);
	step("transfer-oversize", u2u_call(&u, RXU_USB_OP_TRANSFER, RXU_USB_VERSION, id,
					   u.off, RXU_USB_TRANSFER_MAX + 1, 0x81), NULL);
	/* The pool is 8 KiB: a buffer running past it is refused unsent. */
	step("transfer-beyond-pool", u2u_call(&u, RXU_USB_OP_TRANSFER, RXU_USB_VERSION, id,
					      u.off, 3 * 4096, 0x81), NULL);
	step("configure-1", u2u_call(&u, RXU_USB_OP_CONFIGURE, RXU_USB_VERSION, id, 0, 0, 1),
	     NULL);
	step("configure-9", u2u_call(&u, RXU_USB_OP_CONFIGURE, RXU_USB_VERSION, id, 0, 0, 9),
	     NULL);
	step("clear-halt-no-endpoint", u2u_call(&u, RXU_USB_OP_CLEAR_HALT, RXU_USB_VERSION,
						id, 0, 0, 0x8f), NULL);
	rxu_pool_close(&u.pool);
	rxu_instance_close(&u.ring);
	rxu_instance_close(&u.kring);
	return 0;
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
	if (!strcmp(op, "u2u")) {
		if (argc < 5 || strlen(argv[4]) != RXU_USB_TOKEN_LEN)
			return 2;
		return u2u_main(path, port_id(argv[3]), argv[4]);
	}
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
