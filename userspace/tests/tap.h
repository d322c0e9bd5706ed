/* SPDX-License-Identifier: MIT */
/*
 * A minimal TAP version 13 harness for librxu's host tests.
 *
 * A test program lists its tests in a table; tap_main() prints the plan,
 * runs each test and prints "ok N - name" or "not ok N - name", and
 * returns nonzero if any test failed.  A test returns 0 (pass), 1 (fail)
 * or TAP_SKIP; the CHECK macros print a diagnostic ("# ...") and return
 * 1 from the function they are in, so helpers that use them return int
 * and their callers pass a failure on with TRY().
 */
#ifndef RXU_TESTS_TAP_H
#define RXU_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TAP_SKIP	77

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct tap_test {
	const char *name;
	int (*fn)(void);
};

/* What the running test is doing now, printed with any failure. */
static char tap_ctx[128];
/* Why a test skipped. */
static char tap_skip_reason[128];

static inline void tap_context(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tap_ctx, sizeof(tap_ctx), fmt, ap);
	va_end(ap);
}

static inline int tap_skip(const char *reason)
{
	snprintf(tap_skip_reason, sizeof(tap_skip_reason), "%s", reason);
	return TAP_SKIP;
}

static inline void tap_fail_at(const char *file, int line, const char *what)
{
	printf("#   %s:%d: check failed: %s\n", file, line, what);
	if (tap_ctx[0])
		printf("#   context: %s\n", tap_ctx);
	fflush(stdout);
}

static inline void tap_fail_eq(const char *file, int line, const char *a,
			       unsigned long long va, const char *b,
			       unsigned long long vb)
{
	printf("#   %s:%d: %s == %s failed\n", file, line, a, b);
	printf("#     got      %lld (0x%llx)\n", (long long)va, va);
	printf("#     expected %lld (0x%llx)\n", (long long)vb, vb);
	if (tap_ctx[0])
		printf("#   context: %s\n", tap_ctx);
	fflush(stdout);
}

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			tap_fail_at(__FILE__, __LINE__, #cond);		\
			return 1;					\
		}							\
	} while (0)

/* Compares as 64-bit two's complement: -EAGAIN equals (int64_t)-EAGAIN. */
#define CHECK_EQ(a, b)							\
	do {								\
		unsigned long long _va = (unsigned long long)(a);	\
		unsigned long long _vb = (unsigned long long)(b);	\
		if (_va != _vb) {					\
			tap_fail_eq(__FILE__, __LINE__, #a, _va, #b, _vb); \
			return 1;					\
		}							\
	} while (0)

/* Two NUL-terminated strings are equal; both are printed if not. */
#define CHECK_STR(got, want)						\
	do {								\
		const char *_g = (got), *_w = (want);			\
		if (strcmp(_g, _w)) {					\
			printf("#   got:\n%s\n#   want:\n%s\n", _g, _w); \
			tap_fail_at(__FILE__, __LINE__, #got " == " #want); \
			return 1;					\
		}							\
	} while (0)

#define TRY(call)							\
	do {								\
		if (call)						\
			return 1;					\
	} while (0)

static inline double tap_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int tap_main(const struct tap_test *tests, int count)
{
	int failed = 0;
	int i;

	printf("TAP version 13\n1..%d\n", count);
	fflush(stdout);
	for (i = 0; i < count; i++) {
		double start = tap_now();
		int ret;

		tap_ctx[0] = '\0';
		tap_skip_reason[0] = '\0';
		ret = tests[i].fn();
		if (ret == TAP_SKIP) {
			printf("ok %d - %s # SKIP %s\n", i + 1, tests[i].name,
			       tap_skip_reason);
		} else if (ret == 0) {
			printf("ok %d - %s\n", i + 1, tests[i].name);
		} else {
			printf("not ok %d - %s\n", i + 1, tests[i].name);
			failed++;
		}
		printf("#   %.2f s\n", tap_now() - start);
		fflush(stdout);
	}
	if (failed)
		printf("# %d of %d tests failed\n", failed, count);
	return failed ? 1 : 0;
}

#define TAP_MAIN(table)							\
	int main(void)							\
	{								\
		return tap_main(table, ARRAY_SIZE(table)); \
	}

/* A small, fast, deterministic PRNG (xorshift64*) for varied batches. */
static inline unsigned long long tap_rand(unsigned long long *state)
{
	unsigned long long x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

#endif /* RXU_TESTS_TAP_H */
