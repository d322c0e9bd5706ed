// SPDX-License-Identifier: MIT
/*
 * Host tests of lib/reactor.c and lib/executor.c without the kernel
 * module.  The rings are plain memory (instances with fd -1: the fully
 * polled mode, never entered), and the test plays every peer: it pops
 * the SQEs the reactor pushed and answers with CQEs of its choice, or
 * pushes SQEs into a producer ring and pops the replies.  Covered: the
 * callback and its context, pointer user_data on the primary, tag
 * validation against forged, stale, foreign and never-issued tags (and
 * a flood of random ones), callback order, SQ-full queueing, multi-shot
 * requests, cancellation, dropped rings, the producer bound
 * (back-pressure), replies that find the CQ full, 32-bit rings, the
 * straight-line helpers against a peer thread, and misuse (-EDEADLK,
 * -EINVAL, -ENOBUFS).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rxu.h"
#include "fake_ring.h"
#include "tap.h"

/* ------------------------------------------------------------------ */
/* The peer of memory-only instances (fake_ring.h)                     */
/* ------------------------------------------------------------------ */

/* The peer of a consumer ring: pop the SQE the reactor pushed. */
static int peer_pop(struct fake *f, struct rxu_sqe64 *sqe)
{
	return rxu_pop_sqe(&f->in, sqe);
}

/* ...and answer it. */
static int peer_answer(struct fake *f, uint64_t user_data, int64_t status,
		       uint64_t flags)
{
	struct rxu_cqe64 c = {
		.user_data = user_data, .status = (uint64_t)status,
		.flags = flags,
	};

	return rxu_push_cqe(&f->in, &c);
}

/* A callback that records what it saw. */
#define LOG_MAX 64
struct log {
	int n;
	uint64_t id[LOG_MAX];
	int64_t res[LOG_MAX];
	uint64_t flags[LOG_MAX];
	uintptr_t ctx[LOG_MAX];
};

static struct log lg;

static void log_cb(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		   void *ctx)
{
	(void)r;
	if (lg.n < LOG_MAX) {
		lg.id[lg.n] = cqe->user_data;
		lg.res[lg.n] = rxu_cqe_result(cqe);
		lg.flags[lg.n] = cqe->flags;
		lg.ctx[lg.n] = (uintptr_t)ctx;
	}
	lg.n++;
}

/* Run NOWAIT turns until nothing more happens. */
static int drain(struct rxu_reactor *r)
{
	int total = 0, n;

	while ((n = rxu_reactor_run_once(r, 0, RXU_RUN_NOWAIT)) > 0)
		total += n;
	return n < 0 ? n : total;
}

/* ------------------------------------------------------------------ */
/* Consumer rings: callbacks and tags                                  */
/* ------------------------------------------------------------------ */

static int test_submit_callback(void)
{
	struct rxu_reactor *r;
	struct fake c;
	struct rxu_sqe64 sqe, got;
	uint64_t id;
	int ring;

	memset(&lg, 0, sizeof(lg));
	CHECK(fake_init(&c, 8, 8, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&r, NULL, 16), 0);
	ring = rxu_reactor_add_consumer(r, &c.in);
	CHECK(ring > 0);

	rxu_prep_pread(&sqe, 5, NULL, 100, 7, 0xdeadbeef);
	sqe.addr = 4096;			/* a pool offset */
	CHECK_EQ(rxu_submit(r, ring, &sqe, log_cb, (void *)0x1234, &id), 0);
	CHECK(rxu_request_live(r, id));
	CHECK_EQ(rxu_reactor_requests(r), 1);

	/* The peer sees our SQE with a tag, not the caller's user_data. */
	CHECK_EQ(peer_pop(&c, &got), 0);
	CHECK_EQ(got.opcode, RXU_OP_PREAD);
	CHECK_EQ(got.fd, 5);
	CHECK_EQ(got.addr, 4096);
	CHECK_EQ(got.len, 100);
	CHECK_EQ(got.offset, 7);
	CHECK(got.user_data != 0xdeadbeef);
	CHECK(got.user_data <= UINT32_MAX);	/* a tag, not a pointer */
	CHECK_EQ(got.user_data, id);

	CHECK_EQ(drain(r), 0);			/* no CQE yet */
	CHECK_EQ(lg.n, 0);
	CHECK_EQ(peer_answer(&c, got.user_data, 100, 0), 0);
	CHECK_EQ(drain(r), 1);
	CHECK_EQ(lg.n, 1);
	CHECK_EQ(lg.id[0], id);			/* user_data = request id */
	CHECK_EQ(lg.res[0], 100);
	CHECK_EQ(lg.ctx[0], 0x1234);
	CHECK(!rxu_request_live(r, id));
	CHECK_EQ(rxu_reactor_requests(r), 0);

	/* The same CQE again: the request is over, the CQE is ignored. */
	CHECK_EQ(peer_answer(&c, got.user_data, 100, 0), 0);
	CHECK_EQ(drain(r), 1);
	CHECK_EQ(lg.n, 1);
	{
		struct rxu_reactor_stats st;

		rxu_reactor_stats(r, &st);
		CHECK_EQ(st.cqes, 1);
		CHECK_EQ(st.stale_tag, 1);
	}
	rxu_reactor_destroy(r);
	fake_free(&c);
	return 0;
}

static int test_primary_pointer(void)
{
	struct rxu_reactor *r;
	struct fake k;
	struct rxu_sqe64 sqe, got[3];
	uint64_t id[3];
	int i;

	memset(&lg, 0, sizeof(lg));
	CHECK(fake_init(&k, 8, 8, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&r, &k.in, 8), 0);
	for (i = 0; i < 3; i++) {
		rxu_prep_nop(&sqe, 0);
		CHECK_EQ(rxu_submit(r, RXU_RING_PRIMARY, &sqe, log_cb,
				    (void *)(uintptr_t)i, &id[i]), 0);
	}
	/* "The kernel" pops them: user_data is a pointer, distinct per SQE. */
	for (i = 0; i < 3; i++) {
		CHECK_EQ(peer_pop(&k, &got[i]), 0);
		CHECK(got[i].user_data != id[i]);
		CHECK(got[i].user_data != 0);
	}
	CHECK(got[0].user_data != got[1].user_data);
	for (i = 2; i >= 0; i--)
		CHECK_EQ(peer_answer(&k, got[i].user_data, i, 0), 0);
	/* A wild pointer is refused, not followed. */
	CHECK_EQ(peer_answer(&k, got[0].user_data + 8, 0, 0), 0);
	CHECK_EQ(peer_answer(&k, 0x10, 0, 0), 0);
	CHECK_EQ(drain(r), 5);
	CHECK_EQ(lg.n, 3);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(lg.id[i], id[2 - i]);
		CHECK_EQ(lg.ctx[i], 2 - i);
		CHECK_EQ(lg.res[i], 2 - i);
	}
	{
		struct rxu_reactor_stats st;

		rxu_reactor_stats(r, &st);
		CHECK_EQ(st.bad_tag, 2);
	}
	rxu_reactor_destroy(r);
	fake_free(&k);
	return 0;
}

static int test_callback_order(void)
{
	struct rxu_reactor *r;
	struct fake c;
	struct rxu_sqe64 sqe, got[6];
	uint64_t id[6];
	static const int order[6] = { 3, 0, 5, 1, 4, 2 };
	int ring, i;

	memset(&lg, 0, sizeof(lg));
	CHECK(fake_init(&c, 8, 8, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&r, NULL, 16), 0);
	ring = rxu_reactor_add_consumer(r, &c.in);
	for (i = 0; i < 6; i++) {
		rxu_prep_nop(&sqe, 0);
		CHECK_EQ(rxu_submit(r, ring, &sqe, log_cb,
				    (void *)(uintptr_t)i, &id[i]), 0);
	}
	/* SQEs arrive in submission order... */
	for (i = 0; i < 6; i++) {
		CHECK_EQ(peer_pop(&c, &got[i]), 0);
		CHECK_EQ(got[i].user_data, id[i]);
	}
	/* ...callbacks run in CQE order, whatever that is. */
	for (i = 0; i < 6; i++)
		CHECK_EQ(peer_answer(&c, got[order[i]].user_data, order[i], 0),
			 0);
	CHECK_EQ(drain(r), 6);
	CHECK_EQ(lg.n, 6);
	for (i = 0; i < 6; i++) {
		tap_context("callback %d", i);
		CHECK_EQ(lg.id[i], id[order[i]]);
		CHECK_EQ(lg.ctx[i], order[i]);
	}
	rxu_reactor_destroy(r);
	fake_free(&c);
	return 0;
}

static int test_tag_validation(void)
{
	struct rxu_reactor *r;
	struct fake a, b;
	struct rxu_sqe64 sqe, got;
	struct rxu_reactor_stats st;
	uint64_t ida, ida2, idb, old;
	int ra, rb;

	memset(&lg, 0, sizeof(lg));
	CHECK(fake_init(&a, 8, 8, 0) == 0);
	CHECK(fake_init(&b, 8, 8, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&r, NULL, 4), 0);
	ra = rxu_reactor_add_consumer(r, &a.in);
	rb = rxu_reactor_add_consumer(r, &b.in);
	CHECK(ra > 0 && rb > 0 && ra != rb);

	/* One request completes; its slot is reused by the next one. */
	rxu_prep_nop(&sqe, 0);
	CHECK_EQ(rxu_submit(r, ra, &sqe, log_cb, NULL, &ida), 0);
	CHECK_EQ(peer_pop(&a, &got), 0);
	old = got.user_data;
	CHECK_EQ(peer_answer(&a, old, 0, 0), 0);
	CHECK_EQ(drain(r), 1);
	CHECK_EQ(lg.n, 1);
	CHECK_EQ(rxu_submit(r, ra, &sqe, log_cb, NULL, &ida2), 0);
	CHECK_EQ(peer_pop(&a, &got), 0);
	CHECK_EQ(got.user_data & 0xffff, old & 0xffff);	/* same slot */
	CHECK(got.user_data != old);			/* new generation */
	CHECK_EQ(rxu_submit(r, rb, &sqe, log_cb, NULL, &idb), 0);

	/* Wrong generation: the old tag of the slot. */
	CHECK_EQ(peer_answer(&a, old, 0, 0), 0);
	/* Out of range: index past the table, high bits, zero. */
	CHECK_EQ(peer_answer(&a, (1ULL << 16) | 4, 0, 0), 0);
	CHECK_EQ(peer_answer(&a, (1ULL << 16) | 0xffff, 0, 0), 0);
	CHECK_EQ(peer_answer(&a, 1ULL << 40 | ida2, 0, 0), 0);
	CHECK_EQ(peer_answer(&a, 0, 0, 0), 0);
	/* Never made: an in-range slot with no request, its next generation. */
	CHECK_EQ(peer_answer(&a, (1ULL << 16) | 3, 0, 0), 0);
	/* Another ring's request, answered by this ring's peer. */
	CHECK_EQ(peer_answer(&a, idb, 0, 0), 0);
	CHECK_EQ(drain(r), 7);
	CHECK_EQ(lg.n, 1);			/* none of them reached a callback */
	CHECK(rxu_request_live(r, ida2));
	CHECK(rxu_request_live(r, idb));
	rxu_reactor_stats(r, &st);
	CHECK_EQ(st.stale_tag, 1);
	CHECK_EQ(st.bad_tag, 4);
	CHECK_EQ(st.unknown_tag, 1);
	CHECK_EQ(st.wrong_ring, 1);
	CHECK_EQ(st.cqes, 1);

	/* The right CQEs still complete them. */
	CHECK_EQ(peer_answer(&a, ida2, -ENOENT, 0), 0);
	CHECK_EQ(peer_pop(&b, &got), 0);
	CHECK_EQ(peer_answer(&b, got.user_data, 9, 0), 0);
	CHECK_EQ(drain(r), 2);
	CHECK_EQ(lg.n, 3);
	CHECK_EQ(lg.id[1], ida2);
	CHECK_EQ(lg.res[1], -ENOENT);
	CHECK_EQ(lg.id[2], idb);
	CHECK_EQ(lg.res[2], 9);
	CHECK_EQ(rxu_reactor_requests(r), 0);
	rxu_reactor_destroy(r);
	fake_free(&a);
	fake_free(&b);
	return 0;
}

/* A hostile peer floods the CQ with random user_data: all ignored. */
static int test_tag_flood(void)
{
	struct rxu_reactor *r;
	struct fake c;
	struct rxu_sqe64 sqe;
	struct rxu_reactor_stats st;
	unsigned long long seed = 0x1234567;
	uint64_t ids[8];
	int ring, i, sent = 0;

	memset(&lg, 0, sizeof(lg));
	CHECK(fake_init(&c, 8, 64, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&r, NULL, 64), 0);
	ring = rxu_reactor_add_consumer(r, &c.in);
	rxu_prep_nop(&sqe, 0);
	for (i = 0; i < 8; i++)
		CHECK_EQ(rxu_submit(r, ring, &sqe, log_cb, NULL, &ids[i]), 0);
	while (sent < 20000) {
		uint64_t ud = tap_rand(&seed);
		int k;

		switch (ud & 3) {
		case 0:
			ud >>= 32;		/* small, 32-bit */
			break;
		case 1:
			ud &= 0xffffffff;
			ud &= ~(uint64_t)0xffff;
			ud |= 8 + (ud >> 16) % 56;	/* free slots */
			break;
		default:
			break;
		}
		for (k = 0; k < 8; k++)
			if (ud == ids[k])
				ud ^= 1ULL << 40;
		if (peer_answer(&c, ud, (int64_t)tap_rand(&seed),
				tap_rand(&seed)) == 0)
			sent++;
		else
			CHECK(drain(r) >= 0);
	}
	CHECK(drain(r) >= 0);
	CHECK_EQ(lg.n, 0);
	for (i = 0; i < 8; i++)
		CHECK(rxu_request_live(r, ids[i]));
	rxu_reactor_stats(r, &st);
	CHECK_EQ(st.bad_tag + st.stale_tag + st.unknown_tag + st.wrong_ring,
		 20000);
	CHECK_EQ(st.cqes, 0);
	rxu_reactor_destroy(r);
	fake_free(&c);
	return 0;
}

static int test_sq_full_queue(void)
{
	struct rxu_reactor *r;
	struct fake c;
	struct rxu_sqe64 sqe, got;
	uint64_t id[6];
	int ring, i;

	memset(&lg, 0, sizeof(lg));
	CHECK(fake_init(&c, 2, 8, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&r, NULL, 8), 0);
	ring = rxu_reactor_add_consumer(r, &c.in);
	for (i = 0; i < 6; i++) {
		rxu_prep_nop(&sqe, 0);
		sqe.offset = (uint64_t)i;	/* tells them apart */
		CHECK_EQ(rxu_submit(r, ring, &sqe, log_cb, NULL, &id[i]), 0);
	}
	CHECK_EQ(rxu_ring_available(&c.in.sq), 2);
	/* Cancel one that is still waiting in the reactor. */
	CHECK_EQ(rxu_cancel(r, id[3]), 0);
	CHECK(!rxu_request_live(r, id[3]));
	CHECK_EQ(rxu_cancel(r, id[3]), -ENOENT);
	for (i = 0; i < 6; i++) {
		if (i == 3)
			continue;
		tap_context("sqe %d", i);
		if (rxu_ring_available(&c.in.sq) == 0)
			CHECK(drain(r) >= 0);	/* pushes waiting SQEs */
		CHECK_EQ(peer_pop(&c, &got), 0);
		CHECK_EQ(got.offset, i);	/* in submission order */
		CHECK_EQ(got.user_data, id[i]);
		CHECK_EQ(peer_answer(&c, got.user_data, i, 0), 0);
	}
	CHECK(drain(r) >= 0);
	CHECK_EQ(lg.n, 5);
	for (i = 0; i < 5; i++)
		CHECK_EQ(lg.res[i], i < 3 ? i : i + 1);
	CHECK_EQ(peer_pop(&c, &got), -EAGAIN);
	CHECK_EQ(rxu_reactor_requests(r), 0);
	rxu_reactor_destroy(r);
	fake_free(&c);
	return 0;
}

static int test_multishot_and_cancel(void)
{
	struct rxu_reactor *r;
	struct fake k;
	struct rxu_sqe64 sqe, got, got2;
	uint64_t id, id2;

	memset(&lg, 0, sizeof(lg));
	CHECK(fake_init(&k, 8, 8, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&r, &k.in, 8), 0);
	rxu_prep_files_update(&sqe, 3, RXU_EVENT_READ, 1, 0);
	CHECK_EQ(rxu_submit(r, 0, &sqe, log_cb, NULL, &id), 0);
	CHECK_EQ(peer_pop(&k, &got), 0);
	CHECK_EQ(peer_answer(&k, got.user_data, 0, 0), 0);
	CHECK_EQ(peer_answer(&k, got.user_data, 3,
			     RXU_CQE_EVENT | RXU_EVENT_READ << 8), 0);
	CHECK_EQ(peer_answer(&k, got.user_data, 3,
			     RXU_CQE_EVENT | RXU_EVENT_READ << 8), 0);
	CHECK_EQ(drain(r), 3);
	CHECK_EQ(lg.n, 3);
	CHECK(rxu_request_live(r, id));		/* still subscribed */
	CHECK_EQ(peer_answer(&k, got.user_data, 0, RXU_CQE_LAST_UPDATE), 0);
	CHECK_EQ(drain(r), 1);
	CHECK_EQ(lg.n, 4);
	CHECK(lg.flags[3] & RXU_CQE_LAST_UPDATE);
	CHECK(!rxu_request_live(r, id));

	/* A failed registration ends at its status CQE. */
	CHECK_EQ(rxu_submit(r, 0, &sqe, log_cb, NULL, &id), 0);
	CHECK_EQ(peer_pop(&k, &got), 0);
	CHECK_EQ(peer_answer(&k, got.user_data, -EBADF, 0), 0);
	CHECK_EQ(drain(r), 1);
	CHECK_EQ(lg.n, 5);
	CHECK(!rxu_request_live(r, id));

	/* Cancelled in flight: its CQEs are dropped until the last. */
	CHECK_EQ(rxu_submit(r, 0, &sqe, log_cb, NULL, &id), 0);
	rxu_prep_nop(&sqe, 0);
	CHECK_EQ(rxu_submit(r, 0, &sqe, log_cb, NULL, &id2), 0);
	CHECK_EQ(peer_pop(&k, &got), 0);
	CHECK_EQ(peer_pop(&k, &got2), 0);
	CHECK_EQ(rxu_cancel(r, id), 0);
	CHECK_EQ(rxu_cancel(r, id2), 0);
	CHECK_EQ(peer_answer(&k, got.user_data, 0, 0), 0);
	CHECK_EQ(peer_answer(&k, got2.user_data, 0, 0), 0);
	CHECK_EQ(peer_answer(&k, got.user_data, 3, RXU_CQE_EVENT | 1 << 8), 0);
	CHECK_EQ(drain(r), 3);
	CHECK_EQ(lg.n, 5);
	CHECK_EQ(rxu_reactor_requests(r), 1);	/* the subscription's slot */
	CHECK_EQ(peer_answer(&k, got.user_data, 0, RXU_CQE_LAST_UPDATE), 0);
	CHECK_EQ(drain(r), 1);
	CHECK_EQ(lg.n, 5);
	CHECK_EQ(rxu_reactor_requests(r), 0);
	{
		struct rxu_reactor_stats st;

		rxu_reactor_stats(r, &st);
		CHECK_EQ(st.cancelled, 4);
	}
	rxu_reactor_destroy(r);
	fake_free(&k);
	return 0;
}

static int test_dropped_and_removed(void)
{
	struct rxu_reactor *r;
	struct fake a, b;
	struct rxu_sqe64 sqe, got;
	uint64_t id[3];
	int ra, rb;

	memset(&lg, 0, sizeof(lg));
	CHECK(fake_init(&a, 1, 8, 0) == 0);
	CHECK(fake_init(&b, 8, 8, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&r, NULL, 8), 0);
	ra = rxu_reactor_add_consumer(r, &a.in);
	rb = rxu_reactor_add_consumer(r, &b.in);
	rxu_prep_nop(&sqe, 0);
	CHECK_EQ(rxu_submit(r, ra, &sqe, log_cb, NULL, &id[0]), 0);
	CHECK_EQ(rxu_submit(r, ra, &sqe, log_cb, NULL, &id[1]), 0); /* waits */
	CHECK_EQ(rxu_submit(r, rb, &sqe, log_cb, NULL, &id[2]), 0);

	/* Peer a answers one and goes away. */
	CHECK_EQ(peer_pop(&a, &got), 0);
	CHECK_EQ(peer_answer(&a, got.user_data, 1, 0), 0);
	rxu_ring_set_drop(&a.in.cq);
	rxu_ring_set_drop(&a.in.sq);
	CHECK_EQ(drain(r), 1);
	CHECK_EQ(lg.n, 2);
	CHECK_EQ(lg.id[0], id[0]);
	CHECK_EQ(lg.res[0], 1);			/* what was there is delivered */
	CHECK_EQ(lg.id[1], id[1]);
	CHECK_EQ(lg.res[1], -ESHUTDOWN);	/* the rest fails */
	CHECK_EQ(rxu_submit(r, ra, &sqe, log_cb, NULL, NULL), -ESHUTDOWN);
	CHECK(rxu_request_live(r, id[2]));	/* other rings go on */

	/* Removing b cancels its request. */
	CHECK_EQ(rxu_reactor_remove(r, rb), 0);
	CHECK_EQ(lg.n, 3);
	CHECK_EQ(lg.id[2], id[2]);
	CHECK_EQ(lg.res[2], -ECANCELED);
	CHECK_EQ(rxu_submit(r, rb, &sqe, log_cb, NULL, NULL), -EINVAL);
	CHECK_EQ(rxu_reactor_remove(r, rb), -EINVAL);
	CHECK_EQ(rxu_reactor_remove(r, ra), 0);
	CHECK_EQ(rxu_reactor_requests(r), 0);

	/* A broken header: -EIO for what was in flight. */
	CHECK_EQ(rxu_reactor_add_consumer(r, &b.in), ra);	/* slot reused */
	CHECK_EQ(rxu_submit(r, ra, &sqe, log_cb, NULL, &id[0]), 0);
	((struct rxu_ring_header *)b.mem[2])->tail_index = 1000;
	CHECK_EQ(drain(r), 0);
	CHECK_EQ(lg.n, 4);
	CHECK_EQ(lg.res[3], -EIO);
	{
		struct rxu_reactor_stats st;

		rxu_reactor_stats(r, &st);
		CHECK_EQ(st.dead_rings, 2);
	}
	rxu_reactor_destroy(r);
	fake_free(&a);
	fake_free(&b);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Producer rings: handlers and back-pressure                          */
/* ------------------------------------------------------------------ */

struct handled {
	int n, closed;
	uint64_t ud[64];
	int reply_now;			/* answer from inside the handler */
};

static void handler(struct rxu_reactor *r, int ring,
		    const struct rxu_sqe64 *sqe, void *ctx)
{
	struct handled *h = ctx;

	if (!sqe) {
		h->closed++;
		return;
	}
	if (h->n < 64)
		h->ud[h->n] = sqe->user_data;
	h->n++;
	if (h->reply_now)
		rxu_reactor_respond(r, ring, sqe->user_data,
				    (int64_t)sqe->offset);
}

/* The consumer peer of a producer ring pushes NOPs. */
static int peer_send(struct fake *f, int count, uint64_t first)
{
	struct rxu_sqe64 sqe;
	int i;

	for (i = 0; i < count; i++) {
		rxu_prep_nop(&sqe, first + (uint64_t)i);
		sqe.offset = first + (uint64_t)i;
		if (rxu_queue_sqe(&f->in, &sqe))
			return -1;
	}
	return 0;
}

static int test_backpressure(void)
{
	struct rxu_reactor *r;
	struct handled h = { 0 };
	struct fake p;
	struct rxu_cqe64 cqe;
	int ring, i;

	CHECK(fake_init(&p, 16, 16, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&r, NULL, 4), 0);
	CHECK_EQ(rxu_reactor_add_producer(r, &p.in, 0, handler, &h), -EINVAL);
	ring = rxu_reactor_add_producer(r, &p.in, 4, handler, &h);
	CHECK(ring > 0);
	CHECK(peer_send(&p, 10, 100) == 0);

	/* Four popped, six left in the SQ: the bound holds. */
	CHECK_EQ(drain(r), 4);
	CHECK_EQ(h.n, 4);
	CHECK_EQ(rxu_reactor_outstanding(r, ring), 4);
	CHECK_EQ(rxu_ring_available(&p.in.sq), 6);
	CHECK_EQ(drain(r), 0);
	CHECK_EQ(h.n, 4);

	/* Two answers (out of order) let two more in. */
	CHECK_EQ(rxu_reactor_respond(r, ring, h.ud[2], 2), 0);
	CHECK_EQ(rxu_reactor_respond(r, ring, h.ud[0], 0), 0);
	CHECK_EQ(rxu_reactor_outstanding(r, ring), 2);
	CHECK_EQ(drain(r), 2);
	CHECK_EQ(h.n, 6);
	CHECK_EQ(rxu_ring_available(&p.in.sq), 4);
	for (i = 0; i < 6; i++)
		CHECK_EQ(h.ud[i], 100 + i);	/* handed over in ring order */

	/* The replies reached the CQ, in the order they were given. */
	CHECK_EQ(rxu_pop_cqe(&p.in, &cqe), 0);
	CHECK_EQ(cqe.user_data, 102);
	CHECK_EQ(rxu_pop_cqe(&p.in, &cqe), 0);
	CHECK_EQ(cqe.user_data, 100);

	/* post() is not an answer; respond() with nothing outstanding is. */
	cqe = (struct rxu_cqe64){ .user_data = 7, .flags = RXU_CQE_EVENT };
	CHECK_EQ(rxu_reactor_post(r, ring, &cqe), 0);
	CHECK_EQ(rxu_reactor_outstanding(r, ring), 4);
	for (i = 0; i < 4; i++)
		CHECK_EQ(rxu_reactor_respond(r, ring, 0, 0), 0);
	CHECK_EQ(rxu_reactor_respond(r, ring, 0, 0), -EINVAL);

	/* Answering from the handler itself keeps the stream going. */
	h.reply_now = 1;
	CHECK_EQ(drain(r), 4);
	CHECK_EQ(h.n, 10);
	CHECK_EQ(rxu_reactor_outstanding(r, ring), 0);
	CHECK_EQ(rxu_ring_available(&p.in.sq), 0);
	CHECK_EQ(rxu_ring_available(&p.in.cq), 1 + 4 + 4);

	/* Misuse: reply on nothing, submit on a producer ring. */
	CHECK_EQ(rxu_reactor_respond(r, 0, 0, 0), -EINVAL);
	CHECK_EQ(rxu_reactor_outstanding(r, 0), -EINVAL);
	{
		struct rxu_sqe64 sqe;

		rxu_prep_nop(&sqe, 0);
		CHECK_EQ(rxu_submit(r, ring, &sqe, log_cb, NULL, NULL),
			 -EINVAL);
	}
	rxu_reactor_destroy(r);
	fake_free(&p);
	return 0;
}

static int test_reply_backlog(void)
{
	struct rxu_reactor *r;
	struct handled h = { .reply_now = 1 };
	struct fake p;
	struct rxu_cqe64 cqe;
	int ring, i;

	CHECK(fake_init(&p, 16, 2, 0) == 0);	/* a CQ of 2 */
	CHECK_EQ(rxu_reactor_create(&r, NULL, 4), 0);
	ring = rxu_reactor_add_producer(r, &p.in, 3, handler, &h);
	CHECK(peer_send(&p, 8, 0) == 0);

	/* 3 answered: 2 in the CQ, 1 waits; it still counts. */
	CHECK_EQ(drain(r), 3);
	CHECK_EQ(h.n, 3);
	CHECK_EQ(rxu_reactor_outstanding(r, ring), 1);
	/* The peer pops one; the waiting reply goes in, 1 more SQE in. */
	for (i = 0; i < 8; i++) {
		tap_context("cqe %d", i);
		while (rxu_pop_cqe(&p.in, &cqe) == -EAGAIN)
			CHECK(drain(r) > 0 ||
			      rxu_ring_available(&p.in.cq) > 0);
		CHECK_EQ(cqe.user_data, i);	/* order kept through the backlog */
		CHECK_EQ(rxu_cqe_result(&cqe), i);
	}
	CHECK_EQ(h.n, 8);
	CHECK_EQ(drain(r), 0);
	CHECK_EQ(rxu_reactor_outstanding(r, ring), 0);
	rxu_reactor_destroy(r);
	fake_free(&p);
	return 0;
}

static int test_producer_dropped(void)
{
	struct rxu_reactor *r;
	struct handled h = { 0 };
	struct fake p;
	int ring;

	CHECK(fake_init(&p, 4, 4, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&r, NULL, 4), 0);
	ring = rxu_reactor_add_producer(r, &p.in, 4, handler, &h);
	CHECK(peer_send(&p, 2, 0) == 0);
	rxu_ring_set_drop(&p.in.sq);
	rxu_ring_set_drop(&p.in.cq);
	CHECK_EQ(drain(r), 2);			/* what was pushed is served */
	CHECK_EQ(h.n, 2);
	CHECK_EQ(h.closed, 1);
	CHECK_EQ(drain(r), 0);
	CHECK_EQ(h.closed, 1);			/* told once */
	CHECK_EQ(rxu_reactor_respond(r, ring, 0, 0), -ESHUTDOWN);
	rxu_reactor_destroy(r);
	fake_free(&p);
	return 0;
}

/* ------------------------------------------------------------------ */
/* 32-bit rings                                                        */
/* ------------------------------------------------------------------ */

static int test_bits32(void)
{
	struct rxu_reactor *r;
	struct handled h = { .reply_now = 1 };
	struct fake c, p, k;
	struct rxu_sqe64 sqe, got;
	struct rxu_cqe64 cqe;
	uint64_t id;
	int rc, rp;

	memset(&lg, 0, sizeof(lg));
	CHECK(fake_init(&k, 4, 4, RXU_CREATE_BITS_32) == 0);
	CHECK(fake_init(&c, 4, 4, RXU_CREATE_BITS_32) == 0);
	CHECK(fake_init(&p, 4, 4, RXU_CREATE_BITS_32) == 0);
	CHECK_EQ(rxu_reactor_create(&r, &k.in, 8), 0);
	rc = rxu_reactor_add_consumer(r, &c.in);
	rp = rxu_reactor_add_producer(r, &p.in, 2, handler, &h);

	/* A 32-bit primary carries tags, not pointers. */
	rxu_prep_nop(&sqe, 0);
	CHECK_EQ(rxu_submit(r, 0, &sqe, log_cb, NULL, &id), 0);
	CHECK_EQ(peer_pop(&k, &got), 0);
	CHECK_EQ(got.user_data, id);
	CHECK_EQ(peer_answer(&k, got.user_data, -EPERM, 0), 0);

	/* Consumer: status sign-extended back from 32 bits. */
	rxu_prep_read(&sqe, 3, NULL, 10, 0);
	CHECK_EQ(rxu_submit(r, rc, &sqe, log_cb, NULL, &id), 0);
	CHECK_EQ(peer_pop(&c, &got), 0);
	CHECK_EQ(got.user_data, id);
	CHECK_EQ(peer_answer(&c, got.user_data, -EAGAIN, 0), 0);
	/* Too wide for an SQE32: refused at submit. */
	sqe.addr = 1ULL << 33;
	CHECK_EQ(rxu_submit(r, rc, &sqe, log_cb, NULL, NULL), -EOVERFLOW);

	CHECK_EQ(drain(r), 2);
	CHECK_EQ(lg.n, 2);
	CHECK_EQ(lg.res[0], -EPERM);
	CHECK_EQ(lg.res[1], -EAGAIN);

	/* Producer: SQE widened, reply narrowed. */
	rxu_prep_nop(&sqe, 0xfffffff0);
	sqe.offset = (uint64_t)-ENOTTY;		/* the handler's status */
	CHECK_EQ(rxu_queue_sqe(&p.in, &sqe), 0);
	CHECK_EQ(drain(r), 1);
	CHECK_EQ(h.ud[0], 0xfffffff0);
	CHECK_EQ(rxu_pop_cqe(&p.in, &cqe), 0);
	CHECK_EQ(cqe.user_data, 0xfffffff0);
	CHECK_EQ(rxu_cqe_result(&cqe), -ENOTTY);
	/* A reply that does not fit is refused, not truncated. */
	h.reply_now = 0;
	CHECK(peer_send(&p, 1, 1) == 0);
	CHECK_EQ(drain(r), 1);
	CHECK_EQ(rxu_reactor_respond(r, rp, 1ULL << 32, 0), -EOVERFLOW);
	CHECK_EQ(rxu_reactor_respond(r, rp, 1, 1LL << 32), -EOVERFLOW);
	CHECK_EQ(rxu_reactor_respond(r, rp, 1, -5000), -EOVERFLOW);
	CHECK_EQ(rxu_reactor_respond(r, rp, 1, -EIO), 0);
	CHECK_EQ(rxu_pop_cqe(&p.in, &cqe), 0);
	CHECK_EQ(rxu_cqe_result(&cqe), -EIO);
	rxu_reactor_destroy(r);
	fake_free(&k);
	fake_free(&c);
	fake_free(&p);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Straight-line helpers                                               */
/* ------------------------------------------------------------------ */

struct peer_thread {
	struct fake *f;
	int count;
	int done;
};

/* Answers count SQEs with their offset + 1, spinning on the ring. */
static void *peer_main(void *arg)
{
	struct peer_thread *pt = arg;
	int n = 0;

	while (n < pt->count) {
		struct rxu_sqe64 sqe;

		if (peer_pop(pt->f, &sqe))
			continue;
		while (peer_answer(pt->f, sqe.user_data,
				   (int64_t)sqe.offset + 1, 0) == -EAGAIN)
			;
		n++;
	}
	__atomic_store_n(&pt->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int test_call_with_peer_thread(void)
{
	struct rxu_reactor *r;
	struct fake c;
	struct peer_thread pt;
	pthread_t th;
	int ring, i;

	CHECK(fake_init(&c, 4, 4, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&r, NULL, 8), 0);
	ring = rxu_reactor_add_consumer(r, &c.in);
	pt = (struct peer_thread){ .f = &c, .count = 1000 };
	CHECK(pthread_create(&th, NULL, peer_main, &pt) == 0);
	for (i = 0; i < 1000; i++) {
		struct rxu_sqe64 sqe;
		struct rxu_cqe64 cqe;
		int64_t res;

		rxu_prep_nop(&sqe, 0);
		sqe.offset = (uint64_t)i;
		res = rxu_reactor_call(r, ring, &sqe, &cqe, 0);
		if (res != i + 1) {
			tap_context("call %d", i);
			pthread_join(th, NULL);
			CHECK_EQ(res, i + 1);
		}
	}
	pthread_join(th, NULL);
	CHECK_EQ(rxu_reactor_requests(r), 0);
	rxu_reactor_destroy(r);
	fake_free(&c);
	return 0;
}

static struct rxu_reactor *nested_r;
static int nested_ret[3];

static void nested_cb(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		      void *ctx)
{
	struct rxu_sqe64 sqe;

	(void)ctx;
	rxu_prep_nop(&sqe, 0);
	nested_ret[0] = rxu_reactor_wait(r, cqe->user_data, 0);
	nested_ret[1] = rxu_reactor_run_once(nested_r, 0, RXU_RUN_NOWAIT);
	nested_ret[2] = (int)rxu_reactor_call(r, 1, &sqe, NULL, 0);
}

static int test_wait_timeout_and_misuse(void)
{
	struct rxu_reactor *r;
	struct fake c;
	struct rxu_sqe64 sqe, got;
	uint64_t id, id2;
	int ring, i;

	CHECK(fake_init(&c, 4, 4, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&r, NULL, 2), 0);
	nested_r = r;
	ring = rxu_reactor_add_consumer(r, &c.in);
	CHECK_EQ(ring, 1);
	rxu_prep_nop(&sqe, 0);

	/* Nobody answers: -ETIME, and call() cancels its request. */
	CHECK_EQ(rxu_submit(r, ring, &sqe, log_cb, NULL, &id), 0);
	CHECK_EQ(rxu_reactor_wait(r, id, 20 * 1000 * 1000), -ETIME);
	CHECK(rxu_request_live(r, id));
	CHECK_EQ(rxu_reactor_call(r, ring, &sqe, NULL, 1000000), -ETIME);
	CHECK_EQ(rxu_reactor_requests(r), 2);	/* id, and the cancelled one */

	/* The table is full. */
	CHECK_EQ(rxu_submit(r, ring, &sqe, log_cb, NULL, NULL), -ENOBUFS);
	CHECK_EQ(rxu_reactor_call(r, ring, &sqe, NULL, 0), -ENOBUFS);

	/* Answer both; the cancelled one's callback never runs. */
	for (i = 0; i < 2; i++) {
		CHECK_EQ(peer_pop(&c, &got), 0);
		CHECK_EQ(peer_answer(&c, got.user_data, 0, 0), 0);
	}
	CHECK_EQ(drain(r), 2);
	CHECK_EQ(rxu_reactor_requests(r), 0);
	CHECK_EQ(rxu_reactor_wait(r, id, 0), 0);	/* done: at once */

	/* Waiting or running from inside a callback: -EDEADLK. */
	CHECK_EQ(rxu_submit(r, ring, &sqe, nested_cb, NULL, &id2), 0);
	CHECK_EQ(peer_pop(&c, &got), 0);
	CHECK_EQ(peer_answer(&c, got.user_data, 0, 0), 0);
	CHECK_EQ(drain(r), 1);
	CHECK_EQ(nested_ret[0], -EDEADLK);
	CHECK_EQ(nested_ret[1], -EDEADLK);
	CHECK_EQ(nested_ret[2], -EDEADLK);

	/* Bad arguments. */
	CHECK_EQ(rxu_submit(r, ring, &sqe, NULL, NULL, NULL), -EINVAL);
	CHECK_EQ(rxu_submit(r, 7, &sqe, log_cb, NULL, NULL), -EINVAL);
	CHECK_EQ(rxu_submit(r, -1, &sqe, log_cb, NULL, NULL), -EINVAL);
	CHECK_EQ(rxu_submit(r, RXU_REACTOR_MAX_RINGS, &sqe, log_cb, NULL,
			    NULL), -EINVAL);
	CHECK_EQ(rxu_submit(r, 0, &sqe, log_cb, NULL, NULL), -EINVAL);
	CHECK_EQ(rxu_reactor_wait(r, 1ULL << 40, 0), -EINVAL);
	CHECK_EQ(rxu_reactor_wait(r, 5, 0), -EINVAL);
	CHECK_EQ(rxu_reactor_run_once(r, 0, 0x80), -EINVAL);
	CHECK_EQ(rxu_reactor_create(&nested_r, NULL, 0), -EINVAL);
	CHECK_EQ(rxu_reactor_create(&nested_r, NULL,
				    RXU_REACTOR_MAX_REQUESTS + 1), -EINVAL);
	{
		struct rxu_instance empty;

		rxu_instance_from_fd(&empty, -1);
		CHECK_EQ(rxu_reactor_add_consumer(r, &empty), -EBADFD);
		CHECK_EQ(rxu_reactor_create(&nested_r, &empty, 4), -EBADFD);
	}
	/* All ring slots in use. */
	for (i = 2; i < RXU_REACTOR_MAX_RINGS; i++)
		CHECK_EQ(rxu_reactor_add_consumer(r, &c.in), i);
	CHECK_EQ(rxu_reactor_add_consumer(r, &c.in), -ENOSPC);
	/* A polled reactor: notify is a no-op, run() stops on request. */
	CHECK_EQ(rxu_reactor_notify(r), 0);
	rxu_reactor_destroy(r);
	fake_free(&c);
	return 0;
}

static void stop_cb(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		    void *ctx)
{
	(void)cqe;
	(*(int *)ctx)++;
	rxu_reactor_stop(r);
}

static int test_run_until_stop(void)
{
	struct rxu_reactor *r;
	struct fake c;
	struct rxu_sqe64 sqe, got;
	int ring, calls = 0;

	CHECK(fake_init(&c, 4, 4, 0) == 0);
	CHECK_EQ(rxu_reactor_create(&r, NULL, 4), 0);
	ring = rxu_reactor_add_consumer(r, &c.in);
	rxu_prep_nop(&sqe, 0);
	CHECK_EQ(rxu_submit(r, ring, &sqe, stop_cb, &calls, NULL), 0);
	CHECK_EQ(peer_pop(&c, &got), 0);
	CHECK_EQ(peer_answer(&c, got.user_data, 0, 0), 0);
	CHECK_EQ(rxu_reactor_run(r), 0);
	CHECK_EQ(calls, 1);
	rxu_reactor_destroy(r);
	fake_free(&c);
	return 0;
}

static const struct tap_test tests[] = {
	{ "reactor: submit, tag on the wire, callback with ctx", test_submit_callback },
	{ "reactor: primary carries pointers, wild ones refused", test_primary_pointer },
	{ "reactor: callbacks run in CQE order", test_callback_order },
	{ "reactor: stale, out-of-range, never-made, foreign tags ignored", test_tag_validation },
	{ "reactor: 20000 random CQEs from a hostile peer", test_tag_flood },
	{ "reactor: full SQ queues in order, cancel of a queued SQE", test_sq_full_queue },
	{ "reactor: multi-shot FILES_UPDATE, cancellation", test_multishot_and_cancel },
	{ "reactor: dropped, removed and broken rings", test_dropped_and_removed },
	{ "reactor: producer bound (back-pressure)", test_backpressure },
	{ "reactor: replies wait for CQ room, in order", test_reply_backlog },
	{ "reactor: producer ring dropped by its peer", test_producer_dropped },
	{ "reactor: 32-bit rings", test_bits32 },
	{ "reactor: rxu_reactor_call against a polling peer thread", test_call_with_peer_thread },
	{ "reactor: wait timeout, -ENOBUFS, -EDEADLK, bad arguments", test_wait_timeout_and_misuse },
	{ "reactor: run until stop", test_run_until_stop },
};

TAP_MAIN(tests)
