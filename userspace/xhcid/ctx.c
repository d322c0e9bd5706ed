// SPDX-License-Identifier: MIT
/*
 * ctx.c - device and input contexts, 32 or 64 bytes per entry
 * (HCCPARAMS1.CSZ).  A device (output) context is the slot context and
 * 31 endpoint contexts; an input context has the input control context
 * in front.  Only the first 32 bytes of an entry are defined, so the
 * accessors are the same for both sizes but for the stride.
 */
#include <string.h>

#include "xhcid.h"

int xctx_alloc(struct xhc *hc, struct xctx *c, int input)
{
	memset(c, 0, sizeof(*c));
	c->csz = hc->csz;
	c->input = input;
	return rxu_pcidrv_dma_alloc(&hc->dev, (uint64_t)(input ? 33 : 32) * c->csz,
				    &c->mem);
}

void xctx_free(struct xhc *hc, struct xctx *c)
{
	if (c->mem.va)
		rxu_pcidrv_dma_free(&hc->dev, &c->mem);
	memset(c, 0, sizeof(*c));
}

static uint32_t *entry(struct xctx *c, unsigned int i)
{
	return (uint32_t *)((uint8_t *)c->mem.va + (size_t)(i + (c->input ? 1 : 0)) * c->csz);
}

uint32_t *xctx_ctrl(struct xctx *c)
{
	return (uint32_t *)c->mem.va;
}

uint32_t *xctx_slot(struct xctx *c)
{
	return entry(c, 0);
}

uint32_t *xctx_ep(struct xctx *c, unsigned int dci)
{
	return entry(c, dci);
}
