// SPDX-License-Identifier: MIT
/*
 * scheme.c - usb: (rxu_usb.h part A, the paths) on librxu's provider
 * framework (rxu_scheme.h).
 *
 * Every handle names a port and the generation of the device that was
 * there when it was opened, so a handle outlives its device safely: once
 * the device is detached every call on it is -ENODEV.  Transfers are
 * deferred answers: READ/WRITE of an endpoint or the request file queue
 * a transfer whose completion replies.  Configure requests issue
 * commands and wait, so they are queued to the top-level loop
 * (xhcid_scheme_work).  Listing handles get an EVENT on every change.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxu_scheme.h"
#include "xhcid_scheme.h"
#include "xhcid_spawn.h"

enum uh_kind {
	UH_LIST, UH_DIR, UH_DESC, UH_STRINGS, UH_STATE, UH_ENDPOINTS,
	UH_REQUEST, UH_CONFIGURE, UH_EP,
};

static const char *const file_names[] = {
	[UH_DESC] = "descriptors", [UH_STRINGS] = "strings",
	[UH_STATE] = "state", [UH_ENDPOINTS] = "endpoints",
	[UH_REQUEST] = "request", [UH_CONFIGURE] = "configure",
};

struct uh;
struct uh {
	enum uh_kind kind;
	unsigned int port;
	uint64_t gen;
	uint8_t ep;			/* UH_EP: bEndpointAddress */
	struct uh *next_list;		/* UH_LIST handles */
	struct rxu_scheme_handle *h;	/* UH_LIST: for its EVENTs */
	/* one transfer in flight per handle */
	struct xfer x;
	struct rxu_scheme_req *req;
	int busy, closed;
	int submitting, sync_done;	/* completed inside xfer_submit() */
	int64_t sync_result;
	/* UH_REQUEST: the data stage of the last IN request */
	uint8_t *in_data;
	uint32_t in_len;
	int in_valid;
};


static struct {
	struct xhc *hc;
	struct rxu_scheme *s[2];
	char name[2][80];
	char admin[RXU_USB_TOKEN_LEN + 1];
	char token_file[256];
	struct uh *lists;
	struct xhcid_work *work, *work_tail;
	int rules;			/* class-driver rules loaded */
} S;

static void on_change(struct xhc *hc, unsigned int port);

/* ---- helpers -------------------------------------------------------- */

static struct xdev *uh_dev(const struct uh *u)
{
	struct xdev *d;

	if (xhc_lookup(S.hc, u->port, &d))
		return NULL;
	return d && d->generation == u->gen && d->state != XDEV_EMPTY ? d : NULL;
}

static size_t port_line(char *b, size_t size, unsigned int id,
			struct xdev *d)
{
	char drv[128], name[32];

	xport_name(id, name, sizeof(name));
	if (!d)
		return (size_t)snprintf(b, size, "%s empty - - - -\n", name);
	if (d->state < XDEV_ADDRESSED || !d->desc)
		return (size_t)snprintf(b, size, "%s %s %s - - -\n", name,
					xdev_state_name(d->state),
					xdev_speed_name(d->speed));
	if (d->hub)
		snprintf(drv, sizeof(drv), "hub");
	else if (!spawn_names(id, d->generation, drv, sizeof(drv)))
		snprintf(drv, sizeof(drv), "-");
	return (size_t)snprintf(b, size, "%s %s %s %02x%02x:%02x%02x %02x/%02x/%02x %s\n",
				name, xdev_state_name(d->state),
				xdev_speed_name(d->speed), d->ddesc[9], d->ddesc[8],
				d->ddesc[11], d->ddesc[10], d->ddesc[4],
				d->ddesc[5], d->ddesc[6], drv);
}

/* The line of port id, then those of the hub ports behind it. */
static size_t port_lines(char *b, size_t size, unsigned int id,
			 struct xdev *d)
{
	size_t n = port_line(b, size, id, d);
	unsigned int p;

	if (!d || !d->hub || d->state != XDEV_CONFIGURED)
		return n < size ? n : size;
	for (p = 1; p <= d->hub->nports && n < size; p++)
		n += port_lines(b + n, size - n,
				RXU_USB_PORT_ID(d->root_port,
						d->route | p << (4 * d->depth)),
				d->hub->child[p]);
	return n < size ? n : size;
}

static const char *ep_type_name(uint8_t attr)
{
	static const char *const n[] = { "control", "isoch", "bulk", "interrupt" };

	return n[attr & 3];
}

static const char *ep_state_name(struct xdev *d, unsigned int dci)
{
	static const char *const n[] = { "disabled", "running", "halted",
					 "stopped", "error" };
	uint32_t st = EP_STATE(xctx_ep(&d->out, dci)[0]);

	return st < 5 ? n[st] : "error";
}

/* The text of a text file of u, in b; its length. */
static size_t text(const struct uh *u, struct xdev *d, char *b, size_t size)
{
	size_t n = 0;
	unsigned int i;

	switch (u->kind) {
	case UH_LIST:
		for (i = 1; i <= S.hc->max_ports && n < size; i++)
			n += port_lines(b + n, size - n, i, S.hc->port[i].dev);
		break;
	case UH_DIR:
		for (i = UH_DESC; i <= UH_CONFIGURE && n < size; i++)
			n += (size_t)snprintf(b + n, size - n, "%s\n", file_names[i]);
		for (i = 2; i < 32 && n < size; i++)
			if (d->ep[i].type)
				n += (size_t)snprintf(b + n, size - n, "ep%02x\n",
						      d->ep[i].addr);
		break;
	case UH_STRINGS:
		n = (size_t)snprintf(b, size, "manufacturer=%s\nproduct=%s\nserial=%s\n",
				     d->manufacturer, d->product, d->serial);
		break;
	case UH_STATE:
		n = (size_t)snprintf(b, size, "%s %s slot=%u address=%u config=%u\n",
				     xdev_state_name(d->state),
				     xdev_speed_name(d->speed), d->slot,
				     d->address, d->config);
		break;
	case UH_ENDPOINTS:
		for (i = 2; i < 32 && n < size; i++) {
			struct xep *e = &d->ep[i];

			if (!e->type)
				continue;
			n += (size_t)snprintf(b + n, size - n,
					      "ep%02x %s %s mps=%u interval=%u interface=%u %s\n",
					      e->addr, ep_type_name(e->attr),
					      e->addr & 0x80 ? "in" : "out", e->mps,
					      e->interval, e->iface,
					      ep_state_name(d, i));
		}
		break;
	case UH_CONFIGURE:
		n = (size_t)snprintf(b, size, "%u\n", d->config);
		break;
	default:
		break;
	}
	return n < size ? n : size;
}

/* ---- open ----------------------------------------------------------- */

int xhcid_token_ok(const struct xdev *d, const char *tok, size_t len)
{
	if (!tok || len != RXU_USB_TOKEN_LEN)
		return 0;
	return !memcmp(tok, S.admin, len) || !memcmp(tok, d->token, len);
}

int xhcid_check_setup(const struct rxu_usb_setup *s)
{
	if (s->wLength > RXU_USB_CONTROL_MAX)
		return -EMSGSIZE;
	if ((s->bmRequestType == 0x00 && (s->bRequest == 5 || s->bRequest == 9)) ||
	    (s->bmRequestType == 0x01 && s->bRequest == 11))
		return -EPERM;
	return 0;
}

void xhcid_queue_work(struct xhcid_work *w)
{
	w->next = NULL;
	if (S.work_tail)
		S.work_tail->next = w;
	else
		S.work = w;
	S.work_tail = w;
}

static int64_t u_open(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
		      const char *path, size_t len, uint64_t flags, uint32_t mode)
{
	char buf[256], *tok;
	const char *p, *rest;
	struct xdev *d;
	struct uh *u;
	unsigned int port, i;
	int kind = -1, need_token;
	uint8_t ep = 0;

	(void)req, (void)flags, (void)mode;
	if (len >= sizeof(buf) || memchr(path, 0, len))
		return -ENOENT;
	memcpy(buf, path, len);
	buf[len] = 0;
	tok = strstr(buf, RXU_USB_TOKEN_SUFFIX);
	if (tok) {
		*tok = 0;
		tok += strlen(RXU_USB_TOKEN_SUFFIX);
	}
	p = buf[0] == '/' ? buf + 1 : buf;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	if (!*p) {
		u->kind = UH_LIST;
		u->h = h;
		u->next_list = S.lists;
		S.lists = u;
		h->priv = u;
		return 0;
	}
	port = xport_parse(p, &rest);
	if (!port || (*rest && *rest != '/') || xhc_lookup(S.hc, port, &d))
		goto enoent;
	if (!d || d->state == XDEV_EMPTY) {
		free(u);
		return -ENODEV;
	}
	if (!*rest || !rest[1]) {
		kind = UH_DIR;
	} else {
		rest++;
		for (i = UH_DESC; i <= UH_CONFIGURE; i++)
			if (!strcmp(rest, file_names[i]))
				kind = (int)i;
		if (kind < 0 && !strncmp(rest, "ep", 2) && strlen(rest) == 4) {
			char *e;
			unsigned long a = strtoul(rest + 2, &e, 16);

			if (*e || !xdev_ep(d, (uint8_t)a) ||
			    (xdev_ep(d, (uint8_t)a)->attr & 3) == 0 ||
			    (xdev_ep(d, (uint8_t)a)->attr & 3) == 1)
				goto enoent;
			kind = UH_EP;
			ep = (uint8_t)a;
		}
	}
	if (kind < 0)
		goto enoent;
	need_token = kind == UH_REQUEST || kind == UH_CONFIGURE || kind == UH_EP;
	if (need_token && !xhcid_token_ok(d, tok, tok ? strlen(tok) : 0)) {
		free(u);
		return -EACCES;
	}
	u->kind = (enum uh_kind)kind;
	u->port = port;
	u->gen = d->generation;
	u->ep = ep;
	h->priv = u;
	return 0;
enoent:
	free(u);
	return -ENOENT;
}

static uint32_t u_ready(struct rxu_scheme_handle *h)
{
	struct uh *u = h->priv;

	return u->kind == UH_LIST ? 0 : RXU_EVENT_READ | RXU_EVENT_WRITE;
}

static void uh_free(struct uh *u)
{
	free(u->in_data);
	free(u);
}

static void u_close(struct rxu_scheme_req *req, struct rxu_scheme_handle *h)
{
	struct uh *u = h->priv, **pp;

	(void)req;
	if (!u)
		return;
	if (u->kind == UH_LIST)
		for (pp = &S.lists; *pp; pp = &(*pp)->next_list)
			if (*pp == u) {
				*pp = u->next_list;
				break;
			}
	if (u->busy)
		u->closed = 1;	/* freed when its transfer completes */
	else
		uh_free(u);
	h->priv = NULL;
}

static int64_t u_dup(struct rxu_scheme_req *req, struct rxu_scheme_handle *old,
		     struct rxu_scheme_handle *nh, const void *param, size_t len)
{
	struct uh *o = old->priv, *u;

	(void)req, (void)param;
	if (len)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->kind = o->kind;
	u->port = o->port;
	u->gen = o->gen;
	u->ep = o->ep;
	if (u->kind == UH_LIST) {
		u->h = nh;
		u->next_list = S.lists;
		S.lists = u;
	}
	nh->priv = u;
	return 0;
}

static int64_t u_size(struct rxu_scheme_handle *h)
{
	struct uh *u = h->priv;
	struct xdev *d = uh_dev(u);

	if (u->kind == UH_DESC)
		return d ? (int64_t)d->desc_len : -ENODEV;
	return 0;
}

/* ---- transfers ------------------------------------------------------ */

static void xfer_done(struct xhc *hc, struct xfer *x)
{
	struct uh *u = x->ctx;
	struct rxu_scheme_req *req = u->req;
	int64_t res;

	(void)hc;
	u->busy = 0;
	u->req = NULL;
	if (x->result)
		res = x->result;
	else if (u->kind == UH_REQUEST) {
		res = 8 + (x->dir_in ? 0 : x->len);
		if (x->dir_in) {
			u->in_len = x->actual;
			u->in_valid = 1;
		}
	} else {
		res = x->actual;
	}
	if (u->submitting) {
		u->sync_done = 1;
		u->sync_result = res;
		return;
	}
	if (req)
		rxu_scheme_reply(req, res);
	if (u->closed)
		uh_free(u);
}

/* Submit u->x: PENDING, or the result if it completed at once. */
static int64_t submit(struct rxu_scheme_req *req, struct uh *u)
{
	u->busy = 1;
	u->req = req;
	u->submitting = 1;
	u->sync_done = 0;
	xfer_submit(S.hc, &u->x);
	u->submitting = 0;
	return u->sync_done ? u->sync_result : RXU_SCHEME_PENDING;
}

static int64_t start_xfer(struct rxu_scheme_req *req, struct uh *u,
			  struct xdev *d, struct xep *ep, void *buf,
			  uint32_t len, int dir_in)
{
	if (u->busy)
		return -EBUSY;
	memset(&u->x, 0, sizeof(u->x));
	u->x.ep = ep;
	u->x.dir_in = dir_in;
	u->x.len = len;
	u->x.buf = buf;
	u->x.done = xfer_done;
	u->x.ctx = u;
	if (ep->dci != 1 && (ep->attr & 3) == 3 && dir_in)
		u->x.timeout_ms = UINT32_MAX;	/* HID: reports on change */
	(void)d;
	return submit(req, u);
}

static int64_t u_read(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
		      void *buf, uint64_t len, uint64_t off)
{
	struct uh *u = h->priv;
	struct xdev *d = u->kind == UH_LIST ? NULL : uh_dev(u);
	char t[8192];
	struct xep *ep;
	int64_t n;

	if (u->kind != UH_LIST && !d)
		return -ENODEV;
	switch (u->kind) {
	case UH_DESC:
		return rxu_scheme_copy_out(buf, len, off, d->desc, d->desc_len);
	case UH_REQUEST:
		if (!u->in_valid)
			return 0;
		n = rxu_scheme_copy_out(buf, len, 0, u->in_data, u->in_len);
		u->in_valid = 0;
		return n;
	case UH_EP:
		ep = xdev_ep(d, u->ep);
		if (!ep)
			return -ENODEV;
		if (!(u->ep & RXU_USB_DIR_IN))
			return -EBADF;
		if (len > RXU_USB_TRANSFER_MAX)
			return -EMSGSIZE;
		return start_xfer(req, u, d, ep, buf, (uint32_t)len, 1);
	default:
		return rxu_scheme_copy_out(buf, len, off, t, text(u, d, t, sizeof(t)));
	}
}

static int64_t write_request(struct rxu_scheme_req *req, struct uh *u,
			     struct xdev *d, const uint8_t *buf, uint64_t len)
{
	struct rxu_usb_setup s;
	int in, rc;

	if (len < 8)
		return -EINVAL;
	memcpy(&s, buf, 8);
	in = !!(s.bmRequestType & RXU_USB_DIR_IN);
	rc = xhcid_check_setup(&s);
	if (rc)
		return rc;
	if (in ? len != 8 : len != 8u + s.wLength)
		return -EINVAL;
	if (in && !u->in_data) {
		u->in_data = malloc(RXU_USB_CONTROL_MAX);
		if (!u->in_data)
			return -ENOMEM;
	}
	if (u->busy)
		return -EBUSY;
	u->in_valid = 0;
	memset(&u->x, 0, sizeof(u->x));
	u->x.ep = &d->ep[1];
	u->x.is_control = 1;
	u->x.setup = RXU_USB_SETUP_U64(s.bmRequestType, s.bRequest, s.wValue,
				       s.wIndex, s.wLength);
	u->x.dir_in = in;
	u->x.len = s.wLength;
	u->x.buf = in ? u->in_data : (void *)(buf + 8);
	u->x.done = xfer_done;
	u->x.ctx = u;
	return submit(req, u);
}

static int64_t write_configure(struct rxu_scheme_req *req, struct uh *u,
			       const char *buf, uint64_t len)
{
	char t[64], *e;
	unsigned long v[3];
	int n = 0;
	struct xhcid_work *w;
	char *p;

	if (!len || len >= sizeof(t))
		return -EINVAL;
	memcpy(t, buf, len);
	t[len] = 0;
	p = t;
	while (n < 3) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			break;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v[n++] = strtoul(p, &e, 10);
		if (v[n - 1] > 255)
			return -EINVAL;
		p = e;
	}
	while (*p == ' ' || *p == '\n')
		p++;
	if (*p || (n != 1 && n != 3))
		return -EINVAL;
	if (u->busy)
		return -EBUSY;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->req = req;
	w->uh = u;
	w->kind = XW_CONFIGURE;
	w->port = u->port;
	w->gen = u->gen;
	w->cfg = (unsigned int)v[0];
	w->iface = n == 3 ? (int)v[1] : -1;
	w->alt = n == 3 ? (int)v[2] : 0;
	w->answer = (int64_t)len;
	u->busy = 1;
	xhcid_queue_work(w);
	return RXU_SCHEME_PENDING;
}

static int64_t u_write(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
		       const void *buf, uint64_t len, uint64_t off)
{
	struct uh *u = h->priv;
	struct xdev *d = u->kind == UH_LIST ? NULL : uh_dev(u);
	struct xep *ep;

	(void)off;
	if (u->kind != UH_LIST && !d)
		return -ENODEV;
	switch (u->kind) {
	case UH_REQUEST:
		return write_request(req, u, d, buf, len);
	case UH_CONFIGURE:
		return write_configure(req, u, buf, len);
	case UH_EP:
		ep = xdev_ep(d, u->ep);
		if (!ep)
			return -ENODEV;
		if (u->ep & RXU_USB_DIR_IN)
			return -EBADF;
		if (len > RXU_USB_TRANSFER_MAX)
			return -EMSGSIZE;
		return start_xfer(req, u, d, ep, (void *)buf, (uint32_t)len, 0);
	default:
		return -EBADF;
	}
}

void xhcid_scheme_work(struct xhc *hc)
{
	unsigned int p;

	spawn_reap(hc);
	for (p = 1; S.rules && p <= hc->max_slots && p <= XHCID_MAX_SLOTS; p++) {
		struct xdev *d = hc->slot_dev[p];

		if (!d || d->spawned || d->state != XDEV_ADDRESSED)
			continue;
		d->spawned = 1;
		if (spawn_device(hc, S.name[0], d->id, d) > 0)
			on_change(hc, d->id);
	}
	while (S.work) {
		struct xhcid_work *w = S.work;
		struct xdev *d;
		int rc;

		xhc_lookup(hc, w->port, &d);
		S.work = w->next;
		if (!S.work)
			S.work_tail = NULL;
		if (!d || d->generation != w->gen || d->state == XDEV_EMPTY)
			rc = -ENODEV;
		else if (w->kind == XW_CONFIGURE)
			rc = xdev_configure(hc, d, w->cfg, w->iface, w->alt);
		else
			rc = xfer_clear_halt(hc, d, w->ep);
		if (w->uh) {
			w->uh->busy = 0;
			if (w->uh->closed)
				uh_free(w->uh);
		}
		rxu_scheme_reply(w->req, rc ? rc : w->answer);
		if (d && w->kind == XW_CONFIGURE)
			on_change(hc, w->port);
		free(w);
	}
}

static const struct rxu_scheme_ops usb_ops = {
	.open = u_open,
	.read = u_read,
	.write = u_write,
	.size = u_size,
	.dup = u_dup,
	.close = u_close,
	.ready = u_ready,
	.op = xhcid_u2u_op,
	.connect = xhcid_u2u_connect,
	.disconnect = xhcid_u2u_disconnect,
};

static const struct rxu_scheme_config usb_cfg = {
	.flags = RXU_SCHEME_U2U | RXU_SCHEME_U2U_OPS_ONLY,
};

/* A change of port p: every listing handle gets an EVENT READ. */
static void on_change(struct xhc *hc, unsigned int port)
{
	struct uh *u;

	(void)hc, (void)port;
	for (u = S.lists; u; u = u->next_list)
		rxu_scheme_post_event(u->h, RXU_EVENT_READ);
}

/* ---- start and stop ------------------------------------------------- */

static int write_token_file(const char *path)
{
	char dir[256], *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0700);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, S.admin, RXU_USB_TOKEN_LEN) != RXU_USB_TOKEN_LEN) {
		close(fd);
		return -EIO;
	}
	close(fd);
	return 0;
}

int xhcid_scheme_start(struct xhc *hc, const struct xhcid_opts *o)
{
	uint8_t raw[RXU_USB_TOKEN_LEN / 2];
	unsigned int i;
	char *c;
	int rc;

	S.hc = hc;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -EIO;
	for (i = 0; i < sizeof(raw); i++)
		snprintf(S.admin + 2 * i, 3, "%02x", raw[i]);
	if (o->scheme) {
		snprintf(S.name[0], sizeof(S.name[0]), "%s", o->scheme);
	} else {
		snprintf(S.name[0], sizeof(S.name[0]), "usb.%s", hc->dev.addr);
		for (c = S.name[0]; *c; c++)
			if (*c == ':')
				*c = '-';
		snprintf(S.name[1], sizeof(S.name[1]), "%s", RXU_USB_SCHEME);
	}
	rc = rxu_scheme_register(&S.s[0], hc->r, S.name[0], &usb_cfg, &usb_ops, hc);
	if (rc)
		return rc;
	if (S.name[1][0] &&
	    rxu_scheme_register(&S.s[1], hc->r, S.name[1], &usb_cfg, &usb_ops, hc))
		S.name[1][0] = 0;	/* another controller serves usb: */
	if (o->token_file)
		snprintf(S.token_file, sizeof(S.token_file), "%s", o->token_file);
	else
		snprintf(S.token_file, sizeof(S.token_file), "/run/xhcid/%s.token",
			 S.name[0]);
	rc = write_token_file(S.token_file);
	if (rc)
		hc_log(hc, "token file %s: %s", S.token_file, strerror(-rc));
	rc = spawn_load_rules(o->config ? o->config : "/etc/xhcid.d");
	if (rc < 0)
		hc_log(hc, "class-driver rules: %s", strerror(-rc));
	S.rules = rc > 0;
	hc->on_change = on_change;
	hc_log(hc, "serving %s:%s%s", S.name[0], S.name[1][0] ? " and " : "",
	       S.name[1][0] ? S.name[1] : "");
	return 0;
}

void xhcid_scheme_stop(struct xhc *hc)
{
	unsigned int i;

	hc->on_change = NULL;	/* the detaches below tell no listing */
	spawn_stop_all();
	/*
	 * Every device goes while the schemes still exist: a transfer in
	 * flight is answered ENODEV into its live request.  Left to hc_stop,
	 * after rxu_scheme_destroy has freed the requests, its completion
	 * replied into freed memory (xhcid crashed on SIGTERM with a read in
	 * flight on a controller that had stopped answering).  No Disable
	 * Slot, as in hc_stop: a dead controller would make each one wait.
	 */
	hc->dead = 1;
	for (i = 1; i <= hc->max_ports && i <= XHCID_MAX_PORTS; i++)
		xdev_detach(hc, i);
	for (i = 0; i < 2; i++) {
		rxu_scheme_destroy(S.s[i]);
		S.s[i] = NULL;
	}
	if (S.token_file[0])
		unlink(S.token_file);
}
