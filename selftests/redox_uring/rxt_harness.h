/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kselftest_harness.h plus the redox_uring helpers, and the few macros
 * every test file uses.
 */
#ifndef RXT_HARNESS_H
#define RXT_HARNESS_H

/* The 6.1 harness itself has an unused parameter (__timeout_handler). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop
#include "rxu_test.h"

/*
 * Skip the current test (from a fixture setup or a test body) when the
 * module is not loaded.  The 6.1 harness runs the body even after a SKIP
 * in the setup, so leave the test process at once: exit status 255 is
 * the harness's "skipped".
 */
#define RXT_REQUIRE_DEV() do {						\
	if (rxt_dev_missing())						\
		SKIP({ fflush(NULL); _exit(255); },			\
		     "%s missing: redox_uring not loaded",		\
		     rxt_dev_path());					\
} while (0)

/*
 * The fixture "dev" only requires the device; tests that need no other
 * setup use TEST_F(dev, ...) (the 6.1 harness's TEST() does not build
 * with -Wextra -Werror).
 */
#define RXT_DEV_FIXTURE()						\
	FIXTURE(dev) { int unused; };					\
	FIXTURE_SETUP(dev) { RXT_REQUIRE_DEV(); }			\
	FIXTURE_TEARDOWN(dev) { }

/* Ten seconds, the timeout of every ENTER that is expected to return. */
#define RXT_TMO (10ULL * 1000 * 1000 * 1000)

#define MSEC (1000ULL * 1000)
#define SEC  (1000ULL * MSEC)

/* The CQE status for -err, as a 64-bit field holds it. */
#define ERR64(err) ((uint64_t)(int64_t)-(err))
/* The CQE status for -err, as a 32-bit field holds it. */
#define ERR32(err) ((uint32_t)(int32_t)-(err))

#endif /* RXT_HARNESS_H */
