// SPDX-License-Identifier: GPL-2.0
/*
 * Readiness: ops parked on a file that would block, and FILES_UPDATE
 * subscriptions (ABI.md section 5).
 *
 * Both sit on the file's wait queue(s) through vfs_poll() with a wait
 * entry of ours, as epoll and io_uring's poll do.  The wake-up callback
 * runs in the waker's context, often atomic: it only records which events
 * fired, queues the request on its instance's ready list and wakes the
 * instance's ENTER waiters.  Everything else (retrying the op, posting
 * CQEs) happens in the next ENTER of that instance, under its submit_lock
 * and in its caller's context.
 *
 * Entries stay on the wait queue until the request ends, so no wake-up
 * between two checks is lost.  A queue may go away before its file
 * (POLLFREE, e.g. a watched redox_uring instance): the callback then
 * unhooks the entry and clears its head, and the head is only freed after
 * an RCU grace period, as epoll relies on too.
 *
 * CQ room: every op taken from the SQ reserves one CQ slot for its
 * completion (inst->reserved) until it posts it, so a parked op can always
 * complete.  Events and LAST_UPDATEs only use room beyond the reservations;
 * until there is some, they wait in inst->backlog, one entry per
 * subscription with its events OR-ed together: coalesced, never lost.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <uapi/linux/redox_uring.h>

#include "events.h"
#include "instance.h"
#include "scheme.h"

void rxu_events_init(struct rxu_instance *inst)
{
	spin_lock_init(&inst->ready_lock);
	INIT_LIST_HEAD(&inst->ready);
	INIT_LIST_HEAD(&inst->foreign);
	INIT_LIST_HEAD(&inst->watches);
	INIT_LIST_HEAD(&inst->ops);
	INIT_LIST_HEAD(&inst->backlog);
	init_waitqueue_head(&inst->poll_wq);
}

struct rxu_async *rxu_async_alloc(struct rxu_instance *inst,
				  enum rxu_async_kind kind)
{
	struct rxu_async *a;

	a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a)
		return NULL;
	INIT_LIST_HEAD(&a->node);
	INIT_LIST_HEAD(&a->ready_node);
	INIT_LIST_HEAD(&a->backlog_node);
	a->inst = inst;
	a->kind = kind;
	return a;
}

/* Free a request that is off every list and every wait queue. */
void rxu_async_free(struct rxu_async *a)
{
	if (a->file)
		fput(a->file);
	if (a->mm)
		mmdrop(a->mm);
	kfree(a);
}

struct rxu_poll_table {
	struct poll_table_struct pt;
	struct rxu_poller *p;
	wait_queue_func_t func;
	int error;
};

static void rxu_queue_proc(struct file *file, wait_queue_head_t *head,
			   struct poll_table_struct *pt)
{
	struct rxu_poll_table *t = container_of(pt, struct rxu_poll_table, pt);
	struct rxu_poller *p = t->p;
	struct rxu_poll_entry *pe;

	if (p->nr >= ARRAY_SIZE(p->entry)) {
		t->error = -EINVAL;
		return;
	}
	pe = &p->entry[p->nr++];
	pe->poller = p;
	pe->head = head;
	init_waitqueue_func_entry(&pe->wait, t->func);
	add_wait_queue(head, &pe->wait);
}

/*
 * Put p on file's wait queues for events, with func as the wake-up
 * callback; *mask is the file's readiness right after.  -EPERM for a file
 * that cannot be polled (as epoll says), -EINVAL for one with more than
 * two queues.
 */
int rxu_poller_arm(struct rxu_poller *p, struct file *file, __poll_t events,
		   wait_queue_func_t func, __poll_t *mask)
{
	struct rxu_poll_table t = { .p = p, .func = func };

	if (!file_can_poll(file))
		return -EPERM;
	init_poll_funcptr(&t.pt, rxu_queue_proc);
	t.pt._key = events | EPOLLERR | EPOLLHUP;
	*mask = vfs_poll(file, &t.pt);
	if (t.error) {
		rxu_poller_disarm(p);
		return t.error;
	}
	return 0;
}

/* Off every queue; no callback runs after this returns. */
void rxu_poller_disarm(struct rxu_poller *p)
{
	int i;

	/* A head cleared by POLLFREE is freed only after a grace period. */
	rcu_read_lock();
	for (i = 0; i < p->nr; i++) {
		/* Pairs with the release in rxu_poller_pollfree(). */
		wait_queue_head_t *head = smp_load_acquire(&p->entry[i].head);

		if (head)
			remove_wait_queue(head, &p->entry[i].wait);
	}
	rcu_read_unlock();
	p->nr = 0;
}

/*
 * From a callback that got POLLFREE, under the queue's lock: unhook and
 * forget the queue, which may be freed once its RCU grace period is over.
 */
void rxu_poller_pollfree(struct rxu_poll_entry *pe)
{
	list_del_init(&pe->wait.entry);
	/* Pairs with the acquire in rxu_poller_disarm(). */
	smp_store_release(&pe->head, NULL);
}

/*
 * May file be watched for mask (RXU_EVENT_*) by self, an instance or a
 * queue?  IO_URING means "its kernel side pushed": instances only.  And
 * nothing of ours watches itself: it would report its own reports forever.
 */
int rxu_watch_check(const struct file *file, u32 mask, const void *self)
{
	if (mask & RXU_EVENT_IO_URING && file->f_op != &rxu_instance_fops)
		return -EINVAL;
	if (file->private_data == self)
		return -EINVAL;
	return 0;
}

/*
 * The reference a watch keeps on file once armed.  Our own files tell
 * their watchers when they go away (POLLFREE), so they are watched
 * without one: two instances or queues watching each other must not keep
 * each other alive.
 */
struct file *rxu_watch_pin(struct file *file)
{
	if (file->f_op != &rxu_instance_fops && file->f_op != &rxu_evq_fops)
		return file;
	fput(file);
	return NULL;
}

static int rxu_poll_wake(struct wait_queue_entry *wait, unsigned int mode,
			 int sync, void *key)
{
	struct rxu_poll_entry *pe = container_of(wait, struct rxu_poll_entry,
						 wait);
	struct rxu_async *a = container_of(pe->poller, struct rxu_async,
					   poller);
	struct rxu_instance *inst = a->inst;
	__poll_t mask = key_to_poll(key);
	unsigned long flags;
	bool newly;

	if (mask && !(mask & (a->events | POLLFREE)))
		return 0;

	spin_lock_irqsave(&inst->ready_lock, flags);
	/* A wake-up without a key says "something changed": look later. */
	a->fired |= mask ? mask & a->events : a->events;
	if (mask & POLLFREE)
		a->gone = true;
	newly = !a->queued;
	if (newly) {
		a->queued = true;
		list_add_tail(&a->ready_node, &inst->ready);
	}
	spin_unlock_irqrestore(&inst->ready_lock, flags);
	/*
	 * Only a newly queued request can change what a waiter decided: if
	 * it was queued already, its waiter was woken then.  The barrier in
	 * wq_has_sleeper() pairs with the one in prepare_to_wait().
	 */
	if (newly && wq_has_sleeper(&inst->wait))
		wake_up(&inst->wait);

	if (mask & POLLFREE)
		rxu_poller_pollfree(pe);
	return 0;
}

/*
 * Queue a for its instance's next ENTER, from any context but a wake-up
 * callback of its own (that one queues itself, above).
 */
void rxu_async_wake(struct rxu_async *a)
{
	struct rxu_instance *inst = a->inst;
	unsigned long flags;
	bool newly;

	spin_lock_irqsave(&inst->ready_lock, flags);
	newly = !a->queued;
	if (newly) {
		a->queued = true;
		list_add_tail(&a->ready_node, &inst->ready);
	}
	spin_unlock_irqrestore(&inst->ready_lock, flags);
	if (newly)
		wake_up(&inst->wait);
}

/*
 * a woke up but belongs to another process: keep it, still queued (so a
 * wake-up meanwhile only adds bits), with what it was woken for, until
 * an ENTER of its own process takes it.
 */
void rxu_async_to_foreign(struct rxu_instance *inst, struct rxu_async *a)
{
	spin_lock_irq(&inst->ready_lock);
	a->queued = true;
	a->fired |= a->taken;
	a->gone |= a->taken_gone;
	list_add_tail(&a->ready_node, &inst->foreign);
	spin_unlock_irq(&inst->ready_lock);
	wake_up(&inst->wait);
}

/* Put a on file's wait queues for events; see rxu_poller_arm(). */
int rxu_events_arm(struct rxu_async *a, struct file *file, __poll_t events,
		   __poll_t *mask)
{
	a->events = events;
	return rxu_poller_arm(&a->poller, file, events, rxu_poll_wake, mask);
}

/* Off the wait queues and the ready list; no callback runs after this. */
void rxu_events_disarm(struct rxu_async *a)
{
	struct rxu_instance *inst = a->inst;

	rxu_poller_disarm(&a->poller);
	spin_lock_irq(&inst->ready_lock);
	if (a->queued) {
		list_del_init(&a->ready_node);
		a->queued = false;
	}
	spin_unlock_irq(&inst->ready_lock);
}

bool rxu_events_pending(struct rxu_instance *inst)
{
	return !list_empty_careful(&inst->ready);
}

/* The EPOLL* bits that mean something for a mask of RXU_EVENT_* bits. */
__poll_t rxu_event_to_poll(u32 mask)
{
	__poll_t events = 0;

	if (mask & (RXU_EVENT_READ | RXU_EVENT_IO_URING))
		events |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP | EPOLLHUP |
			  EPOLLERR;
	if (mask & RXU_EVENT_WRITE)
		events |= EPOLLOUT | EPOLLWRNORM | EPOLLERR;
	return events;
}

/* Events of a poll mask, as RXU_EVENT_* bits. */
u32 rxu_poll_to_event(__poll_t mask)
{
	u32 ev = 0;

	if (mask & (EPOLLIN | EPOLLRDNORM | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		ev |= RXU_EVENT_READ | RXU_EVENT_IO_URING;
	if (mask & (EPOLLOUT | EPOLLWRNORM | EPOLLERR))
		ev |= RXU_EVENT_WRITE;
	return ev;
}

/*
 * Post what a subscription has to say, in order: its pending events, then
 * its LAST_UPDATE if it ended.  False if the CQ had no room left; what
 * was not posted stays in the subscription.
 */
static bool rxu_watch_flush(struct rxu_instance *inst, struct rxu_cq_batch *b,
			    struct rxu_async *a)
{
	if (a->pending) {
		struct rxu_cqe_k cqe = {
			.user_data = a->req.user_data,
			.status = a->fd,
			.flags = RXU_CQE_EVENT |
				 (u64)a->pending << RXU_CQE_EVENT_SHIFT,
		};

		if (!rxu_cq_post(inst, b, &cqe, false))
			return false;
		a->pending = 0;
	}
	if (a->kind == RXU_ASYNC_WATCH && a->oneshot && a->ended) {
		struct rxu_cqe_k cqe = {
			.user_data = a->req.user_data,
			.flags = RXU_CQE_LAST_UPDATE,
		};

		if (!rxu_cq_post(inst, b, &cqe, false))
			return false;
		a->oneshot = false;	/* LAST_UPDATE posted */
	}
	return true;
}

/* Post the backlog, oldest first, as far as there is room. */
void rxu_backlog_flush(struct rxu_instance *inst, struct rxu_cq_batch *b)
{
	struct rxu_async *a, *tmp;

	list_for_each_entry_safe(a, tmp, &inst->backlog, backlog_node) {
		if (!rxu_watch_flush(inst, b, a))
			return;
		list_del_init(&a->backlog_node);
		a->in_backlog = false;
		if (a->ended)
			rxu_async_free(a);
	}
}

/* Queue a subscription's news behind the older ones (posted by a flush). */
void rxu_watch_queue(struct rxu_instance *inst, struct rxu_async *a)
{
	if (!a->in_backlog) {
		a->in_backlog = true;
		list_add_tail(&a->backlog_node, &inst->backlog);
	}
}

/*
 * End a subscription: off its file, out of inst->watches, queued for its
 * pending events and then its LAST_UPDATE (oneshot is reused as
 * "LAST_UPDATE owed" once ended).  The caller flushes the backlog.
 */
void rxu_watch_end(struct rxu_instance *inst, struct rxu_async *a)
{
	rxu_events_disarm(a);
	list_del_init(&a->node);
	if (a->file) {
		fput(a->file);
		a->file = NULL;
	}
	a->ended = true;
	a->oneshot = true;
	rxu_watch_queue(inst, a);
}

/* A subscription's file woke up with fired (EPOLL bits). */
static void rxu_watch_woken(struct rxu_instance *inst, struct rxu_cq_batch *b,
			    struct rxu_async *a, __poll_t fired, bool gone)
{
	u32 ev;

	/* A scheme whose provider went away ends what watches its files. */
	if (!gone && a->file && rxu_scheme_file_dead(a->file))
		gone = true;
	if (gone) {
		rxu_watch_end(inst, a);
	} else {
		ev = rxu_poll_to_event(fired) & a->mask;
		if (!ev)
			return;
		a->pending |= ev;
		if (a->oneshot)
			rxu_watch_end(inst, a);	/* exactly one event */
		else
			rxu_watch_queue(inst, a);
	}
	rxu_backlog_flush(inst, b);
}

/* A parked op's file woke up: retry it, in its own process's context. */
static void rxu_parked_woken(struct rxu_instance *inst,
			     struct rxu_cq_batch *b, struct rxu_async *a)
{
	struct rxu_cqe_k cqe;
	s64 res;

	if (a->mm != current->mm) {
		/* Not ours to finish: leave it for its owner's ENTER. */
		rxu_async_to_foreign(inst, a);
		return;
	}
	res = rxu_rw_retry(&a->req, a->file, a->events);
	if (res == -EAGAIN)
		return;		/* still armed: wait for the next wake-up */
	rxu_events_disarm(a);
	list_del_init(&a->node);
	cqe = (struct rxu_cqe_k){
		.user_data = a->req.user_data,
		.status = rxu_user_status(res),
	};
	rxu_cq_post(inst, b, &cqe, true);
	rxu_async_free(a);
}

/*
 * Everything that woke up since the last ENTER: parked ops retried,
 * subscriptions' events posted (or coalesced in the backlog).
 */
void rxu_events_process(struct rxu_instance *inst, struct rxu_cq_batch *b)
{
	struct rxu_async *a, *tmp;
	LIST_HEAD(woken);

	if (!list_empty(&inst->backlog))
		rxu_backlog_flush(inst, b);

	/*
	 * A request is marked queued for as long as its node is on a list
	 * (ready, foreign, or woken below), so that a wake-up meanwhile
	 * only adds to its fired bits and never links the node twice.  It
	 * is unmarked under ready_lock at the moment it leaves woken.
	 */
	spin_lock_irq(&inst->ready_lock);
	/* Ops a different process woke up earlier, now in their process. */
	list_for_each_entry_safe(a, tmp, &inst->foreign, ready_node)
		if (a->mm == current->mm)
			list_move_tail(&a->ready_node, &woken);
	list_splice_tail_init(&inst->ready, &woken);
	spin_unlock_irq(&inst->ready_lock);

	/* One at a time: handling one may disarm (unlink) another. */
	while (!list_empty(&woken)) {
		spin_lock_irq(&inst->ready_lock);
		a = list_first_entry(&woken, struct rxu_async, ready_node);
		list_del_init(&a->ready_node);
		a->queued = false;
		a->taken = a->fired;
		a->fired = 0;
		a->taken_gone = a->gone;
		spin_unlock_irq(&inst->ready_lock);

		if (a->kind == RXU_ASYNC_PARKED)
			rxu_parked_woken(inst, b, a);
		else if (a->kind == RXU_ASYNC_WATCH)
			rxu_watch_woken(inst, b, a, a->taken, a->taken_gone);
		else if (a->kind == RXU_ASYNC_SCHEME)
			rxu_scheme_async_done(inst, b, a);
	}
}

/* Put req on file's queues until it can go on; it keeps its CQ slot. */
s64 rxu_park(struct rxu_req *req, struct file *file, __poll_t events)
{
	struct rxu_instance *inst = req->inst;
	struct rxu_async *a;
	__poll_t mask;
	int ret;

	a = rxu_async_alloc(inst, RXU_ASYNC_PARKED);
	if (!a)
		return -ENOMEM;
	a->req = *req;
	ret = rxu_events_arm(a, file, events, &mask);
	if (ret) {
		kfree(a);
		return ret;
	}
	a->file = file;
	mmgrab(current->mm);
	a->mm = current->mm;
	list_add_tail(&a->node, &inst->ops);
	/* Ready again already: a wake-up came before we were on the queue. */
	if (mask & events) {
		spin_lock_irq(&inst->ready_lock);
		a->fired |= mask & events;
		if (!a->queued) {
			a->queued = true;
			list_add_tail(&a->ready_node, &inst->ready);
		}
		spin_unlock_irq(&inst->ready_lock);
	}
	return -EIOCBQUEUED;
}

/*
 * The instance is going away: every op in flight completes with
 * ECANCELED and every subscription with its LAST_UPDATE, as far as the
 * CQ (still mapped, or not: it is our memory) has room; then all is
 * freed.
 */
void rxu_events_cancel_all(struct rxu_instance *inst)
{
	struct rxu_cq_batch b = {};
	struct rxu_kring_pos cq;
	struct rxu_async *a, *tmp;
	bool post;

	post = !rxu_kring_push_pos(&inst->cq, &cq) &&
	       inst->cq.n - cq.avail >= inst->reserved;
	b.tail = cq.tail;
	b.room = post ? inst->cq.n - cq.avail : 0;

	list_for_each_entry_safe(a, tmp, &inst->ops, node) {
		struct rxu_cqe_k cqe = {
			.user_data = a->req.user_data,
			.status = -ECANCELED,
		};

		/*
		 * A scheme request first: until it is abandoned, its answer
		 * (the provider's ENTER, any CPU) may queue a on inst->ready
		 * again, behind the disarm's back, and a is freed below.
		 */
		if (a->kind == RXU_ASYNC_SCHEME)
			rxu_scheme_async_cancel(a);
		rxu_events_disarm(a);
		list_del(&a->node);
		if (post)
			rxu_cq_post(inst, &b, &cqe, true);
		rxu_async_free(a);
	}
	list_for_each_entry_safe(a, tmp, &inst->watches, node)
		rxu_watch_end(inst, a);
	rxu_backlog_flush(inst, &b);
	list_for_each_entry_safe(a, tmp, &inst->backlog, backlog_node) {
		list_del(&a->backlog_node);
		rxu_async_free(a);
	}
	INIT_LIST_HEAD(&inst->foreign);
	if (b.count)
		rxu_kring_push_commit(&inst->cq, b.tail, b.count);
}
