// SPDX-License-Identifier: MIT
/*
 * u2u.c - usb: over a user-to-user ring (rxu_usb.h part B): CLAIM a
 * device with its token, then CONTROL, TRANSFER, CONFIGURE and
 * CLEAR_HALT on it, with data in the client's pool.  Transfers complete
 * as deferred answers; CONFIGURE and CLEAR_HALT issue commands, so they
 * go to the top-level loop like the path configure requests.
 *
 * Data is moved through the endpoint's DMA bounce buffer (one copy);
 * mapping the pool itself for DMA is not done yet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rxu_scheme.h"
#include "xhcid_scheme.h"

struct uconn {
	unsigned int port;		/* claimed device: port and generation */
	uint64_t gen;
};

struct ureq {
	struct xfer x;
	struct rxu_scheme_req *req;
	int submitting, sync_done;
	int64_t sync_result;
};

int xhcid_u2u_connect(struct rxu_scheme_conn *c)
{
	c->priv = calloc(1, sizeof(struct uconn));
	return c->priv ? 0 : -ENOMEM;
}

void xhcid_u2u_disconnect(struct rxu_scheme_conn *c)
{
	free(c->priv);
	c->priv = NULL;
}

static void ureq_done(struct xhc *hc, struct xfer *x)
{
	struct ureq *u = x->ctx;
	int64_t res = x->result ? x->result : (int64_t)x->actual;

	(void)hc;
	if (u->submitting) {
		u->sync_done = 1;
		u->sync_result = res;
		return;
	}
	rxu_scheme_reply(u->req, res);
	free(u);
}

static int64_t submit(struct xhc *hc, struct rxu_scheme_req *req,
		      struct ureq *u)
{
	int64_t res;

	u->req = req;
	u->x.done = ureq_done;
	u->x.ctx = u;
	u->submitting = 1;
	xfer_submit(hc, &u->x);
	u->submitting = 0;
	if (!u->sync_done)
		return RXU_SCHEME_PENDING;
	res = u->sync_result;
	free(u);
	return res;
}

static int64_t queue(struct rxu_scheme_req *req, struct uconn *uc,
		     enum xhcid_work_kind kind, uint64_t off)
{
	struct xhcid_work *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->req = req;
	w->kind = kind;
	w->port = uc->port;
	w->gen = uc->gen;
	if (kind == XW_CONFIGURE) {
		w->cfg = off & 0xff;
		w->iface = off & RXU_USB_CONFIGURE_IFACE ? (int)((off >> 8) & 0xff) : -1;
		w->alt = (int)((off >> 16) & 0xff);
	} else {
		w->ep = (uint8_t)off;
	}
	w->answer = 0;
	xhcid_queue_work(w);
	return RXU_SCHEME_PENDING;
}

static int64_t control(struct xhc *hc, struct rxu_scheme_req *req,
		       struct xdev *d)
{
	const struct rxu_sqe64 *sqe = &req->sqe;
	struct rxu_usb_setup s;
	struct ureq *u;
	void *buf = NULL;
	uint64_t v = sqe->offset;
	int rc;

	s.bmRequestType = (uint8_t)v;
	s.bRequest = (uint8_t)(v >> 8);
	s.wValue = (uint16_t)(v >> 16);
	s.wIndex = (uint16_t)(v >> 32);
	s.wLength = (uint16_t)(v >> 48);
	rc = xhcid_check_setup(&s);
	if (rc)
		return rc;
	if (sqe->len != s.wLength)
		return -EINVAL;
	if (s.wLength) {
		buf = rxu_scheme_buf(req, sqe->addr, s.wLength);
		if (!buf)
			return -EFAULT;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->x.ep = &d->ep[1];
	u->x.is_control = 1;
	u->x.setup = v;
	u->x.dir_in = !!(s.bmRequestType & RXU_USB_DIR_IN);
	u->x.len = s.wLength;
	u->x.buf = buf;
	return submit(hc, req, u);
}

static int64_t transfer(struct xhc *hc, struct rxu_scheme_req *req,
			struct xdev *d)
{
	const struct rxu_sqe64 *sqe = &req->sqe;
	uint8_t addr = (uint8_t)sqe->offset;
	struct xep *ep;
	struct ureq *u;
	void *buf;

	if (sqe->offset > 0xff)
		return -EINVAL;
	if (!sqe->len || sqe->len > RXU_USB_TRANSFER_MAX)
		return -EMSGSIZE;
	ep = xdev_ep(d, addr);
	if (!ep || (ep->attr & 3) < 2)
		return -ENOENT;
	buf = rxu_scheme_buf(req, sqe->addr, sqe->len);
	if (!buf)
		return -EFAULT;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->x.ep = ep;
	u->x.dir_in = !!(addr & RXU_USB_DIR_IN);
	u->x.len = (uint32_t)sqe->len;
	u->x.buf = buf;
	if (sqe->additional1)
		u->x.timeout_ms = sqe->additional1 > 3600000 ? 3600000 :
				  (uint32_t)sqe->additional1;
	else if ((ep->attr & 3) == 3 && u->x.dir_in)
		u->x.timeout_ms = UINT32_MAX;
	return submit(hc, req, u);
}

int64_t xhcid_u2u_op(struct rxu_scheme_req *req)
{
	const struct rxu_sqe64 *sqe = &req->sqe;
	struct xhc *hc = rxu_scheme_priv(req->conn->scheme);
	struct uconn *uc = req->conn->priv;
	struct xdev *d;
	const char *tok;

	if (sqe->syscall_flags != RXU_USB_VERSION)
		return -ENOSYS;
	if (sqe->opcode < RXU_USB_OP_CLAIM || sqe->opcode > RXU_USB_OP_CLEAR_HALT)
		return -ENOSYS;
	if (sqe->flags || sqe->additional2 || sqe->fd > 0xffffffffULL)
		return -EINVAL;
	if (xhc_lookup(hc, (unsigned int)sqe->fd, &d))
		return -ENOENT;
	if (!d || d->state == XDEV_EMPTY)
		return -ENODEV;
	if (sqe->opcode == RXU_USB_OP_CLAIM) {
		if (sqe->len != RXU_USB_TOKEN_LEN)
			return -EACCES;
		tok = rxu_scheme_buf(req, sqe->addr, sqe->len);
		if (!tok)
			return -EFAULT;
		if (!xhcid_token_ok(d, tok, RXU_USB_TOKEN_LEN))
			return -EACCES;
		uc->port = (unsigned int)sqe->fd;
		uc->gen = d->generation;
		return 0;
	}
	if (uc->port != (unsigned int)sqe->fd || !uc->gen)
		return -EACCES;
	if (uc->gen != d->generation)
		return -ENODEV;
	switch (sqe->opcode) {
	case RXU_USB_OP_CONTROL:
		return control(hc, req, d);
	case RXU_USB_OP_TRANSFER:
		return transfer(hc, req, d);
	case RXU_USB_OP_CONFIGURE:
		if (sqe->offset & ~(0xffffffULL | RXU_USB_CONFIGURE_IFACE))
			return -EINVAL;
		return queue(req, uc, XW_CONFIGURE, sqe->offset);
	default:
		if (sqe->offset > 0xff)
			return -EINVAL;
		return queue(req, uc, XW_CLEAR_HALT, sqe->offset);
	}
}
