/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RXU_RING_H
#define RXU_RING_H

#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/types.h>
#include <asm/barrier.h>
#include <uapi/linux/redox_uring.h>

/*
 * The kernel's view of one ring: its header and entries through the
 * kernel mapping of the shared pages, and the entry count the kernel chose
 * at create time.  The entry_count word in the shared header is for
 * userspace only; everything here uses n, and every index read from the
 * header is range-checked before it is used.
 */
struct rxu_kring {
	struct rxu_ring_header *hdr;
	void *entries;
	u64 n;			/* entry count, a power of two */
	unsigned int esize;	/* bytes per entry: 64, 32 or 16 */
};

/* A consistent snapshot of a ring's indices. */
struct rxu_kring_pos {
	u64 head;
	u64 tail;
	u64 avail;		/* (tail - head) mod 2n, at most n */
};

void rxu_kring_init(struct rxu_kring *r, void *hdr, void *entries, u64 n,
		    unsigned int esize);

/* The entry at ring value idx (any value; only its slot is used). */
static inline void *rxu_kring_slot(const struct rxu_kring *r, u64 idx)
{
	return r->entries + (size_t)(idx & (r->n - 1)) * r->esize;
}

/*
 * The index arithmetic is inline: it is the whole per-ENTER cost of a
 * ring, and the hot path should not cross into another text page for it.
 */
static inline int rxu_kring_check(const struct rxu_kring *r,
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
static inline int rxu_kring_pop_pos(const struct rxu_kring *r,
				    struct rxu_kring_pos *pos)
{
	pos->tail = smp_load_acquire(&r->hdr->tail_index); /* pairs with push */
	pos->head = READ_ONCE(r->hdr->head_index);
	return rxu_kring_check(r, pos);
}

/*
 * The pushing side loads the popper's head with acquire, so that its
 * writes into freed slots cannot pass the popper's reads of them.
 */
static inline int rxu_kring_push_pos(const struct rxu_kring *r,
				     struct rxu_kring_pos *pos)
{
	pos->head = smp_load_acquire(&r->hdr->head_index); /* pairs with pop */
	pos->tail = READ_ONCE(r->hdr->tail_index);
	return rxu_kring_check(r, pos);
}

static inline s64 rxu_kring_count(const struct rxu_kring *r)
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
static inline void rxu_kring_pop_commit(struct rxu_kring *r, u64 head,
					u64 count)
{
	/* Our reads of the popped entries happen before the slots are free. */
	smp_store_release(&r->hdr->head_index, (head + count) & (2 * r->n - 1));
	WRITE_ONCE(r->hdr->pop_epoch, READ_ONCE(r->hdr->pop_epoch) + count);
}

static inline void rxu_kring_push_commit(struct rxu_kring *r, u64 tail,
					 u64 count)
{
	/* The pushed entries are written before the tail shows them. */
	smp_store_release(&r->hdr->tail_index, (tail + count) & (2 * r->n - 1));
	WRITE_ONCE(r->hdr->push_epoch, READ_ONCE(r->hdr->push_epoch) + count);
}

void rxu_kring_set_drop(struct rxu_kring *r);

/* Has the other side (or the kernel at teardown) set DROP? */
static inline bool rxu_kring_dropped(const struct rxu_kring *r)
{
	return READ_ONCE(r->hdr->status) & RXU_RING_DROP;
}

#endif /* RXU_RING_H */
