/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RXU_INSTANCE_H
#define RXU_INSTANCE_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>

#include "region.h"
#include "ring.h"

/* ABI.md section 1: an instance only ever moves forward. */
enum rxu_state {
	RXU_STATE_INITIAL,	/* opened, waiting for its create info */
	RXU_STATE_CREATED,	/* regions exist and may be mapped */
	RXU_STATE_ATTACHED,	/* attached: ENTER works */
};

/* What an attached instance is the kernel's side of (ABI.md section 7). */
enum rxu_role {
	RXU_ROLE_NONE,		/* not attached yet */
	RXU_ROLE_KERNEL,	/* u2k: the kernel pops the SQ, pushes the CQ */
	RXU_ROLE_PROVIDER,	/* k2u: a scheme; the kernel pushes the SQ */
	RXU_ROLE_U2U_CONSUMER,	/* u2u: pushes the SQ to a provider */
	RXU_ROLE_U2U_PRODUCER,	/* u2u: the provider's side of it */
};

struct rxu_scheme;
struct rxu_u2u;

/*
 * One instance, the private data of its file.  Its lifetime is the
 * file's: it is freed by ->release, after the last fd and the last
 * in-flight syscall on it are gone (mappings hold the memory file, not
 * this file).
 *
 * Locking:
 *  - state_lock serialises the state transitions (create, mmap, attach)
 *    and the mapped mask.  ->mmap takes it under the mmap lock, so it is
 *    never held while touching user memory.
 *  - submit_lock makes the kernel the single popper of the SQ and single
 *    pusher of the CQ.  It is held while ops run and touch user memory,
 *    so it nests outside the mmap lock and ->mmap never takes it.
 *  - state is read locklessly by ENTER: it is published with a release
 *    store once everything it guards is initialised, and never goes back.
 *  - ready_lock (irq-safe) guards the wake-up state of each async request
 *    (queued, fired, gone) and the links of the lists a queued request is
 *    on: ready, foreign, and ENTER's private list of woken ones.  Wake-up
 *    callbacks take it in atomic context, under a foreign wait queue's
 *    lock.  Nothing else is taken inside it.
 *  - everything else of events.c (ops, watches, backlog, reserved, seq)
 *    belongs to whoever holds submit_lock.
 */
struct rxu_instance {
	struct mutex state_lock;	/* state, mapped; see above */
	enum rxu_state state;
	enum rxu_role role;		/* set once, before state is Attached */
	u8 mapped;			/* bit per enum rxu_region_id */
	bool connecting;		/* a u2u ATTACH waits; under state_lock */
	u32 create_flags;		/* RXU_CREATE_* */
	struct rxu_scheme *scheme;	/* RXU_ROLE_PROVIDER */
	struct rxu_u2u *u2u;		/* RXU_ROLE_U2U_* */
	atomic_t kick;			/* the other side pushed or popped */
	u64 seen_epochs[4];		/* u2u: own indices/epochs at the last doorbell */

	/* /proc/redox_uring */
	struct list_head all_node;
	u64 id;
	pid_t pid;
	kuid_t uid;			/* charged for this instance */

	struct file *mem_file;		/* owns the regions */
	struct rxu_kring sq;		/* the kernel pops it (u2k) */
	struct rxu_kring cq;		/* the kernel pushes it (u2k) */

	struct mutex submit_lock;	/* SQ pops, CQ pushes */
	wait_queue_head_t wait;		/* ENTER waiters */
	atomic_t notify_seq;		/* bumped by every notification */

	/* events.c */
	spinlock_t ready_lock;
	struct list_head ready;		/* requests woken up */
	struct list_head foreign;	/* woken ops of another process */
	struct list_head ops;		/* parked and deferred ops */
	struct list_head watches;	/* live subscriptions */
	struct list_head backlog;	/* events and LAST_UPDATEs owed */
	u64 reserved;			/* CQ slots promised to ops */
	u64 seq;			/* next SQE's submission order */
	unsigned int nr_deferred;	/* ops waiting for CHAIN/DRAIN */
	wait_queue_head_t poll_wq;	/* poll() and watchers of this fd */
	struct rcu_head rcu;		/* poll_wq outlives its POLLFREE */
};

static inline bool rxu_is_bits32(const struct rxu_instance *inst)
{
	return inst->create_flags & RXU_CREATE_BITS_32;
}

/* Does the owner pop the SQ (a provider's side) rather than the CQ? */
static inline bool rxu_owner_pops_sq(const struct rxu_instance *inst)
{
	return inst->role == RXU_ROLE_PROVIDER ||
	       inst->role == RXU_ROLE_U2U_PRODUCER;
}

/* The ring the owner pops: what ENTER waits for and poll() reports. */
static inline struct rxu_kring *rxu_owner_pop_ring(struct rxu_instance *inst)
{
	return rxu_owner_pops_sq(inst) ? &inst->sq : &inst->cq;
}

static inline struct rxu_kring *rxu_owner_push_ring(struct rxu_instance *inst)
{
	return rxu_owner_pops_sq(inst) ? &inst->cq : &inst->sq;
}

extern const struct file_operations rxu_instance_fops;

struct seq_file;

struct rxu_instance *rxu_instance_alloc(void);
void rxu_instance_free(struct rxu_instance *inst);
struct file *rxu_instance_new_file(int o_flags);
bool rxu_creation_allowed(void);
void rxu_instance_notify(struct rxu_instance *inst);
void rxu_instance_kick(struct rxu_instance *inst);
void rxu_instance_show(struct seq_file *m);

/* u2u.c */
int rxu_u2u_attach(struct rxu_instance *inst, const char *name, size_t len);
long rxu_u2u_recv(struct rxu_instance *inst, void __user *arg);
s64 rxu_u2u_doorbell(struct rxu_instance *inst);
void rxu_u2u_gone(struct rxu_instance *inst);
bool rxu_is_u2u_instance_file(const struct file *file);
struct file *rxu_u2u_pool_file(struct file *file);

long rxu_enter(struct rxu_instance *inst, void __user *arg);

/* Module parameters (main.c). */
extern unsigned int rxu_max_entries;
extern unsigned int rxu_max_instances_per_user;
extern bool rxu_enabled;

#endif /* RXU_INSTANCE_H */
