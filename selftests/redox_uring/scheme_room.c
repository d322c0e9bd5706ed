// SPDX-License-Identifier: GPL-2.0
/*
 * Room in a scheme's data region (docs/schemes.md, "Files and ops"):
 * one ring ENTER that submits more bytes than the data region holds must
 * never hang.  WRITEs give their room back when the provider answers, so
 * a batch of them larger than the region goes through; so do zero-copy
 * READs (their bytes are in the provider's pinned pages, not in the
 * region).  Classic READ answers keep their room until the consumer's
 * ENTER takes them, so a ring op that finds the region full of its own
 * ring's untaken answers fails at once with ENOBUFS instead of waiting
 * for itself.
 *
 * Regression test for a ring that stalled for good: five 256 KiB WRITEs
 * in one ENTER against a 1 MiB region (the fifth waited for room that
 * only the same ENTER could give back).  An alarm breaks such a wait, so
 * a module with the bug fails these cases instead of hanging them.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rxt_harness.h"
#include "rxt_provider.h"

#define UD_BASE		0x100
#define ZC_LEN		(1U << 20)	/* one zero-copy READ: RXU_SCHEME_ZC_MAX */

FIXTURE(room) {
	struct rxt t;		/* the consumer's kernel ring */
	struct rxtp_shared *sh;
	pid_t prov;
	char name[32];
	size_t region;		/* scheme_data_size */
	size_t io_max;		/* bytes one request moves */
	unsigned int fit;	/* io_max requests the region holds */
	unsigned char *buf;
	size_t buf_len;
};

static void on_alarm(int sig)
{
	(void)sig;	/* only breaks a sleeping ENTER (no SA_RESTART) */
}

FIXTURE_SETUP(room)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	static int seq;
	long long n;

	self->t.fd = -1;
	self->prov = 0;
	self->buf = MAP_FAILED;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	n = rxt_param("scheme_data_size");
	ASSERT_LT(0, n);
	self->region = (size_t)n;
	self->io_max = self->region / 2 < 256 * 1024 ? self->region / 2 :
						       256 * 1024;
	self->fit = self->region / self->io_max;
	ASSERT_LE(self->fit + 1, 16U);
	ASSERT_EQ(0, rxt_setup(&self->t, 32, 32, 0));
	self->sh = rxtp_shared_new();
	ASSERT_NE(NULL, self->sh);
	snprintf(self->name, sizeof(self->name), "rm%dn%d", getpid(), ++seq);
	self->buf_len = (size_t)(self->fit + 2) * ZC_LEN;
	self->buf = mmap(NULL, self->buf_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
}

FIXTURE_TEARDOWN(room)
{
	alarm(0);
	rxtp_stop(self->prov);
	rxt_destroy(&self->t);
	if (self->sh)
		munmap(self->sh, sizeof(*self->sh));
	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->buf_len);
}

/* Start the provider (zero-copy READ answers or not), open rest: fd. */
static int64_t start(FIXTURE_DATA(room) *self, int zc, const char *rest)
{
	char path[96];
	struct rxu_sqe64 s;

	self->sh->zc = zc;
	self->prov = rxtp_start(self->name, self->sh);
	if (self->prov <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "%s:%s", self->name, rest);
	s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)path, strlen(path),
		    O_RDWR | O_CLOEXEC, 0x0be);
	return rxt_run(&self->t, &s);
}

/* Push op i of a batch: opcode, len bytes at buf + i * stride, offset 0. */
static int push_op(FIXTURE_DATA(room) *self, int64_t fd, uint8_t opcode,
		   unsigned int i, size_t len, size_t stride)
{
	struct rxu_sqe64 s = rxt_sqe(opcode, (uint64_t)fd,
				     (uintptr_t)(self->buf + i * stride), len,
				     0, UD_BASE + i);

	return rxt_push(&self->t, &s);
}

/*
 * One ENTER that submits the n ops pushed and waits for their n CQEs (an
 * alarm breaks a hang); their statuses in st[], by user_data.  0, or -1
 * if a CQE is missing.
 */
static int collect(FIXTURE_DATA(room) *self, unsigned int n, int64_t *st)
{
	struct rxu_cqe64 c;
	unsigned int i, got = 0;
	uint64_t t0;

	for (i = 0; i < n; i++)
		st[i] = RXT_NO_CQE;
	alarm(20);
	rxt_enter(&self->t, n, 0, RXT_TMO);
	alarm(0);
	t0 = rxt_now_ns();
	while (got < n && rxt_now_ns() - t0 < RXT_TMO) {
		if (rxt_pop(&self->t, &c)) {
			rxt_enter(&self->t, 1, 0, 100 * MSEC);
			continue;
		}
		if (c.user_data < UD_BASE || c.user_data >= UD_BASE + n)
			return -1;
		st[c.user_data - UD_BASE] = (int64_t)c.status;
		got++;
	}
	return got == n ? 0 : -1;
}

/* n ops of one opcode in one ENTER: collect()'s result. */
static int batch(FIXTURE_DATA(room) *self, int64_t fd, uint8_t opcode,
		 unsigned int n, size_t len, size_t stride, int64_t *st)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (push_op(self, fd, opcode, i, len, stride))
			return -1;
	return collect(self, n, st);
}

static int pattern_ok(const unsigned char *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != 'a' + i % 26)
			return 0;
	return 1;
}

/* The reported stall: more WRITE bytes in one ENTER than the region has. */
TEST_F(room, ring_writes_beyond_the_data_region)
{
	unsigned int i, n = self->fit + 1;
	int64_t fd, st[16];

	fd = start(self, 0, "file");
	ASSERT_LE(0, fd);
	memset(self->buf, 'w', self->buf_len);
	ASSERT_EQ(0, batch(self, fd, RXU_OP_PWRITE, n, self->io_max, 0, st));
	/* The test provider's file keeps 8 KiB: each PWRITE at 0 says so. */
	for (i = 0; i < n; i++)
		EXPECT_EQ(2 * RXTP_FILE_SIZE, st[i]);
	EXPECT_EQ((int)n, RXTP_GET(self->sh, writes));
	/* Twice: the room came back. */
	ASSERT_EQ(0, batch(self, fd, RXU_OP_PWRITE, n, self->io_max, 0, st));
	for (i = 0; i < n; i++)
		EXPECT_EQ(2 * RXTP_FILE_SIZE, st[i]);
}

/* Zero-copy answers hold no room: 1 MiB READs beyond the region. */
TEST_F(room, zero_copy_reads_beyond_the_data_region)
{
	unsigned int i, n = self->fit + 1;
	int64_t fd, st[16];

	fd = start(self, 1, "huge");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, batch(self, fd, RXU_OP_PREAD, n, ZC_LEN, ZC_LEN, st));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(ZC_LEN, st[i]);
		EXPECT_TRUE(pattern_ok(self->buf + (size_t)i * ZC_LEN, ZC_LEN));
	}
	EXPECT_EQ((int)n, RXTP_GET(self->sh, zc_answers));
}

/*
 * Classic READ answers keep their room until this ENTER takes them: the
 * op that finds the region full of them fails with ENOBUFS (no wait for
 * itself), and once they are taken the room is back.
 */
TEST_F(room, classic_reads_beyond_the_data_region_enobufs)
{
	unsigned int i, n = self->fit + 1;
	int64_t fd, st[16];

	fd = start(self, 0, "huge");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, batch(self, fd, RXU_OP_PREAD, n, self->io_max,
			   self->io_max, st));
	for (i = 0; i < self->fit; i++) {
		EXPECT_EQ((int64_t)self->io_max, st[i]);
		EXPECT_TRUE(pattern_ok(self->buf + i * self->io_max,
				       self->io_max));
	}
	EXPECT_EQ(-ENOBUFS, st[self->fit]);
	EXPECT_EQ((int)self->fit, RXTP_GET(self->sh, reads));

	/* Taken: a whole region's worth goes through again. */
	ASSERT_EQ(0, batch(self, fd, RXU_OP_PREAD, self->fit, self->io_max,
			   self->io_max, st));
	for (i = 0; i < self->fit; i++)
		EXPECT_EQ((int64_t)self->io_max, st[i]);
}

/*
 * A WRITE in the same ENTER behind READs that fill the region: it cannot
 * wait for their room (only this ENTER takes them), so ENOBUFS, and the
 * provider never sees it.
 */
TEST_F(room, write_behind_reads_of_the_same_enter_enobufs)
{
	unsigned int i;
	int64_t fd, st[16];

	fd = start(self, 0, "huge");
	ASSERT_LE(0, fd);
	for (i = 0; i < self->fit; i++)
		ASSERT_EQ(0, push_op(self, fd, RXU_OP_PREAD, i, self->io_max,
				     self->io_max));
	ASSERT_EQ(0, push_op(self, fd, RXU_OP_PWRITE, self->fit, self->io_max,
			     0));
	ASSERT_EQ(0, collect(self, self->fit + 1, st));
	for (i = 0; i < self->fit; i++)
		EXPECT_EQ((int64_t)self->io_max, st[i]);
	EXPECT_EQ(-ENOBUFS, st[self->fit]);
	EXPECT_EQ(0, RXTP_GET(self->sh, writes));

	/* The next ENTER took the READs: the same WRITE goes through. */
	ASSERT_EQ(0, batch(self, fd, RXU_OP_PWRITE, 1, self->io_max, 0, st));
	EXPECT_EQ(0, st[0]);	/* the huge file is read-only: 0 bytes */
	EXPECT_EQ(1, RXTP_GET(self->sh, writes));
}

TEST_HARNESS_MAIN
