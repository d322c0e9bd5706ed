/* SPDX-License-Identifier: MIT */
/*
 * librxu: the userspace side of redox_uring.
 *
 * Three layers, each usable alone:
 *  - rings (ring.c): SPSC push/pop on any shared memory laid out as in
 *    ABI.md section 3; no syscalls, usable by u2u peers and in tests;
 *  - instances (instance.c): open /dev/redox_uring, create, map the four
 *    regions, attach, enter;
 *  - SQE preparation (inline below): one helper per standard opcode,
 *    filling a struct rxu_sqe64 that rxu_queue_sqe() pushes, narrowed to
 *    32-bit entries when the instance uses them.
 *
 * Every function that can fail returns -errno (as liburing does) and
 * leaves errno alone.
 */
#ifndef RXU_H
#define RXU_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <linux/redox_uring.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Rings                                                               */
/* ------------------------------------------------------------------ */

/* One ring as seen from one side. */
struct rxu_ring {
	struct rxu_ring_header *hdr;
	void *entries;
	uint64_t entry_count;		/* n, a power of two (our own copy) */
	uint32_t entry_size;		/* bytes per entry */
};

/*
 * Bind a ring to a header and an entry array.  n must be a power of two
 * in [1, 2^31]; entry_size nonzero.  Does not touch the memory.
 */
int rxu_ring_init(struct rxu_ring *r, void *hdr, void *entries,
		  uint64_t entry_count, uint32_t entry_size);

/* Initialise a fresh header (entry_count, zero indices) for host-side use. */
void rxu_ring_header_reset(struct rxu_ring_header *hdr, uint64_t entry_count);

/*
 * Entries available to pop (0..n), or -EIO if the header is broken
 * (an index outside [0, 2n) or more than n entries).
 */
int64_t rxu_ring_available(const struct rxu_ring *r);

/* Free slots (0..n), or -EIO. */
int64_t rxu_ring_free(const struct rxu_ring *r);

/*
 * Push one entry (entry_size bytes).  0, -EAGAIN when full,
 * -ESHUTDOWN when the status has RXU_RING_DROP, -EIO when broken.
 */
int rxu_ring_push(struct rxu_ring *r, const void *entry);

/*
 * Pop one entry.  0, -EAGAIN when empty (and not dropped),
 * -ESHUTDOWN when empty and dropped, -EIO when broken.
 */
int rxu_ring_pop(struct rxu_ring *r, void *entry);

/*
 * Batch interface for the pushing side: rxu_ring_push_slot() returns a
 * pointer to the i-th free slot after the tail (i < free count) without
 * publishing it; rxu_ring_push_commit() publishes count slots at once
 * (tail += count with release ordering, then push_epoch += count).
 */
void *rxu_ring_push_slot(struct rxu_ring *r, uint64_t i);
void rxu_ring_push_commit(struct rxu_ring *r, uint64_t count);

/* Same for the popping side: peek at the i-th entry, then commit. */
const void *rxu_ring_pop_slot(const struct rxu_ring *r, uint64_t i);
void rxu_ring_pop_commit(struct rxu_ring *r, uint64_t count);

/*
 * Batch interface with one check per batch, as liburing's inline SQE and
 * CQE access: rxu_ring_push_reserve() returns how many of want slots are
 * free after the tail (0 when full; -ESHUTDOWN on DROP, -EIO when broken)
 * and stores the tail in *pos; entries pos, pos + 1, ... are then reached
 * with rxu_ring_entry() and published with rxu_ring_push_commit().
 * rxu_ring_pop_reserve() returns how many entries are present (or -EIO),
 * the head in *pos; release them with rxu_ring_pop_commit().
 */
int64_t rxu_ring_push_reserve(const struct rxu_ring *r, uint64_t want,
			      uint64_t *pos);
int64_t rxu_ring_pop_reserve(const struct rxu_ring *r, uint64_t *pos);

/* The entry at ring index pos: any value, only its slot is used. */
static inline void *rxu_ring_entry(const struct rxu_ring *r, uint64_t pos)
{
	return (char *)r->entries +
	       (size_t)(pos & (r->entry_count - 1)) * r->entry_size;
}

/* Status word helpers. */
void rxu_ring_set_drop(struct rxu_ring *r);
int rxu_ring_dropped(const struct rxu_ring *r);

/* ------------------------------------------------------------------ */
/* Instances                                                           */
/* ------------------------------------------------------------------ */

struct rxu_instance {
	int fd;
	uint32_t create_flags;		/* RXU_CREATE_* */
	/*
	 * As a consumer (u2k, or the consumer side of u2u): push to sq,
	 * pop from cq.  As a provider: pop from sq, push to cq.
	 */
	struct rxu_ring sq;
	struct rxu_ring cq;
	void *map[4];			/* SQ hdr, SQ entries, CQ hdr, CQ entries */
	size_t map_len[4];
};

/* Size of region i (0..3, in RXU_OFF_* order) for the given geometry. */
size_t rxu_region_size(int region, uint64_t sq_entries, uint64_t cq_entries,
		       uint32_t create_flags);

/* open(RXU_DEVICE_PATH); in->fd = result. */
int rxu_instance_open(struct rxu_instance *in);
/* Adopt an existing Initial/Created instance fd (e.g. from an OPEN of io_uring:). */
void rxu_instance_from_fd(struct rxu_instance *in, int fd);
/* write() a struct rxu_create_info (version 1.0.0). */
int rxu_instance_create(struct rxu_instance *in, uint64_t sq_entries,
			uint64_t cq_entries, uint32_t create_flags);
/*
 * Record the geometry of an instance created elsewhere (an fd received
 * from RXU_IOC_RECV or passed over a socket) so that rxu_instance_map()
 * can map it; rxu_instance_create() does this itself.  Counts are powers
 * of two in [1, 2^31], flags RXU_CREATE_*; -EINVAL otherwise, -EBUSY if
 * the instance is already mapped.
 */
int rxu_instance_set_geometry(struct rxu_instance *in, uint64_t sq_entries,
			      uint64_t cq_entries, uint32_t create_flags);
/* mmap the four regions MAP_SHARED and bind in->sq / in->cq. */
int rxu_instance_map(struct rxu_instance *in);
/* ioctl(RXU_IOC_ATTACH) with name (no NUL sent). */
int rxu_instance_attach(struct rxu_instance *in, const char *name);
/* open + create + map + attach "io_uring:". Cleans up on failure. */
int rxu_setup(struct rxu_instance *in, uint64_t sq_entries,
	      uint64_t cq_entries, uint32_t create_flags);
/* munmap whatever is mapped, close the fd. Safe on a zeroed struct. */
void rxu_instance_close(struct rxu_instance *in);

/*
 * ioctl(RXU_IOC_ENTER).  Returns the number of entries available in the
 * ring this side pops from, or -errno (-ETIME, -EINTR, -EIO, ...).
 */
int64_t rxu_enter(struct rxu_instance *in, uint64_t min_complete,
		  uint32_t flags, uint64_t timeout_ns);

/* ------------------------------------------------------------------ */
/* Consumer side: SQEs and CQEs                                        */
/* ------------------------------------------------------------------ */

/*
 * Push one SQE (always given in 64-bit form) to in->sq; narrowed to
 * struct rxu_sqe32 on a BITS_32 instance (-EOVERFLOW if a field does not
 * fit, -EINVAL if additional1/2 are used).  -EAGAIN when the SQ is full.
 */
int rxu_queue_sqe(struct rxu_instance *in, const struct rxu_sqe64 *sqe);

/*
 * Pop one CQE into the 64-bit form (status sign-extended from 32 bits on
 * a BITS_32 instance).  -EAGAIN when empty.
 */
int rxu_pop_cqe(struct rxu_instance *in, struct rxu_cqe64 *cqe);

/*
 * Pop one CQE, entering the kernel (min_complete = 1) while the CQ is
 * empty.  timeout_ns 0 = wait forever.
 */
int rxu_wait_cqe(struct rxu_instance *in, struct rxu_cqe64 *cqe,
		 uint64_t timeout_ns);

/* The signed result of a CQE: >= 0 success, -4095..-1 an error. */
static inline int64_t rxu_cqe_result(const struct rxu_cqe64 *cqe)
{
	return (int64_t)cqe->status;
}

/* ------------------------------------------------------------------ */
/* SQE preparation, one helper per standard opcode (ABI.md section 5)  */
/* ------------------------------------------------------------------ */

static inline void rxu_prep_rw(struct rxu_sqe64 *sqe, uint8_t op, uint64_t fd,
			       uint64_t addr, uint64_t len, uint64_t offset,
			       uint64_t user_data)
{
	*sqe = (struct rxu_sqe64){
		.opcode = op, .fd = fd, .addr = addr, .len = len,
		.offset = offset, .user_data = user_data,
	};
}

static inline void rxu_prep_nop(struct rxu_sqe64 *sqe, uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_NOOP, 0, 0, 0, 0, user_data);
}

/* OPEN: path of len bytes (no NUL needed), Linux O_* flags, mode. */
static inline void rxu_prep_open(struct rxu_sqe64 *sqe, const char *path,
				 uint64_t len, int flags, mode_t mode,
				 uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_OPEN, 0, (uintptr_t)path, len,
		    (uint64_t)(unsigned int)flags, user_data);
	sqe->additional1 = mode;
}

static inline void rxu_prep_openat(struct rxu_sqe64 *sqe, int dirfd,
				   const char *path, uint64_t len, int flags,
				   mode_t mode, uint64_t user_data)
{
	rxu_prep_open(sqe, path, len, flags, mode, user_data);
	sqe->fd = (uint64_t)dirfd;
	sqe->syscall_flags = RXU_OPEN_AT;
}

static inline void rxu_prep_close(struct rxu_sqe64 *sqe, int fd,
				  uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_CLOSE, (uint64_t)fd, 0, 0, 0, user_data);
}

static inline void rxu_prep_close_range(struct rxu_sqe64 *sqe, int first,
					uint64_t count, uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_CLOSE_RANGE, (uint64_t)first, 0, count, 0,
		    user_data);
}

static inline void rxu_prep_read(struct rxu_sqe64 *sqe, int fd, void *buf,
				 uint64_t len, uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_READ, (uint64_t)fd, (uintptr_t)buf, len, 0,
		    user_data);
}

static inline void rxu_prep_readv(struct rxu_sqe64 *sqe, int fd,
				  const struct iovec *iov, uint64_t nr,
				  uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_READV, (uint64_t)fd, (uintptr_t)iov, nr, 0,
		    user_data);
}

static inline void rxu_prep_pread(struct rxu_sqe64 *sqe, int fd, void *buf,
				  uint64_t len, uint64_t offset,
				  uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_PREAD, (uint64_t)fd, (uintptr_t)buf, len,
		    offset, user_data);
}

static inline void rxu_prep_preadv(struct rxu_sqe64 *sqe, int fd,
				   const struct iovec *iov, uint64_t nr,
				   uint64_t offset, uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_PREADV, (uint64_t)fd, (uintptr_t)iov, nr,
		    offset, user_data);
}

static inline void rxu_prep_write(struct rxu_sqe64 *sqe, int fd,
				  const void *buf, uint64_t len,
				  uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_WRITE, (uint64_t)fd, (uintptr_t)buf, len, 0,
		    user_data);
}

static inline void rxu_prep_writev(struct rxu_sqe64 *sqe, int fd,
				   const struct iovec *iov, uint64_t nr,
				   uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_WRITEV, (uint64_t)fd, (uintptr_t)iov, nr, 0,
		    user_data);
}

static inline void rxu_prep_pwrite(struct rxu_sqe64 *sqe, int fd,
				   const void *buf, uint64_t len,
				   uint64_t offset, uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_PWRITE, (uint64_t)fd, (uintptr_t)buf, len,
		    offset, user_data);
}

static inline void rxu_prep_pwritev(struct rxu_sqe64 *sqe, int fd,
				    const struct iovec *iov, uint64_t nr,
				    uint64_t offset, uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_PWRITEV, (uint64_t)fd, (uintptr_t)iov, nr,
		    offset, user_data);
}

static inline void rxu_prep_dup(struct rxu_sqe64 *sqe, int fd,
				uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_DUP, (uint64_t)fd, 0, 0, 0, user_data);
}

/* DUP with parameter bytes (e.g. RXU_DUP_PARAM_POOL on a u2u instance). */
static inline void rxu_prep_dup_param(struct rxu_sqe64 *sqe, int fd,
				      const void *param, uint64_t len,
				      uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_DUP, (uint64_t)fd, (uintptr_t)param, len, 0,
		    user_data);
	sqe->syscall_flags = RXU_DUP_PARAM;
}

static inline void rxu_prep_mmap(struct rxu_sqe64 *sqe, int fd, void *hint,
				 uint64_t len, int prot, int flags,
				 uint64_t offset, uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_MMAP, (uint64_t)fd, (uintptr_t)hint, len,
		    offset, user_data);
	sqe->syscall_flags = (uint32_t)prot;
	sqe->additional1 = (uint64_t)(unsigned int)flags;
}

/* FILES_UPDATE: watch fd for mask (RXU_EVENT_*); subscribe = multi-shot. */
static inline void rxu_prep_files_update(struct rxu_sqe64 *sqe, int fd,
					 uint32_t mask, int subscribe,
					 uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_FILES_UPDATE, (uint64_t)fd, 0, 0, 0,
		    user_data);
	sqe->syscall_flags = mask;
	if (subscribe)
		sqe->flags |= RXU_SQE_SUBSCRIBE;
}

static inline void rxu_prep_seek(struct rxu_sqe64 *sqe, int fd, int64_t offset,
				 int whence, uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_SEEK, (uint64_t)fd, 0, 0, (uint64_t)offset,
		    user_data);
	sqe->syscall_flags = (uint32_t)whence;
}

/* FSTAT: buf points to a struct stat of len bytes. */
static inline void rxu_prep_fstat(struct rxu_sqe64 *sqe, int fd, void *buf,
				  uint64_t len, uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_FSTAT, (uint64_t)fd, (uintptr_t)buf, len, 0,
		    user_data);
}

static inline void rxu_prep_fsync(struct rxu_sqe64 *sqe, int fd, int datasync,
				  uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_FSYNC, (uint64_t)fd, 0, 0, 0, user_data);
	sqe->syscall_flags = datasync ? RXU_FSYNC_DATASYNC : 0;
}

static inline void rxu_prep_ftruncate(struct rxu_sqe64 *sqe, int fd,
				      uint64_t length, uint64_t user_data)
{
	rxu_prep_rw(sqe, RXU_OP_FTRUNCATE, (uint64_t)fd, 0, 0, length,
		    user_data);
}

/* ================================================================== */
/* Events: FILES_UPDATE subscriptions and event: queues (lib/events.c) */
/* ================================================================== */

/*
 * A FILES_UPDATE SQE (rxu_prep_files_update(), with SUBSCRIBE for
 * multi-shot) is answered by CQEs that all carry its user_data:
 *  1. a status CQE, flags 0: 0 or -errno;
 *  2. EVENT CQEs: rxu_cqe_is_event(), the fired RXU_EVENT_* mask in
 *     rxu_cqe_event_mask(), status = the watched fd.  The first comes at
 *     once if the fd is ready at registration, later ones on each change;
 *  3. one CQE with rxu_cqe_is_last_update() when the subscription ends:
 *     after its one event without SUBSCRIBE, after a FILES_UPDATE with an
 *     empty mask on the same fd (rxu_prep_files_update_end()), or when
 *     the watched instance or the ring goes away.
 * Test the EVENT and LAST_UPDATE bits independently.
 */

/* Nonzero if the CQE carries RXU_CQE_EVENT. */
int rxu_cqe_is_event(const struct rxu_cqe64 *cqe);
/* Nonzero if the CQE carries RXU_CQE_LAST_UPDATE: the subscription ended. */
int rxu_cqe_is_last_update(const struct rxu_cqe64 *cqe);
/* The RXU_EVENT_* mask of an EVENT CQE (flags >> RXU_CQE_EVENT_SHIFT). */
uint32_t rxu_cqe_event_mask(const struct rxu_cqe64 *cqe);

/*
 * FILES_UPDATE with an empty mask: ends the subscription on fd.  Its own
 * status CQE carries user_data; the subscription's LAST_UPDATE CQE
 * carries the subscription's user_data (use different values to tell
 * them apart).
 */
void rxu_prep_files_update_end(struct rxu_sqe64 *sqe, int fd,
			       uint64_t user_data);

/*
 * OPEN of "event:": the CQE's status is a new event queue fd.  flags may
 * add O_CLOEXEC and O_NONBLOCK; the access mode is always O_RDWR.
 */
void rxu_prep_open_event_queue(struct rxu_sqe64 *sqe, int flags,
			       uint64_t user_data);

/*
 * Watch fd for mask (RXU_EVENT_*) on event queue qfd: write() of one
 * struct rxu_event {id = fd, flags = mask, data}.  Mask 0 removes the
 * watch (rxu_event_queue_unregister()).  0, or -errno (-EBADF for a
 * negative fd, -EIO if the queue took part of the record).
 */
int rxu_event_queue_register(int qfd, int fd, uint64_t mask, uint64_t data);
int rxu_event_queue_unregister(int qfd, int fd);

/*
 * read() up to max ready records from qfd into ev.  Returns how many (0
 * if max is 0), or -errno: -EAGAIN on an empty O_NONBLOCK queue, -EIO if
 * the read returned a partial record.
 */
int rxu_event_queue_read(int qfd, struct rxu_event *ev, size_t max);


/* ================================================================== */
/* Pools: the shared buffers of u2u rings (lib/pool.c, ABI.md 7)       */
/* ================================================================== */

/*
 * A pool fd comes from a DUP of a u2u instance fd (either side) with the
 * parameter RXU_DUP_PARAM_POOL, through a kernel ring (rxu_prep_dup_param).
 * Ranges of it are mapped at page-aligned pool offsets; SQEs and CQEs of
 * the u2u ring carry pool offsets, never pointers.
 *
 * Consumer: rxu_pool_map()/rxu_pool_grow() map a new range (the kernel
 * allocates its pages) and give it to a first-fit allocator
 * (rxu_pool_alloc/rxu_pool_free) whose blocks never straddle two ranges.
 * Provider: rxu_pool_update() learns the consumer's new ranges from its
 * own pool fd and maps them.  Both: rxu_pool_ptr() turns an offset from
 * the (untrusted) peer into a pointer after bounds checks.
 *
 * A pool belongs to one thread.  The struct is public so that it can
 * live anywhere; treat its fields as read-only.
 */
struct rxu_pool_map {
	uint64_t offset;		/* pool offset, page-aligned */
	uint64_t size;			/* bytes, a multiple of 4096 */
	void *addr;			/* where it is mapped here */
	int allocatable;		/* mapped by rxu_pool_map/grow */
};

struct rxu_pool_extent {
	uint64_t offset;
	uint64_t size;
};

struct rxu_pool {
	int fd;				/* the pool fd (owned) */
	struct rxu_pool_map *maps;	/* sorted by offset, disjoint */
	size_t nr_maps, cap_maps;
	struct rxu_pool_extent *free;	/* the allocator's free extents */
	size_t nr_free, cap_free;
	uint64_t end;			/* highest mapped offset + size */
};

/* Adopt a pool fd (closed by rxu_pool_close).  Maps nothing yet. */
int rxu_pool_init(struct rxu_pool *p, int fd);
/* Unmap every range, close the fd, free the tables.  Safe twice. */
void rxu_pool_close(struct rxu_pool *p);

/*
 * Consumer: mmap [offset, offset + size) of the pool fd (both multiples
 * of 4096, size > 0) and add it to the allocator.  *addr (if addr) gets
 * the mapping.  -EINVAL for a bad range, -EEXIST if it overlaps a range
 * already mapped, or mmap's -errno.
 */
int rxu_pool_map(struct rxu_pool *p, uint64_t offset, uint64_t size,
		 void **addr);
/* Consumer: map size bytes right after the highest mapped range. */
int rxu_pool_grow(struct rxu_pool *p, uint64_t size, uint64_t *offset);

/*
 * Allocate size bytes aligned to align (a power of two; 0 = 64) from
 * the ranges mapped by rxu_pool_map/grow; *offset gets the pool offset.
 * -ENOMEM when no free extent fits.  rxu_pool_free() gives a block back
 * (size as allocated); -EINVAL if it is not inside one such range or
 * overlaps free space (a double free).
 */
int rxu_pool_alloc(struct rxu_pool *p, uint64_t size, uint64_t align,
		   uint64_t *offset);
int rxu_pool_free(struct rxu_pool *p, uint64_t offset, uint64_t size);

/*
 * Provider: read() up to max new range records from the pool fd.
 * Returns how many (0 when there is none: never blocks), -EIO on a torn
 * record.  rxu_pool_update() reads them all and maps each range (not
 * allocatable: the consumer allocates); returns how many were mapped,
 * -EIO on a malformed record, or mmap's -errno.
 */
int rxu_pool_read_ranges(struct rxu_pool *p, struct rxu_pool_range *out,
			 size_t max);
int rxu_pool_update(struct rxu_pool *p);

/*
 * Bounds-checked translation.  rxu_pool_ptr(): pointer to
 * [offset, offset + len) if it lies inside one mapped range, else NULL
 * (also for offsets whose sum would wrap).  rxu_pool_check(): 0 or
 * -EFAULT, the status to answer a peer with.  rxu_pool_offset(): the
 * reverse, -EFAULT if [ptr, ptr + len) is not inside one range.
 * rxu_region_ptr(): the same check on any single region of size bytes
 * at base (e.g. a provider's scheme data region).
 */
void *rxu_pool_ptr(const struct rxu_pool *p, uint64_t offset, uint64_t len);
int rxu_pool_check(const struct rxu_pool *p, uint64_t offset, uint64_t len);
int rxu_pool_offset(const struct rxu_pool *p, const void *ptr, uint64_t len,
		    uint64_t *offset);
void *rxu_region_ptr(void *base, uint64_t size, uint64_t offset,
		     uint64_t len);

#ifdef __cplusplus
}
#endif

#endif /* RXU_H */
