/* SPDX-License-Identifier: MIT */
/*
 * xhcid_scheme.h - the usb: scheme of xhcid (scheme.c) and its class
 * driver spawning (spawn.c), as seen by the top-level loop.
 */
#ifndef XHCID_SCHEME_H
#define XHCID_SCHEME_H

#include "xhcid.h"

struct xhcid_opts {
	const char *scheme;		/* NULL: usb.SSSS-BB-DD.F and usb */
	const char *config;		/* class-driver rules directory */
	const char *token_file;
	int verbose;
};

struct rxu_scheme_req;
struct rxu_scheme_conn;
struct uh;

/* Work for the top-level loop: it issues commands and waits. */
enum xhcid_work_kind { XW_CONFIGURE, XW_CLEAR_HALT };
struct xhcid_work {
	struct xhcid_work *next;
	struct rxu_scheme_req *req;	/* replied with answer, or -errno */
	struct uh *uh;			/* a path handle, or NULL (u2u) */
	enum xhcid_work_kind kind;
	unsigned int port;
	uint64_t gen;
	unsigned int cfg;
	int iface, alt;
	uint8_t ep;
	int64_t answer;
};

void xhcid_queue_work(struct xhcid_work *w);
/* tok (len bytes) is the admin token or d's device token. */
int xhcid_token_ok(const struct xdev *d, const char *tok, size_t len);
/* -EMSGSIZE, -EPERM (requests xhcid does itself) or 0. */
int xhcid_check_setup(const struct rxu_usb_setup *s);

/* u2u.c: part B of rxu_usb.h. */
int64_t xhcid_u2u_op(struct rxu_scheme_req *req);
int xhcid_u2u_connect(struct rxu_scheme_conn *c);
void xhcid_u2u_disconnect(struct rxu_scheme_conn *c);

int xhcid_scheme_start(struct xhc *hc, const struct xhcid_opts *o);
/* Top-level work the scheme queued (configure requests, spawning). */
void xhcid_scheme_work(struct xhc *hc);
void xhcid_scheme_stop(struct xhc *hc);

#endif /* XHCID_SCHEME_H */
