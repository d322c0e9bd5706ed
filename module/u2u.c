// SPDX-License-Identifier: GPL-2.0
/*
 * User-to-user rings (ABI.md section 7): a consumer ATTACHes "NAME:" and
 * provider NAME receives the same rings through RXU_IOC_RECV.  After that
 * the kernel carries no data: both sides push and pop in shared memory,
 * and an ENTER is a doorbell that wakes the peer.
 *
 * Connecting: the consumer's ATTACH makes a connection with a ticket and
 * asks the provider, through its scheme ring, to accept it (RECV_IORING,
 * addr = ticket).  The provider claims the ticket with RXU_IOC_RECV, which
 * gives it a producer instance on the consumer's memory file, maps it, and
 * answers 0; the consumer's ATTACH then returns.  Either side closing sets
 * DROP in both shared headers and wakes the other.
 *
 * Pools: a DUP of either side's instance fd with the parameter "pool"
 * gives a pool fd of the connection.  The consumer maps ranges of it at
 * offsets of its choosing, which allocates them; the provider read()s the
 * ranges it has not heard of as struct rxu_pool_range records and maps
 * them.  Pages are shared, so a u2u SQE's addr is a pool offset.
 *
 * Locking: rxu_u2u_lock (mutex) orders the claim of a ticket against the
 * consumer giving up; c->lock (spinlock) guards the two instance pointers,
 * which are cleared as each side goes; pool->lock (mutex) its ranges.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <uapi/linux/redox_uring.h>

#include "compat.h"
#include "instance.h"
#include "region.h"
#include "scheme.h"

#define RXU_POOL_MAX_BYTES	SZ_1G	/* per connection */
#define RXU_POOL_MAX_RANGES	4096

struct rxu_pool_map {
	struct list_head node;		/* pool->ranges, in creation order */
	u64 offset;			/* bytes, page aligned */
	u64 size;
	struct page **pages;
	unsigned long nr_pages;
};

struct rxu_pool {
	struct kref ref;
	struct mutex lock;		/* ranges, nr_ranges, bytes */
	struct list_head ranges;
	unsigned long nr_ranges;
	u64 bytes;
	wait_queue_head_t wq;		/* the provider's poll: new ranges */
};

/* A pool fd: one side's view of its connection's pool. */
struct rxu_pool_file {
	struct rxu_pool *pool;		/* a reference */
	bool producer;			/* maps existing ranges only */
	unsigned long reported;		/* ranges read() so far */
};

struct rxu_u2u {
	struct kref ref;
	spinlock_t lock;		/* consumer, producer */
	struct rxu_instance *consumer;	/* NULL once gone */
	struct rxu_instance *producer;	/* NULL until received, or gone */
	struct rxu_scheme *scheme;	/* whose provider may receive it */
	struct mutex pool_lock;		/* making pool */
	struct rxu_pool *pool;		/* made by the first DUP "pool" */
};

static DEFINE_MUTEX(rxu_u2u_lock);
static DEFINE_XARRAY_ALLOC1(rxu_u2u_tickets);
static u32 rxu_u2u_next_ticket;

/* ------------------------------------------------------------------ */
/* Pools                                                               */
/* ------------------------------------------------------------------ */

static void rxu_pool_release(struct kref *ref)
{
	struct rxu_pool *pool = container_of(ref, struct rxu_pool, ref);
	struct rxu_pool_map *m, *tmp;
	unsigned long i;

	list_for_each_entry_safe(m, tmp, &pool->ranges, node) {
		/* Mappings hold their own page references. */
		for (i = 0; i < m->nr_pages; i++)
			put_page(m->pages[i]);
		kvfree(m->pages);
		kfree(m);
	}
	mutex_destroy(&pool->lock);
	kfree(pool);
}

static void rxu_pool_put(struct rxu_pool *pool)
{
	kref_put(&pool->ref, rxu_pool_release);
}

/* A new range [offset, offset + size), or -EINVAL if it overlaps one. */
static struct rxu_pool_map *rxu_pool_add(struct rxu_pool *pool, u64 offset,
					 u64 size)
{
	unsigned long i, nr = size >> PAGE_SHIFT;
	struct rxu_pool_map *m;

	lockdep_assert_held(&pool->lock);
	list_for_each_entry(m, &pool->ranges, node)
		if (offset < m->offset + m->size && m->offset < offset + size)
			return ERR_PTR(-EINVAL);
	if (pool->nr_ranges >= RXU_POOL_MAX_RANGES ||
	    size > RXU_POOL_MAX_BYTES - pool->bytes)
		return ERR_PTR(-ENOMEM);

	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->pages = kvcalloc(nr, sizeof(*m->pages),
			    GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!m->pages)
		goto err_free_map;
	for (i = 0; i < nr; i++) {
		m->pages[i] = alloc_page(RXU_GFP_PAGES);
		if (!m->pages[i])
			goto err_free_pages;
		m->nr_pages++;
	}
	m->offset = offset;
	m->size = size;
	list_add_tail(&m->node, &pool->ranges);
	pool->nr_ranges++;
	pool->bytes += size;
	wake_up_poll(&pool->wq, EPOLLIN | EPOLLRDNORM);
	return m;

err_free_pages:
	for (i = 0; i < m->nr_pages; i++)
		put_page(m->pages[i]);
	kvfree(m->pages);
err_free_map:
	kfree(m);
	return ERR_PTR(-ENOMEM);
}

/* The range that holds [offset, offset + size) whole, or NULL. */
static struct rxu_pool_map *rxu_pool_find(struct rxu_pool *pool, u64 offset,
					  u64 size)
{
	struct rxu_pool_map *m;

	lockdep_assert_held(&pool->lock);
	list_for_each_entry(m, &pool->ranges, node)
		if (offset >= m->offset &&
		    offset + size <= m->offset + m->size)
			return m;
	return NULL;
}

static const struct vm_operations_struct rxu_pool_vm_ops = {};

/*
 * The consumer maps a new range (or an existing one again); the provider
 * maps ranges the consumer made.  Shared, never executable.
 */
static int rxu_pool_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct rxu_pool_file *pf = file->private_data;
	struct rxu_pool *pool = pf->pool;
	u64 offset = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u64 size = vma->vm_end - vma->vm_start;
	struct rxu_pool_map *m;
	unsigned long nr;
	int ret;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	if (offset + size < offset)
		return -EINVAL;

	mutex_lock(&pool->lock);
	m = rxu_pool_find(pool, offset, size);
	if (!m) {
		if (pf->producer) {
			ret = -EINVAL;
			goto out_unlock;
		}
		m = rxu_pool_add(pool, offset, size);
		if (IS_ERR(m)) {
			ret = PTR_ERR(m);
			goto out_unlock;
		}
	}
	rxu_vm_flags_clear(vma, VM_MAYEXEC);
	rxu_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	nr = size >> PAGE_SHIFT;
	ret = vm_insert_pages(vma, vma->vm_start,
			      m->pages + ((offset - m->offset) >> PAGE_SHIFT),
			      &nr);
	if (!ret)
		vma->vm_ops = &rxu_pool_vm_ops;
out_unlock:
	mutex_unlock(&pool->lock);
	return ret;
}

#define RXU_POOL_READ_MAX	256	/* records one read() returns at most */

/*
 * The ranges this fd has not reported yet, as struct rxu_pool_range.
 * They are gathered under pool->lock and copied out after it: ->mmap
 * takes pool->lock under the mmap lock, so a fault while holding it (in
 * copy_to_user) would take the two in the other order.
 */
static ssize_t rxu_pool_read(struct file *file, char __user *buf,
			     size_t count, loff_t *ppos)
{
	struct rxu_pool_file *pf = file->private_data;
	struct rxu_pool *pool = pf->pool;
	struct rxu_pool_range *rec;
	struct rxu_pool_map *m;
	unsigned long i = 0, n = 0, max;

	if (count < sizeof(*rec))
		return -EINVAL;
	max = min_t(size_t, count / sizeof(*rec), RXU_POOL_READ_MAX);
	rec = kmalloc_array(max, sizeof(*rec), GFP_KERNEL_ACCOUNT);
	if (!rec)
		return -ENOMEM;

	mutex_lock(&pool->lock);
	list_for_each_entry(m, &pool->ranges, node) {
		if (i++ < pf->reported)
			continue;
		if (n == max)
			break;
		rec[n].offset = m->offset;
		rec[n].size = m->size;
		n++;
	}
	pf->reported += n;
	mutex_unlock(&pool->lock);

	if (n && copy_to_user(buf, rec, n * sizeof(*rec))) {
		/* Not reported after all: the next read() says them again. */
		mutex_lock(&pool->lock);
		pf->reported -= n;
		mutex_unlock(&pool->lock);
		kfree(rec);
		return -EFAULT;
	}
	kfree(rec);
	return n * sizeof(*rec);
}

static __poll_t rxu_pool_poll(struct file *file, struct poll_table_struct *pt)
{
	struct rxu_pool_file *pf = file->private_data;

	poll_wait(file, &pf->pool->wq, pt);
	return READ_ONCE(pf->pool->nr_ranges) > READ_ONCE(pf->reported) ?
	       EPOLLIN | EPOLLRDNORM : 0;
}

static int rxu_pool_file_release(struct inode *inode, struct file *file)
{
	struct rxu_pool_file *pf = file->private_data;

	rxu_pool_put(pf->pool);
	kfree(pf);
	return 0;
}

static const struct file_operations rxu_pool_fops = {
	.owner		= THIS_MODULE,
	.read		= rxu_pool_read,
	.mmap		= rxu_pool_mmap,
	.poll		= rxu_pool_poll,
	.release	= rxu_pool_file_release,
	.llseek		= noop_llseek,
};

bool rxu_is_u2u_instance_file(const struct file *file)
{
	struct rxu_instance *inst = file->private_data;

	if (file->f_op != &rxu_instance_fops)
		return false;
	/* Pairs with the release of ATTACH or RECV: u2u is set before. */
	return smp_load_acquire(&inst->state) == RXU_STATE_ATTACHED &&
	       inst->u2u;
}

/* DUP "pool" of a u2u instance file: a new pool fd's file. */
struct file *rxu_u2u_pool_file(struct file *file)
{
	struct rxu_instance *inst = file->private_data;
	struct rxu_u2u *c = inst->u2u;
	struct rxu_pool_file *pf;
	struct rxu_pool *pool;
	struct file *pfile;

	pf = kzalloc(sizeof(*pf), GFP_KERNEL_ACCOUNT);
	if (!pf)
		return ERR_PTR(-ENOMEM);
	mutex_lock(&c->pool_lock);
	pool = c->pool;
	if (!pool) {
		pool = kzalloc(sizeof(*pool), GFP_KERNEL_ACCOUNT);
		if (!pool) {
			mutex_unlock(&c->pool_lock);
			kfree(pf);
			return ERR_PTR(-ENOMEM);
		}
		kref_init(&pool->ref);	/* the connection's */
		mutex_init(&pool->lock);
		INIT_LIST_HEAD(&pool->ranges);
		init_waitqueue_head(&pool->wq);
		c->pool = pool;
	}
	kref_get(&pool->ref);
	mutex_unlock(&c->pool_lock);

	pf->pool = pool;
	pf->producer = inst->role == RXU_ROLE_U2U_PRODUCER;
	pfile = anon_inode_getfile("[redox_uring-pool]", &rxu_pool_fops, pf,
				   O_RDWR);
	if (IS_ERR(pfile)) {
		rxu_pool_put(pool);
		kfree(pf);
	}
	return pfile;
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

static void rxu_u2u_release(struct kref *ref)
{
	struct rxu_u2u *c = container_of(ref, struct rxu_u2u, ref);

	if (c->pool)
		rxu_pool_put(c->pool);
	rxu_scheme_put(c->scheme);
	mutex_destroy(&c->pool_lock);
	kfree(c);
}

static void rxu_u2u_put(struct rxu_u2u *c)
{
	kref_put(&c->ref, rxu_u2u_release);
}

/*
 * One side leaves (its fd closed, or the connection failed): DROP in the
 * shared headers, and the peer hears of it.
 */
static void rxu_u2u_leave(struct rxu_u2u *c, struct rxu_instance *inst)
{
	struct rxu_instance *peer;

	spin_lock(&c->lock);
	if (c->consumer == inst) {
		c->consumer = NULL;
		peer = c->producer;
	} else {
		c->producer = NULL;
		peer = c->consumer;
	}
	rxu_kring_set_drop(&inst->sq);
	rxu_kring_set_drop(&inst->cq);
	if (peer)
		rxu_instance_kick(peer);
	spin_unlock(&c->lock);
}

void rxu_u2u_gone(struct rxu_instance *inst)
{
	struct rxu_u2u *c = inst->u2u;

	rxu_u2u_leave(c, inst);
	inst->u2u = NULL;
	rxu_u2u_put(c);
}

/*
 * ATTACH "NAME:" (name without its ':'): connect to provider NAME and
 * sleep until it accepts.  0, -ENODEV (no such scheme), -ECONNREFUSED,
 * -EIO (it went away), -EINTR, -EBADFD (wrong state).
 */
int rxu_u2u_attach(struct rxu_instance *inst, const char *name, size_t len)
{
	struct rxu_scheme *s;
	struct rxu_u2u *c;
	bool received;
	u32 ticket;
	int ret;

	mutex_lock(&inst->state_lock);
	if (inst->state != RXU_STATE_CREATED || inst->connecting ||
	    inst->mapped != GENMASK(RXU_NR_RING_REGIONS - 1, 0)) {
		mutex_unlock(&inst->state_lock);
		return -EBADFD;
	}
	inst->connecting = true;
	mutex_unlock(&inst->state_lock);

	ret = -ENODEV;
	s = rxu_scheme_lookup(name, len);
	if (!s)
		goto out_connected;
	ret = -ENOMEM;
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c) {
		rxu_scheme_put(s);
		goto out_connected;
	}
	kref_init(&c->ref);		/* the consumer's */
	spin_lock_init(&c->lock);
	mutex_init(&c->pool_lock);
	c->consumer = inst;
	c->scheme = s;
	ret = xa_alloc_cyclic(&rxu_u2u_tickets, &ticket, c,
			      XA_LIMIT(1, U32_MAX), &rxu_u2u_next_ticket,
			      GFP_KERNEL_ACCOUNT);
	if (ret < 0)
		goto err_put_conn;

	ret = rxu_scheme_call_recv(s, ticket);

	/* Claimed or not, the ticket is no good any more. */
	mutex_lock(&rxu_u2u_lock);
	xa_erase(&rxu_u2u_tickets, ticket);
	mutex_unlock(&rxu_u2u_lock);
	spin_lock(&c->lock);
	if (!ret && !c->producer)
		ret = -ECONNREFUSED;	/* accepted without RXU_IOC_RECV */
	spin_unlock(&c->lock);
	if (ret)
		goto err_leave;

	mutex_lock(&inst->state_lock);
	inst->connecting = false;
	inst->u2u = c;
	inst->role = RXU_ROLE_U2U_CONSUMER;
	/* ENTER reads state without the lock */
	smp_store_release(&inst->state, RXU_STATE_ATTACHED);
	mutex_unlock(&inst->state_lock);
	return 0;

err_leave:
	spin_lock(&c->lock);
	received = c->producer;
	if (!received)
		c->consumer = NULL;
	spin_unlock(&c->lock);
	/*
	 * A provider that received the rings and then refused shares them
	 * now: DROP tells it they are done.  Otherwise they are the
	 * consumer's still, untouched.
	 */
	if (received)
		rxu_u2u_leave(c, inst);
err_put_conn:
	rxu_u2u_put(c);
out_connected:
	mutex_lock(&inst->state_lock);
	inst->connecting = false;
	mutex_unlock(&inst->state_lock);
	return ret;
}

/*
 * RXU_IOC_RECV on a provider: claim a ticket of its scheme and get a
 * producer instance fd on the consumer's rings.
 */
long rxu_u2u_recv(struct rxu_instance *inst, void __user *arg)
{
	struct rxu_recv_info info;
	struct rxu_instance *cons, *prod;
	struct rxu_u2u *c;
	struct file *file;
	int fd, ret;

	if (copy_from_user(&info, arg, sizeof(info)))
		return -EFAULT;
	if (info.reserved)
		return -EINVAL;
	/* Pairs with the release of ATTACH: role and scheme are set. */
	if (smp_load_acquire(&inst->state) != RXU_STATE_ATTACHED ||
	    inst->role != RXU_ROLE_PROVIDER)
		return -EBADFD;

	prod = rxu_instance_alloc();
	if (IS_ERR(prod))
		return PTR_ERR(prod);
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_free_inst;
	}

	mutex_lock(&rxu_u2u_lock);
	c = info.ticket <= U32_MAX ? xa_load(&rxu_u2u_tickets, info.ticket) :
				     NULL;
	if (!c || c->scheme != inst->scheme) {
		ret = -ENOENT;
		goto err_unlock;
	}
	/* The consumer sleeps in ATTACH until the ticket is erased. */
	cons = c->consumer;
	info.version_major = RXU_VERSION_MAJOR;
	info.version_minor = 0;
	info.version_patch = 0;
	info.flags = rxu_is_bits32(cons) ? RXU_RECV_BITS_32 : 0;
	info.producer_fd = fd;
	info.sq_entry_count = cons->sq.n;
	info.cq_entry_count = cons->cq.n;
	/* Nothing is made before this: a fault leaves the ticket good. */
	if (copy_to_user(arg, &info, sizeof(info))) {
		ret = -EFAULT;
		goto err_unlock;
	}

	prod->create_flags = cons->create_flags;
	prod->sq = cons->sq;
	prod->cq = cons->cq;
	prod->mem_file = get_file(cons->mem_file);
	file = anon_inode_getfile("[redox_uring]", &rxu_instance_fops, prod,
				  O_RDWR | O_CLOEXEC);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		fput(prod->mem_file);
		goto err_unlock;
	}
	prod->role = RXU_ROLE_U2U_PRODUCER;
	prod->u2u = c;
	/* Everything above before the state: ENTER reads it locklessly. */
	smp_store_release(&prod->state, RXU_STATE_ATTACHED);
	xa_erase(&rxu_u2u_tickets, info.ticket);
	kref_get(&c->ref);		/* the producer's */
	spin_lock(&c->lock);
	c->producer = prod;
	spin_unlock(&c->lock);
	mutex_unlock(&rxu_u2u_lock);
	fd_install(fd, file);
	return 0;

err_unlock:
	mutex_unlock(&rxu_u2u_lock);
	put_unused_fd(fd);
err_free_inst:
	rxu_instance_free(prod);
	return ret;
}

/*
 * Has this side pushed or popped since its last doorbell?  Its own words
 * of both headers (index and epoch, as a user may move either) against
 * those seen then; under submit_lock, which nothing else of a u2u
 * instance takes.
 */
static bool rxu_u2u_moved(struct rxu_instance *inst)
{
	const struct rxu_ring_header *sq = inst->sq.hdr, *cq = inst->cq.hdr;
	bool consumer = inst->role == RXU_ROLE_U2U_CONSUMER;
	u64 now[4], *seen = inst->seen_epochs;
	bool moved;

	now[0] = consumer ? READ_ONCE(sq->tail_index) : READ_ONCE(sq->head_index);
	now[1] = consumer ? READ_ONCE(sq->push_epoch) : READ_ONCE(sq->pop_epoch);
	now[2] = consumer ? READ_ONCE(cq->head_index) : READ_ONCE(cq->tail_index);
	now[3] = consumer ? READ_ONCE(cq->pop_epoch) : READ_ONCE(cq->push_epoch);
	mutex_lock(&inst->submit_lock);
	moved = memcmp(now, seen, sizeof(now));
	memcpy(seen, now, sizeof(now));
	mutex_unlock(&inst->submit_lock);
	return moved;
}

/*
 * A u2u ENTER: ring the peer's doorbell if this side pushed or popped
 * since the last one, and say what this side may pop.
 */
s64 rxu_u2u_doorbell(struct rxu_instance *inst)
{
	struct rxu_u2u *c = inst->u2u;
	struct rxu_instance *peer;

	if (rxu_u2u_moved(inst)) {
		spin_lock(&c->lock);
		peer = inst == c->consumer ? c->producer : c->consumer;
		if (peer)
			rxu_instance_kick(peer);
		spin_unlock(&c->lock);
	}
	return rxu_kring_count(rxu_owner_pop_ring(inst));
}
