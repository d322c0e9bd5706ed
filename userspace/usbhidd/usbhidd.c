// SPDX-License-Identifier: MIT
/*
 * usbhidd: a USB HID driver on `usb:` (rxu_usb.h): keyboards, mice and
 * absolute pointers such as QEMU's usb-tablet.
 *
 *	usbhidd [--uinput] [--report-protocol] [--scheme S] [--port P]
 *		[--interface N] [--token T] [SCHEME PORT INTERFACE]
 *
 * xhcid spawns it for every HID interface (rule xhcid.d/usbhid.conf) with
 * XHCID_SCHEME, XHCID_PORT, XHCID_INTERFACE and XHCID_TOKEN in its
 * environment; the options (or the three words, as a rule's
 * "usbhidd $SCHEME $PORT $INTERFACE" gives them) override them; the token
 * is needed for the request and endpoint files.
 *
 * Top-down:
 *  1. read "<S>:<P>/descriptors" and find the interface, its HID
 *     descriptor (report descriptor length) and interrupt IN endpoint;
 *  2. on "<S>:<P>/request": a boot keyboard or mouse (subclass 1,
 *     protocol 1 or 2) is put in boot protocol (SET_PROTOCOL 0), unless
 *     --report-protocol; any other gets its report descriptor read
 *     (GET_DESCRIPTOR, type Report) and parsed (hid.c); then SET_IDLE 0,
 *     so that the device reports on change only (a STALL there is fine:
 *     the request is optional for mice);
 *  3. READ "<S>:<P>/ep<AA>" in a loop, one report per READ, decode it
 *     (boot.c or hid.c), print its events (event.c) and, with --uinput,
 *     feed them to Linux (uinput.c).
 * Every operation is one SQE on a kernel ring and one ENTER; usbhidd
 * blocks nowhere else.
 *
 * Output (stdout, line-buffered; docs/usbhid.md):
 *	ready <port> interface <n> <kind> <boot|report> ep<AA>
 *	key down KEY_A | key up KEY_A | button left down | rel x=5 y=-3
 *	abs x=16383 y=16383 | detached
 * Exit status: 0 after "detached" (the device went away: ENODEV) or
 * "stopped" (SIGTERM or SIGINT: xhcid stops its drivers that way on a
 * detach); 1 on any other error (a message on stderr); 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hid.h"
#include "rxu.h"
#include "rxu_usb.h"
#include "uinput.h"
#include "../tools/usb-desc.h"
#include "../tools/usb-io.h"

#define DESC_MAX	65536
#define REPORT_DESC_MAX	RXU_USB_CONTROL_MAX
#define PATH_MAX_LEN	512
#define EPIPE_RETRIES	3

/* HID class requests (HID 1.11 section 7.2), type class|interface. */
#define HID_REQ_SET_IDLE	0x0a
#define HID_REQ_SET_PROTOCOL	0x0b
#define REQ_OUT_CLASS_IFACE	0x21
#define REQ_IN_STD_IFACE	0x81
#define REQ_GET_DESCRIPTOR	0x06

enum mode { MODE_REPORT, MODE_BOOT_KBD, MODE_BOOT_MOUSE };

struct hidd {
	struct rxu_instance in;
	const char *scheme, *port, *token;
	unsigned int iface;
	int use_uinput, force_report;

	struct usb_iface_info info;
	enum mode mode;
	int req_fd, ep_fd;

	struct hid_layout layout;
	struct hid_state st;
	struct hid_keys keys;
	struct hid_boot_mouse mouse;
	struct hid_uinput ui;
};

static const char *prog = "usbhidd";

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
		"usage: %s [--uinput] [--report-protocol] [--scheme S] [--port P]\n"
		"       [--interface N] [--token T] [SCHEME PORT INTERFACE]\n"
		"Drives one HID interface of a device on `usb:`; the defaults come from\n"
		"the environment xhcid gives (%s %s %s %s).\n",
		prog, RXU_USB_ENV_SCHEME, RXU_USB_ENV_PORT,
		RXU_USB_ENV_INTERFACE, RXU_USB_ENV_TOKEN);
	exit(2);
}

static void __attribute__((noreturn)) die(struct hidd *h, int err,
					  const char *fmt, ...)
{
	va_list ap;

	if (err == -ENODEV) {		/* unplugged: an orderly end */
		printf("detached\n");
		fflush(stdout);
		fprintf(stderr, "%s: %s: device detached\n", prog, h->port);
		exit(0);
	}
	fprintf(stderr, "%s: %s: ", prog, h->port ? h->port : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(-err));
	exit(1);
}

/* "<scheme>:<port>/<file>[?token=T]" */
static void dev_path(const struct hidd *h, char *buf, size_t size,
		     const char *file, int with_token)
{
	snprintf(buf, size, "%s:%s/%s%s%s", h->scheme, h->port, file,
		 with_token ? RXU_USB_TOKEN_SUFFIX : "",
		 with_token ? h->token : "");
}

/* One control transfer on EP0: the bytes of the data stage, or -errno. */
static ssize_t control(struct hidd *h, uint8_t type, uint8_t req,
		       uint16_t value, uint16_t index, void *data,
		       uint16_t len)
{
	uint8_t pkt[8 + REPORT_DESC_MAX];
	size_t n = 8;
	ssize_t r;

	pkt[0] = type;
	pkt[1] = req;
	pkt[2] = value & 0xff;
	pkt[3] = value >> 8;
	pkt[4] = index & 0xff;
	pkt[5] = index >> 8;
	pkt[6] = len & 0xff;
	pkt[7] = len >> 8;
	if (len > REPORT_DESC_MAX)
		return -EMSGSIZE;
	if (!(type & RXU_USB_DIR_IN) && len) {
		memcpy(pkt + 8, data, len);
		n += len;
	}
	r = usb_ring_write(&h->in, h->req_fd, pkt, n);
	if (r < 0)
		return r;
	if (!(type & RXU_USB_DIR_IN))
		return 0;
	return usb_ring_read(&h->in, h->req_fd, data, len);
}

static void find_interface(struct hidd *h)
{
	static uint8_t desc[DESC_MAX];
	char path[PATH_MAX_LEN];
	ssize_t n;
	int r;

	dev_path(h, path, sizeof(path), "descriptors", 0);
	n = usb_read_file(&h->in, path, desc, sizeof(desc));
	if (n < 0)
		die(h, (int)n, "read %s", path);
	r = usb_find_interface(desc, (size_t)n, h->iface, &h->info);
	if (r)
		die(h, r, "interface %u in %s", h->iface, path);
	if (h->info.cls != USB_CLASS_HID)
		die(h, -ENOTSUP, "interface %u is class %02x, not HID",
		    h->iface, h->info.cls);
	if (!h->info.ep_in)
		die(h, -ENOENT, "interface %u has no interrupt IN endpoint",
		    h->iface);
}

static void read_report_descriptor(struct hidd *h)
{
	static uint8_t rd[REPORT_DESC_MAX];
	uint16_t len = h->info.report_len;
	ssize_t n;
	int r;

	if (!len || len > sizeof(rd))
		die(h, -EINVAL, "report descriptor length %u", len);
	n = control(h, REQ_IN_STD_IFACE, REQ_GET_DESCRIPTOR,
		    USB_DT_REPORT << 8, h->iface, rd, len);
	if (n < 0)
		die(h, (int)n, "GET_DESCRIPTOR(Report)");
	r = hid_parse(rd, (size_t)n, &h->layout);
	if (r)
		die(h, r, "report descriptor (%zd bytes)", n);
}

static const char *kind(const struct hidd *h, unsigned int *caps)
{
	if (h->mode == MODE_BOOT_KBD) {
		*caps = HID_HAS_KEYS;
		return "keyboard";
	}
	if (h->mode == MODE_BOOT_MOUSE) {
		*caps = HID_HAS_BUTTONS | HID_HAS_REL;
		return "mouse";
	}
	*caps = hid_layout_caps(&h->layout);
	if (*caps & HID_HAS_KEYS)
		return "keyboard";
	if (*caps & HID_HAS_ABS)
		return "tablet";
	return "mouse";
}

static void setup(struct hidd *h)
{
	char path[PATH_MAX_LEN], name[80];
	unsigned int caps;
	const char *k;
	ssize_t r;
	int boot = h->info.subclass == 1 &&
		   (h->info.protocol == 1 || h->info.protocol == 2);

	dev_path(h, path, sizeof(path), "request", 1);
	h->req_fd = usb_ring_open(&h->in, path, O_RDWR);
	if (h->req_fd < 0)
		die(h, h->req_fd, "open %s:%s/request", h->scheme, h->port);
	if (boot && !h->force_report) {
		h->mode = h->info.protocol == 1 ? MODE_BOOT_KBD : MODE_BOOT_MOUSE;
		r = control(h, REQ_OUT_CLASS_IFACE, HID_REQ_SET_PROTOCOL, 0,
			    h->iface, NULL, 0);
		if (r < 0)
			die(h, (int)r, "SET_PROTOCOL(boot)");
	} else {
		h->mode = MODE_REPORT;
		read_report_descriptor(h);
	}
	r = control(h, REQ_OUT_CLASS_IFACE, HID_REQ_SET_IDLE, 0, h->iface,
		    NULL, 0);
	if (r < 0 && r != -EPIPE)
		die(h, (int)r, "SET_IDLE");

	snprintf(name, sizeof(name), "ep%02x", h->info.ep_in);
	dev_path(h, path, sizeof(path), name, 1);
	h->ep_fd = usb_ring_open(&h->in, path, O_RDONLY);
	if (h->ep_fd < 0)
		die(h, h->ep_fd, "open %s:%s/%s", h->scheme, h->port, name);

	k = kind(h, &caps);
	if (h->use_uinput) {
		snprintf(name, sizeof(name), "usbhidd %s %s", h->port, k);
		r = hid_uinput_open(&h->ui, name, h->info.vendor,
				    h->info.product, caps,
				    h->mode == MODE_REPORT ? &h->layout : NULL);
		if (r)
			die(h, (int)r, "uinput");
	}
	printf("ready %s interface %u %s %s ep%02x\n", h->port, h->iface, k,
	       h->mode == MODE_REPORT ? "report" : "boot", h->info.ep_in);
	fflush(stdout);
}

static void report(struct hidd *h, const uint8_t *rep, size_t len)
{
	struct hid_events evs = { 0 };
	char text[HID_MAX_EVENTS * 32];
	size_t n;
	int r;

	if (h->mode == MODE_BOOT_KBD)
		r = hid_boot_kbd_decode(&h->keys, rep, len, &evs);
	else if (h->mode == MODE_BOOT_MOUSE)
		r = hid_boot_mouse_decode(&h->mouse, rep, len, &evs);
	else
		r = hid_decode(&h->layout, &h->st, rep, len, &evs);
	if (r) {
		fprintf(stderr, "%s: %s: report of %zu bytes ignored: %s\n",
			prog, h->port, len, strerror(-r));
		return;
	}
	n = hid_events_format(&evs, text, sizeof(text));
	fwrite(text, 1, n < sizeof(text) ? n : sizeof(text) - 1, stdout);
	fflush(stdout);
	if (h->use_uinput) {
		r = hid_uinput_emit(&h->ui, &evs);
		if (r)
			fprintf(stderr, "%s: %s: uinput: %s\n", prog, h->port,
				strerror(-r));
	}
}

static void loop(struct hidd *h)
{
	uint8_t rep[HID_MAX_REPORT_BYTES];
	size_t len = h->info.ep_in_mps ? h->info.ep_in_mps : 8;
	unsigned int stalls = 0;
	ssize_t n;

	if (len > sizeof(rep))
		len = sizeof(rep);
	for (;;) {
		n = usb_ring_read(&h->in, h->ep_fd, rep, len);
		if (n == -EPIPE && ++stalls <= EPIPE_RETRIES)
			continue;	/* xhcid cleared the halt: retry */
		if (n < 0)
			die(h, (int)n, "read ep%02x", h->info.ep_in);
		stalls = 0;
		if (n)
			report(h, rep, (size_t)n);
	}
}

/*
 * SIGTERM/SIGINT: say so and end.  Every line was flushed when written,
 * and the kernel destroys the uinput device with its fd.
 */
static void on_stop(int sig)
{
	static const char msg[] = "stopped\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(0);
}

static void options(struct hidd *h, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "uinput", no_argument, NULL, 'u' },
		{ "report-protocol", no_argument, NULL, 'r' },
		{ "scheme", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "interface", required_argument, NULL, 'i' },
		{ "token", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *iface = getenv(RXU_USB_ENV_INTERFACE);
	char *end;
	int c;

	h->scheme = getenv(RXU_USB_ENV_SCHEME);
	h->port = getenv(RXU_USB_ENV_PORT);
	h->token = getenv(RXU_USB_ENV_TOKEN);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': h->use_uinput = 1; break;
		case 'r': h->force_report = 1; break;
		case 's': h->scheme = optarg; break;
		case 'p': h->port = optarg; break;
		case 'i': iface = optarg; break;
		case 't': h->token = optarg; break;
		default: usage();
		}
	}
	if (argc - optind == 3) {
		h->scheme = argv[optind];
		h->port = argv[optind + 1];
		iface = argv[optind + 2];
	} else if (optind != argc) {
		usage();
	}
	if (!h->scheme)
		h->scheme = RXU_USB_SCHEME;
	if (!h->port || !h->token || !iface) {
		fprintf(stderr, "%s: needs a port, an interface and a token\n",
			prog);
		usage();
	}
	errno = 0;
	h->iface = (unsigned int)strtoul(iface, &end, 10);
	if (errno || end == iface || *end || h->iface > 255) {
		fprintf(stderr, "%s: bad interface %s\n", prog, iface);
		usage();
	}
}

int main(int argc, char **argv)
{
	static struct hidd h = { .req_fd = -1, .ep_fd = -1, .ui = { -1 } };
	int r;

	options(&h, argc, argv);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	r = rxu_setup(&h.in, 8, 8, 0);
	if (r)
		die(&h, r, "open " RXU_DEVICE_PATH);
	find_interface(&h);
	setup(&h);
	loop(&h);
	return 0;
}
