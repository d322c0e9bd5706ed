/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RXU_OPDEF_H
#define RXU_OPDEF_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <uapi/linux/redox_uring.h>

struct rxu_instance;
struct rxu_cq_batch;

/*
 * An SQE as the kernel sees it: every field read exactly once from the
 * shared ring (64- or 32-bit form) into this copy, which is all that prep
 * may look at.
 */
struct rxu_sqe {
	u8 opcode;
	u8 flags;
	u16 priority;
	u32 syscall_flags;
	u64 fd;
	u64 len;
	u64 user_data;
	u64 addr;
	u64 offset;
	u64 additional1;
	u64 additional2;
};

/*
 * One request: prep fills cmd from the SQE, issue acts on cmd only.
 * issue returns the CQE's status, or -EIOCBQUEUED when the request went
 * on waiting (events.c) and will post its CQE itself.
 */
struct rxu_req {
	struct rxu_instance *inst;
	struct rxu_cq_batch *cq;	/* the ENTER's CQ batch, for extra CQEs */
	u64 user_data;
	u64 seq;			/* submission order, for CHAIN/DRAIN */
	u8 opcode;
	u8 flags;
	u64 extra;			/* CQE extra word */
	u64 cmd[6];			/* per-opcode state, see rxu_req_cmd() */
};

#define rxu_req_cmd(req, type) ({					\
	BUILD_BUG_ON(sizeof(type) > sizeof_field(struct rxu_req, cmd));	\
	(type *)(req)->cmd;						\
})

/* SQE fields an opcode reads; every other one must be zero. */
#define RXU_F_FD		BIT(0)
#define RXU_F_LEN		BIT(1)
#define RXU_F_ADDR		BIT(2)
#define RXU_F_OFFSET		BIT(3)
#define RXU_F_ADD1		BIT(4)
#define RXU_F_ADD2		BIT(5)
#define RXU_F_SFLAGS		BIT(6)

struct rxu_op_def {
	const char *name;
	unsigned int fields;		/* RXU_F_* */
	/*
	 * Validate the SQE into the request; no side effect.  May be NULL
	 * for an opcode that reads no field.
	 */
	int (*prep)(struct rxu_req *req, const struct rxu_sqe *sqe);
	/* Do it; returns the CQE status (>= 0 or -errno). */
	s64 (*issue)(struct rxu_req *req);
};

extern const struct rxu_op_def rxu_op_defs[RXU_OP_STANDARD_LAST];

/* The definition of a standard opcode, or NULL (-ENOSYS). */
static inline const struct rxu_op_def *rxu_op_def(u8 opcode)
{
	const struct rxu_op_def *def;

	if (opcode >= ARRAY_SIZE(rxu_op_defs))
		return NULL;
	def = &rxu_op_defs[opcode];
	return def->issue ? def : NULL;
}

int rxu_opdef_init(void);

/* Kernel-internal codes never reach userspace (ABI.md section 4). */
static inline s64 rxu_user_status(s64 res)
{
	switch (res) {
	case -ERESTARTSYS:
	case -ERESTARTNOINTR:
	case -ERESTARTNOHAND:
	case -ERESTART_RESTARTBLOCK:
		return -EINTR;
	case -ENOTSUPP:
		return -EOPNOTSUPP;
	case -EIOCBQUEUED:
		return -EIO;
	}
	return res;
}

/* Linux fd numbers are ints; a larger SQE fd cannot name a file. */
static inline int rxu_sqe_fd(u64 fd)
{
	return fd > INT_MAX ? -EBADF : (int)fd;
}

/* Prep and issue of each opcode family (op_*.c). */
s64 rxu_nop(struct rxu_req *req);

int rxu_open_prep(struct rxu_req *req, const struct rxu_sqe *sqe);
s64 rxu_open(struct rxu_req *req);
int rxu_close_prep(struct rxu_req *req, const struct rxu_sqe *sqe);
s64 rxu_close(struct rxu_req *req);
int rxu_close_range_prep(struct rxu_req *req, const struct rxu_sqe *sqe);
s64 rxu_close_range(struct rxu_req *req);
int rxu_dup_prep(struct rxu_req *req, const struct rxu_sqe *sqe);
s64 rxu_dup(struct rxu_req *req);

int rxu_rw_prep(struct rxu_req *req, const struct rxu_sqe *sqe);
s64 rxu_rw(struct rxu_req *req);

int rxu_mmap_prep(struct rxu_req *req, const struct rxu_sqe *sqe);
s64 rxu_mmap(struct rxu_req *req);

int rxu_files_update_prep(struct rxu_req *req, const struct rxu_sqe *sqe);
s64 rxu_files_update(struct rxu_req *req);

int rxu_seek_prep(struct rxu_req *req, const struct rxu_sqe *sqe);
s64 rxu_seek(struct rxu_req *req);
int rxu_fstat_prep(struct rxu_req *req, const struct rxu_sqe *sqe);
s64 rxu_fstat(struct rxu_req *req);
int rxu_fsync_prep(struct rxu_req *req, const struct rxu_sqe *sqe);
s64 rxu_fsync(struct rxu_req *req);
int rxu_ftruncate_prep(struct rxu_req *req, const struct rxu_sqe *sqe);
s64 rxu_ftruncate(struct rxu_req *req);

#endif /* RXU_OPDEF_H */
