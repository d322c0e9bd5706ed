/* SPDX-License-Identifier: MIT */
/*
 * What reactor.c (rings, polling, doorbells, producer streams) and
 * executor.c (the request table, callbacks, waiting) share.  Private to
 * librxu.
 */
#ifndef RXU_LIB_REACTOR_INT_H
#define RXU_LIB_REACTOR_INT_H

#include <stdint.h>

#include "rxu.h"

#define RXU_NIL			UINT32_MAX
#define RXU_TAG_INDEX_BITS	16
#define RXU_TAG_INDEX_MASK	((1U << RXU_TAG_INDEX_BITS) - 1)
#define RXU_TAG_GEN_MASK	0xFFFFU

enum rxu_ring_kind {
	RXU_KIND_NONE = 0,		/* a free ring slot */
	RXU_KIND_PRIMARY,
	RXU_KIND_CONSUMER,
	RXU_KIND_PRODUCER,
};

/* The secondary ring's FILES_UPDATE watch on the primary. */
enum rxu_watch_state {
	RXU_WATCH_NONE = 0,		/* polled ring (or no kernel primary) */
	RXU_WATCH_ARMING,		/* submitted, status not seen yet */
	RXU_WATCH_ACTIVE,
	RXU_WATCH_FAILED,		/* status error, or ended: poll it */
};

enum rxu_req_state {
	RXU_REQ_FREE = 0,
	RXU_REQ_PENDING,		/* waiting for room in the SQ */
	RXU_REQ_INFLIGHT,		/* pushed, CQE(s) expected */
	RXU_REQ_CANCELLED,		/* in flight, callback suppressed */
};

struct rxu_backlog_cqe {
	struct rxu_cqe64 cqe;
	int counted;			/* answers an outstanding SQE */
};

struct rxu_rring {
	int kind;			/* enum rxu_ring_kind */
	int dead;			/* dropped by the peer, or broken */
	int dirty;			/* pushed or popped since the doorbell */
	int trusted;			/* pointer user_data (kernel, 64-bit) */
	struct rxu_instance *in;

	/* Primary and consumer rings: FIFO of RXU_REQ_PENDING requests. */
	uint32_t pend_head, pend_tail;

	/* Secondary rings. */
	int watch;			/* enum rxu_watch_state */
	uint64_t watch_id;		/* its request id */

	/* Producer rings. */
	rxu_sqe_fn handler;
	void *hctx;
	uint32_t bound, outstanding;
	struct rxu_backlog_cqe *backlog;
	size_t bl_head, bl_len, bl_cap;	/* live entries: [bl_head, bl_len) */
};

struct rxu_req {
	struct rxu_sqe64 sqe;		/* kept until pushed */
	rxu_cqe_fn cb;
	void *ctx;
	uint32_t next;			/* free list or pending FIFO */
	uint16_t gen;			/* never 0 */
	uint8_t state;			/* enum rxu_req_state */
	uint8_t multi;			/* ends only with LAST_UPDATE */
	int ring;
};

struct rxu_reactor {
	struct rxu_req *reqs;
	uint32_t cap, used, free_head;
	struct rxu_rring rings[RXU_REACTOR_MAX_RINGS];
	struct rxu_reactor_stats stats;
	int depth;			/* > 0 inside a callback or handler */
	int stop;
};

/* executor.c */
int rxu__table_init(struct rxu_reactor *r, uint32_t cap);
void rxu__table_free(struct rxu_reactor *r);
/* Route one CQE popped from ring (a primary or consumer ring). */
void rxu__dispatch_cqe(struct rxu_reactor *r, int ring,
		       const struct rxu_cqe64 *cqe);
/* Push pending SQEs of ring while there is room; <0 if the ring died. */
int rxu__flush_pending(struct rxu_reactor *r, int ring);
/* Complete every request of ring with status (no CQE from the peer). */
void rxu__fail_ring(struct rxu_reactor *r, int ring, int64_t status);
/* Submit a request whose callback is internal (watches). */
int rxu__submit(struct rxu_reactor *r, int ring, const struct rxu_sqe64 *sqe,
		rxu_cqe_fn cb, void *ctx, uint64_t *id);

/* reactor.c */
int rxu__ring_usable(const struct rxu_reactor *r, int ring);
int rxu__reactor_hand_over(struct rxu_reactor *r, int ring);

#endif /* RXU_LIB_REACTOR_INT_H */
