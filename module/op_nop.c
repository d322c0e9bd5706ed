// SPDX-License-Identifier: GPL-2.0
/*
 * NOOP: completes with 0.  It reads no field (every one but user_data and
 * priority must be zero, which the generic check enforces), so it has no
 * prep.
 */
#include "opdef.h"

s64 rxu_nop(struct rxu_req *req)
{
	return 0;
}
