// SPDX-License-Identifier: MIT
/*
 * scheme.c - usb: (rxu_usb.h).  Not served yet: waits for librxu's
 * provider framework (rxu_scheme.h).
 */
#include <errno.h>

#include "xhcid_scheme.h"

int xhcid_scheme_start(struct xhc *hc, const struct xhcid_opts *o)
{
	(void)hc;
	(void)o;
	return 0;
}

void xhcid_scheme_work(struct xhc *hc)
{
	(void)hc;
}

void xhcid_scheme_stop(struct xhc *hc)
{
	(void)hc;
}
