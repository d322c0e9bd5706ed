/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels redox_uring builds for (Debian 12's
 * 6.1 and 6.12), and nothing else.
 */
#ifndef RXU_COMPAT_H
#define RXU_COMPAT_H

#include <linux/version.h>
#include <linux/mm.h>
#include <linux/uio.h>

/* vm_flags became write-protected behind helpers in 6.3. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void rxu_vm_flags_set(struct vm_area_struct *vma,
				    unsigned long flags)
{
	vma->vm_flags |= flags;
}

static inline void rxu_vm_flags_clear(struct vm_area_struct *vma,
				      unsigned long flags)
{
	vma->vm_flags &= ~flags;
}
#else
static inline void rxu_vm_flags_set(struct vm_area_struct *vma,
				    vm_flags_t flags)
{
	vm_flags_set(vma, flags);
}

static inline void rxu_vm_flags_clear(struct vm_area_struct *vma,
				      vm_flags_t flags)
{
	vm_flags_clear(vma, flags);
}
#endif

/*
 * import_single_range() gave way to import_ubuf(); the iovec is only used
 * by the former, and must outlive the iterator.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
static inline int rxu_import_ubuf(int rw, void __user *buf, size_t len,
				  struct iovec *iov, struct iov_iter *iter)
{
	return import_single_range(rw, buf, len, iov, iter);
}

/* The user segment an iterator is at. */
static inline struct iovec rxu_iter_segment(const struct iov_iter *iter)
{
	return iov_iter_iovec(iter);
}
#else
static inline int rxu_import_ubuf(int rw, void __user *buf, size_t len,
				  struct iovec *iov, struct iov_iter *iter)
{
	return import_ubuf(rw, buf, len, iter);
}

static inline struct iovec rxu_iter_segment(const struct iov_iter *iter)
{
	const struct iovec *v;

	if (iter_is_ubuf(iter))
		return (struct iovec){
			.iov_base = iter->ubuf + iter->iov_offset,
			.iov_len = iter->count,
		};
	v = iter_iov(iter);
	return (struct iovec){
		.iov_base = v->iov_base + iter->iov_offset,
		.iov_len = min(iter->count, v->iov_len - iter->iov_offset),
	};
}
#endif

/*
 * vfs_iter_write() takes the superblock's freeze protection itself since
 * 6.7; before, its callers did.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
static inline ssize_t rxu_vfs_iter_write(struct file *file,
					 struct iov_iter *iter, loff_t *ppos,
					 rwf_t flags)
{
	ssize_t ret;

	file_start_write(file);
	ret = vfs_iter_write(file, iter, ppos, flags);
	file_end_write(file);
	return ret;
}
#else
static inline ssize_t rxu_vfs_iter_write(struct file *file,
					 struct iov_iter *iter, loff_t *ppos,
					 rwf_t flags)
{
	return vfs_iter_write(file, iter, ppos, flags);
}
#endif

/* pin_user_pages_remote() lost its vmas argument in 6.5. */
static inline long rxu_pin_user_pages_remote(struct mm_struct *mm,
					     unsigned long start,
					     unsigned long nr_pages,
					     unsigned int gup_flags,
					     struct page **pages)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, NULL);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL);
#endif
}

/* An ITER_IOVEC's array: a field before 6.4, behind a helper since. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 4, 0)
static inline const struct iovec *rxu_iter_iovs(const struct iov_iter *iter)
{
	return iter->iov;
}
#else
static inline const struct iovec *rxu_iter_iovs(const struct iov_iter *iter)
{
	return iter_iov(iter);
}
#endif

#endif /* RXU_COMPAT_H */
