// SPDX-License-Identifier: MIT
/*
 * A producer thread and a consumer thread pass sequence numbers through
 * one ring, mixing single and batched pushes and pops of random sizes.
 * Every entry is checked word by word on arrival: none may be lost,
 * duplicated, reordered or torn.  The producer ends with DROP, so the
 * consumer also proves that it drains everything before -ESHUTDOWN.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rxu.h"
#include "tap.h"
#include "seq.h"

struct mt {
	struct rxu_ring r;
	uint64_t items;
	int batch;			/* use the slot/commit API too */
	/* Set by either thread on failure; both stop when they see it. */
	int failed;
	char why[160];
	uint64_t consumed;
};

static void mt_fail(struct mt *m, const char *what, uint64_t seq)
{
	if (!__atomic_exchange_n(&m->failed, 1, __ATOMIC_SEQ_CST))
		snprintf(m->why, sizeof(m->why), "%s at seq %llu", what,
			 (unsigned long long)seq);
}

static int mt_stopped(struct mt *m)
{
	return __atomic_load_n(&m->failed, __ATOMIC_RELAXED);
}

/* Push up to want entries from seq on; returns how many, or -1. */
static int64_t produce_some(struct mt *m, uint64_t seq, uint64_t want,
			    int batch)
{
	uint32_t size = m->r.entry_size;
	uint64_t entry[8];
	int64_t room;
	uint64_t i;
	int ret;

	if (!batch) {
		seq_fill(entry, size, seq);
		ret = rxu_ring_push(&m->r, entry);
		if (ret == -EAGAIN)
			return 0;
		if (ret) {
			mt_fail(m, "push failed", seq);
			return -1;
		}
		return 1;
	}
	room = rxu_ring_free(&m->r);
	if (room < 0) {
		mt_fail(m, "free failed", seq);
		return -1;
	}
	if ((uint64_t)room < want)
		want = (uint64_t)room;
	for (i = 0; i < want; i++) {
		void *slot = rxu_ring_push_slot(&m->r, i);

		if (!slot) {
			mt_fail(m, "push_slot below free", seq + i);
			return -1;
		}
		seq_fill(slot, size, seq + i);
	}
	rxu_ring_push_commit(&m->r, want);
	return (int64_t)want;
}

static void *producer(void *arg)
{
	struct mt *m = arg;
	unsigned long long rng = 0x12345678ULL + m->r.entry_count;
	unsigned int fails = 0;
	uint64_t seq = 0;

	while (seq < m->items && !mt_stopped(m)) {
		uint64_t r = tap_rand(&rng);
		uint64_t want = 1 + (r >> 8) % m->r.entry_count;
		int64_t done;

		if (want > m->items - seq)
			want = m->items - seq;
		done = produce_some(m, seq, want, m->batch && (r & 3) == 0);
		if (done < 0)
			break;
		seq += (uint64_t)done;
		if (done)
			fails = 0;
		else
			backoff(fails++);
	}
	rxu_ring_set_drop(&m->r);
	return NULL;
}

/* Pop up to want entries; returns how many, -ESHUTDOWN at the end, or -1. */
static int64_t consume_some(struct mt *m, uint64_t seq, uint64_t want,
			    int batch)
{
	uint32_t size = m->r.entry_size;
	uint64_t entry[8];
	int64_t present;
	uint64_t i;
	int ret;

	if (batch) {
		present = rxu_ring_available(&m->r);
		if (present < 0) {
			mt_fail(m, "available failed", seq);
			return -1;
		}
		if ((uint64_t)present < want)
			want = (uint64_t)present;
		for (i = 0; i < want; i++) {
			const void *slot = rxu_ring_pop_slot(&m->r, i);

			if (!slot || seq_check(slot, size, seq + i)) {
				mt_fail(m, slot ? "wrong entry (batch)" :
					"pop_slot below available", seq + i);
				return -1;
			}
		}
		rxu_ring_pop_commit(&m->r, want);
		if (want)
			return (int64_t)want;
		/* Empty: a single pop tells "not yet" from "the end". */
	}
	ret = rxu_ring_pop(&m->r, entry);
	if (ret == -EAGAIN)
		return 0;
	if (ret == -ESHUTDOWN)
		return -ESHUTDOWN;
	if (ret || seq_check(entry, size, seq)) {
		mt_fail(m, ret ? "pop failed" : "wrong entry", seq);
		return -1;
	}
	return 1;
}

static void *consumer(void *arg)
{
	struct mt *m = arg;
	unsigned long long rng = 0x87654321ULL + m->r.entry_count;
	unsigned int fails = 0;
	uint64_t seq = 0;

	while (!mt_stopped(m)) {
		uint64_t r = tap_rand(&rng);
		uint64_t want = 1 + (r >> 8) % m->r.entry_count;
		int64_t done;

		done = consume_some(m, seq, want, m->batch && (r & 3) == 0);
		if (done < 0)
			break;
		seq += (uint64_t)done;
		if (done)
			fails = 0;
		else
			backoff(fails++);
	}
	m->consumed = seq;
	return NULL;
}

static int run(uint64_t n, uint32_t size, uint64_t items, int batch)
{
	struct rxu_ring_header *hdr = malloc(sizeof(*hdr));
	void *entries = NULL;
	pthread_t prod, cons;
	struct mt *m = calloc(1, sizeof(*m));
	int ret = 1;

	tap_context("n = %llu, entry size %u, %llu items%s",
		    (unsigned long long)n, size, (unsigned long long)items,
		    batch ? ", batched" : "");
	if (!hdr || !m || posix_memalign(&entries, 64, n * size))
		goto out;
	rxu_ring_header_reset(hdr, n);
	if (rxu_ring_init(&m->r, hdr, entries, n, size))
		goto out;
	m->items = items;
	m->batch = batch;

	if (pthread_create(&cons, NULL, consumer, m))
		goto out;
	if (pthread_create(&prod, NULL, producer, m)) {
		mt_fail(m, "pthread_create", 0);
		pthread_join(cons, NULL);
		goto out;
	}
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);

	if (m->failed) {
		tap_fail_at(__FILE__, __LINE__, m->why);
	} else if (m->consumed != items) {
		tap_fail_eq(__FILE__, __LINE__, "consumed", m->consumed,
			    "items", items);
	} else if (hdr->push_epoch != items || hdr->pop_epoch != items ||
		   hdr->head_index != hdr->tail_index ||
		   hdr->tail_index != items % (2 * n)) {
		tap_fail_at(__FILE__, __LINE__, "final header");
	} else {
		printf("#   %llu entries through n = %llu\n",
		       (unsigned long long)items, (unsigned long long)n);
		ret = 0;
	}
out:
	free(hdr);
	free(entries);
	free(m);
	return ret;
}

static int test_n1(void)
{
	return run(1, 16, 200000, 0);
}

static int test_n2_batched(void)
{
	return run(2, 64, 500000, 1);
}

static int test_n64_single(void)
{
	return run(64, 32, 10000000, 0);
}

static int test_n64_batched(void)
{
	return run(64, 16, 10000000, 1);
}

static int test_n32768_batched(void)
{
	return run(32768, 64, 4000000, 1);
}

/*
 * The end of a stream, many times over: the producer pushes one entry
 * and sets DROP at once while the consumer spins on pop.  The consumer
 * must get the entry before -ESHUTDOWN even when both land between its
 * load of the tail and its load of the status.
 */
struct drop_race {
	struct rxu_ring r;
	unsigned int ready;		/* round + 1 once the ring is reset */
	unsigned int rounds;
	int failed;
};

static void *drop_race_producer(void *arg)
{
	struct drop_race *d = arg;
	uint64_t entry[2];
	unsigned int i, fails;

	for (i = 0; i < d->rounds; i++) {
		fails = 0;
		while (__atomic_load_n(&d->ready, __ATOMIC_ACQUIRE) != i + 1) {
			if (__atomic_load_n(&d->failed, __ATOMIC_RELAXED))
				return NULL;
			backoff(fails++);
		}
		seq_fill(entry, 16, i);
		if (rxu_ring_push(&d->r, entry))
			__atomic_store_n(&d->failed, 1, __ATOMIC_RELAXED);
		rxu_ring_set_drop(&d->r);
	}
	return NULL;
}

static int drop_race_consume(struct drop_race *d, unsigned int i)
{
	uint64_t entry[2];
	int got = 0, ret;

	for (;;) {
		ret = rxu_ring_pop(&d->r, entry);
		if (ret == -EAGAIN)
			continue;	/* spin: widen the window we test */
		if (ret == -ESHUTDOWN)
			break;
		CHECK_EQ(ret, 0);
		CHECK(!got);
		CHECK(seq_check(entry, 16, i) == 0);
		got = 1;
	}
	CHECK(got);
	return 0;
}

static int test_drop_race(void)
{
	struct rxu_ring_header *hdr = malloc(sizeof(*hdr));
	struct drop_race *d = calloc(1, sizeof(*d));
	void *entries = NULL;
	pthread_t prod;
	unsigned int i;
	int ret = 1;

	if (!hdr || !d || posix_memalign(&entries, 64, 2 * 16))
		goto out;
	rxu_ring_header_reset(hdr, 2);
	if (rxu_ring_init(&d->r, hdr, entries, 2, 16))
		goto out;
	d->rounds = 20000;
	if (pthread_create(&prod, NULL, drop_race_producer, d))
		goto out;
	for (i = 0; i < d->rounds; i++) {
		tap_context("round %u", i);
		/* The producer is idle until it sees the new round. */
		rxu_ring_header_reset(hdr, 2);
		__atomic_store_n(&d->ready, i + 1, __ATOMIC_RELEASE);
		if (drop_race_consume(d, i))
			break;
	}
	if (i < d->rounds)
		__atomic_store_n(&d->failed, 1, __ATOMIC_RELAXED);
	pthread_join(prod, NULL);
	ret = d->failed;
out:
	free(hdr);
	free(entries);
	free(d);
	return ret;
}

static const struct tap_test tests[] = {
	{ "threads, n = 1, single ops", test_n1 },
	{ "threads, n = 2, batched", test_n2_batched },
	{ "threads, n = 64, 10M single ops", test_n64_single },
	{ "threads, n = 64, 10M batched", test_n64_batched },
	{ "threads, n = 32768, batched", test_n32768_batched },
	{ "threads: last push and DROP racing with pop, 20k rounds",
	  test_drop_race },
};

int main(void)
{
	alarm(240);		/* a lost wake-up must fail, not hang */
	return tap_main(tests, ARRAY_SIZE(tests));
}
