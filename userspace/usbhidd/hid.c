// SPDX-License-Identifier: MIT
/*
 * hid.c: HID report descriptors, parsed enough to read pointers and
 * keyboards in report protocol, and the reports they describe.
 *
 * A report descriptor is a list of items.  A short item is one prefix
 * byte (bits 1:0 the data size 0, 1, 2 or 4 bytes; bits 3:2 the type:
 * main, global, local; bits 7:4 the tag) and its little-endian data.
 * Prefix 0xFE starts a long item (data size, tag, data), which carries
 * nothing usbhidd needs and is skipped.
 *
 * Global items (usage page, logical min/max, report size/count/ID) hold
 * until changed, Push/Pop save and restore them; local items (usages,
 * usage ranges) hold for the next main item only.  Each Input main item
 * lays report-count fields of report-size bits at the next free bit of
 * its report.  Kept are the fields usbhidd turns into events: X, Y and
 * the wheel of the Generic Desktop page, buttons, and the keyboard page
 * (modifier bits and key arrays); the rest only move the bit offsets.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <linux/input-event-codes.h>

#include "hid.h"

#define ITEM_MAIN	0
#define ITEM_GLOBAL	1
#define ITEM_LOCAL	2

#define MAIN_INPUT	0x8
#define MAIN_COLLECTION	0xa
#define MAIN_END	0xc

#define GLOBAL_PAGE	0x0
#define GLOBAL_LMIN	0x1
#define GLOBAL_LMAX	0x2
#define GLOBAL_SIZE	0x7
#define GLOBAL_ID	0x8
#define GLOBAL_COUNT	0x9
#define GLOBAL_PUSH	0xa
#define GLOBAL_POP	0xb

#define LOCAL_USAGE	0x0
#define LOCAL_MIN	0x1
#define LOCAL_MAX	0x2

#define MAX_DEPTH	16	/* nested collections */
#define MAX_PUSH	4
#define MAX_USAGES	32	/* explicit usages before one main item */
#define MAX_BUTTONS	8	/* BTN_LEFT .. BTN_TASK */

struct globals {
	uint32_t page;
	int32_t lmin, lmax;
	uint32_t lmax_u;		/* lmax read unsigned */
	uint32_t size, count, id;
};

struct parser {
	struct globals g, stack[MAX_PUSH];
	unsigned int sp, depth;
	uint32_t usages[MAX_USAGES];	/* page << 16 | usage */
	unsigned int nusages;
	uint32_t umin, umax;
	int have_min, have_max;
	uint32_t bits[256];		/* next free bit, by report ID */
	struct hid_layout *out;
};

static uint32_t item_u(const uint8_t *d, unsigned int n)
{
	uint32_t v = 0;

	while (n--)
		v = v << 8 | d[n];
	return v;
}

static int32_t item_s(const uint8_t *d, unsigned int n)
{
	uint32_t v = item_u(d, n);

	if (n && n < 4 && v >> (8 * n - 1))
		v |= ~0u << (8 * n);
	return (int32_t)v;
}

/* A usage as given: 4 bytes carry their own page, fewer take the global. */
static uint32_t full_usage(const struct parser *p, uint32_t v, unsigned int n)
{
	return n == 4 ? v : (p->g.page & 0xffff) << 16 | (v & 0xffff);
}

static int wanted(uint32_t usage, int variable)
{
	uint16_t page = usage >> 16, u = usage & 0xffff;

	if (page == HID_PAGE_DESKTOP)
		return variable && (u == HID_USAGE_X || u == HID_USAGE_Y ||
				    u == HID_USAGE_WHEEL);
	if (page == HID_PAGE_BUTTON)
		return variable && u >= 1 && u <= MAX_BUTTONS;
	return page == HID_PAGE_KEYBOARD;
}

static int keep(struct parser *p, const struct hid_field *f)
{
	struct hid_layout *l = p->out;

	if (l->nfields == HID_MAX_FIELDS)
		return -E2BIG;
	l->f[l->nfields++] = *f;
	return 0;
}

/* The usage of variable field i of a main item. */
static uint32_t nth_usage(const struct parser *p, uint32_t i)
{
	if (p->nusages)
		return p->usages[i < p->nusages ? i : p->nusages - 1];
	if (p->have_min && p->have_max && p->umax >= p->umin)
		return p->umin + (i < p->umax - p->umin ? i : p->umax - p->umin);
	return 0;
}

static int input_item(struct parser *p, uint32_t flags)
{
	struct hid_field f = {
		.report_id = (uint8_t)p->g.id, .flags = (uint8_t)flags,
		.size = (uint8_t)p->g.size, .logical_min = p->g.lmin,
		.logical_max = p->g.lmax,
	};
	uint32_t *next = &p->bits[p->g.id], total, i;
	int r;

	if (p->g.size > 32)
		return p->g.count ? -EINVAL : 0;
	if (!p->g.size || !p->g.count)
		return 0;	/* a field of no bits */
	/*
	 * A maximum below a nonnegative minimum was meant unsigned: keyboards
	 * write 0..255 as "Logical Maximum (1 byte) 0xFF", which is -1.
	 */
	if (f.logical_min >= 0 && f.logical_max < f.logical_min)
		f.logical_max = p->g.lmax_u > INT32_MAX ? INT32_MAX :
				(int32_t)p->g.lmax_u;
	total = p->g.size * p->g.count;	/* <= 32 * 255 */
	if (*next + total > 8 * (HID_MAX_REPORT_BYTES - (p->g.id != 0)))
		return -E2BIG;
	if (flags & HID_IN_CONSTANT) {
		*next += total;
		return 0;
	}
	if (flags & HID_IN_VARIABLE) {
		for (i = 0; i < p->g.count; i++) {
			uint32_t u = nth_usage(p, i);

			if (!wanted(u, 1)) {
				p->out->ignored++;
				continue;
			}
			f.page = u >> 16;
			f.usage = u & 0xffff;
			f.count = 1;
			f.bit = *next + i * p->g.size;
			r = keep(p, &f);
			if (r)
				return r;
		}
	} else if (p->g.count) {
		uint32_t lo = p->have_min ? p->umin : nth_usage(p, 0);
		uint32_t hi = p->have_max ? p->umax : lo;

		if (lo >> 16 == HID_PAGE_KEYBOARD && hi >> 16 == lo >> 16 &&
		    hi >= lo) {
			f.page = HID_PAGE_KEYBOARD;
			f.usage = lo & 0xffff;
			f.usage_max = hi & 0xffff;
			f.count = (uint8_t)p->g.count;
			f.bit = *next;
			r = keep(p, &f);
			if (r)
				return r;
		} else {
			p->out->ignored++;
		}
	}
	*next += total;
	return 0;
}

static void clear_locals(struct parser *p)
{
	p->nusages = 0;
	p->have_min = p->have_max = 0;
}

static int main_item(struct parser *p, unsigned int tag, uint32_t v)
{
	int r = 0;

	switch (tag) {
	case MAIN_INPUT:
		r = input_item(p, v);
		break;
	case MAIN_COLLECTION:
		if (++p->depth > MAX_DEPTH)
			r = -EINVAL;
		break;
	case MAIN_END:
		if (!p->depth)
			r = -EINVAL;
		else
			p->depth--;
		break;
	default:	/* Output, Feature: not read by usbhidd */
		break;
	}
	clear_locals(p);
	return r;
}

static int global_item(struct parser *p, unsigned int tag, const uint8_t *d,
		       unsigned int n)
{
	uint32_t v = item_u(d, n);

	switch (tag) {
	case GLOBAL_PAGE:
		p->g.page = v;
		break;
	case GLOBAL_LMIN:
		p->g.lmin = item_s(d, n);
		break;
	case GLOBAL_LMAX:
		p->g.lmax = item_s(d, n);
		p->g.lmax_u = v;
		break;
	case GLOBAL_SIZE:
		if (v > 32)
			return -EINVAL;
		p->g.size = v;
		break;
	case GLOBAL_ID:
		if (!v || v > 255)
			return -EINVAL;
		p->g.id = v;
		p->out->uses_ids = 1;
		break;
	case GLOBAL_COUNT:
		if (v > 255)
			return -EINVAL;
		p->g.count = v;
		break;
	case GLOBAL_PUSH:
		if (p->sp == MAX_PUSH)
			return -EINVAL;
		p->stack[p->sp++] = p->g;
		break;
	case GLOBAL_POP:
		if (!p->sp)
			return -EINVAL;
		p->g = p->stack[--p->sp];
		break;
	default:
		break;
	}
	return 0;
}

static void local_item(struct parser *p, unsigned int tag, const uint8_t *d,
		       unsigned int n)
{
	uint32_t v = item_u(d, n);

	switch (tag) {
	case LOCAL_USAGE:
		if (p->nusages < MAX_USAGES)
			p->usages[p->nusages++] = full_usage(p, v, n);
		break;
	case LOCAL_MIN:
		p->umin = full_usage(p, v, n);
		p->have_min = 1;
		break;
	case LOCAL_MAX:
		p->umax = full_usage(p, v, n);
		p->have_max = 1;
		break;
	default:
		break;
	}
}

int hid_parse(const uint8_t *desc, size_t len, struct hid_layout *out)
{
	struct parser p;
	size_t i = 0;
	int r;

	memset(&p, 0, sizeof(p));
	memset(out, 0, sizeof(*out));
	p.out = out;
	while (i < len) {
		uint8_t prefix = desc[i];
		unsigned int n = prefix & 3, type = prefix >> 2 & 3;
		unsigned int tag = prefix >> 4;

		if (prefix == 0xfe) {		/* long item */
			if (len - i < 3 || len - i - 3 < desc[i + 1])
				return -EINVAL;
			i += 3 + (size_t)desc[i + 1];
			continue;
		}
		if (n == 3)
			n = 4;
		if (len - i - 1 < n)
			return -EINVAL;
		if (type == ITEM_MAIN)
			r = main_item(&p, tag, item_u(desc + i + 1, n));
		else if (type == ITEM_GLOBAL)
			r = global_item(&p, tag, desc + i + 1, n);
		else if (type == ITEM_LOCAL)
			r = (local_item(&p, tag, desc + i + 1, n), 0);
		else
			r = 0;			/* reserved type */
		if (r)
			return r;
		i += 1 + n;
	}
	if (p.depth || p.sp)
		return -EINVAL;
	if (out->uses_ids && p.bits[0])
		return -EINVAL;	/* fields outside any report ID */
	return out->nfields ? 0 : -ENOENT;
}

unsigned int hid_layout_caps(const struct hid_layout *l)
{
	unsigned int i, caps = 0;

	for (i = 0; i < l->nfields; i++) {
		const struct hid_field *f = &l->f[i];

		if (f->page == HID_PAGE_KEYBOARD)
			caps |= HID_HAS_KEYS;
		else if (f->page == HID_PAGE_BUTTON)
			caps |= HID_HAS_BUTTONS;
		else if (f->flags & HID_IN_RELATIVE)
			caps |= HID_HAS_REL;
		else
			caps |= HID_HAS_ABS;
	}
	return caps;
}

/* ---- decoding ---- */

static uint32_t get_bits(const uint8_t *rep, uint32_t bit, unsigned int size)
{
	uint64_t v = 0;
	unsigned int i, first = bit / 8, last = (bit + size - 1) / 8;

	for (i = last + 1; i-- > first;)
		v = v << 8 | rep[i];
	v >>= bit % 8;
	return size == 32 ? (uint32_t)v : (uint32_t)(v & ((1ull << size) - 1));
}

/* A field's value, sign-extended when its logical minimum is negative. */
static int32_t field_value(const struct hid_field *f, const uint8_t *rep,
			   uint32_t bit)
{
	uint32_t v = get_bits(rep, bit, f->size);

	if (f->logical_min < 0 && f->size < 32 && v >> (f->size - 1))
		v |= ~0u << f->size;
	return (int32_t)v;
}

static void axis(struct hid_state *st, const struct hid_field *f, int32_t v,
		 struct hid_events *evs)
{
	uint16_t code = f->usage == HID_USAGE_X ? REL_X :
			f->usage == HID_USAGE_Y ? REL_Y : REL_WHEEL;

	if (f->flags & HID_IN_RELATIVE) {
		if (v)
			hid_events_add(evs, EV_REL, code, v);
		return;
	}
	if (code == REL_WHEEL)
		return;		/* an absolute wheel: no use here */
	if (!st->abs_valid || st->abs[code] != v)
		hid_events_add(evs, EV_ABS, code, v);	/* ABS_X/Y == REL_X/Y */
	st->abs[code] = v;
}

int hid_decode(const struct hid_layout *l, struct hid_state *st,
	       const uint8_t *rep, size_t len, struct hid_events *evs)
{
	struct hid_keys keys;
	uint32_t buttons = st->buttons, i, j;
	uint8_t id = 0;
	int any = 0, keyfields = 0, phantom = 0, absfields = 0;

	if (l->uses_ids) {
		if (!len)
			return -EINVAL;
		id = rep[0];
		rep++;
		len--;
	}
	for (i = 0; i < l->nfields; i++) {
		const struct hid_field *f = &l->f[i];

		if (f->report_id != id)
			continue;
		any = 1;
		if (f->bit + (uint32_t)f->size * f->count > 8 * len)
			return -EINVAL;
	}
	if (!any)
		return -ENOENT;

	keys = st->keys;
	for (i = 0; i < l->nfields; i++) {
		const struct hid_field *f = &l->f[i];

		if (f->report_id != id || f->page != HID_PAGE_KEYBOARD)
			continue;
		if (!keyfields++)
			memset(&keys, 0, sizeof(keys));
		if (f->flags & HID_IN_VARIABLE) {	/* a modifier bit */
			if (field_value(f, rep, f->bit) && f->usage < HID_KEY_USAGES)
				keys.down[f->usage / 8] |= 1u << (f->usage % 8);
			continue;
		}
		for (j = 0; j < f->count; j++) {
			int32_t v = field_value(f, rep, f->bit + j * f->size);
			uint32_t u;

			if (v < f->logical_min || v > f->logical_max)
				continue;	/* an empty slot */
			u = f->usage + (uint32_t)((int64_t)v - f->logical_min);
			if (u > f->usage_max)
				continue;
			if (u == 0x01)
				phantom = 1;
			else if (u >= 0x04 && u < HID_KEY_USAGES)
				keys.down[u / 8] |= 1u << (u % 8);
		}
	}
	if (keyfields) {
		if (phantom) {	/* ErrorRollOver: keep the keys, take modifiers */
			uint8_t mods = keys.down[0xe0 / 8];

			keys = st->keys;
			keys.down[0xe0 / 8] = mods;
		}
		hid_keys_update(&st->keys, &keys, evs);
	}

	for (i = 0; i < l->nfields; i++) {
		const struct hid_field *f = &l->f[i];

		if (f->report_id != id || f->page != HID_PAGE_BUTTON)
			continue;
		if (field_value(f, rep, f->bit))
			buttons |= 1u << (f->usage - 1);
		else
			buttons &= ~(1u << (f->usage - 1));
	}
	for (i = 0; i < MAX_BUTTONS; i++)
		if ((buttons ^ st->buttons) >> i & 1)
			hid_events_add(evs, EV_KEY, BTN_LEFT + i,
				       buttons >> i & 1);
	st->buttons = buttons;

	for (i = 0; i < l->nfields; i++) {
		const struct hid_field *f = &l->f[i];

		if (f->report_id != id || f->page != HID_PAGE_DESKTOP)
			continue;
		axis(st, f, field_value(f, rep, f->bit), evs);
		absfields += !(f->flags & HID_IN_RELATIVE);
	}
	if (absfields)
		st->abs_valid = 1;
	return 0;
}
