/* SPDX-License-Identifier: MIT */
/*
 * u2u-ring.h: an inline fast path for one side of a polled user-to-user
 * ring, laid out as in ABI.md section 3 and interoperable with librxu's
 * rxu_ring_push()/rxu_ring_pop() and the module on the other side.
 *
 * librxu's ring (lib/ring.c) caches the peer's index and, since
 * 69c1ae7, the pusher's own tail in one tagged word checked against the
 * epoch, so that it stays right when one struct is shared or a header
 * is rewritten under it.  This inline path assumes neither may happen;
 * each side keeps
 *  - its own index (tail for the pusher, head for the popper) privately,
 *    as the only writer of it;
 *  - a cached copy of the peer's index, refreshed only when the cached
 *    value says "full" (pusher) or "empty" (popper), the way liburing and
 *    the kernel's io_uring do;
 * and the popper, while the ring is empty, prefetches the slot the next
 * entry will be written to, so that the entry's line and the tail's line
 * travel in parallel once the pusher has written them.  (Prefetching the
 * next slot for writing on the pusher's side was tried as well: it
 * fights the popper's peek for the line and made round trips 10-40 %
 * slower, so it is not done.)  Every refreshed peer index is still
 * range-checked: a broken header gives -EIO, never an access outside
 * the entry array.  The protocol is unchanged: entry, then tail with
 * release, then push_epoch + 1; pop reads the tail with acquire, the
 * entry, then head with release, then pop_epoch + 1.
 *
 * Used by bench-u2u only, as the yardstick for librxu's ring (on the
 * quiet host of docs/benchmarks.md (b) the two are within 10 %).
 */
#ifndef RXU_TOOLS_U2U_RING_H
#define RXU_TOOLS_U2U_RING_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/redox_uring.h>

struct u2u_side {
	struct rxu_ring_header *hdr;
	char *entries;
	uint64_t n;		/* entry count, our own copy */
	uint64_t mask2;		/* 2n - 1 */
	uint32_t esize;
	uint64_t own;		/* our index: tail (pusher) or head (popper) */
	uint64_t peer;		/* cached peer index */
	uint64_t epoch;		/* our epoch: push_epoch or pop_epoch */
};

/*
 * Bind one side to a header and entries; reads the current indices once
 * (the ring must be quiescent or freshly reset).  pusher: 1 for the side
 * that pushes.  0, or -EINVAL for a bad geometry, -EIO for a broken
 * header.
 */
static inline int u2u_side_init(struct u2u_side *s, void *hdr, void *entries,
				uint64_t n, uint32_t esize, int pusher)
{
	uint64_t head, tail;

	if (!n || (n & (n - 1)) || n > (1ULL << 31) || !esize)
		return -EINVAL;
	s->hdr = hdr;
	s->entries = entries;
	s->n = n;
	s->mask2 = 2 * n - 1;
	s->esize = esize;
	head = __atomic_load_n(&s->hdr->head_index, __ATOMIC_ACQUIRE);
	tail = __atomic_load_n(&s->hdr->tail_index, __ATOMIC_ACQUIRE);
	if (head > s->mask2 || tail > s->mask2 || ((tail - head) & s->mask2) > n)
		return -EIO;
	s->own = pusher ? tail : head;
	s->peer = pusher ? head : tail;
	s->epoch = __atomic_load_n(pusher ? &s->hdr->push_epoch :
					    &s->hdr->pop_epoch, __ATOMIC_RELAXED);
	return 0;
}

/* Constant-size copies for the ABI entry sizes: a few moves, no call. */
static inline void u2u_copy(void *dst, const void *src, uint32_t size)
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

static inline void *u2u_slot(const struct u2u_side *s, uint64_t index)
{
	return s->entries + (size_t)(index & (s->n - 1)) * s->esize;
}

/* Entries between head and tail if both are sane, else -EIO. */
static inline int64_t u2u_count(const struct u2u_side *s, uint64_t head,
				uint64_t tail)
{
	uint64_t c = (tail - head) & s->mask2;

	if (head > s->mask2 || tail > s->mask2 || c > s->n)
		return -EIO;
	return (int64_t)c;
}

/* Push one entry: 0, -EAGAIN when full, -ESHUTDOWN on DROP, -EIO. */
static inline int u2u_push(struct u2u_side *s, const void *entry)
{
	int64_t used;

	/* Status publishes no data to the pusher: relaxed, as librxu. */
	if (__builtin_expect(__atomic_load_n(&s->hdr->status, __ATOMIC_RELAXED) &
			     RXU_RING_DROP, 0))
		return -ESHUTDOWN;
	if (__builtin_expect((s->own ^ s->peer) == s->n, 0)) {
		/* Looks full: refresh the popper's head (pairs with its release). */
		s->peer = __atomic_load_n(&s->hdr->head_index, __ATOMIC_ACQUIRE);
		used = u2u_count(s, s->peer, s->own);
		if (used < 0)
			return (int)used;
		if ((uint64_t)used == s->n)
			return -EAGAIN;
	}
	u2u_copy(u2u_slot(s, s->own), entry, s->esize);
	s->own = (s->own + 1) & s->mask2;
	__atomic_store_n(&s->hdr->tail_index, s->own, __ATOMIC_RELEASE);
	__atomic_store_n(&s->hdr->push_epoch, ++s->epoch, __ATOMIC_RELEASE);
	return 0;
}

/* Pop one entry: 0, -EAGAIN when empty, -ESHUTDOWN when empty and dropped, -EIO. */
static inline int u2u_pop(struct u2u_side *s, void *entry)
{
	int64_t avail;

	if (s->peer == s->own) {
		/* Looks empty: refresh the pusher's tail (pairs with its release). */
		s->peer = __atomic_load_n(&s->hdr->tail_index, __ATOMIC_ACQUIRE);
		avail = u2u_count(s, s->own, s->peer);
		if (avail < 0)
			return (int)avail;
		if (!avail) {
			/*
			 * Peek: keep asking for the line of the slot the
			 * next entry will land in, so that when the pusher
			 * writes it and then the tail, both misses are in
			 * flight at once instead of one after the other.  A
			 * prefetch only: its data is never used unchecked.
			 */
			__builtin_prefetch(u2u_slot(s, s->own), 0, 3);
			if (!(__atomic_load_n(&s->hdr->status, __ATOMIC_ACQUIRE) &
			      RXU_RING_DROP))
				return -EAGAIN;
			/* Pushes made before DROP are visible now: look again. */
			s->peer = __atomic_load_n(&s->hdr->tail_index,
						  __ATOMIC_ACQUIRE);
			avail = u2u_count(s, s->own, s->peer);
			if (avail < 0)
				return (int)avail;
			if (!avail)
				return -ESHUTDOWN;
		}
	}
	u2u_copy(entry, u2u_slot(s, s->own), s->esize);
	s->own = (s->own + 1) & s->mask2;
	__atomic_store_n(&s->hdr->head_index, s->own, __ATOMIC_RELEASE);
	__atomic_store_n(&s->hdr->pop_epoch, ++s->epoch, __ATOMIC_RELEASE);
	return 0;
}

#endif /* RXU_TOOLS_U2U_RING_H */
