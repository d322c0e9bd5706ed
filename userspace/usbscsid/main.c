// SPDX-License-Identifier: MIT
/*
 * usbscsid: a USB mass-storage (Bulk-Only, SCSI) driver that serves its
 * logical units as the scheme disk: (docs/usbscsid.md).
 *
 *   usbscsid [--scheme NAME]                  spawned by xhcid
 *   usbscsid [--scheme NAME] --sim IMG[,IMG]  no USB: a simulated device
 *            [--sim-ro] [--sim-descriptor-sense]
 *
 * Spawned by xhcid (rule userspace/usbscsid/xhcid.d/usbscsid.conf) it
 * takes the device from the environment (XHCID_SCHEME, XHCID_PORT,
 * XHCID_INTERFACE, XHCID_TOKEN), connects to xhcid on a u2u ring, asks
 * Get Max LUN, probes every LUN and registers
 * "disk.usb-<XHCID_SCHEME>+<port>-scsi" (Redox's name) and, if it is
 * free, "disk".  --sim serves image files instead, through the same
 * BOT and SCSI code, over the simulated device the host tests use.
 * "usbscsid: serving NAME:" on stdout says it is ready.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot.h"
#include "disk.h"
#include "rxu_scheme.h"
#include "rxu_usb.h"
#include "scheme.h"
#include "sim.h"
#include "usb.h"

/* Transfer memory: 1 MiB of data per command (a zero-copy READ's most, and
 * xhcid's largest transfer), plus the BOT/SCSI head. */
#define XFER_MEM	((1u << 20) + SCSI_DATA_OFFSET)

static const char *prog = "usbscsid";
static struct disk_dev dev;
static struct bot bot;
static struct sim sim;
static struct usb_xport usb;

static int die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-err));
	return 1;
}

static int sim_open(char *images, int ro, int desc_sense)
{
	char *img, *save = NULL;
	int ret = sim_init(&sim, XFER_MEM);

	if (ret)
		return ret;
	for (img = strtok_r(images, ",", &save); img;
	     img = strtok_r(NULL, ",", &save)) {
		struct stat st;
		void *map;
		int fd = open(img, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);

		if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < 512) {
			ret = fd < 0 ? -errno : -EINVAL;
			fprintf(stderr, "%s: %s: %s\n", prog, img,
				strerror(-ret));
			return ret;
		}
		map = mmap(NULL, (size_t)st.st_size,
			   PROT_READ | (ro ? 0 : PROT_WRITE), MAP_SHARED, fd, 0);
		close(fd);
		if (map == MAP_FAILED)
			return -errno;
		ret = sim_add_lun(&sim, map, (uint64_t)st.st_size / 512, 512);
		if (ret < 0)
			return ret;
		sim.lun[ret].write_protect = ro;
		sim.lun[ret].descriptor_sense = desc_sense;
	}
	return sim.nluns ? 0 : -EINVAL;
}

static int probe_all(struct usbscsid_xport *x)
{
	const char *spoil = getenv("USBSCSID_SPOIL_CBW");
	unsigned int i;
	int ret = bot_init(&bot, x);

	if (ret)
		return ret;
	bot.log_resets = 1;
	if (spoil)
		bot.spoil_cbw = strtoull(spoil, NULL, 10);
	dev.nluns = bot.max_lun + 1u;
	ret = disk_probe_all(dev.lun, dev.nluns, &bot);
	if (ret <= 0)
		return ret ? ret : -ENXIO;	/* no LUN has a unit */
	for (i = 0; i < dev.nluns; i++) {
		struct scsi_lun *l = &dev.lun[i];

		if (l->absent) {
			if (l->sense.key)
				fprintf(stderr, "%s: LUN %u: no unit there (sense %x/%02x/%02x), skipped\n",
					prog, i, l->sense.key, l->sense.asc,
					l->sense.ascq);
			else
				fprintf(stderr, "%s: LUN %u: no unit there (peripheral qualifier 3), skipped\n",
					prog, i);
			continue;
		}
		fprintf(stderr, "%s: LUN %u: %s %s %s, %s%llu blocks of %u%s\n",
			prog, i, l->vendor, l->product, l->revision,
			l->present ? "" : "no medium, ",
			(unsigned long long)l->blocks, l->block_size,
			l->write_protect ? ", write-protected" : "");
	}
	disk_dev_listing(&dev);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: %s [--scheme NAME] [--sim IMG[,IMG...] [--sim-ro] [--sim-descriptor-sense]]\n",
		prog);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scheme", required_argument, NULL, 's' },
		{ "sim", required_argument, NULL, 'S' },
		{ "sim-ro", no_argument, NULL, 'r' },
		{ "sim-descriptor-sense", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct rxu_scheme_config cfg = { .flags = RXU_SCHEME_U2U };
	struct usbscsid_xport *x;
	struct rxu_instance ring;
	struct rxu_reactor *r;
	struct rxu_scheme *s, *alias = NULL;
	char *images = NULL, name[128];
	const char *scheme_name = NULL;
	int opt, ro = 0, desc_sense = 0, ret;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			scheme_name = optarg;
			break;
		case 'S':
			images = optarg;
			break;
		case 'r':
			ro = 1;
			break;
		case 'd':
			desc_sense = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (images) {
		ret = sim_open(images, ro, desc_sense);
		if (ret)
			return die("--sim", ret);
		x = &sim.x;
		snprintf(name, sizeof(name), "disk.sim");
	} else {
		const char *xs = getenv(RXU_USB_ENV_SCHEME);
		const char *port = getenv(RXU_USB_ENV_PORT);
		const char *ifs = getenv(RXU_USB_ENV_INTERFACE);

		if (!xs || !port)
			usage();
		ret = usb_xport_open(&usb, xs, port, getenv(RXU_USB_ENV_TOKEN),
				     ifs ? atoi(ifs) : -1, XFER_MEM);
		if (ret)
			return die("usb", ret);
		x = &usb.x;
		snprintf(name, sizeof(name), "disk.usb-%s+%s-scsi", xs, port);
	}
	ret = probe_all(x);
	if (ret == -ENXIO)
		fprintf(stderr, "%s: no LUN of the device has a unit\n", prog);
	if (ret)
		return die("probe", ret);
	ret = rxu_setup(&ring, 64, 256, 0);
	if (!ret)
		ret = rxu_reactor_create(&r, &ring, 256);
	if (ret)
		return die("ring", ret);
	ret = rxu_scheme_register(&s, r, scheme_name ? scheme_name : name,
				  &cfg, &disk_scheme_ops, &dev);
	if (ret)
		return die("register", ret);
	/* The first stick also serves "disk:", as xhcid's "usb:". */
	if (!scheme_name &&
	    rxu_scheme_register(&alias, r, "disk", &cfg, &disk_scheme_ops,
				&dev) == 0)
		printf("%s: serving disk:\n", prog);
	printf("%s: serving %s:\n", prog, scheme_name ? scheme_name : name);
	fflush(stdout);
	ret = rxu_reactor_run(r);
	rxu_scheme_destroy(alias);
	rxu_scheme_destroy(s);
	rxu_reactor_destroy(r);
	rxu_instance_close(&ring);
	if (images)
		sim_fini(&sim);
	else
		usb_xport_close(&usb);
	return ret ? 1 : 0;
}
