// SPDX-License-Identifier: MIT
/*
 * bench-provider: what librxu's provider framework (rxu_scheme.h) costs
 * per request, on the host, without the kernel module.
 *
 *	bench-provider [-n REQUESTS] [-b BATCH] [-r ROUNDS] [-m raw|scheme]
 *
 * A memory-only provider ring (the test plays the kernel) carries 64-byte
 * PREADs of one handle, served two ways on the same reactor in polled
 * mode: "raw", a producer handler that finds the buffer, copies and
 * answers by hand (what memd and pcid did before the framework), and
 * "scheme", the same file served by rxu_scheme_serve() with an open and
 * a read callback.  Rounds alternate the two; it prints the median
 * nanoseconds per request of each and the ratio scheme/raw.  -m runs one
 * way only, once, for a counter that a loaded machine does not disturb:
 * `perf stat -e instructions:u bench-provider -m scheme` against
 * `-m raw` gives the framework's instructions per request.  The kernel
 * side of a real round trip (forwarding, ENTER, wake-ups) is not in it:
 * this is the library's own share.  A benchmark, never a test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rxu.h"
#include "rxu_scheme.h"
#include "../tests/fake_ring.h"

#define REGION_SZ	65536
#define RING_N		64
#define IO_LEN		64
#define MAX_ROUNDS	31

static unsigned char region[REGION_SZ];
static unsigned char file[4096];

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* "raw": the provider loop a daemon wrote by hand. */
static void raw_sqe(struct rxu_reactor *r, int ring,
		    const struct rxu_sqe64 *sqe, void *ctx)
{
	void *buf;
	int64_t res;

	(void)ctx;
	if (!sqe)
		return;
	buf = rxu_region_ptr(region, REGION_SZ, sqe->addr, sqe->len);
	if (sqe->opcode != RXU_OP_PREAD || sqe->fd != 0)
		res = -EBADF;
	else if (!buf)
		res = -EFAULT;
	else
		res = rxu_scheme_copy_out(buf, sqe->len, sqe->offset, file,
					  sizeof(file));
	rxu_reactor_respond(r, ring, sqe->user_data, res);
}

/* "scheme": the same file on the framework. */
static int64_t b_open(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
		      const char *path, size_t len, uint64_t flags,
		      uint32_t mode)
{
	(void)req, (void)h, (void)path, (void)len, (void)flags, (void)mode;
	return 0;
}

static int64_t b_read(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
		      void *buf, uint64_t len, uint64_t off)
{
	(void)req, (void)h;
	return rxu_scheme_copy_out(buf, len, off, file, sizeof(file));
}

static const struct rxu_scheme_ops b_ops = {
	.open = b_open, .read = b_read, .ready = NULL,
};

/* Push batch PREADs, serve them, pop the answers; -1 on a wrong one. */
static int batch(struct rxu_reactor *r, struct fake *k, uint32_t n)
{
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	uint32_t i, got = 0;

	for (i = 0; i < n; i++) {
		rxu_prep_pread(&sqe, 0, NULL, IO_LEN, (i * IO_LEN) & 4095, i);
		sqe.addr = (i * IO_LEN) % REGION_SZ;
		if (rxu_ring_push(&k->in.sq, &sqe))
			return -1;
	}
	while (got < n) {
		if (rxu_reactor_run_once(r, 0, RXU_RUN_NOWAIT) < 0)
			return -1;
		while (!rxu_pop_cqe(&k->in, &cqe)) {
			if (cqe.flags & RXU_CQE_EVENT)
				continue;
			if ((int64_t)cqe.status != IO_LEN)
				return -1;
			got++;
		}
	}
	return 0;
}

/* One run of total requests: ns per request, or < 0. */
static double run(int scheme, uint64_t total, uint32_t b)
{
	struct rxu_reactor *r = NULL;
	struct rxu_scheme *s = NULL;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	struct fake k;
	double t0, ns = -1;
	uint64_t done;

	if (fake_init(&k, RING_N, RING_N, 0) ||
	    rxu_reactor_create(&r, NULL, 64))
		goto out;
	if (scheme) {
		if (rxu_scheme_serve(&s, r, &k.in, region, REGION_SZ, NULL,
				     &b_ops, NULL))
			goto out;
		memcpy(region, "x", 1);
		rxu_prep_open(&sqe, NULL, 1, 0, 0, 1000);
		sqe.addr = 0;
		if (rxu_ring_push(&k.in.sq, &sqe))
			goto out;
		while (rxu_reactor_run_once(r, 0, RXU_RUN_NOWAIT) > 0)
			;
		while (!rxu_pop_cqe(&k.in, &cqe))
			if (cqe.user_data == 1000 && cqe.status != 0)
				goto out;
	} else if (rxu_reactor_add_producer(r, &k.in, RING_N, raw_sqe,
					    NULL) < 0) {
		goto out;
	}
	t0 = now_ns();
	for (done = 0; done < total; done += b)
		if (batch(r, &k, b))
			goto out;
	ns = (now_ns() - t0) / (double)done;
out:
	rxu_scheme_destroy(s);
	rxu_reactor_destroy(r);
	fake_free(&k);
	return ns;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned long long total = 1000000, b = 32, rounds = 7;
	double raw[MAX_ROUNDS], sch[MAX_ROUNDS];
	const char *only = NULL;
	unsigned long long i;
	int opt;

	while ((opt = getopt(argc, argv, "n:b:r:m:")) != -1) {
		switch (opt) {
		case 'm':
			only = optarg;
			break;
		case 'n':
			total = strtoull(optarg, NULL, 0);
			break;
		case 'b':
			b = strtoull(optarg, NULL, 0);
			break;
		case 'r':
			rounds = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: bench-provider [-n REQUESTS] "
				"[-b BATCH] [-r ROUNDS] [-m raw|scheme]\n");
			return 2;
		}
	}
	if (!total || !b || b > RING_N || !rounds || rounds > MAX_ROUNDS) {
		fprintf(stderr, "bench-provider: batch 1..%d, rounds 1..%d\n",
			RING_N, MAX_ROUNDS);
		return 2;
	}
	memset(file, 'f', sizeof(file));
	if (only) {
		int sch_only = !strcmp(only, "scheme");
		double ns;

		if (!sch_only && strcmp(only, "raw")) {
			fprintf(stderr, "bench-provider: -m raw or -m scheme\n");
			return 2;
		}
		ns = run(sch_only, total, (uint32_t)b);
		if (ns < 0) {
			fprintf(stderr, "bench-provider: the run failed\n");
			return 1;
		}
		printf("%s: %.1f ns/request, %llu requests of 64 bytes, "
		       "%llu per batch\n", only, ns, total, b);
		return 0;
	}
	printf("bench-provider -n %llu -b %llu -r %llu: 64-byte PREADs on a "
	       "memory-only provider ring, %llu per batch\n",
	       total, b, rounds, b);
	for (i = 0; i < rounds; i++) {
		int first = (int)(i & 1);

		raw[i] = first ? run(0, total, (uint32_t)b) : 0;
		sch[i] = run(1, total, (uint32_t)b);
		if (!first)
			raw[i] = run(0, total, (uint32_t)b);
		if (raw[i] < 0 || sch[i] < 0) {
			fprintf(stderr, "bench-provider: a run failed\n");
			return 1;
		}
	}
	qsort(raw, rounds, sizeof(raw[0]), cmp_double);
	qsort(sch, rounds, sizeof(sch[0]), cmp_double);
	printf("raw handler:        %.1f ns/request (median of %llu)\n",
	       raw[rounds / 2], rounds);
	printf("rxu_scheme:         %.1f ns/request (median of %llu)\n",
	       sch[rounds / 2], rounds);
	printf("ratio scheme/raw:   %.2f\n", sch[rounds / 2] / raw[rounds / 2]);
	return 0;
}
