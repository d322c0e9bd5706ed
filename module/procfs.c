// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/redox_uring: what exists, one record per line, for rxuctl ls and
 * for people.  The format is documented in README ("/proc/redox_uring"):
 *
 *   scheme NAME pid PID inflight N pending N files N garbage N
 *   instance ID pid PID role ROLE state STATE sq N cq N
 *
 * Readable by root only: it names processes of every user.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "instance.h"
#include "procfs.h"
#include "scheme.h"

static int rxu_proc_show(struct seq_file *m, void *v)
{
	rxu_scheme_show(m);
	rxu_instance_show(m);
	return 0;
}

static struct proc_dir_entry *rxu_proc;

int rxu_procfs_init(void)
{
	rxu_proc = proc_create_single("redox_uring", 0400, NULL, rxu_proc_show);
	return rxu_proc ? 0 : -ENOMEM;
}

void rxu_procfs_exit(void)
{
	proc_remove(rxu_proc);
}
