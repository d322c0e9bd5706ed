// SPDX-License-Identifier: GPL-2.0
/* NOOP: completes with 0; every field but user_data must be zero. */
#include "opdef.h"

int rxu_nop_prep(struct rxu_req *req, const struct rxu_sqe *sqe)
{
	return 0;
}

s64 rxu_nop(struct rxu_req *req)
{
	return 0;
}
