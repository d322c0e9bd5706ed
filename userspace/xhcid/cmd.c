// SPDX-License-Identifier: MIT
/*
 * cmd.c - the command ring: one command in flight at a time, each with a
 * time limit.  A command that does not complete in XHCID_CMD_TIMEOUT_MS
 * is aborted (CRCR.CA); if even the abort does not stop the ring, the
 * controller is marked dead and xhcid resets it (xhcid.c).
 */
#include <errno.h>
#include <string.h>

#include "xhcid.h"

#define MS	1000000ULL

int xcmd_cc_errno(uint8_t cc)
{
	switch (cc) {
	case CC_SUCCESS:
		return 0;
	case CC_NO_SLOTS:
	case CC_RESOURCE:
	case CC_BANDWIDTH:
		return -ENOSPC;
	case CC_SLOT_NOT_ENABLED:
	case CC_EP_NOT_ENABLED:
	case CC_CONTEXT_STATE:
		return -ENODEV;
	case CC_PARAMETER:
	case CC_TRB:
		return -EINVAL;
	case CC_TRANSACTION:
		return -EPROTO;
	case CC_CMD_ABORTED:
	case CC_CMD_RING_STOPPED:
		return -ETIMEDOUT;
	default:
		return -EIO;
	}
}

void xcmd_complete(struct xhc *hc, const struct xhci_trb *ev)
{
	struct xcmd_result *res = hc->cmd_wait;

	/* A Command Ring Stopped event after an abort names no command. */
	if (!res || ev->param != hc->cmd_iova)
		return;
	res->cc = (uint8_t)TRB_CC(ev->status);
	res->param = ev->status & 0xffffff;
	res->slot = (uint8_t)TRB_GET_SLOT(ev->control);
	res->done = 1;
	hc->cmd_wait = NULL;
}

static void abort_ring(struct xhc *hc)
{
	uint64_t end = hc_now_ns() + 1000 * MS;

	op_write64(hc->op, XHCI_CRCR, CRCR_CA);
	while (rxu_mmio_read32(hc->op, XHCI_CRCR) & CRCR_CRR) {
		if (hc_now_ns() > end) {
			hc_log(hc, "command ring does not stop: resetting");
			hc->dead = 1;
			return;
		}
		hc_wait(hc, MS);
	}
}

int xcmd_run(struct xhc *hc, uint64_t param, uint32_t status,
	     uint32_t control, struct xcmd_result *res)
{
	uint64_t end;

	memset(res, 0, sizeof(*res));
	if (hc->dead)
		return -ETIMEDOUT;
	if (hc->cmd_wait)
		return -EBUSY;
	hc->cmd_wait = res;
	hc->cmd_iova = xring_push(&hc->cmd, param, status, control);
	hc_doorbell(hc, 0, 0);
	end = hc_now_ns() + XHCID_CMD_TIMEOUT_MS * MS;
	while (!res->done) {
		uint64_t now = hc_now_ns();

		if (now >= end || hc->dead) {
			hc->cmd_wait = NULL;
			hc_log(hc, "command type %u timed out", TRB_GET_TYPE(control));
			abort_ring(hc);
			hc_check_alive(hc);
			return -ETIMEDOUT;
		}
		hc_wait(hc, end - now);
	}
	return 0;
}
