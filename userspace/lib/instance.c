// SPDX-License-Identifier: MIT
/*
 * librxu instances: the thin syscall layer over /dev/redox_uring
 * (ABI.md sections 1, 2, 3 and 6), and the consumer's SQE/CQE helpers
 * that convert between the 64-bit form the API always uses and the
 * 32-bit entries of a RXU_CREATE_BITS_32 instance.
 *
 * Every function returns -errno and leaves errno as the caller had it.
 */

/* The CQ regions sit above 2 GiB: 32-bit builds need a 64-bit off_t. */
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rxu.h"
#include "syscall.h"

#define RXU_RING_MAX_ENTRIES	(1ULL << 31)

/* mmap offsets, in the order of in->map[] and rxu_region_size(). */
static const uint64_t region_offset[4] = {
	RXU_OFF_SQ_HEADER,
	RXU_OFF_SQ_ENTRIES,
	RXU_OFF_CQ_HEADER,
	RXU_OFF_CQ_ENTRIES,
};

/* A failed libc call as -errno, with errno put back as it was. */
static int fail_errno(int saved)
{
	int err = errno;

	errno = saved;
	return -err;
}

static uint32_t sqe_size(uint32_t create_flags)
{
	if (create_flags & RXU_CREATE_BITS_32)
		return sizeof(struct rxu_sqe32);
	return sizeof(struct rxu_sqe64);
}

static uint32_t cqe_size(uint32_t create_flags)
{
	if (create_flags & RXU_CREATE_BITS_32)
		return sizeof(struct rxu_cqe32);
	return sizeof(struct rxu_cqe64);
}

/* round_up(count * size, 4096), or 0 if it overflows. */
static size_t entries_region_size(uint64_t count, uint32_t size)
{
	const uint64_t page = RXU_HEADER_SIZE;
	uint64_t bytes;

	if (__builtin_mul_overflow(count, (uint64_t)size, &bytes) ||
	    bytes > SIZE_MAX - (page - 1))
		return 0;
	return (size_t)((bytes + page - 1) & ~(page - 1));
}

size_t rxu_region_size(int region, uint64_t sq_entries, uint64_t cq_entries,
		       uint32_t create_flags)
{
	switch (region) {
	case 0:
	case 2:
		return RXU_HEADER_SIZE;
	case 1:
		return entries_region_size(sq_entries, sqe_size(create_flags));
	case 3:
		return entries_region_size(cq_entries, cqe_size(create_flags));
	default:
		return 0;
	}
}

static int count_ok(uint64_t n)
{
	return n && n <= RXU_RING_MAX_ENTRIES && !(n & (n - 1));
}

static int geometry_ok(uint64_t sq_entries, uint64_t cq_entries,
		       uint32_t create_flags)
{
	return count_ok(sq_entries) && count_ok(cq_entries) &&
	       !(create_flags & ~RXU_CREATE_FLAGS_ALL);
}

static int is_mapped(const struct rxu_instance *in)
{
	return in->map[0] || in->map[1] || in->map[2] || in->map[3];
}

static void unmap_all(struct rxu_instance *in)
{
	int saved = errno;
	int i;

	for (i = 0; i < 4; i++) {
		if (in->map[i])
			munmap(in->map[i], in->map_len[i]);
		in->map[i] = NULL;
		in->map_len[i] = 0;
	}
	in->sq.hdr = NULL;
	in->sq.entries = NULL;
	in->cq.hdr = NULL;
	in->cq.entries = NULL;
	errno = saved;
}

void rxu_instance_from_fd(struct rxu_instance *in, int fd)
{
	memset(in, 0, sizeof(*in));
	in->fd = fd;
}

/*
 * fd 0 means "no fd" in a zeroed struct (so that rxu_instance_close is
 * safe on one), so an instance must never live on fd 0: if stdin was
 * closed and open() handed us 0, move it.
 */
int rxu_instance_open(struct rxu_instance *in)
{
	int saved = errno;
	int fd;

	fd = open(RXU_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail_errno(saved);
	if (fd == 0) {
		int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		int ret = moved < 0 ? fail_errno(saved) : 0;

		close(fd);
		errno = saved;
		if (ret)
			return ret;
		fd = moved;
	}
	rxu_instance_from_fd(in, fd);
	return 0;
}

int rxu_instance_set_geometry(struct rxu_instance *in, uint64_t sq_entries,
			      uint64_t cq_entries, uint32_t create_flags)
{
	if (!geometry_ok(sq_entries, cq_entries, create_flags))
		return -EINVAL;
	if (is_mapped(in))
		return -EBUSY;

	in->create_flags = create_flags;
	in->sq.entry_count = sq_entries;
	in->sq.entry_size = sqe_size(create_flags);
	in->cq.entry_count = cq_entries;
	in->cq.entry_size = cqe_size(create_flags);
	return 0;
}

int rxu_instance_create(struct rxu_instance *in, uint64_t sq_entries,
			uint64_t cq_entries, uint32_t create_flags)
{
	struct rxu_create_info info = {
		.version_major = RXU_VERSION_MAJOR,
		.version_minor = RXU_VERSION_MINOR,
		.version_patch = RXU_VERSION_PATCH,
		.flags = create_flags,
		.len = sizeof(info),
		.sq_entry_count = sq_entries,
		.cq_entry_count = cq_entries,
	};
	int saved = errno;
	ssize_t n;

	/* The kernel would refuse it too, but we must not map it either. */
	if (!geometry_ok(sq_entries, cq_entries, create_flags))
		return -EINVAL;
	if (is_mapped(in))
		return -EBUSY;

	n = write(in->fd, &info, sizeof(info));
	if (n < 0)
		return fail_errno(saved);
	if (n != sizeof(info))
		return -EIO;
	return rxu_instance_set_geometry(in, sq_entries, cq_entries,
					 create_flags);
}

int rxu_instance_map(struct rxu_instance *in)
{
	uint32_t flags = in->create_flags;
	int saved = errno;
	int ret, i;

	if (is_mapped(in))
		return -EBUSY;
	if (!geometry_ok(in->sq.entry_count, in->cq.entry_count, flags))
		return -EINVAL;		/* neither created nor given one */

	for (i = 0; i < 4; i++) {
		size_t len = rxu_region_size(i, in->sq.entry_count,
					     in->cq.entry_count, flags);
		void *p;

		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 in->fd, (off_t)region_offset[i]);
		if (p == MAP_FAILED) {
			ret = fail_errno(saved);
			unmap_all(in);
			return ret;
		}
		in->map[i] = p;
		in->map_len[i] = len;
	}

	/* Cannot fail: the geometry and the pointers were checked above. */
	rxu_ring_init(&in->sq, in->map[0], in->map[1], in->sq.entry_count,
		      sqe_size(flags));
	rxu_ring_init(&in->cq, in->map[2], in->map[3], in->cq.entry_count,
		      cqe_size(flags));
	return 0;
}

int rxu_instance_attach(struct rxu_instance *in, const char *name)
{
	struct rxu_attach attach;
	int saved = errno;

	if (!name)
		return -EINVAL;
	attach.name = (uintptr_t)name;
	attach.name_len = strlen(name);
	if (ioctl(in->fd, RXU_IOC_ATTACH, &attach) < 0)
		return fail_errno(saved);
	return 0;
}

int rxu_setup(struct rxu_instance *in, uint64_t sq_entries,
	      uint64_t cq_entries, uint32_t create_flags)
{
	int ret;

	rxu_instance_from_fd(in, -1);
	ret = rxu_instance_open(in);
	if (!ret)
		ret = rxu_instance_create(in, sq_entries, cq_entries,
					  create_flags);
	if (!ret)
		ret = rxu_instance_map(in);
	if (!ret)
		ret = rxu_instance_attach(in, RXU_SCHEME_KERNEL);
	if (ret)
		rxu_instance_close(in);
	return ret;
}

/* Leaves the struct with fd -1 and nothing mapped: closing twice is safe. */
void rxu_instance_close(struct rxu_instance *in)
{
	int saved = errno;

	unmap_all(in);
	if (in->fd > 0)
		close(in->fd);
	rxu_instance_from_fd(in, -1);
	errno = saved;
}

int64_t rxu_enter(struct rxu_instance *in, uint64_t min_complete,
		  uint32_t flags, uint64_t timeout_ns)
{
	struct rxu_enter enter = {
		.min_complete = min_complete,
		.flags = flags,
		.timeout_ns = timeout_ns,
	};

	return rxu_sys_ioctl(in->fd, RXU_IOC_ENTER, &enter);
}

/*
 * fd is a C int in both entry forms: a negative one (AT_FDCWD, -1 for an
 * anonymous mmap) arrives sign-extended and narrows to its 32-bit two's
 * complement.  Any other value must fit in 32 bits.
 */
static int fd_fits_32(uint64_t fd)
{
	return fd <= UINT32_MAX || fd >= (uint64_t)INT32_MIN;
}

static int narrow_sqe(struct rxu_sqe32 *out, const struct rxu_sqe64 *sqe)
{
	/* SQE32 has no room for them: refuse rather than drop them. */
	if (sqe->additional1 || sqe->additional2)
		return -EINVAL;
	if (!fd_fits_32(sqe->fd) || sqe->len > UINT32_MAX ||
	    sqe->user_data > UINT32_MAX || sqe->addr > UINT32_MAX)
		return -EOVERFLOW;

	*out = (struct rxu_sqe32){
		.opcode = sqe->opcode,
		.flags = sqe->flags,
		.priority = sqe->priority,
		.syscall_flags = sqe->syscall_flags,
		.fd = (uint32_t)sqe->fd,
		.len = (uint32_t)sqe->len,
		.user_data = (uint32_t)sqe->user_data,
		.addr = (uint32_t)sqe->addr,
		.offset = sqe->offset,
	};
	return 0;
}

/* A ring this instance has not mapped, or one of the wrong entry size. */
static int ring_unusable(const struct rxu_ring *r, uint32_t entry_size)
{
	if (!r->hdr || !r->entries)
		return -EBADFD;
	if (r->entry_size != entry_size)
		return -EINVAL;
	return 0;
}

int rxu_queue_sqe(struct rxu_instance *in, const struct rxu_sqe64 *sqe)
{
	struct rxu_sqe32 sqe32;
	int ret;

	ret = ring_unusable(&in->sq, sqe_size(in->create_flags));
	if (ret)
		return ret;
	if (!(in->create_flags & RXU_CREATE_BITS_32))
		return rxu_ring_push(&in->sq, sqe);

	ret = narrow_sqe(&sqe32, sqe);
	if (ret)
		return ret;
	return rxu_ring_push(&in->sq, &sqe32);
}

/* Sign-extend a 32-bit two's complement value, without relying on casts. */
static uint64_t sign_extend_32(uint32_t v)
{
	return (uint64_t)((int64_t)(v ^ 0x80000000u) - INT64_C(0x80000000));
}

int rxu_pop_cqe(struct rxu_instance *in, struct rxu_cqe64 *cqe)
{
	struct rxu_cqe32 cqe32;
	int ret;

	ret = ring_unusable(&in->cq, cqe_size(in->create_flags));
	if (ret)
		return ret;
	if (!(in->create_flags & RXU_CREATE_BITS_32))
		return rxu_ring_pop(&in->cq, cqe);

	ret = rxu_ring_pop(&in->cq, &cqe32);
	if (ret)
		return ret;
	/* Only status is signed (-errno); the rest are zero-extended. */
	*cqe = (struct rxu_cqe64){
		.user_data = cqe32.user_data,
		.status = sign_extend_32(cqe32.status),
		.flags = cqe32.flags,
		.extra = cqe32.extra,
	};
	return 0;
}

/*
 * ENTER may return with the CQ still empty (a notification, or another
 * thread popped first): then pop and wait again, each time with the full
 * timeout, which thus bounds each wait rather than the whole call.
 */
int rxu_wait_cqe(struct rxu_instance *in, struct rxu_cqe64 *cqe,
		 uint64_t timeout_ns)
{
	for (;;) {
		int ret = rxu_pop_cqe(in, cqe);
		int64_t n;

		if (ret != -EAGAIN)
			return ret;
		/* Also submits whatever is queued in the SQ. */
		n = rxu_enter(in, 1, 0, timeout_ns);
		if (n < 0)
			return (int)n;
	}
}
