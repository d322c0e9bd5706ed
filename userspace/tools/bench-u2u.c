// SPDX-License-Identifier: MIT
/*
 * bench-u2u: polled user-to-user round trip over redox_uring rings in
 * plain shared memory (no kernel module), against an atomic cache-line
 * ping-pong between the same two processes.
 *
 *   bench-u2u [-r rounds] [-n round trips per run] [-e entries] [-s pause|busy]
 *
 * The parent (the consumer) and a forked child (the producer) share one
 * MAP_SHARED anonymous mapping holding an SQ and a CQ laid out as in
 * ABI.md sections 3 and 4 (header page, 64-byte SQEs; header page,
 * 32-byte CQEs).  One round trip: the consumer pushes an SQE and spins
 * until it pops the CQE; the producer spins until it pops the SQE and
 * pushes a CQE echoing its user_data.  Three mechanisms, in rotating
 * order each round:
 *   pingpong  one shared cache line; the consumer stores 2i+1 and waits
 *             for 2i+2, the producer waits for 2i+1 and stores 2i+2
 *             (C11 atomics, release/acquire): the floor for any polled
 *             exchange between two CPUs;
 *   u2u-lib   librxu's rxu_ring_push() / rxu_ring_pop() on both sides;
 *   u2u-fast  the inline path of u2u-ring.h (cached indices, the popper
 *             prefetching the next slot), same ABI and protocol.
 * Every waiting loop of every mechanism spins the same way: with the
 * CPU's spin-wait hint (PAUSE on x86) by default, or with -s busy as
 * tight loads.  The two processes are pinned to two different CPUs when the affinity
 * mask allows it (failures are ignored).  Prints the median ns per
 * round trip of each and the ratio to the ping-pong (in brackets the
 * median of the per-round ratios).  A benchmark, not a test: it fails
 * only if it cannot run or a round trip returns the wrong entry.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rxu.h"
#include "u2u-ring.h"

#define MAX_ROUNDS	99
#define PAGE		4096UL
#define LINE		128	/* two lines: keep the adjacent-line prefetcher out */

enum mode { M_PING, M_LIB, M_FAST, M_COUNT, M_EXIT = M_COUNT };

static const char *const mode_name[M_COUNT] = {
	"pingpong", "u2u-lib", "u2u-fast",
};
static const char *const mode_desc[M_COUNT] = {
	"atomic cache-line ping-pong",
	"librxu rxu_ring_push/rxu_ring_pop",
	"inline path, cached indices (u2u-ring.h)",
};

/* The control page: each field the other side spins on has a line of its own. */
struct ctl {
	_Alignas(LINE) atomic_ulong gen;	/* parent: start run number gen */
	int mode;
	long iters;
	int pinned;				/* both sides on their own CPU */
	_Alignas(LINE) atomic_ulong done;	/* child: run gen finished */
	atomic_int error;			/* child: what failed */
	_Alignas(LINE) atomic_ulong ping;	/* the ping-pong line */
};

struct shm {
	struct ctl *ctl;
	void *sq_hdr, *sq_ent, *cq_hdr, *cq_ent;
	uint64_t n;
};

static int pinned;
static int spin_pause = 1;	/* -s pause (default) or -s busy */

/* The spin-wait hint: on x86 PAUSE backs off the polling load a little. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}
static pid_t peer_pid;		/* the child, in the parent */
static pid_t parent_pid;	/* the parent, in the child */
static int is_child;

static __attribute__((noreturn)) void die(const char *what, int err)
{
	fprintf(stderr, "bench-u2u: %s: %s\n", what, strerror(err));
	exit(1);
}

/*
 * Spinning's slow path, every 4096 spins: give the CPU away when the two
 * sides could not be pinned apart (they may share one CPU), and now and
 * then make sure the peer is still there so that a crash does not leave
 * the other side spinning for ever.
 */
static __attribute__((noinline)) void spin_slow(unsigned long spins)
{
	if (!pinned)
		sched_yield();
	if (spins & ((1UL << 24) - 1))
		return;
	if (is_child) {
		if (getppid() != parent_pid)
			_exit(1);
	} else if (waitpid(peer_pid, NULL, WNOHANG) != 0) {
		fprintf(stderr, "bench-u2u: the producer process died\n");
		exit(1);
	}
}

static inline void spin(unsigned long *spins)
{
	if (spin_pause)
		cpu_relax();
	if (__builtin_expect(!(++*spins & 4095), 0))
		spin_slow(*spins);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/*
 * Pin process pid (0: ourselves) to the idx-th CPU of our own affinity
 * mask; returns that CPU, or -1 if there is none or it failed.
 */
static int pin_to(pid_t pid, int idx)
{
	cpu_set_t set;
	int cpu, seen = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (seen++ == idx) {
			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			return sched_setaffinity(pid, sizeof(set), &set) ? -1 : cpu;
		}
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* The producer (child)                                                */
/* ------------------------------------------------------------------ */

static int produce_ping(struct ctl *c, long iters)
{
	unsigned long spins = 0;
	long i;

	for (i = 0; i < iters; i++) {
		while (atomic_load_explicit(&c->ping, memory_order_acquire) !=
		       (unsigned long)(2 * i + 1))
			spin(&spins);
		atomic_store_explicit(&c->ping, 2 * i + 2, memory_order_release);
	}
	return 0;
}

static int produce_lib(struct shm *m, long iters)
{
	struct rxu_ring sq, cq;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	unsigned long spins = 0;
	long i;
	int r;

	if (rxu_ring_init(&sq, m->sq_hdr, m->sq_ent, m->n, sizeof(sqe)) ||
	    rxu_ring_init(&cq, m->cq_hdr, m->cq_ent, m->n, sizeof(cqe)))
		return EINVAL;
	for (i = 0; i < iters; i++) {
		while ((r = rxu_ring_pop(&sq, &sqe)) == -EAGAIN)
			spin(&spins);
		if (r)
			return -r;
		cqe = (struct rxu_cqe64){ .user_data = sqe.user_data,
					  .status = sqe.len };
		r = rxu_ring_push(&cq, &cqe);
		if (r)
			return -r;
	}
	return 0;
}

static int produce_fast(struct shm *m, long iters)
{
	struct u2u_side sq, cq;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	unsigned long spins = 0;
	long i;
	int r;

	if (u2u_side_init(&sq, m->sq_hdr, m->sq_ent, m->n, sizeof(sqe), 0) ||
	    u2u_side_init(&cq, m->cq_hdr, m->cq_ent, m->n, sizeof(cqe), 1))
		return EINVAL;
	for (i = 0; i < iters; i++) {
		while ((r = u2u_pop(&sq, &sqe)) == -EAGAIN)
			spin(&spins);
		if (r)
			return -r;
		cqe = (struct rxu_cqe64){ .user_data = sqe.user_data,
					  .status = sqe.len };
		r = u2u_push(&cq, &cqe);
		if (r)
			return -r;
	}
	return 0;
}

static void producer(struct shm *m)
{
	struct ctl *c = m->ctl;
	unsigned long gen = 0, spins = 0;
	int err = 0;

	for (;;) {
		while (atomic_load_explicit(&c->gen, memory_order_acquire) == gen)
			spin(&spins);
		gen++;
		pinned = c->pinned;
		switch (c->mode) {
		case M_PING:
			err = produce_ping(c, c->iters);
			break;
		case M_LIB:
			err = produce_lib(m, c->iters);
			break;
		case M_FAST:
			err = produce_fast(m, c->iters);
			break;
		default:
			_exit(0);
		}
		if (err)
			atomic_store(&c->error, err);
		atomic_store_explicit(&c->done, gen, memory_order_release);
	}
}

/* ------------------------------------------------------------------ */
/* The consumer (parent), which times the runs                         */
/* ------------------------------------------------------------------ */

static void fill_sqe(struct rxu_sqe64 *sqe, long i)
{
	*sqe = (struct rxu_sqe64){
		.opcode = RXU_OP_READ, .fd = 3, .len = 64,
		.user_data = (uint64_t)i,
	};
}

static int consume_ping(struct ctl *c, long iters)
{
	unsigned long spins = 0;
	long i;

	for (i = 0; i < iters; i++) {
		atomic_store_explicit(&c->ping, 2 * i + 1, memory_order_release);
		while (atomic_load_explicit(&c->ping, memory_order_acquire) !=
		       (unsigned long)(2 * i + 2))
			spin(&spins);
	}
	return 0;
}

static int consume_lib(struct shm *m, long iters)
{
	struct rxu_ring sq, cq;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	unsigned long spins = 0;
	long i;
	int r;

	if (rxu_ring_init(&sq, m->sq_hdr, m->sq_ent, m->n, sizeof(sqe)) ||
	    rxu_ring_init(&cq, m->cq_hdr, m->cq_ent, m->n, sizeof(cqe)))
		return EINVAL;
	for (i = 0; i < iters; i++) {
		fill_sqe(&sqe, i);
		r = rxu_ring_push(&sq, &sqe);
		if (r)
			return -r;
		while ((r = rxu_ring_pop(&cq, &cqe)) == -EAGAIN)
			spin(&spins);
		if (r)
			return -r;
		if (cqe.user_data != (uint64_t)i || cqe.status != 64)
			return EBADMSG;
	}
	return 0;
}

static int consume_fast(struct shm *m, long iters)
{
	struct u2u_side sq, cq;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	unsigned long spins = 0;
	long i;
	int r;

	if (u2u_side_init(&sq, m->sq_hdr, m->sq_ent, m->n, sizeof(sqe), 1) ||
	    u2u_side_init(&cq, m->cq_hdr, m->cq_ent, m->n, sizeof(cqe), 0))
		return EINVAL;
	for (i = 0; i < iters; i++) {
		fill_sqe(&sqe, i);
		r = u2u_push(&sq, &sqe);
		if (r)
			return -r;
		while ((r = u2u_pop(&cq, &cqe)) == -EAGAIN)
			spin(&spins);
		if (r)
			return -r;
		if (cqe.user_data != (uint64_t)i || cqe.status != 64)
			return EBADMSG;
	}
	return 0;
}

/* One run of mode with both sides; returns ns per round trip. */
static double run(struct shm *m, int mode, long iters)
{
	struct ctl *c = m->ctl;
	unsigned long gen = atomic_load(&c->gen) + 1, spins = 0;
	double t0, t1;
	int err = 0;

	/* Fresh rings and line: the child sees them after its acquire of gen. */
	rxu_ring_header_reset(m->sq_hdr, m->n);
	rxu_ring_header_reset(m->cq_hdr, m->n);
	atomic_store_explicit(&c->ping, 0, memory_order_relaxed);
	c->mode = mode;
	c->iters = iters;
	atomic_store_explicit(&c->gen, gen, memory_order_release);
	if (mode == M_EXIT)
		return 0;

	t0 = now_ns();
	switch (mode) {
	case M_PING:
		err = consume_ping(c, iters);
		break;
	case M_LIB:
		err = consume_lib(m, iters);
		break;
	case M_FAST:
		err = consume_fast(m, iters);
		break;
	}
	t1 = now_ns();
	if (err)
		die(mode_name[mode], err);
	while (atomic_load_explicit(&c->done, memory_order_acquire) != gen)
		spin(&spins);
	err = atomic_load(&c->error);
	if (err)
		die("producer", err);
	return (t1 - t0) / iters;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static __attribute__((noreturn)) void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-r rounds (7..%d)] [-n round trips per run] [-e ring entries] [-s pause|busy]\n",
		argv0, MAX_ROUNDS);
	exit(2);
}

int main(int argc, char **argv)
{
	static double ns[M_COUNT][MAX_ROUNDS], ratio[M_COUNT][MAX_ROUNDS];
	long iters = 1000000, n = 64;
	int rounds = 7, opt, r, k, cpu0, cpu1;
	size_t sq_len, cq_len, total;
	struct shm m;
	char *base;

	while ((opt = getopt(argc, argv, "r:n:e:s:")) != -1) {
		char *end = "";

		switch (opt) {
		case 's':
			if (!strcmp(optarg, "pause") || !strcmp(optarg, "busy"))
				spin_pause = !strcmp(optarg, "pause");
			else
				usage(argv[0]);
			break;
		case 'r':
			rounds = (int)strtol(optarg, &end, 10);
			break;
		case 'n':
			iters = strtol(optarg, &end, 10);
			break;
		case 'e':
			n = strtol(optarg, &end, 10);
			break;
		default:
			usage(argv[0]);
		}
		if (*end)
			usage(argv[0]);
	}
	if (optind != argc || rounds < 7 || rounds > MAX_ROUNDS || iters < 1 ||
	    n < 1 || n > 65536 || (n & (n - 1)))
		usage(argv[0]);

	sq_len = (n * sizeof(struct rxu_sqe64) + PAGE - 1) & ~(PAGE - 1);
	cq_len = (n * sizeof(struct rxu_cqe64) + PAGE - 1) & ~(PAGE - 1);
	total = PAGE + PAGE + sq_len + PAGE + cq_len;
	base = mmap(NULL, total, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		die("mmap", errno);
	m.ctl = (struct ctl *)base;
	m.sq_hdr = base + PAGE;
	m.sq_ent = base + 2 * PAGE;
	m.cq_hdr = base + 2 * PAGE + sq_len;
	m.cq_ent = base + 3 * PAGE + sq_len;
	m.n = (uint64_t)n;
	rxu_ring_header_reset(m.sq_hdr, m.n);
	rxu_ring_header_reset(m.cq_hdr, m.n);

	parent_pid = getpid();
	peer_pid = fork();
	if (peer_pid < 0)
		die("fork", errno);
	if (!peer_pid) {
		is_child = 1;
		producer(&m);
		_exit(0);
	}
	/*
	 * Pin both from here, the child first (before we take the first
	 * CPU away from it); the child learns whether it may spin without
	 * yielding from the run's control page.
	 */
	cpu1 = pin_to(peer_pid, 1);
	cpu0 = pin_to(0, 0);
	pinned = cpu0 >= 0 && cpu1 >= 0 && cpu0 != cpu1;
	m.ctl->pinned = pinned;

	printf("# command:");
	for (k = 0; k < argc; k++)
		printf(" %s", argv[k]);
	printf("\n# polled u2u round trip, host-native: consumer (parent) on CPU %d, producer (child) on CPU %d%s\n",
	       cpu0, cpu1, pinned ? "" : " (NOT pinned apart: figures are meaningless)");
	printf("# %d rounds x %ld round trips per mechanism, order rotating, %ld-entry rings, 64-byte SQE, 32-byte CQE, spin %s\n",
	       rounds, iters, n, spin_pause ? "with PAUSE" : "busy");

	/* Warm-up: page faults, frequency, the child's pinning. */
	for (k = 0; k < M_COUNT; k++)
		run(&m, k, iters / 10 + 1);
	for (r = 0; r < rounds; r++)
		for (k = 0; k < M_COUNT; k++) {
			int mode = (k + r) % M_COUNT;

			ns[mode][r] = run(&m, mode, iters);
		}
	for (r = 0; r < rounds; r++)
		for (k = 0; k < M_COUNT; k++)
			ratio[k][r] = ns[k][r] / ns[M_PING][r];

	printf("%-10s %-42s %10s %8s %9s\n", "mechanism", "", "ns/rtt",
	       "ratio", "(paired)");
	for (k = 0; k < M_COUNT; k++)
		printf("%-10s %-42s %10.1f %8.2f %9.2f\n", mode_name[k],
		       mode_desc[k], median(ns[k], rounds),
		       median(ns[k], rounds) / median(ns[M_PING], rounds),
		       median(ratio[k], rounds));
	printf("# ratio = median / pingpong median, (paired) = median of per-round ratios; target u2u/pingpong <= 1.5\n");

	run(&m, M_EXIT, 0);
	waitpid(peer_pid, NULL, 0);
	return 0;
}
