// SPDX-License-Identifier: GPL-2.0
/*
 * Ring and entry regions: kernel pages, zero-filled, charged to the
 * caller's memory cgroup, mapped into the kernel with vmap() and into user
 * space with vm_insert_pages().
 *
 * Lifetime: the pages belong to a "memory file".  mmap() on an instance
 * moves the VMA over to that file (vma_set_file), so a mapping pins the
 * memory but not the instance: closing the last instance fd tears the
 * instance down (DROP, wake-ups) while the rings stay readable, and the
 * pages are freed when the last mapping and the instance are gone.  The
 * inserted pages also hold their own page references, as io_uring's do.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <uapi/linux/redox_uring.h>

#include "compat.h"
#include "region.h"

static const unsigned long rxu_region_pgoff[RXU_NR_REGIONS] = {
	[RXU_REGION_SQ_HEADER]	= RXU_OFF_SQ_HEADER >> PAGE_SHIFT,
	[RXU_REGION_SQ_ENTRIES]	= RXU_OFF_SQ_ENTRIES >> PAGE_SHIFT,
	[RXU_REGION_CQ_HEADER]	= RXU_OFF_CQ_HEADER >> PAGE_SHIFT,
	[RXU_REGION_CQ_ENTRIES]	= RXU_OFF_CQ_ENTRIES >> PAGE_SHIFT,
	[RXU_REGION_SCHEME_DATA] = RXU_OFF_SCHEME_DATA >> PAGE_SHIFT,
};

static void rxu_region_free(struct rxu_region *r)
{
	unsigned int i;

	if (r->vaddr)
		vunmap(r->vaddr);
	for (i = 0; i < r->nr_pages; i++)
		if (r->pages[i])
			__free_page(r->pages[i]);
	kvfree(r->pages);
	r->pages = NULL;
	r->vaddr = NULL;
	r->nr_pages = 0;
}

static int rxu_region_alloc(struct rxu_region *r, size_t size)
{
	unsigned int i, nr = size >> PAGE_SHIFT;

	if (!nr || size & ~PAGE_MASK || nr != size >> PAGE_SHIFT)
		return -EINVAL;
	r->pages = kvcalloc(nr, sizeof(*r->pages),
			    GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!r->pages)
		return -ENOMEM;
	r->nr_pages = nr;
	for (i = 0; i < nr; i++) {
		r->pages[i] = alloc_page(RXU_GFP_PAGES);
		if (!r->pages[i])
			goto err_free_pages;
	}
	r->vaddr = vmap(r->pages, nr, VM_MAP, PAGE_KERNEL);
	if (!r->vaddr)
		goto err_free_pages;
	return 0;

err_free_pages:
	rxu_region_free(r);
	return -ENOMEM;
}

static int rxu_mem_release(struct inode *inode, struct file *file)
{
	struct rxu_mem *mem = file->private_data;
	int i;

	for (i = 0; i < RXU_NR_REGIONS; i++)
		rxu_region_free(&mem->region[i]);
	kfree(mem);
	return 0;
}

/* Never opened by userspace: only referenced by the instance and its VMAs. */
static const struct file_operations rxu_mem_fops = {
	.owner		= THIS_MODULE,
	.release	= rxu_mem_release,
};

/*
 * The pages are all present from mmap() on; a VMA needs vm_ops to count as
 * file-backed, and has no fault handler: an access after the user zapped
 * the range (MADV_DONTNEED) gets SIGBUS, as with io_uring's rings.
 */
static const struct vm_operations_struct rxu_region_vm_ops = {};

/* Allocate the four ring regions and the memory file that owns them. */
struct file *rxu_mem_create(const size_t size[RXU_NR_RING_REGIONS],
			    struct rxu_mem **memp)
{
	struct rxu_mem *mem;
	struct file *file;
	int i, ret;

	mem = kzalloc(sizeof(*mem), GFP_KERNEL_ACCOUNT);
	if (!mem)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < RXU_NR_RING_REGIONS; i++) {
		ret = rxu_region_alloc(&mem->region[i], size[i]);
		if (ret)
			goto err_free_regions;
	}
	file = anon_inode_getfile("[redox_uring-mem]", &rxu_mem_fops, mem,
				  O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_free_regions;
	}
	*memp = mem;
	return file;

err_free_regions:
	while (i--)
		rxu_region_free(&mem->region[i]);
	kfree(mem);
	return ERR_PTR(ret);
}

/*
 * Add region id (not a ring's) to a memory file; its kernel address, or
 * an ERR_PTR.  Serialised with ->mmap by the instance's state_lock.
 */
void *rxu_mem_add_region(struct file *mem_file, enum rxu_region_id id,
			 size_t size)
{
	struct rxu_mem *mem = mem_file->private_data;
	struct rxu_region *r = &mem->region[id];
	int ret;

	if (r->nr_pages)
		return ERR_PTR(-EBUSY);
	ret = rxu_region_alloc(r, size);
	return ret ? ERR_PTR(ret) : r->vaddr;
}

/* Which region an mmap offset names, or -EINVAL. */
int rxu_region_id(unsigned long pgoff)
{
	int i;

	for (i = 0; i < RXU_NR_REGIONS; i++)
		if (pgoff == rxu_region_pgoff[i])
			return i;
	return -EINVAL;
}

/*
 * Map region id of mem_file into vma.  Called from an instance's ->mmap
 * with the mmap lock held for writing.  The mapping must be shared, not
 * executable, and exactly as long as the region.
 */
int rxu_region_mmap(struct file *mem_file, enum rxu_region_id id,
		    struct vm_area_struct *vma)
{
	struct rxu_mem *mem = mem_file->private_data;
	struct rxu_region *r = &mem->region[id];
	unsigned long nr = r->nr_pages;
	int ret;

	if (!nr)
		return -EINVAL;	/* not there: a data region of no provider */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma_pages(vma) != nr)
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;

	rxu_vm_flags_clear(vma, VM_MAYEXEC);
	rxu_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	ret = vm_insert_pages(vma, vma->vm_start, r->pages, &nr);
	if (ret)
		return ret;

	vma->vm_ops = &rxu_region_vm_ops;
	vma_set_file(vma, mem_file);
	return 0;
}
