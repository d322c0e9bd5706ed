// SPDX-License-Identifier: GPL-2.0
/*
 * OPEN, CLOSE, CLOSE_RANGE, DUP: the caller's file descriptor table.
 *
 * OPEN takes a Redox path: "name:rest" (a ':' before the first '/') names
 * a scheme, anything else is a Linux path.  "io_uring:" makes a new
 * instance, "event:" a new event queue; any other name is a registered
 * scheme, to whose provider the OPEN goes (scheme.c), or -ENODEV.
 */
#include <linux/fcntl.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/limits.h>
#include <linux/namei.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/stat.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <uapi/linux/redox_uring.h>

#include "events.h"
#include "instance.h"
#include "opdef.h"
#include "scheme.h"

struct rxu_open {
	int dirfd;		/* AT_FDCWD unless RXU_OPEN_AT */
	int flags;		/* O_* */
	umode_t mode;
	u64 path;
	u32 len;
};

int rxu_open_prep(struct rxu_req *req, const struct rxu_sqe *sqe)
{
	struct rxu_open *op = rxu_req_cmd(req, struct rxu_open);

	if (sqe->syscall_flags & ~RXU_OPEN_AT)
		return -EINVAL;
	op->dirfd = AT_FDCWD;
	if (!(sqe->syscall_flags & RXU_OPEN_AT)) {
		if (sqe->fd)
			return -EINVAL;
	} else if ((s64)sqe->fd != AT_FDCWD) {
		op->dirfd = rxu_sqe_fd(sqe->fd);
		if (op->dirfd < 0)
			return op->dirfd;
	}
	if (sqe->offset > U32_MAX || sqe->additional1 & ~(u64)S_IALLUGO)
		return -EINVAL;
	if (!sqe->len)
		return -ENOENT;
	if (sqe->len >= PATH_MAX)
		return -ENAMETOOLONG;
	op->flags = (int)sqe->offset;
	/* As open(2) and openat(2) do on 64-bit. */
	if (force_o_largefile())
		op->flags |= O_LARGEFILE;
	op->mode = sqe->additional1;
	op->path = sqe->addr;
	op->len = sqe->len;
	return 0;
}

static bool rxu_is_name(const char *path, size_t name_len, const char *name)
{
	return name_len == strlen(name) && !memcmp(path, name, name_len);
}

/* "io_uring:" and "event:" (name_len counts the ':'), served here. */
static bool rxu_is_kernel_scheme(const char *path, size_t name_len)
{
	return rxu_is_name(path, name_len, RXU_SCHEME_KERNEL) ||
	       rxu_is_name(path, name_len, RXU_SCHEME_EVENT);
}

static struct file *rxu_open_scheme(const char *path, size_t name_len,
				    int flags)
{
	if (rxu_is_name(path, name_len, RXU_SCHEME_KERNEL))
		return rxu_instance_new_file(flags);
	return rxu_evq_new_file(flags);
}

/*
 * A provider's scheme: the OPEN goes to it with what follows the ':',
 * and completes in a later ENTER (-EIOCBQUEUED), or fails now.
 */
static s64 rxu_open_provided(struct rxu_req *req, const char *path,
			     size_t name_len, const struct rxu_open *op)
{
	const char *rest = path + name_len + 1;
	struct rxu_scheme *s;
	s64 ret;

	if (op->flags & O_PATH)
		return -EINVAL;
	s = rxu_scheme_lookup(path, name_len);
	if (!s)
		return -ENODEV;
	ret = rxu_scheme_open(req, s, rest, strlen(rest), op->flags, op->mode);
	rxu_scheme_put(s);
	return ret;
}

static struct file *rxu_open_linux(int dirfd, const char *path, int flags,
				   umode_t mode)
{
	struct file *dir, *file;

	if (dirfd == AT_FDCWD || path[0] == '/')
		return filp_open(path, flags, mode);
	/*
	 * Relative to a directory fd.  file_open_root() resolves beneath
	 * that directory: ".." and absolute symlinks stop at it (as with
	 * openat2's RESOLVE_IN_ROOT), which a Redox scheme-style path
	 * expects; modules have no plain openat().
	 */
	dir = fget(dirfd);
	if (!dir)
		return ERR_PTR(-EBADF);
	file = file_open_root(&dir->f_path, path, flags, mode);
	fput(dir);
	return file;
}

s64 rxu_open(struct rxu_req *req)
{
	struct rxu_open *op = rxu_req_cmd(req, struct rxu_open);
	struct file *file;
	char *path, *colon, *slash;
	s64 fd;

	path = kmalloc(op->len + 1, GFP_KERNEL_ACCOUNT);
	if (!path)
		return -ENOMEM;
	if (copy_from_user(path, u64_to_user_ptr(op->path), op->len)) {
		fd = -EFAULT;
		goto out_free_path;
	}
	/* No NUL needed; one inside the range ends the path. */
	path[op->len] = '\0';
	if (!path[0]) {
		fd = -ENOENT;
		goto out_free_path;
	}

	colon = strchr(path, ':');
	slash = strchr(path, '/');
	if (colon && (!slash || colon < slash) &&
	    !rxu_is_kernel_scheme(path, colon - path + 1)) {
		fd = rxu_open_provided(req, path, colon - path, op);
		goto out_free_path;
	}

	fd = get_unused_fd_flags(op->flags & O_CLOEXEC);
	if (fd < 0)
		goto out_free_path;
	if (colon && (!slash || colon < slash))
		file = rxu_open_scheme(path, colon - path + 1, op->flags);
	else
		file = rxu_open_linux(op->dirfd, path, op->flags, op->mode);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		fd = PTR_ERR(file);
		goto out_free_path;
	}
	fd_install(fd, file);
out_free_path:
	kfree(path);
	return fd;
}

struct rxu_close {
	int fd;
	unsigned int last;	/* CLOSE_RANGE: last fd, inclusive */
};

int rxu_close_prep(struct rxu_req *req, const struct rxu_sqe *sqe)
{
	struct rxu_close *cl = rxu_req_cmd(req, struct rxu_close);

	cl->fd = rxu_sqe_fd(sqe->fd);
	return cl->fd < 0 ? cl->fd : 0;
}

s64 rxu_close(struct rxu_req *req)
{
	struct rxu_close *cl = rxu_req_cmd(req, struct rxu_close);

	return close_fd(cl->fd);
}

/* fd = first, len = count; a count past the last fd closes to the end. */
int rxu_close_range_prep(struct rxu_req *req, const struct rxu_sqe *sqe)
{
	struct rxu_close *cl = rxu_req_cmd(req, struct rxu_close);
	u64 last;

	if (sqe->fd > INT_MAX)
		return -EINVAL;
	cl->fd = sqe->fd;
	if (!sqe->len) {
		cl->last = 0;
		cl->fd = -1;	/* nothing to close */
		return 0;
	}
	if (check_add_overflow(sqe->fd, sqe->len - 1, &last) || last > INT_MAX)
		last = INT_MAX;
	cl->last = last;
	return 0;
}

s64 rxu_close_range(struct rxu_req *req)
{
	struct rxu_close *cl = rxu_req_cmd(req, struct rxu_close);
	unsigned int fd, max_fds;

	if (cl->fd < 0)
		return 0;
	rcu_read_lock();
	max_fds = files_fdtable(current->files)->max_fds;
	rcu_read_unlock();

	/* close_range(2) is not exported; close one fd at a time. */
	for (fd = cl->fd; fd <= cl->last && fd < max_fds; fd++) {
		close_fd(fd);
		cond_resched();
	}
	return 0;
}

#define RXU_DUP_PARAM_MAX	256

struct rxu_dup {
	int fd;
	bool param;
	u64 addr;
	u64 len;
};

int rxu_dup_prep(struct rxu_req *req, const struct rxu_sqe *sqe)
{
	struct rxu_dup *dup = rxu_req_cmd(req, struct rxu_dup);

	dup->fd = rxu_sqe_fd(sqe->fd);
	if (dup->fd < 0)
		return dup->fd;
	if (sqe->syscall_flags & ~RXU_DUP_PARAM)
		return -EINVAL;
	dup->param = sqe->syscall_flags & RXU_DUP_PARAM;
	if (!dup->param && (sqe->addr || sqe->len))
		return -EINVAL;
	if (dup->param && (!sqe->len || sqe->len > RXU_DUP_PARAM_MAX))
		return -EINVAL;
	dup->addr = sqe->addr;
	dup->len = sqe->len;
	return 0;
}

/* DUP with parameter bytes: what the file makes of them. */
static struct file *rxu_dup_param(struct rxu_dup *dup, struct file *file)
{
	char param[RXU_DUP_PARAM_MAX];

	if (copy_from_user(param, u64_to_user_ptr(dup->addr), dup->len))
		return ERR_PTR(-EFAULT);
	if (rxu_is_u2u_instance_file(file) &&
	    dup->len == strlen(RXU_DUP_PARAM_POOL) &&
	    !memcmp(param, RXU_DUP_PARAM_POOL, dup->len))
		return rxu_u2u_pool_file(file);
	return ERR_PTR(-EINVAL);
}

s64 rxu_dup(struct rxu_req *req)
{
	struct rxu_dup *dup = rxu_req_cmd(req, struct rxu_dup);
	struct file *file;
	int fd;

	file = fget(dup->fd);
	if (!file)
		return -EBADF;
	/* A scheme's handle is duplicated by its provider. */
	if (rxu_is_scheme_file(file)) {
		s64 ret = rxu_scheme_dup(req, file, dup->param ?
					 u64_to_user_ptr(dup->addr) : NULL,
					 dup->param ? dup->len : 0);

		fput(file);
		return ret;
	}
	/* Parameters ask a file for a new kind of handle (a u2u pool). */
	if (dup->param) {
		struct file *made = rxu_dup_param(dup, file);

		fput(file);
		if (IS_ERR(made))
			return PTR_ERR(made);
		file = made;
	}
	fd = get_unused_fd_flags(0);
	if (fd < 0)
		goto out_fput;
	fd_install(fd, file);
	return fd;

out_fput:
	fput(file);
	return fd;
}
