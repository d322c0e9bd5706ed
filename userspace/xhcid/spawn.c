// SPDX-License-Identifier: MIT
/*
 * spawn.c - class drivers: INI rules (libinih) from the rules directory,
 * matched against each interface (alternate setting 0) of configuration
 * 1 of a newly addressed device, or against its vendor/product; one
 * driver process per matching interface, started with the XHCID_*
 * environment of rxu_usb.h and the device's token, and sent SIGTERM
 * when its device goes away.  A driver that crashes (a signal, or a
 * status other than 0) while its device is still there is started again
 * after 1 s, 2 s, 4 s ... at most 30 s, up to the rule's `restart` count
 * (as pcid does for its drivers); one that ran for a minute has its count
 * forgiven, and one that exits with status 0 is done.
 *
 *	[usbhid]                ; the rule's name
 *	class = 0x03            ; interface class, subclass, protocol,
 *	subclass = 0x01         ; device vendor, product: each optional,
 *	vendor = 0x0627         ; all given must match
 *	command = usbhidd $SCHEME $PORT $INTERFACE
 *	configure = yes         ; no: leave the device unconfigured
 *	restart = 3             ; restarts after crashes (default 0: none)
 *
 * Files: every *.conf of the directory, in name order; for each
 * interface the first matching rule wins.  `command` is split on blanks;
 * the words $SCHEME $PORT $INTERFACE $VENDOR $PRODUCT are replaced.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ini.h>

#include "xhcid_spawn.h"

#define MAX_RULES	64
#define MAX_DRIVERS	128
#define MAX_ARGS	32
#define MAX_RESTARTS	1000
#define SEC_NS		1000000000ULL
#define BACKOFF_MAX_NS	(30 * SEC_NS)
#define FORGIVE_NS	(60 * SEC_NS)	/* a run this long clears the count */

struct rule {
	char name[32];
	int cls, sub, proto, vendor, product;	/* -1: any */
	int configure;
	int restarts;		/* crashes restarted before giving up */
	char command[256];
};

/*
 * A slot is in use while pid is set (running) or restart_at is (waiting
 * to run again).  gen 0: its device went away, SIGTERM sent.
 */
struct driver {
	pid_t pid;
	unsigned int port;
	uint64_t gen;
	int iface;
	char rule[32];
	const struct rule *r;
	char scheme[64];
	int crashes;
	uint64_t started_ns;
	uint64_t restart_at;	/* CLOCK_MONOTONIC ns, 0: none */
};

static struct rule rules[MAX_RULES];
static unsigned int nrules;
static struct driver drivers[MAX_DRIVERS];

static int parse_num(const char *v, int *out)
{
	char *e;
	long n = strtol(v, &e, 0);

	if (*v == 0 || *e || n < 0 || n > 0xffff)
		return 0;
	*out = (int)n;
	return 1;
}

static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct rule *r;

	(void)user;
	if (!nrules || strcmp(rules[nrules - 1].name, section)) {
		if (nrules == MAX_RULES)
			return 0;
		r = &rules[nrules++];
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s", section);
		r->cls = r->sub = r->proto = r->vendor = r->product = -1;
		r->configure = 1;
	}
	r = &rules[nrules - 1];
	if (!strcmp(name, "class"))
		return parse_num(value, &r->cls);
	if (!strcmp(name, "subclass"))
		return parse_num(value, &r->sub);
	if (!strcmp(name, "protocol"))
		return parse_num(value, &r->proto);
	if (!strcmp(name, "vendor"))
		return parse_num(value, &r->vendor);
	if (!strcmp(name, "product"))
		return parse_num(value, &r->product);
	if (!strcmp(name, "configure")) {
		r->configure = strcmp(value, "no") != 0;
		return 1;
	}
	if (!strcmp(name, "command")) {
		snprintf(r->command, sizeof(r->command), "%s", value);
		return 1;
	}
	if (!strcmp(name, "restart"))
		return parse_num(value, &r->restarts) &&
		       r->restarts <= MAX_RESTARTS;
	return 0;			/* an unknown key is an error */
}

static int conf_filter(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 5 && !strcmp(e->d_name + n - 5, ".conf");
}

int spawn_load_rules(const char *dir)
{
	struct dirent **list;
	int n, i, bad = 0;

	nrules = 0;
	n = scandir(dir, &list, conf_filter, alphasort);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	for (i = 0; i < n; i++) {
		char path[512];
		int rc;

		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		rc = ini_parse(path, on_key, NULL);
		if (rc) {
			fprintf(stderr, "xhcid: %s: error on line %d\n", path, rc);
			bad = 1;
		}
		free(list[i]);
	}
	free(list);
	return bad ? -EINVAL : (int)nrules;
}

static int match(const struct rule *r, const uint8_t *dd, const uint8_t *itf)
{
	uint16_t vid = (uint16_t)(dd[8] | dd[9] << 8);
	uint16_t pid = (uint16_t)(dd[10] | dd[11] << 8);

	if (!r->command[0])
		return 0;
	if ((r->vendor >= 0 && r->vendor != vid) ||
	    (r->product >= 0 && r->product != pid))
		return 0;
	return (r->cls < 0 || r->cls == itf[5]) && (r->sub < 0 || r->sub == itf[6]) &&
	       (r->proto < 0 || r->proto == itf[7]);
}

/* The first rule matching interface descriptor itf, or NULL. */
static const struct rule *find(const uint8_t *dd, const uint8_t *itf)
{
	unsigned int i;

	for (i = 0; i < nrules; i++)
		if (match(&rules[i], dd, itf))
			return &rules[i];
	return NULL;
}

/* The interfaces (alternate setting 0) of the first configuration. */
static unsigned int interfaces(const struct xdev *d, const uint8_t **out,
			       unsigned int max)
{
	size_t p, end;
	unsigned int n = 0;

	if (!d->ncfg)
		return 0;
	p = d->cfg_off[0];
	end = d->ncfg > 1 ? d->cfg_off[1] : d->desc_len;
	while (p + 2 <= end && d->desc[p] >= 2 && n < max) {
		const uint8_t *x = d->desc + p;

		if (x[1] == 4 && x[0] >= 9 && x[3] == 0)
			out[n++] = x;
		p += x[0];
	}
	return n;
}

static void run(const struct rule *r, const char *scheme, unsigned int port,
		const struct xdev *d, int iface)
{
	char *argv[MAX_ARGS + 1], cmd[256], sport[32], sif[8], sv[8], sp[8];
	const char *tok;
	int argc = 0;

	xport_name(port, sport, sizeof(sport));
	snprintf(sif, sizeof(sif), "%d", iface);
	snprintf(sv, sizeof(sv), "%04x", d->ddesc[8] | d->ddesc[9] << 8);
	snprintf(sp, sizeof(sp), "%04x", d->ddesc[10] | d->ddesc[11] << 8);
	snprintf(cmd, sizeof(cmd), "%s", r->command);
	for (tok = strtok(cmd, " \t"); tok && argc < MAX_ARGS; tok = strtok(NULL, " \t")) {
		if (!strcmp(tok, "$SCHEME"))
			tok = scheme;
		else if (!strcmp(tok, "$PORT"))
			tok = sport;
		else if (!strcmp(tok, "$INTERFACE"))
			tok = sif;
		else if (!strcmp(tok, "$VENDOR"))
			tok = sv;
		else if (!strcmp(tok, "$PRODUCT"))
			tok = sp;
		argv[argc++] = (char *)tok;
	}
	argv[argc] = NULL;
	if (!argc)
		_exit(127);
	/* A driver does not outlive xhcid, even one killed with SIGKILL. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGCHLD, SIG_DFL);
	setenv(RXU_USB_ENV_SCHEME, scheme, 1);
	setenv(RXU_USB_ENV_PORT, sport, 1);
	setenv(RXU_USB_ENV_INTERFACE, sif, 1);
	setenv(RXU_USB_ENV_TOKEN, d->token, 1);
	setenv(RXU_USB_ENV_RULE, r->name, 1);
	execvp(argv[0], argv);
	fprintf(stderr, "xhcid: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Fork slot drv's driver for d: 0 or -errno. */
static int start_driver(struct xhc *hc, struct driver *drv, struct xdev *d)
{
	char name[32];

	drv->pid = fork();
	if (drv->pid < 0) {
		drv->pid = 0;
		return -errno;
	}
	if (!drv->pid)
		run(drv->r, drv->scheme, drv->port, d, drv->iface);
	drv->started_ns = hc_now_ns();
	xport_name(drv->port, name, sizeof(name));
	hc_log(hc, "%s interface %u: %s started (pid %d)", name, drv->iface,
	       drv->r->name, (int)drv->pid);
	return 0;
}

int spawn_device(struct xhc *hc, const char *scheme, unsigned int port,
		 struct xdev *d)
{
	const uint8_t *itf[32];
	const struct rule *r;
	unsigned int n, i, k, started = 0;
	int configured = 0, rc;
	char name[32];

	n = interfaces(d, itf, 32);
	for (i = 0; i < n; i++) {
		r = find(d->ddesc, itf[i]);
		if (!r)
			continue;
		if (!configured && r->configure && d->ncfg &&
		    d->state == XDEV_ADDRESSED) {
			rc = xdev_configure(hc, d, d->desc[d->cfg_off[0] + 5], -1, 0);
			if (rc) {
				xport_name(port, name, sizeof(name));
				hc_log(hc, "%s: configure for %s: %s", name,
				       r->name, strerror(-rc));
				return rc;
			}
			configured = 1;
		}
		for (k = 0; k < MAX_DRIVERS &&
			    (drivers[k].pid || drivers[k].restart_at); k++)
			;
		if (k == MAX_DRIVERS)
			return -ENOSPC;
		memset(&drivers[k], 0, sizeof(drivers[k]));
		drivers[k].r = r;
		drivers[k].port = port;
		drivers[k].gen = d->generation;
		drivers[k].iface = itf[i][2];
		snprintf(drivers[k].rule, sizeof(drivers[k].rule), "%s", r->name);
		snprintf(drivers[k].scheme, sizeof(drivers[k].scheme), "%s",
			 scheme);
		rc = start_driver(hc, &drivers[k], d);
		if (rc)
			return rc;
		started++;
	}
	return (int)started;
}

size_t spawn_names(unsigned int port, uint64_t gen, char *buf, size_t size)
{
	size_t n = 0;
	unsigned int k;

	buf[0] = 0;
	for (k = 0; k < MAX_DRIVERS; k++) {
		int w;

		if (!drivers[k].pid || drivers[k].port != port || drivers[k].gen != gen)
			continue;
		if (n && strstr(buf, drivers[k].rule))
			continue;
		w = snprintf(buf + n, size - n, "%s%s", n ? "," : "", drivers[k].rule);
		if (w < 0 || (size_t)w >= size - n)
			break;
		n += (size_t)w;
	}
	return n;
}

/* Slot drv's driver ended with wait status st: schedule it again or not. */
static void driver_ended(struct xhc *hc, struct driver *drv, int st)
{
	uint64_t now = hc_now_ns(), delay;
	char name[32];

	xport_name(drv->port, name, sizeof(name));
	hc_log(hc, "%s: driver %s (pid %d) exited (status %d)", name, drv->rule,
	       (int)drv->pid, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	drv->pid = 0;
	/* Done on purpose, its device gone, or no restarts asked for. */
	if ((WIFEXITED(st) && !WEXITSTATUS(st)) || !drv->gen || !drv->r->restarts)
		return;
	if (now - drv->started_ns > FORGIVE_NS)
		drv->crashes = 0;
	if (++drv->crashes > drv->r->restarts) {
		hc_log(hc, "%s: driver %s: %d crash(es), restart limit %d: giving up",
		       name, drv->rule, drv->crashes, drv->r->restarts);
		return;
	}
	delay = SEC_NS << (drv->crashes - 1 < 5 ? drv->crashes - 1 : 5);
	if (delay > BACKOFF_MAX_NS)
		delay = BACKOFF_MAX_NS;
	drv->restart_at = now + delay;
	hc_log(hc, "%s: driver %s: restarting in %llu ms (crash %d of %d allowed)",
	       name, drv->rule, (unsigned long long)(delay / 1000000), drv->crashes,
	       drv->r->restarts);
}

/* Restarts that are due: run them, unless their device went away. */
static void restart_due(struct xhc *hc)
{
	uint64_t now = hc_now_ns();
	unsigned int k;

	for (k = 0; k < MAX_DRIVERS; k++) {
		struct driver *v = &drivers[k];
		struct xdev *d;

		if (!v->restart_at || v->restart_at > now)
			continue;
		v->restart_at = 0;
		xhc_lookup(hc, v->port, &d);
		if (!d || d->generation != v->gen)
			continue;	/* the slot is free again */
		if (start_driver(hc, v, d)) {
			char name[32];

			xport_name(v->port, name, sizeof(name));
			hc_log(hc, "%s: driver %s: cannot start again", name,
			       v->rule);
		}
	}
}

uint64_t spawn_next_restart(void)
{
	uint64_t next = 0;
	unsigned int k;

	for (k = 0; k < MAX_DRIVERS; k++)
		if (drivers[k].restart_at &&
		    (!next || drivers[k].restart_at < next))
			next = drivers[k].restart_at;
	return next;
}

void spawn_reap(struct xhc *hc)
{
	unsigned int k;
	pid_t pid;
	int st;

	/* Drivers whose device went away: SIGTERM, and no restart. */
	for (k = 0; k < MAX_DRIVERS; k++) {
		struct xdev *d;

		if (!drivers[k].gen || (!drivers[k].pid && !drivers[k].restart_at))
			continue;
		xhc_lookup(hc, drivers[k].port, &d);
		if (!d || d->generation != drivers[k].gen) {
			if (drivers[k].pid)
				kill(drivers[k].pid, SIGTERM);
			drivers[k].gen = 0;	/* reaped later */
			drivers[k].restart_at = 0;
		}
	}
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (k = 0; k < MAX_DRIVERS; k++)
			if (drivers[k].pid == pid)
				driver_ended(hc, &drivers[k], st);
	}
	restart_due(hc);
}

void spawn_stop_all(void)
{
	unsigned int k;

	for (k = 0; k < MAX_DRIVERS; k++)
		if (drivers[k].pid)
			kill(drivers[k].pid, SIGTERM);
}
