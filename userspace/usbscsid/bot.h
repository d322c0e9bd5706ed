/* SPDX-License-Identifier: MIT */
/*
 * bot.h: USB Mass Storage Bulk-Only Transport (class 08, protocol 0x50).
 *
 * One command = a 31-byte Command Block Wrapper on bulk OUT, an optional
 * data stage, a 13-byte Command Status Wrapper on bulk IN.  Stalls,
 * invalid CSWs and phase errors are recovered here (reset recovery), so
 * a caller sees either the device's verdict on the command or -errno.
 */
#ifndef USBSCSID_BOT_H
#define USBSCSID_BOT_H

#include <stdint.h>

#include "xport.h"

#define BOT_CBW_LEN		31
#define BOT_CSW_LEN		13
#define BOT_CBW_SIGNATURE	0x43425355u	/* "USBC" */
#define BOT_CSW_SIGNATURE	0x53425355u	/* "USBS" */
#define BOT_FLAG_IN		0x80u		/* bmCBWFlags: device to host */
#define BOT_MAX_CB		16

/* bCSWStatus */
#define BOT_STATUS_PASSED	0
#define BOT_STATUS_FAILED	1
#define BOT_STATUS_PHASE	2

/* Class requests (bRequest), interface recipient */
#define BOT_REQ_RESET		0xffu	/* Bulk-Only Mass Storage Reset */
#define BOT_REQ_GET_MAX_LUN	0xfeu

/* Room the BOT layer takes at the start of xport->mem for CBW and CSW. */
#define BOT_MEM_RESERVED	64

struct bot_stats {
	uint64_t commands;
	uint64_t resets;	/* reset recoveries */
	uint64_t clear_halts;
	uint64_t phase_errors;
	uint64_t bad_csws;	/* signature, tag, length or residue */
};

/* A transfer started and not yet waited for (transports without
 * bulk_start): the data stage and the CSW. */
#define BOT_MAX_STARTED		2
struct bot_xfer {
	uint8_t ep;
	void *buf;
	uint32_t len;
};

struct bot {
	struct usbscsid_xport *x;
	struct bot_xfer kept[BOT_MAX_STARTED];
	unsigned int first, nkept;
	uint32_t tag;		/* the last CBW's dCBWTag */
	uint8_t max_lun;	/* Get Max LUN's answer (0: one LUN) */
	struct bot_stats stats;
	int log_resets;		/* say each reset recovery on stderr */
	/*
	 * Fault injection for tests: the CBW of command number spoil_cbw
	 * (stats.commands counts from 1) goes out once with a wrong
	 * dCBWSignature, which a device must refuse by stalling bulk OUT
	 * (BOT 6.6.1), so that reset recovery runs on a real device.
	 * 0: never.
	 */
	uint64_t spoil_cbw;
};

/*
 * Bind b to x and ask Get Max LUN (a device that stalls it has one LUN).
 * x->mem must hold at least BOT_MEM_RESERVED bytes.  0 or -errno.
 */
int bot_init(struct bot *b, struct usbscsid_xport *x);

/*
 * Run one command: cdb (1..16 bytes) to lun, data stage of len bytes in
 * (dir_in) or out of data, which must lie in x->mem past
 * BOT_MEM_RESERVED (or be NULL when len is 0).  Returns BOT_STATUS_PASSED
 * or BOT_STATUS_FAILED (the device's verdict: ask REQUEST SENSE), or
 * -errno: -EIO after a phase error, a bad CSW or a stall that needed
 * reset recovery; -EINVAL for a bad argument; a transport error
 * (-ENODEV ...) as it came.  *residue (if residue) gets the bytes of
 * the data stage that were not moved.
 */
int bot_command(struct bot *b, uint8_t lun, const uint8_t *cdb,
		uint8_t cdb_len, int dir_in, void *data, uint32_t len,
		uint32_t *residue);

/*
 * Reset recovery: Bulk-Only Mass Storage Reset, then CLEAR_FEATURE
 * (ENDPOINT_HALT) on bulk IN, then on bulk OUT, by endpoint address.
 */
int bot_reset_recovery(struct bot *b);

#endif /* USBSCSID_BOT_H */
