// SPDX-License-Identifier: MIT
/*
 * xhcid - a userspace xHCI (USB 3) host controller driver on VFIO and a
 * redox_uring ring.  pcid spawns it for PCI class 0c/03/30 (or it runs
 * standalone with --vfio ADDR), it brings the controller up, enumerates
 * what is plugged in and serves it as the scheme usb: (rxu_usb.h).
 *
 * This file: options, getting the PCI function, and the top-level loop.
 * The loop is where everything that issues commands and waits for them
 * runs (enumeration, configuration, endpoint recovery, a controller
 * reset); what arrives meanwhile (interrupts, scheme requests) is
 * dispatched by the reactor inside hc_wait(), xhcid's only wait.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xhcid.h"
#include "xhcid_scheme.h"
#include "xhcid_spawn.h"

#define MS	1000000ULL

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_child(int sig)
{
	(void)sig;
}

/* A No Op command round trip: the command ring and an event work. */
static int noop_check(struct xhc *hc)
{
	struct xcmd_result res;
	uint64_t t0 = hc_now_ns(), irqs = hc->irqs;
	int rc;

	rc = xcmd_run(hc, 0, 0, TRB_TYPE(TRB_NOOP_CMD), &res);
	if (!rc)
		rc = xcmd_cc_errno(res.cc);
	hc_log(hc, "No Op command: %s in %llu us, %llu interrupt(s)",
	       rc ? strerror(-rc) : "completed",
	       (unsigned long long)((hc_now_ns() - t0) / 1000),
	       (unsigned long long)(hc->irqs - irqs));
	return rc;
}

static void mark_all_ports(struct xhc *hc)
{
	unsigned int p;

	for (p = 1; p <= hc->max_ports && p <= XHCID_MAX_PORTS; p++)
		hc->port[p].change = 1;
}

/*
 * A controller that stopped answering: reset it and enumerate again.  Bus
 * mastering is asserted again first: a function that lost it (an FLR, a
 * write to its command register from outside) fails every DMA, and its
 * reset alone (HCRST) does not give it back.
 */
static int restart(struct xhc *hc)
{
	int rc;

	hc_log(hc, "resetting the controller");
	hc_stop(hc);
	memset(hc->port, 0, sizeof(hc->port));
	rc = rxu_pcidrv_enable_bus_master(&hc->dev);
	if (rc)
		hc_log(hc, "bus master: %s", strerror(-rc));
	if (hc_start(hc))
		return -EIO;
	mark_all_ports(hc);
	return 0;
}

/* --dump DIR: each device's descriptors, strings and state as files. */
static void dump(struct xhc *hc, const char *dir)
{
	unsigned int p;
	char path[512];
	FILE *f;

	mkdir(dir, 0755);
	snprintf(path, sizeof(path), "%s/ports", dir);
	f = fopen(path, "w");
	if (!f)
		return;
	for (p = 1; p <= hc->max_ports; p++) {
		struct xdev *d = hc->port[p].dev;

		fprintf(f, "port%u %s %s\n", p, d ? xdev_state_name(d->state) : "empty",
			d ? xdev_speed_name(d->speed) : "-");
	}
	fclose(f);
	for (p = 1; p <= hc->max_ports; p++) {
		struct xdev *d = hc->port[p].dev;
		FILE *g;

		if (!d || !d->desc)
			continue;
		snprintf(path, sizeof(path), "%s/port%u.descriptors", dir, p);
		g = fopen(path, "w");
		if (g) {
			fwrite(d->desc, 1, d->desc_len, g);
			fclose(g);
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xhcid [options] --vfio ADDR   standalone (bound to vfio-pci)\n"
		"       xhcid [options] [ADDR]        as pcid spawns it (PCID_*)\n"
		"  --scheme NAME      serve NAME: (default usb.SSSS-BB-DD.F and usb)\n"
		"  --config DIR       class-driver rules (default /etc/xhcid.d)\n"
		"  --token-file PATH  where the admin token is written\n"
		"  --once             enumerate, then exit (with --dump)\n"
		"  --dump DIR         write DIR/ports and DIR/portN.descriptors\n"
		"  --no-scheme        do not serve usb:\n"
		"  -v                 verbose\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "vfio", required_argument, NULL, 'V' },
		{ "scheme", required_argument, NULL, 's' },
		{ "config", required_argument, NULL, 'c' },
		{ "token-file", required_argument, NULL, 't' },
		{ "once", no_argument, NULL, 'o' },
		{ "dump", required_argument, NULL, 'd' },
		{ "no-scheme", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct xhcid_opts o = { 0 };
	const char *vfio = NULL, *dumpdir = NULL;
	int once = 0, no_scheme = 0, c, rc, status = 0;
	struct sigaction sa;
	struct xhc *hc;

	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			vfio = optarg;
			break;
		case 's':
			o.scheme = optarg;
			break;
		case 'c':
			o.config = optarg;
			break;
		case 't':
			o.token_file = optarg;
			break;
		case 'o':
			once = 1;
			break;
		case 'd':
			dumpdir = optarg;
			break;
		case 'n':
			no_scheme = 1;
			break;
		case 'v':
			o.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if ((vfio && optind != argc) || optind + 1 < argc) {
		usage(stderr);
		return 2;
	}
	hc = calloc(1, sizeof(*hc));
	if (!hc)
		return 2;
	hc->efd = -1;
	hc->ring.fd = hc->pring.fd = -1;
	hc->dev.device = hc->dev.group = hc->dev.container = -1;
	hc->dev.irq_kind = -1;
	hc->verbose = o.verbose;
	snprintf(hc->dev.addr, sizeof(hc->dev.addr), "%s",
		 vfio ? vfio : optind < argc ? argv[optind] : "pcid");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* A class driver's exit interrupts ENTER: reaped in the loop. */
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (vfio) {
		rc = rxu_pcidrv_open_vfio(&hc->dev, vfio);
	} else {
		rc = rxu_setup(&hc->pring, 16, 16, 0);
		if (!rc)
			rc = rxu_pcidrv_open_pcid(&hc->dev, &hc->pring,
						  optind < argc ? argv[optind] : NULL,
						  NULL, NULL);
	}
	if (rc) {
		hc_log(hc, "getting the PCI function: %s", strerror(-rc));
		return 2;
	}
	rc = rxu_setup(&hc->ring, 256, 256, 0);
	if (!rc)
		rc = rxu_reactor_create(&hc->r, &hc->ring, 4096);
	if (rc) {
		hc_log(hc, "ring: %s", strerror(-rc));
		return 2;
	}
	if (hc_start(hc) || noop_check(hc)) {
		status = 2;
		goto out;
	}
	mark_all_ports(hc);
	if (!no_scheme && !once) {
		rc = xhcid_scheme_start(hc, &o);
		if (rc) {
			hc_log(hc, "usb: scheme: %s", strerror(-rc));
			status = 2;
			goto out;
		}
	}
	while (!stop) {
		uint64_t now, dl, rs;

		if (hc->dead && restart(hc)) {
			status = 1;
			break;
		}
		port_scan(hc);
		xfer_expire(hc, hc_now_ns());
		xfer_recover(hc);
		xhcid_scheme_work(hc);
		if (once)
			break;
		now = hc_now_ns();
		dl = xfer_next_deadline(hc);
		rs = spawn_next_restart();
		if (rs && (!dl || rs < dl))
			dl = rs;
		hc_wait(hc, dl > now ? dl - now : dl ? 1 : 1000 * MS);
	}
	if (dumpdir)
		dump(hc, dumpdir);
out:
	xhcid_scheme_stop(hc);
	hc_stop(hc);
	rxu_reactor_destroy(hc->r);
	rxu_pcidrv_close(&hc->dev);
	rxu_instance_close(&hc->ring);
	rxu_instance_close(&hc->pring);
	free(hc);
	return status;
}
