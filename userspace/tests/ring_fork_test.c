// SPDX-License-Identifier: MIT
/*
 * Rings between two processes, on MAP_SHARED anonymous memory inherited
 * across fork(): the situation of a user-to-user ring, minus the kernel.
 * The child reports failure through its exit status.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rxu.h"
#include "tap.h"
#include "seq.h"

struct shared_ring {
	struct rxu_ring r;
	size_t entries_len;
};

/* A ring whose header page and entry pages are shared with children. */
static int shared_ring_init(struct shared_ring *s, uint64_t n, uint32_t size)
{
	void *hdr, *entries;

	s->entries_len = (n * size + 4095) & ~(size_t)4095;
	hdr = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(hdr != MAP_FAILED);
	entries = mmap(NULL, s->entries_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(entries != MAP_FAILED);
	rxu_ring_header_reset(hdr, n);
	CHECK_EQ(rxu_ring_init(&s->r, hdr, entries, n, size), 0);
	return 0;
}

static void shared_ring_free(struct shared_ring *s)
{
	munmap(s->r.hdr, 4096);
	munmap(s->r.entries, s->entries_len);
}

/* Push items sequence numbers, batched, then DROP. */
static int child_produce(struct rxu_ring *r, uint64_t items)
{
	unsigned int fails = 0;
	uint64_t seq = 0;

	while (seq < items) {
		int64_t room = rxu_ring_free(r);
		uint64_t i;

		if (room < 0)
			return 1;
		if ((uint64_t)room > items - seq)
			room = (int64_t)(items - seq);
		if (!room) {
			backoff(fails++);
			continue;
		}
		fails = 0;
		for (i = 0; i < (uint64_t)room; i++) {
			void *slot = rxu_ring_push_slot(r, i);

			if (!slot)
				return 1;
			seq_fill(slot, r->entry_size, seq + i);
		}
		rxu_ring_push_commit(r, (uint64_t)room);
		seq += (uint64_t)room;
	}
	rxu_ring_set_drop(r);
	return 0;
}

static int wait_child(pid_t pid)
{
	int status;

	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	return 0;
}

static int one_way(uint64_t n, uint32_t size, uint64_t items)
{
	struct shared_ring s;
	unsigned int fails = 0;
	uint64_t entry[8], seq = 0;
	pid_t pid;
	int ret;

	tap_context("n = %llu, entry size %u", (unsigned long long)n, size);
	TRY(shared_ring_init(&s, n, size));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(child_produce(&s.r, items));
	}

	for (;;) {
		ret = rxu_ring_pop(&s.r, entry);
		if (ret == -EAGAIN) {
			backoff(fails++);
			continue;
		}
		fails = 0;
		if (ret)
			break;
		if (seq_check(entry, size, seq)) {
			tap_fail_eq(__FILE__, __LINE__, "entry", entry[0],
				    "seq", seq);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return 1;
		}
		seq++;
	}
	TRY(wait_child(pid));
	CHECK_EQ(ret, -ESHUTDOWN);
	CHECK_EQ(seq, items);
	CHECK_EQ(s.r.hdr->push_epoch, items);
	CHECK_EQ(s.r.hdr->pop_epoch, items);
	shared_ring_free(&s);
	return 0;
}

static int test_one_way_small(void)
{
	return one_way(4, 64, 500000);
}

static int test_one_way_large(void)
{
	return one_way(4096, 16, 4000000);
}

/* The child answers each request v with v + 1 until the requests end. */
static int child_echo(struct rxu_ring *req, struct rxu_ring *resp)
{
	unsigned int fails = 0;
	uint64_t v[4];
	int ret;

	for (;;) {
		ret = rxu_ring_pop(req, v);
		if (ret == -EAGAIN) {
			backoff(fails++);
			continue;
		}
		if (ret == -ESHUTDOWN)
			break;
		if (ret)
			return 1;
		v[0]++;
		while ((ret = rxu_ring_push(resp, v)) == -EAGAIN)
			backoff(fails++);
		if (ret)
			return 1;
		fails = 0;
	}
	rxu_ring_set_drop(resp);
	return 0;
}

/*
 * Round trips with a few requests in flight: both rings used by both
 * processes, one as pusher and one as popper.
 */
static int test_ping_pong(void)
{
	const uint64_t trips = 200000, depth = 3;
	struct shared_ring req, resp;
	uint64_t sent = 0, got = 0, v[4] = { 0 };
	unsigned int fails = 0;
	pid_t pid;
	int ret;

	TRY(shared_ring_init(&req, 2, 32));
	TRY(shared_ring_init(&resp, 4, 32));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(child_echo(&req.r, &resp.r));
	}

	while (got < trips) {
		if (sent < trips && sent - got < depth) {
			v[0] = sent * 2;
			ret = rxu_ring_push(&req.r, v);
			if (ret == 0)
				sent++;
			else if (ret != -EAGAIN)
				break;
		}
		ret = rxu_ring_pop(&resp.r, v);
		if (ret == -EAGAIN) {
			backoff(fails++);
			continue;
		}
		fails = 0;
		if (ret || v[0] != got * 2 + 1)
			break;
		got++;
	}
	if (got != trips) {
		tap_fail_eq(__FILE__, __LINE__, "answer", v[0], "expected",
			    got * 2 + 1);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 1;
	}
	rxu_ring_set_drop(&req.r);
	TRY(wait_child(pid));
	/* The child dropped its side after the last answer. */
	CHECK_EQ(rxu_ring_pop(&resp.r, v), -ESHUTDOWN);
	CHECK_EQ(req.r.hdr->pop_epoch, trips);
	CHECK_EQ(resp.r.hdr->push_epoch, trips);
	shared_ring_free(&req);
	shared_ring_free(&resp);
	return 0;
}

static const struct tap_test tests[] = {
	{ "fork: one way, n = 4, 500k entries", test_one_way_small },
	{ "fork: one way, n = 4096, 4M entries", test_one_way_large },
	{ "fork: ping-pong on two rings, 200k round trips", test_ping_pong },
};

int main(void)
{
	alarm(240);		/* a lost entry must fail, not hang */
	return tap_main(tests, ARRAY_SIZE(tests));
}
