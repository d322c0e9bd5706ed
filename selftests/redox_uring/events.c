// SPDX-License-Identifier: GPL-2.0
/*
 * FILES_UPDATE (opcode 14, ABI.md sections 4-5, "issue 3"): fd = file to
 * watch, syscall_flags = RXU_EVENT_READ | WRITE | IO_URING, user_data =
 * the subscription, flags may hold SUBSCRIBE (multi-shot); every other
 * field zero.  Per subscription, all with its user_data:
 *   1. a status CQE, flags 0: 0 or -errno;
 *   2. EVENT CQEs, flags RXU_CQE_EVENT | fired << 8, status = the fd:
 *      at once if ready at registration (level), then one per wake-up
 *      (edge; wake-ups before the consumer's next ENTER may coalesce,
 *      never duplicate);
 *   3. without SUBSCRIBE: one EVENT, then LAST_UPDATE (status 0).  With
 *      it: until a FILES_UPDATE with an empty mask on the same fd, which
 *      ends every subscription of the instance on that fd (a LAST_UPDATE
 *      each), then gets its own status CQE 0 (no LAST_UPDATE of its own).
 * Errors: EBADF, EINVAL (mask bits beyond 0x7, IO_URING on a file that is
 * not an instance, nonzero unused fields), EPERM (no ->poll).  Events
 * that fire while the CQ is full wait, one per subscription, for room.
 * Also: 1,000 pipes, 10,000 subscriptions, a two-thread stress.
 *
 * Built twice: "events" (everything, a shorter stress) and, with
 * RXT_STRESS_ONLY, "events_stress" (the stress alone, 1,000,000 events).
 * RXU_STRESS_EVENTS overrides the count of either.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rxt_harness.h"
#include "rxt_async.h"

#ifdef RXT_STRESS_ONLY
#define STRESS_DEFAULT	1000000ULL
#define STRESS_TIMEOUT	3000
#else
#define STRESS_DEFAULT	20000ULL
#define STRESS_TIMEOUT	300
#endif

/* How long to wait for a CQE that must come. */
#define WAIT_NS (5 * SEC)

#define R RXU_EVENT_READ
#define W RXU_EVENT_WRITE
#define IOU RXU_EVENT_IO_URING
#define LAST RXU_CQE_LAST_UPDATE

#define EXPECT_CQE(c, ud, st, fl)					\
	do {								\
		EXPECT_EQ((uint64_t)(ud), (c).user_data);		\
		EXPECT_EQ((uint64_t)(st), (c).status);			\
		EXPECT_EQ((uint64_t)(fl), (c).flags);			\
	} while (0)

/* The next CQE, which must come. */
#define NEXT(t, c) ASSERT_EQ(0, rxt_wait_cqe((t), &(c), WAIT_NS))

/* Nothing more comes. */
#define QUIET(t) EXPECT_EQ(0, rxt_quiet((t), RXT_QUIET_NS))

FIXTURE(ev) {
	struct rxt t;
	int p[2];	/* pipe, empty */
	int efd;	/* eventfd, 0, non-blocking */
};

FIXTURE_SETUP(ev)
{
	self->t.fd = -1;
	self->p[0] = self->p[1] = -1;
	self->efd = -1;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_setup(&self->t, 64, 128, 0));
	ASSERT_EQ(0, pipe2(self->p, O_CLOEXEC));
	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
}

FIXTURE_TEARDOWN(ev)
{
	if (self->p[0] >= 0)
		close(self->p[0]);
	if (self->p[1] >= 0)
		close(self->p[1]);
	if (self->efd >= 0)
		close(self->efd);
	rxt_destroy(&self->t);
}

static int efd_add(int efd, uint64_t v)
{
	return write(efd, &v, sizeof(v)) == sizeof(v) ? 0 : -errno;
}

/* Push one SQE (an expression); the test then ENTERs through NEXT/QUIET. */
#define push(t, sqe) ({ struct rxu_sqe64 __s = (sqe); rxt_push((t), &__s); })

#ifndef RXT_STRESS_ONLY

/* ---- the CQE sequence of one subscription ---- */

TEST_F(ev, oneshot_status_event_last)
{
	struct rxu_cqe64 c;
	int fd = self->p[0];

	ASSERT_EQ(0, push(&self->t, rxt_fu(fd, R, 0xa1, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xa1, 0, 0);
	QUIET(&self->t);		/* not ready: no event yet */

	ASSERT_EQ(1, write(self->p[1], "x", 1));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xa1, fd, rxt_ev_flags(R));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xa1, 0, LAST);
	QUIET(&self->t);

	/* ended: more data, nothing */
	ASSERT_EQ(1, write(self->p[1], "y", 1));
	QUIET(&self->t);
}

TEST_F(ev, oneshot_level_at_registration)
{
	struct rxu_cqe64 c;
	int fd = self->p[0];

	ASSERT_EQ(2, write(self->p[1], "hi", 2));
	ASSERT_EQ(0, push(&self->t, rxt_fu(fd, R, 0xa2, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xa2, 0, 0);
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xa2, fd, rxt_ev_flags(R));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xa2, 0, LAST);
	QUIET(&self->t);
}

TEST_F(ev, write_ready_at_registration)
{
	struct rxu_cqe64 c;
	int fd = self->p[1];

	ASSERT_EQ(0, push(&self->t, rxt_fu(fd, W, 0xa3, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xa3, 0, 0);
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xa3, fd, rxt_ev_flags(W));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xa3, 0, LAST);
	QUIET(&self->t);
}

/* The fired mask holds what is ready among what was asked, no more. */
TEST_F(ev, fired_mask_is_ready_within_mask)
{
	struct rxu_cqe64 c;
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	/* writable, not readable */
	ASSERT_EQ(0, push(&self->t, rxt_fu(sv[0], R | W, 0xb1, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb1, 0, 0);
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb1, sv[0], rxt_ev_flags(W));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb1, 0, LAST);

	/* readable and writable */
	ASSERT_EQ(1, send(sv[1], "d", 1, 0));
	ASSERT_EQ(0, push(&self->t, rxt_fu(sv[0], R | W, 0xb2, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb2, 0, 0);
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb2, sv[0], rxt_ev_flags(R | W));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb2, 0, LAST);

	/* readable and writable, READ asked: READ only */
	ASSERT_EQ(0, push(&self->t, rxt_fu(sv[0], R, 0xb3, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb3, 0, 0);
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb3, sv[0], rxt_ev_flags(R));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb3, 0, LAST);
	QUIET(&self->t);
	close(sv[0]);
	close(sv[1]);
}

/* READ covers EPOLLHUP: the writer's close fires it. */
TEST_F(ev, hangup_fires_read)
{
	struct rxu_cqe64 c;
	int fd = self->p[0];

	ASSERT_EQ(0, push(&self->t, rxt_fu(fd, R, 0xb4, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb4, 0, 0);
	QUIET(&self->t);
	close(self->p[1]);
	self->p[1] = -1;
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb4, fd, rxt_ev_flags(R));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb4, 0, LAST);
}

/*
 * READ covers EPOLLERR: a pipe's write end is never readable, but once
 * its reader is gone it reports EPOLLERR.
 */
TEST_F(ev, error_fires_read)
{
	struct rxu_cqe64 c;
	int fd = self->p[1];

	ASSERT_EQ(0, push(&self->t, rxt_fu(fd, R, 0xb5, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb5, 0, 0);
	QUIET(&self->t);
	close(self->p[0]);
	self->p[0] = -1;
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb5, fd, rxt_ev_flags(R));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xb5, 0, LAST);
}

/* SUBSCRIBE: one event per edge, until the empty mask. */
TEST_F(ev, subscribe_one_event_per_edge)
{
	struct rxu_cqe64 c;
	uint64_t v;
	int i;

	ASSERT_EQ(0, push(&self->t, rxt_fu(self->efd, R, 0xc1, 1)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xc1, 0, 0);
	QUIET(&self->t);

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, efd_add(self->efd, 1));
		NEXT(&self->t, c);
		EXPECT_CQE(c, 0xc1, self->efd, rxt_ev_flags(R));
		QUIET(&self->t);
		/* consuming the counter is no READ edge */
		ASSERT_EQ(8, read(self->efd, &v, 8));
		EXPECT_EQ(1U, v);
		QUIET(&self->t);
	}

	/* a second edge while still readable is an edge too */
	ASSERT_EQ(0, efd_add(self->efd, 1));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xc1, self->efd, rxt_ev_flags(R));
	ASSERT_EQ(0, efd_add(self->efd, 1));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xc1, self->efd, rxt_ev_flags(R));
	QUIET(&self->t);

	ASSERT_EQ(0, push(&self->t, rxt_fu(self->efd, 0, 0xc2, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xc1, 0, LAST);
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xc2, 0, 0);
	QUIET(&self->t);
	ASSERT_EQ(0, efd_add(self->efd, 1));
	QUIET(&self->t);
}

TEST_F(ev, subscribe_level_then_edges)
{
	struct rxu_cqe64 c;
	int fd = self->p[0];

	ASSERT_EQ(1, write(self->p[1], "a", 1));
	ASSERT_EQ(0, push(&self->t, rxt_fu(fd, R, 0xc3, 1)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xc3, 0, 0);
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xc3, fd, rxt_ev_flags(R));
	QUIET(&self->t);	/* level is reported once, not again */
	ASSERT_EQ(1, write(self->p[1], "b", 1));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xc3, fd, rxt_ev_flags(R));
	QUIET(&self->t);
}

/* Wake-ups before the next ENTER: at least one event, at most one each. */
TEST_F(ev, wakeups_coalesce_never_duplicate)
{
	struct rxu_cqe64 c[8];
	size_t n, i;

	ASSERT_EQ(0, push(&self->t, rxt_fu(self->efd, R, 0xc4, 1)));
	NEXT(&self->t, c[0]);
	EXPECT_CQE(c[0], 0xc4, 0, 0);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, efd_add(self->efd, 1));
	n = rxt_collect(&self->t, c, 8, 8, RXT_QUIET_NS);
	EXPECT_LE(1U, n);
	EXPECT_GE(5U, n);
	for (i = 0; i < n; i++)
		EXPECT_CQE(c[i], 0xc4, self->efd, rxt_ev_flags(R));
}

/* ---- the empty mask ---- */

TEST_F(ev, empty_mask_ends_every_subscription_on_fd)
{
	struct rxu_cqe64 c[8];
	int q[2], fd = self->p[0], lastA = 0, lastB = 0;
	size_t n, i;

	ASSERT_EQ(0, pipe2(q, O_CLOEXEC));
	ASSERT_EQ(0, push(&self->t, rxt_fu(fd, R, 0xd1, 1)));	/* A */
	ASSERT_EQ(0, push(&self->t, rxt_fu(fd, R, 0xd2, 0)));	/* B, one-shot */
	ASSERT_EQ(0, push(&self->t, rxt_fu(q[0], R, 0xd3, 1))); /* C, other fd */
	ASSERT_EQ(3U, rxt_collect(&self->t, c, 8, 3, WAIT_NS));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0xd1U + i, c[i].user_data);
		EXPECT_EQ(0U, c[i].status);
		EXPECT_EQ(0U, c[i].flags);
	}
	QUIET(&self->t);

	ASSERT_EQ(0, push(&self->t, rxt_fu(fd, 0, 0xd4, 0)));
	n = rxt_collect(&self->t, c, 8, 3, WAIT_NS);
	ASSERT_EQ(3U, n);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0U, c[i].status);
		EXPECT_EQ((uint64_t)LAST, c[i].flags);
		lastA += c[i].user_data == 0xd1;
		lastB += c[i].user_data == 0xd2;
	}
	EXPECT_EQ(1, lastA);
	EXPECT_EQ(1, lastB);
	/* the empty-mask request's own status, after the LAST_UPDATEs */
	EXPECT_CQE(c[2], 0xd4, 0, 0);
	QUIET(&self->t);

	/* A and B gone; C still there */
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ(1, write(q[1], "y", 1));
	NEXT(&self->t, c[0]);
	EXPECT_CQE(c[0], 0xd3, q[0], rxt_ev_flags(R));
	QUIET(&self->t);
	close(q[0]);
	close(q[1]);
}

TEST_F(ev, empty_mask_without_subscription)
{
	struct rxu_cqe64 c;

	ASSERT_EQ(0, push(&self->t, rxt_fu(self->p[0], 0, 0xd5, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xd5, 0, 0);
	QUIET(&self->t);
}

/* A one-shot that already fired has ended: no second LAST_UPDATE. */
TEST_F(ev, empty_mask_after_oneshot_ended)
{
	struct rxu_cqe64 c;

	ASSERT_EQ(0, efd_add(self->efd, 1));
	ASSERT_EQ(0, push(&self->t, rxt_fu(self->efd, R, 0xd6, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xd6, 0, 0);
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xd6, self->efd, rxt_ev_flags(R));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xd6, 0, LAST);
	ASSERT_EQ(0, push(&self->t, rxt_fu(self->efd, 0, 0xd7, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xd7, 0, 0);
	QUIET(&self->t);
}

/* The empty mask ends this instance's subscriptions, not another's. */
TEST_F(ev, empty_mask_leaves_other_instance)
{
	struct rxt u = RXT_INIT;
	struct rxu_cqe64 c;
	int fd = self->p[0];

	ASSERT_EQ(0, rxt_setup(&u, 8, 8, 0));
	ASSERT_EQ(0, push(&u, rxt_fu(fd, R, 0xe1, 1)));
	NEXT(&u, c);
	EXPECT_CQE(c, 0xe1, 0, 0);
	ASSERT_EQ(0, push(&self->t, rxt_fu(fd, R, 0xe2, 1)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xe2, 0, 0);

	ASSERT_EQ(0, push(&self->t, rxt_fu(fd, 0, 0xe3, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xe2, 0, LAST);
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xe3, 0, 0);
	EXPECT_EQ(0, rxt_quiet(&u, RXT_QUIET_NS));

	ASSERT_EQ(1, write(self->p[1], "x", 1));
	NEXT(&u, c);
	EXPECT_CQE(c, 0xe1, fd, rxt_ev_flags(R));
	QUIET(&self->t);
	rxt_destroy(&u);
}

/* ---- bad input: one status CQE with the error, nothing else ---- */

/* Run sqe, expect exactly one CQE (user_data, -err, flags 0). */
static void expect_error_p(struct __test_metadata *_metadata, struct rxt *t,
			   const struct rxu_sqe64 *sp, int err)
{
	struct rxu_sqe64 s = *sp;
	struct rxu_cqe64 c;

	ASSERT_EQ(0, rxt_push(t, &s));
	NEXT(t, c);
	EXPECT_EQ(s.user_data, c.user_data);
	EXPECT_EQ(ERR64(err), c.status);
	EXPECT_EQ(0U, c.flags);
	if (c.status != ERR64(err))
		TH_LOG("fd %llu mask 0x%x flags 0x%x: status %lld, want %d",
		       (unsigned long long)s.fd, s.syscall_flags, s.flags,
		       (long long)c.status, -err);
	QUIET(t);
}

#define expect_error(m, t, sqe, err)					\
	({ struct rxu_sqe64 __e = (sqe); expect_error_p((m), (t), &__e, (err)); })

TEST_F(ev, bad_fd_ebadf)
{
	int closed = rxt_lowest_free_fd();
	struct rxu_sqe64 s;

	ASSERT_LE(0, closed);
	expect_error(_metadata, &self->t, rxt_fu(closed, R, 0xf1, 0), EBADF);
	expect_error(_metadata, &self->t, rxt_fu(closed, R, 0xf2, 1), EBADF);
	s = rxt_fu(self->p[0], R, 0xf4, 1);
	s.fd = UINT64_MAX;
	expect_error(_metadata, &self->t, s, EBADF);
	/* the upper half must not be dropped: not an alias of p[0] */
	s.fd = (1ULL << 32) | (uint64_t)self->p[0];
	expect_error(_metadata, &self->t, s, EBADF);
	s.fd = (uint64_t)INT32_MAX + 1;
	expect_error(_metadata, &self->t, s, EBADF);
	/* nothing was registered on p[0] */
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	QUIET(&self->t);
}

/* The empty mask on an fd neither open nor subscribed: EBADF. */
TEST_F(ev, empty_mask_bad_fd_ebadf)
{
	int closed = rxt_lowest_free_fd();
	struct rxu_sqe64 s;

	ASSERT_LE(0, closed);
	expect_error(_metadata, &self->t, rxt_fu(closed, 0, 0xf3, 0), EBADF);
	s = rxt_fu(0, 0, 0xf5, 0);
	s.fd = UINT64_MAX;
	expect_error(_metadata, &self->t, s, EBADF);
}

/*
 * A subscription whose fd was closed since: the empty mask on that number
 * still ends it (status 0); once nothing is left, the number is EBADF.
 */
TEST_F(ev, empty_mask_ends_subscription_of_closed_fd)
{
	struct rxu_cqe64 c;
	int d = dup(self->p[0]);

	ASSERT_LE(0, d);
	ASSERT_EQ(0, push(&self->t, rxt_fu(d, R, 0xf6, 1)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xf6, 0, 0);
	ASSERT_EQ(0, close(d));
	ASSERT_EQ(0, push(&self->t, rxt_fu(d, 0, 0xf7, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xf6, 0, LAST);
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0xf7, 0, 0);
	QUIET(&self->t);
	expect_error(_metadata, &self->t, rxt_fu(d, 0, 0xf8, 0), EBADF);
}

TEST_F(ev, mask_beyond_0x7_einval)
{
	static const uint32_t masks[] = {
		0x8, 0x9, 0xf, 0x10, 0x100, 0x80000000u, 0xffffffffu,
	};
	size_t i;

	for (i = 0; i < sizeof(masks) / sizeof(masks[0]); i++) {
		expect_error(_metadata, &self->t,
			     rxt_fu(self->p[0], masks[i], 0xf10 + i, i & 1),
			     EINVAL);
	}
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	QUIET(&self->t);
}

TEST_F(ev, io_uring_on_non_instance_einval)
{
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	expect_error(_metadata, &self->t, rxt_fu(self->p[0], IOU, 0xf21, 0),
		     EINVAL);
	expect_error(_metadata, &self->t, rxt_fu(self->p[0], R | IOU, 0xf22, 1),
		     EINVAL);
	expect_error(_metadata, &self->t, rxt_fu(self->efd, IOU, 0xf23, 1),
		     EINVAL);
	expect_error(_metadata, &self->t, rxt_fu(sv[0], W | IOU, 0xf24, 0),
		     EINVAL);
	/* none of them was registered */
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ(0, efd_add(self->efd, 1));
	QUIET(&self->t);
	close(sv[0]);
	close(sv[1]);
}

/* No ->poll (regular files, /dev/null): EPERM, as epoll_ctl. */
TEST_F(ev, file_without_poll_eperm)
{
	char dir[128], path[256];
	int f, null;

	ASSERT_EQ(0, rxt_tmpdir(dir, sizeof(dir)));
	snprintf(path, sizeof(path), "%s/f", dir);
	ASSERT_EQ(0, rxt_write_file(path, "data", 4));
	f = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, f);
	expect_error(_metadata, &self->t, rxt_fu(f, R, 0xf31, 0), EPERM);
	expect_error(_metadata, &self->t, rxt_fu(f, R | W, 0xf32, 1), EPERM);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);
	expect_error(_metadata, &self->t, rxt_fu(null, W, 0xf33, 1), EPERM);
	close(null);
	close(f);
	rxt_rmtree(dir);
}

TEST_F(ev, unused_fields_nonzero_einval)
{
	struct rxu_sqe64 s;
	int i;

	for (i = 0; i < 5; i++) {
		s = rxt_fu(self->p[0], R, 0xf40 + i, i & 1);
		switch (i) {
		case 0: s.len = 1; break;
		case 1: s.addr = 0x1000; break;
		case 2: s.offset = 1; break;
		case 3: s.additional1 = 1; break;
		case 4: s.additional2 = 1ULL << 63; break;
		}
		expect_error(_metadata, &self->t, s, EINVAL);
	}
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	QUIET(&self->t);
}

TEST_F(ev, unknown_sqe_flags_einval)
{
	struct rxu_sqe64 s;

	s = rxt_fu(self->p[0], R, 0xf51, 0);
	s.flags = 0x8;
	expect_error(_metadata, &self->t, s, EINVAL);
	s = rxt_fu(self->p[0], R, 0xf52, 1);
	s.flags |= 0x80;
	expect_error(_metadata, &self->t, s, EINVAL);
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	QUIET(&self->t);
}

/* SUBSCRIBE elsewhere: EINVAL, and the op does nothing. */
TEST_F(ev, subscribe_on_other_opcode_einval)
{
	struct rxu_sqe64 s;
	char buf[4], x;

	s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 0xf61);
	s.flags = RXU_SQE_SUBSCRIBE;
	expect_error(_metadata, &self->t, s, EINVAL);
	ASSERT_EQ(1, write(self->p[1], "d", 1));
	s = rxt_sqe(RXU_OP_READ, (uint64_t)self->p[0], (uintptr_t)buf, 1, 0,
		    0xf62);
	s.flags = RXU_SQE_SUBSCRIBE;
	expect_error(_metadata, &self->t, s, EINVAL);
	ASSERT_EQ(1, read(self->p[0], &x, 1));	/* the byte is still there */
	EXPECT_EQ('d', x);
	s = rxt_sqe(RXU_OP_WRITE, (uint64_t)self->p[1], (uintptr_t)"w", 1, 0,
		    0xf63);
	s.flags = RXU_SQE_SUBSCRIBE | RXU_SQE_CHAIN;
	expect_error(_metadata, &self->t, s, EINVAL);
	ASSERT_EQ(0, rxt_nonblock(self->p[0], 1));
	EXPECT_EQ(-1, read(self->p[0], &x, 1));	/* nothing was written */
	EXPECT_EQ(EAGAIN, errno);
}

/* ---- IO_URING on an instance fd ---- */

TEST_F(ev, io_uring_fires_on_new_cqes)
{
	struct rxt b = RXT_INIT;
	struct rxu_sqe64 nop = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 7);
	struct rxu_cqe64 c;
	int i;

	ASSERT_EQ(0, rxt_setup(&b, 8, 8, 0));
	ASSERT_EQ(0, push(&self->t, rxt_fu(b.fd, IOU, 0x101, 1)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0x101, 0, 0);
	QUIET(&self->t);	/* b's CQ is empty */

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, rxt_push(&b, &nop));
		ASSERT_EQ(1, rxt_enter(&b, 1, 0, WAIT_NS));
		NEXT(&self->t, c);
		EXPECT_CQE(c, 0x101, b.fd, rxt_ev_flags(IOU));
		QUIET(&self->t);
		ASSERT_EQ(0, rxt_pop(&b, &c));
		EXPECT_EQ(7U, c.user_data);
	}
	/* an ENTER on b that completes nothing: no event */
	EXPECT_EQ(0, rxt_enter(&b, 0, 0, 0));
	QUIET(&self->t);

	ASSERT_EQ(0, push(&self->t, rxt_fu(b.fd, 0, 0x102, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0x101, 0, LAST);
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0x102, 0, 0);
	ASSERT_EQ(0, rxt_push(&b, &nop));
	ASSERT_EQ(1, rxt_enter(&b, 1, 0, WAIT_NS));
	QUIET(&self->t);
	rxt_destroy(&b);
}

/* The watched instance going away ends the subscription. */
TEST_F(ev, io_uring_watched_instance_closed)
{
	struct rxt b = RXT_INIT;
	struct rxu_cqe64 c;

	ASSERT_EQ(0, rxt_setup(&b, 8, 8, 0));
	ASSERT_EQ(0, push(&self->t, rxt_fu(b.fd, IOU, 0x111, 1)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0x111, 0, 0);
	QUIET(&self->t);
	rxt_destroy(&b);
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0x111, 0, LAST);
	QUIET(&self->t);
}

/*
 * Two instances watching each other: whatever events they trade, ENTER
 * returns, nothing hangs, and both close without leaking (run_tests.sh
 * checks rmmod and the kernel log).  The events seen are logged: their
 * number is not specified.
 */
TEST_F(ev, instances_watching_each_other)
{
	struct rxt b = RXT_INIT;
	struct rxu_sqe64 nop = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 9);
	struct rxu_cqe64 c;
	int i, ea = 0, eb = 0;

	ASSERT_EQ(0, rxt_setup(&b, 8, 8, 0));
	ASSERT_EQ(0, push(&self->t, rxt_fu(b.fd, IOU, 0x121, 1)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0x121, 0, 0);
	ASSERT_EQ(0, push(&b, rxt_fu(self->t.fd, IOU, 0x122, 1)));
	NEXT(&b, c);
	EXPECT_CQE(c, 0x122, 0, 0);
	ASSERT_EQ(0, rxt_push(&b, &nop));
	for (i = 0; i < 20; i++) {
		EXPECT_LE(0, rxt_enter(&b, 0, 0, 0));
		EXPECT_LE(0, rxt_enter(&self->t, 0, 0, 0));
		while (rxt_pop(&self->t, &c) == 0)
			ea += c.user_data == 0x121 && (c.flags & RXU_CQE_EVENT);
		while (rxt_pop(&b, &c) == 0)
			eb += c.user_data == 0x122 && (c.flags & RXU_CQE_EVENT);
	}
	TH_LOG("one NOP on b, 20 ENTER rounds: a saw %d events, b saw %d",
	       ea, eb);
	EXPECT_LE(1, ea);
	rxt_destroy(&b);
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0x121, 0, LAST);
}

/*
 * An instance cannot watch itself: every EVENT CQE it posted would be a
 * new push to report, one more on every ENTER.
 */
TEST_F(ev, instance_watching_itself_einval)
{
	struct rxu_cqe64 c;

	ASSERT_EQ(0, push(&self->t, rxt_fu(self->t.fd, IOU, 0x131, 1)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0x131, ERR64(EINVAL), 0);
	ASSERT_EQ(0, push(&self->t, rxt_fu(self->t.fd, RXU_EVENT_READ, 0x132, 0)));
	NEXT(&self->t, c);
	EXPECT_CQE(c, 0x132, ERR64(EINVAL), 0);
	QUIET(&self->t);
}

/* ---- a 32-bit instance ---- */

TEST_F(ev, bits32_event)
{
	struct rxt t = RXT_INIT;
	struct rxu_cqe32 raw;
	struct rxu_cqe64 c;

	ASSERT_EQ(0, rxt_setup(&t, 8, 8, RXU_CREATE_BITS_32));
	ASSERT_EQ(0, push(&t, rxt_fu(self->p[0], R, 0x32, 1)));
	NEXT(&t, c);
	EXPECT_CQE(c, 0x32, 0, 0);
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ(1, rxt_enter(&t, 1, 0, WAIT_NS));
	ASSERT_EQ(0, rxt_pop_raw(&t, &raw));
	EXPECT_EQ(0x32U, raw.user_data);
	EXPECT_EQ((uint32_t)self->p[0], raw.status);
	EXPECT_EQ((uint32_t)rxt_ev_flags(R), raw.flags);
	ASSERT_EQ(0, push(&t, rxt_fu(self->p[0], 0, 0x33, 0)));
	NEXT(&t, c);
	EXPECT_CQE(c, 0x32, 0, LAST);
	NEXT(&t, c);
	EXPECT_CQE(c, 0x33, 0, 0);
	rxt_destroy(&t);
}

/* ---- closing the instance ends its subscriptions ---- */

TEST_F(ev, close_ends_subscriptions)
{
	struct rxu_cqe64 c[8];
	int seen[3] = { 0 };
	size_t n, i;

	ASSERT_EQ(0, push(&self->t, rxt_fu(self->p[0], R, 0x201, 1)));
	ASSERT_EQ(0, push(&self->t, rxt_fu(self->efd, R, 0x202, 0)));
	ASSERT_EQ(0, push(&self->t, rxt_fu(self->p[1], R, 0x203, 1)));
	ASSERT_EQ(3U, rxt_collect(&self->t, c, 8, 3, WAIT_NS));
	for (i = 0; i < 3; i++)
		EXPECT_CQE(c[i], 0x201 + i, 0, 0);
	QUIET(&self->t);

	rxt_close_fd(&self->t);
	n = 0;
	while (n < 8 && rxt_pop(&self->t, &c[n]) == 0)
		n++;
	ASSERT_EQ(3U, n);
	for (i = 0; i < n; i++) {
		ASSERT_LE(0x201U, c[i].user_data);
		ASSERT_GE(0x203U, c[i].user_data);
		EXPECT_EQ(0U, c[i].status);
		EXPECT_EQ((uint64_t)LAST, c[i].flags);
		seen[c[i].user_data - 0x201]++;
	}
	for (i = 0; i < 3; i++)
		EXPECT_EQ(1, seen[i]);
	/* the files still work; nothing is posted anywhere */
	ASSERT_EQ(1, write(self->p[1], "x", 1));
	ASSERT_EQ(0, efd_add(self->efd, 1));
	EXPECT_EQ(0U, rxt_cq_avail(&self->t));
}

/* ---- a CQ that is full when events fire ---- */

/* The event that did not fit waits, one per subscription, for room. */
TEST_F(ev, cq_full_event_waits_coalesced)
{
	struct rxt t = RXT_INIT;
	struct rxu_cqe64 c[8];
	int ea, eb, i, na = 0, nb = 0;
	size_t n;

	ea = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	eb = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, ea);
	ASSERT_LE(0, eb);
	ASSERT_EQ(0, rxt_setup(&t, 4, 4, 0));
	ASSERT_EQ(0, push(&t, rxt_fu(ea, R, 0xa, 1)));
	ASSERT_EQ(0, push(&t, rxt_fu(eb, R, 0xb, 1)));
	ASSERT_EQ(2U, rxt_collect(&t, c, 8, 2, WAIT_NS));
	EXPECT_CQE(c[0], 0xa, 0, 0);
	EXPECT_CQE(c[1], 0xb, 0, 0);

	/* fill the CQ with four events of a, one edge per ENTER */
	for (i = 1; i <= 4; i++) {
		ASSERT_EQ(0, efd_add(ea, 1));
		ASSERT_EQ(i, rxt_enter(&t, i, 0, WAIT_NS));
	}
	/* full: three edges of a, two of b, all while full */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, efd_add(ea, 1));
		EXPECT_EQ(4, rxt_enter(&t, 0, 0, 0));
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, efd_add(eb, 1));
		EXPECT_EQ(4, rxt_enter(&t, 0, 0, 0));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, rxt_pop(&t, &c[0]));
		EXPECT_CQE(c[0], 0xa, ea, rxt_ev_flags(R));
	}
	/* room again: exactly one kept event for each */
	n = rxt_collect(&t, c, 8, 2, WAIT_NS);
	ASSERT_EQ(2U, n);
	EXPECT_EQ(0, rxt_quiet(&t, RXT_QUIET_NS));
	for (i = 0; i < (int)n; i++) {
		EXPECT_EQ(rxt_ev_flags(R), c[i].flags);
		if (c[i].user_data == 0xa) {
			na++;
			EXPECT_EQ((uint64_t)ea, c[i].status);
		} else if (c[i].user_data == 0xb) {
			nb++;
			EXPECT_EQ((uint64_t)eb, c[i].status);
		}
	}
	EXPECT_EQ(1, na);
	EXPECT_EQ(1, nb);

	/* and the subscriptions go on */
	ASSERT_EQ(0, efd_add(eb, 1));
	NEXT(&t, c[0]);
	EXPECT_CQE(c[0], 0xb, eb, rxt_ev_flags(R));
	EXPECT_EQ(0, rxt_quiet(&t, RXT_QUIET_NS));
	rxt_destroy(&t);
	close(ea);
	close(eb);
}

/*
 * Events only use CQ room that parked ops have not reserved: with a CQ of
 * 4 and two parked READs, two events fit, the third waits, and the READs
 * still complete.
 */
TEST_F(ev, events_leave_room_for_parked_ops)
{
	struct rxt t = RXT_INIT;
	struct rxu_sqe64 s;
	struct rxu_cqe64 c[8];
	int q[2][2], i, evs = 0, reads = 0;
	char buf[2];

	ASSERT_EQ(0, rxt_setup(&t, 8, 4, 0));
	ASSERT_EQ(0, push(&t, rxt_fu(self->efd, R, 0xe, 1)));
	NEXT(&t, c[0]);
	EXPECT_CQE(c[0], 0xe, 0, 0);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pipe2(q[i], O_CLOEXEC));
		s = rxt_sqe(RXU_OP_READ, (uint64_t)q[i][0], (uintptr_t)&buf[i],
			    1, 0, 0x70 + i);
		ASSERT_EQ(0, rxt_push(&t, &s));
	}
	EXPECT_EQ(0, rxt_enter(&t, 0, 0, 0));
	EXPECT_EQ(0U, rxt_sq_avail(&t));

	ASSERT_EQ(0, efd_add(self->efd, 1));
	EXPECT_EQ(1, rxt_enter(&t, 1, 0, WAIT_NS));
	ASSERT_EQ(0, efd_add(self->efd, 1));
	EXPECT_EQ(2, rxt_enter(&t, 2, 0, WAIT_NS));
	/* the third has no unreserved room: it waits */
	ASSERT_EQ(0, efd_add(self->efd, 1));
	EXPECT_EQ(-ETIME, rxt_enter(&t, 3, 0, RXT_QUIET_NS));
	EXPECT_EQ(2U, rxt_cq_avail(&t));

	/* the parked READs complete into their reserved slots */
	for (i = 0; i < 2; i++)
		ASSERT_EQ(1, write(q[i][1], "r", 1));
	EXPECT_EQ(4, rxt_enter(&t, 4, 0, WAIT_NS));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, rxt_pop(&t, &c[i]));
		if (c[i].user_data == 0xe) {
			evs++;
			EXPECT_EQ(rxt_ev_flags(R), c[i].flags);
		} else {
			reads++;
			EXPECT_EQ(1U, c[i].status);
			EXPECT_EQ(0U, c[i].flags);
		}
	}
	EXPECT_EQ(2, evs);
	EXPECT_EQ(2, reads);
	/* room again: the waiting event */
	NEXT(&t, c[0]);
	EXPECT_CQE(c[0], 0xe, self->efd, rxt_ev_flags(R));
	EXPECT_EQ(0, rxt_quiet(&t, RXT_QUIET_NS));
	for (i = 0; i < 2; i++) {
		close(q[i][0]);
		close(q[i][1]);
	}
	rxt_destroy(&t);
}

/* Close with a full CQ: what it holds stays, nothing is overwritten. */
TEST_F(ev, close_with_full_cq_overwrites_nothing)
{
	struct rxt t = RXT_INIT;
	struct rxu_cqe64 c;
	int i;

	ASSERT_EQ(0, rxt_setup(&t, 4, 4, 0));
	ASSERT_EQ(0, push(&t, rxt_fu(self->efd, R, 0xf, 1)));
	NEXT(&t, c);
	EXPECT_CQE(c, 0xf, 0, 0);
	for (i = 1; i <= 4; i++) {
		ASSERT_EQ(0, efd_add(self->efd, 1));
		ASSERT_EQ(i, rxt_enter(&t, i, 0, WAIT_NS));
	}
	ASSERT_EQ(0, efd_add(self->efd, 1));	/* waits: no room */
	EXPECT_EQ(4, rxt_enter(&t, 0, 0, 0));
	rxt_close_fd(&t);
	EXPECT_EQ(4U, rxt_cq_avail(&t));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, rxt_pop(&t, &c));
		EXPECT_CQE(c, 0xf, self->efd, rxt_ev_flags(R));
	}
	EXPECT_EQ(-EAGAIN, rxt_pop(&t, &c));
	rxt_destroy(&t);
}

/*
 * 32 subscriptions, CQ of 8.  Round 1: every eventfd fires once, 8
 * events fit and 24 wait.  Round 2: every one fires again while the CQ
 * is still full: the 8 posted ones get one event waiting, the 24 waiting
 * ones stay one each.  Then 40 events in all: none lost, none doubled.
 */
TEST_F(ev, cq_full_many_subscriptions)
{
	enum { N = 32, CQ = 8 };
	struct rxt t = RXT_INIT;
	struct rxu_sqe64 s[N];
	struct rxu_cqe64 c[2 * N + 8];
	int efd[N], first[N] = { 0 }, got[N] = { 0 }, i;
	size_t n, k, pushed;

	for (i = 0; i < N; i++) {
		efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, efd[i]);
		s[i] = rxt_fu(efd[i], R, 0x1000 + i, 1);
	}
	ASSERT_EQ(0, rxt_setup(&t, 8, CQ, 0));
	n = rxt_submit_collect(&t, s, N, c, N, N, WAIT_NS, &pushed);
	ASSERT_EQ((size_t)N, pushed);
	ASSERT_EQ((size_t)N, n);
	for (k = 0; k < n; k++) {
		EXPECT_EQ(0U, c[k].status);
		EXPECT_EQ(0U, c[k].flags);
	}
	EXPECT_EQ(0, rxt_quiet(&t, RXT_QUIET_NS));

	for (i = 0; i < N; i++)
		ASSERT_EQ(0, efd_add(efd[i], 1));
	EXPECT_EQ(CQ, rxt_enter(&t, CQ, 0, WAIT_NS));
	/* which 8 made it, without popping */
	for (k = 0; k < CQ; k++) {
		const struct rxu_cqe64 *e = rxt_cq_slot(&t,
			rxt_hdr_get(rxt_cqh(&t), RXT_HDR_HEAD) + k);

		ASSERT_LE(0x1000U, e->user_data);
		ASSERT_GT(0x1000U + N, e->user_data);
		first[e->user_data - 0x1000]++;
	}
	for (i = 0; i < N; i++)
		ASSERT_EQ(0, efd_add(efd[i], 1));
	EXPECT_EQ(CQ, rxt_enter(&t, 0, 0, 0));

	n = rxt_collect(&t, c, 2 * N + 8, N + CQ, WAIT_NS);
	EXPECT_EQ((size_t)(N + CQ), n);
	n += rxt_collect(&t, c + n, 2 * N + 8 - n, 2 * N + 8 - n,
			 RXT_QUIET_NS);
	EXPECT_EQ((size_t)(N + CQ), n);
	for (k = 0; k < n; k++) {
		i = (int)(c[k].user_data - 0x1000);
		ASSERT_LE(0, i);
		ASSERT_GT(N, i);
		EXPECT_EQ((uint64_t)efd[i], c[k].status);
		EXPECT_EQ(rxt_ev_flags(R), c[k].flags);
		got[i]++;
	}
	for (i = 0; i < N; i++) {
		EXPECT_LE(first[i], 1);
		EXPECT_EQ(1 + first[i], got[i]);
		close(efd[i]);
	}
	rxt_destroy(&t);
}

/* ---- scale ---- */

/* 1,000 pipes at once: each fires exactly one event per write. */
TEST_F_TIMEOUT(ev, thousand_pipes, 240)
{
	enum { N = 1000 };
	static int pp[N][2];
	static struct rxu_sqe64 s[N];
	static struct rxu_cqe64 c[N + 16];
	struct rxt t = RXT_INIT;
	int got[N], round, i, bad = 0;
	size_t n, k, pushed;
	char x;

	ASSERT_EQ(0, rxt_nofile(2 * N + 64));
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, pipe2(pp[i], O_CLOEXEC));
		s[i] = rxt_fu(pp[i][0], R, i, 1);
	}
	ASSERT_EQ(0, rxt_setup(&t, 256, 4096, 0));
	n = rxt_submit_collect(&t, s, N, c, N + 16, N, WAIT_NS, &pushed);
	ASSERT_EQ((size_t)N, pushed);
	ASSERT_EQ((size_t)N, n);
	memset(got, 0, sizeof(got));
	for (k = 0; k < n; k++) {
		if (c[k].user_data >= N || c[k].status || c[k].flags)
			bad++;
		else
			got[c[k].user_data]++;
	}
	EXPECT_EQ(0, bad);
	for (i = 0; i < N; i++)
		EXPECT_EQ(1, got[i]);
	EXPECT_EQ(0, rxt_quiet(&t, RXT_QUIET_NS));

	for (round = 0; round < 2; round++) {
		for (i = 0; i < N; i++)
			ASSERT_EQ(1, write(pp[i][1], "e", 1));
		n = rxt_collect(&t, c, N + 16, N, WAIT_NS);
		EXPECT_EQ((size_t)N, n);
		memset(got, 0, sizeof(got));
		for (k = 0; k < n; k++) {
			if (c[k].user_data >= N ||
			    c[k].status != (uint64_t)pp[c[k].user_data][0] ||
			    c[k].flags != rxt_ev_flags(R))
				bad++;
			else
				got[c[k].user_data]++;
		}
		EXPECT_EQ(0, bad);
		for (i = 0; i < N; i++)
			if (got[i] != 1)
				bad++;
		EXPECT_EQ(0, bad);
		/* empty them again (a read is no READ edge) */
		for (i = 0; i < N; i++)
			ASSERT_EQ(1, read(pp[i][0], &x, 1));
		EXPECT_EQ(0, rxt_quiet(&t, RXT_QUIET_NS));
	}

	/* close: 1,000 LAST_UPDATEs in the still-mapped CQ */
	rxt_close_fd(&t);
	memset(got, 0, sizeof(got));
	n = 0;
	while (rxt_pop(&t, &c[0]) == 0) {
		n++;
		if (c[0].user_data >= N || c[0].status ||
		    c[0].flags != LAST)
			bad++;
		else
			got[c[0].user_data]++;
	}
	EXPECT_EQ((size_t)N, n);
	EXPECT_EQ(0, bad);
	for (i = 0; i < N; i++) {
		EXPECT_EQ(1, got[i]);
		close(pp[i][0]);
		close(pp[i][1]);
	}
	rxt_destroy(&t);
}

/*
 * 10,000 subscriptions on one instance, 1,000 on each of ten eventfds:
 * registration, one event round, then the empty mask on each eventfd
 * ends its 1,000 (LAST_UPDATEs before the request's own status).
 */
TEST_F_TIMEOUT(ev, ten_thousand_subscriptions, 300)
{
	enum { NFD = 10, PER = 1000, N = NFD * PER, END = 0x100000 };
	static struct rxu_sqe64 s[N];
	static struct rxu_cqe64 c[N + 64];
	static int got[N];
	struct rxt t = RXT_INIT;
	uint64_t cq = 32768, t0;
	int efd[NFD], endpos[NFD], lastpos[NFD], i, bad = 0;
	size_t n, k, pushed;

	if (rxt_max_entries() < cq)
		cq = rxt_max_entries();
	ASSERT_LE(16384U, cq);
	for (i = 0; i < NFD; i++) {
		efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ASSERT_LE(0, efd[i]);
	}
	for (i = 0; i < N; i++)
		s[i] = rxt_fu(efd[i / PER], R, i, 1);
	ASSERT_EQ(0, rxt_setup(&t, 4096, cq, 0));

	t0 = rxt_now_ns();
	n = rxt_submit_collect(&t, s, N, c, N + 64, N, WAIT_NS, &pushed);
	TH_LOG("%d subscriptions registered in %llu ms", N,
	       (unsigned long long)((rxt_now_ns() - t0) / MSEC));
	ASSERT_EQ((size_t)N, pushed);
	ASSERT_EQ((size_t)N, n);
	memset(got, 0, sizeof(got));
	for (k = 0; k < n; k++) {
		if (c[k].user_data >= N || c[k].status || c[k].flags)
			bad++;
		else
			got[c[k].user_data]++;
	}
	for (i = 0; i < N; i++)
		bad += got[i] != 1;
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, rxt_quiet(&t, RXT_QUIET_NS));

	/* one event round: each eventfd once, each subscription once */
	t0 = rxt_now_ns();
	for (i = 0; i < NFD; i++)
		ASSERT_EQ(0, efd_add(efd[i], 1));
	n = rxt_collect(&t, c, N + 64, N, WAIT_NS);
	TH_LOG("%zu events in %llu ms", n,
	       (unsigned long long)((rxt_now_ns() - t0) / MSEC));
	EXPECT_EQ((size_t)N, n);
	memset(got, 0, sizeof(got));
	for (k = 0; k < n; k++) {
		if (c[k].user_data >= N ||
		    c[k].status != (uint64_t)efd[c[k].user_data / PER] ||
		    c[k].flags != rxt_ev_flags(R))
			bad++;
		else
			got[c[k].user_data]++;
	}
	for (i = 0; i < N; i++)
		bad += got[i] != 1;
	EXPECT_EQ(0, bad);

	/* end them: fd by fd */
	for (i = 0; i < NFD; i++)
		s[i] = rxt_fu(efd[i], 0, END + i, 0);
	n = rxt_submit_collect(&t, s, NFD, c, N + 64, N + NFD, WAIT_NS,
			       &pushed);
	ASSERT_EQ((size_t)NFD, pushed);
	EXPECT_EQ((size_t)(N + NFD), n);
	memset(got, 0, sizeof(got));
	for (i = 0; i < NFD; i++)
		endpos[i] = lastpos[i] = -1;
	for (k = 0; k < n; k++) {
		uint64_t ud = c[k].user_data;

		if (ud >= END && ud < END + NFD) {
			if (c[k].status || c[k].flags || endpos[ud - END] >= 0)
				bad++;
			endpos[ud - END] = (int)k;
		} else if (ud < N && !c[k].status && c[k].flags == LAST) {
			got[ud]++;
			lastpos[ud / PER] = (int)k;
		} else {
			bad++;
		}
	}
	for (i = 0; i < N; i++)
		bad += got[i] != 1;
	EXPECT_EQ(0, bad);
	for (i = 0; i < NFD; i++) {
		EXPECT_LE(0, endpos[i]);
		EXPECT_LT(lastpos[i], endpos[i]);
		close(efd[i]);
	}
	EXPECT_EQ(0, rxt_quiet(&t, RXT_QUIET_NS));
	rxt_destroy(&t);
}

#endif /* !RXT_STRESS_ONLY */

/* ---- two-thread stress ---- */

/*
 * A writer thread adds 1 to an eventfd the instance watches, then waits
 * for the consumer's go-ahead on a second eventfd.  The consumer waits in
 * ENTER for the EVENT, reads the counter (it must be exactly 1), and
 * gives the go-ahead.  So every edge is exactly one event: an ENTER that
 * times out with the counter set is a lost event, an EVENT with the
 * counter at 0 a duplicate.
 */
struct stress {
	int efd;		/* watched, non-blocking */
	int ack;		/* consumer -> writer, blocking */
	uint64_t n;
	int stop;
	uint64_t writes;
	int werr;
};

static void *stress_writer(void *arg)
{
	struct stress *st = arg;
	uint64_t v, i;

	for (i = 0; i < st->n; i++) {
		if (efd_add(st->efd, 1)) {
			st->werr = errno;
			return NULL;
		}
		st->writes++;
		if (read(st->ack, &v, 8) != 8) {
			st->werr = errno;
			return NULL;
		}
		if (__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE))
			return NULL;
	}
	return NULL;
}

static uint64_t stress_count(void)
{
	const char *e = getenv("RXU_STRESS_EVENTS");
	unsigned long long v;

	if (e && *e) {
		v = strtoull(e, NULL, 0);
		if (v)
			return v;
	}
	return STRESS_DEFAULT;
}

/*
 * The same ping-pong with epoll (EPOLLET) in place of the ring: the
 * baseline for the rate, printed only.  Returns events per second, 0 if
 * the baseline could not run.
 */
static __attribute__((noinline)) uint64_t epoll_baseline(uint64_t n)
{
	struct stress st = { .n = n };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	uint64_t events = 0, v, one = 1, t0, dt = 0;
	pthread_t th;
	int ep;

	st.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	st.ack = eventfd(0, EFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (st.efd < 0 || st.ack < 0 || ep < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, st.efd, &ev))
		goto out;
	t0 = rxt_now_ns();
	if (pthread_create(&th, NULL, stress_writer, &st))
		goto out;
	while (events < n) {
		if (epoll_wait(ep, &ev, 1, 5000) != 1)
			break;
		if (read(st.efd, &v, 8) != 8)
			continue;
		events++;
		if (write(st.ack, &one, 8) != 8)
			break;
	}
	dt = rxt_now_ns() - t0;
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELEASE);
	if (write(st.ack, &one, 8) != 8)
		events = 0;
	pthread_join(th, NULL);
out:
	if (ep >= 0)
		close(ep);
	if (st.ack >= 0)
		close(st.ack);
	if (st.efd >= 0)
		close(st.efd);
	return events == n && dt ? events * SEC / dt : 0;
}

TEST_F_TIMEOUT(ev, stress_two_threads, STRESS_TIMEOUT)
{
	struct stress st = { .n = stress_count() };
	uint64_t events = 0, lost = 0, dup = 0, bad = 0, v, one = 1;
	uint64_t t0, dt, ud = 0x5757;
	struct rxu_cqe64 c;
	pthread_t th;
	int r;

	st.efd = self->efd;
	st.ack = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, st.ack);
	ASSERT_EQ(0, push(&self->t, rxt_fu(st.efd, R, ud, 1)));
	NEXT(&self->t, c);
	ASSERT_EQ(ud, c.user_data);
	ASSERT_EQ(0U, c.status);

	t0 = rxt_now_ns();
	ASSERT_EQ(0, pthread_create(&th, NULL, stress_writer, &st));
	while (events + lost < st.n) {
		/* plain ENTERs: no clock reads of our own in the loop */
		r = 0;
		while (rxt_pop(&self->t, &c)) {
			int64_t e = rxt_enter(&self->t, 1, 0, WAIT_NS);

			if (e < 0) {
				r = (int)e;
				break;
			}
		}
		if (r == -ETIME) {
			/* no event: was there an edge? */
			if (read(st.efd, &v, 8) == 8) {
				lost++;
				if (write(st.ack, &one, 8) != 8)
					break;
				continue;
			}
			TH_LOG("stuck after %llu events: no edge, no event",
			       (unsigned long long)events);
			break;
		}
		if (r) {
			TH_LOG("wait: %d after %llu events", r,
			       (unsigned long long)events);
			break;
		}
		if (c.user_data != ud || c.status != (uint64_t)st.efd ||
		    c.flags != rxt_ev_flags(R)) {
			if (bad++ < 5)
				TH_LOG("bad CQE ud 0x%llx status %lld flags 0x%llx",
				       (unsigned long long)c.user_data,
				       (long long)c.status,
				       (unsigned long long)c.flags);
			continue;
		}
		if (read(st.efd, &v, 8) != 8) {
			dup++;		/* an event without an edge */
			continue;
		}
		if (v != 1)
			bad++;
		events++;
		if (write(st.ack, &one, 8) != 8)
			break;
	}
	dt = rxt_now_ns() - t0;
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELEASE);
	if (write(st.ack, &one, 8) != 8)	/* release the writer */
		bad++;
	pthread_join(th, NULL);

	/* what is left after the last edge: nothing */
	while (rxt_wait_cqe(&self->t, &c, RXT_QUIET_NS) == 0) {
		if (read(st.efd, &v, 8) == 8)
			bad++;		/* a late edge? there was none */
		else
			dup++;
	}
	TH_LOG("stress: %llu events, %llu lost, %llu duplicated, %llu bad, "
	       "%llu writes in %llu ms (%llu events/s)",
	       (unsigned long long)events, (unsigned long long)lost,
	       (unsigned long long)dup, (unsigned long long)bad,
	       (unsigned long long)st.writes,
	       (unsigned long long)(dt / MSEC),
	       (unsigned long long)(dt ? events * SEC / dt : 0));
	if (events == st.n && dt) {
		uint64_t nb = st.n < 20000 ? st.n : 20000;
		uint64_t ring = events * SEC / dt, base = epoll_baseline(nb);

		TH_LOG("baseline: epoll (EPOLLET) ping-pong, %llu events: "
		       "%llu events/s; ring/epoll = %llu%%",
		       (unsigned long long)nb, (unsigned long long)base,
		       (unsigned long long)(base ? ring * 100 / base : 0));
	}
	EXPECT_EQ(0, st.werr);
	EXPECT_EQ(st.n, events);
	EXPECT_EQ(0U, lost);
	EXPECT_EQ(0U, dup);
	EXPECT_EQ(0U, bad);
	EXPECT_EQ(st.n, st.writes);
	close(st.ack);
}

TEST_HARNESS_MAIN
