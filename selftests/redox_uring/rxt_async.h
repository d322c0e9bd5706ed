/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for tests whose CQEs do not come at once: parked ops
 * (parking.c) and FILES_UPDATE subscriptions (events.c).  Header-only,
 * static, so that each test program takes what it uses.
 *
 * A CQE that depends on a file becoming ready may be posted by the
 * kernel's wake-up or by a later ENTER; these helpers always ENTER with
 * a timeout before deciding that nothing came, so they hold for both.
 */
#ifndef RXT_ASYNC_H
#define RXT_ASYNC_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "rxu_test.h"

/* How long a "nothing more comes" check waits. */
#define RXT_QUIET_NS	(150ULL * 1000 * 1000)

/* The flags of an EVENT CQE that reports mask. */
static inline uint64_t rxt_ev_flags(uint32_t mask)
{
	return RXU_CQE_EVENT | ((uint64_t)mask << RXU_CQE_EVENT_SHIFT);
}

/* A FILES_UPDATE SQE: fd, mask, identity, and SUBSCRIBE if multi. */
static inline struct rxu_sqe64 rxt_fu(int fd, uint32_t mask, uint64_t ud,
				      int multi)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_FILES_UPDATE, (uint64_t)fd, 0, 0,
				     0, ud);

	s.syscall_flags = mask;
	s.flags = multi ? RXU_SQE_SUBSCRIBE : 0;
	return s;
}

/*
 * The next CQE: pop one if the CQ has it, else ENTER (min_complete 1)
 * until one comes or timeout_ns passed, and pop it.  0, -ETIME when none
 * came in time, or another -errno of ENTER.  An ENTER that returns early
 * with an empty CQ is simply repeated.
 */
static inline int rxt_wait_cqe(struct rxt *t, struct rxu_cqe64 *c,
			       uint64_t timeout_ns)
{
	uint64_t end = rxt_now_ns() + timeout_ns, now;
	int64_t r;

	for (;;) {
		if (rxt_pop(t, c) == 0)
			return 0;
		now = rxt_now_ns();
		if (now >= end)
			return -ETIME;
		r = rxt_enter(t, 1, 0, end - now);
		if (r == -ETIME)
			return rxt_pop(t, c) == 0 ? 0 : -ETIME;
		if (r < 0)
			return (int)r;
	}
}

/*
 * Nothing more arrives: ENTER (which also submits what the SQ holds)
 * with min_complete 1 until timeout_ns passed.  Returns the number of
 * CQEs the CQ then holds (0 = quiet), or a -errno other than -ETIME.
 */
static inline int64_t rxt_quiet(struct rxt *t, uint64_t timeout_ns)
{
	uint64_t end = rxt_now_ns() + timeout_ns, now;
	int64_t r;

	for (;;) {
		if (rxt_cq_avail(t))
			return (int64_t)rxt_cq_avail(t);
		now = rxt_now_ns();
		if (now >= end)
			return 0;
		r = rxt_enter(t, 1, 0, end - now);
		if (r < 0 && r != -ETIME)
			return r;
	}
}

/*
 * Collect up to max CQEs into out[], entering as needed, until want of
 * them came or no CQE came for timeout_ns.  Returns the count.
 */
static inline size_t rxt_collect(struct rxt *t, struct rxu_cqe64 *out,
				 size_t max, size_t want, uint64_t timeout_ns)
{
	size_t n = 0;

	while (n < want && n < max) {
		if (rxt_wait_cqe(t, &out[n], timeout_ns))
			break;
		n++;
	}
	return n;
}

/*
 * Push sqes[0..count) and run them, popping into out[] (at most max)
 * whatever comes meanwhile: the SQ and CQ may be smaller than count.
 * Stops when every SQE was consumed by the kernel and at least
 * want CQEs were popped, or when no progress was made for timeout_ns.
 * Returns the number of CQEs popped; *pushed gets the SQEs pushed.
 */
static inline size_t rxt_submit_collect(struct rxt *t,
					const struct rxu_sqe64 *sqes,
					size_t count, struct rxu_cqe64 *out,
					size_t max, size_t want,
					uint64_t timeout_ns, size_t *pushed)
{
	size_t sent = 0, got = 0;
	uint64_t last = rxt_now_ns();
	int64_t r;

	for (;;) {
		while (sent < count && rxt_push(t, &sqes[sent]) == 0)
			sent++;
		r = rxt_enter(t, 0, 0, 0);
		while (got < max && rxt_pop(t, &out[got]) == 0) {
			got++;
			last = rxt_now_ns();
		}
		if (sent == count && rxt_sq_avail(t) == 0 && got >= want)
			break;
		if (r < 0 || rxt_now_ns() - last > timeout_ns)
			break;
		if (got >= max)
			break;
		/* wait a little for parked work or events */
		rxt_enter(t, 1, 0, 20ULL * 1000 * 1000);
	}
	if (pushed)
		*pushed = sent;
	return got;
}

/* Raise RLIMIT_NOFILE to at least n: 0 or -errno. */
static inline int rxt_nofile(rlim_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur >= n)
		return 0;
	rl.rlim_cur = n;
	if (rl.rlim_max < n)
		rl.rlim_max = n;
	return setrlimit(RLIMIT_NOFILE, &rl) ? -errno : 0;
}

/* O_NONBLOCK on or off: 0 or -errno. */
static inline int rxt_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl) ? -errno : 0;
}

/* Fill a pipe's write end until it would block: bytes written or -errno. */
static inline ssize_t rxt_fill_pipe(int wfd)
{
	static const char junk[4096];
	ssize_t total = 0, w;
	int err = rxt_nonblock(wfd, 1);

	if (err)
		return err;
	for (;;) {
		w = write(wfd, junk, sizeof(junk));
		if (w > 0) {
			total += w;
			continue;
		}
		if (w < 0 && errno == EAGAIN) {
			/* a page-sized write may fail where one byte fits */
			w = write(wfd, junk, 1);
			if (w > 0) {
				total += w;
				continue;
			}
		}
		break;
	}
	err = rxt_nonblock(wfd, 0);
	return err ? err : total;
}

/* Read and discard what fd holds, without blocking: bytes or -errno. */
static inline ssize_t rxt_drain(int fd)
{
	char buf[4096];
	ssize_t total = 0, r;
	int err = rxt_nonblock(fd, 1);

	if (err)
		return err;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += r;
	err = rxt_nonblock(fd, 0);
	return err ? err : total;
}

#endif /* RXT_ASYNC_H */
