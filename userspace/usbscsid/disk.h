/* SPDX-License-Identifier: MIT */
/*
 * disk.h: a logical unit as a file of bytes: reads and writes at any
 * offset and length (partial blocks read, patched and written back),
 * split into commands the transport memory holds.
 */
#ifndef USBSCSID_DISK_H
#define USBSCSID_DISK_H

#include <stdint.h>

#include "scsi.h"

/*
 * Make sure l is probed and ready: a unit attention since the last
 * probe (medium changed) probes again.  0, -ENOMEDIUM (no medium), or
 * the transport's -errno (-ENODEV: the stick is gone).
 */
int disk_ready(struct scsi_lun *l);

/*
 * Probe LUNs 0 .. n - 1 of b into luns: how many have a unit (0 means
 * none: the device is of no use), those without one marked absent; or
 * the first other failure's -errno.
 */
int disk_probe_all(struct scsi_lun *luns, unsigned int n, struct bot *b);

/* Size in bytes, or -ENOMEDIUM. */
int64_t disk_size(struct scsi_lun *l);

/*
 * Read len bytes at byte offset off into buf: the count (short at the
 * end of the medium, 0 at or past it) or -errno.
 */
int64_t disk_read(struct scsi_lun *l, void *buf, uint64_t len, uint64_t off);

/*
 * The same, without the copy: read the blocks under the first bytes of
 * [off, off + len) that one command holds into the transport memory and
 * point *src at the request's first byte there.  The count (at most
 * scsi_data_room() bytes: short for a larger request), 0 at or past the
 * end, or -errno.  The bytes stay until the next command on the LUN's
 * transport.
 */
int64_t disk_read_ref(struct scsi_lun *l, const void **src, uint64_t len,
		      uint64_t off);

/*
 * Write len bytes at off: the count (short at the end of the medium),
 * -ENOSPC at or past the end, -EROFS on a write-protected unit, or
 * -errno.
 */
int64_t disk_write(struct scsi_lun *l, const void *buf, uint64_t len,
		   uint64_t off);

/* SYNCHRONIZE CACHE. */
int disk_sync(struct scsi_lun *l);

#endif /* USBSCSID_DISK_H */
