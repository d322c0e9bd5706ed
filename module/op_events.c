// SPDX-License-Identifier: GPL-2.0
/*
 * FILES_UPDATE (alias REGISTER_EVENTS, ABI.md section 5): subscribe to
 * the readiness of a file.  The request's own CQE is the status; the
 * subscription then posts EVENT CQEs (level at registration, edge after)
 * and ends with a LAST_UPDATE CQE: after its one event without SUBSCRIBE,
 * or when a FILES_UPDATE with an empty mask names the same fd, or when
 * the watched object or this instance goes away.  The mechanism is in
 * events.c.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <uapi/linux/redox_uring.h>

#include "events.h"
#include "instance.h"
#include "opdef.h"

struct rxu_fu {
	int fd;
	u32 mask;		/* RXU_EVENT_* */
	bool subscribe;
};

int rxu_files_update_prep(struct rxu_req *req, const struct rxu_sqe *sqe)
{
	struct rxu_fu *fu = rxu_req_cmd(req, struct rxu_fu);

	fu->fd = rxu_sqe_fd(sqe->fd);
	if (fu->fd < 0)
		return fu->fd;
	if (sqe->syscall_flags & ~RXU_EVENT_ALL)
		return -EINVAL;
	fu->mask = sqe->syscall_flags;
	fu->subscribe = sqe->flags & RXU_SQE_SUBSCRIBE;
	return 0;
}

/*
 * An empty mask ends this instance's subscriptions on fd, even if fd was
 * closed since; with none to end, an fd that is not open is -EBADF.
 */
static s64 rxu_files_update_end(struct rxu_instance *inst, int fd,
				struct rxu_cq_batch *b)
{
	struct rxu_async *a, *tmp;
	struct file *file;
	bool ended = false;

	list_for_each_entry_safe(a, tmp, &inst->watches, node) {
		if (a->fd == fd) {
			rxu_watch_end(inst, a);
			ended = true;
		}
	}
	if (!ended) {
		file = fget(fd);
		if (!file)
			return -EBADF;
		fput(file);
	}
	/* Their LAST_UPDATEs come before this request's own CQE. */
	rxu_backlog_flush(inst, b);
	return 0;
}

s64 rxu_files_update(struct rxu_req *req)
{
	struct rxu_fu *fu = rxu_req_cmd(req, struct rxu_fu);
	struct rxu_instance *inst = req->inst;
	struct rxu_async *a;
	struct file *file;
	__poll_t level;
	int ret;

	if (!fu->mask)
		return rxu_files_update_end(inst, fu->fd, req->cq);

	file = fget(fu->fd);
	if (!file)
		return -EBADF;
	ret = rxu_watch_check(file, fu->mask, inst);
	if (ret)
		goto out_fput;
	ret = -ENOMEM;
	a = rxu_async_alloc(inst, RXU_ASYNC_WATCH);
	if (!a)
		goto out_fput;
	a->req.user_data = req->user_data;
	a->fd = fu->fd;
	a->mask = fu->mask;
	a->oneshot = !fu->subscribe;
	ret = rxu_events_arm(a, file, rxu_event_to_poll(fu->mask), &level);
	if (ret) {
		kfree(a);
		goto out_fput;
	}
	a->file = rxu_watch_pin(file);
	list_add_tail(&a->node, &inst->watches);

	/* Level at registration: posted right after this request's CQE. */
	a->pending = rxu_poll_to_event(level) & a->mask;
	if (a->pending) {
		if (a->oneshot)
			rxu_watch_end(inst, a);
		else
			rxu_watch_queue(inst, a);
	}
	return 0;

out_fput:
	fput(file);
	return ret;
}
