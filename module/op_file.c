// SPDX-License-Identifier: GPL-2.0
/* SEEK, FSTAT, FSYNC, FTRUNCATE: operations on an open file itself. */
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highuid.h>
#include <linux/kdev_t.h>
#include <linux/namei.h>
#include <linux/stat.h>
#include <linux/uaccess.h>
#include <uapi/linux/redox_uring.h>

#include "opdef.h"
#include "scheme.h"

struct rxu_fileop {
	int fd;
	u32 flags;		/* whence, datasync */
	u64 addr;
	loff_t offset;
};

int rxu_seek_prep(struct rxu_req *req, const struct rxu_sqe *sqe)
{
	struct rxu_fileop *f = rxu_req_cmd(req, struct rxu_fileop);

	f->fd = rxu_sqe_fd(sqe->fd);
	if (f->fd < 0)
		return f->fd;
	if (sqe->syscall_flags > SEEK_MAX)
		return -EINVAL;
	f->flags = sqe->syscall_flags;
	f->offset = (loff_t)sqe->offset;	/* signed, per the ABI */
	return 0;
}

s64 rxu_seek(struct rxu_req *req)
{
	struct rxu_fileop *f = rxu_req_cmd(req, struct rxu_fileop);
	struct file *file;
	loff_t ret;

	file = fget(f->fd);
	if (!file)
		return -EBADF;
	if (rxu_is_scheme_file(file))
		ret = rxu_scheme_simple(req, file, RXU_OP_SEEK, f->flags,
					f->offset);
	else
		ret = vfs_llseek(file, f->offset, f->flags);
	fput(file);
	return ret;
}

/* addr/len: the architecture's struct stat, exactly. */
int rxu_fstat_prep(struct rxu_req *req, const struct rxu_sqe *sqe)
{
	struct rxu_fileop *f = rxu_req_cmd(req, struct rxu_fileop);

	f->fd = rxu_sqe_fd(sqe->fd);
	if (f->fd < 0)
		return f->fd;
	if (sqe->len != sizeof(struct stat))
		return -EINVAL;
	f->addr = sqe->addr;
	return 0;
}

/* The layout fstat(2) fills on a 64-bit architecture. */
static int rxu_fill_stat(const struct kstat *ks, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_dev = new_encode_dev(ks->dev);
	st->st_ino = ks->ino;
	if (st->st_ino != ks->ino)
		return -EOVERFLOW;
	st->st_mode = ks->mode;
	st->st_nlink = ks->nlink;
	if (st->st_nlink != ks->nlink)
		return -EOVERFLOW;
	SET_UID(st->st_uid, from_kuid_munged(current_user_ns(), ks->uid));
	SET_GID(st->st_gid, from_kgid_munged(current_user_ns(), ks->gid));
	st->st_rdev = new_encode_dev(ks->rdev);
	st->st_size = ks->size;
	st->st_atime = ks->atime.tv_sec;
	st->st_mtime = ks->mtime.tv_sec;
	st->st_ctime = ks->ctime.tv_sec;
	st->st_atime_nsec = ks->atime.tv_nsec;
	st->st_mtime_nsec = ks->mtime.tv_nsec;
	st->st_ctime_nsec = ks->ctime.tv_nsec;
	st->st_blocks = ks->blocks;
	st->st_blksize = ks->blksize;
	return 0;
}

s64 rxu_fstat(struct rxu_req *req)
{
	struct rxu_fileop *f = rxu_req_cmd(req, struct rxu_fileop);
	struct kstat ks;
	struct stat st;
	struct file *file;
	int ret;

	file = fget(f->fd);
	if (!file)
		return -EBADF;
	if (rxu_is_scheme_file(file)) {
		s64 sret = rxu_scheme_fstat(req, file, f->addr,
					    sizeof(struct stat));

		fput(file);
		return sret;
	}
	ret = vfs_getattr(&file->f_path, &ks, STATX_BASIC_STATS,
			  AT_STATX_SYNC_AS_STAT);
	fput(file);
	if (!ret)
		ret = rxu_fill_stat(&ks, &st);
	if (!ret && copy_to_user(u64_to_user_ptr(f->addr), &st, sizeof(st)))
		ret = -EFAULT;
	return ret;
}

int rxu_fsync_prep(struct rxu_req *req, const struct rxu_sqe *sqe)
{
	struct rxu_fileop *f = rxu_req_cmd(req, struct rxu_fileop);

	f->fd = rxu_sqe_fd(sqe->fd);
	if (f->fd < 0)
		return f->fd;
	if (sqe->syscall_flags & ~RXU_FSYNC_DATASYNC)
		return -EINVAL;
	f->flags = sqe->syscall_flags;
	return 0;
}

s64 rxu_fsync(struct rxu_req *req)
{
	struct rxu_fileop *f = rxu_req_cmd(req, struct rxu_fileop);
	struct file *file;
	int ret;

	file = fget(f->fd);
	if (!file)
		return -EBADF;
	if (rxu_is_scheme_file(file)) {
		s64 sret = rxu_scheme_simple(req, file, RXU_OP_FSYNC, f->flags,
					     0);

		fput(file);
		return sret;
	}
	ret = vfs_fsync(file, f->flags & RXU_FSYNC_DATASYNC);
	fput(file);
	return ret;
}

int rxu_ftruncate_prep(struct rxu_req *req, const struct rxu_sqe *sqe)
{
	struct rxu_fileop *f = rxu_req_cmd(req, struct rxu_fileop);

	f->fd = rxu_sqe_fd(sqe->fd);
	if (f->fd < 0)
		return f->fd;
	if (sqe->offset > LLONG_MAX)
		return -EINVAL;
	f->offset = sqe->offset;
	return 0;
}

/*
 * ftruncate(2)'s own helper is not exported: check what it checks on the
 * file, then truncate through the path.  vfs_truncate() also wants write
 * permission on the inode, which ftruncate(2) would not re-check.
 */
s64 rxu_ftruncate(struct rxu_req *req)
{
	struct rxu_fileop *f = rxu_req_cmd(req, struct rxu_fileop);
	struct inode *inode;
	struct file *file;
	int ret;

	file = fget(f->fd);
	if (!file)
		return -EBADF;
	if (rxu_is_scheme_file(file)) {
		s64 sret = -EINVAL;

		if (file->f_mode & FMODE_WRITE)
			sret = rxu_scheme_simple(req, file, RXU_OP_FTRUNCATE,
						 0, f->offset);
		fput(file);
		return sret;
	}
	inode = file_inode(file);
	if (!S_ISREG(inode->i_mode) || !(file->f_mode & FMODE_WRITE))
		ret = -EINVAL;
	else if (IS_APPEND(inode))
		ret = -EPERM;
	else
		ret = vfs_truncate(&file->f_path, f->offset);
	fput(file);
	return ret;
}
