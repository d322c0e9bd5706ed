// SPDX-License-Identifier: MIT
/*
 * pcid: the PCI bus daemon.  Enumerates PCI functions from sysfs, binds
 * the ones a driver rule matches to vfio-pci, spawns their drivers, and
 * serves the pci: scheme (userspace/include/rxu_pci.h) on librxu's
 * reactor.  `pcid --help` is the manual, the same text as man/man1/pcid.1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rxu.h"
#include "pcid.h"

#define DEFAULT_CONFIG	"/etc/pcid.d"
#define DEFAULT_STATE	"/run/pcid"

static const char usage_text[] =
"NAME\n"
"    pcid - the PCI bus daemon of redox_uring: VFIO, drivers, the pci: scheme\n"
"\n"
"SYNOPSIS\n"
"    pcid [--config DIR] [--name NAME] [--state-dir DIR] [--no-bind]\n"
"         [--no-spawn] [-v]\n"
"    pcid --list [--config DIR]\n"
"    pcid --release [--name NAME] [--state-dir DIR]\n"
"    pcid --help\n"
"\n"
"DESCRIPTION\n"
"    pcid enumerates the PCI functions in /sys/bus/pci/devices and matches\n"
"    each against the driver rules of the config directory.  A matched\n"
"    function is bound to vfio-pci (driver_override + drivers_probe; the\n"
"    driver it had is remembered), opened through VFIO (one container per\n"
"    IOMMU group), and the rule's command is started as its driver with\n"
"    PCID_ADDRESS, PCID_TOKEN, PCID_SCHEME and PCID_RULE in its\n"
"    environment.  A driver that crashes is restarted with backoff (1 s,\n"
"    2 s, 4 s ... 30 s) up to the rule's restart count, then reported\n"
"    (state failed); a driver that exits with status 0 is left alone.\n"
"    Each exit resets the function and drops its DMA mappings.\n"
"\n"
"    pcid registers the scheme NAME (default pci) with /dev/redox_uring\n"
"    and serves it until SIGTERM or SIGINT: the listing \"pci:\", per\n"
"    function \"pci:ADDR/config\" and \"pci:ADDR/bars\", the VFIO device,\n"
"    container and interrupt eventfds (PASS_FD, to the function's driver\n"
"    only), and on user-to-user rings the opcodes FETCH_CONFIG,\n"
"    FETCH_ALL_CAPABILITIES, GET_CAPABILITY, SET_CAPABILITY (MSI/MSI-X/\n"
"    INTx as eventfds), CLAIM, IRQ_MASK/UNMASK, CONFIG_READ/WRITE, RESET.\n"
"    The protocol is rxu_pci.h.  On exit every driver gets SIGTERM\n"
"    (SIGKILL after 3 s) and every function goes back to its driver.\n"
"    \"pcid: serving NAME:\" on stdout says it is ready; log lines go to\n"
"    stderr.\n"
"\n"
"OPTIONS\n"
"    -c, --config DIR   driver rules: every DIR/*.conf (default /etc/pcid.d)\n"
"    -n, --name NAME    scheme name (default pci)\n"
"    -s, --state-dir DIR\n"
"                       NAME.pid, NAME.state (functions bound and their\n"
"                       original drivers) and NAME.token (the admin\n"
"                       token, mode 0600) (default /run/pcid)\n"
"        --sysfs DIR    sysfs root (default /sys; for tests)\n"
"        --no-bind      bind nothing: use matched functions only if they\n"
"                       are bound to vfio-pci already\n"
"        --no-spawn     start no driver (start them yourself with the\n"
"                       PCID_* environment; see the admin token)\n"
"    -l, --list         print every function, its driver and the rule that\n"
"                       matches it (and why it would be refused); change\n"
"                       nothing\n"
"    -r, --release      give every function a pcid NAME bound back to its\n"
"                       driver: stop the running pcid (SIGTERM, it restores\n"
"                       on exit) or, if it died, restore from NAME.state\n"
"    -v, --verbose      log more\n"
"    -h, --help         this text\n"
"\n"
"RULES\n"
"    INI files; each [section] is a rule named by it:\n"
"        [edu]\n"
"        vendor = 0x1234          ; match keys, all optional, all must match:\n"
"        device = 0x11e8          ; vendor device class subclass prog_if\n"
"                                 ; (interface) subsystem_vendor\n"
"                                 ; subsystem_device\n"
"        command = edud $ADDR     ; split on blanks; $ADDR $VENDOR $DEVICE\n"
"                                 ; $RULE $SCHEME are replaced\n"
"        restart = 3              ; restarts after crashes (0: none)\n"
"        force = no               ; yes: allow a bridge or the boot VGA\n"
"        enabled = yes\n"
"    Files are read in name order, rules in file order; the first match\n"
"    wins.  Bridges (class 0x06), the boot VGA device and non-endpoint\n"
"    headers are never bound unless the rule says force = yes.\n"
"\n"
"ENVIRONMENT\n"
"    What a driver started by pcid finds in its environment:\n"
"    PCID_ADDRESS       the function's address, dddd:bb:dd.f\n"
"    PCID_TOKEN         the function's token: only its holder gets the VFIO\n"
"                       device, container and interrupt fds, writes config\n"
"                       space and CLAIMs the function; never in argv\n"
"    PCID_SCHEME        the scheme pcid serves (its NAME)\n"
"    PCID_RULE          the name of the rule that matched\n"
"\n"
"EXIT STATUS\n"
"    0 after SIGTERM/SIGINT or a successful --list/--release; 1 on a\n"
"    runtime failure; 2 for bad usage or a bad config.\n"
"\n"
"FILES\n"
"    /etc/pcid.d/*.conf, /run/pcid/NAME.{pid,state,token}\n"
"\n"
"SEE ALSO\n"
"    pcid(1) (this text), rxuctl(1), librxu(3); in the redox_uring\n"
"    sources docs/pcid.md (the rights model, and pcid on a real machine:\n"
"    IOMMU, picking functions, release) and userspace/include/rxu_pci.h\n"
"    (the protocol)\n";

static int verbose;
static struct pcid *g_pcid;

void pcid_log(const char *fmt, ...)
{
	va_list ap;

	fputs("pcid: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ------------------------------------------------------------------ */
/* state files                                                         */
/* ------------------------------------------------------------------ */

static void state_path(const struct pcid *p, const char *ext, char *buf,
		       size_t size)
{
	snprintf(buf, size, "%s/%s.%s", p->state_dir, p->scheme, ext);
}

void state_save(struct pcid *p)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *fp;
	size_t i;

	state_path(p, "state", path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = fopen(tmp, "we");
	if (!fp) {
		pcid_log("%s: %s", tmp, strerror(errno));
		return;
	}
	for (i = 0; i < p->nfns; i++)
		if (p->fns[i].we_bound)
			fprintf(fp, "%s %s\n", p->fns[i].name,
				p->fns[i].orig_driver[0] ?
				p->fns[i].orig_driver : "-");
	if (fclose(fp) || rename(tmp, path))
		pcid_log("%s: %s", path, strerror(errno));
}

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	fchmod(fd, mode);
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return -EIO;
	}
	return close(fd) ? -errno : 0;
}

static pid_t read_pid(const struct pcid *p)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd;

	state_path(p, "pid", path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}

static void remove_state(const struct pcid *p)
{
	char path[PATH_MAX];

	state_path(p, "state", path, sizeof(path));
	unlink(path);
	state_path(p, "token", path, sizeof(path));
	unlink(path);
	state_path(p, "pid", path, sizeof(path));
	unlink(path);
}

/* ------------------------------------------------------------------ */
/* --list and --release                                                */
/* ------------------------------------------------------------------ */

static int do_list(struct pcid *p)
{
	size_t i;

	printf("%-12s %-9s %-6s %-14s %-14s %s\n", "ADDRESS", "ID", "CLASS",
	       "DRIVER", "RULE", "NOTE");
	for (i = 0; i < p->nfns; i++) {
		struct pci_fn *f = &p->fns[i];
		const struct rule *r = rules_match(&p->rules, &f->id);
		const char *why = fn_unsafe_reason(f);
		char drv[64], id[16], cls[8];

		fn_kernel_driver(p->sysfs, f, drv, sizeof(drv));
		snprintf(id, sizeof(id), "%04x:%04x", f->id.vendor,
			 f->id.device);
		snprintf(cls, sizeof(cls), "%02x%02x%02x", f->id.class_code,
			 f->id.subclass, f->id.prog_if);
		printf("%-12s %-9s %-6s %-14s %-14s %s%s%s\n", f->name, id,
		       cls, drv[0] ? drv : "-", r ? r->name : "-",
		       r && why && !r->force ? "refused: " : "",
		       r && why && !r->force ? why : "",
		       f->iommu_group < 0 && r ? " no IOMMU group" : "");
	}
	return 0;
}

static int do_release(struct pcid *p)
{
	char path[PATH_MAX], line[256];
	pid_t pid = read_pid(p);
	int ret = 0, i;
	FILE *fp;

	if (pid > 0 && !kill(pid, 0)) {
		printf("pcid: stopping pcid %d (it gives the functions back)\n",
		       (int)pid);
		kill(pid, SIGTERM);
		for (i = 0; i < 1000 && !kill(pid, 0); i++)
			usleep(10000);
		if (!kill(pid, 0)) {
			fprintf(stderr, "pcid: pcid %d did not stop\n",
				(int)pid);
			return 1;
		}
	}
	state_path(p, "state", path, sizeof(path));
	fp = fopen(path, "re");
	if (!fp) {
		printf("pcid: nothing to release\n");
		return 0;
	}
	while (fgets(line, sizeof(line), fp)) {
		char addr[32], drv[64];

		if (sscanf(line, "%31s %63s", addr, drv) != 2)
			continue;
		if (fn_restore_name(p->sysfs, addr,
				    strcmp(drv, "-") ? drv : "")) {
			fprintf(stderr, "pcid: %s: could not restore %s\n",
				addr, drv);
			ret = 1;
		} else {
			printf("pcid: %s: back to %s\n", addr,
			       strcmp(drv, "-") ? drv : "no driver");
		}
	}
	fclose(fp);
	if (!ret)
		remove_state(p);
	return ret;
}

/* ------------------------------------------------------------------ */
/* functions                                                           */
/* ------------------------------------------------------------------ */

void fn_driver_gone(struct pcid *p, struct pci_fn *f, int process_died)
{
	scheme_drop_owner(p, f);
	if (process_died) {
		f->token[0] = '\0';
		if (f->device_fd >= 0 && vfio_recycle(p, f))
			pcid_log("%s: cannot reopen through VFIO after its "
				 "driver", f->name);
	} else {
		vfio_irq_disable(f);
		vfio_reset(f);
	}
}

static void fns_setup(struct pcid *p)
{
	size_t i;
	int ret;

	for (i = 0; i < p->nfns; i++) {
		struct pci_fn *f = &p->fns[i];
		const char *why;
		char drv[64];

		f->rule = rules_match(&p->rules, &f->id);
		if (!f->rule)
			continue;
		why = fn_unsafe_reason(f);
		if (why && !f->rule->force) {
			pcid_log("%s: [%s] matches but it is %s: not bound "
				 "(force = yes overrides)", f->name,
				 f->rule->name, why);
			f->state = FN_FAILED;
			continue;
		}
		fn_sysfs_bars(p->sysfs, f);
		if (p->bind) {
			ret = fn_bind_vfio(p->sysfs, f);
			state_save(p);
			if (ret) {
				pcid_log("%s: cannot bind to vfio-pci: %s%s",
					 f->name, strerror(-ret),
					 ret == -ENXIO ? " (modprobe vfio-pci)"
						       : "");
				f->state = FN_FAILED;
				continue;
			}
		} else {
			fn_kernel_driver(p->sysfs, f, drv, sizeof(drv));
			if (strcmp(drv, "vfio-pci")) {
				pcid_log("%s: not bound to vfio-pci "
					 "(--no-bind): skipped", f->name);
				f->state = FN_FAILED;
				continue;
			}
		}
		ret = vfio_open(p, f);
		if (ret) {
			pcid_log("%s: VFIO: %s", f->name, strerror(-ret));
			f->state = FN_FAILED;
			continue;
		}
		f->state = FN_BOUND;
		if (verbose)
			pcid_log("%s: bound [%s] (was %s), IOMMU group %d",
				 f->name, f->rule->name,
				 f->orig_driver[0] ? f->orig_driver : "-",
				 f->iommu_group);
	}
}

static void fns_teardown(struct pcid *p)
{
	size_t i;

	for (i = 0; i < p->nfns; i++) {
		struct pci_fn *f = &p->fns[i];

		vfio_close(p, f);
		if (f->sysfs_cfg_fd >= 0)
			close(f->sysfs_cfg_fd);
		f->sysfs_cfg_fd = -1;
		if (f->we_bound) {
			if (fn_restore(p->sysfs, f))
				pcid_log("%s: could not give it back to %s",
					 f->name, f->orig_driver[0] ?
					 f->orig_driver : "no driver");
			else
				pcid_log("%s: back to %s", f->name,
					 f->orig_driver[0] ? f->orig_driver
							   : "no driver");
		}
	}
}

/* ------------------------------------------------------------------ */
/* the loop: signals and the restart timer                             */
/* ------------------------------------------------------------------ */

struct loop {
	struct pcid *p;
	int sigfd;
	int stop;
};

void pcid_arm_timer(struct pcid *p)
{
	uint64_t next = driver_restarts_due(p, now_ns()), now = now_ns();
	struct itimerspec it = { { 0, 0 }, { 0, 0 } };

	if (p->timer_fd < 0)
		return;
	if (next) {
		uint64_t d = next > now ? next - now : 1;

		it.it_value.tv_sec = (time_t)(d / 1000000000ULL);
		it.it_value.tv_nsec = (long)(d % 1000000000ULL);
	}
	timerfd_settime(p->timer_fd, 0, &it, NULL);
}

static void on_signal(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		      void *ctx)
{
	struct loop *l = ctx;
	struct signalfd_siginfo si;

	if (!rxu_cqe_is_event(cqe)) {
		if (rxu_cqe_result(cqe) < 0 || rxu_cqe_is_last_update(cqe)) {
			pcid_log("cannot watch for signals");
			l->p->failed = 1;
			rxu_reactor_stop(r);
		}
		return;
	}
	while (read(l->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			int status;
			pid_t pid;

			while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
				driver_reaped(l->p, pid, status);
		} else {
			pcid_log("signal %u: stopping", si.ssi_signo);
			l->stop = 1;
			rxu_reactor_stop(r);
		}
	}
}

static void on_timer(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		     void *ctx)
{
	struct pcid *p = ctx;
	uint64_t n;

	(void)r;
	if (!rxu_cqe_is_event(cqe))
		return;
	if (read(p->timer_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pcid_log("timer: %s", strerror(errno));
	pcid_arm_timer(p);
}

static int check_name(const char *name)
{
	return *name && strlen(name) <= 64 && !strpbrk(name, ":/");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "sysfs", required_argument, NULL, 'S' },
		{ "no-bind", no_argument, NULL, 'B' },
		{ "no-spawn", no_argument, NULL, 'P' },
		{ "list", no_argument, NULL, 'l' },
		{ "release", no_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = DEFAULT_CONFIG, *err;
	struct rxu_instance prim;
	struct pcid p;
	struct loop l;
	char path[PATH_MAX], buf[64];
	int opt, list = 0, release = 0, ret, status = 1;
	struct rxu_sqe64 sqe;
	sigset_t sigs;
	pid_t other;
	size_t i;

	memset(&p, 0, sizeof(p));
	p.sysfs = "/sys";
	p.scheme = RXU_PCI_SCHEME;
	p.state_dir = DEFAULT_STATE;
	p.bind = p.spawn = 1;
	p.timer_fd = -1;
	g_pcid = &p;
	while ((opt = getopt_long(argc, argv, "c:n:s:lrvh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config = optarg;
			break;
		case 'n':
			p.scheme = optarg;
			break;
		case 's':
			p.state_dir = optarg;
			break;
		case 'S':
			p.sysfs = optarg;
			break;
		case 'B':
			p.bind = 0;
			break;
		case 'P':
			p.spawn = 0;
			break;
		case 'l':
			list = 1;
			break;
		case 'r':
			release = 1;
			break;
		case 'v':
			verbose = p.verbose = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs("usage: pcid [--config DIR] [--name NAME] "
			      "[--state-dir DIR] [--list|--release|--help]\n",
			      stderr);
			return 2;
		}
	}
	if (optind != argc || !check_name(p.scheme) || (list && release)) {
		fputs("pcid: bad arguments (see pcid --help)\n", stderr);
		return 2;
	}
	if (release)
		return do_release(&p);

	ret = rules_load_dir(&p.rules, config, &err);
	if (ret) {
		fprintf(stderr, "pcid: %s\n", err ? err : strerror(-ret));
		return 2;
	}
	ret = fns_enumerate(p.sysfs, &p.fns, &p.nfns);
	if (ret) {
		fprintf(stderr, "pcid: %s/bus/pci/devices: %s\n", p.sysfs,
			strerror(-ret));
		rules_free(&p.rules);
		return 1;
	}
	if (list) {
		do_list(&p);
		free(p.fns);
		rules_free(&p.rules);
		return 0;
	}

	memset(&l, 0, sizeof(l));
	l.p = &p;
	l.sigfd = -1;
	rxu_instance_from_fd(&prim, -1);

	/* one pcid per name */
	if (mkdir(p.state_dir, 0700) && errno != EEXIST) {
		pcid_log("%s: %s", p.state_dir, strerror(errno));
		goto out_early;
	}
	other = read_pid(&p);
	if (other > 0 && other != getpid() && !kill(other, 0)) {
		pcid_log("pcid %d already serves %s:", (int)other, p.scheme);
		goto out_early;
	}

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGCHLD);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	l.sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	p.timer_fd = timerfd_create(CLOCK_MONOTONIC,
				    TFD_CLOEXEC | TFD_NONBLOCK);
	if (l.sigfd < 0 || p.timer_fd < 0) {
		pcid_log("signalfd/timerfd: %s", strerror(errno));
		goto out_early;
	}

	/* Register the scheme before touching any device. */
	ret = rxu_setup(&prim, 64, 256, 0);
	if (ret) {
		pcid_log("%s: %s", RXU_DEVICE_PATH, strerror(-ret));
		goto out_early;
	}
	ret = rxu_reactor_create(&p.r, &prim, 1024);
	if (ret) {
		pcid_log("reactor: %s", strerror(-ret));
		goto out_early;
	}
	p.prim = &prim;
	ret = scheme_start(&p);
	if (ret) {
		pcid_log("register :%s: %s", p.scheme, strerror(-ret));
		goto out_early;
	}

	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	state_path(&p, "pid", path, sizeof(path));
	write_file(path, buf, 0644);
	if (token_new(p.admin_token)) {
		pcid_log("getrandom failed");
		goto out;
	}
	snprintf(buf, sizeof(buf), "%s\n", p.admin_token);
	state_path(&p, "token", path, sizeof(path));
	ret = write_file(path, buf, 0600);
	if (ret)
		pcid_log("%s: %s (no admin token)", path, strerror(-ret));

	fns_setup(&p);

	rxu_prep_files_update(&sqe, l.sigfd, RXU_EVENT_READ, 1, 0);
	ret = rxu_submit(p.r, RXU_RING_PRIMARY, &sqe, on_signal, &l, NULL);
	if (!ret) {
		rxu_prep_files_update(&sqe, p.timer_fd, RXU_EVENT_READ, 1, 0);
		ret = rxu_submit(p.r, RXU_RING_PRIMARY, &sqe, on_timer, &p,
				 NULL);
	}
	if (ret) {
		pcid_log("reactor: %s", strerror(-ret));
		goto out;
	}

	if (p.spawn)
		for (i = 0; i < p.nfns; i++)
			if (p.fns[i].state == FN_BOUND &&
			    driver_spawn(&p, &p.fns[i])) {
				pcid_log("%s: cannot spawn %s", p.fns[i].name,
					 p.fns[i].rule->argv[0]);
				p.fns[i].state = FN_FAILED;
			}

	printf("pcid: serving %s:\n", p.scheme);
	fflush(stdout);

	while (!l.stop && !p.failed) {
		ret = rxu_reactor_run_once(p.r, 0, 0);
		if (ret < 0 && ret != -EINTR && ret != -ETIME) {
			pcid_log("loop: %s", strerror(-ret));
			p.failed = 1;
		}
	}
	if (!p.failed)
		status = 0;

out:
	drivers_stop(&p, 3000);
	scheme_stop(&p);
	rxu_reactor_destroy(p.r);
	p.r = NULL;
	fns_teardown(&p);
	remove_state(&p);
out_early:
	scheme_stop(&p);
	rxu_reactor_destroy(p.r);
	rxu_instance_close(&prim);
	if (l.sigfd >= 0)
		close(l.sigfd);
	if (p.timer_fd >= 0)
		close(p.timer_fd);
	free(p.fns);
	rules_free(&p.rules);
	return status;
}
