// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the redox_uring selftests (see rxu_test.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rxu_test.h"

const uint64_t rxt_region_off[RXT_NREGIONS] = {
	RXU_OFF_SQ_HEADER, RXU_OFF_SQ_ENTRIES,
	RXU_OFF_CQ_HEADER, RXU_OFF_CQ_ENTRIES,
};

const char *const rxt_region_name[RXT_NREGIONS] = {
	"sq_header", "sq_entries", "cq_header", "cq_entries",
};

const char *rxt_dev_path(void)
{
	const char *p = getenv("RXU_DEVICE");

	return p && *p ? p : RXU_DEVICE_PATH;
}

int rxt_dev_open(void)
{
	int fd = open(rxt_dev_path(), O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int rxt_dev_missing(void)
{
	struct stat st;

	return stat(rxt_dev_path(), &st) != 0;
}

struct rxu_create_info rxt_ci(uint64_t sq, uint64_t cq, uint32_t flags)
{
	struct rxu_create_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.version_major = RXU_VERSION_MAJOR;
	ci.version_minor = RXU_VERSION_MINOR;
	ci.version_patch = RXU_VERSION_PATCH;
	ci.flags = flags;
	ci.len = sizeof(ci);
	ci.sq_entry_count = sq;
	ci.cq_entry_count = cq;
	return ci;
}

ssize_t rxt_write(int fd, const void *buf, size_t len)
{
	ssize_t r = write(fd, buf, len);

	return r < 0 ? -errno : r;
}

ssize_t rxt_create(int fd, uint64_t sq, uint64_t cq, uint32_t flags)
{
	struct rxu_create_info ci = rxt_ci(sq, cq, flags);

	return rxt_write(fd, &ci, sizeof(ci));
}

size_t rxt_sqe_size(uint32_t create_flags)
{
	return create_flags & RXU_CREATE_BITS_32 ? sizeof(struct rxu_sqe32)
						 : sizeof(struct rxu_sqe64);
}

size_t rxt_cqe_size(uint32_t create_flags)
{
	return create_flags & RXU_CREATE_BITS_32 ? sizeof(struct rxu_cqe32)
						 : sizeof(struct rxu_cqe64);
}

static size_t page_round(uint64_t bytes)
{
	return (bytes + RXT_PAGE - 1) & ~(uint64_t)(RXT_PAGE - 1);
}

size_t rxt_region_size(int r, uint64_t sq, uint64_t cq, uint32_t flags)
{
	switch (r) {
	case RXT_SQ_HDR:
	case RXT_CQ_HDR:
		return RXU_HEADER_SIZE;
	case RXT_SQ_ENT:
		return page_round(sq * rxt_sqe_size(flags));
	case RXT_CQ_ENT:
		return page_round(cq * rxt_cqe_size(flags));
	}
	return 0;
}

void *rxt_mmap_off(int fd, uint64_t off, size_t len, int mapflags, int *err)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, mapflags, fd,
		       (off_t)off);

	if (p == MAP_FAILED) {
		*err = -errno;
		return NULL;
	}
	*err = 0;
	return p;
}

int rxt_attach(int fd, const char *name, size_t len)
{
	struct rxu_attach a = {
		.name = (uintptr_t)name,
		.name_len = len,
	};

	return ioctl(fd, RXU_IOC_ATTACH, &a) < 0 ? -errno : 0;
}

int rxt_attach_kernel(int fd)
{
	return rxt_attach(fd, RXU_SCHEME_KERNEL, strlen(RXU_SCHEME_KERNEL));
}

int64_t rxt_enter_raw(int fd, const struct rxu_enter *e)
{
	long r = ioctl(fd, RXU_IOC_ENTER, e);

	return r < 0 ? -errno : r;
}

int64_t rxt_enter_fd(int fd, uint64_t min_complete, uint32_t flags,
		     uint64_t timeout_ns)
{
	struct rxu_enter e = {
		.min_complete = min_complete,
		.flags = flags,
		.timeout_ns = timeout_ns,
	};

	return rxt_enter_raw(fd, &e);
}

int rxt_open_create(struct rxt *t, uint64_t sq, uint64_t cq, uint32_t flags)
{
	int fd = rxt_dev_open();

	if (fd < 0)
		return fd;
	return rxt_setup_fd(t, fd, sq, cq, flags);
}

static int rxt_create_on(struct rxt *t, int fd, uint64_t sq, uint64_t cq,
			 uint32_t flags)
{
	ssize_t r;
	int i;

	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->flags = flags;
	t->sq_n = sq;
	t->cq_n = cq;
	t->sqe_size = rxt_sqe_size(flags);
	t->cqe_size = rxt_cqe_size(flags);
	for (i = 0; i < RXT_NREGIONS; i++)
		t->len[i] = rxt_region_size(i, sq, cq, flags);
	r = rxt_create(fd, sq, cq, flags);
	if (r < 0)
		return (int)r;
	return r == sizeof(struct rxu_create_info) ? 0 : -EPROTO;
}

int rxt_map_region(struct rxt *t, int r)
{
	int err;

	t->map[r] = rxt_mmap_off(t->fd, rxt_region_off[r], t->len[r],
				 MAP_SHARED, &err);
	return err;
}

int rxt_map_all(struct rxt *t)
{
	int i, err;

	for (i = 0; i < RXT_NREGIONS; i++) {
		if (t->map[i])
			continue;
		err = rxt_map_region(t, i);
		if (err)
			return err;
	}
	return 0;
}

int rxt_setup_fd(struct rxt *t, int fd, uint64_t sq, uint64_t cq,
		 uint32_t flags)
{
	return rxt_create_on(t, fd, sq, cq, flags);
}

int rxt_setup(struct rxt *t, uint64_t sq, uint64_t cq, uint32_t flags)
{
	int err = rxt_open_create(t, sq, cq, flags);

	if (err)
		return err;
	err = rxt_map_all(t);
	if (err)
		return err;
	return rxt_attach_kernel(t->fd);
}

void rxt_unmap(struct rxt *t)
{
	int i;

	for (i = 0; i < RXT_NREGIONS; i++) {
		if (t->map[i])
			munmap(t->map[i], t->len[i]);
		t->map[i] = NULL;
	}
}

void rxt_close_fd(struct rxt *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

void rxt_destroy(struct rxt *t)
{
	rxt_unmap(t);
	rxt_close_fd(t);
}

uint64_t rxt_ring_avail(const void *hdr, uint64_t n)
{
	uint64_t head = rxt_hdr_get(hdr, RXT_HDR_HEAD);
	uint64_t tail = rxt_hdr_get(hdr, RXT_HDR_TAIL);

	return (tail - head) & (2 * n - 1);
}

uint64_t rxt_sq_avail(const struct rxt *t)
{
	return rxt_ring_avail(rxt_sqh(t), t->sq_n);
}

uint64_t rxt_cq_avail(const struct rxt *t)
{
	return rxt_ring_avail(rxt_cqh(t), t->cq_n);
}

void *rxt_sq_slot(const struct rxt *t, uint64_t index)
{
	return (char *)t->map[RXT_SQ_ENT] + (index & (t->sq_n - 1)) * t->sqe_size;
}

void *rxt_cq_slot(const struct rxt *t, uint64_t index)
{
	return (char *)t->map[RXT_CQ_ENT] + (index & (t->cq_n - 1)) * t->cqe_size;
}

struct rxu_sqe64 rxt_sqe(uint8_t opcode, uint64_t fd, uint64_t addr,
			 uint64_t len, uint64_t offset, uint64_t user_data)
{
	struct rxu_sqe64 s;

	memset(&s, 0, sizeof(s));
	s.opcode = opcode;
	s.fd = fd;
	s.addr = addr;
	s.len = len;
	s.offset = offset;
	s.user_data = user_data;
	return s;
}

int rxt_push_raw(struct rxt *t, const void *entry)
{
	void *hdr = rxt_sqh(t);
	uint64_t n = t->sq_n;
	uint64_t head = rxt_hdr_get(hdr, RXT_HDR_HEAD);
	uint64_t tail = rxt_hdr_get(hdr, RXT_HDR_TAIL);

	if (((tail - head) & (2 * n - 1)) >= n)
		return -EAGAIN;
	memcpy(rxt_sq_slot(t, tail), entry, t->sqe_size);
	rxt_hdr_set(hdr, RXT_HDR_TAIL, (tail + 1) & (2 * n - 1));
	rxt_hdr_set(hdr, RXT_HDR_PUSH_EPOCH,
		    rxt_hdr_get(hdr, RXT_HDR_PUSH_EPOCH) + 1);
	return 0;
}

int rxt_push(struct rxt *t, const struct rxu_sqe64 *sqe)
{
	struct rxu_sqe32 s32;

	if (!(t->flags & RXU_CREATE_BITS_32))
		return rxt_push_raw(t, sqe);
	if (sqe->fd > UINT32_MAX || sqe->len > UINT32_MAX ||
	    sqe->user_data > UINT32_MAX || sqe->addr > UINT32_MAX ||
	    sqe->additional1 || sqe->additional2)
		return -EOVERFLOW;
	memset(&s32, 0, sizeof(s32));
	s32.opcode = sqe->opcode;
	s32.flags = sqe->flags;
	s32.priority = sqe->priority;
	s32.syscall_flags = sqe->syscall_flags;
	s32.fd = (uint32_t)sqe->fd;
	s32.len = (uint32_t)sqe->len;
	s32.user_data = (uint32_t)sqe->user_data;
	s32.addr = (uint32_t)sqe->addr;
	s32.offset = sqe->offset;
	return rxt_push_raw(t, &s32);
}

int rxt_pop_raw(struct rxt *t, void *entry)
{
	void *hdr = rxt_cqh(t);
	uint64_t n = t->cq_n;
	uint64_t head = rxt_hdr_get(hdr, RXT_HDR_HEAD);
	uint64_t tail = rxt_hdr_get(hdr, RXT_HDR_TAIL);

	if (head == tail)
		return -EAGAIN;
	memcpy(entry, rxt_cq_slot(t, head), t->cqe_size);
	rxt_hdr_set(hdr, RXT_HDR_HEAD, (head + 1) & (2 * n - 1));
	rxt_hdr_set(hdr, RXT_HDR_POP_EPOCH,
		    rxt_hdr_get(hdr, RXT_HDR_POP_EPOCH) + 1);
	return 0;
}

int rxt_pop(struct rxt *t, struct rxu_cqe64 *cqe)
{
	struct rxu_cqe32 c32;
	int err;

	if (!(t->flags & RXU_CREATE_BITS_32))
		return rxt_pop_raw(t, cqe);
	err = rxt_pop_raw(t, &c32);
	if (err)
		return err;
	cqe->user_data = c32.user_data;
	cqe->status = (uint64_t)(int64_t)(int32_t)c32.status;
	cqe->flags = c32.flags;
	cqe->extra = c32.extra;
	return 0;
}

int64_t rxt_enter(struct rxt *t, uint64_t min_complete, uint32_t flags,
		  uint64_t timeout_ns)
{
	return rxt_enter_fd(t->fd, min_complete, flags, timeout_ns);
}

int rxt_run1(struct rxt *t, const struct rxu_sqe64 *sqe, struct rxu_cqe64 *cqe)
{
	int64_t r;
	int err;

	err = rxt_push(t, sqe);
	if (err)
		return err;
	r = rxt_enter(t, 1, 0, 10ULL * 1000 * 1000 * 1000);
	if (r < 0)
		return (int)r;
	return rxt_pop(t, cqe);
}

int64_t rxt_run(struct rxt *t, const struct rxu_sqe64 *sqe)
{
	struct rxu_cqe64 cqe;

	if (rxt_run1(t, sqe, &cqe))
		return RXT_NO_CQE;
	return (int64_t)cqe.status;
}

struct rxu_sqe64 rxt_sqe_dup_param(int fd, const char *param,
				   uint64_t user_data)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_DUP, (uint64_t)fd, (uintptr_t)param,
				     strlen(param), 0, user_data);

	s.syscall_flags = RXU_DUP_PARAM;
	return s;
}

int64_t rxt_dup_param(struct rxt *t, int fd, const char *param)
{
	struct rxu_sqe64 s = rxt_sqe_dup_param(fd, param, 0xd0);

	return rxt_run(t, &s);
}

uint64_t rxt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int rxt_lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD, 0);

	if (fd < 0) {
		/* fd 0 may be closed: then it is the lowest free one */
		return errno == EBADF ? 0 : -errno;
	}
	close(fd);
	return fd;
}

int rxt_fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

long long rxt_param(const char *name)
{
	char path[256], buf[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s",
		 RXU_DEVICE_NAME, name);
	n = rxt_read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (buf[0] == 'Y')
		return 1;
	if (buf[0] == 'N')
		return 0;
	return strtoll(buf, NULL, 0);
}

uint64_t rxt_max_entries(void)
{
	long long v = rxt_param("max_entries");

	return v > 0 ? (uint64_t)v : RXT_DEFAULT_MAX_ENTRIES;
}

int rxt_tmpdir(char *buf, size_t len)
{
	const char *base = getenv("TMPDIR");

	if (!base || !*base)
		base = "/tmp";
	if ((size_t)snprintf(buf, len, "%s/rxu-test.XXXXXX", base) >= len)
		return -ENAMETOOLONG;
	return mkdtemp(buf) ? 0 : -errno;
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void rxt_rmtree(const char *path)
{
	if (path && *path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int rxt_write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t w;
	int err = 0;

	if (fd < 0)
		return -errno;
	w = write(fd, buf, len);
	if (w < 0)
		err = -errno;
	else if ((size_t)w != len)
		err = -EIO;
	close(fd);
	return err;
}

ssize_t rxt_read_file(const char *path, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = read(fd, buf, len);
	if (r < 0)
		r = -errno;
	close(fd);
	return r;
}

int rxt_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int rxt_kmsg_splat(int fd, char *line, size_t len)
{
	static const char *const bad[] = {
		"BUG:", "WARNING:", "Oops", "general protection",
		"circular locking", "suspicious RCU", "UBSAN:", "KASAN:",
		"kernel BUG", "Call Trace", "unreferenced object",
	};
	char rec[8192];
	ssize_t n;
	size_t i;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EPIPE)	/* overwritten records */
				continue;
			return 0;		/* EAGAIN: nothing more */
		}
		rec[n] = '\0';
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (strstr(rec, bad[i])) {
				snprintf(line, len, "%s", rec);
				return 1;
			}
		}
	}
}

long long rxt_scheme_garbage(const char *name)
{
	char buf[8192], key[64], *p;
	ssize_t n;

	n = rxt_read_file("/proc/redox_uring", buf, sizeof(buf) - 1);
	if (n < 0)
		return n;
	buf[n] = '\0';
	snprintf(key, sizeof(key), "scheme %s pid ", name);
	p = strstr(buf, key);
	if (!p)
		return -ENOENT;
	p = strstr(p, " garbage ");
	return p ? atoll(p + 9) : -EINVAL;
}
