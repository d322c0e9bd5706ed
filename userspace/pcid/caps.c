// SPDX-License-Identifier: MIT
/*
 * Config-space rules, pure functions over a copy of config space: the
 * capability walk (FETCH_ALL_CAPABILITIES) and the filter of driver
 * writes (rxu_pci.h, "Config writes").
 */
#include <errno.h>
#include <string.h>

#include "pcid.h"

static uint16_t rd16(const uint8_t *c, size_t o)
{
	return (uint16_t)(c[o] | c[o + 1] << 8);
}

static uint32_t rd32(const uint8_t *c, size_t o)
{
	return (uint32_t)c[o] | (uint32_t)c[o + 1] << 8 |
	       (uint32_t)c[o + 2] << 16 | (uint32_t)c[o + 3] << 24;
}

static uint16_t std_cap_len(const uint8_t *cfg, uint16_t off, uint8_t id)
{
	uint16_t ctl;

	switch (id) {
	case RXU_PCI_CAP_ID_MSI:
		ctl = rd16(cfg, off + 2u);
		return (uint16_t)(((ctl & 0x80) ? 14 : 10) +
				  ((ctl & 0x100) ? 10 : 0));
	case RXU_PCI_CAP_ID_MSIX:
		return 12;
	case 0x01:				/* power management */
		return 8;
	case RXU_PCI_CAP_ID_VNDR:
		return cfg[off + 2u] >= 3 ? cfg[off + 2u] : 3;
	case 0x10:				/* PCI Express */
		return 0x3c;
	default:
		return 0;
	}
}

static int cmp_off(const void *a, const void *b)
{
	const struct rxu_pci_cap_record *x = a, *y = b;

	return (int)x->offset - (int)y->offset;
}

/* Unknown lengths: up to the next capability of the same list or its end. */
static void fill_lengths(struct cap_list *out, unsigned from, unsigned to,
			 uint16_t end)
{
	struct rxu_pci_cap_record sorted[RXU_PCI_MAX_CAP_RECORDS];
	unsigned n = to - from, i, j;

	memcpy(sorted, &out->rec[from], n * sizeof(sorted[0]));
	/* insertion sort, tiny lists */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && cmp_off(&sorted[j - 1], &sorted[j]) > 0;
		     j--) {
			struct rxu_pci_cap_record t = sorted[j];

			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	for (i = from; i < to; i++) {
		struct rxu_pci_cap_record *r = &out->rec[i];
		uint16_t next = end;

		for (j = 0; j < n; j++)
			if (sorted[j].offset > r->offset) {
				next = sorted[j].offset;
				break;
			}
		if (!r->length || r->length > next - r->offset)
			r->length = (uint16_t)(next - r->offset);
	}
}

void caps_walk(const uint8_t *cfg, size_t size, struct cap_list *out)
{
	unsigned guard = 0, std_end;
	size_t off;

	out->n = 0;
	if (size < 64)
		return;
	/* Status bit 4: a capability list exists. */
	if (rd16(cfg, 6) & 0x10 && size >= 256) {
		off = cfg[0x34] & 0xfc;
		while (off >= 0x40 && off + 2 <= 256 && guard++ < 48 &&
		       out->n < 48) {
			struct rxu_pci_cap_record *r = &out->rec[out->n];
			unsigned i, dup = 0;

			for (i = 0; i < out->n; i++)
				if (out->rec[i].offset == off)
					dup = 1;
			if (dup)
				break;		/* a loop */
			r->id = cfg[off];
			r->extended = 0;
			r->version = 0;
			r->offset = (uint16_t)off;
			r->length = std_cap_len(cfg, (uint16_t)off, cfg[off]);
			out->n++;
			off = cfg[off + 1] & 0xfc;
		}
	}
	std_end = out->n;
	fill_lengths(out, 0, std_end, 256);

	if (size < 4096)
		return;
	off = 0x100;
	guard = 0;
	while (off >= 0x100 && off + 4 <= 4096 && guard++ < 48 &&
	       out->n < RXU_PCI_MAX_CAP_RECORDS) {
		uint32_t h = rd32(cfg, off);
		struct rxu_pci_cap_record *r = &out->rec[out->n];
		unsigned i, dup = 0;

		if (!h || h == 0xffffffffu)
			break;
		for (i = std_end; i < out->n; i++)
			if (out->rec[i].offset == off)
				dup = 1;
		if (dup)
			break;
		r->id = (uint16_t)(h & 0xffff);
		r->extended = 1;
		r->version = (uint8_t)((h >> 16) & 0xf);
		r->offset = (uint16_t)off;
		r->length = 0;
		out->n++;
		off = (h >> 20) & 0xffc;
	}
	fill_lengths(out, std_end, out->n, 4096);
}

/* Is byte o of config space one a driver may never write? */
static int byte_forbidden(const struct cap_list *caps, uint32_t o)
{
	unsigned i;

	if (o < 0x40) {
		if (o >= 0x04 && o <= 0x07)	/* command, status */
			return 0;
		if (o == 0x3c)			/* interrupt line */
			return 0;
		return 1;
	}
	for (i = 0; i < caps->n; i++) {
		const struct rxu_pci_cap_record *r = &caps->rec[i];
		uint32_t hdr = r->extended ? 4 : 2;

		if (o < r->offset || o >= (uint32_t)r->offset + r->length) {
			if (o >= r->offset && o < r->offset + hdr)
				return 1;
			continue;
		}
		if (o < r->offset + hdr)
			return 1;
		if (!r->extended && (r->id == RXU_PCI_CAP_ID_MSI ||
				     r->id == RXU_PCI_CAP_ID_MSIX))
			return 1;
	}
	return 0;
}

int config_write_allowed(const uint8_t *cfg, size_t size,
			 const struct cap_list *caps, uint32_t off,
			 const uint8_t *buf, uint32_t len)
{
	uint32_t i;

	if (!len || off >= size || len > size - off)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		uint32_t o = off + i;

		if (byte_forbidden(caps, o))
			return -EPERM;
		/* Command: only the allowed bits may change. */
		if (o == 0x04 || o == 0x05) {
			uint8_t allowed = (uint8_t)(RXU_PCI_COMMAND_ALLOWED >>
						    (8 * (o - 4)));

			if ((buf[i] ^ cfg[o]) & (uint8_t)~allowed)
				return -EPERM;
		}
	}
	return 0;
}
