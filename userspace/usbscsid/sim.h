/* SPDX-License-Identifier: MIT */
/*
 * sim.h: a Bulk-Only mass-storage device in memory, for the host tests
 * and for `usbscsid --sim` (disk: without a USB controller).  It keeps
 * the BOT state machine a real device keeps (CBW, data, CSW; halted
 * endpoints; an invalid CBW halts both until reset recovery) and
 * answers the SCSI commands usbscsid sends, with faults to inject.
 */
#ifndef USBSCSID_SIM_H
#define USBSCSID_SIM_H

#include <stdint.h>

#include "xport.h"

#define SIM_MAX_LUNS	4
#define SIM_EP_IN	0x81
#define SIM_EP_OUT	0x02

struct sim_lun {
	uint8_t *data;		/* blocks * block_size bytes, the caller's */
	uint64_t blocks;
	uint32_t block_size;
	int write_protect;
	int no_medium;
	int descriptor_sense;	/* answer REQUEST SENSE in format 0x72 */
	int capacity16;		/* READ CAPACITY(10) says 0xffffffff */
	int unit_attention;	/* pending: the next command fails with it */
	/*
	 * ...whose REQUEST SENSE then says ILLEGAL REQUEST 25/00, as QEMU's
	 * usb-bot does on LUNs but 0 (the unit attention is consumed).
	 */
	int attention_as_unsupported;
	int becoming_ready;	/* the next N commands: NOT READY 04/01 */
	/*
	 * No unit here: SIM_UNIT_UNSUPPORTED answers INQUIRY but every
	 * other command ILLEGAL REQUEST 25/00 (QEMU's usb-bot on a LUN it
	 * has no device for); SIM_UNIT_NONE answers INQUIRY with
	 * peripheral qualifier 011b.
	 */
	int no_unit;
	uint8_t sense[3];	/* pending sense: key, ASC, ASCQ */
};

#define SIM_UNIT_UNSUPPORTED	1
#define SIM_UNIT_NONE		2

/* Faults: each counts how many of the next occurrences to spoil. */
struct sim_faults {
	int stall_cbw;		/* halt both endpoints on the CBW */
	int stall_data;		/* halt the data stage's endpoint */
	int stall_csw;		/* halt bulk IN when the CSW is read */
	int bad_signature;	/* CSW with a wrong dCSWSignature */
	int bad_tag;		/* CSW with a wrong dCSWTag */
	int phase_error;	/* bCSWStatus 2 */
	int short_data;		/* a READ sends half its data (residue) */
	int huge_residue;	/* dCSWDataResidue > dCBWDataTransferLength */
	int stall_max_lun;	/* Get Max LUN stalls */
	int detached;		/* everything: -ENODEV (not a count) */
	uint64_t detach_after;	/* bulk transfers until detached (0: off) */
};

struct sim_stats {
	uint64_t cbws;
	uint64_t resets;
	uint64_t clear_halts_in;
	uint64_t clear_halts_out;
	uint64_t reads;		/* READ(10)/(16) commands */
	uint64_t writes;
	uint64_t read16;	/* of which (16) */
	uint64_t syncs;
	uint64_t request_senses;
	uint64_t start_stops;
	uint64_t bulk;		/* bulk transfers */
	uint16_t clear_order;	/* the last two cleared: first << 8 | second */
};

enum sim_phase { SIM_CBW, SIM_DATA_IN, SIM_DATA_OUT, SIM_CSW };

struct sim {
	struct usbscsid_xport x;	/* first: what the layers above use */
	struct sim_lun lun[SIM_MAX_LUNS];
	uint8_t nluns;
	struct sim_faults f;
	struct sim_stats st;
	/* state of the current command */
	enum sim_phase phase;
	int halt_in, halt_out, need_reset;
	uint32_t tag, host_len, residue;
	uint8_t status, cur_lun, cdb[16];
	uint8_t *resp;			/* data IN of the current command */
	uint32_t resp_len;
	uint64_t out_lba;		/* WRITE: where the data goes */
	uint32_t out_len;
};

/*
 * A device with transfer memory of mem_size bytes (x.mem) and no LUN
 * yet.  0 or -ENOMEM.
 */
int sim_init(struct sim *s, size_t mem_size);
void sim_fini(struct sim *s);
/* Add a LUN over data (blocks * block_size bytes); its index or -ENOSPC. */
int sim_add_lun(struct sim *s, uint8_t *data, uint64_t blocks,
		uint32_t block_size);

#endif /* USBSCSID_SIM_H */
