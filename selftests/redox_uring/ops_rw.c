// SPDX-License-Identifier: GPL-2.0
/*
 * READ, READV, PREAD, PREADV, WRITE, WRITEV, PWRITE, PWRITEV (ABI.md
 * section 5), checked against read(2)/pread(2)/... on the same file:
 * bytes transferred, the data, and the file position (advanced by the
 * non-p variants, untouched by the p variants), plus their errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "rxt_harness.h"

FIXTURE(rw) {
	struct rxt t;
	char dir[128];
	char path[256];
	int fd;			/* O_RDWR, content "0123456789abcdefghij" */
};

static const char TEXT[] = "0123456789abcdefghij";	/* 20 bytes */

FIXTURE_SETUP(rw)
{
	self->t.fd = -1;
	self->fd = -1;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_setup(&self->t, 16, 16, 0));
	ASSERT_EQ(0, rxt_tmpdir(self->dir, sizeof(self->dir)));
	snprintf(self->path, sizeof(self->path), "%s/f", self->dir);
	ASSERT_EQ(0, rxt_write_file(self->path, TEXT, 20));
	self->fd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(rw)
{
	if (self->fd >= 0)
		close(self->fd);
	rxt_destroy(&self->t);
	rxt_rmtree(self->dir);
}

static int64_t op(struct rxt *t, uint8_t opcode, int fd, const void *addr,
		  uint64_t len, uint64_t offset)
{
	struct rxu_sqe64 s = rxt_sqe(opcode, (uint64_t)fd, (uintptr_t)addr,
				     len, offset, 0x5157);

	return rxt_run(t, &s);
}

static off_t pos(int fd)
{
	return lseek(fd, 0, SEEK_CUR);
}

/* The file's whole content as a string (small files only). */
static const char *content(const char *path)
{
	static char buf[256];
	ssize_t n = rxt_read_file(path, buf, sizeof(buf) - 1);

	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

TEST_F(rw, read_advances_position)
{
	char buf[16];

	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(4, op(&self->t, RXU_OP_READ, self->fd, buf, 4, 0));
	EXPECT_EQ(0, memcmp(buf, "0123", 4));
	EXPECT_EQ(4, pos(self->fd));
	EXPECT_EQ(4, op(&self->t, RXU_OP_READ, self->fd, buf, 4, 0));
	EXPECT_EQ(0, memcmp(buf, "4567", 4));
	EXPECT_EQ(8, pos(self->fd));
	/* mixes with read(2) on the same description */
	EXPECT_EQ(2, read(self->fd, buf, 2));
	EXPECT_EQ(0, memcmp(buf, "89", 2));
	EXPECT_EQ(10, op(&self->t, RXU_OP_READ, self->fd, buf, 16, 0));
	EXPECT_EQ(0, memcmp(buf, "abcdefghij", 10));
	EXPECT_EQ(20, pos(self->fd));
	/* EOF */
	EXPECT_EQ(0, op(&self->t, RXU_OP_READ, self->fd, buf, 16, 0));
	EXPECT_EQ(0, op(&self->t, RXU_OP_READ, self->fd, buf, 0, 0));
}

TEST_F(rw, pread_keeps_position)
{
	char buf[16];

	ASSERT_EQ(2, lseek(self->fd, 2, SEEK_SET));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(4, op(&self->t, RXU_OP_PREAD, self->fd, buf, 4, 13));
	EXPECT_EQ(0, memcmp(buf, "defg", 4));
	EXPECT_EQ(2, pos(self->fd));
	EXPECT_EQ(3, op(&self->t, RXU_OP_PREAD, self->fd, buf, 10, 17));
	EXPECT_EQ(0, memcmp(buf, "hij", 3));
	EXPECT_EQ(0, op(&self->t, RXU_OP_PREAD, self->fd, buf, 10, 20));
	EXPECT_EQ(0, op(&self->t, RXU_OP_PREAD, self->fd, buf, 10, 1ULL << 40));
	EXPECT_EQ(2, pos(self->fd));
}

TEST_F(rw, write_advances_position)
{
	EXPECT_EQ(5, op(&self->t, RXU_OP_WRITE, self->fd, "HELLO", 5, 0));
	EXPECT_EQ(5, pos(self->fd));
	EXPECT_EQ(3, op(&self->t, RXU_OP_WRITE, self->fd, "xyz", 3, 0));
	EXPECT_EQ(8, pos(self->fd));
	EXPECT_STREQ("HELLOxyz89abcdefghij", content(self->path));
	ASSERT_EQ(20, lseek(self->fd, 0, SEEK_END));
	EXPECT_EQ(2, op(&self->t, RXU_OP_WRITE, self->fd, "!!", 2, 0));
	EXPECT_EQ(22, pos(self->fd));
	EXPECT_STREQ("HELLOxyz89abcdefghij!!", content(self->path));
}

TEST_F(rw, write_o_append)
{
	int fd = open(self->path, O_WRONLY | O_APPEND | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(3, op(&self->t, RXU_OP_WRITE, fd, "end", 3, 0));
	EXPECT_STREQ("0123456789abcdefghijend", content(self->path));
	close(fd);
}

TEST_F(rw, pwrite_keeps_position)
{
	struct stat st;

	ASSERT_EQ(1, lseek(self->fd, 1, SEEK_SET));
	EXPECT_EQ(3, op(&self->t, RXU_OP_PWRITE, self->fd, "ABC", 3, 10));
	EXPECT_EQ(1, pos(self->fd));
	EXPECT_STREQ("0123456789ABCdefghij", content(self->path));
	/* past the end: a hole, size grows */
	EXPECT_EQ(2, op(&self->t, RXU_OP_PWRITE, self->fd, "ZZ", 2, 100));
	ASSERT_EQ(0, fstat(self->fd, &st));
	EXPECT_EQ(102, st.st_size);
	EXPECT_EQ(1, pos(self->fd));
}

TEST_F(rw, readv_scatters)
{
	char a[2], b[3], c[10];
	struct iovec iov[3] = {
		{ a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) },
	};

	EXPECT_EQ(15, op(&self->t, RXU_OP_READV, self->fd, iov, 3, 0));
	EXPECT_EQ(0, memcmp(a, "01", 2));
	EXPECT_EQ(0, memcmp(b, "234", 3));
	EXPECT_EQ(0, memcmp(c, "56789abcde", 10));
	EXPECT_EQ(15, pos(self->fd));
	/* short at EOF */
	EXPECT_EQ(5, op(&self->t, RXU_OP_READV, self->fd, iov, 3, 0));
	EXPECT_EQ(0, memcmp(a, "fg", 2));
	EXPECT_EQ(0, memcmp(b, "hij", 3));
	EXPECT_EQ(20, pos(self->fd));
}

TEST_F(rw, preadv_keeps_position)
{
	char a[3], b[4];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };

	EXPECT_EQ(7, op(&self->t, RXU_OP_PREADV, self->fd, iov, 2, 5));
	EXPECT_EQ(0, memcmp(a, "567", 3));
	EXPECT_EQ(0, memcmp(b, "89ab", 4));
	EXPECT_EQ(0, pos(self->fd));
}

TEST_F(rw, writev_gathers)
{
	struct iovec iov[3] = {
		{ (void *)"AB", 2 }, { (void *)"", 0 }, { (void *)"CDE", 3 },
	};

	EXPECT_EQ(5, op(&self->t, RXU_OP_WRITEV, self->fd, iov, 3, 0));
	EXPECT_EQ(5, pos(self->fd));
	EXPECT_EQ(5, op(&self->t, RXU_OP_WRITEV, self->fd, iov, 3, 0));
	EXPECT_EQ(10, pos(self->fd));
	EXPECT_STREQ("ABCDEABCDEabcdefghij", content(self->path));
}

TEST_F(rw, pwritev_keeps_position)
{
	struct iovec iov[2] = { { (void *)"xy", 2 }, { (void *)"Z", 1 } };

	ASSERT_EQ(4, lseek(self->fd, 4, SEEK_SET));
	EXPECT_EQ(3, op(&self->t, RXU_OP_PWRITEV, self->fd, iov, 2, 16));
	EXPECT_EQ(4, pos(self->fd));
	EXPECT_STREQ("0123456789abcdefxyZj", content(self->path));
}

TEST_F(rw, zero_iovecs_return_0)
{
	struct iovec iov[1] = { { NULL, 0 } };

	EXPECT_EQ(0, op(&self->t, RXU_OP_READV, self->fd, iov, 0, 0));
	EXPECT_EQ(0, op(&self->t, RXU_OP_WRITEV, self->fd, iov, 0, 0));
	EXPECT_EQ(0, pos(self->fd));
}

TEST_F(rw, too_many_iovecs_einval)
{
	struct iovec *iov = calloc(IOV_MAX + 1, sizeof(*iov));
	char buf[1];
	int want;

	ASSERT_NE(NULL, iov);
	iov[0].iov_base = buf;
	iov[0].iov_len = 1;
	want = readv(self->fd, iov, IOV_MAX + 1) < 0 ? -errno : 0;
	EXPECT_EQ(-EINVAL, want);
	EXPECT_EQ((int64_t)want,
		  op(&self->t, RXU_OP_READV, self->fd, iov, IOV_MAX + 1, 0));
	EXPECT_EQ((int64_t)-EINVAL,
		  op(&self->t, RXU_OP_PWRITEV, self->fd, iov, 1ULL << 32, 0));
	EXPECT_EQ(0, pos(self->fd));
	free(iov);
}

TEST_F(rw, bad_buffer_efault)
{
	struct iovec iov[1] = { { (void *)8, 4 } };

	EXPECT_EQ((int64_t)-EFAULT,
		  op(&self->t, RXU_OP_READ, self->fd, (void *)8, 4, 0));
	EXPECT_EQ((int64_t)-EFAULT,
		  op(&self->t, RXU_OP_PWRITE, self->fd, (void *)8, 4, 0));
	EXPECT_EQ((int64_t)-EFAULT,
		  op(&self->t, RXU_OP_READV, self->fd, (void *)8, 1, 0));
	EXPECT_EQ((int64_t)-EFAULT,
		  op(&self->t, RXU_OP_WRITEV, self->fd, iov, 1, 0));
	EXPECT_STREQ(TEXT, content(self->path));
}

TEST_F(rw, wrong_access_mode_ebadf)
{
	int ro = open(self->path, O_RDONLY | O_CLOEXEC);
	int wo = open(self->path, O_WRONLY | O_CLOEXEC);
	char buf[4];
	struct iovec iov[1] = { { buf, 4 } };

	ASSERT_LE(0, ro);
	ASSERT_LE(0, wo);
	EXPECT_EQ((int64_t)-EBADF, op(&self->t, RXU_OP_WRITE, ro, "abcd", 4, 0));
	EXPECT_EQ((int64_t)-EBADF, op(&self->t, RXU_OP_PWRITE, ro, "abcd", 4, 0));
	EXPECT_EQ((int64_t)-EBADF, op(&self->t, RXU_OP_WRITEV, ro, iov, 1, 0));
	EXPECT_EQ((int64_t)-EBADF, op(&self->t, RXU_OP_PWRITEV, ro, iov, 1, 0));
	EXPECT_EQ((int64_t)-EBADF, op(&self->t, RXU_OP_READ, wo, buf, 4, 0));
	EXPECT_EQ((int64_t)-EBADF, op(&self->t, RXU_OP_PREAD, wo, buf, 4, 0));
	EXPECT_EQ((int64_t)-EBADF, op(&self->t, RXU_OP_READV, wo, iov, 1, 0));
	EXPECT_EQ((int64_t)-EBADF, op(&self->t, RXU_OP_PREADV, wo, iov, 1, 0));
	EXPECT_STREQ(TEXT, content(self->path));
	close(ro);
	close(wo);
}

TEST_F(rw, negative_offset_einval)
{
	char buf[4];
	struct iovec iov[1] = { { buf, 4 } };

	EXPECT_EQ(-1, pread(self->fd, buf, 4, -1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ((int64_t)-EINVAL,
		  op(&self->t, RXU_OP_PREAD, self->fd, buf, 4, (uint64_t)-1));
	EXPECT_EQ((int64_t)-EINVAL,
		  op(&self->t, RXU_OP_PWRITE, self->fd, buf, 4, 1ULL << 63));
	EXPECT_EQ((int64_t)-EINVAL,
		  op(&self->t, RXU_OP_PREADV, self->fd, iov, 1, (uint64_t)-4096));
	EXPECT_EQ((int64_t)-EINVAL,
		  op(&self->t, RXU_OP_PWRITEV, self->fd, iov, 1, (uint64_t)-1));
	EXPECT_STREQ(TEXT, content(self->path));
}

TEST_F(rw, read_directory_like_read)
{
	int d = open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), want;
	char buf[16];

	ASSERT_LE(0, d);
	want = read(d, buf, sizeof(buf)) < 0 ? -errno : 0;
	EXPECT_EQ(-EISDIR, want);
	EXPECT_EQ((int64_t)want, op(&self->t, RXU_OP_READ, d, buf, sizeof(buf), 0));
	EXPECT_EQ((int64_t)want, op(&self->t, RXU_OP_PREAD, d, buf, sizeof(buf), 0));
	close(d);
}

TEST_F(rw, pipe_read_write_espipe)
{
	int p[2];
	char buf[8];

	ASSERT_EQ(0, pipe(p));
	EXPECT_EQ(5, op(&self->t, RXU_OP_WRITE, p[1], "pipe!", 5, 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(5, read(p[0], buf, sizeof(buf)));
	EXPECT_STREQ("pipe!", buf);
	EXPECT_EQ(4, write(p[1], "data", 4));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(4, op(&self->t, RXU_OP_READ, p[0], buf, sizeof(buf), 0));
	EXPECT_STREQ("data", buf);
	/* positional I/O on a pipe: ESPIPE, as pread(2) */
	EXPECT_EQ((int64_t)-ESPIPE, op(&self->t, RXU_OP_PREAD, p[0], buf, 1, 0));
	EXPECT_EQ((int64_t)-ESPIPE, op(&self->t, RXU_OP_PWRITE, p[1], "x", 1, 0));
	close(p[0]);
	close(p[1]);
}

TEST_F(rw, large_transfer)
{
	const size_t len = 1 << 20;
	unsigned char *out = malloc(len), *in = malloc(len);
	size_t i;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	for (i = 0; i < len; i++)
		out[i] = (unsigned char)(i ^ (i >> 9));
	EXPECT_EQ((int64_t)len, op(&self->t, RXU_OP_PWRITE, self->fd, out, len, 0));
	memset(in, 0, len);
	EXPECT_EQ((int64_t)len, pread(self->fd, in, len, 0));
	EXPECT_EQ(0, memcmp(in, out, len));
	memset(in, 0, len);
	EXPECT_EQ((int64_t)len, op(&self->t, RXU_OP_PREAD, self->fd, in, len, 0));
	EXPECT_EQ(0, memcmp(in, out, len));
	free(out);
	free(in);
}

/* A batch of dependent-free ops in one ENTER, each checked. */
TEST_F(rw, batch_of_preads)
{
	char bufs[8][4];
	struct rxu_sqe64 s;
	struct rxu_cqe64 cqe;
	int i;

	for (i = 0; i < 8; i++) {
		s = rxt_sqe(RXU_OP_PREAD, (uint64_t)self->fd, (uintptr_t)bufs[i],
			    2, (uint64_t)i * 2, (uint64_t)i);
		ASSERT_EQ(0, rxt_push(&self->t, &s));
	}
	ASSERT_EQ(8, rxt_enter(&self->t, 8, 0, RXT_TMO));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, rxt_pop(&self->t, &cqe));
		ASSERT_GT(8U, cqe.user_data);
		EXPECT_EQ(2U, cqe.status);
		EXPECT_EQ(0, memcmp(bufs[cqe.user_data], TEXT + 2 * cqe.user_data, 2));
	}
}

TEST_HARNESS_MAIN
