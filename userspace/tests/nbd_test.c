// SPDX-License-Identifier: MIT
/*
 * Host tests of rxu-nbd's protocol (tools/rxu-nbd-proto.c): a client
 * written here from the NBD protocol's text talks to the server over a
 * socketpair, the server's store being memory.  Every option, request
 * and refusal, byte for byte.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rxu-nbd.h"
#include "tap.h"

#define SIZE	(1024 * 1024)

struct store {
	uint8_t *mem;
	int fail;		/* -errno for every op while set */
	int flushes;
};

static int64_t m_pread(void *ctx, void *buf, uint64_t len, uint64_t off)
{
	struct store *s = ctx;

	if (s->fail)
		return s->fail;
	/* short answers: the server must ask again */
	if (len > 1000)
		len = 1000;
	memcpy(buf, s->mem + off, len);
	return (int64_t)len;
}

static int64_t m_pwrite(void *ctx, const void *buf, uint64_t len, uint64_t off)
{
	struct store *s = ctx;

	if (s->fail)
		return s->fail;
	memcpy(s->mem + off, buf, len);
	return (int64_t)len;
}

static int m_flush(void *ctx)
{
	struct store *s = ctx;

	s->flushes++;
	return s->fail;
}

static const struct nbd_backend_ops m_ops = { m_pread, m_pwrite, m_flush };

struct server {
	pthread_t thread;
	int sock;
	struct nbd_export e;
	struct nbd_stats st;
	int handshake, transmit;
};

static void *serve(void *arg)
{
	struct server *sv = arg;

	sv->handshake = nbd_handshake(sv->sock, &sv->e);
	if (!sv->handshake)
		sv->transmit = nbd_transmit(sv->sock, &sv->e, &sv->st);
	close(sv->sock);
	return NULL;
}

static struct store store;
static struct server sv;
static int cl = -1;

static int start(int read_only)
{
	int sp[2];

	if (!store.mem)
		store.mem = calloc(1, SIZE);
	CHECK(store.mem);
	store.fail = 0;
	store.flushes = 0;
	memset(&sv, 0, sizeof(sv));
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	sv.sock = sp[0];
	cl = sp[1];
	sv.e.name = "stick";
	sv.e.size = SIZE;
	sv.e.read_only = read_only;
	sv.e.ops = &m_ops;
	sv.e.ctx = &store;
	sv.e.buf_size = 256 * 1024;
	sv.e.buf = malloc(sv.e.buf_size);
	CHECK(sv.e.buf);
	CHECK_EQ(pthread_create(&sv.thread, NULL, serve, &sv), 0);
	return 0;
}

static int finish(void)
{
	close(cl);
	pthread_join(sv.thread, NULL);
	free(sv.e.buf);
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static int rd(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(cl, p, len);

		CHECK(n > 0);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int wr(const void *buf, size_t len)
{
	CHECK_EQ(write(cl, buf, len), (ssize_t)len);
	return 0;
}

/* Server greeting, then our flags. */
static int hello(uint32_t cflags)
{
	uint8_t b[18];

	TRY(rd(b, 18));
	CHECK_EQ(get64(b), NBD_MAGIC);
	CHECK_EQ(get64(b + 8), NBD_OPTS_MAGIC);
	CHECK_EQ(b[16] << 8 | b[17],
		 NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	put32(b, cflags);
	return wr(b, 4);
}

static int send_opt(uint32_t opt, const void *data, uint32_t len)
{
	uint8_t h[16];

	put64(h, NBD_OPTS_MAGIC);
	put32(h + 8, opt);
	put32(h + 12, len);
	TRY(wr(h, 16));
	return len ? wr(data, len) : 0;
}

/* One option reply: its type, and its data into data (len bytes max). */
static int opt_reply(uint32_t opt, uint32_t *type, uint8_t *data,
		     uint32_t *len)
{
	uint8_t h[20];

	TRY(rd(h, 20));
	CHECK_EQ(get64(h), NBD_REP_MAGIC);
	CHECK_EQ(get32(h + 8), opt);
	*type = get32(h + 12);
	*len = get32(h + 16);
	CHECK(*len <= 64);
	return *len ? rd(data, *len) : 0;
}

static int go(uint32_t opt, const char *name, int want_bs)
{
	uint8_t d[64], r[64];
	uint32_t n = (uint32_t)strlen(name), type, len;

	put32(d, n);
	memcpy(d + 4, name, n);
	d[4 + n] = 0;
	d[5 + n] = want_bs ? 1 : 0;
	d[6 + n] = 0;
	d[7 + n] = 3;	/* NBD_INFO_BLOCK_SIZE */
	TRY(send_opt(opt, d, 6 + n + (want_bs ? 2 : 0)));
	TRY(opt_reply(opt, &type, r, &len));
	CHECK_EQ(type, NBD_REP_INFO);
	CHECK_EQ(len, 12);
	CHECK_EQ(r[0] << 8 | r[1], NBD_INFO_EXPORT);
	CHECK_EQ(get64(r + 2), SIZE);
	CHECK_EQ(r[10] << 8 | r[11], NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |
		 NBD_FLAG_SEND_FUA | (sv.e.read_only ? NBD_FLAG_READ_ONLY : 0));
	if (want_bs) {
		TRY(opt_reply(opt, &type, r, &len));
		CHECK_EQ(type, NBD_REP_INFO);
		CHECK_EQ(len, 14);
		CHECK_EQ(r[0] << 8 | r[1], NBD_INFO_BLOCK_SIZE);
		CHECK_EQ(get32(r + 2), 1);
		CHECK_EQ(get32(r + 6), 4096);
		CHECK_EQ(get32(r + 10), 256 * 1024);
	}
	TRY(opt_reply(opt, &type, r, &len));
	CHECK_EQ(type, NBD_REP_ACK);
	CHECK_EQ(len, 0);
	return 0;
}

static int request(uint16_t type, uint16_t flags, uint64_t handle,
		   uint64_t off, uint32_t len)
{
	uint8_t q[28];

	put32(q, NBD_REQUEST_MAGIC);
	q[4] = (uint8_t)(flags >> 8);
	q[5] = (uint8_t)flags;
	q[6] = (uint8_t)(type >> 8);
	q[7] = (uint8_t)type;
	put64(q + 8, handle);
	put64(q + 16, off);
	put32(q + 24, len);
	return wr(q, 28);
}

static int expect_reply(uint64_t handle, uint32_t error)
{
	uint8_t r[16];

	TRY(rd(r, 16));
	CHECK_EQ(get32(r), NBD_REPLY_MAGIC);
	CHECK_EQ(get32(r + 4), error);
	CHECK_EQ(get64(r + 8), handle);
	return 0;
}

static int test_go_read_write(void)
{
	static uint8_t buf[200000], back[200000];
	size_t i;

	TRY(start(0));
	TRY(hello(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES));
	TRY(go(NBD_OPT_GO, "stick", 0));
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	TRY(request(NBD_CMD_WRITE, 0, 0x1122334455667788ULL, 12345,
		    sizeof(buf)));
	TRY(wr(buf, sizeof(buf)));
	TRY(expect_reply(0x1122334455667788ULL, 0));
	CHECK(!memcmp(store.mem + 12345, buf, sizeof(buf)));
	TRY(request(NBD_CMD_READ, 0, 2, 12345, sizeof(back)));
	TRY(expect_reply(2, 0));
	TRY(rd(back, sizeof(back)));
	CHECK(!memcmp(back, buf, sizeof(buf)));
	TRY(request(NBD_CMD_FLUSH, 0, 3, 0, 0));
	TRY(expect_reply(3, 0));
	CHECK_EQ(store.flushes, 1);
	TRY(request(NBD_CMD_WRITE, NBD_CMD_FLAG_FUA, 4, 0, 10));
	TRY(wr(buf, 10));
	TRY(expect_reply(4, 0));
	CHECK_EQ(store.flushes, 2);
	TRY(request(NBD_CMD_DISC, 0, 5, 0, 0));
	TRY(finish());
	CHECK_EQ(sv.handshake, 0);
	CHECK_EQ(sv.transmit, 0);
	CHECK_EQ(sv.st.reads, 1);
	CHECK_EQ(sv.st.writes, 2);
	CHECK_EQ(sv.st.bytes_read, sizeof(buf));
	CHECK_EQ(sv.st.flushes, 1);
	return 0;
}

/* The old way in: EXPORT_NAME, answered with or without 124 zeroes. */
static int export_name(uint32_t cflags, const char *name, size_t answer)
{
	uint8_t r[134];

	TRY(start(1));
	TRY(hello(cflags));
	TRY(send_opt(NBD_OPT_EXPORT_NAME, name, (uint32_t)strlen(name)));
	TRY(rd(r, answer));
	CHECK_EQ(get64(r), SIZE);
	CHECK_EQ(r[8] << 8 | r[9], NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |
		 NBD_FLAG_SEND_FUA | NBD_FLAG_READ_ONLY);
	TRY(request(NBD_CMD_READ, 0, 9, 0, 16));
	TRY(expect_reply(9, 0));
	TRY(rd(r, 16));
	TRY(finish());
	CHECK_EQ(sv.handshake, 0);
	return 0;
}

static int test_export_name(void)
{
	TRY(export_name(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES,
			"stick", 10));
	TRY(export_name(NBD_FLAG_C_FIXED_NEWSTYLE, "", 134));
	/* an unknown name: the connection is closed, nothing answered */
	TRY(start(0));
	TRY(hello(NBD_FLAG_C_FIXED_NEWSTYLE));
	TRY(send_opt(NBD_OPT_EXPORT_NAME, "other", 5));
	TRY(finish());
	CHECK_EQ(sv.handshake, -ECONNABORTED);
	return 0;
}

static int test_options(void)
{
	uint8_t r[64], bad[10] = { 0, 0, 0, 9 };
	uint32_t type, len;

	TRY(start(0));
	TRY(hello(NBD_FLAG_C_FIXED_NEWSTYLE));
	/* unknown option (STRUCTURED_REPLY): unsupported, go on */
	TRY(send_opt(8, NULL, 0));
	TRY(opt_reply(8, &type, r, &len));
	CHECK_EQ(type, NBD_REP_ERR_UNSUP);
	/* LIST */
	TRY(send_opt(NBD_OPT_LIST, NULL, 0));
	TRY(opt_reply(NBD_OPT_LIST, &type, r, &len));
	CHECK_EQ(type, NBD_REP_SERVER);
	CHECK_EQ(len, 9);
	CHECK_EQ(get32(r), 5);
	CHECK(!memcmp(r + 4, "stick", 5));
	TRY(opt_reply(NBD_OPT_LIST, &type, r, &len));
	CHECK_EQ(type, NBD_REP_ACK);
	TRY(send_opt(NBD_OPT_LIST, "x", 1));
	TRY(opt_reply(NBD_OPT_LIST, &type, r, &len));
	CHECK_EQ(type, NBD_REP_ERR_INVALID);
	/* GO naming another export, and a malformed one */
	memcpy(r, "\0\0\0\5other\0\0", 11);
	TRY(send_opt(NBD_OPT_GO, r, 11));
	TRY(opt_reply(NBD_OPT_GO, &type, r, &len));
	CHECK_EQ(type, NBD_REP_ERR_UNKNOWN);
	TRY(send_opt(NBD_OPT_GO, bad, sizeof(bad)));
	TRY(opt_reply(NBD_OPT_GO, &type, r, &len));
	CHECK_EQ(type, NBD_REP_ERR_INVALID);
	TRY(send_opt(NBD_OPT_GO, bad, 3));
	TRY(opt_reply(NBD_OPT_GO, &type, r, &len));
	CHECK_EQ(type, NBD_REP_ERR_INVALID);
	/* INFO (with block sizes) then GO by the empty name */
	TRY(go(NBD_OPT_INFO, "stick", 1));
	TRY(go(NBD_OPT_GO, "", 1));
	TRY(request(NBD_CMD_DISC, 0, 1, 0, 0));
	TRY(finish());
	CHECK_EQ(sv.handshake, 0);
	return 0;
}

static int test_abort_and_bad_clients(void)
{
	uint8_t r[64];
	uint32_t type, len;

	TRY(start(0));
	TRY(hello(NBD_FLAG_C_FIXED_NEWSTYLE));
	TRY(send_opt(NBD_OPT_ABORT, NULL, 0));
	TRY(opt_reply(NBD_OPT_ABORT, &type, r, &len));
	CHECK_EQ(type, NBD_REP_ACK);
	TRY(finish());
	CHECK_EQ(sv.handshake, -ECONNABORTED);

	TRY(start(0));
	TRY(hello(1u << 7));		/* a client flag we do not know */
	TRY(finish());
	CHECK_EQ(sv.handshake, -EPROTO);

	TRY(start(0));
	TRY(hello(NBD_FLAG_C_FIXED_NEWSTYLE));
	memset(r, 0x42, 16);		/* not IHAVEOPT */
	TRY(wr(r, 16));
	TRY(finish());
	CHECK_EQ(sv.handshake, -EPROTO);

	TRY(start(0));
	TRY(hello(NBD_FLAG_C_FIXED_NEWSTYLE));
	TRY(finish());			/* hangs up mid-handshake */
	CHECK_EQ(sv.handshake, -ECONNRESET);
	return 0;
}

static int test_refusals(void)
{
	static uint8_t big[300 * 1024];
	uint8_t r[16];

	TRY(start(0));
	TRY(hello(NBD_FLAG_C_FIXED_NEWSTYLE));
	TRY(go(NBD_OPT_GO, "stick", 0));
	/* past the end */
	TRY(request(NBD_CMD_READ, 0, 1, SIZE - 8, 16));
	TRY(expect_reply(1, NBD_EINVAL));
	TRY(request(NBD_CMD_READ, 0, 2, UINT64_MAX - 4, 16));
	TRY(expect_reply(2, NBD_EINVAL));
	TRY(request(NBD_CMD_WRITE, 0, 3, SIZE - 8, 16));
	TRY(wr(big, 16));
	TRY(expect_reply(3, NBD_ENOSPC));
	/* larger than the server's buffer: the data is read past */
	TRY(request(NBD_CMD_WRITE, 0, 4, 0, sizeof(big)));
	TRY(wr(big, sizeof(big)));
	TRY(expect_reply(4, NBD_EINVAL));
	TRY(request(NBD_CMD_READ, 0, 5, 0, sizeof(big)));
	TRY(expect_reply(5, NBD_EINVAL));
	/* an unknown command (TRIM: not offered) */
	TRY(request(4, 0, 6, 0, 512));
	TRY(expect_reply(6, NBD_EINVAL));
	/* the store fails: its errno goes to the client, no data */
	store.fail = -EIO;
	TRY(request(NBD_CMD_READ, 0, 7, 0, 16));
	TRY(expect_reply(7, NBD_EIO));
	store.fail = -ENOSPC;
	TRY(request(NBD_CMD_WRITE, 0, 8, 0, 16));
	TRY(wr(big, 16));
	TRY(expect_reply(8, NBD_ENOSPC));
	TRY(request(NBD_CMD_FLUSH, 0, 9, 0, 0));
	TRY(expect_reply(9, NBD_ENOSPC));
	store.fail = 0;
	TRY(request(NBD_CMD_READ, 0, 10, 0, 4));
	TRY(expect_reply(10, 0));
	TRY(rd(r, 4));
	/* a bad request magic ends the connection */
	memset(r, 0, sizeof(r));
	TRY(wr(r, 16));
	TRY(wr(r, 12));
	TRY(finish());
	CHECK_EQ(sv.transmit, -EPROTO);
	CHECK_EQ(sv.st.errors, 9);
	return 0;
}

static int test_read_only(void)
{
	uint8_t d[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, keep[8];

	memcpy(keep, store.mem, 8);
	TRY(start(1));
	TRY(hello(NBD_FLAG_C_FIXED_NEWSTYLE));
	TRY(go(NBD_OPT_GO, "stick", 0));
	TRY(request(NBD_CMD_WRITE, 0, 1, 0, 8));
	TRY(wr(d, 8));
	TRY(expect_reply(1, NBD_EPERM));
	CHECK(!memcmp(store.mem, keep, 8));
	TRY(request(NBD_CMD_DISC, 0, 2, 0, 0));
	TRY(finish());
	CHECK_EQ(nbd_error(-EROFS), NBD_EPERM);
	CHECK_EQ(nbd_error(-EACCES), NBD_EPERM);
	CHECK_EQ(nbd_error(-ENODEV), NBD_EIO);
	CHECK_EQ(nbd_error(-EOVERFLOW), NBD_EOVERFLOW);
	CHECK_EQ(nbd_error(-ENOMEM), NBD_ENOMEM);
	free(store.mem);
	store.mem = NULL;
	return 0;
}

static const struct tap_test tests[] = {
	{ "GO, then WRITE/READ/FLUSH/FUA/DISC", test_go_read_write },
	{ "EXPORT_NAME: with and without zeroes, unknown", test_export_name },
	{ "options: unknown, LIST, bad GO, INFO, GO \"\"", test_options },
	{ "ABORT, bad flags, bad magic, hang-up", test_abort_and_bad_clients },
	{ "requests refused with their errors", test_refusals },
	{ "read-only export: EPERM, nothing written", test_read_only },
};

TAP_MAIN(tests)
