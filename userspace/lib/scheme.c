// SPDX-License-Identifier: MIT
/*
 * librxu's provider framework, the part every request goes through
 * (rxu_scheme.h): one SQE from a provider or u2u ring becomes one
 * request; the handle it names is looked up, its buffer turned into a
 * checked pointer, the daemon's callback (or the default answer) run,
 * and the answer pushed, now or when the daemon replies.
 *
 *	on_sqe -> dispatch -> op_* -> callback
 *	       -> finish (position, FSTAT copy-out, handle birth) -> answer
 *
 * Handle ids are the lowest free index of the connection's table, as
 * memd and pcid always gave them; an id is free again once its CLOSE is
 * answered and no request naming it is pending.
 */
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rxu.h"
#include "rxu_scheme.h"
#include "reactor_int.h"
#include "scheme_int.h"

#define RXU_SCHEME_MAX_HANDLES	INT32_MAX
#define RXU_SCHEME_BLKSIZE	4096

static struct rxu_sconn *req_conn(const struct rxu_sreq *q)
{
	return (struct rxu_sconn *)q->pub.conn;
}

static struct rxu_shandle *req_handle(const struct rxu_sreq *q)
{
	return (struct rxu_shandle *)q->pub.handle;
}

/* ------------------------------------------------------------------ */
/* The handle table                                                    */
/* ------------------------------------------------------------------ */

struct rxu_scheme_handle *rxu_scheme_handle(struct rxu_scheme_conn *conn,
					    uint64_t id)
{
	struct rxu_sconn *c = (struct rxu_sconn *)conn;

	if (!c || id >= c->nhandles || !c->handles[id] ||
	    c->handles[id]->state != RXU_H_LIVE)
		return NULL;
	return &c->handles[id]->pub;
}

/* A new handle in the lowest free id, in state BIRTH. */
static struct rxu_shandle *handle_new(struct rxu_sconn *c, int64_t *err)
{
	struct rxu_shandle *h, **n;
	size_t i;

	for (i = 0; i < c->nhandles; i++)
		if (!c->handles[i])
			break;
	if (i == c->nhandles) {
		if (c->nhandles >= RXU_SCHEME_MAX_HANDLES) {
			*err = -EMFILE;
			return NULL;
		}
		n = realloc(c->handles, (c->nhandles + 1) * sizeof(*n));
		if (!n) {
			*err = -ENOMEM;
			return NULL;
		}
		c->handles = n;
		c->handles[c->nhandles++] = NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		*err = -ENOMEM;
		return NULL;
	}
	h->pub.id = i;
	h->pub.conn = &c->pub;
	h->state = RXU_H_BIRTH;
	c->handles[i] = h;
	return h;
}

/* Give the id back (a failed birth, or closed with nothing pending). */
static void handle_free(struct rxu_sconn *c, struct rxu_shandle *h)
{
	c->handles[h->pub.id] = NULL;
	free(h);
}

void rxu__scheme_close_all(struct rxu_sconn *c)
{
	const struct rxu_scheme_ops *ops = c->pub.scheme->ops;
	size_t i;

	for (i = 0; i < c->nhandles; i++) {
		struct rxu_shandle *h = c->handles[i];

		if (!h)
			continue;
		if (h->state == RXU_H_LIVE && ops->close)
			ops->close(NULL, &h->pub);
		if (h->pending) {	/* freed by its last reply */
			h->state = RXU_H_CLOSED;
			continue;
		}
		handle_free(c, h);
	}
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static struct rxu_sreq *req_get(struct rxu_scheme *s)
{
	struct rxu_sreq *q = s->free_reqs;

	if (q)
		s->free_reqs = q->next;
	else
		q = malloc(sizeof(*q));
	if (q) {		/* all but st, which only FSTAT uses (and sets) */
		q->pub.handle = NULL;
		q->pub.extra = 0;
		q->pending = 0;
		q->pass_fd = -1;
		q->born = 0;
		q->off = 0;
		q->out = NULL;
		q->zc = NULL;
	}
	return q;
}

static void req_put(struct rxu_scheme *s, struct rxu_sreq *q)
{
	q->pending = 0;		/* a second reply finds it not pending */
	q->next = s->free_reqs;
	s->free_reqs = q;
}

static void pending_link(struct rxu_scheme *s, struct rxu_sreq *q)
{
	q->pprev = NULL;
	q->pnext = s->pending;
	if (s->pending)
		s->pending->pprev = q;
	s->pending = q;
}

static void pending_unlink(struct rxu_scheme *s, struct rxu_sreq *q)
{
	if (q->pprev)
		q->pprev->pnext = q->pnext;
	else
		s->pending = q->pnext;
	if (q->pnext)
		q->pnext->pprev = q->pprev;
}

void rxu__scheme_free_reqs(struct rxu_scheme *s)
{
	while (s->pending) {
		struct rxu_sreq *q = s->pending;
		struct rxu_sconn *c = req_conn(q);

		pending_unlink(s, q);
		c->pending--;
		free(q);
		rxu__scheme_conn_put(c);
	}
	while (s->free_reqs) {
		struct rxu_sreq *q = s->free_reqs;

		s->free_reqs = q->next;
		free(q);
	}
}

void *rxu_scheme_buf(struct rxu_scheme_req *req, uint64_t addr,
		     uint64_t len)
{
	struct rxu_sconn *c;
	void *p;

	if (!req)
		return NULL;
	c = (struct rxu_sconn *)req->conn;
	if (!c->pub.u2u)
		return rxu_region_ptr(c->pub.scheme->region,
				      c->pub.scheme->region_size, addr, len);
	if (!c->pool_ok)
		return NULL;
	if (!len)
		len = 1;
	p = rxu_pool_ptr(&c->pool, addr, len);
	if (!p && rxu_pool_update(&c->pool) > 0)
		p = rxu_pool_ptr(&c->pool, addr, len);
	return p;
}

/* The request's own buffer, sqe.addr/sqe.len. */
static void *req_buf(struct rxu_sreq *q)
{
	return rxu_scheme_buf(&q->pub, q->pub.sqe.addr, q->pub.sqe.len);
}

int64_t rxu_scheme_copy_out(void *buf, uint64_t len, uint64_t off,
			    const void *src, uint64_t size)
{
	uint64_t n;

	if (off >= size)
		return 0;
	n = size - off < len ? size - off : len;
	if (n > INT64_MAX)
		n = INT64_MAX;
	memcpy(buf, (const char *)src + off, (size_t)n);
	return (int64_t)n;
}

int64_t rxu_scheme_pass_fd(struct rxu_scheme_req *req, int fd)
{
	struct rxu_sreq *q = (struct rxu_sreq *)req;
	uint8_t op;

	if (!req || fd < 0)
		return -EINVAL;
	op = req->sqe.opcode;
	if (op != RXU_OP_OPEN && op != RXU_OP_DUP)
		return -EINVAL;
	if (req->conn->u2u)
		return -EOPNOTSUPP;
	q->pass_fd = fd;
	return fd;
}

/* ------------------------------------------------------------------ */
/* One opcode each                                                     */
/* ------------------------------------------------------------------ */

static int64_t op_open(struct rxu_sreq *q)
{
	const struct rxu_scheme_ops *ops = q->pub.conn->scheme->ops;
	const struct rxu_sqe64 *sqe = &q->pub.sqe;
	struct rxu_shandle *h;
	const char *path;
	int64_t ret = 0;
	char *copy;

	if (!ops->open)
		return -ENOSYS;
	path = req_buf(q);
	if (!path)
		return -EFAULT;
	copy = malloc((size_t)sqe->len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, path, (size_t)sqe->len);
	copy[sqe->len] = '\0';
	h = handle_new(req_conn(q), &ret);
	if (h) {
		h->pub.flags = sqe->offset;
		q->pub.handle = &h->pub;
		ret = ops->open(&q->pub, &h->pub, copy, (size_t)sqe->len,
				sqe->offset, (uint32_t)sqe->additional1);
	}
	free(copy);
	return ret;
}

/*
 * A READ/PREAD the kernel offered zero-copy (RXU_RW_ZC): lend the bytes
 * with read_ref when the read is large, else fill the room the SQE
 * names, additional1 bytes of the data region (len may be larger).
 */
static int64_t op_read_zc(struct rxu_sreq *q, struct rxu_shandle *h)
{
	const struct rxu_scheme_ops *ops = q->pub.conn->scheme->ops;
	const struct rxu_sqe64 *sqe = &q->pub.sqe;
	uint64_t room = sqe->additional1 < sqe->len ? sqe->additional1
						     : sqe->len;
	const void *src = NULL;
	int64_t res;
	void *buf;

	if (ops->read_ref && sqe->len >= RXU_SCHEME_ZC_MIN) {
		res = ops->read_ref(&q->pub, &h->pub, &src, sqe->len, q->off);
		if (res >= 0 && (uint64_t)res > sqe->len)
			return -EIO;
		if (res > 0)
			q->zc = src;
		return res;
	}
	if (!ops->read)
		return -EBADF;
	buf = rxu_scheme_buf(&q->pub, sqe->addr, room);
	if (!buf)
		return -EFAULT;
	return ops->read(&q->pub, &h->pub, buf, room, q->off);
}

static int64_t op_rw(struct rxu_sreq *q, struct rxu_shandle *h)
{
	const struct rxu_scheme_ops *ops = q->pub.conn->scheme->ops;
	const struct rxu_sqe64 *sqe = &q->pub.sqe;
	int positional = sqe->opcode == RXU_OP_PREAD ||
			 sqe->opcode == RXU_OP_PWRITE;
	int write = sqe->opcode == RXU_OP_WRITE ||
		    sqe->opcode == RXU_OP_PWRITE;
	int zc = !write && !q->pub.conn->u2u &&
		 (sqe->syscall_flags & RXU_RW_ZC);
	void *buf = zc ? NULL : req_buf(q);

	if (!zc && !buf)
		return -EFAULT;
	if (positional) {
		if ((int64_t)sqe->offset < 0)
			return -EINVAL;
		q->off = sqe->offset;
	} else if (write && (h->pub.flags & O_APPEND) && ops->size) {
		int64_t size = ops->size(&h->pub);

		if (size < 0)
			return size;
		q->off = (uint64_t)size;
	} else {
		q->off = h->pub.pos;
	}
	if (zc)
		return op_read_zc(q, h);
	if (write)
		return ops->write ? ops->write(&q->pub, &h->pub, buf, sqe->len,
					       q->off) : -EBADF;
	return ops->read ? ops->read(&q->pub, &h->pub, buf, sqe->len, q->off)
			 : -EBADF;
}

static int64_t op_seek(struct rxu_sreq *q, struct rxu_shandle *h)
{
	const struct rxu_scheme_ops *ops = q->pub.conn->scheme->ops;
	const struct rxu_sqe64 *sqe = &q->pub.sqe;
	int64_t size;

	if (ops->seek)
		return ops->seek(&q->pub, &h->pub, (int64_t)sqe->offset,
				 sqe->syscall_flags);
	if (!ops->size)
		return -ESPIPE;
	size = ops->size(&h->pub);
	if (size < 0)
		return size;
	return rxu_seek_position(h->pub.pos, (uint64_t)size,
				 sqe->syscall_flags, (int64_t)sqe->offset);
}

static int64_t op_fstat(struct rxu_sreq *q, struct rxu_shandle *h)
{
	const struct rxu_scheme_ops *ops = q->pub.conn->scheme->ops;
	struct stat *st = &q->st;
	int64_t size = 0;

	if (q->pub.sqe.len < sizeof(*st))
		return -EINVAL;
	q->out = req_buf(q);
	if (!q->out)
		return -EFAULT;
	if (ops->size) {
		size = ops->size(&h->pub);
		if (size < 0)
			size = 0;
	}
	memset(st, 0, sizeof(*st));
	st->st_ino = (ino_t)(h->pub.id + 1);
	st->st_mode = S_IFREG | 0644;
	st->st_nlink = 1;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_size = (off_t)size;
	st->st_blksize = RXU_SCHEME_BLKSIZE;
	st->st_blocks = (blkcnt_t)(((uint64_t)size + 511) / 512);
	return ops->fstat ? ops->fstat(&q->pub, &h->pub, st) : 0;
}

static int64_t op_dup(struct rxu_sreq *q, struct rxu_shandle *old)
{
	const struct rxu_scheme_ops *ops = q->pub.conn->scheme->ops;
	const struct rxu_sqe64 *sqe = &q->pub.sqe;
	const void *param = NULL;
	struct rxu_shandle *h;
	size_t len = 0;
	int64_t ret = 0;

	if (sqe->syscall_flags & RXU_DUP_PARAM) {
		param = req_buf(q);
		if (!param)
			return -EFAULT;
		len = (size_t)sqe->len;
	}
	if (!ops->dup)
		return -EOPNOTSUPP;
	h = handle_new(req_conn(q), &ret);
	if (!h)
		return ret;
	h->pub.pos = old->pub.pos;
	h->pub.flags = old->pub.flags;
	q->pub.handle = &h->pub;
	return ops->dup(&q->pub, &old->pub, &h->pub, param, len);
}

static int64_t op_close(struct rxu_sreq *q, struct rxu_shandle *h)
{
	const struct rxu_scheme_ops *ops = q->pub.conn->scheme->ops;

	h->state = RXU_H_CLOSED;
	if (ops->close)
		ops->close(&q->pub, &h->pub);
	return 0;
}

/* The file calls: everything that names a handle by sqe.fd. */
static int64_t file_call(struct rxu_sreq *q)
{
	const struct rxu_scheme_ops *ops = q->pub.conn->scheme->ops;
	const struct rxu_sqe64 *sqe = &q->pub.sqe;
	struct rxu_scheme_handle *ph = rxu_scheme_handle(q->pub.conn, sqe->fd);
	struct rxu_shandle *h = (struct rxu_shandle *)ph;

	if (!h)
		return -EBADF;
	q->pub.handle = ph;
	switch (sqe->opcode) {
	case RXU_OP_READ:
	case RXU_OP_PREAD:
	case RXU_OP_WRITE:
	case RXU_OP_PWRITE:
		return op_rw(q, h);
	case RXU_OP_SEEK:
		return op_seek(q, h);
	case RXU_OP_FSTAT:
		return op_fstat(q, h);
	case RXU_OP_FSYNC:
		return ops->fsync ? ops->fsync(&q->pub, ph, sqe->syscall_flags &
					       RXU_FSYNC_DATASYNC) : 0;
	case RXU_OP_FTRUNCATE:
		return ops->ftruncate ? ops->ftruncate(&q->pub, ph, sqe->offset)
				      : -EINVAL;
	case RXU_OP_DUP:
		return op_dup(q, h);
	default:			/* RXU_OP_CLOSE */
		return op_close(q, h);
	}
}

static int64_t dispatch(struct rxu_sreq *q)
{
	struct rxu_scheme *s = q->pub.conn->scheme;
	const struct rxu_sqe64 *sqe = &q->pub.sqe;
	int u2u = q->pub.conn->u2u;

	if (u2u && sqe->opcode == RXU_OP_NOOP)
		return 0;
	if (sqe->opcode >= 128 || (u2u && (s->cfg.flags &
					    RXU_SCHEME_U2U_OPS_ONLY)))
		return u2u && sqe->opcode >= 128 && s->ops->op ?
		       s->ops->op(&q->pub) : -ENOSYS;
	switch (sqe->opcode) {
	case RXU_OP_OPEN:
		return op_open(q);
	case RXU_OP_READ:
	case RXU_OP_PREAD:
	case RXU_OP_WRITE:
	case RXU_OP_PWRITE:
	case RXU_OP_SEEK:
	case RXU_OP_FSTAT:
	case RXU_OP_FSYNC:
	case RXU_OP_FTRUNCATE:
	case RXU_OP_DUP:
	case RXU_OP_CLOSE:
		return file_call(q);
	case RXU_OP_RECV_IORING:
		if (u2u)
			return -ENOSYS;
		if (!(s->cfg.flags & RXU_SCHEME_U2U))
			return -EOPNOTSUPP;
		return rxu__scheme_recv(s, sqe);
	default:
		return -ENOSYS;
	}
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */
/* ------------------------------------------------------------------ */

static void log_err(struct rxu_sreq *q, int err)
{
	fprintf(stderr, "librxu scheme: cannot answer opcode %u: %s\n",
		q->pub.sqe.opcode, strerror(-err));
}

/*
 * What follows a result: the handle's position, birth or burial, the
 * FSTAT copy-out.  Returns the status to answer.
 */
static int64_t finish(struct rxu_sreq *q, int64_t res)
{
	struct rxu_shandle *h = req_handle(q);

	switch (q->pub.sqe.opcode) {
	case RXU_OP_OPEN:
	case RXU_OP_DUP:
		if (!h || h->state != RXU_H_BIRTH)
			break;		/* failed before the handle existed */
		if (res >= 0 && q->pass_fd < 0) {
			h->state = RXU_H_LIVE;
			q->born = 1;
			return (int64_t)h->pub.id;
		}
		if (res >= 0)
			res = q->pass_fd;
		h->state = RXU_H_CLOSED;	/* req_end() frees it */
		break;
	case RXU_OP_READ:
	case RXU_OP_WRITE:
		if (res > 0 && h)
			h->pub.pos = q->off + (uint64_t)res;
		break;
	case RXU_OP_SEEK:
		if (res >= 0 && h)
			h->pub.pos = (uint64_t)res;
		break;
	case RXU_OP_FSTAT:
		if (res >= 0 && q->out)
			memcpy(q->out, &q->st, sizeof(q->st));
		break;
	}
	return res;
}

static int answer(struct rxu_sreq *q, int64_t res)
{
	struct rxu_sconn *c = req_conn(q);
	struct rxu_scheme *s = c->pub.scheme;
	const struct rxu_sqe64 *sqe = &q->pub.sqe;
	struct rxu_shandle *h;
	struct rxu_cqe64 cqe = {
		.user_data = sqe->user_data,
		.extra = q->pub.extra,
	};
	int ret;

	res = finish(q, res);
	h = req_handle(q);
	if (c->dead)
		return -ESHUTDOWN;
	cqe.status = (uint64_t)res;
	if (q->pass_fd >= 0 && res >= 0)
		cqe.flags = RXU_CQE_PASS_FD;
	if (q->zc && res > 0)
		rxu_prep_zc_answer(&cqe, sqe->user_data, q->zc, (uint64_t)res);
	ret = rxu_reactor_reply(s->r, c->pub.ring, &cqe);
	/*
	 * The kernel copies lent bytes in the ENTER that takes the answer:
	 * hand it over (queued behind a full CQ or not) before they move.
	 */
	if (!ret && q->zc && res > 0)
		ret = rxu__reactor_hand_over(s->r, c->pub.ring);
	if (!ret && q->born && !c->pub.u2u) {
		uint32_t mask = s->ops->ready ? s->ops->ready(&h->pub)
					      : RXU_EVENT_READ | RXU_EVENT_WRITE;

		if (mask)
			ret = rxu_scheme_post_event(&h->pub, mask);
	}
	if (ret && ret != -ESHUTDOWN)
		log_err(q, ret);
	return ret;
}

/* A request ends: drop its marks on the handle and the connection. */
static void req_end(struct rxu_sreq *q)
{
	struct rxu_sconn *c = req_conn(q);
	struct rxu_shandle *h = req_handle(q);
	struct rxu_scheme *s = c->pub.scheme;

	if (q->pending) {
		pending_unlink(s, q);
		if (h && !--h->pending && h->state == RXU_H_CLOSED)
			handle_free(c, h);
		c->pending--;
	} else if (h && h->state == RXU_H_CLOSED && !h->pending) {
		handle_free(c, h);
	}
	req_put(s, q);
	rxu__scheme_conn_put(c);
}

int rxu_scheme_reply(struct rxu_scheme_req *req, int64_t result)
{
	struct rxu_sreq *q = (struct rxu_sreq *)req;
	int ret;

	if (!q || !q->pending || result == RXU_SCHEME_PENDING)
		return -EINVAL;
	ret = answer(q, result);
	req_end(q);
	return ret;
}

int rxu_scheme_post_event(struct rxu_scheme_handle *h, uint32_t flags)
{
	struct rxu_sconn *c;
	struct rxu_cqe64 ev = { 0 };

	if (!h || !flags)
		return -EINVAL;
	c = (struct rxu_sconn *)h->conn;
	if (c->dead)
		return -ESHUTDOWN;
	ev.user_data = h->id;
	ev.flags = RXU_CQE_EVENT | (uint64_t)flags << RXU_CQE_EVENT_SHIFT;
	return rxu_reactor_post(c->pub.scheme->r, c->pub.ring, &ev);
}

void rxu__scheme_on_sqe(struct rxu_reactor *r, int ring,
			const struct rxu_sqe64 *sqe, void *ctx)
{
	struct rxu_sconn *c = ctx;
	struct rxu_sreq *q;
	int64_t res;
	int ret;

	if (!sqe) {
		rxu__scheme_conn_gone(c);
		return;
	}
	q = req_get(c->pub.scheme);
	if (!q) {
		ret = rxu_reactor_respond(r, ring, sqe->user_data, -ENOMEM);
		if (ret)
			fprintf(stderr, "librxu scheme: cannot answer: %s\n",
				strerror(-ret));
		return;
	}
	q->pub.conn = &c->pub;
	q->pub.sqe = *sqe;
	res = dispatch(q);
	if (res == RXU_SCHEME_PENDING) {
		struct rxu_shandle *h = req_handle(q);

		q->pending = 1;
		pending_link(c->pub.scheme, q);
		c->pending++;
		if (h)
			h->pending++;
		return;
	}
	answer(q, res);
	req_end(q);
}
