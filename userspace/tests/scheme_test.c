// SPDX-License-Identifier: MIT
/*
 * Host tests of librxu's provider framework (lib/scheme.c,
 * lib/scheme_conn.c) without the kernel module.  The provider ring is
 * plain memory (fake_ring.h) served through rxu_scheme_serve() with a
 * malloc'd "data region"; the test plays the kernel: it pushes SQEs into
 * the ring and pops the answers and EVENT CQEs.  A u2u ring gets a
 * memfd pool.  Covered: handle ids (lowest free, never reused while a
 * request on them is pending), CLOSE and every file call on unknown
 * handles, DUP (position, parameter, EFAULT), the library's position
 * (READ/WRITE/PREAD, O_APPEND), SEEK and its errors, oversize and
 * out-of-region buffers, FSTAT's prefill and its short buffer, the
 * default answers, PASS_FD, readiness EVENTs, deferred answers (also
 * after CLOSE and after the ring died), and u2u rings (pool offsets,
 * scheme opcodes, RXU_SCHEME_U2U_OPS_ONLY).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxu.h"
#include "rxu_scheme.h"
#include "fake_ring.h"
#include "tap.h"

#define REGION_SZ	65536
#define FILE_SZ		100
#define EV_RW		(RXU_EVENT_READ | RXU_EVENT_WRITE)

/* ------------------------------------------------------------------ */
/* A test scheme: one file of FILE_SZ bytes under several names        */
/* ------------------------------------------------------------------ */

struct ts {
	unsigned char file[FILE_SZ];
	int closes;			/* close() calls */
	int closes_gone;		/* ... with req NULL */
	int disconnects;
	int pass_fd;			/* what "p" passes */
	uint32_t ready;			/* ready()'s answer */
	struct rxu_scheme_req *held;	/* a deferred request */
	struct rxu_scheme_handle *held_h;
	struct rxu_scheme_conn *conn;	/* of the last OPEN */
};

static struct ts T;

static int64_t t_open(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
		      const char *path, size_t len, uint64_t flags,
		      uint32_t mode)
{
	(void)flags;
	(void)mode;
	T.conn = req->conn;
	if (path[len] != '\0')
		return -EILSEQ;		/* the library promised a NUL */
	if (!strcmp(path, "f")) {
		h->priv = T.file;
		return 0;
	}
	if (!strcmp(path, "p"))
		return rxu_scheme_pass_fd(req, T.pass_fd);
	if (!strcmp(path, "d")) {	/* answered later */
		h->priv = T.file;
		T.held = req;
		T.held_h = h;
		return RXU_SCHEME_PENDING;
	}
	return -ENOENT;
}

static int64_t t_read(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
		      void *buf, uint64_t len, uint64_t off)
{
	if (len == 77) {		/* a read answered later */
		T.held = req;
		T.held_h = h;
		memset(buf, 'x', 7);
		return RXU_SCHEME_PENDING;
	}
	return rxu_scheme_copy_out(buf, len, off, h->priv, FILE_SZ);
}

static int64_t t_read_ref(struct rxu_scheme_req *req,
			  struct rxu_scheme_handle *h, const void **src,
			  uint64_t len, uint64_t off)
{
	(void)req;
	if (off >= FILE_SZ)
		return 0;
	*src = (const unsigned char *)h->priv + off;
	return FILE_SZ - off < len ? (int64_t)(FILE_SZ - off) : (int64_t)len;
}

static int64_t t_write(struct rxu_scheme_req *req,
		       struct rxu_scheme_handle *h, const void *buf,
		       uint64_t len, uint64_t off)
{
	(void)req;
	(void)buf;
	(void)h;
	return off == FILE_SZ ? (int64_t)len + 1000 : (int64_t)len;
}

static int64_t t_size(struct rxu_scheme_handle *h)
{
	(void)h;
	return FILE_SZ;
}

static int64_t t_fstat(struct rxu_scheme_req *req,
		       struct rxu_scheme_handle *h, struct stat *st)
{
	(void)req;
	(void)h;
	st->st_mode = S_IFCHR | 0600;
	return 0;
}

static int64_t t_dup(struct rxu_scheme_req *req, struct rxu_scheme_handle *old,
		     struct rxu_scheme_handle *nh, const void *param,
		     size_t len)
{
	(void)req;
	if (len == 4 && !memcmp(param, "fail", 4))
		return -EINVAL;
	nh->priv = old->priv;
	return 0;
}

static void t_close(struct rxu_scheme_req *req, struct rxu_scheme_handle *h)
{
	(void)h;
	T.closes++;
	if (!req)
		T.closes_gone++;
}

static uint32_t t_ready(struct rxu_scheme_handle *h)
{
	(void)h;
	return T.ready;
}

static void t_disconnect(struct rxu_scheme_conn *c)
{
	(void)c;
	T.disconnects++;
}

static int64_t t_op(struct rxu_scheme_req *req)
{
	void *buf;

	if (req->sqe.opcode != 130)
		return -ENOSYS;
	buf = rxu_scheme_buf(req, req->sqe.addr, req->sqe.len);
	if (!buf)
		return -EFAULT;
	memset(buf, 'u', (size_t)req->sqe.len);
	req->extra = 42;
	return (int64_t)req->sqe.len;
}

static const struct rxu_scheme_ops t_ops = {
	.open = t_open, .read = t_read, .write = t_write, .size = t_size,
	.fstat = t_fstat, .dup = t_dup, .close = t_close, .ready = t_ready,
	.disconnect = t_disconnect, .op = t_op, .read_ref = t_read_ref,
};

/* t_ops without read_ref: zero-copy READs answered the classic way. */
static const struct rxu_scheme_ops classic_ops = {
	.open = t_open, .read = t_read,
};

static const struct rxu_scheme_ops no_ops = { .open = t_open };

/* ------------------------------------------------------------------ */
/* The kernel's side                                                   */
/* ------------------------------------------------------------------ */

struct rig {
	struct fake k;
	struct rxu_reactor *r;
	struct rxu_scheme *s;
	unsigned char *region;
	uint64_t next_ud;
	int events;			/* EVENT CQEs seen by call() */
	uint64_t ev_id, ev_mask;
	uint64_t cqe_flags, cqe_extra;	/* of the last answer */
};

static struct rig R;

static int rig_up(const struct rxu_scheme_ops *ops, uint32_t flags)
{
	struct rxu_scheme_config cfg = { .flags = flags };

	memset(&R, 0, sizeof(R));
	memset(&T, 0, sizeof(T));
	T.ready = EV_RW;
	T.pass_fd = 7;
	memset(T.file, 'a', sizeof(T.file));
	T.file[0] = 'A';
	R.region = calloc(1, REGION_SZ);
	CHECK(R.region);
	CHECK(fake_init(&R.k, 16, 16, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&R.r, NULL, 64), 0);
	CHECK_EQ(rxu_scheme_serve(&R.s, R.r, &R.k.in, R.region, REGION_SZ,
				  &cfg, ops, &T), 0);
	CHECK(rxu_scheme_priv(R.s) == &T);
	CHECK_EQ(rxu_scheme_fd(R.s), -1);
	return 0;
}

static void rig_down(void)
{
	rxu_scheme_destroy(R.s);
	rxu_reactor_destroy(R.r);
	fake_free(&R.k);
	free(R.region);
}

static void drain(void)
{
	while (rxu_reactor_run_once(R.r, 0, RXU_RUN_NOWAIT) > 0)
		;
}

/* Pop every CQE: EVENTs are counted, the answer to ud is returned. */
static int64_t collect(uint64_t ud, int *found)
{
	struct rxu_cqe64 c;
	int64_t res = INT64_MIN;

	*found = 0;
	while (!rxu_pop_cqe(&R.k.in, &c)) {
		if (c.flags & RXU_CQE_EVENT) {
			R.events++;
			R.ev_id = c.user_data;
			R.ev_mask = c.flags >> RXU_CQE_EVENT_SHIFT;
			continue;
		}
		if (c.user_data == ud) {
			*found = 1;
			res = (int64_t)c.status;
			R.cqe_flags = c.flags;
			R.cqe_extra = c.extra;
		}
	}
	return res;
}

/* Push one SQE as the kernel would, run the loop; the answer, or
 * INT64_MIN if none came (a deferred one). */
static int64_t push(struct rxu_sqe64 *sqe)
{
	int found;

	sqe->user_data = ++R.next_ud;
	if (rxu_ring_push(&R.k.in.sq, sqe))
		return INT64_MIN + 1;
	drain();
	return collect(sqe->user_data, &found);
}

static int64_t call(uint8_t op, uint64_t fd, uint64_t addr, uint64_t len,
		    uint64_t off, uint32_t sflags)
{
	struct rxu_sqe64 sqe = {
		.opcode = op, .fd = fd, .addr = addr, .len = len,
		.offset = off, .syscall_flags = sflags,
	};

	return push(&sqe);
}

/* OPEN of path (copied to region offset 0). */
static int64_t do_open(const char *path, uint64_t flags)
{
	memcpy(R.region, path, strlen(path));
	return call(RXU_OP_OPEN, 0, 0, strlen(path), flags, 0);
}

#define BUF	4096		/* where read data lands in the region */

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static int test_ids_lowest_free(void)
{
	TRY(rig_up(&t_ops, 0));
	CHECK_EQ(do_open("f", O_RDONLY), 0);
	CHECK_EQ(do_open("f", O_RDONLY), 1);
	CHECK_EQ(do_open("f", O_RDONLY), 2);
	CHECK_EQ(call(RXU_OP_CLOSE, 1, 0, 0, 0, 0), 0);
	CHECK_EQ(T.closes, 1);
	CHECK_EQ(do_open("f", O_RDONLY), 1);
	CHECK_EQ(do_open("nosuch", O_RDONLY), -ENOENT);
	CHECK_EQ(do_open("f", O_RDONLY), 3);	/* the failed one freed its id */
	/* every OPEN said READ|WRITE for its handle */
	CHECK_EQ(R.events, 5);
	CHECK_EQ(R.ev_id, 3);
	CHECK_EQ(R.ev_mask, EV_RW);
	rig_down();
	return 0;
}

static int test_unknown_handles(void)
{
	static const uint8_t ops[] = {
		RXU_OP_READ, RXU_OP_PREAD, RXU_OP_WRITE, RXU_OP_PWRITE,
		RXU_OP_SEEK, RXU_OP_FSTAT, RXU_OP_FSYNC, RXU_OP_FTRUNCATE,
		RXU_OP_DUP, RXU_OP_CLOSE,
	};
	size_t i;

	TRY(rig_up(&t_ops, 0));
	CHECK_EQ(do_open("f", O_RDONLY), 0);
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		tap_context("opcode %u", ops[i]);
		CHECK_EQ(call(ops[i], 1, BUF, 10, 0, 0), -EBADF);
		CHECK_EQ(call(ops[i], UINT64_MAX, BUF, 10, 0, 0), -EBADF);
	}
	CHECK_EQ(call(RXU_OP_CLOSE, 0, 0, 0, 0, 0), 0);
	CHECK_EQ(call(RXU_OP_CLOSE, 0, 0, 0, 0, 0), -EBADF);	/* twice */
	CHECK_EQ(call(RXU_OP_READ, 0, BUF, 10, 0, 0), -EBADF);
	CHECK_EQ(T.closes, 1);
	rig_down();
	return 0;
}

static int test_position(void)
{
	TRY(rig_up(&t_ops, 0));
	CHECK_EQ(do_open("f", O_RDWR), 0);
	CHECK_EQ(call(RXU_OP_READ, 0, BUF, 10, 0, 0), 10);
	CHECK_EQ(R.region[BUF], 'A');
	R.region[BUF] = 0;
	CHECK_EQ(call(RXU_OP_READ, 0, BUF, 10, 0, 0), 10);
	CHECK_EQ(R.region[BUF], 'a');	/* went on from 10 */
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, 0, SEEK_CUR), 20);
	/* PREAD and PWRITE leave the position alone */
	CHECK_EQ(call(RXU_OP_PREAD, 0, BUF, 5, 0, 0), 5);
	CHECK_EQ(R.region[BUF], 'A');
	CHECK_EQ(call(RXU_OP_PWRITE, 0, BUF, 5, 3, 0), 5);
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, 0, SEEK_CUR), 20);
	CHECK_EQ(call(RXU_OP_WRITE, 0, BUF, 30, 0, 0), 30);
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, 0, SEEK_CUR), 50);
	/* a negative PREAD/PWRITE offset */
	CHECK_EQ(call(RXU_OP_PREAD, 0, BUF, 5, (uint64_t)-1, 0), -EINVAL);
	CHECK_EQ(call(RXU_OP_PWRITE, 0, BUF, 5, (uint64_t)-5, 0), -EINVAL);
	/* O_APPEND: WRITE starts at size(), the position ends after it */
	CHECK_EQ(do_open("f", O_WRONLY | O_APPEND), 1);
	CHECK_EQ(call(RXU_OP_WRITE, 1, BUF, 4, 0, 0), 1004);
	CHECK_EQ(call(RXU_OP_SEEK, 1, 0, 0, 0, SEEK_CUR), FILE_SZ + 1004);
	rig_down();
	return 0;
}

static int test_oversize_clamped(void)
{
	TRY(rig_up(&t_ops, 0));
	CHECK_EQ(do_open("f", O_RDONLY), 0);
	CHECK_EQ(call(RXU_OP_READ, 0, BUF, 1000, 0, 0), FILE_SZ);
	CHECK_EQ(call(RXU_OP_READ, 0, BUF, 1000, 0, 0), 0);	/* EOF */
	CHECK_EQ(call(RXU_OP_PREAD, 0, BUF, 1000, 90, 0), 10);
	CHECK_EQ(call(RXU_OP_PREAD, 0, BUF, 10, 1000, 0), 0);
	CHECK_EQ(call(RXU_OP_PREAD, 0, BUF, 10, INT64_MAX, 0), 0);
	/* the buffer must lie inside the region */
	CHECK_EQ(call(RXU_OP_PREAD, 0, REGION_SZ - 5, 10, 0, 0), -EFAULT);
	CHECK_EQ(call(RXU_OP_PREAD, 0, REGION_SZ, 0, 0, 0), 0);
	CHECK_EQ(call(RXU_OP_PREAD, 0, REGION_SZ + 1, 0, 0, 0), -EFAULT);
	CHECK_EQ(call(RXU_OP_PREAD, 0, 16, UINT64_MAX - 8, 0, 0), -EFAULT);
	CHECK_EQ(call(RXU_OP_WRITE, 0, UINT64_MAX, 2, 0, 0), -EFAULT);
	/* EFAULT comes before the offset's EINVAL */
	CHECK_EQ(call(RXU_OP_PREAD, 0, REGION_SZ, 5, (uint64_t)-1, 0),
		 -EFAULT);
	/* an OPEN whose path is outside */
	CHECK_EQ(call(RXU_OP_OPEN, 0, REGION_SZ - 1, 2, 0, 0), -EFAULT);
	/* and the helper itself */
	CHECK_EQ(rxu_scheme_copy_out(R.region, 5, 98, T.file, FILE_SZ), 2);
	CHECK_EQ(rxu_scheme_copy_out(R.region, 5, FILE_SZ, T.file, FILE_SZ),
		 0);
	rig_down();
	return 0;
}

/* A READ/PREAD the kernel marked RXU_RW_ZC, room bytes of region room. */
static int64_t zc_call(uint8_t op, uint64_t addr, uint64_t len, uint64_t off,
		       uint64_t room)
{
	struct rxu_sqe64 sqe = {
		.opcode = op, .fd = 0, .addr = addr, .len = len, .offset = off,
		.syscall_flags = RXU_RW_ZC, .additional1 = room,
	};

	return push(&sqe);
}

static int test_zero_copy(void)
{
	TRY(rig_up(&t_ops, 0));
	CHECK_EQ(do_open("f", O_RDONLY), 0);
	/* large: lent from the file itself, the position moves */
	CHECK_EQ(zc_call(RXU_OP_READ, BUF, 65536, 0, 4096), FILE_SZ);
	CHECK_EQ(R.cqe_flags, RXU_CQE_ZC_DATA);
	CHECK_EQ(R.cqe_extra, (uint64_t)(uintptr_t)T.file);
	CHECK_EQ(zc_call(RXU_OP_READ, BUF, 65536, 0, 4096), 0);	/* EOF */
	CHECK_EQ(R.cqe_flags, 0);
	CHECK_EQ(zc_call(RXU_OP_PREAD, BUF, RXU_SCHEME_ZC_MIN, 90, 4096), 10);
	CHECK_EQ(R.cqe_flags, RXU_CQE_ZC_DATA);
	CHECK_EQ(R.cqe_extra, (uint64_t)(uintptr_t)(T.file + 90));
	/* small: copied, into additional1 bytes of room, not len */
	CHECK_EQ(zc_call(RXU_OP_PREAD, BUF, 1000, 0, 50), 50);
	CHECK_EQ(R.cqe_flags, 0);
	CHECK_EQ(R.region[BUF], 'A');
	CHECK_EQ(zc_call(RXU_OP_PREAD, REGION_SZ - 10, 1000, 0, 10), 10);
	CHECK_EQ(zc_call(RXU_OP_PREAD, REGION_SZ - 10, 1000, 0, 11), -EFAULT);
	CHECK_EQ(zc_call(RXU_OP_PREAD, BUF, 1000, (uint64_t)-1, 10), -EINVAL);
	rig_down();
	/* a scheme without read_ref answers a large one the classic way */
	TRY(rig_up(&classic_ops, 0));
	CHECK_EQ(do_open("f", O_RDONLY), 0);
	memset(R.region + BUF, 0, 200);
	CHECK_EQ(zc_call(RXU_OP_READ, BUF, 65536, 0, 4096), FILE_SZ);
	CHECK_EQ(R.cqe_flags, 0);
	CHECK_EQ(memcmp(R.region + BUF, T.file, FILE_SZ), 0);
	rig_down();
	return 0;
}

static int test_seek(void)
{
	TRY(rig_up(&t_ops, 0));
	CHECK_EQ(do_open("f", O_RDONLY), 0);
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, 40, SEEK_SET), 40);
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, (uint64_t)-10, SEEK_CUR), 30);
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, (uint64_t)-1, SEEK_END),
		 FILE_SZ - 1);
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, 0, 3), -EINVAL);	/* whence */
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, (uint64_t)-1, SEEK_SET), -EINVAL);
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, INT64_MAX, SEEK_END),
		 -EOVERFLOW);
	/* a failed SEEK leaves the position */
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, 0, SEEK_CUR), FILE_SZ - 1);
	CHECK_EQ(call(RXU_OP_READ, 0, BUF, 10, 0, 0), 1);
	/* past the end is allowed; a read there is EOF */
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, 5000, SEEK_SET), 5000);
	CHECK_EQ(call(RXU_OP_READ, 0, BUF, 10, 0, 0), 0);
	rig_down();

	/* without size() there is no SEEK */
	TRY(rig_up(&no_ops, 0));
	CHECK_EQ(do_open("f", O_RDONLY), 0);
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, 0, SEEK_SET), -ESPIPE);
	rig_down();
	return 0;
}

static int test_dup(void)
{
	TRY(rig_up(&t_ops, 0));
	CHECK_EQ(do_open("f", O_RDONLY), 0);
	CHECK_EQ(call(RXU_OP_READ, 0, BUF, 10, 0, 0), 10);
	CHECK_EQ(call(RXU_OP_DUP, 0, 0, 0, 0, 0), 1);
	/* the new handle starts at the old one's position, then goes alone */
	CHECK_EQ(call(RXU_OP_SEEK, 1, 0, 0, 0, SEEK_CUR), 10);
	CHECK_EQ(call(RXU_OP_READ, 1, BUF, 5, 0, 0), 5);
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, 0, SEEK_CUR), 10);
	/* parameter bytes: the callback sees them; outside: EFAULT */
	memcpy(R.region + 200, "fail", 4);
	CHECK_EQ(call(RXU_OP_DUP, 0, 200, 4, 0, RXU_DUP_PARAM), -EINVAL);
	CHECK_EQ(call(RXU_OP_DUP, 0, REGION_SZ, 4, 0, RXU_DUP_PARAM),
		 -EFAULT);
	/* without RXU_DUP_PARAM addr/len mean nothing */
	CHECK_EQ(call(RXU_OP_DUP, 0, REGION_SZ, 4, 0, 0), 2);
	CHECK_EQ(call(RXU_OP_CLOSE, 0, 0, 0, 0, 0), 0);
	CHECK_EQ(call(RXU_OP_READ, 1, BUF, 5, 0, 0), 5);	/* still there */
	CHECK_EQ(call(RXU_OP_DUP, 0, 0, 0, 0, 0), -EBADF);
	CHECK_EQ(R.events, 3);		/* one OPEN, two DUPs */
	rig_down();
	return 0;
}

static int test_fstat(void)
{
	struct stat st;

	TRY(rig_up(&t_ops, 0));
	CHECK_EQ(do_open("f", O_RDONLY), 0);
	CHECK_EQ(do_open("f", O_RDONLY), 1);
	CHECK_EQ(call(RXU_OP_FSTAT, 1, BUF, sizeof(st) - 1, 0, 0), -EINVAL);
	/* a short buffer is EINVAL even where it would also fault */
	CHECK_EQ(call(RXU_OP_FSTAT, 1, REGION_SZ, sizeof(st) - 1, 0, 0),
		 -EINVAL);
	CHECK_EQ(call(RXU_OP_FSTAT, 1, REGION_SZ, sizeof(st), 0, 0), -EFAULT);
	CHECK_EQ(call(RXU_OP_FSTAT, 1, BUF, sizeof(st), 0, 0), 0);
	memcpy(&st, R.region + BUF, sizeof(st));
	CHECK_EQ(st.st_ino, 2);
	CHECK_EQ(st.st_mode, S_IFCHR | 0600);	/* the callback's */
	CHECK_EQ(st.st_size, FILE_SZ);
	CHECK_EQ(st.st_nlink, 1);
	CHECK_EQ(st.st_blksize, 4096);
	CHECK_EQ(st.st_blocks, 1);
	CHECK_EQ(st.st_uid, getuid());
	rig_down();

	/* the default answer: the prefilled stat */
	TRY(rig_up(&no_ops, 0));
	CHECK_EQ(do_open("f", O_RDONLY), 0);
	CHECK_EQ(call(RXU_OP_FSTAT, 0, BUF, sizeof(st) + 8, 0, 0), 0);
	memcpy(&st, R.region + BUF, sizeof(st));
	CHECK_EQ(st.st_mode, S_IFREG | 0644);
	CHECK_EQ(st.st_size, 0);
	rig_down();
	return 0;
}

static int test_defaults(void)
{
	TRY(rig_up(&no_ops, 0));
	CHECK_EQ(do_open("f", O_RDWR), 0);
	CHECK_EQ(call(RXU_OP_READ, 0, BUF, 10, 0, 0), -EBADF);
	CHECK_EQ(call(RXU_OP_WRITE, 0, BUF, 10, 0, 0), -EBADF);
	CHECK_EQ(call(RXU_OP_PWRITE, 0, BUF, 10, 0, 0), -EBADF);
	CHECK_EQ(call(RXU_OP_FSYNC, 0, 0, 0, 0, RXU_FSYNC_DATASYNC), 0);
	CHECK_EQ(call(RXU_OP_FTRUNCATE, 0, 0, 0, 0, 0), -EINVAL);
	CHECK_EQ(call(RXU_OP_DUP, 0, 0, 0, 0, 0), -EOPNOTSUPP);
	CHECK_EQ(call(RXU_OP_NOOP, 0, 0, 0, 0, 0), -ENOSYS);
	CHECK_EQ(call(RXU_OP_READV, 0, BUF, 1, 0, 0), -ENOSYS);
	CHECK_EQ(call(RXU_OP_MMAP, 0, 0, 4096, 0, 0), -ENOSYS);
	CHECK_EQ(call(200, 0, 0, 0, 0, 0), -ENOSYS);
	CHECK_EQ(call(RXU_OP_RECV_IORING, 0, 1, 0, 0, 0), -EOPNOTSUPP);
	CHECK_EQ(call(RXU_OP_CLOSE, 0, 0, 0, 0, 0), 0);
	rig_down();

	{
		static const struct rxu_scheme_ops none = { 0 };

		TRY(rig_up(&none, 0));
		CHECK_EQ(do_open("f", O_RDONLY), -ENOSYS);
		rig_down();
	}
	return 0;
}

static int test_pass_fd_and_events(void)
{
	TRY(rig_up(&t_ops, 0));
	CHECK_EQ(do_open("p", O_RDWR), 7);
	CHECK_EQ(R.cqe_flags, RXU_CQE_PASS_FD);
	CHECK_EQ(R.events, 0);			/* no handle, no EVENT */
	CHECK_EQ(do_open("f", O_RDONLY), 0);	/* the id was not kept */
	CHECK_EQ(R.cqe_flags, 0);
	CHECK_EQ(R.events, 1);
	T.ready = RXU_EVENT_READ;
	CHECK_EQ(do_open("f", O_RDONLY), 1);
	CHECK_EQ(R.ev_mask, RXU_EVENT_READ);
	T.ready = 0;
	CHECK_EQ(do_open("f", O_RDONLY), 2);
	CHECK_EQ(R.events, 2);			/* ready() 0: none */
	/* a later readiness change, posted by the daemon */
	CHECK(rxu_scheme_handle(T.conn, 1));
	CHECK(!rxu_scheme_handle(T.conn, 3));
	CHECK_EQ(rxu_scheme_post_event(rxu_scheme_handle(T.conn, 1),
				       RXU_EVENT_WRITE), 0);
	CHECK_EQ(rxu_scheme_post_event(rxu_scheme_handle(T.conn, 1), 0),
		 -EINVAL);
	CHECK_EQ(call(RXU_OP_FSYNC, 1, 0, 0, 0, 0), 0);
	CHECK_EQ(R.events, 3);
	CHECK_EQ(R.ev_id, 1);
	CHECK_EQ(R.ev_mask, RXU_EVENT_WRITE);
	rig_down();
	return 0;
}

static int test_deferred(void)
{
	struct rxu_scheme_req *held;
	struct rxu_scheme_handle *h;
	int found;

	TRY(rig_up(&t_ops, 0));
	/* a deferred OPEN keeps its id reserved; it answers when replied */
	CHECK_EQ(do_open("d", O_RDONLY), INT64_MIN);
	held = T.held;
	CHECK(held && held->handle == T.held_h);
	CHECK_EQ(do_open("f", O_RDONLY), 1);	/* 0 is taken */
	CHECK_EQ(R.events, 1);
	CHECK_EQ(rxu_scheme_reply(held, 0), 0);
	CHECK_EQ(rxu_scheme_reply(held, 0), -EINVAL);	/* not twice */
	drain();
	CHECK_EQ(collect(1, &found), 0);
	CHECK(found);
	CHECK_EQ(R.events, 2);			/* its EVENT came with it */
	h = rxu_scheme_handle(held->conn, 0);
	CHECK(h && h->priv == T.file);

	/* a deferred READ: the position moves when it is answered */
	CHECK_EQ(call(RXU_OP_READ, 0, BUF, 77, 0, 0), INT64_MIN);
	held = T.held;
	CHECK_EQ(call(RXU_OP_SEEK, 0, 0, 0, 0, SEEK_CUR), 0);
	/* CLOSE while it is pending: close() now, the id stays taken */
	CHECK_EQ(call(RXU_OP_CLOSE, 0, 0, 0, 0, 0), 0);
	CHECK_EQ(T.closes, 1);
	CHECK_EQ(call(RXU_OP_READ, 0, BUF, 1, 0, 0), -EBADF);
	CHECK_EQ(do_open("f", O_RDONLY), 2);	/* not 0 */
	CHECK_EQ(rxu_scheme_reply(held, 7), 0);
	drain();
	CHECK_EQ(collect(R.next_ud - 4, &found), 7);
	CHECK(found);
	CHECK_EQ(memcmp(R.region + BUF, "xxxxxxx", 7), 0);
	CHECK_EQ(do_open("f", O_RDONLY), 0);	/* now 0 is free again */
	CHECK_EQ(T.closes, 1);
	CHECK_EQ(rxu_scheme_reply(NULL, 0), -EINVAL);
	rig_down();
	CHECK_EQ(T.closes, 4);			/* 0, 1, 2 at destroy */
	return 0;
}

static int test_ring_death(void)
{
	struct rxu_scheme_req *held;

	TRY(rig_up(&t_ops, 0));
	CHECK_EQ(do_open("f", O_RDONLY), 0);
	CHECK_EQ(do_open("f", O_RDONLY), 1);
	CHECK_EQ(call(RXU_OP_READ, 1, BUF, 77, 0, 0), INT64_MIN);
	held = T.held;
	CHECK_EQ(do_open("d", O_RDONLY), INT64_MIN);
	/* the kernel drops the provider ring (as when memd's fd dies) */
	rxu_ring_set_drop(&R.k.in.sq);
	rxu_ring_set_drop(&R.k.in.cq);
	drain();
	CHECK(rxu_scheme_dead(R.s));
	CHECK_EQ(T.disconnects, 1);
	CHECK_EQ(T.closes_gone, 2);		/* 0 and 1, not the unborn 2 */
	CHECK_EQ(rxu_scheme_reply(held, 5), -ESHUTDOWN);
	CHECK_EQ(rxu_scheme_post_event(T.held_h, RXU_EVENT_READ),
		 -ESHUTDOWN);
	CHECK_EQ(rxu_scheme_reply(T.held, 0), -ESHUTDOWN);
	rig_down();
	return 0;
}

/* ------------------------------------------------------------------ */
/* u2u                                                                 */
/* ------------------------------------------------------------------ */

struct u2u {
	struct fake c;
	struct rxu_pool pool;
	unsigned char *mem;
	struct rxu_scheme_conn *conn;
};

static int u2u_up(struct u2u *u)
{
	int fd = memfd_create("rxu-scheme-test", MFD_CLOEXEC), pfd[2];
	void *addr;

	CHECK(fd >= 0);
	CHECK(ftruncate(fd, 8192) == 0);
	CHECK(fake_init(&u->c, 16, 16, 0) == 0);
	CHECK_EQ(rxu_pool_init(&u->pool, fd), 0);
	CHECK_EQ(rxu_pool_map(&u->pool, 0, 8192, &addr), 0);
	u->mem = addr;
	/* The client announces no new ranges: an empty pipe, not the memfd. */
	CHECK(pipe2(pfd, O_NONBLOCK | O_CLOEXEC) == 0);
	close(pfd[1]);
	close(fd);
	u->pool.fd = pfd[0];
	CHECK_EQ(rxu_scheme_add_conn(R.s, &u->c.in, &u->pool, &u->conn), 0);
	CHECK(u->conn->u2u);
	return 0;
}

static int64_t u_call(struct u2u *u, uint8_t op, uint64_t fd, uint64_t addr,
		      uint64_t len, uint64_t off)
{
	struct rxu_sqe64 sqe = {
		.opcode = op, .fd = fd, .addr = addr, .len = len,
		.offset = off, .user_data = ++R.next_ud,
	};
	struct rxu_cqe64 c;

	if (rxu_ring_push(&u->c.in.sq, &sqe))
		return INT64_MIN + 1;
	drain();
	while (!rxu_pop_cqe(&u->c.in, &c))
		if (c.user_data == sqe.user_data) {
			R.cqe_extra = c.extra;
			return (int64_t)c.status;
		}
	return INT64_MIN;
}

static int test_u2u_files(void)
{
	struct u2u u;

	TRY(rig_up(&t_ops, RXU_SCHEME_U2U));
	TRY(u2u_up(&u));
	memcpy(u.mem + 100, "f", 1);
	CHECK_EQ(u_call(&u, RXU_OP_NOOP, 0, 0, 0, 0), 0);
	/* its own table: ids start at 0 next to the provider ring's */
	CHECK_EQ(do_open("f", O_RDONLY), 0);
	CHECK_EQ(u_call(&u, RXU_OP_OPEN, 0, 100, 1, O_RDONLY), 0);
	CHECK_EQ(u_call(&u, RXU_OP_OPEN, 0, 100, 1, O_RDONLY), 1);
	CHECK_EQ(u_call(&u, RXU_OP_READ, 1, 4096, 50, 0), 50);
	CHECK_EQ(u.mem[4096], 'A');
	CHECK_EQ(u_call(&u, RXU_OP_READ, 1, 4096, 100, 0), 50);
	CHECK_EQ(u_call(&u, RXU_OP_READ, 1, 8190, 10, 0), -EFAULT);
	CHECK_EQ(u_call(&u, RXU_OP_READ, 2, 0, 10, 0), -EBADF);
	CHECK_EQ(u_call(&u, RXU_OP_CLOSE, 1, 0, 0, 0), 0);
	CHECK_EQ(call(RXU_OP_READ, 0, BUF, 10, 0, 0), 10);
	/* no PASS_FD on u2u rings */
	memcpy(u.mem + 100, "p", 1);
	CHECK_EQ(u_call(&u, RXU_OP_OPEN, 0, 100, 1, O_RDONLY), -EOPNOTSUPP);
	/* scheme opcodes go to op(), with the pool behind rxu_scheme_buf */
	CHECK_EQ(u_call(&u, 130, 0, 200, 3, 0), 3);
	CHECK_EQ(R.cqe_extra, 42);
	CHECK_EQ(memcmp(u.mem + 200, "uuu", 3), 0);
	CHECK_EQ(u_call(&u, 131, 0, 200, 3, 0), -ENOSYS);
	CHECK_EQ(u_call(&u, 130, 0, 9000, 3, 0), -EFAULT);
	CHECK_EQ(u_call(&u, RXU_OP_RECV_IORING, 0, 0, 0, 0), -ENOSYS);
	/* the client drops its ring: its handles close, then disconnect() */
	T.closes = 0;
	rxu_ring_set_drop(&u.c.in.sq);
	rxu_ring_set_drop(&u.c.in.cq);
	drain();
	CHECK_EQ(T.closes_gone, 1);		/* handle 0 of the ring */
	CHECK_EQ(T.disconnects, 1);
	CHECK(!rxu_scheme_dead(R.s));
	CHECK_EQ(call(RXU_OP_READ, 0, BUF, 10, 0, 0), 10);
	rig_down();
	CHECK_EQ(T.disconnects, 1);		/* not for the provider ring */
	fake_free(&u.c);
	return 0;
}

static int test_u2u_ops_only(void)
{
	struct u2u u;

	TRY(rig_up(&t_ops, RXU_SCHEME_U2U | RXU_SCHEME_U2U_OPS_ONLY));
	TRY(u2u_up(&u));
	memcpy(u.mem + 100, "f", 1);
	CHECK_EQ(u_call(&u, RXU_OP_NOOP, 0, 0, 0, 0), 0);
	CHECK_EQ(u_call(&u, RXU_OP_OPEN, 0, 100, 1, O_RDONLY), -ENOSYS);
	CHECK_EQ(u_call(&u, RXU_OP_READ, 0, 100, 1, 0), -ENOSYS);
	CHECK_EQ(u_call(&u, 127, 0, 100, 1, 0), -ENOSYS);
	CHECK_EQ(u_call(&u, 130, 0, 200, 2, 0), 2);
	/* the provider ring serves files all the same */
	CHECK_EQ(do_open("f", O_RDONLY), 0);
	rig_down();
	CHECK_EQ(T.disconnects, 1);		/* the u2u one, at destroy */
	fake_free(&u.c);
	return 0;
}

static int test_bad_args(void)
{
	struct rxu_scheme *s;
	struct rxu_scheme_config cfg = { .flags = 1U << 7 };

	TRY(rig_up(&t_ops, 0));
	CHECK_EQ(rxu_scheme_serve(&s, R.r, &R.k.in, R.region, REGION_SZ,
				  &cfg, &t_ops, NULL), -EINVAL);
	CHECK_EQ(rxu_scheme_serve(&s, R.r, &R.k.in, NULL, 10, NULL, &t_ops,
				  NULL), -EINVAL);
	CHECK_EQ(rxu_scheme_serve(&s, R.r, NULL, R.region, 10, NULL, &t_ops,
				  NULL), -EINVAL);
	CHECK_EQ(rxu_scheme_register(&s, R.r, "a:b", NULL, &t_ops, NULL),
		 -EINVAL);
	CHECK_EQ(rxu_scheme_register(&s, R.r, "", NULL, &t_ops, NULL),
		 -EINVAL);
	CHECK_EQ(rxu_scheme_post_event(NULL, 1), -EINVAL);
	CHECK_EQ(rxu_scheme_pass_fd(NULL, 3), -EINVAL);
	CHECK(!rxu_scheme_buf(NULL, 0, 1));
	CHECK(!rxu_scheme_handle(NULL, 0));
	rxu_scheme_destroy(NULL);
	rig_down();
	return 0;
}

static const struct tap_test tests[] = {
	{ "handle ids: the lowest free one, a failed OPEN frees its id", test_ids_lowest_free },
	{ "every file call and CLOSE on an unknown handle: EBADF", test_unknown_handles },
	{ "READ/WRITE move the position, PREAD/PWRITE do not, O_APPEND", test_position },
	{ "oversize reads are clamped, buffers outside the region EFAULT", test_oversize_clamped },
	{ "RXU_RW_ZC READs: lent by read_ref when large, else into additional1 bytes", test_zero_copy },
	{ "SEEK: SET/CUR/END and its EINVAL/EOVERFLOW/ESPIPE", test_seek },
	{ "DUP: a new id at the same position, parameter bytes, EFAULT", test_dup },
	{ "FSTAT: the short buffer, the prefill, the callback's changes", test_fstat },
	{ "default answers of a scheme that implements nothing", test_defaults },
	{ "PASS_FD answers and readiness EVENTs after OPEN", test_pass_fd_and_events },
	{ "deferred OPEN and READ; CLOSE while pending keeps the id", test_deferred },
	{ "the provider ring dies with requests pending", test_ring_death },
	{ "u2u: own handle table, pool buffers, op(), client drop", test_u2u_files },
	{ "u2u with RXU_SCHEME_U2U_OPS_ONLY: NOOP and op() only", test_u2u_ops_only },
	{ "bad arguments to the API", test_bad_args },
};

TAP_MAIN(tests)
