// SPDX-License-Identifier: MIT
/*
 * Drivers: a fresh token per spawn, fork/exec with the PCID_* variables,
 * and restarts after crashes with exponential backoff (1 s, 2 s, 4 s ...
 * at most 30 s) up to the rule's `restart` count; a driver that ran for
 * a minute has its count forgiven.  A driver that exits with status 0
 * finished on purpose and is not restarted.  pcid itself never goes down
 * with a driver.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pcid.h"

#define NSEC		1000000000ULL
#define FORGIVE_NS	(60 * NSEC)
#define BACKOFF_MAX_NS	(30 * NSEC)

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

int token_new(char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[RXU_PCI_TOKEN_LEN / 2];
	size_t got = 0;
	unsigned i;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[RXU_PCI_TOKEN_LEN] = '\0';
	return 0;
}

/* a: a token we hold ("" = none); b: blen bytes from a peer. */
int token_equal(const char *a, const char *b, size_t blen)
{
	unsigned char diff = 0;
	size_t i;

	if (!a[0] || blen != RXU_PCI_TOKEN_LEN)
		return 0;
	for (i = 0; i < RXU_PCI_TOKEN_LEN; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

static struct pci_fn *fn_by_pid(struct pcid *p, pid_t pid)
{
	size_t i;

	for (i = 0; i < p->nfns; i++)
		if (p->fns[i].pid == pid)
			return &p->fns[i];
	return NULL;
}

int driver_spawn(struct pcid *p, struct pci_fn *f)
{
	char **argv;
	sigset_t none;
	pid_t pid;
	int ret;

	ret = token_new(f->token);
	if (ret)
		return ret;
	argv = rule_expand_argv(f->rule, f->name, &f->id, p->scheme);
	if (!argv)
		return -ENOMEM;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		argv_free(argv);
		f->token[0] = '\0';
		return ret;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (null >= 0 && null != STDIN_FILENO) {
			dup2(null, STDIN_FILENO);
			close(null);
		}
		/* rings, the provider, VFIO fds: none of them is the driver's */
		close_range(3, ~0U, 0);
		setenv(RXU_PCI_ENV_ADDRESS, f->name, 1);
		setenv(RXU_PCI_ENV_TOKEN, f->token, 1);
		setenv(RXU_PCI_ENV_SCHEME, p->scheme, 1);
		setenv(RXU_PCI_ENV_RULE, f->rule->name, 1);
		execvp(argv[0], argv);
		fprintf(stderr, "pcid: exec %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	argv_free(argv);
	f->pid = pid;
	f->state = FN_RUNNING;
	f->started_ns = now_ns();
	pcid_log("%s: started [%s] %s, pid %d", f->name, f->rule->name,
		 f->rule->argv[0], (int)pid);
	return 0;
}

int driver_reaped(struct pcid *p, pid_t pid, int status)
{
	struct pci_fn *f = fn_by_pid(p, pid);
	uint64_t now = now_ns(), delay;

	if (!f)
		return 0;
	f->pid = 0;
	fn_driver_gone(p, f, 1);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		pcid_log("%s: driver exited (status 0); not restarted",
			 f->name);
		f->state = FN_BOUND;
		return 1;
	}
	if (WIFSIGNALED(status))
		pcid_log("%s: driver killed by signal %d", f->name,
			 WTERMSIG(status));
	else
		pcid_log("%s: driver exited with status %d", f->name,
			 WEXITSTATUS(status));
	if (now - f->started_ns > FORGIVE_NS)
		f->crashes = 0;
	f->crashes++;
	if (f->crashes > f->rule->max_restarts) {
		pcid_log("%s: %d crash(es), restart limit %d: giving up "
			 "(state failed)", f->name, f->crashes,
			 f->rule->max_restarts);
		f->state = FN_FAILED;
		return 1;
	}
	delay = NSEC << (f->crashes - 1 < 5 ? f->crashes - 1 : 5);
	if (delay > BACKOFF_MAX_NS)
		delay = BACKOFF_MAX_NS;
	f->restart_at_ns = now + delay;
	f->state = FN_BOUND;
	pcid_log("%s: restarting in %llu ms (crash %d of %d allowed)",
		 f->name, (unsigned long long)(delay / 1000000), f->crashes,
		 f->rule->max_restarts);
	pcid_arm_timer(p);
	return 1;
}

uint64_t driver_restarts_due(struct pcid *p, uint64_t now)
{
	uint64_t next = 0;
	size_t i;

	for (i = 0; i < p->nfns; i++) {
		struct pci_fn *f = &p->fns[i];

		if (!f->restart_at_ns)
			continue;
		if (f->restart_at_ns <= now) {
			f->restart_at_ns = 0;
			if (driver_spawn(p, f)) {
				pcid_log("%s: cannot spawn: state failed",
					 f->name);
				f->state = FN_FAILED;
			}
			continue;
		}
		if (!next || f->restart_at_ns < next)
			next = f->restart_at_ns;
	}
	return next;
}

void drivers_stop(struct pcid *p, int timeout_ms)
{
	int left = 0, waited = 0, status;
	size_t i;

	for (i = 0; i < p->nfns; i++)
		if (p->fns[i].pid > 0) {
			kill(p->fns[i].pid, SIGTERM);
			left++;
		}
	while (left && waited < timeout_ms) {
		pid_t pid = waitpid(-1, &status, WNOHANG);
		struct pci_fn *f;

		if (pid > 0) {
			f = fn_by_pid(p, pid);
			if (f) {
				f->pid = 0;
				left--;
			}
			continue;
		}
		if (pid < 0 && errno == ECHILD)
			break;
		usleep(10000);
		waited += 10;
	}
	for (i = 0; i < p->nfns; i++)
		if (p->fns[i].pid > 0) {
			pcid_log("%s: driver did not stop: SIGKILL",
				 p->fns[i].name);
			kill(p->fns[i].pid, SIGKILL);
			waitpid(p->fns[i].pid, &status, 0);
			p->fns[i].pid = 0;
		}
}
