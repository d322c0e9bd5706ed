/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the concurrent ring tests: entries that carry a
 * sequence number in every 64-bit word (so a torn or stale entry is
 * caught, not only a wrong order), and a polite spin-then-yield backoff
 * for when the ring is full or empty.
 */
#ifndef RXU_TESTS_SEQ_H
#define RXU_TESTS_SEQ_H

#include <sched.h>
#include <stdint.h>
#include <string.h>

/* Word k of the entry for seq; word 0 is seq itself. */
static inline uint64_t seq_word(uint64_t seq, uint32_t k)
{
	return k ? (seq * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)k << 56) : seq;
}

/* size is a multiple of 8, at most 64. */
static inline void seq_fill(void *slot, uint32_t size, uint64_t seq)
{
	uint64_t w[8] = { 0 };
	uint32_t k;

	for (k = 0; k < size / 8; k++)
		w[k] = seq_word(seq, k);
	memcpy(slot, w, size);
}

/* 0 if the entry is the one for seq. */
static inline int seq_check(const void *slot, uint32_t size, uint64_t seq)
{
	uint64_t w[8] = { 0 };
	uint32_t k;

	memcpy(w, slot, size);
	for (k = 0; k < size / 8; k++)
		if (w[k] != seq_word(seq, k))
			return 1;
	return 0;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * Called after the n-th consecutive failed attempt: spin a little while
 * the peer is likely running on another CPU, then give the CPU away
 * (there may be fewer CPUs than threads, and sanitizers slow us down).
 */
static inline void backoff(unsigned int n)
{
	if (n < 64)
		cpu_relax();
	else
		sched_yield();
}

#endif /* RXU_TESTS_SEQ_H */
