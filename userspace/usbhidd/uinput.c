// SPDX-License-Identifier: MIT
/*
 * uinput.c: usbhidd's events into Linux's input layer (--uinput).
 *
 * /dev/uinput makes one virtual input device per usbhidd: the keys,
 * buttons and axes the HID device has are declared with UI_SET_*BIT,
 * absolute axes with their logical range (UI_ABS_SETUP), the name and
 * ids with UI_DEV_SETUP, then UI_DEV_CREATE.  Each report's events are
 * written as struct input_event, closed by SYN_REPORT, so that evdev
 * readers (a console, X, libinput, evtest) see one frame per report.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/uinput.h>

#include "uinput.h"

#ifndef UINPUT_PATH
#define UINPUT_PATH	"/dev/uinput"
#endif

static int set_bit(int fd, unsigned long req, int bit)
{
	return ioctl(fd, req, bit) < 0 ? -errno : 0;
}

static int abs_axis(int fd, uint16_t code, int32_t min, int32_t max)
{
	struct uinput_abs_setup a = {
		.code = code,
		.absinfo = { .minimum = min, .maximum = max },
	};

	int r = set_bit(fd, UI_SET_ABSBIT, code);

	if (r)
		return r;
	return ioctl(fd, UI_ABS_SETUP, &a) < 0 ? -errno : 0;
}

/* The logical range of the layout's absolute X or Y, 0..32767 if none. */
static void abs_range(const struct hid_layout *l, uint16_t usage,
		      int32_t *min, int32_t *max)
{
	unsigned int i;

	*min = 0;
	*max = 32767;
	for (i = 0; l && i < l->nfields; i++)
		if (l->f[i].page == HID_PAGE_DESKTOP && l->f[i].usage == usage &&
		    !(l->f[i].flags & HID_IN_RELATIVE)) {
			*min = l->f[i].logical_min;
			*max = l->f[i].logical_max;
			return;
		}
}

static int declare(int fd, unsigned int caps, const struct hid_layout *l)
{
	int32_t min, max;
	unsigned int u;
	int r = 0, b;

	if (caps & (HID_HAS_KEYS | HID_HAS_BUTTONS))
		r = set_bit(fd, UI_SET_EVBIT, EV_KEY);
	if (!r && (caps & HID_HAS_KEYS))
		for (u = 0; u < HID_KEY_USAGES && !r; u++)
			if (hid_key_code(u))
				r = set_bit(fd, UI_SET_KEYBIT, hid_key_code(u));
	if (!r && (caps & HID_HAS_BUTTONS))
		for (b = BTN_LEFT; b <= BTN_TASK && !r; b++)
			r = set_bit(fd, UI_SET_KEYBIT, b);
	if (!r && (caps & HID_HAS_REL)) {
		r = set_bit(fd, UI_SET_EVBIT, EV_REL);
		if (!r)
			r = set_bit(fd, UI_SET_RELBIT, REL_X);
		if (!r)
			r = set_bit(fd, UI_SET_RELBIT, REL_Y);
		if (!r)
			r = set_bit(fd, UI_SET_RELBIT, REL_WHEEL);
	}
	if (!r && (caps & HID_HAS_ABS)) {
		r = set_bit(fd, UI_SET_EVBIT, EV_ABS);
		abs_range(l, HID_USAGE_X, &min, &max);
		if (!r)
			r = abs_axis(fd, ABS_X, min, max);
		abs_range(l, HID_USAGE_Y, &min, &max);
		if (!r)
			r = abs_axis(fd, ABS_Y, min, max);
	}
	return r;
}

int hid_uinput_open(struct hid_uinput *u, const char *name, uint16_t vendor,
		    uint16_t product, unsigned int caps,
		    const struct hid_layout *l)
{
	struct uinput_setup s = {
		.id = { .bustype = BUS_USB, .vendor = vendor,
			.product = product },
	};
	int fd, r;

	u->fd = -1;
	fd = open(UINPUT_PATH, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	snprintf(s.name, sizeof(s.name), "%s", name);
	r = declare(fd, caps, l);
	if (!r && ioctl(fd, UI_DEV_SETUP, &s) < 0)
		r = -errno;
	if (!r && ioctl(fd, UI_DEV_CREATE) < 0)
		r = -errno;
	if (r) {
		close(fd);
		return r;
	}
	u->fd = fd;
	return 0;
}

int hid_uinput_emit(struct hid_uinput *u, const struct hid_events *evs)
{
	struct input_event ev[HID_MAX_EVENTS + 1];
	unsigned int i;
	size_t len;
	ssize_t n;

	if (!evs->n)
		return 0;
	memset(ev, 0, sizeof(ev));
	for (i = 0; i < evs->n; i++) {
		ev[i].type = evs->ev[i].type;
		ev[i].code = evs->ev[i].code;
		ev[i].value = evs->ev[i].value;
	}
	ev[i].type = EV_SYN;
	ev[i].code = SYN_REPORT;
	len = (evs->n + 1) * sizeof(*ev);
	n = write(u->fd, ev, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

void hid_uinput_close(struct hid_uinput *u)
{
	if (u->fd < 0)
		return;
	ioctl(u->fd, UI_DEV_DESTROY);
	close(u->fd);
	u->fd = -1;
}
