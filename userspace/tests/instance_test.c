// SPDX-License-Identifier: MIT
/*
 * Host tests of lib/instance.c without the kernel module:
 *  - the SQE/CQE helpers on fake instances (struct rxu_instance filled by
 *    hand over malloc'd memory): 32-bit narrowing, -EOVERFLOW, -EINVAL,
 *    sign extension of a CQE32 status;
 *  - the syscall wrappers against stand-ins that make the syscalls
 *    observable: a pipe receives the create info, a memfd takes the four
 *    mmaps at their real offsets (so the test reads back where each
 *    entry landed), a non-device fd gives ENOTTY to the ioctls.
 * The module's own behaviour is tested in the QEMU guest (selftests/).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rxu.h"
#include "tap.h"

/* ------------------------------------------------------------------ */
/* Fake instances                                                      */
/* ------------------------------------------------------------------ */

struct fake {
	struct rxu_instance in;
	struct rxu_ring_header *sq_hdr, *cq_hdr;
	void *sq_entries, *cq_entries;
};

static void fake_free(struct fake *f)
{
	free(f->sq_hdr);
	free(f->cq_hdr);
	free(f->sq_entries);
	free(f->cq_entries);
}

/* Rings of exactly their size, as rxu_instance_map() would bind them. */
static int fake_init(struct fake *f, uint64_t sq_n, uint64_t cq_n,
		     uint32_t create_flags)
{
	int bits32 = create_flags & RXU_CREATE_BITS_32;
	uint32_t sqe = bits32 ? 32 : 64, cqe = bits32 ? 16 : 32;

	memset(f, 0, sizeof(*f));
	f->sq_hdr = malloc(sizeof(*f->sq_hdr));
	f->cq_hdr = malloc(sizeof(*f->cq_hdr));
	CHECK(f->sq_hdr && f->cq_hdr);
	CHECK_EQ(posix_memalign(&f->sq_entries, 64, sq_n * sqe), 0);
	CHECK_EQ(posix_memalign(&f->cq_entries, 64, cq_n * cqe), 0);
	rxu_ring_header_reset(f->sq_hdr, sq_n);
	rxu_ring_header_reset(f->cq_hdr, cq_n);
	f->in.fd = -1;			/* any syscall would fail: EBADF */
	f->in.create_flags = create_flags;
	CHECK_EQ(rxu_ring_init(&f->in.sq, f->sq_hdr, f->sq_entries, sq_n,
			       sqe), 0);
	CHECK_EQ(rxu_ring_init(&f->in.cq, f->cq_hdr, f->cq_entries, cq_n,
			       cqe), 0);
	return 0;
}

static struct rxu_sqe64 full_sqe64(void)
{
	return (struct rxu_sqe64){
		.opcode = RXU_OP_PWRITE, .flags = RXU_SQE_CHAIN,
		.priority = 0xBEEF, .syscall_flags = 0xCAFEF00D,
		.fd = 0x0102030405060708ULL, .len = 0x1112131415161718ULL,
		.user_data = 0x2122232425262728ULL,
		.addr = 0x3132333435363738ULL,
		.offset = 0x4142434445464748ULL,
		.additional1 = 0x5152535455565758ULL,
		.additional2 = 0x6162636465666768ULL,
	};
}

static int test_queue_sqe64(void)
{
	struct rxu_sqe64 sqe = full_sqe64();
	struct fake f;
	int i;

	TRY(fake_init(&f, 2, 4, 0));
	CHECK_EQ(rxu_queue_sqe(&f.in, &sqe), 0);
	CHECK(memcmp(f.sq_entries, &sqe, 64) == 0);	/* byte for byte */
	CHECK_EQ(rxu_queue_sqe(&f.in, &sqe), 0);
	CHECK_EQ(rxu_queue_sqe(&f.in, &sqe), -EAGAIN);
	CHECK_EQ(f.sq_hdr->tail_index, 2);
	CHECK_EQ(f.sq_hdr->push_epoch, 2);
	for (i = 0; i < 2; i++)
		CHECK_EQ(rxu_ring_pop(&f.in.sq, &sqe), 0);
	rxu_ring_set_drop(&f.in.sq);
	CHECK_EQ(rxu_queue_sqe(&f.in, &sqe), -ESHUTDOWN);
	fake_free(&f);
	return 0;
}

static int test_queue_sqe32_narrowing(void)
{
	struct rxu_sqe64 sqe = {
		.opcode = RXU_OP_PREAD, .flags = RXU_SQE_DRAIN,
		.priority = 0xBEEF, .syscall_flags = 0xCAFEF00D,
		.fd = 0xFFFFFFFFULL, .len = 0x80000000ULL,
		.user_data = 0xFEDCBA98ULL, .addr = 0x12345678ULL,
		.offset = 0xFFFFFFFFFFFFFFF0ULL,	/* 64 bits in SQE32 too */
	};
	const struct rxu_sqe32 *out;
	unsigned char raw[32];
	struct fake f;

	TRY(fake_init(&f, 4, 4, RXU_CREATE_BITS_32));
	CHECK_EQ(rxu_queue_sqe(&f.in, &sqe), 0);
	out = f.sq_entries;
	CHECK_EQ(out->opcode, RXU_OP_PREAD);
	CHECK_EQ(out->flags, RXU_SQE_DRAIN);
	CHECK_EQ(out->priority, 0xBEEF);
	CHECK_EQ(out->syscall_flags, 0xCAFEF00D);
	CHECK_EQ(out->fd, 0xFFFFFFFFU);
	CHECK_EQ(out->len, 0x80000000U);
	CHECK_EQ(out->user_data, 0xFEDCBA98U);
	CHECK_EQ(out->addr, 0x12345678U);
	CHECK_EQ(out->offset, 0xFFFFFFFFFFFFFFF0ULL);

	/* The same, read as little-endian bytes at the ABI offsets. */
	memcpy(raw, f.sq_entries, 32);
	CHECK_EQ(raw[0], RXU_OP_PREAD);
	CHECK_EQ(raw[2] | raw[3] << 8, 0xBEEF);
	CHECK_EQ(raw[16] | raw[17] << 8 | raw[18] << 16, 0xDCBA98);
	CHECK_EQ(raw[24], 0xF0);
	CHECK_EQ(raw[31], 0xFF);

	/* A negative int fd (AT_FDCWD) keeps its meaning in 32 bits. */
	rxu_prep_openat(&sqe, -100, (const char *)(uintptr_t)0x1000, 5,
			O_RDONLY, 0, 7);
	CHECK_EQ(rxu_queue_sqe(&f.in, &sqe), 0);
	out = (const struct rxu_sqe32 *)((char *)f.sq_entries + 32);
	CHECK_EQ(out->fd, 0xFFFFFF9CU);
	CHECK_EQ((int32_t)out->fd, -100);
	CHECK_EQ(out->syscall_flags, RXU_OPEN_AT);
	CHECK_EQ(out->user_data, 7);

	/* The smallest negative int still fits. */
	sqe.fd = (uint64_t)(int64_t)INT32_MIN;
	CHECK_EQ(rxu_queue_sqe(&f.in, &sqe), 0);
	CHECK_EQ(f.sq_hdr->tail_index, 3);
	fake_free(&f);
	return 0;
}

/* Every field that cannot be narrowed fails, and nothing is pushed. */
static int test_queue_sqe32_rejects(void)
{
	static const struct {
		const char *what;
		size_t off;
		uint64_t value;
		int err;
	} cases[] = {
		{ "fd 2^32", offsetof(struct rxu_sqe64, fd), 1ULL << 32,
		  -EOVERFLOW },
		{ "fd below INT32_MIN",
		  offsetof(struct rxu_sqe64, fd), 0xFFFFFFFF7FFFFFFFULL,
		  -EOVERFLOW },
		{ "len 2^32", offsetof(struct rxu_sqe64, len), 1ULL << 32,
		  -EOVERFLOW },
		{ "len all ones", offsetof(struct rxu_sqe64, len), UINT64_MAX,
		  -EOVERFLOW },
		{ "user_data 2^32", offsetof(struct rxu_sqe64, user_data),
		  1ULL << 32, -EOVERFLOW },
		{ "user_data -1", offsetof(struct rxu_sqe64, user_data),
		  UINT64_MAX, -EOVERFLOW },
		{ "addr 2^40", offsetof(struct rxu_sqe64, addr), 1ULL << 40,
		  -EOVERFLOW },
		{ "additional1", offsetof(struct rxu_sqe64, additional1), 1,
		  -EINVAL },
		{ "additional2", offsetof(struct rxu_sqe64, additional2),
		  1ULL << 63, -EINVAL },
	};
	struct rxu_sqe64 sqe;
	struct fake f;
	size_t i;

	TRY(fake_init(&f, 4, 4, RXU_CREATE_BITS_32));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		tap_context("%s", cases[i].what);
		rxu_prep_nop(&sqe, 1);
		memcpy((char *)&sqe + cases[i].off, &cases[i].value, 8);
		CHECK_EQ(rxu_queue_sqe(&f.in, &sqe), cases[i].err);
		CHECK_EQ(f.sq_hdr->tail_index, 0);
		CHECK_EQ(f.sq_hdr->push_epoch, 0);
	}
	/* On a 64-bit instance every one of them goes through. */
	fake_free(&f);
	TRY(fake_init(&f, 16, 4, 0));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		tap_context("64-bit: %s", cases[i].what);
		rxu_prep_nop(&sqe, 1);
		memcpy((char *)&sqe + cases[i].off, &cases[i].value, 8);
		CHECK_EQ(rxu_queue_sqe(&f.in, &sqe), 0);
	}
	fake_free(&f);
	return 0;
}

/* Push a raw CQE32 as the kernel would. */
static int push_cqe32(struct fake *f, uint32_t user_data, uint32_t status,
		      uint32_t flags, uint32_t extra)
{
	struct rxu_cqe32 c = { user_data, status, flags, extra };

	CHECK_EQ(rxu_ring_push(&f->in.cq, &c), 0);
	return 0;
}

static int test_pop_cqe32_widening(void)
{
	static const struct {
		uint32_t status;
		uint64_t wide;
	} st[] = {
		{ 0, 0 },
		{ 4096, 4096 },
		{ 0x7FFFFFFF, 0x7FFFFFFF },
		{ 0xFFFFFF83, 0xFFFFFFFFFFFFFF83ULL },	/* -ECANCELED */
		{ 0xFFFFF001, 0xFFFFFFFFFFFFF001ULL },	/* -4095 */
		{ 0xFFFFFFFF, UINT64_MAX },		/* -1 */
		{ 0x80000000, 0xFFFFFFFF80000000ULL },	/* INT32_MIN */
	};
	struct rxu_cqe64 cqe;
	struct fake f;
	size_t i;

	TRY(fake_init(&f, 2, 8, RXU_CREATE_BITS_32));
	for (i = 0; i < ARRAY_SIZE(st); i++) {
		tap_context("status 0x%x", st[i].status);
		TRY(push_cqe32(&f, 0xFFFFFFF0u + (uint32_t)i, st[i].status,
			       0x80000001u, 0xFFFFFFFFu));
		memset(&cqe, 0xAA, sizeof(cqe));
		CHECK_EQ(rxu_pop_cqe(&f.in, &cqe), 0);
		CHECK_EQ(cqe.status, st[i].wide);
		CHECK_EQ(rxu_cqe_result(&cqe), (int64_t)st[i].wide);
		/* Everything else is unsigned: zero-extended. */
		CHECK_EQ(cqe.user_data, 0xFFFFFFF0ULL + i);
		CHECK_EQ(cqe.flags, 0x80000001ULL);
		CHECK_EQ(cqe.extra, 0xFFFFFFFFULL);
	}
	CHECK_EQ(rxu_cqe_result(&(struct rxu_cqe64){ .status = 0xFFFFFF83 }),
		 0xFFFFFF83);			/* CQE64: no extension */
	tap_context("");
	CHECK_EQ(rxu_pop_cqe(&f.in, &cqe), -EAGAIN);
	rxu_ring_set_drop(&f.in.cq);
	CHECK_EQ(rxu_pop_cqe(&f.in, &cqe), -ESHUTDOWN);
	fake_free(&f);
	return 0;
}

static int test_pop_cqe64(void)
{
	struct rxu_cqe64 in = { 0x0102030405060708ULL, (uint64_t)-ECANCELED,
				RXU_CQE_EVENT | (RXU_EVENT_READ << 8),
				0xFFFFFFFFFFFFFFFFULL };
	struct rxu_cqe64 out;
	struct fake f;

	TRY(fake_init(&f, 2, 2, 0));
	CHECK_EQ(rxu_pop_cqe(&f.in, &out), -EAGAIN);
	CHECK_EQ(rxu_ring_push(&f.in.cq, &in), 0);
	CHECK_EQ(rxu_ring_push(&f.in.cq, &in), 0);
	CHECK_EQ(rxu_ring_push(&f.in.cq, &in), -EAGAIN);
	CHECK_EQ(rxu_pop_cqe(&f.in, &out), 0);
	CHECK(memcmp(&in, &out, sizeof(in)) == 0);
	CHECK_EQ(rxu_cqe_result(&out), -ECANCELED);
	rxu_ring_set_drop(&f.in.cq);
	CHECK_EQ(rxu_pop_cqe(&f.in, &out), 0);		/* drains first */
	CHECK_EQ(rxu_pop_cqe(&f.in, &out), -ESHUTDOWN);
	CHECK_EQ(f.cq_hdr->pop_epoch, 2);
	fake_free(&f);
	return 0;
}

/* A ring that is not mapped, or whose entry size does not match. */
static int test_unusable_rings(void)
{
	struct rxu_instance zero;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	struct fake f;

	memset(&zero, 0, sizeof(zero));
	rxu_prep_nop(&sqe, 1);
	CHECK_EQ(rxu_queue_sqe(&zero, &sqe), -EBADFD);
	CHECK_EQ(rxu_pop_cqe(&zero, &cqe), -EBADFD);

	/* 64-bit rings, but the flags say 32-bit entries. */
	TRY(fake_init(&f, 2, 2, 0));
	f.in.create_flags = RXU_CREATE_BITS_32;
	CHECK_EQ(rxu_queue_sqe(&f.in, &sqe), -EINVAL);
	CHECK_EQ(rxu_pop_cqe(&f.in, &cqe), -EINVAL);
	CHECK_EQ(f.sq_hdr->tail_index, 0);
	fake_free(&f);
	return 0;
}

static int test_wait_cqe(void)
{
	struct rxu_cqe64 cqe, c = { .user_data = 9, .status = 3 };
	struct fake f;

	TRY(fake_init(&f, 2, 2, 0));
	/* A CQE is there: no syscall (fd is -1, one would fail). */
	CHECK_EQ(rxu_ring_push(&f.in.cq, &c), 0);
	errno = 4321;
	CHECK_EQ(rxu_wait_cqe(&f.in, &cqe, 0), 0);
	CHECK_EQ(cqe.user_data, 9);
	CHECK_EQ(cqe.status, 3);
	/* Empty: it enters, and reports the ioctl's error as -errno. */
	CHECK_EQ(rxu_wait_cqe(&f.in, &cqe, 1000), -EBADF);
	CHECK_EQ(errno, 4321);
	/* Empty and dropped: the end, without entering. */
	rxu_ring_set_drop(&f.in.cq);
	CHECK_EQ(rxu_wait_cqe(&f.in, &cqe, 0), -ESHUTDOWN);
	fake_free(&f);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Syscall wrappers against stand-in fds                               */
/* ------------------------------------------------------------------ */

static int test_region_sizes(void)
{
	int log2;

	for (log2 = 0; log2 <= 15; log2++) {
		uint64_t n = 1ULL << log2;
		size_t sq64 = ((n * 64 + 4095) / 4096) * 4096;
		size_t cq64 = ((n * 32 + 4095) / 4096) * 4096;
		size_t sq32 = ((n * 32 + 4095) / 4096) * 4096;
		size_t cq32 = ((n * 16 + 4095) / 4096) * 4096;

		tap_context("n = %llu", (unsigned long long)n);
		CHECK_EQ(rxu_region_size(0, n, n, 0), 4096);
		CHECK_EQ(rxu_region_size(2, n, n, 0), 4096);
		CHECK_EQ(rxu_region_size(1, n, 1, 0), sq64);
		CHECK_EQ(rxu_region_size(3, 1, n, 0), cq64);
		CHECK_EQ(rxu_region_size(1, n, 1, RXU_CREATE_BITS_32), sq32);
		CHECK_EQ(rxu_region_size(3, 1, n, RXU_CREATE_BITS_32), cq32);
	}
	tap_context("fixed values");
	CHECK_EQ(rxu_region_size(1, 32768, 1, 0), 2 << 20);
	CHECK_EQ(rxu_region_size(3, 1, 32768, 0), 1 << 20);
	CHECK_EQ(rxu_region_size(1, 32768, 1, RXU_CREATE_BITS_32), 1 << 20);
	CHECK_EQ(rxu_region_size(3, 1, 32768, RXU_CREATE_BITS_32), 512 << 10);
	CHECK_EQ(rxu_region_size(1, 64, 1, 0), 4096);
	CHECK_EQ(rxu_region_size(1, 65, 1, 0), 8192);
	CHECK_EQ(rxu_region_size(4, 1, 1, 0), 0);
	CHECK_EQ(rxu_region_size(-1, 1, 1, 0), 0);
	CHECK_EQ(rxu_region_size(1, 1ULL << 62, 1, 0), 0);	/* overflow */
	CHECK_EQ(rxu_region_size(3, 1, UINT64_MAX, 0), 0);
	return 0;
}

static int test_close_is_safe(void)
{
	struct rxu_instance in;
	int fd0 = fcntl(0, F_GETFD);
	int fd;

	/* A zeroed struct has fd 0: it must not close stdin. */
	memset(&in, 0, sizeof(in));
	errno = 777;
	rxu_instance_close(&in);
	CHECK_EQ(errno, 777);
	CHECK_EQ(fcntl(0, F_GETFD), fd0);
	CHECK_EQ(in.fd, -1);
	rxu_instance_close(&in);		/* twice */

	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(fd > 0);
	rxu_instance_from_fd(&in, fd);
	CHECK_EQ(in.fd, fd);
	CHECK(in.map[0] == NULL && in.sq.hdr == NULL);
	rxu_instance_close(&in);
	CHECK_EQ(fcntl(fd, F_GETFD), -1);	/* closed */
	CHECK_EQ(in.fd, -1);
	return 0;
}

static int test_open_without_device(void)
{
	struct rxu_instance in;
	int ret;

	if (access(RXU_DEVICE_PATH, F_OK) == 0)
		return tap_skip(RXU_DEVICE_PATH " exists on this host");
	errno = 1234;
	CHECK_EQ(rxu_instance_open(&in), -ENOENT);
	CHECK_EQ(errno, 1234);
	memset(&in, 0x77, sizeof(in));
	ret = rxu_setup(&in, 8, 8, 0);
	CHECK_EQ(ret, -ENOENT);
	CHECK_EQ(errno, 1234);
	/* Cleaned up: nothing mapped, no fd. */
	CHECK_EQ(in.fd, -1);
	CHECK(!in.map[0] && !in.map[1] && !in.map[2] && !in.map[3]);
	CHECK(!in.sq.hdr && !in.cq.entries);
	return 0;
}

/* The create info as the kernel receives it: read from a pipe. */
static int test_create_writes_info(void)
{
	struct rxu_create_info info;
	struct rxu_instance in;
	unsigned char raw[32];
	int p[2];

	CHECK_EQ(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	rxu_instance_from_fd(&in, p[1]);
	CHECK_EQ(rxu_instance_create(&in, 256, 1024, RXU_CREATE_BITS_32), 0);
	CHECK_EQ(read(p[0], raw, sizeof(raw)), 32);
	memcpy(&info, raw, sizeof(info));
	CHECK_EQ(raw[0], 1);			/* version 1.0.0 */
	CHECK_EQ(raw[1], 0);
	CHECK_EQ(raw[2], 0);
	CHECK_EQ(raw[3], 0);			/* reserved */
	CHECK_EQ(info.flags, RXU_CREATE_BITS_32);
	CHECK_EQ(info.len, 32);
	CHECK_EQ(info.sq_entry_count, 256);
	CHECK_EQ(info.cq_entry_count, 1024);
	/* The geometry is remembered for rxu_instance_map(). */
	CHECK_EQ(in.create_flags, RXU_CREATE_BITS_32);
	CHECK_EQ(in.sq.entry_count, 256);
	CHECK_EQ(in.sq.entry_size, 32);
	CHECK_EQ(in.cq.entry_count, 1024);
	CHECK_EQ(in.cq.entry_size, 16);

	/* Bad geometry: -EINVAL, and nothing reaches the fd. */
	CHECK_EQ(rxu_instance_create(&in, 0, 8, 0), -EINVAL);
	CHECK_EQ(rxu_instance_create(&in, 3, 8, 0), -EINVAL);
	CHECK_EQ(rxu_instance_create(&in, 8, 6, 0), -EINVAL);
	CHECK_EQ(rxu_instance_create(&in, 8, 1ULL << 32, 0), -EINVAL);
	CHECK_EQ(rxu_instance_create(&in, 8, 8, 2), -EINVAL);
	CHECK_EQ(read(p[0], raw, sizeof(raw)), -1);
	CHECK_EQ(errno, EAGAIN);

	/* A failing write is -errno, errno untouched. */
	close(p[0]);
	errno = 55;
	signal(SIGPIPE, SIG_IGN);
	CHECK_EQ(rxu_instance_create(&in, 8, 8, 0), -EPIPE);
	CHECK_EQ(errno, 55);
	rxu_instance_close(&in);
	return 0;
}

/*
 * A memfd stands in for the device: rxu_instance_map() maps it at the
 * four ABI offsets, and what the library writes through the rings shows
 * up in the file at the offset where the kernel would look for it.
 */
static int memfd_instance(struct rxu_instance *in, uint32_t flags)
{
	int fd = memfd_create("rxu-test", MFD_CLOEXEC);

	CHECK(fd > 0);
	CHECK_EQ(ftruncate(fd, (off_t)(RXU_OFF_CQ_ENTRIES + (1 << 20))), 0);
	rxu_instance_from_fd(in, fd);
	CHECK_EQ(rxu_instance_set_geometry(in, 4, 8, flags), 0);
	CHECK_EQ(rxu_instance_map(in), 0);
	return 0;
}

static uint64_t file_u64(int fd, uint64_t off)
{
	uint64_t v = 0xDEADDEADDEADDEADULL;

	if (pread(fd, &v, 8, (off_t)off) != 8)
		return 0xBADBADBADULL;
	return v;
}

static int put_u64(int fd, uint64_t off, uint64_t v)
{
	CHECK_EQ(pwrite(fd, &v, 8, (off_t)off), 8);
	return 0;
}

static int test_map_at_abi_offsets_64(void)
{
	const uint64_t tail = offsetof(struct rxu_ring_header, tail_index);
	const uint64_t head = offsetof(struct rxu_ring_header, head_index);
	struct rxu_cqe64 cqe = { 0xAB, (uint64_t)-EIO, 0, 0 }, got;
	struct rxu_sqe64 sqe, back;
	struct rxu_instance in;
	int fd;

	TRY(memfd_instance(&in, 0));
	fd = in.fd;
	CHECK_EQ(in.map_len[0], 4096);
	CHECK_EQ(in.map_len[1], 4096);
	CHECK_EQ(in.map_len[2], 4096);
	CHECK_EQ(in.map_len[3], 4096);
	CHECK(in.sq.hdr == in.map[0] && in.sq.entries == in.map[1]);
	CHECK(in.cq.hdr == in.map[2] && in.cq.entries == in.map[3]);
	CHECK_EQ(in.sq.entry_size, 64);
	CHECK_EQ(in.cq.entry_size, 32);

	/* SQE 0 at RXU_OFF_SQ_ENTRIES, the SQ tail in the SQ header. */
	rxu_prep_pread(&sqe, 5, (void *)(uintptr_t)0x7000, 512, 4096, 42);
	CHECK_EQ(rxu_queue_sqe(&in, &sqe), 0);
	CHECK_EQ(pread(fd, &back, 64, RXU_OFF_SQ_ENTRIES), 64);
	CHECK(memcmp(&back, &sqe, 64) == 0);
	CHECK_EQ(file_u64(fd, RXU_OFF_SQ_HEADER + tail), 1);
	CHECK_EQ(file_u64(fd, RXU_OFF_SQ_HEADER + 4 * RXU_CACHE_SLOT), 1);

	/* A CQE posted "by the kernel" at RXU_OFF_CQ_ENTRIES + 32. */
	CHECK_EQ(put_u64(fd, RXU_OFF_CQ_HEADER + head, 1), 0);
	CHECK_EQ(pwrite(fd, &cqe, 32, RXU_OFF_CQ_ENTRIES + 32), 32);
	CHECK_EQ(put_u64(fd, RXU_OFF_CQ_HEADER + tail, 2), 0);
	CHECK_EQ(rxu_pop_cqe(&in, &got), 0);
	CHECK_EQ(got.user_data, 0xAB);
	CHECK_EQ(rxu_cqe_result(&got), -EIO);
	CHECK_EQ(file_u64(fd, RXU_OFF_CQ_HEADER + head), 2);
	CHECK_EQ(rxu_pop_cqe(&in, &got), -EAGAIN);

	/* Mapping twice, or re-shaping a mapped instance, is refused. */
	CHECK_EQ(rxu_instance_map(&in), -EBUSY);
	CHECK_EQ(rxu_instance_set_geometry(&in, 8, 8, 0), -EBUSY);
	CHECK_EQ(rxu_instance_create(&in, 8, 8, 0), -EBUSY);

	rxu_instance_close(&in);
	CHECK_EQ(fcntl(fd, F_GETFD), -1);
	CHECK(!in.map[0] && !in.map[3] && !in.sq.hdr && !in.cq.hdr);
	return 0;
}

static int test_map_at_abi_offsets_32(void)
{
	const uint64_t tail = offsetof(struct rxu_ring_header, tail_index);
	struct rxu_cqe32 cqe32 = { 0xFFFFFFFF, (uint32_t)-ECANCELED, 1, 2 };
	struct rxu_sqe32 back;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 got;
	struct rxu_instance in;
	int fd;

	TRY(memfd_instance(&in, RXU_CREATE_BITS_32));
	fd = in.fd;
	CHECK_EQ(in.sq.entry_size, 32);
	CHECK_EQ(in.cq.entry_size, 16);

	rxu_prep_write(&sqe, 3, (void *)(uintptr_t)0x5000, 100, 0xFFFFFFFF);
	CHECK_EQ(rxu_queue_sqe(&in, &sqe), 0);
	CHECK_EQ(rxu_queue_sqe(&in, &sqe), 0);
	CHECK_EQ(pread(fd, &back, 32, RXU_OFF_SQ_ENTRIES + 32), 32);
	CHECK_EQ(back.opcode, RXU_OP_WRITE);
	CHECK_EQ(back.fd, 3);
	CHECK_EQ(back.addr, 0x5000);
	CHECK_EQ(back.len, 100);
	CHECK_EQ(back.user_data, 0xFFFFFFFFU);
	CHECK_EQ(file_u64(fd, RXU_OFF_SQ_HEADER + tail), 2);

	CHECK_EQ(pwrite(fd, &cqe32, 16, RXU_OFF_CQ_ENTRIES), 16);
	CHECK_EQ(put_u64(fd, RXU_OFF_CQ_HEADER + tail, 1), 0);
	CHECK_EQ(rxu_pop_cqe(&in, &got), 0);
	CHECK_EQ(got.user_data, 0xFFFFFFFFULL);
	CHECK_EQ(got.status, (uint64_t)-ECANCELED);
	CHECK_EQ(got.flags, 1);
	CHECK_EQ(got.extra, 2);
	rxu_instance_close(&in);
	return 0;
}

static int test_map_failures(void)
{
	struct rxu_instance in;
	int p[2];

	/* No geometry yet: nothing to map. */
	rxu_instance_from_fd(&in, -1);
	CHECK_EQ(rxu_instance_map(&in), -EINVAL);
	CHECK_EQ(rxu_instance_set_geometry(&in, 8, 12, 0), -EINVAL);
	CHECK_EQ(rxu_instance_set_geometry(&in, 8, 8, 0x80), -EINVAL);

	/* A socket cannot be mapped: -ENODEV, and nothing left mapped. */
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p), 0);
	rxu_instance_from_fd(&in, p[0]);
	CHECK_EQ(rxu_instance_set_geometry(&in, 8, 8, 0), 0);
	errno = 99;
	CHECK_EQ(rxu_instance_map(&in), -ENODEV);
	CHECK_EQ(errno, 99);
	CHECK(!in.map[0] && !in.map[1] && !in.map[2] && !in.map[3]);
	CHECK(!in.sq.hdr && !in.sq.entries && !in.cq.hdr && !in.cq.entries);
	rxu_instance_close(&in);
	close(p[1]);

	/* A bad fd: -EBADF. */
	rxu_instance_from_fd(&in, -1);
	CHECK_EQ(rxu_instance_set_geometry(&in, 1, 1, RXU_CREATE_BITS_32), 0);
	CHECK_EQ(rxu_instance_map(&in), -EBADF);
	return 0;
}

/* Not the device: the ioctls fail with ENOTTY, passed on as -ENOTTY. */
static int test_ioctls_return_errno(void)
{
	struct rxu_instance in;
	int fd = memfd_create("rxu-test", MFD_CLOEXEC);

	CHECK(fd > 0);
	rxu_instance_from_fd(&in, fd);
	errno = 31;
	CHECK_EQ(rxu_enter(&in, 1, 0, 0), -ENOTTY);
	CHECK_EQ(rxu_instance_attach(&in, RXU_SCHEME_KERNEL), -ENOTTY);
	CHECK_EQ(rxu_instance_attach(&in, NULL), -EINVAL);
	CHECK_EQ(errno, 31);
	rxu_instance_close(&in);
	rxu_instance_from_fd(&in, -1);
	CHECK_EQ(rxu_enter(&in, 0, RXU_ENTER_ONLY_NOTIFY, 0), -EBADF);
	CHECK_EQ(errno, 31);
	return 0;
}

static const struct tap_test tests[] = {
	{ "queue_sqe on a 64-bit instance", test_queue_sqe64 },
	{ "queue_sqe narrows to SQE32", test_queue_sqe32_narrowing },
	{ "queue_sqe32: -EOVERFLOW / -EINVAL, nothing pushed",
	  test_queue_sqe32_rejects },
	{ "pop_cqe widens CQE32, status sign-extended",
	  test_pop_cqe32_widening },
	{ "pop_cqe on a 64-bit instance", test_pop_cqe64 },
	{ "unmapped or mismatched rings refused", test_unusable_rings },
	{ "wait_cqe pops first, enters when empty", test_wait_cqe },
	{ "region sizes", test_region_sizes },
	{ "close is safe on zeroed and closed structs", test_close_is_safe },
	{ "open and setup without the device", test_open_without_device },
	{ "create writes the 32-byte create info", test_create_writes_info },
	{ "map at the ABI offsets, 64-bit entries",
	  test_map_at_abi_offsets_64 },
	{ "map at the ABI offsets, 32-bit entries",
	  test_map_at_abi_offsets_32 },
	{ "map failures clean up", test_map_failures },
	{ "enter and attach return -errno", test_ioctls_return_errno },
};

TAP_MAIN(tests)
