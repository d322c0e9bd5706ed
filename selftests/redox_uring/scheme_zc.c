// SPDX-License-Identifier: GPL-2.0
/*
 * Zero-copy READ answers (docs/zero-copy.md, the uapi header): the
 * opt-in ioctl and its errors, the SQE a provider gets with and without
 * it, RXU_CQE_ZC_DATA answers through a ring and through read(2), and
 * everything that must be refused or must fail cleanly: a consumer
 * buffer unmapped or made read-only while the request is out (EFAULT,
 * nothing written, no pin left), a source the provider cannot read, a
 * zero-copy answer where none was offered or after the request ended.
 *
 * The fixture's provider lives in this process (rxt_provider.h without
 * its fork) and is driven by hand, so each test decides what the SQE is
 * answered with and when; the read(2) tests fork one (sh->zc).  Pins are
 * counted with /proc/vmstat's nr_foll_pin_acquired/released, folded by a
 * write to /proc/sys/vm/stat_refresh: the guest runs nothing else that
 * pins pages, so their difference is ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "rxt_harness.h"
#include "rxt_provider.h"

#define PG		4096UL
#define UD_OPEN		0x0be
#define UD_RD		0x5ead

static void zc_name(char *buf, size_t len)
{
	static int seq;

	snprintf(buf, len, "zc%dn%d", getpid(), ++seq);
}

/* Pages pinned and not yet unpinned, system-wide, or -1. */
static long long pins_held(void)
{
	char buf[16384], *a, *r;
	ssize_t n;

	/* Fold the per-CPU counts first, else small changes do not show. */
	if (rxt_write_file("/proc/sys/vm/stat_refresh", "1", 1))
		return -1;
	n = rxt_read_file("/proc/vmstat", buf, sizeof(buf) - 1);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	a = strstr(buf, "nr_foll_pin_acquired ");
	r = strstr(buf, "nr_foll_pin_released ");
	if (!a || !r)
		return -1;
	return atoll(a + 21) - atoll(r + 21);
}

/* Wait (1 s at most) for the pins to come back to base. */
static long long pins_settle(long long base)
{
	long long now = pins_held();
	int i;

	for (i = 0; i < 100 && now != base; i++) {
		usleep(10000);
		now = pins_held();
	}
	return now;
}

static int pattern_ok(const unsigned char *buf, size_t len, size_t pos)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != 'a' + (pos + i) % 26)
			return 0;
	return 1;
}

static void fill_pattern(unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = 'a' + i % 26;
}

FIXTURE(zc) {
	struct rxtp p;		/* the provider, in this process */
	struct rxt k;		/* the consumer's kernel ring */
	char name[32];
	int64_t fd;		/* a plain file of p, opened through k */
	long long pins;		/* pins_held() before the test */
};

/* Provider p answers every SQE it has the usual way, then rings. */
static void serve(struct rxtp *p)
{
	rxtp_serve_queued(p);
	rxt_enter(&p->t, 0, RXU_ENTER_ONLY_NOTIFY, 0);
}

/* The one CQE k gets for ud within 10 s: its status, or RXT_NO_CQE. */
static int64_t result(struct rxt *k, uint64_t ud, uint64_t *extra)
{
	struct rxu_cqe64 c;
	uint64_t t0 = rxt_now_ns();

	while (rxt_pop(k, &c)) {
		if (rxt_now_ns() - t0 > RXT_TMO)
			return RXT_NO_CQE;
		rxt_enter(k, 1, 0, 100 * MSEC);
	}
	if (c.user_data != ud)
		return RXT_NO_CQE;
	if (extra)
		*extra = c.extra;
	return (int64_t)c.status;
}

/* OPEN "name:rest" through k, answered by p: the fd or -errno. */
static int64_t zopen(struct rxt *k, struct rxtp *p, const char *name,
		     const char *rest)
{
	char path[96];
	struct rxu_sqe64 s;

	snprintf(path, sizeof(path), "%s:%s", name, rest);
	s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)path, strlen(path),
		    O_RDWR | O_CLOEXEC, UD_OPEN);
	if (rxt_push(k, &s))
		return RXT_NO_CQE;
	rxt_enter(k, 0, 0, 0);
	serve(p);
	return result(k, UD_OPEN, NULL);
}

/*
 * Submit an op on k (forwarded to p) and pop the SQE p gets for it into
 * *out: 0, or -errno.
 */
static int submit(struct rxt *k, struct rxtp *p, const struct rxu_sqe64 *s,
		  struct rxu_sqe64 *out)
{
	int i;

	if (rxt_push(k, s))
		return -EAGAIN;
	rxt_enter(k, 0, 0, 0);
	for (i = 0; i < 1000; i++) {
		if (!rxtp_pop_sqe(&p->t, out))
			return 0;
		usleep(1000);
	}
	return -ETIME;
}

/* p answers ud with (status, flags, extra) and rings its doorbell. */
static void answer(struct rxtp *p, uint64_t ud, int64_t st, uint64_t fl,
		   uint64_t extra)
{
	rxtp_answer_x(p, ud, st, fl, extra);
	rxt_enter(&p->t, 0, RXU_ENTER_ONLY_NOTIFY, 0);
}

static int set_features_r(int fd, uint64_t feats, uint64_t reserved)
{
	struct rxu_scheme_features f = {
		.features = feats, .reserved = reserved,
	};

	return ioctl(fd, RXU_IOC_SCHEME_FEATURES, &f) ? -errno : 0;
}

static int set_features(int fd, uint64_t feats)
{
	return set_features_r(fd, feats, 0);
}

/* Register p as name, opted in (zc) or not: 0 or -errno. */
static int prov_up(struct rxtp *p, const char *name, int zc)
{
	memset(p, 0, sizeof(*p));
	p->sh = rxtp_shared_new();
	p->files = calloc(RXTP_MAX_FILES, sizeof(*p->files));
	p->pass_fd = -1;
	if (!p->sh || !p->files)
		return -ENOMEM;
	p->sh->zc = zc;
	return rxtp_register(p, name);
}

static void prov_down(struct rxtp *p)
{
	if (p->data)
		munmap(p->data, p->data_len);
	p->data = NULL;
	rxt_destroy(&p->t);
	rxt_destroy(&p->k);
	if (p->sh)
		munmap(p->sh, sizeof(*p->sh));
	p->sh = NULL;
	free(p->files);
	p->files = NULL;
	free(p->huge);
	p->huge = NULL;
}

/* p answers got with (status, flags, extra); k's result for it. */
static int64_t reply(FIXTURE_DATA(zc) *self, const struct rxu_sqe64 *got,
		     int64_t st, uint64_t fl, uint64_t extra)
{
	answer(&self->p, got->user_data, st, fl, extra);
	return result(&self->k, UD_RD, NULL);
}

FIXTURE_SETUP(zc)
{
	self->k.fd = -1;
	self->p.t.fd = -1;
	self->p.k.fd = -1;
	RXT_REQUIRE_DEV();
	self->pins = pins_held();
	zc_name(self->name, sizeof(self->name));
	ASSERT_EQ(0, prov_up(&self->p, self->name, 1));
	ASSERT_EQ(0, rxt_setup(&self->k, 32, 32, 0));
	self->fd = zopen(&self->k, &self->p, self->name, "file");
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(zc)
{
	if (self->fd >= 0)
		close((int)self->fd);
	rxt_destroy(&self->k);
	prov_down(&self->p);
	/* Whatever a test did, no pin outlives its requests. */
	if (self->pins >= 0)
		EXPECT_EQ(self->pins, pins_settle(self->pins));
}

/* ---------------------------------------------------------------- */
/* The opt-in                                                        */
/* ---------------------------------------------------------------- */

TEST_F(zc, features_ioctl_errors)
{
	struct rxt t = RXT_INIT, u = RXT_INIT;
	char at[48];
	int fd;

	/* An Initial instance, a kernel ring: for them it is unknown. */
	fd = open(RXU_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOTTY, set_features(fd, RXU_SCHEME_FEAT_ZC_READ));
	close(fd);
	EXPECT_EQ(-ENOTTY, set_features(self->k.fd, RXU_SCHEME_FEAT_ZC_READ));
	EXPECT_EQ(-ENOTTY, set_features(self->k.fd, 0));
	/* The provider: bad pointer, unknown bits, then fine. */
	EXPECT_EQ(-1, ioctl(self->p.t.fd, RXU_IOC_SCHEME_FEATURES, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-EINVAL, set_features(self->p.t.fd, 1ULL << 1));
	EXPECT_EQ(-EINVAL, set_features(self->p.t.fd, ~0ULL));
	EXPECT_EQ(-EINVAL, set_features_r(self->p.t.fd, 0, 1));
	EXPECT_EQ(-EINVAL, set_features_r(self->p.t.fd,
					  RXU_SCHEME_FEAT_ZC_READ, 1ULL << 63));
	EXPECT_EQ(0, set_features(self->p.t.fd, 0));
	EXPECT_EQ(0, set_features(self->p.t.fd, RXU_SCHEME_FEAT_ZC_READ));
	/* A provider with 32-bit entries cannot name an address. */
	ASSERT_EQ(0, rxt_open_create(&t, 4, 4, RXU_CREATE_BITS_32));
	ASSERT_EQ(0, rxt_map_all(&t));
	snprintf(at, sizeof(at), ":%s32", self->name);
	ASSERT_EQ(0, rxt_attach(t.fd, at, strlen(at)));
	EXPECT_EQ(-EOPNOTSUPP, set_features(t.fd, RXU_SCHEME_FEAT_ZC_READ));
	EXPECT_EQ(0, set_features(t.fd, 0));
	/* Created, not attached: not yet a provider. */
	ASSERT_EQ(0, rxt_open_create(&u, 4, 4, 0));
	EXPECT_EQ(-ENOTTY, set_features(u.fd, RXU_SCHEME_FEAT_ZC_READ));
	rxt_destroy(&u);
	rxt_destroy(&t);
}

TEST_F(zc, without_opt_in_the_sqe_is_unchanged)
{
	static unsigned char buf[300000];
	struct rxtp q;
	struct rxu_sqe64 s, got;
	char name[40];
	int64_t fd;

	snprintf(name, sizeof(name), "%so", self->name);
	ASSERT_EQ(0, prov_up(&q, name, 0));
	fd = zopen(&self->k, &q, name, "file");
	ASSERT_LE(0, fd);
	s = rxt_sqe(RXU_OP_READ, (uint64_t)fd, (uintptr_t)buf, sizeof(buf), 0,
		    UD_RD);
	ASSERT_EQ(0, submit(&self->k, &q, &s, &got));
	EXPECT_EQ((uint64_t)RXU_OP_READ, got.opcode);
	EXPECT_EQ((uint64_t)(0), got.syscall_flags);
	EXPECT_EQ((uint64_t)(256 * 1024), got.len);
	EXPECT_EQ((uint64_t)(0), got.additional1);
	EXPECT_EQ((uint64_t)(0), got.additional2);
	/* A zero-copy answer nobody offered is refused. */
	fill_pattern(buf, 64);
	answer(&q, got.user_data, 64, RXU_CQE_ZC_DATA, (uintptr_t)buf);
	EXPECT_EQ(ERR64(EIO), (uint64_t)result(&self->k, UD_RD, NULL));
	close((int)fd);
	serve(&q);
	prov_down(&q);
}

TEST_F(zc, opt_in_offers_zc_on_reads_only)
{
	static unsigned char buf[3 << 20];
	struct rxu_sqe64 s, got;

	/* 300,000 bytes asked: all of it, with 256 KiB of room. */
	s = rxt_sqe(RXU_OP_READ, (uint64_t)self->fd, (uintptr_t)buf, 300000,
		    0, UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	EXPECT_EQ((uint64_t)RXU_RW_ZC, got.syscall_flags);
	EXPECT_EQ((uint64_t)(300000), got.len);
	EXPECT_EQ((uint64_t)(256 * 1024), got.additional1);
	EXPECT_EQ((int64_t)(0), reply(self, &got, 0, 0, 0));
	/* 3 MiB asked: RXU_SCHEME_ZC_MAX of it. */
	s = rxt_sqe(RXU_OP_PREAD, (uint64_t)self->fd, (uintptr_t)buf,
		    sizeof(buf), 77, UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	EXPECT_EQ((uint64_t)RXU_OP_PREAD, got.opcode);
	EXPECT_EQ((uint64_t)RXU_RW_ZC, got.syscall_flags);
	EXPECT_EQ((uint64_t)RXU_SCHEME_ZC_MAX, got.len);
	EXPECT_EQ((uint64_t)(256 * 1024), got.additional1);
	EXPECT_EQ((uint64_t)(77), got.offset);
	EXPECT_EQ((int64_t)(0), reply(self, &got, 0, 0, 0));
	/* Small: room for all of it. */
	s = rxt_sqe(RXU_OP_READ, (uint64_t)self->fd, (uintptr_t)buf, 100, 0,
		    UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	EXPECT_EQ((uint64_t)(100), got.len);
	EXPECT_EQ((uint64_t)(100), got.additional1);
	EXPECT_EQ((int64_t)(0), reply(self, &got, 0, 0, 0));
	/* A WRITE is as it was, and refuses a zero-copy answer. */
	s = rxt_sqe(RXU_OP_WRITE, (uint64_t)self->fd, (uintptr_t)buf, 100, 0,
		    UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	EXPECT_EQ((uint64_t)(0), got.syscall_flags);
	EXPECT_EQ((uint64_t)(100), got.len);
	EXPECT_EQ((uint64_t)(0), got.additional1);
	EXPECT_EQ(ERR64(EIO), (uint64_t)reply(self, &got, 100, RXU_CQE_ZC_DATA, (uintptr_t)buf));
	/* So does a SEEK. */
	s = rxt_sqe(RXU_OP_SEEK, (uint64_t)self->fd, 0, 0, 5, UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	EXPECT_EQ(ERR64(EIO), (uint64_t)reply(self, &got, 5, RXU_CQE_ZC_DATA, (uintptr_t)buf));
}

/* ---------------------------------------------------------------- */
/* Answers that work                                                 */
/* ---------------------------------------------------------------- */

TEST_F(zc, answer_lands_in_the_buffer_and_hides_the_address)
{
	unsigned char *src = malloc(5 * PG), buf[10000];
	struct rxu_sqe64 s, got;
	uint64_t extra = 1;

	ASSERT_NE(NULL, src);
	fill_pattern(src, 5 * PG);
	memset(buf, 0, sizeof(buf));
	s = rxt_sqe(RXU_OP_READ, (uint64_t)self->fd, (uintptr_t)buf,
		    sizeof(buf), 0, UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	/* 10,000 bytes from an odd offset: four pages. */
	answer(&self->p, got.user_data, sizeof(buf), RXU_CQE_ZC_DATA,
	       (uintptr_t)(src + 123));
	EXPECT_EQ((int64_t)(sizeof(buf)), result(&self->k, UD_RD, &extra));
	EXPECT_EQ(0U, extra);
	EXPECT_TRUE(pattern_ok(buf, sizeof(buf), 123));
	/* A short answer, and one of no bytes. */
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	EXPECT_EQ((int64_t)(10), reply(self, &got, 10, RXU_CQE_ZC_DATA, (uintptr_t)src));
	EXPECT_TRUE(pattern_ok(buf, 10, 0));
	EXPECT_EQ(0, buf[10]);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	EXPECT_EQ((int64_t)(0), reply(self, &got, 0, RXU_CQE_ZC_DATA, 0));
	/* An error stays an error. */
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	EXPECT_EQ(ERR64(ENOSPC), (uint64_t)reply(self, &got, -ENOSPC, RXU_CQE_ZC_DATA, 0));
	free(src);
}

TEST_F(zc, readv_and_one_mib_in_one_round_trip)
{
	size_t big = RXU_SCHEME_ZC_MAX;
	unsigned char *src = malloc(big + PG), *dst = malloc(big);
	unsigned char a[1000], b[3000], c[6000];
	struct iovec iov[3] = {
		{ a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) },
	};
	struct rxu_sqe64 s, got;

	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, dst);
	fill_pattern(src, big + PG);
	s = rxt_sqe(RXU_OP_READV, (uint64_t)self->fd, (uintptr_t)iov, 3, 0,
		    UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	EXPECT_EQ((uint64_t)RXU_OP_READ, got.opcode);
	EXPECT_EQ((uint64_t)(10000), got.len);
	/* The segments were taken at submission: changing them now is moot. */
	iov[0].iov_base = NULL;
	iov[2].iov_len = 0;
	EXPECT_EQ((int64_t)(10000), reply(self, &got, 10000, RXU_CQE_ZC_DATA, (uintptr_t)(src + 7)));
	EXPECT_TRUE(pattern_ok(a, sizeof(a), 7));
	EXPECT_TRUE(pattern_ok(b, sizeof(b), 7 + sizeof(a)));
	EXPECT_TRUE(pattern_ok(c, sizeof(c), 7 + sizeof(a) + sizeof(b)));

	s = rxt_sqe(RXU_OP_READ, (uint64_t)self->fd, (uintptr_t)dst, big, 0,
		    UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	EXPECT_EQ((uint64_t)big, got.len);
	EXPECT_EQ((int64_t)big, reply(self, &got, (int64_t)big, RXU_CQE_ZC_DATA, (uintptr_t)(src + 1)));
	EXPECT_TRUE(pattern_ok(dst, big, 1));
	free(src);
	free(dst);
}

TEST_F(zc, data_region_answers_still_work_within_the_room)
{
	static unsigned char buf[300000];
	struct rxu_sqe64 s, got;

	s = rxt_sqe(RXU_OP_READ, (uint64_t)self->fd, (uintptr_t)buf,
		    sizeof(buf), 0, UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	fill_pattern(self->p.data + got.addr, 1000);
	EXPECT_EQ((int64_t)(1000), reply(self, &got, 1000, 0, 0));
	EXPECT_TRUE(pattern_ok(buf, 1000, 0));
	/* Within len but past the room: the provider's garbage. */
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	EXPECT_EQ(ERR64(EIO), (uint64_t)reply(self, &got, (int64_t)got.additional1 + 1, 0, 0));
	/* And a zero-copy answer past len. */
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	EXPECT_EQ(ERR64(EIO), (uint64_t)reply(self, &got, (int64_t)got.len + 1, RXU_CQE_ZC_DATA, (uintptr_t)buf));
}

/* ---------------------------------------------------------------- */
/* What the provider cannot do                                       */
/* ---------------------------------------------------------------- */

TEST_F(zc, source_the_provider_cannot_read_is_eio)
{
	unsigned char buf[64];
	const uint64_t bad[] = {
		0, 1, 0x00007ffffffff000ULL, 0xffff888000000000ULL,
		0xffffffff81000000ULL, ~0ULL - 16,
	};
	struct rxu_sqe64 s, got;
	void *gone, *none;
	size_t i;

	gone = mmap(NULL, PG, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	none = mmap(NULL, PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, gone);
	ASSERT_NE(MAP_FAILED, none);
	munmap(gone, PG);
	s = rxt_sqe(RXU_OP_READ, (uint64_t)self->fd, (uintptr_t)buf,
		    sizeof(buf), 0, UD_RD);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]) + 2; i++) {
		uint64_t at = i < 2 ? (uintptr_t)(i ? none : gone) :
			      bad[i - 2];

		ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
		answer(&self->p, got.user_data, sizeof(buf), RXU_CQE_ZC_DATA,
		       at);
		EXPECT_EQ(ERR64(EIO), (uint64_t)result(&self->k, UD_RD, NULL)) {
			TH_LOG("source %#llx", (unsigned long long)at);
		}
	}
	munmap(none, PG);
}

TEST_F(zc, answer_after_the_request_ended_is_refused)
{
	unsigned char src[64], buf[64];
	struct rxu_sqe64 s, got;
	long long g0 = rxt_scheme_garbage(self->name);

	fill_pattern(src, sizeof(src));
	s = rxt_sqe(RXU_OP_READ, (uint64_t)self->fd, (uintptr_t)buf,
		    sizeof(buf), 0, UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	EXPECT_EQ((int64_t)(sizeof(buf)), reply(self, &got, sizeof(buf), RXU_CQE_ZC_DATA, (uintptr_t)src));
	/* The same range again for the finished request: dropped. */
	memset(buf, 'X', sizeof(buf));
	answer(&self->p, got.user_data, sizeof(buf), RXU_CQE_ZC_DATA,
	       (uintptr_t)src);
	EXPECT_EQ(g0 + 1, rxt_scheme_garbage(self->name));
	EXPECT_EQ(0, rxt_enter(&self->k, 1, 0, 100 * MSEC) > 0);
	EXPECT_EQ('X', buf[0]);
	EXPECT_EQ(self->pins, pins_settle(self->pins));
}

TEST_F(zc, provider_reusing_its_source_after_answering)
{
	unsigned char buf[2 * PG];
	struct rxu_sqe64 s, got;
	unsigned char *src;

	src = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	memset(src, 'Q', 2 * PG);
	s = rxt_sqe(RXU_OP_READ, (uint64_t)self->fd, (uintptr_t)buf,
		    sizeof(buf), 0, UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	answer(&self->p, got.user_data, sizeof(buf), RXU_CQE_ZC_DATA,
	       (uintptr_t)src);
	/*
	 * The answering ENTER copied the bytes: nothing is pinned, and the
	 * provider may overwrite its memory and unmap it before the
	 * consumer even looks.
	 */
	EXPECT_EQ(self->pins, pins_held());
	memset(src, 'R', 2 * PG);
	munmap(src, 2 * PG);
	EXPECT_EQ((int64_t)(sizeof(buf)), result(&self->k, UD_RD, NULL));
	EXPECT_EQ('Q', buf[0]);
	EXPECT_EQ('Q', buf[sizeof(buf) - 1]);
	EXPECT_EQ(self->pins, pins_settle(self->pins));
}

TEST_F(zc, provider_gone_after_answering)
{
	unsigned char src[100], buf[100];
	struct rxu_sqe64 s, got;

	fill_pattern(src, sizeof(src));
	s = rxt_sqe(RXU_OP_READ, (uint64_t)self->fd, (uintptr_t)buf,
		    sizeof(buf), 0, UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	answer(&self->p, got.user_data, sizeof(buf), RXU_CQE_ZC_DATA,
	       (uintptr_t)src);
	prov_down(&self->p);
	/* Answered before it went: its pinned bytes are still had. */
	EXPECT_EQ((int64_t)(sizeof(buf)), result(&self->k, UD_RD, NULL));
	EXPECT_TRUE(pattern_ok(buf, sizeof(buf), 0));
	close((int)self->fd);
	self->fd = -1;
	EXPECT_EQ(self->pins, pins_settle(self->pins));
}

/* ---------------------------------------------------------------- */
/* The consumer's buffer changing under the request                  */
/* ---------------------------------------------------------------- */

/* READ into a 3-page mapping, which change() alters before the answer. */
static void buffer_changes(FIXTURE_DATA(zc) *self,
			   struct __test_metadata *_metadata, int zcans,
			   int unmap)
{
	unsigned char *src = malloc(3 * PG), *buf;
	struct rxu_sqe64 s, got;
	size_t i;

	ASSERT_NE(NULL, src);
	fill_pattern(src, 3 * PG);
	buf = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 'Z', 3 * PG);
	s = rxt_sqe(RXU_OP_READ, (uint64_t)self->fd, (uintptr_t)buf,
		    3 * PG, 0, UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	if (unmap) {
		ASSERT_EQ(0, munmap(buf, 3 * PG));
	} else {
		ASSERT_EQ(0, mprotect(buf, 3 * PG, PROT_READ));
	}
	if (zcans) {
		answer(&self->p, got.user_data, 3 * PG, RXU_CQE_ZC_DATA,
		       (uintptr_t)src);
	} else {
		memcpy(self->p.data + got.addr, src, got.additional1);
		answer(&self->p, got.user_data, (int64_t)got.additional1, 0,
		       0);
	}
	EXPECT_EQ(ERR64(EFAULT), (uint64_t)result(&self->k, UD_RD, NULL));
	if (!unmap) {
		/* Nothing was written through the read-only mapping. */
		for (i = 0; i < 3 * PG && buf[i] == 'Z'; i++)
			;
		EXPECT_EQ(3 * PG, i);
		munmap(buf, 3 * PG);
	}
	free(src);
	EXPECT_EQ(self->pins, pins_settle(self->pins));
}

TEST_F(zc, buffer_unmapped_mid_request_efault)
{
	buffer_changes(self, _metadata, 1, 1);
	buffer_changes(self, _metadata, 0, 1);
}

TEST_F(zc, buffer_read_only_mid_request_efault)
{
	buffer_changes(self, _metadata, 1, 0);
	buffer_changes(self, _metadata, 0, 0);
}

TEST_F(zc, consumer_ring_closed_before_taking)
{
	unsigned char src[3 * PG], buf[3 * PG];
	struct rxu_sqe64 s, got;

	fill_pattern(src, sizeof(src));
	s = rxt_sqe(RXU_OP_READ, (uint64_t)self->fd, (uintptr_t)buf,
		    sizeof(buf), 0, UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	answer(&self->p, got.user_data, sizeof(buf), RXU_CQE_ZC_DATA,
	       (uintptr_t)src);
	EXPECT_EQ(self->pins, pins_held());
	EXPECT_TRUE(pattern_ok(buf, sizeof(buf), 0));
	/* Answered, never taken: the request goes with the ring. */
	close((int)self->fd);
	self->fd = -1;
	rxt_destroy(&self->k);
	EXPECT_EQ(self->pins, pins_settle(self->pins));
}

TEST_F(zc, consumer_ring_closed_before_the_answer_nothing_written)
{
	unsigned char src[3 * PG], buf[3 * PG];
	long long g0 = rxt_scheme_garbage(self->name);
	struct rxu_sqe64 s, got;
	size_t i;

	fill_pattern(src, sizeof(src));
	memset(buf, 'Z', sizeof(buf));
	s = rxt_sqe(RXU_OP_READ, (uint64_t)self->fd, (uintptr_t)buf,
		    sizeof(buf), 0, UD_RD);
	ASSERT_EQ(0, submit(&self->k, &self->p, &s, &got));
	/* The consumer gives the request up; its buffer is its own again. */
	close((int)self->fd);
	self->fd = -1;
	rxt_destroy(&self->k);
	answer(&self->p, got.user_data, sizeof(buf), RXU_CQE_ZC_DATA,
	       (uintptr_t)src);
	for (i = 0; i < sizeof(buf) && buf[i] == 'Z'; i++)
		;
	EXPECT_EQ(sizeof(buf), i);
	/* A late answer to a request still out is no garbage. */
	EXPECT_EQ(g0, rxt_scheme_garbage(self->name));
	EXPECT_EQ(self->pins, pins_settle(self->pins));
}

/* ---------------------------------------------------------------- */
/* read(2) and pread(2) against a forked provider that opted in      */
/* ---------------------------------------------------------------- */

TEST_F(zc, read_syscalls_one_copy)
{
	struct rxtp_shared *sh = rxtp_shared_new();
	size_t big = RXU_SCHEME_ZC_MAX + 4096;
	unsigned char *buf = malloc(big), *ro;
	char name[40], path[64];
	struct rxu_sqe64 s;
	int reads, zca, fd;
	ssize_t n;
	pid_t pid;

	ASSERT_NE(NULL, sh);
	ASSERT_NE(NULL, buf);
	sh->zc = 1;
	snprintf(name, sizeof(name), "%sf", self->name);
	pid = rxtp_start(name, sh);
	ASSERT_LT(0, pid);
	snprintf(path, sizeof(path), "%s:huge", name);
	s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)path, strlen(path),
		    O_RDONLY | O_CLOEXEC, UD_OPEN);
	fd = (int)rxt_run(&self->k, &s);
	ASSERT_LE(0, fd);
	reads = RXTP_GET(sh, reads);
	zca = RXTP_GET(sh, zc_answers);
	/* More than RXU_SCHEME_ZC_MAX asked: one request, that much read. */
	n = read(fd, buf, big);
	EXPECT_EQ((ssize_t)RXU_SCHEME_ZC_MAX, n);
	EXPECT_TRUE(pattern_ok(buf, RXU_SCHEME_ZC_MAX, 0));
	EXPECT_EQ(reads + 1, RXTP_GET(sh, reads));
	EXPECT_EQ(zca + 1, RXTP_GET(sh, zc_answers));
	EXPECT_EQ((uint32_t)RXU_RW_ZC, RXTP_GET(sh, last_read_sflags));
	EXPECT_EQ((uint64_t)RXU_SCHEME_ZC_MAX, RXTP_GET(sh, last_read_len));
	n = pread(fd, buf, 5000, 12345);
	EXPECT_EQ(5000, n);
	EXPECT_TRUE(pattern_ok(buf, 5000, 12345));
	/*
	 * Into a read-only buffer: EFAULT, and nothing written; the
	 * provider served the READ, so its position moved on.
	 */
	ro = mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(-1, read(fd, ro, 2 * PG));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, ro[0]);
	munmap(ro, 2 * PG);
	n = read(fd, buf, 100);
	EXPECT_EQ(100, n);
	EXPECT_TRUE(pattern_ok(buf, 100, RXU_SCHEME_ZC_MAX + 2 * PG));
	close(fd);
	rxtp_stop(pid);
	munmap(sh, sizeof(*sh));
	free(buf);
}

TEST_HARNESS_MAIN
