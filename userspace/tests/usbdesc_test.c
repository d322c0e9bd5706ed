// SPDX-License-Identifier: MIT
/*
 * usbdesc_test: tools/usb-desc.c on the host: interfaces found in the
 * descriptors of QEMU's USB devices (as Linux read them), the class
 * words and the -v dump of `rxuctl usb`, the `usb:` listing's lines and
 * `strings` file, and malformed descriptors with their errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/usb-desc.h"
#include "tap.h"
#include "usb-devices.h"

static int test_find_hid(void)
{
	struct usb_iface_info i;

	CHECK_EQ(usb_find_interface(qemu_kbd_desc, sizeof(qemu_kbd_desc), 0, &i), 0);
	CHECK_EQ(i.vendor, 0x0627);
	CHECK_EQ(i.product, 0x0001);
	CHECK_EQ(i.cls, USB_CLASS_HID);
	CHECK_EQ(i.subclass, 1);
	CHECK_EQ(i.protocol, 1);
	CHECK_EQ(i.report_len, 63);
	CHECK_EQ(i.ep_in, 0x81);
	CHECK_EQ(i.ep_in_mps, 8);
	CHECK_EQ(i.ep_in_interval, 7);
	CHECK_EQ(usb_find_interface(qemu_kbd_hub_desc, sizeof(qemu_kbd_hub_desc),
				    0, &i), 0);
	CHECK_EQ(i.ep_in_interval, 10);
	CHECK_EQ(usb_find_interface(qemu_mouse_desc, sizeof(qemu_mouse_desc), 0, &i), 0);
	CHECK_EQ(i.protocol, 2);
	CHECK_EQ(i.report_len, 52);
	CHECK_EQ(i.ep_in_mps, 4);
	CHECK_EQ(usb_find_interface(qemu_tablet_desc, sizeof(qemu_tablet_desc), 0, &i), 0);
	CHECK_EQ(i.subclass, 0);		/* not a boot device */
	CHECK_EQ(i.protocol, 0);
	CHECK_EQ(i.report_len, 74);
	CHECK_EQ(usb_find_interface(qemu_tablet_desc, sizeof(qemu_tablet_desc), 1, &i),
		 -ENOENT);
	return 0;
}

static int test_find_other(void)
{
	struct usb_iface_info i;

	CHECK_EQ(usb_find_interface(qemu_storage_desc, sizeof(qemu_storage_desc),
				    0, &i), 0);
	CHECK_EQ(i.cls, 0x08);
	CHECK_EQ(i.subclass, 0x06);
	CHECK_EQ(i.protocol, 0x50);
	CHECK_EQ(i.ep_in, 0);			/* bulk, not interrupt */
	CHECK_EQ(i.report_len, 0);
	CHECK_EQ(usb_find_interface(qemu_hub_desc, sizeof(qemu_hub_desc), 0, &i), 0);
	CHECK_EQ(i.cls, 0x09);
	CHECK_EQ(i.ep_in, 0x81);
	CHECK_EQ(i.ep_in_interval, 0xff);
	return 0;
}

static int test_malformed(void)
{
	struct usb_iface_info i;
	uint8_t d[sizeof(qemu_kbd_desc)];
	struct usb_desc_iter it;
	const uint8_t *p;

	/* Not a device descriptor first: short, wrong type, wrong length. */
	CHECK_EQ(usb_find_interface(qemu_kbd_desc, 17, 0, &i), -EINVAL);
	memcpy(d, qemu_kbd_desc, sizeof(d));
	d[1] = USB_DT_CONFIG;
	CHECK_EQ(usb_find_interface(d, sizeof(d), 0, &i), -EINVAL);
	/* A bLength of 0 or 1 inside, or one running past the end. */
	memcpy(d, qemu_kbd_desc, sizeof(d));
	d[27] = 0;				/* the interface descriptor */
	CHECK_EQ(usb_find_interface(d, sizeof(d), 0, &i), -EINVAL);
	d[27] = 1;
	CHECK_EQ(usb_find_interface(d, sizeof(d), 0, &i), -EINVAL);
	memcpy(d, qemu_kbd_desc, sizeof(d));
	CHECK_EQ(usb_find_interface(d, sizeof(d) - 1, 0, &i), -EINVAL);
	/* The iterator itself: exact lengths, then the end. */
	usb_desc_iter_init(&it, qemu_kbd_desc, sizeof(qemu_kbd_desc));
	CHECK_EQ(usb_desc_next(&it, &p), 18);
	CHECK_EQ(usb_desc_next(&it, &p), 9);
	CHECK_EQ(p[1], USB_DT_CONFIG);
	CHECK_EQ(usb_desc_next(&it, &p), 9);
	CHECK_EQ(usb_desc_next(&it, &p), 9);
	CHECK_EQ(p[1], USB_DT_HID);
	CHECK_EQ(usb_desc_next(&it, &p), 7);
	CHECK_EQ(usb_desc_next(&it, &p), 0);
	usb_desc_iter_init(&it, d, 1);
	CHECK_EQ(usb_desc_next(&it, &p), -EINVAL);
	return 0;
}

static int test_classes(void)
{
	char b[32];

	usb_device_classes(qemu_kbd_desc, sizeof(qemu_kbd_desc), b, sizeof(b));
	CHECK_STR(b, "HID");
	usb_device_classes(qemu_hub_desc, sizeof(qemu_hub_desc), b, sizeof(b));
	CHECK_STR(b, "Hub");
	usb_device_classes(qemu_storage_desc, sizeof(qemu_storage_desc), b, sizeof(b));
	CHECK_STR(b, "Mass Storage");
	usb_device_classes(qemu_storage_desc, 5, b, sizeof(b));
	CHECK_STR(b, "-");
	usb_device_classes(qemu_storage_desc, sizeof(qemu_storage_desc), b, 5);
	CHECK_STR(b, "Mass");
	CHECK(usb_class_name(0x04) == NULL);
	return 0;
}

static int dump(const uint8_t *d, size_t len, char **out, int *ret)
{
	size_t n;
	FILE *f = open_memstream(out, &n);

	CHECK(f != NULL);
	*ret = usb_desc_print(f, d, len, "  ");
	fclose(f);
	return 0;
}

static int test_print(void)
{
	char *t = NULL;
	int r;

	TRY(dump(qemu_kbd_desc, sizeof(qemu_kbd_desc), &t, &r));
	CHECK_EQ(r, 0);
	CHECK_STR(t,
		"  Device: USB 2.00 class 00/00/00 ep0 mps 64 id 0627:0001"
		" bcdDevice 0.00 strings 1/4/11 configurations 1\n"
		"    Configuration 1: 1 interface(s), total 34 bytes,"
		" attributes a0 (bus-powered, remote wakeup), max power 100 mA\n"
		"      Interface 0 alt 0: class 03/01/01 (HID), 1 endpoint(s)\n"
		"        HID 1.11, country 0, report descriptor 63 bytes\n"
		"        Endpoint 81: interrupt in, mps 8, interval 7\n");
	free(t);
	TRY(dump(qemu_storage_desc, sizeof(qemu_storage_desc), &t, &r));
	CHECK_EQ(r, 0);
	CHECK_STR(t,
		"  Device: USB 2.00 class 00/00/00 ep0 mps 8 id 46f4:0001"
		" bcdDevice 0.00 strings 1/2/3 configurations 1\n"
		"    Configuration 1: 1 interface(s), total 32 bytes,"
		" attributes c0 (self-powered), max power 0 mA\n"
		"      Interface 0 alt 0: class 08/06/50 (Mass Storage), 2 endpoint(s)\n"
		"        Endpoint 81: bulk in, mps 64, interval 0\n"
		"        Endpoint 02: bulk out, mps 64, interval 0\n");
	free(t);
	/* Broken in the middle: what came before, then a note. */
	TRY(dump(qemu_hub_desc, 30, &t, &r));
	CHECK_EQ(r, -EINVAL);
	CHECK(strstr(t, "Configuration 1") != NULL);
	CHECK(strstr(t, "(malformed descriptor at byte 27)\n") != NULL);
	free(t);
	return 0;
}

static int test_port_line(void)
{
	struct usb_port_line l;

	CHECK_EQ(usb_parse_port_line("port5.1 configured full 0627:0001 00/00/00 usbhid\n",
				     &l), 0);
	CHECK_STR(l.port, "port5.1");
	CHECK_STR(l.state, "configured");
	CHECK_STR(l.speed, "full");
	CHECK_STR(l.id, "0627:0001");
	CHECK_STR(l.cls, "00/00/00");
	CHECK_STR(l.driver, "usbhid");
	CHECK_EQ(usb_parse_port_line("port3 empty - - - -", &l), 0);
	CHECK_STR(l.state, "empty");
	CHECK_STR(l.driver, "-");
	CHECK_EQ(usb_parse_port_line("port1 configured high 46f4:0001 00/00/00 usbscsid,x\n",
				     &l), 0);
	CHECK_STR(l.driver, "usbscsid,x");
	CHECK_EQ(usb_parse_port_line("port3 empty - - -\n", &l), -EINVAL);
	CHECK_EQ(usb_parse_port_line("port3 empty - - - - extra\n", &l), -EINVAL);
	CHECK_EQ(usb_parse_port_line("hub3 empty - - - -\n", &l), -EINVAL);
	CHECK_EQ(usb_parse_port_line("", &l), -EINVAL);
	CHECK_EQ(usb_parse_port_line("port1 aaaaaaaaaaaaaaaaaaaaaaaa - - - -", &l),
		 -EINVAL);
	return 0;
}

static int test_strings(void)
{
	const char *s = "manufacturer=QEMU\nproduct=QEMU USB Tablet\nserial=\n";
	char b[32];

	usb_strings_get(s, "product", b, sizeof(b));
	CHECK_STR(b, "QEMU USB Tablet");
	usb_strings_get(s, "manufacturer", b, sizeof(b));
	CHECK_STR(b, "QEMU");
	usb_strings_get(s, "serial", b, sizeof(b));
	CHECK_STR(b, "");
	usb_strings_get(s, "prod", b, sizeof(b));
	CHECK_STR(b, "");
	usb_strings_get("product=no newline", "product", b, sizeof(b));
	CHECK_STR(b, "no newline");
	usb_strings_get(s, "product", b, 5);
	CHECK_STR(b, "QEMU");
	return 0;
}

static const struct tap_test tests[] = {
	{ "interfaces: QEMU's HID devices", test_find_hid },
	{ "interfaces: usb-storage, usb-hub", test_find_other },
	{ "descriptors: malformed", test_malformed },
	{ "class words", test_classes },
	{ "the -v dump", test_print },
	{ "listing lines", test_port_line },
	{ "strings file", test_strings },
};

TAP_MAIN(tests)
