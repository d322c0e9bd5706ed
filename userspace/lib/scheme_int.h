/* SPDX-License-Identifier: MIT */
/*
 * What scheme.c (the handle table, dispatch and answers) and
 * scheme_conn.c (registration, connections, u2u rings) share.  Private
 * to librxu.
 */
#ifndef RXU_LIB_SCHEME_INT_H
#define RXU_LIB_SCHEME_INT_H

#include <stdint.h>

#include "rxu.h"
#include "rxu_scheme.h"

enum rxu_handle_state {
	RXU_H_BIRTH = 1,		/* OPEN/DUP not answered yet */
	RXU_H_LIVE,
	RXU_H_CLOSED,			/* CLOSEd, requests still pending */
};

struct rxu_shandle {
	struct rxu_scheme_handle pub;	/* first: the daemon sees this */
	uint32_t pending;		/* requests on it not yet replied */
	int state;			/* enum rxu_handle_state */
};

struct rxu_sconn {
	struct rxu_scheme_conn pub;	/* first */
	struct rxu_instance *in;	/* the ring served */
	struct rxu_instance own;	/* in == &own: ours to close */
	struct rxu_pool pool;		/* u2u */
	int pool_ok;
	struct rxu_shandle **handles;	/* NULL: a free id */
	size_t nhandles;
	uint32_t pending;		/* its requests not yet replied */
	int dead;			/* ring gone: answers go nowhere */
	int reaped;			/* dead and off the scheme's list */
	uint64_t reap_id;		/* the NOP that reaps it, or 0 */
	struct rxu_sconn *next;
};

struct rxu_sreq {
	struct rxu_scheme_req pub;	/* first */
	int pending;			/* the callback said PENDING */
	int pass_fd;			/* -1, or the fd to answer with */
	int born;			/* OPEN/DUP made its handle live */
	uint64_t off;			/* READ/WRITE: where it started */
	void *out;			/* FSTAT: where st goes */
	const void *zc;			/* READ lent by read_ref, or NULL */
	struct stat st;
	struct rxu_sreq *next;		/* the free list */
	struct rxu_sreq *pnext, *pprev;	/* the scheme's pending list */
};

struct rxu_scheme {
	const struct rxu_scheme_ops *ops;
	void *priv;
	struct rxu_reactor *r;
	struct rxu_scheme_config cfg;
	struct rxu_sconn *k2u;		/* the provider ring */
	struct rxu_sconn *conns;	/* u2u rings */
	void *region;			/* the data region */
	uint64_t region_size;
	int own_region;			/* ours to munmap */
	int dead;
	struct rxu_sreq *free_reqs;
	struct rxu_sreq *pending;	/* requests deferred, not replied */
};

/* scheme.c */
void rxu__scheme_on_sqe(struct rxu_reactor *r, int ring,
			const struct rxu_sqe64 *sqe, void *ctx);
/* close() every live handle of c (the client is gone). */
void rxu__scheme_close_all(struct rxu_sconn *c);
/* Forget every pending request, free the spare ones (destroy). */
void rxu__scheme_free_reqs(struct rxu_scheme *s);

/* scheme_conn.c */
/* RECV_IORING on the provider ring: 0 (accepted) or -errno. */
int64_t rxu__scheme_recv(struct rxu_scheme *s, const struct rxu_sqe64 *sqe);
/* The ring of c went away (sqe NULL in its handler). */
void rxu__scheme_conn_gone(struct rxu_sconn *c);
/* Free c if it is dead, reaped and has nothing pending. */
void rxu__scheme_conn_put(struct rxu_sconn *c);

#endif /* RXU_LIB_SCHEME_INT_H */
