// SPDX-License-Identifier: MIT
/*
 * sim.c: the simulated Bulk-Only device.  The host's view of a command
 * (Hi/Ho/Hn: the length and direction of the CBW) is compared with the
 * device's (Di/Do/Dn: what the SCSI command moves) as the BOT
 * specification's thirteen cases do: a shorter device answer is a short
 * packet and a residue, a longer one or the wrong direction a phase
 * error.  A failed IN command halts bulk IN instead of sending data.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bot.h"
#include "bytes.h"
#include "scsi.h"
#include "sim.h"

static struct sim *to_sim(struct usbscsid_xport *x)
{
	return (struct sim *)x;
}

static int gone(struct sim *s)
{
	if (s->f.detach_after && s->st.bulk >= s->f.detach_after)
		s->f.detached = 1;
	return s->f.detached;
}

static void set_sense(struct sim_lun *l, uint8_t key, uint8_t asc,
		      uint8_t ascq)
{
	l->sense[0] = key;
	l->sense[1] = asc;
	l->sense[2] = ascq;
}

/* The command failed: CHECK CONDITION with this sense. */
static void fail(struct sim *s, struct sim_lun *l, uint8_t key, uint8_t asc,
		 uint8_t ascq)
{
	set_sense(l, key, asc, ascq);
	s->status = BOT_STATUS_FAILED;
	s->resp_len = 0;
}

static void answer(struct sim *s, const void *buf, uint32_t len)
{
	memcpy(s->resp, buf, len);
	s->resp_len = len;
}

static void sense_data(struct sim *s, struct sim_lun *l, uint32_t alloc)
{
	uint8_t buf[18] = { 0 };
	uint32_t len;

	if (l->descriptor_sense) {
		buf[0] = 0x72;
		buf[1] = l->sense[0];
		buf[2] = l->sense[1];
		buf[3] = l->sense[2];
		len = 8;
	} else {
		buf[0] = 0x70;
		buf[2] = l->sense[0];
		buf[7] = 10;
		buf[12] = l->sense[1];
		buf[13] = l->sense[2];
		len = 18;
	}
	set_sense(l, 0, 0, 0);
	answer(s, buf, len < alloc ? len : alloc);
}

static void inquiry(struct sim *s, struct sim_lun *l, uint32_t alloc)
{
	uint8_t buf[36] = { 0 };

	if (l->no_unit == SIM_UNIT_NONE)
		buf[0] = 0x7f;	/* qualifier 011b, type 1fh: no unit */
	buf[1] = 0x80;		/* removable */
	buf[2] = 0x05;		/* SPC-3 */
	buf[3] = 0x02;
	buf[4] = 31;
	memcpy(buf + 8, "RXUSIM  ", 8);
	memcpy(buf + 16, "SIMULATED DISK  ", 16);
	memcpy(buf + 32, "1.0 ", 4);
	answer(s, buf, alloc < 36 ? alloc : 36);
}

static void capacity(struct sim *s, struct sim_lun *l, int sixteen)
{
	uint8_t buf[32] = { 0 };

	if (sixteen) {
		put_be64(buf, l->blocks - 1);
		put_be32(buf + 8, l->block_size);
		answer(s, buf, 32);
	} else {
		put_be32(buf, l->capacity16 || l->blocks - 1 > UINT32_MAX ?
			 UINT32_MAX : (uint32_t)(l->blocks - 1));
		put_be32(buf + 4, l->block_size);
		answer(s, buf, 8);
	}
}

static void mode_sense(struct sim *s, struct sim_lun *l, uint32_t alloc)
{
	uint8_t buf[4] = { 3, 0, 0, 0 };

	if (l->write_protect)
		buf[2] = 0x80;
	answer(s, buf, alloc < 4 ? alloc : 4);
}

/* READ/WRITE(10)/(16): check the range, then move or expect data. */
static void rw(struct sim *s, struct sim_lun *l, int write, uint64_t lba,
	       uint32_t count)
{
	uint64_t bytes = (uint64_t)count * l->block_size;

	if (lba > l->blocks || count > l->blocks - lba ||
	    bytes > s->x.mem_size) {
		fail(s, l, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LBA_RANGE, 0);
		return;
	}
	if (write) {
		s->st.writes++;
		s->out_lba = lba;
		s->out_len = (uint32_t)bytes;
		return;
	}
	s->st.reads++;
	memcpy(s->resp, l->data + lba * l->block_size, bytes);
	s->resp_len = (uint32_t)bytes;
	if (s->f.short_data > 0) {
		s->f.short_data--;
		s->resp_len /= 2;
	}
}

/* Device's pending conditions, in the order a real one reports them. */
static int pending(struct sim *s, struct sim_lun *l, uint8_t op)
{
	if (op == SCSI_INQUIRY || op == SCSI_REQUEST_SENSE)
		return 0;
	if (l->no_unit == SIM_UNIT_UNSUPPORTED) {
		fail(s, l, SCSI_SK_ILLEGAL_REQUEST, SCSI_ASC_LUN_UNSUPPORTED, 0);
		return 1;
	}
	if (l->unit_attention) {
		l->unit_attention = 0;
		if (l->attention_as_unsupported)
			fail(s, l, SCSI_SK_ILLEGAL_REQUEST,
			     SCSI_ASC_LUN_UNSUPPORTED, 0);
		else
			fail(s, l, SCSI_SK_UNIT_ATTENTION,
			     SCSI_ASC_MEDIUM_CHANGED, 0);
		return 1;
	}
	if (l->no_medium) {
		fail(s, l, SCSI_SK_NOT_READY, SCSI_ASC_NO_MEDIUM, 0);
		return 1;
	}
	if (l->becoming_ready > 0) {
		l->becoming_ready--;
		fail(s, l, SCSI_SK_NOT_READY, SCSI_ASC_NOT_READY, 1);
		return 1;
	}
	return 0;
}

static void execute(struct sim *s)
{
	struct sim_lun *l = &s->lun[s->cur_lun];
	const uint8_t *c = s->cdb;
	int write_op = c[0] == SCSI_WRITE_10 || c[0] == SCSI_WRITE_16;

	s->status = BOT_STATUS_PASSED;
	s->resp_len = 0;
	s->out_len = 0;
	if (pending(s, l, c[0]))
		return;
	if (write_op && l->write_protect) {
		fail(s, l, SCSI_SK_DATA_PROTECT, SCSI_ASC_WRITE_PROTECT, 0);
		return;
	}
	switch (c[0]) {
	case SCSI_TEST_UNIT_READY:
		break;
	case SCSI_REQUEST_SENSE:
		s->st.request_senses++;
		sense_data(s, l, c[4]);
		break;
	case SCSI_INQUIRY:
		inquiry(s, l, get_be16(c + 3));
		break;
	case SCSI_MODE_SENSE_6:
		mode_sense(s, l, c[4]);
		break;
	case SCSI_START_STOP_UNIT:
		s->st.start_stops++;
		break;
	case SCSI_READ_CAPACITY_10:
		capacity(s, l, 0);
		break;
	case SCSI_SERVICE_ACTION_IN:
		if ((c[1] & 0x1f) != SCSI_SA_READ_CAPACITY)
			goto illegal;
		capacity(s, l, 1);
		break;
	case SCSI_READ_10:
	case SCSI_WRITE_10:
		rw(s, l, write_op, get_be32(c + 2), get_be16(c + 7));
		break;
	case SCSI_READ_16:
	case SCSI_WRITE_16:
		if (!write_op)
			s->st.read16++;
		rw(s, l, write_op, get_be64(c + 2), get_be32(c + 10));
		break;
	case SCSI_SYNC_CACHE_10:
		s->st.syncs++;
		break;
	default:
illegal:
		fail(s, l, SCSI_SK_ILLEGAL_REQUEST, 0x20, 0);
	}
}

/* After the CBW: decide the data phase from host and device views. */
static void start_data(struct sim *s, int host_in)
{
	uint32_t dev_len = s->out_len ? s->out_len : s->resp_len;
	int dev_out = s->out_len != 0;

	s->residue = s->host_len;
	if (!s->host_len) {
		if (dev_len)
			s->status = BOT_STATUS_PHASE;	/* Hn < Di/Do */
		s->phase = SIM_CSW;
		return;
	}
	if (dev_len && (dev_out == host_in || dev_len > s->host_len)) {
		s->status = BOT_STATUS_PHASE;	/* wrong way, or Hi < Di */
		s->out_len = 0;
	}
	if (s->status == BOT_STATUS_FAILED && host_in) {
		s->halt_in = 1;	/* nothing to send: end the data stage */
		s->phase = SIM_CSW;
		return;
	}
	s->phase = host_in ? SIM_DATA_IN : SIM_DATA_OUT;
}

static int64_t take_cbw(struct sim *s, const uint8_t *buf, uint32_t len)
{
	s->st.cbws++;
	if (s->phase != SIM_CBW || len != BOT_CBW_LEN ||
	    get_le32(buf) != BOT_CBW_SIGNATURE || buf[14] < 1 ||
	    buf[14] > 16 || (buf[13] & 0xf) >= s->nluns || s->f.stall_cbw) {
		if (s->f.stall_cbw > 0)
			s->f.stall_cbw--;
		/* BOT 6.6.1: an invalid CBW halts both until reset recovery */
		s->halt_in = s->halt_out = s->need_reset = 1;
		return -EPIPE;
	}
	s->tag = get_le32(buf + 4);
	s->host_len = get_le32(buf + 8);
	s->cur_lun = buf[13] & 0xf;
	memset(s->cdb, 0, sizeof(s->cdb));
	memcpy(s->cdb, buf + 15, buf[14]);
	if (s->host_len > s->x.mem_size) {
		s->halt_in = s->halt_out = s->need_reset = 1;
		return -EPIPE;
	}
	execute(s);
	start_data(s, !!(buf[12] & BOT_FLAG_IN));
	return len;
}

static int64_t give_csw(struct sim *s, uint8_t *buf, uint32_t len)
{
	uint32_t residue = s->residue;

	if (len < BOT_CSW_LEN) {
		s->halt_in = 1;
		return -EPIPE;
	}
	if (s->f.stall_csw > 0) {
		s->f.stall_csw--;
		s->halt_in = 1;
		return -EPIPE;
	}
	if (s->f.huge_residue > 0) {
		s->f.huge_residue--;
		residue = s->host_len + 512;
	}
	put_le32(buf, BOT_CSW_SIGNATURE);
	put_le32(buf + 4, s->tag);
	put_le32(buf + 8, residue);
	buf[12] = s->status;
	if (s->f.bad_signature > 0) {
		s->f.bad_signature--;
		buf[0] ^= 0xff;
	}
	if (s->f.bad_tag > 0) {
		s->f.bad_tag--;
		put_le32(buf + 4, s->tag + 1);
	}
	if (s->f.phase_error > 0) {
		s->f.phase_error--;
		buf[12] = BOT_STATUS_PHASE;
	}
	s->phase = SIM_CBW;
	return BOT_CSW_LEN;
}

static int data_stall(struct sim *s, int in)
{
	if (s->f.stall_data <= 0)
		return 0;
	s->f.stall_data--;
	if (in)
		s->halt_in = 1;
	else
		s->halt_out = 1;
	s->out_len = 0;
	s->phase = SIM_CSW;
	return 1;
}

static int64_t sim_bulk(struct usbscsid_xport *x, uint8_t ep, void *buf,
			uint32_t len)
{
	struct sim *s = to_sim(x);
	struct sim_lun *l = &s->lun[s->cur_lun];
	uint32_t n;

	if (gone(s))
		return -ENODEV;
	s->st.bulk++;
	if (ep == SIM_EP_OUT) {
		if (s->halt_out)
			return -EPIPE;
		if (s->phase == SIM_CBW)
			return take_cbw(s, buf, len);
		if (s->phase != SIM_DATA_OUT || len > s->residue) {
			s->halt_out = s->need_reset = 1;
			return -EPIPE;
		}
		if (data_stall(s, 0))
			return -EPIPE;
		if (s->out_len) {
			n = len < s->out_len ? len : s->out_len;
			memcpy(l->data + s->out_lba * l->block_size, buf, n);
		}
		s->residue -= len;
		s->phase = SIM_CSW;
		return len;
	}
	if (ep != SIM_EP_IN)
		return -EINVAL;
	if (s->halt_in)
		return -EPIPE;
	if (s->phase == SIM_CSW)
		return give_csw(s, buf, len);
	if (s->phase != SIM_DATA_IN) {
		s->halt_in = 1;
		return -EPIPE;
	}
	if (data_stall(s, 1))
		return -EPIPE;
	n = s->resp_len < len ? s->resp_len : len;
	memcpy(buf, s->resp, n);
	s->residue -= n;
	s->phase = SIM_CSW;
	return n;
}

static int64_t sim_control(struct usbscsid_xport *x, uint64_t setup,
			   void *buf, uint16_t len)
{
	struct sim *s = to_sim(x);
	uint8_t type = (uint8_t)setup, req = (uint8_t)(setup >> 8);
	uint16_t index = (uint16_t)(setup >> 32);

	if (gone(s))
		return -ENODEV;
	if (index != x->iface)
		return -EPIPE;
	if (type == 0xa1 && req == BOT_REQ_GET_MAX_LUN && len >= 1) {
		if (s->f.stall_max_lun > 0) {
			s->f.stall_max_lun--;
			return -EPIPE;
		}
		*(uint8_t *)buf = (uint8_t)(s->nluns - 1);
		return 1;
	}
	if (type == 0x21 && req == BOT_REQ_RESET && !len) {
		s->st.resets++;
		s->need_reset = 0;
		s->phase = SIM_CBW;
		return 0;
	}
	return -EPIPE;
}

static int sim_clear_halt(struct usbscsid_xport *x, uint8_t ep)
{
	struct sim *s = to_sim(x);

	if (gone(s))
		return -ENODEV;
	s->st.clear_order = (uint16_t)(s->st.clear_order << 8 | ep);
	if (ep == SIM_EP_IN) {
		s->st.clear_halts_in++;
		if (!s->need_reset)
			s->halt_in = 0;
	} else if (ep == SIM_EP_OUT) {
		s->st.clear_halts_out++;
		if (!s->need_reset)
			s->halt_out = 0;
	} else {
		return -EINVAL;
	}
	return 0;
}

static const struct usbscsid_xport_ops sim_ops = {
	.bulk = sim_bulk,
	.control = sim_control,
	.clear_halt = sim_clear_halt,
};

int sim_init(struct sim *s, size_t mem_size)
{
	memset(s, 0, sizeof(*s));
	s->x.mem = calloc(1, mem_size);
	s->resp = calloc(1, mem_size);
	if (!s->x.mem || !s->resp) {
		sim_fini(s);
		return -ENOMEM;
	}
	s->x.ops = &sim_ops;
	s->x.mem_size = mem_size;
	s->x.ep_in = SIM_EP_IN;
	s->x.ep_out = SIM_EP_OUT;
	return 0;
}

void sim_fini(struct sim *s)
{
	free(s->x.mem);
	free(s->resp);
	s->x.mem = NULL;
	s->resp = NULL;
}

int sim_add_lun(struct sim *s, uint8_t *data, uint64_t blocks,
		uint32_t block_size)
{
	struct sim_lun *l;

	if (s->nluns == SIM_MAX_LUNS)
		return -ENOSPC;
	l = &s->lun[s->nluns];
	memset(l, 0, sizeof(*l));
	l->data = data;
	l->blocks = blocks;
	l->block_size = block_size;
	return s->nluns++;
}
