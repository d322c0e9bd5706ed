// SPDX-License-Identifier: MIT
/*
 * Host tests of lib/events.c without the kernel module:
 *  - the CQE predicates on hand-made CQEs, and on a CQE32 popped through
 *    rxu_pop_cqe() from a fake 32-bit instance (the mask survives the
 *    widening);
 *  - the SQE helpers, field by field (every field an opcode does not use
 *    must be zero, or the module answers EINVAL);
 *  - the event: queue calls against a pipe standing in for the queue:
 *    what register writes is read back from the pipe, and records
 *    written into the pipe come out of rxu_event_queue_read(), including
 *    the errors (-EBADF, -EAGAIN, -EIO on a torn record) with errno kept.
 * The module's own behaviour is tested in the QEMU guest (selftests/).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rxu.h"
#include "tap.h"

#define ERRNO_SENTINEL	4242

/* A CQE64 with only flags and status set. */
static struct rxu_cqe64 cqe_with(uint64_t flags, uint64_t status)
{
	return (struct rxu_cqe64){
		.user_data = 7, .status = status, .flags = flags,
	};
}

static int test_status_cqe(void)
{
	struct rxu_cqe64 c = cqe_with(0, 0);

	CHECK(!rxu_cqe_is_event(&c));
	CHECK(!rxu_cqe_is_last_update(&c));
	CHECK_EQ(rxu_cqe_event_mask(&c), 0);
	c = cqe_with(0, (uint64_t)-EBADF);
	CHECK(!rxu_cqe_is_event(&c));
	CHECK_EQ(rxu_cqe_result(&c), -EBADF);
	return 0;
}

static int test_event_cqe(void)
{
	static const uint32_t masks[] = {
		RXU_EVENT_READ, RXU_EVENT_WRITE, RXU_EVENT_IO_URING,
		RXU_EVENT_READ | RXU_EVENT_WRITE, RXU_EVENT_ALL,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(masks); i++) {
		struct rxu_cqe64 c = cqe_with(RXU_CQE_EVENT |
					      (uint64_t)masks[i] << RXU_CQE_EVENT_SHIFT,
					      5);

		tap_context("mask %#x", masks[i]);
		CHECK(rxu_cqe_is_event(&c));
		CHECK(!rxu_cqe_is_last_update(&c));
		CHECK_EQ(rxu_cqe_event_mask(&c), masks[i]);
		CHECK_EQ(rxu_cqe_result(&c), 5);
	}
	return 0;
}

static int test_last_update_cqe(void)
{
	struct rxu_cqe64 c = cqe_with(RXU_CQE_LAST_UPDATE, 0);

	CHECK(rxu_cqe_is_last_update(&c));
	CHECK(!rxu_cqe_is_event(&c));
	CHECK_EQ(rxu_cqe_event_mask(&c), 0);
	/* Both bits at once: each predicate looks at its own bit only. */
	c = cqe_with(RXU_CQE_LAST_UPDATE | RXU_CQE_EVENT |
		     (uint64_t)RXU_EVENT_WRITE << RXU_CQE_EVENT_SHIFT, 3);
	CHECK(rxu_cqe_is_last_update(&c));
	CHECK(rxu_cqe_is_event(&c));
	CHECK_EQ(rxu_cqe_event_mask(&c), RXU_EVENT_WRITE);
	return 0;
}

/* The mask is everything above the low byte, not just the known bits. */
static int test_event_mask_width(void)
{
	struct rxu_cqe64 c = cqe_with(RXU_CQE_EVENT | 0xFFFFFF00ULL, 0);

	CHECK_EQ(rxu_cqe_event_mask(&c), 0xFFFFFFu);
	c = cqe_with(RXU_CQE_EVENT | RXU_CQE_PASS_FD | 0x80ULL, 0);
	CHECK_EQ(rxu_cqe_event_mask(&c), 0);
	return 0;
}

/* An event CQE32 popped from a 32-bit instance keeps flags and status. */
static int test_event_cqe32_pop(void)
{
	struct rxu_ring_header *hdr = calloc(1, sizeof(*hdr));
	struct rxu_cqe32 *slots = calloc(4, sizeof(*slots));
	struct rxu_instance in = { .fd = -1 };
	struct rxu_cqe32 in32 = {
		.user_data = 0x11, .status = 9,
		.flags = RXU_CQE_EVENT |
			 (RXU_EVENT_READ | RXU_EVENT_WRITE) << RXU_CQE_EVENT_SHIFT,
	};
	struct rxu_cqe64 out;
	int ret = 1;

	if (!hdr || !slots)
		goto out;
	rxu_ring_header_reset(hdr, 4);
	in.create_flags = RXU_CREATE_BITS_32;
	if (rxu_ring_init(&in.cq, hdr, slots, 4, sizeof(*slots)) ||
	    rxu_ring_push(&in.cq, &in32) || rxu_pop_cqe(&in, &out))
		goto out;
	if (!rxu_cqe_is_event(&out) || rxu_cqe_is_last_update(&out) ||
	    rxu_cqe_event_mask(&out) != (RXU_EVENT_READ | RXU_EVENT_WRITE) ||
	    rxu_cqe_result(&out) != 9 || out.user_data != 0x11)
		goto out;
	ret = 0;
out:
	free(hdr);
	free(slots);
	CHECK_EQ(ret, 0);
	return 0;
}

/* sqe equals want field by field (want leaves unused fields zero). */
static int only_fields(const struct rxu_sqe64 *sqe, const struct rxu_sqe64 *want)
{
	CHECK_EQ(sqe->opcode, want->opcode);
	CHECK_EQ(sqe->flags, want->flags);
	CHECK_EQ(sqe->priority, want->priority);
	CHECK_EQ(sqe->syscall_flags, want->syscall_flags);
	CHECK_EQ(sqe->fd, want->fd);
	CHECK_EQ(sqe->len, want->len);
	CHECK_EQ(sqe->user_data, want->user_data);
	CHECK_EQ(sqe->addr, want->addr);
	CHECK_EQ(sqe->offset, want->offset);
	CHECK_EQ(sqe->additional1, want->additional1);
	CHECK_EQ(sqe->additional2, want->additional2);
	return 0;
}

static int test_prep_files_update_end(void)
{
	struct rxu_sqe64 sqe;

	/* Whatever was in the SQE before is overwritten. */
	memset(&sqe, 0xA5, sizeof(sqe));
	rxu_prep_files_update_end(&sqe, 17, 0xFEEDFACECAFEULL);
	TRY(only_fields(&sqe, &(struct rxu_sqe64){
		.opcode = RXU_OP_FILES_UPDATE, .fd = 17,
		.user_data = 0xFEEDFACECAFEULL,
	}));
	return 0;
}

/* The existing subscribe helper, as the end helper's counterpart. */
static int test_prep_files_update_subscribe(void)
{
	struct rxu_sqe64 sqe;

	memset(&sqe, 0xA5, sizeof(sqe));
	rxu_prep_files_update(&sqe, 3, RXU_EVENT_READ | RXU_EVENT_WRITE, 1, 9);
	TRY(only_fields(&sqe, &(struct rxu_sqe64){
		.opcode = RXU_OP_FILES_UPDATE, .flags = RXU_SQE_SUBSCRIBE,
		.syscall_flags = RXU_EVENT_READ | RXU_EVENT_WRITE, .fd = 3,
		.user_data = 9,
	}));
	return 0;
}

static int test_prep_open_event_queue(void)
{
	struct rxu_sqe64 sqe;
	const char *path;

	memset(&sqe, 0xA5, sizeof(sqe));
	rxu_prep_open_event_queue(&sqe, O_CLOEXEC | O_NONBLOCK, 77);
	path = (const char *)(uintptr_t)sqe.addr;
	CHECK(path != NULL);
	CHECK_EQ(sqe.len, strlen(RXU_SCHEME_EVENT));
	CHECK(!memcmp(path, "event:", 6));
	TRY(only_fields(&sqe, &(struct rxu_sqe64){
		.opcode = RXU_OP_OPEN, .addr = sqe.addr, .len = 6,
		.offset = O_RDWR | O_CLOEXEC | O_NONBLOCK, .user_data = 77,
	}));
	/* A read-only or write-only request still opens read-write. */
	rxu_prep_open_event_queue(&sqe, O_WRONLY, 1);
	CHECK_EQ(sqe.offset, O_RDWR);
	rxu_prep_open_event_queue(&sqe, 0, 1);
	CHECK_EQ(sqe.offset, O_RDWR);
	return 0;
}

/* A pipe as the queue: [0] read end, [1] write end, both nonblocking. */
static int queue_pipe(int p[2])
{
	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	return 0;
}

static int test_register_writes_record(void)
{
	struct rxu_event ev[3];
	int p[2], ret = 0;

	TRY(queue_pipe(p));
	errno = ERRNO_SENTINEL;
	if (rxu_event_queue_register(p[1], 5, RXU_EVENT_READ, 0xDA7A) ||
	    rxu_event_queue_register(p[1], 0, RXU_EVENT_ALL, UINT64_MAX) ||
	    rxu_event_queue_unregister(p[1], 5))
		ret = 1;
	else if (read(p[0], ev, sizeof(ev)) != (ssize_t)sizeof(ev))
		ret = 2;
	close(p[0]);
	close(p[1]);
	CHECK_EQ(ret, 0);
	CHECK_EQ(errno, ERRNO_SENTINEL);
	CHECK_EQ(ev[0].id, 5);
	CHECK_EQ(ev[0].flags, RXU_EVENT_READ);
	CHECK_EQ(ev[0].data, 0xDA7A);
	CHECK_EQ(ev[1].id, 0);
	CHECK_EQ(ev[1].flags, RXU_EVENT_ALL);
	CHECK_EQ(ev[1].data, UINT64_MAX);
	CHECK_EQ(ev[2].id, 5);
	CHECK_EQ(ev[2].flags, 0);
	CHECK_EQ(ev[2].data, 0);
	return 0;
}

static int test_register_errors(void)
{
	int p[2], r1, r2, r3;
	char c;

	TRY(queue_pipe(p));
	errno = ERRNO_SENTINEL;
	r1 = rxu_event_queue_register(p[1], -1, RXU_EVENT_READ, 0);
	r2 = rxu_event_queue_register(-1, 3, RXU_EVENT_READ, 0);
	/* The read end of a pipe refuses writes. */
	r3 = rxu_event_queue_register(p[0], 3, RXU_EVENT_READ, 0);
	CHECK_EQ(r1, -EBADF);
	CHECK_EQ(r2, -EBADF);
	CHECK_EQ(r3, -EBADF);
	CHECK_EQ(errno, ERRNO_SENTINEL);
	/* A refused register wrote nothing. */
	CHECK_EQ(read(p[0], &c, 1), -1);
	CHECK_EQ(errno, EAGAIN);
	close(p[0]);
	close(p[1]);
	return 0;
}

static int test_read_records(void)
{
	struct rxu_event in[3] = {
		{ .id = 1, .flags = RXU_EVENT_READ, .data = 10 },
		{ .id = 2, .flags = RXU_EVENT_WRITE, .data = 20 },
		{ .id = 3, .flags = RXU_EVENT_READ | RXU_EVENT_WRITE, .data = 30 },
	};
	struct rxu_event out[4];
	int p[2], n1, n2, n3;

	TRY(queue_pipe(p));
	CHECK_EQ(write(p[1], in, sizeof(in)), sizeof(in));
	errno = ERRNO_SENTINEL;
	n1 = rxu_event_queue_read(p[0], out, 2);
	n2 = rxu_event_queue_read(p[0], out + 2, 2);
	n3 = rxu_event_queue_read(p[0], out, 0);
	CHECK_EQ(errno, ERRNO_SENTINEL);
	CHECK_EQ(n1, 2);
	CHECK_EQ(n2, 1);
	CHECK_EQ(n3, 0);
	CHECK(!memcmp(out, in, sizeof(in)));
	/* Empty nonblocking queue, then end of file. */
	CHECK_EQ(rxu_event_queue_read(p[0], out, 4), -EAGAIN);
	CHECK_EQ(errno, ERRNO_SENTINEL);
	close(p[1]);
	CHECK_EQ(rxu_event_queue_read(p[0], out, 4), 0);
	close(p[0]);
	return 0;
}

static int test_read_errors(void)
{
	struct rxu_event out[2];
	char junk[30] = "";
	int p[2], r1, r2;

	TRY(queue_pipe(p));
	CHECK_EQ(write(p[1], junk, sizeof(junk)), sizeof(junk));
	errno = ERRNO_SENTINEL;
	r1 = rxu_event_queue_read(p[0], out, 2);
	r2 = rxu_event_queue_read(-1, out, 2);
	CHECK_EQ(r1, -EIO);
	CHECK_EQ(r2, -EBADF);
	CHECK_EQ(errno, ERRNO_SENTINEL);
	close(p[0]);
	close(p[1]);
	return 0;
}

/*
 * A huge max is clamped to what one read can return, not overflowed.
 * The kernel checks the whole clamped length (~2 GiB) against the top
 * of the address space before it copies anything: out is static, low in
 * the executable, because ASan may put a stack buffer (its fake stack)
 * high enough for that check to fail with EFAULT.
 */
static int test_read_huge_max(void)
{
	static struct rxu_event out[1];
	struct rxu_event in = { .id = 4, .flags = 1, .data = 2 };
	int p[2], n;

	TRY(queue_pipe(p));
	CHECK_EQ(write(p[1], &in, sizeof(in)), sizeof(in));
	n = rxu_event_queue_read(p[0], out, SIZE_MAX);
	close(p[0]);
	close(p[1]);
	CHECK_EQ(n, 1);
	CHECK(!memcmp(out, &in, sizeof(in)));
	return 0;
}

static const struct tap_test tests[] = {
	{ "a status CQE is neither event nor last update", test_status_cqe },
	{ "event CQEs carry their mask in bits 8 and up", test_event_cqe },
	{ "LAST_UPDATE is told apart, also together with EVENT", test_last_update_cqe },
	{ "the mask is all of flags >> 8", test_event_mask_width },
	{ "an event CQE32 keeps flags and status through rxu_pop_cqe", test_event_cqe32_pop },
	{ "rxu_prep_files_update_end: empty mask, no SUBSCRIBE, rest zero", test_prep_files_update_end },
	{ "rxu_prep_files_update with SUBSCRIBE, rest zero", test_prep_files_update_subscribe },
	{ "rxu_prep_open_event_queue: OPEN of event:, O_RDWR plus flags", test_prep_open_event_queue },
	{ "register and unregister write whole struct rxu_event records", test_register_writes_record },
	{ "register errors are -errno, errno kept, nothing written", test_register_errors },
	{ "read returns whole records, -EAGAIN when empty, 0 at EOF", test_read_records },
	{ "read of a torn record is -EIO, bad fd -EBADF", test_read_errors },
	{ "read with a huge max", test_read_huge_max },
};

TAP_MAIN(tests)
