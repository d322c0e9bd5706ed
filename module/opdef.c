// SPDX-License-Identifier: GPL-2.0
/*
 * The table of standard opcodes (ABI.md section 5).  An opcode without an
 * entry completes with -ENOSYS; each entry names the SQE fields it reads,
 * and the caller refuses an SQE with any other field nonzero (priority and
 * user_data are always allowed), so an opcode that reads nothing needs no
 * prep at all.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <uapi/linux/redox_uring.h>

#include "opdef.h"

#define RXU_F_RW	(RXU_F_FD | RXU_F_ADDR | RXU_F_LEN)
#define RXU_F_PRW	(RXU_F_RW | RXU_F_OFFSET)

const struct rxu_op_def rxu_op_defs[RXU_OP_STANDARD_LAST] = {
	[RXU_OP_NOOP] = {
		.name		= "NOOP",
		.issue		= rxu_nop,
	},
	[RXU_OP_OPEN] = {
		.name		= "OPEN",
		.fields		= RXU_F_FD | RXU_F_ADDR | RXU_F_LEN |
				  RXU_F_OFFSET | RXU_F_ADD1 | RXU_F_SFLAGS,
		.prep		= rxu_open_prep,
		.issue		= rxu_open,
	},
	[RXU_OP_CLOSE] = {
		.name		= "CLOSE",
		.fields		= RXU_F_FD,
		.prep		= rxu_close_prep,
		.issue		= rxu_close,
	},
	[RXU_OP_CLOSE_RANGE] = {
		.name		= "CLOSE_RANGE",
		.fields		= RXU_F_FD | RXU_F_LEN,
		.prep		= rxu_close_range_prep,
		.issue		= rxu_close_range,
	},
	[RXU_OP_READ] = {
		.name		= "READ",
		.fields		= RXU_F_RW,
		.prep		= rxu_rw_prep,
		.issue		= rxu_rw,
	},
	[RXU_OP_READV] = {
		.name		= "READV",
		.fields		= RXU_F_RW,
		.prep		= rxu_rw_prep,
		.issue		= rxu_rw,
	},
	[RXU_OP_PREAD] = {
		.name		= "PREAD",
		.fields		= RXU_F_PRW,
		.prep		= rxu_rw_prep,
		.issue		= rxu_rw,
	},
	[RXU_OP_PREADV] = {
		.name		= "PREADV",
		.fields		= RXU_F_PRW,
		.prep		= rxu_rw_prep,
		.issue		= rxu_rw,
	},
	[RXU_OP_WRITE] = {
		.name		= "WRITE",
		.fields		= RXU_F_RW,
		.prep		= rxu_rw_prep,
		.issue		= rxu_rw,
	},
	[RXU_OP_WRITEV] = {
		.name		= "WRITEV",
		.fields		= RXU_F_RW,
		.prep		= rxu_rw_prep,
		.issue		= rxu_rw,
	},
	[RXU_OP_PWRITE] = {
		.name		= "PWRITE",
		.fields		= RXU_F_PRW,
		.prep		= rxu_rw_prep,
		.issue		= rxu_rw,
	},
	[RXU_OP_PWRITEV] = {
		.name		= "PWRITEV",
		.fields		= RXU_F_PRW,
		.prep		= rxu_rw_prep,
		.issue		= rxu_rw,
	},
	[RXU_OP_DUP] = {
		.name		= "DUP",
		.fields		= RXU_F_FD | RXU_F_ADDR | RXU_F_LEN |
				  RXU_F_SFLAGS,
		.prep		= rxu_dup_prep,
		.issue		= rxu_dup,
	},
	[RXU_OP_MMAP] = {
		.name		= "MMAP",
		.fields		= RXU_F_FD | RXU_F_ADDR | RXU_F_LEN |
				  RXU_F_OFFSET | RXU_F_ADD1 | RXU_F_SFLAGS,
		.prep		= rxu_mmap_prep,
		.issue		= rxu_mmap,
	},
	[RXU_OP_FILES_UPDATE] = {
		.name		= "FILES_UPDATE",
		.fields		= RXU_F_FD | RXU_F_SFLAGS,
		.prep		= rxu_files_update_prep,
		.issue		= rxu_files_update,
	},
	[RXU_OP_SEEK] = {
		.name		= "SEEK",
		.fields		= RXU_F_FD | RXU_F_OFFSET | RXU_F_SFLAGS,
		.prep		= rxu_seek_prep,
		.issue		= rxu_seek,
	},
	[RXU_OP_FSTAT] = {
		.name		= "FSTAT",
		.fields		= RXU_F_FD | RXU_F_ADDR | RXU_F_LEN,
		.prep		= rxu_fstat_prep,
		.issue		= rxu_fstat,
	},
	[RXU_OP_FSYNC] = {
		.name		= "FSYNC",
		.fields		= RXU_F_FD | RXU_F_SFLAGS,
		.prep		= rxu_fsync_prep,
		.issue		= rxu_fsync,
	},
	[RXU_OP_FTRUNCATE] = {
		.name		= "FTRUNCATE",
		.fields		= RXU_F_FD | RXU_F_OFFSET,
		.prep		= rxu_ftruncate_prep,
		.issue		= rxu_ftruncate,
	},
};

/* Refuse to load with a half-filled table entry. */
int rxu_opdef_init(void)
{
	int i;

	BUILD_BUG_ON(ARRAY_SIZE(rxu_op_defs) != RXU_OP_STANDARD_LAST);
	for (i = 0; i < ARRAY_SIZE(rxu_op_defs); i++) {
		const struct rxu_op_def *def = &rxu_op_defs[i];

		if (!def->issue && !def->prep && !def->name)
			continue;
		/* prep is optional only for an opcode that reads no field. */
		if (!def->issue || !def->name || (!def->prep && def->fields)) {
			pr_err("opcode %d is incomplete\n", i);
			return -EINVAL;
		}
	}
	return 0;
}
