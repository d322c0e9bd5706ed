// SPDX-License-Identifier: MIT
/*
 * u2u.c: the consumer's first steps on a user-to-user ring, shared by
 * every client of a u2u provider (xhcid's usb:, pcid's pci:, ...):
 * ATTACH a fresh instance to "SCHEME:", then adopt the pool fd that a DUP
 * of it returned and map the first range.  What follows (a CLAIM with a
 * token in the pool, the protocol's requests) is the protocol's own.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "rxu.h"

int rxu_u2u_connect(struct rxu_instance *in, const char *scheme,
		    uint64_t entries)
{
	char name[128];
	int ret;

	rxu_instance_from_fd(in, -1);
	if (!scheme || !*scheme || strchr(scheme, ':'))
		return -EINVAL;
	if ((size_t)snprintf(name, sizeof(name), "%s:", scheme) >= sizeof(name))
		return -ENAMETOOLONG;
	ret = rxu_instance_open(in);
	if (!ret)
		ret = rxu_instance_create(in, entries, entries, 0);
	if (!ret)
		ret = rxu_instance_map(in);
	if (!ret)
		ret = rxu_instance_attach(in, name);
	if (ret)
		rxu_instance_close(in);
	return ret;
}

int rxu_u2u_pool(struct rxu_pool *p, int64_t dup_res, uint64_t size,
		 uint64_t *base, void **mem)
{
	int ret;

	if (dup_res < 0)
		return dup_res < -4095 ? -EIO : (int)dup_res;
	if (dup_res > INT_MAX)
		return -EBADF;
	ret = rxu_pool_init(p, (int)dup_res);
	if (ret)
		return ret;
	ret = rxu_pool_grow(p, size, base);
	if (!ret) {
		*mem = rxu_pool_ptr(p, *base, size);
		if (!*mem)
			ret = -EFAULT;
	}
	if (ret)
		rxu_pool_close(p);
	return ret;
}
