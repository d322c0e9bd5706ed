// SPDX-License-Identifier: MIT
/*
 * scsi.c: SCSI commands to one logical unit over Bulk-Only, with the
 * error handling of a careful host: REQUEST SENSE after every failed
 * command, unit attentions retried, capacity as last LBA + 1.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "scsi.h"

#define SCSI_RETRIES		4	/* unit attentions, not ready, aborted */
#define SCSI_READY_WAIT_NS	50000000L

static uint8_t *mem_at(const struct scsi_lun *l, size_t off)
{
	return (uint8_t *)l->bot->x->mem + off;
}

void *scsi_data(const struct scsi_lun *l)
{
	return mem_at(l, SCSI_DATA_OFFSET);
}

size_t scsi_data_room(const struct scsi_lun *l)
{
	size_t size = l->bot->x->mem_size;

	return size > SCSI_DATA_OFFSET ? size - SCSI_DATA_OFFSET : 0;
}

static int request_sense(struct scsi_lun *l)
{
	uint8_t cdb[6] = { SCSI_REQUEST_SENSE, 0, 0, 0, SCSI_SENSE_LEN, 0 };
	uint8_t *buf = mem_at(l, SCSI_SENSE_OFFSET);
	uint32_t residue;
	int ret;

	memset(buf, 0, SCSI_SENSE_LEN);
	ret = bot_command(l->bot, l->lun, cdb, sizeof(cdb), 1, buf,
			  SCSI_SENSE_LEN, &residue);
	if (ret < 0)
		return ret;
	if (ret != BOT_STATUS_PASSED)
		return -EIO;
	return scsi_sense_decode(buf, SCSI_SENSE_LEN - residue, &l->sense) ?
	       -EIO : 0;
}

static void pause_briefly(void)
{
	struct timespec ts = { 0, SCSI_READY_WAIT_NS };

	nanosleep(&ts, NULL);
}

int scsi_exec(struct scsi_lun *l, const uint8_t *cdb, uint8_t cdb_len,
	      int dir_in, void *data, uint32_t len, uint32_t *residue)
{
	int attempt, err = -EIO;

	for (attempt = 0; attempt <= SCSI_RETRIES; attempt++) {
		uint32_t left;
		int ret;

		ret = bot_command(l->bot, l->lun, cdb, cdb_len, dir_in, data,
				  len, &left);
		if (residue)
			*residue = left;
		if (ret == -EIO) {
			/* recovered by reset recovery: the command did not run */
			err = ret;
			continue;
		}
		if (ret < 0)
			return ret;
		if (ret == BOT_STATUS_PASSED) {
			if (!left || residue)
				return 0;
			err = -EIO;	/* a short data stage: try again */
			continue;
		}
		ret = request_sense(l);
		if (ret < 0)
			return ret;
		err = scsi_sense_errno(&l->sense);
		switch (l->sense.key) {
		case SCSI_SK_RECOVERED:
			return left && !residue ? -EIO : 0;
		case SCSI_SK_UNIT_ATTENTION:
			l->changed = 1;
			break;
		case SCSI_SK_NOT_READY:
			/* No medium: the next call probes for a new one. */
			if (err == -ENOMEDIUM)
				l->present = 0;
			if (l->sense.asc != SCSI_ASC_NOT_READY)
				return err;
			pause_briefly();
			break;
		case SCSI_SK_ILLEGAL_REQUEST:
			/*
			 * INQUIRY found a unit here, so the sense is not the
			 * unit's own: it stands in for a unit attention.
			 */
			if (l->sense.asc != SCSI_ASC_LUN_UNSUPPORTED ||
			    !l->unit_seen)
				return err;
			l->changed = 1;
			break;
		case SCSI_SK_ABORTED:
			break;
		default:
			return err;
		}
	}
	return err;
}

int scsi_test_unit_ready(struct scsi_lun *l)
{
	uint8_t cdb[6] = { SCSI_TEST_UNIT_READY };

	return scsi_exec(l, cdb, sizeof(cdb), 0, NULL, 0, NULL);
}

static void copy_text(char *dst, const uint8_t *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
	while (len && dst[len - 1] == ' ')
		dst[--len] = '\0';
}

int scsi_inquiry(struct scsi_lun *l)
{
	uint8_t cdb[6] = { SCSI_INQUIRY, 0, 0, 0, 36, 0 };
	uint8_t *buf = mem_at(l, SCSI_SMALL_OFFSET);
	uint32_t residue;
	int ret;

	memset(buf, 0, 36);
	ret = scsi_exec(l, cdb, sizeof(cdb), 1, buf, 36, &residue);
	if (ret < 0)
		return ret;
	if (residue > 36 - 5)
		return -EIO;	/* not even the standard header */
	/* Peripheral qualifier 011b: no unit can be at this LUN. */
	if ((buf[0] >> 5) == 3)
		return -ENXIO;
	l->unit_seen = 1;
	l->device_type = buf[0] & 0x1f;
	l->removable = !!(buf[1] & 0x80);
	copy_text(l->vendor, buf + 8, 8);
	copy_text(l->product, buf + 16, 16);
	copy_text(l->revision, buf + 32, 4);
	return 0;
}

static int read_capacity_16(struct scsi_lun *l)
{
	uint8_t cdb[16] = { SCSI_SERVICE_ACTION_IN, SCSI_SA_READ_CAPACITY };
	uint8_t *buf = mem_at(l, SCSI_SMALL_OFFSET);
	uint64_t last;
	int ret;

	put_be32(cdb + 10, 32);
	ret = scsi_exec(l, cdb, sizeof(cdb), 1, buf, 32, NULL);
	if (ret < 0)
		return ret;
	last = get_be64(buf);
	if (last == UINT64_MAX)
		return -EIO;
	l->blocks = last + 1;
	l->block_size = get_be32(buf + 8);
	l->use16 = 1;
	return 0;
}

int scsi_read_capacity(struct scsi_lun *l)
{
	uint8_t cdb[10] = { SCSI_READ_CAPACITY_10 };
	uint8_t *buf = mem_at(l, SCSI_SMALL_OFFSET);
	uint32_t last;
	int ret;

	ret = scsi_exec(l, cdb, sizeof(cdb), 1, buf, 8, NULL);
	if (ret < 0)
		return ret;
	last = get_be32(buf);
	l->block_size = get_be32(buf + 4);
	if (last == UINT32_MAX) {
		ret = read_capacity_16(l);
		if (ret < 0)
			return ret;
	} else {
		l->blocks = (uint64_t)last + 1;	/* the last LBA, not a count */
		l->use16 = 0;
	}
	/* A block size the data memory cannot hold is not served. */
	if (l->block_size < 512 || l->block_size > 65536 ||
	    (l->block_size & (l->block_size - 1)) ||
	    l->block_size > scsi_data_room(l))
		return -EOPNOTSUPP;
	return 0;
}

int scsi_mode_sense_wp(struct scsi_lun *l)
{
	/* All pages, current values; only the header is needed. */
	uint8_t cdb[6] = { SCSI_MODE_SENSE_6, 0, 0x3f, 0, SCSI_SMALL_LEN, 0 };
	uint8_t *buf = mem_at(l, SCSI_SMALL_OFFSET);
	uint32_t residue;
	int ret;

	memset(buf, 0, SCSI_SMALL_LEN);
	ret = scsi_exec(l, cdb, sizeof(cdb), 1, buf, SCSI_SMALL_LEN, &residue);
	/* Not every stick knows MODE SENSE(6): then it is taken as writable. */
	if (ret == -EOPNOTSUPP) {
		l->write_protect = 0;
		return 0;
	}
	if (ret < 0)
		return ret;
	if (SCSI_SMALL_LEN - residue < 4)
		return -EIO;
	/* Device-specific parameter of a direct-access device: bit 7 WP. */
	l->write_protect = !!(buf[2] & 0x80);
	return 0;
}

int scsi_rw(struct scsi_lun *l, int write, uint64_t lba, uint32_t count,
	    void *data)
{
	uint64_t bytes = (uint64_t)count * l->block_size;
	uint8_t *first = scsi_data(l);
	uint8_t cdb[16] = { 0 };
	uint8_t len;

	if (!count || (uint8_t *)data < first ||
	    bytes > scsi_data_room(l) - (size_t)((uint8_t *)data - first) ||
	    bytes > UINT32_MAX ||
	    lba > l->blocks || count > l->blocks - lba)
		return -EINVAL;
	if (l->use16 || lba + count > UINT32_MAX || count > UINT16_MAX) {
		cdb[0] = write ? SCSI_WRITE_16 : SCSI_READ_16;
		put_be64(cdb + 2, lba);
		put_be32(cdb + 10, count);
		len = 16;
	} else {
		cdb[0] = write ? SCSI_WRITE_10 : SCSI_READ_10;
		put_be32(cdb + 2, (uint32_t)lba);
		put_be16(cdb + 7, (uint16_t)count);
		len = 10;
	}
	return scsi_exec(l, cdb, len, !write, data, (uint32_t)bytes, NULL);
}

int scsi_sync_cache(struct scsi_lun *l)
{
	uint8_t cdb[10] = { SCSI_SYNC_CACHE_10 };	/* the whole medium */
	int ret = scsi_exec(l, cdb, sizeof(cdb), 0, NULL, 0, NULL);

	/* A stick without a write cache may not know the command. */
	return ret == -EOPNOTSUPP ? 0 : ret;
}

int scsi_start_stop(struct scsi_lun *l, int start, int load_eject)
{
	uint8_t cdb[6] = { SCSI_START_STOP_UNIT };

	cdb[4] = (uint8_t)((start ? 1 : 0) | (load_eject ? 2 : 0));
	return scsi_exec(l, cdb, sizeof(cdb), 0, NULL, 0, NULL);
}

int scsi_probe(struct scsi_lun *l, struct bot *b, uint8_t lun)
{
	int ret;

	memset(l, 0, sizeof(*l));
	l->bot = b;
	l->lun = lun;
	ret = scsi_inquiry(l);
	if (ret < 0)
		goto fail;
	ret = scsi_test_unit_ready(l);
	if (ret == -ENOMEDIUM || ret == -EIO) {
		l->changed = 0;
		return 0;	/* no medium (yet): present stays 0 */
	}
	if (ret < 0)
		goto fail;
	ret = scsi_read_capacity(l);
	if (ret < 0)
		goto fail;
	ret = scsi_mode_sense_wp(l);
	if (ret < 0)
		goto fail;
	l->present = 1;
	l->changed = 0;
	return 0;
fail:
	l->absent = ret == -ENXIO;
	return ret;
}
