// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's side of the index arithmetic (ABI.md section 3) as seen
 * from userspace: all n slots usable, wrap-around far past 2n, the cycle
 * bit, the epochs the kernel bumps, CQ back-pressure (nothing lost, SQEs
 * wait in the SQ), and broken headers written by userspace (EIO, no
 * kernel warning, no out-of-bounds access).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rxt_harness.h"

FIXTURE(geom) {
	struct rxt t;
};

FIXTURE_VARIANT(geom) {
	uint64_t sq, cq;
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(geom, e64_n1) { .sq = 1, .cq = 1 };
FIXTURE_VARIANT_ADD(geom, e64_n2) { .sq = 2, .cq = 2 };
FIXTURE_VARIANT_ADD(geom, e64_n8) { .sq = 8, .cq = 8 };
FIXTURE_VARIANT_ADD(geom, e64_sq8_cq2) { .sq = 8, .cq = 2 };
FIXTURE_VARIANT_ADD(geom, e64_sq2_cq16) { .sq = 2, .cq = 16 };
FIXTURE_VARIANT_ADD(geom, e64_n128) { .sq = 128, .cq = 128 };
FIXTURE_VARIANT_ADD(geom, e32_n1) { .sq = 1, .cq = 1, .flags = RXU_CREATE_BITS_32 };
FIXTURE_VARIANT_ADD(geom, e32_n4) { .sq = 4, .cq = 4, .flags = RXU_CREATE_BITS_32 };
FIXTURE_VARIANT_ADD(geom, e32_sq16_cq4) {
	.sq = 16, .cq = 4, .flags = RXU_CREATE_BITS_32
};

FIXTURE_SETUP(geom)
{
	self->t.fd = -1;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_setup(&self->t, variant->sq, variant->cq,
			       variant->flags));
}

FIXTURE_TEARDOWN(geom)
{
	rxt_destroy(&self->t);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Every stored index must stay in [0, 2n). */
static int indices_in_range(const struct rxt *t)
{
	return rxt_hdr_get(rxt_sqh(t), RXT_HDR_HEAD) < 2 * t->sq_n &&
	       rxt_hdr_get(rxt_sqh(t), RXT_HDR_TAIL) < 2 * t->sq_n &&
	       rxt_hdr_get(rxt_cqh(t), RXT_HDR_HEAD) < 2 * t->cq_n &&
	       rxt_hdr_get(rxt_cqh(t), RXT_HDR_TAIL) < 2 * t->cq_n;
}

/* The user_data of the CQE stored at index value idx, read from its slot. */
static uint64_t cqe_user_data_at(const struct rxt *t, uint64_t idx)
{
	const void *slot = rxt_cq_slot(t, idx);

	if (t->flags & RXU_CREATE_BITS_32)
		return ((const struct rxu_cqe32 *)slot)->user_data;
	return ((const struct rxu_cqe64 *)slot)->user_data;
}

/* All n SQ slots can be filled and the kernel consumes all of them. */
TEST_F(geom, all_sq_slots_usable)
{
	uint64_t n = variant->sq, i, expect_cq;
	struct rxu_sqe64 s;
	struct rxu_cqe64 cqe;

	for (i = 0; i < n; i++) {
		s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 1000 + i);
		ASSERT_EQ(0, rxt_push(&self->t, &s));
	}
	/* full: same slot, opposite cycle */
	EXPECT_EQ(n, rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_TAIL));
	EXPECT_EQ(n, rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_HEAD) ^
		     rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_TAIL));
	s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 0);
	EXPECT_EQ(-EAGAIN, rxt_push(&self->t, &s));

	expect_cq = min_u64(n, variant->cq);
	EXPECT_EQ((int64_t)expect_cq, rxt_enter(&self->t, 0, 0, 0));
	/* drain everything, however the CQ size throttles it */
	for (i = 0; i < n; i++) {
		if (rxt_cq_avail(&self->t) == 0)
			ASSERT_LT(0, rxt_enter(&self->t, 1, 0, RXT_TMO));
		ASSERT_EQ(0, rxt_pop(&self->t, &cqe));
		EXPECT_EQ(1000 + i, cqe.user_data);
		EXPECT_EQ(0U, cqe.status);
	}
	EXPECT_EQ(0U, rxt_sq_avail(&self->t));
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, 0));
	EXPECT_TRUE(indices_in_range(&self->t));
}

/* All n CQ slots are filled by the kernel: tail ^ head == n. */
TEST_F(geom, all_cq_slots_usable)
{
	uint64_t n = variant->cq, pushed = 0, i;
	struct rxu_sqe64 s;
	int64_t r = 0;

	while (pushed < n) {
		s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 500 + pushed);
		if (rxt_push(&self->t, &s) == 0) {
			pushed++;
			continue;
		}
		r = rxt_enter(&self->t, 0, 0, 0);
		ASSERT_LE(0, r);
	}
	r = rxt_enter(&self->t, n, 0, RXT_TMO);
	EXPECT_EQ((int64_t)n, r);
	EXPECT_EQ(0U, rxt_hdr_get(rxt_cqh(&self->t), RXT_HDR_HEAD));
	EXPECT_EQ(n, rxt_hdr_get(rxt_cqh(&self->t), RXT_HDR_TAIL));
	EXPECT_EQ(n, rxt_cq_avail(&self->t));
	for (i = 0; i < n; i++)
		EXPECT_EQ(500 + i, cqe_user_data_at(&self->t, i));
}

/*
 * Many rounds in batches of 1..min(sq, cq), well past 2n: after each ENTER
 * the kernel's head, tail and epochs are exactly where the arithmetic puts
 * them, and every CQE sits in slot (index & (n - 1)).
 */
TEST_F(geom, wrap_around_many_times)
{
	uint64_t sqn = variant->sq, cqn = variant->cq;
	uint64_t maxb = min_u64(sqn, cqn);
	uint64_t total = 0, target = 10 * 2 * (sqn > cqn ? sqn : cqn) + 3;
	uint64_t batch = 1, i, cq_head;
	struct rxu_sqe64 s;
	struct rxu_cqe64 cqe;

	while (total < target) {
		for (i = 0; i < batch; i++) {
			s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, total + i);
			ASSERT_EQ(0, rxt_push(&self->t, &s));
		}
		ASSERT_EQ((int64_t)batch, rxt_enter(&self->t, batch, 0, RXT_TMO));
		/* SQ: the kernel popped everything */
		ASSERT_EQ((total + batch) % (2 * sqn),
			  rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_HEAD));
		ASSERT_EQ((total + batch) % (2 * sqn),
			  rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_TAIL));
		ASSERT_EQ(total + batch,
			  rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_POP_EPOCH));
		ASSERT_EQ(total + batch,
			  rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_PUSH_EPOCH));
		/* CQ: the kernel pushed batch entries */
		ASSERT_EQ((total + batch) % (2 * cqn),
			  rxt_hdr_get(rxt_cqh(&self->t), RXT_HDR_TAIL));
		ASSERT_EQ(total + batch,
			  rxt_hdr_get(rxt_cqh(&self->t), RXT_HDR_PUSH_EPOCH));
		ASSERT_EQ(total, rxt_hdr_get(rxt_cqh(&self->t), RXT_HDR_POP_EPOCH));
		for (i = 0; i < batch; i++) {
			cq_head = rxt_hdr_get(rxt_cqh(&self->t), RXT_HDR_HEAD);
			ASSERT_EQ(total % (2 * cqn), cq_head);
			ASSERT_EQ(total, cqe_user_data_at(&self->t, cq_head));
			ASSERT_EQ(0, rxt_pop(&self->t, &cqe));
			ASSERT_EQ(total, cqe.user_data);
			ASSERT_EQ(0U, cqe.status);
			total++;
		}
		ASSERT_TRUE(indices_in_range(&self->t));
		batch = batch % maxb + 1;
	}
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, 0));
}

/*
 * The cycle bit, spelled out for n = 4 CQ entries: after 4 pushes the
 * kernel stores tail 4 (slot 0, cycle 1), not 0; after 8 it stores 0.
 */
RXT_DEV_FIXTURE();

TEST_F(dev, cycle_bit)
{
	struct rxt t = RXT_INIT;
	struct rxu_sqe64 s;
	struct rxu_cqe64 cqe;
	uint64_t i;

	ASSERT_EQ(0, rxt_setup(&t, 4, 4, 0));
	for (i = 0; i < 4; i++) {
		s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, i);
		ASSERT_EQ(0, rxt_push(&t, &s));
	}
	ASSERT_EQ(4, rxt_enter(&t, 4, 0, RXT_TMO));
	EXPECT_EQ(4U, rxt_hdr_get(rxt_sqh(&t), RXT_HDR_HEAD));
	EXPECT_EQ(4U, rxt_hdr_get(rxt_cqh(&t), RXT_HDR_TAIL));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(i, ((struct rxu_cqe64 *)t.map[RXT_CQ_ENT])[i].user_data);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, rxt_pop(&t, &cqe));
	EXPECT_EQ(4U, rxt_hdr_get(rxt_cqh(&t), RXT_HDR_HEAD));

	for (i = 4; i < 8; i++) {
		s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, i);
		ASSERT_EQ(0, rxt_push(&t, &s));
	}
	EXPECT_EQ(0U, rxt_hdr_get(rxt_sqh(&t), RXT_HDR_TAIL));
	ASSERT_EQ(4, rxt_enter(&t, 4, 0, RXT_TMO));
	EXPECT_EQ(0U, rxt_hdr_get(rxt_sqh(&t), RXT_HDR_HEAD));
	EXPECT_EQ(0U, rxt_hdr_get(rxt_cqh(&t), RXT_HDR_TAIL));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(4 + i,
			  ((struct rxu_cqe64 *)t.map[RXT_CQ_ENT])[i].user_data);
	EXPECT_EQ(8U, rxt_hdr_get(rxt_sqh(&t), RXT_HDR_POP_EPOCH));
	EXPECT_EQ(8U, rxt_hdr_get(rxt_cqh(&t), RXT_HDR_PUSH_EPOCH));
	rxt_destroy(&t);
}

/*
 * Back-pressure: 32 NOPs into an SQ of 32 with a CQ of 4.  The CQ never
 * holds more than 4, the surplus SQEs stay in the SQ until the CQ drains,
 * and every CQE arrives exactly once.
 */
FIXTURE(backpressure) {
	struct rxt t;
};

FIXTURE_VARIANT(backpressure) {
	uint64_t sq, cq;
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(backpressure, e64_sq32_cq4) { .sq = 32, .cq = 4 };
FIXTURE_VARIANT_ADD(backpressure, e64_sq64_cq1) { .sq = 64, .cq = 1 };
FIXTURE_VARIANT_ADD(backpressure, e32_sq32_cq2) {
	.sq = 32, .cq = 2, .flags = RXU_CREATE_BITS_32
};

FIXTURE_SETUP(backpressure)
{
	self->t.fd = -1;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_setup(&self->t, variant->sq, variant->cq,
			       variant->flags));
}

FIXTURE_TEARDOWN(backpressure)
{
	rxt_destroy(&self->t);
}

TEST_F(backpressure, nothing_lost_sqes_wait)
{
	uint64_t sqn = variant->sq, cqn = variant->cq, got = 0, i;
	unsigned char *seen;
	struct rxu_sqe64 s;
	struct rxu_cqe64 cqe;
	int64_t r;
	int rounds = 0;

	seen = calloc(sqn, 1);
	ASSERT_NE(NULL, seen);
	for (i = 0; i < sqn; i++) {
		s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, i);
		ASSERT_EQ(0, rxt_push(&self->t, &s));
	}
	r = rxt_enter(&self->t, 0, 0, 0);
	EXPECT_EQ((int64_t)cqn, r);
	EXPECT_EQ(cqn, rxt_cq_avail(&self->t));
	/* SQEs are still waiting in the SQ */
	EXPECT_LT(0U, rxt_sq_avail(&self->t));
	TH_LOG("after the first ENTER: %llu SQEs left in the SQ",
	       (unsigned long long)rxt_sq_avail(&self->t));
	/* ENTER again without popping: the CQ is full, nothing changes */
	EXPECT_EQ((int64_t)cqn, rxt_enter(&self->t, 0, 0, 0));
	EXPECT_EQ(cqn, rxt_cq_avail(&self->t));

	while (got < sqn && rounds++ < 10000) {
		while (rxt_pop(&self->t, &cqe) == 0) {
			ASSERT_GT(sqn, cqe.user_data);
			ASSERT_EQ(0, seen[cqe.user_data])
				TH_LOG("user_data %llu twice",
				       (unsigned long long)cqe.user_data);
			seen[cqe.user_data] = 1;
			EXPECT_EQ(0U, cqe.status);
			got++;
		}
		if (got == sqn)
			break;
		r = rxt_enter(&self->t, 1, 0, RXT_TMO);
		ASSERT_LT(0, r);
		ASSERT_GE((int64_t)cqn, r);
	}
	EXPECT_EQ(sqn, got);
	EXPECT_EQ(0U, rxt_sq_avail(&self->t));
	EXPECT_EQ(0U, rxt_cq_avail(&self->t));
	EXPECT_EQ(sqn, rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_POP_EPOCH));
	EXPECT_EQ(sqn, rxt_hdr_get(rxt_cqh(&self->t), RXT_HDR_PUSH_EPOCH));
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, 0));
	free(seen);
}

/* Broken headers written by userspace. */
FIXTURE(broken) {
	struct rxt t;
	int kmsg;
};

FIXTURE_VARIANT(broken) {
	uint64_t n;
	uint32_t flags;
};

FIXTURE_VARIANT_ADD(broken, e64_n8) { .n = 8 };
FIXTURE_VARIANT_ADD(broken, e64_n1) { .n = 1 };
FIXTURE_VARIANT_ADD(broken, e32_n16) { .n = 16, .flags = RXU_CREATE_BITS_32 };

FIXTURE_SETUP(broken)
{
	self->t.fd = -1;
	self->kmsg = -1;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_setup(&self->t, variant->n, variant->n,
			       variant->flags));
	self->kmsg = rxt_kmsg_open();
	if (self->kmsg < 0)
		TH_LOG("/dev/kmsg: %s; kernel log not checked",
		       strerror(-self->kmsg));
}

FIXTURE_TEARDOWN(broken)
{
	char line[512];

	rxt_destroy(&self->t);
	if (self->kmsg >= 0) {
		EXPECT_EQ(0, rxt_kmsg_splat(self->kmsg, line, sizeof(line)))
			TH_LOG("kernel log: %s", line);
		close(self->kmsg);
	}
}

/* Push one valid NOP first, so the kernel has something to consume. */
static void put_nop(struct rxt *t, uint64_t idx)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 77);

	if (t->flags & RXU_CREATE_BITS_32) {
		struct rxu_sqe32 s32;

		memset(&s32, 0, sizeof(s32));
		s32.user_data = 77;
		memcpy(rxt_sq_slot(t, idx), &s32, sizeof(s32));
	} else {
		memcpy(rxt_sq_slot(t, idx), &s, sizeof(s));
	}
}

TEST_F(broken, sq_tail_equal_2n_eio)
{
	put_nop(&self->t, 0);
	rxt_hdr_set(rxt_sqh(&self->t), RXT_HDR_TAIL, 2 * variant->n);
	EXPECT_EQ(-EIO, rxt_enter(&self->t, 0, 0, 0));
}

TEST_F(broken, sq_tail_far_out_of_range_eio)
{
	static const uint64_t tails[] = {
		1ULL << 20, 1ULL << 32, 1ULL << 63, UINT64_MAX,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tails); i++) {
		rxt_hdr_set(rxt_sqh(&self->t), RXT_HDR_TAIL, tails[i]);
		EXPECT_EQ(-EIO, rxt_enter(&self->t, 0, 0, 0))
			TH_LOG("SQ tail 0x%llx", (unsigned long long)tails[i]);
	}
}

/* tail - head > n: more entries than the ring can hold. */
TEST_F(broken, sq_more_than_n_entries_eio)
{
	uint64_t n = variant->n;

	/* head 0, tail in (n, 2n): (tail - head) mod 2n > n */
	if (n == 1)
		SKIP(return, "no index in (n, 2n) when n = 1");
	put_nop(&self->t, 0);
	rxt_hdr_set(rxt_sqh(&self->t), RXT_HDR_TAIL, n + 1);
	EXPECT_EQ(-EIO, rxt_enter(&self->t, 0, 0, 0));
	rxt_hdr_set(rxt_sqh(&self->t), RXT_HDR_TAIL, 2 * n - 1);
	EXPECT_EQ(-EIO, rxt_enter(&self->t, 0, 0, 0));
}

TEST_F(broken, cq_head_equal_2n_eio)
{
	put_nop(&self->t, 0);
	rxt_hdr_set(rxt_sqh(&self->t), RXT_HDR_TAIL, 1);
	rxt_hdr_set(rxt_cqh(&self->t), RXT_HDR_HEAD, 2 * variant->n);
	EXPECT_EQ(-EIO, rxt_enter(&self->t, 0, 0, 0));
}

TEST_F(broken, cq_head_far_out_of_range_eio)
{
	put_nop(&self->t, 0);
	rxt_hdr_set(rxt_sqh(&self->t), RXT_HDR_TAIL, 1);
	rxt_hdr_set(rxt_cqh(&self->t), RXT_HDR_HEAD, UINT64_MAX);
	EXPECT_EQ(-EIO, rxt_enter(&self->t, 0, 0, 0));
}

/* The consumer "popped" an entry that was never pushed: head = tail + 1. */
TEST_F(broken, cq_head_ahead_of_tail_eio)
{
	uint64_t n = variant->n;

	if (n == 1)
		SKIP(return, "head = tail + 1 is a legal full ring when n = 1");
	put_nop(&self->t, 0);
	rxt_hdr_set(rxt_sqh(&self->t), RXT_HDR_TAIL, 1);
	rxt_hdr_set(rxt_cqh(&self->t), RXT_HDR_HEAD, 1);
	EXPECT_EQ(-EIO, rxt_enter(&self->t, 0, 0, 0));
}

/* A valid header after a broken ENTER: nothing was consumed or written. */
TEST_F(broken, broken_sq_consumes_nothing)
{
	put_nop(&self->t, 0);
	rxt_hdr_set(rxt_sqh(&self->t), RXT_HDR_TAIL, 2 * variant->n + 1);
	EXPECT_EQ(-EIO, rxt_enter(&self->t, 0, 0, 0));
	EXPECT_EQ(0U, rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_HEAD));
	EXPECT_EQ(0U, rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_POP_EPOCH));
	EXPECT_EQ(0U, rxt_hdr_get(rxt_cqh(&self->t), RXT_HDR_TAIL));
	EXPECT_EQ(0U, rxt_hdr_get(rxt_cqh(&self->t), RXT_HDR_PUSH_EPOCH));
}

/*
 * entry_count is the kernel's to write; a user who overwrites it must not
 * make the kernel index out of its arrays.  Either the kernel keeps using
 * its own n, or it reports the header as broken.
 */
TEST_F(broken, entry_count_overwritten_no_oob)
{
	struct rxu_cqe64 cqe;
	int64_t r;
	uint64_t i;

	rxt_hdr_set(rxt_sqh(&self->t), RXT_HDR_ENTRY_COUNT, 1ULL << 40);
	rxt_hdr_set(rxt_cqh(&self->t), RXT_HDR_ENTRY_COUNT, 1ULL << 40);
	for (i = 0; i < variant->n; i++) {
		struct rxu_sqe64 s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, i);

		ASSERT_EQ(0, rxt_push(&self->t, &s));
	}
	r = rxt_enter(&self->t, 0, 0, 0);
	if (r == -EIO)
		return;
	ASSERT_EQ((int64_t)variant->n, r);
	for (i = 0; i < variant->n; i++) {
		ASSERT_EQ(0, rxt_pop(&self->t, &cqe));
		EXPECT_EQ(i, cqe.user_data);
	}
	EXPECT_TRUE(indices_in_range(&self->t));
}

/*
 * SQ head belongs to the kernel; a garbage value written there by the user
 * must not be used as an index: EIO, or the kernel's own copy is used.
 */
TEST_F(broken, sq_head_written_by_user_no_oob)
{
	int64_t r;

	rxt_hdr_set(rxt_sqh(&self->t), RXT_HDR_HEAD, UINT64_MAX - 3);
	put_nop(&self->t, 0);
	rxt_hdr_set(rxt_sqh(&self->t), RXT_HDR_TAIL, 1);
	r = rxt_enter(&self->t, 0, 0, 0);
	EXPECT_TRUE(r == -EIO || r == 1) TH_LOG("ENTER returned %lld",
						(long long)r);
	EXPECT_GT(2 * variant->n, rxt_hdr_get(rxt_cqh(&self->t), RXT_HDR_TAIL));
}

TEST_HARNESS_MAIN
