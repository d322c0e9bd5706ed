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
 *
 * The peer's index, cached.  On a polled round trip the peer has just
 * written its index, so loading it is a cache miss; the pusher needs
 * the head only to know that a slot is free, the popper the tail only to
 * know that an entry is there.  So each keeps the last value it loaded
 * (with acquire, range-checked) in r->peer_cache and reloads only when
 * that value says "full" (pusher) or "empty" (popper), as liburing and
 * io_uring do.  A stale value is safe: the peer's index only moves
 * towards ours, so a stale head shows fewer free slots than there are
 * and a stale tail fewer entries, and the acquire that loaded it already
 * ordered what the peer did before it.  A hostile peer gains nothing:
 * every reloaded index is still checked, and a slot is always inside
 * the entry array.
 *
 * The cache is tagged with the role that loaded it and stamped with
 * our own epoch (push_epoch for the pusher, pop_epoch for the popper)
 * as it was after the operation that stored it; it is used only while
 * both still match.  The tag because some callers (the tests) push and
 * pop through one struct, even from two threads, and a head must never
 * be taken for a tail; the epoch because only we move our epoch, so a
 * changed one means that somebody else pushed (popped) on this ring or
 * reset its header since (the tests rewrite headers under a live
 * struct), and what we knew of the peer's index is void.  The word is
 * read and written with relaxed atomics (a plain move on x86), so that
 * one struct shared by the two sides is not a data race.  Layout: tag
 * in bits 0-1, the index in the next b bits (2n = 2^b), the low 30 - b
 * bits of the epoch above; rings of more than 2^21 entries (fewer than
 * 8 epoch bits) are never cached.
 *
 * The pusher's own tail, cached too.  Only we write the tail, so we
 * could always read it back from the header, but on a polled ring the
 * popper is spinning on that very line: reading it before each push
 * costs a transfer of the line and back (bench-u2u: 2.4x the cache-line
 * ping-pong with the load, 1.6x without).  So on rings of at most
 * 2^9 entries the pusher stores its new tail beside the head, tag
 * PEER_HEAD_TAIL: tag, head in the next b bits, tail in the b above,
 * then the low 30 - 2b (>= 10) bits of push_epoch.  While the stamp
 * matches, the tail is exact: our own pushes move tail and epoch
 * together, and anyone else's pushes move them together too, so pushes
 * that leave the stamp unchanged are a multiple of 2^(30 - 2b) entries,
 * itself a multiple of 2n, and leave the tail where it was.  A header
 * rewritten under us is caught by the stamp as the head is; and the
 * cached tail is range-checked with the head like a loaded one, so even
 * a lie keeps every slot inside the entry array.
 */
#include <errno.h>
#include <string.h>

#include "rxu.h"
#include "barrier.h"

#define RXU_RING_MAX_ENTRIES	(1ULL << 31)

#define PEER_NONE		0u	/* nothing cached */
#define PEER_HEAD		1u	/* the pusher's copy of head_index */
#define PEER_TAIL		2u	/* the popper's copy of tail_index */
#define PEER_HEAD_TAIL		3u	/* the pusher's head and its own tail */
#define PEER_TAG_MASK		3u
#define PEER_MAX_INDEX_BITS	22u	/* n <= 2^21: >= 8 bits of epoch */
#define OWN_MAX_INDEX_BITS	10u	/* n <= 2^9: 2^(30 - 2b) a multiple of 2n */

/* b such that 2n = 2^b: the width of an index. */
static inline unsigned int index_bits(const struct rxu_ring *r)
{
	return (unsigned int)__builtin_ctzll(r->entry_count) + 1;
}

/* The low 32 - shift bits of an epoch, stored from bit shift up. */
static inline uint32_t epoch_stamp(uint64_t epoch, unsigned int shift)
{
	return (uint32_t)epoch & ((1u << (32 - shift)) - 1);
}

/*
 * The cached peer index for role tag, or -1 if there is none or our
 * own epoch word (*own_epoch) moved since it was stored.  For the
 * pusher (PEER_HEAD), *own is set to the cached tail when the word has
 * one (PEER_HEAD_TAIL), else to -1; own may be NULL for the popper.
 */
static inline int64_t peer_cached(const struct rxu_ring *r, uint32_t tag,
				  const __u64 *own_epoch, int64_t *own)
{
	uint32_t c = __atomic_load_n(&r->peer_cache, __ATOMIC_RELAXED);
	unsigned int b = index_bits(r);
	unsigned int shift = 2 + b;
	uint32_t mask = (1u << b) - 1;

	if (own)
		*own = -1;
	if (b > PEER_MAX_INDEX_BITS)
		return -1;
	if (tag == PEER_HEAD && (c & PEER_TAG_MASK) == PEER_HEAD_TAIL &&
	    b <= OWN_MAX_INDEX_BITS)
		shift = 2 + 2 * b;
	else if ((c & PEER_TAG_MASK) != tag)
		return -1;
	/* Only we write our epoch: relaxed reads back our last store. */
	if ((c >> shift) != epoch_stamp(rxu_load_relaxed(own_epoch), shift))
		return -1;
	if (own && shift != 2 + b)
		*own = (int64_t)((c >> (2 + b)) & mask);
	return (int64_t)((c >> 2) & mask);
}

/*
 * After an operation in role tag: remember the peer index it used
 * (range-checked, loaded with acquire then or before) and our epoch
 * as the operation left it; the pusher also remembers its new tail
 * (own) where the ring is small enough.
 */
static inline void peer_remember(struct rxu_ring *r, uint32_t tag,
				 uint64_t index, uint64_t own, uint64_t epoch)
{
	unsigned int b = index_bits(r);
	uint32_t c;

	if (b > PEER_MAX_INDEX_BITS)
		return;
	if (tag == PEER_HEAD && b <= OWN_MAX_INDEX_BITS)
		c = PEER_HEAD_TAIL | (uint32_t)index << 2 |
		    (uint32_t)own << (2 + b) |
		    epoch_stamp(epoch, 2 + 2 * b) << (2 + 2 * b);
	else
		c = tag | (uint32_t)index << 2 |
		    epoch_stamp(epoch, 2 + b) << (2 + b);
	__atomic_store_n(&r->peer_cache, c, __ATOMIC_RELAXED);
}

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
 * The pusher's view from the cached head when there is one, else from a
 * fresh one: free slots (or -EIO), with *head and *tail as for push_view.
 * want: how many free slots would do; fewer seen through the cache
 * makes it reload the head.  The caller remembers the head it used
 * (peer_remember) once it has pushed.
 */
static inline int64_t push_view_cached(struct rxu_ring *r, uint64_t *head,
				       uint64_t *tail, uint64_t want)
{
	int64_t own;
	int64_t cached = peer_cached(r, PEER_HEAD, &r->hdr->push_epoch, &own);
	int64_t used;

	if (cached >= 0) {
		/* Our tail as we left it, or read back as push_view does. */
		*tail = own >= 0 ? (uint64_t)own :
			rxu_load_relaxed(&r->hdr->tail_index);
		*head = (uint64_t)cached;
		used = ring_count(r, *head, *tail);
		/* A broken tail is reported below, after a fresh look. */
		if (used >= 0 && r->entry_count - (uint64_t)used >= want)
			return (int64_t)r->entry_count - used;
	}
	return push_view(r, head, tail);
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
 * As push_view_cached, for the popper: entries present, from the cached
 * tail if it shows at least want of them, else from a fresh one.  The
 * caller remembers the tail it used once it has popped.
 */
static inline int64_t pop_view_cached(struct rxu_ring *r, uint64_t *head,
				      uint64_t *tail, uint64_t want)
{
	int64_t cached = peer_cached(r, PEER_TAIL, &r->hdr->pop_epoch, NULL);
	int64_t count;

	if (cached >= 0) {
		*head = rxu_load_relaxed(&r->hdr->head_index);
		*tail = (uint64_t)cached;
		count = ring_count(r, *head, *tail);
		if (count >= 0 && (uint64_t)count >= want)
			return count;
	}
	return pop_view(r, head, tail);
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

/*
 * Publish count entries written at tail, then count them in the epoch
 * (as rxu_add_single_writer, which see); returns the new epoch.
 */
static inline uint64_t publish_tail(struct rxu_ring *r, uint64_t tail,
				    uint64_t count)
{
	uint64_t epoch = rxu_load_relaxed(&r->hdr->push_epoch) + count;

	/* Release: the entries are written before the new tail is seen. */
	rxu_store_release(&r->hdr->tail_index,
			  (tail + count) & index_mask(r));
	rxu_store_release(&r->hdr->push_epoch, epoch);
	return epoch;
}

/* Release count slots read at head, then count them; the new epoch. */
static inline uint64_t release_head(struct rxu_ring *r, uint64_t head,
				    uint64_t count)
{
	uint64_t epoch = rxu_load_relaxed(&r->hdr->pop_epoch) + count;

	/* Release: our reads of the slots are done before they are free. */
	rxu_store_release(&r->hdr->head_index,
			  (head + count) & index_mask(r));
	rxu_store_release(&r->hdr->pop_epoch, epoch);
	return epoch;
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
	r->peer_cache = PEER_NONE;	/* the header may be in any state */
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
	/* Reloads the head only when the cached one says full. */
	room = push_view_cached(r, &head, &tail, 1);
	if (room < 0)
		return (int)room;
	if (room == 0)				/* full, fresh head */
		return -EAGAIN;

	copy_entry(slot_ptr(r, tail), entry, r->entry_size);
	peer_remember(r, PEER_HEAD, head, (tail + 1) & index_mask(r),
		      publish_tail(r, tail, 1));
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

	/* Reloads the tail only when the cached one says empty. */
	count = pop_view_cached(r, &head, &tail, 1);
	if (count == 0)				/* empty, fresh tail */
		count = pop_empty(r, &head, &tail);
	if (count < 0)
		return (int)count;

	copy_entry(entry, slot_ptr(r, head), r->entry_size);
	peer_remember(r, PEER_TAIL, tail, 0, release_head(r, head, 1));
	return 0;
}

void *rxu_ring_push_slot(struct rxu_ring *r, uint64_t i)
{
	uint64_t head, tail;
	int64_t room;

	if (push_dropped(r))
		return NULL;
	room = push_view_cached(r, &head, &tail, i + 1);
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

	if (count == 0)
		return;
	room = push_view_cached(r, &head, &tail, count);
	if (room <= 0 || count > (uint64_t)room)
		return;
	peer_remember(r, PEER_HEAD, head, (tail + count) & index_mask(r),
		      publish_tail(r, tail, count));
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

	if (count == 0)
		return;
	present = pop_view_cached(r, &head, &tail, count);
	if (present <= 0 || count > (uint64_t)present)
		return;
	peer_remember(r, PEER_TAIL, tail, 0, release_head(r, head, count));
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
