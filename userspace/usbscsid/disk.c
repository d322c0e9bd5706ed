// SPDX-License-Identifier: MIT
/*
 * disk.c: byte-addressed I/O on a logical unit.  Every byte goes through
 * the transport memory (the pool xhcid transfers into), one command at a
 * time: at most scsi_data_room() bytes, whole blocks.  A write that
 * starts or ends inside a block reads that block first.  A zero-copy
 * read (disk_read_ref) is one command, lent from that memory.
 */
#include <errno.h>
#include <string.h>

#include "disk.h"

int disk_probe_all(struct scsi_lun *luns, unsigned int n, struct bot *b)
{
	unsigned int i;
	int units = 0;
	int ret;

	for (i = 0; i < n; i++) {
		ret = scsi_probe(&luns[i], b, (uint8_t)i);
		if (ret == -ENXIO)
			continue;
		if (ret < 0)
			return ret;
		units++;
	}
	return units;
}

int disk_ready(struct scsi_lun *l)
{
	int ret;

	if (l->absent)
		return -ENXIO;
	if (l->present && !l->changed)
		return 0;
	ret = scsi_probe(l, l->bot, l->lun);
	if (ret < 0)
		return ret;
	return l->present ? 0 : -ENOMEDIUM;
}

int64_t disk_size(struct scsi_lun *l)
{
	int ret = disk_ready(l);

	if (ret < 0)
		return ret;
	return (int64_t)(l->blocks * l->block_size);
}

/* Blocks per command. */
static uint32_t chunk_blocks(const struct scsi_lun *l)
{
	uint64_t n = scsi_data_room(l) / l->block_size;

	return n > UINT16_MAX ? UINT16_MAX : (uint32_t)n;
}

/* One command's share of a request: whole blocks covering its next bytes. */
struct span {
	uint64_t lba;		/* first block */
	uint64_t skip;		/* bytes of it before the request's */
	uint64_t blocks;	/* blocks in this command */
	uint64_t n;		/* the request's bytes in them */
};

static void span_at(const struct scsi_lun *l, uint64_t pos, uint64_t left,
		    struct span *sp)
{
	uint64_t want;

	sp->lba = pos / l->block_size;
	sp->skip = pos % l->block_size;
	want = sp->skip + left;
	sp->blocks = (want + l->block_size - 1) / l->block_size;
	if (sp->blocks > chunk_blocks(l))
		sp->blocks = chunk_blocks(l);
	sp->n = sp->blocks * l->block_size - sp->skip;
	if (sp->n > left)
		sp->n = left;
}

/* The first command's failure is the answer; a later one ends it short. */
static int64_t done(uint64_t count, int err)
{
	return count ? (int64_t)count : err;
}

/* Clamp [off, off + *len) to the medium: 0, or 1 when nothing is left. */
static int clamp(const struct scsi_lun *l, uint64_t off, uint64_t *len)
{
	uint64_t size = l->blocks * l->block_size;

	if (off >= size)
		return 1;
	if (*len > size - off)
		*len = size - off;
	return 0;
}

/*
 * Read the blocks under the first bytes of [off, off + len) that one
 * command holds into the transport memory: how many of the request's
 * bytes are there, from scsi_data(l) + *skip on; 0 at or past the end of
 * the medium; or -errno.
 */
static int64_t read_chunk(struct scsi_lun *l, uint64_t off, uint64_t len,
			  uint64_t *skip)
{
	struct span sp;
	int ret;

	ret = disk_ready(l);
	if (ret < 0)
		return ret;
	if (clamp(l, off, &len) || !len)
		return 0;
	span_at(l, off, len, &sp);
	ret = scsi_rw(l, 0, sp.lba, (uint32_t)sp.blocks, scsi_data(l));
	if (ret < 0)
		return ret;
	*skip = sp.skip;
	return (int64_t)sp.n;
}

int64_t disk_read(struct scsi_lun *l, void *buf, uint64_t len, uint64_t off)
{
	uint8_t *dst = buf;
	uint64_t count = 0, skip;
	int64_t n;

	/* Once even for len 0, which still reports a LUN that is not ready. */
	do {
		n = read_chunk(l, off + count, len - count, &skip);
		if (n <= 0)
			return done(count, (int)n);
		memcpy(dst + count, (uint8_t *)scsi_data(l) + skip, (size_t)n);
		count += (uint64_t)n;
	} while (count < len);
	return (int64_t)count;
}

int64_t disk_read_ref(struct scsi_lun *l, const void **src, uint64_t len,
		      uint64_t off)
{
	uint64_t skip;
	int64_t n;

	n = read_chunk(l, off, len, &skip);
	if (n > 0)
		*src = (const uint8_t *)scsi_data(l) + skip;
	return n;
}

int64_t disk_write(struct scsi_lun *l, const void *buf, uint64_t len,
		   uint64_t off)
{
	const uint8_t *src = buf;
	uint64_t count = 0;
	int ret;

	ret = disk_ready(l);
	if (ret < 0)
		return ret;
	if (l->write_protect)
		return -EROFS;
	if (!len)
		return 0;
	if (clamp(l, off, &len))
		return -ENOSPC;
	while (count < len) {
		uint8_t *data = scsi_data(l);
		uint64_t last, tail;
		struct span sp;

		span_at(l, off + count, len - count, &sp);
		last = sp.blocks - 1;
		tail = sp.blocks * l->block_size - sp.skip - sp.n;
		/* A partial first or last block: its other bytes are kept. */
		if (sp.skip) {
			ret = scsi_rw(l, 0, sp.lba, 1, data);
			if (ret < 0)
				return done(count, ret);
		}
		if (tail && (last || !sp.skip)) {
			ret = scsi_rw(l, 0, sp.lba + last, 1,
				      data + last * l->block_size);
			if (ret < 0)
				return done(count, ret);
		}
		memcpy(data + sp.skip, src + count, sp.n);
		ret = scsi_rw(l, 1, sp.lba, (uint32_t)sp.blocks, data);
		if (ret < 0)
			return done(count, ret);
		count += sp.n;
	}
	return (int64_t)count;
}

int disk_sync(struct scsi_lun *l)
{
	int ret = disk_ready(l);

	return ret < 0 ? ret : scsi_sync_cache(l);
}
