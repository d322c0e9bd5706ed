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

void rxu_kring_set_drop(struct rxu_kring *r)
{
	/* Bit 0 of the status word is RXU_RING_DROP; the user may write
	 * other bits concurrently, so set it atomically.
	 */
	BUILD_BUG_ON(BIT_ULL(0) != RXU_RING_DROP);
	set_bit(0, (unsigned long *)&r->hdr->status);
}
