// SPDX-License-Identifier: MIT
/*
 * enum.c - devices: attach (port reset, Enable Slot, contexts, Address
 * Device, the EP0 max packet size fix-up, device, configuration and
 * string descriptors), configuration (Configure Endpoint with the
 * endpoints of the chosen configuration and alternate settings, then
 * SET_CONFIGURATION / SET_INTERFACE) and detach (Disable Slot, every
 * transfer completed with -ENODEV).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "xhcid.h"

#define REQ_GET_DESCRIPTOR	6
#define REQ_SET_CONFIGURATION	9
#define REQ_SET_INTERFACE	11
#define DT_DEVICE		1
#define DT_CONFIG		2
#define DT_STRING		3
#define DT_INTERFACE		4
#define DT_ENDPOINT		5
#define DT_SS_COMPANION		0x30

static const char *const state_names[] = {
	"empty", "connected", "addressed", "configured", "error",
};

const char *xdev_state_name(enum xdev_state s)
{
	return (unsigned int)s < 5 ? state_names[s] : "error";
}

const char *xdev_speed_name(unsigned int speed)
{
	switch (speed) {
	case XSPEED_LOW:
		return "low";
	case XSPEED_FULL:
		return "full";
	case XSPEED_HIGH:
		return "high";
	case XSPEED_SUPER:
		return "super";
	case XSPEED_SUPER_PLUS:
		return "super+";
	default:
		return "-";
	}
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int get_desc(struct xhc *hc, struct xdev *d, uint8_t type,
		    uint8_t index, uint16_t lang, void *buf, uint16_t len)
{
	return xfer_control(hc, d, 0x80, REQ_GET_DESCRIPTOR,
			    (uint16_t)(type << 8 | index), lang, buf, len);
}

static uint16_t default_mps0(unsigned int speed)
{
	switch (speed) {
	case XSPEED_LOW:
		return 8;
	case XSPEED_FULL:
	case XSPEED_HIGH:
		return 64;
	default:
		return 512;
	}
}

static void make_token(char out[RXU_USB_TOKEN_LEN + 1])
{
	uint8_t raw[RXU_USB_TOKEN_LEN / 2];
	unsigned int i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		for (i = 0; i < sizeof(raw); i++)
			raw[i] = (uint8_t)rand();
	for (i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* A string descriptor as UTF-8 (UTF-16LE in; surrogates as U+FFFD). */
static void get_string(struct xhc *hc, struct xdev *d, uint8_t index,
		       uint16_t lang, char *out, size_t size)
{
	uint8_t buf[255];
	size_t o = 0;
	int n, i;

	out[0] = 0;
	if (!index)
		return;
	n = get_desc(hc, d, DT_STRING, index, lang, buf, sizeof(buf));
	if (n < 2 || buf[1] != DT_STRING)
		return;
	if (buf[0] < n)
		n = buf[0];
	for (i = 2; i + 1 < n; i += 2) {
		unsigned int c = le16(buf + i);

		if (c >= 0xd800 && c < 0xe000)
			c = 0xfffd;
		if (c < 0x80 && o + 1 < size) {
			out[o++] = (char)c;
		} else if (c < 0x800 && o + 2 < size) {
			out[o++] = (char)(0xc0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else if (c >= 0x800 && o + 3 < size) {
			out[o++] = (char)(0xe0 | c >> 12);
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	out[o] = 0;
}

/* Device descriptor, then every configuration, then strings. */
static int read_descriptors(struct xhc *hc, struct xdev *d)
{
	uint8_t hdr[9], langs[4];
	unsigned int i, ncfg;
	size_t total = 18;
	uint16_t lang = 0;
	int n;

	n = get_desc(hc, d, DT_DEVICE, 0, 0, d->ddesc, 18);
	if (n < 18)
		return n < 0 ? n : -EPROTO;
	ncfg = d->ddesc[17];
	if (ncfg > 8)
		ncfg = 8;
	d->desc = malloc(18);
	if (!d->desc)
		return -ENOMEM;
	memcpy(d->desc, d->ddesc, 18);
	for (i = 0; i < ncfg; i++) {
		uint16_t tl;
		uint8_t *p;

		n = get_desc(hc, d, DT_CONFIG, (uint8_t)i, 0, hdr, 9);
		if (n < 9)
			return n < 0 ? n : -EPROTO;
		tl = le16(hdr + 2);
		if (tl < 9)
			return -EPROTO;
		p = realloc(d->desc, total + tl);
		if (!p)
			return -ENOMEM;
		d->desc = p;
		n = get_desc(hc, d, DT_CONFIG, (uint8_t)i, 0, p + total, tl);
		if (n < 9)
			return n < 0 ? n : -EPROTO;
		d->cfg_off[i] = total;
		total += (size_t)n;
	}
	d->ncfg = ncfg;
	d->desc_len = total;
	n = get_desc(hc, d, DT_STRING, 0, 0, langs, sizeof(langs));
	if (n >= 4)
		lang = le16(langs + 2);
	if (lang) {
		get_string(hc, d, d->ddesc[14], lang, d->manufacturer,
			   sizeof(d->manufacturer));
		get_string(hc, d, d->ddesc[15], lang, d->product,
			   sizeof(d->product));
		get_string(hc, d, d->ddesc[16], lang, d->serial,
			   sizeof(d->serial));
	}
	return 0;
}

/* Enable Slot, contexts, Address Device, the EP0 packet size. */
static int address_device(struct xhc *hc, struct xdev *d)
{
	struct xport *pt = &hc->port[d->root_port];
	struct xcmd_result res;
	uint32_t *slot, *ep0;
	uint8_t head[8];
	uint16_t mps;
	int rc;

	rc = xcmd_run(hc, 0, 0, TRB_TYPE(TRB_ENABLE_SLOT) |
		      (pt->slot_type << 16), &res);
	if (!rc)
		rc = xcmd_cc_errno(res.cc);
	if (rc)
		return rc;
	if (!res.slot || res.slot > hc->max_slots)
		return -EPROTO;
	d->slot = res.slot;
	hc->slot_dev[d->slot] = d;
	rc = xctx_alloc(hc, &d->out, 0);
	if (!rc)
		rc = xctx_alloc(hc, &d->in, 1);
	if (!rc)
		rc = xring_init(hc, &d->ep[1].ring);
	if (rc)
		return rc;
	((uint64_t *)hc->dcbaa.va)[d->slot] = d->out.mem.iova;

	d->ep[1].dev = d;
	d->ep[1].dci = 1;
	d->ep[1].type = EPT_CONTROL;
	d->ep[1].mps = default_mps0(d->speed);
	memset(d->in.mem.va, 0, d->in.mem.size);
	xctx_ctrl(&d->in)[1] = 3;		/* A0 slot, A1 EP0 */
	slot = xctx_slot(&d->in);
	slot[0] = SLOT_ROUTE(d->route) | SLOT_SPEED(d->psiv) | SLOT_ENTRIES(1);
	slot[1] = SLOT_ROOT_PORT(d->root_port);
	if (d->tt_slot)
		slot[2] = SLOT_TT_SLOT(d->tt_slot) | SLOT_TT_PORT(d->tt_port);
	ep0 = xctx_ep(&d->in, 1);
	ep0[1] = EP_CERR(3) | EP_TYPE(EPT_CONTROL) | EP_MPS(d->ep[1].mps);
	*(uint64_t *)&ep0[2] = xring_enqueue_ptr(&d->ep[1].ring);
	ep0[4] = EP_AVG_TRB(8);
	rc = xcmd_run(hc, d->in.mem.iova, 0, TRB_TYPE(TRB_ADDRESS_DEV) |
		      TRB_SLOT(d->slot), &res);
	if (!rc)
		rc = xcmd_cc_errno(res.cc);
	if (rc)
		return rc;
	d->address = SLOT_ADDRESS(xctx_slot(&d->out)[3]);

	/* The first 8 bytes of the device descriptor: the real EP0 size. */
	rc = get_desc(hc, d, DT_DEVICE, 0, 0, head, 8);
	if (rc < 8)
		return rc < 0 ? rc : -EPROTO;
	mps = le16(head + 2) >= 0x300 ? (uint16_t)(1u << (head[7] & 15)) : head[7];
	if (mps && mps != d->ep[1].mps) {
		d->ep[1].mps = mps;
		memset(d->in.mem.va, 0, d->in.mem.size);
		xctx_ctrl(&d->in)[1] = 2;	/* A1: EP0 */
		ep0 = xctx_ep(&d->in, 1);
		ep0[1] = EP_CERR(3) | EP_TYPE(EPT_CONTROL) | EP_MPS(mps);
		rc = xcmd_run(hc, d->in.mem.iova, 0, TRB_TYPE(TRB_EVAL_CTX) |
			      TRB_SLOT(d->slot), &res);
		if (!rc)
			rc = xcmd_cc_errno(res.cc);
		if (rc)
			return rc;
	}
	return 0;
}

struct xdev *xdev_new(struct xhc *hc, unsigned int root_port)
{
	static uint64_t generation;
	struct xdev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->hc = hc;
	d->root_port = root_port;
	d->id = root_port;
	d->state = XDEV_CONNECTED;
	d->generation = ++generation;
	return d;
}

int xdev_enumerate(struct xhc *hc, struct xdev *d)
{
	char name[32];
	int rc;

	rc = address_device(hc, d);
	if (!rc)
		rc = read_descriptors(hc, d);
	xport_name(d->id, name, sizeof(name));
	if (rc) {
		hc_log(hc, "%s: enumeration failed: %s", name, strerror(-rc));
		d->state = XDEV_ERROR;
		return rc;
	}
	make_token(d->token);
	d->state = XDEV_ADDRESSED;
	hc_log(hc, "%s: %04x:%04x %s speed, slot %u, address %u \"%s\"",
	       name, le16(d->ddesc + 8), le16(d->ddesc + 10),
	       xdev_speed_name(d->speed), d->slot, d->address, d->product);
	if (d->ddesc[4] == 9 && d->depth < RXU_USB_MAX_HUB_DEPTH) {
		rc = hub_start(hc, d);
		if (rc)
			hc_log(hc, "%s: hub: %s", name, strerror(-rc));
	}
	return 0;
}

int xdev_attach(struct xhc *hc, unsigned int port)
{
	struct xport *pt = &hc->port[port];
	struct xdev *d;
	int rc;

	d = xdev_new(hc, port);
	if (!d)
		return -ENOMEM;
	pt->dev = d;
	rc = port_reset(hc, port);
	if (!rc) {
		uint32_t v = port_read(hc, port);

		d->psiv = PORT_SPEED(v);
		d->speed = port_speed(hc, port, v);
		rc = xdev_enumerate(hc, d);
	} else {
		hc_log(hc, "port%u: reset failed: %s", port, strerror(-rc));
		d->state = XDEV_ERROR;
	}
	if (rc == -ENODEV && !(port_read(hc, port) & PORT_CCS))
		xdev_detach(hc, port);
	return rc;
}

static void free_endpoints(struct xhc *hc, struct xdev *d, unsigned int from)
{
	unsigned int i;

	for (i = from; i < 32; i++) {
		struct xep *ep = &d->ep[i];

		xfer_flush(hc, ep, -ENODEV);
		xring_free(hc, &ep->ring);
		if (ep->bounce.va)
			rxu_pcidrv_dma_free(&hc->dev, &ep->bounce);
		memset(ep, 0, sizeof(*ep));
	}
}

void xdev_free(struct xhc *hc, struct xdev *d)
{
	struct xcmd_result res;
	char name[32];

	if (d->hub)
		hub_stop(hc, d);
	d->state = XDEV_EMPTY;
	if (d->slot) {
		if (!hc->dead)
			xcmd_run(hc, 0, 0, TRB_TYPE(TRB_DISABLE_SLOT) |
				 TRB_SLOT(d->slot), &res);
		((uint64_t *)hc->dcbaa.va)[d->slot] = 0;
	}
	free_endpoints(hc, d, 1);
	if (d->slot)
		hc->slot_dev[d->slot] = NULL;
	xctx_free(hc, &d->in);
	xctx_free(hc, &d->out);
	free(d->desc);
	xport_name(d->id, name, sizeof(name));
	hc_log(hc, "%s: detached", name);
	free(d);
}

void xdev_detach(struct xhc *hc, unsigned int port)
{
	struct xport *pt = &hc->port[port];

	if (!pt->dev)
		return;
	xdev_free(hc, pt->dev);
	pt->dev = NULL;
}

struct xep *xdev_ep(struct xdev *d, uint8_t addr)
{
	unsigned int num = addr & 0x0f, dci;

	if (!num)
		return NULL;
	dci = num * 2 + (addr & RXU_USB_DIR_IN ? 1 : 0);
	return d->ep[dci].type ? &d->ep[dci] : NULL;
}

/* ---- configuration -------------------------------------------------- */

static unsigned int ep_interval(const struct xdev *d, unsigned int type,
				uint8_t binterval)
{
	unsigned int v, l = 0;
	int periodic = type == 1 || type == 3;

	if (!periodic)
		return 0;
	if (d->speed >= XSPEED_SUPER || d->speed == XSPEED_HIGH) {
		v = binterval ? binterval - 1u : 0;
		return v > 15 ? 15 : v;
	}
	if (type == 1) {	/* full-speed isochronous: 2^(b-1) frames */
		v = binterval ? binterval - 1u + 3 : 3;
		return v > 18 ? 18 : v;
	}
	/* low/full-speed interrupt: bInterval ms as 125 us units, log2 */
	v = (binterval ? binterval : 1) * 8u;
	while ((2u << l) <= v)
		l++;
	return l < 3 ? 3 : l > 10 ? 10 : l;
}

/* Fill ep and its input context from an endpoint descriptor. */
static int setup_ep(struct xhc *hc, struct xdev *d, const uint8_t *e,
		    const uint8_t *ss, uint8_t iface)
{
	uint8_t addr = e[2], attr = e[3] & 3;
	unsigned int dci = (addr & 15) * 2 + (addr & 0x80 ? 1 : 0);
	uint16_t wmps = le16(e + 4);
	unsigned int mps = wmps & 0x7ff, burst = 0, type, cerr = 3;
	struct xep *ep;
	uint32_t *c;
	int rc;

	if (dci < 2 || dci > 31 || attr == 0)
		return 0;
	type = (addr & 0x80 ? 4u : 0u) + attr;	/* xHCI EP type */
	if (d->speed >= XSPEED_SUPER && ss)
		burst = ss[2];
	else if (d->speed == XSPEED_HIGH && (attr & 1))
		burst = (wmps >> 11) & 3;
	if (attr == 1)
		cerr = 0;
	ep = &d->ep[dci];
	ep->dev = d;
	ep->dci = dci;
	ep->addr = addr;
	ep->attr = e[3];
	ep->interval = e[6];
	ep->iface = iface;
	ep->mps = (uint16_t)mps;
	rc = xring_init(hc, &ep->ring);
	if (rc)
		return rc;
	ep->type = (uint8_t)type;
	c = xctx_ep(&d->in, dci);
	c[0] = EP_INTERVAL(ep_interval(d, attr, e[6]));
	c[1] = EP_CERR(cerr) | EP_TYPE(type) | EP_MAX_BURST(burst) | EP_MPS(mps);
	*(uint64_t *)&c[2] = xring_enqueue_ptr(&ep->ring);
	c[4] = EP_AVG_TRB(attr == 3 ? 1024 : 3072) |
	       (attr & 1 ? EP_MAX_ESIT_LO(mps * (burst + 1)) : 0);
	xctx_ctrl(&d->in)[1] |= 1u << dci;
	return (int)dci;
}

/* The configuration with bConfigurationValue value: offset and length. */
static int find_config(struct xdev *d, unsigned int value, size_t *off,
		       size_t *len)
{
	unsigned int i;

	for (i = 0; i < d->ncfg; i++) {
		const uint8_t *c = d->desc + d->cfg_off[i];
		size_t end = i + 1 < d->ncfg ? d->cfg_off[i + 1] : d->desc_len;

		if (c[5] == value) {
			*off = d->cfg_off[i];
			*len = end - d->cfg_off[i];
			return 0;
		}
	}
	return -ENOENT;
}

int xdev_configure(struct xhc *hc, struct xdev *d, unsigned int value,
		   int iface, int alt)
{
	struct xcmd_result res;
	uint32_t *slot, old = 0;
	unsigned int i, maxdci = 1, found_alt = 0;
	size_t off = 0, len = 0, p;
	int cur_if = -1, cur_alt = 0, rc;

	if (d->state != XDEV_ADDRESSED && d->state != XDEV_CONFIGURED)
		return -ENODEV;
	if (value) {
		rc = find_config(d, value, &off, &len);
		if (rc)
			return rc;
	}
	for (i = 2; i < 32; i++)
		if (d->ep[i].type)
			old |= 1u << i;
	/* Drop every endpoint of the old configuration. */
	free_endpoints(hc, d, 2);
	memset(d->in.mem.va, 0, d->in.mem.size);
	xctx_ctrl(&d->in)[0] = old;
	xctx_ctrl(&d->in)[1] = 1;
	for (p = off; value && p + 2 <= off + len; p += d->desc[p]) {
		const uint8_t *x = d->desc + p;

		if (x[0] < 2 || p + x[0] > off + len)
			break;
		if (x[1] == DT_INTERFACE && x[0] >= 9) {
			cur_if = x[2];
			cur_alt = x[3];
			if (iface >= 0 && cur_if == iface && cur_alt == alt)
				found_alt = 1;
			continue;
		}
		if (x[1] != DT_ENDPOINT || x[0] < 7)
			continue;
		if (cur_alt != (iface >= 0 && cur_if == iface ? alt : 0))
			continue;
		{
			const uint8_t *ss = NULL;
			size_t q = p + x[0];

			if (q + 6 <= off + len && d->desc[q + 1] == DT_SS_COMPANION)
				ss = d->desc + q;
			rc = setup_ep(hc, d, x, ss, (uint8_t)cur_if);
			if (rc < 0)
				goto fail;
			if ((unsigned int)rc > maxdci)
				maxdci = (unsigned int)rc;
		}
	}
	if (iface >= 0 && !found_alt) {
		rc = -ENOENT;
		goto fail;
	}
	slot = xctx_slot(&d->in);
	memcpy(slot, xctx_slot(&d->out), 16);
	slot[0] = (slot[0] & ~SLOT_ENTRIES(0x1f)) | SLOT_ENTRIES(maxdci);
	slot[0] |= d->slot_hub[0];
	slot[1] |= d->slot_hub[1];
	slot[2] |= d->slot_hub[2];
	slot[3] = 0;
	rc = xcmd_run(hc, d->in.mem.iova, 0, TRB_TYPE(TRB_CONFIG_EP) |
		      TRB_SLOT(d->slot) | (value ? 0 : TRB_DC), &res);
	if (!rc)
		rc = xcmd_cc_errno(res.cc);
	if (rc)
		goto fail;
	rc = xfer_control(hc, d, 0x00, REQ_SET_CONFIGURATION, (uint16_t)value,
			  0, NULL, 0);
	if (rc < 0)
		goto fail;
	if (iface >= 0 && value) {
		rc = xfer_control(hc, d, 0x01, REQ_SET_INTERFACE, (uint16_t)alt,
				  (uint16_t)iface, NULL, 0);
		if (rc < 0)
			goto fail;
	}
	d->config = value;
	d->state = value ? XDEV_CONFIGURED : XDEV_ADDRESSED;
	return 0;
fail:
	free_endpoints(hc, d, 2);
	d->config = 0;
	d->state = XDEV_ADDRESSED;
	return rc;
}
