// SPDX-License-Identifier: MIT
/*
 * Host tests of the pure ring operations (lib/ring.c), single-threaded,
 * on malloc'd memory.  Every header and entry array is allocated with
 * exactly its own size, so that AddressSanitizer turns any access past a
 * slot computed from a bad index into a failure.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rxu.h"
#include "tap.h"

#define MAX_LOG2	15		/* n = 1 .. 32768, the module's default max */

static const uint32_t abi_sizes[] = { 64, 32, 16 };	/* SQE64, CQE64 = SQE32, CQE32 */

struct fixture {
	struct rxu_ring_header *hdr;
	void *entries;
	struct rxu_ring r;
	uint64_t n;
	uint32_t size;
};

static void fx_free(struct fixture *f)
{
	free(f->hdr);
	free(f->entries);
	memset(f, 0, sizeof(*f));
}

/* A ring of n entries of size bytes, each allocation exactly its size. */
static int fx_init(struct fixture *f, uint64_t n, uint32_t size)
{
	memset(f, 0, sizeof(*f));
	f->n = n;
	f->size = size;
	f->hdr = malloc(sizeof(*f->hdr));
	CHECK(f->hdr != NULL);
	CHECK_EQ(posix_memalign(&f->entries, 64, n * size), 0);
	memset(f->entries, 0xA5, n * size);
	rxu_ring_header_reset(f->hdr, n);
	CHECK_EQ(rxu_ring_init(&f->r, f->hdr, f->entries, n, size), 0);
	return 0;
}

/* Entry contents derived from a sequence number: every byte checked. */
static void gen_entry(void *buf, uint32_t size, uint64_t seq)
{
	unsigned char *p = buf;
	uint32_t k;

	for (k = 0; k < size; k++) {
		if (k < 8)
			p[k] = (unsigned char)(seq >> (8 * k));
		else
			p[k] = (unsigned char)((seq + k) * 0x9D + (seq >> 13));
	}
}

static int check_entry(const void *buf, uint32_t size, uint64_t seq)
{
	unsigned char want[256];

	gen_entry(want, size, seq);
	if (memcmp(buf, want, size)) {
		uint64_t got = 0;

		memcpy(&got, buf, size < 8 ? size : 8);
		tap_fail_eq(__FILE__, __LINE__, "entry", got, "seq", seq);
		return 1;
	}
	return 0;
}

/* The header invariants after any operation on a sane ring. */
static int check_indices(const struct fixture *f)
{
	CHECK(f->hdr->head_index < 2 * f->n);
	CHECK(f->hdr->tail_index < 2 * f->n);
	return 0;
}

static int test_init_rejects_bad_arguments(void)
{
	static const uint64_t bad[] = {
		0, 3, 5, 6, 7, 9, 12, 100, 4097, 32767, 32769,
		(1ULL << 31) + 1, 1ULL << 32, 1ULL << 33, 1ULL << 63,
		UINT64_MAX, UINT64_MAX - 1,
	};
	struct rxu_ring_header hdr;
	char entries[64];
	struct rxu_ring r, before;
	size_t i;

	memset(&r, 0x5A, sizeof(r));
	before = r;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		tap_context("entry_count %llu", (unsigned long long)bad[i]);
		CHECK_EQ(rxu_ring_init(&r, &hdr, entries, bad[i], 64), -EINVAL);
	}
	tap_context("other arguments");
	CHECK_EQ(rxu_ring_init(&r, &hdr, entries, 4, 0), -EINVAL);
	CHECK_EQ(rxu_ring_init(&r, NULL, entries, 4, 16), -EINVAL);
	CHECK_EQ(rxu_ring_init(&r, &hdr, NULL, 4, 16), -EINVAL);
	CHECK_EQ(rxu_ring_init(NULL, &hdr, entries, 4, 16), -EINVAL);
	/* A rejected init leaves the ring alone. */
	CHECK(memcmp(&r, &before, sizeof(r)) == 0);
	return 0;
}

static int test_init_accepts_powers_of_two(void)
{
	struct rxu_ring_header hdr, pristine;
	char entries[64];
	struct rxu_ring r;
	int log2;

	memset(&hdr, 0xC3, sizeof(hdr));
	pristine = hdr;
	for (log2 = 0; log2 <= 31; log2++) {
		uint64_t n = 1ULL << log2;

		tap_context("n = 2^%d", log2);
		CHECK_EQ(rxu_ring_init(&r, &hdr, entries, n, 32), 0);
		CHECK(r.hdr == &hdr);
		CHECK(r.entries == entries);
		CHECK_EQ(r.entry_count, n);
		CHECK_EQ(r.entry_size, 32);
	}
	/* "Does not touch the memory." */
	CHECK(memcmp(&hdr, &pristine, sizeof(hdr)) == 0);
	return 0;
}

static int test_header_reset(void)
{
	struct rxu_ring_header *hdr = malloc(sizeof(*hdr));
	int ok;

	CHECK(hdr != NULL);
	memset(hdr, 0xFF, sizeof(*hdr));
	rxu_ring_header_reset(hdr, 256);
	ok = hdr->entry_count == 256 && hdr->head_index == 0 &&
	     hdr->tail_index == 0 && hdr->status == 0 &&
	     hdr->push_epoch == 0 && hdr->pop_epoch == 0 &&
	     hdr->__pad0[0] == 0 && hdr->__pad5[RXU_CACHE_SLOT - 9] == 0;
	free(hdr);
	CHECK(ok);
	return 0;
}

/* Push until full, pop until empty: all n slots, -EAGAIN at both ends. */
static int fill_and_drain(uint64_t n, uint32_t size)
{
	unsigned char e[64];
	struct fixture f;
	uint64_t i;
	int ret = 1;

	TRY(fx_init(&f, n, size));
	for (i = 0; i < n; i++) {
		gen_entry(e, size, i + 1);
		if (rxu_ring_push(&f.r, e) != 0 ||
		    rxu_ring_available(&f.r) != (int64_t)(i + 1) ||
		    rxu_ring_free(&f.r) != (int64_t)(n - i - 1)) {
			tap_fail_at(__FILE__, __LINE__, "push below n");
			goto out;
		}
	}
	/* Full: same slot, opposite cycle bit, and every slot in use. */
	if (f.hdr->tail_index != n || f.hdr->head_index != 0 ||
	    (f.hdr->head_index ^ f.hdr->tail_index) != n ||
	    rxu_ring_push(&f.r, e) != -EAGAIN ||
	    rxu_ring_push_slot(&f.r, 0) != NULL ||
	    f.hdr->push_epoch != n || rxu_ring_free(&f.r) != 0) {
		tap_fail_at(__FILE__, __LINE__, "full ring");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (rxu_ring_pop(&f.r, e) != 0 || check_entry(e, size, i + 1) ||
		    rxu_ring_available(&f.r) != (int64_t)(n - i - 1)) {
			tap_fail_at(__FILE__, __LINE__, "pop below n");
			goto out;
		}
	}
	/* Empty again with both indices at n: head == tail. */
	if (f.hdr->head_index != n || f.hdr->tail_index != n ||
	    rxu_ring_pop(&f.r, e) != -EAGAIN ||
	    rxu_ring_pop_slot(&f.r, 0) != NULL ||
	    f.hdr->pop_epoch != n || f.hdr->push_epoch != n ||
	    rxu_ring_free(&f.r) != (int64_t)n)
		tap_fail_at(__FILE__, __LINE__, "empty ring");
	else
		ret = 0;
out:
	fx_free(&f);
	return ret;
}

static int test_fill_and_drain_every_size(void)
{
	size_t s;
	int log2;

	for (s = 0; s < ARRAY_SIZE(abi_sizes); s++) {
		for (log2 = 0; log2 <= MAX_LOG2; log2++) {
			tap_context("n = %d, entry size %u", 1 << log2,
				    abi_sizes[s]);
			TRY(fill_and_drain(1ULL << log2, abi_sizes[s]));
		}
	}
	return 0;
}

/*
 * Every (head, tail) pair for small rings, valid or not: available,
 * free, push and pop must follow ABI.md section 3 exactly.
 */
static int index_pair(struct fixture *f, uint64_t head, uint64_t tail)
{
	uint64_t n = f->n, two_n = 2 * n;
	int broken = head >= two_n || tail >= two_n ||
		     ((tail - head) & (two_n - 1)) > n;
	int64_t count = broken ? -EIO : (int64_t)((tail - head) & (two_n - 1));
	unsigned char e[16];
	uint64_t s;

	tap_context("n = %llu, head %llu, tail %llu", (unsigned long long)n,
		    (unsigned long long)head, (unsigned long long)tail);
	/* Slot k holds sequence number 1000 + k. */
	for (s = 0; s < n; s++)
		gen_entry((char *)f->entries + s * 16, 16, 1000 + s);

	rxu_ring_header_reset(f->hdr, n);
	f->hdr->head_index = head;
	f->hdr->tail_index = tail;
	CHECK_EQ(rxu_ring_available(&f->r), count);
	CHECK_EQ(rxu_ring_free(&f->r), broken ? -EIO : (int64_t)n - count);
	if (!broken) {
		CHECK_EQ(count == 0, head == tail);		/* empty */
		CHECK_EQ(count == (int64_t)n, (head ^ tail) == n);	/* full */
	}

	gen_entry(e, 16, 7);
	if (broken) {
		CHECK_EQ(rxu_ring_push(&f->r, e), -EIO);
		CHECK_EQ(rxu_ring_pop(&f->r, e), -EIO);
		CHECK(rxu_ring_push_slot(&f->r, 0) == NULL);
		CHECK(rxu_ring_pop_slot(&f->r, 0) == NULL);
		CHECK_EQ(f->hdr->head_index, head);
		CHECK_EQ(f->hdr->tail_index, tail);
		CHECK_EQ(f->hdr->push_epoch + f->hdr->pop_epoch, 0);
		return 0;
	}

	if (count == (int64_t)n) {
		CHECK_EQ(rxu_ring_push(&f->r, e), -EAGAIN);
		CHECK_EQ(f->hdr->tail_index, tail);
	} else {
		CHECK_EQ(rxu_ring_push(&f->r, e), 0);
		CHECK_EQ(f->hdr->tail_index, (tail + 1) % two_n);
		TRY(check_entry((char *)f->entries + (tail & (n - 1)) * 16, 16,
				7));
		CHECK_EQ(f->hdr->push_epoch, 1);
	}

	f->hdr->tail_index = tail;		/* back to the pair under test */
	if (count == 0) {
		CHECK_EQ(rxu_ring_pop(&f->r, e), -EAGAIN);
		CHECK_EQ(f->hdr->head_index, head);
	} else {
		CHECK_EQ(rxu_ring_pop(&f->r, e), 0);
		CHECK_EQ(f->hdr->head_index, (head + 1) % two_n);
		/* Not the slot the push wrote: that needs 0 < count < n. */
		TRY(check_entry(e, 16, 1000 + (head & (n - 1))));
		CHECK_EQ(f->hdr->pop_epoch, 1);
	}
	return 0;
}

static int test_index_math_exhaustive(void)
{
	static const uint64_t wild[] = { UINT64_MAX, 1ULL << 63, 1ULL << 32 };
	uint64_t n, head, tail;
	struct fixture f;
	size_t w;
	int ret = 0;

	for (n = 1; n <= 16 && !ret; n *= 2) {
		TRY(fx_init(&f, n, 16));
		for (head = 0; head < 2 * n + 2 && !ret; head++)
			for (tail = 0; tail < 2 * n + 2 && !ret; tail++)
				ret = index_pair(&f, head, tail);
		for (w = 0; w < ARRAY_SIZE(wild) && !ret; w++) {
			ret = index_pair(&f, wild[w], 0) ||
			      index_pair(&f, 0, wild[w]) ||
			      index_pair(&f, wild[w], wild[w]);
		}
		fx_free(&f);
	}
	return ret;
}

/*
 * Many laps around the ring (10 x 2n entries) from a random start, with
 * single and batched pushes and pops of random sizes, checking every
 * value, the indices and the epochs after each step.
 */
struct lap_state {
	struct fixture f;
	unsigned long long rng;
	uint64_t pushed, popped, total;
	uint64_t push_epoch0, pop_epoch0;
};

static uint64_t pick(struct lap_state *s, uint64_t max)
{
	return max ? tap_rand(&s->rng) % (max + 1) : 0;
}

static int lap_push(struct lap_state *s)
{
	struct fixture *f = &s->f;
	int64_t room = rxu_ring_free(&f->r);
	uint64_t want, i;
	unsigned char e[64];

	CHECK(room >= 0);
	want = pick(s, (uint64_t)room);
	if (want > s->total - s->pushed)
		want = s->total - s->pushed;
	if (tap_rand(&s->rng) & 1) {
		for (i = 0; i < want; i++) {
			gen_entry(e, f->size, s->pushed + i);
			CHECK_EQ(rxu_ring_push(&f->r, e), 0);
		}
	} else {
		for (i = 0; i < want; i++) {
			void *slot = rxu_ring_push_slot(&f->r, i);

			CHECK(slot != NULL);
			gen_entry(slot, f->size, s->pushed + i);
		}
		CHECK(rxu_ring_push_slot(&f->r, (uint64_t)room) == NULL);
		rxu_ring_push_commit(&f->r, want);
	}
	s->pushed += want;
	return 0;
}

static int lap_pop(struct lap_state *s)
{
	struct fixture *f = &s->f;
	int64_t count = rxu_ring_available(&f->r);
	uint64_t want, i;
	unsigned char e[64];

	CHECK(count >= 0);
	want = pick(s, (uint64_t)count);
	if (tap_rand(&s->rng) & 1) {
		for (i = 0; i < want; i++) {
			CHECK_EQ(rxu_ring_pop(&f->r, e), 0);
			TRY(check_entry(e, f->size, s->popped + i));
		}
	} else {
		for (i = 0; i < want; i++) {
			const void *slot = rxu_ring_pop_slot(&f->r, i);

			CHECK(slot != NULL);
			TRY(check_entry(slot, f->size, s->popped + i));
		}
		CHECK(rxu_ring_pop_slot(&f->r, (uint64_t)count) == NULL);
		rxu_ring_pop_commit(&f->r, want);
	}
	s->popped += want;
	return 0;
}

static int lap_check(struct lap_state *s)
{
	struct fixture *f = &s->f;

	TRY(check_indices(f));
	CHECK_EQ(rxu_ring_available(&f->r), s->pushed - s->popped);
	CHECK_EQ(f->hdr->push_epoch - s->push_epoch0, s->pushed);
	CHECK_EQ(f->hdr->pop_epoch - s->pop_epoch0, s->popped);
	return 0;
}

static int laps(uint64_t n, uint32_t size, unsigned long long seed)
{
	struct lap_state s = { .rng = seed };
	uint64_t start, wraps = 0, last_tail;
	unsigned char e[64];
	int ret = 1;

	TRY(fx_init(&s.f, n, size));
	start = tap_rand(&s.rng) % (2 * n);
	s.f.hdr->head_index = start;
	s.f.hdr->tail_index = start;
	/* Epochs start anywhere, and wrap around 2^64 along the way. */
	s.push_epoch0 = s.f.hdr->push_epoch = UINT64_MAX - n;
	s.pop_epoch0 = s.f.hdr->pop_epoch = tap_rand(&s.rng);
	s.total = 20 * n;
	last_tail = start;

	while (s.popped < s.total) {
		if (lap_push(&s) || lap_check(&s) || lap_pop(&s) ||
		    lap_check(&s))
			goto out;
		if (s.f.hdr->tail_index < last_tail)
			wraps++;
		last_tail = s.f.hdr->tail_index;
	}
	if (rxu_ring_pop(&s.f.r, e) != -EAGAIN || s.pushed != s.total) {
		tap_fail_at(__FILE__, __LINE__, "ring not empty at the end");
		goto out;
	}
	if (wraps < 9) {
		tap_fail_at(__FILE__, __LINE__, "fewer than 9 wraps past 2n");
		goto out;
	}
	ret = 0;
out:
	fx_free(&s.f);
	return ret;
}

static int test_wraparound_every_size(void)
{
	size_t s;
	int log2;

	for (s = 0; s < ARRAY_SIZE(abi_sizes); s++) {
		for (log2 = 0; log2 <= MAX_LOG2; log2++) {
			tap_context("n = %d, entry size %u", 1 << log2,
				    abi_sizes[s]);
			TRY(laps(1ULL << log2, abi_sizes[s],
				 0x9E3779B97F4A7C15ULL * (log2 + 1) + s));
		}
	}
	return 0;
}

static int test_epochs_count_operations(void)
{
	unsigned char e[32] = { 0 };
	struct fixture f;
	uint64_t i;

	TRY(fx_init(&f, 8, 32));
	f.hdr->push_epoch = 41;
	f.hdr->pop_epoch = UINT64_MAX;		/* wraps on the first pop */
	for (i = 0; i < 3; i++)
		CHECK_EQ(rxu_ring_push(&f.r, e), 0);
	rxu_ring_push_slot(&f.r, 0);
	rxu_ring_push_slot(&f.r, 1);
	rxu_ring_push_commit(&f.r, 2);
	rxu_ring_push_commit(&f.r, 0);		/* counts nothing */
	CHECK_EQ(f.hdr->push_epoch, 41 + 5);
	CHECK_EQ(rxu_ring_pop(&f.r, e), 0);
	CHECK_EQ(f.hdr->pop_epoch, 0);
	rxu_ring_pop_commit(&f.r, 4);
	CHECK_EQ(f.hdr->pop_epoch, 4);
	CHECK_EQ(rxu_ring_pop(&f.r, e), -EAGAIN);
	CHECK_EQ(f.hdr->pop_epoch, 4);		/* a failed pop counts nothing */
	for (i = 0; i < 8; i++)
		CHECK_EQ(rxu_ring_push(&f.r, e), 0);
	CHECK_EQ(rxu_ring_push(&f.r, e), -EAGAIN);
	CHECK_EQ(f.hdr->push_epoch, 41 + 13);	/* nor does a failed push */
	fx_free(&f);
	return 0;
}

/*
 * The pusher keeps its tail (and the popper's head) in its struct
 * instead of reading them back.  Another struct pushing on the same
 * header in between must be noticed through the epoch, including after
 * exactly as many pushes as the stamp can count (1024 here, where the
 * stamp of n = 512 wraps), where the cached indices must still be
 * right; and a header reset under the struct must be noticed too.
 */
static int test_cached_tail_follows_other_pushers(void)
{
	static const uint64_t others[] = { 1, 511, 512, 1023, 1024, 1025, 3000 };
	unsigned char e[16];
	struct rxu_ring b;
	uint64_t n = 512, seq = 0, want = 0, k, i;
	struct fixture f;

	TRY(fx_init(&f, n, 16));
	CHECK_EQ(rxu_ring_init(&b, f.hdr, f.entries, n, 16), 0);
	for (i = 0; i < ARRAY_SIZE(others); i++) {
		tap_context("%llu pushes by another struct",
			    (unsigned long long)others[i]);
		gen_entry(e, 16, seq);
		CHECK_EQ(rxu_ring_push(&f.r, e), 0);	/* caches its tail */
		want = (want + 1) % (2 * n);
		CHECK_EQ(f.hdr->tail_index, want);
		CHECK_EQ(rxu_ring_pop(&b, e), 0);
		TRY(check_entry(e, 16, seq++));
		for (k = 0; k < others[i]; k++) {
			gen_entry(e, 16, seq);
			CHECK_EQ(rxu_ring_push(&b, e), 0);
			CHECK_EQ(rxu_ring_pop(&b, e), 0);
			TRY(check_entry(e, 16, seq++));
		}
		want = (want + others[i]) % (2 * n);
		gen_entry(e, 16, seq);
		CHECK_EQ(rxu_ring_push(&f.r, e), 0);
		want = (want + 1) % (2 * n);
		CHECK_EQ(f.hdr->tail_index, want);
		CHECK_EQ(rxu_ring_pop(&b, e), 0);
		TRY(check_entry(e, 16, seq++));
	}
	tap_context("header reset under the struct");
	rxu_ring_header_reset(f.hdr, n);
	f.hdr->head_index = f.hdr->tail_index = 7;
	f.hdr->push_epoch = 3;
	gen_entry(e, 16, seq);
	CHECK_EQ(rxu_ring_push(&f.r, e), 0);
	CHECK_EQ(f.hdr->tail_index, 8);
	TRY(check_entry((char *)f.entries + 7 * 16, 16, seq));
	fx_free(&f);
	return 0;
}

static int test_drop_blocks_push(void)
{
	unsigned char e[64] = { 0 };
	struct fixture f;

	TRY(fx_init(&f, 4, 64));
	CHECK_EQ(rxu_ring_dropped(&f.r), 0);
	CHECK_EQ(rxu_ring_push(&f.r, e), 0);
	rxu_ring_set_drop(&f.r);
	CHECK_EQ(rxu_ring_dropped(&f.r), 1);
	CHECK_EQ(f.hdr->status, RXU_RING_DROP);
	rxu_ring_set_drop(&f.r);			/* idempotent */
	CHECK_EQ(f.hdr->status, RXU_RING_DROP);
	CHECK_EQ(rxu_ring_push(&f.r, e), -ESHUTDOWN);
	CHECK(rxu_ring_push_slot(&f.r, 0) == NULL);
	CHECK_EQ(f.hdr->tail_index, 1);
	CHECK_EQ(f.hdr->push_epoch, 1);
	/* DROP is bit 0 only: other status bits are not DROP. */
	f.hdr->status = 0xFEULL;
	CHECK_EQ(rxu_ring_dropped(&f.r), 0);
	CHECK_EQ(rxu_ring_push(&f.r, e), 0);
	rxu_ring_set_drop(&f.r);
	CHECK_EQ(f.hdr->status, 0xFFULL);	/* set_drop keeps the others */
	fx_free(&f);
	return 0;
}

static int test_drop_pop_drains_then_shutdown(void)
{
	unsigned char e[16];
	struct fixture f;
	uint64_t i;

	TRY(fx_init(&f, 4, 16));
	CHECK_EQ(rxu_ring_pop(&f.r, e), -EAGAIN);	/* empty, not dropped */
	for (i = 0; i < 3; i++) {
		gen_entry(e, 16, i);
		CHECK_EQ(rxu_ring_push(&f.r, e), 0);
	}
	rxu_ring_set_drop(&f.r);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(rxu_ring_pop(&f.r, e), 0);
		TRY(check_entry(e, 16, i));
	}
	CHECK_EQ(rxu_ring_pop(&f.r, e), -ESHUTDOWN);
	CHECK_EQ(rxu_ring_pop(&f.r, e), -ESHUTDOWN);
	CHECK(rxu_ring_pop_slot(&f.r, 0) == NULL);
	CHECK_EQ(f.hdr->pop_epoch, 3);
	/* A broken header is -EIO even when dropped and empty-looking. */
	f.hdr->head_index = 8;
	f.hdr->tail_index = 8;
	CHECK_EQ(rxu_ring_pop(&f.r, e), -EIO);
	fx_free(&f);
	return 0;
}

/*
 * Broken headers: -EIO (or NULL, or no change) and, since the entry
 * array is allocated to its exact size, no access outside it.
 */
static int broken_case(struct fixture *f, uint64_t head, uint64_t tail)
{
	unsigned char e[64];
	struct rxu_ring_header before;

	tap_context("n = %llu, size %u, head %llu, tail %llu",
		    (unsigned long long)f->n, f->size,
		    (unsigned long long)head, (unsigned long long)tail);
	rxu_ring_header_reset(f->hdr, f->n);
	f->hdr->head_index = head;
	f->hdr->tail_index = tail;
	f->hdr->push_epoch = 5;
	f->hdr->pop_epoch = 6;
	before = *f->hdr;
	memset(e, 0, sizeof(e));

	CHECK_EQ(rxu_ring_available(&f->r), -EIO);
	CHECK_EQ(rxu_ring_free(&f->r), -EIO);
	CHECK_EQ(rxu_ring_push(&f->r, e), -EIO);
	CHECK_EQ(rxu_ring_pop(&f->r, e), -EIO);
	CHECK(rxu_ring_push_slot(&f->r, 0) == NULL);
	CHECK(rxu_ring_pop_slot(&f->r, 0) == NULL);
	rxu_ring_push_commit(&f->r, 1);
	rxu_ring_pop_commit(&f->r, 1);
	CHECK(memcmp(f->hdr, &before, sizeof(before)) == 0);
	/* A dropped broken ring still says -ESHUTDOWN to the pusher. */
	rxu_ring_set_drop(&f->r);
	CHECK_EQ(rxu_ring_push(&f->r, e), -ESHUTDOWN);
	CHECK_EQ(rxu_ring_pop(&f->r, e), -EIO);
	return 0;
}

static int test_broken_headers(void)
{
	static const uint64_t ns[] = { 1, 2, 8, 4096 };
	size_t i, s;

	for (i = 0; i < ARRAY_SIZE(ns); i++) {
		for (s = 0; s < ARRAY_SIZE(abi_sizes); s++) {
			uint64_t n = ns[i];
			struct fixture f;
			int ret;

			TRY(fx_init(&f, n, abi_sizes[s]));
			ret = broken_case(&f, 2 * n, 0) ||
			      broken_case(&f, 0, 2 * n) ||
			      broken_case(&f, 2 * n, 2 * n) ||
			      broken_case(&f, 2 * n + 1, 1) ||
			      broken_case(&f, UINT64_MAX, 0) ||
			      broken_case(&f, 0, UINT64_MAX) ||
			      broken_case(&f, 3 * n, 3 * n + 1) ||
			      broken_case(&f, 1ULL << 40, 1ULL << 40);
			/* tail - head > n is only possible from n = 2 on. */
			if (!ret && n >= 2)
				ret = broken_case(&f, 0, n + 1) ||
				      broken_case(&f, 2 * n - 1, n) ||
				      broken_case(&f, n, 1);
			fx_free(&f);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* n is our own copy: the shared entry_count word changes nothing. */
static int test_shared_entry_count_ignored(void)
{
	static const uint64_t lies[] = { 0, 3, 8, 1 << 20, UINT64_MAX };
	unsigned char e[32];
	struct fixture f;
	size_t l;
	int i;

	TRY(fx_init(&f, 4, 32));
	for (l = 0; l < ARRAY_SIZE(lies); l++) {
		tap_context("entry_count word %llu",
			    (unsigned long long)lies[l]);
		f.hdr->entry_count = lies[l];
		for (i = 0; i < 4; i++) {
			gen_entry(e, 32, i);
			CHECK_EQ(rxu_ring_push(&f.r, e), 0);
		}
		CHECK_EQ(rxu_ring_push(&f.r, e), -EAGAIN);
		CHECK_EQ(rxu_ring_available(&f.r), 4);
		for (i = 0; i < 4; i++) {
			CHECK_EQ(rxu_ring_pop(&f.r, e), 0);
			TRY(check_entry(e, 32, i));
		}
		CHECK_EQ(rxu_ring_pop(&f.r, e), -EAGAIN);
		TRY(check_indices(&f));
	}
	fx_free(&f);
	return 0;
}

/* push_slot/pop_slot address exactly slot((index + i)) and no further. */
static int test_batch_slot_bounds(void)
{
	struct fixture f;
	uint64_t i;

	TRY(fx_init(&f, 8, 64));
	f.hdr->head_index = 13;			/* slot 5, cycle 1 */
	f.hdr->tail_index = 13;
	for (i = 0; i < 8; i++)
		CHECK(rxu_ring_push_slot(&f.r, i) ==
		      (char *)f.entries + ((13 + i) & 7) * 64);
	CHECK(rxu_ring_push_slot(&f.r, 8) == NULL);
	CHECK(rxu_ring_push_slot(&f.r, UINT64_MAX) == NULL);
	CHECK(rxu_ring_pop_slot(&f.r, 0) == NULL);
	CHECK_EQ(f.hdr->tail_index, 13);	/* slots publish nothing */

	rxu_ring_push_commit(&f.r, 6);
	CHECK_EQ(f.hdr->tail_index, (13 + 6) % 16);
	CHECK_EQ(rxu_ring_free(&f.r), 2);
	CHECK(rxu_ring_push_slot(&f.r, 1) ==
	      (char *)f.entries + ((19 + 1) & 7) * 64);
	CHECK(rxu_ring_push_slot(&f.r, 2) == NULL);
	for (i = 0; i < 6; i++)
		CHECK(rxu_ring_pop_slot(&f.r, i) ==
		      (char *)f.entries + ((13 + i) & 7) * 64);
	CHECK(rxu_ring_pop_slot(&f.r, 6) == NULL);

	/* Committing more than there is would corrupt the ring: ignored. */
	rxu_ring_push_commit(&f.r, 3);
	CHECK_EQ(f.hdr->tail_index, 3);
	rxu_ring_pop_commit(&f.r, 7);
	CHECK_EQ(f.hdr->head_index, 13);
	rxu_ring_pop_commit(&f.r, 6);
	CHECK_EQ(f.hdr->head_index, 3);
	CHECK_EQ(rxu_ring_available(&f.r), 0);
	rxu_ring_push_commit(&f.r, 9);
	CHECK_EQ(f.hdr->tail_index, 3);
	rxu_ring_push_commit(&f.r, 8);		/* exactly full is fine */
	CHECK_EQ(f.hdr->tail_index, 11);
	CHECK_EQ((f.hdr->head_index ^ f.hdr->tail_index), 8);
	CHECK_EQ(f.hdr->push_epoch, 14);
	CHECK_EQ(f.hdr->pop_epoch, 6);
	fx_free(&f);
	return 0;
}

/* Reserve: one view per batch, clamped to what is free or present. */
static int test_batch_reserve(void)
{
	struct fixture f;
	uint64_t pos = 99, i;

	TRY(fx_init(&f, 8, 32));
	f.hdr->head_index = 13;			/* slot 5, cycle 1 */
	f.hdr->tail_index = 13;
	CHECK_EQ(rxu_ring_push_reserve(&f.r, 3, &pos), 3);
	CHECK_EQ(pos, 13);
	CHECK_EQ(rxu_ring_push_reserve(&f.r, 100, &pos), 8);
	for (i = 0; i < 8; i++) {
		CHECK(rxu_ring_entry(&f.r, pos + i) ==
		      (char *)f.entries + ((13 + i) & 7) * 32);
		gen_entry(rxu_ring_entry(&f.r, pos + i), 32, i);
	}
	CHECK_EQ(f.hdr->tail_index, 13);	/* nothing published yet */
	pos = 99;
	CHECK_EQ(rxu_ring_pop_reserve(&f.r, &pos), 0);
	CHECK_EQ(pos, 13);
	rxu_ring_push_commit(&f.r, 8);
	CHECK_EQ(rxu_ring_push_reserve(&f.r, 1, &pos), 0);	/* full */
	CHECK_EQ(rxu_ring_pop_reserve(&f.r, &pos), 8);
	CHECK_EQ(pos, 13);
	for (i = 0; i < 8; i++)
		TRY(check_entry(rxu_ring_entry(&f.r, pos + i), 32, i));
	rxu_ring_pop_commit(&f.r, 8);
	CHECK_EQ(f.hdr->head_index, (13 + 8) % 16);

	f.hdr->tail_index = 16;			/* broken: >= 2n */
	CHECK_EQ(rxu_ring_push_reserve(&f.r, 1, &pos), -EIO);
	CHECK_EQ(rxu_ring_pop_reserve(&f.r, &pos), -EIO);
	f.hdr->tail_index = 5;
	f.hdr->status = RXU_RING_DROP;
	CHECK_EQ(rxu_ring_push_reserve(&f.r, 1, &pos), -ESHUTDOWN);
	fx_free(&f);
	return 0;
}

/*
 * Exactly entry_size bytes move per entry, whatever the size: the
 * neighbouring slots keep their canary bytes.
 */
static int entry_size_case(uint32_t size)
{
	unsigned char in[256], out[256];
	struct fixture f;
	unsigned char *base;
	uint64_t k;

	tap_context("entry size %u", size);
	TRY(fx_init(&f, 4, size));
	base = f.entries;
	f.hdr->head_index = 1;
	f.hdr->tail_index = 1;
	gen_entry(in, size, 0x1122334455667788ULL);
	CHECK_EQ(rxu_ring_push(&f.r, in), 0);
	for (k = 0; k < 4ULL * size; k++) {
		if (k >= size && k < 2ULL * size)
			continue;
		CHECK_EQ(base[k], 0xA5);
	}
	TRY(check_entry(base + size, size, 0x1122334455667788ULL));
	memset(out, 0x3C, sizeof(out));
	CHECK_EQ(rxu_ring_pop(&f.r, out), 0);
	TRY(check_entry(out, size, 0x1122334455667788ULL));
	CHECK_EQ(out[size], 0x3C);
	fx_free(&f);
	return 0;
}

static int test_entry_sizes(void)
{
	static const uint32_t sizes[] = { 64, 32, 16, 1, 8, 24, 48, 128, 200 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		TRY(entry_size_case(sizes[i]));
	return 0;
}

static const struct tap_test tests[] = {
	{ "init rejects bad arguments", test_init_rejects_bad_arguments },
	{ "init accepts every power of two up to 2^31",
	  test_init_accepts_powers_of_two },
	{ "header reset", test_header_reset },
	{ "fill and drain, n = 1..32768, entry sizes 64/32/16",
	  test_fill_and_drain_every_size },
	{ "index math for every head/tail pair, n = 1..16",
	  test_index_math_exhaustive },
	{ "wrap-around past 2n, varied batches, n = 1..32768",
	  test_wraparound_every_size },
	{ "epochs count pushes and pops", test_epochs_count_operations },
	{ "a cached tail follows other pushers and a reset",
	  test_cached_tail_follows_other_pushers },
	{ "DROP refuses pushes", test_drop_blocks_push },
	{ "DROP: pop drains, then -ESHUTDOWN",
	  test_drop_pop_drains_then_shutdown },
	{ "broken headers give -EIO, no out-of-bounds access",
	  test_broken_headers },
	{ "shared entry_count word ignored", test_shared_entry_count_ignored },
	{ "batch slots and commits stay in bounds", test_batch_slot_bounds },
	{ "batch reserve: one view, clamped, checked", test_batch_reserve },
	{ "exactly entry_size bytes per entry", test_entry_sizes },
};

TAP_MAIN(tests)
