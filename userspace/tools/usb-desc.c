// SPDX-License-Identifier: MIT
/*
 * usb-desc.c: USB descriptor parsing and printing, the `usb:` listing's
 * lines and `strings` file (see usb-desc.h).  Field offsets are those of
 * USB 2.0 chapter 9.6 and HID 1.11 section 6.2.1; every read is bounded
 * by the descriptor's own bLength, itself bounded by the blob.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "usb-desc.h"

#define DEVICE_LEN	18
#define CONFIG_LEN	9
#define IFACE_LEN	9
#define EP_LEN		7
#define HID_LEN		9	/* with one class descriptor entry */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

void usb_desc_iter_init(struct usb_desc_iter *it, const uint8_t *p,
			size_t len)
{
	it->p = p;
	it->len = len;
	it->pos = 0;
}

int usb_desc_next(struct usb_desc_iter *it, const uint8_t **d)
{
	size_t left = it->len - it->pos;
	uint8_t n;

	if (!left)
		return 0;
	n = it->p[it->pos];
	if (left < 2 || n < 2 || n > left)
		return -EINVAL;
	*d = it->p + it->pos;
	it->pos += n;
	return n;
}

static int device_first(const uint8_t *blob, size_t len)
{
	return len >= DEVICE_LEN && blob[0] == DEVICE_LEN &&
	       blob[1] == USB_DT_DEVICE;
}

int usb_find_interface(const uint8_t *blob, size_t len, unsigned int ifnum,
		       struct usb_iface_info *out)
{
	struct usb_desc_iter it;
	const uint8_t *d;
	int n, configs = 0, in = 0, found = 0;

	if (!device_first(blob, len))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->vendor = le16(blob + 8);
	out->product = le16(blob + 10);
	usb_desc_iter_init(&it, blob, len);
	while ((n = usb_desc_next(&it, &d)) > 0) {
		if (d[1] == USB_DT_CONFIG && ++configs > 1)
			break;	/* only the first configuration */
		if (d[1] == USB_DT_INTERFACE && n >= IFACE_LEN) {
			in = d[2] == ifnum && d[3] == 0;
			if (in) {
				found = 1;
				out->number = d[2];
				out->cls = d[5];
				out->subclass = d[6];
				out->protocol = d[7];
			}
			continue;
		}
		if (!in)
			continue;
		if (d[1] == USB_DT_HID && n >= HID_LEN) {
			int k, count = d[5];

			for (k = 0; k < count && 6 + 3 * k + 3 <= n; k++)
				if (d[6 + 3 * k] == USB_DT_REPORT) {
					out->report_len = le16(d + 7 + 3 * k);
					break;
				}
		} else if (d[1] == USB_DT_ENDPOINT && n >= EP_LEN &&
			   !out->ep_in && (d[2] & 0x80) && (d[3] & 3) == 3) {
			out->ep_in = d[2];
			out->ep_in_mps = le16(d + 4) & 0x7ff;
			out->ep_in_interval = d[6];
		}
	}
	if (n < 0)
		return n;
	return found ? 0 : -ENOENT;
}

const char *usb_class_name(uint8_t cls)
{
	switch (cls) {
	case 0x01: return "Audio";
	case 0x02: return "Communications";
	case 0x03: return "HID";
	case 0x05: return "Physical";
	case 0x06: return "Image";
	case 0x07: return "Printer";
	case 0x08: return "Mass Storage";
	case 0x09: return "Hub";
	case 0x0a: return "CDC Data";
	case 0x0b: return "Smart Card";
	case 0x0d: return "Content Security";
	case 0x0e: return "Video";
	case 0x0f: return "Personal Healthcare";
	case 0x10: return "Audio/Video";
	case 0x11: return "Billboard";
	case 0xdc: return "Diagnostic";
	case 0xe0: return "Wireless";
	case 0xef: return "Miscellaneous";
	case 0xfe: return "Application Specific";
	case 0xff: return "Vendor Specific";
	default: return NULL;
	}
}

static void append_class(char *buf, size_t size, uint8_t cls)
{
	const char *name = usb_class_name(cls);
	char hex[8];
	size_t l = strlen(buf);

	if (!name) {
		snprintf(hex, sizeof(hex), "%02x", cls);
		name = hex;
	}
	if (l && l < size)
		snprintf(buf + l, size - l, ",%s", name);
	else if (!l)
		snprintf(buf, size, "%s", name);
}

void usb_device_classes(const uint8_t *blob, size_t len, char *buf,
			size_t size)
{
	struct usb_desc_iter it;
	const uint8_t *d;
	uint32_t seen[8] = { 0 };
	int n, configs = 0;

	if (!size)
		return;
	buf[0] = 0;
	if (!device_first(blob, len)) {
		snprintf(buf, size, "-");
		return;
	}
	if (blob[4]) {
		append_class(buf, size, blob[4]);
		return;
	}
	usb_desc_iter_init(&it, blob, len);
	while ((n = usb_desc_next(&it, &d)) > 0) {
		if (d[1] == USB_DT_CONFIG && ++configs > 1)
			break;
		if (d[1] != USB_DT_INTERFACE || n < IFACE_LEN ||
		    seen[d[5] / 32] >> (d[5] % 32) & 1)
			continue;
		seen[d[5] / 32] |= 1u << (d[5] % 32);
		append_class(buf, size, d[5]);
	}
	if (!buf[0])
		snprintf(buf, size, "-");
}

/* ---- the -v dump ---- */

static const char *const ep_types[4] = {
	"control", "isochronous", "bulk", "interrupt",
};

static void print_one(FILE *f, const uint8_t *d, int n, const char *indent)
{
	const char *name;

	switch (d[1]) {
	case USB_DT_DEVICE:
		if (n < DEVICE_LEN)
			break;
		fprintf(f, "%sDevice: USB %x.%02x class %02x/%02x/%02x ep0 mps %u"
			" id %04x:%04x bcdDevice %x.%02x strings %u/%u/%u"
			" configurations %u\n", indent, d[3], d[2], d[4], d[5],
			d[6], d[7], le16(d + 8), le16(d + 10), d[13], d[12],
			d[14], d[15], d[16], d[17]);
		return;
	case USB_DT_CONFIG:
		if (n < CONFIG_LEN)
			break;
		fprintf(f, "%s  Configuration %u: %u interface(s), total %u bytes,"
			" attributes %02x (%s%s), max power %u mA\n", indent,
			d[5], d[4], le16(d + 2), d[7],
			d[7] & 0x40 ? "self-powered" : "bus-powered",
			d[7] & 0x20 ? ", remote wakeup" : "", 2u * d[8]);
		return;
	case USB_DT_INTERFACE:
		if (n < IFACE_LEN)
			break;
		name = usb_class_name(d[5]);
		fprintf(f, "%s    Interface %u alt %u: class %02x/%02x/%02x (%s),"
			" %u endpoint(s)\n", indent, d[2], d[3], d[5], d[6],
			d[7], name ? name : "?", d[4]);
		return;
	case USB_DT_ENDPOINT:
		if (n < EP_LEN)
			break;
		fprintf(f, "%s      Endpoint %02x: %s %s, mps %u, interval %u\n",
			indent, d[2], ep_types[d[3] & 3],
			d[2] & 0x80 ? "in" : "out", le16(d + 4) & 0x7ff, d[6]);
		return;
	case USB_DT_HID:
		if (n < HID_LEN)
			break;
		fprintf(f, "%s      HID %x.%02x, country %u, report descriptor"
			" %u bytes\n", indent, d[3], d[2], d[4], le16(d + 7));
		return;
	case USB_DT_SS_EP_COMP:
		if (n < 6)
			break;
		fprintf(f, "%s        SuperSpeed companion: burst %u,"
			" attributes %02x\n", indent, d[2], d[3]);
		return;
	default:
		break;
	}
	fprintf(f, "%s      Descriptor type %02x, %d bytes\n", indent, d[1], n);
}

int usb_desc_print(FILE *f, const uint8_t *blob, size_t len,
		   const char *indent)
{
	struct usb_desc_iter it;
	const uint8_t *d;
	int n;

	usb_desc_iter_init(&it, blob, len);
	while ((n = usb_desc_next(&it, &d)) > 0)
		print_one(f, d, n, indent);
	if (n < 0)
		fprintf(f, "%s(malformed descriptor at byte %zu)\n", indent,
			it.pos);
	return n < 0 ? n : 0;
}

/* ---- the listing and strings ---- */

static int word(const char **s, char *buf, size_t size)
{
	size_t n = 0;

	while (**s == ' ')
		(*s)++;
	while (**s && **s != ' ' && **s != '\n') {
		if (n + 1 >= size)
			return -EINVAL;
		buf[n++] = *(*s)++;
	}
	buf[n] = 0;
	return n ? 0 : -EINVAL;
}

int usb_parse_port_line(const char *line, struct usb_port_line *out)
{
	const char *s = line;

	memset(out, 0, sizeof(*out));
	if (word(&s, out->port, sizeof(out->port)) ||
	    word(&s, out->state, sizeof(out->state)) ||
	    word(&s, out->speed, sizeof(out->speed)) ||
	    word(&s, out->id, sizeof(out->id)) ||
	    word(&s, out->cls, sizeof(out->cls)) ||
	    word(&s, out->driver, sizeof(out->driver)))
		return -EINVAL;
	while (*s == ' ')
		s++;
	if ((*s && *s != '\n') || strncmp(out->port, "port", 4))
		return -EINVAL;
	return 0;
}

void usb_strings_get(const char *text, const char *key, char *buf,
		     size_t size)
{
	size_t kl = strlen(key);
	const char *p = text;

	if (!size)
		return;
	buf[0] = 0;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		if (l > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			snprintf(buf, size, "%.*s", (int)(l - kl - 1), p + kl + 1);
			return;
		}
		p = nl ? nl + 1 : NULL;
	}
}
