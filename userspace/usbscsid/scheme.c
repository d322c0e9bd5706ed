// SPDX-License-Identifier: MIT
/*
 * scheme.c: disk: on librxu's provider framework.  The handle's priv is
 * its LUN, or NULL for the listing.  Every request runs to its end in
 * the callback (Bulk-Only does one command at a time anyway); u2u
 * clients get the same calls with pool buffers.
 *
 * Errors: ENOENT (no such LUN, or no unit at it), EISDIR (the listing opened for
 * writing), EROFS (a write-protected LUN opened for writing or written),
 * ENOMEDIUM (no medium), EIO (the stick went away during the call, or
 * failed it), ENODEV (opened after it went away), ENOSPC (a write at or
 * past the end).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"
#include "scheme.h"

static struct disk_dev *dev_of(struct rxu_scheme_req *req)
{
	return rxu_scheme_priv(req->conn->scheme);
}

/* ENODEV of the transport: the stick is gone; the caller sees EIO. */
static int64_t io_result(struct disk_dev *dev, int64_t r)
{
	if (r == -ENODEV) {
		dev->gone = 1;
		return -EIO;
	}
	return r;
}

void disk_dev_listing(struct disk_dev *dev)
{
	size_t off = 0;
	unsigned int i;

	dev->listing[0] = '\0';
	for (i = 0; i < dev->nluns; i++)
		if (!dev->lun[i].absent)
			off += (size_t)snprintf(dev->listing + off,
						sizeof(dev->listing) - off,
						"%u\n", i);
}

/* "N" (decimal, no sign, no leading zero but "0"): N, else -1. */
static int lun_number(const char *path, size_t len)
{
	unsigned int n = 0;
	size_t i;

	if (!len || len > 2 || (len > 1 && path[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (path[i] < '0' || path[i] > '9')
			return -1;
		n = n * 10 + (unsigned int)(path[i] - '0');
	}
	return (int)n;
}

static int64_t disk_open(struct rxu_scheme_req *req,
			 struct rxu_scheme_handle *h, const char *path,
			 size_t len, uint64_t flags, uint32_t mode)
{
	struct disk_dev *dev = dev_of(req);
	int writing = (flags & O_ACCMODE) != O_RDONLY;
	struct scsi_lun *l;
	int n, ret;

	(void)mode;
	while (len && *path == '/') {
		path++;
		len--;
	}
	if (strlen(path) != len)
		return -ENOENT;		/* an embedded NUL */
	if (dev->gone)
		return -ENODEV;
	if (!len) {
		h->priv = NULL;
		return writing ? -EISDIR : 0;
	}
	n = lun_number(path, len);
	if (n < 0 || (unsigned int)n >= dev->nluns || dev->lun[n].absent)
		return -ENOENT;
	l = &dev->lun[n];
	ret = disk_ready(l);
	if (ret == -ENODEV) {
		dev->gone = 1;
		return -ENODEV;
	}
	if (ret)
		return ret;
	if (writing && l->write_protect)
		return -EROFS;
	h->priv = l;
	return 0;
}

static int64_t disk_read_cb(struct rxu_scheme_req *req,
			    struct rxu_scheme_handle *h, void *buf,
			    uint64_t len, uint64_t off)
{
	struct disk_dev *dev = dev_of(req);

	if (!h->priv)
		return rxu_scheme_copy_out(buf, len, off, dev->listing,
					   strlen(dev->listing));
	return io_result(dev, disk_read(h->priv, buf, len, off));
}

/*
 * A READ of 16 KiB or more: lent from the transport memory the blocks
 * were read into, so the kernel copies them once, straight into the
 * caller's buffer (docs/zero-copy.md).  It does so in the ENTER the
 * library makes before it takes the next request, so the next command
 * may reuse that memory.
 */
static int64_t disk_read_ref_cb(struct rxu_scheme_req *req,
				struct rxu_scheme_handle *h, const void **src,
				uint64_t len, uint64_t off)
{
	struct disk_dev *dev = dev_of(req);
	size_t size = strlen(dev->listing);

	if (!h->priv) {
		if (off >= size)
			return 0;
		*src = dev->listing + off;
		return (int64_t)(size - off < len ? size - off : len);
	}
	return io_result(dev, disk_read_ref(h->priv, src, len, off));
}

static int64_t disk_write_cb(struct rxu_scheme_req *req,
			     struct rxu_scheme_handle *h, const void *buf,
			     uint64_t len, uint64_t off)
{
	if (!h->priv)
		return -EBADF;
	return io_result(dev_of(req), disk_write(h->priv, buf, len, off));
}

static int64_t disk_size_cb(struct rxu_scheme_handle *h)
{
	struct disk_dev *dev = rxu_scheme_priv(h->conn->scheme);

	if (!h->priv)
		return (int64_t)strlen(dev->listing);
	return io_result(dev, disk_size(h->priv));
}

static int64_t disk_fstat(struct rxu_scheme_req *req,
			  struct rxu_scheme_handle *h, struct stat *st)
{
	struct scsi_lun *l = h->priv;

	(void)req;
	if (!l) {
		st->st_mode = S_IFDIR | 0555;
		return 0;
	}
	st->st_mode = S_IFREG | (l->write_protect ? 0444 : 0644);
	st->st_blksize = l->block_size;
	return 0;
}

static int64_t disk_fsync_cb(struct rxu_scheme_req *req,
			     struct rxu_scheme_handle *h, int datasync)
{
	(void)datasync;
	if (!h->priv)
		return 0;
	return io_result(dev_of(req), disk_sync(h->priv));
}

static int64_t disk_dup(struct rxu_scheme_req *req,
			struct rxu_scheme_handle *old,
			struct rxu_scheme_handle *nh, const void *param,
			size_t len)
{
	(void)req, (void)param;
	if (len)
		return -EINVAL;
	nh->priv = old->priv;
	return 0;
}

const struct rxu_scheme_ops disk_scheme_ops = {
	.open = disk_open,
	.read = disk_read_cb,
	.write = disk_write_cb,
	.size = disk_size_cb,
	.fstat = disk_fstat,
	.fsync = disk_fsync_cb,
	.dup = disk_dup,
	.read_ref = disk_read_ref_cb,
};
