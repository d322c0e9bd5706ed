/* SPDX-License-Identifier: MIT */
/*
 * rxu_pcidrv.h - the driver side of PCI on redox_uring (lib/pci.c).
 *
 * A userspace driver gets one PCI function through VFIO, either from pcid
 * (the fds arrive by PASS_FD, see rxu_pci.h) or, standalone, by opening
 * VFIO itself (the function must already be bound to vfio-pci, and every
 * function of its IOMMU group bound to vfio-pci or to nothing).  Either
 * way it ends with the same struct rxu_pcidrv_dev, through which it:
 *
 *  - reads and writes config space (the VFIO config region; pread/pwrite),
 *  - maps BARs (VFIO_DEVICE_GET_REGION_INFO + mmap of the device fd),
 *  - enables memory decoding and bus mastering,
 *  - allocates DMA memory: anonymous shared pages mapped into the IOMMU at
 *    IOVAs taken from the ranges VFIO_IOMMU_GET_INFO reports (never
 *    IOVA = VA: a 39-bit vIOMMU or a device with a small DMA mask cannot
 *    reach user addresses), below an optional limit (the device's mask),
 *  - gets MSI-X, MSI or INTx interrupts as eventfds (VFIO_DEVICE_SET_IRQS)
 *    and subscribes them with FILES_UPDATE on a redox_uring ring, so that
 *    each interrupt arrives as an EVENT CQE.
 *
 * Every function returns 0 (or a count) on success and -errno on failure,
 * as the rest of librxu does.  Symbols: LIBRXU_1.3.
 */
#ifndef RXU_PCIDRV_H
#define RXU_PCIDRV_H

#include <stddef.h>
#include <stdint.h>

#include "rxu.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RXU_PCIDRV_ADDR_MAX	32	/* "0000:00:01.0" and NUL, with room */
#define RXU_PCIDRV_NBARS	6
#define RXU_PCIDRV_MAX_RANGES	16
#define RXU_PCIDRV_MAX_IRQS	64

/* Interrupt kinds: the VFIO PCI IRQ indexes. */
enum rxu_pcidrv_irq_kind {
	RXU_PCIDRV_IRQ_INTX = 0,
	RXU_PCIDRV_IRQ_MSI = 1,
	RXU_PCIDRV_IRQ_MSIX = 2,
	RXU_PCIDRV_IRQ_AUTO = -1,	/* MSI-X, else MSI, else INTx */
};

struct rxu_pcidrv_bar {
	void *map;			/* mmap of the BAR, or NULL */
	uint64_t size;			/* 0: no such BAR */
	uint64_t offset;		/* region offset in the device fd */
	uint32_t flags;			/* VFIO_REGION_INFO_FLAG_* */
};

struct rxu_pcidrv_pcid;		/* the pci: connection (lib/pci.c) */

struct rxu_pcidrv_iova_range {
	uint64_t start, end;		/* inclusive, as VFIO reports them */
};

struct rxu_pcidrv_dev {
	char addr[RXU_PCIDRV_ADDR_MAX];	/* "0000:bb:dd.f" */
	int container;			/* VFIO container fd */
	int group;			/* group fd (standalone), else -1 */
	int device;			/* VFIO device fd */
	uint32_t num_regions, num_irqs;
	uint64_t config_offset, config_size;
	struct rxu_pcidrv_bar bar[RXU_PCIDRV_NBARS];

	/* IOVA space: what VFIO reports, and a bump allocator over it. */
	struct rxu_pcidrv_iova_range range[RXU_PCIDRV_MAX_RANGES];
	unsigned int nranges;
	uint64_t iova_pgsizes;
	uint64_t iova_next;		/* next free IOVA */
	uint64_t iova_limit;		/* IOVAs stay below this (0: none) */

	/* Interrupts enabled with rxu_pcidrv_irq_enable(). */
	int irq_kind;			/* enum rxu_pcidrv_irq_kind, -1: none */
	unsigned int irq_count;
	int irq_fd[RXU_PCIDRV_MAX_IRQS];

	/* Set by rxu_pcidrv_open_pcid(): interrupts then go through pcid. */
	struct rxu_pcidrv_pcid *pcid;
};

/* DMA memory: va for the CPU, iova for the device. */
struct rxu_pcidrv_dma {
	void *va;
	uint64_t iova;
	uint64_t size;
};

/* ---- getting the function ---------------------------------------- */

/*
 * Standalone: open VFIO for addr ("0000:00:01.0", or "00:01.0" meaning
 * domain 0): the group from /sys/bus/pci/devices/ADDR/iommu_group, a new
 * type1v2 container, the IOVA ranges, the device fd, its regions.  The
 * function must be bound to vfio-pci already.
 */
int rxu_pcidrv_open_vfio(struct rxu_pcidrv_dev *d, const char *addr);

/*
 * Adopt fds handed over by pcid: a container that already holds the
 * function's group with an IOMMU set, and the VFIO device fd.  Takes
 * ownership of both (rxu_pcidrv_close() closes them).
 */
int rxu_pcidrv_from_fds(struct rxu_pcidrv_dev *d, const char *addr,
			int container, int device);

/*
 * Through pcid (rxu_pci.h): on the kernel ring kring, OPEN
 * "SCHEME:ADDR/container?token=T" and "SCHEME:ADDR/device?token=T" (the
 * fds arrive by PASS_FD), then ATTACH a u2u ring to "SCHEME:", DUP its
 * pool, and CLAIM the function with the token.  addr, token and scheme
 * may be NULL: then PCID_ADDRESS, PCID_TOKEN and PCID_SCHEME (default
 * "pci") from the environment, as pcid spawns its drivers; the token is
 * removed from the environment once read.  kring must stay open while d
 * is (interrupt vectors are OPENed through it).  Afterwards
 * rxu_pcidrv_irq_*() enable interrupts with SET_CAPABILITY and OPEN
 * "ADDR/irq/N" for their eventfds instead of calling VFIO themselves.
 */
int rxu_pcidrv_open_pcid(struct rxu_pcidrv_dev *d, struct rxu_instance *kring,
			 const char *addr, const char *token,
			 const char *scheme);

/*
 * One pcid request on the u2u ring (rxu_pci.h part B): opcode 128..137,
 * fd = the function, the other fields as given; data goes through the
 * connection's 4 KiB pool buffer, whose pointer and pool offset
 * rxu_pcidrv_pcid_buffer() returns.  The CQE's status, and its extra in
 * *extra if not NULL.  -ENOTCONN without a pcid connection.
 */
int64_t rxu_pcidrv_pcid_call(struct rxu_pcidrv_dev *d, uint8_t opcode,
			     uint64_t addr, uint64_t len, uint64_t offset,
			     uint64_t *extra);
void *rxu_pcidrv_pcid_buffer(struct rxu_pcidrv_dev *d, uint64_t *pool_offset);
/* CONFIG_READ through pcid (u2u), into buf: bytes read or -errno. */
int64_t rxu_pcidrv_pcid_config_read(struct rxu_pcidrv_dev *d, uint64_t off,
				    void *buf, size_t len);

/* Disable interrupts, unmap BARs, close the fds.  Safe on a zeroed or
 * failed struct.  DMA memory is freed by rxu_pcidrv_dma_free(). */
void rxu_pcidrv_close(struct rxu_pcidrv_dev *d);

/* VFIO_DEVICE_RESET (FLR or whatever vfio-pci can do): -ENOTTY if none. */
int rxu_pcidrv_reset(struct rxu_pcidrv_dev *d);

/* Parse "dddd:bb:dd.f" or "bb:dd.f" into the canonical form. */
int rxu_pcidrv_parse_addr(const char *in, char out[RXU_PCIDRV_ADDR_MAX]);

/* ---- config space, BARs, bus mastering --------------------------- */

/* pread/pwrite of the config region; -ERANGE out of bounds, -EIO short. */
int rxu_pcidrv_config_read(struct rxu_pcidrv_dev *d, uint64_t off,
			   void *buf, size_t len);
int rxu_pcidrv_config_write(struct rxu_pcidrv_dev *d, uint64_t off,
			    const void *buf, size_t len);

/* mmap BAR n (0..5) read/write; *map and *size may be NULL.  Mapped once,
 * later calls return the same mapping.  -ENOENT: no such BAR, -ENOTSUP:
 * not mappable (I/O BAR). */
int rxu_pcidrv_map_bar(struct rxu_pcidrv_dev *d, unsigned int n, void **map,
		       uint64_t *size);

/* Set Memory Space and Bus Master in the Command register. */
int rxu_pcidrv_enable_bus_master(struct rxu_pcidrv_dev *d);

/* 32- and 64-bit MMIO accessors on a mapped BAR (volatile, no tearing). */
static inline uint32_t rxu_mmio_read32(const void *bar, uint64_t off)
{
	return *(const volatile uint32_t *)((const char *)bar + off);
}

static inline void rxu_mmio_write32(void *bar, uint64_t off, uint32_t v)
{
	*(volatile uint32_t *)((char *)bar + off) = v;
}

static inline uint64_t rxu_mmio_read64(const void *bar, uint64_t off)
{
	return *(const volatile uint64_t *)((const char *)bar + off);
}

static inline void rxu_mmio_write64(void *bar, uint64_t off, uint64_t v)
{
	*(volatile uint64_t *)((char *)bar + off) = v;
}

/* ---- DMA ---------------------------------------------------------- */

/*
 * IOVAs handed out from now on stay below limit (a device's DMA mask + 1,
 * e.g. 1 << 28 for QEMU's edu).  0 removes the limit.
 */
void rxu_pcidrv_set_iova_limit(struct rxu_pcidrv_dev *d, uint64_t limit);

/*
 * size bytes (rounded up to pages) of zeroed memory, mapped for the
 * device read/write at an IOVA from the reported ranges.  -ENOSPC when no
 * range below the limit has room.
 */
int rxu_pcidrv_dma_alloc(struct rxu_pcidrv_dev *d, uint64_t size,
			 struct rxu_pcidrv_dma *m);
int rxu_pcidrv_dma_free(struct rxu_pcidrv_dev *d, struct rxu_pcidrv_dma *m);
/*
 * Memory of the caller's (va and size multiples of 4096), mapped for the
 * device read/write at a new IOVA; VFIO pins its pages until
 * rxu_pcidrv_dma_unmap(), which leaves the memory itself alone.  The
 * pages must be pinnable (anonymous, or a redox_uring pool or region;
 * not a VM_IO/VM_PFNMAP mapping such as a BAR): -EFAULT otherwise.
 */
int rxu_pcidrv_dma_map(struct rxu_pcidrv_dev *d, void *va, uint64_t size,
		       struct rxu_pcidrv_dma *m);
int rxu_pcidrv_dma_unmap(struct rxu_pcidrv_dev *d, struct rxu_pcidrv_dma *m);

/* ---- interrupts --------------------------------------------------- */

/* VFIO_DEVICE_GET_IRQ_INFO: how many vectors kind has, and its flags. */
int rxu_pcidrv_irq_info(struct rxu_pcidrv_dev *d, int kind, uint32_t *count,
			uint32_t *flags);

/*
 * Enable count vectors of kind (AUTO picks MSI-X, MSI, INTx, the first
 * with vectors), each wired to a new nonblocking eventfd, stored in
 * d->irq_fd[] (and fds[] if not NULL).  Returns the kind enabled.  VFIO
 * programs the MSI-X table or MSI capability; never write them yourself.
 */
int rxu_pcidrv_irq_enable(struct rxu_pcidrv_dev *d, int kind,
			  unsigned int count, int *fds);
/* Disable what irq_enable enabled and close the eventfds. */
int rxu_pcidrv_irq_disable(struct rxu_pcidrv_dev *d);
/* INTx is automasked by VFIO: unmask after clearing the device's source. */
int rxu_pcidrv_irq_unmask(struct rxu_pcidrv_dev *d);

/*
 * Read (reset) an interrupt eventfd: the number of interrupts since the
 * last read, 0 if none (nonblocking), or -errno.
 */
int64_t rxu_pcidrv_irq_count(int efd);

/*
 * Subscribe eventfd efd on ring in with FILES_UPDATE (RXU_EVENT_READ,
 * multi-shot): every interrupt then posts an EVENT CQE with user_data
 * and status = efd.  Queues the SQE, enters, and waits for the status
 * CQE (call it when no other request of yours is in flight on in; EVENT
 * CQEs that arrive after it are left in the CQ).  0 or -errno.
 */
int rxu_pcidrv_irq_subscribe(struct rxu_instance *in, int efd,
			     uint64_t user_data);
/* The SQE alone, for a caller with its own submission loop. */
void rxu_pcidrv_prep_irq_subscribe(struct rxu_sqe64 *sqe, int efd,
				   uint64_t user_data);

#ifdef __cplusplus
}
#endif

#endif /* RXU_PCIDRV_H */
