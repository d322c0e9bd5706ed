// SPDX-License-Identifier: MIT
/*
 * bench-event: readiness notification through a redox_uring ring
 * (FILES_UPDATE, multi-shot) against epoll and against io_uring's
 * multi-shot POLL_ADD (liburing), in the same process, rounds
 * alternating between the three.
 *
 *   bench-event [-r rounds] [-n events] [-g gap_us] [-f fds] [-s sweeps]
 *               [-m lat|tput|both] [-o rxu|epoll|uring] [-p split|same]
 *
 * Latency (-n events per round): one eventfd per mechanism.  A writer
 * thread takes t0 = CLOCK_MONOTONIC and write()s 1 to the eventfd; the
 * consumer, blocked in its wait (ENTER with min_complete = 1,
 * epoll_wait(), io_uring_wait_cqe()), takes t1 as soon as it sees the
 * completion.  Ping-pong: the writer waits for the consumer's
 * acknowledgement, then gap_us more so that the consumer is asleep
 * again, so exactly one event is in flight and every one includes a
 * wake-up.  Per round: the median of the per-event latencies.
 *
 * Throughput (-f fds, -s sweeps per round): fds eventfds per mechanism,
 * all watched at once.  A writer thread writes each of them once per
 * sweep (round-robin), and starts the next sweep once the consumer has
 * seen every event of this one (so no two writes to one fd coalesce);
 * the consumer harvests in batches.  Per round: events per second.
 *
 * The eventfds are never read: every mechanism is edge-triggered here
 * (FILES_UPDATE events are posted on change, epoll uses EPOLLET, io_uring
 * multi-shot poll posts on each wake-up), so each write is one event.
 *
 * Prints the command, the clock source, per mechanism the median over
 * the rounds (with the smallest and largest round), and the ratios
 * rxu/epoll and rxu/io_uring.  -o limits the run to one mechanism (for
 * profiling).  The consumer runs on CPU 0 and the writer on CPU 1 (-p split,
 * the default) or on CPU 0 too (-p same).  If the module lacks FILES_UPDATE, the redox_uring side
 * is skipped with a note and the baselines still run.  A benchmark, not
 * a test: it never fails on a figure.
 */
#include <errno.h>
#include <limits.h>
#include <liburing.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "rxu.h"

#define MAX_ROUNDS	64
#define STALL_NS	5000000000ULL	/* no event for 5 s: give up the run */

enum mech { M_RXU, M_EPOLL, M_URING, NR_MECH };

static const char *const mech_name[NR_MECH] = {
	[M_RXU] = "redox_uring FILES_UPDATE",
	[M_EPOLL] = "epoll (EPOLLET)",
	[M_URING] = "io_uring POLL multishot",
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_u64(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* Sorts v. */
static double median_double(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void futex_wait(_Atomic uint32_t *word, uint32_t seen)
{
	syscall(SYS_futex, (void *)word, FUTEX_WAIT_PRIVATE, seen, NULL,
		NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, (void *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL,
		NULL, 0);
}

/*
 * Pin the calling thread to cpu (if there is more than one CPU); with
 * same_cpu, the writer shares the consumer's CPU 0.
 */
static int ncpus, same_cpu;

static void pin(int cpu)
{
	cpu_set_t set;

	if (ncpus < 2)
		return;
	if (same_cpu)
		cpu = 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void write_one(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* The three consumers                                                 */
/* ------------------------------------------------------------------ */

/*
 * One mechanism watching nfds eventfds.  wait() blocks until at least
 * one event, returns how many it consumed (0 after STALL_NS without
 * any, -errno on failure); for latency it is called with one fd.
 */
struct consumer {
	enum mech mech;
	int nfds;
	int *efds;
	struct rxu_instance rxu;
	int epfd;
	struct epoll_event *evs;
	struct io_uring uring;
	int uring_up;
};

/* user_data/data of fd i is i (+1 for rxu, whose 0 we keep for status). */

static int rxu_start(struct consumer *c)
{
	uint64_t cq = 64, sq = 64, pos;
	int i = 0, ret;

	while (cq < 2 * (uint64_t)c->nfds)
		cq *= 2;
	while (sq < (uint64_t)c->nfds && sq < 1024)
		sq *= 2;
	ret = rxu_setup(&c->rxu, sq, cq, 0);
	if (ret < 0)
		return ret;
	/* Subscribe in SQ-sized batches; each answers with a status CQE. */
	while (i < c->nfds) {
		int64_t batch = rxu_ring_push_reserve(&c->rxu.sq,
						      (uint64_t)(c->nfds - i),
						      &pos), k;

		if (batch <= 0)
			return batch < 0 ? (int)batch : -EAGAIN;
		for (k = 0; k < batch; k++)
			rxu_prep_files_update(rxu_ring_entry(&c->rxu.sq, pos + k),
					      c->efds[i + k], RXU_EVENT_READ, 1,
					      (uint64_t)(i + k) + 1);
		rxu_ring_push_commit(&c->rxu.sq, (uint64_t)batch);
		if (rxu_enter(&c->rxu, (uint64_t)batch, 0, STALL_NS) < batch)
			return -EIO;
		for (k = 0; k < batch; k++) {
			struct rxu_cqe64 cqe;

			ret = rxu_pop_cqe(&c->rxu, &cqe);
			if (ret < 0)
				return ret;
			if (rxu_cqe_is_event(&cqe))
				return -EPROTO;	/* not readable yet: no event */
			if (rxu_cqe_result(&cqe) < 0)
				return (int)rxu_cqe_result(&cqe);
		}
		i += (int)batch;
	}
	return 0;
}

static int rxu_wait(struct consumer *c)
{
	uint64_t pos;
	int64_t n, i;
	int events = 0;

	n = rxu_ring_pop_reserve(&c->rxu.cq, &pos);
	if (n == 0) {
		n = rxu_enter(&c->rxu, 1, 0, STALL_NS);
		if (n == -ETIME)
			return 0;
		if (n == -EINTR)
			return 0;
		if (n < 0)
			return (int)n;
		n = rxu_ring_pop_reserve(&c->rxu.cq, &pos);
	}
	if (n < 0)
		return (int)n;
	for (i = 0; i < n; i++) {
		const struct rxu_cqe64 *cqe = rxu_ring_entry(&c->rxu.cq, pos + i);

		if (!rxu_cqe_is_event(cqe) || rxu_cqe_is_last_update(cqe))
			return -EPROTO;
		events++;
	}
	rxu_ring_pop_commit(&c->rxu.cq, (uint64_t)n);
	return events;
}

static int epoll_start(struct consumer *c)
{
	int i;

	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->evs = calloc((size_t)c->nfds, sizeof(*c->evs));
	if (c->epfd < 0 || !c->evs)
		return -ENOMEM;
	for (i = 0; i < c->nfds; i++) {
		struct epoll_event ev = {
			.events = EPOLLIN | EPOLLET, .data.u64 = (uint64_t)i,
		};

		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->efds[i], &ev))
			return -errno;
	}
	return 0;
}

static int epoll_wait_events(struct consumer *c)
{
	int n = epoll_wait(c->epfd, c->evs, c->nfds,
			   (int)(STALL_NS / 1000000));

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n;
}

static int uring_arm(struct consumer *c, int i)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&c->uring);

	if (!sqe) {
		io_uring_submit(&c->uring);
		sqe = io_uring_get_sqe(&c->uring);
		if (!sqe)
			return -EAGAIN;
	}
	io_uring_prep_poll_multishot(sqe, c->efds[i], POLLIN);
	io_uring_sqe_set_data64(sqe, (uint64_t)i);
	return 0;
}

static int uring_start(struct consumer *c)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_CQSIZE,
		.cq_entries = 64,
	};
	int i, ret;

	while (p.cq_entries < 2 * (unsigned int)c->nfds)
		p.cq_entries *= 2;
	ret = io_uring_queue_init_params(c->nfds < 256 ? 64 : 256, &c->uring, &p);
	if (ret < 0)
		return ret;
	c->uring_up = 1;
	for (i = 0; i < c->nfds; i++) {
		ret = uring_arm(c, i);
		if (ret < 0)
			return ret;
	}
	ret = io_uring_submit(&c->uring);
	return ret < 0 ? ret : 0;
}

static int uring_wait(struct consumer *c)
{
	struct __kernel_timespec ts = {
		.tv_sec = STALL_NS / 1000000000ULL,
	};
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;
	int ret, events = 0, rearm = 0;

	ret = io_uring_wait_cqe_timeout(&c->uring, &cqe, &ts);
	if (ret == -ETIME || ret == -EINTR)
		return 0;
	if (ret < 0)
		return ret;
	io_uring_for_each_cqe(&c->uring, head, cqe) {
		seen++;
		if (cqe->res < 0)
			return cqe->res;
		events++;
		/* A multi-shot poll that stopped (no F_MORE) is armed again. */
		if (!(cqe->flags & IORING_CQE_F_MORE)) {
			ret = uring_arm(c, (int)cqe->user_data);
			if (ret < 0)
				return ret;
			rearm = 1;
		}
	}
	io_uring_cq_advance(&c->uring, seen);
	if (rearm)
		io_uring_submit(&c->uring);
	return events;
}

static int consumer_start(struct consumer *c, enum mech m, int nfds)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->mech = m;
	c->nfds = nfds;
	c->epfd = -1;
	c->rxu.fd = -1;
	c->efds = calloc((size_t)nfds, sizeof(*c->efds));
	if (!c->efds)
		return -ENOMEM;
	for (i = 0; i < nfds; i++)
		c->efds[i] = -1;
	for (i = 0; i < nfds; i++) {
		c->efds[i] = eventfd(0, EFD_CLOEXEC);
		if (c->efds[i] < 0)
			return -errno;
	}
	switch (m) {
	case M_RXU:
		return rxu_start(c);
	case M_EPOLL:
		return epoll_start(c);
	default:
		return uring_start(c);
	}
}

static int consumer_wait(struct consumer *c)
{
	switch (c->mech) {
	case M_RXU:
		return rxu_wait(c);
	case M_EPOLL:
		return epoll_wait_events(c);
	default:
		return uring_wait(c);
	}
}

static void consumer_stop(struct consumer *c)
{
	int i;

	if (c->rxu.fd >= 0)
		rxu_instance_close(&c->rxu);
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->uring_up)
		io_uring_queue_exit(&c->uring);
	for (i = 0; c->efds && i < c->nfds; i++)
		if (c->efds[i] >= 0)
			close(c->efds[i]);
	free(c->efds);
	free(c->evs);
	memset(c, 0, sizeof(*c));
	c->rxu.fd = -1;
	c->epfd = -1;
}

/* ------------------------------------------------------------------ */
/* Latency: ping-pong, one event in flight                             */
/* ------------------------------------------------------------------ */

static struct {
	int fd;
	int n;
	long gap_ns;
	_Atomic uint64_t t0;		/* the writer's stamp of this event */
	_Atomic uint32_t acked;		/* events the consumer has seen */
	_Atomic int abort;
} lat;

static void *lat_writer(void *arg)
{
	struct timespec gap = { .tv_nsec = lat.gap_ns };
	uint32_t i, a;

	(void)arg;
	pin(1);
	for (i = 0; i < (uint32_t)lat.n; i++) {
		while ((a = atomic_load(&lat.acked)) < i && !atomic_load(&lat.abort))
			futex_wait(&lat.acked, a);
		if (atomic_load(&lat.abort))
			break;
		/* Let the consumer go back to sleep in its wait. */
		if (lat.gap_ns)
			nanosleep(&gap, NULL);
		atomic_store(&lat.t0, now_ns());
		write_one(lat.fd);
	}
	return NULL;
}

/* One latency run: n events; fills lat_ns[0..n); 0 or -errno. */
static int run_latency(struct consumer *c, int n, long gap_ns,
		       uint64_t *lat_ns)
{
	pthread_t writer;
	int i, ret = 0;

	lat.fd = c->efds[0];
	lat.n = n;
	lat.gap_ns = gap_ns;
	atomic_store(&lat.acked, 0);
	atomic_store(&lat.abort, 0);
	if (pthread_create(&writer, NULL, lat_writer, NULL))
		return -EAGAIN;
	for (i = 0; i < n; i++) {
		int got = consumer_wait(c);
		uint64_t t1 = now_ns();

		if (got <= 0) {
			ret = got ? got : -ETIME;
			break;
		}
		if (got > 1) {
			ret = -EPROTO;		/* two events for one write */
			break;
		}
		lat_ns[i] = t1 - atomic_load(&lat.t0);
		atomic_store(&lat.acked, (uint32_t)i + 1);
		futex_wake(&lat.acked);
	}
	if (ret) {
		atomic_store(&lat.abort, 1);
		futex_wake(&lat.acked);
	}
	pthread_join(writer, NULL);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Throughput: many watched fds, round-robin writes                    */
/* ------------------------------------------------------------------ */

static struct {
	int *fds;
	int nfds;
	int sweeps;
	_Atomic uint32_t done;		/* sweeps fully seen by the consumer */
	_Atomic int abort;
} tput;

static void *tput_writer(void *arg)
{
	uint32_t s, d;
	int i;

	(void)arg;
	pin(1);
	for (s = 0; s < (uint32_t)tput.sweeps; s++) {
		while ((d = atomic_load(&tput.done)) < s && !atomic_load(&tput.abort))
			futex_wait(&tput.done, d);
		if (atomic_load(&tput.abort))
			break;
		for (i = 0; i < tput.nfds; i++)
			write_one(tput.fds[i]);
	}
	return NULL;
}

/* One throughput run; *rate = events per second. */
static int run_throughput(struct consumer *c, int sweeps, double *rate)
{
	long total = (long)sweeps * c->nfds, seen = 0;
	pthread_t writer;
	uint64_t t0, t1;
	int ret = 0;

	tput.fds = c->efds;
	tput.nfds = c->nfds;
	tput.sweeps = sweeps;
	atomic_store(&tput.done, 0);
	atomic_store(&tput.abort, 0);
	t0 = now_ns();
	if (pthread_create(&writer, NULL, tput_writer, NULL))
		return -EAGAIN;
	while (seen < total) {
		int got = consumer_wait(c);

		if (got <= 0) {
			ret = got ? got : -ETIME;
			break;
		}
		seen += got;
		if (seen / c->nfds > (long)atomic_load(&tput.done)) {
			atomic_store(&tput.done, (uint32_t)(seen / c->nfds));
			futex_wake(&tput.done);
		}
	}
	t1 = now_ns();
	if (ret) {
		atomic_store(&tput.abort, 1);
		futex_wake(&tput.done);
	}
	pthread_join(writer, NULL);
	if (seen > total)
		ret = -EPROTO;			/* more events than writes */
	*rate = seen / ((t1 - t0) / 1e9);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Reporting                                                           */
/* ------------------------------------------------------------------ */

static void print_env(int argc, char **argv)
{
	char cs[64] = "?", cmdline[1024] = "";
	struct utsname u;
	FILE *f;
	int i;

	printf("# command:");
	for (i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
	if (f) {
		if (fscanf(f, "%63s", cs) != 1)
			strcpy(cs, "?");
		fclose(f);
	}
	f = fopen("/proc/cmdline", "r");
	if (f) {
		if (!fgets(cmdline, sizeof(cmdline), f))
			cmdline[0] = '\0';
		fclose(f);
	}
	uname(&u);
	printf("\n# kernel %s, %d CPUs, clock source %s%s\n", u.release,
	       ncpus, cs, strstr(cmdline, "tsc=reliable") ?
	       " (booted with tsc=reliable)" : "");
	if (strcmp(cs, "tsc"))
		printf("# note: clock source is not the TSC: every clock_gettime() may cost microseconds (boot with tsc=reliable)\n");
}

/* Enough fds for three sets of nfds eventfds and the rings. */
static void raise_nofile(int nfds)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)nfds * NR_MECH + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;	/* root may raise it */
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* Set up each mechanism; a side that cannot start is skipped with a note. */
static void start_all(struct consumer *c, int *ok, int nfds, int only)
{
	int m, ret;

	for (m = 0; m < NR_MECH; m++) {
		ok[m] = 0;
		if (only >= 0 && m != only)
			continue;
		ret = consumer_start(&c[m], (enum mech)m, nfds);
		if (ret < 0) {
			printf("# %s: cannot set up %d watched eventfd%s: %s%s; skipped\n",
			       mech_name[m], nfds, nfds == 1 ? "" : "s",
			       strerror(-ret),
			       m != M_RXU ? "" :
			       ret == -ENOSYS ? " (this module has no FILES_UPDATE)" :
			       ret == -ENOENT ? " (is redox_uring.ko loaded?)" : "");
			consumer_stop(&c[m]);
			continue;
		}
		ok[m] = 1;
	}
}

/*
 * One section (latency or throughput).  run() measures one round of one
 * mechanism into *value; warm() is an unmeasured shorter run.
 */
struct section {
	const char *what;		/* "latency", "throughput" */
	const char *unit;		/* column title */
	const char *fmt;		/* printf format of a value */
	int lower_is_better;
	int nfds;
	int (*run)(struct consumer *c, int warm, double *value);
};

/*
 * Ratio of rxu to mechanism b: of the medians, and the median of the
 * per-round ratios (rounds run side by side, so it cancels slow drift of
 * the machine; both are printed).
 */
static void print_ratio(const char *sep, const char *name, const int *ok,
			double (*v)[MAX_ROUNDS], int rounds, const double *med,
			enum mech b)
{
	double paired[MAX_ROUNDS];
	int r;

	if (!ok[M_RXU] || !ok[b]) {
		printf("%srxu/%s n/a", sep, name);
		return;
	}
	for (r = 0; r < rounds; r++)
		paired[r] = v[M_RXU][r] / v[b][r];
	printf("%srxu/%s %.2f (paired %.2f)", sep, name, med[M_RXU] / med[b],
	       median_double(paired, rounds));
}

static void bench_section(const struct section *sec, int rounds, int only)
{
	static double v[NR_MECH][MAX_ROUNDS];
	double sorted[MAX_ROUNDS], med[NR_MECH];
	struct consumer c[NR_MECH];
	int ok[NR_MECH], i, m, r, ret;
	double value;

	start_all(c, ok, sec->nfds, only);
	for (m = 0; m < NR_MECH; m++)
		if (ok[m] && sec->run(&c[m], 1, &value)) {
			printf("# %s: warm-up failed; skipped\n", mech_name[m]);
			ok[m] = 0;
		}
	/* Rounds alternate; the order rotates so no side always goes first. */
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < NR_MECH; i++) {
			m = (r + i) % NR_MECH;
			if (!ok[m])
				continue;
			ret = sec->run(&c[m], 0, &v[m][r]);
			if (ret) {
				printf("# %s: round %d failed: %s; skipped\n",
				       mech_name[m], r + 1, strerror(-ret));
				ok[m] = 0;
			}
		}
	}
	printf("%-26s %12s %24s\n", "mechanism", sec->unit, "rounds min .. max");
	for (m = 0; m < NR_MECH; m++) {
		if (!ok[m]) {
			if (only < 0 || only == m)
				printf("%-26s %12s\n", mech_name[m], "n/a");
			continue;
		}
		memcpy(sorted, v[m], sizeof(double) * rounds);
		med[m] = median_double(sorted, rounds);
		printf("%-26s ", mech_name[m]);
		printf(sec->fmt, 12, med[m]);
		printf(" ");
		printf(sec->fmt, 12, sorted[0]);
		printf(" .. ");
		printf(sec->fmt, 1, sorted[rounds - 1]);
		printf("\n");
	}
	printf("ratio %s:", sec->what);
	print_ratio(" ", "epoll", ok, v, rounds, med, M_EPOLL);
	print_ratio(", ", "io_uring", ok, v, rounds, med, M_URING);
	printf(sec->lower_is_better ?
	       "  (lower is better; target rxu/epoll <= 1.00)\n" :
	       "  (higher is better)\n");
	for (m = 0; m < NR_MECH; m++)
		if (ok[m])
			consumer_stop(&c[m]);
}

static struct {
	int events;
	long gap_ns;
	int sweeps;
	uint64_t *lat_ns;
} cfg;

/* Latency of one round: the median of its per-event latencies, in us. */
static int latency_round(struct consumer *c, int warm, double *us)
{
	int n = warm ? cfg.events / 10 + 1 : cfg.events;
	int ret = run_latency(c, n, cfg.gap_ns, cfg.lat_ns);

	if (!ret)
		*us = median_u64(cfg.lat_ns, (size_t)n) / 1000;
	return ret;
}

static int throughput_round(struct consumer *c, int warm, double *rate)
{
	return run_throughput(c, warm ? cfg.sweeps / 10 + 1 : cfg.sweeps, rate);
}

static void bench_latency(int rounds, int n, long gap_ns, int only)
{
	const struct section sec = {
		.what = "latency", .unit = "median us", .fmt = "%*.2f",
		.lower_is_better = 1, .nfds = 1, .run = latency_round,
	};

	printf("\n# latency: write() of 1 to an eventfd (t0 before it, writer thread%s) -> the\n"
	       "# consumer%s, blocked in ENTER(min_complete=1) / epoll_wait / io_uring_wait_cqe,\n"
	       "# sees the completion (t1); ping-pong, one event in flight, %ld us gap;\n"
	       "# %d alternating rounds of %d events; median per round, then over rounds\n",
	       ncpus < 2 ? "" : same_cpu ? " on CPU 0" : " on CPU 1",
	       ncpus > 1 ? " on CPU 0" : "", gap_ns / 1000, rounds, n);
	cfg.events = n;
	cfg.gap_ns = gap_ns;
	cfg.lat_ns = calloc((size_t)n, sizeof(*cfg.lat_ns));
	if (!cfg.lat_ns)
		return;
	bench_section(&sec, rounds, only);
	free(cfg.lat_ns);
}

static void bench_throughput(int rounds, int nfds, int sweeps, int only)
{
	const struct section sec = {
		.what = "throughput", .unit = "events/s", .fmt = "%*.0f",
		.lower_is_better = 0, .nfds = nfds, .run = throughput_round,
	};

	printf("\n# throughput: %d eventfds per mechanism, all watched (multi-shot); a writer\n"
	       "# thread%s writes each once per sweep, round-robin, and starts the next sweep\n"
	       "# when the consumer has seen the last one; %d alternating rounds of %d sweeps\n"
	       "# (%ld events); events per second, median over rounds\n",
	       nfds, ncpus < 2 ? "" : same_cpu ? " on CPU 0" : " on CPU 1",
	       rounds, sweeps, (long)nfds * sweeps);
	cfg.sweeps = sweeps;
	raise_nofile(nfds);
	bench_section(&sec, rounds, only);
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-r rounds] [-n events] [-g gap_us] [-f fds] [-s sweeps]\n"
		"          [-m lat|tput|both] [-o rxu|epoll|uring] [-p split|same]\n", argv0);
}

static int number(const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || *end || end == s || *out < min || *out > max;
}

int main(int argc, char **argv)
{
	long rounds = 21, events = 1000, gap_us = 50, nfds = 1000, sweeps = 20;
	int do_lat = 1, do_tput = 1, only = -1, opt, bad = 0;

	while ((opt = getopt(argc, argv, "r:n:g:f:s:m:o:p:h")) != -1) {
		switch (opt) {
		case 'r':
			bad |= number(optarg, 1, MAX_ROUNDS, &rounds);
			break;
		case 'n':
			bad |= number(optarg, 1, 10000000, &events);
			break;
		case 'g':
			bad |= number(optarg, 0, 999999, &gap_us);
			break;
		case 'f':
			bad |= number(optarg, 1, 100000, &nfds);
			break;
		case 's':
			bad |= number(optarg, 1, 1000000, &sweeps);
			break;
		case 'm':
			do_lat = !strcmp(optarg, "lat") || !strcmp(optarg, "both");
			do_tput = !strcmp(optarg, "tput") || !strcmp(optarg, "both");
			bad |= !do_lat && !do_tput;
			break;
		case 'o':
			only = !strcmp(optarg, "rxu") ? M_RXU :
			       !strcmp(optarg, "epoll") ? M_EPOLL :
			       !strcmp(optarg, "uring") ? M_URING : -2;
			bad |= only == -2;
			break;
		case 'p':
			same_cpu = !strcmp(optarg, "same");
			bad |= !same_cpu && strcmp(optarg, "split");
			break;
		default:
			bad = 1;
		}
	}
	if (bad || optind < argc) {
		usage(argv[0]);
		return 2;
	}
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	print_env(argc, argv);
	if (rounds < 5)
		printf("# note: fewer than 5 rounds; medians are fragile\n");
	pin(0);
	if (do_lat)
		bench_latency((int)rounds, (int)events, gap_us * 1000, only);
	if (do_tput)
		bench_throughput((int)rounds, (int)nfds, (int)sweeps, only);
	return 0;
}
