// SPDX-License-Identifier: MIT
/*
 * bench-scheme: blocking request/response round trips between two
 * processes, three ways, one per run:
 *
 *   bench-scheme [-n round trips] [-w warm-up] [-p split|same|any] [-P] [-z] unix|pipe|scheme|u2u
 *
 *   unix    a daemon on a UNIX stream socket; the client sends a 64-byte
 *           request ("read 64 bytes from handle 1", laid out as an SQE)
 *           and reads the daemon's 64-byte reply; both block in the
 *           socket calls.  The classic Linux way to serve a namespace
 *           from a daemon.
 *   pipe    64 bytes there and 64 bytes back over two pipes.
 *   scheme  a provider registers ":benchrt" on /dev/redox_uring (ABI.md
 *           section 7), maps the scheme data region, and answers every
 *           READ/PREAD SQE with 64 bytes written into the data region;
 *           it sleeps in ENTER (doorbell + wait for the next SQE).  The
 *           client opens "benchrt:x" through a u2k ring OPEN and then
 *           calls read(2) of 64 bytes on the fd it got, which sleeps in
 *           the kernel until the provider's CQE.
 *   u2u     the same provider, reached user-to-user (ABI.md section 7):
 *           the client ATTACHes "benchrt:" (the provider gets a
 *           RECV_IORING SQE, calls RXU_IOC_RECV, maps the producer
 *           rings and answers 0), DUPs "pool" on its u2u fd through a
 *           kernel ring and maps a 64 KiB pool range; the provider gets
 *           its own pool fd the same way and maps the range when it
 *           first sees its offset.  Each round trip pushes a 64-byte
 *           READ SQE (addr = a pool offset) into the shared SQ and
 *           sleeps in ENTER(min_complete = 1) (doorbell, then wait for
 *           the CQE); the provider writes 64 bytes into the pool at that
 *           offset, pushes the CQE and sleeps in ENTER(min_complete = 1)
 *           on its producer fd.  Both sides sleep; nobody polls.  The
 *           request never goes through the kernel's scheme code: the
 *           kernel only wakes the sleeper on the other side.
 *
 * The server is a forked child; with -p split (the default) client and
 * server are pinned to two different CPUs, with -p same both to the
 * first CPU, with -p any not at all (pinning failures are ignored).
 * -P (diagnosis only) makes the provider poll its SQ instead of sleeping
 * in ENTER: with it, only the client's wake-up is measured.  -z makes
 * the scheme provider opt in to zero-copy READ answers (docs/zero-copy.md)
 * and answer with RXU_CQE_ZC_DATA from its own reply buffer, so the
 * kernel copies once, from there to the client's buffer.
 * Prints the command, the round trips timed (after the warm-up) and
 * round trips/s; bench-scheme.sh runs the three alternately in a guest
 * and prints medians and ratios.  Needs the module (scheme only) and
 * the right to register a scheme (by default CAP_SYS_ADMIN).  A
 * benchmark, not a test: it fails only if it cannot run or a reply is
 * wrong.
 */
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rxu.h"

#define MSG		64		/* request and reply size */
#define SCHEME_NAME	"benchrt"
#define DATA_SIZE_PARAM	"/sys/module/redox_uring/parameters/scheme_data_size"
#define RING_ENTRIES	64

static const char *prog = "bench-scheme";

static __attribute__((noreturn)) void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(err));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The first two CPUs we may run on, found before anything is pinned. */
static int cpus[2] = { -1, -1 };

static void find_cpus(void)
{
	cpu_set_t set;
	int cpu, seen = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	for (cpu = 0; cpu < CPU_SETSIZE && seen < 2; cpu++)
		if (CPU_ISSET(cpu, &set))
			cpus[seen++] = cpu;
}

/* Pin pid (0: us) to cpus[idx]; failures (one CPU only, ...) ignored. */
static void pin_to(pid_t pid, int idx)
{
	cpu_set_t set;

	if (idx < 0 || cpus[idx] < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpus[idx], &set);
	(void)sched_setaffinity(pid, sizeof(set), &set);
}

/* Whole-message I/O on blocking fds: 0, or an errno (EPIPE at EOF). */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The 64 bytes every server answers with; the client checks them. */
static void fill_reply(unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(0xa5 ^ i);
}

static int check_reply(const unsigned char *buf, size_t len)
{
	unsigned char want[MSG];

	fill_reply(want, len);
	return memcmp(buf, want, len) ? EBADMSG : 0;
}

/*
 * The server tells the client it is ready (bound, registered) with one
 * byte on a pipe, or an errno if it failed.
 */
static void ready(int fd, int err)
{
	unsigned char b = (unsigned char)err;

	if (write(fd, &b, 1) != 1)
		_exit(1);
	close(fd);
}

static void wait_ready(int fd, const char *what)
{
	unsigned char b;

	if (read(fd, &b, 1) != 1)
		die(what, EPIPE);
	if (b)
		die(what, b);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* unix: a request/response daemon on a UNIX stream socket              */
/* ------------------------------------------------------------------ */

static void unix_server(int lfd, int rfd)
{
	unsigned char reply[MSG];
	struct rxu_sqe64 req;
	int cfd;

	fill_reply(reply, sizeof(reply));
	ready(rfd, 0);
	cfd = accept(lfd, NULL, NULL);
	if (cfd < 0)
		_exit(1);
	for (;;) {
		if (read_all(cfd, &req, sizeof(req)))
			_exit(0);		/* the client went away */
		if (req.opcode != RXU_OP_READ || req.len > MSG)
			_exit(1);
		if (write_all(cfd, reply, req.len))
			_exit(0);
	}
}

static double unix_client(int fd, long warm, long n)
{
	struct rxu_sqe64 req;
	unsigned char buf[MSG];
	double t0 = 0;
	long i;
	int err;

	rxu_prep_read(&req, 1, NULL, MSG, 0);
	for (i = 0; i < warm + n; i++) {
		if (i == warm)
			t0 = now();
		req.user_data = (uint64_t)i;
		err = write_all(fd, &req, sizeof(req));
		if (!err)
			err = read_all(fd, buf, MSG);
		if (!err && i == 0)
			err = check_reply(buf, MSG);
		if (err)
			die("unix round trip", err);
	}
	return n / (now() - t0);
}

static double run_unix(long warm, long n, pid_t *child, int pin)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen;
	int lfd, fd, rp[2];
	double rate;

	/* Abstract name: nothing left behind in the filesystem. */
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1,
		 "bench-scheme-%d", (int)getpid());
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			    strlen(sa.sun_path + 1));
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket", errno);
	if (bind(lfd, (struct sockaddr *)&sa, salen) || listen(lfd, 1))
		die("bind", errno);
	if (pipe(rp))
		die("pipe", errno);
	*child = fork();
	if (*child < 0)
		die("fork", errno);
	if (!*child) {
		close(rp[0]);
		unix_server(lfd, rp[1]);
	}
	close(rp[1]);
	close(lfd);
	if (pin >= 0)
		pin_to(*child, pin);
	wait_ready(rp[0], "unix server");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, salen))
		die("connect", errno);
	rate = unix_client(fd, warm, n);
	close(fd);
	return rate;
}

/* ------------------------------------------------------------------ */
/* pipe: 64 bytes each way                                             */
/* ------------------------------------------------------------------ */

static double run_pipe(long warm, long n, pid_t *child, int pin)
{
	unsigned char buf[MSG];
	int to[2], from[2];
	double t0 = 0;
	long i;
	int err;

	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		die("pipe", errno);
	*child = fork();
	if (*child < 0)
		die("fork", errno);
	if (!*child) {
		close(to[1]);
		close(from[0]);
		fill_reply(buf, MSG);
		for (;;) {
			unsigned char req[MSG];

			if (read_all(to[0], req, MSG) ||
			    write_all(from[1], buf, MSG))
				_exit(0);
		}
	}
	close(to[0]);
	close(from[1]);
	if (pin >= 0)
		pin_to(*child, pin);
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < warm + n; i++) {
		if (i == warm)
			t0 = now();
		err = write_all(to[1], buf, MSG);
		if (!err)
			err = read_all(from[0], buf, MSG);
		if (!err && i == 0)
			err = check_reply(buf, MSG);
		if (err)
			die("pipe round trip", err);
	}
	t0 = n / (now() - t0);
	close(to[1]);
	close(from[0]);
	return t0;
}

/* ------------------------------------------------------------------ */
/* scheme: a provider of ":benchrt" and a read(2) client               */
/* ------------------------------------------------------------------ */

static volatile sig_atomic_t stop;
static int provider_polls;	/* -P: the provider spins instead of sleeping */
static int provider_zc;		/* -z: zero-copy READ answers */
static unsigned char zc_reply[MSG];	/* what -z answers name */

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t data_region_size(void)
{
	unsigned long long v = 0;
	FILE *f = fopen(DATA_SIZE_PARAM, "r");

	if (f) {
		if (fscanf(f, "%llu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v ? v : 1 << 20;		/* the contract's default */
}

/* The provider's answer to one SQE: the CQE's status. */
static int64_t serve(const struct rxu_sqe64 *sqe, unsigned char *data,
		     uint64_t size, uint64_t *next_handle)
{
	uint64_t len = sqe->len;

	switch (sqe->opcode) {
	case RXU_OP_OPEN:
		return (int64_t)(*next_handle)++;
	case RXU_OP_READ:
	case RXU_OP_PREAD:
		if (len > MSG)
			len = MSG;
		if (sqe->addr > size || len > size - sqe->addr)
			return -EFAULT;
		fill_reply(data + sqe->addr, len);
		return (int64_t)len;
	case RXU_OP_WRITE:
	case RXU_OP_PWRITE:
		return (int64_t)len;
	case RXU_OP_SEEK:
	case RXU_OP_CLOSE:
	case RXU_OP_FSYNC:
		return 0;
	default:
		return -ENOSYS;
	}
}

/* Push one CQE, letting the kernel reap the CQ while it is full. */
static int push_cqe(struct rxu_instance *in, const struct rxu_cqe64 *cqe)
{
	int r;

	while ((r = rxu_ring_push(&in->cq, cqe)) == -EAGAIN) {
		int64_t e = rxu_enter(in, 0, RXU_ENTER_ONLY_NOTIFY, 0);

		if (e < 0 && e != -EINTR)
			return (int)e;
	}
	return r;
}

static int u2u_serve_recv(struct rxu_instance *k,
			  const struct rxu_sqe64 *req);

static void scheme_server(int rfd)
{
	struct rxu_instance in = { .fd = -1 };
	struct sigaction sa = { .sa_handler = on_term };
	uint64_t size = data_region_size(), next_handle = 1;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	unsigned char *data;
	int64_t e;
	int r;

	sigaction(SIGTERM, &sa, NULL);
	r = rxu_instance_open(&in);
	if (!r)
		r = rxu_instance_create(&in, RING_ENTRIES, RING_ENTRIES, 0);
	if (!r)
		r = rxu_instance_map(&in);
	if (!r)
		r = rxu_instance_attach(&in, ":" SCHEME_NAME);
	if (r) {
		ready(rfd, -r);
		_exit(1);
	}
	data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, in.fd,
		    (off_t)RXU_OFF_SCHEME_DATA);
	if (data == MAP_FAILED) {
		ready(rfd, errno);
		_exit(1);
	}
	if (provider_zc) {
		struct rxu_scheme_features feats = {
			.features = RXU_SCHEME_FEAT_ZC_READ,
		};

		fill_reply(zc_reply, MSG);
		if (ioctl(in.fd, RXU_IOC_SCHEME_FEATURES, &feats)) {
			ready(rfd, errno);
			_exit(1);
		}
	}
	ready(rfd, 0);

	while (!stop) {
		while ((r = rxu_ring_pop(&in.sq, &sqe)) == 0) {
			int64_t st;

			if (sqe.opcode == RXU_OP_RECV_IORING) {
				/* u2u: serve that ring from now on. */
				_exit(u2u_serve_recv(&in, &sqe) ? 1 : 0);
			}
			if (sqe.syscall_flags & RXU_RW_ZC) {
				/* Offered only for READ/PREAD, after -z. */
				rxu_prep_zc_answer(&cqe, sqe.user_data,
						   zc_reply, sqe.len < MSG ?
						   sqe.len : MSG);
				if (push_cqe(&in, &cqe))
					_exit(1);
				continue;
			}
			st = serve(&sqe, data, size, &next_handle);

			cqe = (struct rxu_cqe64){ .user_data = sqe.user_data,
						  .status = (uint64_t)st };
			if (push_cqe(&in, &cqe))
				_exit(1);
			if (sqe.opcode == RXU_OP_OPEN && st >= 0) {
				/* Always ready: say so once (contract). */
				cqe = (struct rxu_cqe64){
					.user_data = (uint64_t)st,
					.flags = RXU_CQE_EVENT |
						 ((RXU_EVENT_READ | RXU_EVENT_WRITE)
						  << RXU_CQE_EVENT_SHIFT),
				};
				if (push_cqe(&in, &cqe))
					_exit(1);
			}
		}
		if (r != -EAGAIN)
			_exit(r == -ESHUTDOWN ? 0 : 1);
		/*
		 * Doorbell for our CQEs, then sleep until the next SQE (with
		 * -P: return at once and poll the SQ, to tell a slow wake-up
		 * of the provider from a slow one of the client).
		 */
		e = rxu_enter(&in, !provider_polls, 0, 0);
		if (e == -ESHUTDOWN)
			_exit(0);
		if (e < 0 && e != -EINTR && e != -ETIME)
			_exit(1);
	}
	_exit(0);
}

/* OPEN path through a fresh u2k ring: the new fd, or -errno. */
static int ring_open(const char *path, int flags)
{
	struct rxu_instance in = { .fd = -1 };
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int r;

	r = rxu_setup(&in, 8, 8, 0);
	if (r)
		return r;
	rxu_prep_open(&sqe, path, strlen(path), flags, 0, 1);
	r = rxu_queue_sqe(&in, &sqe);
	if (!r)
		r = rxu_wait_cqe(&in, &cqe, 0);
	if (!r)
		r = (int)rxu_cqe_result(&cqe);
	rxu_instance_close(&in);
	return r;
}

static double run_scheme(long warm, long n, pid_t *child, int pin)
{
	unsigned char buf[MSG];
	double t0 = 0;
	int rp[2], fd;
	long i;

	if (pipe(rp))
		die("pipe", errno);
	*child = fork();
	if (*child < 0)
		die("fork", errno);
	if (!*child) {
		close(rp[0]);
		scheme_server(rp[1]);
	}
	close(rp[1]);
	if (pin >= 0)
		pin_to(*child, pin);
	wait_ready(rp[0], "register :" SCHEME_NAME);
	fd = ring_open(SCHEME_NAME ":x", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("OPEN " SCHEME_NAME ":x", -fd);
	for (i = 0; i < warm + n; i++) {
		ssize_t got;

		if (i == warm)
			t0 = now();
		got = read(fd, buf, MSG);
		if (got != MSG)
			die("read", got < 0 ? errno : EIO);
		if (i == 0 && check_reply(buf, MSG))
			die("read", EBADMSG);
	}
	t0 = n / (now() - t0);
	close(fd);
	return t0;
}

/* ------------------------------------------------------------------ */
/* u2u: the same provider, reached through a user-to-user ring         */
/* ------------------------------------------------------------------ */

#define POOL_RANGE	65536		/* the client's one pool range */

/* DUP fd with parameter "pool" through a fresh u2k ring: the pool fd, or -errno. */
static int dup_pool(int fd)
{
	struct rxu_instance k = { .fd = -1 };
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int r;

	r = rxu_setup(&k, 8, 8, 0);
	if (r)
		return r;
	rxu_prep_dup_param(&sqe, fd, RXU_DUP_PARAM_POOL,
			   strlen(RXU_DUP_PARAM_POOL), 0);
	r = rxu_queue_sqe(&k, &sqe);
	if (!r)
		r = rxu_wait_cqe(&k, &cqe, 0);
	if (!r)
		r = (int)rxu_cqe_result(&cqe);
	rxu_instance_close(&k);
	return r;
}

/*
 * The provider's side, called with the RECV_IORING SQE just popped from
 * its k2u ring k (the ticket is its addr): receive the producer ring,
 * map it, answer 0, get the pool, then serve READs until DROP.  0 at a
 * clean end.
 */
static int u2u_serve_recv(struct rxu_instance *k, const struct rxu_sqe64 *req)
{
	struct rxu_recv_info info = { .ticket = req->addr };
	struct rxu_instance prod = { .fd = -1 };
	struct rxu_pool pool;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe = { .user_data = req->user_data };
	int64_t e;
	int r, pfd;

	if (ioctl(k->fd, RXU_IOC_RECV, &info) < 0)
		return errno;
	rxu_instance_from_fd(&prod, (int)info.producer_fd);
	r = rxu_instance_set_geometry(&prod, info.sq_entry_count,
				      info.cq_entry_count,
				      info.flags & RXU_RECV_BITS_32 ?
				      RXU_CREATE_BITS_32 : 0);
	if (!r)
		r = rxu_instance_map(&prod);
	cqe.status = (uint64_t)(int64_t)(r ? -ECONNREFUSED : 0);
	if (push_cqe(k, &cqe))
		return EIO;
	/* The doorbell on which the kernel takes the answer: ATTACH returns. */
	e = rxu_enter(k, 0, RXU_ENTER_ONLY_NOTIFY, 0);
	if (r || (e < 0 && e != -EINTR))
		return EIO;
	pfd = dup_pool(prod.fd);
	if (pfd < 0 || rxu_pool_init(&pool, pfd))
		return EIO;

	while (!stop) {
		while ((r = rxu_ring_pop(&prod.sq, &sqe)) == 0) {
			uint64_t len = sqe.len > MSG ? MSG : sqe.len;
			void *p = NULL;

			if (sqe.opcode == RXU_OP_READ) {
				p = rxu_pool_ptr(&pool, sqe.addr, len);
				/* A range the consumer mapped since: learn it. */
				if (!p && rxu_pool_update(&pool) > 0)
					p = rxu_pool_ptr(&pool, sqe.addr, len);
			}
			if (p)
				fill_reply(p, len);
			cqe = (struct rxu_cqe64){
				.user_data = sqe.user_data,
				.status = (uint64_t)(p ? (int64_t)len :
						     sqe.opcode == RXU_OP_READ ?
						     -EFAULT : -ENOSYS),
			};
			while ((r = rxu_ring_push(&prod.cq, &cqe)) == -EAGAIN) {
				e = rxu_enter(&prod, 0, RXU_ENTER_ONLY_NOTIFY, 0);
				if (e < 0 && e != -EINTR)
					return 0;	/* the consumer went away */
			}
			if (r)
				return r == -ESHUTDOWN ? 0 : EIO;
		}
		if (r != -EAGAIN)
			return r == -ESHUTDOWN ? 0 : EIO;
		/* Doorbell for the CQE, then sleep until the next SQE. */
		e = rxu_enter(&prod, !provider_polls, 0, 0);
		if (e == -ESHUTDOWN)
			return 0;
		if (e < 0 && e != -EINTR && e != -ETIME)
			return EIO;
	}
	return 0;
}

static double run_u2u(long warm, long n, pid_t *child, int pin)
{
	struct rxu_instance cons = { .fd = -1 };
	struct rxu_pool pool;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	uint64_t off;
	double t0 = 0;
	unsigned char *buf;
	int rp[2], r, pfd;
	int64_t e;
	long i;

	if (pipe(rp))
		die("pipe", errno);
	*child = fork();
	if (*child < 0)
		die("fork", errno);
	if (!*child) {
		close(rp[0]);
		scheme_server(rp[1]);
	}
	close(rp[1]);
	if (pin >= 0)
		pin_to(*child, pin);
	wait_ready(rp[0], "register :" SCHEME_NAME);

	r = rxu_instance_open(&cons);
	if (!r)
		r = rxu_instance_create(&cons, RING_ENTRIES, RING_ENTRIES, 0);
	if (!r)
		r = rxu_instance_map(&cons);
	if (!r)
		r = rxu_instance_attach(&cons, SCHEME_NAME ":");
	if (r)
		die("ATTACH " SCHEME_NAME ":", -r);
	pfd = dup_pool(cons.fd);
	if (pfd < 0)
		die("DUP pool", -pfd);
	r = rxu_pool_init(&pool, pfd);
	if (!r)
		r = rxu_pool_grow(&pool, POOL_RANGE, &off);
	if (r)
		die("pool", -r);
	buf = rxu_pool_ptr(&pool, off, MSG);
	if (!buf)
		die("pool", EFAULT);

	for (i = 0; i < warm + n; i++) {
		if (i == warm)
			t0 = now();
		rxu_prep_rw(&sqe, RXU_OP_READ, 1, off, MSG, 0, (uint64_t)i);
		r = rxu_ring_push(&cons.sq, &sqe);
		if (r)
			die("u2u push", -r);
		/* Doorbell (the SQ moved), then sleep until the CQE. */
		do {
			e = rxu_enter(&cons, 1, 0, 0);
			if (e < 0 && e != -EINTR)
				die("u2u ENTER", (int)-e);
		} while ((r = rxu_ring_pop(&cons.cq, &cqe)) == -EAGAIN);
		if (r)
			die("u2u pop", -r);
		if (cqe.user_data != (uint64_t)i ||
		    rxu_cqe_result(&cqe) != MSG)
			die("u2u round trip", EBADMSG);
		if (i == 0 && check_reply(buf, MSG))
			die("u2u reply", EBADMSG);
	}
	t0 = n / (now() - t0);
	rxu_pool_close(&pool);
	rxu_instance_close(&cons);	/* DROP: the provider's loop ends */
	return t0;
}

/* ------------------------------------------------------------------ */

static __attribute__((noreturn)) void usage(void)
{
	fprintf(stderr, "usage: %s [-n round trips] [-w warm-up] [-p split|same|any] [-P] [-z] unix|pipe|scheme|u2u\n",
		prog);
	exit(2);
}

int main(int argc, char **argv)
{
	long n = 2000, warm = 200;
	const char *placement = "split";
	int opt, k, status, pin;
	pid_t child = -1;
	double rate;
	char *end;

	while ((opt = getopt(argc, argv, "n:w:p:Pz")) != -1) {
		switch (opt) {
		case 'P':
			provider_polls = 1;
			break;
		case 'z':
			provider_zc = 1;
			break;
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1)
				usage();
			break;
		case 'w':
			warm = strtol(optarg, &end, 10);
			if (*end || warm < 1)
				usage();
			break;
		case 'p':
			placement = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	if (!strcmp(placement, "split"))
		pin = 1;
	else if (!strcmp(placement, "same"))
		pin = 0;
	else if (!strcmp(placement, "any"))
		pin = -1;
	else
		usage();
	find_cpus();
	if (pin >= 0)
		pin_to(0, 0);
	signal(SIGPIPE, SIG_IGN);

	if (!strcmp(argv[optind], "unix"))
		rate = run_unix(warm, n, &child, pin);
	else if (!strcmp(argv[optind], "pipe"))
		rate = run_pipe(warm, n, &child, pin);
	else if (!strcmp(argv[optind], "scheme"))
		rate = run_scheme(warm, n, &child, pin);
	else if (!strcmp(argv[optind], "u2u"))
		rate = run_u2u(warm, n, &child, pin);
	else
		usage();

	/* The unix and pipe servers exit at EOF; the provider on SIGTERM. */
	kill(child, SIGTERM);
	if (waitpid(child, &status, 0) == child &&
	    !(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
	    !(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM))
		fprintf(stderr, "%s: the server exited with status 0x%x\n",
			prog, status);

	printf("# command:");
	for (k = 0; k < argc; k++)
		printf(" %s", argv[k]);
	printf("\n%s: %ld round trips of %d bytes (after %ld warm-up), placement %s: %.0f round trips/s\n",
	       argv[optind], n, MSG, warm, placement, rate);
	return 0;
}
