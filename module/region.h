/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RXU_REGION_H
#define RXU_REGION_H

#include <linux/types.h>

#include <linux/gfp.h>

/*
 * Bulk pages (rings, data regions, pools): charged to the caller's
 * memory cgroup, and a cgroup at its limit makes the call fail with
 * ENOMEM instead of waking its OOM killer.
 */
#define RXU_GFP_PAGES	(GFP_KERNEL_ACCOUNT | __GFP_ZERO | __GFP_NORETRY | \
			 __GFP_NOWARN)

struct file;
struct page;
struct vm_area_struct;

/*
 * The four ring regions of an instance, in RXU_OFF_* order, and a
 * provider's data region, which exists from its ATTACH on.
 */
enum rxu_region_id {
	RXU_REGION_SQ_HEADER,
	RXU_REGION_SQ_ENTRIES,
	RXU_REGION_CQ_HEADER,
	RXU_REGION_CQ_ENTRIES,
	RXU_NR_RING_REGIONS,
	RXU_REGION_SCHEME_DATA = RXU_NR_RING_REGIONS,
	RXU_NR_REGIONS,
};

/* Kernel pages shared with userspace, and their kernel mapping. */
struct rxu_region {
	struct page **pages;
	unsigned int nr_pages;
	void *vaddr;
};

/*
 * The memory of one instance.  It belongs to a small anonymous file (the
 * "memory file"): the instance holds one reference and every user mapping
 * holds another, so the pages outlive whichever goes last, and a mapping
 * never keeps the instance itself alive.
 */
struct rxu_mem {
	struct rxu_region region[RXU_NR_REGIONS];
};

struct file *rxu_mem_create(const size_t size[RXU_NR_RING_REGIONS],
			    struct rxu_mem **memp);
void *rxu_mem_add_region(struct file *mem_file, enum rxu_region_id id,
			 size_t size);
int rxu_region_id(unsigned long pgoff);
int rxu_region_mmap(struct file *mem_file, enum rxu_region_id id,
		    struct vm_area_struct *vma);

#endif /* RXU_REGION_H */
