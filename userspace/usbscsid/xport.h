/* SPDX-License-Identifier: MIT */
/*
 * xport.h: what usbscsid's Bulk-Only layer needs from a USB device, and
 * nothing more.  Two implementations: usb.c (xhcid's u2u ring with a
 * pool, the real thing) and sim.c (a mass-storage device in memory with
 * injectable faults, for the host tests).
 *
 * Every op returns the bytes moved (>= 0) or -errno with the meaning
 * rxu_usb.h gives it: -EPIPE the endpoint stalled, -ENODEV the device is
 * gone, -ETIMEDOUT, -EPROTO.  Buffers handed to bulk() and control()
 * must lie in the transport's own memory (xport->mem, xport->mem_size):
 * over usb: that is the u2u pool shared with xhcid, so no byte passes
 * through the kernel.
 *
 * bulk_start and bulk_wait are optional (NULL: bot.c runs each transfer
 * with bulk() when it is waited for): bulk_start queues a transfer
 * behind the ones already started on that endpoint, bulk_wait returns
 * the result of the oldest one started and not waited for.  A transport
 * that has them answers -EPIPE only after it has cleared the halt on
 * both sides (xhcid does, see rxu_usb.h), before it starts the next
 * transfer on that endpoint.
 */
#ifndef USBSCSID_XPORT_H
#define USBSCSID_XPORT_H

#include <stddef.h>
#include <stdint.h>

struct usbscsid_xport;

struct usbscsid_xport_ops {
	/* One bulk transfer on endpoint address ep (bit 7 set: IN). */
	int64_t (*bulk)(struct usbscsid_xport *x, uint8_t ep, void *buf,
			uint32_t len);
	/* A control transfer on EP0; setup as RXU_USB_SETUP_U64(). */
	int64_t (*control)(struct usbscsid_xport *x, uint64_t setup,
			   void *buf, uint16_t len);
	/* Optional, see above: 0 or -errno; then the bytes moved or -errno. */
	int (*bulk_start)(struct usbscsid_xport *x, uint8_t ep, void *buf,
			  uint32_t len);
	int64_t (*bulk_wait)(struct usbscsid_xport *x);
	/* Reset endpoint address ep on both sides (CLEAR_FEATURE(HALT)). */
	int (*clear_halt)(struct usbscsid_xport *x, uint8_t ep);
};

struct usbscsid_xport {
	const struct usbscsid_xport_ops *ops;
	uint8_t ep_in;		/* bulk IN endpoint address, e.g. 0x81 */
	uint8_t ep_out;		/* bulk OUT endpoint address, e.g. 0x02 */
	uint8_t iface;		/* bInterfaceNumber */
	void *mem;		/* transfer memory: CBW/CSW and data */
	size_t mem_size;
};

#endif /* USBSCSID_XPORT_H */
