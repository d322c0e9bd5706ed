/* SPDX-License-Identifier: MIT */
/*
 * librxu's provider framework: one set of callbacks and one handle table
 * for every scheme daemon (lib/scheme.c; docs/providers.md).
 *
 * A scheme daemon fills a struct rxu_scheme_ops with one callback per
 * forwarded call, as FUSE's lowlevel ops, Linux's file_operations or
 * Redox's SchemeMut, and hands it to rxu_scheme_register().  The library
 * then does everything that is the same in every provider:
 *
 *  - registers ":NAME" (a k2u provider ring), maps the scheme data region
 *    and serves the ring on the daemon's own reactor, so one blocking
 *    ENTER waits for the scheme, its u2u connections and whatever else
 *    the daemon watches (eventfds, signalfds, subscriptions);
 *  - with RXU_SCHEME_U2U, accepts user-to-user rings (RECV_IORING, the
 *    pool DUP) and serves them with the same callbacks, buffers then
 *    being pool ranges;
 *  - keeps the handle table: ids, the daemon's per-handle pointer, the
 *    position of READ/WRITE/SEEK; EBADF for an id that names no handle;
 *  - turns every addr/len of a request into a checked pointer (EFAULT
 *    when it does not lie inside the data region or one pool range);
 *  - answers, with PASS_FD when asked, posts the readiness EVENT CQEs
 *    after OPEN and DUP, and lets any callback defer its answer.
 *
 * Results.  Every callback that answers a request returns int64_t: a
 * value >= 0 is the success result, -errno an error, and
 * RXU_SCHEME_PENDING defers the answer: the request (struct
 * rxu_scheme_req) then stays valid, with every buffer pointer it was
 * given, until the daemon calls rxu_scheme_reply() exactly once, from
 * any callback of the same reactor (e.g. the completion of a USB
 * transfer).  Nothing is answered twice and nothing is lost: a request
 * counts against the ring's bound until replied.
 *
 * Order of checks, identical for every scheme (so that clients see the
 * errors today's daemons give): unknown handle -EBADF; then for FSTAT a
 * buffer shorter than struct stat -EINVAL; then a buffer outside the
 * memory -EFAULT; then a negative PREAD/PWRITE offset -EINVAL; then the
 * callback.  Opcodes the library does not serve get -ENOSYS (k2u: all
 * but the file calls above and RECV_IORING; u2u: see op).
 *
 * Threads: a scheme belongs to its reactor's thread.  Every callback
 * runs on it, inside the reactor's loop; rxu_scheme_reply() and
 * rxu_scheme_post_event() must be called on it too (another thread
 * hands its result over through an eventfd the daemon watches, or
 * rxu_reactor_notify()).
 */
#ifndef RXU_SCHEME_H
#define RXU_SCHEME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "rxu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A callback's "I will answer later with rxu_scheme_reply()". */
#define RXU_SCHEME_PENDING	INT64_MIN

struct rxu_scheme;

/*
 * One client connection: the kernel's provider ring (k2u: every Linux
 * process that opened NAME:... comes through it) or one u2u ring.  Each
 * has its own handle table, so a u2u client can never name another's
 * handles.  Allocated by the library; valid from connect() (u2u) or
 * rxu_scheme_register() (k2u) until disconnect() has returned and every
 * pending request of it has been replied.
 */
struct rxu_scheme_conn {
	struct rxu_scheme *scheme;
	void *priv;		/* the daemon's; NULL at first */
	int u2u;		/* 0: the kernel's provider ring */
	int ring;		/* its reactor ring id (0 once it is gone) */
};

/*
 * One open handle.  Allocated by the library at OPEN and DUP (before the
 * callback runs) and freed after CLOSE once no request on it is pending.
 * The pointer is stable for that whole time.
 */
struct rxu_scheme_handle {
	uint64_t id;		/* what the peer names it by (read-only) */
	void *priv;		/* the daemon's; NULL at first (DUP: NULL) */
	uint64_t pos;		/* position of READ/WRITE/SEEK, kept by the
				 * library; the daemon may read or set it */
	uint64_t flags;		/* the OPEN's O_* flags (DUP: the original's);
				 * open() may change them, e.g. clear O_APPEND */
	struct rxu_scheme_conn *conn;
};

/*
 * One request.  Valid during the callback and, if the callback returned
 * RXU_SCHEME_PENDING, until rxu_scheme_reply().  Fields are read-only
 * but for extra.
 */
struct rxu_scheme_req {
	struct rxu_scheme_conn *conn;
	struct rxu_sqe64 sqe;	/* the request as received (64-bit form) */
	/*
	 * The handle the request is about: sqe.fd's handle, or for OPEN and
	 * DUP the new one.  NULL for requests that name none (op() calls).
	 */
	struct rxu_scheme_handle *handle;
	uint64_t extra;		/* the answer CQE's extra word (u2u), 0 */
};

/*
 * The callbacks.  Every one is optional; a NULL one gets the default
 * answer named with it.  Buffers (buf, param) point into the data region
 * (k2u) or the pool (u2u), were bounds-checked for their full length,
 * and stay valid until the request is answered.  path is a NUL-terminated
 * copy valid during the call only.
 */
struct rxu_scheme_ops {
	/*
	 * OPEN of NAME:path (the part after the ':', exactly as sent: any
	 * leading '/', "?token=..." suffixes and embedded NULs included;
	 * path[len] is NUL).  flags: sqe.offset, Linux O_* flags, unchecked
	 * (values above 32 bits included); mode: sqe.additional1.  h is the
	 * new handle (h->flags = flags, h->pos = 0): set h->priv.  Return 0
	 * (the peer gets h->id), -errno (the handle is forgotten), or
	 * rxu_scheme_pass_fd() (the peer gets its own fd for one of ours;
	 * the handle is forgotten).  NULL: -ENOSYS.
	 */
	int64_t (*open)(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
			const char *path, size_t len, uint64_t flags,
			uint32_t mode);
	/*
	 * READ (off = h->pos) and PREAD (off = sqe.offset, never negative):
	 * fill up to len bytes of buf; return how many (0 = end of file).
	 * After READ the library advances h->pos by the result.
	 * rxu_scheme_copy_out() serves a read from memory.  NULL: -EBADF.
	 */
	int64_t (*read)(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
			void *buf, uint64_t len, uint64_t off);
	/*
	 * WRITE and PWRITE, as read.  For WRITE on a handle whose flags have
	 * O_APPEND, off is size(h) (when size is set) and h->pos ends after
	 * the bytes written.  NULL: -EBADF.
	 */
	int64_t (*write)(struct rxu_scheme_req *req,
			 struct rxu_scheme_handle *h, const void *buf,
			 uint64_t len, uint64_t off);
	/*
	 * The handle's current size in bytes (>= 0) or -errno: used for
	 * SEEK_END, O_APPEND and the default FSTAT's st_size.  Must not
	 * defer.  NULL: the handle has no size (see seek).
	 */
	int64_t (*size)(struct rxu_scheme_handle *h);
	/*
	 * SEEK: return the new position (the library stores it in h->pos)
	 * or -errno.  NULL: rxu_seek_position(h->pos, size(h), whence, off)
	 * when size is set, else -ESPIPE.
	 */
	int64_t (*seek)(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
			int64_t off, uint32_t whence);
	/*
	 * FSTAT: *st comes prefilled (st_ino = h->id + 1, st_mode S_IFREG |
	 * 0644, st_nlink 1, st_uid/st_gid ours, st_size = size(h) or 0,
	 * st_blksize 4096, st_blocks = st_size in 512-byte units, the rest
	 * 0); change what differs and return 0 or -errno.  The library
	 * copies *st out when the answer is >= 0 (also after a deferred
	 * answer).  NULL: the prefilled *st.
	 */
	int64_t (*fstat)(struct rxu_scheme_req *req,
			 struct rxu_scheme_handle *h, struct stat *st);
	/* FSYNC; datasync = sqe.syscall_flags & RXU_FSYNC_DATASYNC.  NULL: 0. */
	int64_t (*fsync)(struct rxu_scheme_req *req,
			 struct rxu_scheme_handle *h, int datasync);
	/* FTRUNCATE to length (sqe.offset, unchecked).  NULL: -EINVAL. */
	int64_t (*ftruncate)(struct rxu_scheme_req *req,
			     struct rxu_scheme_handle *h, uint64_t length);
	/*
	 * DUP of old with parameter bytes (param, len; NULL and 0 without
	 * RXU_DUP_PARAM).  nh is the new handle (pos and flags copied from
	 * old, priv NULL): set nh->priv.  Return 0 (the peer gets nh->id),
	 * -errno, or rxu_scheme_pass_fd().  NULL: -EOPNOTSUPP.
	 */
	int64_t (*dup)(struct rxu_scheme_req *req, struct rxu_scheme_handle *old,
		       struct rxu_scheme_handle *nh, const void *param,
		       size_t len);
	/*
	 * CLOSE, or the client went away with the handle open (then req is
	 * NULL).  Free what h->priv owns.  Requests still pending on h stay
	 * valid and must still be replied (their answers then go nowhere);
	 * h itself, and its id, live until the last of them is.  Cannot
	 * fail: the kernel has forgotten the handle already.  NULL: nothing.
	 */
	void (*close)(struct rxu_scheme_req *req, struct rxu_scheme_handle *h);
	/*
	 * Readiness right after a successful OPEN or DUP on the provider
	 * ring (not after a PASS_FD answer, not on u2u rings, where the
	 * client's protocol decides): the RXU_EVENT_* mask posted in an
	 * EVENT CQE for the new handle; 0 posts none.  Later changes are the daemon's to
	 * post with rxu_scheme_post_event().  NULL: READ | WRITE, as for a
	 * regular file that is always ready.
	 */
	uint32_t (*ready)(struct rxu_scheme_handle *h);
	/*
	 * u2u only: a scheme-specific opcode (128..255; NOOP is answered
	 * 0 by the library, and with RXU_SCHEME_U2U_OPS_ONLY the standard
	 * opcodes -ENOSYS).  The
	 * request names no handle: interpret sqe yourself, reach pool
	 * memory with rxu_scheme_buf(), set req->extra if the answer
	 * carries it.  NULL: -ENOSYS.
	 */
	int64_t (*op)(struct rxu_scheme_req *req);
	/*
	 * u2u only: a new client ring arrived (RECV_IORING, after its pool
	 * is known).  Set c->priv; return 0 to serve it, -errno to refuse
	 * (the ring is then closed).  NULL: accept.
	 */
	int (*connect)(struct rxu_scheme_conn *c);
	/*
	 * A connection ended: a u2u client dropped its ring, or (c->u2u 0)
	 * the kernel's provider ring went away.  Called after close() for
	 * every handle it still held.  NULL: for the provider ring, a
	 * message on stderr and rxu_reactor_stop(); for u2u, nothing.
	 */
	void (*disconnect)(struct rxu_scheme_conn *c);
	/*
	 * Provider ring only, optional: a READ/PREAD of len >=
	 * RXU_SCHEME_ZC_MIN answered zero-copy (docs/zero-copy.md).  Point
	 * *src at up to len bytes at off in this process and return how many
	 * (0 = end of file) or -errno; the kernel copies them straight into
	 * the caller's buffer, in the ENTER that takes the answer.  The
	 * library makes that ENTER (pushing out any answers queued behind a
	 * full CQ first) before read_ref's caller returns, so once the next
	 * request is handled the memory is the provider's to reuse: a
	 * driver's transfer buffer may be lent.
	 * Set, the scheme opts in with RXU_IOC_SCHEME_FEATURES when the
	 * module has it; smaller reads, and every read without it, go to
	 * read.  NULL: never zero-copy.
	 */
	int64_t (*read_ref)(struct rxu_scheme_req *req,
			    struct rxu_scheme_handle *h, const void **src,
			    uint64_t len, uint64_t off);
};

/* Reads below this many bytes go to read even when read_ref is set. */
#define RXU_SCHEME_ZC_MIN	(16U << 10)

/* rxu_scheme_register()'s options; a zeroed struct (or NULL) = defaults. */
struct rxu_scheme_config {
	uint32_t flags;		/* RXU_SCHEME_* below */
	uint32_t entries;	/* provider ring SQ/CQ entries; 0 = 128 */
	uint32_t bound;		/* provider SQEs outstanding at most; 0 = 64 */
	uint32_t conn_bound;	/* the same per u2u ring; 0 = 32 */
};

/* Accept u2u rings (RECV_IORING); without it they get -EOPNOTSUPP. */
#define RXU_SCHEME_U2U		(1U << 0)
/*
 * u2u rings carry only NOOP (answered 0) and op(): standard file
 * opcodes there get -ENOSYS, as for a protocol of its own (pcid).
 */
#define RXU_SCHEME_U2U_OPS_ONLY	(1U << 1)

/*
 * Register the scheme NAME (no ':' or '/', 1..64 bytes) on reactor r,
 * whose primary must be a kernel ring: open and create the provider
 * instance, ATTACH ":NAME", map the data region, add the producer ring.
 * priv is returned by rxu_scheme_priv().  -EEXIST (name taken), -EPERM,
 * -EINVAL, -ENOMEM or another -errno of the steps; nothing is left
 * behind on failure.  The scheme is served as soon as r's loop runs.
 */
int rxu_scheme_register(struct rxu_scheme **sp, struct rxu_reactor *r,
			const char *name, const struct rxu_scheme_config *cfg,
			const struct rxu_scheme_ops *ops, void *priv);

/*
 * Serve a provider ring set up elsewhere: in must be mapped (and
 * attached, unless it is memory only: fd < 0, the host tests), region
 * the data region of size bytes that request addrs are offsets in.  The
 * instance stays the caller's; rxu_scheme_destroy() leaves it open.
 */
int rxu_scheme_serve(struct rxu_scheme **sp, struct rxu_reactor *r,
		     struct rxu_instance *in, void *region, uint64_t size,
		     const struct rxu_scheme_config *cfg,
		     const struct rxu_scheme_ops *ops, void *priv);

/*
 * Serve one more u2u ring on s: in is its producer side (mapped; fd < 0
 * for memory only), pool its pool (adopted: closed with the connection).
 * What RECV_IORING does by itself; here for tests and for daemons that
 * receive rings some other way.  Calls connect().  *cp gets the
 * connection if cp.
 */
int rxu_scheme_add_conn(struct rxu_scheme *s, struct rxu_instance *in,
			struct rxu_pool *pool, struct rxu_scheme_conn **cp);

/*
 * Stop serving and free everything: close() for every open handle,
 * disconnect() for every u2u connection (not for the provider ring,
 * which the daemon is ending itself), requests still pending are
 * forgotten (a reply to them afterwards is a use after free: reply or
 * drop them first).  Rings are removed from the reactor; instances the
 * library created are closed.  Safe on NULL.
 */
void rxu_scheme_destroy(struct rxu_scheme *s);

/* The priv given at registration. */
void *rxu_scheme_priv(const struct rxu_scheme *s);
/* The provider instance fd (for RXU_IOC_RECV, fstat ...), or -1. */
int rxu_scheme_fd(const struct rxu_scheme *s);
/* Nonzero once the provider ring has gone away (dropped or broken). */
int rxu_scheme_dead(const struct rxu_scheme *s);

/*
 * Answer a request that returned RXU_SCHEME_PENDING, exactly once:
 * result as a callback would have returned it (not PENDING).  What the
 * library does after a callback (h->pos, FSTAT copy-out, the handle's
 * birth or burial for OPEN/DUP, the readiness EVENT) happens here.  req
 * is invalid afterwards.  0; -ESHUTDOWN if the connection went away
 * (req is freed all the same; for OPEN and DUP the handle then never
 * came to be and gets no close(): free what you put in its priv);
 * -EINVAL if req was not pending.
 */
int rxu_scheme_reply(struct rxu_scheme_req *req, int64_t result);

/*
 * For open() and dup(): answer with PASS_FD, giving the peer its own fd
 * for our fd (k2u only: -EOPNOTSUPP on u2u).  Returns the value to
 * return from the callback (or to give rxu_scheme_reply()).  fd stays
 * ours: keep it open until after the reactor's next turn (the kernel
 * takes its reference when it reaps the CQE, at our next ENTER); the
 * simplest is to keep it as long as what it stands for.
 */
int64_t rxu_scheme_pass_fd(struct rxu_scheme_req *req, int fd);

/*
 * Post readiness for handle h: an EVENT CQE with user_data = h->id and
 * the RXU_EVENT_* mask flags (Redox's fevent).  0, -EINVAL (no flags),
 * -ESHUTDOWN (its connection is gone), -ENOMEM.
 */
int rxu_scheme_post_event(struct rxu_scheme_handle *h, uint32_t flags);

/*
 * A checked pointer to [addr, addr + len) of req's memory (data region
 * or pool; a pool learns the client's new ranges first if needed; in a
 * pool len 0 is checked as 1 byte), or NULL: answer -EFAULT.  For op() and parameters the
 * library does not know.
 */
void *rxu_scheme_buf(struct rxu_scheme_req *req, uint64_t addr,
		     uint64_t len);

/*
 * Serve a read of [off, off + len) from size bytes at src: copies what
 * lies inside (clamped at the end) and returns how many, 0 at or past
 * the end.
 */
int64_t rxu_scheme_copy_out(void *buf, uint64_t len, uint64_t off,
			    const void *src, uint64_t size);

/* The handle id on c, or NULL if it names none (for op() protocols). */
struct rxu_scheme_handle *rxu_scheme_handle(struct rxu_scheme_conn *c,
					    uint64_t id);

#ifdef __cplusplus
}
#endif

#endif /* RXU_SCHEME_H */
