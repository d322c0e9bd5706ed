// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation failures on every path (issue 6), driven by the kernel's
 * fault injection: a write of N to /proc/thread-self/fail-nth makes the
 * Nth slab or page allocation of this thread fail (failslab and
 * fail_page_alloc, told here to spare no allocation that may sleep).
 *
 * Each case sweeps one step (a syscall, or an ENTER that runs one SQE)
 * with N = 1, 2, 3 ... until a run of the step no longer reaches an Nth
 * allocation.  After every run:
 *   - the step succeeded or failed with ENOMEM: nothing else;
 *   - nothing was lost: an SQE has exactly one CQE, with its user_data,
 *     whether ENTER itself failed or not;
 *   - what failed can be done again, without injection, and works;
 *   - a scheme provider's handles balance: every handle it opened for a
 *     consumer who never got it is closed again (a CLOSE request);
 * and at the end of each case /proc/redox_uring lists nothing of ours.
 * Leaks are kmemleak's: make check-debug scans after the suite.
 *
 * Needs CONFIG_FAULT_INJECTION, CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC
 * and their debugfs files: the debug kernel of make check-debug has
 * them, Debian's kernels do not, and there every case is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "rxt_harness.h"
#include "rxt_provider.h"

/* No path of the module takes this many allocations. */
#define FI_MAX		500
#define FI_DIR		"/tmp/rxu-failnth"
#define DBG		"/sys/kernel/debug/"

/* fail-nth of the calling thread (fi_setup(), fi_open_thread()). */
static __thread int fi_fd = -1;

/* A second thread's own fail-nth: 0 or -errno. */
static int fi_open_thread(void)
{
	fi_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	return fi_fd < 0 ? -errno : 0;
}

static int fi_knob(const char *path, const char *val)
{
	return rxt_write_file(path, val, strlen(val));
}

/*
 * Make fail-nth reach every allocation: by default failslab and
 * fail_page_alloc skip those that may sleep (GFP_KERNEL, which is all of
 * the module's), highmem pages and order 0.  verbose 0: a forced failure
 * is not a kernel report.  0, or -errno when the kernel cannot inject.
 */
static int fi_setup(void)
{
	static const char *const knobs[][2] = {
		{ DBG "failslab/ignore-gfp-wait", "N" },
		{ DBG "failslab/verbose", "0" },
		{ DBG "fail_page_alloc/ignore-gfp-wait", "N" },
		{ DBG "fail_page_alloc/ignore-gfp-highmem", "N" },
		{ DBG "fail_page_alloc/min-order", "0" },
		{ DBG "fail_page_alloc/verbose", "0" },
	};
	size_t i;
	int err;

	if (access(DBG "failslab", F_OK))
		mount("debugfs", DBG, "debugfs", 0, NULL);
	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		err = fi_knob(knobs[i][0], knobs[i][1]);
		if (err)
			return err;
	}
	return fi_open_thread();
}

/* The nth allocation from now on (of this thread) fails. */
static void fi_arm(int n)
{
	char b[16];
	int len = snprintf(b, sizeof(b), "%d", n);

	if (pwrite(fi_fd, b, len, 0) != len)
		abort();
}

/*
 * Disarm; whether the failure was injected (fail-nth reads 0 once it
 * was, the allocations still to go otherwise).
 */
static int fi_disarm(void)
{
	char b[16] = "";
	ssize_t len = pread(fi_fd, b, sizeof(b) - 1, 0);

	if (len <= 0 || pwrite(fi_fd, "0", 1, 0) != 1)
		abort();
	return atoi(b) == 0;
}

#define FI_REQUIRE() do {						\
	int __e;							\
									\
	RXT_REQUIRE_DEV();						\
	__e = fi_setup();						\
	if (__e)							\
		SKIP({ fflush(NULL); _exit(255); },			\
		     "no fault injection (%s): needs FAILSLAB, "	\
		     "FAIL_PAGE_ALLOC (make check-debug)",		\
		     strerror(-__e));					\
} while (0)

/* Lines of /proc/redox_uring that name this process. */
static int proc_mine(void)
{
	char line[256], pid[32];
	int n = 0;
	FILE *f = fopen("/proc/redox_uring", "re");

	if (!f)
		return -errno;
	snprintf(pid, sizeof(pid), " pid %d ", getpid());
	while (fgets(line, sizeof(line), f))
		n += strstr(line, pid) != NULL;
	fclose(f);
	return n;
}

/* A step's result must be success or ENOMEM, and says so when not. */
#define EXPECT_CLEAN(what, ok, ret, n)					\
	EXPECT_TRUE((ok) || (ret) == -ENOMEM) {				\
		TH_LOG("%s, allocation %d failing: %lld", (what), (n),	\
		       (long long)(ret));				\
	}

FIXTURE(fail) {
	int unused;
};

FIXTURE_SETUP(fail)
{
	FI_REQUIRE();
}

FIXTURE_TEARDOWN(fail)
{
	EXPECT_EQ(0, proc_mine());
}

/* ---- the instance's own life: open, create, mmap, ATTACH ---- */

TEST_F(fail, open_device)
{
	int n, hit, fd, fails = 0;

	for (n = 1, hit = 1; hit; n++) {
		ASSERT_LT(n, FI_MAX);
		fi_arm(n);
		fd = open(rxt_dev_path(), O_RDWR | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
		hit = fi_disarm();
		EXPECT_CLEAN("open", fd >= 0, fd, n);
		fails += fd < 0;
		if (fd >= 0)
			close(fd);
	}
	TH_LOG("%d allocations, %d failed the open", n - 2, fails);
	EXPECT_LT(0, fails);
}

TEST_F(fail, create)
{
	int n, hit, fails = 0;

	for (n = 1, hit = 1; hit; n++) {
		int fd = rxt_dev_open();
		ssize_t r;

		ASSERT_LE(0, fd);
		fi_arm(n);
		r = rxt_create(fd, 64, 64, 0);
		hit = fi_disarm();
		EXPECT_CLEAN("create", r == 32, r, n);
		if (r != 32) {
			fails++;
			/* Still Initial: the create can be retried. */
			EXPECT_EQ(32, rxt_create(fd, 64, 64, 0));
		}
		close(fd);
		ASSERT_LT(n, FI_MAX);
	}
	TH_LOG("%d allocations, %d failed the create", n - 2, fails);
	EXPECT_LT(0, fails);
}

TEST_F(fail, mmap_each_region)
{
	int r, n, hit, fails = 0;

	for (r = 0; r < RXT_NREGIONS; r++) {
		for (n = 1, hit = 1; hit; n++) {
			struct rxt t = RXT_INIT;
			void *m;
			int err = 0;

			ASSERT_EQ(0, rxt_open_create(&t, 64, 64, 0));
			fi_arm(n);
			m = rxt_mmap_off(t.fd, rxt_region_off[r],
					 rxt_region_size(r, 64, 64, 0),
					 MAP_SHARED, &err);
			hit = fi_disarm();
			EXPECT_CLEAN(rxt_region_name[r], m != NULL, err, n);
			if (m) {
				munmap(m, rxt_region_size(r, 64, 64, 0));
			} else {
				fails++;
				EXPECT_EQ(0, rxt_map_region(&t, r));
			}
			rxt_destroy(&t);
			ASSERT_LT(n, FI_MAX);
		}
	}
	TH_LOG("%d runs failed an mmap", fails);
	EXPECT_LT(0, fails);
}

/* A NOP through t: its status, or RXT_NO_CQE. */
static int64_t nop(struct rxt *t)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 0x5e);

	return rxt_run(t, &s);
}

TEST_F(fail, attach_kernel)
{
	int n, hit, fails = 0;

	for (n = 1, hit = 1; hit; n++) {
		struct rxt t = RXT_INIT;
		int r;

		ASSERT_EQ(0, rxt_open_create(&t, 8, 8, 0));
		ASSERT_EQ(0, rxt_map_all(&t));
		fi_arm(n);
		r = rxt_attach_kernel(t.fd);
		hit = fi_disarm();
		EXPECT_CLEAN("ATTACH", r == 0, r, n);
		if (r) {
			fails++;
			EXPECT_EQ(0, rxt_attach_kernel(t.fd));
		}
		EXPECT_EQ(0, nop(&t));
		rxt_destroy(&t);
		ASSERT_LT(n, FI_MAX);
	}
	TH_LOG("%d allocations, %d failed the ATTACH", n - 2, fails);
}

TEST_F(fail, proc_read)
{
	int n, hit, fails = 0;
	struct rxt t = RXT_INIT;
	char buf[4096];

	ASSERT_EQ(0, rxt_setup(&t, 8, 8, 0));
	for (n = 1, hit = 1; hit; n++) {
		int fd = open("/proc/redox_uring", O_RDONLY | O_CLOEXEC);
		ssize_t r;

		ASSERT_LE(0, fd);
		fi_arm(n);
		r = read(fd, buf, sizeof(buf));
		if (r < 0)
			r = -errno;
		hit = fi_disarm();
		EXPECT_CLEAN("read", r > 0, r, n);
		fails += r < 0;
		close(fd);
		ASSERT_LT(n, FI_MAX);
	}
	rxt_destroy(&t);
	TH_LOG("%d allocations, %d failed the read", n - 2, fails);
}

TEST_F(fail, event_queue_registration)
{
	struct rxu_event ev = { .flags = RXU_EVENT_READ, .data = 7 };
	struct rxu_sqe64 s;
	struct rxt t = RXT_INIT;
	int n, hit, p[2], fails = 0;

	ASSERT_EQ(0, rxt_setup(&t, 8, 8, 0));
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	ev.id = (uint64_t)p[0];
	for (n = 1, hit = 1; hit; n++) {
		int64_t q;
		ssize_t r;

		ASSERT_LT(n, FI_MAX);
		s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)RXU_SCHEME_EVENT,
			    strlen(RXU_SCHEME_EVENT), O_CLOEXEC | O_NONBLOCK, 1);
		q = rxt_run(&t, &s);
		ASSERT_LE(0, q);
		fi_arm(n);
		r = write((int)q, &ev, sizeof(ev));
		if (r < 0)
			r = -errno;
		hit = fi_disarm();
		EXPECT_CLEAN("event: registration", r == sizeof(ev), r, n);
		if (r < 0) {
			fails++;
			/* Not half registered: it can be done again. */
			EXPECT_EQ((ssize_t)sizeof(ev),
				  write((int)q, &ev, sizeof(ev)));
		}
		close((int)q);
	}
	TH_LOG("%d allocations, %d failed the registration", n - 2, fails);
	close(p[0]);
	close(p[1]);
	rxt_destroy(&t);
}

/* ---- one SQE of every kind on a kernel ring ---- */

struct sqe_ctx {
	struct rxt t;
	int file;		/* FI_DIR/f, 8 KiB of 'r' */
	int p[2];		/* an empty pipe */
	int extra;		/* an fd an op made or consumes */
	char buf[8192];
	struct iovec iov[9];	/* more than UIO_FASTIOV: the kernel allocates */
	struct stat st;
};

struct sqe_case {
	const char *name;
	struct rxu_sqe64 (*prep)(struct sqe_ctx *c);
	int (*ok)(struct sqe_ctx *c, int64_t st);
	void (*after)(struct sqe_ctx *c);	/* past the ENTER, uninjected */
	void (*clean)(struct sqe_ctx *c, int64_t st);
};

static struct rxu_sqe64 prep_nop(struct sqe_ctx *c)
{
	(void)c;
	return rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 0);
}

static struct rxu_sqe64 prep_open(struct sqe_ctx *c)
{
	static const char path[] = FI_DIR "/f";

	(void)c;
	return rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)path, strlen(path),
		       O_RDWR | O_CLOEXEC, 0);
}

static struct rxu_sqe64 prep_creat(struct sqe_ctx *c)
{
	static const char path[] = FI_DIR "/new";

	(void)c;
	unlink(path);
	return rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)path, strlen(path),
		       O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0);
}

static struct rxu_sqe64 prep_pread(struct sqe_ctx *c)
{
	return rxt_sqe(RXU_OP_PREAD, (uint64_t)c->file, (uintptr_t)c->buf,
		       4096, 4096, 0);
}

static struct rxu_sqe64 prep_preadv(struct sqe_ctx *c)
{
	return rxt_sqe(RXU_OP_PREADV, (uint64_t)c->file, (uintptr_t)c->iov,
		       9, 0, 0);
}

static struct rxu_sqe64 prep_pwrite(struct sqe_ctx *c)
{
	memset(c->buf, 'r', sizeof(c->buf));
	return rxt_sqe(RXU_OP_PWRITE, (uint64_t)c->file, (uintptr_t)c->buf,
		       8192, 0, 0);
}

static struct rxu_sqe64 prep_writev(struct sqe_ctx *c)
{
	return rxt_sqe(RXU_OP_PWRITEV, (uint64_t)c->file, (uintptr_t)c->iov,
		       9, 0, 0);
}

static struct rxu_sqe64 prep_dup(struct sqe_ctx *c)
{
	return rxt_sqe(RXU_OP_DUP, (uint64_t)c->file, 0, 0, 0, 0);
}

static struct rxu_sqe64 prep_close(struct sqe_ctx *c)
{
	c->extra = dup(c->file);
	return rxt_sqe(RXU_OP_CLOSE, (uint64_t)c->extra, 0, 0, 0, 0);
}

static struct rxu_sqe64 prep_seek(struct sqe_ctx *c)
{
	return rxt_sqe(RXU_OP_SEEK, (uint64_t)c->file, 0, 0, 10, 0);
}

static struct rxu_sqe64 prep_fstat(struct sqe_ctx *c)
{
	return rxt_sqe(RXU_OP_FSTAT, (uint64_t)c->file, (uintptr_t)&c->st,
		       sizeof(c->st), 0, 0);
}

static struct rxu_sqe64 prep_fsync(struct sqe_ctx *c)
{
	return rxt_sqe(RXU_OP_FSYNC, (uint64_t)c->file, 0, 0, 0, 0);
}

static struct rxu_sqe64 prep_ftruncate(struct sqe_ctx *c)
{
	return rxt_sqe(RXU_OP_FTRUNCATE, (uint64_t)c->file, 0, 0, 8192, 0);
}

static struct rxu_sqe64 prep_mmap(struct sqe_ctx *c)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_MMAP, (uint64_t)c->file, 0, 4096,
				     4096, 0);

	s.syscall_flags = PROT_READ;
	s.additional1 = MAP_SHARED;
	return s;
}

static struct rxu_sqe64 prep_subscribe(struct sqe_ctx *c)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_FILES_UPDATE, (uint64_t)c->p[0],
				     0, 0, 0, 0);

	s.syscall_flags = RXU_EVENT_READ;
	return s;
}

static struct rxu_sqe64 prep_parked_read(struct sqe_ctx *c)
{
	return rxt_sqe(RXU_OP_READ, (uint64_t)c->p[0], (uintptr_t)c->buf, 16,
		       0, 0);
}

static struct rxu_sqe64 prep_evqueue(struct sqe_ctx *c)
{
	(void)c;
	return rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)RXU_SCHEME_EVENT,
		       strlen(RXU_SCHEME_EVENT), O_CLOEXEC, 0);
}

static struct rxu_sqe64 prep_nested(struct sqe_ctx *c)
{
	static const char path[] = "io_uring:";

	(void)c;
	return rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)path, strlen(path),
		       O_CLOEXEC, 0);
}

static int ok_zero(struct sqe_ctx *c, int64_t st)
{
	(void)c;
	return st == 0;
}

static int ok_fd(struct sqe_ctx *c, int64_t st)
{
	(void)c;
	return st >= 0 && st < 1 << 20;
}

/* tmpfs says ENOSPC when it cannot allocate the inode: its errno, not ours. */
static int ok_creat(struct sqe_ctx *c, int64_t st)
{
	return ok_fd(c, st) || st == -ENOSPC;
}

static int ok_4096(struct sqe_ctx *c, int64_t st)
{
	return st == 4096 && c->buf[0] == 'r' && c->buf[4095] == 'r';
}

static int ok_iov(struct sqe_ctx *c, int64_t st)
{
	(void)c;
	return st == 9 * 64;
}

static int ok_8192(struct sqe_ctx *c, int64_t st)
{
	(void)c;
	return st == 8192;
}

static int ok_10(struct sqe_ctx *c, int64_t st)
{
	(void)c;
	return st == 10;
}

static int ok_fstat(struct sqe_ctx *c, int64_t st)
{
	return st == 0 && c->st.st_size == 8192;
}

static int ok_addr(struct sqe_ctx *c, int64_t st)
{
	(void)c;
	return st > 0 && !(st & 4095);
}

static int ok_one(struct sqe_ctx *c, int64_t st)
{
	(void)c;
	return st == 1;
}

static void after_write_pipe(struct sqe_ctx *c)
{
	if (write(c->p[1], "x", 1) != 1)
		abort();
}

static void clean_fd(struct sqe_ctx *c, int64_t st)
{
	(void)c;
	if (st >= 0)
		close((int)st);
}

static void clean_extra(struct sqe_ctx *c, int64_t st)
{
	(void)st;
	close(c->extra);	/* EBADF when the CLOSE worked */
	c->extra = -1;
}

static void clean_munmap(struct sqe_ctx *c, int64_t st)
{
	(void)c;
	if (st > 0)
		munmap((void *)(uintptr_t)st, 4096);
}

static const struct sqe_case sqe_cases[] = {
	{ "NOOP", prep_nop, ok_zero, NULL, NULL },
	{ "OPEN", prep_open, ok_fd, NULL, clean_fd },
	{ "OPEN O_CREAT", prep_creat, ok_creat, NULL, clean_fd },
	{ "PREAD", prep_pread, ok_4096, NULL, NULL },
	{ "PREADV x9", prep_preadv, ok_iov, NULL, NULL },
	{ "PWRITE", prep_pwrite, ok_8192, NULL, NULL },
	{ "PWRITEV x9", prep_writev, ok_iov, NULL, NULL },
	{ "DUP", prep_dup, ok_fd, NULL, clean_fd },
	{ "CLOSE", prep_close, ok_zero, NULL, clean_extra },
	{ "SEEK", prep_seek, ok_10, NULL, NULL },
	{ "FSTAT", prep_fstat, ok_fstat, NULL, NULL },
	{ "FSYNC", prep_fsync, ok_zero, NULL, NULL },
	{ "FTRUNCATE", prep_ftruncate, ok_zero, NULL, NULL },
	{ "MMAP", prep_mmap, ok_addr, NULL, clean_munmap },
	{ "FILES_UPDATE", prep_subscribe, ok_zero, NULL, NULL },
	{ "READ parked", prep_parked_read, ok_one, after_write_pipe, NULL },
	{ "OPEN event:", prep_evqueue, ok_fd, NULL, clean_fd },
	{ "OPEN io_uring:", prep_nested, ok_fd, NULL, clean_fd },
};

/*
 * The CQE of user_data ud, waiting up to 10 s, then a check that no
 * second one follows.  0 with *st set, or -errno.
 */
static int one_cqe(struct rxt *t, uint64_t ud, int64_t *st)
{
	uint64_t t0 = rxt_now_ns();
	struct rxu_cqe64 c;
	int got = 0;

	while (!got && rxt_now_ns() - t0 < RXT_TMO) {
		rxt_enter(t, 1, 0, 100 * MSEC);
		while (!rxt_pop(t, &c)) {
			if (c.user_data != ud || (c.flags & RXU_CQE_EVENT))
				continue;
			*st = (int64_t)c.status;
			got++;
		}
	}
	rxt_enter(t, 0, 0, 0);
	while (!rxt_pop(t, &c))
		got += c.user_data == ud && !(c.flags & RXU_CQE_EVENT);
	return got == 1 ? 0 : got ? -EPROTO : -ETIMEDOUT;
}

static int sqe_ctx_init(struct sqe_ctx *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->t = (struct rxt)RXT_INIT;
	c->extra = -1;
	mkdir(FI_DIR, 0700);
	c->file = open(FI_DIR "/f", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		       0600);
	memset(c->buf, 'r', sizeof(c->buf));
	if (c->file < 0 || pwrite(c->file, c->buf, 8192, 0) != 8192 ||
	    pipe2(c->p, O_CLOEXEC))
		return -errno;
	for (i = 0; i < 9; i++)
		c->iov[i] = (struct iovec){ c->buf + i * 64, 64 };
	return 0;
}

TEST_F_TIMEOUT(fail, every_sqe_kind, 1200)
{
	struct sqe_ctx *c = calloc(1, sizeof(*c));
	size_t k;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(0, sqe_ctx_init(c));
	for (k = 0; k < sizeof(sqe_cases) / sizeof(sqe_cases[0]); k++) {
		const struct sqe_case *sc = &sqe_cases[k];
		int n, hit, fails = 0, enter_fails = 0;

		for (n = 1, hit = 1; hit; n++) {
			struct rxu_sqe64 s;
			int64_t st = 0, r;
			char drain[16];

			ASSERT_LT(n, FI_MAX);
			/* A fresh ring: subscriptions and parked ops go with it. */
			ASSERT_EQ(0, rxt_setup(&c->t, 8, 8, 0));
			while (poll(&(struct pollfd){ c->p[0], POLLIN, 0 }, 1,
				    0) > 0 &&
			       read(c->p[0], drain, sizeof(drain)) > 0)
				;
			s = sc->prep(c);
			s.user_data = 0xf000 + n;
			ASSERT_EQ(0, rxt_push(&c->t, &s));
			fi_arm(n);
			r = rxt_enter(&c->t, 0, 0, 0);
			hit = fi_disarm();
			if (sc->after)
				sc->after(c);
			EXPECT_TRUE(r >= 0 || r == -ENOMEM);
			enter_fails += r < 0;
			/* Nothing lost: exactly one CQE, ENTER failed or not. */
			EXPECT_EQ(0, one_cqe(&c->t, s.user_data, &st)) {
				TH_LOG("%s, allocation %d: no single CQE",
				       sc->name, n);
			}
			EXPECT_CLEAN(sc->name, sc->ok(c, st), st, n);
			fails += st == -ENOMEM;
			if (sc->clean)
				sc->clean(c, st);
			rxt_destroy(&c->t);
		}
		TH_LOG("%-14s %3d allocations, %3d failed the op, %d the ENTER",
		       sc->name, n - 2, fails, enter_fails);
	}
	close(c->file);
	close(c->p[0]);
	close(c->p[1]);
	free(c);
}

/* ---- schemes: registration, forwarding, both sides' ENTERs ---- */

static void fi_name(char *buf, size_t len)
{
	static int seq;

	snprintf(buf, len, "fn%dn%d", getpid(), ++seq);
}

/*
 * An in-process provider (rxt_provider.h's, without its fork), driven
 * step by step from the test's thread, so that the injection can hit
 * its ENTERs and its RXU_IOC_RECV: NULL on failure.
 */
static struct rxtp *prov_new(const char *name)
{
	struct rxtp *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->sh = rxtp_shared_new();
	p->files = calloc(RXTP_MAX_FILES, sizeof(*p->files));
	p->pass_fd = -1;
	if (!p->sh || !p->files || rxtp_register(p, name)) {
		free(p->files);
		free(p);
		return NULL;
	}
	return p;
}

static void prov_free(struct rxtp *p)
{
	int i;

	for (i = 0; i < p->nu2u; i++) {
		rxt_destroy(&p->u2u[i].r);
		if (p->u2u[i].pool >= 0)
			close(p->u2u[i].pool);
	}
	munmap(p->data, p->data_len);
	rxt_destroy(&p->t);
	rxt_destroy(&p->k);
	munmap(p->sh, sizeof(*p->sh));
	free(p->files);
	free(p);
}

/* Serve until the provider holds no handle (10 s at most): 0 or -ETIMEDOUT. */
static int prov_settle(struct rxtp *p)
{
	uint64_t t0 = rxt_now_ns();

	do {
		rxt_enter(&p->t, 0, RXU_ENTER_ONLY_NOTIFY, 0);
		rxtp_serve_queued(p);
		rxt_enter(&p->t, 0, RXU_ENTER_ONLY_NOTIFY, 0);
		if (!p->sh->open_handles)
			return 0;
		usleep(1000);
	} while (rxt_now_ns() - t0 < RXT_TMO);
	return -ETIMEDOUT;
}

/*
 * Some 290 runs, each a ring made, mapped, attached and destroyed: over
 * the harness's default 30 s under KASAN on a loaded TCG host.
 */
TEST_F_TIMEOUT(fail, scheme_register_and_data_region, 600)
{
	char name[32], at[40];
	int n, hit, fails = 0;

	for (n = 1, hit = 1; hit; n++) {
		struct rxt t = RXT_INIT;
		int r;

		fi_name(name, sizeof(name));
		snprintf(at, sizeof(at), ":%s", name);
		ASSERT_EQ(0, rxt_open_create(&t, 16, 16, 0));
		ASSERT_EQ(0, rxt_map_all(&t));
		fi_arm(n);
		r = rxt_attach(t.fd, at, strlen(at));
		hit = fi_disarm();
		EXPECT_CLEAN("ATTACH :NAME", r == 0, r, n);
		if (r) {
			fails++;
			/* The name was not taken: registering works. */
			EXPECT_EQ(0, rxt_attach(t.fd, at, strlen(at)));
		}
		rxt_destroy(&t);
		ASSERT_LT(n, FI_MAX);
	}
	TH_LOG("registration: %d allocations, %d failed it", n - 2, fails);
	fails = 0;
	for (n = 1, hit = 1; hit; n++) {
		size_t len = (size_t)rxt_param("scheme_data_size");
		struct rxt t = RXT_INIT;
		void *m;
		int err = 0;

		fi_name(name, sizeof(name));
		snprintf(at, sizeof(at), ":%s", name);
		ASSERT_EQ(0, rxt_open_create(&t, 16, 16, 0));
		ASSERT_EQ(0, rxt_map_all(&t));
		ASSERT_EQ(0, rxt_attach(t.fd, at, strlen(at)));
		fi_arm(n);
		m = rxt_mmap_off(t.fd, RXU_OFF_SCHEME_DATA, len, MAP_SHARED,
				 &err);
		hit = fi_disarm();
		EXPECT_CLEAN("data region mmap", m != NULL, err, n);
		fails += !m;
		if (m)
			munmap(m, len);
		rxt_destroy(&t);
		ASSERT_LT(n, FI_MAX);
	}
	TH_LOG("data region: %d allocations, %d failed its mmap", n - 2, fails);
}

/* Where an OPEN of "NAME:file" through a ring meets the injection. */
enum { AT_SUBMIT, AT_DOORBELL, AT_FINISH, AT_N };
static const char *const at_name[AT_N] = {
	"consumer's submitting ENTER", "provider's doorbell ENTER",
	"consumer's finishing ENTER",
};

/*
 * ENTER t (flags) for stage of a request; with the injection at
 * allocation n when stage is the one swept (at).  Whether that
 * allocation was reached, or hit unchanged for the other stages.
 */
static int stage_enter(struct rxt *t, uint32_t flags, int stage, int at,
		       int n, int hit)
{
	if (stage != at) {
		rxt_enter(t, 0, flags, 0);
		return hit;
	}
	fi_arm(n);
	rxt_enter(t, 0, flags, 0);
	return fi_disarm();
}

TEST_F_TIMEOUT(fail, scheme_open_each_side, 600)
{
	struct rxtp *p;
	char name[32], path[64];
	int at, n, hit;

	fi_name(name, sizeof(name));
	p = prov_new(name);
	ASSERT_NE(NULL, p);
	snprintf(path, sizeof(path), "%s:file", name);
	for (at = 0; at < AT_N; at++) {
		int fails = 0;

		for (n = 1, hit = 1; hit; n++) {
			struct rxt k = RXT_INIT;
			struct rxu_sqe64 s;
			int64_t st = 0;

			ASSERT_LT(n, FI_MAX);
			ASSERT_EQ(0, rxt_setup(&k, 8, 8, 0));
			s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)path,
				    strlen(path), O_RDWR | O_CLOEXEC, 0x0be);
			ASSERT_EQ(0, rxt_push(&k, &s));
			hit = stage_enter(&k, 0, AT_SUBMIT, at, n, 0);
			rxtp_serve_queued(p);
			hit = stage_enter(&p->t, RXU_ENTER_ONLY_NOTIFY,
					  AT_DOORBELL, at, n, hit);
			hit = stage_enter(&k, 0, AT_FINISH, at, n, hit);
			EXPECT_EQ(0, one_cqe(&k, 0x0be, &st)) {
				TH_LOG("%s, allocation %d: no single CQE",
				       at_name[at], n);
			}
			EXPECT_CLEAN(at_name[at], st >= 0, st, n);
			fails += st < 0;
			if (st >= 0)
				close((int)st);
			rxt_destroy(&k);
			/* Each handle it opened is closed again, got or not. */
			EXPECT_EQ(0, prov_settle(p)) {
				TH_LOG("%s, allocation %d: %d handles left",
				       at_name[at], n, p->sh->open_handles);
			}
		}
		TH_LOG("%-28s %3d allocations, %3d failed the OPEN",
		       at_name[at], n - 2, fails);
	}
	EXPECT_EQ(p->sh->opens, p->sh->closes);
	prov_free(p);
}

/* ---- a scheme fd's syscalls, against a forked provider ---- */

/*
 * A zero-copy READV (the provider opted in and answers with
 * RXU_CQE_ZC_DATA; the two segments are kept at submission, and their
 * six pages or more need an array for the pin in the answering ENTER):
 * the injection at each of the three ENTERs.  The READV ends with its
 * bytes or ENOMEM, and never leaves a request (nor its pins) behind: the
 * ring and the provider go at the end of each run.
 */
TEST_F_TIMEOUT(fail, scheme_zc_read_each_side, 600)
{
	static unsigned char src[7 * 4096], buf[6 * 4096];
	struct iovec iov[2] = {
		{ buf, 3 * 4096 }, { buf + 3 * 4096, 3 * 4096 },
	};
	struct rxu_scheme_features feats = {
		.features = RXU_SCHEME_FEAT_ZC_READ,
	};
	char name[32], path[64];
	struct rxtp *p;
	int at, n, hit;
	size_t i;

	for (i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)i;
	fi_name(name, sizeof(name));
	p = prov_new(name);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, ioctl(p->t.fd, RXU_IOC_SCHEME_FEATURES, &feats));
	snprintf(path, sizeof(path), "%s:file", name);
	for (at = 0; at < AT_N; at++) {
		int fails = 0;

		for (n = 1, hit = 1; hit; n++) {
			struct rxt k = RXT_INIT;
			struct rxu_sqe64 s, got;
			int64_t fd, st = 0;

			ASSERT_LT(n, FI_MAX);
			ASSERT_EQ(0, rxt_setup(&k, 8, 8, 0));
			s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)path,
				    strlen(path), O_RDONLY | O_CLOEXEC, 1);
			ASSERT_EQ(0, rxt_push(&k, &s));
			rxt_enter(&k, 0, 0, 0);
			rxtp_serve_queued(p);
			rxt_enter(&p->t, 0, RXU_ENTER_ONLY_NOTIFY, 0);
			ASSERT_EQ(0, one_cqe(&k, 1, &fd));
			ASSERT_LE(0, fd);
			s = rxt_sqe(RXU_OP_READV, (uint64_t)fd, (uintptr_t)iov,
				    2, 0, 2);
			ASSERT_EQ(0, rxt_push(&k, &s));
			memset(buf, 0, sizeof(buf));
			hit = stage_enter(&k, 0, AT_SUBMIT, at, n, 0);
			if (!rxtp_pop_sqe(&p->t, &got))
				rxtp_push_cqe(&p->t, got.user_data,
					      sizeof(buf), RXU_CQE_ZC_DATA,
					      (uintptr_t)(src + 100));
			hit = stage_enter(&p->t, RXU_ENTER_ONLY_NOTIFY,
					  AT_DOORBELL, at, n, hit);
			hit = stage_enter(&k, 0, AT_FINISH, at, n, hit);
			EXPECT_EQ(0, one_cqe(&k, 2, &st)) {
				TH_LOG("%s, allocation %d: no single CQE",
				       at_name[at], n);
			}
			EXPECT_CLEAN(at_name[at], st == sizeof(buf), st, n);
			if (st == sizeof(buf)) {
				EXPECT_EQ(0, memcmp(buf, src + 100,
						    sizeof(buf)));
			} else {
				fails++;
			}
			close((int)fd);
			rxt_destroy(&k);
			EXPECT_EQ(0, prov_settle(p));
		}
		TH_LOG("%-28s %3d allocations, %3d failed the READ",
		       at_name[at], n - 2, fails);
	}
	prov_free(p);
}

FIXTURE(sfd) {
	struct rxt k;
	struct rxtp_shared *sh;
	pid_t prov;
	char name[32];
	int fd;
};

FIXTURE_SETUP(sfd)
{
	char path[64];
	struct rxu_sqe64 s;

	self->k.fd = -1;
	self->prov = 0;
	self->fd = -1;
	FI_REQUIRE();
	ASSERT_EQ(0, rxt_setup(&self->k, 8, 8, 0));
	self->sh = rxtp_shared_new();
	ASSERT_NE(NULL, self->sh);
	fi_name(self->name, sizeof(self->name));
	self->prov = rxtp_start(self->name, self->sh);
	ASSERT_LT(0, self->prov);
	snprintf(path, sizeof(path), "%s:file", self->name);
	s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)path, strlen(path),
		    O_RDWR | O_CLOEXEC, 1);
	self->fd = (int)rxt_run(&self->k, &s);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(sfd)
{
	if (self->fd >= 0)
		close(self->fd);
	rxtp_stop(self->prov);
	rxt_destroy(&self->k);
	EXPECT_EQ(0, proc_mine());
}

enum { SC_READ, SC_PREAD, SC_READV, SC_WRITE, SC_LSEEK, SC_FSYNC, SC_POLL,
	SC_RING_READ, SC_RING_DUP, SC_N };
static const char *const sc_name[SC_N] = {
	"read(2)", "pread(2)", "readv(2)", "write(2)", "lseek(2)", "fsync(2)",
	"poll(2)", "ring READ", "ring DUP",
};

/* One call on the scheme fd with the nth allocation failing. */
static int64_t sfd_call(FIXTURE_DATA(sfd) *self, int call, int n, int *hit)
{
	char buf[256];
	struct iovec iov[9];
	struct pollfd pf = { .fd = self->fd, .events = POLLIN };
	struct rxu_sqe64 s;
	int64_t r, st = 0;
	int i;

	for (i = 0; i < 9; i++)
		iov[i] = (struct iovec){ buf + i * 16, 16 };
	if (call == SC_RING_READ)
		s = rxt_sqe(RXU_OP_PREAD, (uint64_t)self->fd, (uintptr_t)buf,
			    100, 0, 0x77);
	else
		s = rxt_sqe(RXU_OP_DUP, (uint64_t)self->fd, 0, 0, 0, 0x77);
	if (call >= SC_RING_READ && rxt_push(&self->k, &s))
		return RXT_NO_CQE;
	fi_arm(n);
	switch (call) {
	case SC_READ:
		r = read(self->fd, buf, 100);
		break;
	case SC_PREAD:
		r = pread(self->fd, buf, 100, 10);
		break;
	case SC_READV:
		r = readv(self->fd, iov, 9);
		break;
	case SC_WRITE:
		r = write(self->fd, buf, 100);
		break;
	case SC_LSEEK:
		r = lseek(self->fd, 10, SEEK_SET);
		break;
	case SC_FSYNC:
		r = fsync(self->fd);
		break;
	case SC_POLL:
		r = poll(&pf, 1, 0);
		break;
	default:
		r = rxt_enter(&self->k, 0, 0, 0);
		break;
	}
	if (r < 0 && call < SC_RING_READ)
		r = -errno;
	*hit = fi_disarm();
	if (call < SC_RING_READ)
		return r;
	if (one_cqe(&self->k, 0x77, &st))
		return RXT_NO_CQE;
	if (call == SC_RING_DUP && st >= 0)
		close((int)st);
	return st;
}

/* What a call gives when nothing fails. */
static int sc_ok(int call, int64_t r)
{
	static const int64_t want[SC_N] = {
		100, 100, 144, 100, 10, 0, 0, 100, 0,
	};

	if (call == SC_RING_DUP)
		return r >= 0;
	/*
	 * readv(2) of a file without read_iter is the VFS's loop of reads,
	 * one request per segment: a failure after the first segment is a
	 * short read, as it would be on any such file.
	 */
	if (call == SC_READV)
		return r > 0 && r <= 144 && !(r % 16);
	return r == want[call];
}

TEST_F_TIMEOUT(sfd, each_call, 600)
{

	int call, n, hit;

	for (call = 0; call < SC_N; call++) {
		int fails = 0;

		for (n = 1, hit = 1; hit; n++) {
			int64_t r;

			ASSERT_LT(n, FI_MAX);
			ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));
			r = sfd_call(self, call, n, &hit);
			EXPECT_NE(RXT_NO_CQE, r);
			EXPECT_CLEAN(sc_name[call], sc_ok(call, r), r, n);
			fails += r < 0;
		}
		TH_LOG("%-10s %3d allocations, %3d failed the call",
		       sc_name[call], n - 2, fails);
	}
}

TEST_F(sfd, close_reaches_the_provider)
{
	int n, hit, base = RXTP_GET(self->sh, open_handles);

	for (n = 1, hit = 1; hit; n++) {
		struct rxu_sqe64 s = rxt_sqe(RXU_OP_DUP, (uint64_t)self->fd, 0,
					     0, 0, 2);
		int64_t fd = rxt_run(&self->k, &s);
		uint64_t t0;

		ASSERT_LT(n, FI_MAX);
		ASSERT_LE(0, fd);
		ASSERT_EQ(base + 1, RXTP_GET(self->sh, open_handles));
		fi_arm(n);
		EXPECT_EQ(0, close((int)fd));
		hit = fi_disarm();
		/* The provider hears of it, whatever failed. */
		t0 = rxt_now_ns();
		while (RXTP_GET(self->sh, open_handles) != base &&
		       rxt_now_ns() - t0 < RXT_TMO)
			usleep(1000);
		EXPECT_EQ(base, RXTP_GET(self->sh, open_handles)) {
			TH_LOG("close, allocation %d: the handle stays open", n);
		}
	}
	TH_LOG("close: %d allocations", n - 2);
}

/* ---- user-to-user: ATTACH, RECV, pools ---- */

struct u2u_try {
	struct rxt c;
	const char *at;
	int n;		/* > 0: inject into the ATTACH */
	int hit;
	int ret;
	volatile int done;
};

static void *u2u_attach_thread(void *arg)
{
	struct u2u_try *u = arg;

	if (u->n && fi_open_thread())
		abort();
	if (u->n)
		fi_arm(u->n);
	u->ret = rxt_attach(u->c.fd, u->at, strlen(u->at));
	if (u->n) {
		u->hit = fi_disarm();
		close(fi_fd);
	}
	__atomic_store_n(&u->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Serve p until the consumer's ATTACH returns: RECV_IORING is received
 * (with the nth allocation failing when recv_n > 0: a failed RECV must
 * leave the ticket good, so it is retried) and answered 0.  The
 * producer fd, or -1 when none was received.
 */
static int u2u_serve(struct rxtp *p, struct u2u_try *u, int recv_n,
		     int *recv_hit, int64_t *recv_ret)
{
	uint64_t t0 = rxt_now_ns();
	struct rxu_sqe64 s;
	int prod = -1;

	while (!__atomic_load_n(&u->done, __ATOMIC_ACQUIRE) &&
	       rxt_now_ns() - t0 < RXT_TMO) {
		struct rxu_recv_info info;
		int r;

		rxt_enter(&p->t, 1, 0, 10 * MSEC);
		if (rxtp_pop_sqe(&p->t, &s))
			continue;
		if (s.opcode != RXU_OP_RECV_IORING) {
			rxtp_answer(p, s.user_data, -ENOSYS, 0);
			continue;
		}
		info = (struct rxu_recv_info){ .ticket = s.addr };
		if (recv_n)
			fi_arm(recv_n);
		r = ioctl(p->t.fd, RXU_IOC_RECV, &info) < 0 ? -errno : 0;
		if (recv_n) {
			*recv_hit = fi_disarm();
			*recv_ret = r;
		}
		if (r == -ENOMEM)
			r = ioctl(p->t.fd, RXU_IOC_RECV, &info) < 0 ? -errno : 0;
		if (!r)
			prod = (int)info.producer_fd;
		rxtp_answer(p, s.user_data, r, 0);
		rxt_enter(&p->t, 0, RXU_ENTER_ONLY_NOTIFY, 0);
	}
	return prod;
}

TEST_F_TIMEOUT(fail, u2u_attach_and_recv, 600)
{
	struct rxtp *p;
	char name[32], at[40];
	int side, n, hit;

	fi_name(name, sizeof(name));
	snprintf(at, sizeof(at), "%s:", name);
	p = prov_new(name);
	ASSERT_NE(NULL, p);
	for (side = 0; side < 2; side++) {
		int fails = 0;

		for (n = 1, hit = 1; hit; n++) {
			struct u2u_try u = { .at = at, .n = side ? 0 : n };
			int64_t recv_ret = 0;
			pthread_t th;
			int prod;

			ASSERT_LT(n, FI_MAX);
			u.c = (struct rxt)RXT_INIT;
			ASSERT_EQ(0, rxt_open_create(&u.c, 8, 8, 0));
			ASSERT_EQ(0, rxt_map_all(&u.c));
			ASSERT_EQ(0, pthread_create(&th, NULL,
						    u2u_attach_thread, &u));
			prod = u2u_serve(p, &u, side ? n : 0, &hit, &recv_ret);
			pthread_join(th, NULL);
			if (!side) {
				hit = u.hit;
				EXPECT_CLEAN("consumer's ATTACH", u.ret == 0,
					     u.ret, n);
				fails += u.ret != 0;
			} else {
				EXPECT_CLEAN("provider's RECV", recv_ret == 0,
					     recv_ret, n);
				/* The retry of a failed RECV connected. */
				EXPECT_EQ(0, u.ret);
				fails += recv_ret != 0;
			}
			EXPECT_EQ(u.ret == 0, prod >= 0);
			if (prod >= 0)
				close(prod);
			rxt_destroy(&u.c);
		}
		TH_LOG("%s: %d allocations, %d failed it",
		       side ? "provider's RECV" : "consumer's ATTACH", n - 2,
		       fails);
	}
	prov_free(p);
}

TEST_F_TIMEOUT(fail, u2u_pool, 600)
{
	struct u2u_try u = { 0 };
	struct rxtp *p;
	struct rxt k = RXT_INIT;
	char name[32], at[40];
	int step, n, hit, prod, ppool;
	pthread_t th;
	uint64_t off = 0x10000;

	fi_name(name, sizeof(name));
	snprintf(at, sizeof(at), "%s:", name);
	p = prov_new(name);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, rxt_setup(&k, 8, 8, 0));
	u.at = at;
	u.c = (struct rxt)RXT_INIT;
	ASSERT_EQ(0, rxt_open_create(&u.c, 8, 8, 0));
	ASSERT_EQ(0, rxt_map_all(&u.c));
	ASSERT_EQ(0, pthread_create(&th, NULL, u2u_attach_thread, &u));
	prod = u2u_serve(p, &u, 0, &hit, NULL);
	pthread_join(th, NULL);
	ASSERT_EQ(0, u.ret);
	ASSERT_LE(0, prod);
	ppool = (int)rxt_dup_param(&p->k, prod, RXU_DUP_PARAM_POOL);
	ASSERT_LE(0, ppool);
	/* 0: the consumer's DUP "pool"; 1: its mmap; 2: the provider's read. */
	for (step = 0; step < 3; step++) {
		int fails = 0;

		for (n = 1, hit = 1; hit; n++) {
			struct rxu_sqe64 d = rxt_sqe_dup_param(u.c.fd,
							       RXU_DUP_PARAM_POOL,
							       4);
			struct rxu_pool_range rec[4];
			int64_t r = 0, st = 0;
			int pool;
			void *m;

			ASSERT_LT(n, FI_MAX);
			if (!step) {
				ASSERT_EQ(0, rxt_push(&k, &d));
				fi_arm(n);
				rxt_enter(&k, 0, 0, 0);
				hit = fi_disarm();
				ASSERT_EQ(0, one_cqe(&k, 4, &st));
				EXPECT_CLEAN("consumer's DUP pool", st >= 0,
					     st, n);
				fails += st < 0;
				if (st >= 0)
					close((int)st);
				continue;
			}
			pool = (int)rxt_run(&k, &d);
			ASSERT_LE(0, pool);
			/* The provider knows every range so far. */
			while (read(ppool, rec, sizeof(rec)) > 0)
				;
			if (step == 1)
				fi_arm(n);
			m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
				 pool, (off_t)off);
			r = m == MAP_FAILED ? -errno : 0;
			if (step == 1) {
				hit = fi_disarm();
				EXPECT_CLEAN("pool mmap", r == 0, r, n);
				fails += r != 0;
			} else {
				ASSERT_EQ(0, r);
			}
			if (step == 2) {
				fi_arm(n);
				r = read(ppool, rec, sizeof(rec));
				if (r < 0)
					r = -errno;
				hit = fi_disarm();
				EXPECT_CLEAN("provider's pool read",
					     r == sizeof(rec[0]), r, n);
				fails += r < 0;
				/* Nothing lost: a failed read keeps the record. */
				if (r < 0) {
					EXPECT_EQ((ssize_t)sizeof(rec[0]),
						  read(ppool, rec, sizeof(rec)));
				}
				EXPECT_EQ(off, rec[0].offset);
			}
			if (m != MAP_FAILED)
				munmap(m, 4096);
			close(pool);
			off += 0x10000;
		}
		TH_LOG("pool step %d: %d allocations, %d failed it", step,
		       n - 2, fails);
	}
	close(ppool);
	close(prod);
	rxt_destroy(&u.c);
	rxt_destroy(&k);
	prov_free(p);
}

TEST_HARNESS_MAIN
