// SPDX-License-Identifier: GPL-2.0
/*
 * RXU_IOC_ENTER (ABI.md section 6) on a u2k instance: the return value
 * (CQEs available), min_complete (0 returns at once, clamped to the CQ
 * size), ONLY_NOTIFY, WAKEUP_ON_SQ_AVAIL, timeout -> ETIME, a signal ->
 * EINTR without losing a CQE, and the validation of struct rxu_enter.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rxt_harness.h"

FIXTURE(ring) {
	struct rxt t;
};

FIXTURE_SETUP(ring)
{
	self->t.fd = -1;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_setup(&self->t, 8, 8, 0));
}

FIXTURE_TEARDOWN(ring)
{
	rxt_destroy(&self->t);
}

static int push_nops(struct rxt *t, int count, uint64_t first_user_data)
{
	struct rxu_sqe64 s;
	int i, err;

	for (i = 0; i < count; i++) {
		s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, first_user_data + i);
		err = rxt_push(t, &s);
		if (err)
			return err;
	}
	return 0;
}

/*
 * From a child process, send SIGUSR1 to the caller every interval_ms
 * (so that one lands while the caller sleeps in ENTER, however slow the
 * machine); stop it with stop_child().
 */
static pid_t signal_repeatedly(int interval_ms)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0) {
		for (;;) {
			usleep(interval_ms * 1000);
			kill(parent, SIGUSR1);
		}
	}
	return pid;
}

static int stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	return waitpid(pid, NULL, 0) == pid ? 0 : -1;
}

TEST_F(ring, empty_enter_returns_0)
{
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, 0));
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, RXT_TMO));
}

TEST_F(ring, returns_cq_count)
{
	struct rxu_cqe64 cqe;

	ASSERT_EQ(0, push_nops(&self->t, 3, 1));
	EXPECT_EQ(3, rxt_enter(&self->t, 0, 0, 0));
	/* not popped yet: still 3 */
	EXPECT_EQ(3, rxt_enter(&self->t, 0, 0, 0));
	ASSERT_EQ(0, rxt_pop(&self->t, &cqe));
	EXPECT_EQ(2, rxt_enter(&self->t, 0, 0, 0));
	ASSERT_EQ(0, push_nops(&self->t, 4, 10));
	EXPECT_EQ(6, rxt_enter(&self->t, 0, 0, 0));
	EXPECT_EQ(6U, rxt_cq_avail(&self->t));
}

/* min_complete counts what is in the CQ, not only new completions. */
TEST_F(ring, min_complete_counts_existing_cqes)
{
	uint64_t t0;

	ASSERT_EQ(0, push_nops(&self->t, 2, 1));
	ASSERT_EQ(2, rxt_enter(&self->t, 0, 0, 0));
	ASSERT_EQ(0, push_nops(&self->t, 1, 3));
	t0 = rxt_now_ns();
	EXPECT_EQ(3, rxt_enter(&self->t, 3, 0, 5 * SEC));
	EXPECT_GT(2 * SEC, rxt_now_ns() - t0);
	t0 = rxt_now_ns();
	EXPECT_EQ(3, rxt_enter(&self->t, 2, 0, 5 * SEC));
	EXPECT_GT(2 * SEC, rxt_now_ns() - t0);
}

TEST_F(ring, min_complete_0_does_not_wait)
{
	uint64_t t0 = rxt_now_ns();

	ASSERT_EQ(0, push_nops(&self->t, 1, 1));
	/* no timeout: if this waited, the harness would kill the test */
	EXPECT_EQ(1, rxt_enter(&self->t, 0, 0, 0));
	EXPECT_EQ(1, rxt_enter(&self->t, 0, 0, 0));
	EXPECT_GT(2 * SEC, rxt_now_ns() - t0);
}

TEST_F(ring, timeout_etime)
{
	uint64_t t0 = rxt_now_ns(), dt;

	EXPECT_EQ(-ETIME, rxt_enter(&self->t, 1, 0, 100 * MSEC));
	dt = rxt_now_ns() - t0;
	EXPECT_LE(95 * MSEC, dt);
	EXPECT_GT(10 * SEC, dt);
}

TEST_F(ring, timeout_with_partial_cq_etime)
{
	struct rxu_cqe64 cqe;

	ASSERT_EQ(0, push_nops(&self->t, 2, 7));
	EXPECT_EQ(-ETIME, rxt_enter(&self->t, 3, 0, 50 * MSEC));
	/* the two NOPs were consumed and completed all the same */
	EXPECT_EQ(0U, rxt_sq_avail(&self->t));
	EXPECT_EQ(2U, rxt_cq_avail(&self->t));
	ASSERT_EQ(0, rxt_pop(&self->t, &cqe));
	EXPECT_EQ(7U, cqe.user_data);
	ASSERT_EQ(0, rxt_pop(&self->t, &cqe));
	EXPECT_EQ(8U, cqe.user_data);
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, 0));
}

TEST_F(ring, min_complete_satisfied_returns)
{
	ASSERT_EQ(0, push_nops(&self->t, 4, 1));
	EXPECT_EQ(4, rxt_enter(&self->t, 4, 0, RXT_TMO));
}

/* min_complete larger than the CQ (8 entries) is clamped to 8. */
TEST_F(ring, min_complete_clamped_to_cq_size)
{
	static const uint64_t mins[] = { 9, 16, 1000, UINT64_MAX };
	struct rxu_cqe64 cqe;
	uint64_t t0;
	size_t i;
	int j;

	for (i = 0; i < ARRAY_SIZE(mins); i++) {
		ASSERT_EQ(0, push_nops(&self->t, 8, 100 * i));
		t0 = rxt_now_ns();
		EXPECT_EQ(8, rxt_enter(&self->t, mins[i], 0, 5 * SEC))
			TH_LOG("min_complete %llu", (unsigned long long)mins[i]);
		EXPECT_GT(4 * SEC, rxt_now_ns() - t0);
		for (j = 0; j < 8; j++)
			ASSERT_EQ(0, rxt_pop(&self->t, &cqe));
	}
	/* an empty CQ still waits for the clamped count */
	EXPECT_EQ(-ETIME, rxt_enter(&self->t, 1000, 0, 50 * MSEC));
}

TEST_F(ring, only_notify_consumes_nothing)
{
	uint64_t t0 = rxt_now_ns();

	ASSERT_EQ(0, push_nops(&self->t, 2, 1));
	EXPECT_EQ(0, rxt_enter(&self->t, 5, RXU_ENTER_ONLY_NOTIFY, 0));
	EXPECT_EQ(0U, rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_HEAD));
	EXPECT_EQ(0U, rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_POP_EPOCH));
	EXPECT_EQ(2U, rxt_sq_avail(&self->t));
	EXPECT_EQ(0U, rxt_cq_avail(&self->t));
	EXPECT_GT(2 * SEC, rxt_now_ns() - t0);

	/* a normal ENTER then consumes both */
	EXPECT_EQ(2, rxt_enter(&self->t, 2, 0, RXT_TMO));
	/* and ONLY_NOTIFY returns the CQ count without waiting */
	ASSERT_EQ(0, push_nops(&self->t, 1, 3));
	EXPECT_EQ(2, rxt_enter(&self->t, 8, RXU_ENTER_ONLY_NOTIFY, 0));
	EXPECT_EQ(1U, rxt_sq_avail(&self->t));
	EXPECT_EQ(2U, rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_HEAD));
}

/*
 * ONLY_NOTIFY wakes a waiter on the same instance (here from another
 * process, repeatedly, so that one notification lands while we wait).
 */
TEST_F(ring, only_notify_wakes_waiter)
{
	uint64_t t0;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (;;) {
			usleep(200 * 1000);
			if (rxt_enter(&self->t, 0, RXU_ENTER_ONLY_NOTIFY, 0) != 0)
				_exit(1);
		}
	}
	t0 = rxt_now_ns();
	EXPECT_EQ(0, rxt_enter(&self->t, 1, 0, 8 * SEC));
	EXPECT_GT(6 * SEC, rxt_now_ns() - t0);
	ASSERT_EQ(0, stop_child(pid));
	/* nothing was consumed or posted on the way */
	EXPECT_EQ(0U, rxt_cq_avail(&self->t));
}

/*
 * With the kernel as consumer the SQ always has a free slot after the
 * kernel consumed it, so WAKEUP_ON_SQ_AVAIL returns at once where a plain
 * ENTER with the same min_complete times out.
 */
TEST_F(ring, wakeup_on_sq_avail_returns)
{
	uint64_t t0;

	EXPECT_EQ(-ETIME, rxt_enter(&self->t, 1, 0, 100 * MSEC));
	t0 = rxt_now_ns();
	EXPECT_EQ(0, rxt_enter(&self->t, 1, RXU_ENTER_WAKEUP_ON_SQ_AVAIL,
			       3 * SEC));
	EXPECT_GT(2 * SEC, rxt_now_ns() - t0);
	ASSERT_EQ(0, push_nops(&self->t, 3, 1));
	EXPECT_EQ(3, rxt_enter(&self->t, 8, RXU_ENTER_WAKEUP_ON_SQ_AVAIL,
			       3 * SEC));
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

TEST_F(ring, signal_eintr_no_cqe_lost)
{
	struct sigaction sa;
	struct rxu_cqe64 cqe;
	uint64_t t0;
	pid_t pid;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;	/* no SA_RESTART */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	ASSERT_EQ(0, push_nops(&self->t, 3, 41));
	pid = signal_repeatedly(200);
	ASSERT_LT(0, pid);
	t0 = rxt_now_ns();
	/* 3 CQEs < 5: waits until a signal (or the 8 s timeout) */
	EXPECT_EQ(-EINTR, rxt_enter(&self->t, 5, 0, 8 * SEC));
	EXPECT_GT(6 * SEC, rxt_now_ns() - t0);
	ASSERT_EQ(0, stop_child(pid));

	EXPECT_EQ(0U, rxt_sq_avail(&self->t));
	EXPECT_EQ(3U, rxt_cq_avail(&self->t));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, rxt_pop(&self->t, &cqe));
		EXPECT_EQ(41U + i, cqe.user_data);
		EXPECT_EQ(0U, cqe.status);
	}
	EXPECT_EQ(-EAGAIN, rxt_pop(&self->t, &cqe));
	/* the instance still works after the interruption */
	ASSERT_EQ(0, push_nops(&self->t, 1, 50));
	EXPECT_EQ(1, rxt_enter(&self->t, 1, 0, RXT_TMO));
}

TEST_F(ring, signal_while_empty_eintr)
{
	struct sigaction sa;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	pid = signal_repeatedly(100);
	ASSERT_LT(0, pid);
	EXPECT_EQ(-EINTR, rxt_enter(&self->t, 1, 0, 0));
	ASSERT_EQ(0, stop_child(pid));
}

static int64_t enter_with(int fd, uint64_t min, uint64_t min_submit,
			  uint32_t flags, uint32_t reserved)
{
	struct rxu_enter e = {
		.min_complete = min,
		.min_submit = min_submit,
		.flags = flags,
		.reserved = reserved,
		.timeout_ns = 0,
	};

	return rxt_enter_raw(fd, &e);
}

TEST_F(ring, reserved_nonzero_einval)
{
	static const uint32_t res[] = { 1, 0x80, 0x80000000U, 0xffffffffU };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(res); i++)
		EXPECT_EQ(-EINVAL, enter_with(self->t.fd, 0, 0, 0, res[i]))
			TH_LOG("reserved 0x%x", res[i]);
}

TEST_F(ring, min_submit_nonzero_einval)
{
	static const uint64_t ms[] = { 1, 8, 1ULL << 32, UINT64_MAX };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ms); i++)
		EXPECT_EQ(-EINVAL, enter_with(self->t.fd, 0, ms[i], 0, 0))
			TH_LOG("min_submit %llu", (unsigned long long)ms[i]);
}

TEST_F(ring, unknown_flags_einval)
{
	static const uint32_t fl[] = {
		1U << 2, 1U << 3, 1U << 31, 0xfffffffcU,
		RXU_ENTER_ONLY_NOTIFY | (1U << 5),
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fl); i++)
		EXPECT_EQ(-EINVAL, enter_with(self->t.fd, 0, 0, fl[i], 0))
			TH_LOG("flags 0x%x", fl[i]);
}

/* A rejected ENTER consumes no SQE. */
TEST_F(ring, invalid_enter_consumes_nothing)
{
	ASSERT_EQ(0, push_nops(&self->t, 2, 1));
	EXPECT_EQ(-EINVAL, enter_with(self->t.fd, 0, 0, 0, 1));
	EXPECT_EQ(-EINVAL, enter_with(self->t.fd, 0, 1, 0, 0));
	EXPECT_EQ(-EINVAL, enter_with(self->t.fd, 0, 0, 1U << 7, 0));
	EXPECT_EQ(2U, rxt_sq_avail(&self->t));
	EXPECT_EQ(0U, rxt_hdr_get(rxt_sqh(&self->t), RXT_HDR_HEAD));
	EXPECT_EQ(0U, rxt_cq_avail(&self->t));
	EXPECT_EQ(2, rxt_enter(&self->t, 2, 0, RXT_TMO));
}

/*
 * A consumer that set DROP on its CQ takes no more completions: ENTER
 * fails with ESHUTDOWN and runs nothing; clearing the bit resumes.
 */
TEST_F(ring, cq_drop_eshutdown_runs_nothing)
{
	ASSERT_EQ(0, push_nops(&self->t, 2, 1));
	rxt_hdr_set(rxt_cqh(&self->t), RXT_HDR_STATUS, RXU_RING_DROP);
	EXPECT_EQ(-ESHUTDOWN, rxt_enter(&self->t, 0, 0, 0));
	EXPECT_EQ(2U, rxt_sq_avail(&self->t));
	EXPECT_EQ(0U, rxt_cq_avail(&self->t));
	/* DROP on the SQ (the kernel's side to pop) still drains it */
	rxt_hdr_set(rxt_cqh(&self->t), RXT_HDR_STATUS, 0);
	rxt_hdr_set(rxt_sqh(&self->t), RXT_HDR_STATUS, RXU_RING_DROP);
	EXPECT_EQ(2, rxt_enter(&self->t, 2, 0, RXT_TMO));
	EXPECT_EQ(0U, rxt_sq_avail(&self->t));
}

TEST_F(ring, bad_enter_pointer_efault)
{
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->t.fd, RXU_IOC_ENTER, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, 0));
}

TEST_F(ring, huge_timeout_with_min_0)
{
	ASSERT_EQ(0, push_nops(&self->t, 1, 1));
	EXPECT_EQ(1, rxt_enter(&self->t, 0, 0, UINT64_MAX));
	EXPECT_EQ(1, rxt_enter(&self->t, 1, 0, UINT64_MAX));
}

TEST_HARNESS_MAIN
