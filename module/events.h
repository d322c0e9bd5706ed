/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RXU_EVENTS_H
#define RXU_EVENTS_H

#include <linux/list.h>
#include <linux/poll.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "instance.h"
#include "opdef.h"

struct rxu_instance;

/* A completion as the kernel keeps it before it reaches the CQ. */
struct rxu_cqe_k {
	u64 user_data;
	s64 status;
	u64 flags;
	u64 extra;
};

/*
 * The CQ as one ENTER fills it: CQEs go to tail, tail + 1, ... and are
 * published together.  room counts the free slots; those that requests in
 * flight have reserved (inst->reserved) are only for them.
 */
struct rxu_cq_batch {
	u64 head;
	u64 tail;
	u64 room;
	u64 count;
};

/*
 * Our place on a file's wait queues (a file may use two: pipes and ttys
 * have one for each direction).  Its owner embeds it and finds itself
 * from the wake-up callback with container_of().
 */
struct rxu_poll_entry {
	struct wait_queue_entry wait;
	wait_queue_head_t *head;	/* NULL once the queue went away */
	struct rxu_poller *poller;
};

struct rxu_poller {
	int nr;
	struct rxu_poll_entry entry[2];
};

int rxu_poller_arm(struct rxu_poller *p, struct file *file, __poll_t events,
		   wait_queue_func_t func, __poll_t *mask);
void rxu_poller_disarm(struct rxu_poller *p);
void rxu_poller_pollfree(struct rxu_poll_entry *pe);

/* RXU_EVENT_* and EPOLL* bits, both ways. */
u32 rxu_poll_to_event(__poll_t mask);
__poll_t rxu_event_to_poll(u32 mask);

/* The rules for watching a file, shared by FILES_UPDATE and event: queues. */
int rxu_watch_check(const struct file *file, u32 mask, const void *self);
struct file *rxu_watch_pin(struct file *file);

enum rxu_async_kind {
	RXU_ASYNC_PARKED,	/* an op waiting for its file */
	RXU_ASYNC_DEFERRED,	/* an op waiting for CHAIN/DRAIN */
	RXU_ASYNC_WATCH,	/* a FILES_UPDATE subscription */
	RXU_ASYNC_SCHEME,	/* an op forwarded to a scheme */
};

struct rxu_sreq;

/*
 * Work that outlives the ENTER that took its SQE.  Owned by the instance
 * (inst->asyncs, under submit_lock); the wake-up callback only sets bits
 * in fired and queues it on inst->ready under ready_lock.
 */
struct rxu_async {
	struct list_head node;		/* inst->asyncs or inst->ops */
	struct list_head ready_node;	/* inst->ready; under ready_lock */
	struct list_head backlog_node;	/* inst->backlog / overflow */
	struct rxu_instance *inst;
	enum rxu_async_kind kind;
	bool queued;			/* on inst->ready; under ready_lock */
	bool gone;			/* POLLFREE seen; under ready_lock */
	__poll_t fired;			/* keys seen; under ready_lock */
	__poll_t taken;			/* fired, as ENTER took it */
	bool taken_gone;		/* gone, as ENTER took it */
	bool in_backlog;		/* on inst->backlog */
	bool ended;			/* a subscription that ended */
	__poll_t events;		/* EPOLL* bits waited for */
	struct file *file;		/* polled file (a reference), or NULL */
	struct rxu_poller poller;

	/* ops (and user_data for watches) */
	struct mm_struct *mm;		/* whose memory the op uses */
	struct rxu_req req;
	struct rxu_sreq *sreq;		/* RXU_ASYNC_SCHEME */

	/* watches */
	int fd;				/* reported in EVENT CQEs */
	u32 mask;			/* RXU_EVENT_* */
	bool oneshot;			/* once ended: LAST_UPDATE still owed */
	u32 pending;			/* events not yet posted (CQ full) */
};

void rxu_events_init(struct rxu_instance *inst);
int rxu_events_arm(struct rxu_async *a, struct file *file, __poll_t events,
		   __poll_t *mask);
void rxu_events_disarm(struct rxu_async *a);
struct rxu_async *rxu_async_alloc(struct rxu_instance *inst,
				  enum rxu_async_kind kind);
void rxu_async_free(struct rxu_async *a);
void rxu_async_wake(struct rxu_async *a);
void rxu_async_to_foreign(struct rxu_instance *inst, struct rxu_async *a);
bool rxu_events_pending(struct rxu_instance *inst);
void rxu_events_process(struct rxu_instance *inst, struct rxu_cq_batch *b);
void rxu_events_cancel_all(struct rxu_instance *inst);

void rxu_backlog_flush(struct rxu_instance *inst, struct rxu_cq_batch *b);
void rxu_watch_queue(struct rxu_instance *inst, struct rxu_async *a);
void rxu_watch_end(struct rxu_instance *inst, struct rxu_async *a);

/* The event: queue (evqueue.c). */
extern const struct file_operations rxu_evq_fops;
struct file *rxu_evq_new_file(int o_flags);

/* Park a READ/WRITE-family request on file until it is ready. */
s64 rxu_park(struct rxu_req *req, struct file *file, __poll_t events);
/* Retry a parked op: its result, or -EAGAIN to stay parked. */
s64 rxu_rw_retry(struct rxu_req *req, struct file *file, __poll_t events);

/*
 * Write one CQE into the batch; inline, as it is on every op's path.  A
 * reserved post uses the slot its op reserved when it was taken from the
 * SQ; any other one only room beyond all reservations, else it fails and
 * the caller keeps the CQE.
 */
static inline bool rxu_cq_post(struct rxu_instance *inst,
			       struct rxu_cq_batch *b,
			       const struct rxu_cqe_k *cqe, bool reserved)
{
	u64 idx = b->tail + b->count;

	if (reserved) {
		/* rxu_submit() checked room >= reserved at its snapshot. */
		if (WARN_ON_ONCE(!b->room || !inst->reserved))
			return false;
		inst->reserved--;
	} else if (b->room <= inst->reserved) {
		return false;
	}

	if (rxu_is_bits32(inst)) {
		struct rxu_cqe32 *c = rxu_kring_slot(&inst->cq, idx);
		s64 status = cqe->status;

		/* A success that a 32-bit status cannot tell from -errno. */
		if (status > (s64)U32_MAX - MAX_ERRNO - 1)
			status = -EOVERFLOW;
		WRITE_ONCE(c->user_data, (u32)cqe->user_data);
		WRITE_ONCE(c->status, (u32)status);
		WRITE_ONCE(c->flags, (u32)cqe->flags);
		WRITE_ONCE(c->extra, (u32)cqe->extra);
	} else {
		struct rxu_cqe64 *c = rxu_kring_slot(&inst->cq, idx);

		WRITE_ONCE(c->user_data, cqe->user_data);
		WRITE_ONCE(c->status, (u64)cqe->status);
		WRITE_ONCE(c->flags, cqe->flags);
		WRITE_ONCE(c->extra, cqe->extra);
	}
	b->count++;
	b->room--;
	return true;
}

#endif /* RXU_EVENTS_H */
