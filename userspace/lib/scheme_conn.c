// SPDX-License-Identifier: MIT
/*
 * librxu's provider framework: schemes and their connections
 * (rxu_scheme.h).  Registration of ":NAME" and its data region, the
 * provider ring as the first connection, u2u rings accepted on
 * RECV_IORING (RXU_IOC_RECV, the pool DUP, then served like the
 * provider ring), and the end of each: a connection whose ring went
 * away is taken off the reactor at once but freed only after the
 * kernel has seen its watch end and its last pending request is
 * replied.
 */
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "rxu.h"
#include "rxu_scheme.h"
#include "scheme_int.h"

#define DATA_SIZE_PARAM	"/sys/module/redox_uring/parameters/scheme_data_size"
#define DATA_SIZE_DEFAULT	(1024 * 1024)	/* the module's default */
#define NAME_MAX_LEN		64
#define DEF_ENTRIES		128
#define DEF_BOUND		64
#define DEF_CONN_BOUND		32

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

static struct rxu_sconn *conn_new(struct rxu_scheme *s, int u2u)
{
	struct rxu_sconn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->pub.scheme = s;
	c->pub.u2u = u2u;
	rxu_instance_from_fd(&c->own, -1);
	c->pool.fd = -1;
	return c;
}

static void conn_free(struct rxu_sconn *c)
{
	size_t i;

	for (i = 0; i < c->nhandles; i++)
		free(c->handles[i]);
	free(c->handles);
	if (c->pool_ok)
		rxu_pool_close(&c->pool);
	if (c->in == &c->own)
		rxu_instance_close(&c->own);
	free(c);
}

void rxu__scheme_conn_put(struct rxu_sconn *c)
{
	if (c->dead && c->reaped && !c->pending)
		conn_free(c);
}

static void conn_unlink(struct rxu_sconn *c)
{
	struct rxu_sconn **pp = &c->pub.scheme->conns;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	c->reaped = 1;
}

/* The NOP behind the watch's end came back: the fd may go. */
static void on_reap(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		    void *ctx)
{
	struct rxu_sconn *c = ctx;

	(void)r;
	(void)cqe;
	c->reap_id = 0;
	conn_unlink(c);
	rxu__scheme_conn_put(c);
}

/* Off the reactor now, freed once the kernel is done with the fd. */
static void conn_retire(struct rxu_sconn *c)
{
	struct rxu_reactor *r = c->pub.scheme->r;
	struct rxu_sqe64 nop;

	if (c->pub.ring)
		rxu_reactor_remove(r, c->pub.ring);
	c->pub.ring = 0;
	c->dead = 1;
	rxu_prep_nop(&nop, 0);
	if (rxu_submit(r, RXU_RING_PRIMARY, &nop, on_reap, c, &c->reap_id)) {
		c->reap_id = 0;
		conn_unlink(c);
		rxu__scheme_conn_put(c);
	}
}

/* The client is gone: its handles end, then the connection. */
static void conn_end(struct rxu_sconn *c)
{
	struct rxu_scheme *s = c->pub.scheme;

	c->dead = 1;
	rxu__scheme_close_all(c);
	if (s->ops->disconnect)
		s->ops->disconnect(&c->pub);
}

void rxu__scheme_conn_gone(struct rxu_sconn *c)
{
	struct rxu_scheme *s = c->pub.scheme;

	if (c->dead)
		return;
	conn_end(c);
	if (c->pub.u2u) {
		conn_retire(c);
		return;
	}
	s->dead = 1;
	if (!s->ops->disconnect) {
		fprintf(stderr, "librxu scheme: the provider ring went away\n");
		rxu_reactor_stop(s->r);
	}
}

/* Serve c's ring (c->in, mapped) on the reactor; then connect(). */
static int conn_start(struct rxu_sconn *c, uint32_t bound)
{
	struct rxu_scheme *s = c->pub.scheme;
	int ret;

	ret = rxu_reactor_add_producer(s->r, c->in, bound, rxu__scheme_on_sqe,
				       c);
	if (ret < 0)
		return ret;
	c->pub.ring = ret;
	if (c->pub.u2u && s->ops->connect) {
		ret = s->ops->connect(&c->pub);
		if (ret) {
			rxu_reactor_remove(s->r, c->pub.ring);
			c->pub.ring = 0;
			return ret < 0 ? ret : -ECONNREFUSED;
		}
	}
	return 0;
}

int rxu_scheme_add_conn(struct rxu_scheme *s, struct rxu_instance *in,
			struct rxu_pool *pool, struct rxu_scheme_conn **cp)
{
	struct rxu_sconn *c;
	int ret;

	if (!s || !in || !pool)
		return -EINVAL;
	c = conn_new(s, 1);
	if (!c)
		return -ENOMEM;
	c->in = in;
	c->pool = *pool;
	c->pool_ok = 1;
	ret = conn_start(c, s->cfg.conn_bound);
	if (ret) {
		c->pool_ok = 0;		/* still the caller's */
		free(c);
		return ret;
	}
	c->next = s->conns;
	s->conns = c;
	if (cp)
		*cp = &c->pub;
	return 0;
}

/* The pool DUP came back: now serve the connection. */
static void on_pool(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		    void *ctx)
{
	struct rxu_sconn *c = ctx;
	int64_t res = rxu_cqe_result(cqe);

	(void)r;
	if (res >= 0)
		res = rxu_pool_init(&c->pool, (int)res);
	if (!res) {
		c->pool_ok = 1;
		res = conn_start(c, c->pub.scheme->cfg.conn_bound);
		if (!res)
			return;
	}
	fprintf(stderr, "librxu scheme: a u2u ring: %s\n",
		strerror((int)-res));
	c->dead = 1;
	conn_unlink(c);
	rxu__scheme_conn_put(c);
}

int64_t rxu__scheme_recv(struct rxu_scheme *s, const struct rxu_sqe64 *sqe)
{
	struct rxu_recv_info info = { .ticket = sqe->addr };
	struct rxu_sconn *c;
	struct rxu_sqe64 dup;
	int ret;

	c = conn_new(s, 1);
	if (!c)
		return -ENOMEM;
	if (ioctl(rxu_scheme_fd(s), RXU_IOC_RECV, &info) < 0) {
		ret = -errno;
		free(c);
		return ret;
	}
	c->in = &c->own;
	rxu_instance_from_fd(&c->own, (int)info.producer_fd);
	ret = rxu_instance_set_geometry(&c->own, info.sq_entry_count,
					info.cq_entry_count,
					info.flags & RXU_RECV_BITS_32 ?
					RXU_CREATE_BITS_32 : 0);
	if (!ret)
		ret = rxu_instance_map(&c->own);
	if (!ret) {
		rxu_prep_dup_param(&dup, c->own.fd, RXU_DUP_PARAM_POOL,
				   strlen(RXU_DUP_PARAM_POOL), 0);
		ret = rxu_submit(s->r, RXU_RING_PRIMARY, &dup, on_pool, c,
				 NULL);
	}
	if (ret) {
		conn_free(c);
		return -ECONNREFUSED;
	}
	c->next = s->conns;
	s->conns = c;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Schemes                                                             */
/* ------------------------------------------------------------------ */

static int scheme_new(struct rxu_scheme **sp, struct rxu_reactor *r,
		      const struct rxu_scheme_config *cfg,
		      const struct rxu_scheme_ops *ops, void *priv)
{
	struct rxu_scheme *s;

	if (!sp || !r || !ops)
		return -EINVAL;
	if (cfg && (cfg->flags & ~(RXU_SCHEME_U2U | RXU_SCHEME_U2U_OPS_ONLY)))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (cfg)
		s->cfg = *cfg;
	if (!s->cfg.entries)
		s->cfg.entries = DEF_ENTRIES;
	if (!s->cfg.bound)
		s->cfg.bound = DEF_BOUND;
	if (!s->cfg.conn_bound)
		s->cfg.conn_bound = DEF_CONN_BOUND;
	s->ops = ops;
	s->priv = priv;
	s->r = r;
	s->k2u = conn_new(s, 0);
	if (!s->k2u) {
		free(s);
		return -ENOMEM;
	}
	*sp = s;
	return 0;
}

/*
 * A scheme that can lend bytes (read_ref) asks for zero-copy READs.  A
 * module without them (ENOTTY), or a ring of 32-bit entries (EOPNOTSUPP),
 * keeps sending classic READs, which read serves: nothing to do.
 */
static void zc_opt_in(struct rxu_scheme *s)
{
	struct rxu_scheme_features f = { .features = RXU_SCHEME_FEAT_ZC_READ };
	const struct rxu_instance *in = s->k2u->in;

	if (s->ops->read_ref && in && in->fd >= 0)
		(void)ioctl(in->fd, RXU_IOC_SCHEME_FEATURES, &f);
}

/* Start the provider ring; on failure everything of s goes. */
static int scheme_start(struct rxu_scheme *s)
{
	int ret;

	zc_opt_in(s);
	ret = conn_start(s->k2u, s->cfg.bound);

	if (ret) {
		s->k2u->dead = 1;
		rxu_scheme_destroy(s);
	}
	return ret;
}

int rxu_scheme_serve(struct rxu_scheme **sp, struct rxu_reactor *r,
		     struct rxu_instance *in, void *region, uint64_t size,
		     const struct rxu_scheme_config *cfg,
		     const struct rxu_scheme_ops *ops, void *priv)
{
	int ret;

	if (!in || (!region && size))
		return -EINVAL;
	ret = scheme_new(sp, r, cfg, ops, priv);
	if (ret)
		return ret;
	(*sp)->region = region;
	(*sp)->region_size = size;
	(*sp)->k2u->in = in;
	ret = scheme_start(*sp);
	if (ret)
		*sp = NULL;
	return ret;
}

static uint64_t data_region_size(void)
{
	unsigned long long v = 0;
	FILE *fp = fopen(DATA_SIZE_PARAM, "re");

	if (fp) {
		if (fscanf(fp, "%llu", &v) != 1)
			v = 0;
		fclose(fp);
	}
	return v ? v : DATA_SIZE_DEFAULT;
}

static int valid_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	return len && len <= NAME_MAX_LEN && !strpbrk(name, ":/");
}

/* Open, create, map and attach ":name"; then map the data region. */
static int provider_setup(struct rxu_scheme *s, const char *name)
{
	struct rxu_instance *in = &s->k2u->own;
	char attach[NAME_MAX_LEN + 2];
	void *region;
	int ret;

	ret = rxu_instance_open(in);
	if (!ret)
		ret = rxu_instance_create(in, s->cfg.entries, s->cfg.entries,
					  0);
	if (!ret)
		ret = rxu_instance_map(in);
	if (!ret) {
		snprintf(attach, sizeof(attach), ":%s", name);
		ret = rxu_instance_attach(in, attach);
	}
	if (ret)
		return ret;
	s->region_size = data_region_size();
	region = mmap(NULL, (size_t)s->region_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, in->fd, (off_t)RXU_OFF_SCHEME_DATA);
	if (region == MAP_FAILED)
		return -errno;
	s->region = region;
	s->own_region = 1;
	return 0;
}

int rxu_scheme_register(struct rxu_scheme **sp, struct rxu_reactor *r,
			const char *name, const struct rxu_scheme_config *cfg,
			const struct rxu_scheme_ops *ops, void *priv)
{
	int ret;

	if (!valid_name(name))
		return -EINVAL;
	ret = scheme_new(sp, r, cfg, ops, priv);
	if (ret)
		return ret;
	(*sp)->k2u->in = &(*sp)->k2u->own;
	ret = provider_setup(*sp, name);
	if (ret) {
		(*sp)->k2u->dead = 1;
		rxu_scheme_destroy(*sp);
	} else {
		ret = scheme_start(*sp);
	}
	if (ret)
		*sp = NULL;
	return ret;
}

void rxu_scheme_destroy(struct rxu_scheme *s)
{
	struct rxu_sconn *c;

	if (!s)
		return;
	rxu__scheme_free_reqs(s);
	while (s->conns) {
		c = s->conns;
		s->conns = c->next;
		if (c->reap_id)
			rxu_cancel(s->r, c->reap_id);
		if (!c->dead)
			conn_end(c);
		if (c->pub.ring)
			rxu_reactor_remove(s->r, c->pub.ring);
		conn_free(c);
	}
	c = s->k2u;
	if (!c->dead)			/* ours to end: no disconnect() */
		rxu__scheme_close_all(c);
	if (c->pub.ring)
		rxu_reactor_remove(s->r, c->pub.ring);
	conn_free(c);
	if (s->own_region)
		munmap(s->region, (size_t)s->region_size);
	free(s);
}

void *rxu_scheme_priv(const struct rxu_scheme *s)
{
	return s ? s->priv : NULL;
}

int rxu_scheme_fd(const struct rxu_scheme *s)
{
	return s && s->k2u->in ? s->k2u->in->fd : -1;
}

int rxu_scheme_dead(const struct rxu_scheme *s)
{
	return s ? s->dead : 1;
}
