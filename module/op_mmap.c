// SPDX-License-Identifier: GPL-2.0
/*
 * MMAP: map a file (or anonymous memory) into the caller, as mmap(2)
 * does: fd, addr = hint, len, offset, syscall_flags = PROT_*,
 * additional1 = MAP_*.  The status is the address.
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <uapi/linux/redox_uring.h>

#include "instance.h"
#include "opdef.h"

#define RXU_MMAP_PROT	(PROT_READ | PROT_WRITE | PROT_EXEC)

struct rxu_mmap {
	int fd;			/* -1 for MAP_ANONYMOUS */
	unsigned long prot;
	unsigned long flags;
	unsigned long addr;
	unsigned long len;
	unsigned long offset;
};

int rxu_mmap_prep(struct rxu_req *req, const struct rxu_sqe *sqe)
{
	struct rxu_mmap *mm = rxu_req_cmd(req, struct rxu_mmap);

	if (sqe->syscall_flags & ~RXU_MMAP_PROT || sqe->additional1 > U32_MAX)
		return -EINVAL;
	mm->prot = sqe->syscall_flags;
	mm->flags = sqe->additional1;
	/* The hugetlb file mmap(2) makes for this is not ours to make. */
	if (mm->flags & MAP_HUGETLB)
		return -EINVAL;
	if (!sqe->len || sqe->len > TASK_SIZE || sqe->addr > TASK_SIZE)
		return -EINVAL;
	if (offset_in_page(sqe->offset) || sqe->offset > LLONG_MAX)
		return -EINVAL;
	/* mmap(2) ignores fd for anonymous memory; so do we. */
	if (mm->flags & MAP_ANONYMOUS) {
		mm->fd = -1;
	} else {
		mm->fd = rxu_sqe_fd(sqe->fd);
		if (mm->fd < 0)
			return mm->fd;
	}
	mm->addr = sqe->addr;
	mm->len = sqe->len;
	mm->offset = sqe->offset;
	return 0;
}

s64 rxu_mmap(struct rxu_req *req)
{
	struct rxu_mmap *mm = rxu_req_cmd(req, struct rxu_mmap);
	struct file *file = NULL;
	unsigned long addr;

	if (mm->fd >= 0) {
		file = fget(mm->fd);
		if (!file)
			return -EBADF;
	}
	addr = vm_mmap(file, mm->addr, mm->len, mm->prot, mm->flags,
		       mm->offset);
	if (file)
		fput(file);
	if (IS_ERR_VALUE(addr))
		return (long)addr;
	/* A 32-bit status cannot carry a high address: do not leak it. */
	if (rxu_is_bits32(req->inst) && addr > U32_MAX - MAX_ERRNO - 1) {
		vm_munmap(addr, mm->len);
		return -EOVERFLOW;
	}
	return addr;
}
