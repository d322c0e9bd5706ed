// SPDX-License-Identifier: MIT
/*
 * xfer.c - transfers: control (Setup, Data, Status stages), bulk and
 * interrupt (chains of Normal TRBs), on the endpoint's transfer ring.
 *
 * One TD per endpoint is on the ring at a time; further transfers wait in
 * the endpoint's queue.  Data moves through a DMA bounce buffer of the
 * endpoint (or the caller's DMA memory), cut into TRBs that never cross
 * a 64 KiB boundary.  Every data TRB has ISP, so a short packet ends the
 * TD with an event that tells how much arrived; the last TRB has IOC.
 *
 * Errors: a stall (and babble or a transaction error, which halt the
 * endpoint too) is recovered on the host side with Reset Endpoint and Set
 * TR Dequeue Pointer, and on the device with CLEAR_FEATURE(ENDPOINT_HALT)
 * for bulk and interrupt endpoints, before the transfer completes with
 * -EPIPE (or -EPROTO).  A transfer past its time limit is stopped (Stop
 * Endpoint, Set TR Dequeue) and completes with -ETIMEDOUT.  Recovery
 * issues commands, so it runs at the top level (xfer_recover), never in
 * the event path.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "rxu_trace.h"
#include "xhcid.h"

#define MS		1000000ULL
#define BOUNDARY	0x10000ULL

int xfer_cc_errno(uint8_t cc)
{
	switch (cc) {
	case CC_SUCCESS:
	case CC_SHORT_PACKET:
		return 0;
	case CC_STALL:
		return -EPIPE;
	case CC_BABBLE:
	case CC_TRANSACTION:
	case CC_DATA_BUFFER:
		return -EPROTO;
	case CC_SLOT_NOT_ENABLED:
	case CC_EP_NOT_ENABLED:
		return -ENODEV;
	case CC_STOPPED:
	case CC_STOPPED_LEN:
	case CC_STOPPED_SHORT:
		return -ETIMEDOUT;
	default:
		return -EPROTO;
	}
}

static int bounce_size(struct xhc *hc, struct xep *ep, uint32_t len)
{
	uint64_t want = len < 4096 ? 4096 : len;

	if (ep->bounce.va && ep->bounce.size >= want)
		return 0;
	if (ep->bounce.va)
		rxu_pcidrv_dma_free(&hc->dev, &ep->bounce);
	return rxu_pcidrv_dma_alloc(&hc->dev, want, &ep->bounce);
}

/* Packets still to come after `left` bytes, as TD Size wants it. */
static uint32_t td_size(uint32_t left, uint16_t mps)
{
	uint32_t n = mps ? (left + mps - 1) / mps : 0;

	return TRB_TD_SIZE(n);
}

/* The data TRBs of x at iova..iova+len; type is DATA for the first TRB of
 * a control data stage, NORMAL otherwise.  0 or -EMSGSIZE. */
static int push_data(struct xep *ep, struct xfer *x, uint64_t iova,
		     uint32_t len, int control, uint32_t dirbit)
{
	uint32_t done = 0, flags;
	int first = 1;

	x->ntrb = 0;
	do {
		uint64_t a = iova + done;
		uint32_t chunk = (uint32_t)(BOUNDARY - (a & (BOUNDARY - 1)));
		uint32_t type;
		int last;

		if (chunk > len - done)
			chunk = len - done;
		last = done + chunk == len;
		if (x->ntrb == sizeof(x->tidx) / sizeof(x->tidx[0]))
			return -EMSGSIZE;
		type = control && first ? TRB_DATA : TRB_NORMAL;
		flags = TRB_TYPE(type) | TRB_ISP | (first && control ? dirbit : 0);
		if (!last)
			flags |= TRB_CH;
		else if (!control)
			flags |= TRB_IOC;
		x->tidx[x->ntrb] = (uint16_t)ep->ring.enq;
		x->tlen[x->ntrb] = chunk;
		x->ntrb++;
		xring_push(&ep->ring, a, TRB_LEN(chunk) |
			   td_size(len - done - chunk, ep->mps), flags);
		if (last && !control)
			x->last = x->tidx[x->ntrb - 1];
		done += chunk;
		first = 0;
	} while (done < len);
	return 0;
}

static void complete(struct xhc *hc, struct xep *ep, struct xfer *x);

static void start(struct xhc *hc, struct xep *ep)
{
	struct xfer *x = ep->head;
	uint64_t iova;
	int rc;

	if (!x || x->in_flight || ep->halted || ep->stop_pending)
		return;
	iova = x->iova;
	if (x->len && !iova) {
		rc = bounce_size(hc, ep, x->len);
		if (rc) {
			x->result = rc;
			complete(hc, ep, x);
			return;
		}
		iova = ep->bounce.iova;
		if (!x->dir_in)
			memcpy(ep->bounce.va, x->buf, x->len);
	}
	x->actual = 0;
	x->short_seen = 0;
	x->ntrb = 0;
	if (x->is_control) {
		uint32_t trt = x->len ? (x->dir_in ? 3 : 2) : 0;

		xring_push(&ep->ring, x->setup, 8,
			   TRB_TYPE(TRB_SETUP) | TRB_IDT | TRB_TRT(trt));
		if (x->len)
			push_data(ep, x, iova, x->len, 1,
				  x->dir_in ? TRB_DIR_IN : 0);
		x->last = (int)ep->ring.enq;
		xring_push(&ep->ring, 0, 0, TRB_TYPE(TRB_STATUS) | TRB_IOC |
			   (x->len && x->dir_in ? 0 : TRB_DIR_IN));
	} else {
		rc = push_data(ep, x, iova, x->len, 0, 0);
		if (rc) {
			x->result = rc;
			complete(hc, ep, x);
			return;
		}
	}
	x->in_flight = 1;
	if (x->timeout_ms == UINT32_MAX)
		x->deadline_ns = 0;
	else
		x->deadline_ns = hc_now_ns() +
			(x->timeout_ms ? x->timeout_ms : RXU_USB_TIMEOUT_MS) * MS;
	RXU_TRACE("xhcid", "doorbell dci=%u len=%u trbs=%u", ep->dci, x->len,
		  x->ntrb);
	hc_doorbell(hc, ep->dev->slot, ep->dci);
}

/* Take x off ep's queue, hand its data and result over, start the next. */
static void complete(struct xhc *hc, struct xep *ep, struct xfer *x)
{
	ep->head = x->next;
	if (!ep->head)
		ep->tail = NULL;
	x->next = NULL;
	x->in_flight = 0;
	if (!x->result && x->dir_in && x->actual && !x->iova && x->buf)
		memcpy(x->buf, ep->bounce.va, x->actual);
	if (x->done)
		x->done(hc, x);
	start(hc, ep);
}

void xfer_submit(struct xhc *hc, struct xfer *x)
{
	struct xep *ep = x->ep;

	x->next = NULL;
	x->in_flight = 0;
	x->result = 0;
	x->actual = 0;
	if (!ep || !ep->type || !ep->dev || !ep->dev->slot ||
	    ep->dev->state == XDEV_EMPTY) {
		x->result = -ENODEV;
		if (x->done)
			x->done(hc, x);
		return;
	}
	if (x->len > RXU_USB_TRANSFER_MAX) {
		x->result = -EMSGSIZE;
		if (x->done)
			x->done(hc, x);
		return;
	}
	if (ep->tail)
		ep->tail->next = x;
	else
		ep->head = x;
	ep->tail = x;
	start(hc, ep);
}

void xfer_event(struct xhc *hc, const struct xhci_trb *ev)
{
	unsigned int slot = TRB_GET_SLOT(ev->control);
	unsigned int dci = TRB_GET_EP(ev->control);
	uint8_t cc = (uint8_t)TRB_CC(ev->status);
	uint32_t residual = TRB_RESIDUAL(ev->status);
	struct xdev *d = slot <= XHCID_MAX_SLOTS ? hc->slot_dev[slot] : NULL;
	struct xep *ep;
	struct xfer *x;
	unsigned int k, before = 0;
	int idx, err;

	if (!d || dci < 1 || dci > 31)
		return;
	RXU_TRACE("xhcid", "event dci=%u cc=%u residual=%u", dci, cc, residual);
	ep = &d->ep[dci];
	x = ep->head;
	if (!x || !x->in_flight)
		return;
	idx = xring_index(&ep->ring, ev->param);
	if (idx < 0)
		return;
	err = xfer_cc_errno(cc);
	if (err) {
		x->result = err;
		x->in_flight = 0;
		if (cc == CC_STALL || cc == CC_BABBLE || cc == CC_TRANSACTION) {
			/* The endpoint is Halted: complete after recovery. */
			ep->halted = 1;
			return;
		}
		complete(hc, ep, x);
		return;
	}
	for (k = 0; k < x->ntrb; k++) {
		if (x->tidx[k] == idx)
			break;
		before += x->tlen[k];
	}
	if (k < x->ntrb) {
		uint32_t got = x->tlen[k] > residual ? x->tlen[k] - residual : 0;

		x->actual = before + (cc == CC_SHORT_PACKET ? got : x->tlen[k]);
		if (cc == CC_SHORT_PACKET)
			x->short_seen = 1;
		if (x->is_control && idx != x->last)
			return;		/* the Status stage's event follows */
		if (!x->is_control && idx != x->last && cc != CC_SHORT_PACKET)
			return;
	} else if (idx == x->last) {
		if (!x->short_seen)
			x->actual = x->len;
	} else {
		return;			/* the Setup stage, or not ours */
	}
	x->result = 0;
	complete(hc, ep, x);
}

void xfer_flush(struct xhc *hc, struct xep *ep, int result)
{
	while (ep->head) {
		struct xfer *x = ep->head;

		ep->head = x->next;
		if (!ep->head)
			ep->tail = NULL;
		x->next = NULL;
		x->in_flight = 0;
		x->result = result;
		if (x->done)
			x->done(hc, x);
	}
	ep->halted = 0;
	ep->stop_pending = 0;
}

/* ---- recovery ------------------------------------------------------- */

static int set_dequeue(struct xhc *hc, struct xep *ep)
{
	struct xcmd_result res;
	int rc;

	rc = xcmd_run(hc, xring_enqueue_ptr(&ep->ring), 0,
		      TRB_TYPE(TRB_SET_DEQ) | TRB_SLOT(ep->dev->slot) |
		      TRB_EP(ep->dci), &res);
	return rc ? rc : xcmd_cc_errno(res.cc);
}

/* Bring ep back to Running with its ring empty; then complete the
 * transfer that failed and start the next one. */
static void ep_recover(struct xhc *hc, struct xep *ep)
{
	struct xdev *d = ep->dev;
	struct xcmd_result res;
	struct xfer *x;
	int rc = 0;

	if (ep->halted) {
		rc = xcmd_run(hc, 0, 0, TRB_TYPE(TRB_RESET_EP) |
			      TRB_SLOT(d->slot) | TRB_EP(ep->dci), &res);
		if (!rc)
			rc = xcmd_cc_errno(res.cc);
	} else if (ep->stop_pending) {
		rc = xcmd_run(hc, 0, 0, TRB_TYPE(TRB_STOP_EP) |
			      TRB_SLOT(d->slot) | TRB_EP(ep->dci), &res);
		/* Context State Error: it had stopped (or halted) already. */
		if (!rc && res.cc != CC_SUCCESS && res.cc != CC_CONTEXT_STATE)
			rc = xcmd_cc_errno(res.cc);
	}
	if (!rc || rc == -ENODEV)
		rc = set_dequeue(hc, ep);
	if (rc)
		hc_log(hc, "slot %u endpoint %u: recovery failed (%s)", d->slot,
		       ep->dci, strerror(-rc));
	/* The device's side, its data toggle back to DATA0.  ep stays marked
	 * halted meanwhile, so that nothing restarts its failed transfer. */
	if (ep->halted && ep->dci != 1 && d->state != XDEV_EMPTY)
		xfer_control(hc, d, 0x02, 1 /* CLEAR_FEATURE */, 0, ep->addr,
			     NULL, 0);
	ep->halted = 0;
	ep->stop_pending = 0;
	x = ep->head;
	if (x && !x->in_flight)
		complete(hc, ep, x);
	else
		start(hc, ep);
}

int xfer_clear_halt(struct xhc *hc, struct xdev *d, uint8_t addr)
{
	struct xep *ep = xdev_ep(d, addr);
	struct xcmd_result res;
	int rc;

	if (!ep)
		return -ENOENT;
	if (ep->head)
		return -EBUSY;
	if (EP_STATE(xctx_ep(&d->out, ep->dci)[0]) == EPS_HALTED) {
		rc = xcmd_run(hc, 0, 0, TRB_TYPE(TRB_RESET_EP) |
			      TRB_SLOT(d->slot) | TRB_EP(ep->dci), &res);
		if (!rc)
			rc = xcmd_cc_errno(res.cc);
		if (!rc)
			rc = set_dequeue(hc, ep);
		if (rc)
			return rc;
	}
	rc = xfer_control(hc, d, 0x02, 1 /* CLEAR_FEATURE */, 0, addr, NULL, 0);
	return rc < 0 ? rc : 0;
}

static int needs_recovery(const struct xep *ep)
{
	return ep->type && (ep->halted || ep->stop_pending);
}

void xfer_recover(struct xhc *hc)
{
	unsigned int s, i;

	for (s = 1; s <= hc->max_slots && s <= XHCID_MAX_SLOTS; s++) {
		struct xdev *d = hc->slot_dev[s];

		for (i = 1; d && i < 32; i++)
			if (needs_recovery(&d->ep[i]))
				ep_recover(hc, &d->ep[i]);
	}
}

uint64_t xfer_next_deadline(struct xhc *hc)
{
	uint64_t best = 0;
	unsigned int s, i;

	for (s = 1; s <= hc->max_slots && s <= XHCID_MAX_SLOTS; s++) {
		struct xdev *d = hc->slot_dev[s];

		for (i = 1; d && i < 32; i++) {
			struct xfer *x = d->ep[i].head;

			if (x && x->in_flight && x->deadline_ns &&
			    (!best || x->deadline_ns < best))
				best = x->deadline_ns;
		}
	}
	return best;
}

void xfer_expire(struct xhc *hc, uint64_t now)
{
	unsigned int s, i;

	for (s = 1; s <= hc->max_slots && s <= XHCID_MAX_SLOTS; s++) {
		struct xdev *d = hc->slot_dev[s];

		for (i = 1; d && i < 32; i++) {
			struct xep *ep = &d->ep[i];
			struct xfer *x = ep->head;

			if (x && x->in_flight && x->deadline_ns &&
			    now >= x->deadline_ns) {
				x->in_flight = 0;
				x->result = -ETIMEDOUT;
				ep->stop_pending = 1;
			}
		}
	}
}

/* ---- waiting for one ------------------------------------------------ */

static void run_done(struct xhc *hc, struct xfer *x)
{
	(void)hc;
	*(int *)x->ctx = 1;
}

int xfer_run(struct xhc *hc, struct xfer *x)
{
	int done = 0;

	x->done = run_done;
	x->ctx = &done;
	xfer_submit(hc, x);
	while (!done) {
		uint64_t now = hc_now_ns(), dl;

		if (hc->dead) {
			/* Nothing will complete: take it off the queue. */
			xfer_flush(hc, x->ep, -ETIMEDOUT);
			break;
		}
		xfer_expire(hc, now);
		if (needs_recovery(x->ep)) {
			ep_recover(hc, x->ep);
			continue;
		}
		dl = xfer_next_deadline(hc);
		hc_wait(hc, dl > now ? dl - now : 100 * MS);
	}
	return x->result;
}

int xfer_control(struct xhc *hc, struct xdev *d, uint8_t type, uint8_t req,
		 uint16_t value, uint16_t index, void *buf, uint16_t len)
{
	struct xfer x;
	int rc;

	memset(&x, 0, sizeof(x));
	x.ep = &d->ep[1];
	x.is_control = 1;
	x.setup = RXU_USB_SETUP_U64(type, req, value, index, len);
	x.dir_in = !!(type & RXU_USB_DIR_IN);
	x.len = len;
	x.buf = buf;
	rc = xfer_run(hc, &x);
	return rc ? rc : (int)x.actual;
}
