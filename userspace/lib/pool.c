// SPDX-License-Identifier: MIT
/*
 * librxu pools: the shared buffers of a user-to-user ring (ABI.md
 * section 7).  A DUP with the parameter "pool" of a u2u instance fd
 * gives a pool fd; ranges of it are mapped at page-aligned pool offsets,
 * and the SQEs of the u2u ring carry pool offsets, never pointers.
 *
 *  - Consumer side: rxu_pool_map() / rxu_pool_grow() map a new range
 *    at an offset the consumer chooses (the kernel allocates its pages),
 *    and hand it to a small first-fit allocator (rxu_pool_alloc/free)
 *    whose blocks never straddle two ranges: each range is a mapping of
 *    its own, so two ranges adjacent in the pool are not adjacent in
 *    the address space.
 *  - Provider side: rxu_pool_update() read()s {u64 offset; u64 size}
 *    records from its own pool fd (0 bytes when nothing is new: it never
 *    blocks) and maps each range at the same offset.
 *  - Both sides: rxu_pool_ptr() turns an offset from an SQE or a CQE into
 *    a pointer, or NULL when [offset, offset + len) is not inside one
 *    mapped range.  Offsets come from the peer, which may be buggy or
 *    hostile, so every check is written to be overflow-free.
 *
 * Not thread-safe: one pool belongs to one thread (or is locked by its
 * user).  Every function returns -errno and leaves errno alone.
 */

/* Pool offsets are 64-bit: 32-bit builds need a 64-bit off_t. */
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rxu.h"

#define POOL_PAGE		4096ULL
#define POOL_DEFAULT_ALIGN	64ULL
#define POOL_READ_BATCH		16

/* A failed libc call as -errno, with errno put back as it was. */
static int fail_errno(int saved)
{
	int err = errno;

	errno = saved;
	return -err;
}

static int page_aligned(uint64_t v)
{
	return (v & (POOL_PAGE - 1)) == 0;
}

/* [offset, offset + size) is a valid new range: aligned, no wrap. */
static int range_ok(uint64_t offset, uint64_t size)
{
	return size && page_aligned(offset) && page_aligned(size) &&
	       offset <= UINT64_MAX - size && size <= SIZE_MAX &&
	       offset <= (uint64_t)INT64_MAX - size;	/* fits an off_t */
}

/*
 * Index of the mapped range that contains offset, or -1.  The ranges are
 * sorted by offset and do not overlap.
 */
static long find_map(const struct rxu_pool *p, uint64_t offset)
{
	size_t lo = 0, hi = p->nr_maps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct rxu_pool_map *m = &p->maps[mid];

		if (offset < m->offset)
			hi = mid;
		else if (offset - m->offset >= m->size)
			lo = mid + 1;
		else
			return (long)mid;
	}
	return -1;
}

/* Where a range starting at offset goes in the sorted map array. */
static size_t map_insert_pos(const struct rxu_pool *p, uint64_t offset)
{
	size_t i = 0;

	while (i < p->nr_maps && p->maps[i].offset < offset)
		i++;
	return i;
}

/* Grow an array of elem-sized items to hold at least want of them. */
static int grow_array(void **arr, size_t *cap, size_t want, size_t elem)
{
	size_t ncap;
	void *n;

	if (want <= *cap)
		return 0;
	ncap = *cap ? *cap : 8;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2 / elem)
			return -ENOMEM;
		ncap *= 2;
	}
	n = realloc(*arr, ncap * elem);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

int rxu_pool_init(struct rxu_pool *p, int fd)
{
	if (!p)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->fd = fd;
	return 0;
}

void rxu_pool_close(struct rxu_pool *p)
{
	int saved = errno;
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nr_maps; i++)
		munmap(p->maps[i].addr, (size_t)p->maps[i].size);
	free(p->maps);
	free(p->free);
	if (p->fd >= 0)
		close(p->fd);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	errno = saved;
}

/* ------------------------------------------------------------------ */
/* The allocator's free extents: sorted, never straddling two ranges    */
/* ------------------------------------------------------------------ */

/* Both extents lie in the same mapped range (so may become one block). */
static int same_map(const struct rxu_pool *p, uint64_t a, uint64_t b)
{
	long ma = find_map(p, a);

	return ma >= 0 && ma == find_map(p, b);
}

/*
 * Insert a free extent, merging it with its neighbours in the same
 * range.  -EINVAL if it overlaps a free extent (a double free).
 */
static int free_insert(struct rxu_pool *p, uint64_t offset, uint64_t size)
{
	size_t i = 0, n = p->nr_free;
	struct rxu_pool_extent *e;
	int merge_prev, merge_next, ret;

	while (i < n && p->free[i].offset < offset)
		i++;
	if (i > 0 && p->free[i - 1].offset + p->free[i - 1].size > offset)
		return -EINVAL;
	if (i < n && offset + size > p->free[i].offset)
		return -EINVAL;

	merge_prev = i > 0 &&
		     p->free[i - 1].offset + p->free[i - 1].size == offset &&
		     same_map(p, p->free[i - 1].offset, offset);
	merge_next = i < n && offset + size == p->free[i].offset &&
		     same_map(p, offset, p->free[i].offset);

	if (merge_prev && merge_next) {
		p->free[i - 1].size += size + p->free[i].size;
		memmove(&p->free[i], &p->free[i + 1],
			(n - i - 1) * sizeof(*p->free));
		p->nr_free--;
		return 0;
	}
	if (merge_prev) {
		p->free[i - 1].size += size;
		return 0;
	}
	if (merge_next) {
		p->free[i].offset = offset;
		p->free[i].size += size;
		return 0;
	}
	ret = grow_array((void **)&p->free, &p->cap_free, n + 1,
			 sizeof(*p->free));
	if (ret)
		return ret;
	memmove(&p->free[i + 1], &p->free[i], (n - i) * sizeof(*p->free));
	e = &p->free[i];
	e->offset = offset;
	e->size = size;
	p->nr_free++;
	return 0;
}

int rxu_pool_alloc(struct rxu_pool *p, uint64_t size, uint64_t align,
		   uint64_t *offset)
{
	size_t i;

	if (!p || !offset || !size)
		return -EINVAL;
	if (!align)
		align = POOL_DEFAULT_ALIGN;
	if (align & (align - 1))
		return -EINVAL;

	for (i = 0; i < p->nr_free; i++) {
		struct rxu_pool_extent *e = &p->free[i];
		uint64_t start = (e->offset + align - 1) & ~(align - 1);
		uint64_t pad, end, tail;

		if (start < e->offset)			/* wrapped */
			continue;
		pad = start - e->offset;
		if (pad >= e->size || e->size - pad < size)
			continue;
		end = start + size;
		tail = e->offset + e->size - end;

		/* Cut [start, end) out: keep the padding and the tail. */
		if (pad && tail) {
			uint64_t tail_off = end;
			int ret;

			e->size = pad;
			ret = free_insert(p, tail_off, tail);
			if (ret) {
				e->size = pad + size + tail;
				return ret;
			}
		} else if (pad) {
			e->size = pad;
		} else if (tail) {
			e->offset = end;
			e->size = tail;
		} else {
			memmove(e, e + 1,
				(p->nr_free - i - 1) * sizeof(*p->free));
			p->nr_free--;
		}
		*offset = start;
		return 0;
	}
	return -ENOMEM;
}

int rxu_pool_free(struct rxu_pool *p, uint64_t offset, uint64_t size)
{
	long m;

	if (!p || !size)
		return -EINVAL;
	m = find_map(p, offset);
	if (m < 0 || !p->maps[m].allocatable ||
	    size > p->maps[m].size - (offset - p->maps[m].offset))
		return -EINVAL;
	return free_insert(p, offset, size);
}

/* ------------------------------------------------------------------ */
/* Mapping ranges                                                      */
/* ------------------------------------------------------------------ */

/* Map [offset, offset + size) of the pool fd and record it. */
static int map_range(struct rxu_pool *p, uint64_t offset, uint64_t size,
		     int allocatable, void **addr)
{
	int saved = errno;
	struct rxu_pool_map *m;
	size_t pos;
	void *a;
	int ret;

	if (!range_ok(offset, size))
		return -EINVAL;
	pos = map_insert_pos(p, offset);
	/* No overlap with the ranges before and after. */
	if (pos > 0 && p->maps[pos - 1].offset + p->maps[pos - 1].size > offset)
		return -EEXIST;
	if (pos < p->nr_maps && offset + size > p->maps[pos].offset)
		return -EEXIST;

	ret = grow_array((void **)&p->maps, &p->cap_maps, p->nr_maps + 1,
			 sizeof(*p->maps));
	if (ret)
		return ret;
	/* The allocator may need one more extent: make room before mapping. */
	if (allocatable) {
		ret = grow_array((void **)&p->free, &p->cap_free,
				 p->nr_free + 1, sizeof(*p->free));
		if (ret)
			return ret;
	}

	a = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd,
		 (off_t)offset);
	if (a == MAP_FAILED)
		return fail_errno(saved);

	memmove(&p->maps[pos + 1], &p->maps[pos],
		(p->nr_maps - pos) * sizeof(*p->maps));
	m = &p->maps[pos];
	m->offset = offset;
	m->size = size;
	m->addr = a;
	m->allocatable = allocatable;
	p->nr_maps++;
	if (offset + size > p->end)
		p->end = offset + size;

	/* Cannot fail: room was made above and the range is new. */
	if (allocatable)
		free_insert(p, offset, size);
	if (addr)
		*addr = a;
	return 0;
}

int rxu_pool_map(struct rxu_pool *p, uint64_t offset, uint64_t size,
		 void **addr)
{
	if (!p)
		return -EINVAL;
	return map_range(p, offset, size, 1, addr);
}

int rxu_pool_grow(struct rxu_pool *p, uint64_t size, uint64_t *offset)
{
	uint64_t off;
	int ret;

	if (!p)
		return -EINVAL;
	off = p->end;
	ret = map_range(p, off, size, 1, NULL);
	if (!ret && offset)
		*offset = off;
	return ret;
}

int rxu_pool_read_ranges(struct rxu_pool *p, struct rxu_pool_range *out,
			 size_t max)
{
	int saved = errno;
	ssize_t n;

	if (!p || (!out && max))
		return -EINVAL;
	if (!max)
		return 0;
	if (max > 4096)
		max = 4096;
	n = read(p->fd, out, max * sizeof(*out));
	if (n < 0) {
		int ret = fail_errno(saved);

		return ret == -EAGAIN ? 0 : ret;
	}
	/* The kernel hands out whole records; a torn one cannot be used. */
	if ((size_t)n % sizeof(*out))
		return -EIO;
	return (int)((size_t)n / sizeof(*out));
}

int rxu_pool_update(struct rxu_pool *p)
{
	struct rxu_pool_range rec[POOL_READ_BATCH];
	int total = 0;

	if (!p)
		return -EINVAL;
	for (;;) {
		int n = rxu_pool_read_ranges(p, rec, POOL_READ_BATCH);
		int i;

		if (n < 0)
			return n;
		for (i = 0; i < n; i++) {
			int ret;

			/* Only the kernel writes these, but check them anyway. */
			if (!range_ok(rec[i].offset, rec[i].size))
				return -EIO;
			ret = map_range(p, rec[i].offset, rec[i].size, 0, NULL);
			if (ret == -EEXIST)	/* told twice: already mapped */
				continue;
			if (ret)
				return ret;
			total++;
		}
		if (n < POOL_READ_BATCH)
			return total;
	}
}

/* ------------------------------------------------------------------ */
/* Offset <-> pointer                                                  */
/* ------------------------------------------------------------------ */

void *rxu_region_ptr(void *base, uint64_t size, uint64_t offset,
		     uint64_t len)
{
	if (!base || offset > size || len > size - offset)
		return NULL;
	return (char *)base + offset;
}

void *rxu_pool_ptr(const struct rxu_pool *p, uint64_t offset, uint64_t len)
{
	const struct rxu_pool_map *m;
	long i;

	if (!p)
		return NULL;
	i = find_map(p, offset);
	if (i < 0)
		return NULL;
	m = &p->maps[i];
	return rxu_region_ptr(m->addr, m->size, offset - m->offset, len);
}

int rxu_pool_check(const struct rxu_pool *p, uint64_t offset, uint64_t len)
{
	return rxu_pool_ptr(p, offset, len) ? 0 : -EFAULT;
}

int rxu_pool_offset(const struct rxu_pool *p, const void *ptr, uint64_t len,
		    uint64_t *offset)
{
	uintptr_t a = (uintptr_t)ptr;
	size_t i;

	if (!p || !offset)
		return -EINVAL;
	for (i = 0; i < p->nr_maps; i++) {
		const struct rxu_pool_map *m = &p->maps[i];
		uintptr_t base = (uintptr_t)m->addr;

		if (a < base || a - base >= m->size)
			continue;
		if (len > m->size - (a - base))
			return -EFAULT;
		*offset = m->offset + (a - base);
		return 0;
	}
	return -EFAULT;
}
