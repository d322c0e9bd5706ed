// SPDX-License-Identifier: GPL-2.0
/*
 * Memory regions (ABI.md section 3): the four fixed offsets, exact sizes,
 * MAP_SHARED only, zero-filled pages, the ring header layout as the kernel
 * writes it, and teardown on the last close: RXU_RING_DROP in both
 * headers while the mappings stay alive.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rxt_harness.h"

FIXTURE(created) {
	struct rxt t;
};

FIXTURE_VARIANT(created) {
	uint64_t sq, cq;
	uint32_t flags;
};

/* SQ entries 1 page, CQ entries 1 page */
FIXTURE_VARIANT_ADD(created, e64_small) { .sq = 8, .cq = 16, .flags = 0 };
/* SQ entries 2 pages (128 * 64), CQ entries 2 pages (256 * 32) */
FIXTURE_VARIANT_ADD(created, e64_pages) { .sq = 128, .cq = 256, .flags = 0 };
/* partial pages: 1 SQE = 64 bytes, 1 CQE = 32 bytes */
FIXTURE_VARIANT_ADD(created, e64_one) { .sq = 1, .cq = 1, .flags = 0 };
/* 512 * 64 = 8 pages, 2 * 32 */
FIXTURE_VARIANT_ADD(created, e64_wide_sq) { .sq = 512, .cq = 2, .flags = 0 };
FIXTURE_VARIANT_ADD(created, e32_small) {
	.sq = 8, .cq = 16, .flags = RXU_CREATE_BITS_32
};
/* 256 * 32 = 2 pages, 512 * 16 = 2 pages */
FIXTURE_VARIANT_ADD(created, e32_pages) {
	.sq = 256, .cq = 512, .flags = RXU_CREATE_BITS_32
};
FIXTURE_VARIANT_ADD(created, e32_one) {
	.sq = 1, .cq = 1, .flags = RXU_CREATE_BITS_32
};

FIXTURE_SETUP(created)
{
	self->t.fd = -1;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_open_create(&self->t, variant->sq, variant->cq,
				     variant->flags));
}

FIXTURE_TEARDOWN(created)
{
	rxt_destroy(&self->t);
}

/* Expected sizes, spelled out rather than computed like the helpers do. */
static size_t expect_size(int r, const FIXTURE_VARIANT(created) *v)
{
	size_t sqe = v->flags & RXU_CREATE_BITS_32 ? 32 : 64;
	size_t cqe = v->flags & RXU_CREATE_BITS_32 ? 16 : 32;
	size_t bytes;

	if (r == RXT_SQ_HDR || r == RXT_CQ_HDR)
		return 4096;
	bytes = r == RXT_SQ_ENT ? v->sq * sqe : v->cq * cqe;
	return (bytes + 4095) / 4096 * 4096;
}

TEST_F(created, map_exact_sizes)
{
	int r, err;

	for (r = 0; r < RXT_NREGIONS; r++) {
		ASSERT_EQ(expect_size(r, variant), self->t.len[r]);
		self->t.map[r] = rxt_mmap_off(self->t.fd, rxt_region_off[r],
					      expect_size(r, variant),
					      MAP_SHARED, &err);
		EXPECT_EQ(0, err) TH_LOG("%s", rxt_region_name[r]);
		EXPECT_NE(NULL, self->t.map[r]);
	}
}

TEST_F(created, wrong_length_einval)
{
	int r, err, i;

	for (r = 0; r < RXT_NREGIONS; r++) {
		size_t good = expect_size(r, variant);
		size_t bad[3] = { good + 4096, good * 2 + 4096, good - 4096 };

		for (i = 0; i < 3; i++) {
			if (!bad[i])
				continue;	/* a zero-length mmap is EINVAL anyway */
			EXPECT_EQ(NULL, rxt_mmap_off(self->t.fd,
						     rxt_region_off[r], bad[i],
						     MAP_SHARED, &err));
			EXPECT_EQ(-EINVAL, err)
				TH_LOG("%s length %zu (region %zu)",
				       rxt_region_name[r], bad[i], good);
		}
	}
}

TEST_F(created, map_private_einval)
{
	int r, err;

	for (r = 0; r < RXT_NREGIONS; r++) {
		EXPECT_EQ(NULL, rxt_mmap_off(self->t.fd, rxt_region_off[r],
					     expect_size(r, variant),
					     MAP_PRIVATE, &err));
		EXPECT_EQ(-EINVAL, err) TH_LOG("%s", rxt_region_name[r]);
	}
	/* the refusals changed nothing: the shared mappings still work */
	EXPECT_EQ(0, rxt_map_all(&self->t));
	EXPECT_EQ(0, rxt_attach_kernel(self->t.fd));
}

TEST_F(created, other_offsets_einval)
{
	static const uint64_t offs[] = {
		0x1000, 0x2000, 0x100000, 0x1ff000,
		RXU_OFF_SQ_ENTRIES + 0x1000, RXU_OFF_SQ_ENTRIES * 2,
		0x40000000, 0x7ffff000,
		RXU_OFF_CQ_HEADER + 0x1000, RXU_OFF_CQ_HEADER + 0x100000,
		RXU_OFF_CQ_ENTRIES + 0x1000, 0xc0000000, 0xfffff000,
		0x180000000ULL, 0x7ffffffff000ULL,
	};
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		EXPECT_EQ(NULL, rxt_mmap_off(self->t.fd, offs[i], 4096,
					     MAP_SHARED, &err));
		EXPECT_EQ(-EINVAL, err)
			TH_LOG("offset 0x%llx", (unsigned long long)offs[i]);
	}
}

/* The scheme data offset belongs to providers; this is not one. */
TEST_F(created, scheme_data_offset_einval)
{
	int err;

	EXPECT_EQ(NULL, rxt_mmap_off(self->t.fd, RXU_OFF_SCHEME_DATA, 4096,
				     MAP_SHARED, &err));
	EXPECT_EQ(-EINVAL, err);
}

static size_t count_nonzero(const void *p, size_t len, size_t skip_off,
			    size_t skip_len)
{
	const unsigned char *b = p;
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (b[i] && (i < skip_off || i >= skip_off + skip_len))
			n++;
	return n;
}

TEST_F(created, pages_zero_filled)
{
	ASSERT_EQ(0, rxt_map_all(&self->t));
	EXPECT_EQ(0U, count_nonzero(self->t.map[RXT_SQ_HDR], 4096, 0, 8));
	EXPECT_EQ(0U, count_nonzero(self->t.map[RXT_CQ_HDR], 4096, 0, 8));
	EXPECT_EQ(0U, count_nonzero(self->t.map[RXT_SQ_ENT],
				    self->t.len[RXT_SQ_ENT], 0, 0));
	EXPECT_EQ(0U, count_nonzero(self->t.map[RXT_CQ_ENT],
				    self->t.len[RXT_CQ_ENT], 0, 0));
}

TEST_F(created, entry_count_set_by_kernel)
{
	ASSERT_EQ(0, rxt_map_all(&self->t));
	EXPECT_EQ(variant->sq, rxt_hdr_get(rxt_sqh(&self->t),
					   RXT_HDR_ENTRY_COUNT));
	EXPECT_EQ(variant->cq, rxt_hdr_get(rxt_cqh(&self->t),
					   RXT_HDR_ENTRY_COUNT));
	/* the same values through the struct of the uapi header */
	EXPECT_EQ(variant->sq,
		  ((struct rxu_ring_header *)rxt_sqh(&self->t))->entry_count);
	EXPECT_EQ(variant->cq,
		  ((struct rxu_ring_header *)rxt_cqh(&self->t))->entry_count);
}

/*
 * One NOP through raw byte offsets: the kernel must have read SQ tail at
 * 256 and written SQ head at 128, SQ pop_epoch at 640, CQ tail at 256 and
 * CQ push_epoch at 512 (128-byte slots on x86_64), and nothing else.
 */
TEST_F(created, header_field_offsets)
{
	const size_t slot = RXU_CACHE_SLOT;
	unsigned char *sqh, *cqh;
	struct rxu_cqe64 cqe;
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 0x5a);

#if defined(__x86_64__)
	ASSERT_EQ(128U, slot);
#endif
	ASSERT_EQ(0, rxt_map_all(&self->t));
	ASSERT_EQ(0, rxt_attach_kernel(self->t.fd));
	sqh = rxt_sqh(&self->t);
	cqh = rxt_cqh(&self->t);
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	/* what the test itself wrote */
	ASSERT_EQ(1U, *(volatile uint64_t *)(sqh + 2 * slot));
	ASSERT_EQ(1U, *(volatile uint64_t *)(sqh + 4 * slot));

	ASSERT_EQ(1, rxt_enter(&self->t, 1, 0, RXT_TMO));

	EXPECT_EQ(variant->sq, *(volatile uint64_t *)(sqh + 0));
	EXPECT_EQ(1U, *(volatile uint64_t *)(sqh + 1 * slot));	/* head */
	EXPECT_EQ(1U, *(volatile uint64_t *)(sqh + 2 * slot));	/* tail */
	EXPECT_EQ(0U, *(volatile uint64_t *)(sqh + 3 * slot));	/* status */
	EXPECT_EQ(1U, *(volatile uint64_t *)(sqh + 4 * slot));	/* push_epoch */
	EXPECT_EQ(1U, *(volatile uint64_t *)(sqh + 5 * slot));	/* pop_epoch */

	EXPECT_EQ(variant->cq, *(volatile uint64_t *)(cqh + 0));
	EXPECT_EQ(0U, *(volatile uint64_t *)(cqh + 1 * slot));	/* head */
	EXPECT_EQ(1U, *(volatile uint64_t *)(cqh + 2 * slot));	/* tail */
	EXPECT_EQ(0U, *(volatile uint64_t *)(cqh + 3 * slot));	/* status */
	EXPECT_EQ(1U, *(volatile uint64_t *)(cqh + 4 * slot));	/* push_epoch */
	EXPECT_EQ(0U, *(volatile uint64_t *)(cqh + 5 * slot));	/* pop_epoch */

	/* nothing else in either header page */
	for (size_t f = 0; f < 6; f++) {
		EXPECT_EQ(0U, count_nonzero(sqh + f * slot + 8, slot - 8, 0, 0));
		EXPECT_EQ(0U, count_nonzero(cqh + f * slot + 8, slot - 8, 0, 0));
	}
	EXPECT_EQ(0U, count_nonzero(sqh + 6 * slot, 4096 - 6 * slot, 0, 0));
	EXPECT_EQ(0U, count_nonzero(cqh + 6 * slot, 4096 - 6 * slot, 0, 0));

	/* and the CQE is in slot 0 of the CQ entries */
	ASSERT_EQ(0, rxt_pop(&self->t, &cqe));
	EXPECT_EQ(0x5aU, cqe.user_data);
	EXPECT_EQ(0U, cqe.status);
	EXPECT_EQ(1U, *(volatile uint64_t *)(cqh + 1 * slot));
	EXPECT_EQ(1U, *(volatile uint64_t *)(cqh + 5 * slot));
}

static int dropped(const void *hdr)
{
	return (rxt_hdr_get(hdr, RXT_HDR_STATUS) & RXU_RING_DROP) != 0;
}

TEST_F(created, drop_after_close_attached)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 0x1234);
	struct rxu_cqe64 cqe;

	ASSERT_EQ(0, rxt_map_all(&self->t));
	ASSERT_EQ(0, rxt_attach_kernel(self->t.fd));
	ASSERT_EQ(0, rxt_push(&self->t, &s));
	ASSERT_EQ(1, rxt_enter(&self->t, 1, 0, RXT_TMO));
	EXPECT_FALSE(dropped(rxt_sqh(&self->t)));
	EXPECT_FALSE(dropped(rxt_cqh(&self->t)));

	rxt_close_fd(&self->t);

	EXPECT_TRUE(dropped(rxt_sqh(&self->t)));
	EXPECT_TRUE(dropped(rxt_cqh(&self->t)));
	/* the pages are still the ring's: entry counts and the CQE remain */
	EXPECT_EQ(variant->sq, rxt_hdr_get(rxt_sqh(&self->t),
					   RXT_HDR_ENTRY_COUNT));
	EXPECT_EQ(variant->cq, rxt_hdr_get(rxt_cqh(&self->t),
					   RXT_HDR_ENTRY_COUNT));
	EXPECT_EQ(1U, rxt_cq_avail(&self->t));
	ASSERT_EQ(0, rxt_pop(&self->t, &cqe));	/* pop still drains */
	EXPECT_EQ(0x1234U, cqe.user_data);
	EXPECT_EQ(0U, cqe.status);
}

TEST_F(created, drop_after_close_created)
{
	ASSERT_EQ(0, rxt_map_all(&self->t));
	rxt_close_fd(&self->t);
	EXPECT_TRUE(dropped(rxt_sqh(&self->t)));
	EXPECT_TRUE(dropped(rxt_cqh(&self->t)));
}

TEST_F(created, drop_only_on_last_close)
{
	int dupfd;

	ASSERT_EQ(0, rxt_map_all(&self->t));
	ASSERT_EQ(0, rxt_attach_kernel(self->t.fd));
	dupfd = dup(self->t.fd);
	ASSERT_LE(0, dupfd);

	rxt_close_fd(&self->t);
	/* dupfd still refers to the instance */
	EXPECT_FALSE(dropped(rxt_sqh(&self->t)));
	EXPECT_FALSE(dropped(rxt_cqh(&self->t)));
	EXPECT_EQ(0, rxt_enter_fd(dupfd, 0, 0, 0));

	close(dupfd);
	EXPECT_TRUE(dropped(rxt_sqh(&self->t)));
	EXPECT_TRUE(dropped(rxt_cqh(&self->t)));
}

/* The pages outlive the instance as long as they are mapped. */
TEST_F(created, pages_alive_after_close)
{
	unsigned char *sqe, *cqe;
	size_t i;

	ASSERT_EQ(0, rxt_map_all(&self->t));
	rxt_close_fd(&self->t);
	sqe = self->t.map[RXT_SQ_ENT];
	cqe = self->t.map[RXT_CQ_ENT];
	for (i = 0; i < self->t.len[RXT_SQ_ENT]; i++)
		sqe[i] = (unsigned char)(i * 7);
	for (i = 0; i < self->t.len[RXT_CQ_ENT]; i++)
		cqe[i] = (unsigned char)(i * 13);
	for (i = 0; i < self->t.len[RXT_SQ_ENT]; i++)
		if (sqe[i] != (unsigned char)(i * 7))
			break;
	EXPECT_EQ(self->t.len[RXT_SQ_ENT], i);
	for (i = 0; i < self->t.len[RXT_CQ_ENT]; i++)
		if (cqe[i] != (unsigned char)(i * 13))
			break;
	EXPECT_EQ(self->t.len[RXT_CQ_ENT], i);
	/* unmap one region early; the others stay usable */
	EXPECT_EQ(0, munmap(self->t.map[RXT_SQ_ENT], self->t.len[RXT_SQ_ENT]));
	self->t.map[RXT_SQ_ENT] = NULL;
	EXPECT_EQ(variant->cq, rxt_hdr_get(rxt_cqh(&self->t),
					   RXT_HDR_ENTRY_COUNT));
	EXPECT_EQ((unsigned char)13, cqe[1]);
}

TEST_HARNESS_MAIN
