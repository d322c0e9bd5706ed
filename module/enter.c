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
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <uapi/linux/redox_uring.h>

#include "instance.h"
#include "opdef.h"

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

/*
 * Run one request to completion.  CHAIN and DRAIN hold trivially: every
 * request completes before the next one starts.
 */
static s64 rxu_run(struct rxu_req *req, const struct rxu_sqe *sqe)
{
	const struct rxu_op_def *def;
	int ret;

	if (sqe->flags & ~RXU_SQE_FLAGS_ALL)
		return -EINVAL;
	def = rxu_op_def(sqe->opcode);
	if (!def)
		return -ENOSYS;
	/* SUBSCRIBE only means something to FILES_UPDATE. */
	if (sqe->flags & RXU_SQE_SUBSCRIBE)
		return -EINVAL;
	if (!rxu_sqe_unused_clear(sqe, def->fields))
		return -EINVAL;
	if (def->prep) {
		ret = def->prep(req, sqe);
		if (ret)
			return ret;
	}
	/* NOOP is the op whose cost is all overhead: call it directly. */
	return INDIRECT_CALL_1(def->issue, rxu_nop, req);
}

/* Kernel-internal codes never reach userspace (ABI.md section 4). */
static s64 rxu_user_status(s64 res)
{
	switch (res) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		return -EINTR;
	case -ENOTSUPP:
		return -EOPNOTSUPP;
	case -EIOCBQUEUED:
		return -EIO;
	}
	return res;
}

static void rxu_write_cqe(struct rxu_instance *inst, u64 idx,
			  const struct rxu_req *req, s64 res)
{
	if (rxu_is_bits32(inst)) {
		struct rxu_cqe32 *c = rxu_kring_slot(&inst->cq, idx);

		/* A success that a 32-bit status cannot tell from -errno. */
		if (res > (s64)U32_MAX - MAX_ERRNO - 1)
			res = -EOVERFLOW;
		WRITE_ONCE(c->user_data, (u32)req->user_data);
		WRITE_ONCE(c->status, (u32)res);
		WRITE_ONCE(c->flags, 0);
		WRITE_ONCE(c->extra, (u32)req->extra);
	} else {
		struct rxu_cqe64 *c = rxu_kring_slot(&inst->cq, idx);

		WRITE_ONCE(c->user_data, req->user_data);
		WRITE_ONCE(c->status, (u64)res);
		WRITE_ONCE(c->flags, 0);
		WRITE_ONCE(c->extra, req->extra);
	}
}

/*
 * Consume what the SQ holds, as far as the CQ has room.  Returns the
 * number of CQEs the CQ then holds, -EIO for a broken header or
 * -ESHUTDOWN if the consumer dropped the CQ.
 */
static s64 rxu_submit(struct rxu_instance *inst)
{
	struct rxu_kring_pos sq, cq;
	/*
	 * Every field is written before it is read (rxu_read_sqe() fills
	 * sqe, the loop and prep fill req): spare them the zeroing that
	 * INIT_STACK_ALL_ZERO kernels do on every ENTER.
	 */
	struct rxu_req req __uninitialized;
	struct rxu_sqe sqe __uninitialized;
	u64 i, batch;
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

	batch = min(sq.avail, inst->cq.n - cq.avail);
	for (i = 0; i < batch; i++) {
		rxu_read_sqe(inst, sq.head + i, &sqe);
		req.inst = inst;
		req.user_data = sqe.user_data;
		req.opcode = sqe.opcode;
		req.flags = sqe.flags;
		req.extra = 0;
		rxu_write_cqe(inst, cq.tail + i, &req,
			      rxu_user_status(rxu_run(&req, &sqe)));
	}
	if (batch) {
		rxu_kring_pop_commit(&inst->sq, sq.head, batch);
		rxu_kring_push_commit(&inst->cq, cq.tail, batch);
	}
	ret = cq.avail + batch;
out_unlock:
	mutex_unlock(&inst->submit_lock);
	return ret;
}

/* Is the waiter done, with avail CQEs in the CQ? 1 yes, 0 no, or -EIO. */
static int rxu_enter_done(struct rxu_instance *inst, u64 min_complete,
			  u32 flags, int seq, s64 avail)
{
	if ((u64)avail >= min_complete)
		return 1;
	if (flags & RXU_ENTER_WAKEUP_ON_SQ_AVAIL) {
		s64 used = rxu_kring_count(&inst->sq);

		if (used < 0)
			return used;
		if (used < inst->sq.n)
			return 1;
	}
	return atomic_read(&inst->notify_seq) != seq;
}

/* Sleep until notified, signalled or past the deadline (0: none). */
static int rxu_enter_sleep(struct rxu_instance *inst, int seq, ktime_t deadline)
{
	DEFINE_WAIT(wait);
	int ret = 0;

	prepare_to_wait(&inst->wait, &wait, TASK_INTERRUPTIBLE);
	if (atomic_read(&inst->notify_seq) == seq && !signal_pending(current)) {
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
	int ret, seq;

	if (rxu_get_enter(&e, arg))
		return -EFAULT;
	if (e.reserved || e.min_submit || e.flags & ~RXU_ENTER_FLAGS_ALL)
		return -EINVAL;
	/* Pairs with the release that published the rings. */
	if (smp_load_acquire(&inst->state) != RXU_STATE_ATTACHED)
		return -EBADFD;

	if (e.flags & RXU_ENTER_ONLY_NOTIFY) {
		rxu_instance_notify(inst);
		return rxu_kring_count(&inst->cq);
	}

	/* The CQ cannot hold more than n: wait for a full one at most. */
	e.min_complete = min(e.min_complete, inst->cq.n);
	if (e.timeout_ns)
		deadline = ktime_add_safe(ktime_get(),
					  ns_to_ktime(min_t(u64, e.timeout_ns,
							    KTIME_MAX)));
	seq = atomic_read(&inst->notify_seq);
	for (;;) {
		avail = rxu_submit(inst);
		if (avail < 0)
			return avail;
		ret = rxu_enter_done(inst, e.min_complete, e.flags, seq, avail);
		if (ret)
			return ret < 0 ? ret : avail;
		ret = rxu_enter_sleep(inst, seq, deadline);
		if (ret)
			return ret;
	}
}
