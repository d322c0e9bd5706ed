/* SPDX-License-Identifier: MIT */
/* uinput.h: usbhidd's virtual Linux input device (uinput.c). */
#ifndef USBHIDD_UINPUT_H
#define USBHIDD_UINPUT_H

#include "hid.h"

struct hid_uinput {
	int fd;		/* /dev/uinput, -1 when closed */
};

/*
 * Create the device: name, USB ids, what it reports (HID_HAS_*), and for
 * HID_HAS_ABS the layout whose X/Y ranges it takes (NULL: 0..32767).
 * 0 or -errno (-ENOENT: no uinput module, -EACCES: not allowed).
 */
int hid_uinput_open(struct hid_uinput *u, const char *name, uint16_t vendor,
		    uint16_t product, unsigned int caps,
		    const struct hid_layout *l);
/* One report's events and a SYN_REPORT; 0 or -errno. */
int hid_uinput_emit(struct hid_uinput *u, const struct hid_events *evs);
void hid_uinput_close(struct hid_uinput *u);

#endif /* USBHIDD_UINPUT_H */
