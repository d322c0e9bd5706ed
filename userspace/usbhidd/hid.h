/* SPDX-License-Identifier: MIT */
/*
 * hid.h: what usbhidd knows of HID, in three host-testable parts:
 *
 *  - hid.c    the report descriptor parser (HID 1.11 section 6.2.2) and
 *             the decoder of reports it describes (report protocol);
 *  - boot.c   the fixed boot-protocol reports of keyboards and mice
 *             (HID 1.11 appendix B), the keyboard usage -> Linux keycode
 *             table and the key-state difference both decoders share;
 *  - event.c  the event batch a report turns into, and its text form.
 *
 * Events are Linux input events (type EV_KEY/EV_REL/EV_ABS, a code from
 * <linux/input-event-codes.h>, a value), so that uinput.c writes them as
 * they are.
 */
#ifndef USBHIDD_HID_H
#define USBHIDD_HID_H

#include <stddef.h>
#include <stdint.h>

/* ---- events ---- */

#define HID_MAX_EVENTS	128	/* per report; more are dropped (counted) */

struct hid_event {
	uint16_t type;		/* EV_KEY, EV_REL, EV_ABS */
	uint16_t code;		/* KEY_*, BTN_*, REL_*, ABS_* */
	int32_t value;		/* EV_KEY: 1 down, 0 up */
};

struct hid_events {
	unsigned int n;
	unsigned int dropped;
	struct hid_event ev[HID_MAX_EVENTS];
};

void hid_events_add(struct hid_events *evs, uint16_t type, uint16_t code,
		    int32_t value);

/*
 * The text of a batch, one line per event in the documented format
 * (docs/usbhid.md): "key down KEY_A", "button left up", then one line
 * "rel x=5 y=-3 wheel=1" for the relative axes and one "abs x=.. y=.."
 * for the absolute ones.  Returns the length written (NUL-terminated,
 * truncated to size like snprintf), or the length it would have had.
 */
size_t hid_events_format(const struct hid_events *evs, char *buf,
			 size_t size);

/* "KEY_A", "BTN_LEFT", ...; NULL for a code usbhidd never produces. */
const char *hid_code_name(uint16_t type, uint16_t code);

/* ---- keyboard state, shared by boot and report decoding ---- */

#define HID_KEY_USAGES	256	/* usages 0..255 of the keyboard page */

struct hid_keys {
	uint8_t down[HID_KEY_USAGES / 8];	/* bitmap by usage */
};

/* Linux keycode of keyboard-page usage u, 0 if none. */
uint16_t hid_key_code(unsigned int u);

/*
 * Move from *old to *now: an EV_KEY up for each usage released, then a
 * down for each pressed, in usage order; *old becomes *now.  Usages
 * without a keycode are tracked but give no event.
 */
void hid_keys_update(struct hid_keys *old, const struct hid_keys *now,
		     struct hid_events *evs);

/* ---- boot protocol (boot.c) ---- */

#define HID_BOOT_KBD_LEN	8
#define HID_BOOT_MOUSE_MIN	3

struct hid_boot_mouse {
	uint8_t buttons;
};

/*
 * A boot keyboard report: modifiers, reserved, six key usages.  A report
 * whose key slots say ErrorRollOver (the "phantom state": too many keys
 * down) updates the modifiers and keeps the keys as they were.  -EINVAL
 * for a report shorter than 8 bytes (nothing changes).
 */
int hid_boot_kbd_decode(struct hid_keys *keys, const uint8_t *rep,
			size_t len, struct hid_events *evs);

/* A boot mouse report: buttons, dx, dy [, wheel]; -EINVAL if < 3 bytes. */
int hid_boot_mouse_decode(struct hid_boot_mouse *m, const uint8_t *rep,
			  size_t len, struct hid_events *evs);

/* ---- report descriptors (hid.c) ---- */

#define HID_MAX_FIELDS		64	/* kept input fields, see below */
#define HID_MAX_REPORT_BYTES	256	/* an input report, report ID included */

/* Usage pages usbhidd reads. */
#define HID_PAGE_DESKTOP	0x01
#define HID_PAGE_KEYBOARD	0x07
#define HID_PAGE_BUTTON		0x09

#define HID_USAGE_X		0x30
#define HID_USAGE_Y		0x31
#define HID_USAGE_WHEEL		0x38

/* Input item flags (data bits 0..2). */
#define HID_IN_CONSTANT		0x01
#define HID_IN_VARIABLE		0x02
#define HID_IN_RELATIVE		0x04

/*
 * One input field usbhidd acts on: a variable field (one usage: an axis,
 * a button, a modifier key) or a keyboard array (count slots, each
 * holding a usage in [usage_min, usage_max] or nothing).
 */
struct hid_field {
	uint8_t report_id;	/* 0: the device uses no report IDs */
	uint8_t flags;		/* HID_IN_* */
	uint16_t page;
	uint16_t usage;		/* variable: its usage; array: usage_min */
	uint16_t usage_max;	/* array only */
	uint8_t size;		/* bits per value, 1..32 */
	uint8_t count;		/* array: slots; variable: 1 */
	uint32_t bit;		/* offset in the report, after the ID byte */
	int32_t logical_min;
	int32_t logical_max;
};

struct hid_layout {
	unsigned int nfields;
	int uses_ids;		/* reports begin with a report ID byte */
	unsigned int ignored;	/* input fields of usages usbhidd ignores */
	struct hid_field f[HID_MAX_FIELDS];
};

/*
 * Parse a report descriptor.  0, or: -EINVAL malformed (an item past the
 * end, an unbalanced collection or push/pop, report ID 0, fields before
 * the first report ID, an input of fields over 32 bits), -E2BIG more than
 * HID_MAX_FIELDS useful fields or a report over HID_MAX_REPORT_BYTES,
 * -ENOENT no field usbhidd can use.
 */
int hid_parse(const uint8_t *desc, size_t len, struct hid_layout *out);

/* What the decoder of one device remembers between reports. */
struct hid_state {
	struct hid_keys keys;
	uint32_t buttons;	/* bit n: button usage n + 1 */
	int32_t abs[2];		/* last X, Y sent */
	int abs_valid;
};

/*
 * Decode one input report (with its ID byte if the layout uses IDs).  0,
 * or -EINVAL for a report too short for its fields, -ENOENT for a report
 * ID the layout has no field in (nothing changes either way).
 */
int hid_decode(const struct hid_layout *l, struct hid_state *st,
	       const uint8_t *rep, size_t len, struct hid_events *evs);

/* Kind of device a layout describes, for the ready line and uinput. */
#define HID_HAS_KEYS	0x1
#define HID_HAS_BUTTONS	0x2
#define HID_HAS_REL	0x4
#define HID_HAS_ABS	0x8
unsigned int hid_layout_caps(const struct hid_layout *l);

#endif /* USBHIDD_HID_H */
