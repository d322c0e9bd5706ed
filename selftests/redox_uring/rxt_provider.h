/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A scheme provider for the tests (ABI.md section 7), written with raw
 * ring accesses as the rest of the helpers are.  rxtp_start() forks a
 * child that registers ":NAME", maps the data region and serves until it
 * is killed; what it saw is counted in a shared page the test reads.
 *
 * Files are named by the path after "NAME:", which also picks how the
 * provider behaves, so that every case of section 7 can be provoked:
 *
 *   anything else  a file of RXTP_FILE_SIZE bytes, byte i = 'a' + i % 26
 *                  (empty with O_TRUNC); READ/WRITE/SEEK/FSTAT/FSYNC/
 *                  FTRUNCATE/DUP/CLOSE behave as on a regular file
 *   enoent         OPEN fails with ENOENT
 *   hang           OPEN is never answered
 *   slow...        a file whose READs are never answered
 *   event...       a file; an EVENT READ|WRITE CQE follows the OPEN
 *   big...         a file whose READs claim one byte more than asked
 *   garbage...     a file; the OPEN answer comes after a CQE with a wrong
 *                  user_data and one with a tag never issued
 *   pass           OPEN answers with RXU_CQE_PASS_FD: a pipe holding
 *                  "passed"
 *   nodata         a file whose READ answers point to no data (status
 *                  = len, nothing written: the consumer sees zeros)
 *   huge...        a read-only file of RXTP_HUGE_SIZE bytes, same pattern
 *
 * With sh->zc set before the start, the provider opts in to zero-copy
 * READ answers (RXU_IOC_SCHEME_FEATURES) and answers every READ that
 * offers it (RXU_RW_ZC) with RXU_CQE_ZC_DATA from its own file buffer.
 * The last READ SQE's syscall_flags, len and additional1 are recorded.
 *
 * RECV_IORING: refused with ECONNREFUSED when sh->refuse is set, else the
 * ring is received (RXU_IOC_RECV), mapped, and served: every SQE gets a
 * CQE with the same user_data and status = len + 1, or, for opcode 200,
 * status = the sum of the pool bytes at [addr, addr + len).
 */
#ifndef RXT_PROVIDER_H
#define RXT_PROVIDER_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rxu_test.h"

#define RXTP_FILE_SIZE	4096
#define RXTP_MAX_FILES	256
#define RXTP_MAX_U2U	8
#define RXTP_MAX_HELD	64
#define RXTP_OP_SUM	200
#define RXTP_HUGE_SIZE	(3U << 20)

/* What the provider saw; in memory shared with the test. */
struct rxtp_shared {
	int ready;		/* 1 serving, or -errno of its setup */
	int refuse;		/* refuse RECV_IORING */
	int bits32;		/* register with 32-bit entries (set before start) */
	int zc;			/* opt in to zero-copy READs (set before start) */
	int zc_answers;		/* READs answered with RXU_CQE_ZC_DATA */
	uint32_t last_read_sflags;
	uint64_t last_read_len, last_read_room;
	int opens, closes, reads, writes, seeks, fstats, fsyncs, truncs;
	int dups, recvs, u2u_sqes, others;
	int open_handles;	/* opened (or dup'ed) and not closed */
	int last_oflags;
	uint64_t last_dup_param_len;
	char last_dup_param[16];
	int u2u_dropped;	/* a producer ring it served saw DROP */
	uint64_t pool_ranges;	/* ranges learnt from its pool fd */
};

struct rxtp_file {
	int used;
	int kind;
	uint64_t pos, size;
	unsigned char buf[RXTP_FILE_SIZE * 2];
};

enum { RXTP_PLAIN, RXTP_SLOW, RXTP_BIG, RXTP_NODATA, RXTP_HUGE };

struct rxtp {
	struct rxt t;
	struct rxt k;			/* its own kernel ring, for DUP "pool" */
	unsigned char *data;
	size_t data_len;
	struct rxtp_shared *sh;
	struct rxtp_file *files;
	unsigned char *huge;		/* the huge files' bytes, made once */
	int pass_fd;
	struct {
		struct rxt r;		/* producer side: pops SQ, pushes CQ */
		int pool;
		unsigned char *pool_map;
		uint64_t pool_off, pool_len;
	} u2u[RXTP_MAX_U2U];
	int nu2u;
};

/*
 * Provider side of a ring: pop the SQ, push the CQ, widening and
 * narrowing 32-bit entries.
 */
static inline int rxtp_pop_sqe(struct rxt *t, struct rxu_sqe64 *sqe)
{
	void *hdr = rxt_sqh(t);
	uint64_t n = t->sq_n;
	uint64_t head = rxt_hdr_get(hdr, RXT_HDR_HEAD);
	uint64_t tail = rxt_hdr_get(hdr, RXT_HDR_TAIL);

	if (head == tail)
		return -EAGAIN;
	if (t->flags & RXU_CREATE_BITS_32) {
		const struct rxu_sqe32 *s = rxt_sq_slot(t, head);

		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = s->opcode;
		sqe->flags = s->flags;
		sqe->syscall_flags = s->syscall_flags;
		sqe->fd = s->fd;
		sqe->len = s->len;
		sqe->user_data = s->user_data;
		sqe->addr = s->addr;
		sqe->offset = s->offset;
	} else {
		memcpy(sqe, rxt_sq_slot(t, head), sizeof(*sqe));
	}
	rxt_hdr_set(hdr, RXT_HDR_HEAD, (head + 1) & (2 * n - 1));
	rxt_hdr_set(hdr, RXT_HDR_POP_EPOCH,
		    rxt_hdr_get(hdr, RXT_HDR_POP_EPOCH) + 1);
	return 0;
}

static inline int rxtp_push_cqe(struct rxt *t, uint64_t user_data,
				int64_t status, uint64_t flags, uint64_t extra)
{
	void *hdr = rxt_cqh(t);
	uint64_t n = t->cq_n;
	uint64_t head = rxt_hdr_get(hdr, RXT_HDR_HEAD);
	uint64_t tail = rxt_hdr_get(hdr, RXT_HDR_TAIL);
	struct rxu_cqe64 c = {
		.user_data = user_data, .status = (uint64_t)status,
		.flags = flags, .extra = extra,
	};

	if (((tail - head) & (2 * n - 1)) >= n)
		return -EAGAIN;
	if (t->flags & RXU_CREATE_BITS_32) {
		struct rxu_cqe32 c32 = {
			.user_data = (uint32_t)user_data,
			.status = (uint32_t)status, .flags = (uint32_t)flags,
			.extra = (uint32_t)extra,
		};

		memcpy(rxt_cq_slot(t, tail), &c32, sizeof(c32));
	} else {
		memcpy(rxt_cq_slot(t, tail), &c, sizeof(c));
	}
	rxt_hdr_set(hdr, RXT_HDR_TAIL, (tail + 1) & (2 * n - 1));
	rxt_hdr_set(hdr, RXT_HDR_PUSH_EPOCH,
		    rxt_hdr_get(hdr, RXT_HDR_PUSH_EPOCH) + 1);
	return 0;
}

/* The provider's answer; its CQ is drained by every ENTER, so push. */
static inline void rxtp_answer_x(struct rxtp *p, uint64_t ud, int64_t status,
				 uint64_t flags, uint64_t extra)
{
	while (rxtp_push_cqe(&p->t, ud, status, flags, extra) == -EAGAIN)
		rxt_enter(&p->t, 0, RXU_ENTER_ONLY_NOTIFY, 0);
}

static inline void rxtp_answer(struct rxtp *p, uint64_t ud, int64_t status,
			       uint64_t flags)
{
	rxtp_answer_x(p, ud, status, flags, 0);
}

static inline int rxtp_is(const char *path, size_t len, const char *word)
{
	size_t w = strlen(word);

	return len >= w && !memcmp(path, word, w);
}

static inline int rxtp_new_file(struct rxtp *p, int kind, int trunc)
{
	int h;

	for (h = 1; h < RXTP_MAX_FILES; h++) {
		struct rxtp_file *f = &p->files[h];

		if (f->used)
			continue;
		memset(f, 0, sizeof(*f));
		f->used = 1;
		f->kind = kind;
		f->size = kind == RXTP_HUGE ? RXTP_HUGE_SIZE :
			  trunc ? 0 : RXTP_FILE_SIZE;
		for (size_t i = 0; i < sizeof(f->buf); i++)
			f->buf[i] = 'a' + i % 26;
		p->sh->open_handles++;
		return h;
	}
	return -EMFILE;
}

static inline int rxtp_in_data(struct rxtp *p, uint64_t addr, uint64_t len)
{
	return addr <= p->data_len && len <= p->data_len - addr;
}

static inline void rxtp_open(struct rxtp *p, const struct rxu_sqe64 *s)
{
	const char *path = (const char *)p->data + s->addr;
	size_t len = s->len;
	int h;

	p->sh->opens++;
	p->sh->last_oflags = (int)s->offset;
	if (!rxtp_in_data(p, s->addr, s->len)) {
		rxtp_answer(p, s->user_data, -EFAULT, 0);
		return;
	}
	if (rxtp_is(path, len, "enoent")) {
		rxtp_answer(p, s->user_data, -ENOENT, 0);
		return;
	}
	if (rxtp_is(path, len, "hang"))
		return;
	if (rxtp_is(path, len, "pass")) {
		rxtp_answer(p, s->user_data, p->pass_fd, RXU_CQE_PASS_FD);
		return;
	}
	h = rxtp_new_file(p, rxtp_is(path, len, "slow") ? RXTP_SLOW :
			  rxtp_is(path, len, "big") ? RXTP_BIG :
			  rxtp_is(path, len, "nodata") ? RXTP_NODATA :
			  rxtp_is(path, len, "huge") ? RXTP_HUGE :
			  RXTP_PLAIN, s->offset & O_TRUNC);
	if (rxtp_is(path, len, "garbage")) {
		rxtp_answer(p, s->user_data ^ 0x5a5a0000ULL, 99, 0);
		rxtp_answer(p, 0xfffffff0ULL, 98, 0);
	}
	rxtp_answer(p, s->user_data, h, 0);
	if (h > 0 && rxtp_is(path, len, "event"))
		rxtp_answer(p, h, 0, RXU_CQE_EVENT |
			    ((uint64_t)(RXU_EVENT_READ | RXU_EVENT_WRITE)
			     << RXU_CQE_EVENT_SHIFT));
}

static inline struct rxtp_file *rxtp_file(struct rxtp *p, uint64_t h)
{
	if (h == 0 || h >= RXTP_MAX_FILES || !p->files[h].used)
		return NULL;
	return &p->files[h];
}

static inline void rxtp_rw(struct rxtp *p, const struct rxu_sqe64 *s)
{
	struct rxtp_file *f = rxtp_file(p, s->fd);
	int write = s->opcode == RXU_OP_WRITE || s->opcode == RXU_OP_PWRITE;
	int positional = s->opcode == RXU_OP_PREAD ||
			 s->opcode == RXU_OP_PWRITE;
	/* A READ offered zero-copy has only additional1 bytes of room. */
	int offered = !write && (s->syscall_flags & RXU_RW_ZC);
	uint64_t room = offered ? s->additional1 : s->len;
	int zc = offered && p->sh->zc;
	const unsigned char *src;
	uint64_t pos, n;

	if (write) {
		p->sh->writes++;
	} else {
		p->sh->reads++;
		p->sh->last_read_sflags = s->syscall_flags;
		p->sh->last_read_len = s->len;
		p->sh->last_read_room = s->additional1;
	}
	if (!f) {
		rxtp_answer(p, s->user_data, -EBADF, 0);
		return;
	}
	if (f->kind == RXTP_HUGE && !p->huge) {
		p->huge = malloc(RXTP_HUGE_SIZE);
		if (!p->huge) {
			rxtp_answer(p, s->user_data, -ENOMEM, 0);
			return;
		}
		for (n = 0; n < RXTP_HUGE_SIZE; n++)
			p->huge[n] = 'a' + n % 26;
	}
	src = f->kind == RXTP_HUGE ? p->huge : f->buf;
	if (!rxtp_in_data(p, s->addr, room)) {
		rxtp_answer(p, s->user_data, -EFAULT, 0);
		return;
	}
	if (!write && f->kind == RXTP_SLOW)
		return;
	if (!write && f->kind == RXTP_BIG) {
		rxtp_answer(p, s->user_data, (int64_t)s->len + 1, 0);
		return;
	}
	pos = positional ? s->offset : f->pos;
	if (write) {
		n = pos < sizeof(f->buf) ? sizeof(f->buf) - pos : 0;
		if (n > s->len)
			n = s->len;
		if (f->kind == RXTP_HUGE)
			n = 0;
		memcpy(f->buf + pos, p->data + s->addr, n);
		if (pos + n > f->size)
			f->size = pos + n;
	} else {
		n = pos < f->size ? f->size - pos : 0;
		if (n > s->len)
			n = s->len;
		/* Not offered a zero-copy answer: the room is all we have. */
		if (!zc && n > room)
			n = room;
		if (!zc && f->kind != RXTP_NODATA)
			memcpy(p->data + s->addr, src + pos, n);
	}
	if (!positional)
		f->pos = pos + n;
	if (zc)
		p->sh->zc_answers++;
	rxtp_answer_x(p, s->user_data, (int64_t)n, zc ? RXU_CQE_ZC_DATA : 0,
		      zc ? (uintptr_t)(src + pos) : 0);
}

static inline void rxtp_recv(struct rxtp *p, const struct rxu_sqe64 *s)
{
	struct rxu_recv_info info = { .ticket = s->addr };
	struct rxt *r;
	int64_t pool;
	int i, err;

	p->sh->recvs++;
	if (p->sh->refuse || p->nu2u >= RXTP_MAX_U2U) {
		rxtp_answer(p, s->user_data, -ECONNREFUSED, 0);
		return;
	}
	if (ioctl(p->t.fd, RXU_IOC_RECV, &info) < 0) {
		rxtp_answer(p, s->user_data, -errno, 0);
		return;
	}
	r = &p->u2u[p->nu2u].r;
	memset(r, 0, sizeof(*r));
	r->fd = (int)info.producer_fd;
	r->flags = 0;
	r->sq_n = info.sq_entry_count;
	r->cq_n = info.cq_entry_count;
	r->sqe_size = rxt_sqe_size(0);
	r->cqe_size = rxt_cqe_size(0);
	for (i = 0; i < RXT_NREGIONS; i++) {
		r->len[i] = rxt_region_size(i, r->sq_n, r->cq_n, 0);
		r->map[i] = rxt_mmap_off(r->fd, rxt_region_off[i], r->len[i],
					 MAP_SHARED, &err);
		if (!r->map[i]) {
			rxtp_answer(p, s->user_data, err, 0);
			return;
		}
	}
	/* Its side of the connection's pool (made by whoever asks first). */
	pool = rxt_dup_param(&p->k, r->fd, RXU_DUP_PARAM_POOL);
	p->u2u[p->nu2u].pool = pool < 0 ? -1 : (int)pool;
	p->nu2u++;
	rxtp_answer(p, s->user_data, 0, 0);
}

static inline void rxtp_serve_sqe(struct rxtp *p, const struct rxu_sqe64 *s)
{
	struct rxtp_file *f;
	int h;

	switch (s->opcode) {
	case RXU_OP_OPEN:
		rxtp_open(p, s);
		break;
	case RXU_OP_READ:
	case RXU_OP_PREAD:
	case RXU_OP_WRITE:
	case RXU_OP_PWRITE:
		rxtp_rw(p, s);
		break;
	case RXU_OP_CLOSE:
		f = rxtp_file(p, s->fd);
		if (f) {
			f->used = 0;
			p->sh->open_handles--;
		}
		__atomic_add_fetch(&p->sh->closes, 1, __ATOMIC_RELEASE);
		rxtp_answer(p, s->user_data, f ? 0 : -EBADF, 0);
		break;
	case RXU_OP_SEEK:
		p->sh->seeks++;
		f = rxtp_file(p, s->fd);
		if (!f) {
			rxtp_answer(p, s->user_data, -EBADF, 0);
		} else if (s->syscall_flags == SEEK_SET) {
			f->pos = s->offset;
			rxtp_answer(p, s->user_data, (int64_t)f->pos, 0);
		} else if (s->syscall_flags == SEEK_CUR) {
			f->pos += s->offset;
			rxtp_answer(p, s->user_data, (int64_t)f->pos, 0);
		} else if (s->syscall_flags == SEEK_END) {
			f->pos = f->size + s->offset;
			rxtp_answer(p, s->user_data, (int64_t)f->pos, 0);
		} else {
			rxtp_answer(p, s->user_data, -EINVAL, 0);
		}
		break;
	case RXU_OP_FSTAT: {
		struct stat st;

		p->sh->fstats++;
		f = rxtp_file(p, s->fd);
		if (!f || s->len != sizeof(st) ||
		    !rxtp_in_data(p, s->addr, s->len)) {
			rxtp_answer(p, s->user_data, f ? -EINVAL : -EBADF, 0);
			break;
		}
		memset(&st, 0, sizeof(st));
		st.st_size = (off_t)f->size;
		st.st_mode = S_IFREG | 0644;
		st.st_ino = s->fd;
		memcpy(p->data + s->addr, &st, sizeof(st));
		rxtp_answer(p, s->user_data, 0, 0);
		break;
	}
	case RXU_OP_FSYNC:
		p->sh->fsyncs++;
		rxtp_answer(p, s->user_data, rxtp_file(p, s->fd) ? 0 : -EBADF,
			    0);
		break;
	case RXU_OP_FTRUNCATE:
		p->sh->truncs++;
		f = rxtp_file(p, s->fd);
		if (f && s->offset <= sizeof(f->buf))
			f->size = s->offset;
		rxtp_answer(p, s->user_data, !f ? -EBADF :
			    s->offset > sizeof(f->buf) ? -EFBIG : 0, 0);
		break;
	case RXU_OP_DUP:
		p->sh->dups++;
		p->sh->last_dup_param_len = s->len;
		if (s->len && s->len <= sizeof(p->sh->last_dup_param) &&
		    rxtp_in_data(p, s->addr, s->len))
			memcpy(p->sh->last_dup_param, p->data + s->addr,
			       s->len);
		f = rxtp_file(p, s->fd);
		if (!f) {
			rxtp_answer(p, s->user_data, -EBADF, 0);
			break;
		}
		h = rxtp_new_file(p, f->kind, 0);
		if (h > 0) {
			memcpy(&p->files[h], f, sizeof(*f));
			p->files[h].pos = f->pos;
		}
		rxtp_answer(p, s->user_data, h, 0);
		break;
	case RXU_OP_RECV_IORING:
		rxtp_recv(p, s);
		break;
	default:
		p->sh->others++;
		rxtp_answer(p, s->user_data, -ENOSYS, 0);
		break;
	}
}

/* Learn the consumer's pool ranges (the first one is mapped). */
static inline void rxtp_pool_learn(struct rxtp *p, int i)
{
	struct rxu_pool_range rec[4];
	ssize_t n;
	int k;

	if (p->u2u[i].pool < 0)
		return;
	n = read(p->u2u[i].pool, rec, sizeof(rec));
	for (k = 0; n > 0 && k < n / (ssize_t)sizeof(rec[0]); k++) {
		p->sh->pool_ranges++;
		if (p->u2u[i].pool_map)
			continue;
		p->u2u[i].pool_map = mmap(NULL, rec[k].size,
					  PROT_READ | PROT_WRITE, MAP_SHARED,
					  p->u2u[i].pool, (off_t)rec[k].offset);
		if (p->u2u[i].pool_map == MAP_FAILED) {
			p->u2u[i].pool_map = NULL;
			continue;
		}
		p->u2u[i].pool_off = rec[k].offset;
		p->u2u[i].pool_len = rec[k].size;
	}
}

static inline int64_t rxtp_pool_sum(struct rxtp *p, int i, uint64_t addr,
				    uint64_t len)
{
	uint64_t sum = 0, k;

	if (!p->u2u[i].pool_map || addr < p->u2u[i].pool_off ||
	    addr - p->u2u[i].pool_off > p->u2u[i].pool_len ||
	    len > p->u2u[i].pool_len - (addr - p->u2u[i].pool_off))
		return -EFAULT;
	for (k = 0; k < len; k++)
		sum += p->u2u[i].pool_map[addr - p->u2u[i].pool_off + k];
	return (int64_t)sum;
}

/* Serve one u2u ring: answer its SQEs, ring the consumer's doorbell. */
static inline void rxtp_serve_u2u(struct rxtp *p, int i)
{
	struct rxt *r = &p->u2u[i].r;
	struct rxu_sqe64 s;
	int any = 0;

	if (r->fd < 0)
		return;
	while (!rxtp_pop_sqe(r, &s)) {
		int64_t st = (int64_t)s.len + 1;

		p->sh->u2u_sqes++;
		if (s.opcode == RXTP_OP_SUM) {
			rxtp_pool_learn(p, i);
			st = rxtp_pool_sum(p, i, s.addr, s.len);
		}
		while (rxtp_push_cqe(r, s.user_data, st, 0, 0) == -EAGAIN)
			rxt_enter(r, 0, RXU_ENTER_ONLY_NOTIFY, 0);
		any = 1;
	}
	if (rxt_hdr_get(rxt_sqh(r), RXT_HDR_STATUS) & RXU_RING_DROP) {
		p->sh->u2u_dropped++;
		close(r->fd);
		r->fd = -1;
		return;
	}
	if (any)
		rxt_enter(r, 0, RXU_ENTER_ONLY_NOTIFY, 0);
}

/* Answer every SQE queued in its SQ; how many. */
static inline int rxtp_serve_queued(struct rxtp *p)
{
	struct rxu_sqe64 s;
	int n = 0;

	while (!rxtp_pop_sqe(&p->t, &s)) {
		rxtp_serve_sqe(p, &s);
		n++;
	}
	return n;
}

/* The provider's body, in its own process: serve until killed. */
static inline void rxtp_serve(struct rxtp *p)
{
	for (;;) {
		struct pollfd pf[1 + RXTP_MAX_U2U];
		int i, n = 0;

		pf[n++] = (struct pollfd){ .fd = p->t.fd, .events = POLLIN };
		for (i = 0; i < p->nu2u; i++)
			pf[n++] = (struct pollfd){ .fd = p->u2u[i].r.fd,
						   .events = POLLIN };
		if (poll(pf, n, 200) < 0 && errno != EINTR)
			_exit(3);
		rxtp_serve_queued(p);
		/* The doorbell: the kernel takes the answers. */
		rxt_enter(&p->t, 0, RXU_ENTER_ONLY_NOTIFY, 0);
		for (i = 0; i < p->nu2u; i++)
			rxtp_serve_u2u(p, i);
	}
}

/* Register ":name": 0 or -errno; on success p->t, p->data are set. */
static inline int rxtp_register(struct rxtp *p, const char *name)
{
	char at[80];
	long long size = rxt_param("scheme_data_size");
	int err;

	snprintf(at, sizeof(at), ":%s", name);
	p->k = (struct rxt)RXT_INIT;
	err = rxt_setup(&p->k, 4, 4, 0);
	if (err)
		return err;
	p->t = (struct rxt)RXT_INIT;
	err = rxt_open_create(&p->t, 64, 64,
			      p->sh && p->sh->bits32 ? RXU_CREATE_BITS_32 : 0);
	if (!err)
		err = rxt_map_all(&p->t);
	if (!err)
		err = rxt_attach(p->t.fd, at, strlen(at));
	if (err)
		return err;
	if (size <= 0)
		return -EINVAL;
	if (p->sh && p->sh->zc) {
		struct rxu_scheme_features f = {
			.features = RXU_SCHEME_FEAT_ZC_READ,
		};

		if (ioctl(p->t.fd, RXU_IOC_SCHEME_FEATURES, &f))
			return -errno;
	}
	p->data_len = (size_t)size;
	p->data = rxt_mmap_off(p->t.fd, RXU_OFF_SCHEME_DATA, p->data_len,
			       MAP_SHARED, &err);
	return p->data ? 0 : err;
}

/*
 * Fork a provider of "name": its pid once it serves (sh->ready = 1), or
 * -errno.  sh must be MAP_SHARED memory (rxtp_shared_new()).
 */
static inline pid_t rxtp_start(const char *name, struct rxtp_shared *sh)
{
	pid_t pid;
	int i;

	sh->ready = 0;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		static struct rxtp p;
		int pipefd[2];
		int err;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* The test's own fds are not the provider's to keep open. */
		syscall(SYS_close_range, 3U, ~0U, 0U);
		memset(&p, 0, sizeof(p));
		p.sh = sh;
		p.files = calloc(RXTP_MAX_FILES, sizeof(*p.files));
		if (!p.files || pipe(pipefd) ||
		    write(pipefd[1], "passed", 6) != 6)
			_exit(2);
		p.pass_fd = pipefd[0];
		err = rxtp_register(&p, name);
		__atomic_store_n(&sh->ready, err ? err : 1, __ATOMIC_RELEASE);
		if (err)
			_exit(1);
		rxtp_serve(&p);
		_exit(0);
	}
	for (i = 0; i < 10000; i++) {
		int r = __atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE);

		if (r == 1)
			return pid;
		if (r < 0) {
			waitpid(pid, NULL, 0);
			return r;
		}
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -ETIMEDOUT;
}

static inline void rxtp_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

static inline struct rxtp_shared *rxtp_shared_new(void)
{
	void *m = mmap(NULL, sizeof(struct rxtp_shared), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

/* Read a counter of the provider. */
#define RXTP_GET(sh, field) __atomic_load_n(&(sh)->field, __ATOMIC_ACQUIRE)

#endif /* RXT_PROVIDER_H */
