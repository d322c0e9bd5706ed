// SPDX-License-Identifier: MIT
/*
 * usb_desc.c: walking USB descriptors (USB 2.0 chapter 9): each starts
 * with bLength and bDescriptorType; a configuration (type 2) is followed
 * by its interfaces (4), each followed by its endpoints (5) and class
 * descriptors, wTotalLength bytes in all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rxu_usb.h"
#include "usb.h"

#define DT_DEVICE	1
#define DT_CONFIG	2
#define DT_INTERFACE	4
#define DT_ENDPOINT	5
#define EP_BULK		2

int usb_find_bot(const uint8_t *d, size_t len, int iface,
		 struct usb_bot_iface *out)
{
	struct usb_bot_iface cur = { 0 };
	size_t pos;
	int in_bot = 0;

	if (len < 18 || d[0] != 18 || d[1] != DT_DEVICE)
		return -EINVAL;
	for (pos = 18; pos < len; pos += d[pos]) {
		const uint8_t *p = d + pos;

		if (len - pos < 2 || p[0] < 2 || p[0] > len - pos)
			return -EINVAL;
		switch (p[1]) {
		case DT_CONFIG:
			if (p[0] < 9)
				return -EINVAL;
			in_bot = 0;
			cur.config = p[5];
			break;
		case DT_INTERFACE:
			if (p[0] < 9)
				return -EINVAL;
			if (in_bot && cur.ep_in && cur.ep_out)
				goto found;
			in_bot = p[3] == 0 && p[5] == USB_CLASS_MASS_STORAGE &&
				 p[6] == USB_SUBCLASS_SCSI &&
				 p[7] == USB_PROTOCOL_BOT &&
				 (iface < 0 || p[2] == iface);
			cur.iface = p[2];
			cur.ep_in = cur.ep_out = 0;
			break;
		case DT_ENDPOINT:
			if (p[0] < 7)
				return -EINVAL;
			if (!in_bot || (p[3] & 3) != EP_BULK)
				break;
			if (p[2] & 0x80) {
				if (!cur.ep_in)
					cur.ep_in = p[2];
			} else if (!cur.ep_out) {
				cur.ep_out = p[2];
			}
			break;
		}
	}
	if (in_bot && cur.ep_in && cur.ep_out)
		goto found;
	return -ENOENT;
found:
	*out = cur;
	return 0;
}

int usb_port_id(const char *port, uint32_t *id)
{
	unsigned long root, hub;
	uint32_t route = 0;
	const char *s;
	char *end;
	int level = 0;

	if (strncmp(port, "port", 4) || port[4] < '1' || port[4] > '9')
		return -EINVAL;
	root = strtoul(port + 4, &end, 10);
	if (root > 255)
		return -EINVAL;
	for (s = end; *s; s = end) {
		if (*s != '.' || s[1] < '1' || s[1] > '9' ||
		    level == RXU_USB_MAX_HUB_DEPTH)
			return -EINVAL;
		hub = strtoul(s + 1, &end, 10);
		if (hub > 15)
			return -EINVAL;
		route |= (uint32_t)hub << (4 * level++);
	}
	*id = RXU_USB_PORT_ID(root, route);
	return 0;
}
