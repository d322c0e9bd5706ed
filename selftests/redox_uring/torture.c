// SPDX-License-Identifier: GPL-2.0
/*
 * torture: lifecycle torture of schemes and user-to-user rings.
 *
 * Every iteration forks one to three consumers of a test provider
 * (rxt_provider.h), each of which goes to a blocking point picked at
 * random: mid-OPEN (an OPEN the provider never answers), mid-read(2) or
 * mid-READ on the ring (READs never answered), poll(2) for ever, a
 * FILES_UPDATE subscription on a scheme file, an event: queue watching
 * one, a u2u ATTACH and then a connection with its pool mapped, or plain
 * I/O in a loop.  The provider is sometimes SIGSTOPped first (so that
 * everything, ATTACH included, hangs in the kernel).  Then, after a
 * random delay or once the consumers reached their blocking point, the
 * consumers and/or the provider get SIGKILL in a random order; a killed
 * provider is restarted under the same name at the next iteration.
 *
 * Checks: every process dies, the kernel log stays clean, and at the end
 * /proc/redox_uring lists no scheme and no instance (run_tests.sh then
 * checks that rmmod succeeds).
 *
 *   torture        200 iterations (the normal test list)
 *   torture_long   1,000 iterations (make stress; stress_list)
 *   RXU_TORTURE_ITERS=N and RXU_TORTURE_SEED=S override either.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rxt_harness.h"
#include "rxt_provider.h"

#ifdef RXT_TORTURE_LONG
#define ITERS_DEFAULT	1000
#define TORTURE_TIMEOUT	3000
#else
#define ITERS_DEFAULT	200
#define TORTURE_TIMEOUT	600
#endif

#define MAXC	3

enum {
	SC_OPEN, SC_READ, SC_RING_READ, SC_POLL, SC_SUBSCRIBE, SC_EVQ,
	SC_U2U, SC_IO, SC_N
};
static const char *const sc_name[SC_N] = {
	"mid-OPEN", "mid-read(2)", "mid-ring-READ", "poll(2)",
	"FILES_UPDATE", "event-queue", "u2u+pool", "plain I/O",
};

/* Where each consumer got to, in memory shared with the test. */
struct tstage {
	int stage[MAXC];
};

static uint64_t rng;

static uint64_t rn(uint64_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return n ? (rng * 0x2545F4914F6CDD1DULL) % n : 0;
}

static void stage(struct tstage *ts, int i, int s)
{
	__atomic_store_n(&ts->stage[i], s, __ATOMIC_RELEASE);
}

/* OPEN "name:rest" through t: the fd or -errno. */
static int64_t topen(struct rxt *t, const char *name, const char *rest,
		     int flags)
{
	char path[96];
	struct rxu_sqe64 s;

	snprintf(path, sizeof(path), "%s:%s", name, rest);
	s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)path, strlen(path),
		    (uint64_t)(flags | O_CLOEXEC), 0x0be);
	return rxt_run(t, &s);
}

/* Wait for ever (until killed) in ENTER. */
static void enter_forever(struct rxt *t)
{
	struct rxu_cqe64 c;

	for (;;) {
		rxt_enter(t, 1, 0, 0);
		while (!rxt_pop(t, &c))
			;
	}
}

/* A u2u consumer: attach, map a pool, keep the provider busy. */
static void u2u_consumer(const char *name, struct rxt *k, struct tstage *ts,
			 int i, uint64_t r)
{
	struct rxt u = RXT_INIT;
	char at[80];
	struct rxu_sqe64 d;
	int64_t pool;
	void *m;

	if (rxt_open_create(&u, 4, 4, r & 1 ? RXU_CREATE_BITS_32 : 0) ||
	    rxt_map_all(&u))
		_exit(1);
	stage(ts, i, 2);
	snprintf(at, sizeof(at), "%s:", name);
	if (rxt_attach(u.fd, at, strlen(at)))
		pause();		/* refused: the rings stay ours */
	stage(ts, i, 3);
	d = rxt_sqe(RXU_OP_DUP, (uint64_t)u.fd, (uintptr_t)RXU_DUP_PARAM_POOL,
		    strlen(RXU_DUP_PARAM_POOL), 0, 1);
	d.syscall_flags = RXU_DUP_PARAM;
	pool = rxt_run(k, &d);
	if (pool >= 0) {
		m = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			 (int)pool, (off_t)((r >> 8) % 64) * 4096);
		if (m != MAP_FAILED)
			memset(m, 7, 4 * 4096);
	}
	stage(ts, i, 4);
	for (;;) {
		struct rxu_sqe64 s = rxt_sqe(RXTP_OP_SUM, 0,
					     ((r >> 8) % 64) * 4096, 64, 0, 5);
		struct rxu_cqe64 c;

		rxt_push(&u, &s);
		if (rxt_enter(&u, 1, 0, 100 * MSEC) < 0)
			pause();	/* dropped */
		while (!rxt_pop(&u, &c))
			;
	}
}

static __attribute__((noreturn)) void consumer(const char *name, int sc,
					       struct tstage *ts, int i,
					       uint64_t r)
{
	struct rxt t = RXT_INIT;
	char buf[64];
	int64_t fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (rxt_setup(&t, 8, 8, 0))
		_exit(1);
	stage(ts, i, 1);
	switch (sc) {
	case SC_OPEN: {
		char path[96];
		struct rxu_sqe64 s;

		snprintf(path, sizeof(path), "%s:hang", name);
		s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)path, strlen(path),
			    O_RDONLY, 1);
		rxt_push(&t, &s);
		stage(ts, i, 2);
		enter_forever(&t);
		break;
	}
	case SC_READ:
		fd = topen(&t, name, "slow", O_RDONLY);
		stage(ts, i, 2);
		if (fd >= 0)
			for (;;)
				if (read((int)fd, buf, sizeof(buf)) < 0 &&
				    errno == EIO)
					break;
		break;
	case SC_RING_READ: {
		struct rxu_sqe64 s;

		fd = topen(&t, name, "slow", O_RDONLY);
		if (fd < 0)
			break;
		s = rxt_sqe(RXU_OP_READ, (uint64_t)fd, (uintptr_t)buf,
			    sizeof(buf), 0, 2);
		rxt_push(&t, &s);
		stage(ts, i, 2);
		enter_forever(&t);
		break;
	}
	case SC_POLL: {
		struct pollfd pf;

		fd = topen(&t, name, "slow", O_RDONLY);
		if (fd < 0)
			break;
		pf = (struct pollfd){ .fd = (int)fd, .events = POLLIN };
		stage(ts, i, 2);
		for (;;)
			if (poll(&pf, 1, -1) < 0 && errno != EINTR)
				break;
		break;
	}
	case SC_SUBSCRIBE: {
		struct rxu_sqe64 s;

		fd = topen(&t, name, r & 1 ? "event" : "slow", O_RDWR);
		if (fd < 0)
			break;
		s = rxt_sqe(RXU_OP_FILES_UPDATE, (uint64_t)fd, 0, 0, 0, 3);
		s.syscall_flags = RXU_EVENT_READ | RXU_EVENT_WRITE;
		s.flags = RXU_SQE_SUBSCRIBE;
		rxt_push(&t, &s);
		if (r & 2) {	/* and a READ that waits */
			s = rxt_sqe(RXU_OP_READ, (uint64_t)fd, (uintptr_t)buf,
				    sizeof(buf), 0, 4);
			rxt_push(&t, &s);
		}
		stage(ts, i, 2);
		enter_forever(&t);
		break;
	}
	case SC_EVQ: {
		struct rxu_event ev;
		int64_t q;

		fd = topen(&t, name, "event", O_RDWR);
		{
			struct rxu_sqe64 s = rxt_sqe(RXU_OP_OPEN, 0,
						     (uintptr_t)"event:", 6,
						     O_RDWR, 6);

			q = rxt_run(&t, &s);
		}
		if (fd < 0 || q < 0)
			break;
		ev = (struct rxu_event){ .id = (uint64_t)fd,
					 .flags = RXU_EVENT_READ, .data = 1 };
		if (write((int)q, &ev, sizeof(ev)) != sizeof(ev))
			break;
		stage(ts, i, 2);
		for (;;)
			if (read((int)q, &ev, sizeof(ev)) < 0 &&
			    errno != EINTR && errno != EAGAIN)
				break;
		break;
	}
	case SC_U2U:
		u2u_consumer(name, &t, ts, i, r);
		break;
	default:
		fd = topen(&t, name, "f", O_RDWR);
		stage(ts, i, 2);
		while (fd >= 0) {
			if (pwrite((int)fd, buf, sizeof(buf), 64) < 0 ||
			    pread((int)fd, buf, sizeof(buf), 0) < 0 ||
			    lseek((int)fd, 0, SEEK_SET) < 0)
				break;
		}
		break;
	}
	pause();
	_exit(0);
}

static int all_at(struct tstage *ts, int nc, int s)
{
	for (int i = 0; i < nc; i++)
		if (__atomic_load_n(&ts->stage[i], __ATOMIC_ACQUIRE) < s)
			return 0;
	return 1;
}

/* Lines of /proc/redox_uring starting with word, or -1. */
static int proc_count(const char *word)
{
	char line[256];
	FILE *f = fopen("/proc/redox_uring", "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, word, strlen(word)))
			n++;
	fclose(f);
	return n;
}

FIXTURE(tort) {
	struct rxtp_shared *sh;
	struct tstage *ts;
};

FIXTURE_SETUP(tort)
{
	RXT_REQUIRE_DEV();
	self->sh = rxtp_shared_new();
	ASSERT_NE(NULL, self->sh);
	self->ts = mmap(NULL, sizeof(*self->ts), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->ts);
}

FIXTURE_TEARDOWN(tort)
{
	munmap(self->sh, sizeof(*self->sh));
	munmap(self->ts, sizeof(*self->ts));
}

TEST_F_TIMEOUT(tort, kill_consumers_and_providers, TORTURE_TIMEOUT)
{
	const char *e = getenv("RXU_TORTURE_ITERS");
	int iters = e ? atoi(e) : ITERS_DEFAULT;
	int sc_count[SC_N] = { 0 }, prov_kills = 0, stops = 0, waited = 0;
	int reached = 0, pooled = 0;
	uint64_t t0 = rxt_now_ns(), seed;
	int kfd = rxt_kmsg_open();
	pid_t prov = 0;
	char name[32], line[256];
	int it, i, n;

	e = getenv("RXU_TORTURE_SEED");
	seed = e ? strtoull(e, NULL, 0) : 1;
	rng = (seed + 1) * 0x9E3779B97F4A7C15ULL;
	snprintf(name, sizeof(name), "tt%d", getpid());
	for (it = 0; it < iters; it++) {
		pid_t cons[MAXC];
		int scs[MAXC];
		int nc = 1 + (int)rn(MAXC), stopped = 0, order;

		if (prov <= 0) {
			/* the name is free once the last provider is reaped */
			for (i = 0; i < 100; i++) {
				memset(self->sh, 0, sizeof(*self->sh));
				prov = rxtp_start(name, self->sh);
				if (prov != -EEXIST)
					break;
				usleep(1000);
			}
			ASSERT_LT(0, prov) TH_LOG("iteration %d: provider: %s",
						  it, strerror((int)-prov));
		}
		if (!rn(8)) {
			kill(prov, SIGSTOP);
			stopped = 1;
			stops++;
		}
		memset(self->ts, 0, sizeof(*self->ts));
		for (i = 0; i < nc; i++) {
			int sc = (int)rn(SC_N);
			uint64_t r = rn(1 << 20);

			sc_count[sc]++;
			scs[i] = sc;
			cons[i] = fork();
			ASSERT_LE(0, cons[i]);
			if (!cons[i])
				consumer(name, sc, self->ts, i, r);
		}
		switch (rn(4)) {
		case 0:
			break;			/* at once */
		case 1:
			usleep((useconds_t)rn(3000));
			break;
		default:			/* at the blocking point */
			for (i = 0; i < 300 && !all_at(self->ts, nc, 2); i++)
				usleep(1000);
			reached += all_at(self->ts, nc, 2);
			usleep((useconds_t)rn(2000));
			waited++;
			break;
		}
		for (i = 0; i < nc; i++)
			pooled += scs[i] == SC_U2U &&
				  __atomic_load_n(&self->ts->stage[i],
						  __ATOMIC_ACQUIRE) >= 4;
		order = (int)rn(4);
		if (order == 1 || order == 3) {
			kill(prov, SIGKILL);
			if (order == 3)
				usleep((useconds_t)rn(3000));
		}
		for (i = 0; i < nc; i++) {
			kill(cons[i], SIGKILL);
			if (rn(2))
				usleep((useconds_t)rn(500));
		}
		if (order == 0)
			kill(prov, SIGKILL);
		for (i = 0; i < nc; i++)
			ASSERT_EQ(cons[i], waitpid(cons[i], NULL, 0));
		if (order != 2) {
			ASSERT_EQ(prov, waitpid(prov, NULL, 0));
			prov = 0;
			prov_kills++;
		} else if (stopped) {
			kill(prov, SIGCONT);
		}
		if (kfd >= 0 && (it % 20 == 19 || it == iters - 1)) {
			ASSERT_EQ(0, rxt_kmsg_splat(kfd, line, sizeof(line)))
				TH_LOG("iteration %d: kernel: %s", it, line);
		}
	}
	rxtp_stop(prov);
	/* Everything went with its processes. */
	for (i = 0; i < 100; i++) {
		n = proc_count("scheme ") + proc_count("instance ");
		if (n <= 0)
			break;
		usleep(10000);
	}
	EXPECT_EQ(0, proc_count("scheme "));
	EXPECT_EQ(0, proc_count("instance "));
	if (kfd >= 0) {
		EXPECT_EQ(0, rxt_kmsg_splat(kfd, line, sizeof(line)))
			TH_LOG("kernel: %s", line);
		close(kfd);
	}
	fprintf(stderr, "# %d iterations (seed %llu) in %.1f s: providers "
		"killed %d, stopped first %d; waited for the blocking point "
		"%d times, all there %d; u2u consumers killed with a pool "
		"mapped %d\n",
		iters, (unsigned long long)seed,
		(double)(rxt_now_ns() - t0) / 1e9, prov_kills, stops, waited,
		reached, pooled);
	for (i = 0; i < SC_N; i++)
		fprintf(stderr, "#   %-14s %d consumers\n", sc_name[i],
			sc_count[i]);
}

TEST_HARNESS_MAIN
