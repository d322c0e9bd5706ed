/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the redox_uring selftests.
 *
 * They talk to the module with raw open/write/mmap/ioctl and do ring
 * pushes and pops themselves (ABI.md section 3), so that what a test
 * checks never depends on librxu.  Every function that can fail returns
 * -errno and leaves the decision to the test.
 */
#ifndef RXU_TEST_H
#define RXU_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/redox_uring.h>

/* Byte offsets of the ring header fields (ABI.md section 3). */
#define RXT_HDR_ENTRY_COUNT	(0 * RXU_CACHE_SLOT)
#define RXT_HDR_HEAD		(1 * RXU_CACHE_SLOT)
#define RXT_HDR_TAIL		(2 * RXU_CACHE_SLOT)
#define RXT_HDR_STATUS		(3 * RXU_CACHE_SLOT)
#define RXT_HDR_PUSH_EPOCH	(4 * RXU_CACHE_SLOT)
#define RXT_HDR_POP_EPOCH	(5 * RXU_CACHE_SLOT)

#define RXT_PAGE		4096UL
#define RXT_DEFAULT_MAX_ENTRIES	32768ULL

/* Regions, in the order of ABI.md section 3. */
enum { RXT_SQ_HDR, RXT_SQ_ENT, RXT_CQ_HDR, RXT_CQ_ENT, RXT_NREGIONS };
extern const uint64_t rxt_region_off[RXT_NREGIONS];
extern const char *const rxt_region_name[RXT_NREGIONS];

/* Device node: $RXU_DEVICE, else /dev/redox_uring. */
const char *rxt_dev_path(void);
/* open(O_RDWR | O_CLOEXEC): fd or -errno. */
int rxt_dev_open(void);
/* Nonzero when the device node does not exist (module not loaded). */
int rxt_dev_missing(void);

/* A version 1.0.0 create info. */
struct rxu_create_info rxt_ci(uint64_t sq, uint64_t cq, uint32_t flags);
/* write(fd, buf, len): bytes written or -errno. */
ssize_t rxt_write(int fd, const void *buf, size_t len);
/* write() a create info: 32 or -errno. */
ssize_t rxt_create(int fd, uint64_t sq, uint64_t cq, uint32_t flags);

size_t rxt_sqe_size(uint32_t create_flags);
size_t rxt_cqe_size(uint32_t create_flags);
/* Size of region r for this geometry (ABI.md section 3). */
size_t rxt_region_size(int r, uint64_t sq, uint64_t cq, uint32_t flags);
/* mmap(NULL, len, RW, mapflags, fd, off): address, or NULL with *err = -errno. */
void *rxt_mmap_off(int fd, uint64_t off, size_t len, int mapflags, int *err);

/* ioctl(RXU_IOC_ATTACH) with name/len: 0 or -errno. */
int rxt_attach(int fd, const char *name, size_t len);
int rxt_attach_kernel(int fd);
/* ioctl(RXU_IOC_ENTER): the count or -errno. */
int64_t rxt_enter_raw(int fd, const struct rxu_enter *e);
int64_t rxt_enter_fd(int fd, uint64_t min_complete, uint32_t flags,
		     uint64_t timeout_ns);

/* A test instance: fd, geometry and the four mappings. */
struct rxt {
	int fd;
	uint32_t flags;
	uint64_t sq_n, cq_n;
	size_t sqe_size, cqe_size;
	void *map[RXT_NREGIONS];
	size_t len[RXT_NREGIONS];
};

#define RXT_INIT { .fd = -1 }

/* open + create (no mapping): 0 or -errno; t->fd set on success. */
int rxt_open_create(struct rxt *t, uint64_t sq, uint64_t cq, uint32_t flags);
/* Map region r with its exact size, MAP_SHARED: 0 or -errno. */
int rxt_map_region(struct rxt *t, int r);
int rxt_map_all(struct rxt *t);
/* open + create + map all + attach "io_uring:": 0 or -errno. */
int rxt_setup(struct rxt *t, uint64_t sq, uint64_t cq, uint32_t flags);
/* Take over an Initial instance fd (e.g. from an OPEN of io_uring:). */
int rxt_setup_fd(struct rxt *t, int fd, uint64_t sq, uint64_t cq,
		 uint32_t flags);
void rxt_unmap(struct rxt *t);
/* Close the fd only (mappings stay). */
void rxt_close_fd(struct rxt *t);
/* Unmap and close; safe on RXT_INIT. */
void rxt_destroy(struct rxt *t);

/* Ring header access by byte offset. */
static inline uint64_t rxt_hdr_get(const void *hdr, size_t off)
{
	return __atomic_load_n((const uint64_t *)((const char *)hdr + off),
			       __ATOMIC_ACQUIRE);
}

static inline void rxt_hdr_set(void *hdr, size_t off, uint64_t v)
{
	__atomic_store_n((uint64_t *)((char *)hdr + off), v, __ATOMIC_RELEASE);
}

static inline void *rxt_sqh(const struct rxt *t) { return t->map[RXT_SQ_HDR]; }
static inline void *rxt_cqh(const struct rxt *t) { return t->map[RXT_CQ_HDR]; }

/* Entries available in a ring: (tail - head) mod 2n, computed by the test. */
uint64_t rxt_ring_avail(const void *hdr, uint64_t n);
uint64_t rxt_sq_avail(const struct rxt *t);
uint64_t rxt_cq_avail(const struct rxt *t);

/* Address of the entry slot for an index value (slot = value & (n-1)). */
void *rxt_sq_slot(const struct rxt *t, uint64_t index);
void *rxt_cq_slot(const struct rxt *t, uint64_t index);

/* A 64-bit SQE with the given fields, everything else zero. */
struct rxu_sqe64 rxt_sqe(uint8_t opcode, uint64_t fd, uint64_t addr,
			 uint64_t len, uint64_t offset, uint64_t user_data);

/*
 * Push one SQE as the pusher does (slot, tail release, push_epoch + 1),
 * narrowed to struct rxu_sqe32 on a BITS_32 instance.  0, -EAGAIN when
 * full, -EOVERFLOW when a field does not fit 32-bit entries.
 */
int rxt_push(struct rxt *t, const struct rxu_sqe64 *sqe);
/* Push a raw entry of t->sqe_size bytes. */
int rxt_push_raw(struct rxt *t, const void *entry);
/*
 * Pop one CQE (head release, pop_epoch + 1) widened to 64 bits; the
 * status of a 32-bit CQE is sign-extended.  0 or -EAGAIN.
 */
int rxt_pop(struct rxt *t, struct rxu_cqe64 *cqe);
/* Pop a raw entry of t->cqe_size bytes. */
int rxt_pop_raw(struct rxt *t, void *entry);

int64_t rxt_enter(struct rxt *t, uint64_t min_complete, uint32_t flags,
		  uint64_t timeout_ns);
/*
 * Push sqe, ENTER with min_complete 1 (timeout 10 s), pop one CQE.
 * 0 or -errno of the harness step that failed.
 */
int rxt_run1(struct rxt *t, const struct rxu_sqe64 *sqe,
	     struct rxu_cqe64 *cqe);
/* The result of running sqe: the CQE status as int64_t, or RXT_NO_CQE. */
#define RXT_NO_CQE	INT64_MIN
int64_t rxt_run(struct rxt *t, const struct rxu_sqe64 *sqe);
/* A DUP of fd with parameter bytes param (RXU_DUP_PARAM), e.g. "pool". */
struct rxu_sqe64 rxt_sqe_dup_param(int fd, const char *param,
				   uint64_t user_data);
/* Run that DUP through t: the new fd, or -errno (RXT_NO_CQE). */
int64_t rxt_dup_param(struct rxt *t, int fd, const char *param);

uint64_t rxt_now_ns(void);

/* The fd number the next open/dup would get, or -errno. */
int rxt_lowest_free_fd(void);
/* Nonzero when fd is open in this process. */
int rxt_fd_is_open(int fd);

/* /sys/module/redox_uring/parameters/NAME as a number, or -1. */
long long rxt_param(const char *name);
uint64_t rxt_max_entries(void);

/* A fresh directory under $TMPDIR or /tmp (buf >= 64 bytes): 0 or -errno. */
int rxt_tmpdir(char *buf, size_t len);
void rxt_rmtree(const char *path);
/* Create/replace a file with the given content: 0 or -errno. */
int rxt_write_file(const char *path, const void *buf, size_t len);
/* Read a whole (small) file into buf: bytes or -errno. */
ssize_t rxt_read_file(const char *path, void *buf, size_t len);
/* /proc/redox_uring's garbage count of scheme name, or -errno. */
long long rxt_scheme_garbage(const char *name);

/*
 * Kernel log: rxt_kmsg_open() returns an fd positioned at the end of
 * /dev/kmsg (or -errno); rxt_kmsg_splat() reads what was logged since and
 * returns 1 (copying the line) if it contains a warning, BUG, oops ...
 */
int rxt_kmsg_open(void);
int rxt_kmsg_splat(int fd, char *line, size_t len);

#endif /* RXU_TEST_H */
