// SPDX-License-Identifier: MIT
/*
 * bench-nop: NOP throughput of a redox_uring u2k ring against io_uring
 * (liburing), in the same process, rounds alternating between the two.
 *
 *   bench-nop [-r rounds] [-n ops per run] [-b batch[,batch...]] [-o rxu|uring]
 *
 * -o runs one side only (for profiling); ratios are then not printed.
 * For each batch size (NOPs per ENTER / per io_uring_enter) it prints the
 * median rate of each side over the rounds and their ratio (rxu / uring).
 * A benchmark, not a test: it never fails on a figure.
 */
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rxu.h"

#define MAX_BATCHES	8
#define MAX_ROUNDS	64
#define RING_ENTRIES	64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * ops NOPs through redox_uring, batch per ENTER, with the ring's batch
 * interface (one check per batch, entries filled in place, one
 * publication per batch), as liburing does on its side; returns ops/s or
 * -1.
 */
static double run_rxu(struct rxu_instance *in, long ops, unsigned int batch)
{
	double t0 = now();
	uint64_t pos;
	long done;
	unsigned int i;

	for (done = 0; done < ops; done += batch) {
		if (rxu_ring_push_reserve(&in->sq, batch, &pos) < batch)
			return -1;
		for (i = 0; i < batch; i++)
			rxu_prep_nop(rxu_ring_entry(&in->sq, pos + i),
				     (uint64_t)done + i);
		rxu_ring_push_commit(&in->sq, batch);
		if (rxu_enter(in, batch, 0, 0) < (int64_t)batch)
			return -1;
		if (rxu_ring_pop_reserve(&in->cq, &pos) < batch)
			return -1;
		for (i = 0; i < batch; i++) {
			const struct rxu_cqe64 *cqe = rxu_ring_entry(&in->cq, pos + i);

			if (cqe->status)
				return -1;
		}
		rxu_ring_pop_commit(&in->cq, batch);
	}
	return done / (now() - t0);
}

/* The same through io_uring. */
static double run_uring(struct io_uring *ring, long ops, unsigned int batch)
{
	struct io_uring_cqe *cqe;
	double t0 = now();
	unsigned int i, head, seen;
	long done;

	for (done = 0; done < ops; done += batch) {
		for (i = 0; i < batch; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

			if (!sqe)
				return -1;
			io_uring_prep_nop(sqe);
			sqe->user_data = (uint64_t)done + i;
		}
		if (io_uring_submit_and_wait(ring, batch) < (int)batch)
			return -1;
		seen = 0;
		io_uring_for_each_cqe(ring, head, cqe) {
			if (cqe->res)
				return -1;
			seen++;
		}
		if (seen < batch)
			return -1;
		io_uring_cq_advance(ring, seen);
	}
	return done / (now() - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	unsigned int batches[MAX_BATCHES] = { 1, 32 };
	int nbatch = 2, rounds = 5, opt, b, r, ret;
	double rxu[MAX_ROUNDS], uring[MAX_ROUNDS];
	struct rxu_instance in = { .fd = -1 };
	struct io_uring ring;
	long ops = 200000;
	int only_rxu = 0, only_uring = 0;
	char *s;

	while ((opt = getopt(argc, argv, "r:n:b:o:")) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'n':
			ops = atol(optarg);
			break;
		case 'b':
			nbatch = 0;
			for (s = strtok(optarg, ","); s && nbatch < MAX_BATCHES;
			     s = strtok(NULL, ","))
				batches[nbatch++] = (unsigned int)atoi(s);
			break;
		case 'o':
			only_rxu = !strcmp(optarg, "rxu");
			only_uring = !strcmp(optarg, "uring");
			if (only_rxu || only_uring)
				break;
			/* fall through */
		default:
			fprintf(stderr, "usage: %s [-r rounds] [-n ops] [-b batch,...] [-o rxu|uring]\n",
				argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || ops < 1) {
		fprintf(stderr, "bad rounds or ops\n");
		return 2;
	}
	for (b = 0; b < nbatch; b++)
		if (!batches[b] || batches[b] > RING_ENTRIES) {
			fprintf(stderr, "batch must be 1..%d\n", RING_ENTRIES);
			return 2;
		}

	ret = rxu_setup(&in, RING_ENTRIES, RING_ENTRIES, 0);
	if (ret < 0) {
		fprintf(stderr, "rxu_setup: %s\n", strerror(-ret));
		return 1;
	}
	ret = io_uring_queue_init(RING_ENTRIES, &ring, 0);
	if (ret < 0) {
		fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-ret));
		return 1;
	}

	printf("# NOP throughput, %d alternating rounds of %ld ops, medians\n",
	       rounds, ops);
	printf("%-8s %16s %16s %8s\n", "batch", "rxu ops/s", "io_uring ops/s",
	       "ratio");
	for (b = 0; b < nbatch; b++) {
		/* One unmeasured warm-up of each. */
		run_rxu(&in, ops / 10 + batches[b], batches[b]);
		run_uring(&ring, ops / 10 + batches[b], batches[b]);
		for (r = 0; r < rounds; r++) {
			rxu[r] = only_uring ? 1 : run_rxu(&in, ops, batches[b]);
			uring[r] = only_rxu ? 1 : run_uring(&ring, ops, batches[b]);
			if (rxu[r] < 0 || uring[r] < 0) {
				fprintf(stderr, "run failed at batch %u\n",
					batches[b]);
				return 1;
			}
		}
		double mr = median(rxu, rounds), mu = median(uring, rounds);

		printf("%-8u %16.0f %16.0f %8.2f\n", batches[b], mr, mu, mr / mu);
	}
	io_uring_queue_exit(&ring);
	rxu_instance_close(&in);
	return 0;
}
