// SPDX-License-Identifier: GPL-2.0
/*
 * Parked ops (ABI.md sections 4-6, "issue 3"): a READ/READV/WRITE/WRITEV
 * on a file that would block (pipe, socketpair, eventfd, timerfd, tty)
 * does not block ENTER.  The op is parked and completes during a later
 * ENTER of the same instance once the file is ready, including an ENTER
 * already waiting with min_complete.  One parked op never delays other
 * SQEs; CHAIN waits for the previous SQE, DRAIN for every earlier one;
 * ENTER's timeout holds; parked ops count against CQ space; closing the
 * instance cancels them with ECANCELED CQEs in the still-mapped CQ.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "rxt_harness.h"
#include "rxt_async.h"

/* How long to wait for a CQE that must come. */
#define WAIT_NS (5 * SEC)

FIXTURE(pk) {
	struct rxt t;
	int p[2];		/* a pipe, empty */
	char dir[128];
	int file;		/* a regular file: "0123456789" */
};

FIXTURE_SETUP(pk)
{
	char path[256];

	self->t.fd = -1;
	self->p[0] = self->p[1] = -1;
	self->file = -1;
	self->dir[0] = '\0';
	/* a parked WRITE to a pipe whose reader went away raises SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_setup(&self->t, 32, 32, 0));
	ASSERT_EQ(0, pipe2(self->p, O_CLOEXEC));
	ASSERT_EQ(0, rxt_tmpdir(self->dir, sizeof(self->dir)));
	snprintf(path, sizeof(path), "%s/f", self->dir);
	ASSERT_EQ(0, rxt_write_file(path, "0123456789", 10));
	self->file = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->file);
}

FIXTURE_TEARDOWN(pk)
{
	if (self->p[0] >= 0)
		close(self->p[0]);
	if (self->p[1] >= 0)
		close(self->p[1]);
	if (self->file >= 0)
		close(self->file);
	rxt_destroy(&self->t);
	rxt_rmtree(self->dir);
}

static struct rxu_sqe64 rw_sqe(uint8_t op, int fd, const void *addr,
			       uint64_t len, uint64_t ud)
{
	return rxt_sqe(op, (uint64_t)fd, (uintptr_t)addr, len, 0, ud);
}

static struct rxu_sqe64 nop_sqe(uint64_t ud, uint8_t flags)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, ud);

	s.flags = flags;
	return s;
}

/*
 * Push and submit: the SQE must be consumed at once (ENTER with
 * min_complete 0 returns, however the op fares).  Returns the ENTER
 * result.
 */
static int64_t submit(struct rxt *t, const struct rxu_sqe64 *s)
{
	int err = rxt_push(t, s);

	if (err)
		return err;
	return rxt_enter(t, 0, 0, 0);
}

/* A parked op: submitted, no CQE, and a quiet period shows none either. */
#define ASSERT_PARKED(t)						\
	do {								\
		ASSERT_EQ(0U, rxt_sq_avail(t));				\
		ASSERT_EQ(0, rxt_quiet(t, RXT_QUIET_NS));		\
	} while (0)

#define EXPECT_CQE(c, ud, st, fl)					\
	do {								\
		EXPECT_EQ((uint64_t)(ud), (c).user_data);		\
		EXPECT_EQ((uint64_t)(st), (c).status);			\
		EXPECT_EQ((uint64_t)(fl), (c).flags);			\
	} while (0)

/* ---- each kind of file that would block ---- */

TEST_F(pk, pipe_read_parks_then_completes)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	char buf[16] = { 0 };
	uint64_t t0;

	s = rw_sqe(RXU_OP_READ, self->p[0], buf, sizeof(buf), 0x11);
	t0 = rxt_now_ns();
	EXPECT_EQ(0, submit(&self->t, &s));	/* ENTER did not block */
	EXPECT_GT(2 * SEC, rxt_now_ns() - t0);
	ASSERT_PARKED(&self->t);

	ASSERT_EQ(3, write(self->p[1], "abc", 3));
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x11, 3, 0);
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	EXPECT_EQ(0, rxt_quiet(&self->t, RXT_QUIET_NS));
}

TEST_F(pk, pipe_write_parks_when_full)
{
	static const char msg[] = "0123456789";
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	ssize_t filled, drained;
	char tail[16];

	filled = rxt_fill_pipe(self->p[1]);
	ASSERT_LT(0, filled);
	s = rw_sqe(RXU_OP_WRITE, self->p[1], msg, 10, 0x12);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);

	/* make room: read everything the fill put there */
	ASSERT_EQ(0, rxt_nonblock(self->p[0], 1));
	drained = 0;
	while (drained < filled) {
		char buf[4096];
		ssize_t r = read(self->p[0], buf,
				 (size_t)(filled - drained) < sizeof(buf) ?
				 (size_t)(filled - drained) : sizeof(buf));
		if (r <= 0)
			break;
		drained += r;
	}
	ASSERT_EQ(filled, drained);
	ASSERT_EQ(0, rxt_nonblock(self->p[0], 0));

	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x12, 10, 0);
	ASSERT_EQ(10, read(self->p[0], tail, sizeof(tail)));
	EXPECT_EQ(0, memcmp(tail, msg, 10));
}

TEST_F(pk, readv_parks)
{
	char a[2], b[3];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;

	s = rw_sqe(RXU_OP_READV, self->p[0], iov, 2, 0x13);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);
	ASSERT_EQ(5, write(self->p[1], "vwxyz", 5));
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x13, 5, 0);
	EXPECT_EQ(0, memcmp(a, "vw", 2));
	EXPECT_EQ(0, memcmp(b, "xyz", 3));
}

TEST_F(pk, writev_parks_when_full)
{
	struct iovec iov[2] = { { (void *)"AB", 2 }, { (void *)"CDE", 3 } };
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	ssize_t filled, drained;
	char buf[8];

	filled = rxt_fill_pipe(self->p[1]);
	ASSERT_LT(0, filled);
	s = rw_sqe(RXU_OP_WRITEV, self->p[1], iov, 2, 0x14);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);
	drained = rxt_drain(self->p[0]);
	/* the parked write may land while we drain: filled, or filled + 5 */
	ASSERT_LE(filled, drained);
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x14, 5, 0);
	if (drained == filled) {
		ASSERT_EQ(5, read(self->p[0], buf, sizeof(buf)));
		EXPECT_EQ(0, memcmp(buf, "ABCDE", 5));
	} else {
		EXPECT_EQ(filled + 5, drained);
	}
}

/* Positional I/O on a pipe fails at once (ESPIPE), as pread(2): no parking. */
TEST_F(pk, pread_pipe_espipe_not_parked)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	char buf[4];

	s = rw_sqe(RXU_OP_PREAD, self->p[0], buf, sizeof(buf), 0x15);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	ASSERT_EQ(1, rxt_enter(&self->t, 1, 0, WAIT_NS));
	ASSERT_EQ(0, rxt_pop(&self->t, &c));
	EXPECT_CQE(c, 0x15, ERR64(ESPIPE), 0);
	s = rw_sqe(RXU_OP_PWRITE, self->p[1], "x", 1, 0x16);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	ASSERT_EQ(1, rxt_enter(&self->t, 1, 0, WAIT_NS));
	ASSERT_EQ(0, rxt_pop(&self->t, &c));
	EXPECT_CQE(c, 0x16, ERR64(ESPIPE), 0);
}

/* O_NONBLOCK files answer EAGAIN, as read(2)/write(2), instead of parking. */
TEST_F(pk, o_nonblock_eagain_not_parked)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	char buf[4];
	int q[2];

	ASSERT_EQ(0, pipe2(q, O_CLOEXEC | O_NONBLOCK));
	s = rw_sqe(RXU_OP_READ, q[0], buf, sizeof(buf), 0x17);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	ASSERT_EQ(1, rxt_enter(&self->t, 0, 0, 0));
	ASSERT_EQ(0, rxt_pop(&self->t, &c));
	EXPECT_CQE(c, 0x17, ERR64(EAGAIN), 0);
	ASSERT_LT(0, rxt_fill_pipe(q[1]));
	ASSERT_EQ(0, rxt_nonblock(q[1], 1));
	s = rw_sqe(RXU_OP_WRITE, q[1], "x", 1, 0x18);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	ASSERT_EQ(1, rxt_enter(&self->t, 0, 0, 0));
	ASSERT_EQ(0, rxt_pop(&self->t, &c));
	EXPECT_CQE(c, 0x18, ERR64(EAGAIN), 0);
	close(q[0]);
	close(q[1]);
}

TEST_F(pk, socketpair_read_parks)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	char buf[32] = { 0 };
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	s = rw_sqe(RXU_OP_READ, sv[0], buf, sizeof(buf), 0x21);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);
	ASSERT_EQ(6, send(sv[1], "socket", 6, 0));
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x21, 6, 0);
	EXPECT_EQ(0, memcmp(buf, "socket", 6));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(pk, socketpair_write_parks_when_full)
{
	static char big[65536];
	char msg[100], got[100];
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	int sv[2], sz = 4096;
	ssize_t r, sent = 0, rcvd = 0;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	while ((r = send(sv[0], big, sizeof(big), MSG_DONTWAIT)) > 0)
		sent += r;
	ASSERT_EQ(-1, r);
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_LT(0, sent);

	memset(msg, 'm', sizeof(msg));
	s = rw_sqe(RXU_OP_WRITE, sv[0], msg, sizeof(msg), 0x22);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);

	while (rcvd < sent) {
		r = recv(sv[1], big, sizeof(big), MSG_DONTWAIT);
		if (r <= 0)
			break;
		rcvd += r;
	}
	ASSERT_EQ(sent, rcvd);
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x22, sizeof(msg), 0);
	ASSERT_EQ((ssize_t)sizeof(got), recv(sv[1], got, sizeof(got), MSG_WAITALL));
	EXPECT_EQ(0, memcmp(got, msg, sizeof(got)));
	close(sv[0]);
	close(sv[1]);
}

TEST_F(pk, eventfd_read_parks)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	uint64_t v = 0, five = 5;
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	s = rw_sqe(RXU_OP_READ, efd, &v, sizeof(v), 0x31);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);
	ASSERT_EQ(8, write(efd, &five, 8));
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x31, 8, 0);
	EXPECT_EQ(5U, v);
	close(efd);
}

TEST_F(pk, eventfd_write_parks_at_max)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	uint64_t v, one = 1, max = UINT64_MAX - 1;
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	ASSERT_EQ(8, write(efd, &max, 8));
	s = rw_sqe(RXU_OP_WRITE, efd, &one, sizeof(one), 0x32);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);
	ASSERT_EQ(8, read(efd, &v, 8));
	EXPECT_EQ(max, v);
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x32, 8, 0);
	ASSERT_EQ(8, read(efd, &v, 8));
	EXPECT_EQ(1U, v);
	close(efd);
}

/* A timer's expiry (interrupt context) completes it, waking the ENTER. */
TEST_F(pk, timerfd_read_parks)
{
	struct itimerspec its = { .it_value = { 0, 300 * 1000 * 1000 } };
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	uint64_t exp = 0, t0, dt;
	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);

	ASSERT_LE(0, tfd);
	s = rw_sqe(RXU_OP_READ, tfd, &exp, sizeof(exp), 0x41);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	t0 = rxt_now_ns();
	ASSERT_EQ(0, timerfd_settime(tfd, 0, &its, NULL));
	EXPECT_EQ(1, rxt_enter(&self->t, 1, 0, WAIT_NS));
	dt = rxt_now_ns() - t0;
	ASSERT_EQ(0, rxt_pop(&self->t, &c));
	EXPECT_CQE(c, 0x41, 8, 0);
	EXPECT_EQ(1U, exp);
	EXPECT_LE(250 * MSEC, dt);
	EXPECT_GT(4 * SEC, dt);
	close(tfd);
}

TEST_F(pk, tty_read_parks)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	struct termios tio;
	char buf[16] = { 0 };
	int m, sl;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		SKIP(return, "no pty: %s", strerror(errno));
	ASSERT_EQ(0, grantpt(m));
	ASSERT_EQ(0, unlockpt(m));
	sl = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	ASSERT_LE(0, sl);
	ASSERT_EQ(0, tcgetattr(sl, &tio));
	tio.c_lflag &= ~(tcflag_t)ECHO;
	tio.c_lflag |= ICANON;
	ASSERT_EQ(0, tcsetattr(sl, TCSANOW, &tio));

	s = rw_sqe(RXU_OP_READ, sl, buf, sizeof(buf), 0x51);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);
	ASSERT_EQ(3, write(m, "hi\n", 3));
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x51, 3, 0);
	EXPECT_EQ(0, memcmp(buf, "hi\n", 3));
	close(sl);
	close(m);
}

TEST_F(pk, bits32_parked_read)
{
	struct rxt t = RXT_INIT;
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	char *buf;

	/* addr is 32 bits wide: a buffer below 4 GiB */
	buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_GT(1ULL << 32, (uint64_t)(uintptr_t)buf + 4096);
	ASSERT_EQ(0, rxt_setup(&t, 8, 8, RXU_CREATE_BITS_32));
	s = rw_sqe(RXU_OP_READ, self->p[0], buf, 4, 0x52);
	EXPECT_EQ(0, submit(&t, &s));
	ASSERT_PARKED(&t);
	ASSERT_EQ(4, write(self->p[1], "b32!", 4));
	ASSERT_EQ(0, rxt_wait_cqe(&t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x52, 4, 0);
	EXPECT_EQ(0, memcmp(buf, "b32!", 4));
	rxt_destroy(&t);
	munmap(buf, 4096);
}

/* The buffer of a parked READ unmapped before data comes: EFAULT. */
TEST_F(pk, parked_read_buffer_unmapped_efault)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	void *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, buf);
	s = rw_sqe(RXU_OP_READ, self->p[0], buf, 16, 0x53);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);
	ASSERT_EQ(0, munmap(buf, 4096));
	ASSERT_EQ(4, write(self->p[1], "lost", 4));
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x53, ERR64(EFAULT), 0);
}

/*
 * A READ parked by this process, made ready and ENTERed by a forked
 * child (same instance, its own copy of memory): a CQE that says 4
 * bytes were read must mean that the submitter's buffer holds them.
 */
TEST_F(pk, parked_read_ready_in_forked_child_enter)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	static char buf[8];
	int status;
	pid_t pid;

	memset(buf, 0, sizeof(buf));
	s = rw_sqe(RXU_OP_READ, self->p[0], buf, 4, 0x54);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (write(self->p[1], "kid!", 4) != 4)
			_exit(2);
		/* may complete the READ here, or leave it to the parent */
		rxt_enter(&self->t, 1, 0, SEC);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x54, 4, 0);
	EXPECT_EQ(0, memcmp(buf, "kid!", 4));
}

/* ---- a parked op delays nothing else ---- */

TEST_F(pk, regular_file_completes_inline)
{
	struct rxu_sqe64 s[2];
	struct rxu_cqe64 c;
	char pbuf[4], fbuf[4];

	s[0] = rw_sqe(RXU_OP_READ, self->p[0], pbuf, sizeof(pbuf), 1);
	s[1] = rxt_sqe(RXU_OP_PREAD, (uint64_t)self->file, (uintptr_t)fbuf,
		       4, 3, 2);
	ASSERT_EQ(0, rxt_push(&self->t, &s[0]));
	ASSERT_EQ(0, rxt_push(&self->t, &s[1]));
	/* the file read is done by the time ENTER returns */
	EXPECT_EQ(1, rxt_enter(&self->t, 0, 0, 0));
	ASSERT_EQ(0, rxt_pop(&self->t, &c));
	EXPECT_CQE(c, 2, 4, 0);
	EXPECT_EQ(0, memcmp(fbuf, "3456", 4));
	EXPECT_EQ(0, rxt_quiet(&self->t, RXT_QUIET_NS));
	ASSERT_EQ(1, write(self->p[1], "p", 1));
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 1, 1, 0);
}

TEST_F(pk, parked_does_not_delay_others)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c[8];
	char pbuf[4], fbuf[4];
	int q[2], i;

	ASSERT_EQ(0, pipe2(q, O_CLOEXEC));
	s = rw_sqe(RXU_OP_READ, self->p[0], pbuf, sizeof(pbuf), 1);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	s = nop_sqe(2, 0);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	s = rw_sqe(RXU_OP_READ, q[0], pbuf, sizeof(pbuf), 3);	/* also parks */
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	s = rw_sqe(RXU_OP_READ, self->file, fbuf, 4, 4);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	s = nop_sqe(5, 0);
	ASSERT_EQ(0, rxt_push(&self->t, &s));

	EXPECT_EQ(3, rxt_enter(&self->t, 3, 0, WAIT_NS));
	ASSERT_EQ(3U, rxt_collect(&self->t, c, 8, 3, WAIT_NS));
	/* the inline ones, in SQ order */
	EXPECT_CQE(c[0], 2, 0, 0);
	EXPECT_CQE(c[1], 4, 4, 0);
	EXPECT_EQ(0, memcmp(fbuf, "0123", 4));
	EXPECT_CQE(c[2], 5, 0, 0);
	EXPECT_EQ(0, rxt_quiet(&self->t, RXT_QUIET_NS));

	/* the second parked one completes first when its pipe is first */
	ASSERT_EQ(1, write(q[1], "q", 1));
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c[0], WAIT_NS));
	EXPECT_CQE(c[0], 3, 1, 0);
	ASSERT_EQ(1, write(self->p[1], "p", 1));
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c[0], WAIT_NS));
	EXPECT_CQE(c[0], 1, 1, 0);
	for (i = 0; i < 2; i++)
		close(q[i]);
}

/* Eight 1-byte READs parked on one pipe: eight bytes wake every one. */
TEST_F(pk, many_parked_on_one_pipe)
{
	struct rxu_cqe64 c[16];
	struct rxu_sqe64 s;
	char buf[8] = { 0 };
	int seen[8] = { 0 };
	size_t n, i;

	for (i = 0; i < 8; i++) {
		s = rw_sqe(RXU_OP_READ, self->p[0], &buf[i], 1, 100 + i);
		ASSERT_EQ(0, rxt_push(&self->t, &s));
	}
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, 0));
	ASSERT_PARKED(&self->t);
	ASSERT_EQ(8, write(self->p[1], "abcdefgh", 8));
	n = rxt_collect(&self->t, c, 16, 8, WAIT_NS);
	ASSERT_EQ(8U, n);
	for (i = 0; i < n; i++) {
		ASSERT_LE(100U, c[i].user_data);
		ASSERT_GT(108U, c[i].user_data);
		EXPECT_EQ(1U, c[i].status);
		EXPECT_EQ(0U, c[i].flags);
	}
	/* each byte went to exactly one read */
	for (i = 0; i < 8; i++) {
		ASSERT_LE('a', buf[i]);
		ASSERT_GE('h', buf[i]);
		seen[buf[i] - 'a']++;
	}
	for (i = 0; i < 8; i++)
		EXPECT_EQ(1, seen[i]);
	EXPECT_EQ(0, rxt_quiet(&self->t, RXT_QUIET_NS));
}

/* 256 pipes, one parked READ each, written in reverse order. */
TEST_F_TIMEOUT(pk, many_pipes_parked, 120)
{
	enum { N = 256 };
	static int pp[N][2];
	static char buf[N];
	static struct rxu_sqe64 s[N];
	static struct rxu_cqe64 c[N + 8];
	struct rxt t = RXT_INIT;
	int seen[N] = { 0 };
	size_t n, i, pushed;

	ASSERT_EQ(0, rxt_nofile(4 * N));
	ASSERT_EQ(0, rxt_setup(&t, 64, 512, 0));
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, pipe2(pp[i], O_CLOEXEC));
		s[i] = rw_sqe(RXU_OP_READ, pp[i][0], &buf[i], 1, i);
	}
	n = rxt_submit_collect(&t, s, N, c, N + 8, 0, SEC, &pushed);
	ASSERT_EQ((size_t)N, pushed);
	ASSERT_EQ(0U, n);
	ASSERT_EQ(0U, rxt_sq_avail(&t));
	for (i = N; i-- > 0;)
		ASSERT_EQ(1, write(pp[i][1], (char[]){ (char)i }, 1));
	n = rxt_collect(&t, c, N + 8, N, WAIT_NS);
	ASSERT_EQ((size_t)N, n);
	for (i = 0; i < n; i++) {
		ASSERT_GT((uint64_t)N, c[i].user_data);
		EXPECT_EQ(1U, c[i].status);
		seen[c[i].user_data]++;
	}
	for (i = 0; i < N; i++) {
		EXPECT_EQ(1, seen[i]);
		EXPECT_EQ((char)i, buf[i]);
		close(pp[i][0]);
		close(pp[i][1]);
	}
	EXPECT_EQ(0, rxt_quiet(&t, RXT_QUIET_NS));
	rxt_destroy(&t);
}

/* ---- parked ops and their files' other ends ---- */

TEST_F(pk, parked_read_eof_on_writer_close)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	char buf[4];

	s = rw_sqe(RXU_OP_READ, self->p[0], buf, sizeof(buf), 0x61);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);
	close(self->p[1]);
	self->p[1] = -1;
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x61, 0, 0);
}

TEST_F(pk, parked_write_epipe_on_reader_close)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;

	ASSERT_LT(0, rxt_fill_pipe(self->p[1]));
	s = rw_sqe(RXU_OP_WRITE, self->p[1], "x", 1, 0x62);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);
	close(self->p[0]);
	self->p[0] = -1;
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x62, ERR64(EPIPE), 0);
}

/* The parked op holds its file: closing the fd number does not end it. */
TEST_F(pk, parked_read_survives_fd_close)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	char buf[4] = { 0 };

	s = rw_sqe(RXU_OP_READ, self->p[0], buf, sizeof(buf), 0x63);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);
	close(self->p[0]);
	self->p[0] = -1;
	ASSERT_EQ(1, write(self->p[1], "z", 1));
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x63, 1, 0);
	EXPECT_EQ('z', buf[0]);
}

/* ---- CHAIN and DRAIN ---- */

TEST_F(pk, chain_waits_for_parked_read)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c[4];
	char buf[4];

	s = rw_sqe(RXU_OP_READ, self->p[0], buf, sizeof(buf), 1);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	s = nop_sqe(2, RXU_SQE_CHAIN);
	ASSERT_EQ(0, rxt_push(&self->t, &s));

	/* the chained NOP waits for the READ: ENTER times out */
	EXPECT_EQ(-ETIME, rxt_enter(&self->t, 1, 0, 200 * MSEC));
	EXPECT_EQ(0U, rxt_cq_avail(&self->t));

	ASSERT_EQ(2, write(self->p[1], "ok", 2));
	ASSERT_EQ(2U, rxt_collect(&self->t, c, 4, 2, WAIT_NS));
	EXPECT_CQE(c[0], 1, 2, 0);
	EXPECT_CQE(c[1], 2, 0, 0);
	EXPECT_EQ(0, memcmp(buf, "ok", 2));
	EXPECT_EQ(0, rxt_quiet(&self->t, RXT_QUIET_NS));
}

/* An SQE without CHAIN after a waiting chain is not held back by it. */
TEST_F(pk, unchained_after_waiting_chain_runs)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c[4];
	char buf[4];

	s = rw_sqe(RXU_OP_READ, self->p[0], buf, sizeof(buf), 1);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	s = nop_sqe(2, RXU_SQE_CHAIN);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	s = nop_sqe(3, 0);
	ASSERT_EQ(0, rxt_push(&self->t, &s));

	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c[0], WAIT_NS));
	EXPECT_CQE(c[0], 3, 0, 0);
	EXPECT_EQ(0, rxt_quiet(&self->t, RXT_QUIET_NS));
	ASSERT_EQ(1, write(self->p[1], "k", 1));
	ASSERT_EQ(2U, rxt_collect(&self->t, c, 4, 2, WAIT_NS));
	EXPECT_CQE(c[0], 1, 1, 0);
	EXPECT_CQE(c[1], 2, 0, 0);
}

TEST_F(pk, chain_of_three_in_order)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c[4];
	char a[2], b[2];
	int q[2];

	ASSERT_EQ(0, pipe2(q, O_CLOEXEC));
	s = rw_sqe(RXU_OP_READ, self->p[0], a, 1, 1);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	s = rw_sqe(RXU_OP_READ, q[0], b, 1, 2);
	s.flags = RXU_SQE_CHAIN;
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	s = nop_sqe(3, RXU_SQE_CHAIN);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, 0));
	ASSERT_EQ(0, rxt_quiet(&self->t, RXT_QUIET_NS));

	/*
	 * q is ready first, but its READ only starts after the first READ
	 * completed: nothing completes until p has data.
	 */
	ASSERT_EQ(1, write(q[1], "Q", 1));
	EXPECT_EQ(0, rxt_quiet(&self->t, RXT_QUIET_NS));
	ASSERT_EQ(1, write(self->p[1], "P", 1));
	ASSERT_EQ(3U, rxt_collect(&self->t, c, 4, 3, WAIT_NS));
	EXPECT_CQE(c[0], 1, 1, 0);
	EXPECT_CQE(c[1], 2, 1, 0);
	EXPECT_CQE(c[2], 3, 0, 0);
	EXPECT_EQ('P', a[0]);
	EXPECT_EQ('Q', b[0]);
	close(q[0]);
	close(q[1]);
}

/* CHAIN after an SQE that already completed runs at once. */
TEST_F(pk, chain_after_completed_runs_at_once)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c[2];

	s = nop_sqe(1, 0);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	s = nop_sqe(2, RXU_SQE_CHAIN);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	EXPECT_EQ(2, rxt_enter(&self->t, 2, 0, WAIT_NS));
	ASSERT_EQ(2U, rxt_collect(&self->t, c, 2, 2, WAIT_NS));
	EXPECT_CQE(c[0], 1, 0, 0);
	EXPECT_CQE(c[1], 2, 0, 0);
	/* and in a later ENTER too */
	s = nop_sqe(3, RXU_SQE_CHAIN);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	EXPECT_EQ(1, rxt_enter(&self->t, 1, 0, WAIT_NS));
	ASSERT_EQ(0, rxt_pop(&self->t, &c[0]));
	EXPECT_CQE(c[0], 3, 0, 0);
}

TEST_F(pk, drain_waits_for_every_earlier)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c[4];
	char a[2], b[2];
	int q[2];

	ASSERT_EQ(0, pipe2(q, O_CLOEXEC));
	s = rw_sqe(RXU_OP_READ, self->p[0], a, 1, 1);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	s = rw_sqe(RXU_OP_READ, q[0], b, 1, 2);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	s = nop_sqe(3, 0);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	s = nop_sqe(4, RXU_SQE_DRAIN);
	ASSERT_EQ(0, rxt_push(&self->t, &s));

	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c[0], WAIT_NS));
	EXPECT_CQE(c[0], 3, 0, 0);
	EXPECT_EQ(0, rxt_quiet(&self->t, RXT_QUIET_NS));

	/* one of the two earlier reads done: the DRAIN still waits */
	ASSERT_EQ(1, write(self->p[1], "P", 1));
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c[0], WAIT_NS));
	EXPECT_CQE(c[0], 1, 1, 0);
	EXPECT_EQ(0, rxt_quiet(&self->t, RXT_QUIET_NS));

	ASSERT_EQ(1, write(q[1], "Q", 1));
	ASSERT_EQ(2U, rxt_collect(&self->t, c, 4, 2, WAIT_NS));
	EXPECT_CQE(c[0], 2, 1, 0);
	EXPECT_CQE(c[1], 4, 0, 0);
	close(q[0]);
	close(q[1]);
}

/* ---- ENTER with parked ops: timeout, wake-up, signal ---- */

TEST_F(pk, enter_timeout_with_parked_op)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	uint64_t t0, dt;
	char buf[4];

	s = rw_sqe(RXU_OP_READ, self->p[0], buf, sizeof(buf), 0x71);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	t0 = rxt_now_ns();
	EXPECT_EQ(-ETIME, rxt_enter(&self->t, 1, 0, 200 * MSEC));
	dt = rxt_now_ns() - t0;
	EXPECT_LE(190 * MSEC, dt);
	EXPECT_GT(5 * SEC, dt);
	EXPECT_EQ(0U, rxt_sq_avail(&self->t));
	EXPECT_EQ(0U, rxt_cq_avail(&self->t));

	ASSERT_EQ(2, write(self->p[1], "ab", 2));
	EXPECT_EQ(1, rxt_enter(&self->t, 1, 0, WAIT_NS));
	ASSERT_EQ(0, rxt_pop(&self->t, &c));
	EXPECT_CQE(c, 0x71, 2, 0);
}

struct delayed_write {
	int fd;
	unsigned int delay_ms;
	const char *data;
	size_t len;
	ssize_t ret;
};

static void *delayed_write_fn(void *arg)
{
	struct delayed_write *d = arg;

	usleep(d->delay_ms * 1000);
	d->ret = write(d->fd, d->data, d->len);
	return NULL;
}

static void enter_woken(struct __test_metadata *_metadata, struct rxt *t,
			int rfd, int wfd, uint64_t timeout_ns)
{
	struct delayed_write d = { wfd, 300, "wake", 4, -1 };
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	pthread_t th;
	uint64_t t0, dt;
	char buf[8] = { 0 };

	s = rw_sqe(RXU_OP_READ, rfd, buf, sizeof(buf), 0x72);
	ASSERT_EQ(0, rxt_push(t, &s));
	t0 = rxt_now_ns();
	ASSERT_EQ(0, pthread_create(&th, NULL, delayed_write_fn, &d));
	/* submits the READ (it parks), then sleeps until it completes */
	EXPECT_EQ(1, rxt_enter(t, 1, 0, timeout_ns));
	dt = rxt_now_ns() - t0;
	pthread_join(th, NULL);
	EXPECT_EQ(4, d.ret);
	EXPECT_LE(250 * MSEC, dt);
	EXPECT_GT(5 * SEC, dt);
	ASSERT_EQ(0, rxt_pop(t, &c));
	EXPECT_CQE(c, 0x72, 4, 0);
	EXPECT_EQ(0, memcmp(buf, "wake", 4));
}

TEST_F(pk, enter_woken_by_other_thread_write)
{
	enter_woken(_metadata, &self->t, self->p[0], self->p[1], 20 * SEC);
}

TEST_F(pk, enter_without_timeout_woken_by_other_thread_write)
{
	enter_woken(_metadata, &self->t, self->p[0], self->p[1], 0);
}

/* The READ parked by an earlier ENTER completes in a waiting one. */
TEST_F(pk, waiting_enter_finishes_earlier_parked_op)
{
	struct delayed_write d = { self->p[1], 300, "late", 4, -1 };
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	pthread_t th;
	char buf[8] = { 0 };

	s = rw_sqe(RXU_OP_READ, self->p[0], buf, sizeof(buf), 0x73);
	EXPECT_EQ(0, submit(&self->t, &s));
	ASSERT_PARKED(&self->t);
	ASSERT_EQ(0, pthread_create(&th, NULL, delayed_write_fn, &d));
	EXPECT_EQ(1, rxt_enter(&self->t, 1, 0, 20 * SEC));
	pthread_join(th, NULL);
	ASSERT_EQ(0, rxt_pop(&self->t, &c));
	EXPECT_CQE(c, 0x73, 4, 0);
}

static void on_usr1(int sig)
{
	(void)sig;
}

TEST_F(pk, signal_eintr_parked_op_survives)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct rxu_sqe64 s;
	struct rxu_cqe64 c;
	pid_t parent = getpid(), pid;
	char buf[4] = { 0 };

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	s = rw_sqe(RXU_OP_READ, self->p[0], buf, sizeof(buf), 0x74);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (;;) {
			usleep(200 * 1000);
			kill(parent, SIGUSR1);
		}
	}
	EXPECT_EQ(-EINTR, rxt_enter(&self->t, 1, 0, 20 * SEC));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	EXPECT_EQ(0U, rxt_sq_avail(&self->t));
	EXPECT_EQ(0U, rxt_cq_avail(&self->t));
	ASSERT_EQ(1, write(self->p[1], "s", 1));
	ASSERT_EQ(0, rxt_wait_cqe(&self->t, &c, WAIT_NS));
	EXPECT_CQE(c, 0x74, 1, 0);
	EXPECT_EQ('s', buf[0]);
}

/* ---- back-pressure ---- */

/*
 * CQ of 2: the kernel takes an SQE only with a CQ slot for it, counting
 * parked ops, so of four READs on empty pipes two stay in the SQ.
 */
TEST_F(pk, parked_ops_count_against_cq_space)
{
	struct rxt t = RXT_INIT;
	struct rxu_sqe64 s;
	struct rxu_cqe64 c[8];
	int q[4][2], seen[5] = { 0 };
	char buf[4];
	size_t i, n;

	ASSERT_EQ(0, rxt_setup(&t, 8, 2, 0));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pipe2(q[i], O_CLOEXEC));
		s = rw_sqe(RXU_OP_READ, q[i][0], &buf[i], 1, i + 1);
		ASSERT_EQ(0, rxt_push(&t, &s));
	}
	EXPECT_EQ(0, rxt_enter(&t, 0, 0, 0));
	EXPECT_EQ(2U, rxt_sq_avail(&t));
	EXPECT_EQ(0U, rxt_cq_avail(&t));

	/* the first completes; its CQE + one parked op still fill the CQ */
	ASSERT_EQ(1, write(q[0][1], "a", 1));
	EXPECT_EQ(1, rxt_enter(&t, 1, 0, WAIT_NS));
	EXPECT_EQ(2U, rxt_sq_avail(&t));
	ASSERT_EQ(0, rxt_pop(&t, &c[0]));
	EXPECT_CQE(c[0], 1, 1, 0);
	/* one slot freed: one more SQE taken */
	EXPECT_EQ(0, rxt_enter(&t, 0, 0, 0));
	EXPECT_EQ(1U, rxt_sq_avail(&t));

	for (i = 1; i < 4; i++)
		ASSERT_EQ(1, write(q[i][1], "b", 1));
	n = rxt_submit_collect(&t, NULL, 0, c, 8, 3, WAIT_NS, NULL);
	ASSERT_EQ(3U, n);
	for (i = 0; i < n; i++) {
		ASSERT_LE(2U, c[i].user_data);
		ASSERT_GE(4U, c[i].user_data);
		EXPECT_EQ(1U, c[i].status);
		seen[c[i].user_data]++;
	}
	EXPECT_EQ(1, seen[2]);
	EXPECT_EQ(1, seen[3]);
	EXPECT_EQ(1, seen[4]);
	EXPECT_EQ(0U, rxt_sq_avail(&t));
	for (i = 0; i < 4; i++) {
		close(q[i][0]);
		close(q[i][1]);
	}
	rxt_destroy(&t);
}

/* ---- close with parked ops ---- */

static int dropped(const void *hdr)
{
	return (rxt_hdr_get(hdr, RXT_HDR_STATUS) & RXU_RING_DROP) != 0;
}

TEST_F(pk, close_cancels_parked_ops)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 c[8];
	int q[2], seen[5] = { 0 };
	char buf[4][4];
	ssize_t filled, drained;
	size_t i, n;
	char x;

	ASSERT_EQ(0, pipe2(q, O_CLOEXEC));
	filled = rxt_fill_pipe(q[1]);
	ASSERT_LT(0, filled);
	for (i = 0; i < 3; i++) {
		s = rw_sqe(RXU_OP_READ, self->p[0], buf[i], 4, i + 1);
		ASSERT_EQ(0, rxt_push(&self->t, &s));
	}
	s = rw_sqe(RXU_OP_WRITE, q[1], "never", 5, 4);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, 0));
	ASSERT_PARKED(&self->t);

	rxt_close_fd(&self->t);
	EXPECT_TRUE(dropped(rxt_cqh(&self->t)));
	n = 0;
	while (n < 8 && rxt_pop(&self->t, &c[n]) == 0)
		n++;
	ASSERT_EQ(4U, n);
	for (i = 0; i < n; i++) {
		ASSERT_LE(1U, c[i].user_data);
		ASSERT_GE(4U, c[i].user_data);
		EXPECT_EQ(ERR64(ECANCELED), c[i].status);
		EXPECT_EQ(0U, c[i].flags);
		seen[c[i].user_data]++;
	}
	for (i = 1; i <= 4; i++)
		EXPECT_EQ(1, seen[i]);

	/* the cancelled READs take nothing from the pipe ... */
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ(1, read(self->p[0], &x, 1));
	EXPECT_EQ('x', x);
	/* ... and the cancelled WRITE put nothing in its pipe */
	drained = rxt_drain(q[0]);
	EXPECT_EQ(filled, drained);
	close(q[0]);
	close(q[1]);
}

/* The cancellations have room: parked ops held their CQ slots. */
TEST_F(pk, close_cancels_into_full_cq)
{
	struct rxt t = RXT_INIT;
	struct rxu_sqe64 s;
	struct rxu_cqe64 c[4];
	int q[2][2];
	char buf[2];
	size_t i;

	ASSERT_EQ(0, rxt_setup(&t, 8, 4, 0));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pipe2(q[i], O_CLOEXEC));
		s = nop_sqe(10 + i, 0);
		ASSERT_EQ(0, rxt_push(&t, &s));
	}
	for (i = 0; i < 2; i++) {
		s = rw_sqe(RXU_OP_READ, q[i][0], &buf[i], 1, 20 + i);
		ASSERT_EQ(0, rxt_push(&t, &s));
	}
	EXPECT_EQ(2, rxt_enter(&t, 2, 0, WAIT_NS));
	EXPECT_EQ(0U, rxt_sq_avail(&t));
	rxt_close_fd(&t);
	ASSERT_EQ(4U, rxt_cq_avail(&t));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, rxt_pop(&t, &c[i]));
	EXPECT_CQE(c[0], 10, 0, 0);
	EXPECT_CQE(c[1], 11, 0, 0);
	EXPECT_EQ(ERR64(ECANCELED), c[2].status);
	EXPECT_EQ(ERR64(ECANCELED), c[3].status);
	EXPECT_EQ(20U + 21U, c[2].user_data + c[3].user_data);
	EXPECT_NE(c[2].user_data, c[3].user_data);
	for (i = 0; i < 2; i++) {
		close(q[i][0]);
		close(q[i][1]);
	}
	rxt_destroy(&t);
}

/* Unmapped first, then closed: the ops go away all the same. */
TEST_F(pk, close_unmapped_with_parked_ops)
{
	struct rxu_sqe64 s;
	char buf[4], x;
	int i;

	for (i = 0; i < 4; i++) {
		s = rw_sqe(RXU_OP_READ, self->p[0], buf, 1, i);
		ASSERT_EQ(0, rxt_push(&self->t, &s));
	}
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, 0));
	ASSERT_PARKED(&self->t);
	rxt_unmap(&self->t);
	rxt_close_fd(&self->t);
	ASSERT_EQ(1, write(self->p[1], "y", 1));
	ASSERT_EQ(1, read(self->p[0], &x, 1));
	EXPECT_EQ('y', x);
}

/* A process killed with parked ops: its instance goes, the pipe is intact. */
TEST_F(pk, exit_with_parked_ops)
{
	int sync[2], status;
	pid_t pid;
	char x = 0;

	ASSERT_EQ(0, pipe2(sync, O_CLOEXEC));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct rxt t = RXT_INIT;
		struct rxu_sqe64 s;
		static char buf[8];
		int i;

		if (rxt_setup(&t, 8, 8, 0))
			_exit(2);
		for (i = 0; i < 4; i++) {
			s = rw_sqe(RXU_OP_READ, self->p[0], &buf[i], 1, i);
			if (rxt_push(&t, &s))
				_exit(3);
		}
		if (rxt_enter(&t, 0, 0, 0) != 0 || rxt_sq_avail(&t) != 0)
			_exit(4);
		if (write(sync[1], "R", 1) != 1)
			_exit(5);
		pause();
		_exit(6);
	}
	close(sync[1]);
	ASSERT_EQ(1, read(sync[0], &x, 1));
	EXPECT_EQ('R', x);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(1, write(self->p[1], "k", 1));
	ASSERT_EQ(1, read(self->p[0], &x, 1));
	EXPECT_EQ('k', x);
	close(sync[0]);
}

/* ---- several threads entering one instance ---- */

#define MT_THREADS	4
#define MT_ITERS	300

struct mt {
	struct rxt *t;
	pthread_mutex_t lock;		/* SQ pushes and CQ pops */
	int pipes[MT_THREADS][2];
	char bytes[MT_THREADS][MT_ITERS];
	/* per user_data: completions seen, and the status */
	int done[MT_THREADS][MT_ITERS][2];
	uint64_t status[MT_THREADS][MT_ITERS][2];
	int bad;			/* CQEs with an unknown user_data */
	int stuck;			/* a thread gave up waiting */
};

/* user_data: thread << 24 | iteration << 1 | (1 for the NOP) */
static void mt_pop_all(struct mt *m)
{
	struct rxu_cqe64 c;

	pthread_mutex_lock(&m->lock);
	while (rxt_pop(m->t, &c) == 0) {
		uint64_t th = c.user_data >> 24;
		uint64_t it = (c.user_data & 0xffffff) >> 1;
		uint64_t k = c.user_data & 1;

		if (th >= MT_THREADS || it >= MT_ITERS) {
			m->bad++;
			continue;
		}
		m->status[th][it][k] = c.status;
		__atomic_add_fetch(&m->done[th][it][k], 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&m->lock);
}

struct mt_arg {
	struct mt *m;
	int id;
};

static void *mt_fn(void *arg)
{
	struct mt_arg *a = arg;
	struct mt *m = a->m;
	int id = a->id, i;

	for (i = 0; i < MT_ITERS; i++) {
		uint64_t ud = (uint64_t)id << 24 | (uint64_t)i << 1;
		struct rxu_sqe64 r = rw_sqe(RXU_OP_READ, m->pipes[id][0],
					    &m->bytes[id][i], 1, ud);
		struct rxu_sqe64 n = nop_sqe(ud | 1, 0);
		char b = (char)(i * 7 + id);
		uint64_t t0;
		int err;

		pthread_mutex_lock(&m->lock);
		err = rxt_push(m->t, &r);
		if (!err)
			err = rxt_push(m->t, &n);
		pthread_mutex_unlock(&m->lock);
		if (err) {
			__atomic_store_n(&m->stuck, 1, __ATOMIC_RELAXED);
			return NULL;
		}
		/* half the time the READ parks first, half it finds data */
		if (i & 1)
			rxt_enter(m->t, 0, 0, 0);
		if (write(m->pipes[id][1], &b, 1) != 1) {
			__atomic_store_n(&m->stuck, 1, __ATOMIC_RELAXED);
			return NULL;
		}
		t0 = rxt_now_ns();
		while (!__atomic_load_n(&m->done[id][i][0], __ATOMIC_ACQUIRE) ||
		       !__atomic_load_n(&m->done[id][i][1], __ATOMIC_ACQUIRE)) {
			if (rxt_now_ns() - t0 > 10 * SEC) {
				__atomic_store_n(&m->stuck, 1, __ATOMIC_RELAXED);
				return NULL;
			}
			rxt_enter(m->t, 1, 0, 20 * MSEC);
			mt_pop_all(m);
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(pk, threads_enter_one_instance, 180)
{
	static struct mt m;
	struct mt_arg args[MT_THREADS];
	pthread_t th[MT_THREADS];
	struct rxt t = RXT_INIT;
	int i, j, k, wrong = 0, missing = 0;

	memset(&m, 0, sizeof(m));
	ASSERT_EQ(0, rxt_setup(&t, 64, 64, 0));
	m.t = &t;
	pthread_mutex_init(&m.lock, NULL);
	for (i = 0; i < MT_THREADS; i++)
		ASSERT_EQ(0, pipe2(m.pipes[i], O_CLOEXEC));
	for (i = 0; i < MT_THREADS; i++) {
		args[i].m = &m;
		args[i].id = i;
		ASSERT_EQ(0, pthread_create(&th[i], NULL, mt_fn, &args[i]));
	}
	for (i = 0; i < MT_THREADS; i++)
		pthread_join(th[i], NULL);
	mt_pop_all(&m);

	EXPECT_EQ(0, m.stuck);
	EXPECT_EQ(0, m.bad);
	for (i = 0; i < MT_THREADS; i++) {
		for (j = 0; j < MT_ITERS; j++) {
			for (k = 0; k < 2; k++) {
				if (m.done[i][j][k] != 1)
					missing++;
				else if (m.status[i][j][k] != (k ? 0U : 1U))
					wrong++;
			}
			if (m.done[i][j][0] == 1 &&
			    m.bytes[i][j] != (char)(j * 7 + i))
				wrong++;
		}
	}
	EXPECT_EQ(0, missing);
	EXPECT_EQ(0, wrong);
	EXPECT_EQ(0, rxt_quiet(&t, RXT_QUIET_NS));
	for (i = 0; i < MT_THREADS; i++) {
		close(m.pipes[i][0]);
		close(m.pipes[i][1]);
	}
	rxt_destroy(&t);
}

TEST_HARNESS_MAIN
