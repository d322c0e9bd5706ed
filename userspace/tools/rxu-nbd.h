/* SPDX-License-Identifier: MIT */
/*
 * rxu-nbd.h: the server side of the NBD protocol (the "fixed newstyle"
 * handshake and simple replies), over any backing store given as three
 * callbacks.  rxu-nbd.c backs it with a file opened through a
 * redox_uring ring, so that Linux's nbd driver makes /dev/nbdN of a
 * scheme path such as disk:... or mem:....
 *
 * All integers on the wire are big-endian.
 */
#ifndef RXU_NBD_H
#define RXU_NBD_H

#include <stddef.h>
#include <stdint.h>

/* Handshake */
#define NBD_MAGIC		0x4e42444d41474943ULL	/* "NBDMAGIC" */
#define NBD_OPTS_MAGIC		0x49484156454f5054ULL	/* "IHAVEOPT" */
#define NBD_REP_MAGIC		0x0003e889045565a9ULL
#define NBD_FLAG_FIXED_NEWSTYLE	(1u << 0)		/* handshake flags */
#define NBD_FLAG_NO_ZEROES	(1u << 1)
#define NBD_FLAG_C_FIXED_NEWSTYLE (1u << 0)		/* client flags */
#define NBD_FLAG_C_NO_ZEROES	(1u << 1)

/* Options */
#define NBD_OPT_EXPORT_NAME	1
#define NBD_OPT_ABORT		2
#define NBD_OPT_LIST		3
#define NBD_OPT_INFO		6
#define NBD_OPT_GO		7

/* Option replies */
#define NBD_REP_ACK		1
#define NBD_REP_SERVER		2
#define NBD_REP_INFO		3
#define NBD_REP_ERR_UNSUP	(0x80000000u | 1)
#define NBD_REP_ERR_INVALID	(0x80000000u | 3)
#define NBD_REP_ERR_UNKNOWN	(0x80000000u | 6)
#define NBD_INFO_EXPORT		0
#define NBD_INFO_BLOCK_SIZE	3

/* Transmission flags */
#define NBD_FLAG_HAS_FLAGS	(1u << 0)
#define NBD_FLAG_READ_ONLY	(1u << 1)
#define NBD_FLAG_SEND_FLUSH	(1u << 2)
#define NBD_FLAG_SEND_FUA	(1u << 3)

/* Requests and simple replies */
#define NBD_REQUEST_MAGIC	0x25609513u
#define NBD_REPLY_MAGIC		0x67446698u
#define NBD_REQUEST_LEN		28
#define NBD_REPLY_LEN		16
#define NBD_CMD_READ		0
#define NBD_CMD_WRITE		1
#define NBD_CMD_DISC		2
#define NBD_CMD_FLUSH		3
#define NBD_CMD_FLAG_FUA	(1u << 0)

/* Error values of a reply */
#define NBD_EPERM		1
#define NBD_EIO			5
#define NBD_ENOMEM		12
#define NBD_EINVAL		22
#define NBD_ENOSPC		28
#define NBD_EOVERFLOW		75

/* The longest option the server reads (names are at most 4096 bytes). */
#define NBD_OPT_MAX		8192

struct nbd_backend_ops {
	/* Bytes read/written (may be short; 0 = end) or -errno. */
	int64_t (*pread)(void *ctx, void *buf, uint64_t len, uint64_t off);
	int64_t (*pwrite)(void *ctx, const void *buf, uint64_t len,
			  uint64_t off);
	int (*flush)(void *ctx);
};

struct nbd_export {
	const char *name;	/* what a client may ask for; "" also works */
	uint64_t size;
	int read_only;
	const struct nbd_backend_ops *ops;
	void *ctx;
	void *buf;		/* one request's data: at most buf_size */
	size_t buf_size;
};

struct nbd_stats {
	uint64_t reads, writes, flushes, errors;
	uint64_t bytes_read, bytes_written;
};

/*
 * The handshake on a connected socket: 0 when the client chose the
 * export (transmission follows), -ECONNABORTED when it gave up
 * (NBD_OPT_ABORT or an unknown EXPORT_NAME), -EPROTO for a client that
 * breaks the protocol, or a socket's -errno.
 */
int nbd_handshake(int sock, const struct nbd_export *e);

/*
 * Transmission until NBD_CMD_DISC (0) or the socket closes (0, or
 * -EPROTO for a bad request magic); st counts what was done (may be
 * NULL).  Errors of the backing store are answered to the client.
 */
int nbd_transmit(int sock, const struct nbd_export *e, struct nbd_stats *st);

/* The NBD error value for -errno. */
uint32_t nbd_error(int64_t err);

#endif /* RXU_NBD_H */
