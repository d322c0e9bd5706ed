/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * redox_uring: the io_uring of Redox OS (2020 design) on Linux.
 *
 * This header is the whole user ABI, version 1.0, shared by the kernel
 * module, librxu, the daemons and the tests.  The normative text is
 * spec/ABI.md; section numbers below refer to it.  Every integer is
 * little-endian and fixed width; every structure carries compile-time
 * size and offset assertions at the end of this file.
 *
 * Usage, in short:
 *
 *	fd = open("/dev/redox_uring", O_RDWR | O_CLOEXEC);
 *	write(fd, &(struct rxu_create_info){ ... }, 32);
 *	mmap() the four regions at RXU_OFF_*;
 *	ioctl(fd, RXU_IOC_ATTACH, &(struct rxu_attach){ "io_uring:", 9 });
 *	push SQEs, ioctl(fd, RXU_IOC_ENTER, &enter), pop CQEs.
 */
#ifndef _UAPI_LINUX_REDOX_URING_H
#define _UAPI_LINUX_REDOX_URING_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define RXU_DEVICE_NAME		"redox_uring"
#define RXU_DEVICE_PATH		"/dev/redox_uring"

#define RXU_VERSION_MAJOR	1
#define RXU_VERSION_MINOR	0
#define RXU_VERSION_PATCH	0

/* Scheme names with a special meaning (section 5). */
#define RXU_SCHEME_KERNEL	"io_uring:"
#define RXU_SCHEME_EVENT	"event:"

/* --- Section 2: struct rxu_create_info, written to an Initial instance --- */

#define RXU_CREATE_BITS_32	(1U << 0)	/* 32-bit SQEs and CQEs */
#define RXU_CREATE_FLAGS_ALL	RXU_CREATE_BITS_32

struct rxu_create_info {
	__u8	version_major;		/* must be 1 */
	__u8	version_minor;
	__u8	version_patch;
	__u8	reserved;		/* must be 0 */
	__u32	flags;			/* RXU_CREATE_* */
	__u64	len;			/* sizeof(struct rxu_create_info) */
	__u64	sq_entry_count;		/* power of two, 1 .. max_entries */
	__u64	cq_entry_count;		/* power of two, 1 .. max_entries */
};

/* --- Section 3: memory regions, mmap offsets on an instance fd --- */

#define RXU_OFF_SQ_HEADER	0x00000000ULL
#define RXU_OFF_SQ_ENTRIES	0x00200000ULL
#define RXU_OFF_CQ_HEADER	0x80000000ULL
#define RXU_OFF_CQ_ENTRIES	0x80200000ULL
#define RXU_OFF_SCHEME_DATA	0x100000000ULL	/* providers only (section 7) */

#define RXU_HEADER_SIZE		4096ULL		/* each ring header region */

/*
 * Ring header: one per ring, at the start of its header page.  Every
 * counter but entry_count sits in a slot of its own so that the two
 * sides do not share a cache line.
 */
#if defined(__x86_64__)
#define RXU_CACHE_SLOT		128
#else
#define RXU_CACHE_SLOT		64
#endif

struct rxu_ring_header {
	__u64	entry_count;		/* written once by the kernel */
	__u8	__pad0[RXU_CACHE_SLOT - 8];
	__u64	head_index;		/* written by the side that pops */
	__u8	__pad1[RXU_CACHE_SLOT - 8];
	__u64	tail_index;		/* written by the side that pushes */
	__u8	__pad2[RXU_CACHE_SLOT - 8];
	__u64	status;			/* RXU_RING_* bits */
	__u8	__pad3[RXU_CACHE_SLOT - 8];
	__u64	push_epoch;		/* +1 per push, by the pusher */
	__u8	__pad4[RXU_CACHE_SLOT - 8];
	__u64	pop_epoch;		/* +1 per pop, by the popper */
	__u8	__pad5[RXU_CACHE_SLOT - 8];
};

#define RXU_RING_DROP		(1ULL << 0)	/* the other side went away */

/*
 * Index arithmetic (section 3): with n = entry_count, stored head and
 * tail are in [0, 2n).  slot = value & (n - 1); the cycle bit is
 * (value / n) & 1.  Empty: head == tail.  Full: (head ^ tail) == n.
 * Available entries: (tail - head) mod 2n.  All n slots are usable.
 */

/* --- Section 4: entries --- */

struct rxu_sqe64 {
	__u8	opcode;			/* RXU_OP_* */
	__u8	flags;			/* RXU_SQE_* */
	__u16	priority;
	__u32	syscall_flags;		/* per-opcode flags */
	__u64	fd;
	__u64	len;
	__u64	user_data;		/* copied to the CQE */
	__u64	addr;
	__u64	offset;
	__u64	additional1;
	__u64	additional2;
} __attribute__((aligned(64)));

struct rxu_cqe64 {
	__u64	user_data;
	__u64	status;			/* result, or -errno (two's complement) */
	__u64	flags;			/* RXU_CQE_*, event flags from bit 8 */
	__u64	extra;
} __attribute__((aligned(32)));

struct rxu_sqe32 {
	__u8	opcode;
	__u8	flags;
	__u16	priority;
	__u32	syscall_flags;
	__u32	fd;
	__u32	len;
	__u32	user_data;
	__u32	addr;
	__u64	offset;
} __attribute__((aligned(32)));

struct rxu_cqe32 {
	__u32	user_data;
	__u32	status;
	__u32	flags;
	__u32	extra;
} __attribute__((aligned(16)));

/* A status in [-4095, -1] (of the field's width) is an error. */
#define RXU_MAX_ERRNO		4095

/* SQE flags. */
#define RXU_SQE_CHAIN		(1U << 0)	/* after the previous SQE completed */
#define RXU_SQE_DRAIN		(1U << 1)	/* after every earlier SQE completed */
#define RXU_SQE_SUBSCRIBE	(1U << 2)	/* multi-shot FILES_UPDATE */
#define RXU_SQE_FLAGS_ALL	(RXU_SQE_CHAIN | RXU_SQE_DRAIN | RXU_SQE_SUBSCRIBE)

/* CQE flags: low byte; event flags are shifted by RXU_CQE_EVENT_SHIFT. */
#define RXU_CQE_EVENT		(1U << 0)
#define RXU_CQE_LAST_UPDATE	(1U << 1)
#define RXU_CQE_PASS_FD		(1U << 2)	/* provider -> kernel only */
#define RXU_CQE_ZC_DATA		(1U << 3)	/* provider -> kernel only, below */
#define RXU_CQE_EVENT_SHIFT	8

/* Event flags (Redox values for READ and WRITE). */
#define RXU_EVENT_READ		(1U << 0)
#define RXU_EVENT_WRITE		(1U << 1)
#define RXU_EVENT_IO_URING	(1U << 2)
#define RXU_EVENT_ALL		(RXU_EVENT_READ | RXU_EVENT_WRITE | RXU_EVENT_IO_URING)

/* Redox struct Event: the record of an event: queue (section 6). */
struct rxu_event {
	__u64	id;			/* the watched fd */
	__u64	flags;			/* RXU_EVENT_* mask, 0 removes */
	__u64	data;
};

/* --- Section 5: standard opcodes (0-127); 128-255 belong to a scheme --- */

enum rxu_opcode {
	RXU_OP_NOOP		= 0,
	RXU_OP_OPEN		= 1,
	RXU_OP_CLOSE		= 2,
	RXU_OP_CLOSE_RANGE	= 3,
	RXU_OP_READ		= 4,
	RXU_OP_READV		= 5,
	RXU_OP_PREAD		= 6,
	RXU_OP_PREADV		= 7,
	RXU_OP_WRITE		= 8,
	RXU_OP_WRITEV		= 9,
	RXU_OP_PWRITE		= 10,
	RXU_OP_PWRITEV		= 11,
	RXU_OP_DUP		= 12,
	RXU_OP_MMAP		= 13,
	RXU_OP_FILES_UPDATE	= 14,
	RXU_OP_REGISTER_EVENTS	= RXU_OP_FILES_UPDATE,
	RXU_OP_SEEK		= 15,
	RXU_OP_FSTAT		= 16,
	RXU_OP_FSYNC		= 17,
	RXU_OP_FTRUNCATE	= 18,
	RXU_OP_STANDARD_LAST,			/* first unused number */

	RXU_OP_RECV_IORING	= 64,		/* kernel -> provider only */
	RXU_OP_SCHEME_FIRST	= 128,		/* 128-255: scheme-defined */
};

/* syscall_flags of OPEN, DUP and FSYNC. */
#define RXU_OPEN_AT		(1U << 0)	/* fd is the directory fd */
#define RXU_DUP_PARAM		(1U << 0)	/* addr/len = parameter bytes */
#define RXU_FSYNC_DATASYNC	(1U << 0)	/* fdatasync */

/* DUP parameter that turns a u2u instance fd into a pool fd (section 7). */
#define RXU_DUP_PARAM_POOL	"pool"

/* A range a pool fd's read() reports to the provider (section 7). */
struct rxu_pool_range {
	__u64	offset;
	__u64	size;
};

/*
 * Zero-copy READ answers (an extension of section 7; docs/zero-copy.md).
 *
 * A provider opts in with RXU_IOC_SCHEME_FEATURES on its own instance
 * fd (struct rxu_scheme_features; unknown feature bits or a nonzero
 * reserved field are EINVAL, a provider with 32-bit entries gets
 * EOPNOTSUPP).  On any fd that is not an attached provider the ioctl is
 * unknown (ENOTTY), as it is on modules without the extension, so it
 * doubles as a probe, and every section 1 rule about ioctls holds as it
 * was.  A provider that never sends it sees exactly section 7.
 *
 * With RXU_SCHEME_FEAT_ZC_READ, each READ and PREAD SQE made after the
 * ioctl carries RXU_RW_ZC in syscall_flags; len is the consumer's whole
 * request (up to RXU_SCHEME_ZC_MAX), addr still locates room in the data
 * region and additional1 says how many bytes of room that is (it may be
 * less than len).  The provider answers in one of two ways:
 *  - as before: the bytes at addr in the data region, status <= additional1;
 *  - with RXU_CQE_ZC_DATA: status = n <= len bytes, extra = the address
 *    of those n bytes in the answering process's own memory (the process
 *    that rings the doorbell with ENTER).  During that ENTER the kernel
 *    copies them straight into the consumer's buffer (the buffer of the
 *    request answered, noted when the consumer made the request), with
 *    one copy; once the ENTER returns, the range is the provider's to
 *    reuse or unmap.
 * An address the answering process cannot read makes the request fail
 * with EIO, as does RXU_CQE_ZC_DATA on any SQE without RXU_RW_ZC; a
 * consumer buffer that is no longer writable makes it fail with EFAULT,
 * and then nothing is written.  The consumer never sees extra (its CQE's
 * extra is 0), so the provider's address layout does not leak; the
 * provider never sees the consumer's memory or addresses.  An answer to
 * a request its consumer gave up is not copied.  Neither side ever maps
 * the other's memory.
 */
#define RXU_SCHEME_FEAT_ZC_READ	(1ULL << 0)
#define RXU_SCHEME_FEATS_ALL	RXU_SCHEME_FEAT_ZC_READ

#define RXU_RW_ZC		(1U << 0)	/* READ/PREAD SQE: ZC_DATA welcome */
#define RXU_SCHEME_ZC_MAX	(1U << 20)	/* bytes of one zero-copy READ */

struct rxu_scheme_features {
	__u64	features;		/* RXU_SCHEME_FEAT_* */
	__u64	reserved;		/* must be 0 */
};

/* --- Section 1, 6 and 7: ioctls on an instance fd --- */

struct rxu_attach {
	__u64	name;			/* pointer to the name, no NUL */
	__u64	name_len;
};

#define RXU_ENTER_ONLY_NOTIFY		(1U << 0)
#define RXU_ENTER_WAKEUP_ON_SQ_AVAIL	(1U << 1)
#define RXU_ENTER_FLAGS_ALL		(RXU_ENTER_ONLY_NOTIFY | \
					 RXU_ENTER_WAKEUP_ON_SQ_AVAIL)

struct rxu_enter {
	__u64	min_complete;
	__u64	min_submit;		/* must be 0 in 1.0 */
	__u32	flags;			/* RXU_ENTER_* */
	__u32	reserved;		/* must be 0 */
	__u64	timeout_ns;		/* 0: no timeout */
};

#define RXU_RECV_BITS_32	(1U << 0)
#define RXU_RECV_FROM_KERNEL	(1U << 1)

struct rxu_recv_info {
	__u8	version_major;		/* out */
	__u8	version_minor;		/* out */
	__u8	version_patch;		/* out */
	__u8	reserved;
	__u32	flags;			/* out: RXU_RECV_* */
	__u64	ticket;			/* in: addr of the RECV_IORING SQE */
	__u64	producer_fd;		/* out: the new producer instance fd */
	__u64	sq_entry_count;		/* out */
	__u64	cq_entry_count;		/* out */
};

#define RXU_IOC_MAGIC		'x'
#define RXU_IOC_ATTACH		_IOW(RXU_IOC_MAGIC, 1, struct rxu_attach)
#define RXU_IOC_ENTER		_IOW(RXU_IOC_MAGIC, 2, struct rxu_enter)
#define RXU_IOC_RECV		_IOWR(RXU_IOC_MAGIC, 3, struct rxu_recv_info)
/* A number far from 1.0's, for the extension (above). */
#define RXU_IOC_SCHEME_FEATURES	_IOW(RXU_IOC_MAGIC, 0x20, \
				     struct rxu_scheme_features)

/* --- compile-time layout checks --- */

#ifdef __cplusplus
#define __RXU_ASSERT(cond, msg)	static_assert(cond, msg)
#else
#define __RXU_ASSERT(cond, msg)	_Static_assert(cond, msg)
#endif
#define __RXU_SIZE(t, n)	__RXU_ASSERT(sizeof(struct t) == (n), #t " size")
#define __RXU_OFF(t, f, n)	\
	__RXU_ASSERT(__builtin_offsetof(struct t, f) == (n), #t "." #f " offset")

__RXU_SIZE(rxu_create_info, 32);
__RXU_OFF(rxu_create_info, version_major, 0);
__RXU_OFF(rxu_create_info, version_minor, 1);
__RXU_OFF(rxu_create_info, version_patch, 2);
__RXU_OFF(rxu_create_info, reserved, 3);
__RXU_OFF(rxu_create_info, flags, 4);
__RXU_OFF(rxu_create_info, len, 8);
__RXU_OFF(rxu_create_info, sq_entry_count, 16);
__RXU_OFF(rxu_create_info, cq_entry_count, 24);

__RXU_SIZE(rxu_ring_header, 6 * RXU_CACHE_SLOT);
__RXU_OFF(rxu_ring_header, entry_count, 0);
__RXU_OFF(rxu_ring_header, head_index, 1 * RXU_CACHE_SLOT);
__RXU_OFF(rxu_ring_header, tail_index, 2 * RXU_CACHE_SLOT);
__RXU_OFF(rxu_ring_header, status, 3 * RXU_CACHE_SLOT);
__RXU_OFF(rxu_ring_header, push_epoch, 4 * RXU_CACHE_SLOT);
__RXU_OFF(rxu_ring_header, pop_epoch, 5 * RXU_CACHE_SLOT);

__RXU_SIZE(rxu_sqe64, 64);
__RXU_ASSERT(_Alignof(struct rxu_sqe64) == 64, "rxu_sqe64 alignment");
__RXU_OFF(rxu_sqe64, opcode, 0);
__RXU_OFF(rxu_sqe64, flags, 1);
__RXU_OFF(rxu_sqe64, priority, 2);
__RXU_OFF(rxu_sqe64, syscall_flags, 4);
__RXU_OFF(rxu_sqe64, fd, 8);
__RXU_OFF(rxu_sqe64, len, 16);
__RXU_OFF(rxu_sqe64, user_data, 24);
__RXU_OFF(rxu_sqe64, addr, 32);
__RXU_OFF(rxu_sqe64, offset, 40);
__RXU_OFF(rxu_sqe64, additional1, 48);
__RXU_OFF(rxu_sqe64, additional2, 56);

__RXU_SIZE(rxu_cqe64, 32);
__RXU_ASSERT(_Alignof(struct rxu_cqe64) == 32, "rxu_cqe64 alignment");
__RXU_OFF(rxu_cqe64, user_data, 0);
__RXU_OFF(rxu_cqe64, status, 8);
__RXU_OFF(rxu_cqe64, flags, 16);
__RXU_OFF(rxu_cqe64, extra, 24);

__RXU_SIZE(rxu_sqe32, 32);
__RXU_ASSERT(_Alignof(struct rxu_sqe32) == 32, "rxu_sqe32 alignment");
__RXU_OFF(rxu_sqe32, opcode, 0);
__RXU_OFF(rxu_sqe32, flags, 1);
__RXU_OFF(rxu_sqe32, priority, 2);
__RXU_OFF(rxu_sqe32, syscall_flags, 4);
__RXU_OFF(rxu_sqe32, fd, 8);
__RXU_OFF(rxu_sqe32, len, 12);
__RXU_OFF(rxu_sqe32, user_data, 16);
__RXU_OFF(rxu_sqe32, addr, 20);
__RXU_OFF(rxu_sqe32, offset, 24);

__RXU_SIZE(rxu_cqe32, 16);
__RXU_ASSERT(_Alignof(struct rxu_cqe32) == 16, "rxu_cqe32 alignment");
__RXU_OFF(rxu_cqe32, user_data, 0);
__RXU_OFF(rxu_cqe32, status, 4);
__RXU_OFF(rxu_cqe32, flags, 8);
__RXU_OFF(rxu_cqe32, extra, 12);

__RXU_SIZE(rxu_event, 24);
__RXU_OFF(rxu_event, id, 0);
__RXU_OFF(rxu_event, flags, 8);
__RXU_OFF(rxu_event, data, 16);

__RXU_SIZE(rxu_pool_range, 16);
__RXU_OFF(rxu_pool_range, offset, 0);
__RXU_OFF(rxu_pool_range, size, 8);

__RXU_SIZE(rxu_scheme_features, 16);
__RXU_OFF(rxu_scheme_features, features, 0);
__RXU_OFF(rxu_scheme_features, reserved, 8);

__RXU_SIZE(rxu_attach, 16);
__RXU_OFF(rxu_attach, name, 0);
__RXU_OFF(rxu_attach, name_len, 8);

__RXU_SIZE(rxu_enter, 32);
__RXU_OFF(rxu_enter, min_complete, 0);
__RXU_OFF(rxu_enter, min_submit, 8);
__RXU_OFF(rxu_enter, flags, 16);
__RXU_OFF(rxu_enter, reserved, 20);
__RXU_OFF(rxu_enter, timeout_ns, 24);

__RXU_SIZE(rxu_recv_info, 40);
__RXU_OFF(rxu_recv_info, version_major, 0);
__RXU_OFF(rxu_recv_info, version_minor, 1);
__RXU_OFF(rxu_recv_info, version_patch, 2);
__RXU_OFF(rxu_recv_info, reserved, 3);
__RXU_OFF(rxu_recv_info, flags, 4);
__RXU_OFF(rxu_recv_info, ticket, 8);
__RXU_OFF(rxu_recv_info, producer_fd, 16);
__RXU_OFF(rxu_recv_info, sq_entry_count, 24);
__RXU_OFF(rxu_recv_info, cq_entry_count, 32);

#undef __RXU_OFF
#undef __RXU_SIZE
#undef __RXU_ASSERT

#endif /* _UAPI_LINUX_REDOX_URING_H */
