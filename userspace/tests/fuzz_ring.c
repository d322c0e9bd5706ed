// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for librxu's rings (lib/ring.c), host-native:
 *
 *   make -C userspace fuzz            (every target, FUZZ_SECONDS each)
 *
 * The input picks a geometry (entry count 1..128, entry size 16/32/64 or
 * odd), then a sequence of operations by a pusher and a popper, two
 * struct rxu_ring on one header and one entry array, as two processes
 * sharing a ring have: push, pop, the slot and reserve batch calls,
 * available/free, DROP, and scribbles of header words by a hostile peer.
 * The entry array is malloc()ed to its exact size, so AddressSanitizer
 * sees any access outside it.
 *
 * Checked always: every pointer handed out lies on a slot of the array;
 * counts stay in [0, n] or are -EIO; return codes are the documented
 * ones.  Checked while no scribble has happened (a model of the FIFO):
 * every count and result is exact and entries come out in order, intact.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rxu.h"

#define MAXN	128
#define MAXSZ	128

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static uint64_t u64(struct in *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)u8(in) << (8 * i);
	return v;
}

/* A header value: mostly near the valid range, sometimes anything. */
static uint64_t hval(struct in *in, uint64_t n)
{
	uint8_t k = u8(in);

	switch (k & 3) {
	case 0: return u8(in) % (2 * n);
	case 1: return 2 * n + u8(in) % 4;
	case 2: return u64(in);
	default: return (2 * n - 1) & (uint64_t)(k >> 2);
	}
}

#define FAIL(...)							\
	do {								\
		fprintf(stderr, "fuzz_ring: " __VA_ARGS__);		\
		fputc('\n', stderr);					\
		abort();						\
	} while (0)

struct model {
	uint64_t q[MAXN];	/* sequence numbers in the ring, in order */
	uint64_t head, count, next;
	int sane, drop;
};

static void check_slot(const struct rxu_ring *r, const void *p)
{
	const char *b = r->entries;
	size_t off;

	if (!p)
		return;
	if ((const char *)p < b)
		FAIL("slot pointer below the array");
	off = (size_t)((const char *)p - b);
	if (off >= r->entry_count * r->entry_size || off % r->entry_size)
		FAIL("slot pointer %zu not on a slot", off);
}

static void fill(void *e, uint32_t size, uint64_t seq)
{
	memset(e, (int)(seq & 0xff), size);
	memcpy(e, &seq, size < 8 ? size : 8);
}

/* Published by a commit beyond the slots filled: content unknown. */
#define UNKNOWN	UINT64_MAX

static void expect_entry(const void *e, uint32_t size, uint64_t seq)
{
	unsigned char want[MAXSZ];

	if (seq == UNKNOWN)
		return;
	fill(want, size, seq);
	if (memcmp(e, want, size))
		FAIL("entry %llu came out damaged", (unsigned long long)seq);
}

static void model_push(struct model *m, uint64_t n, uint64_t seq)
{
	m->q[(m->head + m->count) % n] = seq;
	m->count++;
}

static uint64_t model_pop(struct model *m, uint64_t n)
{
	uint64_t s = m->q[m->head];

	m->head = (m->head + 1) % n;
	m->count--;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	static const uint32_t sizes[] = { 16, 32, 64 };
	struct rxu_ring_header *hdr;
	struct rxu_ring pu, po;
	struct model m;
	uint8_t g = u8(&in), s = u8(&in);
	uint64_t n = 1ULL << (g % 8);
	uint32_t esz = s < 192 ? sizes[s % 3] : 1 + s % MAXSZ;
	unsigned char e[MAXSZ];
	void *ent;
	int steps = 0;

	hdr = aligned_alloc(64, sizeof(*hdr));
	ent = malloc(n * esz);
	if (!hdr || !ent)
		abort();
	rxu_ring_header_reset(hdr, n);
	memset(ent, 0xee, n * esz);
	if (rxu_ring_init(&pu, hdr, ent, n, esz) ||
	    rxu_ring_init(&po, hdr, ent, n, esz))
		FAIL("init refused a valid geometry");
	memset(&m, 0, sizeof(m));
	m.sane = 1;

	while (in.n && steps++ < 4096) {
		uint8_t op = u8(&in);
		int64_t c;
		int r;

		if (m.sane) {
			c = rxu_ring_available(&po);
			if (c != (int64_t)m.count)
				FAIL("available %lld, model %llu", (long long)c,
				     (unsigned long long)m.count);
		}
		switch (op % 14) {
		case 0: case 1:			/* push */
			fill(e, esz, m.next);
			r = rxu_ring_push(&pu, e);
			if (r && r != -EAGAIN && r != -ESHUTDOWN && r != -EIO)
				FAIL("push: %d", r);
			if (m.sane) {
				int want = m.drop ? -ESHUTDOWN :
					   m.count == n ? -EAGAIN : 0;

				if (r != want)
					FAIL("push %d, model %d", r, want);
				if (!r)
					model_push(&m, n, m.next);
			}
			if (!r)
				m.next++;
			break;
		case 2: case 3:			/* pop */
			r = rxu_ring_pop(&po, e);
			if (r && r != -EAGAIN && r != -ESHUTDOWN && r != -EIO)
				FAIL("pop: %d", r);
			if (m.sane) {
				int want = m.count ? 0 : m.drop ? -ESHUTDOWN :
					   -EAGAIN;

				if (r != want)
					FAIL("pop %d, model %d", r, want);
				if (!r)
					expect_entry(e, esz, model_pop(&m, n));
			}
			break;
		case 4: {			/* push_slot x k, commit */
			uint64_t k = u8(&in) % (n + 2), i;
			void *p;

			for (i = 0; i < k; i++) {
				p = rxu_ring_push_slot(&pu, i);
				check_slot(&pu, p);
				if (m.sane && !p != (m.drop ||
						     i >= n - m.count))
					FAIL("push_slot %llu", (unsigned long long)i);
				if (!p)
					break;
				fill(p, esz, m.next + i);
			}
			/*
			 * Sometimes more than filled: beyond the free space
			 * the commit is ignored, within it the extra slots
			 * are published with whatever they held.
			 */
			k = i;
			if (u8(&in) & 1)
				k += u8(&in) % 3;
			rxu_ring_push_commit(&pu, k);
			if (m.sane && k <= n - m.count)
				for (uint64_t j = 0; j < k; j++)
					model_push(&m, n, j < i ? m.next + j :
						   UNKNOWN);
			m.next += i;
			break;
		}
		case 5: {			/* pop_slot x k, commit */
			uint64_t k = u8(&in) % (n + 2), i;
			const void *p;

			for (i = 0; i < k; i++) {
				p = rxu_ring_pop_slot(&po, i);
				check_slot(&po, p);
				if (m.sane && !p != (i >= m.count))
					FAIL("pop_slot %llu", (unsigned long long)i);
				if (!p)
					break;
				if (m.sane)
					expect_entry(p, esz,
						     m.q[(m.head + i) % n]);
			}
			k = i;
			if (u8(&in) & 1)
				k += u8(&in) % 3;
			rxu_ring_pop_commit(&po, k);
			if (m.sane && k <= m.count)
				for (i = 0; i < k; i++)
					model_pop(&m, n);
			break;
		}
		case 6: {			/* push_reserve, entry, commit */
			uint64_t want = u8(&in), pos = 0, i;

			c = rxu_ring_push_reserve(&pu, want, &pos);
			if (c < 0 && c != -EIO && c != -ESHUTDOWN)
				FAIL("push_reserve %lld", (long long)c);
			if (c > (int64_t)n || c > (int64_t)want)
				FAIL("push_reserve %lld > n or want",
				     (long long)c);
			if (m.sane) {
				int64_t w = m.drop ? -ESHUTDOWN :
					(int64_t)(want < n - m.count ?
						  want : n - m.count);

				if (c != w)
					FAIL("push_reserve %lld, model %lld",
					     (long long)c, (long long)w);
			}
			for (i = 0; c > 0 && i < (uint64_t)c; i++) {
				void *p = rxu_ring_entry(&pu, pos + i);

				check_slot(&pu, p);
				fill(p, esz, m.next + i);
			}
			if (c > 0) {
				rxu_ring_push_commit(&pu, (uint64_t)c);
				if (m.sane)
					for (i = 0; i < (uint64_t)c; i++)
						model_push(&m, n, m.next + i);
				m.next += (uint64_t)c;
			}
			break;
		}
		case 7: {			/* pop_reserve, read, commit */
			uint64_t pos = 0, i, k;

			c = rxu_ring_pop_reserve(&po, &pos);
			if (c < 0 && c != -EIO)
				FAIL("pop_reserve %lld", (long long)c);
			if (c > (int64_t)n)
				FAIL("pop_reserve %lld > n", (long long)c);
			if (m.sane && c != (int64_t)m.count)
				FAIL("pop_reserve %lld", (long long)c);
			k = c > 0 ? u8(&in) % ((uint64_t)c + 1) : 0;
			for (i = 0; i < k; i++) {
				const void *p = rxu_ring_entry(&po, pos + i);

				check_slot(&po, p);
				if (m.sane)
					expect_entry(p, esz,
						     m.q[(m.head + i) % n]);
			}
			rxu_ring_pop_commit(&po, k);
			if (m.sane)
				for (i = 0; i < k; i++)
					model_pop(&m, n);
			break;
		}
		case 8:
			c = rxu_ring_free(&pu);
			if (c != -EIO && (c < 0 || c > (int64_t)n))
				FAIL("free %lld", (long long)c);
			if (m.sane && c != (int64_t)(n - m.count))
				FAIL("free %lld, model", (long long)c);
			break;
		case 9:
			rxu_ring_set_drop(&pu);
			m.drop = 1;
			if (!rxu_ring_dropped(&po))
				FAIL("DROP not seen");
			break;
		case 10: case 11: {		/* a hostile peer's scribble */
			uint64_t v = hval(&in, n);

			switch (u8(&in) % 6) {
			case 0: hdr->head_index = v; break;
			case 1: hdr->tail_index = v; break;
			case 2:
				hdr->status = v;
				m.drop = (v & RXU_RING_DROP) != 0;
				continue;	/* the model still holds */
			case 3: hdr->entry_count = v; continue;
			case 4: hdr->push_epoch = v; continue;
			default: hdr->pop_epoch = v; continue;
			}
			m.sane = 0;
			break;
		}
		case 12: {			/* entry slot of any index */
			uint64_t pos = u64(&in);

			check_slot(&pu, rxu_ring_entry(&pu, pos));
			break;
		}
		default: {			/* init with any geometry */
			struct rxu_ring x;
			uint64_t cnt = u64(&in);
			uint32_t sz = (uint32_t)u64(&in);
			int ok = cnt && cnt <= (1ULL << 31) &&
				 !(cnt & (cnt - 1)) && sz;

			r = rxu_ring_init(&x, hdr, ent, cnt, sz);
			if ((r == 0) != ok || (r && r != -EINVAL))
				FAIL("init(%llu, %u) = %d",
				     (unsigned long long)cnt, sz, r);
			break;
		}
		}
	}
	free(ent);
	free(hdr);
	return 0;
}
