/* SPDX-License-Identifier: MIT */
/*
 * Memory ordering for the shared ring headers, all in one place.
 *
 * A ring header is shared with a peer (the kernel or another process)
 * that runs concurrently on another CPU.  Every access to one of its
 * words goes through the helpers below, so that the ordering of each
 * access is spelled out once and can be reviewed here.  They are the
 * GCC/Clang __atomic builtins, which map one to one onto C11
 * <stdatomic.h> (memory_order_relaxed / _acquire / _release) and onto
 * the kernel's READ_ONCE / smp_load_acquire / smp_store_release that the
 * module uses on the other side.
 *
 * The protocol (ABI.md section 3) needs exactly two pairings:
 *  - the pusher's release store of tail_index pairs with the popper's
 *    acquire load of it: the entry written into the slot before the
 *    store is visible to the popper once it sees the new tail;
 *  - the popper's release store of head_index pairs with the pusher's
 *    acquire load of it: the popper has finished reading a slot before
 *    the pusher can see it free and overwrite it.
 * Everything else is either a word that only this side writes (its own
 * index, its own epoch) or a flag that publishes no data, and needs no
 * ordering beyond being a single, untorn access.
 */
#ifndef RXU_LIB_BARRIER_H
#define RXU_LIB_BARRIER_H

#include <linux/types.h>

/*
 * Relaxed load: an untorn read with no ordering.  For a word that only
 * this side writes (a single writer always sees its own last store) or
 * whose value orders no other memory access.
 */
static inline __u64 rxu_load_relaxed(const __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/*
 * Acquire load: no later read or write of ours can be performed before
 * it.  Used on the peer's index, so that what the peer did before its
 * release store of that index (writing an entry, reading a slot) is
 * complete from our point of view before we touch the slots it covers.
 */
static inline __u64 rxu_load_acquire(const __u64 *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/*
 * Release store: every earlier read and write of ours is visible before
 * the store is.  Used to publish our own index once the slots it covers
 * have been written (push) or read for the last time (pop).
 */
static inline void rxu_store_release(__u64 *p, __u64 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Relaxed store: an untorn write with no ordering. */
static inline void rxu_store_relaxed(__u64 *p, __u64 v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/*
 * Add to a counter that only this side writes (push_epoch by the
 * pusher, pop_epoch by the popper).  With a single writer the update
 * cannot be lost, so a load and a store suffice and we avoid a locked
 * read-modify-write (a full barrier on x86) on every push and pop.  The
 * store is a release so that whoever reads the epoch with acquire also
 * sees the index store that came before it: an epoch never runs ahead
 * of the index it counts.
 */
static inline void rxu_add_single_writer(__u64 *p, __u64 v)
{
	rxu_store_release(p, rxu_load_relaxed(p) + v);
}

/*
 * Atomically set bits in a word that both sides may write (status).  A
 * real read-modify-write, since the peer may set bits at the same time;
 * release, so that a peer that sees the bit with an acquire load also
 * sees everything we did before setting it (e.g. our last pushes before
 * RXU_RING_DROP).
 */
static inline void rxu_or_release(__u64 *p, __u64 bits)
{
	__atomic_fetch_or(p, bits, __ATOMIC_RELEASE);
}

#endif /* RXU_LIB_BARRIER_H */
