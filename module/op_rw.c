// SPDX-License-Identifier: GPL-2.0
/*
 * READ, READV, PREAD, PREADV, WRITE, WRITEV, PWRITE, PWRITEV: the data
 * moves between the file and the caller's own buffers, in its context.
 *
 * The non-positional forms use and advance the file position, without
 * the f_pos lock that read(2) takes (it is not available to modules):
 * like io_uring, concurrent positional use of one file from several
 * threads is the caller's to order.
 *
 * Regular files and block devices complete inline.  On a file that can
 * block (pipe, socket, eventfd, tty, timerfd, ...) the op is tried without
 * blocking; if the file is not ready it is parked (events.c) and retried
 * when the file wakes up, so one slow file never stalls the ring.  A file
 * opened O_NONBLOCK gets -EAGAIN instead, as from read(2).
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <uapi/linux/redox_uring.h>

#include "compat.h"
#include "events.h"
#include "opdef.h"
#include "scheme.h"

struct rxu_rw {
	int fd;
	bool write;
	bool vectored;
	bool positional;
	u64 addr;
	u64 len;		/* bytes, or iovec count when vectored */
	loff_t pos;
};

int rxu_rw_prep(struct rxu_req *req, const struct rxu_sqe *sqe)
{
	struct rxu_rw *rw = rxu_req_cmd(req, struct rxu_rw);
	u8 op = sqe->opcode;

	rw->fd = rxu_sqe_fd(sqe->fd);
	if (rw->fd < 0)
		return rw->fd;
	rw->write = op >= RXU_OP_WRITE;
	rw->vectored = op == RXU_OP_READV || op == RXU_OP_PREADV ||
		       op == RXU_OP_WRITEV || op == RXU_OP_PWRITEV;
	rw->positional = op == RXU_OP_PREAD || op == RXU_OP_PREADV ||
			 op == RXU_OP_PWRITE || op == RXU_OP_PWRITEV;
	rw->addr = sqe->addr;
	rw->len = sqe->len;
	rw->pos = 0;
	if (rw->positional) {
		if (sqe->offset > LLONG_MAX)
			return -EINVAL;
		rw->pos = sqe->offset;
	}
	if (rw->vectored) {
		if (rw->len > UIO_MAXIOV)
			return -EINVAL;
	} else {
		/* As read(2) and write(2) do. */
		rw->len = min_t(u64, rw->len, MAX_RW_COUNT);
	}
	return 0;
}

/*
 * Files with only ->read/->write (timerfd, some of procfs) cannot go
 * through vfs_iter_read/write; drive their method a segment at a time,
 * after the same checks the VFS makes.
 */
static ssize_t rxu_rw_loop(struct file *file, struct iov_iter *iter,
			   loff_t *ppos, bool write)
{
	ssize_t done = 0, ret;

	if (!(file->f_mode & (write ? FMODE_WRITE : FMODE_READ)))
		return -EBADF;
	if (!(file->f_mode & (write ? FMODE_CAN_WRITE : FMODE_CAN_READ)))
		return -EINVAL;
	ret = rw_verify_area(write ? WRITE : READ, file, ppos,
			     iov_iter_count(iter));
	if (ret)
		return ret;
	if (write)
		file_start_write(file);
	while (iov_iter_count(iter)) {
		struct iovec seg = rxu_iter_segment(iter);

		if (write)
			ret = file->f_op->write(file, seg.iov_base,
						seg.iov_len, ppos);
		else
			ret = file->f_op->read(file, seg.iov_base,
					       seg.iov_len, ppos);
		if (ret <= 0)
			break;
		done += ret;
		iov_iter_advance(iter, ret);
		if (ret < seg.iov_len)
			break;
	}
	if (write)
		file_end_write(file);
	return done ? done : ret;
}

static ssize_t rxu_rw_file(struct file *file, struct iov_iter *iter,
			   loff_t *ppos, bool write, rwf_t flags)
{
	if (write) {
		if (file->f_op->write_iter)
			return rxu_vfs_iter_write(file, iter, ppos, flags);
		if (file->f_op->write)
			return rxu_rw_loop(file, iter, ppos, true);
	} else {
		if (file->f_op->read_iter)
			return vfs_iter_read(file, iter, ppos, flags);
		if (file->f_op->read)
			return rxu_rw_loop(file, iter, ppos, false);
	}
	return -EINVAL;
}

/* The op itself, on the caller's buffers; RWF_NOWAIT or 0 in flags. */
static ssize_t rxu_rw_do(struct rxu_rw *rw, struct file *file, rwf_t flags)
{
	struct iovec fast[UIO_FASTIOV], *iov = fast;
	int dir = rw->write ? ITER_SOURCE : ITER_DEST;
	struct iov_iter iter;
	loff_t pos, *ppos;
	ssize_t ret;

	if (rw->vectored)
		ret = import_iovec(dir, u64_to_user_ptr(rw->addr), rw->len,
				   UIO_FASTIOV, &iov, &iter);
	else
		ret = rxu_import_ubuf(dir, u64_to_user_ptr(rw->addr), rw->len,
				      fast, &iter);
	if (ret < 0)
		return ret;

	if (rw->positional) {
		ret = -ESPIPE;
		if (!(file->f_mode & (rw->write ? FMODE_PWRITE : FMODE_PREAD)))
			goto out_free_iov;
		pos = rw->pos;
		ppos = &pos;
	} else if (file->f_mode & FMODE_STREAM) {
		ppos = NULL;
	} else {
		pos = file->f_pos;
		ppos = &pos;
	}

	ret = rxu_rw_file(file, &iter, ppos, rw->write, flags);
	if (ret >= 0 && ppos && !rw->positional)
		file->f_pos = pos;
out_free_iov:
	if (rw->vectored)
		kfree(iov);
	return ret;
}

/* The errors read(2) and friends give for the file alone. */
static int rxu_rw_check(const struct rxu_rw *rw, const struct file *file)
{
	fmode_t mode = rw->write ? FMODE_WRITE : FMODE_READ;
	fmode_t can = rw->write ? FMODE_CAN_WRITE : FMODE_CAN_READ;
	fmode_t pmode = rw->write ? FMODE_PWRITE : FMODE_PREAD;

	if (!(file->f_mode & mode))
		return -EBADF;
	if (!(file->f_mode & can))
		return -EINVAL;
	if (rw->positional && !(file->f_mode & pmode))
		return -ESPIPE;
	return 0;
}

/* What to wait for before the op can go on file; 0: it never waits. */
static __poll_t rxu_rw_wait_events(struct file *file, bool write)
{
	umode_t mode = file_inode(file)->i_mode;

	if (S_ISREG(mode) || S_ISBLK(mode) || S_ISDIR(mode) ||
	    file->f_flags & O_NONBLOCK || !file_can_poll(file))
		return 0;
	if (write)
		return EPOLLOUT | EPOLLWRNORM | EPOLLERR | EPOLLHUP;
	return EPOLLIN | EPOLLRDNORM | EPOLLRDHUP | EPOLLERR | EPOLLHUP;
}

/* One attempt that does not block; -EAGAIN if the file is not ready. */
static ssize_t rxu_rw_try(struct rxu_rw *rw, struct file *file,
			  __poll_t events)
{
	bool iter = rw->write ? file->f_op->write_iter : file->f_op->read_iter;

	if (file->f_mode & FMODE_NOWAIT && iter)
		return rxu_rw_do(rw, file, RWF_NOWAIT);
	/*
	 * No way to ask this file not to block: go only once poll says it
	 * is ready (another reader may still win the race and make us wait).
	 */
	if (!(vfs_poll(file, NULL) & events))
		return -EAGAIN;
	return rxu_rw_do(rw, file, 0);
}

s64 rxu_rw(struct rxu_req *req)
{
	struct rxu_rw *rw = rxu_req_cmd(req, struct rxu_rw);
	struct file *file;
	__poll_t events;
	ssize_t ret;

	file = fget(rw->fd);
	if (!file)
		return -EBADF;
	/* What can never work fails now, not after waiting. */
	ret = rxu_rw_check(rw, file);
	if (ret)
		goto out_fput;
	/* A scheme's file: its provider does the op, later. */
	if (rxu_is_scheme_file(file)) {
		ret = rxu_scheme_rw(req, file, req->opcode, rw->addr, rw->len,
				    rw->pos);
		goto out_fput;
	}
	events = rxu_rw_wait_events(file, rw->write);
	if (!events) {
		ret = rxu_rw_do(rw, file, 0);
	} else {
		ret = rxu_rw_try(rw, file, events);
		if (ret == -EAGAIN) {
			ret = rxu_park(req, file, events);
			if (ret == -EIOCBQUEUED)
				return ret;	/* the file goes with it */
		}
	}
out_fput:
	fput(file);
	return ret;
}

/*
 * A parked op's file woke up: try again, or -EAGAIN to wait on.  events
 * are those it was parked for, whatever the file's flags say now.
 */
s64 rxu_rw_retry(struct rxu_req *req, struct file *file, __poll_t events)
{
	return rxu_rw_try(rxu_req_cmd(req, struct rxu_rw), file, events);
}
