// SPDX-License-Identifier: MIT
/*
 * rxu-wait: wait for three kinds of input at once, only through a
 * redox_uring ring, as an event loop would.
 *
 *   rxu-wait [--count N] [--timeout S] [--interval MS] [--poke S]
 *            [--stdin-events] [--ignore-eof]
 *
 * The three sources:
 *  - stdin: a READ SQE kept in flight.  When stdin has nothing to read
 *    (an empty pipe, a terminal), the kernel parks the READ and completes
 *    it in a later ENTER, so the ring never blocks on it.  With
 *    --stdin-events, stdin is watched with a FILES_UPDATE subscription
 *    instead and read when it says READ, like the other two.
 *  - a timerfd that expires every --interval ms (default 1000);
 *  - an eventfd that a helper thread pokes every --poke s (default 3; 0:
 *    never) and that `kill -USR1 <pid>` pokes at once.
 * The timerfd and the eventfd are watched with multi-shot FILES_UPDATE
 * subscriptions; each EVENT CQE is answered with a READ SQE that takes
 * the counter (so the fd is quiet until its next change).  No read(),
 * poll() or epoll on any of them: the program only ever blocks in ENTER.
 *
 * It prints one line per event (a timer expiration, a poke, a line of
 * stdin) and stops after N of them (--count; 0 = no limit), after S
 * seconds (--timeout), on SIGINT/SIGTERM, or at the end of stdin (unless
 * --ignore-eof).  Then it ends both subscriptions with empty-mask
 * FILES_UPDATEs and waits for their LAST_UPDATE CQEs.
 *
 * Examples (where the module is loaded):
 *   rxu-wait --count 5 --ignore-eof < /dev/null
 *   (sleep 2; echo hello; sleep 2) | rxu-wait --poke 1
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "rxu.h"

/* ------------------------------------------------------------------ */
/* The sources and how CQEs name them                                  */
/* ------------------------------------------------------------------ */

enum source_id { SRC_STDIN, SRC_TIMER, SRC_POKE, NR_SOURCES };

/*
 * Every SQE's user_data says what it was (high half) and for which
 * source (low half); its CQEs carry the same value back.
 */
enum ud_kind {
	UD_SUBSCRIBE = 1,	/* FILES_UPDATE, SUBSCRIBE: status, EVENTs, LAST_UPDATE */
	UD_READ = 2,		/* READ: bytes read */
	UD_UNSUBSCRIBE = 3,	/* FILES_UPDATE, empty mask: status */
};

static uint64_t ud(enum ud_kind kind, enum source_id src)
{
	return (uint64_t)kind << 32 | (uint64_t)src;
}

struct source {
	const char *name;
	int fd;
	int watch;		/* watched by a subscription (else READ kept in flight) */
	int subscribed;		/* status 0 seen, LAST_UPDATE not yet */
	int reading;		/* a READ SQE is in flight */
	int eof;		/* no more READs (end of file or an error) */
	/* READ target; stays valid while the kernel may write it. */
	union {
		uint64_t counter;	/* timerfd, eventfd: 8 bytes */
		char text[4096];	/* stdin */
	} buf;
	size_t line_len;	/* stdin: bytes of an unfinished line in line[] */
	char line[4096];
};

static struct source sources[NR_SOURCES] = {
	[SRC_STDIN] = { .name = "stdin", .fd = -1 },
	[SRC_TIMER] = { .name = "timer", .fd = -1 },
	[SRC_POKE] = { .name = "eventfd", .fd = -1 },
};

/* ------------------------------------------------------------------ */
/* Options, output, signals                                            */
/* ------------------------------------------------------------------ */

static struct {
	unsigned long count;		/* 0 = no limit */
	double timeout;			/* seconds, 0 = none */
	unsigned long interval_ms;
	double poke;			/* seconds, 0 = only SIGUSR1 */
	int stdin_events;
	int ignore_eof;
} opt = { .interval_ms = 1000, .poke = 3 };

static struct rxu_instance ring = { .fd = -1 };
static double t_start;
static unsigned long events_seen;
static int stopping;			/* count, timeout, EOF or a signal */
static volatile sig_atomic_t got_stop_signal;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One output line, stamped with the seconds since the start. */
static void say(const char *fmt, ...)
{
	va_list ap;

	printf("%8.3f  ", now() - t_start);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* A counted event: print it, and stop once --count of them were seen. */
static void event_line(const char *fmt, ...)
{
	char text[4200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	events_seen++;
	say("%-26s [event %lu]", text, events_seen);
	if (opt.count && events_seen >= opt.count && !stopping) {
		say("%lu events: stopping", events_seen);
		stopping = 1;
	}
}

static const char *mask_name(uint32_t mask)
{
	static char name[64];

	snprintf(name, sizeof(name), "%s%s%s%s",
		 mask & RXU_EVENT_READ ? " READ" : "",
		 mask & RXU_EVENT_WRITE ? " WRITE" : "",
		 mask & RXU_EVENT_IO_URING ? " IO_URING" : "",
		 mask & ~RXU_EVENT_ALL ? " ?" : "");
	return name[0] ? name + 1 : "(none)";
}

/* SIGUSR1: poke the eventfd (write() is async-signal-safe). */
static void on_sigusr1(int sig)
{
	uint64_t one = 1;
	int saved = errno;

	(void)sig;
	if (write(sources[SRC_POKE].fd, &one, sizeof(one)) < 0) {
		/* Nothing to do about it from a handler. */
	}
	errno = saved;
}

/* SIGINT, SIGTERM: the ENTER returns EINTR and the loop stops. */
static void on_stop_signal(int sig)
{
	(void)sig;
	got_stop_signal = 1;
}

/* No SA_RESTART: a signal must interrupt the ENTER it lands in. */
static int install_handlers(void)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		return -errno;
	sa.sa_handler = on_stop_signal;
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The helper thread that pokes the eventfd                            */
/* ------------------------------------------------------------------ */

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* on CLOCK_MONOTONIC */
	int stop;
	int running;
} poker = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void *poker_main(void *arg)
{
	struct timespec next;
	uint64_t one = 1;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&poker.lock);
	while (!poker.stop) {
		long ns = (long)((opt.poke - (long)opt.poke) * 1e9);

		next.tv_sec += (time_t)opt.poke;
		next.tv_nsec += ns;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		while (!poker.stop &&
		       pthread_cond_timedwait(&poker.cond, &poker.lock,
					      &next) != ETIMEDOUT)
			;
		if (!poker.stop &&
		    write(sources[SRC_POKE].fd, &one, sizeof(one)) < 0)
			break;
	}
	pthread_mutex_unlock(&poker.lock);
	return NULL;
}

/* Start the poker with every signal blocked: they belong to the main thread. */
static int poker_start(void)
{
	pthread_condattr_t attr;
	sigset_t all, old;
	int ret;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&poker.cond, &attr);
	pthread_condattr_destroy(&attr);
	if (opt.poke <= 0)
		return 0;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&poker.thread, NULL, poker_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -ret;
	poker.running = 1;
	return 0;
}

static void poker_stop(void)
{
	if (!poker.running)
		return;
	pthread_mutex_lock(&poker.lock);
	poker.stop = 1;
	pthread_cond_signal(&poker.cond);
	pthread_mutex_unlock(&poker.lock);
	pthread_join(poker.thread, NULL);
	poker.running = 0;
}

/* ------------------------------------------------------------------ */
/* SQEs                                                                */
/* ------------------------------------------------------------------ */

/* Queue one SQE; the next ENTER submits it.  The SQ is far larger than
 * what can be in flight here, so a full SQ is a bug worth reporting. */
static int queue(const struct rxu_sqe64 *sqe)
{
	int ret = rxu_queue_sqe(&ring, sqe);

	if (ret < 0)
		fprintf(stderr, "rxu-wait: queueing an SQE: %s\n",
			strerror(-ret));
	return ret;
}

static int queue_subscribe(enum source_id s)
{
	struct rxu_sqe64 sqe;

	rxu_prep_files_update(&sqe, sources[s].fd, RXU_EVENT_READ, 1,
			      ud(UD_SUBSCRIBE, s));
	return queue(&sqe);
}

static int queue_unsubscribe(enum source_id s)
{
	struct rxu_sqe64 sqe;

	rxu_prep_files_update_end(&sqe, sources[s].fd, ud(UD_UNSUBSCRIBE, s));
	return queue(&sqe);
}

/* One READ into the source's buffer, unless one is already in flight. */
static int queue_read(enum source_id s)
{
	struct source *src = &sources[s];
	struct rxu_sqe64 sqe;
	int ret;

	if (src->reading || src->eof)
		return 0;
	if (s == SRC_STDIN)
		rxu_prep_read(&sqe, src->fd, src->buf.text,
			      sizeof(src->buf.text), ud(UD_READ, s));
	else
		rxu_prep_read(&sqe, src->fd, &src->buf.counter,
			      sizeof(src->buf.counter), ud(UD_READ, s));
	ret = queue(&sqe);
	if (!ret)
		src->reading = 1;
	return ret;
}

/* Start waiting on a source: a subscription, or (stdin) a READ. */
static int start_source(enum source_id s)
{
	if (sources[s].eof)
		return 0;
	return sources[s].watch ? queue_subscribe(s) : queue_read(s);
}

/* ------------------------------------------------------------------ */
/* CQEs                                                                */
/* ------------------------------------------------------------------ */

/* Print each complete line of what stdin gave; keep the rest. */
static void stdin_data(struct source *src, const char *data, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (data[i] != '\n' && src->line_len < sizeof(src->line) - 1) {
			src->line[src->line_len++] = data[i];
			continue;
		}
		/*
		 * An overlong line is cut here; the character that did not
		 * fit starts the next one (i wraps and comes back to it).
		 */
		if (data[i] != '\n')
			i--;
		event_line("stdin   \"%.*s\"", (int)src->line_len, src->line);
		src->line_len = 0;
	}
}

static void stdin_end(struct source *src, const char *why)
{
	if (src->line_len) {
		event_line("stdin   \"%.*s\" (no newline)",
			   (int)src->line_len, src->line);
		src->line_len = 0;
	}
	src->eof = 1;
	if (opt.ignore_eof) {
		say("stdin   %s; still waiting on the others", why);
		return;
	}
	say("stdin   %s: stopping", why);
	stopping = 1;
}

/* A READ completed. */
static int on_read(enum source_id s, int64_t res)
{
	struct source *src = &sources[s];

	src->reading = 0;
	if (s == SRC_STDIN) {
		if (res == -EAGAIN && !src->watch) {
			/*
			 * stdin is O_NONBLOCK (the shell or a parent set it),
			 * so the kernel answered instead of parking the READ:
			 * wait for readiness with a subscription instead.
			 */
			say("stdin   is non-blocking: watching it with FILES_UPDATE instead");
			src->watch = 1;
			return queue_subscribe(s);
		}
		if (res == -EAGAIN)
			return 0;	/* a later event reads again */
		if (res < 0) {
			stdin_end(src, strerror((int)-res));
			return 0;
		}
		if (res == 0) {
			stdin_end(src, "end of file");
			return 0;
		}
		stdin_data(src, src->buf.text, (size_t)res);
		/* Without a subscription the next READ waits (parked) itself. */
		return src->watch ? 0 : queue_read(s);
	}

	if (res == -EAGAIN)
		return 0;		/* the counter was taken already */
	if (res != (int64_t)sizeof(src->buf.counter)) {
		fprintf(stderr, "rxu-wait: READ of the %s gave %lld\n",
			src->name, (long long)res);
		return -EIO;
	}
	if (s == SRC_TIMER)
		event_line("timer   %llu expiration%s",
			   (unsigned long long)src->buf.counter,
			   src->buf.counter == 1 ? "" : "s");
	else
		event_line("eventfd poked, counter %llu",
			   (unsigned long long)src->buf.counter);
	return 0;
}

/* A CQE of a subscription: its status, an EVENT, or its LAST_UPDATE. */
static int on_subscription(enum source_id s, const struct rxu_cqe64 *cqe)
{
	struct source *src = &sources[s];
	int64_t res = rxu_cqe_result(cqe);
	int ret = 0;

	if (rxu_cqe_is_event(cqe)) {
		uint32_t mask = rxu_cqe_event_mask(cqe);

		/* status is the watched fd. */
		say("%-7s EVENT %s on fd %lld", src->name, mask_name(mask),
		    (long long)res);
		if (mask & RXU_EVENT_READ)
			ret = queue_read(s);
	}
	if (rxu_cqe_is_last_update(cqe)) {
		src->subscribed = 0;
		say("%-7s LAST_UPDATE: subscription ended", src->name);
	}
	if (rxu_cqe_is_event(cqe) || rxu_cqe_is_last_update(cqe))
		return ret;

	/* The status CQE of the FILES_UPDATE itself. */
	if (res == 0) {
		src->subscribed = 1;
		say("%-7s subscribed: FILES_UPDATE READ, multi-shot, fd %d",
		    src->name, src->fd);
		return 0;
	}
	if (s == SRC_STDIN && res == -EPERM) {
		/* A regular file cannot be polled (as with epoll): read it. */
		say("stdin   cannot be polled (%s): reading it directly",
		    strerror(EPERM));
		src->watch = 0;
		return queue_read(s);
	}
	fprintf(stderr, "rxu-wait: FILES_UPDATE on the %s: %s%s\n", src->name,
		strerror((int)-res),
		res == -ENOSYS ? " (this module has no FILES_UPDATE yet)" : "");
	return (int)res;
}

static int on_cqe(const struct rxu_cqe64 *cqe)
{
	enum ud_kind kind = (enum ud_kind)(cqe->user_data >> 32);
	uint32_t s = (uint32_t)cqe->user_data;
	int64_t res = rxu_cqe_result(cqe);

	if (s >= NR_SOURCES) {
		fprintf(stderr, "rxu-wait: CQE with unknown user_data %#llx\n",
			(unsigned long long)cqe->user_data);
		return -EPROTO;
	}
	switch (kind) {
	case UD_SUBSCRIBE:
		return on_subscription(s, cqe);
	case UD_READ:
		return on_read(s, res);
	case UD_UNSUBSCRIBE:
		if (res < 0)
			fprintf(stderr, "rxu-wait: ending the %s subscription: %s\n",
				sources[s].name, strerror((int)-res));
		return 0;
	}
	fprintf(stderr, "rxu-wait: CQE with unknown user_data %#llx\n",
		(unsigned long long)cqe->user_data);
	return -EPROTO;
}

/*
 * ENTER (submitting what was queued, waiting for one CQE until deadline,
 * 0 = none), then handle every CQE there is.  -ETIME at the deadline,
 * -EINTR on a signal; other errors are reported here.
 */
static int run_once(double deadline)
{
	struct rxu_cqe64 cqe;
	uint64_t timeout_ns = 0;
	int64_t n;
	int ret;

	if (deadline) {
		double left = deadline - now();

		if (left <= 0)
			return -ETIME;
		timeout_ns = (uint64_t)(left * 1e9) + 1;
	}
	n = rxu_enter(&ring, 1, 0, timeout_ns);
	if (n < 0) {
		if (n != -ETIME && n != -EINTR)
			fprintf(stderr, "rxu-wait: ENTER: %s\n",
				strerror((int)-n));
		return (int)n;
	}
	while (rxu_pop_cqe(&ring, &cqe) == 0) {
		ret = on_cqe(&cqe);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Setup, the loop, the end                                            */
/* ------------------------------------------------------------------ */

static int make_fds(void)
{
	struct itimerspec its = {
		.it_interval.tv_sec = opt.interval_ms / 1000,
		.it_interval.tv_nsec = (long)(opt.interval_ms % 1000) * 1000000L,
	};

	/*
	 * If stdin is closed, hold fd 0 with /dev/null so that no other fd
	 * lands there and gets read as "stdin".
	 */
	if (fcntl(0, F_GETFD) < 0) {
		if (open("/dev/null", O_RDONLY) != 0)
			return -EBADF;
		sources[SRC_STDIN].eof = 1;	/* reported by main() */
	}
	sources[SRC_STDIN].fd = 0;
	/* Blocking fds: a READ that came too early parks instead of failing. */
	sources[SRC_TIMER].fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	sources[SRC_POKE].fd = eventfd(0, EFD_CLOEXEC);
	if (sources[SRC_TIMER].fd < 0 || sources[SRC_POKE].fd < 0)
		return -errno;
	its.it_value = its.it_interval;
	if (timerfd_settime(sources[SRC_TIMER].fd, 0, &its, NULL))
		return -errno;
	sources[SRC_STDIN].watch = opt.stdin_events;
	sources[SRC_TIMER].watch = 1;
	sources[SRC_POKE].watch = 1;
	return 0;
}

/* End every live subscription and wait (2 s at most) for their LAST_UPDATEs. */
static int end_subscriptions(void)
{
	double deadline = now() + 2;
	int s, live = 0, ret;

	for (s = 0; s < NR_SOURCES; s++) {
		if (!sources[s].subscribed)
			continue;
		say("%-7s ending the subscription: FILES_UPDATE with an empty mask",
		    sources[s].name);
		ret = queue_unsubscribe(s);
		if (ret < 0)
			return ret;
	}
	for (;;) {
		for (live = 0, s = 0; s < NR_SOURCES; s++)
			live += sources[s].subscribed;
		if (!live)
			return 0;
		ret = run_once(deadline);
		if (ret == -EINTR)
			continue;
		if (ret == -ETIME) {
			fprintf(stderr, "rxu-wait: %d subscription(s) sent no LAST_UPDATE within 2 s\n",
				live);
			return -ETIME;
		}
		if (ret < 0)
			return ret;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rxu-wait [--count N] [--timeout S] [--interval MS] [--poke S]\n"
		"                [--stdin-events] [--ignore-eof]\n"
		"  --count N       stop after N events (default 0: no limit)\n"
		"  --timeout S     stop after S seconds (default 0: none)\n"
		"  --interval MS   timerfd period (default 1000)\n"
		"  --poke S        helper thread pokes the eventfd every S s (default 3, 0: never);\n"
		"                  SIGUSR1 pokes it too\n"
		"  --stdin-events  watch stdin with FILES_UPDATE (default: a parked READ)\n"
		"  --ignore-eof    keep waiting on the timer and eventfd after stdin ends\n");
}

static int parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "poke", required_argument, NULL, 'p' },
		{ "stdin-events", no_argument, NULL, 'e' },
		{ "ignore-eof", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "n:t:i:p:eEh", longopts, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'n':
			opt.count = strtoul(optarg, &end, 10);
			break;
		case 't':
			opt.timeout = strtod(optarg, &end);
			break;
		case 'i':
			opt.interval_ms = strtoul(optarg, &end, 10);
			break;
		case 'p':
			opt.poke = strtod(optarg, &end);
			break;
		case 'e':
			opt.stdin_events = 1;
			continue;
		case 'E':
			opt.ignore_eof = 1;
			continue;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
		if (errno || *end || end == optarg) {
			fprintf(stderr, "rxu-wait: bad number '%s'\n", optarg);
			return -EINVAL;
		}
	}
	if (optind < argc || opt.timeout < 0 || opt.poke < 0 ||
	    !opt.interval_ms) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	double deadline = 0;
	int ret, s;

	if (parse_args(argc, argv))
		return 2;
	t_start = now();
	if (opt.timeout)
		deadline = t_start + opt.timeout;

	/* 1. The ring: SQ and CQ far larger than what is ever in flight. */
	ret = rxu_setup(&ring, 16, 64, 0);
	if (ret < 0) {
		fprintf(stderr, "rxu-wait: rxu_setup: %s\n", strerror(-ret));
		return 1;
	}
	/* 2. The timerfd, the eventfd, the poker thread, the signals. */
	ret = make_fds();
	if (!ret)
		ret = install_handlers();
	if (!ret)
		ret = poker_start();
	if (ret < 0) {
		fprintf(stderr, "rxu-wait: setup: %s\n", strerror(-ret));
		return 1;
	}
	{
		char poke[48] = "";

		if (opt.poke > 0)
			snprintf(poke, sizeof(poke), "every %g s and ", opt.poke);
		say("ring fd %d; stdin (%s), timerfd %d every %lu ms, eventfd %d (poked %sby kill -USR1 %d)",
		    ring.fd, opt.stdin_events ? "FILES_UPDATE" : "parked READ",
		    sources[SRC_TIMER].fd, opt.interval_ms,
		    sources[SRC_POKE].fd, poke, (int)getpid());
	}

	if (sources[SRC_STDIN].eof)
		stdin_end(&sources[SRC_STDIN], "is not open");

	/* 3. Subscriptions (and stdin's first READ), submitted by the first ENTER. */
	for (s = 0; s < NR_SOURCES && !ret; s++)
		ret = start_source(s);

	/* 4. The loop: everything arrives as CQEs of ENTER. */
	while (!ret && !stopping) {
		ret = run_once(deadline);
		if (ret == -EINTR && !got_stop_signal)
			ret = 0;	/* SIGUSR1: its poke comes as an event */
		else if (ret == -EINTR) {
			say("signal: stopping");
			ret = 0;
			stopping = 1;
		} else if (ret == -ETIME) {
			say("timeout after %g s: stopping", opt.timeout);
			ret = 0;
			stopping = 1;
		}
	}
	/* Every failure was reported where it happened. */

	/* 5. The end: stop poking, end the subscriptions, close the ring. */
	poker_stop();
	if (end_subscriptions() < 0 && !ret)
		ret = -EIO;
	say("%lu event%s in %.3f s", events_seen, events_seen == 1 ? "" : "s",
	    now() - t_start);
	/* A READ still parked on stdin is cancelled with the instance. */
	rxu_instance_close(&ring);
	return ret < 0 ? 1 : 0;
}
