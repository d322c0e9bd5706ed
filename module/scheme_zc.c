// SPDX-License-Identifier: GPL-2.0
/*
 * Zero-copy READ answers (docs/zero-copy.md; the uapi header, "Zero-copy
 * READ answers").  Without them a READ of a scheme file costs two copies:
 * the provider copies its bytes into the data region, and the consumer's
 * context copies them out to the caller's buffer.  A provider that opts
 * in (RXU_IOC_SCHEME_FEATURES) may answer a READ instead with the address
 * of the bytes in its own memory (RXU_CQE_ZC_DATA), and the ENTER that
 * hands the kernel that answer copies them straight into the issuer's
 * buffer: one copy, and once that ENTER returns the provider may reuse
 * the memory at once (a driver's transfer buffer, say).
 *
 * How.  When the READ is built, in the issuer's context, the kernel notes
 * the issuer's mm and the user segments of its buffer.  The answering
 * ENTER pins those pages for writing with pin_user_pages_remote(), all of
 * them before it writes a byte, so a buffer unmapped or made read-only
 * meanwhile fails with EFAULT and nothing is written; then it copies with
 * copy_from_user() from its own process, which is current, into the
 * pinned pages, and unpins them dirty.  A source it cannot read fails the
 * request with EIO, as any bad answer does.  Nothing stays pinned after
 * the ENTER.
 *
 * What each side can reach does not grow.  The provider never sees the
 * issuer's memory or addresses, and the kernel writes only the answer's
 * bytes, only into the buffer of the request answered, only while that
 * request is out; the issuer never learns the provider's address.  A
 * ZC_DATA answer to a request that was not offered one, or a second
 * answer to a finished request, is refused as any garbage is (scheme.c).
 *
 * Locking.  The copy runs in the provider's ENTER under its submit_lock
 * and outside s->lock.  It takes the issuer's mmap_lock for reading, only
 * around the pin (never with a fault of the provider's own memory inside
 * it: the copy_from_user() comes after the unlock), and submit_lock
 * already precedes mmap_lock for every u2k op.  The request stays SENT
 * meanwhile and only that ENTER can finish it.  An issuer that gives the
 * request up (a signal, its ring closing) must not return to a buffer
 * still being written: r->copying, set and cleared under s->lock, makes
 * rxu_sreq_abandon() wait for the copy (killably: a dying issuer's pages
 * are pinned, so the late write is harmless).
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <uapi/linux/redox_uring.h>

#include "compat.h"
#include "instance.h"
#include "scheme.h"
#include "scheme_int.h"

#define RXU_ZC_INLINE	4	/* issuer's pages pinned without an array */

/*
 * Note where READ r's bytes go: the user segments of dst (an iterator
 * just imported over current's memory).  0, or -ENOMEM.
 */
static int rxu_sreq_zc_dest(struct rxu_sreq *r, const struct iov_iter *dst)
{
	if (iter_is_ubuf(dst) || dst->nr_segs == 1) {
		r->dst_one = rxu_iter_segment(dst);
		r->dst_iov = &r->dst_one;
		r->dst_nr = 1;
	} else {
		r->dst_iov = kmemdup(rxu_iter_iovs(dst),
				     array_size(dst->nr_segs,
						sizeof(struct iovec)),
				     GFP_KERNEL_ACCOUNT);
		if (!r->dst_iov)
			return -ENOMEM;
		r->dst_nr = dst->nr_segs;
	}
	mmgrab(current->mm);
	r->dst_mm = current->mm;
	return 0;
}

/*
 * The SQE's len and data room for a READ or PREAD of want (> 0) bytes
 * into dst.  A provider that takes zero-copy answers is asked for up to
 * RXU_SCHEME_ZC_MAX bytes, with RXU_RW_ZC and the room (which may be
 * less) in additional1; any other is asked for what fits the room.
 * Returns the bytes asked, or -errno as rxu_sreq_data().
 */
ssize_t rxu_sreq_read_data(struct rxu_sreq *r, size_t want,
			   struct rxu_instance *ring,
			   const struct iov_iter *dst)
{
	struct rxu_scheme *s = r->scheme;
	size_t room;
	int ret;

	/* (A caller with no user memory of its own is never offered one.) */
	if ((READ_ONCE(s->features) & RXU_SCHEME_FEAT_ZC_READ) && current->mm) {
		ret = rxu_sreq_zc_dest(r, dst);
		if (ret)
			return ret;
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

/* Pages that the first len bytes of r's segments touch. */
static unsigned long rxu_zc_dest_pages(const struct rxu_sreq *r, size_t len)
{
	unsigned long i, n = 0;
	size_t seg;
	u64 base;

	for (i = 0; len && i < r->dst_nr; i++) {
		base = (u64)(uintptr_t)r->dst_iov[i].iov_base;
		seg = min(len, r->dst_iov[i].iov_len);
		if (!seg)
			continue;
		n += DIV_ROUND_UP(offset_in_page(base) + seg, PAGE_SIZE);
		len -= seg;
	}
	return n;
}

/*
 * Pin, for writing, the issuer's pages under the first len bytes of its
 * segments into pages (n of them): 0, or -EFAULT if any is not writable
 * there now (none stays pinned then).
 */
static int rxu_zc_pin_dest(struct rxu_sreq *r, size_t len,
			   struct page **pages, unsigned long n)
{
	struct mm_struct *mm = r->dst_mm;
	unsigned long i, got = 0, want;
	size_t seg;
	u64 base;
	long ret = 0;

	/* An issuer whose memory is already being torn down takes nothing. */
	if (!mmget_not_zero(mm))
		return -EFAULT;
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		return -EINTR;
	}
	for (i = 0; len && i < r->dst_nr; i++) {
		base = (u64)(uintptr_t)r->dst_iov[i].iov_base;
		seg = min(len, r->dst_iov[i].iov_len);
		if (!seg)
			continue;
		want = DIV_ROUND_UP(offset_in_page(base) + seg, PAGE_SIZE);
		if (WARN_ON_ONCE(got + want > n))
			break;
		ret = rxu_pin_user_pages_remote(mm, base & PAGE_MASK, want,
						FOLL_WRITE, pages + got);
		if (ret > 0)
			got += ret;
		if (ret != (long)want)
			break;
		len -= seg;
	}
	mmap_read_unlock(mm);
	mmput(mm);
	if (got != n) {
		unpin_user_pages(pages, got);
		return -EFAULT;
	}
	return 0;
}

/*
 * A zero-copy answer of len (> 0, already checked against the SQE's len)
 * bytes at uaddr in the answering process, whose ENTER this is: copy them
 * into READ r's issuer's buffer now.  len; -EIO if the source is not all
 * readable here; -EFAULT if the issuer's buffer is not all writable; or
 * -ENOMEM, -EINTR.  The caller finishes r, which ends r->copying.
 */
s64 rxu_sreq_zc_copy(struct rxu_sreq *r, u64 uaddr, s64 len)
{
	struct rxu_scheme *s = r->scheme;
	struct page *inline_pages[RXU_ZC_INLINE], **pages = inline_pages;
	const char __user *src = u64_to_user_ptr(uaddr);
	size_t left = len, off, chunk;
	unsigned long n, i, seg;
	size_t seg_left;
	s64 ret = len;
	void *k;
	u64 end;

	if (check_add_overflow(uaddr, (u64)len, &end) || end > TASK_SIZE_MAX)
		return -EIO;
	if (WARN_ON_ONCE(!r->dst_mm))
		return -EIO;
	spin_lock(&s->lock);
	if (r->abandoned) {
		/* Nobody takes the bytes: do not write them. */
		spin_unlock(&s->lock);
		return -EINTR;
	}
	r->copying = true;
	spin_unlock(&s->lock);

	n = rxu_zc_dest_pages(r, len);
	if (n > ARRAY_SIZE(inline_pages)) {
		pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL_ACCOUNT);
		if (!pages)
			return -ENOMEM;
	}
	ret = rxu_zc_pin_dest(r, len, pages, n);
	if (ret)
		goto out_free;

	/* Walk the segments again, a page at a time, copying as we go. */
	ret = len;
	for (i = 0, seg = 0; left && seg < r->dst_nr && ret > 0; seg++) {
		seg_left = min(left, r->dst_iov[seg].iov_len);
		off = offset_in_page(r->dst_iov[seg].iov_base);
		while (seg_left && i < n) {
			chunk = min(seg_left, PAGE_SIZE - off);
			k = kmap_local_page(pages[i++]);
			if (copy_from_user(k + off, src, chunk))
				ret = -EIO;
			kunmap_local(k);
			if (ret < 0)
				break;
			src += chunk;
			left -= chunk;
			seg_left -= chunk;
			off = 0;
		}
	}
	if (ret > 0 && left)
		ret = -EIO;	/* cannot happen: len <= the segments' bytes */
	unpin_user_pages_dirty_lock(pages, n, true);
	if (ret > 0)
		r->zc_done = true;
out_free:
	if (pages != inline_pages)
		kvfree(pages);
	return ret;
}

/* r is being freed: what its zero-copy destination held goes. */
void rxu_sreq_zc_release(struct rxu_sreq *r)
{
	if (r->dst_iov != &r->dst_one)
		kfree(r->dst_iov);
	if (r->dst_mm)
		mmdrop(r->dst_mm);
}

/*
 * Copy the first len bytes of READ r's answer to the consumer's iterator,
 * unless the answering ENTER already put them there: 0, or -EFAULT if the
 * destination (checked now, in the consumer's context) took less.
 */
int rxu_sreq_copy_out(const struct rxu_sreq *r, struct iov_iter *to,
		      size_t len)
{
	if (r->zc_done)
		return 0;
	return copy_to_iter(rxu_sreq_buf(r), len, to) == len ? 0 : -EFAULT;
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
