// SPDX-License-Identifier: GPL-2.0
/*
 * ENTER (ABI.md section 6): consume the SQ, run each request in the
 * caller's context, post its CQE, then wait for enough CQEs, a
 * notification, a signal or the timeout.
 *
 * The CQ never loses an entry because the kernel never takes an SQE it
 * has no CQ slot for: a batch is as long as the smaller of the SQ's
 * entries and the CQ's free slots, and what does not fit stays in the SQ
 * until the consumer pops the CQ and enters again.
 */
#include <linux/errno.h>
#include <linux/hrtimer.h>
#include <linux/indirect_call_wrapper.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <uapi/linux/redox_uring.h>

#include "events.h"
#include "instance.h"
#include "opdef.h"
#include "scheme.h"

/* Read an SQE once, field by field: userspace may be rewriting it. */
static void rxu_read_sqe(const struct rxu_instance *inst, u64 idx,
			 struct rxu_sqe *sqe)
{
	if (rxu_is_bits32(inst)) {
		const struct rxu_sqe32 *s = rxu_kring_slot(&inst->sq, idx);

		sqe->opcode = READ_ONCE(s->opcode);
		sqe->flags = READ_ONCE(s->flags);
		sqe->priority = READ_ONCE(s->priority);
		sqe->syscall_flags = READ_ONCE(s->syscall_flags);
		/* fd is signed (AT_FDCWD); the rest is unsigned. */
		sqe->fd = (u64)(s64)(s32)READ_ONCE(s->fd);
		sqe->len = READ_ONCE(s->len);
		sqe->user_data = READ_ONCE(s->user_data);
		sqe->addr = READ_ONCE(s->addr);
		sqe->offset = READ_ONCE(s->offset);
		sqe->additional1 = 0;
		sqe->additional2 = 0;
	} else {
		const struct rxu_sqe64 *s = rxu_kring_slot(&inst->sq, idx);

		sqe->opcode = READ_ONCE(s->opcode);
		sqe->flags = READ_ONCE(s->flags);
		sqe->priority = READ_ONCE(s->priority);
		sqe->syscall_flags = READ_ONCE(s->syscall_flags);
		sqe->fd = READ_ONCE(s->fd);
		sqe->len = READ_ONCE(s->len);
		sqe->user_data = READ_ONCE(s->user_data);
		sqe->addr = READ_ONCE(s->addr);
		sqe->offset = READ_ONCE(s->offset);
		sqe->additional1 = READ_ONCE(s->additional1);
		sqe->additional2 = READ_ONCE(s->additional2);
	}
}

/* Every field the opcode does not read must be zero. */
static bool rxu_sqe_unused_clear(const struct rxu_sqe *sqe, unsigned int used)
{
	return (!sqe->fd || used & RXU_F_FD) &&
	       (!sqe->len || used & RXU_F_LEN) &&
	       (!sqe->addr || used & RXU_F_ADDR) &&
	       (!sqe->offset || used & RXU_F_OFFSET) &&
	       (!sqe->additional1 || used & RXU_F_ADD1) &&
	       (!sqe->additional2 || used & RXU_F_ADD2) &&
	       (!sqe->syscall_flags || used & RXU_F_SFLAGS);
}

/* Validate an SQE into req: 0, or the -errno its CQE will carry. */
static __always_inline int rxu_prep(struct rxu_req *req,
				    const struct rxu_sqe *sqe,
				    const struct rxu_op_def *def)
{
	if (sqe->flags & ~RXU_SQE_FLAGS_ALL)
		return -EINVAL;
	if (!def)
		return -ENOSYS;
	/* SUBSCRIBE only means something to FILES_UPDATE. */
	if (sqe->flags & RXU_SQE_SUBSCRIBE && sqe->opcode != RXU_OP_FILES_UPDATE)
		return -EINVAL;
	if (!rxu_sqe_unused_clear(sqe, def->fields))
		return -EINVAL;
	return def->prep ? def->prep(req, sqe) : 0;
}

static __always_inline s64 rxu_issue(struct rxu_req *req,
				     const struct rxu_op_def *def)
{
	/* NOOP is the op whose cost is all overhead: call it directly. */
	return INDIRECT_CALL_1(def->issue, rxu_nop, req);
}

/* Must req wait for an earlier op (CHAIN: the one before, DRAIN: all)? */
static bool rxu_must_wait(struct rxu_instance *inst, const struct rxu_req *req)
{
	struct rxu_async *a;

	if (!(req->flags & (RXU_SQE_CHAIN | RXU_SQE_DRAIN)))
		return false;
	list_for_each_entry(a, &inst->ops, node) {
		if (req->flags & RXU_SQE_DRAIN && a->req.seq < req->seq)
			return true;
		if (req->flags & RXU_SQE_CHAIN && a->req.seq + 1 == req->seq)
			return true;
	}
	return false;
}

/* Keep a validated request until rxu_must_wait() lets it go. */
static s64 rxu_defer(struct rxu_req *req)
{
	struct rxu_instance *inst = req->inst;
	struct rxu_async *a;

	a = rxu_async_alloc(inst, RXU_ASYNC_DEFERRED);
	if (!a)
		return -ENOMEM;
	a->req = *req;
	mmgrab(current->mm);
	a->mm = current->mm;
	list_add_tail(&a->node, &inst->ops);
	inst->nr_deferred++;
	return -EIOCBQUEUED;
}

/* Post the CQE of a request that finished, in its reserved slot. */
static __always_inline void rxu_complete(struct rxu_instance *inst,
					 struct rxu_cq_batch *b,
					 const struct rxu_req *req, s64 res)
{
	struct rxu_cqe_k cqe = {
		.user_data = req->user_data,
		.status = rxu_user_status(res),
		.extra = req->extra,
	};

	rxu_cq_post(inst, b, &cqe, true);
}

/* Start deferred ops whose predecessors completed, in order. */
static void rxu_run_deferred(struct rxu_instance *inst,
			     struct rxu_cq_batch *b)
{
	struct rxu_async *a;
	s64 res;

again:
	list_for_each_entry(a, &inst->ops, node) {
		if (a->kind != RXU_ASYNC_DEFERRED || a->mm != current->mm ||
		    rxu_must_wait(inst, &a->req))
			continue;
		list_del_init(&a->node);
		inst->nr_deferred--;
		a->req.cq = b;
		res = rxu_issue(&a->req, rxu_op_def(a->req.opcode));
		if (res != -EIOCBQUEUED)
			rxu_complete(inst, b, &a->req, res);
		rxu_async_free(a);
		/* The list changed, and a completion may free others. */
		goto again;
	}
}

/*
 * Take the SQE at idx: run it, or let it wait (parked or deferred).
 * Inline, with what it calls on the way of a plain op: with return-thunk
 * mitigations every call and return on this per-SQE path costs more than
 * the work of a NOOP.
 */
static __always_inline void rxu_take_sqe(struct rxu_instance *inst,
					 struct rxu_cq_batch *b, u64 idx)
{
	/*
	 * Every field is written before it is read (rxu_read_sqe() fills
	 * sqe, the lines below and prep fill req): spare them the zeroing
	 * that INIT_STACK_ALL_ZERO kernels do on every call.
	 */
	struct rxu_req req __uninitialized;
	struct rxu_sqe sqe __uninitialized;
	const struct rxu_op_def *def;
	s64 res;

	rxu_read_sqe(inst, idx, &sqe);
	def = rxu_op_def(sqe.opcode);
	req.inst = inst;
	req.cq = b;
	req.user_data = sqe.user_data;
	req.seq = inst->seq++;
	req.opcode = sqe.opcode;
	req.flags = sqe.flags;
	req.extra = 0;
	/* Its completion's slot, whenever it comes. */
	inst->reserved++;
	res = rxu_prep(&req, &sqe, def);
	if (!res) {
		if (unlikely(req.flags & (RXU_SQE_CHAIN | RXU_SQE_DRAIN)) &&
		    rxu_must_wait(inst, &req))
			res = rxu_defer(&req);
		else
			res = rxu_issue(&req, def);
	}
	if (res != -EIOCBQUEUED)
		rxu_complete(inst, b, &req, res);
	if (!list_empty(&inst->backlog))
		rxu_backlog_flush(inst, b);
}

/*
 * One round of ENTER's work: finish what woke up, start deferred ops that
 * may go, then take SQEs as long as the CQ has room for their completions
 * beyond what is promised to ops in flight and nothing older waits for
 * room.  Returns the number of CQEs the CQ then holds, -EIO for a broken
 * header or -ESHUTDOWN if the consumer dropped the CQ.
 */
static s64 rxu_submit(struct rxu_instance *inst)
{
	struct rxu_kring_pos sq, cq;
	struct rxu_cq_batch b;
	u64 taken = 0;
	s64 ret;

	mutex_lock(&inst->submit_lock);
	/*
	 * A CQ whose popper set DROP takes no more pushes (ESHUTDOWN), and
	 * an SQE is never run without a CQ slot for its completion.
	 */
	if (rxu_kring_dropped(&inst->cq)) {
		ret = -ESHUTDOWN;
		goto out_unlock;
	}
	ret = rxu_kring_pop_pos(&inst->sq, &sq);
	if (!ret)
		ret = rxu_kring_push_pos(&inst->cq, &cq);
	if (ret)
		goto out_unlock;
	b = (struct rxu_cq_batch){
		.tail = cq.tail,
		.room = inst->cq.n - cq.avail,
	};
	/* Popping only adds room: less than promised means a forged head. */
	if (b.room < inst->reserved) {
		ret = -EIO;
		goto out_unlock;
	}

	rxu_events_process(inst, &b);
	if (inst->nr_deferred)
		rxu_run_deferred(inst, &b);
	while (taken < sq.avail && b.room > inst->reserved &&
	       list_empty(&inst->backlog))
		rxu_take_sqe(inst, &b, sq.head + taken++);

	if (taken)
		rxu_kring_pop_commit(&inst->sq, sq.head, taken);
	if (b.count) {
		rxu_kring_push_commit(&inst->cq, b.tail, b.count);
		/* Watchers of this instance: its kernel side pushed. */
		if (wq_has_sleeper(&inst->poll_wq))
			wake_up_poll(&inst->poll_wq, EPOLLIN | EPOLLRDNORM);
	}
	ret = cq.avail + b.count;
out_unlock:
	mutex_unlock(&inst->submit_lock);
	return ret;
}

/*
 * One round of ENTER's work for the instance's role: the entries then
 * available to its owner's pops, or -errno.
 */
static s64 rxu_enter_round(struct rxu_instance *inst)
{
	switch (inst->role) {
	case RXU_ROLE_PROVIDER:
		return rxu_scheme_submit(inst);
	case RXU_ROLE_U2U_CONSUMER:
	case RXU_ROLE_U2U_PRODUCER:
		return rxu_u2u_doorbell(inst);
	default:
		return rxu_submit(inst);
	}
}

/*
 * Is the waiter done, with avail entries in the ring its owner pops (the
 * CQ, or a provider's SQ)?  1 yes, 0 no, or -EIO.
 */
static int rxu_enter_done(struct rxu_instance *inst, u64 min_complete,
			  u32 flags, int seq, s64 avail)
{
	if ((u64)avail >= min_complete)
		return 1;
	/* A u2u peer that left pushes nothing more: do not wait for it. */
	if ((inst->role == RXU_ROLE_U2U_CONSUMER ||
	     inst->role == RXU_ROLE_U2U_PRODUCER) &&
	    rxu_kring_dropped(rxu_owner_pop_ring(inst)))
		return 1;
	if (flags & RXU_ENTER_WAKEUP_ON_SQ_AVAIL) {
		struct rxu_kring *push = rxu_owner_push_ring(inst);
		s64 used = rxu_kring_count(push);

		if (used < 0)
			return used;
		if (used < push->n)
			return 1;
	}
	return atomic_read(&inst->notify_seq) != seq;
}

/*
 * Sleep until notified, kicked by the other side, something woke up, a
 * signal, or the deadline (0: none).
 */
static int rxu_enter_sleep(struct rxu_instance *inst, int seq, int kick,
			   ktime_t deadline)
{
	DEFINE_WAIT(wait);
	int ret = 0;

	prepare_to_wait(&inst->wait, &wait, TASK_INTERRUPTIBLE);
	if (atomic_read(&inst->notify_seq) == seq &&
	    atomic_read(&inst->kick) == kick && !rxu_events_pending(inst) &&
	    !signal_pending(current)) {
		if (deadline) {
			if (!schedule_hrtimeout_range(&deadline, 0,
						      HRTIMER_MODE_ABS))
				ret = -ETIME;
		} else {
			schedule();
		}
	}
	finish_wait(&inst->wait, &wait);
	if (signal_pending(current))
		return -EINTR;
	return ret;
}

/*
 * The hot path's one copy from userspace: five plain loads inside one
 * user access window cost a fraction of a generic copy_from_user().
 */
static int rxu_get_enter(struct rxu_enter *e, const struct rxu_enter __user *u)
{
	if (!user_access_begin(u, sizeof(*u)))
		return -EFAULT;
	unsafe_get_user(e->min_complete, &u->min_complete, efault);
	unsafe_get_user(e->min_submit, &u->min_submit, efault);
	unsafe_get_user(e->flags, &u->flags, efault);
	unsafe_get_user(e->reserved, &u->reserved, efault);
	unsafe_get_user(e->timeout_ns, &u->timeout_ns, efault);
	user_access_end();
	return 0;

efault:
	user_access_end();
	return -EFAULT;
}

long rxu_enter(struct rxu_instance *inst, void __user *arg)
{
	struct rxu_enter e;
	ktime_t deadline = 0;
	s64 avail;
	int ret, seq, kick;

	if (rxu_get_enter(&e, arg))
		return -EFAULT;
	if (e.reserved || e.min_submit || e.flags & ~RXU_ENTER_FLAGS_ALL)
		return -EINVAL;
	/* Pairs with the release that published the rings. */
	if (smp_load_acquire(&inst->state) != RXU_STATE_ATTACHED)
		return -EBADFD;

	if (e.flags & RXU_ENTER_ONLY_NOTIFY) {
		rxu_instance_notify(inst);
		/* And the other side: a provider's kernel, a u2u peer. */
		if (inst->role != RXU_ROLE_KERNEL) {
			avail = rxu_enter_round(inst);
			if (avail < 0)
				return avail;
		}
		return rxu_kring_count(rxu_owner_pop_ring(inst));
	}

	/* A ring cannot hold more than n: wait for a full one at most. */
	e.min_complete = min(e.min_complete, rxu_owner_pop_ring(inst)->n);
	if (e.timeout_ns)
		deadline = ktime_add_safe(ktime_get(),
					  ns_to_ktime(min_t(u64, e.timeout_ns,
							    KTIME_MAX)));
	seq = atomic_read(&inst->notify_seq);
	for (;;) {
		kick = atomic_read(&inst->kick);
		avail = rxu_enter_round(inst);
		if (avail < 0)
			return avail;
		ret = rxu_enter_done(inst, e.min_complete, e.flags, seq, avail);
		if (ret)
			return ret < 0 ? ret : avail;
		ret = rxu_enter_sleep(inst, seq, kick, deadline);
		if (ret)
			return ret;
	}
}
