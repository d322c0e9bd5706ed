// SPDX-License-Identifier: GPL-2.0
/*
 * Schemes (ABI.md section 7): a userspace provider serves the namespace
 * "NAME:" through an instance attached as ":NAME", on which the kernel
 * is the consumer: it pushes SQEs into the provider's SQ and pops its CQ.
 *
 * A request (struct rxu_sreq) is made by a consumer: a syscall on a
 * scheme file (read(2), lseek(2) ...) or a ring op (OPEN of "NAME:rest",
 * READ of a scheme fd ...).  It gets a tag (its id in s->reqs, the SQE's
 * user_data), its bytes in the data region, and waits in s->queue until
 * the provider's SQ has a slot.  The provider answers with a CQE and
 * rings its doorbell (ENTER), on which the kernel pops the CQ, matches
 * each CQE to its request by tag and hands the result to the request's
 * issuer: a sleeping syscall (completion) or a ring (its ready list).
 * Whatever needs the consumer's context (copying data out, installing an
 * fd) is done by the issuer in its own context.
 *
 * The data region is the provider's: it is mapped at RXU_OFF_SCHEME_DATA
 * and the SQE's addr is an offset in it.  The kernel hands it out in
 * granules, a request's worth at a time, and a request waits
 * (interruptibly) while it is full: that is the back-pressure.
 *
 * Locking: rxu_schemes_lock (mutex) guards the registry.  s->lock (a
 * spinlock, process context only) guards each request's state, s->queue,
 * the data bitmap, s->files and the readiness of each file, and s->inst
 * while the scheme lives: pushing into the provider's SQ happens under it
 * from any consumer.  The provider's submit_lock makes its ENTER the
 * single popper of its CQ.  Under s->lock we take wait queue locks and a
 * consumer instance's ready_lock (to hand it a result), never the reverse.
 */
#include <linux/anon_inodes.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/refcount.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/stat.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/wait_bit.h>
#include <linux/xarray.h>
#include <uapi/linux/redox_uring.h>

#include "compat.h"
#include "events.h"
#include "instance.h"
#include "scheme.h"
#include "scheme_int.h"

static LIST_HEAD(rxu_schemes);
static DEFINE_MUTEX(rxu_schemes_lock);

/* ------------------------------------------------------------------ */
/* Module parameters                                                   */
/* ------------------------------------------------------------------ */

unsigned int rxu_scheme_data_size = SZ_1M;
int rxu_scheme_gid = -1;

static int rxu_set_data_size(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(val, 0, &n);
	if (ret)
		return ret;
	if (n < SZ_64K || n > SZ_256M || n % PAGE_SIZE)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, n);
	return 0;
}

static const struct kernel_param_ops rxu_data_size_ops = {
	.set	= rxu_set_data_size,
	.get	= param_get_uint,
};

module_param_cb(scheme_data_size, &rxu_data_size_ops, &rxu_scheme_data_size,
		0644);
MODULE_PARM_DESC(scheme_data_size,
		 "Bytes of a scheme's data region, for schemes registered later (multiple of the page size, 64 KiB to 256 MiB, default 1 MiB)");
module_param_named(scheme_gid, rxu_scheme_gid, int, 0644);
MODULE_PARM_DESC(scheme_gid,
		 "Group whose members may register schemes, besides CAP_SYS_ADMIN (default -1: CAP_SYS_ADMIN only)");

/* ------------------------------------------------------------------ */
/* Registry                                                            */
/* ------------------------------------------------------------------ */

static void rxu_scheme_release(struct kref *ref)
{
	struct rxu_scheme *s = container_of(ref, struct rxu_scheme, ref);

	WARN_ON_ONCE(!xa_empty(&s->reqs));
	xa_destroy(&s->reqs);
	bitmap_free(s->map);
	fput(s->mem_file);
	kfree(s);
	module_put(THIS_MODULE);
}

void rxu_scheme_put(struct rxu_scheme *s)
{
	kref_put(&s->ref, rxu_scheme_release);
}

static struct rxu_scheme *rxu_scheme_find(const char *name, size_t len)
{
	struct rxu_scheme *s;

	lockdep_assert_held(&rxu_schemes_lock);
	list_for_each_entry(s, &rxu_schemes, node)
		if (s->name_len == len && !memcmp(s->name, name, len))
			return s;
	return NULL;
}

/* The live scheme NAME (name without its ':'), with a reference. */
struct rxu_scheme *rxu_scheme_lookup(const char *name, size_t len)
{
	struct rxu_scheme *s;

	mutex_lock(&rxu_schemes_lock);
	s = rxu_scheme_find(name, len);
	if (s)
		kref_get(&s->ref);
	mutex_unlock(&rxu_schemes_lock);
	return s;
}

static bool rxu_may_register(void)
{
	int gid = READ_ONCE(rxu_scheme_gid);

	if (capable(CAP_SYS_ADMIN))
		return true;
	return gid >= 0 && in_group_p(make_kgid(current_user_ns(), gid));
}

static bool rxu_scheme_name_ok(const char *name, size_t len)
{
	return len && len <= RXU_SCHEME_NAME_MAX && !memchr(name, ':', len) &&
	       !memchr(name, '/', len) && !memchr(name, '\0', len);
}

/*
 * ATTACH ":NAME": inst becomes the provider of NAME.  Called with its
 * state_lock held, all four regions mapped; the data region is added to
 * its memory file here, for the provider to map next.
 */
int rxu_scheme_register(struct rxu_instance *inst, const char *name,
			size_t len)
{
	size_t size = READ_ONCE(rxu_scheme_data_size);
	struct rxu_scheme *s;
	int ret;

	if (!rxu_scheme_name_ok(name, len))
		return -EINVAL;
	if (!rxu_may_register())
		return -EPERM;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return -ENOMEM;
	kref_init(&s->ref);
	spin_lock_init(&s->lock);
	INIT_LIST_HEAD(&s->queue);
	INIT_LIST_HEAD(&s->files);
	xa_init_flags(&s->reqs, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	init_waitqueue_head(&s->data_wq);
	memcpy(s->name, name, len);
	s->name_len = len;
	s->inst = inst;
	s->pid = task_tgid_vnr(current);
	s->nr_granules = size / RXU_DATA_GRANULE;
	s->io_max = min_t(size_t, RXU_SCHEME_IO_MAX, size / 2);
	s->map = bitmap_zalloc(s->nr_granules, GFP_KERNEL_ACCOUNT);
	if (!s->map) {
		ret = -ENOMEM;
		goto err_free_scheme;
	}
	s->data = rxu_mem_add_region(inst->mem_file, RXU_REGION_SCHEME_DATA,
				     size);
	if (IS_ERR(s->data)) {
		ret = PTR_ERR(s->data);
		goto err_free_map;
	}
	s->mem_file = get_file(inst->mem_file);

	mutex_lock(&rxu_schemes_lock);
	if (rxu_scheme_find(name, len)) {
		mutex_unlock(&rxu_schemes_lock);
		ret = -EEXIST;
		goto err_put_mem;
	}
	/* Scheme files and requests may outlive the provider's fd. */
	__module_get(THIS_MODULE);
	list_add_tail(&s->node, &rxu_schemes);
	inst->scheme = s;
	mutex_unlock(&rxu_schemes_lock);
	return 0;

err_put_mem:
	fput(s->mem_file);
err_free_map:
	bitmap_free(s->map);
err_free_scheme:
	kfree(s);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The data region                                                     */
/* ------------------------------------------------------------------ */

static int rxu_data_try(struct rxu_scheme *s, unsigned int count,
			unsigned int *first)
{
	unsigned long idx;
	int ret = 0;

	spin_lock(&s->lock);
	if (s->dead) {
		ret = -EIO;
	} else {
		idx = bitmap_find_next_zero_area(s->map, s->nr_granules, 0,
						 count, 0);
		if (idx >= s->nr_granules) {
			ret = -ENOSPC;
		} else {
			bitmap_set(s->map, idx, count);
			*first = idx;
		}
	}
	spin_unlock(&s->lock);
	return ret;
}

/* Worth trying again: count granules free in a row, or the scheme died. */
static bool rxu_data_room(struct rxu_scheme *s, unsigned int count)
{
	unsigned long idx;

	spin_lock(&s->lock);
	idx = s->dead ? 0 : bitmap_find_next_zero_area(s->map, s->nr_granules,
						       0, count, 0);
	spin_unlock(&s->lock);
	return idx < s->nr_granules;
}

/*
 * Does ring inst hold room in s that only its own ENTER gives back: an
 * answered request (a classic READ or an FSTAT) it has not taken yet?
 * Its ops list is stable: we run in its ENTER (under its submit_lock).
 */
static bool rxu_ring_holds_room(struct rxu_instance *inst,
				struct rxu_scheme *s)
{
	struct rxu_async *a;
	bool held = false;

	spin_lock(&s->lock);
	list_for_each_entry(a, &inst->ops, node) {
		if (a->kind == RXU_ASYNC_SCHEME && a->sreq &&
		    a->sreq->scheme == s && a->sreq->state == RXU_SREQ_DONE &&
		    a->sreq->data_count) {
			held = true;
			break;
		}
	}
	spin_unlock(&s->lock);
	return held;
}

/*
 * Room for len bytes (len <= s->io_max): wait for it, or -EINTR/-EIO.
 * ring: the consumer ring whose ENTER this is (NULL for a syscall).  A
 * ring op does not wait for room its own ring holds: -ENOBUFS.
 */
int rxu_sreq_data(struct rxu_sreq *r, size_t len, struct rxu_instance *ring)
{
	struct rxu_scheme *s = r->scheme;
	unsigned int count = DIV_ROUND_UP(len, RXU_DATA_GRANULE);
	unsigned int first = 0;
	int ret;

	if (!count)
		return 0;
	for (;;) {
		ret = rxu_data_try(s, count, &first);
		if (ret != -ENOSPC)
			break;
		if (ring && rxu_ring_holds_room(ring, s))
			return -ENOBUFS;
		/*
		 * Room comes back as requests are answered (WRITEs, zero-copy
		 * READs, errors) or taken (classic READs, FSTAT); an answer
		 * that keeps its room wakes us too, for the check above.
		 */
		if (wait_event_interruptible(s->data_wq,
					     rxu_data_room(s, count) ||
					     (ring && rxu_ring_holds_room(ring, s))))
			return -EINTR;
	}
	if (ret)
		return ret;
	r->data_first = first;
	r->data_count = count;
	r->sqe.addr = (u64)first * RXU_DATA_GRANULE;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

struct rxu_sreq *rxu_sreq_new(struct rxu_scheme *s, u8 opcode)
{
	struct rxu_sreq *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return NULL;
	kref_get(&s->ref);
	r->scheme = s;
	refcount_set(&r->ref, 1);
	init_completion(&r->done);
	r->sqe.opcode = opcode;
	return r;
}

/* A CLOSE made in advance and not needed: its tag is free again. */
static void rxu_sreq_drop_close(struct rxu_sreq *c)
{
	struct rxu_scheme *s = c->scheme;

	spin_lock(&s->lock);
	xa_erase(&s->reqs, c->tag);
	spin_unlock(&s->lock);
	rxu_sreq_put(c);
}

void rxu_sreq_put(struct rxu_sreq *r)
{
	struct rxu_scheme *s = r->scheme;

	if (!refcount_dec_and_test(&r->ref))
		return;
	if (r->close)
		rxu_sreq_drop_close(r->close);
	if (r->data_count) {
		spin_lock(&s->lock);
		bitmap_clear(s->map, r->data_first, r->data_count);
		spin_unlock(&s->lock);
		wake_up(&s->data_wq);
	}
	if (r->passed)
		fput(r->passed);
	rxu_sreq_zc_release(r);
	rxu_scheme_put(s);
	kfree(r);
}

/* Write one SQE into the provider's SQ slot idx. */
static void rxu_write_sqe(struct rxu_instance *inst, u64 idx,
			  const struct rxu_sqe *sqe)
{
	if (rxu_is_bits32(inst)) {
		struct rxu_sqe32 *e = rxu_kring_slot(&inst->sq, idx);

		WRITE_ONCE(e->opcode, sqe->opcode);
		WRITE_ONCE(e->flags, 0);
		WRITE_ONCE(e->priority, 0);
		WRITE_ONCE(e->syscall_flags, sqe->syscall_flags);
		WRITE_ONCE(e->fd, (u32)sqe->fd);
		WRITE_ONCE(e->len, (u32)sqe->len);
		WRITE_ONCE(e->user_data, (u32)sqe->user_data);
		WRITE_ONCE(e->addr, (u32)sqe->addr);
		WRITE_ONCE(e->offset, sqe->offset);
	} else {
		struct rxu_sqe64 *e = rxu_kring_slot(&inst->sq, idx);

		WRITE_ONCE(e->opcode, sqe->opcode);
		WRITE_ONCE(e->flags, 0);
		WRITE_ONCE(e->priority, 0);
		WRITE_ONCE(e->syscall_flags, sqe->syscall_flags);
		WRITE_ONCE(e->fd, sqe->fd);
		WRITE_ONCE(e->len, sqe->len);
		WRITE_ONCE(e->user_data, sqe->user_data);
		WRITE_ONCE(e->addr, sqe->addr);
		WRITE_ONCE(e->offset, sqe->offset);
		WRITE_ONCE(e->additional1, sqe->additional1);
		WRITE_ONCE(e->additional2, sqe->additional2);
	}
}

/*
 * Move queued requests into the provider's SQ while it has room, and
 * wake the provider if any went.  Under s->lock, scheme alive.  A broken
 * SQ header leaves them queued: the provider's ENTER reports it.
 */
static void rxu_scheme_flush(struct rxu_scheme *s)
{
	struct rxu_instance *inst = s->inst;
	struct rxu_kring_pos pos;
	struct rxu_sreq *r, *tmp;
	u64 count = 0;

	lockdep_assert_held(&s->lock);
	if (list_empty(&s->queue) || rxu_kring_push_pos(&inst->sq, &pos))
		return;
	list_for_each_entry_safe(r, tmp, &s->queue, node) {
		if (pos.avail + count >= inst->sq.n)
			break;
		rxu_write_sqe(inst, pos.tail + count, &r->sqe);
		list_del_init(&r->node);
		r->state = RXU_SREQ_SENT;
		count++;
	}
	if (!count)
		return;
	rxu_kring_push_commit(&inst->sq, pos.tail, count);
	/* Its ENTER and its IO_URING watchers: SQEs to pop. */
	rxu_instance_kick(inst);
}

/* Give r a tag: its id in s->reqs and its SQE's user_data. */
static int rxu_sreq_tag(struct rxu_sreq *r)
{
	struct rxu_scheme *s = r->scheme;
	int ret;

	ret = xa_alloc_cyclic(&s->reqs, &r->tag, r, XA_LIMIT(1, U32_MAX),
			      &s->next_tag, GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		return ret;
	r->sqe.user_data = r->tag;
	return 0;
}

/* Queue a tagged r for the provider: 0, or -EIO if it is gone. */
static int rxu_sreq_queue(struct rxu_sreq *r)
{
	struct rxu_scheme *s = r->scheme;

	spin_lock(&s->lock);
	if (s->dead) {
		xa_erase(&s->reqs, r->tag);
		spin_unlock(&s->lock);
		return -EIO;
	}
	refcount_inc(&r->ref);
	r->state = RXU_SREQ_QUEUED;
	list_add_tail(&r->node, &s->queue);
	rxu_scheme_flush(s);
	spin_unlock(&s->lock);
	return 0;
}

/*
 * Give r (built: opcode, fields, data) a tag and queue it for the
 * provider.  The scheme takes a reference on r until it answers.
 */
int rxu_sreq_submit(struct rxu_sreq *r)
{
	int ret;

	ret = rxu_sreq_tag(r);
	return ret ? ret : rxu_sreq_queue(r);
}

/*
 * An OPEN or DUP gets, before it is sent, the CLOSE of the handle its
 * answer will make, tag included: the provider must hear of every
 * handle that no consumer holds (ABI.md section 7), and where that is
 * learnt (a file's release, an answer that cannot become a file)
 * nothing may fail.  Until sent, the CLOSE sits in s->reqs in state
 * NEW, which answers and the provider's death pass over.
 */
int rxu_sreq_want_close(struct rxu_sreq *r)
{
	struct rxu_sreq *c;
	int ret;

	c = rxu_sreq_new(r->scheme, RXU_OP_CLOSE);
	if (!c)
		return -ENOMEM;
	ret = rxu_sreq_tag(c);
	if (ret) {
		rxu_sreq_put(c);
		return ret;
	}
	c->abandoned = true;	/* nobody waits for its answer */
	r->close = c;
	return 0;
}

/* Close a handle at the provider with c (rxu_sreq_want_close()); consumes c. */
void rxu_sreq_send_close(struct rxu_sreq *c, u64 handle)
{
	c->sqe.fd = handle;
	rxu_sreq_queue(c);	/* a dead provider has no handles left */
	rxu_sreq_put(c);
}

/*
 * r is DONE: give its room back now unless its issuer still copies out
 * of it (a classic READ answer with bytes, an FSTAT).  The bytes of a
 * WRITE, OPEN or DUP were the provider's to read before it answered, and
 * a zero-copy answer's are in pinned pages.  So one ring can have more
 * WRITEs in flight than the region holds.  Under s->lock.
 */
static void rxu_sreq_done_data(struct rxu_sreq *r)
{
	struct rxu_scheme *s = r->scheme;
	u8 op = r->sqe.opcode;
	bool keep;

	if (!r->data_count)
		return;
	keep = r->status >= 0 &&
	       (op == RXU_OP_FSTAT ||
		((op == RXU_OP_READ || op == RXU_OP_PREAD) && r->status > 0 &&
		 !r->zc_done));
	if (!keep) {
		bitmap_clear(s->map, r->data_first, r->data_count);
		r->data_count = 0;
	}
	/* Room, or a ring's waiter that must now see its own room held. */
	if (wq_has_sleeper(&s->data_wq))
		wake_up(&s->data_wq);
}

/* Hand a finished request to its issuer; under s->lock. */
static void rxu_sreq_notify(struct rxu_sreq *r)
{
	if (r->async)
		rxu_async_wake(r->async);
	else
		complete(&r->done);
}

/*
 * r is answered (or failed): off the books, result recorded, issuer told.
 * Under s->lock.  If the issuer left, nobody takes the result, and what
 * it holds (a file, whose release closes the handle) goes when r is put.
 */
static void rxu_sreq_finish(struct rxu_sreq *r, s64 status, u64 extra,
			    struct file *passed)
{
	struct rxu_scheme *s = r->scheme;
	u8 op = r->sqe.opcode;

	lockdep_assert_held(&s->lock);
	if (r->state == RXU_SREQ_QUEUED)
		list_del_init(&r->node);
	xa_erase(&s->reqs, r->tag);
	r->state = RXU_SREQ_DONE;
	r->status = status;
	r->extra = extra;
	r->passed = passed;
	rxu_sreq_done_data(r);
	if (r->copying) {
		/* The answer's bytes are in; an abandoning issuer may go. */
		r->copying = false;
		wake_up_var(&r->copying);
	}
	if (r->abandoned)
		return;
	/* A handle that would block is no longer ready for that. */
	if (r->sf && status == -EAGAIN) {
		u32 ready = r->sf->ready;

		if (op == RXU_OP_READ || op == RXU_OP_PREAD)
			ready &= ~RXU_EVENT_READ;
		else if (op == RXU_OP_WRITE || op == RXU_OP_PWRITE)
			ready &= ~RXU_EVENT_WRITE;
		/* poll() reads it without the lock. */
		WRITE_ONCE(r->sf->ready, ready);
	}
	rxu_sreq_notify(r);
}

/* The issuer gives r up (a signal, its ring closing); drops its reference. */
void rxu_sreq_abandon(struct rxu_sreq *r)
{
	struct rxu_scheme *s = r->scheme;
	bool unqueued = false, copying = false;

	spin_lock(&s->lock);
	switch (r->state) {
	case RXU_SREQ_QUEUED:
		/* Never sent: as if never made. */
		list_del_init(&r->node);
		xa_erase(&s->reqs, r->tag);
		r->state = RXU_SREQ_DONE;
		r->status = -EINTR;
		unqueued = true;
		break;
	case RXU_SREQ_SENT:
		r->abandoned = true;	/* the answer cleans up */
		copying = r->copying;
		break;
	default:
		/* Answered, never taken: what it made goes with it. */
		break;
	}
	spin_unlock(&s->lock);
	/*
	 * The answering ENTER is writing into our buffer: do not return to
	 * it before that is over (scheme_zc.c).  A fatal signal need not
	 * wait: the pages are pinned, and nobody will read them.
	 */
	if (copying)
		wait_var_event_killable(&r->copying, !READ_ONCE(r->copying));
	if (unqueued)
		rxu_sreq_put(r);	/* the scheme's reference */
	rxu_sreq_put(r);
}

/*
 * Submit r and sleep until it is answered: 0 (the answer is in r), or
 * -errno and r is gone (a signal: -EINTR; a dead scheme: -EIO).
 */
int rxu_sreq_call(struct rxu_sreq *r)
{
	int ret;

	ret = rxu_sreq_submit(r);
	if (ret) {
		rxu_sreq_put(r);
		return ret;
	}
	if (wait_for_completion_interruptible(&r->done)) {
		rxu_sreq_abandon(r);
		return -EINTR;
	}
	return 0;
}

/* A CQE status as a signed result; a 32-bit ring's errors sign-extend. */
static s64 rxu_cqe_status(u64 raw, bool bits32)
{
	if (bits32) {
		u32 v = raw;

		return v >= (u32)-MAX_ERRNO ? (s64)(s32)v : (s64)v;
	}
	if (raw >= (u64)-MAX_ERRNO)
		return (s64)raw;
	/* Neither an error nor a plausible result. */
	return (s64)raw < 0 ? -EIO : (s64)raw;
}

/*
 * Is status a sane answer to r (passed: with RXU_CQE_PASS_FD, zc: with
 * RXU_CQE_ZC_DATA)?  It, or -EIO for a provider's garbage.
 */
static s64 rxu_sreq_check(const struct rxu_sreq *r, s64 status, bool passed,
			  bool zc)
{
	u8 op = r->sqe.opcode;

	if (passed && op != RXU_OP_OPEN && op != RXU_OP_DUP)
		return -EIO;
	if (zc && !rxu_sreq_zc_offered(r))
		return -EIO;
	if (status < 0)
		return status;
	switch (op) {
	case RXU_OP_READ:
	case RXU_OP_PREAD:
		/* In the data region, an offered READ has only its room. */
		if (!zc && rxu_sreq_zc_offered(r))
			return (u64)status <= r->sqe.additional1 ? status : -EIO;
		return (u64)status <= r->sqe.len ? status : -EIO;
	case RXU_OP_WRITE:
	case RXU_OP_PWRITE:
		return (u64)status <= r->sqe.len ? status : -EIO;
	case RXU_OP_FSTAT:
	case RXU_OP_FSYNC:
	case RXU_OP_FTRUNCATE:
	case RXU_OP_CLOSE:
	case RXU_OP_RECV_IORING:
		return status ? -EIO : 0;
	default:
		return status;
	}
}

/* EVENT CQE: handle is ready for mask (RXU_EVENT_READ/WRITE). */
static void rxu_scheme_event(struct rxu_scheme *s, u64 handle, u64 mask)
{
	u32 ev = mask & (RXU_EVENT_READ | RXU_EVENT_WRITE);
	struct rxu_sfile *sf;
	__poll_t key = 0;

	if (ev & RXU_EVENT_READ)
		key |= EPOLLIN | EPOLLRDNORM;
	if (ev & RXU_EVENT_WRITE)
		key |= EPOLLOUT | EPOLLWRNORM;
	spin_lock(&s->lock);
	if (!ev || mask != ev)
		s->garbage++;
	list_for_each_entry(sf, &s->files, node) {
		if (sf->handle != handle || !ev)
			continue;
		WRITE_ONCE(sf->ready, sf->ready | ev);
		wake_up_poll(&sf->wq, key);
	}
	spin_unlock(&s->lock);
}

/*
 * The file an OPEN or DUP answer stands for: a passed file of the
 * provider (we run in its ENTER, so status is its fd), or a new scheme
 * file for the handle.  Made now, before a later EVENT CQE of the same
 * doorbell names the handle; only the fd waits for the consumer.
 */
static struct file *rxu_answer_file(struct rxu_sreq *r, s64 *status,
				    bool pass, int oflags)
{
	struct file *file;

	if (pass) {
		file = *status <= INT_MAX ? fget(*status) : NULL;
		if (!file)
			*status = -EIO;
		return file;
	}
	/* The file takes r->close, for its release. */
	file = rxu_sfile_new(r->scheme, *status, oflags, &r->close);
	if (IS_ERR(file)) {
		rxu_sreq_send_close(r->close, *status);
		r->close = NULL;
		*status = PTR_ERR(file);
		return NULL;
	}
	return file;
}

/* One CQE of the provider: to the request it answers, or dropped. */
static void rxu_scheme_answer(struct rxu_scheme *s, const struct rxu_cqe_k *c,
			      bool bits32)
{
	bool pass = c->flags & RXU_CQE_PASS_FD;
	bool zc = c->flags & RXU_CQE_ZC_DATA;
	u64 extra = c->extra;
	struct file *file = NULL;
	struct rxu_sreq *r;
	s64 status;
	int oflags;
	u8 op;

	if (c->flags & RXU_CQE_EVENT) {
		rxu_scheme_event(s, c->user_data, c->flags >> RXU_CQE_EVENT_SHIFT);
		return;
	}
	status = rxu_cqe_status(c->status, bits32);
	if (c->flags & ~(u64)(RXU_CQE_PASS_FD | RXU_CQE_ZC_DATA))
		status = -EIO;

	spin_lock(&s->lock);
	r = c->user_data <= U32_MAX ? xa_load(&s->reqs, c->user_data) : NULL;
	if (!r || r->state != RXU_SREQ_SENT) {
		s->garbage++;
		spin_unlock(&s->lock);
		return;
	}
	op = r->sqe.opcode;
	oflags = r->oflags;
	/* A zero-copy answer's extra is the provider's address: not shown. */
	if (zc && rxu_sreq_zc_offered(r))
		extra = 0;
	status = rxu_sreq_check(r, status, pass, zc);
	spin_unlock(&s->lock);

	/*
	 * r stays SENT meanwhile: only this ENTER (under the provider's
	 * submit_lock) answers it, and the provider cannot go away during
	 * it.  Its issuer may abandon it, which only sets a flag.
	 */
	if ((op == RXU_OP_OPEN || op == RXU_OP_DUP) && status >= 0)
		file = rxu_answer_file(r, &status, pass, oflags);
	else if (zc && status > 0)
		status = rxu_sreq_zc_copy(r, c->extra, status);

	spin_lock(&s->lock);
	rxu_sreq_finish(r, status, extra, file);
	spin_unlock(&s->lock);
	rxu_sreq_put(r);	/* the scheme's reference */
}

static void rxu_read_cqe(const struct rxu_instance *inst, u64 idx,
			 struct rxu_cqe_k *c)
{
	if (rxu_is_bits32(inst)) {
		const struct rxu_cqe32 *e = rxu_kring_slot(&inst->cq, idx);

		c->user_data = READ_ONCE(e->user_data);
		c->status = READ_ONCE(e->status);
		c->flags = READ_ONCE(e->flags);
		c->extra = READ_ONCE(e->extra);
	} else {
		const struct rxu_cqe64 *e = rxu_kring_slot(&inst->cq, idx);

		c->user_data = READ_ONCE(e->user_data);
		c->status = READ_ONCE(e->status);
		c->flags = READ_ONCE(e->flags);
		c->extra = READ_ONCE(e->extra);
	}
}

/*
 * One round of the provider's ENTER: take its answers, send what waits,
 * and say how many SQEs it has to pop (or -EIO for a broken header).
 */
s64 rxu_scheme_submit(struct rxu_instance *inst)
{
	struct rxu_scheme *s = inst->scheme;
	struct rxu_kring_pos pos;
	struct rxu_cqe_k c;
	u64 i;
	int ret;

	mutex_lock(&inst->submit_lock);
	ret = rxu_kring_pop_pos(&inst->cq, &pos);
	if (!ret) {
		for (i = 0; i < pos.avail; i++) {
			/* Read once: the provider may be rewriting it. */
			rxu_read_cqe(inst, pos.head + i, &c);
			rxu_scheme_answer(s, &c, rxu_is_bits32(inst));
		}
		if (pos.avail)
			rxu_kring_pop_commit(&inst->cq, pos.head, pos.avail);
	}
	mutex_unlock(&inst->submit_lock);
	if (ret)
		return ret;

	spin_lock(&s->lock);
	rxu_scheme_flush(s);
	spin_unlock(&s->lock);
	return rxu_kring_count(&inst->sq);
}

/*
 * The provider's fd is gone: the name is free again, every request
 * fails with EIO, every file of the scheme with it from now on, and
 * their watchers hear a hang-up.
 */
void rxu_scheme_provider_gone(struct rxu_instance *inst)
{
	struct rxu_scheme *s = inst->scheme;
	struct rxu_sreq *r, *tmp;
	struct rxu_sfile *sf;
	unsigned long tag;
	LIST_HEAD(done);

	mutex_lock(&rxu_schemes_lock);
	list_del_init(&s->node);
	mutex_unlock(&rxu_schemes_lock);

	spin_lock(&s->lock);
	/* Read without the lock by poll() and rxu_scheme_file_dead(). */
	WRITE_ONCE(s->dead, true);
	s->inst = NULL;
	xa_for_each(&s->reqs, tag, r) {
		/* Not queued yet: its submitter sees dead and fails it. */
		if (r->state == RXU_SREQ_NEW)
			continue;
		rxu_sreq_finish(r, -EIO, 0, NULL);
		list_add_tail(&r->node, &done);
	}
	list_for_each_entry(sf, &s->files, node)
		wake_up_poll(&sf->wq, EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP);
	spin_unlock(&s->lock);
	wake_up_all(&s->data_wq);

	/* Orphans have no handle to close at a provider that is gone. */
	list_for_each_entry_safe(r, tmp, &done, node) {
		list_del_init(&r->node);
		rxu_sreq_put(r);
	}
	inst->scheme = NULL;
	rxu_scheme_put(s);
}

/*
 * u2u: ask the provider to accept a ring (RECV_IORING, addr = ticket).
 * 0 accepted, -ECONNREFUSED refused, -EIO provider gone, -EINTR.
 */
int rxu_scheme_call_recv(struct rxu_scheme *s, u64 ticket)
{
	struct rxu_sreq *r;
	s64 status;
	int ret;

	r = rxu_sreq_new(s, RXU_OP_RECV_IORING);
	if (!r)
		return -ENOMEM;
	r->sqe.addr = ticket;
	ret = rxu_sreq_call(r);
	if (ret)
		return ret;
	status = r->status;
	rxu_sreq_put(r);
	if (status == -EIO)
		return -EIO;
	return status ? -ECONNREFUSED : 0;
}

/* /proc/redox_uring: one line per registered scheme. */
void rxu_scheme_show(struct seq_file *m)
{
	struct rxu_scheme *s;
	struct rxu_sreq *r;
	unsigned long tag;
	u64 sent, queued;

	mutex_lock(&rxu_schemes_lock);
	list_for_each_entry(s, &rxu_schemes, node) {
		sent = 0;
		queued = 0;
		spin_lock(&s->lock);
		xa_for_each(&s->reqs, tag, r) {
			if (r->state == RXU_SREQ_SENT)
				sent++;
			else if (r->state == RXU_SREQ_QUEUED)
				queued++;
		}
		seq_printf(m, "scheme %.*s pid %d inflight %llu pending %llu files %llu garbage %llu\n",
			   (int)s->name_len, s->name, s->pid, sent, queued,
			   s->nr_files, s->garbage);
		spin_unlock(&s->lock);
	}
	mutex_unlock(&rxu_schemes_lock);
}
