// SPDX-License-Identifier: MIT
/*
 * librxu executor: the per-request state of the completion model
 * (redox-iou's command states, REDOX-FACTS.md 7.2) and the ways to wait
 * for it.
 *
 * Requests live in one table of fixed size, allocated once, so that a
 * slot's address never changes: the primary ring (the kernel, trusted)
 * carries that address as user_data and a CQE finds its request with no
 * lookup.  Every other ring carries a tag, (generation << 16) | index,
 * checked field by field: index in range, generation current, request in
 * flight, and submitted on the ring the CQE came from.  A generation
 * moves on each time a slot is freed, so a replayed or forged tag of an
 * earlier request is refused.
 *
 * States: FREE -> PENDING (the SQ was full; the SQE waits in the slot,
 * in a per-ring FIFO) -> INFLIGHT -> FREE, with CANCELLED for an
 * in-flight request whose callback must not run.  A slot is freed
 * *before* the callback of its last CQE runs, so that the callback can
 * submit again and a waiter sees the request done.
 *
 * The ring work (popping, pushing, entering) is in reactor.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rxu.h"
#include "reactor_int.h"

static uint64_t req_tag(uint32_t idx, uint16_t gen)
{
	return ((uint64_t)gen << RXU_TAG_INDEX_BITS) | idx;
}

static uint32_t req_index(const struct rxu_reactor *r,
			  const struct rxu_req *req)
{
	return (uint32_t)(req - r->reqs);
}

int rxu__table_init(struct rxu_reactor *r, uint32_t cap)
{
	size_t bytes = (size_t)cap * sizeof(struct rxu_req);
	uint32_t i;

	/* The SQE copy inside a slot is 64-byte aligned. */
	r->reqs = aligned_alloc(_Alignof(struct rxu_req), bytes);
	if (!r->reqs)
		return -ENOMEM;
	memset(r->reqs, 0, bytes);
	for (i = 0; i < cap; i++) {
		r->reqs[i].gen = 1;
		r->reqs[i].next = i + 1 < cap ? i + 1 : RXU_NIL;
	}
	r->cap = cap;
	r->used = 0;
	r->free_head = 0;
	return 0;
}

void rxu__table_free(struct rxu_reactor *r)
{
	free(r->reqs);
	r->reqs = NULL;
	r->cap = 0;
}

static struct rxu_req *req_alloc(struct rxu_reactor *r)
{
	struct rxu_req *req;

	if (r->free_head == RXU_NIL)
		return NULL;
	req = &r->reqs[r->free_head];
	r->free_head = req->next;
	req->next = RXU_NIL;
	r->used++;
	return req;
}

static void req_release(struct rxu_reactor *r, struct rxu_req *req)
{
	req->state = RXU_REQ_FREE;
	req->cb = NULL;
	req->ctx = NULL;
	req->gen = (uint16_t)(req->gen + 1);
	if (!req->gen)
		req->gen = 1;
	req->next = r->free_head;
	r->free_head = req_index(r, req);
	r->used--;
}

/* The live request an id names, or NULL. */
static struct rxu_req *req_lookup(const struct rxu_reactor *r, uint64_t id)
{
	uint32_t idx = (uint32_t)(id & RXU_TAG_INDEX_MASK);
	struct rxu_req *req;

	if (id >> 32 || idx >= r->cap)
		return NULL;
	req = &r->reqs[idx];
	if (req->state == RXU_REQ_FREE ||
	    req->gen != ((id >> RXU_TAG_INDEX_BITS) & RXU_TAG_GEN_MASK))
		return NULL;
	return req;
}

/* Will rxu_queue_sqe() be able to narrow it?  (Checked before queuing.) */
static int fits_ring(const struct rxu_instance *in, const struct rxu_sqe64 *sqe)
{
	if (!(in->create_flags & RXU_CREATE_BITS_32))
		return 0;
	if (sqe->additional1 || sqe->additional2)
		return -EINVAL;
	if ((sqe->fd > UINT32_MAX && sqe->fd < (uint64_t)INT32_MIN) ||
	    sqe->len > UINT32_MAX || sqe->addr > UINT32_MAX)
		return -EOVERFLOW;
	return 0;
}

static void pending_append(struct rxu_rring *rr, struct rxu_reactor *r,
			   struct rxu_req *req)
{
	uint32_t idx = req_index(r, req);

	req->next = RXU_NIL;
	if (rr->pend_tail == RXU_NIL)
		rr->pend_head = idx;
	else
		r->reqs[rr->pend_tail].next = idx;
	rr->pend_tail = idx;
}

int rxu__submit(struct rxu_reactor *r, int ring, const struct rxu_sqe64 *sqe,
		rxu_cqe_fn cb, void *ctx, uint64_t *id)
{
	struct rxu_rring *rr;
	struct rxu_req *req;
	int ret;

	if (!r || !sqe || !cb || ring < 0 || ring >= RXU_REACTOR_MAX_RINGS)
		return -EINVAL;
	rr = &r->rings[ring];
	if (rr->kind != RXU_KIND_PRIMARY && rr->kind != RXU_KIND_CONSUMER)
		return -EINVAL;
	if (rr->dead)
		return -ESHUTDOWN;
	ret = fits_ring(rr->in, sqe);
	if (ret)
		return ret;
	req = req_alloc(r);
	if (!req)
		return -ENOBUFS;

	req->sqe = *sqe;
	req->cb = cb;
	req->ctx = ctx;
	req->ring = ring;
	req->multi = sqe->opcode == RXU_OP_FILES_UPDATE && sqe->syscall_flags;
	if (rr->trusted)
		req->sqe.user_data = (uint64_t)(uintptr_t)req;
	else
		req->sqe.user_data = req_tag(req_index(r, req), req->gen);

	/* Keep the order: behind SQEs that wait, wait too. */
	ret = rr->pend_head == RXU_NIL ? rxu_queue_sqe(rr->in, &req->sqe)
				       : -EAGAIN;
	if (ret == 0) {
		req->state = RXU_REQ_INFLIGHT;
		rr->dirty = 1;
	} else if (ret == -EAGAIN) {
		req->state = RXU_REQ_PENDING;
		pending_append(rr, r, req);
	} else {
		req_release(r, req);
		return ret;
	}
	if (id)
		*id = req_tag(req_index(r, req), req->gen);
	return 0;
}

int rxu_submit(struct rxu_reactor *r, int ring, const struct rxu_sqe64 *sqe,
	       rxu_cqe_fn cb, void *ctx, uint64_t *id)
{
	return rxu__submit(r, ring, sqe, cb, ctx, id);
}

/* Run a callback (unless cancelled) with user_data set to the id. */
static void run_callback(struct rxu_reactor *r, rxu_cqe_fn cb, void *ctx,
			 int cancelled, uint64_t id,
			 const struct rxu_cqe64 *cqe)
{
	struct rxu_cqe64 c = *cqe;

	if (cancelled) {
		r->stats.cancelled++;
		return;
	}
	c.user_data = id;
	r->stats.cqes++;
	r->depth++;
	cb(r, &c, ctx);
	r->depth--;
}

int rxu__flush_pending(struct rxu_reactor *r, int ring)
{
	struct rxu_rring *rr = &r->rings[ring];

	while (rr->pend_head != RXU_NIL) {
		struct rxu_req *req = &r->reqs[rr->pend_head];
		int ret = rxu_queue_sqe(rr->in, &req->sqe);

		if (ret == -EAGAIN)
			return 0;
		if (ret == -ESHUTDOWN || ret == -EIO)
			return ret;
		rr->pend_head = req->next;
		if (rr->pend_head == RXU_NIL)
			rr->pend_tail = RXU_NIL;
		if (ret == 0) {
			req->state = RXU_REQ_INFLIGHT;
			rr->dirty = 1;
		} else {
			/* Checked at submit; completes rather than sticks. */
			struct rxu_cqe64 c = { .status = (uint64_t)(int64_t)ret };
			uint64_t id = req_tag(req_index(r, req), req->gen);
			rxu_cqe_fn cb = req->cb;
			void *ctx = req->ctx;

			req_release(r, req);
			run_callback(r, cb, ctx, 0, id, &c);
		}
	}
	return 0;
}

/* Decode user_data into a request of this ring, or count why not. */
static struct rxu_req *cqe_request(struct rxu_reactor *r, int ring,
				   uint64_t user_data)
{
	const struct rxu_rring *rr = &r->rings[ring];
	struct rxu_req *req;

	if (rr->trusted) {
		uintptr_t p = (uintptr_t)user_data;
		uintptr_t base = (uintptr_t)r->reqs;

		/* Trusted, but a wild pointer costs two compares to refuse. */
		if (user_data > UINTPTR_MAX || p < base ||
		    (p - base) / sizeof(*req) >= r->cap ||
		    (p - base) % sizeof(*req)) {
			r->stats.bad_tag++;
			return NULL;
		}
		req = &r->reqs[(p - base) / sizeof(*req)];
	} else {
		uint32_t idx = (uint32_t)(user_data & RXU_TAG_INDEX_MASK);

		if (user_data >> 32 || idx >= r->cap ||
		    !(user_data >> RXU_TAG_INDEX_BITS)) {
			r->stats.bad_tag++;
			return NULL;
		}
		req = &r->reqs[idx];
		if (req->gen != (user_data >> RXU_TAG_INDEX_BITS)) {
			r->stats.stale_tag++;
			return NULL;
		}
	}
	if (req->state != RXU_REQ_INFLIGHT && req->state != RXU_REQ_CANCELLED) {
		r->stats.unknown_tag++;
		return NULL;
	}
	if (req->ring != ring) {
		r->stats.wrong_ring++;
		return NULL;
	}
	return req;
}

/* The request's last CQE? */
static int cqe_final(const struct rxu_req *req, const struct rxu_cqe64 *cqe)
{
	int64_t res = (int64_t)cqe->status;

	if (!req->multi || (cqe->flags & RXU_CQE_LAST_UPDATE))
		return 1;
	/* A failed registration posts nothing after its status CQE. */
	return !(cqe->flags & RXU_CQE_EVENT) && res < 0 &&
	       res >= -RXU_MAX_ERRNO;
}

void rxu__dispatch_cqe(struct rxu_reactor *r, int ring,
		       const struct rxu_cqe64 *cqe)
{
	struct rxu_req *req = cqe_request(r, ring, cqe->user_data);
	int cancelled;
	uint64_t id;
	rxu_cqe_fn cb;
	void *ctx;

	if (!req)
		return;
	id = req_tag(req_index(r, req), req->gen);
	cb = req->cb;
	ctx = req->ctx;
	cancelled = req->state == RXU_REQ_CANCELLED;
	if (cqe_final(req, cqe))
		req_release(r, req);
	run_callback(r, cb, ctx, cancelled, id, cqe);
}

void rxu__fail_ring(struct rxu_reactor *r, int ring, int64_t status)
{
	struct rxu_rring *rr = &r->rings[ring];
	uint32_t i;

	rr->pend_head = RXU_NIL;
	rr->pend_tail = RXU_NIL;
	for (i = 0; i < r->cap; i++) {
		struct rxu_req *req = &r->reqs[i];
		struct rxu_cqe64 c = { .status = (uint64_t)status };
		int cancelled;
		uint64_t id;
		rxu_cqe_fn cb;
		void *ctx;

		if (req->state == RXU_REQ_FREE || req->ring != ring)
			continue;
		id = req_tag(i, req->gen);
		cb = req->cb;
		ctx = req->ctx;
		cancelled = req->state == RXU_REQ_CANCELLED;
		req_release(r, req);
		run_callback(r, cb, ctx, cancelled, id, &c);
	}
}

int rxu_cancel(struct rxu_reactor *r, uint64_t id)
{
	struct rxu_req *req;
	struct rxu_rring *rr;
	uint32_t idx, *link, prev;

	if (!r)
		return -EINVAL;
	req = req_lookup(r, id);
	if (!req || req->state == RXU_REQ_CANCELLED)
		return -ENOENT;
	if (req->state == RXU_REQ_INFLIGHT) {
		req->state = RXU_REQ_CANCELLED;
		return 0;
	}
	/* PENDING: unlink it from its ring's FIFO, free it now. */
	rr = &r->rings[req->ring];
	idx = req_index(r, req);
	link = &rr->pend_head;
	prev = RXU_NIL;
	while (*link != RXU_NIL && *link != idx) {
		prev = *link;
		link = &r->reqs[*link].next;
	}
	if (*link == idx) {
		*link = req->next;
		if (rr->pend_tail == idx)
			rr->pend_tail = prev;
	}
	req_release(r, req);
	return 0;
}

int rxu_request_live(const struct rxu_reactor *r, uint64_t id)
{
	const struct rxu_req *req = r ? req_lookup(r, id) : NULL;

	return req && (req->state == RXU_REQ_PENDING ||
		       req->state == RXU_REQ_INFLIGHT);
}

uint32_t rxu_reactor_requests(const struct rxu_reactor *r)
{
	return r ? r->used : 0;
}

void rxu_cqe_store(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		   void *ctx)
{
	(void)r;
	*(struct rxu_cqe64 *)ctx = *cqe;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int rxu_reactor_wait(struct rxu_reactor *r, uint64_t id, uint64_t timeout_ns)
{
	uint64_t deadline = 0;

	if (!r || id >> 32 || (id & RXU_TAG_INDEX_MASK) >= r->cap)
		return -EINVAL;
	if (r->depth)
		return -EDEADLK;
	if (timeout_ns)
		deadline = now_ns() + timeout_ns;

	while (rxu_request_live(r, id)) {
		uint64_t left = 0;
		int ret;

		if (deadline) {
			uint64_t now = now_ns();

			if (now >= deadline)
				return -ETIME;
			left = deadline - now;
		}
		ret = rxu_reactor_run_once(r, left, 0);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int64_t rxu_reactor_call(struct rxu_reactor *r, int ring,
			 const struct rxu_sqe64 *sqe, struct rxu_cqe64 *cqe,
			 uint64_t timeout_ns)
{
	struct rxu_cqe64 c = { .status = (uint64_t)(int64_t)-EIO };
	uint64_t id;
	int ret;

	if (r && r->depth)
		return -EDEADLK;
	ret = rxu_submit(r, ring, sqe, rxu_cqe_store, &c, &id);
	if (ret)
		return ret;
	ret = rxu_reactor_wait(r, id, timeout_ns);
	if (ret) {
		/* c lives on this stack: the callback must never run now. */
		rxu_cancel(r, id);
		return ret;
	}
	if (cqe)
		*cqe = c;
	return rxu_cqe_result(&c);
}
