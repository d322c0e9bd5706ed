// SPDX-License-Identifier: MIT
/*
 * port.c - root ports: PORTSC reads and neutral writes, USB 2 port reset
 * and USB 3 link training, the speed (from the Supported Protocol PSI
 * dwords, or the default speed IDs), and the scan that turns connect
 * changes into attach and detach.
 *
 * PORTSC has bits that clear when written with 1 (PED disables the
 * port, the change bits clear), so every write starts from the
 * read-only and read-write bits of the value read, then ORs in the one
 * bit it means.
 */
#include <errno.h>
#include <stdio.h>

#include "xhcid.h"

#define MS	1000000ULL

uint32_t port_read(struct xhc *hc, unsigned int port)
{
	return op_read(hc, XHCI_PORTSC(port));
}

void port_write(struct xhc *hc, unsigned int port, uint32_t bits)
{
	uint32_t v = port_read(hc, port) & PORT_NEUTRAL & ~PORT_PED;

	op_write(hc, XHCI_PORTSC(port), v | bits);
}

/* A speed ID to the speed class, through the port's PSI if it has them. */
unsigned int port_speed(struct xhc *hc, unsigned int port, uint32_t portsc)
{
	const struct xport *pt = &hc->port[port];
	unsigned int id = PORT_SPEED(portsc), i;

	for (i = 0; i < pt->psic; i++) {
		uint32_t psi = pt->psi[i];
		uint64_t bps = PSI_PSIM(psi);
		unsigned int e;

		if (PSI_PSIV(psi) != id)
			continue;
		for (e = 0; e < PSI_PSIE(psi); e++)
			bps *= 1000;
		if (bps <= 1500000)
			return XSPEED_LOW;
		if (bps <= 12000000)
			return XSPEED_FULL;
		if (bps <= 480000000)
			return XSPEED_HIGH;
		if (bps <= 5000000000ULL)
			return XSPEED_SUPER;
		return XSPEED_SUPER_PLUS;
	}
	return id >= XSPEED_SUPER_PLUS ? XSPEED_SUPER_PLUS : id;
}

static int wait_port(struct xhc *hc, unsigned int port, uint32_t mask,
		     unsigned int ms)
{
	uint64_t end = hc_now_ns() + ms * MS;

	while (!(port_read(hc, port) & mask)) {
		if (!(port_read(hc, port) & PORT_CCS))
			return -ENODEV;
		if (hc_now_ns() > end)
			return -ETIMEDOUT;
		hc_wait(hc, 2 * MS);
	}
	return 0;
}

int port_reset(struct xhc *hc, unsigned int port)
{
	uint32_t v = port_read(hc, port);
	int rc;

	if (!(v & PORT_CCS))
		return -ENODEV;
	if (hc->port[port].major >= 3) {
		/* USB 3: the link trains by itself; a hot reset if it will not. */
		if (wait_port(hc, port, PORT_PED, 500) == 0)
			return 0;
	}
	port_write(hc, port, PORT_PR);
	rc = wait_port(hc, port, PORT_PRC, 500);
	port_write(hc, port, PORT_PRC | PORT_WRC | PORT_PEC | PORT_CSC);
	if (rc)
		return rc;
	/* Recovery time after reset (USB 2.0 7.1.7.5: 10 ms). */
	hc_wait(hc, 10 * MS);
	return port_read(hc, port) & PORT_PED ? 0 : -EIO;
}

void port_event(struct xhc *hc, const struct xhci_trb *ev)
{
	unsigned int port = (unsigned int)(ev->param >> 24) & 0xff;

	if (port >= 1 && port <= hc->max_ports)
		hc->port[port].change = 1;
}

static void scan_one(struct xhc *hc, unsigned int port)
{
	struct xport *pt = &hc->port[port];
	uint32_t v = port_read(hc, port);

	pt->change = 0;
	/* Clear what changed, keep PR and PED as they are. */
	if (v & PORT_CHANGES)
		port_write(hc, port, v & (PORT_CHANGES & ~PORT_PRC));
	if (pt->dev && (!(v & PORT_CCS) || (v & PORT_CSC))) {
		xdev_detach(hc, port);
		if (hc->on_change)
			hc->on_change(hc, port);
	}
	if ((v & PORT_CCS) && !pt->dev) {
		xdev_attach(hc, port);
		if (hc->on_change)
			hc->on_change(hc, port);
	}
}

void port_scan(struct xhc *hc)
{
	unsigned int p;

	for (p = 1; p <= hc->max_ports && p <= XHCID_MAX_PORTS; p++)
		if (hc->port[p].change)
			scan_one(hc, p);
	hub_scan(hc);
}
