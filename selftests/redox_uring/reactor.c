// SPDX-License-Identifier: GPL-2.0
/*
 * librxu's reactor and executor (userspace/lib/reactor.c, executor.c)
 * against the real module: a primary u2k ring with callbacks and a
 * pending queue, a k2u provider ring driven by the reactor serving a
 * consumer in another process that uses read(2)/write(2)/poll(2), a u2u
 * pair with requests in both directions, a blocking run_once woken by an
 * IO_URING event, and the tag checks against a peer that answers with
 * wrong tags.  Unlike the other tests this one links librxu: it tests it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rxt_harness.h"
#include "rxu.h"

#define DATA_SIZE_PARAM	"/sys/module/redox_uring/parameters/scheme_data_size"
#define OP_TEST		200	/* a u2u opcode of our own */
#define NREQ		16	/* u2u requests each way */

RXT_DEV_FIXTURE();

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void scheme_name(char *buf, size_t len, const char *what)
{
	snprintf(buf, len, "rr%s%d", what, getpid());
}

/* In a child: report a failed check on stderr and exit with the line. */
#define CHK(cond) do {							\
	if (!(cond)) {							\
		fprintf(stderr, "child %d: %s:%d: %s\n", getpid(),	\
			__FILE__, __LINE__, #cond);			\
		return __LINE__ % 200 + 1;				\
	}								\
} while (0)

/* ---------------------------------------------------------------- */
/* Processes                                                         */
/* ---------------------------------------------------------------- */

static pid_t spawn(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		fflush(NULL);
		_exit(fn(arg));
	}
	return pid;
}

/* The child's exit status, or -1 (killed after tmo_ms, or a signal). */
static int reap(pid_t pid, int tmo_ms)
{
	int st, i;

	for (i = 0; i < tmo_ms / 10; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (w < 0)
			return -1;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* One byte through a pipe, with a timeout: the byte, or -1. */
static int read_byte(int fd, int tmo_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, tmo_ms) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return c;
}

/* ---------------------------------------------------------------- */
/* Providers and u2u rings                                           */
/* ---------------------------------------------------------------- */

struct prov {
	struct rxu_instance in;
	unsigned char *data;	/* the scheme data region */
	size_t data_size;
};

/* Register ":name" and map the data region: 0 or -errno. */
static int prov_register(struct prov *p, const char *name, uint64_t n)
{
	char at[80];
	unsigned long long v = 0;
	FILE *f;
	int ret;

	memset(p, 0, sizeof(*p));
	rxu_instance_from_fd(&p->in, -1);
	ret = rxu_instance_open(&p->in);
	if (!ret)
		ret = rxu_instance_create(&p->in, n, n, 0);
	if (!ret)
		ret = rxu_instance_map(&p->in);
	snprintf(at, sizeof(at), ":%s", name);
	if (!ret)
		ret = rxu_instance_attach(&p->in, at);
	if (ret)
		return ret;
	f = fopen(DATA_SIZE_PARAM, "re");
	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	p->data_size = v ? v : 1 << 20;
	p->data = mmap(NULL, p->data_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       p->in.fd, RXU_OFF_SCHEME_DATA);
	if (p->data == MAP_FAILED) {
		p->data = NULL;
		return -errno;
	}
	return 0;
}

static void prov_close(struct prov *p)
{
	if (p->data)
		munmap(p->data, p->data_size);
	p->data = NULL;
	rxu_instance_close(&p->in);
}

/* RXU_IOC_RECV the ticket of a RECV_IORING SQE and map the ring. */
static int recv_ring(struct rxu_instance *prov, const struct rxu_sqe64 *sqe,
		     struct rxu_instance *prod)
{
	struct rxu_recv_info info = { .ticket = sqe->addr };
	int ret;

	if (ioctl(prov->fd, RXU_IOC_RECV, &info) < 0)
		return -errno;
	rxu_instance_from_fd(prod, (int)info.producer_fd);
	ret = rxu_instance_set_geometry(prod, info.sq_entry_count,
					info.cq_entry_count,
					info.flags & RXU_RECV_BITS_32 ?
					RXU_CREATE_BITS_32 : 0);
	if (!ret)
		ret = rxu_instance_map(prod);
	return ret;
}

/* Without a reactor: wait for one SQE on a producer-side instance. */
static int raw_wait_sqe(struct rxu_instance *in, struct rxu_sqe64 *sqe)
{
	int ret;

	while ((ret = rxu_pop_sqe(in, sqe)) == -EAGAIN) {
		int64_t n = rxu_enter(in, 1, 0, RXT_TMO);

		if (n < 0)
			return (int)n;
	}
	return ret;
}

/* Push one CQE and ring the doorbell. */
static int raw_answer(struct rxu_instance *in, uint64_t user_data,
		      int64_t status)
{
	struct rxu_cqe64 c = {
		.user_data = user_data, .status = (uint64_t)status,
	};
	int ret = rxu_push_cqe(in, &c);
	int64_t n;

	if (ret)
		return ret;
	n = rxu_enter(in, 0, 0, 0);
	return n < 0 ? (int)n : 0;
}

/* Without a reactor: accept the first u2u consumer of a provider. */
static int raw_accept(struct prov *p, struct rxu_instance *prod)
{
	struct rxu_sqe64 sqe;
	int ret = raw_wait_sqe(&p->in, &sqe);

	if (ret)
		return ret;
	if (sqe.opcode != RXU_OP_RECV_IORING)
		return -EPROTO;
	ret = recv_ring(&p->in, &sqe, prod);
	raw_answer(&p->in, sqe.user_data, ret);
	return ret;
}

/* The consumer side: ATTACH "name:" (blocks until accepted). */
static int consumer_attach(struct rxu_instance *c, const char *name,
			   uint64_t n)
{
	char at[80];
	int ret;

	rxu_instance_from_fd(c, -1);
	ret = rxu_instance_open(c);
	if (!ret)
		ret = rxu_instance_create(c, n, n, 0);
	if (!ret)
		ret = rxu_instance_map(c);
	snprintf(at, sizeof(at), "%s:", name);
	if (!ret)
		ret = rxu_instance_attach(c, at);
	return ret;
}

/* ---------------------------------------------------------------- */
/* 1. The primary ring alone                                          */
/* ---------------------------------------------------------------- */

struct order {
	uint64_t ids[64];
	int n;
	int bad;
};

static void order_cb(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		     void *ctx)
{
	struct order *o = ctx;

	(void)r;
	if (rxu_cqe_result(cqe) != 0)
		o->bad++;
	if (o->n < 64)
		o->ids[o->n] = cqe->user_data;
	o->n++;
}

TEST_F(dev, primary_callbacks_pending_queue_and_errors)
{
	struct rxu_instance prim;
	struct rxu_reactor *r;
	struct rxu_cqe64 a = { 0 }, b = { 0 };
	struct rxu_sqe64 sqe;
	struct order o = { .n = 0 };
	uint64_t ida, idb, ids[40];
	char buf[16] = { 0 };
	int p[2], i;

	ASSERT_EQ(0, rxu_setup(&prim, 16, 16, 0));
	ASSERT_EQ(0, rxu_reactor_create(&r, &prim, 64));

	rxu_prep_nop(&sqe, 0);
	EXPECT_EQ(0, rxu_reactor_call(r, RXU_RING_PRIMARY, &sqe, NULL, RXT_TMO));
	rxu_prep_open(&sqe, "/nonexistent/rxu", 15, O_RDONLY, 0, 0);
	EXPECT_EQ(-ENOENT, rxu_reactor_call(r, RXU_RING_PRIMARY, &sqe, NULL,
					    RXT_TMO));

	/* A READ that parks, then the WRITE that completes it. */
	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	rxu_prep_read(&sqe, p[0], buf, 5, 0);
	ASSERT_EQ(0, rxu_submit(r, RXU_RING_PRIMARY, &sqe, rxu_cqe_store, &a,
				&ida));
	rxu_prep_write(&sqe, p[1], "hello", 5, 0);
	ASSERT_EQ(0, rxu_submit(r, RXU_RING_PRIMARY, &sqe, rxu_cqe_store, &b,
				&idb));
	EXPECT_NE(ida, idb);
	EXPECT_TRUE(rxu_request_live(r, ida));
	ASSERT_EQ(0, rxu_reactor_wait(r, ida, RXT_TMO));
	ASSERT_EQ(0, rxu_reactor_wait(r, idb, RXT_TMO));
	EXPECT_EQ(5, rxu_cqe_result(&a));
	EXPECT_EQ(ida, a.user_data);
	EXPECT_EQ(5, rxu_cqe_result(&b));
	EXPECT_EQ(idb, b.user_data);
	EXPECT_STREQ("hello", buf);
	EXPECT_FALSE(rxu_request_live(r, ida));
	close(p[0]);
	close(p[1]);

	/* 40 NOPs into a 16-entry SQ: 24 wait in the reactor, in order. */
	for (i = 0; i < 40; i++) {
		rxu_prep_nop(&sqe, 0);
		ASSERT_EQ(0, rxu_submit(r, RXU_RING_PRIMARY, &sqe, order_cb,
					&o, &ids[i]));
	}
	ASSERT_EQ(40U, rxu_reactor_requests(r));
	ASSERT_EQ(0, rxu_reactor_wait(r, ids[39], RXT_TMO));
	EXPECT_EQ(40, o.n);
	EXPECT_EQ(0, o.bad);
	for (i = 0; i < 40; i++)
		EXPECT_EQ(ids[i], o.ids[i]);
	EXPECT_EQ(0U, rxu_reactor_requests(r));

	/* Misuse. */
	rxu_prep_nop(&sqe, 0);
	EXPECT_EQ(-EINVAL, rxu_submit(r, RXU_RING_PRIMARY, &sqe, NULL, NULL,
				      NULL));
	EXPECT_EQ(-EINVAL, rxu_submit(r, 5, &sqe, order_cb, &o, NULL));
	EXPECT_EQ(-EINVAL, rxu_reactor_wait(r, 1ULL << 40, 0));
	/* An idle turn times out and dispatches nothing. */
	EXPECT_EQ(0, rxu_reactor_run_once(r, 50 * MSEC, 0));

	rxu_reactor_destroy(r);
	rxu_instance_close(&prim);
}

/* ---------------------------------------------------------------- */
/* 2. A k2u provider on the reactor, a consumer in another process    */
/* ---------------------------------------------------------------- */

#define K2U_HANDLE	7

struct k2u_state {
	struct prov *prov;
	int opens, reads, writes, closes, others, bad;
	char path[64];
	uint64_t oflags;
	char data[64];
	size_t len;
	uint64_t pos;
	int gone;
};

static void k2u_handler(struct rxu_reactor *r, int ring,
			const struct rxu_sqe64 *sqe, void *ctx)
{
	struct k2u_state *s = ctx;
	unsigned char *buf;
	int64_t res = -ENOSYS;
	size_t i, n;

	if (!sqe) {
		s->gone = 1;
		return;
	}
	buf = rxu_region_ptr(s->prov->data, s->prov->data_size, sqe->addr,
			     sqe->len);
	switch (sqe->opcode) {
	case RXU_OP_OPEN:
		s->opens++;
		if (!buf || sqe->len >= sizeof(s->path)) {
			res = -EFAULT;
			break;
		}
		memcpy(s->path, buf, sqe->len);
		s->path[sqe->len] = 0;
		s->oflags = sqe->offset;
		res = K2U_HANDLE;
		break;
	case RXU_OP_WRITE:
		s->writes++;
		if (sqe->fd != K2U_HANDLE || !buf) {
			s->bad++;
			res = -EBADF;
			break;
		}
		n = sqe->len < sizeof(s->data) ? sqe->len : sizeof(s->data);
		memcpy(s->data, buf, n);
		s->len = n;
		res = (int64_t)n;
		break;
	case RXU_OP_READ:
		s->reads++;
		if (sqe->fd != K2U_HANDLE || !buf) {
			s->bad++;
			res = -EBADF;
			break;
		}
		/* The data written, upper-cased, from the handle's position. */
		n = s->pos < s->len ? s->len - s->pos : 0;
		if (n > sqe->len)
			n = sqe->len;
		for (i = 0; i < n; i++) {
			char c = s->data[s->pos + i];

			buf[i] = c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
		}
		s->pos += n;
		res = (int64_t)n;
		break;
	case RXU_OP_CLOSE:
		s->closes++;
		res = sqe->fd == K2U_HANDLE ? 0 : -EBADF;
		break;
	default:
		s->others++;
	}
	if (rxu_reactor_respond(r, ring, sqe->user_data, res))
		s->bad++;
	if (sqe->opcode == RXU_OP_OPEN && res >= 0) {
		const struct rxu_cqe64 ev = {
			.user_data = (uint64_t)res,
			.flags = RXU_CQE_EVENT |
				 (uint64_t)(RXU_EVENT_READ | RXU_EVENT_WRITE)
				 << RXU_CQE_EVENT_SHIFT,
		};

		if (rxu_reactor_post(r, ring, &ev))
			s->bad++;
	}
}

/* The consumer: open NAME:file on a ring of its own, then syscalls. */
static int k2u_consumer(void *arg)
{
	const char *name = arg;
	struct rxu_instance in;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	struct pollfd pfd;
	char path[96], buf[64];
	int fd;

	snprintf(path, sizeof(path), "%s:file", name);
	CHK(rxu_setup(&in, 4, 4, 0) == 0);
	rxu_prep_open(&sqe, path, strlen(path), O_RDWR | O_CLOEXEC, 0, 1);
	CHK(rxu_queue_sqe(&in, &sqe) == 0);
	CHK(rxu_wait_cqe(&in, &cqe, RXT_TMO) == 0);
	fd = (int)rxu_cqe_result(&cqe);
	CHK(fd >= 0);
	rxu_instance_close(&in);

	CHK(write(fd, "ping-data", 9) == 9);
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT };
	CHK(poll(&pfd, 1, 10000) == 1);
	CHK(pfd.revents == (POLLIN | POLLOUT));
	memset(buf, 0, sizeof(buf));
	CHK(read(fd, buf, sizeof(buf)) == 9);
	CHK(!strcmp(buf, "PING-DATA"));
	CHK(read(fd, buf, sizeof(buf)) == 0);
	CHK(close(fd) == 0);
	return 0;
}

TEST_F(dev, provider_on_reactor_serves_forked_consumer)
{
	struct rxu_instance prim;
	struct rxu_reactor *r;
	struct rxu_reactor_stats st;
	struct prov prov;
	struct k2u_state s;
	char name[32];
	uint64_t deadline;
	pid_t pid;
	int ring, ret;

	scheme_name(name, sizeof(name), "k");
	ASSERT_EQ(0, prov_register(&prov, name, 16));
	memset(&s, 0, sizeof(s));
	s.prov = &prov;
	ASSERT_EQ(0, rxu_setup(&prim, 16, 16, 0));
	ASSERT_EQ(0, rxu_reactor_create(&r, &prim, 64));
	ring = rxu_reactor_add_producer(r, &prov.in, 4, k2u_handler, &s);
	ASSERT_LT(0, ring);
	EXPECT_EQ(-EINVAL, rxu_submit(r, ring, &(struct rxu_sqe64){ 0 },
				      rxu_cqe_store, &s, NULL));

	pid = spawn(k2u_consumer, name);
	ASSERT_LT(0, pid);
	deadline = now_ns() + 20 * SEC;
	while (s.closes < 1 && now_ns() < deadline) {
		ret = rxu_reactor_run_once(r, SEC, 0);
		ASSERT_LE(0, ret);
	}
	EXPECT_EQ(0, reap(pid, 10000));
	EXPECT_EQ(1, s.opens);
	EXPECT_STREQ("file", s.path);
	EXPECT_EQ(O_RDWR, (int)(s.oflags & O_ACCMODE));
	EXPECT_EQ(1, s.writes);
	EXPECT_EQ(9U, s.len);
	EXPECT_EQ(0, memcmp(s.data, "ping-data", 9));
	EXPECT_EQ(2, s.reads);
	EXPECT_EQ(1, s.closes);
	EXPECT_EQ(0, s.others);
	EXPECT_EQ(0, s.bad);
	EXPECT_EQ(0, s.gone);
	EXPECT_EQ(0, rxu_reactor_outstanding(r, ring));
	rxu_reactor_stats(r, &st);
	EXPECT_EQ(5U, st.sqes);
	EXPECT_EQ(0U, st.dead_rings);
	EXPECT_EQ(0U, st.doorbell_errors);

	EXPECT_EQ(0, rxu_reactor_remove(r, ring));
	rxu_reactor_destroy(r);
	rxu_instance_close(&prim);
	prov_close(&prov);
}

/* ---------------------------------------------------------------- */
/* 3. A u2u pair on two reactors, requests both ways                  */
/* ---------------------------------------------------------------- */

struct side {
	const char *mine, *peer;
	int ready_fd;		/* parent: read; child: write */
	int is_child;
	struct prov prov;
	struct rxu_instance prim, cons, prod;
	struct rxu_reactor *r;
	int prov_ring, prod_ring, cons_ring;
	int accepted, served, completed, bad, dropped;
	uint64_t ids[NREQ];
	int seen[NREQ];
	int64_t magic;		/* this side's requests carry it */
	uint64_t entries;	/* of the u2u rings we attach */
};

/* Answers: status = len * 3 + offset. */
static void u2u_handler(struct rxu_reactor *r, int ring,
			const struct rxu_sqe64 *sqe, void *ctx)
{
	struct side *s = ctx;

	if (!sqe) {
		s->dropped = 1;
		return;
	}
	if (sqe->opcode != OP_TEST)
		s->bad++;
	s->served++;
	if (rxu_reactor_respond(r, ring, sqe->user_data,
				(int64_t)(sqe->len * 3 + sqe->offset)))
		s->bad++;
}

/* The k2u ring of our scheme: accept the one u2u consumer. */
static void accept_handler(struct rxu_reactor *r, int ring,
			   const struct rxu_sqe64 *sqe, void *ctx)
{
	struct side *s = ctx;
	int ret;

	if (!sqe)
		return;
	if (sqe->opcode != RXU_OP_RECV_IORING || s->accepted) {
		s->bad++;
		rxu_reactor_respond(r, ring, sqe->user_data, -ENOSYS);
		return;
	}
	ret = recv_ring(&s->prov.in, sqe, &s->prod);
	if (!ret) {
		s->prod_ring = rxu_reactor_add_producer(r, &s->prod, 8,
							u2u_handler, s);
		if (s->prod_ring < 0)
			ret = s->prod_ring;
	}
	if (ret)
		s->bad++;
	else
		s->accepted = 1;
	rxu_reactor_respond(r, ring, sqe->user_data, ret);
}

static void u2u_cb(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		   void *ctx)
{
	struct side *s = ctx;
	int i;

	(void)r;
	for (i = 0; i < NREQ; i++)
		if (s->ids[i] == cqe->user_data)
			break;
	if (i == NREQ || s->seen[i]++ ||
	    rxu_cqe_result(cqe) != (int64_t)(i * 3) + s->magic ||
	    cqe->flags)
		s->bad++;
	s->completed++;
}

static int side_run_until(struct side *s, int *flag, int want)
{
	uint64_t deadline = now_ns() + 10 * SEC;

	while (*flag < want) {
		int ret;

		if (now_ns() > deadline)
			return -ETIME;
		ret = rxu_reactor_run_once(s->r, SEC, 0);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * Both sides: register, (child) attach to the parent, (parent) accept,
 * then (parent) attach to the child while the child accepts; then each
 * sends NREQ requests and serves NREQ.
 */
static int side_main(struct side *s)
{
	struct rxu_reactor_stats st;
	int i, ret;

	CHK(rxu_setup(&s->prim, 32, 32, 0) == 0);
	CHK(rxu_reactor_create(&s->r, &s->prim, 128) == 0);
	s->prov_ring = rxu_reactor_add_producer(s->r, &s->prov.in, 4,
						accept_handler, s);
	CHK(s->prov_ring > 0);
	if (s->is_child) {
		CHK(write(s->ready_fd, "R", 1) == 1);
		CHK(consumer_attach(&s->cons, s->peer, s->entries) == 0);
		CHK(side_run_until(s, &s->accepted, 1) == 0);
	} else {
		CHK(read_byte(s->ready_fd, 10000) == 'R');
		CHK(side_run_until(s, &s->accepted, 1) == 0);
		CHK(consumer_attach(&s->cons, s->peer, s->entries) == 0);
	}
	s->cons_ring = rxu_reactor_add_consumer(s->r, &s->cons);
	CHK(s->cons_ring > 0);
	for (i = 0; i < NREQ; i++) {
		struct rxu_sqe64 sqe = {
			.opcode = OP_TEST, .len = (uint64_t)i,
			.offset = (uint64_t)s->magic,
		};

		ret = rxu_submit(s->r, s->cons_ring, &sqe, u2u_cb, s,
				 &s->ids[i]);
		CHK(ret == 0);
	}
	CHK(side_run_until(s, &s->completed, NREQ) == 0);
	CHK(side_run_until(s, &s->served, NREQ) == 0);
	for (i = 0; i < NREQ; i++)
		CHK(s->seen[i] == 1);
	CHK(s->bad == 0);
	rxu_reactor_stats(s->r, &st);
	CHK(st.bad_tag == 0 && st.stale_tag == 0 && st.unknown_tag == 0 &&
	    st.wrong_ring == 0);
	CHK(rxu_reactor_outstanding(s->r, s->prod_ring) == 0);
	return 0;
}

static int child_side(void *arg)
{
	struct side *s = arg;

	s->is_child = 1;
	s->magic = 1000;
	CHK(prov_register(&s->prov, s->mine, 16) == 0);
	return side_main(s);
}

/* The pair, with rings of `entries` SQEs and CQEs on both connections. */
static void u2u_pair(struct __test_metadata *_metadata, uint64_t entries)
{
	struct side parent, child;
	char pname[32], cname[32];
	int pipefd[2], status;
	pid_t pid;

	scheme_name(pname, sizeof(pname), "p");
	scheme_name(cname, sizeof(cname), "c");
	memset(&parent, 0, sizeof(parent));
	memset(&child, 0, sizeof(child));
	ASSERT_EQ(0, pipe2(pipefd, O_CLOEXEC));
	parent.mine = pname;
	parent.peer = cname;
	parent.magic = 2000;
	parent.entries = entries;
	child.entries = entries;
	ASSERT_EQ(0, prov_register(&parent.prov, pname, 16));

	child.mine = cname;
	child.peer = pname;
	child.ready_fd = pipefd[1];
	pid = spawn(child_side, &child);
	ASSERT_LT(0, pid);
	close(pipefd[1]);
	parent.ready_fd = pipefd[0];
	status = side_main(&parent);
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, reap(pid, 20000));
	EXPECT_EQ(NREQ, parent.completed);
	EXPECT_EQ(NREQ, parent.served);

	close(pipefd[0]);
	rxu_reactor_destroy(parent.r);
	rxu_instance_close(&parent.cons);
	rxu_instance_close(&parent.prod);
	rxu_instance_close(&parent.prim);
	prov_close(&parent.prov);
}

TEST_F(dev, u2u_pair_requests_both_ways)
{
	u2u_pair(_metadata, 32);
}

/*
 * Rings of 2 entries, 16 requests each way and a producer bound of 8:
 * requests wait in the consumer's reactor for SQ room and replies in the
 * producer's for CQ room, on both sides at once.
 */
TEST_F(dev, u2u_pair_back_pressure_tiny_rings)
{
	u2u_pair(_metadata, 2);
}

/* ---------------------------------------------------------------- */
/* 4-5. Raw peers: a late answer, wrong tags                          */
/* ---------------------------------------------------------------- */

struct raw_peer {
	const char *name;
	int ready_fd, ctl_fd;	/* write 'R' / read until EOF */
	int parent_fd;		/* the parent's end of ctl: closed here */
	int mode;		/* RAW_LATE, RAW_GARBAGE */
	volatile uint64_t *other_id;	/* shared: a primary request id */
};

enum { RAW_LATE, RAW_GARBAGE };

#define GARBAGE_CAP	64	/* the consumer's request slots */

static int raw_peer_main(void *arg)
{
	struct raw_peer *p = arg;
	struct rxu_instance prod;
	struct rxu_sqe64 sqe;
	struct prov prov;
	char c;

	close(p->parent_fd);
	CHK(prov_register(&prov, p->name, 8) == 0);
	CHK(write(p->ready_fd, "R", 1) == 1);
	CHK(raw_accept(&prov, &prod) == 0);
	CHK(raw_wait_sqe(&prod, &sqe) == 0);
	CHK(sqe.opcode == OP_TEST);
	if (p->mode == RAW_LATE) {
		usleep(300 * 1000);
		CHK(raw_answer(&prod, sqe.user_data, 42) == 0);
	} else {
		uint64_t u = sqe.user_data, idx = u & 0xffff, gen = u >> 16;
		const struct rxu_cqe64 bad[] = {
			{ .user_data = u | 1ULL << 40 },	/* bad */
			{ .user_data = idx },			/* bad: gen 0 */
			{ .user_data = 1 << 16 | (GARBAGE_CAP + 5) }, /* bad */
			{ .user_data = (gen + 1) << 16 | idx },	/* stale */
			{ .user_data = 1 << 16 | (GARBAGE_CAP - 1) }, /* unknown */
			{ .user_data = *p->other_id },		/* wrong ring */
			{ .user_data = u, .status = 77 },	/* the answer */
			{ .user_data = u, .status = 78 },	/* stale */
		};
		size_t i;

		CHK(gen != 0 && idx < GARBAGE_CAP - 1);
		for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
			CHK(rxu_push_cqe(&prod, &bad[i]) == 0);
		CHK(rxu_enter(&prod, 0, 0, 0) >= 0);
	}
	/* Stay until the test is done with the ring. */
	while (read(p->ctl_fd, &c, 1) > 0)
		;
	rxu_instance_close(&prod);
	prov_close(&prov);
	return 0;
}

FIXTURE(raw) {
	struct raw_peer peer;
	char name[32];
	int ready[2], ctl[2];
	pid_t pid;
	struct rxu_instance prim, cons;
	struct rxu_reactor *r;
	int ring;
	uint64_t *shared;
};

FIXTURE_VARIANT(raw) { int mode; int remove; };
FIXTURE_VARIANT_ADD(raw, late_answer_wakes_blocking_run_once) { .mode = RAW_LATE };
FIXTURE_VARIANT_ADD(raw, wrong_tags_counted_and_ignored) { .mode = RAW_GARBAGE };
FIXTURE_VARIANT_ADD(raw, removed_ring_cancels_late_answer_stale) {
	.mode = RAW_LATE, .remove = 1,
};

FIXTURE_SETUP(raw)
{
	self->pid = 0;
	self->r = NULL;
	rxu_instance_from_fd(&self->prim, -1);
	rxu_instance_from_fd(&self->cons, -1);
	RXT_REQUIRE_DEV();
	self->shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->shared);
	scheme_name(self->name, sizeof(self->name),
		    variant->mode == RAW_LATE ? "l" : "g");
	ASSERT_EQ(0, pipe2(self->ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->ctl, O_CLOEXEC));
	self->peer = (struct raw_peer){
		.name = self->name, .ready_fd = self->ready[1],
		.ctl_fd = self->ctl[0], .parent_fd = self->ctl[1],
		.mode = variant->mode,
		.other_id = self->shared,
	};
	self->pid = spawn(raw_peer_main, &self->peer);
	ASSERT_LT(0, self->pid);
	close(self->ready[1]);
	close(self->ctl[0]);
	ASSERT_EQ('R', read_byte(self->ready[0], 10000));
	ASSERT_EQ(0, consumer_attach(&self->cons, self->name, 16));
	ASSERT_EQ(0, rxu_setup(&self->prim, 16, 16, 0));
	ASSERT_EQ(0, rxu_reactor_create(&self->r, &self->prim, GARBAGE_CAP));
	self->ring = rxu_reactor_add_consumer(self->r, &self->cons);
	ASSERT_LT(0, self->ring);
}

FIXTURE_TEARDOWN(raw)
{
	rxu_reactor_destroy(self->r);
	rxu_instance_close(&self->cons);
	rxu_instance_close(&self->prim);
	if (self->pid > 0) {
		close(self->ctl[1]);
		EXPECT_EQ(0, reap(self->pid, 10000));
	}
}

static void count_cb(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		     void *ctx)
{
	struct rxu_cqe64 *c = ctx;

	(void)r;
	c->extra++;			/* the number of calls */
	c->status = cqe->status;
	c->user_data = cqe->user_data;
}

TEST_F(raw, peer)
{
	struct rxu_sqe64 sqe = { .opcode = OP_TEST, .len = 1 };
	struct rxu_cqe64 got = { 0 };
	struct rxu_reactor_stats st;
	uint64_t id, t0, dt;
	int ret, turns;

	if (variant->remove) {
		/*
		 * Removing the ring cancels its request at once; the peer's
		 * answer, 300 ms later, reaches the ring added again on the
		 * same instance and is refused as a stale tag.
		 */
		ASSERT_EQ(0, rxu_submit(self->r, self->ring, &sqe, count_cb,
					&got, &id));
		ASSERT_LE(0, rxu_reactor_run_once(self->r, 0, RXU_RUN_NOWAIT));
		ASSERT_EQ(0, rxu_reactor_remove(self->r, self->ring));
		EXPECT_EQ(1U, got.extra);
		EXPECT_EQ(-ECANCELED, rxu_cqe_result(&got));
		EXPECT_EQ(id, got.user_data);
		EXPECT_EQ(-EINVAL, rxu_reactor_remove(self->r, self->ring));
		EXPECT_EQ(-EINVAL, rxu_submit(self->r, self->ring, &sqe,
					      count_cb, &got, NULL));
		self->ring = rxu_reactor_add_consumer(self->r, &self->cons);
		ASSERT_LT(0, self->ring);
		t0 = now_ns();
		do {
			rxu_reactor_stats(self->r, &st);
			if (st.stale_tag)
				break;
			ASSERT_LE(0, rxu_reactor_run_once(self->r, 100 * MSEC,
							  0));
		} while (now_ns() - t0 < 5 * SEC);
		EXPECT_EQ(1U, st.stale_tag);
		EXPECT_EQ(1U, got.extra);
		return;
	}
	if (variant->mode == RAW_LATE) {
		/* Arm the ring's watch: submit it, then take its status. */
		ASSERT_LE(0, rxu_reactor_run_once(self->r, 0, RXU_RUN_NOWAIT));
		ASSERT_LE(0, rxu_reactor_run_once(self->r, 0, RXU_RUN_NOWAIT));
		ASSERT_EQ(0, rxu_reactor_run_once(self->r, 0, RXU_RUN_NOWAIT));

		ASSERT_EQ(0, rxu_submit(self->r, self->ring, &sqe, count_cb,
					&got, &id));
		/* One blocking turn: the peer answers 300 ms later. */
		t0 = now_ns();
		ret = rxu_reactor_run_once(self->r, 5 * SEC, 0);
		dt = now_ns() - t0;
		EXPECT_LE(1, ret);
		EXPECT_EQ(1U, got.extra);
		EXPECT_EQ(42, rxu_cqe_result(&got));
		EXPECT_EQ(id, got.user_data);
		EXPECT_LE(250 * MSEC, dt);	/* it slept... */
		EXPECT_GT(4 * SEC, dt);		/* ...and the event woke it */
		EXPECT_FALSE(rxu_request_live(self->r, id));
		return;
	}

	/* RAW_GARBAGE: a parked READ on the primary lends its id. */
	{
		struct rxu_cqe64 parked = { 0 };
		struct rxu_sqe64 rd;
		uint64_t pid_;
		char buf[4];
		int p[2];

		ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
		rxu_prep_read(&rd, p[0], buf, sizeof(buf), 0);
		ASSERT_EQ(0, rxu_submit(self->r, RXU_RING_PRIMARY, &rd,
					count_cb, &parked, &pid_));
		*self->shared = pid_;
		ASSERT_EQ(0, rxu_submit(self->r, self->ring, &sqe, count_cb,
					&got, &id));
		ASSERT_EQ(0, rxu_reactor_wait(self->r, id, RXT_TMO));
		/* The stale duplicate may come a turn later. */
		for (turns = 0; turns < 20; turns++) {
			rxu_reactor_stats(self->r, &st);
			if (st.stale_tag >= 2)
				break;
			ASSERT_LE(0, rxu_reactor_run_once(self->r, 100 * MSEC,
							  0));
		}
		EXPECT_EQ(1U, got.extra);
		EXPECT_EQ(77, rxu_cqe_result(&got));
		EXPECT_EQ(id, got.user_data);
		rxu_reactor_stats(self->r, &st);
		EXPECT_EQ(3U, st.bad_tag);
		EXPECT_EQ(2U, st.stale_tag);
		EXPECT_EQ(1U, st.unknown_tag);
		EXPECT_EQ(1U, st.wrong_ring);
		EXPECT_EQ(0U, st.dead_rings);
		/* The READ whose id was borrowed is untouched. */
		EXPECT_TRUE(rxu_request_live(self->r, pid_));
		EXPECT_EQ(0U, parked.extra);
		ASSERT_EQ(1, write(p[1], "x", 1));
		ASSERT_EQ(0, rxu_reactor_wait(self->r, pid_, RXT_TMO));
		EXPECT_EQ(1U, parked.extra);
		EXPECT_EQ(1, rxu_cqe_result(&parked));
		close(p[0]);
		close(p[1]);
	}
}

/* The peer dies: its ring's requests fail with ESHUTDOWN. */
TEST_F(dev, u2u_peer_death_fails_requests)
{
	struct raw_peer peer;
	struct rxu_instance prim, cons;
	struct rxu_reactor *r;
	struct rxu_sqe64 sqe = { .opcode = OP_TEST };
	struct rxu_cqe64 got = { 0 };
	char name[32];
	int ready[2], ctl[2], ring;
	uint64_t id, zero = 0;
	pid_t pid;

	scheme_name(name, sizeof(name), "d");
	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(ctl, O_CLOEXEC));
	peer = (struct raw_peer){
		.name = name, .ready_fd = ready[1], .ctl_fd = ctl[0],
		.parent_fd = ctl[1],
		.mode = RAW_LATE, .other_id = &zero,
	};
	pid = spawn(raw_peer_main, &peer);
	ASSERT_LT(0, pid);
	close(ready[1]);
	close(ctl[0]);
	ASSERT_EQ('R', read_byte(ready[0], 10000));
	ASSERT_EQ(0, consumer_attach(&cons, name, 16));
	ASSERT_EQ(0, rxu_setup(&prim, 16, 16, 0));
	ASSERT_EQ(0, rxu_reactor_create(&r, &prim, 16));
	ring = rxu_reactor_add_consumer(r, &cons);
	ASSERT_LT(0, ring);
	/* Two requests: the peer answers the first, then is killed. */
	ASSERT_EQ(0, rxu_submit(r, ring, &sqe, count_cb, &got, &id));
	ASSERT_EQ(0, rxu_reactor_wait(r, id, RXT_TMO));
	EXPECT_EQ(42, rxu_cqe_result(&got));
	memset(&got, 0, sizeof(got));
	ASSERT_EQ(0, rxu_submit(r, ring, &sqe, count_cb, &got, &id));
	kill(pid, SIGKILL);
	EXPECT_EQ(-1, reap(pid, 10000));
	ASSERT_EQ(0, rxu_reactor_wait(r, id, RXT_TMO));
	EXPECT_EQ(1U, got.extra);
	EXPECT_EQ(-ESHUTDOWN, rxu_cqe_result(&got));
	EXPECT_EQ(-ESHUTDOWN, rxu_submit(r, ring, &sqe, count_cb, &got, NULL));

	rxu_reactor_destroy(r);
	rxu_instance_close(&cons);
	rxu_instance_close(&prim);
	close(ready[0]);
	close(ctl[1]);
}

TEST_HARNESS_MAIN
