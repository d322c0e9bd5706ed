// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for librxu's pool code (lib/pool.c), host-native:
 *
 *   make -C userspace fuzz            (every target, FUZZ_SECONDS each)
 *
 * The pool fd is a memfd, which mmap() accepts at any offset and read()
 * reads from its file position, so both sides can be driven without the
 * module:
 *
 *   provider: the input's bytes are the "range records" the kernel would
 *             hand out (whole, torn, overlapping, unaligned, wrapping);
 *             rxu_pool_update() must take the good ones and refuse the
 *             rest, never map an overlap, never crash;
 *   consumer: rxu_pool_map/grow with fuzzed ranges, then alloc/free
 *             sequences, checked against a model: blocks lie inside
 *             allocatable ranges, never overlap, free of a live block
 *             succeeds, a double free fails;
 *   both:     rxu_pool_ptr/check/offset with fuzzed offsets and lengths
 *             (wrapping sums included): a pointer handed out always lies
 *             inside one mapping, and offset() gives its offset back.
 *
 * Nothing is ever written to a mapping beyond the memfd's size (that
 * would be SIGBUS, not a bug); the memfd is sized to cover small offsets.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rxu.h"

#define PAGE	4096ULL
#define MAXBLK	64

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

/* An offset or size: mostly a few pages, sometimes anything. */
static uint64_t val(struct in *in)
{
	uint8_t k = u8(in);

	switch (k & 3) {
	case 0: return (uint64_t)(u8(in) % 64) * PAGE;
	case 1: return (uint64_t)(u8(in) % 64) * PAGE + u8(in);
	case 2: return UINT64_MAX - (uint64_t)(u8(in) % 4) * PAGE - u8(in) % 2;
	default: return u64(in);
	}
}

#define FAIL(...)							\
	do {								\
		fprintf(stderr, "fuzz_pool: " __VA_ARGS__);		\
		fputc('\n', stderr);					\
		abort();						\
	} while (0)

static int memfd = -1;

/* Every mapping disjoint, sorted, page-aligned. */
static void check_maps(const struct rxu_pool *p)
{
	for (size_t i = 0; i < p->nr_maps; i++) {
		const struct rxu_pool_map *m = &p->maps[i];

		if (!m->size || (m->offset | m->size) % PAGE || !m->addr)
			FAIL("bad map %zu", i);
		if (m->offset + m->size < m->offset)
			FAIL("map %zu wraps", i);
		if (i && p->maps[i - 1].offset + p->maps[i - 1].size >
			 m->offset)
			FAIL("maps %zu and %zu overlap or are unsorted",
			     i - 1, i);
	}
}

/* A translation result must lie inside exactly the right mapping. */
static void check_ptr(const struct rxu_pool *p, uint64_t off, uint64_t len)
{
	char *a = rxu_pool_ptr(p, off, len);
	int found = 0;
	uint64_t back;

	for (size_t i = 0; i < p->nr_maps; i++) {
		const struct rxu_pool_map *m = &p->maps[i];

		if (off >= m->offset && off - m->offset < m->size &&
		    len <= m->size - (off - m->offset)) {
			found = 1;
			if (a != (char *)m->addr + (off - m->offset))
				FAIL("ptr(%llx, %llx) is not in its mapping",
				     (unsigned long long)off,
				     (unsigned long long)len);
		}
	}
	if (!found && a)
		FAIL("ptr(%llx, %llx) outside every mapping",
		     (unsigned long long)off, (unsigned long long)len);
	if ((rxu_pool_check(p, off, len) == 0) != found)
		FAIL("check disagrees with ptr");
	if (a && (rxu_pool_offset(p, a, len, &back) || back != off))
		FAIL("offset(ptr(%llx)) does not give it back",
		     (unsigned long long)off);
}

struct blk { uint64_t off, size; };

static void provider(struct in *in)
{
	struct rxu_pool p;
	size_t len = in->n;
	int ret;

	/* The records: the rest of the input, as the file's content. */
	if (ftruncate(memfd, 0) || lseek(memfd, 0, SEEK_SET) ||
	    (len && write(memfd, in->p, len) != (ssize_t)len) ||
	    lseek(memfd, 0, SEEK_SET))
		abort();
	if (rxu_pool_init(&p, memfd))
		abort();
	ret = rxu_pool_update(&p);
	if (ret < 0 && ret != -EIO && ret != -ENOMEM && ret != -EINVAL &&
	    ret != -EOVERFLOW)
		FAIL("update: %d", ret);
	check_maps(&p);
	if (len % sizeof(struct rxu_pool_range) && ret >= 0)
		FAIL("a torn record was accepted");
	for (int i = 0; i < 64; i++) {
		uint64_t off = p.nr_maps && (i & 1) ?
			       p.maps[(size_t)i % p.nr_maps].offset + i * 61 :
			       (uint64_t)i * 4093;

		check_ptr(&p, off, (uint64_t)(i * i) * 37);
		check_ptr(&p, off, UINT64_MAX - (uint64_t)i);
	}
	p.fd = -1;		/* the memfd is ours */
	rxu_pool_close(&p);
}

static void consumer(struct in *in)
{
	struct blk b[MAXBLK];
	struct rxu_pool p;
	int nb = 0, steps = 0;

	if (ftruncate(memfd, 0) || ftruncate(memfd, 1 << 20))
		abort();
	if (rxu_pool_init(&p, memfd))
		abort();
	while (in->n && steps++ < 512) {
		uint8_t op = u8(in);
		uint64_t off, size;
		int r, i;

		switch (op % 8) {
		case 0: {
			void *a = NULL;

			off = val(in);
			size = val(in);
			r = rxu_pool_map(&p, off, size, &a);
			if (r && r != -EINVAL && r != -EEXIST &&
			    r != -ENOMEM && r != -EOVERFLOW)
				FAIL("map: %d", r);
			if (!r && !a)
				FAIL("map gave no address");
			break;
		}
		case 1:
			size = val(in);
			r = rxu_pool_grow(&p, size, &off);
			if (r && r != -EINVAL && r != -EEXIST &&
			    r != -ENOMEM && r != -EOVERFLOW)
				FAIL("grow: %d", r);
			break;
		case 2: case 3: {
			uint64_t align = u8(in) & 1 ? 0 : 1ULL << (u8(in) % 16);

			size = u8(in) & 1 ? u8(in) + 1 : val(in);
			r = rxu_pool_alloc(&p, size, align, &off);
			if (r && r != -ENOMEM && r != -EINVAL)
				FAIL("alloc: %d", r);
			if (r)
				break;
			if (!rxu_pool_ptr(&p, off, size))
				FAIL("allocated block not mapped");
			if (align && off % align)
				FAIL("allocated block misaligned");
			for (i = 0; i < nb; i++)
				if (off < b[i].off + b[i].size &&
				    b[i].off < off + size)
					FAIL("blocks overlap");
			/* ours to write: inside the memfd's first MiB? */
			if (off + size <= (1 << 20) && size <= 8192)
				memset(rxu_pool_ptr(&p, off, size), 0x5a,
				       (size_t)size);
			if (nb < MAXBLK)
				b[nb++] = (struct blk){ off, size };
			else if (rxu_pool_free(&p, off, size))
				FAIL("free of a fresh block failed");
			break;
		}
		case 4: case 5:
			if (!nb)
				break;
			i = (int)(u8(in) % nb);
			if (rxu_pool_free(&p, b[i].off, b[i].size))
				FAIL("free of a live block failed");
			if (u8(in) & 1 && !rxu_pool_free(&p, b[i].off,
							 b[i].size))
				FAIL("double free accepted");
			b[i] = b[--nb];
			break;
		case 6:
			/*
			 * Free of something never allocated.  Every byte of
			 * an allocatable range is free or in a live block, so
			 * a range that touches no live block must be refused
			 * (free space, or no range).  One that touches a live
			 * block is the caller's double free, which the
			 * allocator cannot see: not tried.
			 */
			off = val(in);
			size = val(in);
			for (i = 0; i < nb; i++)
				if (off < b[i].off + b[i].size &&
				    b[i].off < off + size)
					break;
			if (i < nb || off + size < off)
				break;
			if (!rxu_pool_free(&p, off, size))
				FAIL("free of never allocated [%llx, +%llx)",
				     (unsigned long long)off,
				     (unsigned long long)size);
			break;
		default:
			check_ptr(&p, val(in), val(in));
			break;
		}
		check_maps(&p);
	}
	p.fd = -1;
	rxu_pool_close(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };

	if (memfd < 0) {
		memfd = memfd_create("fuzz_pool", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
	}
	if (u8(&in) & 1)
		provider(&in);
	else
		consumer(&in);
	return 0;
}
