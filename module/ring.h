/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RXU_RING_H
#define RXU_RING_H

#include <linux/types.h>
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

/* Snapshot for the side that pops (the kernel popping a SQ), or -EIO. */
int rxu_kring_pop_pos(const struct rxu_kring *r, struct rxu_kring_pos *pos);
/* Snapshot for the side that pushes (the kernel pushing a CQ), or -EIO. */
int rxu_kring_push_pos(const struct rxu_kring *r, struct rxu_kring_pos *pos);
/* Entries available to pop, or -EIO; no ordering implied. */
s64 rxu_kring_count(const struct rxu_kring *r);

/* The entry at ring value idx (any value; only its slot is used). */
static inline void *rxu_kring_slot(const struct rxu_kring *r, u64 idx)
{
	return r->entries + (size_t)(idx & (r->n - 1)) * r->esize;
}

void rxu_kring_pop_commit(struct rxu_kring *r, u64 head, u64 count);
void rxu_kring_push_commit(struct rxu_kring *r, u64 tail, u64 count);
void rxu_kring_set_drop(struct rxu_kring *r);

#endif /* RXU_RING_H */
