// SPDX-License-Identifier: MIT
/*
 * librxu rings: single-producer, single-consumer push and pop on a ring
 * header and an entry array laid out as in ABI.md section 3.  No
 * syscalls: the same code serves kernel rings, user-to-user rings and
 * the host tests, on any shared memory.
 *
 * Index arithmetic.  With n = entry_count (a power of two), head and
 * tail are stored in [0, 2n); slot = index & (n - 1), and the bit n of
 * an index is its cycle bit.  Empty: head == tail.  Full: same slot,
 * opposite cycle, i.e. (head ^ tail) == n.  Entries present:
 * (tail - head) mod 2n, which is at most n.  So all n slots are usable
 * and no slot is sacrificed to tell full from empty.
 *
 * Trust.  The header is shared with a peer that may be buggy or
 * hostile, so n is always our own copy (r->entry_count), never the
 * shared hdr->entry_count word, and every index read from the header is
 * range-checked before it is used.  A header that fails the checks is
 * "broken": the operation returns -EIO (or NULL, or does nothing) and
 * never touches memory outside the entry array.
 *
 * Memory ordering lives in barrier.h; each access below says why it
 * uses the ordering it uses.
 */
#include <errno.h>
#include <string.h>

#include "rxu.h"
#include "barrier.h"

#define RXU_RING_MAX_ENTRIES	(1ULL << 31)

/* The mask that reduces an index modulo 2n. */
static inline uint64_t index_mask(const struct rxu_ring *r)
{
	return 2 * r->entry_count - 1;
}

/*
 * Entries between head and tail, or -EIO if an index is outside [0, 2n)
 * or they are more than n apart.  Both indices must be checked: a slot
 * is computed from each of them.
 */
static inline int64_t ring_count(const struct rxu_ring *r, uint64_t head,
				 uint64_t tail)
{
	uint64_t n = r->entry_count;
	uint64_t count;

	if (head >= 2 * n || tail >= 2 * n)
		return -EIO;
	count = (tail - head) & (2 * n - 1);
	if (count > n)
		return -EIO;
	return (int64_t)count;
}

/* Address of the slot of an index; always inside the entry array. */
static inline void *slot_ptr(const struct rxu_ring *r, uint64_t index)
{
	uint64_t slot = index & (r->entry_count - 1);

	return (char *)r->entries + slot * r->entry_size;
}

/*
 * Copy one entry.  The ABI sizes get a constant-size memcpy, which the
 * compiler turns into a few vector moves instead of a libc call.
 */
static inline void copy_entry(void *dst, const void *src, uint32_t size)
{
	switch (size) {
	case 16:
		memcpy(dst, src, 16);
		break;
	case 32:
		memcpy(dst, src, 32);
		break;
	case 64:
		memcpy(dst, src, 64);
		break;
	default:
		memcpy(dst, src, size);
		break;
	}
}

/*
 * The pusher's view: our own tail and the popper's head, and the number
 * of free slots (or -EIO).
 */
static inline int64_t push_view(const struct rxu_ring *r, uint64_t *head,
				uint64_t *tail)
{
	int64_t used;

	/* Only we write the tail: we always read back our own last store. */
	*tail = rxu_load_relaxed(&r->hdr->tail_index);
	/*
	 * Pairs with the popper's release store of head: once we see a slot
	 * free, the popper's reads of it are done and we may overwrite it.
	 */
	*head = rxu_load_acquire(&r->hdr->head_index);
	used = ring_count(r, *head, *tail);
	if (used < 0)
		return used;
	return (int64_t)r->entry_count - used;
}

/*
 * The popper's view: our own head and the pusher's tail, and the number
 * of entries present (or -EIO).
 */
static inline int64_t pop_view(const struct rxu_ring *r, uint64_t *head,
			       uint64_t *tail)
{
	/* Only we write the head. */
	*head = rxu_load_relaxed(&r->hdr->head_index);
	/*
	 * Pairs with the pusher's release store of tail: the entries below
	 * the tail we see have been completely written.
	 */
	*tail = rxu_load_acquire(&r->hdr->tail_index);
	return ring_count(r, *head, *tail);
}

/*
 * DROP tells the pusher only that nobody will pop any more; it publishes
 * no data to us, so a relaxed load is enough.  A stale read at worst
 * lets one more entry into a ring that nobody reads, which is harmless.
 */
static inline int push_dropped(const struct rxu_ring *r)
{
	return (rxu_load_relaxed(&r->hdr->status) & RXU_RING_DROP) != 0;
}

/* Publish count entries written at tail, then count them in the epoch. */
static inline void publish_tail(struct rxu_ring *r, uint64_t tail,
				uint64_t count)
{
	/* Release: the entries are written before the new tail is seen. */
	rxu_store_release(&r->hdr->tail_index,
			  (tail + count) & index_mask(r));
	rxu_add_single_writer(&r->hdr->push_epoch, count);
}

/* Release count slots read at head, then count them in the epoch. */
static inline void release_head(struct rxu_ring *r, uint64_t head,
				uint64_t count)
{
	/* Release: our reads of the slots are done before they are free. */
	rxu_store_release(&r->hdr->head_index,
			  (head + count) & index_mask(r));
	rxu_add_single_writer(&r->hdr->pop_epoch, count);
}

int rxu_ring_init(struct rxu_ring *r, void *hdr, void *entries,
		  uint64_t entry_count, uint32_t entry_size)
{
	if (!r || !hdr || !entries || !entry_size)
		return -EINVAL;
	if (!entry_count || entry_count > RXU_RING_MAX_ENTRIES ||
	    (entry_count & (entry_count - 1)))
		return -EINVAL;

	r->hdr = hdr;
	r->entries = entries;
	r->entry_count = entry_count;
	r->entry_size = entry_size;
	return 0;
}

/* Host-side only: nobody else may be using the header yet. */
void rxu_ring_header_reset(struct rxu_ring_header *hdr, uint64_t entry_count)
{
	memset(hdr, 0, sizeof(*hdr));
	hdr->entry_count = entry_count;
}

/*
 * Either side may ask.  Its own index is stable while it asks and the
 * peer's index only moves towards it, so reading each index once gives
 * a count that was true at the moment of the second load.
 */
int64_t rxu_ring_available(const struct rxu_ring *r)
{
	uint64_t head = rxu_load_acquire(&r->hdr->head_index);
	uint64_t tail = rxu_load_acquire(&r->hdr->tail_index);

	return ring_count(r, head, tail);
}

int64_t rxu_ring_free(const struct rxu_ring *r)
{
	int64_t used = rxu_ring_available(r);

	if (used < 0)
		return used;
	return (int64_t)r->entry_count - used;
}

int rxu_ring_push(struct rxu_ring *r, const void *entry)
{
	uint64_t head, tail;
	int64_t room;

	if (push_dropped(r))
		return -ESHUTDOWN;
	room = push_view(r, &head, &tail);
	if (room < 0)
		return (int)room;
	if ((head ^ tail) == r->entry_count)	/* full: room == 0 */
		return -EAGAIN;

	copy_entry(slot_ptr(r, tail), entry, r->entry_size);
	publish_tail(r, tail, 1);
	return 0;
}

/*
 * The ring looked empty.  If the pusher has set DROP, it may have pushed
 * its last entries and set DROP between our load of the tail and our
 * load of the status: the acquire on status makes those pushes visible,
 * so look at the tail once more before reporting the end.
 */
static int64_t pop_empty(const struct rxu_ring *r, uint64_t *head,
			 uint64_t *tail)
{
	int64_t count;

	if (!(rxu_load_acquire(&r->hdr->status) & RXU_RING_DROP))
		return -EAGAIN;
	count = pop_view(r, head, tail);
	if (count == 0)
		return -ESHUTDOWN;
	return count;
}

int rxu_ring_pop(struct rxu_ring *r, void *entry)
{
	uint64_t head, tail;
	int64_t count;

	count = pop_view(r, &head, &tail);
	if (count == 0)				/* empty: head == tail */
		count = pop_empty(r, &head, &tail);
	if (count < 0)
		return (int)count;

	copy_entry(entry, slot_ptr(r, head), r->entry_size);
	release_head(r, head, 1);
	return 0;
}

void *rxu_ring_push_slot(struct rxu_ring *r, uint64_t i)
{
	uint64_t head, tail;
	int64_t room;

	if (push_dropped(r))
		return NULL;
	room = push_view(r, &head, &tail);
	if (room < 0 || i >= (uint64_t)room)
		return NULL;
	return slot_ptr(r, tail + i);
}

/*
 * A count larger than the free space cannot come from rxu_ring_push_slot
 * (or the header was broken meanwhile): publishing it would hand the
 * popper slots it has not finished reading, so it is ignored.
 */
void rxu_ring_push_commit(struct rxu_ring *r, uint64_t count)
{
	uint64_t head, tail;
	int64_t room;

	room = push_view(r, &head, &tail);
	if (room <= 0 || count == 0 || count > (uint64_t)room)
		return;
	publish_tail(r, tail, count);
}

const void *rxu_ring_pop_slot(const struct rxu_ring *r, uint64_t i)
{
	uint64_t head, tail;
	int64_t count;

	count = pop_view(r, &head, &tail);
	if (count < 0 || i >= (uint64_t)count)
		return NULL;
	return slot_ptr(r, head + i);
}

/* As for push: a count beyond the entries present is ignored. */
void rxu_ring_pop_commit(struct rxu_ring *r, uint64_t count)
{
	uint64_t head, tail;
	int64_t present;

	present = pop_view(r, &head, &tail);
	if (present <= 0 || count == 0 || count > (uint64_t)present)
		return;
	release_head(r, head, count);
}

int64_t rxu_ring_push_reserve(const struct rxu_ring *r, uint64_t want,
			      uint64_t *pos)
{
	uint64_t head, tail;
	int64_t room;

	if (push_dropped(r))
		return -ESHUTDOWN;
	room = push_view(r, &head, &tail);
	if (room < 0)
		return room;
	*pos = tail;
	return (uint64_t)room < want ? room : (int64_t)want;
}

int64_t rxu_ring_pop_reserve(const struct rxu_ring *r, uint64_t *pos)
{
	uint64_t head, tail;
	int64_t count;

	count = pop_view(r, &head, &tail);
	if (count >= 0)
		*pos = head;
	return count;
}

void rxu_ring_set_drop(struct rxu_ring *r)
{
	rxu_or_release(&r->hdr->status, RXU_RING_DROP);
}

int rxu_ring_dropped(const struct rxu_ring *r)
{
	/* Acquire: pairs with rxu_ring_set_drop's release (see pop_empty). */
	return (rxu_load_acquire(&r->hdr->status) & RXU_RING_DROP) != 0;
}
