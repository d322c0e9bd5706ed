// SPDX-License-Identifier: MIT
/*
 * Host tests of lib/pool.c without the kernel module.  A memfd stands in
 * for a pool fd: mmap() of a range at an offset works on it as on a pool
 * fd, and for the provider side its read() returns whatever bytes follow
 * the file position, so range records written at the end of the file and
 * the position set there make rxu_pool_update() see exactly those
 * records, then 0 bytes (the pool fd's "nothing new").
 */
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rxu.h"
#include "tap.h"

#define PAGE	4096ULL
#define FILE_SZ	(64 * PAGE)

static int make_memfd(uint64_t size)
{
	int fd = memfd_create("rxu-pool-test", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int test_map_and_ptr(void)
{
	struct rxu_pool p;
	void *a, *b;
	char *q;
	int fd = make_memfd(FILE_SZ);

	CHECK(fd >= 0);
	CHECK_EQ(rxu_pool_init(&p, fd), 0);
	CHECK_EQ(rxu_pool_map(&p, 4 * PAGE, 2 * PAGE, &a), 0);
	CHECK_EQ(rxu_pool_map(&p, 0, PAGE, &b), 0);
	CHECK_EQ(p.nr_maps, 2);
	CHECK_EQ(p.maps[0].offset, 0);		/* kept sorted */
	CHECK_EQ(p.end, 6 * PAGE);

	/* Inside: the pointer is the mapping plus the offset within it. */
	CHECK(rxu_pool_ptr(&p, 4 * PAGE, 2 * PAGE) == a);
	CHECK(rxu_pool_ptr(&p, 5 * PAGE + 10, 100) == (char *)a + PAGE + 10);
	CHECK(rxu_pool_ptr(&p, 0, PAGE) == b);
	CHECK(rxu_pool_ptr(&p, 6 * PAGE - 1, 1) == (char *)a + 2 * PAGE - 1);
	CHECK(rxu_pool_ptr(&p, 5 * PAGE, 0) == (char *)a + PAGE);

	/* Outside, past the end, in the hole, wrapping: NULL / -EFAULT. */
	CHECK(rxu_pool_ptr(&p, 6 * PAGE - 1, 2) == NULL);
	CHECK(rxu_pool_ptr(&p, 6 * PAGE, 1) == NULL);
	CHECK(rxu_pool_ptr(&p, 2 * PAGE, 1) == NULL);
	CHECK(rxu_pool_ptr(&p, PAGE - 8, 16) == NULL);	/* straddles a hole */
	CHECK(rxu_pool_ptr(&p, 4 * PAGE + 1, UINT64_MAX) == NULL);
	CHECK(rxu_pool_ptr(&p, UINT64_MAX, 1) == NULL);
	CHECK(rxu_pool_ptr(&p, UINT64_MAX - 3, 8) == NULL);
	CHECK_EQ(rxu_pool_check(&p, 6 * PAGE, 1), -EFAULT);
	CHECK_EQ(rxu_pool_check(&p, 4 * PAGE, 8), 0);

	/* Both sides see the same pages: write through the pool, read the fd. */
	q = rxu_pool_ptr(&p, 4 * PAGE + 100, 5);
	CHECK(q);
	memcpy(q, "hello", 5);
	{
		char buf[5];

		CHECK_EQ(pread(fd, buf, 5, (off_t)(4 * PAGE + 100)), 5);
		CHECK(!memcmp(buf, "hello", 5));
	}

	/* Reverse translation. */
	{
		uint64_t off = 0;

		CHECK_EQ(rxu_pool_offset(&p, q, 5, &off), 0);
		CHECK_EQ(off, 4 * PAGE + 100);
		CHECK_EQ(rxu_pool_offset(&p, (char *)a + 2 * PAGE - 4, 8,
					 &off), -EFAULT);
		CHECK_EQ(rxu_pool_offset(&p, &off, 1, &off), -EFAULT);
	}
	rxu_pool_close(&p);
	CHECK_EQ(p.fd, -1);
	rxu_pool_close(&p);			/* twice is safe */
	return 0;
}

static int test_map_errors(void)
{
	struct rxu_pool p;
	uint64_t off = 0;
	int fd = make_memfd(FILE_SZ);

	CHECK(fd >= 0);
	rxu_pool_init(&p, fd);
	CHECK_EQ(rxu_pool_map(&p, 1, PAGE, NULL), -EINVAL);
	CHECK_EQ(rxu_pool_map(&p, 0, PAGE + 1, NULL), -EINVAL);
	CHECK_EQ(rxu_pool_map(&p, 0, 0, NULL), -EINVAL);
	CHECK_EQ(rxu_pool_map(&p, UINT64_MAX - PAGE + 1, PAGE, NULL), -EINVAL);
	CHECK_EQ(rxu_pool_map(&p, 2 * PAGE, 2 * PAGE, NULL), 0);
	CHECK_EQ(rxu_pool_map(&p, 3 * PAGE, PAGE, NULL), -EEXIST);
	CHECK_EQ(rxu_pool_map(&p, PAGE, 2 * PAGE, NULL), -EEXIST);
	CHECK_EQ(rxu_pool_map(&p, 2 * PAGE, PAGE, NULL), -EEXIST);
	CHECK_EQ(p.nr_maps, 1);
	/* grow maps right after the highest range. */
	CHECK_EQ(rxu_pool_grow(&p, PAGE, &off), 0);
	CHECK_EQ(off, 4 * PAGE);
	CHECK_EQ(p.nr_maps, 2);
	rxu_pool_close(&p);

	/* mmap's own error comes back as -errno (a pipe cannot be mapped). */
	{
		int pfd[2];

		CHECK(pipe(pfd) == 0);
		rxu_pool_init(&p, pfd[0]);
		int ret;

		errno = 4242;
		ret = rxu_pool_map(&p, 0, PAGE, NULL);
		CHECK_EQ(errno, 4242);
		/* A read-only pipe end: EACCES (ENODEV on a writable one). */
		CHECK(ret == -EACCES || ret == -ENODEV);
		CHECK_EQ(p.nr_maps, 0);
		rxu_pool_close(&p);
		close(pfd[1]);
	}
	return 0;
}

static int test_alloc(void)
{
	struct rxu_pool p;
	uint64_t o[8], x;
	int fd = make_memfd(FILE_SZ), i;

	CHECK(fd >= 0);
	rxu_pool_init(&p, fd);
	CHECK_EQ(rxu_pool_alloc(&p, 16, 0, &x), -ENOMEM);	/* nothing mapped */
	CHECK_EQ(rxu_pool_map(&p, 0, PAGE, NULL), 0);
	CHECK_EQ(rxu_pool_map(&p, PAGE, PAGE, NULL), 0);	/* adjacent range */

	CHECK_EQ(rxu_pool_alloc(&p, 100, 0, &o[0]), 0);
	CHECK_EQ(o[0], 0);
	CHECK_EQ(rxu_pool_alloc(&p, 100, 0, &o[1]), 0);
	CHECK_EQ(o[1], 128);				/* default 64 alignment */
	CHECK_EQ(rxu_pool_alloc(&p, 8, 1024, &o[2]), 0);
	CHECK_EQ(o[2], 1024);
	CHECK_EQ(rxu_pool_alloc(&p, 10, 3, &x), -EINVAL);	/* align not 2^n */
	CHECK_EQ(rxu_pool_alloc(&p, 0, 0, &x), -EINVAL);

	/* No block straddles the two ranges, even though they are adjacent. */
	CHECK_EQ(rxu_pool_alloc(&p, PAGE + 1, 1, &x), -ENOMEM);
	CHECK_EQ(rxu_pool_alloc(&p, PAGE, 1, &o[3]), 0);
	CHECK_EQ(o[3], PAGE);
	CHECK(rxu_pool_ptr(&p, o[3], PAGE) != NULL);

	/* Padding left by alignment is still usable. */
	CHECK_EQ(rxu_pool_alloc(&p, 64, 0, &o[4]), 0);
	CHECK_EQ(o[4], 256);

	/* Frees: double, outside, straddling the range end. */
	CHECK_EQ(rxu_pool_free(&p, o[1], 100), 0);
	CHECK_EQ(rxu_pool_free(&p, o[1], 100), -EINVAL);
	CHECK_EQ(rxu_pool_free(&p, 10 * PAGE, 8), -EINVAL);
	CHECK_EQ(rxu_pool_free(&p, PAGE - 8, 16), -EINVAL);
	CHECK_EQ(rxu_pool_free(&p, o[0], 100), 0);
	CHECK_EQ(rxu_pool_free(&p, o[2], 8), 0);
	CHECK_EQ(rxu_pool_free(&p, o[4], 64), 0);
	CHECK_EQ(rxu_pool_free(&p, o[3], PAGE), 0);
	/* Everything merged back: one extent per range, whole pages. */
	CHECK_EQ(p.nr_free, 2);
	CHECK_EQ(rxu_pool_alloc(&p, PAGE, 1, &o[5]), 0);
	CHECK_EQ(rxu_pool_alloc(&p, PAGE, 1, &o[6]), 0);
	CHECK_EQ(o[5] + o[6], PAGE);
	CHECK_EQ(rxu_pool_alloc(&p, 1, 1, &x), -ENOMEM);

	/* Many small blocks, freed in a scrambled order, merge back too. */
	CHECK_EQ(rxu_pool_free(&p, o[5], PAGE), 0);
	CHECK_EQ(rxu_pool_free(&p, o[6], PAGE), 0);
	{
		uint64_t blk[128];
		unsigned long long seed = 42;

		for (i = 0; i < 128; i++)
			CHECK_EQ(rxu_pool_alloc(&p, 64, 64, &blk[i]), 0);
		CHECK_EQ(rxu_pool_alloc(&p, 1, 1, &x), -ENOMEM);
		for (i = 127; i > 0; i--) {
			int j = (int)(tap_rand(&seed) % (unsigned)(i + 1));
			uint64_t t = blk[i];

			blk[i] = blk[j];
			blk[j] = t;
		}
		for (i = 0; i < 128; i++)
			CHECK_EQ(rxu_pool_free(&p, blk[i], 64), 0);
		CHECK_EQ(p.nr_free, 2);
	}
	rxu_pool_close(&p);
	return 0;
}

/* Provider: records at the end of the memfd, the position set there. */
static int put_records(int fd, const struct rxu_pool_range *r, size_t n)
{
	if (ftruncate(fd, (off_t)FILE_SZ) < 0 ||
	    pwrite(fd, r, n * sizeof(*r), (off_t)FILE_SZ) !=
	    (ssize_t)(n * sizeof(*r)) ||
	    lseek(fd, (off_t)FILE_SZ, SEEK_SET) < 0)
		return -1;
	return 0;
}

static int test_provider_update(void)
{
	const struct rxu_pool_range good[] = {
		{ .offset = 0, .size = 2 * PAGE },
		{ .offset = 8 * PAGE, .size = PAGE },
	};
	struct rxu_pool p;
	uint64_t x;
	int fd = make_memfd(FILE_SZ);
	char *q;

	CHECK(fd >= 0);
	/* What the consumer wrote into its pages... */
	CHECK_EQ(pwrite(fd, "peer data", 9, (off_t)(8 * PAGE + 16)), 9);
	rxu_pool_init(&p, fd);
	CHECK(put_records(fd, good, 2) == 0);
	CHECK_EQ(rxu_pool_update(&p), 2);
	CHECK_EQ(p.nr_maps, 2);
	/* ...is what the provider reads at the offset from the SQE. */
	q = rxu_pool_ptr(&p, 8 * PAGE + 16, 9);
	CHECK(q && !memcmp(q, "peer data", 9));
	CHECK(rxu_pool_ptr(&p, 8 * PAGE + 16, PAGE) == NULL);
	CHECK(rxu_pool_ptr(&p, 4 * PAGE, 1) == NULL);
	/* The provider does not allocate from the consumer's ranges. */
	CHECK_EQ(rxu_pool_alloc(&p, 16, 0, &x), -ENOMEM);
	/* Nothing new: 0, without blocking. */
	CHECK_EQ(rxu_pool_update(&p), 0);

	/* A range told twice is mapped once. */
	CHECK(put_records(fd, good, 1) == 0);
	CHECK_EQ(rxu_pool_update(&p), 0);
	CHECK_EQ(p.nr_maps, 2);

	/* Malformed records: unaligned, empty, wrapping. */
	{
		const struct rxu_pool_range bad[] = {
			{ .offset = 3 * PAGE + 1, .size = PAGE },
			{ .offset = 3 * PAGE, .size = 0 },
			{ .offset = UINT64_MAX - PAGE + 1, .size = 2 * PAGE },
		};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			tap_context("bad record %zu", i);
			CHECK(put_records(fd, &bad[i], 1) == 0);
			CHECK_EQ(rxu_pool_update(&p), -EIO);
			CHECK_EQ(p.nr_maps, 2);
		}
	}
	/* A torn record. */
	CHECK(put_records(fd, good, 1) == 0);
	CHECK_EQ(ftruncate(fd, (off_t)(FILE_SZ + 8)), 0);
	CHECK_EQ(rxu_pool_update(&p), -EIO);

	/* More records than one read batch. */
	{
		struct rxu_pool_range many[40];
		size_t i;

		for (i = 0; i < ARRAY_SIZE(many); i++) {
			many[i].offset = (uint64_t)(FILE_SZ - (i + 1) * PAGE);
			many[i].size = PAGE;
		}
		/* offsets 63..24 pages: 40 new ranges, 0..16 are taken. */
		CHECK(put_records(fd, many, ARRAY_SIZE(many)) == 0);
		CHECK_EQ(rxu_pool_update(&p), 40);
		CHECK_EQ(p.nr_maps, 42);
		CHECK(rxu_pool_ptr(&p, 24 * PAGE, 40 * PAGE) == NULL);
		CHECK(rxu_pool_ptr(&p, 63 * PAGE, PAGE) != NULL);
	}
	rxu_pool_close(&p);
	return 0;
}

static int test_region_ptr(void)
{
	char buf[64];

	CHECK(rxu_region_ptr(buf, 64, 0, 64) == buf);
	CHECK(rxu_region_ptr(buf, 64, 64, 0) == buf + 64);
	CHECK(rxu_region_ptr(buf, 64, 63, 1) == buf + 63);
	CHECK(rxu_region_ptr(buf, 64, 63, 2) == NULL);
	CHECK(rxu_region_ptr(buf, 64, 65, 0) == NULL);
	CHECK(rxu_region_ptr(buf, 64, 1, UINT64_MAX) == NULL);
	CHECK(rxu_region_ptr(buf, 64, UINT64_MAX, 2) == NULL);
	CHECK(rxu_region_ptr(NULL, 64, 0, 1) == NULL);
	return 0;
}

/* The u2u client's steps: what they refuse before any syscall, and the
 * pool step on a memfd standing in for a DUP's pool fd. */
static int test_u2u_client(void)
{
	char longname[200];
	struct rxu_instance in;
	struct rxu_pool p;
	uint64_t base = 7;
	void *mem = NULL;
	int fd;

	CHECK_EQ(rxu_u2u_connect(&in, "", 8), -EINVAL);
	CHECK_EQ(in.fd, -1);
	CHECK_EQ(rxu_u2u_connect(&in, NULL, 8), -EINVAL);
	CHECK_EQ(rxu_u2u_connect(&in, "usb:", 8), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	CHECK_EQ(rxu_u2u_connect(&in, longname, 8), -ENAMETOOLONG);

	CHECK_EQ(rxu_u2u_pool(&p, -ENODEV, PAGE, &base, &mem), -ENODEV);
	CHECK_EQ(rxu_u2u_pool(&p, -100000, PAGE, &base, &mem), -EIO);
	CHECK_EQ(rxu_u2u_pool(&p, (int64_t)INT_MAX + 1, PAGE, &base, &mem),
		 -EBADF);
	CHECK(mem == NULL);

	fd = make_memfd(FILE_SZ);
	CHECK(fd >= 0);
	CHECK_EQ(rxu_u2u_pool(&p, fd, 100, &base, &mem), -EINVAL);
	CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF);	/* closed */

	fd = make_memfd(FILE_SZ);
	CHECK(fd >= 0);
	CHECK_EQ(rxu_u2u_pool(&p, fd, 2 * PAGE, &base, &mem), 0);
	CHECK_EQ(base, 0);
	CHECK(mem != NULL && mem == rxu_pool_ptr(&p, 0, 2 * PAGE));
	memset(mem, 0x5a, 2 * PAGE);
	CHECK_EQ(p.fd, fd);
	rxu_pool_close(&p);
	return 0;
}

static const struct tap_test tests[] = {
	{ "pool: map, offset -> pointer, bounds", test_map_and_ptr },
	{ "pool: bad ranges, overlaps, grow, mmap errors", test_map_errors },
	{ "pool: allocator (align, no straddling, merge, double free)", test_alloc },
	{ "pool: provider reads range records and maps them", test_provider_update },
	{ "pool: region bounds check", test_region_ptr },
	{ "u2u client: connect refusals, pool adoption and its errors", test_u2u_client },
};

TAP_MAIN(tests)
