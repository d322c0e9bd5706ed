/* SPDX-License-Identifier: MIT */
/*
 * usb-io.h: the few synchronous ring operations the clients of `usb:`
 * make (rxuctl usb, usbhidd): one SQE on a kernel ring, then ENTER until
 * its CQE.  Scheme paths can only be opened through a ring; their fds are
 * then read and written through the same ring.
 */
#ifndef RXU_TOOLS_USB_IO_H
#define RXU_TOOLS_USB_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rxu.h"

/* OPEN path (O_* flags): the new fd, or -errno. */
int usb_ring_open(struct rxu_instance *in, const char *path, int flags);
/* One READ / WRITE / CLOSE on fd: the bytes moved (0 for CLOSE) or -errno. */
ssize_t usb_ring_read(struct rxu_instance *in, int fd, void *buf, size_t len);
ssize_t usb_ring_write(struct rxu_instance *in, int fd, const void *buf,
		       size_t len);
int usb_ring_close(struct rxu_instance *in, int fd);
/*
 * Open path read-only and READ it to the end into buf (cap bytes at
 * most; -EFBIG if it holds more): the length, or -errno.
 */
ssize_t usb_read_file(struct rxu_instance *in, const char *path, void *buf,
		      size_t cap);

#endif /* RXU_TOOLS_USB_IO_H */
