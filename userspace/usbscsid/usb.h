/* SPDX-License-Identifier: MIT */
/*
 * usb.h: usbscsid's transport over xhcid's `usb:` scheme (rxu_usb.h):
 * a user-to-user ring with a buffer pool that xhcid maps for DMA, so
 * the stick's data lands in our memory with no copy.  Also the
 * descriptor parsing that finds the Bulk-Only interface's endpoints.
 */
#ifndef USBSCSID_USB_H
#define USBSCSID_USB_H

#include <stddef.h>
#include <stdint.h>

#include "rxu.h"
#include "xport.h"

/* Interface 08/06/50: mass storage, SCSI transparent, Bulk-Only. */
#define USB_CLASS_MASS_STORAGE	0x08
#define USB_SUBCLASS_SCSI	0x06
#define USB_PROTOCOL_BOT	0x50

struct usb_bot_iface {
	uint8_t config;		/* bConfigurationValue */
	uint8_t iface;		/* bInterfaceNumber */
	uint8_t ep_in;		/* bulk IN bEndpointAddress */
	uint8_t ep_out;		/* bulk OUT bEndpointAddress */
};

/*
 * Find the Bulk-Only interface number iface (any, if iface < 0) in a
 * `descriptors` file (device descriptor, then configurations): 0 with
 * *out filled, -ENOENT when there is none with a bulk IN and a bulk OUT
 * endpoint in alternate setting 0, -EINVAL for malformed descriptors.
 */
int usb_find_bot(const uint8_t *desc, size_t len, int iface,
		 struct usb_bot_iface *out);

/*
 * "port5", "port5.1.3" -> RXU_USB_PORT_ID(root, route) in *id: 0 or
 * -EINVAL.
 */
int usb_port_id(const char *port, uint32_t *id);

/* Requests on the u2u ring at once: a data stage and its CSW. */
#define USB_MAX_POSTED	4

struct usb_xport {
	struct usbscsid_xport x;	/* first */
	struct rxu_instance kring;	/* a kernel ring: OPEN, DUP, READ */
	struct rxu_instance u2u;	/* to xhcid */
	struct rxu_pool pool;
	uint64_t base;			/* pool offset of x.mem */
	uint32_t port_id;
	/* requests posted and answers reaped, counted from 1 (user_data);
	 * answers that came before older ones wait in done/result */
	uint64_t seq, reaped;
	uint8_t done[USB_MAX_POSTED];
	int64_t result[USB_MAX_POSTED];
};

/*
 * Connect to scheme (e.g. "usb.0000-00-03.0") for the device at port,
 * claim it with token, find Bulk-Only interface iface in its
 * descriptors and map mem_size bytes of pool as the transfer memory.
 * 0 or -errno; usb_xport_close() undoes a partial open too.
 */
int usb_xport_open(struct usb_xport *u, const char *scheme, const char *port,
		   const char *token, int iface, size_t mem_size);
void usb_xport_close(struct usb_xport *u);

#endif /* USBSCSID_USB_H */
