// SPDX-License-Identifier: MIT
/*
 * Host tests of xhcid's rings (userspace/xhcid/ring.c) on plain memory:
 * the producer's cycle bit, the Link TRB at the end of the segment (its
 * cycle, Toggle Cycle and the chain bit of the TD it splits), TRB
 * addresses and indexes, the dequeue pointer with DCS, and the event
 * ring consumer's cycle state across a wrap.
 */
#include <stdint.h>
#include <string.h>

#include "xhcid.h"
#include "tap.h"

#define BASE	0x40000ULL
#define N	8

static struct xhci_trb mem[N];

static void fake_ring(struct xring *r)
{
	memset(mem, 0, sizeof(mem));
	memset(r, 0, sizeof(*r));
	r->mem.va = mem;
	r->mem.iova = BASE;
	r->mem.size = sizeof(mem);
	r->trb = mem;
	r->n = N;
	r->pcs = 1;
	mem[N - 1].param = BASE;
	mem[N - 1].control = TRB_TYPE(TRB_LINK) | TRB_TC;
}

static int test_push_cycle_and_link(void)
{
	struct xring r;
	unsigned int i;

	fake_ring(&r);
	for (i = 0; i < N - 1; i++)
		CHECK_EQ(xring_push(&r, i, 0, TRB_TYPE(TRB_NORMAL)), BASE + 16 * i);
	for (i = 0; i < N - 1; i++) {
		CHECK_EQ(mem[i].control & TRB_CYCLE, 1);
		CHECK_EQ(TRB_GET_TYPE(mem[i].control), TRB_NORMAL);
	}
	/* The Link went to the controller with the old cycle, TC set. */
	CHECK_EQ(mem[N - 1].control & TRB_CYCLE, 1);
	CHECK(mem[N - 1].control & TRB_TC);
	CHECK_EQ(TRB_GET_TYPE(mem[N - 1].control), TRB_LINK);
	CHECK_EQ(mem[N - 1].param, BASE);
	CHECK_EQ(r.enq, 0);
	CHECK_EQ(r.pcs, 0);
	/* The second lap writes cycle 0, whatever the caller passed. */
	xring_push(&r, 99, 0, TRB_TYPE(TRB_NORMAL) | TRB_CYCLE);
	CHECK_EQ(mem[0].control & TRB_CYCLE, 0);
	CHECK_EQ(mem[0].param, 99);
	return 0;
}

static int test_chain_bit_on_link(void)
{
	struct xring r;
	unsigned int i;

	fake_ring(&r);
	for (i = 0; i < N - 2; i++)
		xring_push(&r, 0, 0, TRB_TYPE(TRB_NORMAL));
	xring_push(&r, 0, 0, TRB_TYPE(TRB_NORMAL) | TRB_CH);
	CHECK(mem[N - 1].control & TRB_CH);
	fake_ring(&r);
	for (i = 0; i < N - 1; i++)
		xring_push(&r, 0, 0, TRB_TYPE(TRB_NORMAL));
	CHECK(!(mem[N - 1].control & TRB_CH));
	return 0;
}

static int test_index_and_dequeue(void)
{
	struct xring r;

	fake_ring(&r);
	CHECK_EQ(xring_index(&r, BASE), 0);
	CHECK_EQ(xring_index(&r, BASE + 16 * 5), 5);
	CHECK_EQ(xring_index(&r, BASE + 16 * N), -1);
	CHECK_EQ(xring_index(&r, BASE + 8), -1);
	CHECK_EQ(xring_index(&r, BASE - 16), -1);
	CHECK_EQ(xring_enqueue_ptr(&r), BASE | 1);
	xring_push(&r, 0, 0, TRB_TYPE(TRB_NOOP));
	CHECK_EQ(xring_enqueue_ptr(&r), (BASE + 16) | 1);
	while (r.enq != 0)
		xring_push(&r, 0, 0, TRB_TYPE(TRB_NOOP));
	CHECK_EQ(xring_enqueue_ptr(&r), BASE);	/* DCS 0 on the second lap */
	return 0;
}

static int test_event_consumer(void)
{
	struct xevring e;
	unsigned int i;

	memset(mem, 0, sizeof(mem));
	memset(&e, 0, sizeof(e));
	e.mem.va = mem;
	e.mem.iova = BASE;
	e.trb = mem;
	e.n = N;
	e.ccs = 1;
	CHECK(xevring_peek(&e) == NULL);	/* cycle 0: not ours yet */
	for (i = 0; i < N; i++)
		mem[i].control = TRB_TYPE(TRB_EV_CMD) | 1;
	for (i = 0; i < N; i++) {
		CHECK(xevring_peek(&e) == &mem[i]);
		xevring_consume(&e);
	}
	CHECK_EQ(e.deq, 0);
	CHECK_EQ(e.ccs, 0);
	CHECK_EQ(xevring_deq_iova(&e), BASE);
	CHECK(xevring_peek(&e) == NULL);	/* old lap's cycle 1 */
	mem[0].control = TRB_TYPE(TRB_EV_PORT);	/* cycle 0: new */
	CHECK(xevring_peek(&e) == &mem[0]);
	xevring_consume(&e);
	CHECK_EQ(xevring_deq_iova(&e), BASE + 16);
	return 0;
}

static const struct tap_test tests[] = {
	{ "producer: cycle bit, Link with TC and the old cycle, toggle", test_push_cycle_and_link },
	{ "producer: the Link carries the chain bit of a split TD", test_chain_bit_on_link },
	{ "TRB index by IOVA, dequeue pointer with DCS", test_index_and_dequeue },
	{ "event ring: valid by cycle, wrap toggles the consumer cycle", test_event_consumer },
};

TAP_MAIN(tests)
