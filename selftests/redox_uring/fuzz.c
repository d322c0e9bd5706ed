// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz: a seeded, multi-threaded random/mutated input generator for
 * redox_uring.ko.  Run it only inside the QEMU guest:
 *
 *   selftests/vm/run.sh -k 6.1 -t 600 -- "insmod build/module/<kver>/redox_uring.ko \
 *       && build/selftests/redox_uring/fuzz -s SEED -n N; rmmod redox_uring"
 *
 *   fuzz [-s SEED] [-n OPS] [-t THREADS] [-S PROVIDERS] [-v]
 *
 * Each thread draws an operation kind per step from its own PRNG
 * (seed + thread number) and works on a small pool of instances shared by
 * all threads.  With one thread (-t 1) a seed replays the same sequence of
 * choices; with more, the interleaving (and so the kernel's answers) can
 * differ between runs, the choices of each thread still follow its seed.
 *
 * Every syscall result and CQE status is only counted.  The fuzzer fails
 * (exit 1) only when it crashes (its handler prints the fault address,
 * each thread's kind and a backtrace, then dies of the signal) or when
 * no operation completes for 60 s (alarm() watchdog).
 *
 * Schemes (-S N, default 2; registering needs root, as in the guest;
 * -S 0 turns them off): before any thread, a supervisor process
 * is forked; it keeps one provider process per name fz0 .. fz<N-1>
 * alive, each for a random lifetime (20 ms to 4 s), then SIGKILLs it
 * and starts the next generation.  A provider (seeded by the seed, its
 * name and its generation) registers with a random geometry, 64- or
 * 32-bit entries, maps the data region and answers the kernel's SQEs:
 * mostly right (OPEN/DUP a new handle, READ data in the data region,
 * FSTAT a struct stat ...), some late (up to 30 ms), some never (it then
 * exits within 200 ms, which fails them with EIO), some with garbage:
 * wrong, stale or random user_data, huge/negative/out-of-range statuses,
 * unknown CQE flags, RXU_CQE_PASS_FD of random fds, an answer twice,
 * EVENT CQEs for random handles and masks, unsolicited CQEs.  Half of
 * them opt in to zero-copy READs (RXU_IOC_SCHEME_FEATURES, sometimes
 * with wrong bits or a bad pointer) and answer offered READs with
 * RXU_CQE_ZC_DATA from their own memory, mostly a readable buffer,
 * sometimes their data region or ring pages, an unmapped or kernel
 * address; RXU_CQE_ZC_DATA also comes as garbage on any SQE.  It
 * re-registers now and then (and breaks its own CQ header once in a
 * while).  RECV_IORING is refused, accepted without RXU_IOC_RECV,
 * received with a wrong ticket, a nonzero reserved byte or on the wrong
 * fd, or received (sometimes twice) and then refused or accepted; a
 * received ring is served with right and wrong answers, half-mapped, or
 * abandoned, its pool DUPed and the consumer's ranges (or random ones)
 * mapped.  Workers get four more kinds: "sring" (OPEN of fzN:... paths,
 * forwarded READ/WRITE/SEEK/FSTAT/FSYNC/FTRUNCATE/DUP/CLOSE and
 * FILES_UPDATE subscriptions on scheme fds, through the thread's own
 * kernel ring, which is sometimes closed with requests in flight),
 * "ssys" (read/pread/readv/write/pwrite/writev/lseek/fsync/poll/epoll/
 * fstat/ftruncate/mmap/dup/ioctl on a scheme fd), "su2u" (ATTACH
 * "fzN:", which blocks until answered, then SQEs, doorbells, the pool:
 * DUP, mmap of ranges, read of records; hang up) and "spool" (pool fds
 * from random DUP SQEs: mmap, read, poll).  put_path() also makes fzN:
 * paths for the random OPEN SQEs.
 *
 * Nothing blocks for ever: a provider answers or dies within seconds,
 * and every blocking scheme call runs under a per-thread guard timer
 * (SIGUSR1, no SA_RESTART), usually later than that, sometimes after a
 * few ms (which reaches the kernel's abandon paths: EINTR, the answer
 * dropped, an opened handle closed).  The watchdog's 60 s thus still
 * means a hang.  The workers' own registrations use the names fx*, on
 * which nothing blocks.
 *
 * Safety rules that keep the guest and the fuzzer itself intact:
 *   - user-memory addresses handed to the kernel in SQEs always point into
 *     the submitting thread's scratch area (below 4 GiB, for 32-bit SQEs)
 *     or are invalid on purpose (0, 1, non-canonical);
 *   - WRITE/PWRITE/WRITEV/PWRITEV/FTRUNCATE only target the fuzzer's own
 *     pipes, eventfds and /tmp files;
 *   - CLOSE only targets an fd that an OPEN/DUP SQE gave us (taken out of
 *     the pool first), CLOSE_RANGE only the thread's own dup2()ed range;
 *   - OPEN never creates or truncates outside our /tmp directory;
 *   - MMAP never uses MAP_FIXED / MAP_FIXED_NOREPLACE;
 *   - a ring mapping is touched only while the slot's lock is held and the
 *     slot records it as mapped;
 *   - ENTER with min_complete > 0 always carries a timeout <= 1 ms;
 *   - a blocking call on a scheme fd (or ATTACH "fzN:") only on an fd the
 *     thread owns meanwhile (taken out of the pool, listed in own[] for
 *     the fd GC), with the guard timer armed;
 *   - pool mappings are a few pages (1 GiB would be granted and thrash
 *     the 1 GiB guest); larger sizes only beyond the 1 GiB limit.
 */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "rxu_test.h"
#include "rxt_provider.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define NSLOTS		8
#define NEXTRA		4
#define MAXTHREADS	64
#define POOLMAX		128
#define FDSCAN		1000		/* GC scans [3, FDSCAN) */
#define CR_BASE		1000		/* CLOSE_RANGE ranges above this */
#define CR_SPAN		16
#define NPEND		4096
#define TAG		0xA5000000u

/* Scratch area per thread (MAP_32BIT): [iov area | data area]. */
#define SCR_IOV		1024		/* iovecs */
#define SCR_DATA_OFF	(SCR_IOV * sizeof(struct iovec))
#define SCR_D		16384		/* max I/O length */
#define SCR_SIZE	(SCR_DATA_OFF + 2 * SCR_D + 4096)

enum kind {
	K_SETUP, K_OPEN, K_CREATE, K_MMAP, K_MUNMAP, K_ATTACH, K_ENTER,
	K_PUSH, K_POP, K_SCRIBBLE, K_CLOSE, K_FORK, K_EVQ, K_FDCLOSE,
	K_IOCTL, K_RW, K_SRING, K_SSYS, K_SU2U, K_SPOOL, K_NKINDS
};
static const char *const kind_name[K_NKINDS] = {
	"setup", "open", "create", "mmap", "munmap", "attach", "enter",
	"push", "pop", "scribble", "close", "fork", "evq", "fdclose",
	"ioctl", "rw", "sring", "ssys", "su2u", "spool",
};
/* Weights (per 1000); the scheme kinds are 0 with -S 0. */
static int kind_weight[K_NKINDS] = {
	40, 25, 40, 60, 25, 40, 150, 250, 80, 8, 30, 1, 25, 25, 16, 20,
	60, 50, 30, 15,
};

struct slot {
	pthread_mutex_t mu;
	int fd;
	int created;
	uint32_t cflags;
	uint64_t sq_n, cq_n;
	void *map[RXT_NREGIONS];
	size_t len[RXT_NREGIONS];
	void *xmap[NEXTRA];
	size_t xlen[NEXTRA];
};

enum pkind { P_GEN, P_EVQ, P_INST, P_SCHEME, P_POOL };
struct pool_ent { int fd; int kind; };

struct pend { uint32_t ud; uint8_t op; size_t len; uint64_t fork_gen; };

struct thr {
	int id;
	pthread_t th;
	uint64_t rng;
	uint64_t nops;
	char *scr;
	uint64_t kcount[K_NKINDS];
	uint64_t ktime[K_NKINDS];	/* ns spent per kind */
	uint64_t err[135];	/* syscall results: [0] = success */
	uint64_t cqe_err[135];	/* CQE statuses: [0] = success */
	uint64_t cqes;
	int cur;
	pid_t tid;		/* for the watchdog's kernel stacks */
	/* scheme fuzzing: fds held outside the pool are in own[] for GC */
#define OWN_TS		0	/* ts: kernel ring for scheme SQEs */
#define OWN_TK		1	/* tk: kernel ring for synchronous DUPs */
#define OWN_UC		2	/* uc: a u2u consumer of fz<N> */
#define OWN_UCPOOL	3	/* its pool fd */
#define OWN_TAKEN	4	/* a pool fd in use */
#define NOWN		5
#define NPMAP		8
	int own[NOWN];
	struct rxt ts, tk, uc;
	int ucpool;
	uint32_t sseq;
	void *pmap[NPMAP];	/* pool mappings */
	size_t plen[NPMAP];
	timer_t guard;
};

static struct slot slots[NSLOTS];
static struct thr thr[MAXTHREADS];
static int nthreads = 4;
static uint64_t total_ops = 1000000, seed = 1;
static _Atomic uint64_t ops_issued, ops_done;
static uint64_t wd_last;
static int verbose;
#define NPROV_MAX	2
static int nprov = NPROV_MAX;	/* -S: provider names fz0.. */

static pthread_rwlock_t fdlock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t poolmu = PTHREAD_MUTEX_INITIALIZER;
static struct pool_ent pool[POOLMAX];
static int npool;
static pthread_mutex_t pendmu = PTHREAD_MUTEX_INITIALIZER;
static struct pend pend[NPEND];
static _Atomic uint32_t pend_seq;

/*
 * A fork child that ENTERs an inherited instance runs the parent's SQEs in
 * its own mm and fd table: an address or fd in such a CQE means nothing to
 * us.  fork_gen is odd while a child lives and moves at every fork; results
 * of SQEs queued under another fork_gen are dropped (GC closes the fds).
 */
static _Atomic uint64_t fork_gen;
static int in_child;

static unsigned char preexist[FDSCAN];
static int fd_cap;		/* GC when the lowest free fd reaches this */
static int cr_ok;		/* CLOSE_RANGE ranges usable */

/* Permanent safe targets. */
static int pipes[2][2], evfd[2], devnull, tmpf[2], tmpdirfd;
static char tmpdir[64];

/* --- PRNG --- */
static uint64_t rnd(struct thr *t)
{
	uint64_t x = t->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	t->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t rn(struct thr *t, uint64_t n) { return n ? rnd(t) % n : 0; }
static int chance(struct thr *t, int pct) { return (int)rn(t, 100) < pct; }

static uint64_t rand_u64_interesting(struct thr *t)
{
	static const uint64_t v[] = {
		0, 1, 2, 3, 4, 7, 8, 31, 32, 63, 64, 65, 127, 128, 255, 256,
		4095, 4096, 4097, 32768, 65536, 0x7fffffff, 0x80000000,
		0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL,
		0x8000000000000000ULL, ~0ULL, ~0ULL - 1,
	};

	switch (rn(t, 4)) {
	case 0: return v[rn(t, sizeof(v) / sizeof(v[0]))];
	case 1: return rn(t, 256);
	case 2: return 1ULL << rn(t, 64);
	default: return rnd(t);
	}
}

/* Count a result: 0 or more is success, -1 .. -133 an errno, less "?". */
static void rec(struct thr *t, long r)
{
	int e = r >= 0 ? 0 : r < -134 ? 134 : (int)-r;

	t->err[e]++;
}

static long sysret(long r) { return r < 0 ? -errno : r; }

/* --- fd pool (fds that OPEN/DUP SQEs gave us) --- */
static void pool_add(int fd, int kind)
{
	pthread_mutex_lock(&poolmu);
	if (npool < POOLMAX) {
		pool[npool].fd = fd;
		pool[npool].kind = kind;
		npool++;
		fd = -1;
	}
	pthread_mutex_unlock(&poolmu);
	if (fd >= 0)
		close(fd);
}

/* Take one out (exclusive ownership), or -1. */
static int pool_take(struct thr *t, int *kind)
{
	int fd = -1;

	pthread_mutex_lock(&poolmu);
	if (npool) {
		int i = (int)rn(t, npool);

		fd = pool[i].fd;
		if (kind)
			*kind = pool[i].kind;
		pool[i] = pool[--npool];
	}
	pthread_mutex_unlock(&poolmu);
	return fd;
}

/* Peek (no ownership: only as a number for SQEs). */
static int pool_peek(struct thr *t, int want)
{
	int fd = -1;

	pthread_mutex_lock(&poolmu);
	if (npool) {
		int i = (int)rn(t, npool);

		if (want < 0 || pool[i].kind == want)
			fd = pool[i].fd;
	}
	pthread_mutex_unlock(&poolmu);
	return fd;
}

/* Close fds nobody knows about (lost CQEs of OPEN/DUP). */
static void fd_gc(void)
{
	static unsigned char known[FDSCAN];
	int i, j;

	pthread_rwlock_wrlock(&fdlock);
	memcpy(known, preexist, sizeof(known));
	for (i = 0; i < NSLOTS; i++)
		if (slots[i].fd >= 0 && slots[i].fd < FDSCAN)
			known[slots[i].fd] = 1;
	pthread_mutex_lock(&poolmu);
	for (j = 0; j < npool; j++)
		if (pool[j].fd < FDSCAN)
			known[pool[j].fd] = 1;
	pthread_mutex_unlock(&poolmu);
	for (i = 0; i < nthreads; i++)
		for (j = 0; j < NOWN; j++)
			if (thr[i].own[j] >= 0 && thr[i].own[j] < FDSCAN)
				known[thr[i].own[j]] = 1;
	for (i = 3; i < FDSCAN && i < fd_cap + 64; i++)
		if (!known[i] && fcntl(i, F_GETFD) >= 0)
			close(i);
	pthread_rwlock_unlock(&fdlock);
}

static void fd_pressure(void)
{
	int fd = rxt_lowest_free_fd();

	if (fd < 0 || fd >= fd_cap)
		fd_gc();
}

/* --- pending table: which of our SQEs return an fd or an address --- */
static uint32_t pend_add(uint8_t op, size_t len)
{
	uint32_t s = atomic_fetch_add(&pend_seq, 1) & 0xffffff;
	uint32_t ud = TAG | s;

	pthread_mutex_lock(&pendmu);
	pend[s % NPEND].ud = ud;
	pend[s % NPEND].op = op;
	pend[s % NPEND].len = len;
	pend[s % NPEND].fork_gen = atomic_load(&fork_gen);
	pthread_mutex_unlock(&pendmu);
	return ud;
}

static int pend_take(uint64_t ud, struct pend *out)
{
	int ok = 0;
	uint32_t s;

	if ((ud >> 24) != (TAG >> 24))
		return 0;
	s = ud & 0xffffff;
	pthread_mutex_lock(&pendmu);
	if (pend[s % NPEND].ud == (uint32_t)ud && pend[s % NPEND].op) {
		*out = pend[s % NPEND];
		pend[s % NPEND].op = 0;
		ok = 1;
	}
	pthread_mutex_unlock(&pendmu);
	return ok;
}

/* --- slots --- */
static void slot_unmap_locked(struct slot *s)
{
	int r;

	for (r = 0; r < RXT_NREGIONS; r++) {
		if (s->map[r])
			munmap(s->map[r], s->len[r]);
		s->map[r] = NULL;
	}
	for (r = 0; r < NEXTRA; r++) {
		if (s->xmap[r])
			munmap(s->xmap[r], s->xlen[r]);
		s->xmap[r] = NULL;
	}
}

static int slot_empty(const struct slot *s)
{
	int r;

	if (s->fd >= 0)
		return 0;
	for (r = 0; r < RXT_NREGIONS; r++)
		if (s->map[r])
			return 0;
	return 1;
}

/* Adopt an Initial instance fd that an OPEN of io_uring: gave us. */
static int slot_adopt(int fd)
{
	int i;

	for (i = 0; i < NSLOTS; i++) {
		struct slot *s = &slots[i];

		if (pthread_mutex_trylock(&s->mu))
			continue;
		if (slot_empty(s)) {
			s->fd = fd;
			s->created = 0;
			pthread_mutex_unlock(&s->mu);
			return 1;
		}
		pthread_mutex_unlock(&s->mu);
	}
	return 0;
}

static uint64_t rand_entries(struct thr *t)
{
	return 1ULL << rn(t, 7);	/* 1 .. 64 */
}

/* --- targets for SQEs --- */
static int any_fd(struct thr *t)
{
	int fd;

	switch (rn(t, 12)) {
	case 0: return pipes[rn(t, 2)][rn(t, 2)];
	case 1: return evfd[rn(t, 2)];
	case 2: return devnull;
	case 3: return tmpf[rn(t, 2)];
	case 4: case 5: return slots[rn(t, NSLOTS)].fd;
	case 6: case 7:
		fd = pool_peek(t, -1);
		return fd >= 0 ? fd : evfd[0];
	case 8:
		fd = pool_peek(t, P_EVQ);
		return fd >= 0 ? fd : pipes[0][0];
	case 9: return tmpdirfd;
	case 10: return (int)(0x7fff0000 + rn(t, 16));	/* invalid */
	default: return -1;
	}
}

static int write_fd(struct thr *t)
{
	switch (rn(t, 5)) {
	case 0: return pipes[rn(t, 2)][1];
	case 1: return pipes[rn(t, 2)][0];
	case 2: return evfd[rn(t, 2)];
	case 3: return tmpf[rn(t, 2)];
	default: return -1;
	}
}

static int is_write_fd(int fd)
{
	return fd == pipes[0][0] || fd == pipes[0][1] || fd == pipes[1][0] ||
	       fd == pipes[1][1] || fd == evfd[0] || fd == evfd[1] ||
	       fd == tmpf[0] || fd == tmpf[1];
}

static char *data_area(struct thr *t) { return t->scr + SCR_DATA_OFF; }

/* A buffer in the data area with len <= SCR_D. */
static uint64_t buf_addr(struct thr *t, uint64_t *len)
{
	uint64_t off = rn(t, SCR_D);

	if (*len > SCR_D)
		*len = rn(t, SCR_D + 1);
	return (uint64_t)(uintptr_t)(data_area(t) + off);
}

static uint64_t bad_addr(struct thr *t)
{
	static const uint64_t v[] = { 0, 1, 0xffff800000000000ULL,
				      0x8000000000000000ULL, 4096 };

	return v[rn(t, 5)];
}

/* Fill iovecs [0, cnt) pointing into the data area. */
static uint64_t iov_addr(struct thr *t, uint64_t cnt)
{
	struct iovec *iov = (struct iovec *)t->scr;
	uint64_t i;

	for (i = 0; i < cnt && i < SCR_IOV; i++) {
		size_t l = rn(t, 3) ? rn(t, 512) : rn(t, SCR_D + 1);

		iov[i].iov_len = 0;
		iov[i].iov_base = data_area(t) + rn(t, SCR_D);
		iov[i].iov_len = l;
	}
	return (uint64_t)(uintptr_t)iov;
}

/* Scheme fuzzing, further down. */
static int scheme_path(struct thr *t, char *p);
static void adopt_fd(struct thr *t, int fd);
static void guard_arm(struct thr *t);
static void guard_off(struct thr *t);

/* Put a path into scratch; sets *safe when creating/truncating is OK. */
static uint64_t put_path(struct thr *t, uint64_t *len, int *at, int *safe)
{
	char *p = data_area(t) + SCR_D + 1024;
	int n;

	*at = 0;
	*safe = 0;
	switch (rn(t, nprov ? 12 : 10)) {
	case 0: case 1: n = sprintf(p, "io_uring:"); break;
	case 2: case 3: n = sprintf(p, "event:"); break;
	case 4: n = sprintf(p, "/dev/null"); break;
	case 5: n = sprintf(p, "%s/f%d", tmpdir, (int)rn(t, 4)); *safe = 1;
		break;
	case 6: n = sprintf(p, "f%d", (int)rn(t, 4)); *at = 1; *safe = 1;
		break;
	case 7: n = sprintf(p, "%s", rn(t, 2) ? "/dev/redox_uring" :
			    rn(t, 2) ? "nosuch:x" : ":fz"); break;
	case 8: n = sprintf(p, "%s", rn(t, 2) ? "io_uring:extra" :
			    rn(t, 2) ? "event:x/y" : "io_uring"); break;
	case 10: case 11: n = scheme_path(t, p); break;
	default:
		n = (int)rn(t, 48);
		for (int i = 0; i < n; i++)
			p[i] = (char)rnd(t);
		break;
	}
	*len = rn(t, 20) ? (uint64_t)n : rand_u64_interesting(t) & 0x1fff;
	if (*len > 2048)
		*len = 2048;
	return (uint64_t)(uintptr_t)p;
}

/* OPEN may create/truncate: path under our tmpdir, or relative to it. */
static int path_safe(struct thr *t, const struct rxu_sqe64 *q)
{
	const char *p = (const char *)(uintptr_t)q->addr;
	size_t tl = strlen(tmpdir), l = q->len, i;

	if (l < 1 || l > 4096 || q->addr < (uint64_t)(uintptr_t)t->scr ||
	    q->addr + l > (uint64_t)(uintptr_t)t->scr + SCR_SIZE)
		return 0;
	for (i = 0; i + 1 < l; i++)
		if (p[i] == '.' && p[i + 1] == '.')
			return 0;
	if (memchr(p, 0, l))
		return 0;
	if (l > tl + 1 && !memcmp(p, tmpdir, tl) && p[tl] == '/')
		return 1;
	return (q->syscall_flags & RXU_OPEN_AT) && q->fd == (uint64_t)tmpdirfd &&
	       !memchr(p, '/', l);
}

/*
 * Make an SQE safe for us and the guest, whatever generated it.
 * ud_tracked: set when the op may return an fd/address we must handle.
 */
static void sanitize(struct thr *t, struct rxu_sqe64 *q, int bits32)
{
	uint8_t op = q->opcode;
	uint64_t l;

	/* Memory the kernel may write must be our scratch. */
	if (q->addr) {
		uintptr_t a = (uintptr_t)q->addr;
		uintptr_t lo = (uintptr_t)t->scr, hi = lo + SCR_SIZE;

		if (!(a >= lo && a < hi) && q->addr != 1 &&
		    q->addr != 4096 && q->addr < 0xffff800000000000ULL) {
			l = q->len;
			q->addr = buf_addr(t, &l);
			q->len = l;
		}
	}
	switch (op) {
	case RXU_OP_CLOSE:
	case RXU_OP_CLOSE_RANGE:
		/* Set by the generator from the pool or our range; anything
		 * else becomes a number we never hold. */
		if (q->additional2 != (op == RXU_OP_CLOSE ? 0xc105eULL :
					       0xc1a5eULL))
			q->fd = 0x7ffff000 + rn(t, 16);
		if (op == RXU_OP_CLOSE_RANGE && q->len > CR_SPAN)
			q->len = rn(t, CR_SPAN + 1);
		q->additional2 = 0;
		break;
	case RXU_OP_READ: case RXU_OP_PREAD: case RXU_OP_FSTAT:
	case RXU_OP_WRITE: case RXU_OP_PWRITE:
		if (q->addr >= (uint64_t)(uintptr_t)t->scr &&
		    q->addr < (uint64_t)(uintptr_t)t->scr + SCR_SIZE) {
			l = q->len;
			q->addr = buf_addr(t, &l);
			q->len = l;
		}
		break;
	case RXU_OP_READV: case RXU_OP_PREADV:
	case RXU_OP_WRITEV: case RXU_OP_PWRITEV:
		/* the iovec array is only ever our iov area */
		if (q->len > SCR_IOV)
			q->len = rn(t, 17);
		if (q->addr != (uint64_t)(uintptr_t)t->scr && rn(t, 4))
			q->addr = iov_addr(t, q->len);
		else if (q->addr != (uint64_t)(uintptr_t)t->scr)
			q->addr = rn(t, 2) ? 0 : 0xffff800000000000ULL;
		break;
	case RXU_OP_OPEN:
		if (q->additional2 != 0x5afe || !path_safe(t, q))
			q->offset &= ~(uint64_t)(O_CREAT | O_TRUNC | O_TMPFILE |
						 O_ACCMODE | O_APPEND);
		if (q->len > 4096)
			q->len = 4096;
		q->additional2 = 0;
		break;
	case RXU_OP_MMAP:
		q->additional1 &= ~(uint64_t)(MAP_FIXED | MAP_FIXED_NOREPLACE);
		if (q->len > 65536)
			q->len = 4096 * (1 + rn(t, 16));
		break;
	case RXU_OP_DUP:
		if (q->len > 4096)
			q->len = 4096;
		break;
	default:
		break;
	}
	switch (op) {
	case RXU_OP_WRITE: case RXU_OP_WRITEV: case RXU_OP_PWRITE:
	case RXU_OP_PWRITEV: case RXU_OP_FTRUNCATE:
		if (!is_write_fd((int)q->fd))
			q->fd = 0x7ffff000 + rn(t, 16);
		break;
	default:
		break;
	}
	if (op == RXU_OP_FTRUNCATE && q->offset > (1 << 20))
		q->offset = rn(t, 1 << 20);
	/* fd/addr returning ops: tracked user_data, everything else never
	 * looks like ours. */
	if (op == RXU_OP_OPEN || op == RXU_OP_DUP) {
		q->user_data = pend_add(op, 0);
	} else if (op == RXU_OP_MMAP && !bits32) {
		q->user_data = pend_add(op, q->len);
	} else {
		if (((uint32_t)q->user_data >> 24) == (TAG >> 24))
			q->user_data ^= 0x01000000;
	}
}

static void gen_valid(struct thr *t, struct rxu_sqe64 *q, int *cr_base)
{
	uint64_t l;
	int at, safe, fd;

	memset(q, 0, sizeof(*q));
	q->user_data = rnd(t);
	if (chance(t, 5))
		q->flags = rn(t, 2) ? RXU_SQE_CHAIN : RXU_SQE_DRAIN;
	q->opcode = (uint8_t)rn(t, RXU_OP_STANDARD_LAST);
	switch (q->opcode) {
	case RXU_OP_NOOP:
		break;
	case RXU_OP_OPEN:
		q->addr = put_path(t, &l, &at, &safe);
		q->len = l;
		if (at) {
			q->syscall_flags = RXU_OPEN_AT;
			q->fd = rn(t, 8) ? tmpdirfd : any_fd(t);
			safe = q->fd == (uint64_t)tmpdirfd;
		}
		q->offset = rn(t, 2) ? O_RDWR : O_RDONLY;
		if (chance(t, 30))
			q->offset |= O_NONBLOCK;
		if (chance(t, 30))
			q->offset |= O_CLOEXEC;
		if (safe) {
			if (chance(t, 40))
				q->offset |= O_CREAT;
			if (chance(t, 20))
				q->offset |= O_TRUNC;
			q->additional2 = 0x5afe;
		} else {
			q->offset &= ~(uint64_t)O_ACCMODE;
		}
		q->additional1 = 0600;
		break;
	case RXU_OP_CLOSE:
		fd = pool_take(t, NULL);
		if (fd >= 0) {
			q->fd = fd;
			q->additional2 = 0xc105e;
		}
		break;
	case RXU_OP_CLOSE_RANGE:
		if (cr_ok) {
			int k = (int)rn(t, CR_SPAN) + 1, i;

			for (i = 0; i < k; i++)
				dup2(devnull, cr_base[0] + i);
			q->fd = cr_base[0];
			q->len = k;
			q->additional2 = 0xc1a5e;
		}
		break;
	case RXU_OP_READ: case RXU_OP_PREAD:
		q->fd = any_fd(t);
		l = rn(t, 4) ? rn(t, 256) : rn(t, SCR_D + 1);
		q->addr = buf_addr(t, &l);
		q->len = l;
		q->offset = rn(t, 4096);
		break;
	case RXU_OP_WRITE: case RXU_OP_PWRITE:
		q->fd = write_fd(t);
		l = q->fd == (uint64_t)evfd[0] || q->fd == (uint64_t)evfd[1] ?
			8 : rn(t, 512);
		q->addr = buf_addr(t, &l);
		q->len = l;
		q->offset = rn(t, 65536);
		break;
	case RXU_OP_READV: case RXU_OP_PREADV:
		q->fd = any_fd(t);
		q->len = rn(t, 5);
		q->addr = iov_addr(t, q->len);
		q->offset = rn(t, 4096);
		break;
	case RXU_OP_WRITEV: case RXU_OP_PWRITEV:
		q->fd = write_fd(t);
		q->len = rn(t, 5);
		q->addr = iov_addr(t, q->len);
		q->offset = rn(t, 4096);
		break;
	case RXU_OP_DUP:
		q->fd = any_fd(t);
		if (chance(t, 30)) {
			char *p = data_area(t) + SCR_D + 2048;

			q->syscall_flags = RXU_DUP_PARAM;
			memcpy(p, "pool", 4);
			q->addr = (uint64_t)(uintptr_t)p;
			q->len = rn(t, 3) ? 4 : rn(t, 64);
		}
		break;
	case RXU_OP_MMAP:
		q->fd = rn(t, 3) ? (uint64_t)tmpf[rn(t, 2)] :
			rn(t, 2) ? (uint64_t)slots[rn(t, NSLOTS)].fd : ~0ULL;
		q->len = 4096 * (1 + rn(t, 4));
		q->offset = rn(t, 2) ? 0 : rxt_region_off[rn(t, 4)];
		q->syscall_flags = PROT_READ | (rn(t, 2) ? PROT_WRITE : 0);
		q->additional1 = rn(t, 2) ? MAP_SHARED : MAP_PRIVATE;
		if (q->fd == ~0ULL)
			q->additional1 |= MAP_ANONYMOUS;
		break;
	case RXU_OP_FILES_UPDATE:
		q->fd = any_fd(t);
		q->syscall_flags = rn(t, 8);
		if (chance(t, 50))
			q->flags |= RXU_SQE_SUBSCRIBE;
		q->user_data = rn(t, 64);
		break;
	case RXU_OP_SEEK:
		q->fd = any_fd(t);
		q->offset = rn(t, 2) ? rn(t, 8192) : rand_u64_interesting(t);
		q->syscall_flags = rn(t, 5);
		break;
	case RXU_OP_FSTAT:
		q->fd = any_fd(t);
		l = rn(t, 4) ? sizeof(struct stat) : rn(t, 256);
		q->addr = buf_addr(t, &l);
		q->len = l;
		break;
	case RXU_OP_FSYNC:
		q->fd = any_fd(t);
		q->syscall_flags = rn(t, 2);
		break;
	case RXU_OP_FTRUNCATE:
		q->fd = rn(t, 4) ? tmpf[rn(t, 2)] : any_fd(t);
		q->offset = rn(t, 65536);
		break;
	default:
		break;
	}
}

static void gen_sqe(struct thr *t, struct rxu_sqe64 *q, int bits32)
{
	int cr_base = CR_BASE + t->id * CR_SPAN;
	int m = (int)rn(t, 10);

	uint64_t ofd;
	uint8_t oop;

	if (in_child) {
		/* never anything tracked from a child */
		memset(q, 0, sizeof(*q));
		q->opcode = rn(t, 2) ? RXU_OP_NOOP : RXU_OP_FILES_UPDATE;
		q->fd = (uint64_t)pipes[0][0];
		q->syscall_flags = RXU_EVENT_READ;
		q->flags = rn(t, 2) ? RXU_SQE_SUBSCRIBE : 0;
		return;
	}
	gen_valid(t, q, &cr_base);
	ofd = q->fd;
	oop = q->opcode;
	if (m >= 7 && m < 9) {
		/* mutate a few fields */
		int k = 1 + (int)rn(t, 3);

		while (k--) {
			switch (rn(t, 8)) {
			case 0: q->flags ^= 1 << rn(t, 8); break;
			case 1: q->syscall_flags ^= 1U << rn(t, 32); break;
			case 2: q->len = rand_u64_interesting(t); break;
			case 3: q->offset = rand_u64_interesting(t); break;
			case 4: q->priority = (uint16_t)rnd(t); break;
			case 5: q->fd = rn(t, 2) ? (uint64_t)any_fd(t) :
					rand_u64_interesting(t); break;
			case 6: q->additional1 = rand_u64_interesting(t); break;
			default: q->opcode = (uint8_t)rn(t, 256); break;
			}
		}
		/* markers vouch for the generated fd and opcode only */
		if (q->fd != ofd || q->opcode != oop)
			q->additional2 = 0;
	} else if (m == 9) {
		uint64_t *w = (uint64_t *)q;

		for (int i = 0; i < 8; i++)
			w[i] = rnd(t);
		if (rn(t, 2))
			q->opcode = (uint8_t)rn(t, 256);
		if (rn(t, 2)) {
			uint64_t l = q->len;

			q->addr = rn(t, 2) ? bad_addr(t) : buf_addr(t, &l);
			q->len = l;
		}
		q->additional2 = 0;
	}
	sanitize(t, q, bits32);
}

/* --- ring access, slot lock held --- */
static int ring_ok(struct slot *s)
{
	return s->created && s->map[RXT_SQ_HDR] && s->map[RXT_SQ_ENT] &&
	       s->map[RXT_CQ_HDR] && s->map[RXT_CQ_ENT];
}

static int push_locked(struct thr *t, struct slot *s, int cnt)
{
	void *h = s->map[RXT_SQ_HDR];
	uint64_t n = s->sq_n, head, tail;
	int bits32 = s->cflags & RXU_CREATE_BITS_32, pushed = 0;

	while (cnt--) {
		struct rxu_sqe64 q;
		void *slotp;

		head = rxt_hdr_get(h, RXT_HDR_HEAD);
		tail = rxt_hdr_get(h, RXT_HDR_TAIL);
		if (head >= 2 * n || tail >= 2 * n)
			break;
		if ((head ^ tail) == n && !chance(t, 2))
			break;
		gen_sqe(t, &q, bits32);
		slotp = (char *)s->map[RXT_SQ_ENT] + (tail & (n - 1)) *
			(bits32 ? 32 : 64);
		if (bits32) {
			struct rxu_sqe32 e = {
				.opcode = q.opcode, .flags = q.flags,
				.priority = q.priority,
				.syscall_flags = q.syscall_flags,
				.fd = (uint32_t)q.fd, .len = (uint32_t)q.len,
				.user_data = (uint32_t)q.user_data,
				.addr = (uint32_t)q.addr, .offset = q.offset,
			};
			memcpy(slotp, &e, sizeof(e));
		} else {
			memcpy(slotp, &q, sizeof(q));
		}
		rxt_hdr_set(h, RXT_HDR_TAIL, (tail + 1) % (2 * n));
		rxt_hdr_set(h, RXT_HDR_PUSH_EPOCH,
			    rxt_hdr_get(h, RXT_HDR_PUSH_EPOCH) + 1);
		pushed++;
	}
	return pushed;
}

static void handle_cqe(struct thr *t, uint64_t ud, int64_t st, uint64_t fl)
{
	struct pend p;
	int e = (st < 0 && st >= -4095) ? (int)-st : 0;

	t->cqes++;
	t->cqe_err[e > 134 ? 134 : e]++;
	if (fl & (RXU_CQE_EVENT | RXU_CQE_LAST_UPDATE))
		return;
	if (!pend_take(ud, &p))
		return;
	if (st < 0 || (p.fork_gen & 1) || p.fork_gen != atomic_load(&fork_gen))
		return;
	if (p.op == RXU_OP_MMAP) {
		/* never a scratch area, whoever the answer came from */
		for (int i = 0; i < nthreads; i++)
			if ((uint64_t)st < (uintptr_t)thr[i].scr + SCR_SIZE &&
			    (uintptr_t)thr[i].scr < (uint64_t)st + p.len)
				return;
		if (!(st & 4095) && p.len)
			munmap((void *)(uintptr_t)st, p.len);
		return;
	}
	if (st > 0x7fffffff)
		return;
	/* A new fd: an instance, an event queue, a scheme file, a pool... */
	adopt_fd(t, (int)st);
}

static int pop_locked(struct thr *t, struct slot *s, int max)
{
	void *h = s->map[RXT_CQ_HDR];
	uint64_t n = s->cq_n, head, tail;
	int bits32 = s->cflags & RXU_CREATE_BITS_32, popped = 0;

	while (max--) {
		uint64_t ud, fl;
		int64_t st;
		void *e;

		head = rxt_hdr_get(h, RXT_HDR_HEAD);
		tail = rxt_hdr_get(h, RXT_HDR_TAIL);
		if (head >= 2 * n || tail >= 2 * n || head == tail)
			break;
		if (((tail - head) % (2 * n)) > n)
			break;
		e = (char *)s->map[RXT_CQ_ENT] + (head & (n - 1)) *
			(bits32 ? 16 : 32);
		if (bits32) {
			struct rxu_cqe32 c;

			memcpy(&c, e, sizeof(c));
			ud = c.user_data;
			st = (int32_t)c.status;
			fl = c.flags;
		} else {
			struct rxu_cqe64 c;

			memcpy(&c, e, sizeof(c));
			ud = c.user_data;
			st = (int64_t)c.status;
			fl = c.flags;
		}
		rxt_hdr_set(h, RXT_HDR_HEAD, (head + 1) % (2 * n));
		rxt_hdr_set(h, RXT_HDR_POP_EPOCH,
			    rxt_hdr_get(h, RXT_HDR_POP_EPOCH) + 1);
		handle_cqe(t, ud, st, fl);
		popped++;
	}
	return popped;
}

static long do_enter(struct thr *t, int fd)
{
	struct rxu_enter e = { 0 };

	if (rn(t, 10) < 8) {
		e.min_complete = rn(t, 3) ? 0 : 1 + rn(t, 4);
		e.flags = rn(t, 4) ? 0 : (uint32_t)rn(t, 4);
	} else {
		e.min_complete = rand_u64_interesting(t);
		e.min_submit = rn(t, 4) ? 0 : rand_u64_interesting(t);
		e.flags = (uint32_t)(rn(t, 2) ? rn(t, 8) : rnd(t));
		e.reserved = rn(t, 4) ? 0 : (uint32_t)rnd(t);
	}
	e.timeout_ns = rn(t, 2) ? 1 + rn(t, 1000000) : 0;
	if (e.min_complete && !e.timeout_ns)
		e.timeout_ns = 1 + rn(t, 1000000);
	return rxt_enter_raw(fd, &e);
}

/* --- operations --- */
static struct slot *pick_slot(struct thr *t) { return &slots[rn(t, NSLOTS)]; }

static void op_setup(struct thr *t)
{
	struct slot *s = pick_slot(t);
	uint32_t fl = rn(t, 3) ? 0 : RXU_CREATE_BITS_32;
	uint64_t sq = rand_entries(t), cq = rand_entries(t);
	long r;
	int i;

	pthread_rwlock_rdlock(&fdlock);
	pthread_mutex_lock(&s->mu);
	if (!slot_empty(s)) {
		pthread_mutex_unlock(&s->mu);
		pthread_rwlock_unlock(&fdlock);
		return;
	}
	r = rxt_dev_open();
	rec(t, r);
	if (r < 0)
		goto out;
	s->fd = (int)r;
	s->created = 0;
	r = rxt_create(s->fd, sq, cq, fl);
	rec(t, r);
	if (r != 32)
		goto out;
	s->created = 1;
	s->cflags = fl;
	s->sq_n = sq;
	s->cq_n = cq;
	for (i = 0; i < RXT_NREGIONS; i++) {
		int err = 0;
		size_t len = rxt_region_size(i, sq, cq, fl);
		void *p = rxt_mmap_off(s->fd, rxt_region_off[i], len,
				       MAP_SHARED, &err);

		rec(t, err);
		if (!p)
			goto out;
		s->map[i] = p;
		s->len[i] = len;
	}
	rec(t, rxt_attach_kernel(s->fd));
out:
	pthread_mutex_unlock(&s->mu);
	pthread_rwlock_unlock(&fdlock);
}

static void op_open(struct thr *t)
{
	struct slot *s = pick_slot(t);
	long r;

	pthread_rwlock_rdlock(&fdlock);
	pthread_mutex_lock(&s->mu);
	if (slot_empty(s)) {
		r = rxt_dev_open();
		rec(t, r);
		if (r >= 0) {
			s->fd = (int)r;
			s->created = 0;
		}
	} else if (s->fd < 0 && rn(t, 2)) {
		slot_unmap_locked(s);
	}
	pthread_mutex_unlock(&s->mu);
	pthread_rwlock_unlock(&fdlock);
}

static void op_create(struct thr *t)
{
	struct slot *s = pick_slot(t);
	struct rxu_create_info ci;
	unsigned char buf[80];
	size_t len = 32;
	long r;

	ci = rxt_ci(rand_entries(t), rand_entries(t),
		    rn(t, 2) ? RXU_CREATE_BITS_32 : 0);
	if (chance(t, 30)) {
		switch (rn(t, 8)) {
		case 0: ci.version_major = (uint8_t)rnd(t); break;
		case 1: ci.reserved = (uint8_t)rnd(t); break;
		case 2: ci.flags = (uint32_t)rand_u64_interesting(t); break;
		case 3: ci.len = rand_u64_interesting(t); break;
		case 4: ci.sq_entry_count = rand_u64_interesting(t); break;
		case 5: ci.cq_entry_count = rand_u64_interesting(t); break;
		case 6: len = rn(t, sizeof(buf) + 1); break;
		default:
			ci.version_minor = (uint8_t)rnd(t);
			ci.version_patch = (uint8_t)rnd(t);
			break;
		}
	}
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &ci, sizeof(ci));
	if (len > 32)
		for (size_t i = 32; i < len; i++)
			buf[i] = (uint8_t)rnd(t);
	pthread_mutex_lock(&s->mu);
	if (s->fd >= 0) {
		r = rxt_write(s->fd, buf, len);
		rec(t, r);
		if (r == 32 && !s->created) {
			s->created = 1;
			s->cflags = ci.flags;
			s->sq_n = ci.sq_entry_count;
			s->cq_n = ci.cq_entry_count;
		}
	}
	pthread_mutex_unlock(&s->mu);
}

static void op_mmap(struct thr *t)
{
	struct slot *s = pick_slot(t);
	int r = (int)rn(t, RXT_NREGIONS), i, real = 0;
	uint64_t off;
	size_t len;
	int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED;
	void *p;

	pthread_mutex_lock(&s->mu);
	if (s->fd < 0)
		goto out;
	if (s->created && s->sq_n && s->cq_n && s->sq_n <= 64 &&
	    s->cq_n <= 64)
		len = rxt_region_size(r, s->sq_n, s->cq_n, s->cflags);
	else
		len = 4096;
	off = rxt_region_off[r];
	if (rn(t, 10) < 6) {
		real = 1;
	} else {
		switch (rn(t, 6)) {
		case 0: off = RXU_OFF_SCHEME_DATA; break;
		case 1: off = rn(t, 2) ? off + 4096 * rn(t, 4) : rnd(t) & ~4095ULL;
			break;
		case 2: len = 4096 * (1 + rn(t, 16)); break;
		case 3: flags = MAP_PRIVATE; break;
		case 4: prot = (int)rn(t, 8); break;
		default: len = rn(t, 2) ? len * 2 : (size_t)1 << 40; break;
		}
		if (chance(t, 20))
			flags |= rn(t, 2) ? MAP_POPULATE : MAP_NORESERVE;
	}
	if (real && s->map[r])
		real = 0;
	p = mmap(NULL, len, prot, flags, s->fd, (off_t)off);
	rec(t, p == MAP_FAILED ? -errno : 0);
	if (p == MAP_FAILED)
		goto out;
	if (real && prot == (PROT_READ | PROT_WRITE) && flags == MAP_SHARED &&
	    s->created && len == rxt_region_size(r, s->sq_n, s->cq_n, s->cflags)) {
		s->map[r] = p;
		s->len[r] = len;
		goto out;
	}
	for (i = 0; i < NEXTRA; i++)
		if (!s->xmap[i])
			break;
	if (i == NEXTRA || len > (1 << 20)) {
		munmap(p, len);
	} else {
		s->xmap[i] = p;
		s->xlen[i] = len;
	}
out:
	pthread_mutex_unlock(&s->mu);
}

static void op_munmap(struct thr *t)
{
	struct slot *s = pick_slot(t);
	int r;

	pthread_mutex_lock(&s->mu);
	if (rn(t, 2)) {
		r = (int)rn(t, RXT_NREGIONS);
		if (s->map[r]) {
			/* sometimes only a part */
			if (s->len[r] > 4096 && rn(t, 4) == 0) {
				rec(t, sysret(munmap((char *)s->map[r] + 4096,
						     s->len[r] - 4096)));
				s->len[r] = 4096;
				/* no longer a whole region: move to extras */
				for (int i = 0; i < NEXTRA; i++)
					if (!s->xmap[i]) {
						s->xmap[i] = s->map[r];
						s->xlen[i] = 4096;
						s->map[r] = NULL;
						break;
					}
				if (s->map[r]) {
					munmap(s->map[r], 4096);
					s->map[r] = NULL;
				}
			} else {
				rec(t, sysret(munmap(s->map[r], s->len[r])));
				s->map[r] = NULL;
			}
		}
	} else {
		r = (int)rn(t, NEXTRA);
		if (s->xmap[r]) {
			rec(t, sysret(munmap(s->xmap[r], s->xlen[r])));
			s->xmap[r] = NULL;
		}
	}
	pthread_mutex_unlock(&s->mu);
}

static void op_attach(struct thr *t)
{
	struct slot *s = pick_slot(t);
	char name[64];
	size_t len;
	int fd;

	switch (rn(t, 8)) {
	case 0: case 1: case 2: case 3:
		memcpy(name, "io_uring:", 9); len = 9; break;
	/* our own registrations are fx*: fz* are the supervised providers,
	 * whose requests are always answered or failed in time */
	case 4: len = (size_t)sprintf(name, ":fx%d", (int)rn(t, 3)); break;
	case 5: len = (size_t)sprintf(name, "fz%d:", (int)rn(t, 3)); break;
	case 6: memcpy(name, "io_uring:", 9); len = rn(t, 64); break;
	default:
		len = rn(t, 64);
		for (size_t i = 0; i < len; i++)
			name[i] = (char)rnd(t);
		break;
	}
	fd = s->fd;	/* racy on purpose */
	if (fd < 0)
		return;
	if (chance(t, 5)) {
		struct rxu_attach a = { .name = rn(t, 2) ? 0 : ~0ULL,
					.name_len = rand_u64_interesting(t) };

		rec(t, sysret(ioctl(fd, RXU_IOC_ATTACH, &a)));
	} else {
		/* "fzN:" blocks until the provider answers or dies */
		guard_arm(t);
		rec(t, rxt_attach(fd, name, len));
		guard_off(t);
	}
}

static void op_enter(struct thr *t)
{
	struct slot *s = pick_slot(t);
	int fd = s->fd;		/* racy on purpose: close may run now */

	if (fd < 0)
		return;
	rec(t, do_enter(t, fd));
}

static void op_push(struct thr *t)
{
	struct slot *s = pick_slot(t);
	int fd = -1;

	pthread_mutex_lock(&s->mu);
	if (ring_ok(s)) {
		push_locked(t, s, 1 + (int)rn(t, 8));
		fd = s->fd;
	}
	pthread_mutex_unlock(&s->mu);
	if (fd >= 0 && rn(t, 2))
		rec(t, do_enter(t, fd));
	if (rn(t, 2)) {
		pthread_rwlock_rdlock(&fdlock);
		pthread_mutex_lock(&s->mu);
		if (ring_ok(s))
			pop_locked(t, s, 64);
		pthread_mutex_unlock(&s->mu);
		pthread_rwlock_unlock(&fdlock);
	}
}

static void op_pop(struct thr *t)
{
	struct slot *s = pick_slot(t);

	pthread_rwlock_rdlock(&fdlock);
	pthread_mutex_lock(&s->mu);
	if (ring_ok(s))
		pop_locked(t, s, 256);
	pthread_mutex_unlock(&s->mu);
	pthread_rwlock_unlock(&fdlock);
}

static void op_scribble(struct thr *t)
{
	struct slot *s = pick_slot(t);
	static const size_t offs[] = { RXT_HDR_HEAD, RXT_HDR_TAIL,
				       RXT_HDR_STATUS, RXT_HDR_PUSH_EPOCH,
				       RXT_HDR_POP_EPOCH, RXT_HDR_ENTRY_COUNT };
	void *h;
	int fd;

	pthread_mutex_lock(&s->mu);
	h = s->map[rn(t, 2) ? RXT_SQ_HDR : RXT_CQ_HDR];
	if (h) {
		size_t o = offs[rn(t, 6)];
		uint64_t v = rn(t, 2) ? rand_u64_interesting(t) :
			     rxt_hdr_get(h, o) + rn(t, 3) - 1;

		if (o != RXT_HDR_ENTRY_COUNT || rn(t, 4) == 0)
			rxt_hdr_set(h, o, v);
	}
	fd = s->fd;
	pthread_mutex_unlock(&s->mu);
	if (fd >= 0)
		rec(t, do_enter(t, fd));
}

static void op_close(struct thr *t)
{
	struct slot *s = pick_slot(t);

	pthread_rwlock_rdlock(&fdlock);
	pthread_mutex_lock(&s->mu);
	if (s->fd >= 0) {
		rec(t, sysret(close(s->fd)));
		s->fd = -1;
		s->created = 0;
		/* mappings sometimes outlive the fd */
		if (rn(t, 3))
			slot_unmap_locked(s);
	} else {
		slot_unmap_locked(s);
	}
	pthread_mutex_unlock(&s->mu);
	pthread_rwlock_unlock(&fdlock);
}

static void op_fork(struct thr *t)
{
	pid_t pid;
	int st;

	static pthread_mutex_t forkmu = PTHREAD_MUTEX_INITIALIZER;

	if (pthread_mutex_trylock(&forkmu))
		return;
	atomic_fetch_add(&fork_gen, 1);
	pid = fork();
	if (pid < 0) {
		rec(t, -errno);
		atomic_fetch_add(&fork_gen, 1);
		pthread_mutex_unlock(&forkmu);
		return;
	}
	if (pid == 0) {
		in_child = 1;
		/* No locks here: a few raw ops, then wait for SIGKILL. */
		for (int i = 0; i < 32; i++) {
			struct slot *s = &slots[rn(t, NSLOTS)];
			int fd = s->fd;

			switch (rn(t, 4)) {
			case 0:
				if (fd >= 0)
					do_enter(t, fd);
				break;
			case 1:
				if (fd >= 0)
					close(fd);
				break;
			case 2:
				fd = rxt_dev_open();
				if (fd >= 0) {
					rxt_create(fd, 4, 4, 0);
					rxt_enter_fd(fd, 0, 0, 1000);
				}
				break;
			default:
				if (fd >= 0 && ring_ok(s) && s->sq_n <= 64) {
					push_locked(t, s, 2);
					do_enter(t, fd);
				}
				break;
			}
		}
		pause();
		_exit(0);
	}
	usleep((useconds_t)rn(t, 3000));
	kill(pid, SIGKILL);
	rec(t, sysret(waitpid(pid, &st, 0)));
	atomic_fetch_add(&fork_gen, 1);
	pthread_mutex_unlock(&forkmu);
}

static void op_evq(struct thr *t)
{
	int fd = pool_peek(t, P_EVQ);
	struct rxu_event ev[4];
	int n = 1 + (int)rn(t, 4);

	if (fd < 0)
		return;
	for (int i = 0; i < n; i++) {
		ev[i].id = rn(t, 8) ? (uint64_t)any_fd(t) : rand_u64_interesting(t);
		ev[i].flags = rn(t, 8) ? rn(t, 8) : rand_u64_interesting(t);
		ev[i].data = rnd(t);
	}
	if (rn(t, 3)) {
		rec(t, sysret(write(fd, ev, (size_t)n * sizeof(ev[0]) -
				     (rn(t, 10) ? 0 : 1 + rn(t, 23)))));
	} else {
		/* read ready records (the queue is O_NONBLOCK) */
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		char buf[24 * 8];

		int i, held = 0;

		/* Only while the fd is still in the pool (poolmu held), so it
		 * cannot become another, blocking, file under us. */
		pthread_mutex_lock(&poolmu);
		for (i = 0; i < npool; i++)
			if (pool[i].fd == fd)
				held = 1;
		if (held && fcntl(fd, F_SETFL, O_NONBLOCK) == 0 &&
		    poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN))
			rec(t, sysret(read(fd, buf, 24 * (1 + rn(t, 8)))));
		pthread_mutex_unlock(&poolmu);
	}
}

static void op_fdclose(struct thr *t)
{
	int kind, fd;

	pthread_rwlock_rdlock(&fdlock);
	fd = pool_take(t, &kind);
	pthread_rwlock_unlock(&fdlock);
	if (fd < 0)
		return;
	if (kind == P_INST && rn(t, 2)) {
		/* play with it a little before closing */
		rec(t, rxt_create(fd, rand_entries(t), rand_entries(t), 0));
		rec(t, rxt_enter_fd(fd, 0, 0, 0));
	}
	rec(t, sysret(close(fd)));
}

static void op_ioctl(struct thr *t)
{
	struct slot *s = pick_slot(t);
	unsigned char arg[64];
	unsigned long cmd;
	int fd = s->fd;

	if (fd < 0)
		return;
	for (size_t i = 0; i < sizeof(arg); i++)
		arg[i] = (unsigned char)(rn(t, 2) ? 0 : rnd(t));
	switch (rn(t, 4)) {
	case 0: cmd = RXU_IOC_RECV; break;
	case 1: cmd = _IOC(rn(t, 4), 'x', rn(t, 8), rn(t, 64)); break;
	case 2: cmd = (unsigned long)rnd(t) & 0xffffffff; break;
	default: cmd = RXU_IOC_ENTER ^ (1UL << rn(t, 32)); break;
	}
	/* ENTER-like numbers with garbage args could block: never. */
	if (cmd == RXU_IOC_ENTER)
		cmd = RXU_IOC_RECV;
	rec(t, sysret(ioctl(fd, cmd, rn(t, 8) ? arg : NULL)));
}

static void op_rw(struct thr *t)
{
	struct slot *s = pick_slot(t);
	char buf[256];
	int fd;

	/* Under the slot lock: the fd cannot be closed and reused by a
	 * blocking file (an event queue) between fcntl() and read(). */
	pthread_mutex_lock(&s->mu);
	fd = s->fd;
	if (fd < 0) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	switch (rn(t, 4)) {
	case 0:
		fcntl(fd, F_SETFL, O_NONBLOCK);
		rec(t, sysret(read(fd, buf, rn(t, sizeof(buf)))));
		break;
	case 1: rec(t, sysret(lseek(fd, (off_t)rnd(t), (int)rn(t, 5)))); break;
	case 2: {
		struct stat sb;

		rec(t, sysret(fstat(fd, &sb)));
		break;
	}
	default: {
		int fl = fcntl(fd, F_GETFL);

		rec(t, sysret(fl));
		break;
	}
	}
	pthread_mutex_unlock(&s->mu);
}

/* ------------------------------------------------------------------ */
/* Scheme fuzzing (-S N, default 2): a supervised provider per name    */
/* ------------------------------------------------------------------ */

/*
 * What the providers did, in memory shared by the supervisor, the
 * providers and us (MAP_SHARED before any fork).
 */
struct pstats {
	_Atomic uint64_t regs, reg_fail, rereg, deaths, kills, sqes, ok,
		garbage, delayed, dropped, unsolicited, passfd, recv_ok,
		recv_refused, recv_bad, u2u_sqes, u2u_abandoned, pool_maps,
		zc_optin, zc_answers;
};
static struct pstats *pst;
static pid_t super_pid = -1;

#define PMAXH		256		/* provider handles 1..255 */
#define PMAXDL		64		/* delayed answers */
#define PMAXU		4		/* u2u connections per provider */
#define PMAXPM		4		/* pool mappings per connection */
#define PZBUF		(2 * RXU_SCHEME_ZC_MAX)	/* zero-copy answers' source */

struct pu2u {
	struct rxt r;			/* producer side */
	int used, pool;
	void *pm[PMAXPM];
	size_t pl[PMAXPM];
	uint64_t po[PMAXPM];
};

struct pdelay { uint64_t ud, fl, due; int64_t st; };

struct prov {
	struct thr rng;			/* only its PRNG is used */
	int idx;
	struct rxt t, k;		/* scheme ring, own kernel ring */
	unsigned char *data;
	size_t dlen;
	unsigned char h[PMAXH];
	uint64_t stale[64];
	unsigned int nstale;
	struct pdelay dl[PMAXDL];
	int ndl;
	struct pu2u u[PMAXU];
	int pfd[4];			/* fds worth passing */
	int broken;
	uint64_t die_at;		/* 0, or when to exit */
	unsigned char *zbuf;		/* PZBUF bytes zero-copy answers name */
};

static void prov_later(struct prov *p, uint64_t ud, int64_t st, uint64_t fl,
		       uint64_t ns);

/* Where a zero-copy answer says its bytes are: mostly ours to read. */
static uint64_t prov_zc_addr(struct prov *p)
{
	struct thr *T = &p->rng;

	switch (rn(T, 12)) {
	case 0: return rand_u64_interesting(T);
	case 1: return p->data ? (uintptr_t)p->data + rn(T, p->dlen) : 0;
	case 2: return (uintptr_t)p->t.map[rn(T, RXT_NREGIONS)];
	case 3: return 0xffff888000000000ULL + rn(T, 1 << 30);
	default:
		return p->zbuf ? (uintptr_t)p->zbuf +
				 rn(T, PZBUF - RXU_SCHEME_ZC_MAX) : 0;
	}
}

static void prov_cqe(struct prov *p, uint64_t ud, int64_t st, uint64_t fl)
{
	struct thr *T = &p->rng;
	uint64_t extra = rn(T, 20) ? 0 : rnd(T);
	int i;

	if (fl & RXU_CQE_ZC_DATA)
		extra = prov_zc_addr(p);

	for (i = 0; i < 4; i++) {
		if (!rxtp_push_cqe(&p->t, ud, st, fl, extra))
			return;
		/* full: the doorbell makes the kernel take the CQ */
		if (rxt_enter(&p->t, 0, RXU_ENTER_ONLY_NOTIFY, 0) < 0)
			break;
	}
	p->broken = 1;		/* a broken header: re-register */
}

static int prov_passfd(struct prov *p)
{
	struct thr *T = &p->rng;

	pst->passfd++;
	switch (rn(T, 20)) {
	case 0: return (int)rn(T, 64);			/* maybe closed */
	case 1: return p->k.fd;
	case 2: return -1 - (int)rn(T, 3);
	default: return p->pfd[rn(T, 4)];
	}
}

static int prov_in_data(struct prov *p, uint64_t addr, uint64_t len)
{
	return p->data && addr <= p->dlen && len <= p->dlen - addr;
}

static int prov_new_handle(struct prov *p)
{
	struct thr *T = &p->rng;
	int i, h;

	for (i = 0; i < 8; i++) {
		h = 1 + (int)rn(T, PMAXH - 1);
		if (!p->h[h]) {
			p->h[h] = 1;
			return h;
		}
	}
	return -EMFILE;
}

static void prov_u2u_close(struct prov *p, struct pu2u *u)
{
	int i;

	for (i = 0; i < PMAXPM; i++) {
		if (u->pm[i])
			munmap(u->pm[i], u->pl[i]);
		u->pm[i] = NULL;
	}
	if (u->pool >= 0)
		close(u->pool);
	u->pool = -1;
	rxt_destroy(&u->r);
	u->used = 0;
	(void)p;
}

/* RECV_IORING: accept, refuse, or get it wrong; 1 if answered. */
static int prov_recv(struct prov *p, const struct rxu_sqe64 *s, int64_t *st)
{
	struct thr *T = &p->rng;
	struct rxu_recv_info info;
	struct pu2u *u = NULL;
	int i, err, m = (int)rn(T, 12);

	memset(&info, 0, sizeof(info));
	info.ticket = s->addr;
	switch (m) {
	case 0:
		pst->recv_refused++;
		*st = -ECONNREFUSED;
		return 0;
	case 1:
		pst->recv_bad++;
		*st = 0;		/* accepted without RECV */
		return 0;
	case 2:
		pst->recv_bad++;
		info.ticket = rn(T, 2) ? s->addr ^ (1 + rn(T, 7)) :
			      rand_u64_interesting(T);
		break;
	case 3:
		pst->recv_bad++;
		info.reserved = (uint8_t)(1 + rn(T, 255));
		break;
	case 4:
		pst->recv_bad++;
		ioctl(p->k.fd, RXU_IOC_RECV, &info);	/* EBADFD */
		info.ticket = s->addr;
		break;
	default:
		break;
	}
	for (i = 0; i < PMAXU; i++)
		if (!p->u[i].used)
			break;
	if (i == PMAXU) {
		i = (int)rn(T, PMAXU);
		prov_u2u_close(p, &p->u[i]);
	}
	if (ioctl(p->t.fd, RXU_IOC_RECV, &info) < 0) {
		*st = rn(T, 2) ? -errno : 0;
		return 0;
	}
	u = &p->u[i];
	memset(u, 0, sizeof(*u));
	u->pool = -1;
	u->used = 1;
	u->r.fd = (int)info.producer_fd;
	u->r.flags = (info.flags & RXU_RECV_BITS_32) ? RXU_CREATE_BITS_32 : 0;
	u->r.sq_n = info.sq_entry_count;
	u->r.cq_n = info.cq_entry_count;
	u->r.sqe_size = rxt_sqe_size(u->r.flags);
	u->r.cqe_size = rxt_cqe_size(u->r.flags);
	for (i = 0; i < RXT_NREGIONS; i++) {
		u->r.len[i] = rxt_region_size(i, u->r.sq_n, u->r.cq_n,
					      u->r.flags);
		if (!rn(T, 30))
			continue;	/* half-mapped: never served */
		u->r.map[i] = rxt_mmap_off(u->r.fd, rxt_region_off[i],
					   u->r.len[i], MAP_SHARED, &err);
	}
	if (!rn(T, 10))			/* the ticket is used up: ENOENT */
		ioctl(p->t.fd, RXU_IOC_RECV, &info);
	pst->recv_ok++;
	*st = rn(T, 12) ? 0 : -EPERM;
	return 0;
}

/* The right answer to s (with its side effects), in *st / *fl. */
static void prov_good(struct prov *p, const struct rxu_sqe64 *s, int64_t *st,
		      uint64_t *fl)
{
	struct thr *T = &p->rng;
	uint64_t h = s->fd, n, room;
	int known = h < PMAXH && p->h[h];

	*fl = 0;
	*st = 0;
	switch (s->opcode) {
	case RXU_OP_OPEN:
	case RXU_OP_DUP:
		if (!prov_in_data(p, s->addr, s->len))
			*st = -EFAULT;
		else if (!rn(T, 10))
			*st = rn(T, 2) ? -ENOENT : -EACCES;
		else if (!rn(T, 20)) {
			*fl = RXU_CQE_PASS_FD;
			*st = prov_passfd(p);
		} else if (!rn(T, 50))
			*st = (int64_t)(rnd(T) >> 2);	/* a huge handle */
		else
			*st = prov_new_handle(p);
		break;
	case RXU_OP_READ:
	case RXU_OP_PREAD:
		/* Offered zero-copy: len may exceed the room, additional1. */
		room = s->syscall_flags & RXU_RW_ZC ? s->additional1 : s->len;
		if (!known && rn(T, 4)) {
			*st = -EBADF;
		} else if ((s->syscall_flags & RXU_RW_ZC) && rn(T, 2)) {
			pst->zc_answers++;
			*fl = RXU_CQE_ZC_DATA;
			*st = (int64_t)(rn(T, 3) ? s->len : rn(T, s->len + 1));
		} else if (!prov_in_data(p, s->addr, room)) {
			*st = -EFAULT;
		} else if (!rn(T, 20)) {
			*st = -EAGAIN;
		} else if (room < s->len) {
			n = rn(T, 3) ? room : rn(T, room + 1);
			memset(p->data + s->addr, 'a' + (int)(h % 26), n);
			*st = (int64_t)n;
		} else {
			n = rn(T, 3) ? s->len : rn(T, s->len + 1);
			memset(p->data + s->addr, 'a' + (int)(h % 26), n);
			*st = (int64_t)n;
		}
		break;
	case RXU_OP_WRITE:
	case RXU_OP_PWRITE:
		if (!prov_in_data(p, s->addr, s->len))
			*st = -EFAULT;
		else
			*st = (int64_t)(rn(T, 4) ? s->len : rn(T, s->len + 1));
		break;
	case RXU_OP_SEEK:
		*st = s->syscall_flags == SEEK_SET ?
		      (int64_t)(s->offset & 0x7fffffffffffULL) :
		      (int64_t)rn(T, 1 << 20);
		break;
	case RXU_OP_FSTAT:
		if (!prov_in_data(p, s->addr, s->len) ||
		    s->len < sizeof(struct stat)) {
			*st = -EINVAL;
		} else {
			struct stat sb;

			memset(&sb, 0, sizeof(sb));
			sb.st_mode = S_IFREG | 0600;
			sb.st_size = (off_t)rn(T, 1 << 20);
			sb.st_ino = h;
			memcpy(p->data + s->addr, &sb, sizeof(sb));
		}
		break;
	case RXU_OP_CLOSE:
		if (known)
			p->h[h] = 0;
		break;
	case RXU_OP_FSYNC:
	case RXU_OP_FTRUNCATE:
		*st = known || rn(T, 2) ? 0 : -EBADF;
		break;
	case RXU_OP_RECV_IORING:
		prov_recv(p, s, st);
		break;
	default:
		*st = -ENOSYS;
		break;
	}
}

/* A wrong answer to s (good is what would have been right). */
static void prov_garbage(struct prov *p, const struct rxu_sqe64 *s,
			 int64_t good, uint64_t gfl)
{
	struct thr *T = &p->rng;
	uint64_t ud = s->user_data, fl = gfl;
	int64_t st = good;

	pst->garbage++;
	switch (rn(T, 12)) {
	case 0: st = (int64_t)rand_u64_interesting(T); break;
	case 10: fl = RXU_CQE_ZC_DATA; break;	/* offered or not */
	case 1: st = -(int64_t)rn(T, 5000); break;
	case 2: fl = 1ULL << rn(T, 64); break;
	case 3: fl = RXU_CQE_PASS_FD; st = prov_passfd(p); break;
	case 4: ud ^= 1ULL << rn(T, 40); break;
	case 5:
		ud = p->nstale ? p->stale[rn(T, p->nstale < 64 ?
					       p->nstale : 64)] : rnd(T);
		break;
	case 6: prov_cqe(p, ud, good, gfl); break;	/* twice */
	case 7:
		fl = RXU_CQE_EVENT | (rnd(T) << RXU_CQE_EVENT_SHIFT);
		break;
	case 8: st = good + 1 + (int64_t)rn(T, 1 << 20); break;
	case 9: st = (int64_t)(0xfffff000ULL + rn(T, 0x1000)); break;
	default: fl |= ~0ULL << (3 + rn(T, 61)); break;
	}
	prov_cqe(p, ud, st, fl);
	/*
	 * A CQE that answered nothing (wrong user_data, an EVENT): the
	 * request still waits, so usually answer it right a little later;
	 * else it waits for our death, which then comes soon.
	 */
	if (ud != s->user_data || (fl & RXU_CQE_EVENT)) {
		if (rn(T, 5))
			prov_later(p, s->user_data, good, gfl,
				   rn(T, 20000000));
		else if (!p->die_at)
			p->die_at = rxt_now_ns() + rn(T, 200000000);
	}
}

static void prov_remember(struct prov *p, uint64_t ud)
{
	p->stale[p->nstale++ % 64] = ud;
}

static void prov_sqe(struct prov *p, const struct rxu_sqe64 *s)
{
	struct thr *T = &p->rng;
	int r = (int)rn(T, 100);
	uint64_t fl;
	int64_t st;

	pst->sqes++;
	if (r < 2) {
		/* never answered: EIO at our death, which comes soon */
		pst->dropped++;
		if (!p->die_at)
			p->die_at = rxt_now_ns() + rn(T, 200000000);
		return;
	}
	prov_good(p, s, &st, &fl);
	if (r < 12 && p->ndl < PMAXDL) {
		pst->delayed++;
		prov_later(p, s->user_data, st, fl, rn(T, 30000000));
		return;
	}
	if (r < 22)
		prov_garbage(p, s, st, fl);
	else {
		pst->ok++;
		prov_cqe(p, s->user_data, st, fl);
	}
	prov_remember(p, s->user_data);
	/* a new handle is not ready until it says so */
	if ((s->opcode == RXU_OP_OPEN || s->opcode == RXU_OP_DUP) && st > 0 &&
	    !fl && rn(T, 3))
		prov_cqe(p, (uint64_t)st, 0, RXU_CQE_EVENT |
			 ((uint64_t)(1 + rn(T, 3)) << RXU_CQE_EVENT_SHIFT));
}

static void prov_later(struct prov *p, uint64_t ud, int64_t st, uint64_t fl,
		       uint64_t ns)
{
	struct pdelay *d;

	if (p->ndl == PMAXDL) {
		prov_cqe(p, ud, st, fl);
		return;
	}
	d = &p->dl[p->ndl++];
	d->ud = ud;
	d->st = st;
	d->fl = fl;
	d->due = rxt_now_ns() + ns;
}

static void prov_delayed(struct prov *p)
{
	uint64_t now = rxt_now_ns();
	int i;

	for (i = 0; i < p->ndl; i++) {
		if (p->dl[i].due > now)
			continue;
		prov_cqe(p, p->dl[i].ud, p->dl[i].st, p->dl[i].fl);
		prov_remember(p, p->dl[i].ud);
		p->dl[i--] = p->dl[--p->ndl];
	}
}

static void prov_unsolicited(struct prov *p)
{
	struct thr *T = &p->rng;
	uint64_t h = rn(T, 4) ? rn(T, PMAXH) : rand_u64_interesting(T);

	pst->unsolicited++;
	switch (rn(T, 4)) {
	case 0: case 1:
		prov_cqe(p, h, (int64_t)rnd(T), RXU_CQE_EVENT |
			 ((rn(T, 8) ? 1 + rn(T, 3) : rnd(T)) <<
			  RXU_CQE_EVENT_SHIFT));
		break;
	case 2:
		prov_cqe(p, p->nstale ? p->stale[rn(T, p->nstale < 64 ?
						    p->nstale : 64)] : h,
			 (int64_t)rn(T, 100), 0);
		break;
	default:
		prov_cqe(p, rnd(T), (int64_t)rand_u64_interesting(T),
			 rn(T, 2) ? 0 : rnd(T));
		break;
	}
}

/* One producer ring: answer, learn and map pool ranges, or abandon it. */
static void prov_u2u(struct prov *p, struct pu2u *u)
{
	struct thr *T = &p->rng;
	struct rxu_sqe64 s;
	int i, any = 0, k;

	if (!u->used)
		return;
	for (i = 0; i < RXT_NREGIONS; i++)
		if (!u->r.map[i])
			break;
	if (i < RXT_NREGIONS || !rn(T, 400)) {
		if (i == RXT_NREGIONS || !rn(T, 20)) {
			pst->u2u_abandoned++;
			prov_u2u_close(p, u);
		}
		return;
	}
	for (k = 0; k < 16 && !rxtp_pop_sqe(&u->r, &s); k++) {
		uint64_t ud = rn(T, 10) ? s.user_data : rnd(T);
		int64_t st = rn(T, 4) ? (int64_t)s.len :
			     (int64_t)rand_u64_interesting(T);

		/*
		 * A slot attached to us as a u2u consumer pops these CQEs
		 * as if the kernel had run its SQEs: a tracked user_data
		 * (OPEN/DUP/MMAP) would make it adopt our status as an fd
		 * or munmap() it as an address.  Not a kernel test: never.
		 */
		if (((uint32_t)ud >> 24) == (TAG >> 24))
			ud ^= 0x01000000;

		pst->u2u_sqes++;
		/* read the pool bytes it names, when they are mapped here */
		for (i = 0; i < PMAXPM; i++)
			if (u->pm[i] && s.addr >= u->po[i] &&
			    s.addr - u->po[i] < u->pl[i])
				st += ((volatile unsigned char *)u->pm[i])
					[s.addr - u->po[i]];
		if (rn(T, 30))
			rxtp_push_cqe(&u->r, ud, st, rn(T, 30) ? 0 : rnd(T), 0);
		any = 1;
	}
	if (any || !rn(T, 50))
		rxt_enter(&u->r, 0, rn(T, 4) ? RXU_ENTER_ONLY_NOTIFY : 0,
			  rn(T, 2) ? 0 : 1 + rn(T, 1000000));
	if (u->pool < 0 && !rn(T, 8)) {
		struct rxu_sqe64 d = rxt_sqe(RXU_OP_DUP, (uint64_t)u->r.fd,
					     (uintptr_t)RXU_DUP_PARAM_POOL,
					     strlen(RXU_DUP_PARAM_POOL), 0, 7);
		int64_t fd;

		d.syscall_flags = RXU_DUP_PARAM;
		fd = rxt_run(&p->k, &d);
		u->pool = fd >= 0 && fd < INT32_MAX ? (int)fd : -1;
	}
	if (u->pool >= 0) {
		struct rxu_pool_range rec[4];
		ssize_t n = read(u->pool, rec, rn(T, 8) ? sizeof(rec) :
				 rn(T, sizeof(rec)));

		for (k = 0; n > 0 && k < n / (ssize_t)sizeof(rec[0]); k++) {
			uint64_t off = rec[k].offset, len = rec[k].size;
			void *m;

			for (i = 0; i < PMAXPM; i++)
				if (!u->pm[i])
					break;
			if (i == PMAXPM) {
				i = (int)rn(T, PMAXPM);
				munmap(u->pm[i], u->pl[i]);
				u->pm[i] = NULL;
			}
			if (!rn(T, 6)) {	/* not what it was told */
				off = (rnd(T) % 256) * 4096;
				len = 4096 * (1 + rn(T, 4));
			}
			if (len > (1 << 20) || !len)
				continue;
			m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
				 u->pool, (off_t)off);
			if (m == MAP_FAILED)
				continue;
			pst->pool_maps++;
			((volatile unsigned char *)m)[0]++;
			u->pm[i] = m;
			u->pl[i] = len;
			u->po[i] = off;
		}
	}
	if (rxt_hdr_get(rxt_sqh(&u->r), RXT_HDR_STATUS) & RXU_RING_DROP)
		prov_u2u_close(p, u);
}

/* Opt in to zero-copy READs, mostly rightly. */
static void prov_features(struct prov *p)
{
	struct thr *T = &p->rng;
	struct rxu_scheme_features f = { .features = RXU_SCHEME_FEAT_ZC_READ };

	switch (rn(T, 10)) {
	case 0: f.features = rnd(T); break;
	case 1: f.features = 0; break;
	case 2: f.reserved = 1ULL << rn(T, 64); break;
	case 3:
		ioctl(p->t.fd, RXU_IOC_SCHEME_FEATURES, (void *)rnd(T));
		return;
	default: break;
	}
	if (!ioctl(p->t.fd, RXU_IOC_SCHEME_FEATURES, &f) && f.features)
		pst->zc_optin++;
}

static int prov_register(struct prov *p)
{
	struct thr *T = &p->rng;
	long long size = rxt_param("scheme_data_size");
	char nm[16];
	int err, n;

	p->t = (struct rxt)RXT_INIT;
	err = rxt_open_create(&p->t, 1ULL << rn(T, 7), 1ULL << rn(T, 7),
			      rn(T, 5) ? 0 : RXU_CREATE_BITS_32);
	if (!err)
		err = rxt_map_all(&p->t);
	n = snprintf(nm, sizeof(nm), ":fz%d", p->idx);
	if (!err)
		err = rxt_attach(p->t.fd, nm, (size_t)n);
	if (!err && size > 0) {
		p->dlen = (size_t)size;
		p->data = rxt_mmap_off(p->t.fd, RXU_OFF_SCHEME_DATA, p->dlen,
				       MAP_SHARED, &err);
	}
	if (err) {
		rxt_destroy(&p->t);
		return err;
	}
	memset(p->h, 0, sizeof(p->h));
	p->ndl = 0;
	p->broken = 0;
	p->die_at = 0;
	pst->regs++;
	if (rn(T, 2))
		prov_features(p);
	return 0;
}

static void prov_unregister(struct prov *p)
{
	if (p->data)
		munmap(p->data, p->dlen);
	p->data = NULL;
	rxt_destroy(&p->t);
}

/* The provider process of name fz<idx>, generation gen: serve until killed. */
static __attribute__((noreturn)) void prov_main(int idx, uint64_t gen)
{
	static struct prov P;
	struct prov *p = &P;
	struct thr *T = &p->rng;
	int pp[2], i, err;

	memset(p, 0, sizeof(*p));
	p->idx = idx;
	T->rng = (seed + 1) * 0xD1B54A32D192ED03ULL ^ (gen << 20) ^
		 (uint64_t)idx;
	if (!T->rng)
		T->rng = 1;
	for (i = 0; i < PMAXU; i++)
		p->u[i].pool = -1;
	p->k = (struct rxt)RXT_INIT;
	if (pipe2(pp, O_NONBLOCK) || rxt_setup(&p->k, 4, 4, 0))
		_exit(3);
	p->pfd[0] = pp[0];
	p->pfd[1] = pp[1];
	p->pfd[2] = open("/dev/null", O_RDWR);
	p->pfd[3] = eventfd(1, EFD_NONBLOCK);
	p->zbuf = malloc(PZBUF);
	if (p->zbuf)
		memset(p->zbuf, 'z', PZBUF);
	err = prov_register(p);
	if (err) {
		pst->reg_fail++;
		_exit(err == -EPERM ? 4 : 1);
	}
	for (;;) {
		struct pollfd pf[1 + PMAXU];
		struct rxu_sqe64 s;
		int n = 0, to = p->ndl ? 1 + (int)rn(T, 3) : 20;

		pf[n++] = (struct pollfd){ .fd = p->t.fd, .events = POLLIN };
		for (i = 0; i < PMAXU; i++)
			if (p->u[i].used)
				pf[n++] = (struct pollfd){
					.fd = p->u[i].r.fd, .events = POLLIN };
		poll(pf, (nfds_t)n, rn(T, 4) ? to : 0);
		for (i = 0; i < 64 && !rxtp_pop_sqe(&p->t, &s); i++)
			prov_sqe(p, &s);
		prov_delayed(p);
		if (!rn(T, 30))
			prov_unsolicited(p);
		/* the doorbell: the kernel takes our CQEs, sends more SQEs */
		if (rn(T, 8))
			rxt_enter(&p->t, 0, RXU_ENTER_ONLY_NOTIFY, 0);
		else
			rxt_enter(&p->t, rn(T, 3), 0, 1 + rn(T, 1000000));
		for (i = 0; i < PMAXU; i++)
			prov_u2u(p, &p->u[i]);
		if (p->die_at && rxt_now_ns() >= p->die_at)
			_exit(0);
		if (!rn(T, 20000))	/* a broken header of its own */
			rxt_hdr_set(rxt_cqh(&p->t), RXT_HDR_TAIL, rnd(T));
		if (p->broken || !rn(T, 3000)) {
			/* go away and come back under the same name */
			pst->rereg++;
			prov_unregister(p);
			if (rn(T, 3) == 0)
				_exit(0);
			usleep((useconds_t)rn(T, 2000));
			if (prov_register(p)) {
				pst->reg_fail++;
				_exit(1);
			}
		}
	}
}

static volatile sig_atomic_t super_stop;

static void super_term(int sig)
{
	(void)sig;
	super_stop = 1;
}

/*
 * The supervisor (forked before any thread): keeps one provider per
 * name alive, each for a random lifetime, then SIGKILLs it.  A request
 * in flight is thus always answered or failed with EIO within a few
 * seconds, which keeps blocking scheme syscalls bounded.
 */
static __attribute__((noreturn)) void supervisor(int n)
{
	pid_t child[NPROV_MAX] = { 0 };
	uint64_t deadline[NPROV_MAX] = { 0 }, next[NPROV_MAX] = { 0 };
	uint64_t gen = 0;
	struct thr st = { .rng = (seed + 7) * 0x9E3779B97F4A7C15ULL | 1 };
	struct sigaction sa;
	int i, ws;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = super_term;
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGALRM, SIG_DFL);
	alarm(0);
	while (!super_stop) {
		uint64_t now = rxt_now_ns();

		for (i = 0; i < n; i++) {
			if (child[i] > 0) {
				pid_t r = waitpid(child[i], &ws, WNOHANG);

				if (r == child[i]) {
					child[i] = 0;
					pst->deaths++;
					/* no permission: do not spin */
					next[i] = now + (WIFEXITED(ws) &&
						  WEXITSTATUS(ws) == 4 ?
						  1000000000ULL :
						  rn(&st, 20000000));
				} else if (now >= deadline[i]) {
					pst->kills++;
					kill(child[i], SIGKILL);
					deadline[i] = ~0ULL;
				}
			} else if (now >= next[i]) {
				uint64_t life;
				pid_t pid;

				gen++;
				pid = fork();
				if (pid == 0) {
					signal(SIGTERM, SIG_DFL);
					prov_main(i, gen);
				}
				if (pid < 0) {
					next[i] = now + 10000000;
					continue;
				}
				child[i] = pid;
				switch (rn(&st, 20)) {
				case 0: life = 2000 + rn(&st, 2000); break;
				case 1: case 2: case 3: case 4: case 5:
				case 6: case 7:
					life = 500 + rn(&st, 1500); break;
				default: life = 20 + rn(&st, 480); break;
				}
				deadline[i] = now + life * 1000000ULL;
			}
		}
		usleep(2000);
	}
	for (i = 0; i < n; i++)
		if (child[i] > 0) {
			kill(child[i], SIGKILL);
			waitpid(child[i], NULL, 0);
		}
	_exit(0);
}

static void start_supervisor(void)
{
	pst = mmap(NULL, sizeof(*pst), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pst == MAP_FAILED) {
		perror("fuzz: stats");
		exit(2);
	}
	memset(pst, 0, sizeof(*pst));
	fflush(NULL);
	super_pid = fork();
	if (super_pid < 0) {
		perror("fuzz: fork");
		exit(2);
	}
	if (!super_pid)
		supervisor(nprov);
}

static void stop_supervisor(void)
{
	int i;

	if (super_pid <= 0)
		return;
	kill(super_pid, SIGTERM);
	for (i = 0; i < 5000; i++) {
		if (waitpid(super_pid, NULL, WNOHANG) == super_pid)
			return;
		usleep(1000);
	}
	kill(super_pid, SIGKILL);
	waitpid(super_pid, NULL, 0);
}

/* --- the workers' side --- */

static void guard_handler(int sig) { (void)sig; }

/*
 * Arm this thread's guard: a SIGUSR1 (no SA_RESTART) that interrupts a
 * blocking scheme call.  Usually later than the provider answers or dies
 * (so EIO at death is reached), sometimes early (the abandon paths).
 */
static void guard_arm(struct thr *t)
{
	struct itimerspec it;
	uint64_t ns;
	int r = (int)rn(t, 100);

	if (r < 5)
		ns = 1000 + rn(t, 3000000);
	else if (r < 60)
		ns = 20000000 + rn(t, 280000000);
	else
		ns = 1500000000ULL + rn(t, 2000000000ULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)(ns / 1000000000ULL);
	it.it_value.tv_nsec = (long)(ns % 1000000000ULL);
	timer_settime(t->guard, 0, &it, NULL);
}

static void guard_off(struct thr *t)
{
	struct itimerspec it;

	memset(&it, 0, sizeof(it));
	timer_settime(t->guard, 0, &it, NULL);
}

/* Take one fd of a kind out of the pool, or -1. */
static int pool_take_kind(struct thr *t, int kind)
{
	int fd = -1, i, j, start;

	pthread_mutex_lock(&poolmu);
	start = npool ? (int)rn(t, npool) : 0;
	for (j = 0; j < npool; j++) {
		i = (start + j) % npool;
		if (pool[i].kind != kind)
			continue;
		fd = pool[i].fd;
		pool[i] = pool[--npool];
		break;
	}
	pthread_mutex_unlock(&poolmu);
	return fd;
}

/* What kind of fd a new fd is (fstat/readlink). */
static int fd_kind(int fd, int *is_chr_inst)
{
	struct stat sb;
	char lnk[64], path[64];
	ssize_t n;

	*is_chr_inst = 0;
	if (fstat(fd, &sb))
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, lnk, sizeof(lnk) - 1);
	lnk[n > 0 ? n : 0] = 0;
	if (strstr(lnk, "redox_uring-scheme"))
		return P_SCHEME;
	if (strstr(lnk, "redox_uring-pool"))
		return P_POOL;
	if (strstr(lnk, "redox_uring-event"))
		return P_EVQ;
	if (strstr(lnk, "redox_uring")) {
		*is_chr_inst = S_ISCHR(sb.st_mode);
		return P_INST;
	}
	return P_GEN;
}

static void adopt_fd(struct thr *t, int fd)
{
	int chr, k = fd_kind(fd, &chr);

	if (k < 0)
		return;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (chr && rn(t, 2) && slot_adopt(fd))
		return;
	pool_add(fd, k);
}

static int scheme_path(struct thr *t, char *p)
{
	static const char *const names[] = {
		"f", "a/b", "", "enoent", "hang", "x:y", "../..", "pool",
	};
	int n = sprintf(p, "fz%d:", (int)rn(t, nprov + 1));

	if (rn(t, 8))
		n += sprintf(p + n, "%s%d", names[rn(t, 8)], (int)rn(t, 100));
	else
		while (n < 64 && rn(t, 8))
			p[n++] = (char)rnd(t);
	return n;
}

/* A scheme fd to name in an SQE (not owned: it may be closed meanwhile). */
static int sfd_peek(struct thr *t)
{
	int fd = pool_peek(t, P_SCHEME);

	if (fd < 0)
		fd = pool_peek(t, P_SCHEME);
	return fd >= 0 ? fd : any_fd(t);
}

#define SUD(op, t)	(((uint32_t)(op) << 24) | ((t)->sseq++ & 0xffffff))

static void sring_setup(struct thr *t)
{
	rxt_destroy(&t->ts);
	t->own[OWN_TS] = -1;
	if (!rxt_setup(&t->ts, 1ULL << rn(t, 6), 1ULL << rn(t, 6),
		       rn(t, 4) ? 0 : RXU_CREATE_BITS_32))
		t->own[OWN_TS] = t->ts.fd;
	else
		rxt_destroy(&t->ts);
}

/* Pop the thread's scheme ring; new fds from OPEN/DUP go to the pool. */
static void sring_pop(struct thr *t)
{
	struct rxu_cqe64 c;
	int k;

	for (k = 0; k < 256 && !rxt_pop(&t->ts, &c); k++) {
		uint8_t op = (uint8_t)((uint32_t)c.user_data >> 24);
		int64_t st = (int64_t)c.status;
		int e = (st < 0 && st >= -4095) ? (int)-st : 0;

		t->cqes++;
		t->cqe_err[e > 134 ? 134 : e]++;
		if (c.flags & (RXU_CQE_EVENT | RXU_CQE_LAST_UPDATE))
			continue;
		if ((op == RXU_OP_OPEN || op == RXU_OP_DUP) && st >= 0 &&
		    st < 0x7fffffff)
			adopt_fd(t, (int)st);
	}
}

/* K_SRING: scheme ops through the thread's own kernel ring. */
static void op_sring(struct thr *t)
{
	char *d = data_area(t);
	int n = 1 + (int)rn(t, 4), i, fd;

	pthread_rwlock_rdlock(&fdlock);
	if (t->ts.fd < 0 || !rn(t, 300))
		sring_setup(t);		/* may drop requests in flight */
	if (t->ts.fd < 0)
		goto out;
	for (i = 0; i < n; i++) {
		struct rxu_sqe64 q;
		uint64_t l;

		memset(&q, 0, sizeof(q));
		switch (rn(t, 12)) {
		case 0: case 1: case 2: {
			char *p = d + SCR_D + 1024 + 128 * i;

			q.opcode = RXU_OP_OPEN;
			q.addr = (uintptr_t)p;
			q.len = (uint64_t)scheme_path(t, p);
			q.offset = rn(t, 2) ? O_RDWR : O_RDONLY;
			if (chance(t, 20))
				q.offset |= O_NONBLOCK;
			q.offset |= rn(t, 2) ? O_CLOEXEC : 0;
			break;
		}
		case 3:
			q.opcode = rn(t, 3) ? RXU_OP_READ : rn(t, 2) ?
				   RXU_OP_PREAD : RXU_OP_READV;
			break;
		case 4:
			q.opcode = rn(t, 3) ? RXU_OP_WRITE : rn(t, 2) ?
				   RXU_OP_PWRITE : RXU_OP_PWRITEV;
			break;
		case 5: q.opcode = RXU_OP_SEEK; break;
		case 6: q.opcode = RXU_OP_FSTAT; break;
		case 7: q.opcode = rn(t, 2) ? RXU_OP_FSYNC : RXU_OP_FTRUNCATE;
			break;
		case 8: q.opcode = RXU_OP_DUP; break;
		case 9: case 10: q.opcode = RXU_OP_FILES_UPDATE; break;
		default:
			q.opcode = RXU_OP_CLOSE;
			break;
		}
		if (q.opcode != RXU_OP_OPEN && q.opcode != RXU_OP_CLOSE)
			q.fd = (uint64_t)sfd_peek(t);
		switch (q.opcode) {
		case RXU_OP_READ: case RXU_OP_PREAD:
		case RXU_OP_WRITE: case RXU_OP_PWRITE:
			l = rn(t, 4) ? rn(t, 512) : rn(t, SCR_D + 1);
			q.addr = buf_addr(t, &l);
			q.len = l;
			q.offset = rn(t, 8192);
			break;
		case RXU_OP_READV: case RXU_OP_PWRITEV:
			q.len = rn(t, 5);
			q.addr = iov_addr(t, q.len);
			break;
		case RXU_OP_SEEK:
			q.offset = rn(t, 2) ? rn(t, 8192) :
				   rand_u64_interesting(t);
			q.syscall_flags = (uint32_t)rn(t, 5);
			break;
		case RXU_OP_FSTAT:
			l = rn(t, 4) ? sizeof(struct stat) : rn(t, 256);
			q.addr = buf_addr(t, &l);
			q.len = l;
			break;
		case RXU_OP_FSYNC:
			q.syscall_flags = (uint32_t)rn(t, 2);
			break;
		case RXU_OP_FTRUNCATE:
			q.offset = rn(t, 65536);
			break;
		case RXU_OP_DUP:
			if (rn(t, 3))
				break;
			q.syscall_flags = RXU_DUP_PARAM;
			memcpy(d + SCR_D + 2048, rn(t, 2) ? "pool" : "xyzw", 4);
			q.addr = (uintptr_t)(d + SCR_D + 2048);
			q.len = rn(t, 4) ? 4 : rn(t, 64);
			if (rn(t, 2))	/* a pool of a u2u consumer of ours */
				q.fd = t->uc.fd >= 0 ? (uint64_t)t->uc.fd :
				       (uint64_t)slots[rn(t, NSLOTS)].fd;
			break;
		case RXU_OP_FILES_UPDATE:
			q.syscall_flags = (uint32_t)(rn(t, 8) ? rn(t, 4) :
						     rn(t, 16));
			if (rn(t, 4))
				q.flags = RXU_SQE_SUBSCRIBE;
			break;
		case RXU_OP_CLOSE:
			fd = pool_take_kind(t, P_SCHEME);
			if (fd < 0)
				continue;
			q.fd = (uint64_t)fd;
			break;
		default:
			break;
		}
		q.user_data = SUD(q.opcode, t);
		if (rxt_push(&t->ts, &q) && q.opcode == RXU_OP_CLOSE)
			close((int)q.fd);
	}
	rec(t, rxt_enter(&t->ts, rn(t, 3) ? 0 : 1, 0, 1 + rn(t, 1000000)));
	sring_pop(t);
out:
	pthread_rwlock_unlock(&fdlock);
}

/* K_SSYS: a blocking syscall on a scheme fd we own meanwhile. */
static void op_ssys(struct thr *t)
{
	char *d = data_area(t);
	size_t l = rn(t, 4) ? rn(t, 600) : rn(t, SCR_D + 1);
	int fd, keep = rn(t, 10) != 0;
	long r = 0;	/* lseek's answer is the provider's: any off_t */
	off_t o = (off_t)rn(t, 8192);

	pthread_rwlock_rdlock(&fdlock);
	fd = pool_take_kind(t, P_SCHEME);
	t->own[OWN_TAKEN] = fd;
	pthread_rwlock_unlock(&fdlock);
	if (fd < 0)
		return;
	guard_arm(t);
	switch (rn(t, 16)) {
	case 0: case 1: r = sysret(read(fd, d, l)); break;
	case 2: r = sysret(pread(fd, d, l, o)); break;
	case 3: r = sysret(readv(fd, (struct iovec *)(uintptr_t)
				       iov_addr(t, 3), (int)rn(t, 4))); break;
	case 4: case 5: r = sysret(write(fd, d, l)); break;
	case 6: r = sysret(pwrite(fd, d, l, o)); break;
	case 7: r = sysret(writev(fd, (struct iovec *)(uintptr_t)
					iov_addr(t, 3), (int)rn(t, 4))); break;
	case 8: r = sysret(lseek(fd, rn(t, 2) ? o : (off_t)rnd(t),
				      (int)rn(t, 5))); break;
	case 9: r = sysret(rn(t, 2) ? fsync(fd) : fdatasync(fd)); break;
	case 10: {
		struct pollfd pf = { .fd = fd, .events = (short)(rn(t, 2) ?
					POLLIN | POLLOUT : rnd(t)) };

		r = sysret(poll(&pf, 1, (int)rn(t, 5)));
		break;
	}
	case 11: {
		int ep = epoll_create1(EPOLL_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT |
					  (rn(t, 2) ? EPOLLET : 0) };

		if (ep < 0)
			break;
		r = sysret(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
		if (!r)
			r = sysret(epoll_wait(ep, &ev, 1, (int)rn(t, 3)));
		close(ep);
		break;
	}
	case 12: {
		struct stat sb;

		r = sysret(rn(t, 2) ? fstat(fd, &sb) :
				ftruncate(fd, (off_t)rn(t, 9000)));
		break;
	}
	case 13: {
		void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);

		r = m == MAP_FAILED ? -errno : 0;
		if (m != MAP_FAILED)
			munmap(m, 4096);
		break;
	}
	case 14: {
		int nfd = dup(fd);

		r = sysret(nfd);
		if (nfd >= 0) {
			pthread_rwlock_rdlock(&fdlock);
			pool_add(nfd, P_SCHEME);
			pthread_rwlock_unlock(&fdlock);
		}
		break;
	}
	default:
		r = sysret(ioctl(fd, rn(t, 2) ? FIONREAD :
				      (unsigned long)rnd(t) & 0xffffffff, d));
		break;
	}
	guard_off(t);
	rec(t, r);
	pthread_rwlock_rdlock(&fdlock);
	t->own[OWN_TAKEN] = -1;
	if (keep)
		pool_add(fd, P_SCHEME);
	else
		close(fd);
	pthread_rwlock_unlock(&fdlock);
}

static void pmap_put(struct thr *t, void *m, size_t len)
{
	int i = (int)rn(t, NPMAP);

	if (t->pmap[i])
		munmap(t->pmap[i], t->plen[i]);
	t->pmap[i] = m;
	t->plen[i] = len;
}

/* mmap a range of a pool fd: mostly sane, sometimes not. */
static void pool_mmap(struct thr *t, int fd)
{
	uint64_t off = rn(t, 256) * 4096;
	size_t len = 4096 * (1 + rn(t, 8));
	int flags = MAP_SHARED, prot = PROT_READ | PROT_WRITE;
	void *m;

	switch (rn(t, 12)) {
	case 0: off += 1 + rn(t, 4095); break;
	/* over the 1 GiB a connection may have: refused before any
	 * allocation (1 GiB itself would be granted, and thrash the guest) */
	case 1: len = (size_t)1 << (31 + rn(t, 2)); break;
	case 2: flags = MAP_PRIVATE; break;
	case 3: off = rand_u64_interesting(t) & ~4095ULL; break;
	case 4: prot = (int)rn(t, 8); break;
	default: break;
	}
	m = mmap(NULL, len, prot, flags, fd, (off_t)off);
	rec(t, m == MAP_FAILED ? -errno : 0);
	if (m == MAP_FAILED)
		return;
	if (prot & PROT_WRITE)
		memset(m, (int)t->id, 64);
	pmap_put(t, m, len);
}

/* K_SU2U: a u2u consumer of fz<N>: attach (blocking), use, drop. */
static void op_su2u(struct thr *t)
{
	struct rxt *u = &t->uc;
	char nm[16];
	int n, i;

	if (u->fd < 0) {
		int err;

		pthread_rwlock_rdlock(&fdlock);
		err = rxt_open_create(u, 1ULL << rn(t, 5), 1ULL << rn(t, 5),
				      rn(t, 4) ? 0 : RXU_CREATE_BITS_32);
		if (!err)
			t->own[OWN_UC] = u->fd;
		pthread_rwlock_unlock(&fdlock);
		if (!err && rn(t, 20))
			err = rxt_map_all(u);
		n = snprintf(nm, sizeof(nm), "fz%d:", (int)rn(t, nprov + 1));
		if (!err) {
			guard_arm(t);
			err = rxt_attach(u->fd, nm, (size_t)n);
			guard_off(t);
			rec(t, err);
			/* refused: the rings may attach elsewhere */
			if (err && rn(t, 3) == 0)
				err = rxt_attach(u->fd, RXU_SCHEME_KERNEL,
						 strlen(RXU_SCHEME_KERNEL)) ?: -1;
		}
		if (err) {
			pthread_rwlock_rdlock(&fdlock);
			rxt_destroy(u);
			t->own[OWN_UC] = -1;
			pthread_rwlock_unlock(&fdlock);
		}
		return;
	}
	switch (rn(t, 10)) {
	case 0: case 1: case 2: case 3: {	/* push, doorbell, pop */
		struct rxu_cqe64 c;

		n = 1 + (int)rn(t, 4);
		for (i = 0; i < n; i++) {
			struct rxu_sqe64 q;
			uint64_t *w = (uint64_t *)&q;

			for (int k = 0; k < 8; k++)
				w[k] = rn(t, 2) ? rnd(t) : rn(t, 4096);
			q.addr = rn(t, 256) * 4096 + rn(t, 4096);
			q.len = rn(t, 8192);
			if (rxt_push(u, &q) == -EOVERFLOW) {
				q.addr &= 0xffffffff;
				q.len &= 0xffff;
				q.additional1 = q.additional2 = 0;
				q.fd &= 0xffffffff;
				q.user_data &= 0xffffffff;
				rxt_push(u, &q);
			}
		}
		rec(t, rxt_enter(u, rn(t, 3) ? 0 : 1, rn(t, 4) ? 0 :
				 RXU_ENTER_ONLY_NOTIFY, 1 + rn(t, 1000000)));
		while (!rxt_pop(u, &c))
			t->cqes++;
		break;
	}
	case 4: case 5: {			/* its pool */
		if (t->ucpool < 0) {
			struct rxu_sqe64 q = rxt_sqe(RXU_OP_DUP,
				(uint64_t)u->fd, (uintptr_t)RXU_DUP_PARAM_POOL,
				strlen(RXU_DUP_PARAM_POOL), 0, 9);
			int64_t fd;

			q.syscall_flags = RXU_DUP_PARAM;
			pthread_rwlock_rdlock(&fdlock);
			fd = t->tk.fd >= 0 ? rxt_run(&t->tk, &q) : -EBADF;
			if (fd >= 0 && fd < 0x7fffffff)
				t->own[OWN_UCPOOL] = t->ucpool = (int)fd;
			pthread_rwlock_unlock(&fdlock);
			rec(t, fd < 0 ? fd : 0);
		}
		if (t->ucpool >= 0)
			pool_mmap(t, t->ucpool);
		break;
	}
	case 6: {
		struct rxu_pool_range rec_[8];

		if (t->ucpool >= 0)
			rec(t, sysret(read(t->ucpool, rec_,
					   rn(t, 2) ? sizeof(rec_) :
					   rn(t, sizeof(rec_)))));
		break;
	}
	case 7:
		i = (int)rn(t, NPMAP);
		if (t->pmap[i]) {
			munmap(t->pmap[i], t->plen[i]);
			t->pmap[i] = NULL;
		}
		break;
	default:				/* hang up */
		pthread_rwlock_rdlock(&fdlock);
		if (rn(t, 2))
			rxt_destroy(u);		/* unmap first, then close */
		else {
			close(u->fd);
			rxt_unmap(u);
		}
		u->fd = -1;
		t->own[OWN_UC] = -1;
		if (t->ucpool >= 0 && rn(t, 2)) {
			close(t->ucpool);
			t->own[OWN_UCPOOL] = t->ucpool = -1;
		}
		pthread_rwlock_unlock(&fdlock);
		break;
	}
}

/* K_SPOOL: pool fds that random DUP SQEs made. */
static void op_spool(struct thr *t)
{
	struct rxu_pool_range r[8];
	struct pollfd pf;
	int fd;

	pthread_rwlock_rdlock(&fdlock);
	fd = pool_take_kind(t, P_POOL);
	t->own[OWN_TAKEN] = fd;
	pthread_rwlock_unlock(&fdlock);
	if (fd < 0) {
		if (t->ucpool >= 0 && rn(t, 2))
			pool_mmap(t, t->ucpool);
		return;
	}
	switch (rn(t, 4)) {
	case 0: case 1: pool_mmap(t, fd); break;
	case 2:
		rec(t, sysret(read(fd, r, rn(t, 2) ? sizeof(r) :
				   rn(t, sizeof(r)))));
		break;
	default:
		pf = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT };
		rec(t, sysret(poll(&pf, 1, 0)));
		break;
	}
	pthread_rwlock_rdlock(&fdlock);
	t->own[OWN_TAKEN] = -1;
	if (rn(t, 6))
		pool_add(fd, P_POOL);
	else
		close(fd);
	pthread_rwlock_unlock(&fdlock);
}

static void thr_scheme_init(struct thr *t)
{
	struct sigevent sev;
	int i;

	for (i = 0; i < NOWN; i++)
		t->own[i] = -1;
	t->ts = (struct rxt)RXT_INIT;
	t->tk = (struct rxt)RXT_INIT;
	t->uc = (struct rxt)RXT_INIT;
	t->ucpool = -1;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGUSR1;
	sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &t->guard)) {
		perror("fuzz: timer_create");
		exit(2);
	}
	if (!nprov)
		return;
	pthread_rwlock_rdlock(&fdlock);
	if (!rxt_setup(&t->tk, 4, 4, 0))
		t->own[OWN_TK] = t->tk.fd;
	sring_setup(t);
	pthread_rwlock_unlock(&fdlock);
}

static void thr_scheme_fini(struct thr *t)
{
	int i;

	rxt_destroy(&t->ts);
	rxt_destroy(&t->tk);
	rxt_destroy(&t->uc);
	if (t->ucpool >= 0)
		close(t->ucpool);
	for (i = 0; i < NPMAP; i++)
		if (t->pmap[i])
			munmap(t->pmap[i], t->plen[i]);
	timer_delete(t->guard);
}

static void *worker(void *arg)
{
	struct thr *t = arg;
	int total = 0;

	t->tid = (pid_t)syscall(SYS_gettid);
	thr_scheme_init(t);

	for (int k = 0; k < K_NKINDS; k++)
		total += kind_weight[k];
	for (;;) {
		uint64_t n = atomic_fetch_add(&ops_issued, 1), t0;
		int w, k;

		if (n >= total_ops)
			break;
		w = (int)rn(t, total);
		for (k = 0; k < K_NKINDS - 1; k++) {
			if (w < kind_weight[k])
				break;
			w -= kind_weight[k];
		}
		if (k == K_FORK && !rn(t, 2))
			k = K_ENTER;
		t->cur = k;
		t->kcount[k]++;
		t0 = rxt_now_ns();
		if ((n & 255) == 0)
			fd_pressure();
		switch (k) {
		case K_SETUP: op_setup(t); break;
		case K_OPEN: op_open(t); break;
		case K_CREATE: op_create(t); break;
		case K_MMAP: op_mmap(t); break;
		case K_MUNMAP: op_munmap(t); break;
		case K_ATTACH: op_attach(t); break;
		case K_ENTER: op_enter(t); break;
		case K_PUSH: op_push(t); break;
		case K_POP: op_pop(t); break;
		case K_SCRIBBLE: op_scribble(t); break;
		case K_CLOSE: op_close(t); break;
		case K_FORK: op_fork(t); break;
		case K_EVQ: op_evq(t); break;
		case K_FDCLOSE: op_fdclose(t); break;
		case K_IOCTL: op_ioctl(t); break;
		case K_SRING: op_sring(t); break;
		case K_SSYS: op_ssys(t); break;
		case K_SU2U: op_su2u(t); break;
		case K_SPOOL: op_spool(t); break;
		default: op_rw(t); break;
		}
		t->ktime[k] += rxt_now_ns() - t0;
		t->cur = -1;
		t->nops++;
		atomic_fetch_add(&ops_done, 1);
		if (verbose && t->id == 0 && (t->nops % 100000) == 0)
			fprintf(stderr, "fuzz: %" PRIu64 " ops\n",
				(uint64_t)atomic_load(&ops_done));
	}
	pthread_rwlock_rdlock(&fdlock);
	thr_scheme_fini(t);
	pthread_rwlock_unlock(&fdlock);
	return NULL;
}

/*
 * A crash of ours (SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGABRT): say where
 * (fault address, what each thread was doing, a backtrace with offsets
 * for addr2line), then die of the same signal (SA_RESETHAND).
 */
static void crash(int sig, siginfo_t *si, void *uc)
{
	void *bt[32];
	char msg[200];
	int n;

	(void)uc;
	/*
	 * A fork child (op_fork) reads the slots without locks, from a
	 * snapshot taken while other threads were changing them: it may
	 * fault on a ring just unmapped.  It is about to be killed anyway.
	 */
	if (in_child)
		return;
	n = snprintf(msg, sizeof(msg), "fuzz: CRASH: signal %d at address %p"
		     " (seed %" PRIu64 ", %" PRIu64 " ops); thread ops:",
		     sig, si->si_addr, seed, (uint64_t)atomic_load(&ops_done));
	if (write(2, msg, (size_t)n) < 0)
		return;
	for (int i = 0; i < nthreads; i++) {
		n = snprintf(msg, sizeof(msg), " %d:%s", i,
			     thr[i].cur >= 0 ? kind_name[thr[i].cur] : "-");
		if (write(2, msg, (size_t)n) < 0)
			return;
	}
	if (write(2, "\n", 1) < 0)
		return;
	n = backtrace(bt, 32);
	backtrace_symbols_fd(bt, n, 2);
}

/* Copy a (small) file to stderr with async-signal-safe calls only. */
static void dump_file(const char *path)
{
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(2, buf, (size_t)n) < 0)
			break;
	close(fd);
}

/*
 * What a hang looks like from here: each worker's kernel stack (root
 * only; the guest is root) and the module's /proc/redox_uring.
 */
static void dump_hang(void)
{
	char path[64], msg[64];
	int i, n;

	for (i = 0; i < nthreads; i++) {
		if (thr[i].tid <= 0)
			continue;
		n = snprintf(msg, sizeof(msg), "fuzz: thread %d (%s), kernel stack:\n",
			     i, thr[i].cur >= 0 ? kind_name[thr[i].cur] : "-");
		if (write(2, msg, (size_t)n) < 0)
			return;
		snprintf(path, sizeof(path), "/proc/self/task/%d/stack", thr[i].tid);
		dump_file(path);
	}
	if (write(2, "fuzz: /proc/redox_uring:\n", 25) < 0)
		return;
	dump_file("/proc/redox_uring");
}

static void watchdog(int sig)
{
	uint64_t d = atomic_load(&ops_done);
	char msg[160];
	int n;

	(void)sig;
	if (d == wd_last) {
		n = snprintf(msg, sizeof(msg),
			     "fuzz: FAIL: no progress for 60 s at %" PRIu64
			     " ops (seed %" PRIu64 "); thread ops:", d, seed);
		if (write(2, msg, (size_t)n) < 0)
			_exit(1);
		for (int i = 0; i < nthreads; i++) {
			n = snprintf(msg, sizeof(msg), " %d:%s", i,
				     thr[i].cur >= 0 ? kind_name[thr[i].cur] :
				     "-");
			if (write(2, msg, (size_t)n) < 0)
				break;
		}
		if (write(2, "\n", 1) < 0)
			_exit(1);
		dump_hang();
		_exit(1);
	}
	wd_last = d;
	alarm(60);
}

static void setup_fds(void)
{
	struct rlimit rl;
	char p[96];
	int i;

	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		rlim_t want = CR_BASE + MAXTHREADS * CR_SPAN + 16;

		if (rl.rlim_cur < want) {
			rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
			setrlimit(RLIMIT_NOFILE, &rl);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
		cr_ok = rl.rlim_cur >= (rlim_t)(CR_BASE + nthreads * CR_SPAN);
		fd_cap = rl.rlim_cur > 700 ? 600 : (int)rl.rlim_cur * 3 / 4;
	} else {
		fd_cap = 200;
	}
	if (rxt_tmpdir(tmpdir, sizeof(tmpdir))) {
		perror("fuzz: tmpdir");
		exit(2);
	}
	for (i = 0; i < 2; i++) {
		if (pipe2(pipes[i], O_NONBLOCK | O_CLOEXEC)) {
			perror("pipe2");
			exit(2);
		}
		evfd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		snprintf(p, sizeof(p), "%s/t%d", tmpdir, i);
		tmpf[i] = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	}
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	tmpdirfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (evfd[0] < 0 || evfd[1] < 0 || tmpf[0] < 0 || tmpf[1] < 0 ||
	    devnull < 0 || tmpdirfd < 0) {
		perror("fuzz: setup");
		exit(2);
	}
	for (i = 0; i < FDSCAN; i++)
		preexist[i] = fcntl(i, F_GETFD) >= 0;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	uint64_t kc[K_NKINDS] = { 0 }, er[135] = { 0 }, ce[135] = { 0 };
	uint64_t kt[K_NKINDS] = { 0 };
	uint64_t cqes = 0;
	double el;
	int c, i;

	while ((c = getopt(argc, argv, "s:n:t:S:v")) != -1) {
		switch (c) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': total_ops = strtoull(optarg, NULL, 0); break;
		case 't': nthreads = atoi(optarg); break;
		case 'S': nprov = atoi(optarg); break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-n OPS] [-t THREADS] [-S PROVIDERS] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	if (nthreads < 1 || nthreads > MAXTHREADS) {
		fprintf(stderr, "fuzz: 1 <= threads <= %d\n", MAXTHREADS);
		return 2;
	}
	if (nprov < 0 || nprov > NPROV_MAX) {
		fprintf(stderr, "fuzz: 0 <= providers <= %d\n", NPROV_MAX);
		return 2;
	}
	if (!nprov)
		for (i = K_SRING; i < K_NKINDS; i++)
			kind_weight[i] = 0;
	if (rxt_dev_missing()) {
		fprintf(stderr, "fuzz: %s missing (module not loaded?)\n",
			rxt_dev_path());
		return 2;
	}
	/* the supervisor first, while we have no threads and few fds */
	if (nprov)
		start_supervisor();
	signal(SIGPIPE, SIG_IGN);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = guard_handler;	/* no SA_RESTART: EINTR */
		sigaction(SIGUSR1, &sa, NULL);
	}
	setup_fds();
	for (i = 0; i < NSLOTS; i++) {
		pthread_mutex_init(&slots[i].mu, NULL);
		slots[i].fd = -1;
	}
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = watchdog;
		sa.sa_flags = 0;	/* a stuck read() gets EINTR */
		sigaction(SIGALRM, &sa, NULL);
		alarm(60);
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = crash;
		sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
		sigaction(SIGFPE, &sa, NULL);
		sigaction(SIGILL, &sa, NULL);
		sigaction(SIGABRT, &sa, NULL);
	}
	printf("fuzz: seed %" PRIu64 ", %" PRIu64 " ops, %d threads, %d scheme providers, tmp %s\n",
	       seed, total_ops, nthreads, nprov, tmpdir);
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < nthreads; i++) {
		thr[i].id = i;
		thr[i].cur = -1;
		thr[i].rng = (seed + 1) * 0x9E3779B97F4A7C15ULL ^
			     ((uint64_t)(i + 1) << 32) ^ 0x1234567ULL;
		if (!thr[i].rng)
			thr[i].rng = 1;
		thr[i].scr = mmap(NULL, SCR_SIZE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		if (thr[i].scr == MAP_FAILED) {
			perror("fuzz: scratch");
			return 2;
		}
		iov_addr(&thr[i], SCR_IOV);
		for (int j = 0; j < NOWN; j++)
			thr[i].own[j] = -1;
	}
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&thr[i].th, NULL, worker, &thr[i])) {
			perror("fuzz: pthread_create");
			return 2;
		}
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(thr[i].th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	alarm(0);
	/* tear down what is left */
	for (i = 0; i < NSLOTS; i++) {
		if (slots[i].fd >= 0)
			close(slots[i].fd);
		slot_unmap_locked(&slots[i]);
	}
	while (npool)
		close(pool[--npool].fd);
	stop_supervisor();
	el = (double)(t1.tv_sec - t0.tv_sec) +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (i = 0; i < nthreads; i++) {
		for (int k = 0; k < K_NKINDS; k++) {
			kc[k] += thr[i].kcount[k];
			kt[k] += thr[i].ktime[k];
		}
		for (int e = 0; e < 135; e++) {
			er[e] += thr[i].err[e];
			ce[e] += thr[i].cqe_err[e];
		}
		cqes += thr[i].cqes;
	}
	printf("fuzz: %" PRIu64 " ops in %.1f s (%.0f ops/s), %" PRIu64
	       " CQEs popped\n", (uint64_t)atomic_load(&ops_done), el,
	       el > 0 ? (double)atomic_load(&ops_done) / el : 0.0, cqes);
	printf("ops per kind (thread-seconds spent):\n");
	for (int k = 0; k < K_NKINDS; k++)
		printf("  %-9s %-9" PRIu64 " %.1f s\n", kind_name[k], kc[k],
		       (double)kt[k] / 1e9);
	printf("syscall results (errno histogram):\n");
	for (int e = 0; e < 135; e++)
		if (er[e])
			printf("  %-16s %" PRIu64 "\n",
			       e ? strerrorname_np(e) ?: "?" : "ok", er[e]);
	printf("CQE statuses (errno histogram):\n");
	for (int e = 0; e < 135; e++)
		if (ce[e])
			printf("  %-16s %" PRIu64 "\n",
			       e ? strerrorname_np(e) ?: "?" : "ok/>=0", ce[e]);
	if (nprov)
		printf("scheme providers: %" PRIu64 " registrations (%" PRIu64
		       " failed, %" PRIu64 " re-registrations), %" PRIu64
		       " deaths (%" PRIu64 " killed)\n"
		       "  SQEs %" PRIu64 ": answered right %" PRIu64
		       ", garbage %" PRIu64 ", delayed %" PRIu64 ", dropped %"
		       PRIu64 "; unsolicited CQEs %" PRIu64 ", PASS_FDs %"
		       PRIu64 "\n"
		       "  RECV_IORING: received %" PRIu64 ", refused %" PRIu64
		       ", wrong %" PRIu64 "; u2u SQEs %" PRIu64
		       ", abandoned %" PRIu64 ", pool maps %" PRIu64 "\n"
		       "  zero-copy: opted in %" PRIu64 ", ZC answers %"
		       PRIu64 "\n",
		       pst->regs, pst->reg_fail, pst->rereg, pst->deaths,
		       pst->kills, pst->sqes, pst->ok, pst->garbage,
		       pst->delayed, pst->dropped, pst->unsolicited,
		       pst->passfd, pst->recv_ok, pst->recv_refused,
		       pst->recv_bad, pst->u2u_sqes, pst->u2u_abandoned,
		       pst->pool_maps, pst->zc_optin, pst->zc_answers);
	rxt_rmtree(tmpdir);
	return 0;
}
