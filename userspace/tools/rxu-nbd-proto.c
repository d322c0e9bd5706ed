// SPDX-License-Identifier: MIT
/*
 * rxu-nbd-proto.c: the NBD server protocol, independent of what backs
 * the export.  Handshake: the server offers fixed newstyle; the client
 * picks the export with NBD_OPT_GO (or INFO first, or the old
 * EXPORT_NAME), may LIST or ABORT, and every other option is answered
 * NBD_REP_ERR_UNSUP.  Transmission: READ, WRITE (FUA honoured with a
 * flush), FLUSH and DISC, one at a time, simple replies.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "rxu-nbd.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* All of len bytes, or -errno (-ECONNRESET at end of stream). */
static int recv_all(int sock, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(sock, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_all(int sock, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(sock, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Throw away len bytes of the stream. */
static int skip(int sock, uint64_t len)
{
	uint8_t junk[512];

	while (len) {
		size_t n = len < sizeof(junk) ? (size_t)len : sizeof(junk);
		int ret = recv_all(sock, junk, n);

		if (ret < 0)
			return ret;
		len -= n;
	}
	return 0;
}

static int opt_reply(int sock, uint32_t opt, uint32_t type, const void *data,
		     uint32_t len)
{
	uint8_t hdr[20];
	int ret;

	put64(hdr, NBD_REP_MAGIC);
	put32(hdr + 8, opt);
	put32(hdr + 12, type);
	put32(hdr + 16, len);
	ret = send_all(sock, hdr, sizeof(hdr));
	if (!ret && len)
		ret = send_all(sock, data, len);
	return ret;
}

static uint16_t transmission_flags(const struct nbd_export *e)
{
	uint16_t f = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |
		     NBD_FLAG_SEND_FUA;

	if (e->read_only)
		f |= NBD_FLAG_READ_ONLY;
	return f;
}

static int name_matches(const struct nbd_export *e, const uint8_t *name,
			uint32_t len)
{
	size_t ours = strlen(e->name);

	return !len || (len == ours && !memcmp(name, e->name, len));
}

/* NBD_OPT_INFO / NBD_OPT_GO: 1 for GO accepted, 0 to go on, -errno. */
static int opt_info(int sock, const struct nbd_export *e, uint32_t opt,
		    const uint8_t *data, uint32_t len)
{
	uint8_t info[14];
	uint32_t name_len, i;
	uint16_t nreq;
	int want_bs = 0, ret;

	if (len < 6)
		return opt_reply(sock, opt, NBD_REP_ERR_INVALID, NULL, 0);
	name_len = get32(data);
	if (name_len > len - 6)
		return opt_reply(sock, opt, NBD_REP_ERR_INVALID, NULL, 0);
	nreq = get16(data + 4 + name_len);
	if (len != 6 + name_len + 2u * nreq)
		return opt_reply(sock, opt, NBD_REP_ERR_INVALID, NULL, 0);
	for (i = 0; i < nreq; i++)
		if (get16(data + 6 + name_len + 2 * i) == NBD_INFO_BLOCK_SIZE)
			want_bs = 1;
	if (!name_matches(e, data + 4, name_len))
		return opt_reply(sock, opt, NBD_REP_ERR_UNKNOWN, NULL, 0);
	put16(info, NBD_INFO_EXPORT);
	put64(info + 2, e->size);
	put16(info + 10, transmission_flags(e));
	ret = opt_reply(sock, opt, NBD_REP_INFO, info, 12);
	if (!ret && want_bs) {
		/* Any byte granularity works (read-modify-write below us). */
		put16(info, NBD_INFO_BLOCK_SIZE);
		put32(info + 2, 1);
		put32(info + 6, 4096);
		put32(info + 10, (uint32_t)e->buf_size);
		ret = opt_reply(sock, opt, NBD_REP_INFO, info, 14);
	}
	if (!ret)
		ret = opt_reply(sock, opt, NBD_REP_ACK, NULL, 0);
	if (ret)
		return ret;
	return opt == NBD_OPT_GO;
}

static int opt_list(int sock, const struct nbd_export *e, uint32_t len)
{
	uint8_t buf[4 + 256];
	size_t n = strlen(e->name);
	int ret;

	if (len)
		return opt_reply(sock, NBD_OPT_LIST, NBD_REP_ERR_INVALID,
				 NULL, 0);
	if (n > 256)
		n = 256;
	put32(buf, (uint32_t)n);
	memcpy(buf + 4, e->name, n);
	ret = opt_reply(sock, NBD_OPT_LIST, NBD_REP_SERVER, buf,
			(uint32_t)(4 + n));
	return ret ? ret : opt_reply(sock, NBD_OPT_LIST, NBD_REP_ACK, NULL, 0);
}

static int export_name(int sock, const struct nbd_export *e,
		       const uint8_t *name, uint32_t len, int no_zeroes)
{
	uint8_t buf[10 + 124] = { 0 };

	/* No way to say no here: the protocol closes the connection. */
	if (!name_matches(e, name, len))
		return -ECONNABORTED;
	put64(buf, e->size);
	put16(buf + 8, transmission_flags(e));
	return send_all(sock, buf, no_zeroes ? 10 : sizeof(buf));
}

int nbd_handshake(int sock, const struct nbd_export *e)
{
	uint8_t hello[18], opt_hdr[16], data[NBD_OPT_MAX];
	uint32_t cflags;
	int ret;

	put64(hello, NBD_MAGIC);
	put64(hello + 8, NBD_OPTS_MAGIC);
	put16(hello + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	ret = send_all(sock, hello, sizeof(hello));
	if (!ret)
		ret = recv_all(sock, hello, 4);
	if (ret)
		return ret;
	cflags = get32(hello);
	if (cflags & ~(uint32_t)(NBD_FLAG_C_FIXED_NEWSTYLE |
				 NBD_FLAG_C_NO_ZEROES))
		return -EPROTO;
	for (;;) {
		uint32_t opt, len;

		ret = recv_all(sock, opt_hdr, sizeof(opt_hdr));
		if (ret)
			return ret;
		if (get64(opt_hdr) != NBD_OPTS_MAGIC)
			return -EPROTO;
		opt = get32(opt_hdr + 8);
		len = get32(opt_hdr + 12);
		if (len > sizeof(data)) {
			ret = skip(sock, len);
			if (!ret)
				ret = opt_reply(sock, opt, NBD_REP_ERR_INVALID,
						NULL, 0);
			if (ret)
				return ret;
			continue;
		}
		ret = recv_all(sock, data, len);
		if (ret)
			return ret;
		switch (opt) {
		case NBD_OPT_EXPORT_NAME:
			return export_name(sock, e, data, len,
					   cflags & NBD_FLAG_C_NO_ZEROES);
		case NBD_OPT_ABORT:
			opt_reply(sock, opt, NBD_REP_ACK, NULL, 0);
			return -ECONNABORTED;
		case NBD_OPT_LIST:
			ret = opt_list(sock, e, len);
			break;
		case NBD_OPT_INFO:
		case NBD_OPT_GO:
			ret = opt_info(sock, e, opt, data, len);
			if (ret == 1)
				return 0;
			break;
		default:
			ret = opt_reply(sock, opt, NBD_REP_ERR_UNSUP, NULL, 0);
		}
		if (ret < 0)
			return ret;
	}
}

uint32_t nbd_error(int64_t err)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
	case -EROFS:
		return NBD_EPERM;
	case -ENOMEM:
		return NBD_ENOMEM;
	case -EINVAL:
		return NBD_EINVAL;
	case -ENOSPC:
		return NBD_ENOSPC;
	case -EOVERFLOW:
		return NBD_EOVERFLOW;
	default:
		return NBD_EIO;
	}
}

static int reply(int sock, uint32_t error, uint64_t handle, const void *data,
		 uint32_t len)
{
	uint8_t hdr[NBD_REPLY_LEN];
	int ret;

	put32(hdr, NBD_REPLY_MAGIC);
	put32(hdr + 4, error);
	put64(hdr + 8, handle);
	ret = send_all(sock, hdr, sizeof(hdr));
	if (!ret && !error && len)
		ret = send_all(sock, data, len);
	return ret;
}

/* All of it or -errno: a store that ends early is an I/O error. */
static int64_t store_io(const struct nbd_export *e, int write, void *buf,
			uint64_t len, uint64_t off)
{
	uint64_t done = 0;

	while (done < len) {
		int64_t n = write ?
			e->ops->pwrite(e->ctx, (uint8_t *)buf + done,
				       len - done, off + done) :
			e->ops->pread(e->ctx, (uint8_t *)buf + done,
				      len - done, off + done);
		if (n < 0)
			return n;
		if (!n)
			return -EIO;
		done += (uint64_t)n;
	}
	return 0;
}

/* Is [off, off + len) inside the export? */
static int in_range(const struct nbd_export *e, uint64_t off, uint32_t len)
{
	return off <= e->size && len <= e->size - off;
}

static int do_read(int sock, const struct nbd_export *e, uint64_t handle,
		   uint64_t off, uint32_t len, struct nbd_stats *st)
{
	int64_t err = 0;

	if (len > e->buf_size || !in_range(e, off, len))
		err = -EINVAL;
	else
		err = store_io(e, 0, e->buf, len, off);
	if (!err) {
		st->reads++;
		st->bytes_read += len;
	} else {
		st->errors++;
	}
	return reply(sock, err ? nbd_error(err) : 0, handle, e->buf, len);
}

static int do_write(int sock, const struct nbd_export *e, uint64_t handle,
		    uint16_t flags, uint64_t off, uint32_t len,
		    struct nbd_stats *st)
{
	int64_t err = 0;
	int ret;

	if (len > e->buf_size) {
		/* The data still follows: read past it, then refuse. */
		ret = skip(sock, len);
		st->errors++;
		return ret ? ret : reply(sock, NBD_EINVAL, handle, NULL, 0);
	}
	ret = recv_all(sock, e->buf, len);
	if (ret)
		return ret;
	if (e->read_only)
		err = -EPERM;
	else if (!in_range(e, off, len))
		err = -ENOSPC;
	else
		err = store_io(e, 1, e->buf, len, off);
	if (!err && (flags & NBD_CMD_FLAG_FUA))
		err = e->ops->flush(e->ctx);
	if (!err) {
		st->writes++;
		st->bytes_written += len;
	} else {
		st->errors++;
	}
	return reply(sock, err ? nbd_error(err) : 0, handle, NULL, 0);
}

int nbd_transmit(int sock, const struct nbd_export *e, struct nbd_stats *st)
{
	struct nbd_stats dummy;
	uint8_t req[NBD_REQUEST_LEN];
	int ret;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	for (;;) {
		uint64_t handle, off;
		uint16_t flags, type;
		uint32_t len;
		int err;

		ret = recv_all(sock, req, sizeof(req));
		if (ret == -ECONNRESET)
			return 0;
		if (ret)
			return ret;
		if (get32(req) != NBD_REQUEST_MAGIC)
			return -EPROTO;
		flags = get16(req + 4);
		type = get16(req + 6);
		handle = get64(req + 8);
		off = get64(req + 16);
		len = get32(req + 24);
		switch (type) {
		case NBD_CMD_READ:
			ret = do_read(sock, e, handle, off, len, st);
			break;
		case NBD_CMD_WRITE:
			ret = do_write(sock, e, handle, flags, off, len, st);
			break;
		case NBD_CMD_FLUSH:
			err = e->ops->flush(e->ctx);
			st->flushes++;
			st->errors += !!err;
			ret = reply(sock, err ? nbd_error(err) : 0, handle,
				    NULL, 0);
			break;
		case NBD_CMD_DISC:
			return 0;
		default:
			st->errors++;
			ret = reply(sock, NBD_EINVAL, handle, NULL, 0);
		}
		if (ret)
			return ret;
	}
}
