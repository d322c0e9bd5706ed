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
	/*
	 * librxu's private copy of the peer's index (head for the side that
	 * pushes, tail for the side that pops), tagged with the role that
	 * loaded it; 0 (a zeroed struct, rxu_ring_init) means none.  It sits
	 * in what was tail padding, so the struct keeps its size.
	 */
	uint32_t peer_cache;
};

#if defined(__LP64__) && !defined(__cplusplus)
_Static_assert(sizeof(struct rxu_ring) == 32,
	       "struct rxu_ring must keep its size (peer_cache is in padding)");
#endif

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

/*
 * A provider's zero-copy answer to a READ/PREAD SQE that carries
 * RXU_RW_ZC (after RXU_IOC_SCHEME_FEATURES with RXU_SCHEME_FEAT_ZC_READ
 * on its instance fd; docs/zero-copy.md): n bytes at bytes, in this
 * process's memory, which must stay mapped and unchanged until the ENTER
 * that hands the CQE to the kernel has returned; the kernel pins them
 * then and the consumer copies straight from them.
 */
static inline void rxu_prep_zc_answer(struct rxu_cqe64 *cqe, uint64_t user_data,
				      const void *bytes, uint64_t n)
{
	*cqe = (struct rxu_cqe64){
		.user_data = user_data, .status = n,
		.flags = RXU_CQE_ZC_DATA, .extra = (uintptr_t)bytes,
	};
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

/*
 * A u2u client's first steps (lib/u2u.c).  rxu_u2u_connect(): open a new
 * instance with entries SQ and CQ entries, map it and ATTACH it to
 * "SCHEME:" (scheme without the colon); -EINVAL for an empty name or one
 * with a colon, else the failing step's -errno, with the instance closed.
 * rxu_u2u_pool(): adopt the result of a DUP of that instance with
 * RXU_DUP_PARAM_POOL (rxu_prep_dup_param; a negative result is returned
 * as it is), map its first size bytes (a multiple of 4096) at *base and
 * point *mem at them; on failure the pool fd is closed.
 */
int rxu_u2u_connect(struct rxu_instance *in, const char *scheme,
		    uint64_t entries);
int rxu_u2u_pool(struct rxu_pool *p, int64_t dup_res, uint64_t size,
		 uint64_t *base, void **mem);

/* ================================================================== */
/* Reactor and executor (lib/reactor.c, lib/executor.c)                */
/* ================================================================== */

/*
 * After redox-iou (REDOX-FACTS.md section 7), in C with callbacks.
 *
 * A reactor owns one PRIMARY ring (ring id RXU_RING_PRIMARY: a u2k
 * instance attached to "io_uring:", the kernel as producer) and up to
 * RXU_REACTOR_MAX_RINGS - 1 SECONDARY rings, each one of:
 *  - a consumer ring (rxu_reactor_add_consumer): the consumer side of a
 *    u2u ring; we push SQEs and pop CQEs;
 *  - a producer ring (rxu_reactor_add_producer): the producer side of a
 *    u2u ring (from RXU_IOC_RECV) or a provider's k2u ring (attached to
 *    ":NAME", the kernel pushing SQEs); we pop SQEs and push CQEs.
 * Each secondary ring with a real fd is watched by a FILES_UPDATE
 * SUBSCRIBE with RXU_EVENT_IO_URING on the primary ring, so one blocking
 * ENTER on the primary waits for everything.
 *
 * Fully polled mode.  A ring whose instance has fd < 0 (memory only:
 * shared memory with a peer that never enters, or the host tests) is
 * never entered; with such a ring, or without a primary, or with a
 * primary whose fd < 0, rxu_reactor_run_once() never blocks, it polls.
 * The ring layer needs nothing but memory, so the whole reactor runs
 * without the kernel module in this mode.
 *
 * Requests (executor.c).  rxu_submit() pushes an SQE with a mandatory
 * callback and an optional context, and returns the request's id.  Per
 * request state lives in a fixed table (max_requests slots); user_data
 * on the wire is:
 *  - on the primary (trusted: the kernel, 64-bit entries): the pointer
 *    of the request's slot, with no lookup (redox-iou's Weak pointers);
 *  - on secondary rings (untrusted peers) and 32-bit primaries: a tag,
 *    (generation << 16) | slot index, which fits 32 bits.  A CQE whose
 *    tag names no slot, a free slot, an older generation or a request
 *    of another ring is counted in struct rxu_reactor_stats and ignored:
 *    a peer can never complete a request it was not sent, nor crash us.
 * The callback gets the CQE with user_data replaced by the request id.
 * A request ends with its CQE; a FILES_UPDATE with a non-empty mask is
 * multi-shot: its callback sees the status CQE, every EVENT CQE and the
 * LAST_UPDATE CQE, and it ends with LAST_UPDATE (or an error status).
 * SQEs that find the SQ full wait in the reactor (in submission order)
 * and are pushed as room frees.  When a ring is dropped by its peer or
 * found broken, its requests complete with -ESHUTDOWN (or -EIO); when
 * it is removed, with -ECANCELED.
 *
 * Producer streams.  SQEs popped from a producer ring go to its handler,
 * one call per SQE, in ring order.  At most `bound` of them may be
 * outstanding (popped, not yet answered with rxu_reactor_reply or
 * rxu_reactor_respond): at the bound the reactor stops popping and the
 * peer sees a full SQ (back-pressure).  A reply that finds the CQ full
 * waits in the reactor and still counts as outstanding until pushed.
 * rxu_reactor_post() pushes a CQE that answers no SQE (e.g. an EVENT
 * CQE of a provider).  When the ring is dropped or broken the handler
 * is called once with sqe == NULL.
 *
 * Straight-line code.  C has no coroutines, so the completion model is
 * callbacks, and they are mandatory.  For code that reads better in a
 * straight line (setup, tools, tests), rxu_reactor_wait() runs the loop
 * until one given request has completed, dispatching every other
 * callback meanwhile, and rxu_reactor_call() is submit + wait + result.
 * Neither may be called from inside a callback or handler (-EDEADLK):
 * nested loops would reorder completions.
 *
 * Threads.  A reactor belongs to one thread; only rxu_reactor_notify()
 * may be called from another one (it wakes a blocked run_once).
 * Instances stay owned by the caller: the reactor never closes them.
 */
#define RXU_RING_PRIMARY	0
#define RXU_REACTOR_MAX_RINGS	64
#define RXU_REACTOR_MAX_REQUESTS 32768

struct rxu_reactor;

/* A completion: cqe->user_data is the request id from rxu_submit(). */
typedef void (*rxu_cqe_fn)(struct rxu_reactor *r,
			   const struct rxu_cqe64 *cqe, void *ctx);
/* An SQE popped from producer ring `ring`; NULL once when it is gone. */
typedef void (*rxu_sqe_fn)(struct rxu_reactor *r, int ring,
			   const struct rxu_sqe64 *sqe, void *ctx);

struct rxu_reactor_stats {
	uint64_t cqes;			/* CQEs given to callbacks */
	uint64_t sqes;			/* SQEs given to producer handlers */
	uint64_t bad_tag;		/* user_data naming no request slot */
	uint64_t stale_tag;		/* a slot's older generation */
	uint64_t unknown_tag;		/* a slot with no request in flight */
	uint64_t wrong_ring;		/* a request submitted on another ring */
	uint64_t cancelled;		/* CQEs of cancelled requests, dropped */
	uint64_t dead_rings;		/* rings found dropped or broken */
	uint64_t doorbell_errors;	/* failed ENTERs on secondary rings */
};

/*
 * Make a reactor with max_requests request slots (1 ..
 * RXU_REACTOR_MAX_REQUESTS).  primary may be NULL (polled mode only).
 */
int rxu_reactor_create(struct rxu_reactor **rp, struct rxu_instance *primary,
		       uint32_t max_requests);
/* Free it; requests still in flight are forgotten (no callback). */
void rxu_reactor_destroy(struct rxu_reactor *r);

/*
 * Add a secondary ring; returns its ring id (> 0) or -errno (-ENOSPC
 * when RXU_REACTOR_MAX_RINGS are in use, -ENOBUFS when no request slot
 * is left for its watch).  bound: 1 .. the SQ's entry count or more.
 */
int rxu_reactor_add_consumer(struct rxu_reactor *r, struct rxu_instance *in);
int rxu_reactor_add_producer(struct rxu_reactor *r, struct rxu_instance *in,
			     uint32_t bound, rxu_sqe_fn handler, void *ctx);
/*
 * Forget a secondary ring: its requests complete with -ECANCELED, its
 * watch is ended, queued replies are dropped.  The instance is untouched.
 */
int rxu_reactor_remove(struct rxu_reactor *r, int ring);

/*
 * Submit *sqe (user_data is ignored: the reactor sets it) on a primary
 * or consumer ring.  *id (if id) gets the request id.  -EINVAL (no
 * callback, bad ring, a producer ring), -ENOBUFS (no free slot),
 * -ESHUTDOWN (the ring is gone), -EOVERFLOW (does not fit a 32-bit SQE).
 */
int rxu_submit(struct rxu_reactor *r, int ring, const struct rxu_sqe64 *sqe,
	       rxu_cqe_fn cb, void *ctx, uint64_t *id);
/*
 * Never call this request's callback.  A request not yet pushed is
 * dropped at once; one in flight keeps its slot until its (last) CQE
 * arrives, which is then dropped.  -ENOENT if id is not live.
 */
int rxu_cancel(struct rxu_reactor *r, uint64_t id);
/* Nonzero while request id has not completed (nor been cancelled). */
int rxu_request_live(const struct rxu_reactor *r, uint64_t id);

/*
 * Producer rings: answer one outstanding SQE with *cqe (counted
 * against the bound), or post a CQE that answers none.  0, -EINVAL (not
 * a producer ring, or nothing outstanding), -ESHUTDOWN (ring gone),
 * -EOVERFLOW (does not fit a 32-bit CQE), -ENOMEM.
 */
int rxu_reactor_reply(struct rxu_reactor *r, int ring,
		      const struct rxu_cqe64 *cqe);
int rxu_reactor_respond(struct rxu_reactor *r, int ring, uint64_t user_data,
			int64_t status);
int rxu_reactor_post(struct rxu_reactor *r, int ring,
		     const struct rxu_cqe64 *cqe);
/* SQEs of a producer ring popped and not yet answered, or -EINVAL. */
int64_t rxu_reactor_outstanding(const struct rxu_reactor *r, int ring);

/*
 * For a provider answering SEEK (the provider keeps each handle's
 * position): the new position for whence (SEEK_SET/CUR/END) and off,
 * from the handle's pos and size; -EINVAL (bad whence, or before 0) or
 * -EOVERFLOW.
 */
int64_t rxu_seek_position(uint64_t pos, uint64_t size, uint32_t whence,
			  int64_t off);

#define RXU_RUN_NOWAIT		(1U << 0)

/*
 * One turn of the loop: push waiting SQEs and replies, pop and dispatch
 * every CQE and (up to the bounds) every SQE, ring the doorbells.  If
 * nothing was dispatched and the reactor can block (see polled mode)
 * and flags has no RXU_RUN_NOWAIT, wait in one ENTER on the primary
 * (timeout_ns 0 = no timeout) and dispatch what came.  Returns the
 * number of CQEs and SQEs dispatched (0 on timeout), or -errno (-EINTR,
 * -EDEADLK from a callback, the primary's ENTER error).
 */
int rxu_reactor_run_once(struct rxu_reactor *r, uint64_t timeout_ns,
			 uint32_t flags);
/* run_once until rxu_reactor_stop() (then 0) or an error. */
int rxu_reactor_run(struct rxu_reactor *r);
void rxu_reactor_stop(struct rxu_reactor *r);
/*
 * Run the loop until request id has completed: 0, -ETIME after
 * timeout_ns (0 = none), -EINVAL for an id that was never a slot, or a
 * run_once error.  An id no longer live returns 0 at once.
 */
int rxu_reactor_wait(struct rxu_reactor *r, uint64_t id, uint64_t timeout_ns);
/*
 * Straight-line call: submit, wait, return the CQE's result (>= 0 or
 * -errno; *cqe gets the last CQE if cqe).  A submit or wait failure is
 * returned the same way, and a request that timed out is cancelled.
 */
int64_t rxu_reactor_call(struct rxu_reactor *r, int ring,
			 const struct rxu_sqe64 *sqe, struct rxu_cqe64 *cqe,
			 uint64_t timeout_ns);
/* A ready-made callback: copies the CQE into ctx (a struct rxu_cqe64 *). */
void rxu_cqe_store(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		   void *ctx);
/* From any thread: wake a run_once blocked on the primary. */
int rxu_reactor_notify(struct rxu_reactor *r);
void rxu_reactor_stats(const struct rxu_reactor *r,
		       struct rxu_reactor_stats *st);
/* Request slots in use. */
uint32_t rxu_reactor_requests(const struct rxu_reactor *r);

/*
 * Producer side of one instance without a reactor: pop one SQE (widened
 * from 32 bits; fd and addr zero-extended) and push one CQE (narrowed on
 * a BITS_32 instance: -EOVERFLOW if user_data, flags or extra exceed 32
 * bits or status is neither -4095..-1 nor 0..0xFFFFF000).
 */
int rxu_pop_sqe(struct rxu_instance *in, struct rxu_sqe64 *sqe);
int rxu_push_cqe(struct rxu_instance *in, const struct rxu_cqe64 *cqe);

#ifdef __cplusplus
}
#endif

#endif /* RXU_H */
