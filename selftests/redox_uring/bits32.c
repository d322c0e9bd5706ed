// SPDX-License-Identifier: GPL-2.0
/*
 * Instances with 32-bit entries (RXU_CREATE_BITS_32; ABI.md sections 2
 * and 4): struct rxu_sqe32 in, struct rxu_cqe32 out, with the error status
 * as -errno in 32-bit two's complement and 32-bit user_data copied.
 * Buffers live below 4 GiB (MAP_32BIT) because addr is 32 bits wide.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxt_harness.h"

#ifndef MAP_32BIT
#define MAP_32BIT 0x40
#endif

FIXTURE(b32) {
	struct rxt t;
	char dir[128];
	char path[256];
	unsigned char *low;	/* 2 pages below 4 GiB */
};

FIXTURE_SETUP(b32)
{
	self->t.fd = -1;
	self->low = NULL;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_setup(&self->t, 8, 8, RXU_CREATE_BITS_32));
	ASSERT_EQ(0, rxt_tmpdir(self->dir, sizeof(self->dir)));
	snprintf(self->path, sizeof(self->path), "%s/f", self->dir);
	ASSERT_EQ(0, rxt_write_file(self->path, "32-bit entries!", 15));
	self->low = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	ASSERT_NE(MAP_FAILED, self->low);
	ASSERT_GT(1ULL << 32, (uint64_t)(uintptr_t)self->low + 8192);
}

FIXTURE_TEARDOWN(b32)
{
	if (self->low && self->low != MAP_FAILED)
		munmap(self->low, 8192);
	rxt_destroy(&self->t);
	rxt_rmtree(self->dir);
}

/* Push a raw SQE32, ENTER, pop the raw CQE32. */
static int run32(struct rxt *t, const struct rxu_sqe32 *s,
		 struct rxu_cqe32 *c)
{
	int64_t r;
	int err = rxt_push_raw(t, s);

	if (err)
		return err;
	r = rxt_enter(t, 1, 0, RXT_TMO);
	if (r < 0)
		return (int)r;
	return rxt_pop_raw(t, c);
}

static struct rxu_sqe32 sqe32(uint8_t op, uint32_t fd, uint32_t addr,
			      uint32_t len, uint64_t offset, uint32_t ud)
{
	struct rxu_sqe32 s;

	memset(&s, 0, sizeof(s));
	s.opcode = op;
	s.fd = fd;
	s.addr = addr;
	s.len = len;
	s.offset = offset;
	s.user_data = ud;
	return s;
}

TEST_F(b32, nop_user_data_32)
{
	static const uint32_t uds[] = { 0, 1, 0xdeadbeef, 0x80000000, UINT32_MAX };
	struct rxu_sqe32 s;
	struct rxu_cqe32 c;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(uds); i++) {
		s = sqe32(RXU_OP_NOOP, 0, 0, 0, 0, uds[i]);
		memset(&c, 0xa5, sizeof(c));
		ASSERT_EQ(0, run32(&self->t, &s, &c));
		EXPECT_EQ(uds[i], c.user_data);
		EXPECT_EQ(0U, c.status);
		EXPECT_EQ(0U, c.flags);
	}
}

/* CQEs are 16 bytes apart: 3 NOPs land in slots 0, 1, 2 of the CQ. */
TEST_F(b32, cqe_stride_16)
{
	struct rxu_sqe32 s;
	struct rxu_cqe32 *cq = self->t.map[RXT_CQ_ENT];
	int i;

	for (i = 0; i < 3; i++) {
		s = sqe32(RXU_OP_NOOP, 0, 0, 0, 0, 0x1000 + i);
		ASSERT_EQ(0, rxt_push_raw(&self->t, &s));
	}
	ASSERT_EQ(3, rxt_enter(&self->t, 3, 0, RXT_TMO));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0x1000U + i, cq[i].user_data);
		EXPECT_EQ(0U, cq[i].status);
	}
	EXPECT_EQ(0U, ((uint32_t *)self->t.map[RXT_CQ_ENT])[12]);
}

TEST_F(b32, error_status_is_32bit_twos_complement)
{
	struct rxu_sqe32 s;
	struct rxu_cqe32 c;

	s = sqe32(200, 0, 0, 0, 0, 1);
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	EXPECT_EQ(0xffffffdaU, c.status);	/* -ENOSYS */
	EXPECT_EQ(1U, c.user_data);

	s = sqe32(RXU_OP_NOOP, 0, 0, 0, 0, 2);
	s.flags = 0x80;
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	EXPECT_EQ(ERR32(EINVAL), c.status);

	s = sqe32(RXU_OP_CLOSE, 100000, 0, 0, 0, 3);
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	EXPECT_EQ(ERR32(EBADF), c.status);

	s = sqe32(RXU_OP_READ, UINT32_MAX, (uint32_t)(uintptr_t)self->low, 4, 0, 4);
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	EXPECT_EQ(ERR32(EBADF), c.status);

	s = sqe32(RXU_OP_NOOP, 0, 0, 0, 0, 5);
	s.flags = RXU_SQE_SUBSCRIBE;
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	EXPECT_EQ(ERR32(EINVAL), c.status);

	/* an unused field nonzero */
	s = sqe32(RXU_OP_NOOP, 0, 0, 0, 1, 6);
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	EXPECT_EQ(ERR32(EINVAL), c.status);
}

TEST_F(b32, open_read_pread_close)
{
	struct rxu_sqe32 s;
	struct rxu_cqe32 c;
	char *path = (char *)self->low;
	unsigned char *buf = self->low + 4096;
	size_t plen = strlen(self->path);
	int fd;

	memcpy(path, self->path, plen);
	s = sqe32(RXU_OP_OPEN, 0, (uint32_t)(uintptr_t)path, (uint32_t)plen,
		  O_RDONLY, 10);
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	ASSERT_GT(0x80000000U, c.status) TH_LOG("OPEN: %d", (int32_t)c.status);
	fd = (int)c.status;
	EXPECT_EQ(10U, c.user_data);

	s = sqe32(RXU_OP_READ, (uint32_t)fd, (uint32_t)(uintptr_t)buf, 6, 0, 11);
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	EXPECT_EQ(6U, c.status);
	EXPECT_EQ(0, memcmp(buf, "32-bit", 6));
	EXPECT_EQ(6, lseek(fd, 0, SEEK_CUR));

	/* offset is 64 bits wide in an SQE32 */
	s = sqe32(RXU_OP_PREAD, (uint32_t)fd, (uint32_t)(uintptr_t)buf, 8, 7, 12);
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	EXPECT_EQ(8U, c.status);
	EXPECT_EQ(0, memcmp(buf, "entries!", 8));
	s = sqe32(RXU_OP_PREAD, (uint32_t)fd, (uint32_t)(uintptr_t)buf, 8,
		  (uint64_t)-1, 13);
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	EXPECT_EQ(ERR32(EINVAL), c.status);

	s = sqe32(RXU_OP_FSTAT, (uint32_t)fd, (uint32_t)(uintptr_t)buf,
		  sizeof(struct stat), 0, 14);
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	EXPECT_EQ(0U, c.status);
	EXPECT_EQ(15, ((struct stat *)buf)->st_size);

	s = sqe32(RXU_OP_CLOSE, (uint32_t)fd, 0, 0, 0, 15);
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	EXPECT_EQ(0U, c.status);
	EXPECT_FALSE(rxt_fd_is_open(fd));
}

TEST_F(b32, write_and_seek)
{
	struct rxu_sqe32 s;
	struct rxu_cqe32 c;
	int fd = open(self->path, O_RDWR | O_CLOEXEC);
	char back[32];

	ASSERT_LE(0, fd);
	memcpy(self->low, "WRITE", 5);
	s = sqe32(RXU_OP_WRITE, (uint32_t)fd, (uint32_t)(uintptr_t)self->low, 5,
		  0, 20);
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	EXPECT_EQ(5U, c.status);
	EXPECT_EQ(5, lseek(fd, 0, SEEK_CUR));

	s = sqe32(RXU_OP_SEEK, (uint32_t)fd, 0, 0, (uint64_t)-2, 21);
	s.syscall_flags = SEEK_END;
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	EXPECT_EQ(13U, c.status);

	EXPECT_EQ(15, pread(fd, back, sizeof(back), 0));
	EXPECT_EQ(0, memcmp(back, "WRITEt entries!", 15));
	close(fd);
}

/* An SQE32 that opens io_uring: gets an instance fd too. */
TEST_F(b32, open_io_uring)
{
	struct rxu_sqe32 s;
	struct rxu_cqe32 c;
	size_t len = strlen(RXU_SCHEME_KERNEL);

	memcpy(self->low, RXU_SCHEME_KERNEL, len);
	s = sqe32(RXU_OP_OPEN, 0, (uint32_t)(uintptr_t)self->low, (uint32_t)len,
		  O_RDWR, 30);
	ASSERT_EQ(0, run32(&self->t, &s, &c));
	ASSERT_GT(0x80000000U, c.status) TH_LOG("OPEN: %d", (int32_t)c.status);
	EXPECT_EQ(32, rxt_create((int)c.status, 4, 4, 0));
	close((int)c.status);
}

TEST_HARNESS_MAIN
