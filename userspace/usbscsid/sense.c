// SPDX-License-Identifier: MIT
/*
 * sense.c: sense data (SPC-4 4.5) in its two formats, and what each
 * sense key means to a file's user.
 *
 *   fixed (0x70 current, 0x71 deferred): key = byte 2 & 0xf,
 *     ASC = byte 12, ASCQ = byte 13 (present if byte 7, the additional
 *     length, reaches them)
 *   descriptor (0x72, 0x73): key = byte 1 & 0xf, ASC = byte 2,
 *     ASCQ = byte 3
 */
#include <errno.h>
#include <string.h>

#include "scsi.h"

int scsi_sense_decode(const uint8_t *buf, size_t len, struct scsi_sense *s)
{
	uint8_t code;

	memset(s, 0, sizeof(*s));
	if (len < 1)
		return -EINVAL;
	code = buf[0] & 0x7f;
	s->response = code;
	switch (code) {
	case 0x70:
	case 0x71:
		if (len < 3)
			return -EINVAL;
		s->key = buf[2] & 0xf;
		if (len >= 14 && 7u + buf[7] >= 13) {
			s->asc = buf[12];
			s->ascq = buf[13];
		}
		return 0;
	case 0x72:
	case 0x73:
		if (len < 4)
			return -EINVAL;
		s->key = buf[1] & 0xf;
		s->asc = buf[2];
		s->ascq = buf[3];
		return 0;
	default:
		return -EINVAL;
	}
}

int scsi_sense_errno(const struct scsi_sense *s)
{
	switch (s->key) {
	case SCSI_SK_NOT_READY:
		return s->asc == SCSI_ASC_NO_MEDIUM ? -ENOMEDIUM : -EIO;
	case SCSI_SK_ILLEGAL_REQUEST:
		if (s->asc == SCSI_ASC_LUN_UNSUPPORTED)
			return -ENXIO;	/* no such unit at this LUN */
		return s->asc == SCSI_ASC_LBA_RANGE ? -EINVAL : -EOPNOTSUPP;
	case SCSI_SK_DATA_PROTECT:
		return -EROFS;
	case SCSI_SK_UNIT_ATTENTION:
		return -EAGAIN;	/* only once retries have run out */
	default:
		return -EIO;
	}
}
