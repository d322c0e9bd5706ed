// SPDX-License-Identifier: MIT
/*
 * librxu pci: the driver side of one PCI function over VFIO (rxu_pcidrv.h).
 *
 * The legacy container/group flow (type1v2), because Debian's kernels have
 * no iommufd: container -> group -> SET_CONTAINER -> SET_IOMMU -> GET_INFO
 * (IOVA ranges) -> GET_DEVICE_FD -> regions.  pcid does the same for the
 * functions it hands out and passes the container and device fds; a
 * driver adopts them with rxu_pcidrv_from_fds().
 *
 * Every function returns -errno on failure and leaves errno as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "rxu_pci.h"
#include "rxu_pcidrv.h"

#define PAGE		4096ULL
#define MIN_IOVA	0x100000ULL	/* keep page 0 and the low MiB unused */
#define PCI_COMMAND	0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4

/* A failed libc call as -errno, with errno put back as it was. */
static int fail_errno(int saved)
{
	int err = errno;

	errno = saved;
	return err ? -err : -EIO;
}

/* The pci: connection of a function that came from pcid. */
struct rxu_pcidrv_pcid {
	struct rxu_instance *kring;	/* the driver's kernel ring (not owned) */
	struct rxu_instance u2u;	/* ATTACHed to "SCHEME:" */
	struct rxu_pool pool;
	void *buf;			/* 4 KiB of the pool */
	uint64_t buf_off;
	uint32_t addr;			/* RXU_PCI_ADDR() */
	uint64_t seq;
	char scheme[32];
	char token[RXU_PCI_TOKEN_LEN + 1];
};

static void pcid_free(struct rxu_pcidrv_pcid *p);
static int pcid_irq_enable(struct rxu_pcidrv_dev *d, int kind,
			   unsigned int count);
static int pcid_irq_disable(struct rxu_pcidrv_dev *d);

static void init_dev(struct rxu_pcidrv_dev *d)
{
	memset(d, 0, sizeof(*d));
	d->container = -1;
	d->group = -1;
	d->device = -1;
	d->irq_kind = -1;
}

int rxu_pcidrv_parse_addr(const char *in, char out[RXU_PCIDRV_ADDR_MAX])
{
	unsigned int dom = 0, bus, dev, fn;
	char tail;

	if (!in)
		return -EINVAL;
	if (sscanf(in, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) != 4) {
		dom = 0;
		if (sscanf(in, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3)
			return -EINVAL;
	}
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(out, RXU_PCIDRV_ADDR_MAX, "%04x:%02x:%02x.%x", dom, bus, dev,
		 fn);
	return 0;
}

/* ------------------------------------------------------------------ */
/* IOMMU info: the IOVA ranges                                         */
/* ------------------------------------------------------------------ */

static int read_iommu_info(struct rxu_pcidrv_dev *d)
{
	struct vfio_iommu_type1_info probe = { .argsz = sizeof(probe) };
	struct vfio_iommu_type1_info *info;
	int saved = errno, rc = 0;
	uint32_t off;

	if (ioctl(d->container, VFIO_IOMMU_GET_INFO, &probe) < 0)
		return fail_errno(saved);
	if (probe.argsz < sizeof(probe))
		probe.argsz = sizeof(probe);
	info = calloc(1, probe.argsz);
	if (!info)
		return -ENOMEM;
	info->argsz = probe.argsz;
	if (ioctl(d->container, VFIO_IOMMU_GET_INFO, info) < 0) {
		rc = fail_errno(saved);
		goto out;
	}
	d->iova_pgsizes = (info->flags & VFIO_IOMMU_INFO_PGSIZES) ?
			  info->iova_pgsizes : PAGE;
	d->nranges = 0;
	off = (info->flags & VFIO_IOMMU_INFO_CAPS) ? info->cap_offset : 0;
	/* Walk the capability chain; offsets are from the start of info. */
	while (off && off + sizeof(struct vfio_info_cap_header) <= info->argsz) {
		struct vfio_info_cap_header *h = (void *)((char *)info + off);

		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE &&
		    off + sizeof(struct vfio_iommu_type1_info_cap_iova_range) <=
		    info->argsz) {
			struct vfio_iommu_type1_info_cap_iova_range *c = (void *)h;
			uint32_t i;

			for (i = 0; i < c->nr_iovas &&
			     d->nranges < RXU_PCIDRV_MAX_RANGES; i++) {
				if ((char *)&c->iova_ranges[i + 1] >
				    (char *)info + info->argsz)
					break;
				d->range[d->nranges].start = c->iova_ranges[i].start;
				d->range[d->nranges].end = c->iova_ranges[i].end;
				d->nranges++;
			}
		}
		if (h->next <= off)
			break;
		off = h->next;
	}
	if (!d->nranges) {
		/* An old kernel without the capability: assume 39 bits. */
		d->range[0].start = 0;
		d->range[0].end = (1ULL << 39) - 1;
		d->nranges = 1;
	}
	d->iova_next = MIN_IOVA;
out:
	free(info);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Device fd: regions                                                  */
/* ------------------------------------------------------------------ */

static int read_regions(struct rxu_pcidrv_dev *d)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int saved = errno;
	unsigned int i;

	if (ioctl(d->device, VFIO_DEVICE_GET_INFO, &info) < 0)
		return fail_errno(saved);
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI))
		return -ENODEV;
	d->num_regions = info.num_regions;
	d->num_irqs = info.num_irqs;
	for (i = 0; i < RXU_PCIDRV_NBARS && i < info.num_regions; i++) {
		struct vfio_region_info r = { .argsz = sizeof(r), .index = i };

		if (ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &r) < 0)
			return fail_errno(saved);
		d->bar[i].size = r.size;
		d->bar[i].offset = r.offset;
		d->bar[i].flags = r.flags;
	}
	{
		struct vfio_region_info r = {
			.argsz = sizeof(r),
			.index = VFIO_PCI_CONFIG_REGION_INDEX,
		};

		if (ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &r) < 0)
			return fail_errno(saved);
		d->config_offset = r.offset;
		d->config_size = r.size;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Getting the function                                                */
/* ------------------------------------------------------------------ */

int rxu_pcidrv_open_vfio(struct rxu_pcidrv_dev *d, const char *addr)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[PATH_MAX + 16], link[PATH_MAX], *grp;
	int saved = errno, rc;
	ssize_t n;

	init_dev(d);
	rc = rxu_pcidrv_parse_addr(addr, d->addr);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 d->addr);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return fail_errno(saved);	/* ENOENT: no IOMMU for it */
	link[n] = '\0';
	grp = strrchr(link, '/');
	grp = grp ? grp + 1 : link;

	d->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (d->container < 0)
		goto fail;
	if (ioctl(d->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		rc = -EPROTO;
		goto out;
	}
	if (ioctl(d->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", grp);
	d->group = open(path, O_RDWR | O_CLOEXEC);
	if (d->group < 0)
		goto fail;
	if (ioctl(d->group, VFIO_GROUP_GET_STATUS, &st) < 0)
		goto fail;
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		/* Another function of the group has a host driver. */
		rc = -EBUSY;
		goto out;
	}
	if (ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container) < 0)
		goto fail;
	/* EPERM here: no interrupt remapping (intremap=off). */
	if (ioctl(d->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0)
		goto fail;
	rc = read_iommu_info(d);
	if (rc)
		goto out;
	d->device = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, d->addr);
	if (d->device < 0)
		goto fail;
	rc = read_regions(d);
	if (rc)
		goto out;
	return 0;
fail:
	rc = fail_errno(saved);
out:
	rxu_pcidrv_close(d);
	errno = saved;
	return rc;
}

int rxu_pcidrv_from_fds(struct rxu_pcidrv_dev *d, const char *addr,
			int container, int device)
{
	int rc;

	init_dev(d);
	rc = rxu_pcidrv_parse_addr(addr, d->addr);
	if (rc)
		return rc;
	d->container = container;
	d->device = device;
	rc = read_iommu_info(d);
	if (!rc)
		rc = read_regions(d);
	if (rc) {
		/* Ownership was taken: the caller must not close them. */
		rxu_pcidrv_close(d);
	}
	return rc;
}

void rxu_pcidrv_close(struct rxu_pcidrv_dev *d)
{
	int saved = errno;
	unsigned int i;

	if (d->irq_kind >= 0 && d->device >= 0)
		rxu_pcidrv_irq_disable(d);
	for (i = 0; i < RXU_PCIDRV_NBARS; i++) {
		if (d->bar[i].map)
			munmap(d->bar[i].map, d->bar[i].size);
		d->bar[i].map = NULL;
	}
	if (d->device >= 0)
		close(d->device);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	d->device = d->group = d->container = -1;
	if (d->pcid)
		pcid_free(d->pcid);
	d->pcid = NULL;
	errno = saved;
}

int rxu_pcidrv_reset(struct rxu_pcidrv_dev *d)
{
	int saved = errno;

	if (ioctl(d->device, VFIO_DEVICE_RESET) < 0)
		return fail_errno(saved);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Config space, BARs                                                  */
/* ------------------------------------------------------------------ */

int rxu_pcidrv_config_read(struct rxu_pcidrv_dev *d, uint64_t off,
			   void *buf, size_t len)
{
	int saved = errno;
	ssize_t n;

	if (off > d->config_size || len > d->config_size - off)
		return -ERANGE;
	n = pread(d->device, buf, len, (off_t)(d->config_offset + off));
	if (n < 0)
		return fail_errno(saved);
	return (size_t)n == len ? 0 : -EIO;
}

int rxu_pcidrv_config_write(struct rxu_pcidrv_dev *d, uint64_t off,
			    const void *buf, size_t len)
{
	int saved = errno;
	ssize_t n;

	if (off > d->config_size || len > d->config_size - off)
		return -ERANGE;
	n = pwrite(d->device, buf, len, (off_t)(d->config_offset + off));
	if (n < 0)
		return fail_errno(saved);
	return (size_t)n == len ? 0 : -EIO;
}

int rxu_pcidrv_map_bar(struct rxu_pcidrv_dev *d, unsigned int n, void **map,
		       uint64_t *size)
{
	struct rxu_pcidrv_bar *b;
	int saved = errno;
	void *p;

	if (n >= RXU_PCIDRV_NBARS)
		return -EINVAL;
	b = &d->bar[n];
	if (!b->size)
		return -ENOENT;
	if (!(b->flags & VFIO_REGION_INFO_FLAG_MMAP))
		return -ENOTSUP;
	if (!b->map) {
		p = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 d->device, (off_t)b->offset);
		if (p == MAP_FAILED)
			return fail_errno(saved);
		b->map = p;
	}
	if (map)
		*map = b->map;
	if (size)
		*size = b->size;
	return 0;
}

int rxu_pcidrv_enable_bus_master(struct rxu_pcidrv_dev *d)
{
	uint16_t cmd;
	int rc;

	rc = rxu_pcidrv_config_read(d, PCI_COMMAND, &cmd, sizeof(cmd));
	if (rc)
		return rc;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	return rxu_pcidrv_config_write(d, PCI_COMMAND, &cmd, sizeof(cmd));
}

/* ------------------------------------------------------------------ */
/* DMA                                                                 */
/* ------------------------------------------------------------------ */

void rxu_pcidrv_set_iova_limit(struct rxu_pcidrv_dev *d, uint64_t limit)
{
	d->iova_limit = limit;
}

/*
 * First fit from iova_next upwards: the lowest place at or above it where
 * size bytes, aligned to align, fit inside one reported range and below
 * the limit.  A bump allocator: IOVAs are not reused (2^39 and more of
 * them; a driver maps its rings and buffers once).
 */
static int iova_alloc(struct rxu_pcidrv_dev *d, uint64_t size, uint64_t align,
		      uint64_t *iova)
{
	uint64_t best = UINT64_MAX;
	unsigned int i;

	for (i = 0; i < d->nranges; i++) {
		uint64_t start = d->range[i].start, end = d->range[i].end, a;

		if (start < d->iova_next)
			start = d->iova_next;
		if (start < MIN_IOVA)
			start = MIN_IOVA;
		if (d->iova_limit && end > d->iova_limit - 1)
			end = d->iova_limit - 1;
		a = (start + align - 1) & ~(align - 1);
		if (a < start || a > end || size - 1 > end - a)
			continue;
		if (a < best)
			best = a;
	}
	if (best == UINT64_MAX)
		return -ENOSPC;
	*iova = best;
	d->iova_next = best + size;
	return 0;
}

/* Map [va, va + size) for the device at a new IOVA (align: a power of 2). */
static int dma_map(struct rxu_pcidrv_dev *d, void *va, uint64_t size,
		   uint64_t align, struct rxu_pcidrv_dma *m)
{
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	uint64_t iova, saved_next = d->iova_next;
	int saved = errno, rc;

	rc = iova_alloc(d, size, align, &iova);
	if (rc)
		return rc;
	map.vaddr = (uintptr_t)va;
	map.iova = iova;
	map.size = size;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	if (ioctl(d->container, VFIO_IOMMU_MAP_DMA, &map) < 0) {
		rc = fail_errno(saved);
		d->iova_next = saved_next;
		return rc;
	}
	m->va = va;
	m->iova = iova;
	m->size = size;
	return 0;
}

int rxu_pcidrv_dma_alloc(struct rxu_pcidrv_dev *d, uint64_t size,
			 struct rxu_pcidrv_dma *m)
{
	uint64_t align = PAGE;
	int saved = errno, rc;
	void *p;

	if (!size || size > (1ULL << 40))
		return -EINVAL;
	size = (size + PAGE - 1) & ~(PAGE - 1);
	/* 2 MiB alignment for big buffers lets the IOMMU use large pages. */
	if (size >= (2ULL << 20) && (d->iova_pgsizes & (2ULL << 20)))
		align = 2ULL << 20;
	/* Shared anonymous: a fork() cannot copy-on-write a pinned page away. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED)
		return fail_errno(saved);
	rc = dma_map(d, p, size, align, m);
	if (rc)
		munmap(p, size);
	return rc;
}

int rxu_pcidrv_dma_map(struct rxu_pcidrv_dev *d, void *va, uint64_t size,
		       struct rxu_pcidrv_dma *m)
{
	if (!va || !size || size > (1ULL << 40) || (uintptr_t)va % PAGE ||
	    size % PAGE)
		return -EINVAL;
	return dma_map(d, va, size, PAGE, m);
}

int rxu_pcidrv_dma_unmap(struct rxu_pcidrv_dev *d, struct rxu_pcidrv_dma *m)
{
	struct vfio_iommu_type1_dma_unmap um = { .argsz = sizeof(um) };
	int saved = errno, rc = 0;

	if (!m->va)
		return 0;
	um.iova = m->iova;
	um.size = m->size;
	if (d->container >= 0 &&
	    ioctl(d->container, VFIO_IOMMU_UNMAP_DMA, &um) < 0)
		rc = fail_errno(saved);
	/* The last allocation gives its IOVAs back. */
	if (!rc && m->iova + m->size == d->iova_next)
		d->iova_next = m->iova;
	m->va = NULL;
	return rc;
}

int rxu_pcidrv_dma_free(struct rxu_pcidrv_dev *d, struct rxu_pcidrv_dma *m)
{
	void *va = m->va;
	int rc;

	if (!va)
		return 0;
	rc = rxu_pcidrv_dma_unmap(d, m);
	munmap(va, m->size);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Interrupts                                                          */
/* ------------------------------------------------------------------ */

int rxu_pcidrv_irq_info(struct rxu_pcidrv_dev *d, int kind, uint32_t *count,
			uint32_t *flags)
{
	struct vfio_irq_info info = { .argsz = sizeof(info) };
	int saved = errno;

	if (kind < 0 || kind > RXU_PCIDRV_IRQ_MSIX)
		return -EINVAL;
	info.index = (uint32_t)kind;
	if (ioctl(d->device, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0)
		return fail_errno(saved);
	if (count)
		*count = info.count;
	if (flags)
		*flags = info.flags;
	return 0;
}

static int set_irqs(struct rxu_pcidrv_dev *d, uint32_t index, uint32_t flags,
		    uint32_t count, const int *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + sizeof(int) * count;
	struct vfio_irq_set *set;
	int saved = errno, rc = 0;

	set = calloc(1, sz);
	if (!set)
		return -ENOMEM;
	set->argsz = (uint32_t)sz;
	set->flags = flags;
	set->index = index;
	set->start = 0;
	set->count = count;
	if (count && fds)
		memcpy(set->data, fds, sizeof(int) * count);
	if (ioctl(d->device, VFIO_DEVICE_SET_IRQS, set) < 0)
		rc = fail_errno(saved);
	free(set);
	return rc;
}

int rxu_pcidrv_irq_enable(struct rxu_pcidrv_dev *d, int kind,
			  unsigned int count, int *fds)
{
	uint32_t have = 0;
	unsigned int i;
	int saved = errno, rc;

	if (d->irq_kind >= 0)
		return -EBUSY;
	if (d->pcid) {
		rc = pcid_irq_enable(d, kind, count ? count : 1);
		if (rc >= 0 && fds)
			memcpy(fds, d->irq_fd, sizeof(int) * d->irq_count);
		return rc;
	}
	if (kind == RXU_PCIDRV_IRQ_AUTO) {
		static const int order[] = { RXU_PCIDRV_IRQ_MSIX,
					     RXU_PCIDRV_IRQ_MSI,
					     RXU_PCIDRV_IRQ_INTX };

		for (i = 0; i < 3; i++) {
			if (!rxu_pcidrv_irq_info(d, order[i], &have, NULL) &&
			    have) {
				kind = order[i];
				break;
			}
		}
		if (kind == RXU_PCIDRV_IRQ_AUTO)
			return -ENODEV;
	} else {
		rc = rxu_pcidrv_irq_info(d, kind, &have, NULL);
		if (rc)
			return rc;
	}
	if (!count)
		count = 1;
	if (count > have)
		return have ? -ERANGE : -ENODEV;
	if (count > RXU_PCIDRV_MAX_IRQS)
		return -ERANGE;
	for (i = 0; i < count; i++) {
		d->irq_fd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (d->irq_fd[i] < 0) {
			rc = fail_errno(saved);
			goto undo;
		}
	}
	rc = set_irqs(d, (uint32_t)kind,
		      VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
		      count, d->irq_fd);
	if (rc)
		goto undo;
	d->irq_kind = kind;
	d->irq_count = count;
	if (fds)
		memcpy(fds, d->irq_fd, sizeof(int) * count);
	return kind;
undo:
	while (i--)
		close(d->irq_fd[i]);
	return rc;
}

int rxu_pcidrv_irq_disable(struct rxu_pcidrv_dev *d)
{
	unsigned int i;
	int rc;

	if (d->irq_kind < 0)
		return 0;
	if (d->pcid)
		return pcid_irq_disable(d);
	rc = set_irqs(d, (uint32_t)d->irq_kind,
		      VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0,
		      NULL);
	for (i = 0; i < d->irq_count; i++)
		close(d->irq_fd[i]);
	d->irq_kind = -1;
	d->irq_count = 0;
	return rc;
}

int rxu_pcidrv_irq_unmask(struct rxu_pcidrv_dev *d)
{
	if (d->irq_kind != RXU_PCIDRV_IRQ_INTX)
		return 0;	/* MSI/MSI-X are not automasked */
	if (d->pcid) {
		int64_t r = rxu_pcidrv_pcid_call(d, RXU_PCI_OP_IRQ_UNMASK, 0, 1,
						 0, NULL);

		return r < 0 ? (int)r : 0;
	}
	return set_irqs(d, VFIO_PCI_INTX_IRQ_INDEX,
			VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 1,
			NULL);
}

int64_t rxu_pcidrv_irq_count(int efd)
{
	int saved = errno;
	uint64_t v;
	ssize_t n;

	n = read(efd, &v, sizeof(v));
	if (n < 0) {
		if (errno == EAGAIN) {
			errno = saved;
			return 0;
		}
		return fail_errno(saved);
	}
	if (n != sizeof(v))
		return -EIO;
	return (int64_t)v;
}

void rxu_pcidrv_prep_irq_subscribe(struct rxu_sqe64 *sqe, int efd,
				   uint64_t user_data)
{
	rxu_prep_files_update(sqe, efd, RXU_EVENT_READ, 1, user_data);
}

int rxu_pcidrv_irq_subscribe(struct rxu_instance *in, int efd,
			     uint64_t user_data)
{
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int rc;

	rxu_pcidrv_prep_irq_subscribe(&sqe, efd, user_data);
	rc = rxu_queue_sqe(in, &sqe);
	if (rc)
		return rc;
	rc = rxu_wait_cqe(in, &cqe, 0);
	if (rc)
		return rc;
	/* The status CQE comes first, before any EVENT CQE. */
	if (cqe.user_data != user_data || rxu_cqe_is_event(&cqe) ||
	    rxu_cqe_is_last_update(&cqe))
		return -EPROTO;
	return (int)rxu_cqe_result(&cqe);
}

/* ------------------------------------------------------------------ */
/* Through pcid: the pci: scheme (rxu_pci.h)                           */
/* ------------------------------------------------------------------ */

/* One request on the kernel ring, waited for: its CQE's result. */
static int64_t kring_call(struct rxu_instance *in, struct rxu_sqe64 *sqe)
{
	static uint64_t seq;
	struct rxu_cqe64 cqe;
	int rc;

	sqe->user_data = 0x9c1d000000000000ULL | ++seq;
	rc = rxu_queue_sqe(in, sqe);
	if (rc)
		return rc;
	for (;;) {
		rc = rxu_wait_cqe(in, &cqe, 0);
		if (rc)
			return rc;
		/* OPEN of a scheme file is followed by an EVENT: not ours. */
		if (cqe.user_data == sqe->user_data && !rxu_cqe_is_event(&cqe))
			return rxu_cqe_result(&cqe);
	}
}

/* OPEN "SCHEME:ADDR/what?token=T" through the kernel ring: the fd. */
static int pcid_open(struct rxu_pcidrv_dev *d, const char *what)
{
	struct rxu_pcidrv_pcid *p = d->pcid;
	struct rxu_sqe64 sqe;
	char path[160];
	int n;

	n = snprintf(path, sizeof(path), "%s:%s/%s%s%s", p->scheme, d->addr,
		     what, RXU_PCI_TOKEN_SUFFIX, p->token);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	rxu_prep_open(&sqe, path, (uint64_t)n, O_RDWR | O_CLOEXEC, 0, 0);
	return (int)kring_call(p->kring, &sqe);
}

static void pcid_free(struct rxu_pcidrv_pcid *p)
{
	rxu_pool_close(&p->pool);
	rxu_instance_close(&p->u2u);
	memset(p->token, 0, sizeof(p->token));
	free(p);
}

void *rxu_pcidrv_pcid_buffer(struct rxu_pcidrv_dev *d, uint64_t *pool_offset)
{
	if (!d->pcid)
		return NULL;
	if (pool_offset)
		*pool_offset = d->pcid->buf_off;
	return d->pcid->buf;
}

int64_t rxu_pcidrv_pcid_call(struct rxu_pcidrv_dev *d, uint8_t opcode,
			     uint64_t addr, uint64_t len, uint64_t offset,
			     uint64_t *extra)
{
	struct rxu_pcidrv_pcid *p = d->pcid;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int rc;

	if (!p)
		return -ENOTCONN;
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = opcode;
	sqe.syscall_flags = RXU_PCI_VERSION;
	sqe.fd = p->addr;
	sqe.addr = addr;
	sqe.len = len;
	sqe.offset = offset;
	sqe.user_data = ++p->seq;
	rc = rxu_queue_sqe(&p->u2u, &sqe);
	if (rc)
		return rc;
	for (;;) {
		rc = rxu_wait_cqe(&p->u2u, &cqe, 0);
		if (rc)
			return rc;
		if (cqe.user_data == sqe.user_data)
			break;
	}
	if (extra)
		*extra = cqe.extra;
	return rxu_cqe_result(&cqe);
}

int64_t rxu_pcidrv_pcid_config_read(struct rxu_pcidrv_dev *d, uint64_t off,
				    void *buf, size_t len)
{
	int64_t r;

	if (!d->pcid)
		return -ENOTCONN;
	if (len > 4096)
		return -EINVAL;
	r = rxu_pcidrv_pcid_call(d, RXU_PCI_OP_CONFIG_READ, d->pcid->buf_off,
				 len, off, NULL);
	if (r > 0)
		memcpy(buf, d->pcid->buf, (size_t)r);
	return r;
}

int rxu_pcidrv_open_pcid(struct rxu_pcidrv_dev *d, struct rxu_instance *kring,
			 const char *addr, const char *token,
			 const char *scheme)
{
	struct rxu_pcidrv_pcid *p;
	char canon[RXU_PCIDRV_ADDR_MAX];
	struct rxu_sqe64 sqe;
	int rc, container = -1, device = -1;
	uint32_t bin;

	init_dev(d);
	if (!addr)
		addr = getenv(RXU_PCI_ENV_ADDRESS);
	if (!scheme)
		scheme = getenv(RXU_PCI_ENV_SCHEME);
	if (!scheme || !*scheme)
		scheme = RXU_PCI_SCHEME;
	rc = rxu_pcidrv_parse_addr(addr, canon);
	if (rc)
		return rc;
	if (rxu_pci_addr_parse(canon, strlen(canon), &bin))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rxu_instance_from_fd(&p->u2u, -1);
	p->pool.fd = -1;
	if (!token) {
		token = getenv(RXU_PCI_ENV_TOKEN);
		if (token) {
			snprintf(p->token, sizeof(p->token), "%s", token);
			unsetenv(RXU_PCI_ENV_TOKEN);
			token = p->token;
		}
	}
	if (!token || strlen(token) != RXU_PCI_TOKEN_LEN ||
	    strlen(scheme) >= sizeof(p->scheme)) {
		free(p);
		return -EINVAL;
	}
	if (token != p->token)
		snprintf(p->token, sizeof(p->token), "%s", token);
	snprintf(p->scheme, sizeof(p->scheme), "%s", scheme);
	p->kring = kring;
	p->addr = bin;
	memcpy(d->addr, canon, sizeof(canon));
	d->pcid = p;

	/* The fds: container first (EBUSY if the group is owned elsewhere). */
	container = pcid_open(d, "container");
	if (container < 0) {
		rc = container;
		goto fail;
	}
	device = pcid_open(d, "device");
	if (device < 0) {
		rc = device;
		close(container);
		goto fail;
	}
	d->pcid = NULL;		/* from_fds starts from a clean struct */
	rc = rxu_pcidrv_from_fds(d, canon, container, device);
	if (rc) {
		pcid_free(p);
		return rc;
	}
	d->pcid = p;

	/* The u2u ring, its pool, a 4 KiB buffer, and the claim. */
	rc = rxu_u2u_connect(&p->u2u, p->scheme, 16);
	if (rc)
		goto fail;
	rxu_prep_dup_param(&sqe, p->u2u.fd, RXU_DUP_PARAM_POOL,
			   sizeof(RXU_DUP_PARAM_POOL) - 1, 0);
	rc = rxu_u2u_pool(&p->pool, kring_call(kring, &sqe), PAGE,
			  &p->buf_off, &p->buf);
	if (rc)
		goto fail;
	memcpy(p->buf, p->token, RXU_PCI_TOKEN_LEN);
	rc = (int)rxu_pcidrv_pcid_call(d, RXU_PCI_OP_CLAIM, p->buf_off,
				       RXU_PCI_TOKEN_LEN, 0, NULL);
	memset(p->buf, 0, RXU_PCI_TOKEN_LEN);
	if (rc)
		goto fail;
	return 0;
fail:
	if (d->device >= 0 || d->container >= 0) {
		rxu_pcidrv_close(d);	/* frees d->pcid too */
	} else {
		d->pcid = NULL;
		pcid_free(p);
	}
	return rc;
}

/* The FETCH_ALL_CAPABILITIES index of the first capability with id. */
static int pcid_cap_index(struct rxu_pcidrv_dev *d, uint16_t id)
{
	struct rxu_pci_cap_record *rec = d->pcid->buf;
	/* pcid answers at most 96 records per request (EINVAL above). */
	uint64_t max = 64, i;
	int64_t n;

	n = rxu_pcidrv_pcid_call(d, RXU_PCI_OP_FETCH_ALL_CAPABILITIES, 0, max,
				 d->pcid->buf_off, NULL);
	if (n < 0)
		return (int)n;
	for (i = 0; i < (uint64_t)n && i < max; i++)
		if (!rec[i].extended && rec[i].id == id)
			return (int)i;
	return -ENOENT;
}

static int pcid_irq_enable(struct rxu_pcidrv_dev *d, int kind,
			   unsigned int count)
{
	static const int order[] = { RXU_PCIDRV_IRQ_MSIX, RXU_PCIDRV_IRQ_MSI,
				     RXU_PCIDRV_IRQ_INTX };
	struct rxu_pci_set_capability *set;
	uint64_t index = 0;
	unsigned int i, k;
	int64_t r = -ENODEV;
	char what[32];
	int fd;

	if (count > RXU_PCIDRV_MAX_IRQS)
		return -ERANGE;
	for (k = 0; k < 3; k++) {
		uint16_t id = 0;
		int idx;

		if (kind != RXU_PCIDRV_IRQ_AUTO && kind != order[k])
			continue;
		if (order[k] == RXU_PCIDRV_IRQ_INTX) {
			index = RXU_PCI_INDEX_INTX;
		} else {
			id = order[k] == RXU_PCIDRV_IRQ_MSIX ?
			     RXU_PCI_CAP_ID_MSIX : RXU_PCI_CAP_ID_MSI;
			idx = pcid_cap_index(d, id);
			if (idx < 0) {
				r = idx;
				continue;
			}
			index = (uint64_t)idx;
		}
		set = d->pcid->buf;
		memset(set, 0, sizeof(*set));
		set->id = id;
		set->flags = RXU_PCI_SET_ENABLE;
		set->count = count;
		r = rxu_pcidrv_pcid_call(d, RXU_PCI_OP_SET_CAPABILITY, index,
					 sizeof(*set), d->pcid->buf_off, NULL);
		if (r >= 0) {
			kind = order[k];
			break;
		}
	}
	if (r < 0)
		return (int)r;
	if ((uint64_t)r < count)
		count = (unsigned int)r;
	for (i = 0; i < count; i++) {
		snprintf(what, sizeof(what), "irq/%u", i);
		fd = pcid_open(d, what);
		if (fd < 0) {
			while (i--)
				close(d->irq_fd[i]);
			d->irq_kind = kind;	/* so that disable undoes it */
			d->irq_count = 0;
			pcid_irq_disable(d);
			return fd;
		}
		d->irq_fd[i] = fd;
	}
	d->irq_kind = kind;
	d->irq_count = count;
	return kind;
}

static int pcid_irq_disable(struct rxu_pcidrv_dev *d)
{
	struct rxu_pci_set_capability *set = d->pcid->buf;
	uint64_t index = RXU_PCI_INDEX_INTX;
	uint16_t id = 0;
	unsigned int i;
	int64_t r = 0;
	int idx;

	if (d->irq_kind != RXU_PCIDRV_IRQ_INTX) {
		id = d->irq_kind == RXU_PCIDRV_IRQ_MSIX ? RXU_PCI_CAP_ID_MSIX :
		     RXU_PCI_CAP_ID_MSI;
		idx = pcid_cap_index(d, id);
		if (idx < 0)
			r = idx;
		index = (uint64_t)idx;
	}
	if (!r) {
		memset(set, 0, sizeof(*set));
		set->id = id;
		set->flags = RXU_PCI_SET_DISABLE;
		r = rxu_pcidrv_pcid_call(d, RXU_PCI_OP_SET_CAPABILITY, index,
					 sizeof(*set), d->pcid->buf_off, NULL);
	}
	for (i = 0; i < d->irq_count; i++)
		close(d->irq_fd[i]);
	d->irq_kind = -1;
	d->irq_count = 0;
	return r < 0 ? (int)r : 0;
}
