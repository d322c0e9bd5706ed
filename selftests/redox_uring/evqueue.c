// SPDX-License-Identifier: GPL-2.0
/*
 * The event: queue (ABI.md section 6): OPEN of "event:" through a ring
 * gives a queue fd; write() of struct rxu_event records registers
 * {id = fd, flags = mask, data} (mask 0 removes); read() returns the
 * records that fired, blocking unless O_NONBLOCK; poll() works, so the
 * queue can itself be watched; READ and WRITE SQEs reach it too.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "rxt_harness.h"

FIXTURE(evq) {
	struct rxt t;
	int q;		/* O_NONBLOCK queue */
	int p[2];	/* a pipe to watch */
};

static int open_queue(struct rxt *t, int flags)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)RXU_SCHEME_EVENT,
				     strlen(RXU_SCHEME_EVENT), (uint64_t)flags,
				     0xe7);
	int64_t fd = rxt_run(t, &s);

	return fd < 0 ? -1 : (int)fd;
}

FIXTURE_SETUP(evq)
{
	self->t.fd = -1;
	self->q = -1;
	self->p[0] = self->p[1] = -1;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_setup(&self->t, 16, 16, 0));
	self->q = open_queue(&self->t, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->q);
	ASSERT_EQ(0, pipe(self->p));
}

FIXTURE_TEARDOWN(evq)
{
	if (self->q >= 0)
		close(self->q);
	if (self->p[0] >= 0)
		close(self->p[0]);
	if (self->p[1] >= 0)
		close(self->p[1]);
	rxt_destroy(&self->t);
}

static ssize_t reg(int q, uint64_t id, uint64_t flags, uint64_t data)
{
	struct rxu_event ev = { .id = id, .flags = flags, .data = data };
	ssize_t n = write(q, &ev, sizeof(ev));

	return n < 0 ? -errno : n;
}

static ssize_t take(int q, struct rxu_event *ev, size_t max)
{
	ssize_t n = read(q, ev, max * sizeof(*ev));

	return n < 0 ? -errno : n;
}

TEST_F(evq, empty_queue_eagain_and_not_readable)
{
	struct rxu_event ev[2];
	struct pollfd pf = { .fd = self->q, .events = POLLIN };

	EXPECT_EQ(-EAGAIN, take(self->q, ev, 2));
	EXPECT_EQ(0, poll(&pf, 1, 0));
}

TEST_F(evq, register_fire_read)
{
	struct rxu_event ev[4];
	struct pollfd pf = { .fd = self->q, .events = POLLIN };

	ASSERT_EQ((ssize_t)sizeof(ev[0]),
		  reg(self->q, self->p[0], RXU_EVENT_READ, 0x1234));
	EXPECT_EQ(-EAGAIN, take(self->q, ev, 4));
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ(1, poll(&pf, 1, 5000));
	EXPECT_EQ(POLLIN, pf.revents & POLLIN);
	ASSERT_EQ((ssize_t)sizeof(ev[0]), take(self->q, ev, 4));
	EXPECT_EQ((uint64_t)self->p[0], ev[0].id);
	EXPECT_EQ((uint64_t)RXU_EVENT_READ, ev[0].flags);
	EXPECT_EQ(0x1234U, ev[0].data);
	/* taken: nothing more until the next change */
	EXPECT_EQ(-EAGAIN, take(self->q, ev, 4));
}

/* Ready when registered: reported at once (level), then edges only. */
TEST_F(evq, level_at_registration)
{
	struct rxu_event ev[2];

	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ((ssize_t)sizeof(ev[0]),
		  reg(self->q, self->p[0], RXU_EVENT_READ, 7));
	ASSERT_EQ((ssize_t)sizeof(ev[0]), take(self->q, ev, 2));
	EXPECT_EQ(7U, ev[0].data);
	EXPECT_EQ(-EAGAIN, take(self->q, ev, 2));
}

/* Several changes before a read give one record. */
TEST_F(evq, changes_coalesce_until_read)
{
	struct rxu_event ev[4];
	int i;

	ASSERT_EQ((ssize_t)sizeof(ev[0]),
		  reg(self->q, self->p[0], RXU_EVENT_READ, 1));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(1, write(self->p[1], "x", 1));
	usleep(50000);	/* the queue's wake-up runs from a work item */
	EXPECT_EQ((ssize_t)sizeof(ev[0]), take(self->q, ev, 4));
	EXPECT_EQ(-EAGAIN, take(self->q, ev, 4));
}

TEST_F(evq, two_fds_two_records)
{
	struct rxu_event ev[4];
	int e = eventfd(0, EFD_CLOEXEC);
	uint64_t one = 1;

	ASSERT_LE(0, e);
	ASSERT_EQ((ssize_t)sizeof(ev[0]),
		  reg(self->q, self->p[0], RXU_EVENT_READ, 1));
	ASSERT_EQ((ssize_t)sizeof(ev[0]), reg(self->q, e, RXU_EVENT_READ, 2));
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ((ssize_t)sizeof(one), write(e, &one, sizeof(one)));
	usleep(50000);
	EXPECT_EQ((ssize_t)(2 * sizeof(ev[0])), take(self->q, ev, 4));
	EXPECT_EQ(3U, ev[0].data + ev[1].data);
	close(e);
}

/* Two records in one write() register both; mask 0 removes. */
TEST_F(evq, batch_write_and_remove)
{
	struct rxu_event regs[2] = {
		{ .id = (uint64_t)self->p[0], .flags = RXU_EVENT_READ, .data = 1 },
		{ .id = (uint64_t)self->p[1], .flags = RXU_EVENT_WRITE, .data = 2 },
	};
	struct rxu_event ev[4];

	ASSERT_EQ((ssize_t)sizeof(regs), write(self->q, regs, sizeof(regs)));
	/* the write end is writable at once */
	ASSERT_EQ((ssize_t)sizeof(ev[0]), take(self->q, ev, 4));
	EXPECT_EQ(2U, ev[0].data);
	EXPECT_EQ((uint64_t)RXU_EVENT_WRITE, ev[0].flags);
	ASSERT_EQ((ssize_t)sizeof(ev[0]), reg(self->q, self->p[0], 0, 0));
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	usleep(50000);
	/* the read end is no longer watched; the write end did not change */
	EXPECT_EQ(-EAGAIN, take(self->q, ev, 4));
}

TEST_F(evq, bad_inputs)
{
	struct rxu_event ev[2];
	char small[10] = { 0 };
	char path[] = "/tmp/rxt-evq-XXXXXX";
	int reg_file = mkstemp(path);

	ASSERT_LE(0, reg_file);
	unlink(path);
	/* not a whole record */
	EXPECT_EQ(-1, write(self->q, small, sizeof(small)));
	EXPECT_EQ(EINVAL, errno);
	/* unknown mask bit */
	EXPECT_EQ(-EINVAL, reg(self->q, self->p[0], 8, 0));
	/* no such fd, and one that cannot be an fd */
	EXPECT_EQ(-EBADF, reg(self->q, 100000, RXU_EVENT_READ, 0));
	EXPECT_EQ(-EBADF, reg(self->q, 1ULL << 40, RXU_EVENT_READ, 0));
	/* IO_URING is for instances only */
	EXPECT_EQ(-EINVAL, reg(self->q, self->p[0], RXU_EVENT_IO_URING, 0));
	/* a regular file cannot be polled */
	EXPECT_EQ(-EPERM, reg(self->q, reg_file, RXU_EVENT_READ, 0));
	/* a queue cannot watch itself */
	EXPECT_EQ(-EINVAL, reg(self->q, self->q, RXU_EVENT_READ, 0));
	/* a read buffer too small for one record */
	EXPECT_EQ(-1, read(self->q, ev, sizeof(ev[0]) - 1));
	EXPECT_EQ(EINVAL, errno);
	close(reg_file);
}

struct later_write {
	int fd;
	unsigned int delay_us;
};

static void *write_later(void *arg)
{
	struct later_write *lw = arg;

	usleep(lw->delay_us);
	if (write(lw->fd, "x", 1) != 1)
		return (void *)1;
	return NULL;
}

/* Without O_NONBLOCK, read() waits for a record. */
TEST_F(evq, blocking_read_waits)
{
	struct later_write lw = { .fd = self->p[1], .delay_us = 200000 };
	struct rxu_event ev[2];
	pthread_t th;
	uint64_t t0;
	int q;

	q = open_queue(&self->t, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, q);
	ASSERT_EQ((ssize_t)sizeof(ev[0]), reg(q, self->p[0], RXU_EVENT_READ, 9));
	t0 = rxt_now_ns();
	ASSERT_EQ(0, pthread_create(&th, NULL, write_later, &lw));
	EXPECT_EQ((ssize_t)sizeof(ev[0]), take(q, ev, 2));
	EXPECT_LE(100000000ULL, rxt_now_ns() - t0);
	EXPECT_EQ(9U, ev[0].data);
	pthread_join(th, NULL);
	close(q);
}

/* READ and WRITE SQEs reach the queue; a READ on an empty one parks. */
TEST_F(evq, read_write_sqes)
{
	struct rxu_event regv = { .id = (uint64_t)self->p[0],
				  .flags = RXU_EVENT_READ, .data = 5 };
	struct rxu_event ev[2];
	struct rxu_sqe64 s;
	struct rxu_cqe64 cqe;
	int q;

	/* a blocking queue, so that only parking keeps ENTER free */
	q = open_queue(&self->t, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, q);
	s = rxt_sqe(RXU_OP_WRITE, (uint64_t)q, (uintptr_t)&regv, sizeof(regv),
		    0, 1);
	EXPECT_EQ((int64_t)sizeof(regv), rxt_run(&self->t, &s));
	s = rxt_sqe(RXU_OP_READ, (uint64_t)q, (uintptr_t)ev, sizeof(ev), 0, 2);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	EXPECT_EQ(-ETIME, rxt_enter(&self->t, 1, 0, 200000000));
	EXPECT_EQ(-EAGAIN, rxt_pop(&self->t, &cqe));
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	EXPECT_EQ(1, rxt_enter(&self->t, 1, 0, 5000000000ULL));
	ASSERT_EQ(0, rxt_pop(&self->t, &cqe));
	EXPECT_EQ(2U, cqe.user_data);
	EXPECT_EQ(sizeof(ev[0]), cqe.status);
	EXPECT_EQ(5U, ev[0].data);
	close(q);
}

/*
 * FILES_UPDATE watches a queue: an event when it gets a record, and a
 * LAST_UPDATE when it is closed (the queue says it goes away).
 */
TEST_F(evq, watched_by_files_update)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 cqe;

	ASSERT_EQ((ssize_t)sizeof(struct rxu_event),
		  reg(self->q, self->p[0], RXU_EVENT_READ, 1));
	s = rxt_sqe(RXU_OP_FILES_UPDATE, (uint64_t)self->q, 0, 0, 0, 0x77);
	s.syscall_flags = RXU_EVENT_READ;
	s.flags = RXU_SQE_SUBSCRIBE;
	ASSERT_EQ(0, rxt_run1(&self->t, &s, &cqe));
	EXPECT_EQ(0x77U, cqe.user_data);
	EXPECT_EQ(0U, cqe.status);
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ(1, rxt_enter(&self->t, 1, 0, 5000000000ULL));
	ASSERT_EQ(0, rxt_pop(&self->t, &cqe));
	EXPECT_EQ(0x77U, cqe.user_data);
	EXPECT_EQ((uint64_t)self->q, cqe.status);
	EXPECT_EQ(RXU_CQE_EVENT | (uint64_t)RXU_EVENT_READ << RXU_CQE_EVENT_SHIFT,
		  cqe.flags);
	close(self->q);
	self->q = -1;
	ASSERT_EQ(1, rxt_enter(&self->t, 1, 0, 5000000000ULL));
	ASSERT_EQ(0, rxt_pop(&self->t, &cqe));
	EXPECT_EQ(0x77U, cqe.user_data);
	EXPECT_EQ((uint64_t)RXU_CQE_LAST_UPDATE, cqe.flags);
}

/* Two queues watching each other: no hang, and both go away cleanly. */
TEST_F(evq, queues_watching_each_other)
{
	struct rxu_event ev[2];
	int q2 = open_queue(&self->t, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, q2);
	ASSERT_EQ((ssize_t)sizeof(ev[0]), reg(self->q, q2, RXU_EVENT_READ, 1));
	ASSERT_EQ((ssize_t)sizeof(ev[0]), reg(q2, self->q, RXU_EVENT_READ, 2));
	ASSERT_EQ((ssize_t)sizeof(ev[0]),
		  reg(self->q, self->p[0], RXU_EVENT_READ, 3));
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	usleep(100000);
	/* q has the pipe's record; q2 saw q become readable */
	EXPECT_LE((ssize_t)sizeof(ev[0]), take(self->q, ev, 2));
	EXPECT_EQ((ssize_t)sizeof(ev[0]), take(q2, ev, 2));
	EXPECT_EQ(2U, ev[0].data);
	close(q2);
}

TEST_HARNESS_MAIN
