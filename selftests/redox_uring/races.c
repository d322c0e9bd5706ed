// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests for races between wake-ups and ENTER.
 *
 * ENTER takes what woke up off the ready list and handles it one request
 * at a time; a wake-up on another CPU meanwhile must only add to the
 * request's fired bits, never link its node a second time.  The first
 * version cleared every taken request's queued mark up front, so a
 * second wake-up re-linked a node still on ENTER's private list (list_del
 * corruption on 6.1, a soft lockup on 6.12; found by the fuzzer).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "rxt_harness.h"
#include "rxt_provider.h"

#define NEV	16
#define RUN_NS	(4ULL * 1000 * 1000 * 1000)

RXT_DEV_FIXTURE()

struct writer {
	int fd[NEV];
	volatile int stop;
	uint64_t writes;
};

static void *write_all(void *arg)
{
	struct writer *w = arg;
	uint64_t one = 1, v;

	while (!w->stop) {
		for (int i = 0; i < NEV; i++) {
			if (write(w->fd[i], &one, sizeof(one)) < 0 &&
			    read(w->fd[i], &v, sizeof(v)) < 0)
				continue;	/* drained by the other side */
			w->writes++;
		}
	}
	return NULL;
}

/* Subscriptions fired from another CPU while ENTER handles them. */
TEST_F(dev, wakeups_during_enter_keep_lists_intact)
{
	struct writer w = { .stop = 0 };
	struct rxt t = RXT_INIT;
	uint64_t t0, enters = 0, events = 0;
	struct rxu_cqe64 c;
	pthread_t th;
	int i, kfd;
	char line[256];

	kfd = rxt_kmsg_open();
	ASSERT_EQ(0, rxt_setup(&t, 64, 256, 0));
	for (i = 0; i < NEV; i++) {
		struct rxu_sqe64 s;

		w.fd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		ASSERT_LE(0, w.fd[i]);
		s = rxt_sqe(RXU_OP_FILES_UPDATE, (uint64_t)w.fd[i], 0, 0, 0, i);
		s.syscall_flags = RXU_EVENT_READ;
		s.flags = RXU_SQE_SUBSCRIBE;
		ASSERT_EQ(0, rxt_push(&t, &s));
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, write_all, &w));
	t0 = rxt_now_ns();
	while (rxt_now_ns() - t0 < RUN_NS) {
		ASSERT_LE(0, rxt_enter(&t, 0, 0, 0));
		enters++;
		while (!rxt_pop(&t, &c))
			if (c.flags & RXU_CQE_EVENT)
				events++;
	}
	w.stop = 1;
	pthread_join(th, NULL);
	TH_LOG("%llu ENTERs, %llu events, %llu writes",
	       (unsigned long long)enters, (unsigned long long)events,
	       (unsigned long long)w.writes);
	EXPECT_LT(0U, events);
	if (kfd >= 0) {
		EXPECT_EQ(0, rxt_kmsg_splat(kfd, line, sizeof(line)))
			TH_LOG("kernel: %s", line);
		close(kfd);
	}
	for (i = 0; i < NEV; i++)
		close(w.fd[i]);
	rxt_destroy(&t);
}

/* Scheme answers arriving while ENTER finishes earlier ones. */
TEST_F(dev, scheme_answers_during_enter)
{
	struct rxtp_shared *sh = rxtp_shared_new();
	struct rxt t = RXT_INIT;
	uint64_t t0, done = 0, inflight = 0;
	char name[32], path[48], buf[8][16];
	struct rxu_cqe64 c;
	struct rxu_sqe64 s;
	int64_t fd;
	pid_t prov;

	ASSERT_NE(NULL, sh);
	snprintf(name, sizeof(name), "race%d", getpid());
	prov = rxtp_start(name, sh);
	ASSERT_LT(0, prov);
	ASSERT_EQ(0, rxt_setup(&t, 16, 16, 0));
	snprintf(path, sizeof(path), "%s:f", name);
	s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)path, strlen(path), O_RDWR, 1);
	fd = rxt_run(&t, &s);
	ASSERT_LE(0, fd);
	t0 = rxt_now_ns();
	while (rxt_now_ns() - t0 < RUN_NS) {
		while (inflight < 8) {
			s = rxt_sqe(RXU_OP_PREAD, (uint64_t)fd,
				    (uintptr_t)buf[inflight % 8], 16, 0, 100);
			if (rxt_push(&t, &s))
				break;
			inflight++;
		}
		ASSERT_LE(0, rxt_enter(&t, 0, 0, 0));
		while (!rxt_pop(&t, &c)) {
			ASSERT_EQ(16U, c.status);
			inflight--;
			done++;
		}
	}
	while (inflight) {
		ASSERT_LE(1, rxt_enter(&t, 1, 0, RXT_TMO));
		while (!rxt_pop(&t, &c)) {
			EXPECT_EQ(16U, c.status);
			inflight--;
			done++;
		}
	}
	TH_LOG("%llu scheme reads", (unsigned long long)done);
	EXPECT_LT(0U, done);
	rxtp_stop(prov);
	rxt_destroy(&t);
	munmap(sh, sizeof(*sh));
}

TEST_HARNESS_MAIN
