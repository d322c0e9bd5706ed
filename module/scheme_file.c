// SPDX-License-Identifier: GPL-2.0
/*
 * Scheme files (ABI.md section 7): a consumer's Linux fd bound to
 * (scheme, handle), and the ops on it: ordinary syscalls, which sleep for
 * the provider's answer, and ring ops, which hand the request to the
 * consumer's ring and finish in a later ENTER, in the submitter's context.
 * Requests themselves, the data region and the provider's side are in
 * scheme.c, whose locking rules apply here too.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/stat.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <uapi/linux/redox_uring.h>

#include "compat.h"
#include "events.h"
#include "instance.h"
#include "scheme.h"
#include "scheme_int.h"

static const struct file_operations rxu_sfile_fops;

/* ------------------------------------------------------------------ */
/* Scheme files: a consumer's (scheme, handle)                        */
/* ------------------------------------------------------------------ */

bool rxu_is_scheme_file(const struct file *file)
{
	return file->f_op == &rxu_sfile_fops;
}

bool rxu_scheme_file_dead(const struct file *file)
{
	struct rxu_sfile *sf = file->private_data;

	return rxu_is_scheme_file(file) && READ_ONCE(sf->scheme->dead);
}

/* A file for (s, handle); it takes *close (rxu_sreq_want_close()) on success. */
struct file *rxu_sfile_new(struct rxu_scheme *s, u64 handle, int oflags,
			   struct rxu_sreq **close)
{
	struct rxu_sfile *sf;
	struct file *file;

	sf = kzalloc(sizeof(*sf), GFP_KERNEL_ACCOUNT);
	if (!sf)
		return ERR_PTR(-ENOMEM);
	kref_get(&s->ref);
	sf->scheme = s;
	sf->handle = handle;
	init_waitqueue_head(&sf->wq);
	file = anon_inode_getfile("[redox_uring-scheme]", &rxu_sfile_fops, sf,
				  oflags & (O_ACCMODE | O_NONBLOCK));
	if (IS_ERR(file)) {
		rxu_scheme_put(s);
		kfree(sf);
		return file;
	}
	/*
	 * The provider keeps each handle's position: read(2) forwards a
	 * READ (no position), pread(2) a PREAD, lseek(2) a SEEK.
	 */
	file->f_mode |= FMODE_STREAM | FMODE_LSEEK | FMODE_PREAD |
			FMODE_PWRITE;
	sf->close = *close;
	*close = NULL;
	spin_lock(&s->lock);
	list_add_tail(&sf->node, &s->files);
	s->nr_files++;
	spin_unlock(&s->lock);
	return file;
}

/* OPEN/DUP answered: a new fd for the file its answer made. */
static int rxu_sreq_install(struct rxu_sreq *r)
{
	int fd;

	/* On failure the file goes with r, and its release closes the handle. */
	fd = get_unused_fd_flags(r->oflags & O_CLOEXEC);
	if (fd >= 0) {
		fd_install(fd, r->passed);
		r->passed = NULL;
	}
	return fd;
}

/* Finish an answered request in its issuer's context: the op's result. */
static s64 rxu_sreq_take(struct rxu_sreq *r)
{
	s64 res = r->status;
	struct iovec fast[UIO_FASTIOV], *iov = fast;
	struct iov_iter iter;
	ssize_t ret;

	if (res < 0)
		return res;
	switch (r->sqe.opcode) {
	case RXU_OP_READ:
	case RXU_OP_PREAD:
		/* A zero-copy answer's bytes are in the buffer already. */
		if (!res || r->zc_done)
			return res;
		if (r->vectored)
			ret = import_iovec(ITER_DEST, u64_to_user_ptr(r->uaddr),
					   r->ulen, UIO_FASTIOV, &iov, &iter);
		else
			ret = rxu_import_ubuf(ITER_DEST,
					      u64_to_user_ptr(r->uaddr), res,
					      fast, &iter);
		if (ret < 0)
			return ret;
		if (rxu_sreq_copy_out(r, &iter, res))
			res = -EFAULT;
		if (r->vectored)
			kfree(iov);
		return res;
	case RXU_OP_FSTAT:
		return copy_to_user(u64_to_user_ptr(r->uaddr), rxu_sreq_buf(r),
				    sizeof(struct stat)) ? -EFAULT : 0;
	case RXU_OP_OPEN:
	case RXU_OP_DUP:
		return rxu_sreq_install(r);
	default:
		return res;
	}
}

static struct rxu_sreq *rxu_sfile_req(struct file *file, u8 opcode)
{
	struct rxu_sfile *sf = file->private_data;
	struct rxu_sreq *r;

	r = rxu_sreq_new(sf->scheme, opcode);
	if (r) {
		r->sf = sf;
		r->sqe.fd = sf->handle;
	}
	return r;
}

static ssize_t rxu_sfile_read(struct file *file, char __user *buf,
			      size_t count, loff_t *ppos)
{
	struct iov_iter iter;
	struct rxu_sreq *r;
	struct iovec iov;
	ssize_t ret;

	if (!count)
		return 0;
	r = rxu_sfile_req(file, ppos ? RXU_OP_PREAD : RXU_OP_READ);
	if (!r)
		return -ENOMEM;
	if (ppos)
		r->sqe.offset = *ppos;
	ret = rxu_import_ubuf(ITER_DEST, buf, count, &iov, &iter);
	if (!ret)
		ret = rxu_sreq_read_data(r, count, NULL, &iter);
	if (ret < 0)
		goto out_put;
	ret = rxu_sreq_call(r);
	if (ret)
		return ret;
	ret = r->status;
	if (ret > 0 && rxu_sreq_copy_out(r, &iter, ret))
		ret = -EFAULT;
	if (ret > 0 && ppos)
		*ppos += ret;
out_put:
	rxu_sreq_put(r);
	return ret;
}

/* Larger writes go in io_max pieces until one comes back short. */
static ssize_t rxu_sfile_write(struct file *file, const char __user *buf,
			       size_t count, loff_t *ppos)
{
	struct rxu_sfile *sf = file->private_data;
	size_t done = 0, chunk;
	struct rxu_sreq *r;
	ssize_t ret = 0;

	while (done < count) {
		chunk = min(count - done, sf->scheme->io_max);
		r = rxu_sfile_req(file, ppos ? RXU_OP_PWRITE : RXU_OP_WRITE);
		if (!r) {
			ret = -ENOMEM;
			break;
		}
		r->sqe.len = chunk;
		if (ppos)
			r->sqe.offset = *ppos;
		ret = rxu_sreq_data(r, chunk, NULL);
		if (!ret && copy_from_user(rxu_sreq_buf(r), buf + done, chunk))
			ret = -EFAULT;
		if (ret) {
			rxu_sreq_put(r);
			break;
		}
		ret = rxu_sreq_call(r);
		if (ret)
			break;
		ret = r->status;
		rxu_sreq_put(r);
		if (ret <= 0)
			break;
		done += ret;
		if (ppos)
			*ppos += ret;
		if (ret < chunk)
			break;
	}
	return done ? done : ret;
}

/* A request that moves no data: its status, or -errno. */
static s64 rxu_sfile_simple(struct file *file, u8 opcode, u32 sflags,
			    u64 offset)
{
	struct rxu_sreq *r;
	s64 ret;

	r = rxu_sfile_req(file, opcode);
	if (!r)
		return -ENOMEM;
	r->sqe.syscall_flags = sflags;
	r->sqe.offset = offset;
	ret = rxu_sreq_call(r);
	if (ret)
		return ret;
	ret = r->status;
	rxu_sreq_put(r);
	return ret;
}

static loff_t rxu_sfile_llseek(struct file *file, loff_t offset, int whence)
{
	loff_t pos = rxu_sfile_simple(file, RXU_OP_SEEK, whence, offset);

	if (pos >= 0)
		file->f_pos = pos;
	return pos;
}

static int rxu_sfile_fsync(struct file *file, loff_t start, loff_t end,
			   int datasync)
{
	return rxu_sfile_simple(file, RXU_OP_FSYNC,
				datasync ? RXU_FSYNC_DATASYNC : 0, 0);
}

static __poll_t rxu_sfile_poll(struct file *file, struct poll_table_struct *pt)
{
	struct rxu_sfile *sf = file->private_data;
	__poll_t mask = 0;
	u32 ready;

	poll_wait(file, &sf->wq, pt);
	if (READ_ONCE(sf->scheme->dead))
		return EPOLLERR | EPOLLHUP;
	ready = READ_ONCE(sf->ready);
	if (ready & RXU_EVENT_READ)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (ready & RXU_EVENT_WRITE)
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

/* The last reference: the provider closes the handle. */
static int rxu_sfile_release(struct inode *inode, struct file *file)
{
	struct rxu_sfile *sf = file->private_data;
	struct rxu_scheme *s = sf->scheme;

	spin_lock(&s->lock);
	list_del(&sf->node);
	s->nr_files--;
	spin_unlock(&s->lock);
	/* Made with the file: a close cannot be lost to a failed allocation. */
	rxu_sreq_send_close(sf->close, sf->handle);
	rxu_scheme_put(s);
	kfree(sf);
	return 0;
}

static const struct file_operations rxu_sfile_fops = {
	.owner		= THIS_MODULE,
	.read		= rxu_sfile_read,
	.write		= rxu_sfile_write,
	.llseek		= rxu_sfile_llseek,
	.fsync		= rxu_sfile_fsync,
	.poll		= rxu_sfile_poll,
	.release	= rxu_sfile_release,
};

/* ------------------------------------------------------------------ */
/* Ring ops on schemes                                                 */
/* ------------------------------------------------------------------ */

/* Hand r to req's ring: it is submitted now and finished by an ENTER. */
static s64 rxu_sreq_queue_ring(struct rxu_req *req, struct rxu_sreq *r,
			       struct file *file)
{
	struct rxu_instance *inst = req->inst;
	struct rxu_async *a;
	int ret;

	a = rxu_async_alloc(inst, RXU_ASYNC_SCHEME);
	if (!a) {
		rxu_sreq_put(r);
		return -ENOMEM;
	}
	a->req = *req;
	a->sreq = r;
	if (file)
		a->file = get_file(file);
	mmgrab(current->mm);
	a->mm = current->mm;
	r->async = a;
	list_add_tail(&a->node, &inst->ops);
	ret = rxu_sreq_submit(r);
	if (ret) {
		list_del(&a->node);
		a->sreq = NULL;
		rxu_async_free(a);
		rxu_sreq_put(r);
		return ret;
	}
	return -EIOCBQUEUED;
}

s64 rxu_scheme_open(struct rxu_req *req, struct rxu_scheme *s,
		    const char *rest, size_t len, int flags, umode_t mode)
{
	struct rxu_sreq *r;
	int ret;

	r = rxu_sreq_new(s, RXU_OP_OPEN);
	if (!r)
		return -ENOMEM;
	ret = rxu_sreq_want_close(r);
	if (ret) {
		rxu_sreq_put(r);
		return ret;
	}
	r->sqe.len = len;
	r->sqe.offset = (u32)flags;
	r->sqe.additional1 = mode;
	r->oflags = flags;
	ret = rxu_sreq_data(r, len, req->inst);
	if (ret) {
		rxu_sreq_put(r);
		return ret;
	}
	memcpy(rxu_sreq_buf(r), rest, len);
	return rxu_sreq_queue_ring(req, r, NULL);
}

/* READ/WRITE and their P and V forms; the provider sees READ/PREAD/WRITE/PWRITE. */
s64 rxu_scheme_rw(struct rxu_req *req, struct file *file, u8 opcode,
		  u64 addr, u64 len, loff_t pos)
{
	bool write = opcode >= RXU_OP_WRITE;
	bool vectored = opcode == RXU_OP_READV || opcode == RXU_OP_PREADV ||
			opcode == RXU_OP_WRITEV || opcode == RXU_OP_PWRITEV;
	bool positional = opcode == RXU_OP_PREAD || opcode == RXU_OP_PREADV ||
			  opcode == RXU_OP_PWRITE || opcode == RXU_OP_PWRITEV;
	struct rxu_sfile *sf = file->private_data;
	struct iovec fast[UIO_FASTIOV], *iov = fast;
	struct iov_iter iter;
	struct rxu_sreq *r;
	size_t total;
	ssize_t ret;

	if (vectored)
		ret = import_iovec(write ? ITER_SOURCE : ITER_DEST,
				   u64_to_user_ptr(addr), len, UIO_FASTIOV,
				   &iov, &iter);
	else
		ret = rxu_import_ubuf(write ? ITER_SOURCE : ITER_DEST,
				      u64_to_user_ptr(addr), len, fast, &iter);
	if (ret < 0)
		return ret;
	total = iov_iter_count(&iter);
	if (!total) {
		ret = 0;
		goto out_free_iov;
	}
	if (write)
		opcode = positional ? RXU_OP_PWRITE : RXU_OP_WRITE;
	else
		opcode = positional ? RXU_OP_PREAD : RXU_OP_READ;
	ret = -ENOMEM;
	r = rxu_sfile_req(file, opcode);
	if (!r)
		goto out_free_iov;
	if (positional)
		r->sqe.offset = pos;
	r->uaddr = addr;
	r->ulen = len;
	r->vectored = vectored;
	if (write) {
		total = min(total, sf->scheme->io_max);
		r->sqe.len = total;
		ret = rxu_sreq_data(r, total, req->inst);
		if (!ret && copy_from_iter(rxu_sreq_buf(r), total, &iter) != total)
			ret = -EFAULT;
	} else {
		/* The answer is copied to addr in rxu_sreq_take(). */
		ret = rxu_sreq_read_data(r, total, req->inst, &iter);
		if (ret > 0)
			ret = 0;
	}
	if (ret) {
		rxu_sreq_put(r);
		goto out_free_iov;
	}
	ret = rxu_sreq_queue_ring(req, r, file);
out_free_iov:
	if (vectored)
		kfree(iov);
	return ret;
}

/* SEEK (sflags = whence), FSYNC (sflags), FTRUNCATE (offset = length). */
s64 rxu_scheme_simple(struct rxu_req *req, struct file *file, u8 opcode,
		      u32 sflags, u64 offset)
{
	struct rxu_sreq *r;

	r = rxu_sfile_req(file, opcode);
	if (!r)
		return -ENOMEM;
	r->sqe.syscall_flags = sflags;
	r->sqe.offset = offset;
	return rxu_sreq_queue_ring(req, r, file);
}

s64 rxu_scheme_fstat(struct rxu_req *req, struct file *file, u64 addr,
		     u64 len)
{
	struct rxu_sreq *r;
	int ret;

	r = rxu_sfile_req(file, RXU_OP_FSTAT);
	if (!r)
		return -ENOMEM;
	r->sqe.len = sizeof(struct stat);
	r->uaddr = addr;
	ret = rxu_sreq_data(r, sizeof(struct stat), req->inst);
	if (ret) {
		rxu_sreq_put(r);
		return ret;
	}
	memset(rxu_sreq_buf(r), 0, sizeof(struct stat));
	return rxu_sreq_queue_ring(req, r, file);
}

s64 rxu_scheme_dup(struct rxu_req *req, struct file *file,
		   const void __user *param, u64 len)
{
	struct rxu_sreq *r;
	int ret;

	r = rxu_sfile_req(file, RXU_OP_DUP);
	if (!r)
		return -ENOMEM;
	r->oflags = file->f_flags & (O_ACCMODE | O_NONBLOCK);
	if (param)
		r->sqe.syscall_flags = RXU_DUP_PARAM;
	r->sqe.len = len;
	ret = rxu_sreq_want_close(r);
	if (!ret)
		ret = rxu_sreq_data(r, len, req->inst);
	if (!ret && len && copy_from_user(rxu_sreq_buf(r), param, len))
		ret = -EFAULT;
	if (ret) {
		rxu_sreq_put(r);
		return ret;
	}
	return rxu_sreq_queue_ring(req, r, file);
}

/* A ring's request was answered: finish it in its process and post its CQE. */
void rxu_scheme_async_done(struct rxu_instance *inst, struct rxu_cq_batch *b,
			   struct rxu_async *a)
{
	struct rxu_sreq *r = a->sreq;
	struct rxu_cqe_k cqe;
	s64 res;

	if (a->mm != current->mm) {
		/* Its buffers and fd table are another process's. */
		rxu_async_to_foreign(inst, a);
		return;
	}
	res = rxu_sreq_take(r);
	list_del_init(&a->node);
	cqe = (struct rxu_cqe_k){
		.user_data = a->req.user_data,
		.status = rxu_user_status(res),
		.extra = r->extra,
	};
	rxu_cq_post(inst, b, &cqe, true);
	a->sreq = NULL;
	rxu_sreq_put(r);
	rxu_async_free(a);
}

/* The ring is closing with a's request in flight. */
void rxu_scheme_async_cancel(struct rxu_async *a)
{
	struct rxu_sreq *r = a->sreq;

	a->sreq = NULL;
	if (r)
		rxu_sreq_abandon(r);
}
