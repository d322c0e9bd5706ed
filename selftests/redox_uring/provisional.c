// SPDX-License-Identifier: GPL-2.0
/*
 * Behaviour that the foundation only stubs, kept apart so that the issue
 * that implements it can replace these tests: OPEN of "event:" answers
 * ENOSYS for now (ABI.md section 6 describes what it will do).  What must
 * already hold, whatever the implementation: the CQE carries the SQE's
 * user_data.  (FILES_UPDATE is implemented: events.c tests it.)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "rxt_harness.h"

FIXTURE(stub) {
	struct rxt t;
	int p[2];
};

FIXTURE_SETUP(stub)
{
	self->t.fd = -1;
	self->p[0] = self->p[1] = -1;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_setup(&self->t, 8, 8, 0));
	ASSERT_EQ(0, pipe(self->p));
}

FIXTURE_TEARDOWN(stub)
{
	if (self->p[0] >= 0)
		close(self->p[0]);
	if (self->p[1] >= 0)
		close(self->p[1]);
	rxt_destroy(&self->t);
}

/* Provisional: OPEN of "event:" is ENOSYS until event queues exist. */
TEST_F(stub, open_event_enosys)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)RXU_SCHEME_EVENT,
				     strlen(RXU_SCHEME_EVENT), O_RDWR, 0xe7);
	struct rxu_cqe64 cqe;

	ASSERT_EQ(0, rxt_run1(&self->t, &s, &cqe));
	EXPECT_EQ(0xe7U, cqe.user_data);
	EXPECT_EQ(ERR64(ENOSYS), cqe.status);
}

TEST_HARNESS_MAIN
