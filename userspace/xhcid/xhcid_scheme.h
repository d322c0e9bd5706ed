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

int xhcid_scheme_start(struct xhc *hc, const struct xhcid_opts *o);
/* Top-level work the scheme queued (configure requests, spawning). */
void xhcid_scheme_work(struct xhc *hc);
void xhcid_scheme_stop(struct xhc *hc);

#endif /* XHCID_SCHEME_H */
