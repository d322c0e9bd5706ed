// SPDX-License-Identifier: GPL-2.0
/*
 * Instance lifecycle, ABI.md sections 1-3: Initial (opened) -> Created (a
 * struct rxu_create_info written; regions exist) -> Attached (all four
 * regions mapped, then RXU_IOC_ATTACH).  Whatever the current state does
 * not allow fails with -EBADFD.  The last close tears the instance down.
 */
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <uapi/linux/redox_uring.h>

#include "events.h"
#include "instance.h"
#include "scheme.h"

#define RXU_MAX_NAME	256	/* longest scheme name accepted by ATTACH */

/* Every instance, for /proc/redox_uring. */
static LIST_HEAD(rxu_instances);
static DEFINE_SPINLOCK(rxu_instances_lock);
static u64 rxu_next_id;

/* Instances per user (uid in the initial namespace -> count, as a value). */
static DEFINE_XARRAY(rxu_users);

/*
 * Count one more instance for uid: -EMFILE past max_instances_per_user
 * (0: no limit), unless the caller has CAP_SYS_RESOURCE.
 */
static int rxu_user_charge(kuid_t uid)
{
	unsigned int max = READ_ONCE(rxu_max_instances_per_user);
	unsigned long key = from_kuid(&init_user_ns, uid);
	bool exempt = !max || capable(CAP_SYS_RESOURCE);
	unsigned long n;
	void *entry;
	int ret = 0;

	xa_lock(&rxu_users);
	entry = xa_load(&rxu_users, key);
	n = entry ? xa_to_value(entry) : 0;
	if (!exempt && n >= max)
		ret = -EMFILE;
	else
		ret = xa_err(__xa_store(&rxu_users, key, xa_mk_value(n + 1),
					GFP_ATOMIC | __GFP_ACCOUNT));
	xa_unlock(&rxu_users);
	return ret;
}

static void rxu_user_uncharge(kuid_t uid)
{
	unsigned long key = from_kuid(&init_user_ns, uid);
	unsigned long n;
	void *entry;

	xa_lock(&rxu_users);
	entry = xa_load(&rxu_users, key);
	n = entry ? xa_to_value(entry) : 0;
	if (n <= 1)
		__xa_erase(&rxu_users, key);
	else	/* replacing a present entry allocates nothing */
		__xa_store(&rxu_users, key, xa_mk_value(n - 1), GFP_ATOMIC);
	xa_unlock(&rxu_users);
}

bool rxu_creation_allowed(void)
{
	return READ_ONCE(rxu_enabled);
}

/* A new Initial instance, charged to the caller's user; or an ERR_PTR. */
struct rxu_instance *rxu_instance_alloc(void)
{
	struct rxu_instance *inst;
	kuid_t uid = current_uid();
	int ret;

	ret = rxu_user_charge(uid);
	if (ret)
		return ERR_PTR(ret);
	inst = kzalloc(sizeof(*inst), GFP_KERNEL_ACCOUNT);
	if (!inst) {
		rxu_user_uncharge(uid);
		return ERR_PTR(-ENOMEM);
	}
	inst->uid = uid;
	mutex_init(&inst->state_lock);
	mutex_init(&inst->submit_lock);
	init_waitqueue_head(&inst->wait);
	rxu_events_init(inst);
	inst->state = RXU_STATE_INITIAL;
	inst->pid = task_tgid_vnr(current);
	spin_lock(&rxu_instances_lock);
	inst->id = ++rxu_next_id;
	list_add_tail(&inst->all_node, &rxu_instances);
	spin_unlock(&rxu_instances_lock);
	return inst;
}

/*
 * Watchers sit on poll_wq without holding this file (events.c): tell them
 * it goes away, and free only after an RCU grace period, which is what
 * POLLFREE promises them.
 */
void rxu_instance_free(struct rxu_instance *inst)
{
	spin_lock(&rxu_instances_lock);
	list_del(&inst->all_node);
	spin_unlock(&rxu_instances_lock);
	rxu_user_uncharge(inst->uid);
	wake_up_pollfree(&inst->poll_wq);
	mutex_destroy(&inst->submit_lock);
	mutex_destroy(&inst->state_lock);
	kfree_rcu(inst, rcu);
}

/* A new Initial instance behind an anonymous file (OPEN of io_uring:). */
struct file *rxu_instance_new_file(int o_flags)
{
	struct rxu_instance *inst;
	struct file *file;

	if (!rxu_creation_allowed())
		return ERR_PTR(-EPERM);
	inst = rxu_instance_alloc();
	if (IS_ERR(inst))
		return ERR_CAST(inst);
	file = anon_inode_getfile("[redox_uring]", &rxu_instance_fops, inst,
				  O_RDWR | (o_flags & O_CLOEXEC));
	if (IS_ERR(file))
		rxu_instance_free(inst);
	return file;
}

/* Wake everyone waiting in ENTER on this instance. */
void rxu_instance_notify(struct rxu_instance *inst)
{
	atomic_inc(&inst->notify_seq);
	wake_up_all(&inst->wait);
}

/*
 * The other side of the instance pushed or popped (the kernel for a
 * provider, the peer of a u2u ring): wake ENTER, which looks again, and
 * the IO_URING watchers.
 */
void rxu_instance_kick(struct rxu_instance *inst)
{
	atomic_inc(&inst->kick);
	wake_up(&inst->wait);
	if (wq_has_sleeper(&inst->poll_wq))
		wake_up_poll(&inst->poll_wq, EPOLLIN | EPOLLRDNORM);
}

/* open() of /dev/redox_uring: a new Initial instance. */
static int rxu_instance_open(struct inode *inode, struct file *file)
{
	struct rxu_instance *inst;

	if (!rxu_creation_allowed())
		return -EPERM;
	inst = rxu_instance_alloc();
	if (IS_ERR(inst))
		return PTR_ERR(inst);
	file->private_data = inst;
	return nonseekable_open(inode, file);
}

/* Last reference gone: shut both rings down and let the memory go. */
static int rxu_instance_release(struct inode *inode, struct file *file)
{
	struct rxu_instance *inst = file->private_data;

	if (inst->role == RXU_ROLE_PROVIDER)
		rxu_scheme_provider_gone(inst);
	else if (inst->u2u)
		rxu_u2u_gone(inst);
	if (inst->state != RXU_STATE_INITIAL) {
		rxu_events_cancel_all(inst);
		rxu_kring_set_drop(&inst->sq);
		rxu_kring_set_drop(&inst->cq);
		rxu_instance_notify(inst);
		fput(inst->mem_file);
	}
	rxu_instance_free(inst);
	return 0;
}

static int rxu_check_count(u64 count)
{
	if (!count || count > READ_ONCE(rxu_max_entries) ||
	    !is_power_of_2(count))
		return -EINVAL;
	return 0;
}

static int rxu_check_create_info(const struct rxu_create_info *ci)
{
	if (ci->version_major != RXU_VERSION_MAJOR || ci->reserved)
		return -EINVAL;
	if (ci->flags & ~RXU_CREATE_FLAGS_ALL)
		return -EINVAL;
	if (ci->len != sizeof(*ci))
		return -EINVAL;
	if (rxu_check_count(ci->sq_entry_count) ||
	    rxu_check_count(ci->cq_entry_count))
		return -EINVAL;
	return 0;
}

static int rxu_entries_size(u64 count, size_t esize, size_t *size)
{
	size_t bytes;

	if (check_mul_overflow((size_t)count, esize, &bytes))
		return -EINVAL;
	*size = PAGE_ALIGN(bytes);
	return *size < bytes ? -EINVAL : 0;
}

/* Initial -> Created: allocate and initialise the four regions. */
static int rxu_create(struct rxu_instance *inst,
		      const struct rxu_create_info *ci)
{
	bool bits32 = ci->flags & RXU_CREATE_BITS_32;
	size_t sqe = bits32 ? sizeof(struct rxu_sqe32) : sizeof(struct rxu_sqe64);
	size_t cqe = bits32 ? sizeof(struct rxu_cqe32) : sizeof(struct rxu_cqe64);
	size_t size[RXU_NR_REGIONS] = {
		[RXU_REGION_SQ_HEADER] = RXU_HEADER_SIZE,
		[RXU_REGION_CQ_HEADER] = RXU_HEADER_SIZE,
	};
	struct rxu_region *region;
	struct rxu_mem *mem;
	struct file *mem_file;
	int ret;

	BUILD_BUG_ON(sizeof(struct rxu_ring_header) > RXU_HEADER_SIZE);
	BUILD_BUG_ON(RXU_HEADER_SIZE % PAGE_SIZE);

	ret = rxu_entries_size(ci->sq_entry_count, sqe,
			       &size[RXU_REGION_SQ_ENTRIES]);
	if (!ret)
		ret = rxu_entries_size(ci->cq_entry_count, cqe,
				       &size[RXU_REGION_CQ_ENTRIES]);
	if (ret)
		return ret;

	mem_file = rxu_mem_create(size, &mem);
	if (IS_ERR(mem_file))
		return PTR_ERR(mem_file);

	region = mem->region;
	inst->mem_file = mem_file;
	inst->create_flags = ci->flags;
	rxu_kring_init(&inst->sq, region[RXU_REGION_SQ_HEADER].vaddr,
		       region[RXU_REGION_SQ_ENTRIES].vaddr,
		       ci->sq_entry_count, sqe);
	rxu_kring_init(&inst->cq, region[RXU_REGION_CQ_HEADER].vaddr,
		       region[RXU_REGION_CQ_ENTRIES].vaddr,
		       ci->cq_entry_count, cqe);
	/* Publish after everything above: ENTER reads state locklessly. */
	smp_store_release(&inst->state, RXU_STATE_CREATED);
	return 0;
}

/* write() of a struct rxu_create_info, in Initial state only. */
static ssize_t rxu_instance_write(struct file *file, const char __user *buf,
				  size_t count, loff_t *ppos)
{
	struct rxu_instance *inst = file->private_data;
	struct rxu_create_info ci;
	ssize_t ret;

	if (count != sizeof(ci)) {
		/* A wrong state still says so first. */
		return READ_ONCE(inst->state) == RXU_STATE_INITIAL ?
		       -EINVAL : -EBADFD;
	}
	if (copy_from_user(&ci, buf, sizeof(ci)))
		return -EFAULT;

	mutex_lock(&inst->state_lock);
	if (inst->state != RXU_STATE_INITIAL) {
		ret = -EBADFD;
		goto out_unlock;
	}
	ret = rxu_check_create_info(&ci);
	if (!ret)
		ret = rxu_create(inst, &ci);
out_unlock:
	mutex_unlock(&inst->state_lock);
	return ret ? ret : sizeof(ci);
}

static int rxu_instance_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct rxu_instance *inst = file->private_data;
	int id, ret;

	mutex_lock(&inst->state_lock);
	if (inst->state == RXU_STATE_INITIAL) {
		ret = -EBADFD;
		goto out_unlock;
	}
	id = rxu_region_id(vma->vm_pgoff);
	if (id < 0) {
		ret = id;
		goto out_unlock;
	}
	ret = rxu_region_mmap(inst->mem_file, id, vma);
	if (!ret)
		inst->mapped |= BIT(id);
out_unlock:
	mutex_unlock(&inst->state_lock);
	return ret;
}

/*
 * What an ATTACH name asks for: "io_uring:" attaches to the kernel (u2k),
 * ":NAME" registers scheme NAME (its provider), "NAME:" connects to it
 * (u2u).  Anything else, -EINVAL.
 */
static int rxu_attach_target(const char *name, size_t len)
{
	if (len == strlen(RXU_SCHEME_KERNEL) &&
	    !memcmp(name, RXU_SCHEME_KERNEL, len))
		return RXU_ROLE_KERNEL;
	if (len < 2 || memchr(name, '/', len))
		return -EINVAL;
	if (name[0] == ':' && !memchr(name + 1, ':', len - 1))
		return RXU_ROLE_PROVIDER;
	if (name[len - 1] == ':' && !memchr(name, ':', len - 1))
		return RXU_ROLE_U2U_CONSUMER;
	return -EINVAL;
}

static long rxu_ioctl_attach(struct rxu_instance *inst, void __user *arg)
{
	struct rxu_attach at;
	char *name;
	long ret;

	if (copy_from_user(&at, arg, sizeof(at)))
		return -EFAULT;
	if (!at.name_len)
		return -EINVAL;
	if (at.name_len > RXU_MAX_NAME)
		return -ENAMETOOLONG;
	name = memdup_user(u64_to_user_ptr(at.name), at.name_len);
	if (IS_ERR(name))
		return PTR_ERR(name);

	ret = rxu_attach_target(name, at.name_len);
	if (ret == RXU_ROLE_U2U_CONSUMER) {
		/* Sleeps until the provider answers: not under state_lock. */
		ret = rxu_u2u_attach(inst, name, at.name_len - 1);
		goto out_free_name;
	}

	mutex_lock(&inst->state_lock);
	if (inst->state != RXU_STATE_CREATED || inst->connecting ||
	    inst->mapped != GENMASK(RXU_NR_RING_REGIONS - 1, 0)) {
		ret = -EBADFD;
		goto out_unlock;
	}
	if (ret < 0)
		goto out_unlock;
	inst->role = ret;
	ret = 0;
	if (inst->role == RXU_ROLE_PROVIDER)
		ret = rxu_scheme_register(inst, name + 1, at.name_len - 1);
	if (ret)
		inst->role = RXU_ROLE_NONE;
	else /* ENTER reads state without the lock */
		smp_store_release(&inst->state, RXU_STATE_ATTACHED);
out_unlock:
	mutex_unlock(&inst->state_lock);
out_free_name:
	kfree(name);
	return ret;
}

/*
 * Readable when the ring the owner pops holds entries (what a watcher's
 * IO_URING event means: CQEs for a consumer, SQEs for a provider),
 * writable when the ring it pushes has room; a u2u ring whose peer left
 * also says hang-up.
 */
static __poll_t rxu_instance_poll(struct file *file,
				  struct poll_table_struct *pt)
{
	struct rxu_instance *inst = file->private_data;
	struct rxu_kring *pop, *push;
	__poll_t mask = 0;
	s64 n;

	poll_wait(file, &inst->poll_wq, pt);
	/* Pairs with the release that published the rings. */
	if (smp_load_acquire(&inst->state) != RXU_STATE_ATTACHED)
		return 0;
	pop = rxu_owner_pop_ring(inst);
	push = rxu_owner_push_ring(inst);
	n = rxu_kring_count(pop);
	if (n < 0)
		return EPOLLERR;
	if (n > 0)
		mask |= EPOLLIN | EPOLLRDNORM;
	n = rxu_kring_count(push);
	if (n >= 0 && n < push->n)
		mask |= EPOLLOUT | EPOLLWRNORM;
	if (inst->u2u && rxu_kring_dropped(pop))
		mask |= EPOLLHUP;
	return mask;
}

static long rxu_instance_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	struct rxu_instance *inst = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case RXU_IOC_ENTER:
		return rxu_enter(inst, uarg);
	case RXU_IOC_ATTACH:
		return rxu_ioctl_attach(inst, uarg);
	case RXU_IOC_RECV:
		return rxu_u2u_recv(inst, uarg);
	case RXU_IOC_SCHEME_FEATURES:
		return rxu_scheme_set_features(inst, uarg);
	default:
		return -ENOTTY;
	}
}

static const char *const rxu_role_names[] = {
	[RXU_ROLE_NONE]		= "none",
	[RXU_ROLE_KERNEL]	= "kernel",
	[RXU_ROLE_PROVIDER]	= "provider",
	[RXU_ROLE_U2U_CONSUMER]	= "u2u-consumer",
	[RXU_ROLE_U2U_PRODUCER]	= "u2u-producer",
};

static const char *const rxu_state_names[] = {
	[RXU_STATE_INITIAL]	= "initial",
	[RXU_STATE_CREATED]	= "created",
	[RXU_STATE_ATTACHED]	= "attached",
};

/* /proc/redox_uring: one line per instance. */
void rxu_instance_show(struct seq_file *m)
{
	struct rxu_instance *inst;
	enum rxu_state state;

	spin_lock(&rxu_instances_lock);
	list_for_each_entry(inst, &rxu_instances, all_node) {
		/* Pairs with the release that published the rings. */
		state = smp_load_acquire(&inst->state);
		seq_printf(m, "instance %llu pid %d role %s state %s sq %llu cq %llu\n",
			   inst->id, inst->pid,
			   state == RXU_STATE_ATTACHED ?
			   rxu_role_names[inst->role] : "none",
			   rxu_state_names[state],
			   state == RXU_STATE_INITIAL ? 0 : inst->sq.n,
			   state == RXU_STATE_INITIAL ? 0 : inst->cq.n);
	}
	spin_unlock(&rxu_instances_lock);
}

const struct file_operations rxu_instance_fops = {
	.owner		= THIS_MODULE,
	.open		= rxu_instance_open,
	.release	= rxu_instance_release,
	.write		= rxu_instance_write,
	.mmap		= rxu_instance_mmap,
	.poll		= rxu_instance_poll,
	.unlocked_ioctl	= rxu_instance_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};
