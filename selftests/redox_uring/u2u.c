// SPDX-License-Identifier: GPL-2.0
/*
 * User-to-user rings (ABI.md section 7): ATTACH "NAME:" connects a
 * consumer's rings to provider NAME, which receives them through
 * RXU_IOC_RECV; ENTER is the doorbell both ways; DUP "pool" gives pool
 * fds; either side going away sets DROP.  The provider is rxt_provider.h
 * in a child process: it answers every SQE with status = len + 1, and
 * opcode RXTP_OP_SUM with the sum of the pool bytes at [addr, addr + len).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rxt_harness.h"
#include "rxt_provider.h"

#define U2U_N	8

FIXTURE(u2u) {
	struct rxt k;		/* the consumer's kernel ring */
	struct rxt c;		/* the consumer's u2u instance */
	struct rxtp_shared *sh;
	pid_t prov;
	char name[32];
	char at[40];
};

FIXTURE_SETUP(u2u)
{
	static int seq;

	self->k.fd = -1;
	self->c.fd = -1;
	self->prov = 0;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_setup(&self->k, 16, 16, 0));
	ASSERT_EQ(0, rxt_open_create(&self->c, U2U_N, U2U_N, 0));
	ASSERT_EQ(0, rxt_map_all(&self->c));
	self->sh = rxtp_shared_new();
	ASSERT_NE(NULL, self->sh);
	snprintf(self->name, sizeof(self->name), "u%dn%d", getpid(), ++seq);
	snprintf(self->at, sizeof(self->at), "%s:", self->name);
	self->prov = rxtp_start(self->name, self->sh);
	ASSERT_LT(0, self->prov);
}

FIXTURE_TEARDOWN(u2u)
{
	rxtp_stop(self->prov);
	rxt_destroy(&self->c);
	rxt_destroy(&self->k);
	if (self->sh)
		munmap(self->sh, sizeof(*self->sh));
}

static int connect_u2u(FIXTURE_DATA(u2u) *self)
{
	return rxt_attach(self->c.fd, self->at, strlen(self->at));
}

/* Push one SQE and wait (doorbell + sleep) for its CQE. */
static int64_t round_trip(struct rxt *c, uint8_t op, uint64_t addr,
			  uint64_t len, uint64_t ud)
{
	struct rxu_sqe64 s = rxt_sqe(op, 0, addr, len, 0, ud);
	struct rxu_cqe64 cqe;
	int64_t n;

	if (rxt_push(c, &s))
		return RXT_NO_CQE;
	n = rxt_enter(c, 1, 0, RXT_TMO);
	if (n < 1 || rxt_pop(c, &cqe))
		return RXT_NO_CQE;
	if (cqe.user_data != ud)
		return RXT_NO_CQE + 1;
	return (int64_t)cqe.status;
}

TEST_F(u2u, attach_receive_and_round_trips)
{
	int i;

	ASSERT_EQ(0, connect_u2u(self));
	EXPECT_EQ(1, RXTP_GET(self->sh, recvs));
	EXPECT_EQ(42, round_trip(&self->c, 5, 0, 41, 9));
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(i + 1, round_trip(&self->c, 7, 0, i, 100 + i));
	EXPECT_EQ(1001, RXTP_GET(self->sh, u2u_sqes));
	/* Attached: a second ATTACH is a state error. */
	EXPECT_EQ(-EBADFD, connect_u2u(self));
}

TEST_F(u2u, batches_fill_the_rings)
{
	struct rxu_cqe64 cqe;
	uint64_t seen = 0;
	int i, round;

	ASSERT_EQ(0, connect_u2u(self));
	for (round = 0; round < 50; round++) {
		for (i = 0; i < U2U_N; i++) {
			struct rxu_sqe64 s = rxt_sqe(1, 0, 0, i, 0, i);

			ASSERT_EQ(0, rxt_push(&self->c, &s));
		}
		/* The SQ is full now. */
		{
			struct rxu_sqe64 s = rxt_sqe(1, 0, 0, 0, 0, 99);

			ASSERT_EQ(-EAGAIN, rxt_push(&self->c, &s));
		}
		ASSERT_EQ(U2U_N, rxt_enter(&self->c, U2U_N, 0, RXT_TMO));
		for (i = 0; i < U2U_N; i++) {
			ASSERT_EQ(0, rxt_pop(&self->c, &cqe));
			ASSERT_EQ((uint64_t)i, cqe.user_data);
			ASSERT_EQ((uint64_t)i + 1, cqe.status);
			seen++;
		}
	}
	EXPECT_EQ(50U * U2U_N, seen);
}

TEST_F(u2u, refused_then_rings_still_usable)
{
	__atomic_store_n(&self->sh->refuse, 1, __ATOMIC_RELEASE);
	EXPECT_EQ(-ECONNREFUSED, connect_u2u(self));
	EXPECT_EQ(0U, rxt_hdr_get(rxt_sqh(&self->c), RXT_HDR_STATUS));
	/* Nothing was received: the rings may attach elsewhere. */
	EXPECT_EQ(0, rxt_attach_kernel(self->c.fd));
	EXPECT_EQ(0, rxt_enter(&self->c, 0, 0, 0));
}

TEST_F(u2u, unknown_scheme_and_state_errors)
{
	struct rxt fresh = RXT_INIT;

	EXPECT_EQ(-ENODEV, rxt_attach(self->c.fd, "nosuchscheme:", 13));
	/* Not mapped yet: EBADFD, as for any ATTACH. */
	ASSERT_EQ(0, rxt_open_create(&fresh, 4, 4, 0));
	EXPECT_EQ(-EBADFD, rxt_attach(fresh.fd, self->at, strlen(self->at)));
	rxt_destroy(&fresh);
	EXPECT_EQ(0, RXTP_GET(self->sh, recvs));
}

TEST_F(u2u, recv_errors)
{
	struct rxu_recv_info info = { .ticket = 1 };

	/* Only a provider receives rings. */
	EXPECT_EQ(-1, ioctl(self->k.fd, RXU_IOC_RECV, &info));
	EXPECT_EQ(EBADFD, errno);
	EXPECT_EQ(-1, ioctl(self->c.fd, RXU_IOC_RECV, &info));
	EXPECT_EQ(EBADFD, errno);
	EXPECT_EQ(-1, ioctl(self->k.fd, RXU_IOC_RECV, NULL));
	EXPECT_EQ(EFAULT, errno);
}

/* RECV with a bad ticket and nonzero reserved, from a provider we own. */
TEST_F(u2u, recv_bad_ticket_enoent_reserved_einval)
{
	struct rxtp p;
	struct rxu_recv_info info;
	char name[48];

	memset(&p, 0, sizeof(p));
	snprintf(name, sizeof(name), "%sr", self->name);
	ASSERT_EQ(0, rxtp_register(&p, name));
	info = (struct rxu_recv_info){ .ticket = 0 };
	EXPECT_EQ(-1, ioctl(p.t.fd, RXU_IOC_RECV, &info));
	EXPECT_EQ(ENOENT, errno);
	info = (struct rxu_recv_info){ .ticket = 1ULL << 40 };
	EXPECT_EQ(-1, ioctl(p.t.fd, RXU_IOC_RECV, &info));
	EXPECT_EQ(ENOENT, errno);
	info = (struct rxu_recv_info){ .ticket = 1, .reserved = 1 };
	EXPECT_EQ(-1, ioctl(p.t.fd, RXU_IOC_RECV, &info));
	EXPECT_EQ(EINVAL, errno);
	rxt_destroy(&p.k);
	rxt_destroy(&p.t);
}

TEST_F(u2u, provider_death_drops_consumer_rings)
{
	struct pollfd pf;
	uint64_t t0;

	ASSERT_EQ(0, connect_u2u(self));
	EXPECT_EQ(3, round_trip(&self->c, 1, 0, 2, 1));
	rxtp_stop(self->prov);
	self->prov = 0;
	EXPECT_TRUE(!!(rxt_hdr_get(rxt_sqh(&self->c), RXT_HDR_STATUS) &
		    RXU_RING_DROP));
	EXPECT_TRUE(!!(rxt_hdr_get(rxt_cqh(&self->c), RXT_HDR_STATUS) &
		    RXU_RING_DROP));
	/* A wait for a CQE that can never come returns at once. */
	t0 = rxt_now_ns();
	EXPECT_EQ(0, rxt_enter(&self->c, 1, 0, RXT_TMO));
	EXPECT_GT(1000ULL * 1000 * 1000, rxt_now_ns() - t0);
	pf = (struct pollfd){ .fd = self->c.fd, .events = POLLIN };
	EXPECT_EQ(1, poll(&pf, 1, 0));
	EXPECT_TRUE(pf.revents & POLLHUP);
}

TEST_F(u2u, consumer_death_drops_provider_side)
{
	ASSERT_EQ(0, connect_u2u(self));
	EXPECT_EQ(3, round_trip(&self->c, 1, 0, 2, 1));
	rxt_destroy(&self->c);
	for (int i = 0; i < 2000 && !RXTP_GET(self->sh, u2u_dropped); i++)
		usleep(1000);
	EXPECT_EQ(1, RXTP_GET(self->sh, u2u_dropped));
}

/* A sleeping consumer is woken by the provider's doorbell. */
TEST_F(u2u, doorbell_wakes_poll_and_files_update)
{
	struct rxu_sqe64 s;
	struct rxu_cqe64 cqe;
	struct pollfd pf;

	ASSERT_EQ(0, connect_u2u(self));
	/* Watch the u2u fd from the kernel ring: IO_URING = the peer pushed. */
	s = rxt_sqe(RXU_OP_FILES_UPDATE, self->c.fd, 0, 0, 0, 0x10);
	s.syscall_flags = RXU_EVENT_IO_URING;
	s.flags = RXU_SQE_SUBSCRIBE;
	ASSERT_EQ(0, rxt_push(&self->k, &s));
	ASSERT_EQ(1, rxt_enter(&self->k, 1, 0, RXT_TMO));
	ASSERT_EQ(0, rxt_pop(&self->k, &cqe));
	EXPECT_EQ(0U, cqe.status);
	EXPECT_EQ(0U, cqe.flags);

	s = rxt_sqe(1, 0, 0, 4, 0, 0x20);
	ASSERT_EQ(0, rxt_push(&self->c, &s));
	/* The doorbell alone: nothing to wait for. */
	EXPECT_LE(0, rxt_enter(&self->c, 0, RXU_ENTER_ONLY_NOTIFY, 0));
	pf = (struct pollfd){ .fd = self->c.fd, .events = POLLIN };
	EXPECT_EQ(1, poll(&pf, 1, 10000));
	EXPECT_TRUE(pf.revents & POLLIN);
	ASSERT_EQ(1, rxt_enter(&self->k, 1, 0, RXT_TMO));
	ASSERT_EQ(0, rxt_pop(&self->k, &cqe));
	EXPECT_EQ(0x10U, cqe.user_data);
	EXPECT_EQ(RXU_CQE_EVENT |
		  ((uint64_t)RXU_EVENT_IO_URING << RXU_CQE_EVENT_SHIFT),
		  cqe.flags);
	ASSERT_EQ(0, rxt_pop(&self->c, &cqe));
	EXPECT_EQ(0x20U, cqe.user_data);
	EXPECT_EQ(5U, cqe.status);
}

/* Fully polled: no ENTER at all on the consumer side. */
TEST_F(u2u, polled_without_syscalls)
{
	struct rxu_sqe64 s = rxt_sqe(1, 0, 0, 6, 0, 0x33);
	struct rxu_cqe64 cqe;
	uint64_t t0;
	int got = -EAGAIN;

	ASSERT_EQ(0, connect_u2u(self));
	ASSERT_EQ(0, rxt_push(&self->c, &s));
	t0 = rxt_now_ns();
	while (got == -EAGAIN && rxt_now_ns() - t0 < 10ULL * 1000 * 1000 * 1000)
		got = rxt_pop(&self->c, &cqe);
	ASSERT_EQ(0, got);
	EXPECT_EQ(0x33U, cqe.user_data);
	EXPECT_EQ(7U, cqe.status);
}

TEST_F(u2u, pool_shared_by_offset)
{
	struct rxu_pool_range rec[2];
	unsigned char *m, *m2;
	uint64_t sum = 0;
	struct pollfd pf;
	int pool, i;

	ASSERT_EQ(0, connect_u2u(self));
	/* Only u2u instances make pools, and only for "pool". */
	EXPECT_EQ(-EINVAL, (int)rxt_dup_param(&self->k, self->k.fd, "pool"));
	EXPECT_EQ(-EINVAL, (int)rxt_dup_param(&self->k, self->c.fd, "pooh"));
	pool = (int)rxt_dup_param(&self->k, self->c.fd, "pool");
	ASSERT_LE(0, pool);

	EXPECT_EQ(MAP_FAILED, mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, pool, 0x10000));
	m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, pool, 0x10000);
	ASSERT_NE(MAP_FAILED, m);
	/* Overlapping another range: refused; the same range again: fine. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 8192, PROT_READ | PROT_WRITE,
				   MAP_SHARED, pool, 0x11000));
	m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, pool,
		  0x11000);
	ASSERT_NE(MAP_FAILED, m2);
	for (i = 0; i < 8192; i++)
		m[i] = (unsigned char)(i * 7);
	EXPECT_EQ(m[4096 + 3], m2[3]);
	for (i = 5; i < 105; i++)
		sum += m[i];

	/* The consumer's own pool fd reports the range too. */
	pf = (struct pollfd){ .fd = pool, .events = POLLIN };
	EXPECT_EQ(1, poll(&pf, 1, 0));
	EXPECT_EQ(-1, read(pool, rec, 8));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ((ssize_t)sizeof(rec[0]), read(pool, rec, sizeof(rec)));
	EXPECT_EQ(0x10000U, rec[0].offset);
	EXPECT_EQ(8192U, rec[0].size);
	EXPECT_EQ(0, read(pool, rec, sizeof(rec)));

	/* The provider maps it by offset and sums what we wrote. */
	EXPECT_EQ((int64_t)sum, round_trip(&self->c, RXTP_OP_SUM, 0x10000 + 5,
					   100, 0x44));
	EXPECT_EQ(1U, RXTP_GET(self->sh, pool_ranges));
	/* Outside the range it knows: the provider says EFAULT. */
	EXPECT_EQ(-EFAULT, round_trip(&self->c, RXTP_OP_SUM, 0x20000, 1,
				      0x45));
	munmap(m, 8192);
	munmap(m2, 4096);
	close(pool);
}

TEST_HARNESS_MAIN
