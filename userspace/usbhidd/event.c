// SPDX-License-Identifier: MIT
/*
 * event.c: the batch of input events one report gives, and its text.
 *
 * Keys and buttons are one line each ("key down KEY_A", "button left
 * up"); the relative axes of a report are one line ("rel x=5 y=-3
 * wheel=1", only the axes that moved), the absolute ones another ("abs
 * x=16383 y=16383").  Key names are Linux's (input-event-codes.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include <linux/input-event-codes.h>

#include "hid.h"

void hid_events_add(struct hid_events *evs, uint16_t type, uint16_t code,
		    int32_t value)
{
	if (evs->n == HID_MAX_EVENTS) {
		evs->dropped++;
		return;
	}
	evs->ev[evs->n++] = (struct hid_event){
		.type = type, .code = code, .value = value,
	};
}

#define NAME(c)	{ c, #c }

static const struct {
	uint16_t code;
	const char *name;
} key_names[] = {
	NAME(KEY_ESC), NAME(KEY_1), NAME(KEY_2), NAME(KEY_3), NAME(KEY_4),
	NAME(KEY_5), NAME(KEY_6), NAME(KEY_7), NAME(KEY_8), NAME(KEY_9),
	NAME(KEY_0), NAME(KEY_MINUS), NAME(KEY_EQUAL), NAME(KEY_BACKSPACE),
	NAME(KEY_TAB), NAME(KEY_Q), NAME(KEY_W), NAME(KEY_E), NAME(KEY_R),
	NAME(KEY_T), NAME(KEY_Y), NAME(KEY_U), NAME(KEY_I), NAME(KEY_O),
	NAME(KEY_P), NAME(KEY_LEFTBRACE), NAME(KEY_RIGHTBRACE),
	NAME(KEY_ENTER), NAME(KEY_LEFTCTRL), NAME(KEY_A), NAME(KEY_S),
	NAME(KEY_D), NAME(KEY_F), NAME(KEY_G), NAME(KEY_H), NAME(KEY_J),
	NAME(KEY_K), NAME(KEY_L), NAME(KEY_SEMICOLON), NAME(KEY_APOSTROPHE),
	NAME(KEY_GRAVE), NAME(KEY_LEFTSHIFT), NAME(KEY_BACKSLASH),
	NAME(KEY_Z), NAME(KEY_X), NAME(KEY_C), NAME(KEY_V), NAME(KEY_B),
	NAME(KEY_N), NAME(KEY_M), NAME(KEY_COMMA), NAME(KEY_DOT),
	NAME(KEY_SLASH), NAME(KEY_RIGHTSHIFT), NAME(KEY_KPASTERISK),
	NAME(KEY_LEFTALT), NAME(KEY_SPACE), NAME(KEY_CAPSLOCK),
	NAME(KEY_F1), NAME(KEY_F2), NAME(KEY_F3), NAME(KEY_F4), NAME(KEY_F5),
	NAME(KEY_F6), NAME(KEY_F7), NAME(KEY_F8), NAME(KEY_F9), NAME(KEY_F10),
	NAME(KEY_NUMLOCK), NAME(KEY_SCROLLLOCK), NAME(KEY_KP7), NAME(KEY_KP8),
	NAME(KEY_KP9), NAME(KEY_KPMINUS), NAME(KEY_KP4), NAME(KEY_KP5),
	NAME(KEY_KP6), NAME(KEY_KPPLUS), NAME(KEY_KP1), NAME(KEY_KP2),
	NAME(KEY_KP3), NAME(KEY_KP0), NAME(KEY_KPDOT), NAME(KEY_102ND),
	NAME(KEY_F11), NAME(KEY_F12), NAME(KEY_RO),
	NAME(KEY_KATAKANAHIRAGANA), NAME(KEY_HENKAN), NAME(KEY_MUHENKAN),
	NAME(KEY_KPJPCOMMA), NAME(KEY_KPENTER), NAME(KEY_RIGHTCTRL),
	NAME(KEY_KPSLASH), NAME(KEY_SYSRQ), NAME(KEY_RIGHTALT),
	NAME(KEY_HOME), NAME(KEY_UP), NAME(KEY_PAGEUP), NAME(KEY_LEFT),
	NAME(KEY_RIGHT), NAME(KEY_END), NAME(KEY_DOWN), NAME(KEY_PAGEDOWN),
	NAME(KEY_INSERT), NAME(KEY_DELETE), NAME(KEY_MUTE),
	NAME(KEY_VOLUMEDOWN), NAME(KEY_VOLUMEUP), NAME(KEY_POWER),
	NAME(KEY_KPEQUAL), NAME(KEY_PAUSE), NAME(KEY_KPCOMMA),
	NAME(KEY_HANGEUL), NAME(KEY_HANJA), NAME(KEY_YEN),
	NAME(KEY_LEFTMETA), NAME(KEY_RIGHTMETA), NAME(KEY_COMPOSE),
	NAME(KEY_STOP), NAME(KEY_AGAIN), NAME(KEY_UNDO), NAME(KEY_FRONT),
	NAME(KEY_COPY), NAME(KEY_OPEN), NAME(KEY_PASTE), NAME(KEY_FIND),
	NAME(KEY_CUT), NAME(KEY_HELP), NAME(KEY_MENU),
	NAME(KEY_F13), NAME(KEY_F14), NAME(KEY_F15), NAME(KEY_F16),
	NAME(KEY_F17), NAME(KEY_F18), NAME(KEY_F19), NAME(KEY_F20),
	NAME(KEY_F21), NAME(KEY_F22), NAME(KEY_F23), NAME(KEY_F24),
	NAME(BTN_LEFT), NAME(BTN_RIGHT), NAME(BTN_MIDDLE), NAME(BTN_SIDE),
	NAME(BTN_EXTRA), NAME(BTN_FORWARD), NAME(BTN_BACK), NAME(BTN_TASK),
};

/* The word after "button": BTN_LEFT .. BTN_TASK in order. */
static const char *const button_words[] = {
	"left", "right", "middle", "side", "extra", "forward", "back", "task",
};

const char *hid_code_name(uint16_t type, uint16_t code)
{
	size_t i;

	if (type != EV_KEY)
		return NULL;
	for (i = 0; i < sizeof(key_names) / sizeof(*key_names); i++)
		if (key_names[i].code == code)
			return key_names[i].name;
	return NULL;
}

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->size ? o->buf + o->len : NULL,
		      o->len < o->size ? o->size - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static const char *axis_word(uint16_t type, uint16_t code)
{
	if (code == REL_X)	/* == ABS_X */
		return "x";
	if (code == REL_Y)	/* == ABS_Y */
		return "y";
	if (type == EV_REL && code == REL_WHEEL)
		return "wheel";
	return NULL;
}

static void axis_line(struct out *o, const struct hid_events *evs,
		      uint16_t type, const char *word)
{
	unsigned int i, any = 0;

	for (i = 0; i < evs->n; i++) {
		const struct hid_event *e = &evs->ev[i];
		const char *a = axis_word(e->type, e->code);

		if (e->type != type || !a)
			continue;
		put(o, "%s %s=%d", any ? "" : word, a, (int)e->value);
		any = 1;
	}
	if (any)
		put(o, "\n");
}

size_t hid_events_format(const struct hid_events *evs, char *buf,
			 size_t size)
{
	struct out o = { .buf = buf, .size = size };
	unsigned int i;

	if (size)
		buf[0] = 0;
	for (i = 0; i < evs->n; i++) {
		const struct hid_event *e = &evs->ev[i];
		const char *state = e->value ? "down" : "up";

		if (e->type != EV_KEY)
			continue;
		if (e->code >= BTN_LEFT && e->code <= BTN_TASK)
			put(&o, "button %s %s\n",
			    button_words[e->code - BTN_LEFT], state);
		else if (hid_code_name(e->type, e->code))
			put(&o, "key %s %s\n", state,
			    hid_code_name(e->type, e->code));
		else
			put(&o, "key %s %u\n", state, (unsigned int)e->code);
	}
	axis_line(&o, evs, EV_REL, "rel");
	axis_line(&o, evs, EV_ABS, "abs");
	return o.len;
}
