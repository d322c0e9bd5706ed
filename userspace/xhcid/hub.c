// SPDX-License-Identifier: MIT
/*
 * hub.c - USB hubs xhcid drives itself: the hub descriptor, the slot
 * context's hub fields (Hub, Number of Ports, TT think time) set by the
 * Configure Endpoint of the hub's configuration, port power, the reset
 * and enumeration of every connected downstream port, and the status-
 * change endpoint kept in flight so that attach and detach behind the
 * hub are seen.  Also the port ids and names ("port8.1") of devices
 * behind hubs, and their lookup.
 *
 * Hub class requests (USB 2.0 11.24, USB 3.2 10.16): GET_STATUS of a
 * port gives wPortStatus then wPortChange; SET_FEATURE/CLEAR_FEATURE
 * with the port in wIndex power, reset and acknowledge changes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xhcid.h"

#define MS			1000000ULL

#define RT_HUB_IN		0xa0	/* class, device, in */
#define RT_PORT_IN		0xa3	/* class, other, in */
#define RT_PORT_OUT		0x23	/* class, other, out */
#define REQ_GET_STATUS		0
#define REQ_CLEAR_FEATURE	1
#define REQ_SET_FEATURE		3
#define REQ_GET_DESCRIPTOR	6
#define REQ_SET_HUB_DEPTH	12
#define DT_HUB			0x29
#define DT_SS_HUB		0x2a

#define F_PORT_RESET		4
#define F_PORT_POWER		8
#define F_C_PORT_CONNECTION	16
#define F_C_PORT_ENABLE		17
#define F_C_PORT_SUSPEND	18
#define F_C_PORT_OVER_CURRENT	19
#define F_C_PORT_RESET		20
#define F_C_PORT_LINK_STATE	25
#define F_C_PORT_CONFIG_ERROR	26
#define F_C_BH_PORT_RESET	29

/* wPortStatus */
#define PS_CONNECTION		(1u << 0)
#define PS_ENABLE		(1u << 1)
#define PS_LOW_SPEED		(1u << 9)	/* USB 2 hubs only */
#define PS_HIGH_SPEED		(1u << 10)	/* USB 2 hubs only */
/* wPortChange */
#define PC_CONNECTION		(1u << 0)
#define PC_RESET		(1u << 4)

/* ---- port ids and names --------------------------------------------- */

void xport_name(unsigned int id, char *buf, size_t size)
{
	uint32_t route = RXU_USB_PORT_ROUTE(id);
	size_t n;

	n = (size_t)snprintf(buf, size, "port%u", RXU_USB_PORT_ROOT(id));
	for (; route && n < size; route >>= 4)
		n += (size_t)snprintf(buf + n, size - n, ".%u", route & 15);
}

unsigned int xport_parse(const char *p, const char **end)
{
	unsigned long root, v;
	uint32_t route = 0;
	unsigned int level = 0;
	char *e;

	if (strncmp(p, "port", 4) || p[4] < '1' || p[4] > '9')
		return 0;
	root = strtoul(p + 4, &e, 10);
	if (root > 255)
		return 0;
	while (*e == '.') {
		if (level >= RXU_USB_MAX_HUB_DEPTH || e[1] < '1' || e[1] > '9')
			return 0;
		v = strtoul(e + 1, &e, 10);
		if (v > XHUB_MAX_PORTS)
			return 0;
		route |= (uint32_t)v << (4 * level++);
	}
	*end = e;
	return RXU_USB_PORT_ID(root, route);
}

int xhc_lookup(struct xhc *hc, unsigned int id, struct xdev **out)
{
	unsigned int root = RXU_USB_PORT_ROOT(id), p;
	uint32_t route = RXU_USB_PORT_ROUTE(id);
	struct xdev *d;

	*out = NULL;
	if (!root || root > hc->max_ports || root > XHCID_MAX_PORTS)
		return -ENOENT;
	d = hc->port[root].dev;
	for (; route; route >>= 4) {
		p = route & 15;
		if (!d || !d->hub || !p || p > d->hub->nports)
			return -ENOENT;
		d = d->hub->child[p];
	}
	*out = d;
	return 0;
}

/* hc_wait returns at the first event: wait the whole time. */
static void wait_ms(struct xhc *hc, unsigned int ms)
{
	uint64_t end = hc_now_ns() + ms * MS, now;

	while ((now = hc_now_ns()) < end)
		hc_wait(hc, end - now);
}

/* ---- hub requests --------------------------------------------------- */

static int port_feature(struct xhc *hc, struct xdev *h, int set,
			unsigned int feature, unsigned int port)
{
	int rc = xfer_control(hc, h, RT_PORT_OUT,
			      set ? REQ_SET_FEATURE : REQ_CLEAR_FEATURE,
			      (uint16_t)feature, (uint16_t)port, NULL, 0);

	return rc < 0 ? rc : 0;
}

/* wPortStatus in *st, wPortChange in *ch. */
static int port_status(struct xhc *hc, struct xdev *h, unsigned int port,
		       unsigned int *st, unsigned int *ch)
{
	uint8_t b[4];
	int rc;

	rc = xfer_control(hc, h, RT_PORT_IN, REQ_GET_STATUS, 0,
			  (uint16_t)port, b, sizeof(b));
	if (rc < 0)
		return rc;
	if (rc < 4)
		return -EPROTO;
	*st = (unsigned int)(b[0] | b[1] << 8);
	*ch = (unsigned int)(b[2] | b[3] << 8);
	return 0;
}

/* Acknowledge every change bit of a port. */
static void clear_changes(struct xhc *hc, struct xhub *hub, struct xdev *h,
			  unsigned int port, unsigned int ch)
{
	static const unsigned int usb2[] = {
		F_C_PORT_CONNECTION, F_C_PORT_ENABLE, F_C_PORT_SUSPEND,
		F_C_PORT_OVER_CURRENT, F_C_PORT_RESET,
	};
	static const unsigned int ss[] = {
		F_C_PORT_CONNECTION, 0, 0, F_C_PORT_OVER_CURRENT,
		F_C_PORT_RESET, F_C_BH_PORT_RESET, F_C_PORT_LINK_STATE,
		F_C_PORT_CONFIG_ERROR,
	};
	const unsigned int *f = hub->super ? ss : usb2;
	unsigned int n = hub->super ? 8 : 5, i;

	for (i = 0; i < n; i++)
		if ((ch & (1u << i)) && f[i])
			port_feature(hc, h, 0, f[i], port);
}

/* The hub descriptor: ports, power-on time, and the slot's hub fields. */
static int read_hub_desc(struct xhc *hc, struct xdev *d, struct xhub *hub)
{
	uint8_t b[16];
	unsigned int chars;
	int rc;

	hub->super = d->speed >= XSPEED_SUPER;
	rc = xfer_control(hc, d, RT_HUB_IN, REQ_GET_DESCRIPTOR,
			  (uint16_t)((hub->super ? DT_SS_HUB : DT_HUB) << 8), 0,
			  b, sizeof(b));
	if (rc < 0)
		return rc;
	if (rc < 7)
		return -EPROTO;
	hub->nports = b[2] > XHUB_MAX_PORTS ? XHUB_MAX_PORTS : b[2];
	chars = (unsigned int)(b[3] | b[4] << 8);
	hub->pwr_ms = b[5] * 2u;
	d->slot_hub[0] = SLOT_HUB;
	d->slot_hub[1] = SLOT_NPORTS(hub->nports);
	/* Single-TT operation (alternate setting 0): MTT stays clear. */
	if (d->speed == XSPEED_HIGH)
		d->slot_hub[2] = SLOT_TTT((chars >> 5) & 3);
	return 0;
}

/* ---- downstream ports ----------------------------------------------- */

static void notify(struct xhc *hc, unsigned int id)
{
	if (hc->on_change)
		hc->on_change(hc, id);
}

static void detach_child(struct xhc *hc, struct xhub *hub, unsigned int port)
{
	struct xdev *c = hub->child[port];
	unsigned int id;

	if (!c)
		return;
	id = c->id;
	hub->child[port] = NULL;
	xdev_free(hc, c);
	notify(hc, id);
}

/* Reset a connected port and enumerate the device behind it. */
static int attach_child(struct xhc *hc, struct xdev *h, unsigned int port)
{
	struct xhub *hub = h->hub;
	uint64_t end = hc_now_ns() + 500 * MS;
	unsigned int st = 0, ch = 0;
	struct xdev *c;
	int rc;

	rc = port_feature(hc, h, 1, F_PORT_RESET, port);
	while (!rc) {
		rc = port_status(hc, h, port, &st, &ch);
		if (rc || (ch & PC_RESET))
			break;
		if (!(st & PS_CONNECTION))
			return -ENODEV;
		if (hc_now_ns() > end)
			return -ETIMEDOUT;
		hc_wait(hc, 10 * MS);
	}
	if (rc)
		return rc;
	clear_changes(hc, hub, h, port, ch);
	if (!(st & PS_ENABLE))
		return -EIO;
	wait_ms(hc, 10);	/* reset recovery (USB 2.0 7.1.7.5) */

	c = xdev_new(hc, h->root_port);
	if (!c)
		return -ENOMEM;
	c->parent = h;
	c->parent_port = port;
	c->depth = h->depth + 1;
	c->route = h->route | (uint32_t)port << (4 * h->depth);
	c->id = RXU_USB_PORT_ID(h->root_port, c->route);
	if (hub->super)
		c->speed = XSPEED_SUPER;
	else if (st & PS_LOW_SPEED)
		c->speed = XSPEED_LOW;
	else if (st & PS_HIGH_SPEED)
		c->speed = XSPEED_HIGH;
	else
		c->speed = XSPEED_FULL;
	c->psiv = c->speed;	/* the default speed IDs */
	if (c->speed <= XSPEED_LOW && h->speed == XSPEED_HIGH) {
		c->tt_slot = h->slot;
		c->tt_port = port;
	} else if (c->speed <= XSPEED_LOW) {
		c->tt_slot = h->tt_slot;	/* the TT above a LS/FS hub */
		c->tt_port = h->tt_port;
	}
	hub->child[port] = c;
	notify(hc, c->id);
	rc = xdev_enumerate(hc, c);
	notify(hc, c->id);
	return rc;
}

/* One port after a change: detach, attach or both. */
static void scan_port(struct xhc *hc, struct xdev *h, unsigned int port)
{
	struct xhub *hub = h->hub;
	unsigned int st, ch;

	if (port_status(hc, h, port, &st, &ch))
		return;
	clear_changes(hc, hub, h, port, ch);
	if (hub->child[port] && (!(st & PS_CONNECTION) || (ch & PC_CONNECTION)))
		detach_child(hc, hub, port);
	if ((st & PS_CONNECTION) && !hub->child[port])
		attach_child(hc, h, port);
}

/* ---- the status-change endpoint ------------------------------------- */

static void irq_done(struct xhc *hc, struct xfer *x)
{
	struct xdev *h = x->ctx;

	(void)hc;
	if (x->result == -ENODEV || !h->hub)
		return;
	h->hub->errors = x->result ? h->hub->errors + 1 : 0;
	h->hub->changed = 1;
}

static void irq_submit(struct xhc *hc, struct xdev *h)
{
	struct xhub *hub = h->hub;

	if (!hub->irq_ep || hub->errors > 8)
		return;
	memset(&hub->irq, 0, sizeof(hub->irq));
	hub->irq.ep = hub->irq_ep;
	hub->irq.dir_in = 1;
	hub->irq.len = hub->nports / 8 + 1;
	hub->irq.buf = hub->bitmap;
	hub->irq.timeout_ms = UINT32_MAX;
	hub->irq.done = irq_done;
	hub->irq.ctx = h;
	xfer_submit(hc, &hub->irq);
}

static void scan_hub(struct xhc *hc, struct xdev *h)
{
	struct xhub *hub = h->hub;
	unsigned int p, all = hub->irq.result != 0;

	hub->changed = 0;
	for (p = 1; p <= hub->nports; p++)
		if (all || (hub->bitmap[p / 8] & (1u << (p % 8))))
			scan_port(hc, h, p);
	if (h->hub == hub && h->state == XDEV_CONFIGURED)
		irq_submit(hc, h);
}

void hub_scan(struct xhc *hc)
{
	unsigned int s;

	for (s = 1; s <= hc->max_slots && s <= XHCID_MAX_SLOTS; s++) {
		struct xdev *h = hc->slot_dev[s];

		if (h && h->hub && h->hub->changed)
			scan_hub(hc, h);
	}
}

/* ---- start and stop ------------------------------------------------- */

int hub_start(struct xhc *hc, struct xdev *d)
{
	struct xhub *hub;
	unsigned int p, i;
	int rc;

	if (!d->ncfg)
		return -ENOENT;
	hub = calloc(1, sizeof(*hub));
	if (!hub)
		return -ENOMEM;
	d->hub = hub;
	rc = read_hub_desc(hc, d, hub);
	if (!rc)
		rc = xdev_configure(hc, d, d->desc[d->cfg_off[0] + 5], -1, 0);
	if (!rc && hub->super)
		rc = xfer_control(hc, d, 0x20, REQ_SET_HUB_DEPTH,
				  (uint16_t)d->depth, 0, NULL, 0) < 0 ? -EIO : 0;
	if (rc)
		goto fail;
	for (i = 2; i < 32; i++)
		if (d->ep[i].type == EPT_INTR_IN)
			hub->irq_ep = &d->ep[i];
	for (p = 1; p <= hub->nports; p++)
		port_feature(hc, d, 1, F_PORT_POWER, p);
	wait_ms(hc, hub->pwr_ms ? hub->pwr_ms : 2);
	for (p = 1; p <= hub->nports; p++)
		scan_port(hc, d, p);
	irq_submit(hc, d);
	return 0;
fail:
	d->hub = NULL;
	memset(d->slot_hub, 0, sizeof(d->slot_hub));
	free(hub);
	return rc;
}

void hub_stop(struct xhc *hc, struct xdev *d)
{
	struct xhub *hub = d->hub;
	unsigned int p;

	for (p = 1; p <= hub->nports; p++)
		detach_child(hc, hub, p);
	if (hub->irq_ep)
		xfer_flush(hc, hub->irq_ep, -ENODEV);
	d->hub = NULL;
	free(hub);
}
