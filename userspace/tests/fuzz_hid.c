// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for usbhidd's report descriptor parser and report
 * decoder (usbhidd/hid.c, boot.c, event.c), host-native:
 *
 *   make -C userspace fuzz            (every target, FUZZ_SECONDS each)
 *
 * The first input byte splits the rest into a report descriptor and a
 * run of reports (each: a length byte, then its bytes).  A descriptor
 * that parses must give a bounded layout, every field inside its report;
 * every report, decoded by the layout and as boot keyboard and mouse
 * reports, must give at most HID_MAX_EVENTS events whose text fits.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../usbhidd/hid.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hid_layout l;
	struct hid_state st = { 0 };
	struct hid_keys keys = { 0 };
	struct hid_boot_mouse m = { 0 };
	char text[HID_MAX_EVENTS * 32];
	size_t split, i;
	unsigned int f;
	int r, parsed;

	if (!size)
		return 0;
	split = data[0] < size - 1 ? data[0] : size - 1;
	r = hid_parse(data + 1, split, &l);
	check(r == 0 || r == -EINVAL || r == -E2BIG || r == -ENOENT);
	parsed = !r;
	if (parsed)
		for (f = 0; f < l.nfields; f++)
			check(l.f[f].bit + (uint32_t)l.f[f].size * l.f[f].count <=
			      8u * HID_MAX_REPORT_BYTES);
	for (i = 1 + split; i < size;) {
		size_t len = data[i++];
		struct hid_events evs = { 0 };

		if (len > size - i)
			len = size - i;
		if (parsed) {
			r = hid_decode(&l, &st, data + i, len, &evs);
			check(r == 0 || r == -EINVAL || r == -ENOENT);
		}
		hid_boot_kbd_decode(&keys, data + i, len, &evs);
		hid_boot_mouse_decode(&m, data + i, len, &evs);
		check(evs.n <= HID_MAX_EVENTS);
		check(hid_events_format(&evs, text, sizeof(text)) < sizeof(text));
		i += len;
	}
	return 0;
}
