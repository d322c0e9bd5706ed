// SPDX-License-Identifier: MIT
/*
 * ring.c - xHCI rings in DMA memory.
 *
 * Producer rings (the command ring, one transfer ring per endpoint) are
 * one page of TRBs whose last slot is a Link TRB back to the start with
 * Toggle Cycle set.  The producer writes each TRB with the current cycle
 * state, the control word (which holds the cycle bit) last, behind a
 * release barrier, so the controller never sees half a TRB as valid.
 * When the enqueue index reaches the Link, the Link is handed over with
 * the current cycle and the cycle state flips.
 *
 * The event ring (interrupter 0) is one segment; a TRB is new when its
 * cycle bit equals the consumer cycle state, which flips at each wrap.
 */
#include <errno.h>
#include <string.h>

#include "xhcid.h"

int xring_init(struct xhc *hc, struct xring *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = rxu_pcidrv_dma_alloc(&hc->dev, XHCID_RING_TRBS * sizeof(struct xhci_trb),
				  &r->mem);
	if (rc)
		return rc;
	r->trb = r->mem.va;
	r->n = XHCID_RING_TRBS;
	r->enq = 0;
	r->pcs = 1;
	r->trb[r->n - 1].param = r->mem.iova;
	r->trb[r->n - 1].status = 0;
	r->trb[r->n - 1].control = TRB_TYPE(TRB_LINK) | TRB_TC;	/* cycle 0 */
	return 0;
}

void xring_free(struct xhc *hc, struct xring *r)
{
	if (r->mem.va)
		rxu_pcidrv_dma_free(&hc->dev, &r->mem);
	memset(r, 0, sizeof(*r));
}

unsigned int xring_room(const struct xring *r)
{
	/* The consumer's position is not known here: callers keep at most
	 * one TD per transfer ring and one command in flight, so the whole
	 * ring but the Link is free when they push. */
	return r->n - 1;
}

uint64_t xring_iova(const struct xring *r, unsigned int idx)
{
	return r->mem.iova + (uint64_t)idx * sizeof(struct xhci_trb);
}

int xring_index(const struct xring *r, uint64_t iova)
{
	if (!r->mem.va || iova < r->mem.iova || (iova - r->mem.iova) % 16 ||
	    (iova - r->mem.iova) / 16 >= r->n)
		return -1;
	return (int)((iova - r->mem.iova) / 16);
}

uint64_t xring_enqueue_ptr(const struct xring *r)
{
	return xring_iova(r, r->enq) | (r->pcs ? EP_DCS : 0);
}

uint64_t xring_push(struct xring *r, uint64_t param, uint32_t status,
		    uint32_t control)
{
	struct xhci_trb *t = &r->trb[r->enq];
	uint64_t iova = xring_iova(r, r->enq);

	t->param = param;
	t->status = status;
	__atomic_store_n(&t->control, (control & ~TRB_CYCLE) | r->pcs,
			 __ATOMIC_RELEASE);
	if (++r->enq == r->n - 1) {
		struct xhci_trb *link = &r->trb[r->n - 1];
		/* The Link keeps the chain bit of the TD it is part of. */
		uint32_t ch = control & TRB_CH;

		__atomic_store_n(&link->control,
				 TRB_TYPE(TRB_LINK) | TRB_TC | ch | r->pcs,
				 __ATOMIC_RELEASE);
		r->pcs ^= 1;
		r->enq = 0;
	}
	return iova;
}

int xevring_init(struct xhc *hc, struct xevring *e)
{
	int rc;

	memset(e, 0, sizeof(*e));
	/* The segment, then its one ERST entry (64-byte aligned). */
	rc = rxu_pcidrv_dma_alloc(&hc->dev,
				  XHCID_EVENT_TRBS * sizeof(struct xhci_trb) + 64,
				  &e->mem);
	if (rc)
		return rc;
	e->trb = e->mem.va;
	e->n = XHCID_EVENT_TRBS;
	e->deq = 0;
	e->ccs = 1;
	return 0;
}

void xevring_free(struct xhc *hc, struct xevring *e)
{
	if (e->mem.va)
		rxu_pcidrv_dma_free(&hc->dev, &e->mem);
	memset(e, 0, sizeof(*e));
}

const struct xhci_trb *xevring_peek(const struct xevring *e)
{
	const struct xhci_trb *t = &e->trb[e->deq];
	uint32_t c = __atomic_load_n(&t->control, __ATOMIC_ACQUIRE);

	return (c & TRB_CYCLE) == e->ccs ? t : NULL;
}

void xevring_consume(struct xevring *e)
{
	if (++e->deq == e->n) {
		e->deq = 0;
		e->ccs ^= 1;
	}
}

uint64_t xevring_deq_iova(const struct xevring *e)
{
	return e->mem.iova + (uint64_t)e->deq * sizeof(struct xhci_trb);
}
