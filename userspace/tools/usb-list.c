// SPDX-License-Identifier: MIT
/*
 * usb-list.c: `rxuctl usb [-v] [SCHEME...]`, the USB devices behind every
 * xhcid, from `usb:` alone (rxu_usb.h).
 *
 * The schemes are those of /proc/redox_uring named "usb" or "usb.*"
 * (each xhcid registers "usb.SSSS-BB-DD.F" and the first one also "usb",
 * so "usb" is listed only when no "usb.*" is there), or the SCHEMEs
 * given.  Per scheme, a line with its name, then one line per port of its
 * listing: port, state, speed, vendor:product, class (the device's, or
 * its interfaces'), the driver xhcid bound and the product string:
 *
 *	usb.0000-00-03.0
 *	  PORT      STATE       SPEED  ID         CLASS         DRIVER    PRODUCT
 *	  port1     configured  high   0627:0001  HID           usbhid    QEMU USB Keyboard
 *	  port2     empty
 *
 * -v adds every descriptor of each device, parsed (usb-desc.c).  Exit
 * status 0, or 1 when a scheme could not be read (a message on stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usb-desc.h"
#include "usb-io.h"
#include "usb-list.h"

#define MAX_SCHEMES	16
#define NAME_LEN	64
#define LISTING_MAX	65536
#define DESC_MAX	65536
#define STRINGS_MAX	4096

struct lister {
	struct rxu_instance in;
	int verbose;
	char listing[LISTING_MAX + 1];
	uint8_t desc[DESC_MAX];
	char strings[STRINGS_MAX + 1];
};

static int usb_name(const char *n)
{
	return !strcmp(n, "usb") || !strncmp(n, "usb.", 4);
}

/* The usb schemes /proc lists, "usb" only if no "usb.*" is among them. */
static int find_schemes(const char *proc, char names[][NAME_LEN])
{
	char line[1024], name[NAME_LEN];
	int n = 0, plain = 0, i;
	FILE *f = fopen(proc, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "scheme %63s", name) == 1 && usb_name(name) &&
		    n < MAX_SCHEMES) {
			plain |= !strcmp(name, "usb");
			snprintf(names[n++], NAME_LEN, "%s", name);
		}
	fclose(f);
	if (plain && n > 1)
		for (i = 0; i < n; i++)
			if (!strcmp(names[i], "usb")) {
				memmove(names[i], names[n - 1], NAME_LEN);
				n--;
				break;
			}
	return n;
}

static void device(struct lister *l, const char *scheme,
		   const struct usb_port_line *p)
{
	char path[256], cls[64] = "-", product[128] = "";
	ssize_t dn, sn;

	snprintf(path, sizeof(path), "%.63s:%s/descriptors", scheme, p->port);
	dn = usb_read_file(&l->in, path, l->desc, sizeof(l->desc));
	if (dn >= 0)
		usb_device_classes(l->desc, (size_t)dn, cls, sizeof(cls));
	snprintf(path, sizeof(path), "%.63s:%s/strings", scheme, p->port);
	sn = usb_read_file(&l->in, path, l->strings, STRINGS_MAX);
	if (sn >= 0) {
		l->strings[sn] = 0;
		usb_strings_get(l->strings, "product", product, sizeof(product));
	}
	printf("  %-9s %-11s %-6s %-10s %-13s %-9s %s\n", p->port, p->state,
	       p->speed, p->id, cls, p->driver, product);
	if (l->verbose && dn >= 0)
		usb_desc_print(stdout, l->desc, (size_t)dn, "    ");
	else if (l->verbose)
		printf("    (descriptors: %s)\n", strerror((int)-dn));
}

static int list_scheme(struct lister *l, const char *scheme)
{
	char path[NAME_LEN + 2], *line, *save = NULL;
	ssize_t n;
	int bad = 0;

	snprintf(path, sizeof(path), "%.63s:", scheme);
	n = usb_read_file(&l->in, path, l->listing, LISTING_MAX);
	if (n < 0) {
		fprintf(stderr, "rxuctl: usb: read %s: %s\n", path,
			strerror((int)-n));
		return (int)n;
	}
	l->listing[n] = 0;
	printf("%s\n  %-9s %-11s %-6s %-10s %-13s %-9s %s\n", scheme, "PORT",
	       "STATE", "SPEED", "ID", "CLASS", "DRIVER", "PRODUCT");
	for (line = strtok_r(l->listing, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct usb_port_line p;

		if (usb_parse_port_line(line, &p)) {
			bad++;
			continue;
		}
		if (!strcmp(p.state, "empty"))
			printf("  %-9s %s\n", p.port, p.state);
		else
			device(l, scheme, &p);
	}
	if (bad)
		fprintf(stderr, "rxuctl: usb: %d line(s) of %s not understood\n",
			bad, path);
	return 0;
}

int rxuctl_usb(int argc, char **argv, const char *proc)
{
	static struct lister l;
	char names[MAX_SCHEMES][NAME_LEN];
	int i, n = 0, r, failed = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			l.verbose = 1;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "rxuctl: usb: unknown option %s\n", argv[i]);
			return 2;
		} else if (n < MAX_SCHEMES) {
			snprintf(names[n++], NAME_LEN, "%s", argv[i]);
		}
	}
	if (!n) {
		n = find_schemes(proc, names);
		if (n < 0) {
			fprintf(stderr, "rxuctl: usb: %s: %s\n", proc,
				strerror(-n));
			return 1;
		}
	}
	if (!n) {
		printf("(no usb scheme registered)\n");
		return 0;
	}
	r = rxu_setup(&l.in, 8, 8, 0);
	if (r) {
		fprintf(stderr, "rxuctl: usb: open " RXU_DEVICE_PATH ": %s\n",
			strerror(-r));
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (i)
			putchar('\n');
		failed |= list_scheme(&l, names[i]) != 0;
	}
	rxu_instance_close(&l.in);
	return failed;
}
