// SPDX-License-Identifier: MIT
/*
 * librxu events: helpers for the two ways redox_uring reports readiness
 * (ABI.md sections 5 and 6).
 *
 *  - FILES_UPDATE subscriptions through the ring: an SQE registers (or,
 *    with an empty mask, ends) a watch on an fd; the kernel answers with
 *    a status CQE, EVENT CQEs (RXU_CQE_EVENT, the fired mask in bits 8
 *    and up, status = the watched fd) and one RXU_CQE_LAST_UPDATE CQE
 *    when the subscription ends.  The helpers below only read CQE flags
 *    and fill SQEs: no system call.
 *  - event: queues, Redox's event-queue files: an OPEN of "event:"
 *    through the ring returns one; write() of a struct rxu_event
 *    registers a watch, read() returns ready records.
 *
 * Every function that can fail returns -errno and leaves errno as the
 * caller had it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "rxu.h"

/* A failed libc call as -errno, with errno put back as it was. */
static int fail_errno(int saved)
{
	int err = errno;

	errno = saved;
	return -err;
}

/* ------------------------------------------------------------------ */
/* CQEs of a FILES_UPDATE subscription                                 */
/* ------------------------------------------------------------------ */

int rxu_cqe_is_event(const struct rxu_cqe64 *cqe)
{
	return (cqe->flags & RXU_CQE_EVENT) != 0;
}

int rxu_cqe_is_last_update(const struct rxu_cqe64 *cqe)
{
	return (cqe->flags & RXU_CQE_LAST_UPDATE) != 0;
}

uint32_t rxu_cqe_event_mask(const struct rxu_cqe64 *cqe)
{
	return (uint32_t)(cqe->flags >> RXU_CQE_EVENT_SHIFT);
}

/* ------------------------------------------------------------------ */
/* SQEs                                                                */
/* ------------------------------------------------------------------ */

void rxu_prep_files_update_end(struct rxu_sqe64 *sqe, int fd,
			       uint64_t user_data)
{
	/* An empty mask ends the subscription on fd; never SUBSCRIBE. */
	rxu_prep_files_update(sqe, fd, 0, 0, user_data);
}

void rxu_prep_open_event_queue(struct rxu_sqe64 *sqe, int flags,
			       uint64_t user_data)
{
	/*
	 * The path must outlive the ENTER that runs the SQE: a string
	 * literal has static storage.  The access mode is always O_RDWR
	 * (records are written and read on the same fd).
	 */
	static const char path[] = RXU_SCHEME_EVENT;

	rxu_prep_open(sqe, path, sizeof(path) - 1,
		      (flags & ~O_ACCMODE) | O_RDWR, 0, user_data);
}

/* ------------------------------------------------------------------ */
/* event: queue files                                                  */
/* ------------------------------------------------------------------ */

int rxu_event_queue_register(int qfd, int fd, uint64_t mask, uint64_t data)
{
	const struct rxu_event ev = {
		.id = (uint64_t)fd, .flags = mask, .data = data,
	};
	int saved = errno;
	ssize_t n;

	if (fd < 0)
		return -EBADF;
	n = write(qfd, &ev, sizeof(ev));
	if (n < 0)
		return fail_errno(saved);
	/* A record is taken whole or not at all; anything else is broken. */
	return n == (ssize_t)sizeof(ev) ? 0 : -EIO;
}

int rxu_event_queue_unregister(int qfd, int fd)
{
	return rxu_event_queue_register(qfd, fd, 0, 0);
}

int rxu_event_queue_read(int qfd, struct rxu_event *ev, size_t max)
{
	const size_t limit = INT_MAX / sizeof(*ev);
	int saved = errno;
	ssize_t n;

	if (!max)
		return 0;
	if (max > limit)
		max = limit;
	n = read(qfd, ev, max * sizeof(*ev));
	if (n < 0)
		return fail_errno(saved);
	/* The queue hands out whole records; a torn one cannot be used. */
	if (n % sizeof(*ev))
		return -EIO;
	return (int)(n / sizeof(*ev));
}
