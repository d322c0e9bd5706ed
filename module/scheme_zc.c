// SPDX-License-Identifier: GPL-2.0
/*
 * Zero-copy READ answers (docs/zero-copy.md; the uapi header, "Zero-copy
 * READ answers").  Without them a READ of a scheme file costs two copies:
 * the provider copies its bytes into the data region, and the consumer's
 * context copies them out to the caller's buffer.  A provider that opts
 * in (RXU_IOC_SCHEME_FEATURES) may answer a READ instead with the address
 * of the bytes in its own memory (RXU_CQE_ZC_DATA): its ENTER pins those
 * pages read-only, the request holds them, and the consumer's context
 * copies from them straight to the caller: one copy.
 *
 * What each side can reach does not grow.  The kernel pins only what the
 * answering process can itself read, during its own ENTER; the consumer
 * gets exactly the answer's bytes and never the address; the pins go
 * with the request (rxu_sreq_put()), so nothing outlives it; nobody maps
 * anybody's pages.  A ZC_DATA answer to a request that was not offered
 * one, or a second answer to a finished request, is refused as any
 * garbage is (scheme.c).
 *
 * Locking: the pin runs in the provider's ENTER under its submit_lock,
 * outside s->lock (it may sleep on mmap_lock, which submit_lock already
 * precedes for every u2k op); the request is SENT meanwhile and only that
 * ENTER can finish it.  The copy runs in the consumer's context with no
 * lock held, on a request nobody else touches any more.
 */
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <uapi/linux/redox_uring.h>

#include "instance.h"
#include "scheme.h"
#include "scheme_int.h"

/*
 * The SQE's len and data room for a READ or PREAD of want (> 0) bytes.
 * A provider that takes zero-copy answers is asked for up to
 * RXU_SCHEME_ZC_MAX bytes, with RXU_RW_ZC and the room (which may be
 * less) in additional1; any other is asked for what fits the room.
 * Returns the bytes asked, or -errno as rxu_sreq_data().
 */
ssize_t rxu_sreq_read_data(struct rxu_sreq *r, size_t want,
			   struct rxu_instance *ring)
{
	struct rxu_scheme *s = r->scheme;
	size_t room;
	int ret;

	if (READ_ONCE(s->features) & RXU_SCHEME_FEAT_ZC_READ) {
		want = min_t(size_t, want, RXU_SCHEME_ZC_MAX);
		room = min(want, s->io_max);
		r->sqe.syscall_flags = RXU_RW_ZC;
		r->sqe.additional1 = room;
	} else {
		want = min(want, s->io_max);
		room = want;
	}
	r->sqe.len = want;
	ret = rxu_sreq_data(r, room, ring);
	return ret ? ret : want;
}

/*
 * A zero-copy answer of len (> 0, already checked against the SQE's len)
 * bytes at uaddr in the answering process, whose ENTER this is: pin its
 * pages read-only until r is put.  len, or -EIO if they are not all
 * readable there, or -ENOMEM.
 */
s64 rxu_sreq_pin(struct rxu_sreq *r, u64 uaddr, s64 len)
{
	unsigned long start = uaddr & PAGE_MASK;
	struct page **pages = r->zc_inline;
	unsigned int n;
	u64 end;
	int got;

	if (check_add_overflow(uaddr, (u64)len, &end) || end > TASK_SIZE_MAX)
		return -EIO;
	n = DIV_ROUND_UP(end - start, PAGE_SIZE);
	if (n > ARRAY_SIZE(r->zc_inline)) {
		pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL_ACCOUNT);
		if (!pages)
			return -ENOMEM;
	}
	got = pin_user_pages_fast(start, n, 0, pages);
	if (got != n) {
		if (got > 0)
			unpin_user_pages(pages, got);
		if (pages != r->zc_inline)
			kvfree(pages);
		return -EIO;
	}
	r->zc_pages = pages;
	r->zc_npages = n;
	r->zc_off = offset_in_page(uaddr);
	return len;
}

/* r is being freed: let the provider's pages go. */
void rxu_sreq_unpin(struct rxu_sreq *r)
{
	if (!r->zc_npages)
		return;
	unpin_user_pages(r->zc_pages, r->zc_npages);
	if (r->zc_pages != r->zc_inline)
		kvfree(r->zc_pages);
	r->zc_npages = 0;
}

/*
 * Copy the first len bytes of READ r's answer to the consumer's iterator,
 * from the pinned pages or the data region: 0, or -EFAULT if the
 * destination (checked now, in the consumer's context) took less.
 */
int rxu_sreq_copy_out(const struct rxu_sreq *r, struct iov_iter *to,
		      size_t len)
{
	size_t off = r->zc_off, n;
	unsigned int i;

	if (!r->zc_npages)
		return copy_to_iter(rxu_sreq_buf(r), len, to) == len ?
		       0 : -EFAULT;
	for (i = 0; len && i < r->zc_npages; i++) {
		n = min_t(size_t, len, PAGE_SIZE - off);
		if (copy_page_to_iter(r->zc_pages[i], off, n, to) != n)
			return -EFAULT;
		len -= n;
		off = 0;
	}
	return len ? -EFAULT : 0;
}

/*
 * RXU_IOC_SCHEME_FEATURES on a provider's own fd: the extensions its
 * answers use.  Requests built from now on are offered them; those in
 * flight keep what they were offered.
 */
long rxu_scheme_set_features(struct rxu_instance *inst, void __user *arg)
{
	struct rxu_scheme_features f;

	/*
	 * Not a provider: an unknown ioctl, as section 1 has it for every
	 * number it does not list.  Pairs with the release that published
	 * the role, as in ENTER.
	 */
	if (smp_load_acquire(&inst->state) != RXU_STATE_ATTACHED ||
	    inst->role != RXU_ROLE_PROVIDER)
		return -ENOTTY;
	if (copy_from_user(&f, arg, sizeof(f)))
		return -EFAULT;
	if (f.reserved || (f.features & ~RXU_SCHEME_FEATS_ALL))
		return -EINVAL;
	/* A 32-bit CQE's extra cannot hold an address. */
	if ((f.features & RXU_SCHEME_FEAT_ZC_READ) && rxu_is_bits32(inst))
		return -EOPNOTSUPP;
	/* Our fd holds the scheme: it is only dropped at the fd's release. */
	WRITE_ONCE(inst->scheme->features, f.features);
	return 0;
}
