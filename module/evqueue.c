// SPDX-License-Identifier: GPL-2.0
/*
 * The event: queue (ABI.md section 6), Redox's event scheme: an OPEN of
 * "event:" gives a queue fd.  write() of struct rxu_event records
 * registers { id = fd to watch, flags = RXU_EVENT_* mask, data }, a mask
 * of 0 removes the fd; read() returns the records of watched files that
 * fired since the last read (their flags = what fired), blocking unless
 * O_NONBLOCK; poll() says whether a read would find one, so a queue can
 * itself be watched.  READ and WRITE SQEs reach it like any file.
 *
 * Each watched file is polled with the same machinery as FILES_UPDATE
 * (events.c): level at registration, then one record per change, several
 * changes before a read coalescing into one record.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/redox_uring.h>

#include "events.h"

/*
 * Locking: lock (a mutex) serialises registrations and guards watches;
 * ready_lock (irq-safe) guards the ready list and each watch's fired bits,
 * and is what wake-up callbacks take.
 *
 * A callback runs under the watched file's wait queue lock and must not
 * wake this queue's own wq there: a queue watched (directly, or through
 * epoll) by what it watches would take a lock it already holds.  So wq
 * is woken from a work item, and only when a watch becomes ready, which
 * also keeps two queues watching each other from waking each other
 * forever.
 */
struct rxu_evq {
	struct mutex lock;		/* registrations, watches */
	struct list_head watches;
	spinlock_t ready_lock;		/* ready, and each watch's fired */
	struct list_head ready;
	wait_queue_head_t wq;		/* readers, poll() and watchers */
	struct work_struct wake_work;
	struct rcu_head rcu;		/* wq outlives its POLLFREE */
};

struct rxu_evq_watch {
	struct list_head node;		/* q->watches */
	struct list_head ready_node;	/* q->ready, under ready_lock */
	struct rxu_evq *q;
	struct file *file;		/* a reference, or NULL for ours */
	int fd;
	u32 mask;			/* RXU_EVENT_* */
	u64 data;
	__poll_t events;
	u32 fired;			/* under ready_lock */
	bool queued;			/* under ready_lock */
	struct rxu_poller poller;
};

/* Queue w's news; caller holds ready_lock.  True if w was not ready. */
static bool rxu_evq_fire(struct rxu_evq_watch *w, u32 ev)
{
	w->fired |= ev;
	if (w->queued)
		return false;
	w->queued = true;
	list_add_tail(&w->ready_node, &w->q->ready);
	return true;
}

static void rxu_evq_wake_work(struct work_struct *work)
{
	struct rxu_evq *q = container_of(work, struct rxu_evq, wake_work);

	wake_up_poll(&q->wq, EPOLLIN | EPOLLRDNORM);
}

static int rxu_evq_wake(struct wait_queue_entry *wait, unsigned int mode,
			int sync, void *key)
{
	struct rxu_poll_entry *pe = container_of(wait, struct rxu_poll_entry,
						 wait);
	struct rxu_evq_watch *w = container_of(pe->poller,
					       struct rxu_evq_watch, poller);
	struct rxu_evq *q = w->q;
	__poll_t mask = key_to_poll(key);
	unsigned long flags;
	bool newly;
	u32 ev;

	if (mask && !(mask & (w->events | POLLFREE)))
		return 0;
	/* Without a key, report what was asked for: something changed. */
	ev = mask ? rxu_poll_to_event(mask) & w->mask : w->mask;
	if (ev) {
		spin_lock_irqsave(&q->ready_lock, flags);
		newly = rxu_evq_fire(w, ev);
		spin_unlock_irqrestore(&q->ready_lock, flags);
		if (newly)
			schedule_work(&q->wake_work);
	}
	if (mask & POLLFREE)
		rxu_poller_pollfree(pe);
	return 0;
}

/* Off the file and out of the queue; caller holds q->lock. */
static void rxu_evq_watch_free(struct rxu_evq_watch *w)
{
	struct rxu_evq *q = w->q;

	rxu_poller_disarm(&w->poller);
	spin_lock_irq(&q->ready_lock);
	if (w->queued)
		list_del(&w->ready_node);
	spin_unlock_irq(&q->ready_lock);
	list_del(&w->node);
	if (w->file)
		fput(w->file);
	kfree(w);
}

/* Register (or, with a mask of 0, remove) one record; caller holds lock. */
static int rxu_evq_register(struct rxu_evq *q, const struct rxu_event *rec)
{
	struct rxu_evq_watch *w, *tmp;
	struct file *file;
	__poll_t level;
	int fd, ret;

	if (rec->id > INT_MAX)
		return -EBADF;
	if (rec->flags & ~(u64)RXU_EVENT_ALL)
		return -EINVAL;
	fd = rec->id;
	/* One registration per fd: a new one replaces the old. */
	list_for_each_entry_safe(w, tmp, &q->watches, node)
		if (w->fd == fd)
			rxu_evq_watch_free(w);
	if (!rec->flags)
		return 0;

	file = fget(fd);
	if (!file)
		return -EBADF;
	ret = rxu_watch_check(file, rec->flags, q);
	if (ret)
		goto out_fput;
	ret = -ENOMEM;
	w = kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);
	if (!w)
		goto out_fput;
	w->q = q;
	w->fd = fd;
	w->mask = rec->flags;
	w->data = rec->data;
	w->events = rxu_event_to_poll(w->mask);
	INIT_LIST_HEAD(&w->ready_node);
	list_add_tail(&w->node, &q->watches);
	ret = rxu_poller_arm(&w->poller, file, w->events, rxu_evq_wake, &level);
	if (ret) {
		list_del(&w->node);
		kfree(w);
		goto out_fput;
	}
	w->file = rxu_watch_pin(file);
	if (rxu_poll_to_event(level) & w->mask) {
		bool newly;

		spin_lock_irq(&q->ready_lock);
		newly = rxu_evq_fire(w, rxu_poll_to_event(level) & w->mask);
		spin_unlock_irq(&q->ready_lock);
		if (newly)
			wake_up_poll(&q->wq, EPOLLIN | EPOLLRDNORM);
	}
	return 0;

out_fput:
	fput(file);
	return ret;
}

/* write(): whole struct rxu_event records; returns the bytes taken. */
static ssize_t rxu_evq_write(struct file *file, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	struct rxu_evq *q = file->private_data;
	struct rxu_event rec;
	size_t done = 0;
	int ret = 0;

	if (!count || count % sizeof(rec))
		return -EINVAL;
	mutex_lock(&q->lock);
	while (done < count) {
		if (copy_from_user(&rec, buf + done, sizeof(rec))) {
			ret = -EFAULT;
			break;
		}
		ret = rxu_evq_register(q, &rec);
		if (ret)
			break;
		done += sizeof(rec);
	}
	mutex_unlock(&q->lock);
	return done ? done : ret;
}

/* Take up to max ready records off the queue into recs. */
static size_t rxu_evq_take(struct rxu_evq *q, struct rxu_event *recs,
			   size_t max)
{
	struct rxu_evq_watch *w, *tmp;
	size_t n = 0;

	spin_lock_irq(&q->ready_lock);
	list_for_each_entry_safe(w, tmp, &q->ready, ready_node) {
		if (n == max)
			break;
		recs[n++] = (struct rxu_event){
			.id = w->fd,
			.flags = w->fired,
			.data = w->data,
		};
		w->fired = 0;
		w->queued = false;
		list_del(&w->ready_node);
	}
	spin_unlock_irq(&q->ready_lock);
	return n;
}

#define RXU_EVQ_READ_BATCH	16

/* read(): ready records, at least one (blocking unless O_NONBLOCK). */
static ssize_t rxu_evq_read(struct file *file, char __user *buf,
			    size_t count, loff_t *ppos)
{
	struct rxu_evq *q = file->private_data;
	struct rxu_event recs[RXU_EVQ_READ_BATCH];
	size_t max = min_t(size_t, count / sizeof(recs[0]), ARRAY_SIZE(recs));
	size_t n;
	int ret;

	if (!max)
		return -EINVAL;
	for (;;) {
		/* Records taken are gone even if the copy below faults. */
		mutex_lock(&q->lock);
		n = rxu_evq_take(q, recs, max);
		mutex_unlock(&q->lock);
		if (n)
			break;
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(q->wq,
					       !list_empty_careful(&q->ready));
		if (ret)
			return ret;
	}
	if (copy_to_user(buf, recs, n * sizeof(recs[0])))
		return -EFAULT;
	return n * sizeof(recs[0]);
}

static __poll_t rxu_evq_poll(struct file *file, struct poll_table_struct *pt)
{
	struct rxu_evq *q = file->private_data;

	poll_wait(file, &q->wq, pt);
	/* Registering never waits: always writable. */
	return EPOLLOUT | EPOLLWRNORM |
	       (list_empty_careful(&q->ready) ? 0 : EPOLLIN | EPOLLRDNORM);
}

static int rxu_evq_release(struct inode *inode, struct file *file)
{
	struct rxu_evq *q = file->private_data;
	struct rxu_evq_watch *w, *tmp;

	mutex_lock(&q->lock);
	list_for_each_entry_safe(w, tmp, &q->watches, node)
		rxu_evq_watch_free(w);
	mutex_unlock(&q->lock);
	/* No callback can schedule it any more. */
	cancel_work_sync(&q->wake_work);
	/* Watchers of this queue hold no reference: tell them, see events.c. */
	wake_up_pollfree(&q->wq);
	mutex_destroy(&q->lock);
	kfree_rcu(q, rcu);
	return 0;
}

const struct file_operations rxu_evq_fops = {
	.owner		= THIS_MODULE,
	.read		= rxu_evq_read,
	.write		= rxu_evq_write,
	.poll		= rxu_evq_poll,
	.release	= rxu_evq_release,
	.llseek		= noop_llseek,
};

/* A new, empty queue (OPEN of event:). */
struct file *rxu_evq_new_file(int o_flags)
{
	struct rxu_evq *q;
	struct file *file;

	q = kzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);
	if (!q)
		return ERR_PTR(-ENOMEM);
	mutex_init(&q->lock);
	INIT_LIST_HEAD(&q->watches);
	spin_lock_init(&q->ready_lock);
	INIT_LIST_HEAD(&q->ready);
	init_waitqueue_head(&q->wq);
	INIT_WORK(&q->wake_work, rxu_evq_wake_work);
	file = anon_inode_getfile("[redox_uring-event]", &rxu_evq_fops, q,
				  O_RDWR | (o_flags & (O_CLOEXEC | O_NONBLOCK)));
	if (IS_ERR(file)) {
		mutex_destroy(&q->lock);
		kfree(q);
	}
	return file;
}
