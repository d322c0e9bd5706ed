/* SPDX-License-Identifier: MIT */
/*
 * scsi.h: the SCSI commands usbscsid sends to one logical unit of a
 * Bulk-Only device (SPC/SBC, the subset USB sticks implement), and the
 * sense data they answer with.
 */
#ifndef USBSCSID_SCSI_H
#define USBSCSID_SCSI_H

#include <stddef.h>
#include <stdint.h>

#include "bot.h"

/* Operation codes */
#define SCSI_TEST_UNIT_READY	0x00
#define SCSI_REQUEST_SENSE	0x03
#define SCSI_INQUIRY		0x12
#define SCSI_MODE_SENSE_6	0x1a
#define SCSI_START_STOP_UNIT	0x1b
#define SCSI_READ_CAPACITY_10	0x25
#define SCSI_READ_10		0x28
#define SCSI_WRITE_10		0x2a
#define SCSI_SYNC_CACHE_10	0x35
#define SCSI_READ_16		0x88
#define SCSI_WRITE_16		0x8a
#define SCSI_SERVICE_ACTION_IN	0x9e	/* READ CAPACITY(16): action 0x10 */
#define SCSI_SA_READ_CAPACITY	0x10

/* Sense keys */
#define SCSI_SK_NO_SENSE	0x0
#define SCSI_SK_RECOVERED	0x1
#define SCSI_SK_NOT_READY	0x2
#define SCSI_SK_MEDIUM_ERROR	0x3
#define SCSI_SK_HARDWARE_ERROR	0x4
#define SCSI_SK_ILLEGAL_REQUEST	0x5
#define SCSI_SK_UNIT_ATTENTION	0x6
#define SCSI_SK_DATA_PROTECT	0x7
#define SCSI_SK_ABORTED		0xb

/* Additional sense codes used here */
#define SCSI_ASC_NOT_READY	0x04	/* logical unit not ready */
#define SCSI_ASC_LBA_RANGE	0x21
#define SCSI_ASC_LUN_UNSUPPORTED 0x25	/* logical unit not supported */
#define SCSI_ASC_WRITE_PROTECT	0x27
#define SCSI_ASC_MEDIUM_CHANGED	0x28	/* not ready to ready change */
#define SCSI_ASC_RESET		0x29	/* power on, reset */
#define SCSI_ASC_NO_MEDIUM	0x3a

#define SCSI_SENSE_LEN		252	/* REQUEST SENSE allocation length */

/*
 * Layout of the transport memory: BOT's CBW/CSW, then a scratch area
 * for the small answers (INQUIRY, capacity, mode sense) and one for
 * sense data, so that neither overwrites a write's data, which a retry
 * after a unit attention sends again; then the data.
 */
#define SCSI_SMALL_OFFSET	BOT_MEM_RESERVED
#define SCSI_SMALL_LEN		192
#define SCSI_SENSE_OFFSET	256
#define SCSI_DATA_OFFSET	512

struct scsi_sense {
	uint8_t response;	/* 0x70/0x71 fixed, 0x72/0x73 descriptor */
	uint8_t key;
	uint8_t asc;
	uint8_t ascq;
};

/*
 * Decode sense data of either format: 0 or -EINVAL (too short, or a
 * response code that is neither).
 */
int scsi_sense_decode(const uint8_t *buf, size_t len, struct scsi_sense *s);

/* The errno a failed command with this sense stands for. */
int scsi_sense_errno(const struct scsi_sense *s);

/* One logical unit, as probed. */
struct scsi_lun {
	struct bot *bot;
	uint8_t lun;
	uint8_t present;	/* a medium is in and the unit is ready */
	uint8_t write_protect;	/* MODE SENSE's WP bit */
	uint8_t removable;	/* INQUIRY's RMB bit */
	uint8_t use16;		/* READ CAPACITY(10) said 0xffffffff */
	uint8_t changed;	/* a unit attention since the last probe */
	uint8_t device_type;	/* INQUIRY's peripheral device type */
	uint8_t absent;		/* no unit at this LUN (the probe's ENXIO) */
	uint8_t unit_seen;	/* INQUIRY found a unit at this LUN */
	uint32_t block_size;
	uint64_t blocks;	/* last LBA + 1 */
	char vendor[9];
	char product[17];
	char revision[5];
	struct scsi_sense sense;	/* of the last failed command */
};

/*
 * Run cdb on l: data in x->mem past BOT_MEM_RESERVED as for
 * bot_command().  A failed status is followed by REQUEST SENSE; a unit
 * attention marks l->changed and the command is retried (a few times),
 * as is LOGICAL UNIT NOT SUPPORTED on a LUN whose INQUIRY found a unit
 * (QEMU's usb-bot gives that sense for LUNs but 0 when the failed
 * command's own sense was a unit attention, which is then consumed), as
 * are a NOT READY "becoming ready" (after a pause), an aborted
 * command, one that needed reset recovery and, when residue is NULL, a
 * short data stage.  0 when the command passed, else -errno (the
 * sense's errno, -EIO, or the transport's: -ENODEV the stick is gone).
 * residue: NULL if a short data stage is an error, else it gets it.
 */
int scsi_exec(struct scsi_lun *l, const uint8_t *cdb, uint8_t cdb_len,
	      int dir_in, void *data, uint32_t len, uint32_t *residue);

/*
 * Probe l: INQUIRY, TEST UNIT READY, READ CAPACITY(10) (+1; (16) when it
 * says 0xffffffff), MODE SENSE(6) for write protect.  No medium is not
 * an error: 0 with l->present 0.  Clears l->changed.  No unit at the LUN
 * (INQUIRY's peripheral qualifier 011b, or LOGICAL UNIT NOT SUPPORTED,
 * as a card reader's empty slot or QEMU's usb-bot answers): -ENXIO with
 * l->absent set.
 */
int scsi_probe(struct scsi_lun *l, struct bot *b, uint8_t lun);

/* Bytes the data memory holds for one command (x->mem past the CBW). */
size_t scsi_data_room(const struct scsi_lun *l);
/* The data memory itself. */
void *scsi_data(const struct scsi_lun *l);

int scsi_test_unit_ready(struct scsi_lun *l);
int scsi_inquiry(struct scsi_lun *l);
int scsi_read_capacity(struct scsi_lun *l);
int scsi_mode_sense_wp(struct scsi_lun *l);
/*
 * count blocks at lba to/from data (inside scsi_data(l) ..
 * + scsi_data_room(l)); READ/WRITE(10), or (16) when needed.
 */
int scsi_rw(struct scsi_lun *l, int write, uint64_t lba, uint32_t count,
	    void *data);
int scsi_sync_cache(struct scsi_lun *l);
int scsi_start_stop(struct scsi_lun *l, int start, int load_eject);

#endif /* USBSCSID_SCSI_H */
