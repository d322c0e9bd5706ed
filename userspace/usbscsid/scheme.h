/* SPDX-License-Identifier: MIT */
/*
 * scheme.h: the disk: scheme usbscsid serves (docs/usbscsid.md):
 *
 *   ""    the listing: one line per LUN, its number ("0\n1\n")
 *   "N"   LUN N, the whole medium as one file of bytes
 */
#ifndef USBSCSID_SCHEME_H
#define USBSCSID_SCHEME_H

#include "rxu_scheme.h"
#include "scsi.h"

#define DISK_MAX_LUNS	16

struct disk_dev {
	struct scsi_lun lun[DISK_MAX_LUNS];
	unsigned int nluns;
	int gone;		/* the device answered ENODEV: detached */
	char listing[DISK_MAX_LUNS * 4];
};

/* The ops of disk:, their priv being a struct disk_dev. */
extern const struct rxu_scheme_ops disk_scheme_ops;

/* Make dev's listing text (after its LUNs are probed). */
void disk_dev_listing(struct disk_dev *dev);

#endif /* USBSCSID_SCHEME_H */
