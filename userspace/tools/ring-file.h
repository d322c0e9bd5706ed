/* SPDX-License-Identifier: MIT */
/*
 * ring-file.h: a file opened through a redox_uring ring, and its
 * PREAD/PWRITE/FSYNC, as rxu-nbd and rxu-ublk use it.  Any path the ring
 * opens works: a scheme path (disk:..., mem:...) or a Linux file.
 *
 * Not thread-safe: one thread at a time per ring_file.
 */
#ifndef RING_FILE_H
#define RING_FILE_H

#include <stdint.h>

#include "rxu.h"

/*
 * Bytes per PREAD/PWRITE SQE: the most the module moves in one scheme
 * round trip (256 KiB), so that a provider such as usbscsid, which runs
 * one device command per request, sees requests as large as it can get
 * (a piece of 128 KiB cost it twice the commands).
 */
#define RING_FILE_PIECE		(256u * 1024)
/*
 * Pieces in flight at once.  Their sum must stay well inside the scheme
 * data region (1 MiB by default): a batch larger than the region was
 * seen to stall the ring for good.
 */
#define RING_FILE_BATCH		2
/* The most one ring_file_io() moves. */
#define RING_FILE_MAX_IO	(RING_FILE_BATCH * RING_FILE_PIECE)

struct ring_file {
	struct rxu_instance in;
	int fd;		/* the file, opened through the ring */
	const char *failed;	/* what a failed ring_file_open() could not open */
};

#define RING_FILE_INIT	{ .in = { .fd = -1 }, .fd = -1 }

/*
 * Set up a ring and OPEN path on it (O_RDONLY if read_only, else
 * O_RDWR); *size from FSTAT (a block device's from BLKGETSIZE64).
 * 0 or -errno, with f->failed naming what could not be opened: the
 * module's device (RING_FILE_NO_MODULE) or path.
 */
#define RING_FILE_NO_MODULE \
	RXU_DEVICE_PATH " (is the redox_uring module loaded?)"
int ring_file_open(struct ring_file *f, const char *path, int read_only,
		   uint64_t *size);

/*
 * Up to RING_FILE_MAX_IO bytes at off, cut into pieces submitted
 * together: the bytes moved (short at the first short piece, 0 at the
 * end of the file) or -errno.
 */
int64_t ring_file_io(struct ring_file *f, int write, void *buf, uint64_t len,
		     uint64_t off);

/* One request of ring_file_io_batch(). */
struct ring_file_req {
	int write;
	void *buf;
	uint64_t len;	/* up to RING_FILE_MAX_IO are done */
	uint64_t off;
	int64_t result;	/* out: what ring_file_io() would return */
	int64_t piece[RING_FILE_BATCH];	/* ring-file.c's */
};

/*
 * The pieces of n requests, first to last, RING_FILE_BATCH of them in
 * flight at any time: when one ends the next goes in, also across
 * requests, so that the provider finds the next piece queued when it
 * finishes one (ring_file_io() waits for all of its pieces before
 * anything else can be submitted).  0 with each result set, or -errno
 * if the ring failed (the results then unset).
 */
int ring_file_io_batch(struct ring_file *f, struct ring_file_req *reqs,
		       unsigned int n);

/* FSYNC: 0 or -errno. */
int ring_file_fsync(struct ring_file *f);

/* The ring closed (and the file with it). */
void ring_file_close(struct ring_file *f);

#endif /* RING_FILE_H */
