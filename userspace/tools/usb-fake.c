// SPDX-License-Identifier: MIT
/*
 * usb-fake: a stand-in for xhcid in tests of `usb:` clients (usbhidd,
 * `rxuctl usb`): it serves the paths of rxu_usb.h for canned devices,
 * with no controller behind them.
 *
 *	usb-fake [-n NAME] [-t TOKEN]
 *
 * Registers scheme NAME (default "usb.fake") and serves
 *	port1	QEMU's usb-kbd (boot keyboard), driver "usbhid"
 *	port2	QEMU's usb-tablet (report protocol), driver "usbhid"
 *	port3	empty
 *	port4	QEMU's usb-storage, driver "-"
 * with the descriptors Linux read from those devices (tests/usb-devices.h):
 * the listing, portN (directory), descriptors, strings, state, endpoints,
 * request (control transfers: GET_DESCRIPTOR of the device, configuration
 * and HID report; class requests are taken and logged; SET_ADDRESS,
 * SET_CONFIGURATION, SET_INTERFACE are EPERM) and ep81 of the HID ports
 * (a READ waits for a report).  The errors are those of rxu_usb.h.
 * Two more files drive it from a test:
 *	NAME:control	WRITE "report PORT HEX" (the next report of PORT's
 *			ep81), "detach PORT" (reads in flight and every later
 *			op on that port: ENODEV), "stall PORT" (the next
 *			ep81 READ: EPIPE)
 *	NAME:log	READ: one line per control request taken,
 *			"portN TYPE REQ VALUE INDEX LENGTH" (hex)
 * SIGTERM ends it.  "usb-fake: serving NAME:" on stdout says it is ready.
 */
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "rxu.h"
#include "rxu_usb.h"
#include "../tests/usb-devices.h"

#define NPORTS		4
#define MAX_HANDLES	256
#define MAX_QUEUED	16
#define MAX_PENDING	4
#define REPORT_MAX	64
#define TEXT_MAX	8192
#define DATA_SIZE_PARAM	"/sys/module/redox_uring/parameters/scheme_data_size"

enum file {
	F_LISTING, F_CONTROL, F_LOG, F_DIR, F_DESCRIPTORS, F_STRINGS, F_STATE,
	F_ENDPOINTS, F_REQUEST, F_EP,
};

struct port {
	const char *speed, *cls, *driver, *product;
	const uint8_t *desc, *report;
	size_t desc_len, report_len;
	int hid, detached, stall;
	uint8_t queue[MAX_QUEUED][REPORT_MAX];	/* reports not yet read */
	size_t qlen[MAX_QUEUED];
	unsigned int qhead, qn;
	struct { uint64_t user_data, addr, len; } pending[MAX_PENDING];
	unsigned int npending;
};

struct handle {
	int used;
	enum file file;
	int port;		/* 0-based, -1 for scheme-wide files */
	uint64_t pos;
	uint8_t in[RXU_USB_CONTROL_MAX];	/* an IN request's data stage */
	size_t in_len;
};

struct fake {
	struct rxu_reactor *r;
	int ring;
	uint8_t *region;
	uint64_t region_size;
	const char *token;
	struct port ports[NPORTS];
	struct handle h[MAX_HANDLES];
	char log[TEXT_MAX];
	size_t log_len;
};

static void ports_init(struct fake *f)
{
	struct port *p = f->ports;

	p[0] = (struct port){
		.speed = "high", .cls = "00/00/00", .driver = "usbhid",
		.product = "QEMU USB Keyboard", .hid = 1,
		.desc = qemu_kbd_desc, .desc_len = sizeof(qemu_kbd_desc),
		.report = qemu_kbd_report, .report_len = sizeof(qemu_kbd_report),
	};
	p[1] = (struct port){
		.speed = "high", .cls = "00/00/00", .driver = "usbhid",
		.product = "QEMU USB Tablet", .hid = 1,
		.desc = qemu_tablet_desc, .desc_len = sizeof(qemu_tablet_desc),
		.report = qemu_tablet_report,
		.report_len = sizeof(qemu_tablet_report),
	};
	p[3] = (struct port){
		.speed = "high", .cls = "00/00/00", .driver = "-",
		.product = "QEMU USB HARDDRIVE",
		.desc = qemu_storage_desc, .desc_len = sizeof(qemu_storage_desc),
	};
}

static int present(const struct port *p)
{
	return p->desc && !p->detached;
}

/* ---- text files ---- */

static size_t listing(struct fake *f, char *t)
{
	size_t n = 0;
	int i;

	for (i = 0; i < NPORTS; i++) {
		const struct port *p = &f->ports[i];

		if (!present(p))
			n += (size_t)snprintf(t + n, TEXT_MAX - n,
					      "port%d empty - - - -\n", i + 1);
		else
			n += (size_t)snprintf(t + n, TEXT_MAX - n,
					      "port%d configured %s %02x%02x:%02x%02x %s %s\n",
					      i + 1, p->speed, p->desc[9], p->desc[8],
					      p->desc[11], p->desc[10], p->cls,
					      p->driver);
	}
	return n;
}

/* The bytes a READ of handle h sees (text made afresh), into t. */
static size_t contents(struct fake *f, struct handle *h, char *t,
		       const void **bytes)
{
	const struct port *p = h->port >= 0 ? &f->ports[h->port] : NULL;

	*bytes = t;
	switch (h->file) {
	case F_LISTING:
		return listing(f, t);
	case F_LOG:
		memcpy(t, f->log, f->log_len);
		return f->log_len;
	case F_DIR:
		return (size_t)snprintf(t, TEXT_MAX, "descriptors\nstrings\nstate\n"
					"endpoints\nrequest\nconfigure\n%s",
					p->hid ? "ep81\n" : "ep81\nep02\n");
	case F_DESCRIPTORS:
		*bytes = p->desc;
		return p->desc_len;
	case F_STRINGS:
		return (size_t)snprintf(t, TEXT_MAX, "manufacturer=QEMU\n"
					"product=%s\nserial=fake%d\n",
					p->product, h->port + 1);
	case F_STATE:
		return (size_t)snprintf(t, TEXT_MAX,
					"configured %s slot=%d address=%d config=1\n",
					p->speed, h->port + 1, h->port + 1);
	case F_ENDPOINTS:
		if (p->hid)
			return (size_t)snprintf(t, TEXT_MAX,
						"ep81 interrupt in mps=8 interval=7 interface=0 running\n");
		return (size_t)snprintf(t, TEXT_MAX,
					"ep81 bulk in mps=64 interval=0 interface=0 running\n"
					"ep02 bulk out mps=64 interval=0 interface=0 running\n");
	default:
		return 0;
	}
}

/* ---- opening ---- */

static int port_number(const char *s, size_t len)
{
	int n = 0;
	size_t i;

	if (len < 5 || strncmp(s, "port", 4))
		return -ENOENT;
	for (i = 4; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || n > 1000)
			return -ENOENT;
		n = n * 10 + s[i] - '0';
	}
	return n >= 1 && n <= NPORTS ? n - 1 : -ENOENT;
}

static int64_t op_open(struct fake *f, const struct rxu_sqe64 *sqe)
{
	static const struct { const char *name; enum file file; int token; } files[] = {
		{ "descriptors", F_DESCRIPTORS, 0 }, { "strings", F_STRINGS, 0 },
		{ "state", F_STATE, 0 }, { "endpoints", F_ENDPOINTS, 0 },
		{ "request", F_REQUEST, 1 }, { "ep81", F_EP, 1 },
	};
	char path[256], *tok, *slash;
	const char *s;
	struct handle *h;
	int i, port = -1, need_token = 0;
	enum file file;

	s = rxu_region_ptr(f->region, f->region_size, sqe->addr, sqe->len);
	if (!s)
		return -EFAULT;
	if (sqe->len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, s, (size_t)sqe->len);
	path[sqe->len] = 0;
	s = path;
	while (*s == '/')
		s++;
	tok = strstr(path, RXU_USB_TOKEN_SUFFIX);
	if (tok) {
		*tok = 0;
		tok += strlen(RXU_USB_TOKEN_SUFFIX);
	}
	if (!*s) {
		file = F_LISTING;
	} else if (!strcmp(s, "control")) {
		file = F_CONTROL;
	} else if (!strcmp(s, "log")) {
		file = F_LOG;
	} else {
		slash = strchr(s, '/');
		port = port_number(s, slash ? (size_t)(slash - s) : strlen(s));
		if (port < 0)
			return port;
		if (!slash) {
			file = F_DIR;
		} else {
			for (i = 0; i < (int)(sizeof(files) / sizeof(*files)); i++)
				if (!strcmp(slash + 1, files[i].name))
					break;
			if (i == (int)(sizeof(files) / sizeof(*files)))
				return -ENOENT;
			file = files[i].file;
			need_token = files[i].token;
		}
		if (!present(&f->ports[port]))
			return -ENODEV;
		if (file == F_EP && !f->ports[port].hid)
			return -ENOENT;
	}
	if (need_token && (!tok || strcmp(tok, f->token)))
		return -EACCES;
	for (i = 0; i < MAX_HANDLES && f->h[i].used; i++)
		;
	if (i == MAX_HANDLES)
		return -EMFILE;
	h = &f->h[i];
	memset(h, 0, sizeof(*h));
	*h = (struct handle){ .used = 1, .file = file, .port = port };
	return i;
}

/* ---- control transfers and the control file ---- */

static void log_request(struct fake *f, int port, const uint8_t *s)
{
	if (f->log_len + 64 > sizeof(f->log))
		return;
	f->log_len += (size_t)snprintf(f->log + f->log_len,
				       sizeof(f->log) - f->log_len,
				       "port%d %02x %02x %04x %04x %u\n", port + 1,
				       s[0], s[1], s[2] | s[3] << 8,
				       s[4] | s[5] << 8, s[6] | s[7] << 8);
}

static int64_t request(struct fake *f, struct handle *h, const uint8_t *b,
		       uint64_t len)
{
	const struct port *p = &f->ports[h->port];
	uint16_t value, index, wlen;
	const uint8_t *src = NULL;
	size_t n = 0;

	if (len < 8)
		return -EINVAL;
	value = (uint16_t)(b[2] | b[3] << 8);
	index = (uint16_t)(b[4] | b[5] << 8);
	wlen = (uint16_t)(b[6] | b[7] << 8);
	if (wlen > RXU_USB_CONTROL_MAX)
		return -EMSGSIZE;
	if ((b[0] & RXU_USB_DIR_IN) ? len != 8 : len != 8u + wlen)
		return -EINVAL;
	if (!(b[0] & 0x60) && (b[1] == 0x05 || b[1] == 0x09 ||
			       (b[1] == 0x0b && (b[0] & 0x1f) == 1)))
		return -EPERM;
	log_request(f, h->port, b);
	h->in_len = 0;
	if (!(b[0] & RXU_USB_DIR_IN))
		return (int64_t)len;
	if (b[1] == 0x06 && b[0] == 0x80 && value >> 8 == 1) {
		src = p->desc;
		n = 18;
	} else if (b[1] == 0x06 && b[0] == 0x80 && value >> 8 == 2) {
		src = p->desc + 18;
		n = p->desc_len - 18;
	} else if (b[1] == 0x06 && b[0] == 0x81 && value >> 8 == 0x22 &&
		   p->report && index == 0) {
		src = p->report;
		n = p->report_len;
	} else {
		return -EPIPE;		/* the device stalls what it lacks */
	}
	h->in_len = n < wlen ? n : wlen;
	memcpy(h->in, src, h->in_len);
	return (int64_t)len;
}

static int hexbytes(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned int v;

	while (*s == ' ')
		s++;
	while (*s && *s != '\n') {
		if (n == cap || sscanf(s, "%2x", &v) != 1 || !s[1])
			return -EINVAL;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n ? (int)n : -EINVAL;
}

static void answer_pending(struct fake *f, struct port *p, int64_t err)
{
	while (p->npending && (err || p->qn)) {
		uint64_t ud = p->pending[0].user_data;
		int64_t res = err;

		if (!err) {
			size_t n = p->qlen[p->qhead];
			uint8_t *dst = rxu_region_ptr(f->region, f->region_size,
						      p->pending[0].addr,
						      p->pending[0].len);

			if (n > p->pending[0].len)
				n = (size_t)p->pending[0].len;
			if (dst)
				memcpy(dst, p->queue[p->qhead], n);
			res = dst ? (int64_t)n : -EFAULT;
			p->qhead = (p->qhead + 1) % MAX_QUEUED;
			p->qn--;
		}
		p->npending--;
		memmove(p->pending, p->pending + 1,
			p->npending * sizeof(p->pending[0]));
		rxu_reactor_respond(f->r, f->ring, ud, res);
	}
}

static int64_t control_write(struct fake *f, const char *b, uint64_t len)
{
	char cmd[512], what[16];
	int port, n, off = 0;
	struct port *p;

	if (len >= sizeof(cmd))
		return -EINVAL;
	memcpy(cmd, b, (size_t)len);
	cmd[len] = 0;
	if (sscanf(cmd, "%15s port%d %n", what, &port, &off) < 2 || !off ||
	    port < 1 || port > NPORTS)
		return -EINVAL;
	p = &f->ports[port - 1];
	if (!strcmp(what, "detach")) {
		p->detached = 1;
		answer_pending(f, p, -ENODEV);
	} else if (!strcmp(what, "stall")) {
		p->stall = 1;
	} else if (!strcmp(what, "report") && p->hid) {
		unsigned int slot = (p->qhead + p->qn) % MAX_QUEUED;

		if (p->qn == MAX_QUEUED)
			return -ENOSPC;
		n = hexbytes(cmd + off, p->queue[slot], REPORT_MAX);
		if (n < 0)
			return n;
		p->qlen[slot] = (size_t)n;
		p->qn++;
		answer_pending(f, p, 0);
	} else {
		return -EINVAL;
	}
	return (int64_t)len;
}

/* ---- reads and writes ---- */

/* 1 when the READ was kept for later (a report will answer it). */
static int ep_read(struct fake *f, struct handle *h,
		   const struct rxu_sqe64 *sqe, int64_t *res)
{
	struct port *p = &f->ports[h->port];

	if (sqe->len > RXU_USB_TRANSFER_MAX) {
		*res = -EMSGSIZE;
		return 0;
	}
	if (p->stall) {
		p->stall = 0;
		*res = -EPIPE;
		return 0;
	}
	if (p->npending == MAX_PENDING) {
		*res = -EBUSY;
		return 0;
	}
	p->pending[p->npending].user_data = sqe->user_data;
	p->pending[p->npending].addr = sqe->addr;
	p->pending[p->npending].len = sqe->len;
	p->npending++;
	answer_pending(f, p, 0);
	return 1;
}

static int op_rw(struct fake *f, const struct rxu_sqe64 *sqe, int64_t *res)
{
	static char text[TEXT_MAX];
	struct handle *h = sqe->fd < MAX_HANDLES ? &f->h[sqe->fd] : NULL;
	int write = sqe->opcode == RXU_OP_WRITE;
	uint8_t *buf;
	const void *src;
	size_t n;

	*res = 0;
	if (!h || !h->used) {
		*res = -EBADF;
		return 0;
	}
	buf = rxu_region_ptr(f->region, f->region_size, sqe->addr, sqe->len);
	if (!buf && sqe->len) {
		*res = -EFAULT;
		return 0;
	}
	if (h->port >= 0 && !present(&f->ports[h->port])) {
		*res = -ENODEV;
		return 0;
	}
	if (h->file == F_CONTROL) {
		*res = write ? control_write(f, (char *)buf, sqe->len) : -EBADF;
		return 0;
	}
	if (h->file == F_REQUEST) {
		if (write) {
			*res = request(f, h, buf, sqe->len);
			return 0;
		}
		n = h->in_len < sqe->len ? h->in_len : (size_t)sqe->len;
		memcpy(buf, h->in, n);
		h->in_len = 0;
		*res = (int64_t)n;
		return 0;
	}
	if (h->file == F_EP) {
		if (write) {
			*res = -EBADF;
			return 0;
		}
		return ep_read(f, h, sqe, res);
	}
	if (write) {
		*res = -EBADF;
		return 0;
	}
	n = contents(f, h, text, &src);
	if (h->pos < n) {
		size_t k = n - h->pos < sqe->len ? n - h->pos : (size_t)sqe->len;

		memcpy(buf, (const uint8_t *)src + h->pos, k);
		h->pos += k;
		*res = (int64_t)k;
	}
	if (!*res && sqe->opcode == RXU_OP_READ)
		h->pos = 0;	/* the next read at 0 makes the text afresh */
	return 0;
}

static void on_sqe(struct rxu_reactor *r, int ring, const struct rxu_sqe64 *sqe,
		   void *ctx)
{
	struct fake *f = ctx;
	int64_t res = -ENOSYS;
	int kept = 0;

	if (!sqe) {
		rxu_reactor_stop(r);
		return;
	}
	switch (sqe->opcode) {
	case RXU_OP_OPEN:
		res = op_open(f, sqe);
		break;
	case RXU_OP_READ:
	case RXU_OP_WRITE:
		kept = op_rw(f, sqe, &res);
		break;
	case RXU_OP_CLOSE:
		res = sqe->fd < MAX_HANDLES && f->h[sqe->fd].used ? 0 : -EBADF;
		if (!res)
			f->h[sqe->fd].used = 0;
		break;
	default:
		break;
	}
	if (kept)
		return;
	rxu_reactor_respond(r, ring, sqe->user_data, res);
	if (sqe->opcode == RXU_OP_OPEN && res >= 0) {
		const struct rxu_cqe64 ev = {
			.user_data = (uint64_t)res,
			.flags = RXU_CQE_EVENT |
				 (uint64_t)(RXU_EVENT_READ | RXU_EVENT_WRITE)
				 << RXU_CQE_EVENT_SHIFT,
		};

		rxu_reactor_post(r, ring, &ev);
	}
}

static uint64_t data_region_size(void)
{
	unsigned long long v = 0;
	FILE *fp = fopen(DATA_SIZE_PARAM, "re");

	if (fp) {
		if (fscanf(fp, "%llu", &v) != 1)
			v = 0;
		fclose(fp);
	}
	return v ? v : 1024 * 1024;
}

int main(int argc, char **argv)
{
	static struct fake f;
	struct rxu_instance prim, prov;
	const char *name = "usb.fake";
	char attach[80];
	int opt, r;

	f.token = "0123456789abcdef0123456789abcdef";
	while ((opt = getopt(argc, argv, "n:t:")) != -1) {
		if (opt == 'n')
			name = optarg;
		else if (opt == 't')
			f.token = optarg;
		else
			return 2;
	}
	ports_init(&f);
	r = rxu_setup(&prim, 16, 64, 0);
	if (!r)
		r = rxu_instance_open(&prov);
	if (!r)
		r = rxu_instance_create(&prov, 64, 64, 0);
	if (!r)
		r = rxu_instance_map(&prov);
	snprintf(attach, sizeof(attach), ":%s", name);
	if (!r)
		r = rxu_instance_attach(&prov, attach);
	if (r) {
		fprintf(stderr, "usb-fake: register %s: %s\n", attach, strerror(-r));
		return 1;
	}
	f.region_size = data_region_size();
	f.region = mmap(NULL, (size_t)f.region_size, PROT_READ | PROT_WRITE,
			MAP_SHARED, prov.fd, (off_t)RXU_OFF_SCHEME_DATA);
	if (f.region == MAP_FAILED) {
		perror("usb-fake: data region");
		return 1;
	}
	r = rxu_reactor_create(&f.r, &prim, 256);
	if (!r) {
		f.ring = rxu_reactor_add_producer(f.r, &prov, 32, on_sqe, &f);
		r = f.ring < 0 ? f.ring : 0;
	}
	if (r) {
		fprintf(stderr, "usb-fake: reactor: %s\n", strerror(-r));
		return 1;
	}
	printf("usb-fake: serving %s:\n", name);
	fflush(stdout);
	r = rxu_reactor_run(f.r);
	return r ? 1 : 0;
}
