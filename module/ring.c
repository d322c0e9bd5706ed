// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's side of a ring: index arithmetic of ABI.md section 3 on
 * memory the other side can write at any time.
 *
 * With n entries, stored head and tail live in [0, 2n): slot = v & (n - 1),
 * the bit above is the cycle bit, so all n slots are usable and full
 * (head ^ tail == n) differs from empty (head == tail).  Every value read
 * from the shared header is checked against 2n and the snapshot refused
 * with -EIO when it is out of range or claims more than n entries: a
 * broken header must never turn into an out-of-bounds access.
 */
#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/errno.h>

#include "ring.h"

void rxu_kring_init(struct rxu_kring *r, void *hdr, void *entries, u64 n,
		    unsigned int esize)
{
	r->hdr = hdr;
	r->entries = entries;
	r->n = n;
	r->esize = esize;
	WRITE_ONCE(r->hdr->entry_count, n);
}

static int rxu_kring_check(const struct rxu_kring *r,
			   struct rxu_kring_pos *pos)
{
	u64 wrap = 2 * r->n;

	if (pos->head >= wrap || pos->tail >= wrap)
		return -EIO;
	pos->avail = (pos->tail - pos->head) & (wrap - 1);
	if (pos->avail > r->n)
		return -EIO;
	return 0;
}

/*
 * The popping side loads the pusher's tail with acquire, so that the
 * entries it then reads are those the pusher wrote before its release.
 */
int rxu_kring_pop_pos(const struct rxu_kring *r, struct rxu_kring_pos *pos)
{
	pos->tail = smp_load_acquire(&r->hdr->tail_index); /* pairs with push */
	pos->head = READ_ONCE(r->hdr->head_index);
	return rxu_kring_check(r, pos);
}

/*
 * The pushing side loads the popper's head with acquire, so that its
 * writes into freed slots cannot pass the popper's reads of them.
 */
int rxu_kring_push_pos(const struct rxu_kring *r, struct rxu_kring_pos *pos)
{
	pos->head = smp_load_acquire(&r->hdr->head_index); /* pairs with pop */
	pos->tail = READ_ONCE(r->hdr->tail_index);
	return rxu_kring_check(r, pos);
}

s64 rxu_kring_count(const struct rxu_kring *r)
{
	struct rxu_kring_pos pos;
	int ret;

	ret = rxu_kring_pop_pos(r, &pos);
	return ret ? ret : (s64)pos.avail;
}

/*
 * Publishing: the index store is a release, so the other side sees the
 * entries (push) or may reuse the slots (pop) only after we are done with
 * them.  The epoch is the pusher's (or popper's) own word, as the index
 * is, so a plain update does; a user who also bumps it to notify itself
 * (as Redox's executor did) races only with itself: some bump shows
 * either way, and the kernel never waits on an epoch value.
 */
void rxu_kring_pop_commit(struct rxu_kring *r, u64 head, u64 count)
{
	/* Our reads of the popped entries happen before the slots are free. */
	smp_store_release(&r->hdr->head_index, (head + count) & (2 * r->n - 1));
	WRITE_ONCE(r->hdr->pop_epoch, READ_ONCE(r->hdr->pop_epoch) + count);
}

void rxu_kring_push_commit(struct rxu_kring *r, u64 tail, u64 count)
{
	/* The pushed entries are written before the tail shows them. */
	smp_store_release(&r->hdr->tail_index, (tail + count) & (2 * r->n - 1));
	WRITE_ONCE(r->hdr->push_epoch, READ_ONCE(r->hdr->push_epoch) + count);
}

void rxu_kring_set_drop(struct rxu_kring *r)
{
	/* Bit 0 of the status word is RXU_RING_DROP; the user may write
	 * other bits concurrently, so set it atomically.
	 */
	BUILD_BUG_ON(BIT_ULL(0) != RXU_RING_DROP);
	set_bit(0, (unsigned long *)&r->hdr->status);
}
