/* SPDX-License-Identifier: MIT */
/*
 * rxu_trace.h: timestamps of the USB data path, for profiling one
 * request hop by hop across daemons (usbscsid, xhcid).
 *
 * Off unless the environment has RXU_TRACE=1 (class drivers inherit it
 * from xhcid).  When off, RXU_TRACE() costs one load and a branch.  When
 * on, each call writes one line to stderr:
 *
 *   rxu-trace <CLOCK_MONOTONIC seconds.nanoseconds> <who> <what...>
 *
 * All processes of one machine share the clock, so lines of several
 * daemons merged and sorted give the time between hops.
 */
#ifndef RXU_TRACE_H
#define RXU_TRACE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* -1: not read yet; 0 off; 1 on. */
static int rxu__trace_on = -1;

static inline int rxu_trace_enabled(void)
{
	if (rxu__trace_on < 0) {
		const char *v = getenv("RXU_TRACE");

		rxu__trace_on = v && strcmp(v, "1") == 0;
	}
	return rxu__trace_on;
}

__attribute__((format(printf, 2, 3)))
static inline void rxu__trace(const char *who, const char *fmt, ...)
{
	struct timespec ts;
	char line[256];
	va_list ap;
	int n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "rxu-trace %lld.%09ld %s ",
		     (long long)ts.tv_sec, ts.tv_nsec, who);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line, so that lines of two daemons never mix. */
	fprintf(stderr, "%s\n", line);
}

#define RXU_TRACE(who, ...)						\
	do {								\
		if (rxu_trace_enabled())				\
			rxu__trace(who, __VA_ARGS__);			\
	} while (0)

#endif /* RXU_TRACE_H */
