// SPDX-License-Identifier: MIT
/*
 * Host tests of usbscsid's Bulk-Only, SCSI and byte-I/O layers against
 * the simulated device (usbscsid/sim.c): data, every LUN, write protect,
 * media changes, and each BOT failure with the recovery the
 * specification asks for.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bot.h"
#include "disk.h"
#include "scsi.h"
#include "sim.h"
#include "rxu_usb.h"
#include "usb.h"
#include "tap.h"

#define BS		512u
#define BLOCKS		256u		/* 128 KiB per LUN */
#define MEM		(SCSI_DATA_OFFSET + 8 * BS)	/* 8 blocks a command */

struct rig {
	struct sim sim;
	struct bot bot;
	struct scsi_lun lun[2];
	uint8_t *img[2];
};

static void fill(uint8_t *p, size_t len, unsigned long long seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)tap_rand(&seed);
}

static void rig_free(struct rig *r)
{
	sim_fini(&r->sim);
	free(r->img[0]);
	free(r->img[1]);
}

/* A device with nluns LUNs of random contents, bound but not probed. */
static int rig_make(struct rig *r, int nluns, size_t mem)
{
	int i;

	memset(r, 0, sizeof(*r));
	CHECK_EQ(sim_init(&r->sim, mem), 0);
	for (i = 0; i < nluns; i++) {
		r->img[i] = malloc(BLOCKS * BS);
		CHECK(r->img[i]);
		fill(r->img[i], BLOCKS * BS, 1000 + i);
		CHECK_EQ(sim_add_lun(&r->sim, r->img[i], BLOCKS, BS), i);
	}
	CHECK_EQ(bot_init(&r->bot, &r->sim.x), 0);
	return 0;
}

static int rig_up(struct rig *r, int nluns)
{
	int i;

	TRY(rig_make(r, nluns, MEM));
	for (i = 0; i < nluns; i++)
		CHECK_EQ(scsi_probe(&r->lun[i], &r->bot, (uint8_t)i), 0);
	return 0;
}

static int test_probe(void)
{
	struct rig r;
	struct scsi_lun *l = &r.lun[0];

	TRY(rig_up(&r, 1));
	CHECK_EQ(r.bot.max_lun, 0);
	CHECK_EQ(l->present, 1);
	CHECK_EQ(l->blocks, BLOCKS);	/* last LBA + 1 */
	CHECK_EQ(l->block_size, BS);
	CHECK_EQ(l->use16, 0);
	CHECK_EQ(l->write_protect, 0);
	CHECK_EQ(l->removable, 1);
	CHECK(!strcmp(l->vendor, "RXUSIM"));
	CHECK(!strcmp(l->product, "SIMULATED DISK"));
	CHECK(!strcmp(l->revision, "1.0"));
	CHECK_EQ(disk_size(l), BLOCKS * BS);
	CHECK_EQ(r.sim.st.resets, 0);
	rig_free(&r);
	return 0;
}

static int test_capacity16(void)
{
	struct rig r;
	uint8_t buf[BS];

	TRY(rig_make(&r, 1, MEM));
	r.sim.lun[0].capacity16 = 1;
	CHECK_EQ(scsi_probe(&r.lun[0], &r.bot, 0), 0);
	CHECK_EQ(r.lun[0].use16, 1);
	CHECK_EQ(r.lun[0].blocks, BLOCKS);
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 3 * BS), BS);
	CHECK(!memcmp(buf, r.img[0] + 3 * BS, BS));
	CHECK_EQ(r.sim.st.read16, 1);	/* and READ(16) after it */
	rig_free(&r);
	return 0;
}

/* Random reads and writes at any offset and length, against a copy. */
static int test_unaligned(void)
{
	unsigned long long seed = 42;
	uint8_t *ref = malloc(BLOCKS * BS), *buf = malloc(BLOCKS * BS);
	struct rig r;
	int i;

	CHECK(ref && buf);
	TRY(rig_up(&r, 1));
	memcpy(ref, r.img[0], BLOCKS * BS);
	for (i = 0; i < 400; i++) {
		uint64_t off = tap_rand(&seed) % (BLOCKS * BS);
		uint64_t len = 1 + tap_rand(&seed) % (20 * BS);
		uint64_t want = len < BLOCKS * BS - off ? len : BLOCKS * BS - off;

		tap_context("op %d: off %llu len %llu", i,
			    (unsigned long long)off, (unsigned long long)len);
		if (i & 1) {
			fill(buf, len, seed);
			CHECK_EQ(disk_write(&r.lun[0], buf, len, off), want);
			memcpy(ref + off, buf, want);
		} else {
			CHECK_EQ(disk_read(&r.lun[0], buf, len, off), want);
			CHECK(!memcmp(buf, ref + off, want));
		}
	}
	CHECK(!memcmp(r.img[0], ref, BLOCKS * BS));
	CHECK_EQ(r.sim.st.resets, 0);
	rig_free(&r);
	free(ref);
	free(buf);
	return 0;
}

static int test_edges(void)
{
	uint8_t buf[2 * BS];
	struct rig r;

	TRY(rig_up(&r, 1));
	memset(buf, 0x5a, sizeof(buf));
	CHECK_EQ(disk_read(&r.lun[0], buf, 10, BLOCKS * BS), 0);
	CHECK_EQ(disk_read(&r.lun[0], buf, 10, UINT64_MAX - 5), 0);
	CHECK_EQ(disk_read(&r.lun[0], buf, 0, 0), 0);
	CHECK_EQ(disk_read(&r.lun[0], buf, sizeof(buf), BLOCKS * BS - 100),
		 100);
	CHECK_EQ(disk_write(&r.lun[0], buf, 10, BLOCKS * BS), -ENOSPC);
	CHECK_EQ(disk_write(&r.lun[0], buf, sizeof(buf), BLOCKS * BS - 7), 7);
	CHECK(!memcmp(r.img[0] + BLOCKS * BS - 7, buf, 7));
	CHECK_EQ(disk_write(&r.lun[0], buf, 0, 5), 0);
	rig_free(&r);
	return 0;
}

static int test_two_luns(void)
{
	uint8_t a[BS], b[BS];
	struct rig r;

	TRY(rig_up(&r, 2));
	CHECK_EQ(r.bot.max_lun, 1);
	memset(a, 0xaa, BS);
	CHECK_EQ(disk_write(&r.lun[1], a, BS, 5 * BS), BS);
	CHECK(!memcmp(r.img[1] + 5 * BS, a, BS));
	CHECK(memcmp(r.img[0] + 5 * BS, a, BS));
	CHECK_EQ(disk_read(&r.lun[0], b, BS, 5 * BS), BS);
	CHECK(!memcmp(b, r.img[0] + 5 * BS, BS));
	rig_free(&r);
	return 0;
}

static int test_max_lun_stall(void)
{
	struct rig r;

	memset(&r, 0, sizeof(r));
	CHECK_EQ(sim_init(&r.sim, MEM), 0);
	r.img[0] = calloc(BLOCKS, BS);
	r.img[1] = calloc(BLOCKS, BS);
	CHECK_EQ(sim_add_lun(&r.sim, r.img[0], BLOCKS, BS), 0);
	CHECK_EQ(sim_add_lun(&r.sim, r.img[1], BLOCKS, BS), 1);
	r.sim.f.stall_max_lun = 1;
	CHECK_EQ(bot_init(&r.bot, &r.sim.x), 0);
	CHECK_EQ(r.bot.max_lun, 0);	/* a stall means one LUN */
	rig_free(&r);
	return 0;
}

static int test_write_protect(void)
{
	uint8_t buf[BS], keep[BS];
	struct rig r;

	TRY(rig_make(&r, 1, MEM));
	r.sim.lun[0].write_protect = 1;
	CHECK_EQ(scsi_probe(&r.lun[0], &r.bot, 0), 0);
	CHECK_EQ(r.lun[0].write_protect, 1);
	memcpy(keep, r.img[0], BS);
	memset(buf, 1, BS);
	CHECK_EQ(disk_write(&r.lun[0], buf, BS, 0), -EROFS);
	/* the device says so too, when asked regardless */
	r.lun[0].write_protect = 0;
	CHECK_EQ(disk_write(&r.lun[0], buf, BS, 0), -EROFS);
	CHECK_EQ(r.lun[0].sense.key, SCSI_SK_DATA_PROTECT);
	CHECK_EQ(r.lun[0].sense.asc, SCSI_ASC_WRITE_PROTECT);
	CHECK(!memcmp(keep, r.img[0], BS));
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 0), BS);
	rig_free(&r);
	return 0;
}

static int test_descriptor_sense(void)
{
	uint8_t buf[BS];
	struct rig r;

	TRY(rig_up(&r, 1));
	r.sim.lun[0].descriptor_sense = 1;
	r.sim.lun[0].write_protect = 1;
	CHECK_EQ(disk_write(&r.lun[0], buf, BS, 0), -EROFS);
	CHECK_EQ(r.lun[0].sense.response, 0x72);
	CHECK_EQ(r.lun[0].sense.key, SCSI_SK_DATA_PROTECT);
	CHECK_EQ(r.lun[0].sense.asc, SCSI_ASC_WRITE_PROTECT);
	rig_free(&r);
	return 0;
}

static int test_sense_decode(void)
{
	uint8_t fixed[18] = { 0xf0, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0,
			      0x28, 0x01 };
	uint8_t desc[8] = { 0x73, 0x03, 0x11, 0x02, 0, 0, 0, 0 };
	uint8_t bad[4] = { 0x7f, 1, 2, 3 };
	struct scsi_sense s;

	CHECK_EQ(scsi_sense_decode(fixed, sizeof(fixed), &s), 0);
	CHECK_EQ(s.response, 0x70);	/* the VALID bit is not the code */
	CHECK_EQ(s.key, 6);
	CHECK_EQ(s.asc, 0x28);
	CHECK_EQ(s.ascq, 1);
	fixed[7] = 0;			/* no additional bytes: no ASC */
	CHECK_EQ(scsi_sense_decode(fixed, sizeof(fixed), &s), 0);
	CHECK_EQ(s.asc, 0);
	CHECK_EQ(scsi_sense_decode(fixed, 2, &s), -EINVAL);
	CHECK_EQ(scsi_sense_decode(desc, sizeof(desc), &s), 0);
	CHECK_EQ(s.response, 0x73);
	CHECK_EQ(s.key, 3);
	CHECK_EQ(s.asc, 0x11);
	CHECK_EQ(s.ascq, 2);
	CHECK_EQ(scsi_sense_errno(&s), -EIO);
	CHECK_EQ(scsi_sense_decode(desc, 3, &s), -EINVAL);
	CHECK_EQ(scsi_sense_decode(bad, sizeof(bad), &s), -EINVAL);
	CHECK_EQ(scsi_sense_decode(bad, 0, &s), -EINVAL);
	s.key = SCSI_SK_NOT_READY;
	s.asc = SCSI_ASC_NO_MEDIUM;
	CHECK_EQ(scsi_sense_errno(&s), -ENOMEDIUM);
	s.key = SCSI_SK_DATA_PROTECT;
	CHECK_EQ(scsi_sense_errno(&s), -EROFS);
	s.key = SCSI_SK_ILLEGAL_REQUEST;
	s.asc = SCSI_ASC_LBA_RANGE;
	CHECK_EQ(scsi_sense_errno(&s), -EINVAL);
	s.asc = 0x20;
	CHECK_EQ(scsi_sense_errno(&s), -EOPNOTSUPP);
	return 0;
}

/* A unit attention is retried, and the capacity read again. */
static int test_unit_attention(void)
{
	uint8_t buf[BS];
	struct rig r;

	TRY(rig_up(&r, 1));
	r.sim.lun[0].blocks = BLOCKS / 2;	/* a smaller medium ... */
	r.sim.lun[0].unit_attention = 1;	/* ... was put in */
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 0), BS);
	CHECK_EQ(r.lun[0].changed, 1);
	CHECK_EQ(disk_size(&r.lun[0]), BLOCKS / 2 * BS);
	CHECK_EQ(r.lun[0].changed, 0);
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, BLOCKS / 2 * BS), 0);
	rig_free(&r);
	return 0;
}

static int test_no_medium(void)
{
	uint8_t buf[BS];
	struct rig r;

	TRY(rig_make(&r, 1, MEM));
	r.sim.lun[0].no_medium = 1;
	CHECK_EQ(scsi_probe(&r.lun[0], &r.bot, 0), 0);
	CHECK_EQ(r.lun[0].present, 0);
	CHECK_EQ(disk_size(&r.lun[0]), -ENOMEDIUM);
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 0), -ENOMEDIUM);
	CHECK_EQ(disk_write(&r.lun[0], buf, BS, 0), -ENOMEDIUM);
	/* inserted: NOT READY goes, a unit attention comes */
	r.sim.lun[0].no_medium = 0;
	r.sim.lun[0].unit_attention = 1;
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, BS), BS);
	CHECK(!memcmp(buf, r.img[0] + BS, BS));
	/* removed again while probed */
	r.sim.lun[0].no_medium = 1;
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, BS), -ENOMEDIUM);
	CHECK_EQ(r.lun[0].present, 0);
	/* a smaller medium in: its size, not the old one's, at once */
	r.sim.lun[0].no_medium = 0;
	r.sim.lun[0].unit_attention = 1;
	r.sim.lun[0].blocks /= 2;
	CHECK_EQ(disk_size(&r.lun[0]), (int64_t)r.sim.lun[0].blocks * BS);
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, r.sim.lun[0].blocks * BS), 0);
	rig_free(&r);
	return 0;
}

/* LUN 1 without a unit, of kind how: skipped, LUN 0 served. */
static int no_unit_case(int how)
{
	uint8_t buf[BS];
	struct rig r;

	TRY(rig_make(&r, 2, MEM));
	r.sim.lun[1].no_unit = how;
	CHECK_EQ(disk_probe_all(r.lun, 2, &r.bot), 1);
	CHECK_EQ(r.lun[0].absent, 0);
	CHECK_EQ(r.lun[0].present, 1);
	CHECK_EQ(r.lun[1].absent, 1);
	CHECK_EQ(r.lun[1].present, 0);
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 3 * BS), BS);
	CHECK(!memcmp(buf, r.img[0] + 3 * BS, BS));
	CHECK_EQ(disk_read(&r.lun[1], buf, BS, 0), -ENXIO);
	CHECK_EQ(disk_write(&r.lun[1], buf, BS, 0), -ENXIO);
	CHECK_EQ(disk_size(&r.lun[1]), -ENXIO);
	/* the device answers LUN 0 as before after the refusals */
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 0), BS);
	CHECK(!memcmp(buf, r.img[0], BS));
	/* LUN 0 without one too: no unit at all */
	r.sim.lun[0].no_unit = how;
	CHECK_EQ(disk_probe_all(r.lun, 2, &r.bot), 0);
	CHECK_EQ(r.lun[0].absent, 1);
	rig_free(&r);
	return 0;
}

static int test_lun_unsupported(void)
{
	return no_unit_case(SIM_UNIT_UNSUPPORTED);
}

static int test_lun_qualifier(void)
{
	return no_unit_case(SIM_UNIT_NONE);
}

/*
 * LUN 1's unit attentions come back as LOGICAL UNIT NOT SUPPORTED, as
 * QEMU's usb-bot gives them: INQUIRY found a unit, so the probe and a
 * later read retry, and the LUN is served.
 */
static int test_lun_attention_as_unsupported(void)
{
	uint8_t buf[BS];
	struct rig r;

	TRY(rig_make(&r, 2, MEM));
	r.sim.lun[1].attention_as_unsupported = 1;
	r.sim.lun[1].unit_attention = 1;
	CHECK_EQ(disk_probe_all(r.lun, 2, &r.bot), 2);
	CHECK_EQ(r.lun[1].absent, 0);
	CHECK_EQ(r.lun[1].present, 1);
	CHECK_EQ(disk_size(&r.lun[1]), (int64_t)r.sim.lun[1].blocks * BS);
	r.sim.lun[1].unit_attention = 1;
	CHECK_EQ(disk_read(&r.lun[1], buf, BS, 2 * BS), BS);
	CHECK(!memcmp(buf, r.img[1] + 2 * BS, BS));
	CHECK_EQ(r.lun[1].changed, 1);
	CHECK_EQ(r.sim.lun[1].unit_attention, 0);
	rig_free(&r);
	return 0;
}

/* A LUN without a medium is a unit: listed, ENOMEDIUM, not skipped. */
static int test_lun_no_medium_kept(void)
{
	uint8_t buf[BS];
	struct rig r;

	TRY(rig_make(&r, 2, MEM));
	r.sim.lun[0].no_medium = 1;
	CHECK_EQ(disk_probe_all(r.lun, 2, &r.bot), 2);
	CHECK_EQ(r.lun[0].absent, 0);
	CHECK_EQ(r.lun[0].present, 0);
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 0), -ENOMEDIUM);
	CHECK_EQ(disk_read(&r.lun[1], buf, BS, 0), BS);
	CHECK(!memcmp(buf, r.img[1], BS));
	rig_free(&r);
	return 0;
}

static int test_becoming_ready(void)
{
	uint8_t buf[BS];
	struct rig r;

	TRY(rig_up(&r, 1));
	r.sim.lun[0].becoming_ready = 2;
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 0), BS);
	r.sim.lun[0].becoming_ready = 100;
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 0), -EIO);
	rig_free(&r);
	return 0;
}

/* A stalled CBW: reset recovery (IN cleared before OUT), then a retry. */
static int test_stall_cbw(void)
{
	uint8_t buf[BS];
	struct rig r;

	TRY(rig_up(&r, 1));
	r.sim.f.stall_cbw = 1;
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 7 * BS), BS);
	CHECK(!memcmp(buf, r.img[0] + 7 * BS, BS));
	CHECK_EQ(r.sim.st.resets, 1);
	CHECK_EQ(r.sim.st.clear_halts_in, 1);
	CHECK_EQ(r.sim.st.clear_halts_out, 1);
	CHECK_EQ(r.sim.st.clear_order, SIM_EP_IN << 8 | SIM_EP_OUT);
	CHECK_EQ(r.bot.stats.resets, 1);
	/* the test hook: the next CBW spoiled, refused, recovered */
	r.bot.spoil_cbw = r.bot.stats.commands + 1;
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 5 * BS), BS);
	CHECK(!memcmp(buf, r.img[0] + 5 * BS, BS));
	CHECK_EQ(r.bot.stats.resets, 2);
	CHECK_EQ(r.sim.st.resets, 2);
	CHECK_EQ(r.bot.spoil_cbw, 0);
	/* a device that keeps refusing: EIO, and it still works after */
	r.sim.f.stall_cbw = 100;
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 0), -EIO);
	r.sim.f.stall_cbw = 0;
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 0), BS);
	rig_free(&r);
	return 0;
}

/* A stalled data stage: that endpoint is cleared, no reset needed. */
static int test_stall_data(void)
{
	uint8_t buf[BS];
	struct rig r;

	TRY(rig_up(&r, 1));
	r.sim.f.stall_data = 1;
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 9 * BS), BS);
	CHECK(!memcmp(buf, r.img[0] + 9 * BS, BS));
	CHECK_EQ(r.sim.st.clear_halts_in, 1);
	CHECK_EQ(r.sim.st.resets, 0);
	memset(buf, 0x77, BS);
	r.sim.f.stall_data = 1;
	CHECK_EQ(disk_write(&r.lun[0], buf, BS, 9 * BS), BS);
	CHECK(!memcmp(buf, r.img[0] + 9 * BS, BS));
	CHECK_EQ(r.sim.st.clear_halts_out, 1);
	CHECK_EQ(r.sim.st.resets, 0);
	rig_free(&r);
	return 0;
}

/* A stalled CSW is cleared and read once more; twice is a reset. */
static int test_stall_csw(void)
{
	uint8_t buf[BS];
	struct rig r;

	TRY(rig_up(&r, 1));
	r.sim.f.stall_csw = 1;
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 0), BS);
	CHECK_EQ(r.sim.st.clear_halts_in, 1);
	CHECK_EQ(r.sim.st.resets, 0);
	r.sim.f.stall_csw = 2;
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 0), BS);
	CHECK_EQ(r.sim.st.resets, 1);
	rig_free(&r);
	return 0;
}

static int one_bad_csw(size_t off, const char *what)
{
	uint8_t buf[BS];
	struct rig r;
	int *fault;

	tap_context("%s", what);
	TRY(rig_up(&r, 1));
	fault = (int *)((char *)&r.sim + off);
	*fault = 1;
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 11 * BS), BS);
	CHECK(!memcmp(buf, r.img[0] + 11 * BS, BS));
	CHECK_EQ(r.sim.st.resets, 1);
	CHECK_EQ(r.sim.st.clear_halts_in, 1);
	CHECK_EQ(r.sim.st.clear_halts_out, 1);
	CHECK_EQ(*fault, 0);
	rig_free(&r);
	return 0;
}

#define FAULT(name) offsetof(struct sim, f.name)

/* Signature, tag, phase error, a residue beyond the data: reset, retry. */
static int test_bad_csw(void)
{
	TRY(one_bad_csw(FAULT(bad_signature), "bad signature"));
	TRY(one_bad_csw(FAULT(bad_tag), "bad tag"));
	TRY(one_bad_csw(FAULT(phase_error), "phase error"));
	TRY(one_bad_csw(FAULT(huge_residue), "residue > length"));
	return 0;
}

static int test_residue(void)
{
	uint8_t cdb[10] = { SCSI_READ_10, 0, 0, 0, 0, 1, 0, 0, 1, 0 };
	uint8_t *data;
	uint32_t residue;
	struct rig r;

	TRY(rig_up(&r, 1));
	data = scsi_data(&r.lun[0]);
	/* a short answer: passed, with the residue reported */
	r.sim.f.short_data = 1;
	CHECK_EQ(bot_command(&r.bot, 0, cdb, sizeof(cdb), 1, data, BS,
			     &residue), BOT_STATUS_PASSED);
	CHECK_EQ(residue, BS / 2);
	CHECK(!memcmp(data, r.img[0] + BS, BS / 2));
	/* Hi > Di: asked for more than the command moves */
	CHECK_EQ(bot_command(&r.bot, 0, cdb, sizeof(cdb), 1, data, 2 * BS,
			     &residue), BOT_STATUS_PASSED);
	CHECK_EQ(residue, BS);
	/* Hi < Di: a phase error, recovered */
	CHECK_EQ(bot_command(&r.bot, 0, cdb, sizeof(cdb), 1, data, BS / 2,
			     &residue), -EIO);
	CHECK_EQ(r.bot.stats.phase_errors, 1);
	CHECK_EQ(r.sim.st.resets, 1);
	/* a persistently short device: EIO from the byte layer */
	r.sim.f.short_data = 100;
	CHECK_EQ(disk_read(&r.lun[0], data + BS, BS, 0), -EIO);
	rig_free(&r);
	return 0;
}

static int test_bad_args(void)
{
	uint8_t cdb[16] = { SCSI_TEST_UNIT_READY };
	struct rig r;
	uint8_t *mem;

	TRY(rig_up(&r, 1));
	mem = r.sim.x.mem;
	CHECK_EQ(bot_command(&r.bot, 0, cdb, 0, 0, NULL, 0, NULL), -EINVAL);
	CHECK_EQ(bot_command(&r.bot, 0, cdb, 17, 0, NULL, 0, NULL), -EINVAL);
	CHECK_EQ(bot_command(&r.bot, 1, cdb, 6, 0, NULL, 0, NULL), -EINVAL);
	CHECK_EQ(bot_command(&r.bot, 0, cdb, 6, 1, mem, 8, NULL), -EINVAL);
	CHECK_EQ(bot_command(&r.bot, 0, cdb, 6, 1, NULL, 8, NULL), -EINVAL);
	CHECK_EQ(bot_command(&r.bot, 0, cdb, 6, 1, mem + MEM - 4, 8, NULL),
		 -EINVAL);
	CHECK_EQ(scsi_rw(&r.lun[0], 0, BLOCKS, 1, scsi_data(&r.lun[0])),
		 -EINVAL);
	CHECK_EQ(scsi_rw(&r.lun[0], 0, 0, 9, scsi_data(&r.lun[0])), -EINVAL);
	CHECK_EQ(scsi_rw(&r.lun[0], 0, 0, 0, scsi_data(&r.lun[0])), -EINVAL);
	CHECK_EQ(r.sim.st.cbws, 4);	/* the probe's four, nothing more */
	/* tags go up by one per command */
	CHECK_EQ(bot_command(&r.bot, 0, cdb, 6, 0, NULL, 0, NULL), 0);
	CHECK_EQ(r.sim.tag, r.bot.tag);
	CHECK_EQ(r.bot.tag, 5);
	CHECK_EQ(bot_init(&r.bot, NULL), -EINVAL);
	rig_free(&r);
	return 0;
}

static int test_detach(void)
{
	uint8_t *buf = malloc(64 * BS);
	struct rig r;

	CHECK(buf);
	TRY(rig_up(&r, 1));
	/* pulled in the middle of a long read: what was read, then ENODEV */
	r.sim.f.detach_after = r.sim.st.bulk + 3 * 3 + 1;
	CHECK_EQ(disk_read(&r.lun[0], buf, 64 * BS, 0), 3 * 8 * BS);
	CHECK_EQ(disk_read(&r.lun[0], buf, BS, 0), -ENODEV);
	CHECK_EQ(disk_write(&r.lun[0], buf, BS, 0), -ENODEV);
	CHECK_EQ(disk_sync(&r.lun[0]), -ENODEV);
	CHECK_EQ(bot_reset_recovery(&r.bot), -ENODEV);
	rig_free(&r);
	free(buf);
	return 0;
}

static int test_sync_start_stop(void)
{
	struct rig r;

	TRY(rig_up(&r, 1));
	CHECK_EQ(disk_sync(&r.lun[0]), 0);
	CHECK_EQ(r.sim.st.syncs, 1);
	CHECK_EQ(scsi_start_stop(&r.lun[0], 1, 0), 0);
	CHECK_EQ(r.sim.st.start_stops, 1);
	rig_free(&r);
	return 0;
}

/* QEMU usb-storage's descriptors: device, config, 08/06/50, 0x81, 0x02. */
static const uint8_t qemu_stick[] = {
	18, 1, 0x00, 0x02, 0, 0, 0, 64, 0xf4, 0x46, 0x01, 0x00, 0, 0, 1, 2,
	3, 1,
	9, 2, 32, 0, 1, 1, 0, 0xc0, 50,
	9, 4, 0, 0, 2, 0x08, 0x06, 0x50, 0,
	7, 5, 0x81, 2, 0x00, 0x02, 0,
	7, 5, 0x02, 2, 0x00, 0x02, 0,
};

static int test_descriptors(void)
{
	uint8_t d[128];
	struct usb_bot_iface b;
	size_t n = sizeof(qemu_stick);

	CHECK_EQ(usb_find_bot(qemu_stick, n, -1, &b), 0);
	CHECK_EQ(b.config, 1);
	CHECK_EQ(b.iface, 0);
	CHECK_EQ(b.ep_in, 0x81);
	CHECK_EQ(b.ep_out, 0x02);
	CHECK_EQ(usb_find_bot(qemu_stick, n, 0, &b), 0);
	CHECK_EQ(usb_find_bot(qemu_stick, n, 1, &b), -ENOENT);
	/* a HID interface first, then BOT as interface 1 with EPs 0x83/0x04 */
	memcpy(d, qemu_stick, 27);
	memcpy(d + 27, "\x09\x04\x00\x00\x01\x03\x01\x01\x00"
	       "\x07\x05\x85\x03\x08\x00\x0a"
	       "\x09\x04\x01\x00\x02\x08\x06\x50\x00"
	       "\x07\x05\x83\x02\x00\x02\x00"
	       "\x07\x05\x04\x02\x00\x02\x00", 39);
	CHECK_EQ(usb_find_bot(d, 66, -1, &b), 0);
	CHECK_EQ(b.iface, 1);
	CHECK_EQ(b.ep_in, 0x83);
	CHECK_EQ(b.ep_out, 0x04);
	/* UAS (protocol 0x62) is not ours; nor is one bulk endpoint */
	memcpy(d, qemu_stick, n);
	d[34] = 0x62;
	CHECK_EQ(usb_find_bot(d, n, -1, &b), -ENOENT);
	CHECK_EQ(usb_find_bot(qemu_stick, n - 7, -1, &b), -ENOENT);
	/* malformed: a zero length, one past the end, no device descriptor */
	memcpy(d, qemu_stick, n);
	d[36] = 0;
	CHECK_EQ(usb_find_bot(d, n, -1, &b), -EINVAL);
	d[36] = 40;
	CHECK_EQ(usb_find_bot(d, n, -1, &b), -EINVAL);
	CHECK_EQ(usb_find_bot(qemu_stick, 17, -1, &b), -EINVAL);
	CHECK_EQ(usb_find_bot(qemu_stick + 1, n - 1, -1, &b), -EINVAL);
	return 0;
}

static int test_port_ids(void)
{
	uint32_t id;

	CHECK_EQ(usb_port_id("port5", &id), 0);
	CHECK_EQ(id, RXU_USB_PORT_ID(5, 0));
	CHECK_EQ(usb_port_id("port5.1.3", &id), 0);
	CHECK_EQ(id, RXU_USB_PORT_ID(5, 0x31));
	CHECK_EQ(usb_port_id("port12.15.1.2.3.4", &id), 0);
	CHECK_EQ(id, RXU_USB_PORT_ID(12, 0x4321f));
	CHECK_EQ(usb_port_id("port1.1.1.1.1.1.1", &id), -EINVAL);
	CHECK_EQ(usb_port_id("port0", &id), -EINVAL);
	CHECK_EQ(usb_port_id("port", &id), -EINVAL);
	CHECK_EQ(usb_port_id("port5.", &id), -EINVAL);
	CHECK_EQ(usb_port_id("port5.16", &id), -EINVAL);
	CHECK_EQ(usb_port_id("port256", &id), -EINVAL);
	CHECK_EQ(usb_port_id("Port5", &id), -EINVAL);
	CHECK_EQ(usb_port_id("port5x", &id), -EINVAL);
	return 0;
}

static const struct tap_test tests[] = {
	{ "probe: INQUIRY, capacity = last LBA + 1", test_probe },
	{ "READ CAPACITY(16) and READ(16) past 0xffffffff", test_capacity16 },
	{ "400 reads/writes at any offset and length", test_unaligned },
	{ "end of medium: 0, short, ENOSPC", test_edges },
	{ "two LUNs are two disks", test_two_luns },
	{ "Get Max LUN stalled: one LUN", test_max_lun_stall },
	{ "write protect: EROFS, data kept", test_write_protect },
	{ "descriptor-format sense", test_descriptor_sense },
	{ "sense decoding, both formats, errnos", test_sense_decode },
	{ "unit attention: retried, capacity re-read", test_unit_attention },
	{ "no medium: ENOMEDIUM, then inserted", test_no_medium },
	{ "LUN 1 not supported (25h): skipped, LUN 0 served", test_lun_unsupported },
	{ "LUN 1 with qualifier 011b: skipped, LUN 0 served", test_lun_qualifier },
	{ "LUN 1 attentions as 25h (QEMU): retried, served",
	  test_lun_attention_as_unsupported },
	{ "a LUN without a medium is kept: ENOMEDIUM", test_lun_no_medium_kept },
	{ "NOT READY becoming ready: retried", test_becoming_ready },
	{ "stalled CBW: reset recovery, IN then OUT", test_stall_cbw },
	{ "stalled data stage: clear halt", test_stall_data },
	{ "stalled CSW: cleared, read again", test_stall_csw },
	{ "bad CSW / phase error: reset recovery", test_bad_csw },
	{ "residue and the thirteen cases", test_residue },
	{ "bad arguments: EINVAL, nothing sent", test_bad_args },
	{ "detached mid-read: short, then ENODEV", test_detach },
	{ "SYNCHRONIZE CACHE, START STOP UNIT", test_sync_start_stop },
	{ "descriptors: the Bulk-Only interface's endpoints", test_descriptors },
	{ "port names to port ids", test_port_ids },
};

TAP_MAIN(tests)
