/* SPDX-License-Identifier: MIT */
/*
 * Memory-only instances for librxu's host tests: the four regions of an
 * instance in plain aligned memory, headers reset, fd -1 (the reactor's
 * fully polled mode, never entered).  The test plays the peer.
 */
#ifndef RXU_TESTS_FAKE_RING_H
#define RXU_TESTS_FAKE_RING_H

#include <stdlib.h>
#include <string.h>

#include "rxu.h"

struct fake {
	struct rxu_instance in;
	void *mem[4];
};

static inline int fake_init(struct fake *f, uint64_t sq_n, uint64_t cq_n,
			    uint32_t flags)
{
	uint32_t ssz = flags & RXU_CREATE_BITS_32 ? 32 : 64;
	uint32_t csz = flags & RXU_CREATE_BITS_32 ? 16 : 32;
	size_t len[4] = { 4096, sq_n * ssz, 4096, cq_n * csz };
	int i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < 4; i++) {
		size_t l = (len[i] + 4095) & ~(size_t)4095;

		f->mem[i] = aligned_alloc(4096, l);
		if (!f->mem[i])
			return -1;
		memset(f->mem[i], 0, l);
	}
	rxu_ring_header_reset(f->mem[0], sq_n);
	rxu_ring_header_reset(f->mem[2], cq_n);
	rxu_instance_from_fd(&f->in, -1);
	f->in.create_flags = flags;
	if (rxu_ring_init(&f->in.sq, f->mem[0], f->mem[1], sq_n, ssz) ||
	    rxu_ring_init(&f->in.cq, f->mem[2], f->mem[3], cq_n, csz))
		return -1;
	return 0;
}

static inline void fake_free(struct fake *f)
{
	int i;

	for (i = 0; i < 4; i++)
		free(f->mem[i]);
}

#endif /* RXU_TESTS_FAKE_RING_H */
