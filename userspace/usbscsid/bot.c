// SPDX-License-Identifier: MIT
/*
 * bot.c: Bulk-Only Transport, as the USB Mass Storage Class BOT 1.0
 * specification asks of a host.
 *
 *   CBW  --bulk OUT-->   a stall or short write: reset recovery
 *   data <-bulk IN/OUT-> a stall ends the data stage: clear that
 *                        endpoint's halt and go on to the CSW
 *   CSW  <-bulk IN--     a stall: clear it and read once more; a second
 *                        failure, a CSW that is not 13 bytes, a wrong
 *                        signature or tag, a residue larger than the data
 *                        stage, or a phase error: reset recovery
 *
 * Reset recovery is the class request Bulk-Only Mass Storage Reset, then
 * CLEAR_FEATURE(ENDPOINT_HALT) on bulk IN and then on bulk OUT, each by
 * endpoint address (0x81, 0x02 ...), not by index.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bot.h"
#include "bytes.h"
#include "rxu_trace.h"
#include "rxu_usb.h"

/* bmRequestType of the two class requests: class, interface recipient. */
#define BOT_TYPE_OUT	0x21u
#define BOT_TYPE_IN	0xa1u

static uint8_t *cbw_buf(struct bot *b)
{
	return b->x->mem;
}

static uint8_t *csw_buf(struct bot *b)
{
	return (uint8_t *)b->x->mem + 32;
}

int bot_init(struct bot *b, struct usbscsid_xport *x)
{
	uint8_t *lun;
	int64_t n;

	if (!x || !x->ops || !x->mem || x->mem_size < BOT_MEM_RESERVED)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->x = x;
	lun = csw_buf(b);
	*lun = 0;
	n = x->ops->control(x, RXU_USB_SETUP_U64(BOT_TYPE_IN,
						 BOT_REQ_GET_MAX_LUN, 0,
						 x->iface, 1), lun, 1);
	/* BOT 3.2: a device with one LUN may stall Get Max LUN. */
	if (n == -EPIPE || n == 0)
		return 0;
	if (n < 0)
		return (int)n;
	b->max_lun = *lun <= 15 ? *lun : 0;
	return 0;
}

static int clear_halt(struct bot *b, uint8_t ep)
{
	b->stats.clear_halts++;
	return b->x->ops->clear_halt(b->x, ep);
}

int bot_reset_recovery(struct bot *b)
{
	struct usbscsid_xport *x = b->x;
	int64_t n;
	int ret;

	b->stats.resets++;
	if (b->log_resets)
		fprintf(stderr, "usbscsid: reset recovery (Bulk-Only reset, clear halt %#04x and %#04x), %llu so far\n",
			x->ep_in, x->ep_out,
			(unsigned long long)b->stats.resets);
	n = x->ops->control(x, RXU_USB_SETUP_U64(BOT_TYPE_OUT, BOT_REQ_RESET,
						 0, x->iface, 0), NULL, 0);
	if (n < 0)
		return (int)n;
	ret = clear_halt(b, x->ep_in);
	if (ret < 0)
		return ret;
	return clear_halt(b, x->ep_out);
}

/*
 * A transfer error that is not a stall: the device is gone (ENODEV, kept
 * as it is), or the pipe is in an unknown state (recover, then EIO).
 */
static int transfer_failed(struct bot *b, int64_t err)
{
	int ret;

	if (err == -ENODEV)
		return -ENODEV;
	ret = bot_reset_recovery(b);
	return ret == -ENODEV ? -ENODEV : -EIO;
}

static int send_cbw(struct bot *b, uint8_t lun, const uint8_t *cdb,
		    uint8_t cdb_len, int dir_in, uint32_t len)
{
	uint8_t *cbw = cbw_buf(b);
	int64_t n;

	memset(cbw, 0, BOT_CBW_LEN);
	put_le32(cbw, BOT_CBW_SIGNATURE);
	if (b->spoil_cbw && b->stats.commands == b->spoil_cbw) {
		b->spoil_cbw = 0;
		put_le32(cbw, ~BOT_CBW_SIGNATURE);
	}
	put_le32(cbw + 4, ++b->tag);
	put_le32(cbw + 8, len);
	cbw[12] = dir_in ? BOT_FLAG_IN : 0;
	cbw[13] = lun & 0xf;
	cbw[14] = cdb_len;
	memcpy(cbw + 15, cdb, cdb_len);
	n = b->x->ops->bulk(b->x, b->x->ep_out, cbw, BOT_CBW_LEN);
	if (n == BOT_CBW_LEN)
		return 0;
	if (n >= 0 || n == -EPIPE)
		n = -EIO;	/* the device refused the CBW itself */
	return transfer_failed(b, n);
}

/*
 * An IN data stage and the CSW are started together: both are on bulk
 * IN, so a transport that queues them (xhcid) runs the CSW right after
 * the data without a round trip to us, and the device sees the same
 * order of IN transactions.  (After an OUT data stage the CSW waits for
 * it: QEMU's usb-storage stalls an IN while OUT data is still due.)
 * Without bulk_start, a started transfer is kept and run when it is
 * waited for.
 */
static int start(struct bot *b, uint8_t ep, void *buf, uint32_t len)
{
	struct usbscsid_xport *x = b->x;
	struct bot_xfer *t;

	if (x->ops->bulk_start)
		return x->ops->bulk_start(x, ep, buf, len);
	if (b->nkept == BOT_MAX_STARTED)
		return -EBUSY;
	t = &b->kept[(b->first + b->nkept++) % BOT_MAX_STARTED];
	t->ep = ep;
	t->buf = buf;
	t->len = len;
	return 0;
}

/* The result of the oldest transfer started. */
static int64_t wait_one(struct bot *b)
{
	struct usbscsid_xport *x = b->x;
	struct bot_xfer *t;

	if (x->ops->bulk_start)
		return x->ops->bulk_wait(x);
	if (!b->nkept)
		return -EINVAL;
	t = &b->kept[b->first];
	b->first = (b->first + 1) % BOT_MAX_STARTED;
	b->nkept--;
	return x->ops->bulk(x, t->ep, t->buf, t->len);
}

/* After a failure: the transfers started are of no use; let them end. */
static void drop_started(struct bot *b)
{
	if (!b->x->ops->bulk_start) {
		b->nkept = 0;
		return;
	}
	while (b->x->ops->bulk_wait(b->x) != -EINVAL)
		;
}

/* The data stage: how many bytes moved, or -errno (already recovered). */
static int64_t data_stage(struct bot *b, int dir_in, uint32_t len)
{
	uint8_t ep = dir_in ? b->x->ep_in : b->x->ep_out;
	int64_t n;
	int ret;

	if (!len)
		return 0;
	n = wait_one(b);
	if (n >= 0)
		return n > len ? len : n;
	if (n != -EPIPE) {
		drop_started(b);
		return transfer_failed(b, n);
	}
	/* BOT 6.7.2/6.7.3: the device ended the data stage; on to the CSW.
	 * A queueing transport has cleared the halt before starting it. */
	if (b->x->ops->bulk_start)
		return 0;
	ret = clear_halt(b, ep);
	if (ret < 0) {
		drop_started(b);
		return transfer_failed(b, ret);
	}
	return 0;
}

static int64_t read_csw(struct bot *b)
{
	int64_t n = wait_one(b);
	int ret;

	if (n != -EPIPE)
		return n;
	/* BOT 5.3.3: a stalled CSW is cleared and read once more. */
	ret = clear_halt(b, b->x->ep_in);
	if (ret < 0)
		return ret;
	return b->x->ops->bulk(b->x, b->x->ep_in, csw_buf(b), BOT_CSW_LEN);
}

int bot_command(struct bot *b, uint8_t lun, const uint8_t *cdb,
		uint8_t cdb_len, int dir_in, void *data, uint32_t len,
		uint32_t *residue)
{
	const uint8_t *csw;
	uint8_t *mem = b->x->mem;
	uint32_t dresidue;
	int64_t moved, n;
	int ret;

	if (!cdb_len || cdb_len > BOT_MAX_CB || lun > b->max_lun ||
	    (len && (!data || (uint8_t *)data < mem + BOT_MEM_RESERVED ||
		     (uint8_t *)data + len > mem + b->x->mem_size)))
		return -EINVAL;
	b->stats.commands++;
	RXU_TRACE("usbscsid", "command op=%#x len=%u", cdb[0], len);
	if (residue)
		*residue = len;
	ret = send_cbw(b, lun, cdb, cdb_len, dir_in, len);
	if (ret < 0)
		return ret;
	if (len)
		ret = start(b, dir_in ? b->x->ep_in : b->x->ep_out, data, len);
	if (ret >= 0 && (dir_in || !len))
		ret = start(b, b->x->ep_in, csw_buf(b), BOT_CSW_LEN);
	if (ret < 0) {
		drop_started(b);
		return transfer_failed(b, ret);
	}
	moved = data_stage(b, dir_in, len);
	if (moved < 0)
		return (int)moved;
	if (!dir_in && len)
		ret = start(b, b->x->ep_in, csw_buf(b), BOT_CSW_LEN);
	if (ret < 0)
		return transfer_failed(b, ret);
	n = read_csw(b);
	if (n < 0 && n != -EPIPE)
		return transfer_failed(b, n);
	csw = csw_buf(b);
	if (n != BOT_CSW_LEN || get_le32(csw) != BOT_CSW_SIGNATURE ||
	    get_le32(csw + 4) != b->tag || get_le32(csw + 8) > len) {
		b->stats.bad_csws++;
		return transfer_failed(b, -EIO);
	}
	if (csw[12] != BOT_STATUS_PASSED && csw[12] != BOT_STATUS_FAILED) {
		b->stats.phase_errors++;
		return transfer_failed(b, -EIO);
	}
	/* The host knows what it moved; the device's count may be larger. */
	dresidue = get_le32(csw + 8);
	if (residue)
		*residue = dresidue > len - moved ? dresidue :
			   (uint32_t)(len - moved);
	return csw[12];
}
