/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RXU_SCHEME_H
#define RXU_SCHEME_H

#include <linux/types.h>

#include "events.h"
#include "opdef.h"

struct file;
struct rxu_instance;
struct rxu_scheme;
struct rxu_sreq;

/* Module parameters (scheme.c). */
extern unsigned int rxu_scheme_data_size;
extern int rxu_scheme_gid;

/* Registration, from ATTACH ":NAME" under the instance's state_lock. */
int rxu_scheme_register(struct rxu_instance *inst, const char *name,
			size_t len);
/* The provider's instance is being released. */
void rxu_scheme_provider_gone(struct rxu_instance *inst);
/* One round of a provider's ENTER: SQEs it may pop, or -errno. */
s64 rxu_scheme_submit(struct rxu_instance *inst);
/* RXU_IOC_SCHEME_FEATURES on an instance fd. */
long rxu_scheme_set_features(struct rxu_instance *inst, void __user *arg);

struct rxu_scheme *rxu_scheme_lookup(const char *name, size_t len);
void rxu_scheme_put(struct rxu_scheme *s);

bool rxu_is_scheme_file(const struct file *file);
bool rxu_scheme_file_dead(const struct file *file);

/* Ring ops on schemes: they return -EIOCBQUEUED and finish in ENTER. */
s64 rxu_scheme_open(struct rxu_req *req, struct rxu_scheme *s,
		    const char *rest, size_t len, int flags, umode_t mode);
s64 rxu_scheme_rw(struct rxu_req *req, struct file *file, u8 opcode,
		  u64 addr, u64 len, loff_t pos);
s64 rxu_scheme_simple(struct rxu_req *req, struct file *file, u8 opcode,
		      u32 sflags, u64 offset);
s64 rxu_scheme_fstat(struct rxu_req *req, struct file *file, u64 addr,
		     u64 len);
s64 rxu_scheme_dup(struct rxu_req *req, struct file *file,
		   const void __user *param, u64 len);

/* events.c: a scheme request of a ring finished or is cancelled. */
void rxu_scheme_async_done(struct rxu_instance *inst, struct rxu_cq_batch *b,
			   struct rxu_async *a);
void rxu_scheme_async_cancel(struct rxu_async *a);

/* u2u.c: ask the provider to accept a ring. */
int rxu_scheme_call_recv(struct rxu_scheme *s, u64 ticket);

/* procfs.c */
struct seq_file;
void rxu_scheme_show(struct seq_file *m);

#endif /* RXU_SCHEME_H */
