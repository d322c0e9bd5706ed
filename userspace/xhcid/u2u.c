// SPDX-License-Identifier: MIT
/*
 * u2u.c - usb: over a user-to-user ring (rxu_usb.h part B): CLAIM a
 * device with its token, then CONTROL, TRANSFER, CONFIGURE and
 * CLEAR_HALT on it, with data in the client's pool.  Transfers complete
 * as deferred answers; CONFIGURE and CLEAR_HALT issue commands, so they
 * go to the top-level loop like the path configure requests.
 *
 * Bulk and interrupt data go between the device and the client's pool
 * with no copy: the pages a transfer's buffer lies on are mapped for DMA
 * (VFIO_IOMMU_MAP_DMA: VFIO pins them) on first use and stay mapped for
 * the connection's life, at most MAX_MAPS spans of it; a span that no
 * transfer uses is replaced by a larger one that covers it.  They are
 * unmapped when the client goes (a span still under a transfer when the
 * transfer ends).  Where a span cannot be mapped, or for control
 * transfers, data goes through the endpoint's DMA bounce buffer (one
 * copy).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rxu_scheme.h"
#include "rxu_trace.h"
#include "xhcid_scheme.h"

#define MAX_MAPS	8
#define PAGE		4096u

/* A span of a client's pool mapped for DMA. */
struct umap {
	struct rxu_pcidrv_dma dma;
	unsigned int refs;		/* transfers in flight on it */
	int orphan;			/* its client is gone: unmap at refs 0 */
	struct umap *next;
};

struct uconn {
	unsigned int port;		/* claimed device: port and generation */
	uint64_t gen;
	struct umap *maps;
	unsigned int nmaps;
	int map_failed;			/* logged once */
};

struct ureq {
	struct xfer x;
	struct umap *map;		/* the span x.iova lies in, or NULL */
	struct rxu_scheme_req *req;
	int submitting, sync_done;
	int64_t sync_result;
};

int xhcid_u2u_connect(struct rxu_scheme_conn *c)
{
	c->priv = calloc(1, sizeof(struct uconn));
	return c->priv ? 0 : -ENOMEM;
}

static void umap_free(struct xhc *hc, struct umap *m)
{
	int rc = rxu_pcidrv_dma_unmap(&hc->dev, &m->dma);

	if (rc)
		hc_log(hc, "pool span: VFIO unmap: %s", strerror(-rc));
	else if (hc->verbose)
		hc_log(hc, "pool span of %zu KiB unmapped",
		       (size_t)m->dma.size / 1024);
	hc->pool_maps--;
	free(m);
}

void xhcid_u2u_disconnect(struct rxu_scheme_conn *c)
{
	struct xhc *hc = rxu_scheme_priv(c->scheme);
	struct uconn *uc = c->priv;
	unsigned int freed = 0, busy = 0;
	struct umap *m;

	while (uc && (m = uc->maps)) {
		uc->maps = m->next;
		if (m->refs) {
			m->orphan = 1;	/* the last transfer on it frees it */
			busy++;
		} else {
			umap_free(hc, m);
			freed++;
		}
	}
	if (hc->verbose && (freed || busy))
		hc_log(hc, "u2u client gone: %u pool spans unmapped, %u when their transfers end",
		       freed, busy);
	free(uc);
	c->priv = NULL;
}

static int covers(const struct umap *m, uintptr_t lo, uintptr_t hi)
{
	uintptr_t va = (uintptr_t)m->dma.va;

	return lo >= va && hi <= va + m->dma.size;
}

/* Unmap the spans no transfer uses that lie inside [lo, hi). */
static void drop_covered(struct xhc *hc, struct uconn *uc, uintptr_t lo,
			 uintptr_t hi)
{
	struct umap **pp = &uc->maps, *m;

	while ((m = *pp)) {
		uintptr_t va = (uintptr_t)m->dma.va;

		if (!m->refs && va >= lo && va + m->dma.size <= hi) {
			*pp = m->next;
			uc->nmaps--;
			umap_free(hc, m);
		} else {
			pp = &m->next;
		}
	}
}

/* The IOVA of buf, a span of uc's pool mapped (or found mapped) for it,
 * taken by one transfer: 0 when it cannot be (the bounce buffer then). */
static uint64_t pool_iova(struct xhc *hc, struct uconn *uc, void *buf,
			  uint32_t len, struct umap **out)
{
	uintptr_t a = (uintptr_t)buf;
	uintptr_t lo = a & ~(uintptr_t)(PAGE - 1);
	uintptr_t hi = (a + len + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
	struct umap *m;
	int rc;

	for (m = uc->maps; m; m = m->next)
		if (covers(m, lo, hi))
			goto found;
	drop_covered(hc, uc, lo, hi);
	if (uc->nmaps >= MAX_MAPS)
		return 0;
	m = calloc(1, sizeof(*m));
	if (!m)
		return 0;
	rc = rxu_pcidrv_dma_map(&hc->dev, (void *)lo, hi - lo, &m->dma);
	if (rc) {
		if (!uc->map_failed)
			hc_log(hc, "pool span: VFIO map: %s; copying instead",
			       strerror(-rc));
		uc->map_failed = 1;
		free(m);
		return 0;
	}
	if (hc->verbose)
		hc_log(hc, "pool span of %zu KiB mapped for DMA",
		       (size_t)(hi - lo) / 1024);
	hc->pool_maps++;
	m->next = uc->maps;
	uc->maps = m;
	uc->nmaps++;
found:
	m->refs++;
	*out = m;
	return m->dma.iova + (a - (uintptr_t)m->dma.va);
}

static void umap_put(struct xhc *hc, struct umap *m)
{
	if (m && !--m->refs && m->orphan)
		umap_free(hc, m);
}

static void ureq_done(struct xhc *hc, struct xfer *x)
{
	struct ureq *u = x->ctx;
	int64_t res = x->result ? x->result : (int64_t)x->actual;

	umap_put(hc, u->map);
	u->map = NULL;
	RXU_TRACE("xhcid", "reply res=%lld", (long long)res);
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
			struct uconn *uc, struct xdev *d)
{
	const struct rxu_sqe64 *sqe = &req->sqe;
	uint8_t addr = (uint8_t)sqe->offset;
	struct xep *ep;
	struct ureq *u;
	void *buf;

	RXU_TRACE("xhcid", "request ep=%#llx len=%llu",
		  (unsigned long long)sqe->offset, (unsigned long long)sqe->len);
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
	u->x.iova = pool_iova(hc, uc, buf, u->x.len, &u->map);
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
		return transfer(hc, req, uc, d);
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
