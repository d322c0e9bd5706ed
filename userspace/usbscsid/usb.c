// SPDX-License-Identifier: MIT
/*
 * usb.c: the transport over xhcid.  One u2u ring (ATTACH "SCHEME:")
 * carries CLAIM, TRANSFER, CONTROL and CLEAR_HALT; its pool holds the
 * transfer memory, which xhcid maps for DMA.  The BOT layer runs one
 * command at a time: every op is submit-and-wait on that ring (no
 * reactor: usbscsid's disk: callbacks call us from inside theirs), but
 * for bulk transfers that it starts back to back (a data stage and the
 * CSW after it) and then reaps in order, so that xhcid queues the second
 * on the endpoint without a round trip to us in between.  The
 * descriptors are read once, through a path, on a small kernel ring.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rxu_trace.h"
#include "rxu_usb.h"
#include "usb.h"

/* Longer than xhcid's own transfer timeout, so that its answer wins. */
#define USB_WAIT_NS	((RXU_USB_TIMEOUT_MS + 5000ULL) * 1000000ULL)
#define DESC_MAX	65536

static struct usb_xport *to_usb(struct usbscsid_xport *x)
{
	return (struct usb_xport *)x;
}

/* Queue one request; the next ENTER (a wait) submits it.  Its user_data. */
static int64_t usb_post(struct usb_xport *u, uint8_t op, uint64_t offset,
			uint64_t addr, uint64_t len)
{
	struct rxu_sqe64 sqe;
	int ret;

	if (u->seq - u->reaped >= USB_MAX_POSTED)
		return -EBUSY;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = op;
	sqe.syscall_flags = RXU_USB_VERSION;
	sqe.fd = u->port_id;
	sqe.offset = offset;
	sqe.addr = addr;
	sqe.len = len;
	sqe.user_data = u->seq + 1;
	RXU_TRACE("usbscsid", "submit op=%u ep=%#llx len=%llu", op,
		  (unsigned long long)offset, (unsigned long long)len);
	ret = rxu_queue_sqe(&u->u2u, &sqe);
	if (ret)
		return ret;
	return (int64_t)++u->seq;
}

/*
 * The answer of the oldest request not reaped yet.  Answers of requests
 * on two endpoints may come in either order: one that is not the oldest
 * is kept until it is asked for.
 */
static int64_t usb_reap(struct usb_xport *u)
{
	uint64_t want = u->reaped + 1;
	struct rxu_cqe64 cqe;
	int ret;

	if (want > u->seq)
		return -EINVAL;
	while (!u->done[want % USB_MAX_POSTED]) {
		ret = rxu_wait_cqe(&u->u2u, &cqe, USB_WAIT_NS);
		if (ret == -ETIME)
			ret = -ETIMEDOUT;
		if (ret == -EIO || ret == -ESHUTDOWN)
			ret = -ENODEV;	/* xhcid has gone: so has the stick */
		if (ret) {
			/* Nothing more will come: every posted one fails. */
			u->reaped = u->seq;
			memset(u->done, 0, sizeof(u->done));
			return ret;
		}
		if (cqe.user_data < want)
			continue;	/* of a request given up on */
		if (cqe.user_data > u->seq ||
		    u->done[cqe.user_data % USB_MAX_POSTED])
			return -EPROTO;
		u->done[cqe.user_data % USB_MAX_POSTED] = 1;
		u->result[cqe.user_data % USB_MAX_POSTED] = rxu_cqe_result(&cqe);
	}
	u->done[want % USB_MAX_POSTED] = 0;
	u->reaped = want;
	RXU_TRACE("usbscsid", "cqe res=%lld",
		  (long long)u->result[want % USB_MAX_POSTED]);
	return u->result[want % USB_MAX_POSTED];
}

static int64_t usb_call(struct usb_xport *u, uint8_t op, uint64_t offset,
			uint64_t addr, uint64_t len)
{
	int64_t ret;

	if (u->seq != u->reaped)
		return -EBUSY;	/* one at a time, after the posted ones */
	ret = usb_post(u, op, offset, addr, len);
	return ret < 0 ? ret : usb_reap(u);
}

/* The pool offset of [buf, buf + len) of our transfer memory. */
static uint64_t pool_addr(struct usb_xport *u, const void *buf)
{
	return u->base + (uint64_t)((const uint8_t *)buf -
				    (const uint8_t *)u->x.mem);
}

static int64_t usb_bulk(struct usbscsid_xport *x, uint8_t ep, void *buf,
			uint32_t len)
{
	struct usb_xport *u = to_usb(x);

	return usb_call(u, RXU_USB_OP_TRANSFER, ep, pool_addr(u, buf), len);
}

static int usb_bulk_start(struct usbscsid_xport *x, uint8_t ep, void *buf,
			  uint32_t len)
{
	struct usb_xport *u = to_usb(x);
	int64_t ret = usb_post(u, RXU_USB_OP_TRANSFER, ep, pool_addr(u, buf),
			       len);

	return ret < 0 ? (int)ret : 0;
}

static int64_t usb_bulk_wait(struct usbscsid_xport *x)
{
	return usb_reap(to_usb(x));
}

static int64_t usb_control(struct usbscsid_xport *x, uint64_t setup,
			   void *buf, uint16_t len)
{
	struct usb_xport *u = to_usb(x);

	return usb_call(u, RXU_USB_OP_CONTROL, setup,
			buf ? pool_addr(u, buf) : u->base, len);
}

static int usb_clear_halt(struct usbscsid_xport *x, uint8_t ep)
{
	return (int)usb_call(to_usb(x), RXU_USB_OP_CLEAR_HALT, ep, 0, 0);
}

static const struct usbscsid_xport_ops usb_ops = {
	.bulk = usb_bulk,
	.bulk_start = usb_bulk_start,
	.bulk_wait = usb_bulk_wait,
	.control = usb_control,
	.clear_halt = usb_clear_halt,
};

static int64_t kcall(struct usb_xport *u, struct rxu_sqe64 *sqe)
{
	struct rxu_cqe64 cqe;
	int ret = rxu_queue_sqe(&u->kring, sqe);

	if (!ret)
		ret = rxu_wait_cqe(&u->kring, &cqe, 0);
	return ret ? ret : rxu_cqe_result(&cqe);
}

/* SCHEME:PORT/descriptors, whole, into a malloc'ed buffer. */
static int64_t read_descriptors(struct usb_xport *u, const char *scheme,
				const char *port, uint8_t **out)
{
	char path[256];
	struct rxu_sqe64 sqe;
	uint8_t *buf;
	int64_t fd, n, total = 0;

	snprintf(path, sizeof(path), "%s:%s/descriptors", scheme, port);
	rxu_prep_open(&sqe, path, strlen(path), O_RDONLY | O_CLOEXEC, 0, 0);
	fd = kcall(u, &sqe);
	if (fd < 0)
		return fd;
	buf = malloc(DESC_MAX);
	if (!buf) {
		close((int)fd);
		return -ENOMEM;
	}
	do {
		n = read((int)fd, buf + total, DESC_MAX - total);
		if (n > 0)
			total += n;
	} while (n > 0 && total < DESC_MAX);
	close((int)fd);
	if (n < 0) {
		free(buf);
		return -errno;
	}
	*out = buf;
	return total;
}

static int setup_pool(struct usb_xport *u, size_t mem_size)
{
	struct rxu_sqe64 sqe;
	int ret;

	rxu_prep_dup_param(&sqe, u->u2u.fd, RXU_DUP_PARAM_POOL,
			   strlen(RXU_DUP_PARAM_POOL), 0);
	mem_size = (mem_size + 4095) & ~(size_t)4095;
	ret = rxu_u2u_pool(&u->pool, kcall(u, &sqe), mem_size, &u->base,
			   &u->x.mem);
	if (ret)
		return ret;	/* the pool fd, if any, is closed */
	u->x.mem_size = mem_size;
	return 0;
}

int usb_xport_open(struct usb_xport *u, const char *scheme, const char *port,
		   const char *token, int iface, size_t mem_size)
{
	struct usb_bot_iface bot;
	uint8_t *desc = NULL;
	int64_t len;
	int ret;

	memset(u, 0, sizeof(*u));
	u->kring.fd = u->u2u.fd = u->pool.fd = -1;
	u->x.ops = &usb_ops;
	if (!token || strlen(token) != RXU_USB_TOKEN_LEN)
		return -EACCES;
	ret = usb_port_id(port, &u->port_id);
	if (ret)
		return ret;
	ret = rxu_setup(&u->kring, 16, 16, 0);
	if (ret)
		return ret;
	len = read_descriptors(u, scheme, port, &desc);
	if (len < 0)
		return (int)len;
	ret = usb_find_bot(desc, (size_t)len, iface, &bot);
	free(desc);
	if (ret)
		return ret;
	u->x.iface = bot.iface;
	u->x.ep_in = bot.ep_in;
	u->x.ep_out = bot.ep_out;
	ret = rxu_u2u_connect(&u->u2u, scheme, 8);
	if (!ret)
		ret = setup_pool(u, mem_size);
	if (ret)
		return ret;
	/* CLAIM: the token from the pool, then the device is ours. */
	memcpy(u->x.mem, token, RXU_USB_TOKEN_LEN);
	return (int)usb_call(u, RXU_USB_OP_CLAIM, 0, u->base,
			     RXU_USB_TOKEN_LEN);
}

void usb_xport_close(struct usb_xport *u)
{
	if (u->pool.fd >= 0)
		rxu_pool_close(&u->pool);
	rxu_instance_close(&u->u2u);
	rxu_instance_close(&u->kring);
	u->x.mem = NULL;
}
