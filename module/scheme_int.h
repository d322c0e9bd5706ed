/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What scheme.c (the registry, requests, the provider's side) and
 * scheme_file.c (the consumer's files and ring ops) share.  The locking
 * rules are at the top of scheme.c.
 */
#ifndef RXU_SCHEME_INT_H
#define RXU_SCHEME_INT_H

#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/refcount.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "opdef.h"

#define RXU_SCHEME_NAME_MAX	64
#define RXU_DATA_GRANULE	512
#define RXU_SCHEME_IO_MAX	SZ_256K	/* data bytes of one round trip */

struct iov_iter;
struct mm_struct;
struct rxu_async;
struct rxu_instance;

struct rxu_scheme {
	struct kref ref;
	struct list_head node;		/* rxu_schemes, while registered */
	spinlock_t lock;
	bool dead;			/* the provider went away */
	struct rxu_instance *inst;	/* the provider; NULL once dead */
	pid_t pid;			/* who registered it */
	struct list_head queue;		/* requests waiting for an SQ slot */
	struct xarray reqs;		/* tag -> request, queued or sent */
	u32 next_tag;
	struct list_head files;		/* open scheme files */
	u64 nr_files;
	u64 garbage;			/* CQEs that matched no request */
	u64 features;			/* RXU_SCHEME_FEAT_*; READ_ONCE */

	/* the data region (a reference on the provider's memory file) */
	struct file *mem_file;
	void *data;
	unsigned long *map;		/* granules in use */
	unsigned int nr_granules;
	size_t io_max;			/* bytes one request may move */
	wait_queue_head_t data_wq;	/* requests waiting for room */

	size_t name_len;
	char name[RXU_SCHEME_NAME_MAX];
};

enum rxu_sreq_state {
	RXU_SREQ_NEW,		/* being built, or a CLOSE made in advance */
	RXU_SREQ_QUEUED,	/* on s->queue, waiting for an SQ slot */
	RXU_SREQ_SENT,		/* in the provider's SQ or being served */
	RXU_SREQ_DONE,		/* answered, or failed */
};

struct rxu_sfile;

struct rxu_sreq {
	struct list_head node;		/* s->queue; a private list at death */
	struct rxu_scheme *scheme;	/* a reference */
	refcount_t ref;			/* the issuer's, and the scheme's */
	u32 tag;
	enum rxu_sreq_state state;	/* under s->lock */
	bool abandoned;			/* the issuer left; under s->lock */
	struct rxu_sqe sqe;		/* what the provider gets */
	unsigned int data_first;	/* granules held, or none */
	unsigned int data_count;

	/* the answer */
	s64 status;
	u64 extra;
	struct file *passed;		/* OPEN/DUP: the file for the new fd */
	/*
	 * A READ offered a zero-copy answer: where its bytes go (user
	 * segments of dst_mm, the issuer's), which the answering ENTER
	 * writes (scheme_zc.c).  copying: it is doing so (under s->lock);
	 * zc_done: it did, and the issuer has nothing left to copy.
	 */
	struct mm_struct *dst_mm;	/* grabbed, or NULL */
	struct iovec *dst_iov;		/* &dst_one, or an array */
	struct iovec dst_one;
	unsigned long dst_nr;
	bool copying;
	bool zc_done;
	struct rxu_sreq *close;		/* OPEN/DUP: the handle's CLOSE, made early */

	/* the issuer */
	struct completion done;		/* a syscall sleeps on it */
	struct rxu_async *async;	/* or a ring is handed the result */
	struct rxu_sfile *sf;		/* the file it is for, if any */
	int oflags;			/* OPEN/DUP: flags of the new file */
	u64 uaddr;			/* READ/FSTAT: where the data goes */
	u64 ulen;
	bool vectored;
};

/* A consumer's file of (scheme, handle). */
struct rxu_sfile {
	struct rxu_scheme *scheme;	/* a reference */
	u64 handle;
	struct list_head node;		/* s->files */
	wait_queue_head_t wq;		/* poll(2) and watchers */
	u32 ready;			/* RXU_EVENT_*; under s->lock */
	struct rxu_sreq *close;		/* sent at release, which cannot fail */
};

/* scheme.c */
struct rxu_sreq *rxu_sreq_new(struct rxu_scheme *s, u8 opcode);
void rxu_sreq_put(struct rxu_sreq *r);
int rxu_sreq_data(struct rxu_sreq *r, size_t len, struct rxu_instance *ring);
int rxu_sreq_submit(struct rxu_sreq *r);
int rxu_sreq_call(struct rxu_sreq *r);
void rxu_sreq_abandon(struct rxu_sreq *r);
int rxu_sreq_want_close(struct rxu_sreq *r);
void rxu_sreq_send_close(struct rxu_sreq *c, u64 handle);

/* The request's bytes in the data region, through the kernel mapping. */
static inline void *rxu_sreq_buf(const struct rxu_sreq *r)
{
	return r->scheme->data + (size_t)r->data_first * RXU_DATA_GRANULE;
}

/* scheme_zc.c: zero-copy READ answers */
ssize_t rxu_sreq_read_data(struct rxu_sreq *r, size_t want,
			   struct rxu_instance *ring,
			   const struct iov_iter *dst);
s64 rxu_sreq_zc_copy(struct rxu_sreq *r, u64 uaddr, s64 len);
void rxu_sreq_zc_release(struct rxu_sreq *r);
int rxu_sreq_copy_out(const struct rxu_sreq *r, struct iov_iter *to,
		      size_t len);

/* Was READ r offered a zero-copy answer (RXU_RW_ZC)? */
static inline bool rxu_sreq_zc_offered(const struct rxu_sreq *r)
{
	u8 op = r->sqe.opcode;

	return (op == RXU_OP_READ || op == RXU_OP_PREAD) &&
	       (r->sqe.syscall_flags & RXU_RW_ZC);
}

/* scheme_file.c */
struct file *rxu_sfile_new(struct rxu_scheme *s, u64 handle, int oflags,
			   struct rxu_sreq **close);

#endif /* RXU_SCHEME_INT_H */
