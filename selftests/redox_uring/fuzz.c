// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz: a seeded, multi-threaded random/mutated input generator for
 * redox_uring.ko.  Run it only inside the QEMU guest:
 *
 *   selftests/vm/run.sh -k 6.1 -t 600 -- "insmod build/module/<kver>/redox_uring.ko \
 *       && build/selftests/redox_uring/fuzz -s SEED -n N; rmmod redox_uring"
 *
 *   fuzz [-s SEED] [-n OPS] [-t THREADS] [-v]
 *
 * Each thread draws an operation kind per step from its own PRNG
 * (seed + thread number) and works on a small pool of instances shared by
 * all threads.  With one thread (-t 1) a seed replays the same sequence of
 * choices; with more, the interleaving (and so the kernel's answers) can
 * differ between runs, the choices of each thread still follow its seed.
 *
 * Every syscall result and CQE status is only counted.  The fuzzer fails
 * (exit 1) only when it crashes (no SIGSEGV handler is installed) or when
 * no operation completes for 60 s (alarm() watchdog).
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
 *   - ENTER with min_complete > 0 always carries a timeout <= 1 ms.
 */
#include <errno.h>
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
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "rxu_test.h"

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
	K_IOCTL, K_RW, K_NKINDS
};
static const char *const kind_name[K_NKINDS] = {
	"setup", "open", "create", "mmap", "munmap", "attach", "enter",
	"push", "pop", "scribble", "close", "fork", "evq", "fdclose",
	"ioctl", "rw",
};
/* Weights (per 1000). */
static const int kind_weight[K_NKINDS] = {
	40, 25, 40, 60, 25, 40, 150, 250, 80, 8, 30, 1, 25, 25, 16, 20,
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

enum pkind { P_GEN, P_EVQ, P_INST };
struct pool_ent { int fd; int kind; };

struct pend { uint32_t ud; uint8_t op; size_t len; uint64_t fork_gen; };

struct thr {
	int id;
	pthread_t th;
	uint64_t rng;
	uint64_t nops;
	char *scr;
	uint64_t kcount[K_NKINDS];
	uint64_t err[135];	/* syscall results: [0] = success */
	uint64_t cqe_err[135];	/* CQE statuses: [0] = success */
	uint64_t cqes;
	int cur;
};

static struct slot slots[NSLOTS];
static struct thr thr[MAXTHREADS];
static int nthreads = 4;
static uint64_t total_ops = 1000000, seed = 1;
static _Atomic uint64_t ops_issued, ops_done;
static uint64_t wd_last;
static int verbose;

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

static void rec(struct thr *t, long r)
{
	int e = r < 0 ? (int)-r : 0;

	if (e > 134)
		e = 134;
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

/* Put a path into scratch; sets *safe when creating/truncating is OK. */
static uint64_t put_path(struct thr *t, uint64_t *len, int *at, int *safe)
{
	char *p = data_area(t) + SCR_D + 1024;
	int n;

	*at = 0;
	*safe = 0;
	switch (rn(t, 10)) {
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
		if (!(st & 4095) && p.len)
			munmap((void *)(uintptr_t)st, p.len);
		return;
	}
	if (st > 0x7fffffff)
		return;
	/* A new fd: an instance, an event queue or something else. */
	{
		int fd = (int)st;
		struct stat sb;
		char lnk[64], path[64];
		ssize_t n;

		if (fstat(fd, &sb))
			return;
		fcntl(fd, F_SETFL, O_NONBLOCK);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, lnk, sizeof(lnk) - 1);
		lnk[n > 0 ? n : 0] = 0;
		if (S_ISCHR(sb.st_mode) && strstr(lnk, "redox_uring") &&
		    rn(t, 2) && slot_adopt(fd))
			return;
		pool_add(fd, strstr(lnk, "event") ? P_EVQ :
			 strstr(lnk, "redox_uring") ? P_INST : P_GEN);
	}
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
	case 4: len = (size_t)sprintf(name, ":fz%d", (int)rn(t, 3)); break;
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
		rec(t, rxt_attach(fd, name, len));
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

static void *worker(void *arg)
{
	struct thr *t = arg;
	int total = 0;

	for (int k = 0; k < K_NKINDS; k++)
		total += kind_weight[k];
	for (;;) {
		uint64_t n = atomic_fetch_add(&ops_issued, 1);
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
		default: op_rw(t); break;
		}
		t->cur = -1;
		t->nops++;
		atomic_fetch_add(&ops_done, 1);
		if (verbose && t->id == 0 && (t->nops % 100000) == 0)
			fprintf(stderr, "fuzz: %" PRIu64 " ops\n",
				(uint64_t)atomic_load(&ops_done));
	}
	return NULL;
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
	uint64_t cqes = 0;
	double el;
	int c, i;

	while ((c = getopt(argc, argv, "s:n:t:v")) != -1) {
		switch (c) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'n': total_ops = strtoull(optarg, NULL, 0); break;
		case 't': nthreads = atoi(optarg); break;
		case 'v': verbose = 1; break;
		default:
			fprintf(stderr, "usage: %s [-s SEED] [-n OPS] [-t THREADS] [-v]\n",
				argv[0]);
			return 2;
		}
	}
	if (nthreads < 1 || nthreads > MAXTHREADS) {
		fprintf(stderr, "fuzz: 1 <= threads <= %d\n", MAXTHREADS);
		return 2;
	}
	if (rxt_dev_missing()) {
		fprintf(stderr, "fuzz: %s missing (module not loaded?)\n",
			rxt_dev_path());
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
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
	}
	printf("fuzz: seed %" PRIu64 ", %" PRIu64 " ops, %d threads, tmp %s\n",
	       seed, total_ops, nthreads, tmpdir);
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
	el = (double)(t1.tv_sec - t0.tv_sec) +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (i = 0; i < nthreads; i++) {
		for (int k = 0; k < K_NKINDS; k++)
			kc[k] += thr[i].kcount[k];
		for (int e = 0; e < 135; e++) {
			er[e] += thr[i].err[e];
			ce[e] += thr[i].cqe_err[e];
		}
		cqes += thr[i].cqes;
	}
	printf("fuzz: %" PRIu64 " ops in %.1f s (%.0f ops/s), %" PRIu64
	       " CQEs popped\n", (uint64_t)atomic_load(&ops_done), el,
	       el > 0 ? (double)atomic_load(&ops_done) / el : 0.0, cqes);
	printf("ops per kind:\n");
	for (int k = 0; k < K_NKINDS; k++)
		printf("  %-9s %" PRIu64 "\n", kind_name[k], kc[k]);
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
	rxt_rmtree(tmpdir);
	return 0;
}
