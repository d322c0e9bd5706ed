// SPDX-License-Identifier: GPL-2.0
/*
 * Validation common to every standard opcode (ABI.md sections 4 and 5,
 * and the module's choices for what the ABI leaves open):
 *   - user_data is copied, NOOP completes with 0;
 *   - unknown opcode -> ENOSYS, unknown SQE flag bits -> EINVAL,
 *     SUBSCRIBE on anything but FILES_UPDATE -> EINVAL;
 *   - additional2 (reserved for every standard op) nonzero -> EINVAL;
 *   - a field the opcode does not use (other than priority and
 *     user_data) nonzero -> EINVAL;
 *   - a bad fd -> EBADF, including an fd with bits above 32 set;
 *   - a rejected SQE has no side effect, and does not stop the batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "rxt_harness.h"

#define FILE_BYTES 64

FIXTURE(ops) {
	struct rxt t;
	char dir[128];
	char path[256];		/* an existing file with FILE_BYTES bytes */
	char newpath[256];	/* a file that OPEN would create */
	int fd;			/* O_RDWR on path, position 0 */
	int spare;		/* a dup of fd, for CLOSE and CLOSE_RANGE */
	unsigned char content[FILE_BYTES];
	unsigned char buf[FILE_BYTES];
	struct iovec iov[2];
	struct stat st;
};

FIXTURE_SETUP(ops)
{
	int i;

	self->t.fd = -1;
	self->fd = -1;
	self->spare = -1;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_setup(&self->t, 16, 16, 0));
	ASSERT_EQ(0, rxt_tmpdir(self->dir, sizeof(self->dir)));
	snprintf(self->path, sizeof(self->path), "%s/data", self->dir);
	snprintf(self->newpath, sizeof(self->newpath), "%s/new", self->dir);
	for (i = 0; i < FILE_BYTES; i++)
		self->content[i] = (unsigned char)('A' + i % 26);
	ASSERT_EQ(0, rxt_write_file(self->path, self->content, FILE_BYTES));
	self->fd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	self->spare = dup(self->fd);
	ASSERT_LE(0, self->spare);
	self->iov[0].iov_base = self->buf;
	self->iov[0].iov_len = 8;
	self->iov[1].iov_base = self->buf + 8;
	self->iov[1].iov_len = 8;
}

FIXTURE_TEARDOWN(ops)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->spare >= 0)
		close(self->spare);
	rxt_destroy(&self->t);
	rxt_rmtree(self->dir);
}

/* A valid SQE for each standard opcode (FILES_UPDATE excluded). */
static struct rxu_sqe64 valid_sqe(FIXTURE_DATA(ops) *self, uint8_t op)
{
	struct rxu_sqe64 s = rxt_sqe(op, 0, 0, 0, 0, 0x100 + op);

	switch (op) {
	case RXU_OP_NOOP:
		break;
	case RXU_OP_OPEN:
		s.addr = (uintptr_t)self->newpath;
		s.len = strlen(self->newpath);
		s.offset = O_RDWR | O_CREAT | O_CLOEXEC;
		s.additional1 = 0600;
		break;
	case RXU_OP_CLOSE:
		s.fd = (uint64_t)self->spare;
		break;
	case RXU_OP_CLOSE_RANGE:
		s.fd = (uint64_t)self->spare;
		s.len = 1;
		break;
	case RXU_OP_READ:
	case RXU_OP_PREAD:
		s.fd = (uint64_t)self->fd;
		s.addr = (uintptr_t)self->buf;
		s.len = 16;
		break;
	case RXU_OP_WRITE:
	case RXU_OP_PWRITE:
		s.fd = (uint64_t)self->fd;
		s.addr = (uintptr_t)"XXXXXXXXXXXXXXXX";
		s.len = 16;
		break;
	case RXU_OP_READV:
	case RXU_OP_PREADV:
	case RXU_OP_WRITEV:
	case RXU_OP_PWRITEV:
		s.fd = (uint64_t)self->fd;
		s.addr = (uintptr_t)self->iov;
		s.len = 2;
		if (op == RXU_OP_WRITEV || op == RXU_OP_PWRITEV)
			memset(self->buf, 'X', 16);
		break;
	case RXU_OP_DUP:
		s.fd = (uint64_t)self->fd;
		break;
	case RXU_OP_MMAP:
		s.fd = (uint64_t)self->fd;
		s.len = 4096;
		s.syscall_flags = PROT_READ;
		s.additional1 = MAP_SHARED;
		break;
	case RXU_OP_SEEK:
		s.fd = (uint64_t)self->fd;
		s.offset = 5;
		s.syscall_flags = SEEK_SET;
		break;
	case RXU_OP_FSTAT:
		s.fd = (uint64_t)self->fd;
		s.addr = (uintptr_t)&self->st;
		s.len = sizeof(struct stat);
		break;
	case RXU_OP_FSYNC:
		s.fd = (uint64_t)self->fd;
		break;
	case RXU_OP_FTRUNCATE:
		s.fd = (uint64_t)self->fd;
		s.offset = 3;
		break;
	}
	return s;
}

/*
 * Nothing observable happened: no new fd, spare still open, file content,
 * size and position unchanged, no file created, stat buffer untouched.
 */
static void check_no_side_effect(struct __test_metadata *_metadata,
				 FIXTURE_DATA(ops) *self, int free_fd,
				 const char *what)
{
	unsigned char now[FILE_BYTES + 1];
	struct stat st;
	size_t i;

	EXPECT_EQ(free_fd, rxt_lowest_free_fd()) TH_LOG("%s: new fd", what);
	EXPECT_TRUE(rxt_fd_is_open(self->spare)) TH_LOG("%s: closed", what);
	EXPECT_EQ(0, lseek(self->fd, 0, SEEK_CUR)) TH_LOG("%s: moved", what);
	EXPECT_EQ(FILE_BYTES, pread(self->fd, now, sizeof(now), 0))
		TH_LOG("%s: size", what);
	EXPECT_EQ(0, memcmp(now, self->content, FILE_BYTES))
		TH_LOG("%s: content", what);
	EXPECT_NE(0, stat(self->newpath, &st)) TH_LOG("%s: created", what);
	for (i = 0; i < sizeof(self->st); i++)
		if (((unsigned char *)&self->st)[i] != 0xa5)
			break;
	EXPECT_EQ(sizeof(self->st), i) TH_LOG("%s: stat written", what);
}

static const uint8_t std_ops[] = {
	RXU_OP_NOOP, RXU_OP_OPEN, RXU_OP_CLOSE, RXU_OP_CLOSE_RANGE,
	RXU_OP_READ, RXU_OP_READV, RXU_OP_PREAD, RXU_OP_PREADV,
	RXU_OP_WRITE, RXU_OP_WRITEV, RXU_OP_PWRITE, RXU_OP_PWRITEV,
	RXU_OP_DUP, RXU_OP_MMAP, RXU_OP_SEEK, RXU_OP_FSTAT, RXU_OP_FSYNC,
	RXU_OP_FTRUNCATE,
};

/* Run sqe, expect status -err with the SQE's user_data, and no effect. */
static void expect_rejected(struct __test_metadata *_metadata,
			    FIXTURE_DATA(ops) *self,
			    const struct rxu_sqe64 *s, int err,
			    const char *what)
{
	struct rxu_cqe64 cqe;
	int free_fd = rxt_lowest_free_fd();

	memset(&self->st, 0xa5, sizeof(self->st));
	ASSERT_EQ(0, rxt_run1(&self->t, s, &cqe)) TH_LOG("%s", what);
	EXPECT_EQ(ERR64(err), cqe.status)
		TH_LOG("%s: status %lld, expected %d", what,
		       (long long)cqe.status, -err);
	EXPECT_EQ(s->user_data, cqe.user_data) TH_LOG("%s", what);
	check_no_side_effect(_metadata, self, free_fd, what);
}

/* The valid SQEs really are valid (otherwise the tests below prove nothing). */
TEST_F(ops, valid_sqes_succeed)
{
	struct rxu_sqe64 s;
	int64_t res;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(std_ops); i++) {
		s = valid_sqe(self, std_ops[i]);
		res = rxt_run(&self->t, &s);
		EXPECT_LE(0, res) TH_LOG("opcode %u: %lld", std_ops[i],
					 (long long)res);
		switch (std_ops[i]) {
		case RXU_OP_OPEN:
		case RXU_OP_DUP:
			if (res >= 0)
				close((int)res);
			unlink(self->newpath);
			break;
		case RXU_OP_CLOSE:
		case RXU_OP_CLOSE_RANGE:
			self->spare = dup(self->fd);
			break;
		case RXU_OP_MMAP:
			if (res > 0)
				munmap((void *)(uintptr_t)res, 4096);
			break;
		}
	}
}

TEST_F(ops, nop_completes_with_0_and_user_data)
{
	static const uint64_t uds[] = {
		0, 1, 0xdeadbeefcafef00dULL, 1ULL << 63, UINT64_MAX,
	};
	struct rxu_sqe64 s;
	struct rxu_cqe64 cqe;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(uds); i++) {
		s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, uds[i]);
		ASSERT_EQ(0, rxt_run1(&self->t, &s, &cqe));
		EXPECT_EQ(uds[i], cqe.user_data);
		EXPECT_EQ(0U, cqe.status);
		EXPECT_EQ(0U, cqe.flags);
	}
}

TEST_F(ops, priority_is_allowed)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 9);

	s.priority = 0xffff;
	EXPECT_EQ(0, rxt_run(&self->t, &s));
	s = valid_sqe(self, RXU_OP_PREAD);
	s.priority = 7;
	EXPECT_EQ(16, rxt_run(&self->t, &s));
}

TEST_F(ops, unknown_opcode_enosys)
{
	static const uint8_t ops[] = {
		RXU_OP_STANDARD_LAST, 20, 32, 63, 65, 100, 127, 128, 200, 255,
	};
	struct rxu_sqe64 s;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		s = rxt_sqe(ops[i], 0, 0, 0, 0, 0xabc0 + i);
		expect_rejected(_metadata, self, &s, ENOSYS, "unknown opcode");
	}
}

TEST_F(ops, unknown_sqe_flags_einval)
{
	static const uint8_t flags[] = {
		1U << 3, 1U << 4, 1U << 7, 0xf8, RXU_SQE_FLAGS_ALL | (1U << 6),
	};
	struct rxu_sqe64 s;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		for (j = 0; j < ARRAY_SIZE(std_ops); j++) {
			char what[64];

			s = valid_sqe(self, std_ops[j]);
			s.flags = flags[i];
			snprintf(what, sizeof(what), "opcode %u flags 0x%x",
				 std_ops[j], flags[i]);
			expect_rejected(_metadata, self, &s, EINVAL, what);
		}
	}
}

TEST_F(ops, subscribe_outside_files_update_einval)
{
	struct rxu_sqe64 s;
	size_t j;

	for (j = 0; j < ARRAY_SIZE(std_ops); j++) {
		char what[64];

		s = valid_sqe(self, std_ops[j]);
		s.flags = RXU_SQE_SUBSCRIBE;
		snprintf(what, sizeof(what), "opcode %u SUBSCRIBE", std_ops[j]);
		expect_rejected(_metadata, self, &s, EINVAL, what);
	}
}

TEST_F(ops, additional2_nonzero_einval)
{
	static const uint64_t vals[] = { 1, 1ULL << 32, UINT64_MAX };
	struct rxu_sqe64 s;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		for (j = 0; j < ARRAY_SIZE(std_ops); j++) {
			char what[64];

			s = valid_sqe(self, std_ops[j]);
			s.additional2 = vals[i];
			snprintf(what, sizeof(what), "opcode %u additional2 0x%llx",
				 std_ops[j], (unsigned long long)vals[i]);
			expect_rejected(_metadata, self, &s, EINVAL, what);
		}
	}
}

/* Fields each opcode does not use (ABI.md section 5's table). */
enum { F_FD = 1, F_LEN = 2, F_ADDR = 4, F_OFFSET = 8, F_ADD1 = 16, F_SFLAGS = 32 };

static const struct { uint8_t op; unsigned int unused; } unused_fields[] = {
	{ RXU_OP_NOOP, F_FD | F_LEN | F_ADDR | F_OFFSET | F_ADD1 | F_SFLAGS },
	{ RXU_OP_OPEN, F_FD },	/* fd only with RXU_OPEN_AT */
	{ RXU_OP_CLOSE, F_LEN | F_ADDR | F_OFFSET | F_ADD1 | F_SFLAGS },
	{ RXU_OP_CLOSE_RANGE, F_ADDR | F_OFFSET | F_ADD1 | F_SFLAGS },
	{ RXU_OP_READ, F_OFFSET | F_ADD1 | F_SFLAGS },
	{ RXU_OP_READV, F_OFFSET | F_ADD1 | F_SFLAGS },
	{ RXU_OP_PREAD, F_ADD1 | F_SFLAGS },
	{ RXU_OP_PREADV, F_ADD1 | F_SFLAGS },
	{ RXU_OP_WRITE, F_OFFSET | F_ADD1 | F_SFLAGS },
	{ RXU_OP_WRITEV, F_OFFSET | F_ADD1 | F_SFLAGS },
	{ RXU_OP_PWRITE, F_ADD1 | F_SFLAGS },
	{ RXU_OP_PWRITEV, F_ADD1 | F_SFLAGS },
	{ RXU_OP_DUP, F_LEN | F_ADDR | F_OFFSET | F_ADD1 },	/* no DUP_PARAM */
	{ RXU_OP_SEEK, F_LEN | F_ADDR | F_ADD1 },
	{ RXU_OP_FSTAT, F_OFFSET | F_ADD1 | F_SFLAGS },
	{ RXU_OP_FSYNC, F_LEN | F_ADDR | F_OFFSET | F_ADD1 },
	{ RXU_OP_FTRUNCATE, F_LEN | F_ADDR | F_ADD1 | F_SFLAGS },
};

TEST_F(ops, unused_fields_nonzero_einval)
{
	static const char *const names[] = {
		"fd", "len", "addr", "offset", "additional1", "syscall_flags",
	};
	struct rxu_sqe64 s;
	size_t i;
	int f;

	for (i = 0; i < ARRAY_SIZE(unused_fields); i++) {
		for (f = 0; f < 6; f++) {
			char what[80];

			if (!(unused_fields[i].unused & (1U << f)))
				continue;
			s = valid_sqe(self, unused_fields[i].op);
			switch (1U << f) {
			case F_FD: s.fd = 1; break;
			case F_LEN: s.len = 1; break;
			case F_ADDR: s.addr = (uintptr_t)self->buf; break;
			case F_OFFSET: s.offset = 1; break;
			case F_ADD1: s.additional1 = 1; break;
			case F_SFLAGS: s.syscall_flags = 1U << 31; break;
			}
			snprintf(what, sizeof(what), "opcode %u with %s",
				 unused_fields[i].op, names[f]);
			expect_rejected(_metadata, self, &s, EINVAL, what);
		}
	}
}

static const uint8_t fd_ops[] = {
	RXU_OP_CLOSE, RXU_OP_READ, RXU_OP_READV, RXU_OP_PREAD, RXU_OP_PREADV,
	RXU_OP_WRITE, RXU_OP_WRITEV, RXU_OP_PWRITE, RXU_OP_PWRITEV,
	RXU_OP_DUP, RXU_OP_MMAP, RXU_OP_SEEK, RXU_OP_FSTAT, RXU_OP_FSYNC,
	RXU_OP_FTRUNCATE,
};

TEST_F(ops, bad_fd_ebadf)
{
	int closed = rxt_lowest_free_fd();
	const uint64_t bad[] = {
		(uint64_t)closed, 100000, (uint64_t)INT32_MAX,
		(uint64_t)self->fd | (1ULL << 32),	/* not truncated to fd */
		(uint64_t)self->spare | (1ULL << 63),
		UINT64_MAX, (uint64_t)(int64_t)AT_FDCWD,
	};
	struct rxu_sqe64 s;
	size_t i, j;

	ASSERT_LE(0, closed);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		for (j = 0; j < ARRAY_SIZE(fd_ops); j++) {
			char what[64];

			s = valid_sqe(self, fd_ops[j]);
			s.fd = bad[i];
			snprintf(what, sizeof(what), "opcode %u fd 0x%llx",
				 fd_ops[j], (unsigned long long)bad[i]);
			expect_rejected(_metadata, self, &s, EBADF, what);
		}
	}
}

/* A rejected SQE completes on its own; the SQEs around it still run. */
TEST_F(ops, error_does_not_stop_batch)
{
	struct rxu_sqe64 s[5];
	struct rxu_cqe64 cqe[5];
	int i;

	s[0] = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 1);
	s[1] = rxt_sqe(200, 0, 0, 0, 0, 2);
	s[2] = valid_sqe(self, RXU_OP_PREAD);
	s[2].user_data = 3;
	s[3] = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 4);
	s[3].additional2 = 5;
	s[4] = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 5);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, rxt_push(&self->t, &s[i]));
	ASSERT_EQ(5, rxt_enter(&self->t, 5, 0, RXT_TMO));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, rxt_pop(&self->t, &cqe[i]));
	/* order of completion is not part of the ABI: match by user_data */
	for (i = 0; i < 5; i++) {
		switch (cqe[i].user_data) {
		case 1: case 5: EXPECT_EQ(0U, cqe[i].status); break;
		case 2: EXPECT_EQ(ERR64(ENOSYS), cqe[i].status); break;
		case 3: EXPECT_EQ(16U, cqe[i].status); break;
		case 4: EXPECT_EQ(ERR64(EINVAL), cqe[i].status); break;
		default: EXPECT_EQ(0U, cqe[i].user_data); break;
		}
	}
	EXPECT_EQ(0, memcmp(self->buf, self->content, 16));
}

/* Error statuses are -errno in two's complement, never kernel-internal. */
TEST_F(ops, error_status_encoding)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 1);
	struct rxu_cqe64 cqe;

	s.additional2 = 1;
	ASSERT_EQ(0, rxt_run1(&self->t, &s, &cqe));
	EXPECT_EQ(0xffffffffffffffeaULL, cqe.status);	/* -22 */
	s = rxt_sqe(255, 0, 0, 0, 0, 1);
	ASSERT_EQ(0, rxt_run1(&self->t, &s, &cqe));
	EXPECT_EQ(0xffffffffffffffdaULL, cqe.status);	/* -38 */
	EXPECT_EQ(0U, cqe.flags);
}

TEST_HARNESS_MAIN
