/* SPDX-License-Identifier: MIT */
/*
 * usb-desc.h: USB descriptors as `usb:` serves them (rxu_usb.h:
 * "port<ID>/descriptors", the device descriptor then every configuration
 * with its interface, endpoint and class descriptors) and the lines of
 * the `usb:` listing.  No I/O: host-tested (tests/usbdesc_test.c), used
 * by `rxuctl usb` (usb-list.c) and usbhidd.
 */
#ifndef RXU_TOOLS_USB_DESC_H
#define RXU_TOOLS_USB_DESC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define USB_DT_DEVICE		0x01
#define USB_DT_CONFIG		0x02
#define USB_DT_STRING		0x03
#define USB_DT_INTERFACE	0x04
#define USB_DT_ENDPOINT		0x05
#define USB_DT_HID		0x21
#define USB_DT_REPORT		0x22
#define USB_DT_HUB		0x29
#define USB_DT_SS_EP_COMP	0x30

#define USB_CLASS_HID		0x03

/* Walks descriptors: each starts with bLength, bDescriptorType. */
struct usb_desc_iter {
	const uint8_t *p;
	size_t len, pos;
};

void usb_desc_iter_init(struct usb_desc_iter *it, const uint8_t *p,
			size_t len);
/*
 * The next descriptor in *d: its length (>= 2), 0 at the end, -EINVAL
 * when a bLength is below 2 or runs past the end.
 */
int usb_desc_next(struct usb_desc_iter *it, const uint8_t **d);

/* What a class driver needs of one interface (alternate setting 0). */
struct usb_iface_info {
	uint8_t number, cls, subclass, protocol;
	uint16_t report_len;	/* HID: wDescriptorLength of the report */
	uint8_t ep_in;		/* first interrupt IN bEndpointAddress, 0 none */
	uint16_t ep_in_mps;
	uint8_t ep_in_interval;
	uint16_t vendor, product;	/* from the device descriptor */
};

/*
 * Find interface ifnum (alternate setting 0) of the first configuration
 * in a descriptors blob.  0, -EINVAL malformed (no 18-byte device
 * descriptor first, a broken descriptor), -ENOENT no such interface.
 */
int usb_find_interface(const uint8_t *blob, size_t len, unsigned int ifnum,
		       struct usb_iface_info *out);

/* "HID", "Mass Storage", "Hub", ...; "Vendor Specific"; else NULL. */
const char *usb_class_name(uint8_t cls);

/*
 * The class words of a device for a listing: its device class if not 0
 * (per interface), else the distinct classes of the first
 * configuration's interfaces joined with ',' ("HID", "HID,Audio").
 * Writes at most size bytes, NUL-terminated; "-" if none is known.
 */
void usb_device_classes(const uint8_t *blob, size_t len, char *buf,
			size_t size);

/* The -v dump: every descriptor of a blob, parsed, indented; 0 or -EINVAL
 * (what came before the broken descriptor is printed). */
int usb_desc_print(FILE *f, const uint8_t *blob, size_t len,
		   const char *indent);

/* One line of the `usb:` listing (rxu_usb.h), split into its words. */
struct usb_port_line {
	char port[32];		/* "port5.1" */
	char state[16];
	char speed[16];		/* "-" for an empty port */
	char id[16];		/* "VVVV:PPPP" or "-" */
	char cls[16];		/* "CC/SS/PP" or "-" */
	char driver[64];	/* "usbhid", "hub", "-", or a list */
};

/* 0, or -EINVAL if the line is not six words of those sizes. */
int usb_parse_port_line(const char *line, struct usb_port_line *out);

/* The value of key "product" (etc.) in a `strings` file; "" if absent. */
void usb_strings_get(const char *text, const char *key, char *buf,
		     size_t size);

#endif /* RXU_TOOLS_USB_DESC_H */
