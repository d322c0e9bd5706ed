// SPDX-License-Identifier: MIT
/*
 * VFIO, legacy container/group flow (Debian's kernels have no iommufd):
 * one container per IOMMU group, type1v2; the device fd; regions; IRQs
 * through VFIO_DEVICE_SET_IRQS with eventfds; per-vector masking of
 * MSI/MSI-X emulated by moving the trigger to a latch eventfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "pcid.h"

static void group_put(struct pcid *p, struct group *g)
{
	struct group **pp;

	if (--g->refs > 0)
		return;
	if (g->container >= 0) {
		ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER);
		close(g->container);
	}
	close(g->fd);
	for (pp = &p->groups; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	free(g);
}

static int group_get(struct pcid *p, int number, struct group **out)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct group *g;
	char path[64];
	int ret, type;

	for (g = p->groups; g; g = g->next)
		if (g->number == number) {
			g->refs++;
			*out = g;
			return 0;
		}
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->number = number;
	g->container = -1;
	g->refs = 1;
	snprintf(path, sizeof(path), "/dev/vfio/%d", number);
	g->fd = open(path, O_RDWR | O_CLOEXEC);
	if (g->fd < 0) {
		ret = -errno;
		free(g);
		return ret;
	}
	g->next = p->groups;
	p->groups = g;
	if (ioctl(g->fd, VFIO_GROUP_GET_STATUS, &st) < 0) {
		ret = -errno;
		goto fail;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		pcid_log("IOMMU group %d is not viable: bind every device in "
			 "it to vfio-pci or to no driver", number);
		ret = -EBUSY;
		goto fail;
	}
	g->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (g->container < 0) {
		ret = -errno;
		goto fail;
	}
	if (ioctl(g->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		ret = -EINVAL;
		goto fail;
	}
	type = ioctl(g->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0
		? VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU;
	if (ioctl(g->fd, VFIO_GROUP_SET_CONTAINER, &g->container) < 0 ||
	    ioctl(g->container, VFIO_SET_IOMMU, type) < 0) {
		ret = -errno;
		if (ret == -EPERM)
			pcid_log("VFIO_SET_IOMMU: EPERM: no interrupt "
				 "remapping? (see README, pcid)");
		goto fail;
	}
	*out = g;
	return 0;
fail:
	group_put(p, g);
	return ret;
}

int vfio_open(struct pcid *p, struct pci_fn *f)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	unsigned i;
	int ret;

	if (f->iommu_group < 0)
		return -ENODEV;
	ret = group_get(p, f->iommu_group, &f->group);
	if (ret)
		return ret;
	f->device_fd = ioctl(f->group->fd, VFIO_GROUP_GET_DEVICE_FD, f->name);
	if (f->device_fd < 0) {
		ret = -errno;
		goto fail;
	}
	/* the device fd is handed out with PASS_FD; ours stays private */
	fcntl(f->device_fd, F_SETFD, FD_CLOEXEC);
	if (ioctl(f->device_fd, VFIO_DEVICE_GET_INFO, &info) < 0) {
		ret = -errno;
		goto fail;
	}
	f->has_reset = !!(info.flags & VFIO_DEVICE_FLAGS_RESET);
	for (i = 0; i < info.num_regions && i <= VFIO_PCI_CONFIG_REGION_INDEX;
	     i++) {
		struct vfio_region_info ri = { .argsz = sizeof(ri), .index = i };

		if (ioctl(f->device_fd, VFIO_DEVICE_GET_REGION_INFO, &ri) < 0)
			continue;
		if (i == VFIO_PCI_CONFIG_REGION_INDEX) {
			f->cfg_offset = ri.offset;
		} else if (i <= RXU_PCI_NR_BARS) {
			struct rxu_pci_bar *b = &f->bars[i];

			if (!ri.size)
				continue;
			b->vfio_offset = ri.offset;
			b->flags |= RXU_PCI_BAR_VFIO;
			if (ri.flags & VFIO_REGION_INFO_FLAG_MMAP)
				b->flags |= RXU_PCI_BAR_MMAP;
			if (!b->size)
				b->size = ri.size;
		}
	}
	for (i = 0; i < 3; i++) {
		struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = i };

		if (i < info.num_irqs &&
		    !ioctl(f->device_fd, VFIO_DEVICE_GET_IRQ_INFO, &ii)) {
			f->irq_count[i] = ii.count;
			f->irq_flags[i] = ii.flags;
		}
	}
	return 0;
fail:
	if (f->device_fd >= 0)
		close(f->device_fd);
	f->device_fd = -1;
	group_put(p, f->group);
	f->group = NULL;
	return ret;
}

void vfio_close(struct pcid *p, struct pci_fn *f)
{
	vfio_irq_disable(f);
	if (f->device_fd >= 0)
		close(f->device_fd);
	f->device_fd = -1;
	if (f->group)
		group_put(p, f->group);
	f->group = NULL;
}

int vfio_recycle(struct pcid *p, struct pci_fn *f)
{
	if (f->device_fd < 0)
		return -ENODEV;
	vfio_irq_disable(f);
	vfio_reset(f);
	/*
	 * Closing the device and, when it was the group's last, the
	 * container drops every DMA mapping the driver made.
	 */
	vfio_close(p, f);
	return vfio_open(p, f);
}

int vfio_config_write(struct pci_fn *f, const void *buf, size_t len,
		      uint64_t off)
{
	ssize_t n;

	if (f->device_fd < 0)
		return -ENODEV;
	n = pwrite(f->device_fd, buf, len, (off_t)(f->cfg_offset + off));
	if (n < 0)
		return -errno;
	return (int)n;
}

static int set_irqs(struct pci_fn *f, uint32_t flags, uint32_t index,
		    uint32_t start, uint32_t count, const int *fds)
{
	size_t sz = sizeof(struct vfio_irq_set) + (fds ? count * sizeof(int) : 0);
	struct vfio_irq_set *s = calloc(1, sz);
	int ret = 0;

	if (!s)
		return -ENOMEM;
	s->argsz = (uint32_t)sz;
	s->flags = flags;
	s->index = index;
	s->start = start;
	s->count = count;
	if (fds)
		memcpy(s->data, fds, count * sizeof(int));
	if (ioctl(f->device_fd, VFIO_DEVICE_SET_IRQS, s) < 0)
		ret = -errno;
	free(s);
	return ret;
}

void vfio_irq_disable(struct pci_fn *f)
{
	int i;

	if (f->irq_type >= 0 && f->device_fd >= 0)
		set_irqs(f, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			 (uint32_t)f->irq_type, 0, 0, NULL);
	for (i = 0; i < PCID_MAX_VECTORS; i++) {
		if (f->efd[i] >= 0)
			close(f->efd[i]);
		if (f->latch[i] >= 0)
			close(f->latch[i]);
		f->efd[i] = f->latch[i] = -1;
	}
	f->irq_type = -1;
	f->nvec = 0;
}

int vfio_irq_enable(struct pci_fn *f, int type, int count)
{
	int fds[PCID_MAX_VECTORS], i, ret;

	if (f->device_fd < 0)
		return -ENODEV;
	if (type < 0 || type > RXU_PCI_IRQ_MSIX || count < 1 ||
	    count > PCID_MAX_VECTORS || (uint32_t)count > f->irq_count[type])
		return -EINVAL;
	vfio_irq_disable(f);
	for (i = 0; i < count; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fds[i] < 0) {
			ret = -errno;
			while (i--)
				close(fds[i]);
			return ret;
		}
	}
	ret = set_irqs(f, VFIO_IRQ_SET_DATA_EVENTFD |
			  VFIO_IRQ_SET_ACTION_TRIGGER,
		       (uint32_t)type, 0, (uint32_t)count, fds);
	if (ret) {
		for (i = 0; i < count; i++)
			close(fds[i]);
		return ret == -EINVAL ? -EINVAL : -EIO;
	}
	for (i = 0; i < count; i++)
		f->efd[i] = fds[i];
	f->irq_type = type;
	f->nvec = count;
	return count;
}

int vfio_irq_mask(struct pci_fn *f, unsigned first, unsigned count, int mask)
{
	unsigned v;
	int ret;

	if (f->irq_type < 0 || !count || first >= (unsigned)f->nvec ||
	    count > (unsigned)f->nvec - first)
		return -EINVAL;
	if (f->irq_type == RXU_PCI_IRQ_INTX)
		return set_irqs(f, VFIO_IRQ_SET_DATA_NONE |
				   (mask ? VFIO_IRQ_SET_ACTION_MASK
					 : VFIO_IRQ_SET_ACTION_UNMASK),
				RXU_PCI_IRQ_INTX, 0, 1, NULL) ? -EIO : 0;
	for (v = first; v < first + count; v++) {
		if (mask && f->latch[v] < 0) {
			int l = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

			if (l < 0)
				return -errno;
			ret = set_irqs(f, VFIO_IRQ_SET_DATA_EVENTFD |
					  VFIO_IRQ_SET_ACTION_TRIGGER,
				       (uint32_t)f->irq_type, v, 1, &l);
			if (ret) {
				close(l);
				return -EIO;
			}
			f->latch[v] = l;
		} else if (!mask && f->latch[v] >= 0) {
			uint64_t cnt = 0;

			ret = set_irqs(f, VFIO_IRQ_SET_DATA_EVENTFD |
					  VFIO_IRQ_SET_ACTION_TRIGGER,
				       (uint32_t)f->irq_type, v, 1, &f->efd[v]);
			if (ret)
				return -EIO;
			/* what fired while masked is pending: deliver it */
			if (read(f->latch[v], &cnt, sizeof(cnt)) == sizeof(cnt) &&
			    cnt) {
				uint64_t one = 1;

				if (write(f->efd[v], &one, sizeof(one)) < 0)
					pcid_log("%s: cannot deliver a pending "
						 "interrupt", f->name);
			}
			close(f->latch[v]);
			f->latch[v] = -1;
		}
	}
	return 0;
}

int vfio_reset(struct pci_fn *f)
{
	if (f->device_fd < 0)
		return -ENODEV;
	if (!f->has_reset)
		return -EOPNOTSUPP;
	return ioctl(f->device_fd, VFIO_DEVICE_RESET) < 0 ? -errno : 0;
}
