// SPDX-License-Identifier: MIT
/*
 * librxu reactor: drives one primary ring and the secondary rings
 * (REDOX-FACTS.md 7.1).  One turn of the loop (rxu_reactor_run_once):
 *
 *  1. for each ring: push the SQEs (consumer side) or the replies
 *     (producer side) that waited for room; pop and dispatch every CQE
 *     (consumer side, to the executor's callbacks) or, while fewer than
 *     `bound` are outstanding, every SQE (producer side, to the
 *     handler);
 *  2. ring the doorbell (ENTER with min_complete 0) of every secondary
 *     ring that was pushed to or popped from;
 *  3. if nothing was dispatched: one blocking ENTER on the primary
 *     (min_complete 1), which also submits its SQEs.  The secondary
 *     rings wake it through their FILES_UPDATE IO_URING watches, which
 *     fire on every push of their peer; then step 1 again.
 *
 * No wake-up is lost: a peer pushes before it rings its doorbell, so a
 * push we missed in step 1 posts a watch event that ends the ENTER of
 * step 3 at once.  What a watch does not signal is the peer *popping*:
 * a producer's reply that found the CQ full therefore makes step 3 wait
 * at most RXU_BACKLOG_POLL_NS before looking again (a k2u provider's
 * doorbell lets the kernel reap its CQ at once, so there it never
 * waits).  Rings without an fd, and reactors without a kernel primary,
 * are polled: step 3 is skipped.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rxu.h"
#include "reactor_int.h"

#define RXU_BACKLOG_POLL_NS	1000000ULL	/* 1 ms */

static int ring_has_fd(const struct rxu_rring *rr)
{
	return rr->in && rr->in->fd >= 0;
}

int rxu__ring_usable(const struct rxu_reactor *r, int ring)
{
	return r && ring >= 0 && ring < RXU_REACTOR_MAX_RINGS &&
	       r->rings[ring].kind != RXU_KIND_NONE;
}

static void ring_reset(struct rxu_rring *rr)
{
	free(rr->backlog);
	memset(rr, 0, sizeof(*rr));
	rr->pend_head = RXU_NIL;
	rr->pend_tail = RXU_NIL;
}

/* A kernel primary we can block on and watch secondary rings with. */
static int primary_kernel(const struct rxu_reactor *r)
{
	const struct rxu_rring *p = &r->rings[RXU_RING_PRIMARY];

	return p->kind == RXU_KIND_PRIMARY && !p->dead && ring_has_fd(p);
}

static int instance_usable(const struct rxu_instance *in)
{
	return in && in->sq.hdr && in->sq.entries && in->cq.hdr &&
	       in->cq.entries;
}

int rxu_reactor_create(struct rxu_reactor **rp, struct rxu_instance *primary,
		       uint32_t max_requests)
{
	struct rxu_reactor *r;
	int i, ret;

	if (!rp || !max_requests || max_requests > RXU_REACTOR_MAX_REQUESTS)
		return -EINVAL;
	if (primary && !instance_usable(primary))
		return -EBADFD;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	ret = rxu__table_init(r, max_requests);
	if (ret) {
		free(r);
		return ret;
	}
	for (i = 0; i < RXU_REACTOR_MAX_RINGS; i++)
		ring_reset(&r->rings[i]);
	if (primary) {
		struct rxu_rring *p = &r->rings[RXU_RING_PRIMARY];

		p->kind = RXU_KIND_PRIMARY;
		p->in = primary;
		/* Pointers fit only 64-bit entries; the kernel is trusted. */
		p->trusted = !(primary->create_flags & RXU_CREATE_BITS_32);
	}
	*rp = r;
	return 0;
}

void rxu_reactor_destroy(struct rxu_reactor *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < RXU_REACTOR_MAX_RINGS; i++)
		ring_reset(&r->rings[i]);
	rxu__table_free(r);
	free(r);
}

/* ------------------------------------------------------------------ */
/* Secondary rings and their watches                                   */
/* ------------------------------------------------------------------ */

/*
 * The watch's CQEs.  An EVENT needs no action: every turn of the loop
 * polls every ring, and this CQE has already ended the blocking ENTER.
 * A failed or ended watch leaves the ring polled.
 */
static void watch_cb(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		     void *ctx)
{
	struct rxu_rring *rr = &r->rings[(uintptr_t)ctx];

	if (rr->kind == RXU_KIND_NONE || rr->watch_id != cqe->user_data)
		return;			/* a watch of a removed ring */
	if (rxu_cqe_is_last_update(cqe) ||
	    (!rxu_cqe_is_event(cqe) && rxu_cqe_result(cqe) < 0))
		rr->watch = RXU_WATCH_FAILED;
	else if (!rxu_cqe_is_event(cqe))
		rr->watch = RXU_WATCH_ACTIVE;
}

static int add_ring(struct rxu_reactor *r, struct rxu_instance *in, int kind)
{
	struct rxu_rring *rr;
	int i;

	if (!r || !instance_usable(in))
		return !r || !in ? -EINVAL : -EBADFD;
	for (i = 1; i < RXU_REACTOR_MAX_RINGS; i++)
		if (r->rings[i].kind == RXU_KIND_NONE)
			break;
	if (i == RXU_REACTOR_MAX_RINGS)
		return -ENOSPC;

	rr = &r->rings[i];
	ring_reset(rr);
	rr->in = in;
	rr->kind = kind;
	rr->watch = RXU_WATCH_NONE;
	if (primary_kernel(r) && ring_has_fd(rr)) {
		struct rxu_sqe64 sqe;
		int ret;

		rxu_prep_files_update(&sqe, in->fd, RXU_EVENT_IO_URING, 1, 0);
		ret = rxu__submit(r, RXU_RING_PRIMARY, &sqe, watch_cb,
				  (void *)(uintptr_t)i, &rr->watch_id);
		if (ret) {
			ring_reset(rr);
			return ret;
		}
		rr->watch = RXU_WATCH_ARMING;
	}
	return i;
}

int rxu_reactor_add_consumer(struct rxu_reactor *r, struct rxu_instance *in)
{
	return add_ring(r, in, RXU_KIND_CONSUMER);
}

int rxu_reactor_add_producer(struct rxu_reactor *r, struct rxu_instance *in,
			     uint32_t bound, rxu_sqe_fn handler, void *ctx)
{
	int ring;

	if (!bound || !handler)
		return -EINVAL;
	ring = add_ring(r, in, RXU_KIND_PRODUCER);
	if (ring < 0)
		return ring;
	r->rings[ring].handler = handler;
	r->rings[ring].hctx = ctx;
	r->rings[ring].bound = bound;
	return ring;
}

/* The end of a watch needs no callback: its LAST_UPDATE ends it. */
static void ignore_cb(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		      void *ctx)
{
	(void)r;
	(void)cqe;
	(void)ctx;
}

int rxu_reactor_remove(struct rxu_reactor *r, int ring)
{
	struct rxu_rring *rr;
	int kind;

	if (!rxu__ring_usable(r, ring) || ring == RXU_RING_PRIMARY)
		return -EINVAL;
	rr = &r->rings[ring];
	if (rr->watch == RXU_WATCH_ARMING || rr->watch == RXU_WATCH_ACTIVE) {
		struct rxu_sqe64 sqe;

		rxu_prep_files_update_end(&sqe, rr->in->fd, 0);
		if (!primary_kernel(r) ||
		    rxu__submit(r, RXU_RING_PRIMARY, &sqe, ignore_cb, NULL,
				NULL))
			rxu_cancel(r, rr->watch_id);
	}
	kind = rr->kind;
	/* Gone before the callbacks run: they cannot submit to it. */
	rr->kind = RXU_KIND_NONE;
	rr->dead = 1;
	if (kind == RXU_KIND_CONSUMER)
		rxu__fail_ring(r, ring, -ECANCELED);
	ring_reset(rr);
	return 0;
}

/* The peer dropped the ring, or its header is broken. */
static void ring_dead(struct rxu_reactor *r, int ring, int err)
{
	struct rxu_rring *rr = &r->rings[ring];

	if (rr->dead)
		return;
	rr->dead = 1;
	r->stats.dead_rings++;
	if (rr->kind == RXU_KIND_PRODUCER) {
		rr->bl_head = rr->bl_len = 0;
		r->depth++;
		rr->handler(r, ring, NULL, rr->hctx);
		r->depth--;
	} else {
		rxu__fail_ring(r, ring, err == -EIO ? -EIO : -ESHUTDOWN);
	}
}

/* ------------------------------------------------------------------ */
/* Producer side                                                       */
/* ------------------------------------------------------------------ */

/* fd and addr of an SQE32 are handles and offsets: zero-extended. */
int rxu_pop_sqe(struct rxu_instance *in, struct rxu_sqe64 *sqe)
{
	struct rxu_sqe32 s;
	int ret;

	if (!in || !sqe || !in->sq.hdr || !in->sq.entries)
		return -EBADFD;
	if (!(in->create_flags & RXU_CREATE_BITS_32)) {
		if (in->sq.entry_size != sizeof(*sqe))
			return -EINVAL;
		return rxu_ring_pop(&in->sq, sqe);
	}
	if (in->sq.entry_size != sizeof(s))
		return -EINVAL;
	ret = rxu_ring_pop(&in->sq, &s);
	if (ret)
		return ret;
	*sqe = (struct rxu_sqe64){
		.opcode = s.opcode, .flags = s.flags, .priority = s.priority,
		.syscall_flags = s.syscall_flags, .fd = s.fd, .len = s.len,
		.user_data = s.user_data, .addr = s.addr, .offset = s.offset,
	};
	return 0;
}

int rxu_push_cqe(struct rxu_instance *in, const struct rxu_cqe64 *cqe)
{
	int64_t res;
	struct rxu_cqe32 c;

	if (!in || !cqe || !in->cq.hdr || !in->cq.entries)
		return -EBADFD;
	if (!(in->create_flags & RXU_CREATE_BITS_32)) {
		if (in->cq.entry_size != sizeof(*cqe))
			return -EINVAL;
		return rxu_ring_push(&in->cq, cqe);
	}
	if (in->cq.entry_size != sizeof(c))
		return -EINVAL;
	res = (int64_t)cqe->status;
	if (cqe->user_data > UINT32_MAX || cqe->flags > UINT32_MAX ||
	    cqe->extra > UINT32_MAX || res < -RXU_MAX_ERRNO ||
	    res > (int64_t)UINT32_MAX - RXU_MAX_ERRNO)
		return -EOVERFLOW;
	c = (struct rxu_cqe32){
		.user_data = (uint32_t)cqe->user_data,
		.status = (uint32_t)cqe->status,
		.flags = (uint32_t)cqe->flags,
		.extra = (uint32_t)cqe->extra,
	};
	return rxu_ring_push(&in->cq, &c);
}

static int backlog_add(struct rxu_rring *rr, const struct rxu_cqe64 *cqe,
		       int counted)
{
	if (rr->bl_head && rr->bl_len == rr->bl_cap) {
		memmove(rr->backlog, rr->backlog + rr->bl_head,
			(rr->bl_len - rr->bl_head) * sizeof(*rr->backlog));
		rr->bl_len -= rr->bl_head;
		rr->bl_head = 0;
	}
	if (rr->bl_len == rr->bl_cap) {
		size_t ncap = rr->bl_cap ? rr->bl_cap * 2 : 16;
		void *n = realloc(rr->backlog, ncap * sizeof(*rr->backlog));

		if (!n)
			return -ENOMEM;
		rr->backlog = n;
		rr->bl_cap = ncap;
	}
	rr->backlog[rr->bl_len].cqe = *cqe;
	rr->backlog[rr->bl_len].counted = counted;
	rr->bl_len++;
	return 0;
}

/* Push queued replies while the CQ has room; <0 if the ring died. */
static int backlog_flush(struct rxu_rring *rr)
{
	while (rr->bl_head < rr->bl_len) {
		struct rxu_backlog_cqe *b = &rr->backlog[rr->bl_head];
		int ret = rxu_push_cqe(rr->in, &b->cqe);

		if (ret == -EAGAIN)
			return 0;
		if (ret)
			return ret;
		rr->dirty = 1;
		if (b->counted && rr->outstanding)
			rr->outstanding--;
		rr->bl_head++;
	}
	rr->bl_head = rr->bl_len = 0;
	return 0;
}

static int producer_push(struct rxu_reactor *r, int ring,
			 const struct rxu_cqe64 *cqe, int counted)
{
	struct rxu_rring *rr;
	int ret;

	if (!rxu__ring_usable(r, ring) || !cqe ||
	    r->rings[ring].kind != RXU_KIND_PRODUCER)
		return -EINVAL;
	rr = &r->rings[ring];
	if (rr->dead)
		return -ESHUTDOWN;
	if (counted && rr->outstanding == 0)
		return -EINVAL;
	/* Behind queued replies, queue too: the CQ keeps their order. */
	ret = rr->bl_head < rr->bl_len ? -EAGAIN : rxu_push_cqe(rr->in, cqe);
	if (ret == 0) {
		rr->dirty = 1;
		if (counted)
			rr->outstanding--;
		return 0;
	}
	if (ret == -EAGAIN)
		return backlog_add(rr, cqe, counted);
	if (ret == -ESHUTDOWN || ret == -EIO)
		ring_dead(r, ring, ret);
	return ret;
}

int64_t rxu_seek_position(uint64_t pos, uint64_t size, uint32_t whence,
			  int64_t off)
{
	int64_t base;

	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)pos;
		break;
	case SEEK_END:
		base = (int64_t)size;
		break;
	default:
		return -EINVAL;
	}
	if (off > 0 && base > INT64_MAX - off)
		return -EOVERFLOW;
	if (base + off < 0)
		return -EINVAL;
	return base + off;
}

/*
 * Give the kernel every reply of producer ring now, queued ones too:
 * ring its doorbell (the kernel takes all CQEs at once) and push the
 * backlog into the room that made, until none is left.  For a provider
 * whose answers lend memory it reuses next (zero-copy READs): once this
 * returns 0 the kernel has copied every lent byte.  0, or -errno.
 */
int rxu__reactor_hand_over(struct rxu_reactor *r, int ring)
{
	struct rxu_rring *rr;
	int64_t n;
	int ret;

	if (!rxu__ring_usable(r, ring) ||
	    r->rings[ring].kind != RXU_KIND_PRODUCER)
		return -EINVAL;
	rr = &r->rings[ring];
	for (;;) {
		if (rr->dead)
			return -ESHUTDOWN;
		if (!rr->in || rr->in->fd < 0)
			return 0;	/* a host test's ring: nobody to ring */
		n = rxu_enter(rr->in, 0, 0, 0);
		if (n < 0)
			return (int)n;
		rr->dirty = 0;
		if (rr->bl_head == rr->bl_len)
			return 0;
		ret = backlog_flush(rr);
		if (ret) {
			ring_dead(r, ring, ret);
			return ret;
		}
	}
}

int rxu_reactor_reply(struct rxu_reactor *r, int ring,
		      const struct rxu_cqe64 *cqe)
{
	return producer_push(r, ring, cqe, 1);
}

int rxu_reactor_respond(struct rxu_reactor *r, int ring, uint64_t user_data,
			int64_t status)
{
	const struct rxu_cqe64 c = {
		.user_data = user_data, .status = (uint64_t)status,
	};

	return producer_push(r, ring, &c, 1);
}

int rxu_reactor_post(struct rxu_reactor *r, int ring,
		     const struct rxu_cqe64 *cqe)
{
	return producer_push(r, ring, cqe, 0);
}

int64_t rxu_reactor_outstanding(const struct rxu_reactor *r, int ring)
{
	if (!rxu__ring_usable(r, ring) ||
	    r->rings[ring].kind != RXU_KIND_PRODUCER)
		return -EINVAL;
	return r->rings[ring].outstanding;
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */
/* ------------------------------------------------------------------ */

/*
 * Pop and dispatch the CQEs of a primary or consumer ring.  A peer that
 * went away (DROP) may have answered first: what is in the CQ is
 * delivered before the rest of the ring's requests fail.
 */
static int poll_consumer(struct rxu_reactor *r, int ring)
{
	struct rxu_rring *rr = &r->rings[ring];
	uint64_t max = 2 * rr->in->cq.entry_count;
	int work = 0, err, ret;

	err = rxu__flush_pending(r, ring);
	while (max--) {
		struct rxu_cqe64 cqe;

		ret = rxu_pop_cqe(rr->in, &cqe);
		if (ret == -EAGAIN)
			break;
		if (ret) {
			err = ret;
			break;
		}
		work++;
		rxu__dispatch_cqe(r, ring, &cqe);
		/* The callback may have removed the ring. */
		if (rr->kind == RXU_KIND_NONE || rr->dead)
			return work;
	}
	/* Popping made room: SQEs that waited can go now. */
	if (!err)
		err = rxu__flush_pending(r, ring);
	if (err)
		ring_dead(r, ring, err);
	return work;
}

/* Pop SQEs of a producer ring up to its bound, hand them over. */
static int poll_producer(struct rxu_reactor *r, int ring)
{
	struct rxu_rring *rr = &r->rings[ring];
	int work = 0, ret;

	ret = backlog_flush(rr);
	if (ret) {
		ring_dead(r, ring, ret);
		return 0;
	}
	while (rr->kind == RXU_KIND_PRODUCER && !rr->dead &&
	       rr->outstanding < rr->bound && rr->bl_head == rr->bl_len) {
		struct rxu_sqe64 sqe;

		ret = rxu_pop_sqe(rr->in, &sqe);
		if (ret == -EAGAIN)
			break;
		if (ret) {
			ring_dead(r, ring, ret);
			break;
		}
		rr->dirty = 1;
		rr->outstanding++;
		work++;
		r->stats.sqes++;
		r->depth++;
		rr->handler(r, ring, &sqe, rr->hctx);
		r->depth--;
	}
	return work;
}

static int poll_pass(struct rxu_reactor *r)
{
	int work = 0, i;

	for (i = 0; i < RXU_REACTOR_MAX_RINGS; i++) {
		struct rxu_rring *rr = &r->rings[i];

		if (rr->kind == RXU_KIND_NONE || rr->dead)
			continue;
		if (rr->kind == RXU_KIND_PRODUCER)
			work += poll_producer(r, i);
		else
			work += poll_consumer(r, i);
	}
	/* Doorbells of the secondary rings; the primary's is the caller's. */
	for (i = 1; i < RXU_REACTOR_MAX_RINGS; i++) {
		struct rxu_rring *rr = &r->rings[i];

		if (rr->kind == RXU_KIND_NONE || rr->dead || !rr->dirty)
			continue;
		rr->dirty = 0;
		if (ring_has_fd(rr) && rxu_enter(rr->in, 0, 0, 0) < 0)
			r->stats.doorbell_errors++;
	}
	return work;
}

/*
 * May run_once sleep in the primary's ENTER?  Only if every live ring
 * can wake it.  *cap_ns gets a cap on the sleep (0 = none).
 */
static int can_block(const struct rxu_reactor *r, uint64_t *cap_ns)
{
	int i;

	*cap_ns = 0;
	if (!primary_kernel(r))
		return 0;
	for (i = 1; i < RXU_REACTOR_MAX_RINGS; i++) {
		const struct rxu_rring *rr = &r->rings[i];

		if (rr->kind == RXU_KIND_NONE || rr->dead)
			continue;
		if (rr->watch != RXU_WATCH_ARMING &&
		    rr->watch != RXU_WATCH_ACTIVE)
			return 0;
		if (rr->bl_head < rr->bl_len)
			*cap_ns = RXU_BACKLOG_POLL_NS;
	}
	return 1;
}

/* The primary's doorbell: submit what was queued, wait for nothing. */
static int primary_flush(struct rxu_reactor *r)
{
	struct rxu_rring *p = &r->rings[RXU_RING_PRIMARY];
	int64_t ret;

	if (p->kind != RXU_KIND_PRIMARY || p->dead || !p->dirty ||
	    !ring_has_fd(p))
		return 0;
	p->dirty = 0;
	ret = rxu_enter(p->in, 0, 0, 0);
	return ret < 0 ? (int)ret : 0;
}

int rxu_reactor_run_once(struct rxu_reactor *r, uint64_t timeout_ns,
			 uint32_t flags)
{
	uint64_t cap;
	int work, ret;

	if (!r || (flags & ~RXU_RUN_NOWAIT))
		return -EINVAL;
	if (r->depth)
		return -EDEADLK;

	work = poll_pass(r);
	if (!work && !(flags & RXU_RUN_NOWAIT) && can_block(r, &cap)) {
		struct rxu_rring *p = &r->rings[RXU_RING_PRIMARY];
		int64_t n;

		if (cap && (!timeout_ns || timeout_ns > cap))
			timeout_ns = cap;
		p->dirty = 0;
		/* Submits the primary's SQEs and sleeps for one CQE. */
		n = rxu_enter(p->in, 1, 0, timeout_ns);
		if (n < 0 && n != -ETIME)
			return (int)n;
		work = poll_pass(r);
	}
	ret = primary_flush(r);
	return ret ? ret : work;
}

int rxu_reactor_run(struct rxu_reactor *r)
{
	if (!r)
		return -EINVAL;
	if (r->depth)
		return -EDEADLK;
	while (!r->stop) {
		int ret = rxu_reactor_run_once(r, 0, 0);

		if (ret < 0) {
			r->stop = 0;
			return ret;
		}
	}
	r->stop = 0;
	return 0;
}

void rxu_reactor_stop(struct rxu_reactor *r)
{
	if (r)
		r->stop = 1;
}

int rxu_reactor_notify(struct rxu_reactor *r)
{
	struct rxu_rring *p;
	int64_t ret;

	if (!r)
		return -EINVAL;
	p = &r->rings[RXU_RING_PRIMARY];
	if (p->kind != RXU_KIND_PRIMARY || !ring_has_fd(p))
		return 0;		/* a polled reactor never sleeps */
	ret = rxu_enter(p->in, 0, RXU_ENTER_ONLY_NOTIFY, 0);
	return ret < 0 ? (int)ret : 0;
}

void rxu_reactor_stats(const struct rxu_reactor *r,
		       struct rxu_reactor_stats *st)
{
	if (r && st)
		*st = r->stats;
}
