/* SPDX-License-Identifier: MIT */
/*
 * rxu_pci.h: the protocol of the `pci:` scheme served by pcid.
 *
 * pcid owns the PCI functions it matched (bound to vfio-pci) and serves
 * them two ways, both through redox_uring rings:
 *
 *  A. Paths, through any kernel ring (k2u scheme, ABI.md section 7):
 *     OPEN "pci:..." and then READ/PREAD/PWRITE/SEEK/FSTAT/CLOSE, or the
 *     same through plain syscalls on the fd.  This is also how a driver
 *     receives file descriptors (RXU_CQE_PASS_FD only exists on a
 *     provider's answers to OPEN/DUP).
 *
 *  B. A user-to-user ring (ATTACH "pci:", as Redox's xhcid did) carrying
 *     the pcid opcodes 128-137 below, with data in the connection's
 *     buffer pool.  A u2u ring cannot pass fds; it does everything else.
 *
 * -------------------------------------------------------------------
 * Addresses
 * -------------------------------------------------------------------
 * Text: "SSSS:BB:DD.F", lower-case hex, as in /sys/bus/pci/devices
 * (segment 4 digits, bus 2, device 2 (0-0x1f), function 1 (0-7)).
 * Binary, in the `fd` field of every pcid SQE and in struct
 * rxu_pci_config.address: RXU_PCI_ADDR(seg, bus, dev, fn) =
 *     seg << 16 | bus << 8 | dev << 3 | fn,
 * i.e. the PCI routing ID (bus, devfn) with the segment above it.  (Redox's
 * PciAddress32 holds the same four numbers as a struct {seg u16, bus u8,
 * devfn u8}; this is the same information as one integer.)  Bits 32-63
 * of `fd` must be zero.
 *
 * -------------------------------------------------------------------
 * Who may do what: tokens
 * -------------------------------------------------------------------
 * A provider cannot see which process sent a request, so rights come
 * from secrets that pcid hands out, RXU_PCI_TOKEN_LEN lower-case hex
 * characters (128 random bits) each:
 *
 *  - the DRIVER TOKEN of a function: made afresh for every spawn of the
 *    driver that pcid starts for that function and given to it only in
 *    its environment (RXU_PCI_ENV_TOKEN; never in argv, which any user
 *    can read in /proc).  It dies with that driver process (a restarted
 *    driver gets a new one).  It gives every right on that function and
 *    none on any other.  A driver should unsetenv() it once read so its
 *    own children do not inherit it.
 *  - the ADMIN TOKEN: one per pcid run, written to a root-only file
 *    (pcid --token-file, default /run/pcid/<scheme>.token, mode 0600,
 *    removed on exit).  It gives READ rights on every function (full
 *    config space, capabilities), never write rights nor fds.
 *
 * Without a token anyone who can reach the scheme may read the listing,
 * FetchConfig, `bars`, and the first 64 bytes of config space, which is
 * what sysfs shows unprivileged users (reads stop there, as in sysfs).
 * Everything else is EACCES.
 *
 * On paths a token is a suffix "?token=<hex>" (RXU_PCI_TOKEN_SUFFIX),
 * e.g. "pci:0000:00:03.0/device?token=0123...".  Path bytes reach only
 * the kernel and pcid.  On a u2u ring it is presented once with
 * RXU_PCI_OP_CLAIM, which binds the connection: see there.
 *
 * -------------------------------------------------------------------
 * A. Paths (after "pci:"; a leading '/' is ignored)
 * -------------------------------------------------------------------
 *  ""                 the listing, text, read-only: one line per function
 *                     pcid enumerated, in address order:
 *     "SSSS:BB:DD.F VVVV:DDDD CCSSPP RR KDRIVER RULE STATE\n"
 *                     vendor:device ids, class/subclass/prog-if, revision
 *                     (hex); KDRIVER = the kernel driver bound now
 *                     ("vfio-pci", "xhci_hcd", or "-"); RULE = the name
 *                     of the pcid rule that matched ("-": none); STATE =
 *                     one of RXU_PCI_STATE_NAMES below.
 *  "ADDR"             the same, for that one function.
 *  "ADDR/config"      config space (256 or 4096 bytes, FSTAT st_size).
 *                     PREAD/PWRITE at any offset, or READ/WRITE/SEEK.
 *                     Reads past the end return 0 bytes; a write crossing
 *                     the end is EINVAL.  Read rights: see tokens (without
 *                     a token the file is 64 bytes long, as sysfs's config
 *                     is for unprivileged users; CONFIG_READ likewise).  Writes
 *                     need the driver token and the write rules below.
 *                     Reads come from sysfs (what lspci shows: the real
 *                     device), writes go through VFIO's config region.
 *  "ADDR/bars"        read-only, binary: RXU_PCI_NR_BARS + 1 records of
 *                     struct rxu_pci_bar (BAR0..5, then the ROM).
 *  "ADDR/device"      driver token only: the answer PASS_FDs pcid's VFIO
 *                     device fd of the function (your fd is the same
 *                     open file: region/IRQ ioctls, mmap of BARs).
 *  "ADDR/container"   driver token only: PASS_FD of a VFIO container
 *                     (type1v2 IOMMU set) that holds this function's
 *                     IOMMU group and nothing else: IOMMU_GET_INFO,
 *                     MAP_DMA, UNMAP_DMA.  EBUSY if the group holds another
 *                     function that another driver owns.
 *  "ADDR/irq/N"       driver token only: PASS_FD of the (non-blocking)
 *                     eventfd of interrupt vector N, once MSI-X, MSI or
 *                     INTx was enabled with SET_CAPABILITY (INTx: N = 0).
 *                     ENOENT for a vector not enabled.  Disabling or
 *                     re-enabling makes new eventfds: reopen them.
 *  anything else      ENOENT.
 * OPEN flags: the device/container/irq paths ignore the access mode;
 * `config` opened O_RDONLY refuses writes (EBADF); listing and bars
 * refuse O_WRONLY/O_RDWR (EACCES).  Handles are always ready (an EVENT
 * READ|WRITE follows each OPEN).  DUP gives a handle on the same file.
 *
 * Config writes (path `config` or RXU_PCI_OP_CONFIG_WRITE), with the
 * driver token, any size 1..4096 bytes; a write touching a forbidden byte
 * is refused whole with EPERM:
 *  - allowed: Command (0x04) bits I/O space, memory space, bus master,
 *    parity error response, SERR#, INTx disable (RXU_PCI_COMMAND_ALLOWED);
 *    a write must leave every other Command bit as it is.  Bus mastering
 *    is therefore the driver's explicit choice: pcid leaves it as
 *    vfio-pci's reset leaves it (off).
 *  - allowed: Status (0x06, write 1 to clear), Interrupt Line (0x3C;
 *    vfio-pci virtualizes it: the write succeeds but never reaches the
 *    device, so reads, which come from sysfs, keep the device's value),
 *    the bodies of capabilities other than MSI/MSI-X, and every byte that
 *    is not part of the header or a capability's first two bytes.
 *  - forbidden: ids, revision, class, cache line/latency/header type/BIST
 *    (0x00-0x03, 0x08-0x0F), BARs and ROM (0x10-0x27, 0x30-0x33),
 *    CardBus CIS, subsystem ids, capability pointer, reserved and
 *    Min_Gnt/Max_Lat (0x28-0x2F, 0x34-0x3B, 0x3D-0x3F), every
 *    capability's ID/next bytes (standard: 2 bytes; extended: 4 bytes),
 *    and the whole MSI and MSI-X capabilities: interrupts go through
 *    SET_CAPABILITY, never through address/data written by a driver.
 *
 * -------------------------------------------------------------------
 * B. The u2u ring
 * -------------------------------------------------------------------
 * ATTACH "pci:" (64-bit entries), DUP the instance fd with the parameter
 * "pool" through a kernel ring and map pool ranges (librxu's pool.c); in
 * every SQE below, addr/offset that name a buffer are POOL OFFSETS, and
 * pcid bounds-checks them (EFAULT).  Common SQE fields:
 *   syscall_flags = RXU_PCI_VERSION (anything else: ENOSYS),
 *   fd = the function's binary address (ENOENT: no such function),
 *   flags = 0, additional1 = additional2 = 0 (EINVAL otherwise).
 * CQE status = the result below, or -errno; extra = 0 unless said.
 * Standard opcodes on this ring: NOOP answers 0, anything else ENOSYS.
 *
 *  CLAIM (132)           addr = pool offset of the token, len =
 *                        RXU_PCI_TOKEN_LEN.  Driver token of function fd:
 *                        this connection becomes the function's driver
 *                        (EBUSY if another live connection already is:
 *                        the second driver is refused).  Admin token:
 *                        read rights on every function, no ownership.
 *                        EACCES for any other token.  A connection owns
 *                        at most one function (EBUSY for a second).  The
 *                        claim ends when the connection drops (the
 *                        driver exits): pcid then disables interrupts
 *                        and resets the function.  Result 0.
 *  FETCH_CONFIG (128)    addr = pool offset, len >= sizeof(struct
 *                        rxu_pci_config) (EINVAL if smaller).  No
 *                        claim needed.  Result = bytes written.
 *  FETCH_ALL_CAPABILITIES (129)
 *                        addr = first index, len = max records, offset =
 *                        pool offset of len struct rxu_pci_cap_record.
 *                        len is at most 96 (RXU_PCI_MAX_CAP_RECORDS;
 *                        EINVAL above), which is also the most pcid
 *                        lists for one function (its walk stops there).
 *                        Read rights needed (claim or admin).  Standard
 *                        capabilities first (list order), then extended.
 *                        Result = records written (0 from an index past
 *                        the last); CQE extra = records left after them.
 *  GET_CAPABILITY (130)  addr = index, len = buffer size, offset = pool
 *                        offset.  Writes struct rxu_pci_capability then
 *                        the capability's raw bytes (rec.length).  Result
 *                        = bytes written; ENOBUFS if len is too small
 *                        (CQE extra = bytes needed); ENOENT: no such index.
 *  SET_CAPABILITY (131)  addr = index (of FETCH_ALL_CAPABILITIES) of an
 *                        MSI or MSI-X capability, or RXU_PCI_INDEX_INTX;
 *                        len = sizeof(struct rxu_pci_set_capability),
 *                        offset = its pool offset.  Claim needed.  See
 *                        struct rxu_pci_set_capability.  ENOENT: no such
 *                        index; EINVAL: not MSI/MSI-X, id mismatch, bad
 *                        flags or count; EIO: VFIO refused.  Result = the
 *                        number of vectors now enabled (0 after DISABLE).
 *  IRQ_MASK (133), IRQ_UNMASK (134)
 *                        addr = first vector, len = count (>= 1) of the
 *                        enabled interrupt type.  Claim needed.  INTx:
 *                        VFIO's own mask/unmask (INTx is automasked by
 *                        VFIO: UNMASK vector 0 after each interrupt, once
 *                        the device's source is cleared).  MSI/MSI-X:
 *                        emulated by pcid, which moves the vector's
 *                        trigger to an eventfd of its own while masked;
 *                        an interrupt that fired meanwhile is delivered
 *                        (the driver's eventfd is signalled) on UNMASK,
 *                        as the PCI pending bit would.  Result 0.
 *  CONFIG_READ (135)     offset = config offset, len = 1..4096, addr =
 *                        pool offset.  Read rights as for paths.  Result
 *                        = bytes read (short at the end of config space,
 *                        0 from its end on).  EINVAL: len 0 or > 4096, or
 *                        offset > 4096.
 *  CONFIG_WRITE (136)    the same, claim needed, the write rules above.
 *                        Result = bytes written.  EINVAL: also a write
 *                        that does not fit in config space.
 *  RESET (137)           claim needed: disable interrupts, then
 *                        VFIO_DEVICE_RESET.  EOPNOTSUPP if the function
 *                        has no reset.  Result 0.
 *
 * Errors common to both: ENOENT unknown function/path/index, EACCES no
 * or wrong token, EBUSY owned by another driver, EPERM forbidden config
 * write, EINVAL malformed request, EFAULT bad pool/data offset, ENODEV
 * the function is gone (hot-unplug, or released), EIO VFIO failed.
 *
 * -------------------------------------------------------------------
 * The spawned driver
 * -------------------------------------------------------------------
 * pcid starts a rule's `command` with these environment variables:
 *   PCID_ADDRESS=SSSS:BB:DD.F   PCID_TOKEN=<hex>   PCID_SCHEME=pci
 *   PCID_RULE=<rule name>
 * (argv may use $ADDR, $VENDOR, $DEVICE, $RULE, $SCHEME).  Usual flow:
 * OPEN "pci:ADDR/container?token=T" and "pci:ADDR/device?token=T" on a
 * kernel ring; ATTACH "pci:" on a u2u ring, CLAIM, FETCH_CONFIG, map
 * BARs from the device fd, CONFIG_WRITE the Command register (memory +
 * bus master), SET_CAPABILITY(MSI/MSI-X, ENABLE, n), OPEN
 * "pci:ADDR/irq/K?token=T" for each vector and FILES_UPDATE-subscribe to
 * it: interrupts then arrive as EVENT CQEs.
 */
#ifndef RXU_PCI_H
#define RXU_PCI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RXU_PCI_VERSION		1	/* syscall_flags of every pcid SQE */
#define RXU_PCI_SCHEME		"pci"	/* default scheme name */

/* ---- addresses ---- */
#define RXU_PCI_ADDR(seg, bus, dev, fn)					\
	((uint32_t)(((uint32_t)(seg) & 0xffff) << 16 |			\
		    ((uint32_t)(bus) & 0xff) << 8 |			\
		    ((uint32_t)(dev) & 0x1f) << 3 | ((uint32_t)(fn) & 7)))
#define RXU_PCI_ADDR_SEG(a)	(((uint32_t)(a) >> 16) & 0xffff)
#define RXU_PCI_ADDR_BUS(a)	(((uint32_t)(a) >> 8) & 0xff)
#define RXU_PCI_ADDR_DEV(a)	(((uint32_t)(a) >> 3) & 0x1f)
#define RXU_PCI_ADDR_FN(a)	((uint32_t)(a) & 7)
#define RXU_PCI_ADDR_STRLEN	12	/* "SSSS:BB:DD.F", without NUL */

/* ---- tokens and the spawned driver's environment ---- */
#define RXU_PCI_TOKEN_LEN	32	/* hex characters, no NUL */
#define RXU_PCI_TOKEN_SUFFIX	"?token="
#define RXU_PCI_ENV_ADDRESS	"PCID_ADDRESS"
#define RXU_PCI_ENV_TOKEN	"PCID_TOKEN"
#define RXU_PCI_ENV_SCHEME	"PCID_SCHEME"
#define RXU_PCI_ENV_RULE	"PCID_RULE"

/* ---- listing states (the STATE column) ---- */
/*
 * unmatched  no rule matched; pcid does not touch the function
 * bound      bound to vfio-pci, no driver running (e.g. between restarts)
 * running    its driver runs
 * failed     its driver crashed too often, or could not be spawned, or
 *            the bind failed: pcid gave up on it (see pcid's log)
 */
#define RXU_PCI_STATE_NAMES	"unmatched bound running failed"

/* ---- u2u opcodes (RXU_OP_SCHEME_FIRST ..) ---- */
enum rxu_pci_opcode {
	RXU_PCI_OP_FETCH_CONFIG			= 128,
	RXU_PCI_OP_FETCH_ALL_CAPABILITIES	= 129,
	RXU_PCI_OP_GET_CAPABILITY		= 130,
	RXU_PCI_OP_SET_CAPABILITY		= 131,
	RXU_PCI_OP_CLAIM			= 132,
	RXU_PCI_OP_IRQ_MASK			= 133,
	RXU_PCI_OP_IRQ_UNMASK			= 134,
	RXU_PCI_OP_CONFIG_READ			= 135,
	RXU_PCI_OP_CONFIG_WRITE			= 136,
	RXU_PCI_OP_RESET			= 137,
};

#define RXU_PCI_CONFIG_MAX	4096	/* largest config space, max len */
#define RXU_PCI_HEADER_PUBLIC	64	/* bytes readable without a token */
#define RXU_PCI_NR_BARS		6
#define RXU_PCI_MAX_CAP_RECORDS	96	/* FETCH_ALL_CAPABILITIES len, at most */
/* Command register bits a driver may change. */
#define RXU_PCI_COMMAND_ALLOWED	0x0547u	/* IO|MEM|MASTER|PARITY|SERR|INTX_DISABLE */

/* ---- capability ids that matter here ---- */
#define RXU_PCI_CAP_ID_MSI	0x05
#define RXU_PCI_CAP_ID_VNDR	0x09
#define RXU_PCI_CAP_ID_MSIX	0x11
/* SET_CAPABILITY/IRQ index for legacy INTx (it is no capability). */
#define RXU_PCI_INDEX_INTX	0xffffu

/* ---- BARs: FetchConfig and the `bars` file ---- */
#define RXU_PCI_BAR_IO		(1u << 0)	/* I/O space */
#define RXU_PCI_BAR_MEM		(1u << 1)	/* memory space */
#define RXU_PCI_BAR_64BIT	(1u << 2)	/* a 64-bit BAR (uses the next slot) */
#define RXU_PCI_BAR_PREFETCH	(1u << 3)
#define RXU_PCI_BAR_UPPER	(1u << 4)	/* the upper half of the previous BAR */
#define RXU_PCI_BAR_MMAP	(1u << 5)	/* VFIO allows mmap of the region */
#define RXU_PCI_BAR_VFIO	(1u << 6)	/* vfio_offset is valid */

struct rxu_pci_bar {
	uint64_t size;		/* bytes; 0: absent (or an upper half) */
	uint64_t vfio_offset;	/* region offset on the device fd (pread/mmap) */
	uint64_t phys;		/* bus address (sysfs `resource`), informational */
	uint32_t flags;		/* RXU_PCI_BAR_* */
	uint32_t index;		/* 0..5, 6 = ROM */
};
_Static_assert(sizeof(struct rxu_pci_bar) == 32, "rxu_pci_bar is 32 bytes");

/* ---- FETCH_CONFIG output ---- */
#define RXU_PCI_CFG_VFIO	(1u << 0)	/* bound to vfio-pci now */
#define RXU_PCI_CFG_RESET	(1u << 1)	/* VFIO reports a reset method */
#define RXU_PCI_CFG_OWNED	(1u << 2)	/* a connection has claimed it */
#define RXU_PCI_CFG_PCIE	(1u << 3)	/* has a PCI Express capability */

/* irq_count/irq_flags index: VFIO's IRQ indexes. */
#define RXU_PCI_IRQ_INTX	0
#define RXU_PCI_IRQ_MSI		1
#define RXU_PCI_IRQ_MSIX	2
#define RXU_PCI_IRQ_NONE	0xffu	/* rxu_pci_config.irq_enabled: none */

struct rxu_pci_config {
	uint32_t version;		/* RXU_PCI_VERSION */
	uint32_t size;			/* sizeof(struct rxu_pci_config) */
	uint32_t address;		/* RXU_PCI_ADDR() */
	uint32_t iommu_group;		/* 0xffffffff: none */
	uint16_t vendor, device;
	uint16_t subsystem_vendor, subsystem_device;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t header_type;		/* without the multi-function bit */
	uint8_t irq_pin;		/* 0 none, 1..4 = INTA..INTD */
	uint8_t irq_enabled;		/* RXU_PCI_IRQ_*: what SET_CAPABILITY enabled */
	uint8_t irq_vectors;		/* how many vectors of it */
	uint16_t config_size;		/* 256 or 4096 */
	uint16_t nr_capabilities;	/* records of FETCH_ALL_CAPABILITIES */
	uint32_t flags;			/* RXU_PCI_CFG_* */
	uint32_t irq_count[3];		/* VFIO IRQ info count: INTx, MSI, MSI-X */
	uint32_t irq_flags[3];		/* VFIO IRQ info flags (EVENTFD 1, MASKABLE 2, AUTOMASKED 4, NORESIZE 8) */
	uint32_t reserved[2];		/* 0 */
	char rule[32];			/* the matching rule's name, NUL-padded */
	struct rxu_pci_bar bars[RXU_PCI_NR_BARS];
	struct rxu_pci_bar rom;
};
_Static_assert(sizeof(struct rxu_pci_config) == 328,
	       "rxu_pci_config is 328 bytes");
_Static_assert(offsetof(struct rxu_pci_config, bars) == 104,
	       "rxu_pci_config.bars at 104");

/* ---- FETCH_ALL_CAPABILITIES records ---- */
struct rxu_pci_cap_record {
	uint16_t id;		/* capability ID (extended: the 16-bit ID) */
	uint8_t extended;	/* 1: PCIe extended capability (offset >= 0x100) */
	uint8_t version;	/* extended capability version; 0 otherwise */
	uint16_t offset;	/* in config space */
	uint16_t length;	/* bytes: the known size, else up to the next one */
};
_Static_assert(sizeof(struct rxu_pci_cap_record) == 8,
	       "rxu_pci_cap_record is 8 bytes");

/* ---- GET_CAPABILITY output (raw bytes follow it) ---- */
#define RXU_PCI_CAPF_ENABLED	(1u << 0)	/* MSI/MSI-X: enabled by pcid now */
#define RXU_PCI_CAPF_MASKED	(1u << 1)	/* MSI-X: every vector masked */

struct rxu_pci_msi_info {
	uint16_t control;		/* Message Control as read */
	uint8_t log2_capable;		/* Multiple Message Capable */
	uint8_t is_64bit;
	uint8_t per_vector_mask;
	uint8_t pad[3];
	uint32_t max_vectors;		/* 1 << log2_capable */
	uint32_t reserved;
};

struct rxu_pci_msix_info {
	uint16_t control;		/* Message Control as read */
	uint16_t table_size;		/* vectors (N, not N - 1) */
	uint8_t table_bar, pba_bar;	/* BIR */
	uint16_t pad;
	uint32_t table_offset;		/* in table_bar, BIR bits cleared */
	uint32_t pba_offset;
};

struct rxu_pci_capability {
	struct rxu_pci_cap_record rec;
	uint32_t flags;			/* RXU_PCI_CAPF_* */
	uint32_t vectors_enabled;	/* MSI/MSI-X */
	union {
		struct rxu_pci_msi_info msi;	/* rec.id == MSI */
		struct rxu_pci_msix_info msix;	/* rec.id == MSI-X */
		uint8_t raw[16];		/* zero for other ids */
	} u;
	/* followed by rec.length raw config bytes */
};
_Static_assert(sizeof(struct rxu_pci_msi_info) == 16, "msi_info is 16 bytes");
_Static_assert(sizeof(struct rxu_pci_msix_info) == 16, "msix_info is 16 bytes");
_Static_assert(sizeof(struct rxu_pci_capability) == 32,
	       "rxu_pci_capability is 32 bytes");

/* ---- SET_CAPABILITY input ---- */
/*
 * ENABLE: (re)enable `count` vectors (MSI-X: 1..table size; MSI:
 *   1..max_vectors; INTx: 1) with a new eventfd each, through
 *   VFIO_DEVICE_SET_IRQS; whatever other type was enabled is disabled
 *   first (one type at a time).  The vectors start unmasked.
 * DISABLE: disable this type; its eventfds are no longer signalled.
 * MASK_ALL / UNMASK_ALL: the IRQ_MASK/IRQ_UNMASK of every enabled vector
 *   (MSI-X's function mask, emulated).
 * Exactly one of them.  id = the capability's id (RXU_PCI_CAP_ID_MSI or
 * _MSIX; 0 for RXU_PCI_INDEX_INTX).
 */
#define RXU_PCI_SET_ENABLE	(1u << 0)
#define RXU_PCI_SET_DISABLE	(1u << 1)
#define RXU_PCI_SET_MASK_ALL	(1u << 2)
#define RXU_PCI_SET_UNMASK_ALL	(1u << 3)

struct rxu_pci_set_capability {
	uint32_t id;
	uint32_t flags;		/* exactly one RXU_PCI_SET_* */
	uint32_t count;		/* ENABLE: vectors; else 0 */
	uint32_t reserved;	/* 0 */
};
_Static_assert(sizeof(struct rxu_pci_set_capability) == 16,
	       "rxu_pci_set_capability is 16 bytes");

/* ---- helpers ---- */

/* "SSSS:BB:DD.F" -> binary; the string must be exactly that (or
 * "BB:DD.F", segment 0).  0, or -1 if malformed. */
static inline int rxu_pci_addr_parse(const char *s, size_t len, uint32_t *out)
{
	unsigned v[4] = { 0, 0, 0, 0 };
	const unsigned widths[4] = { 4, 2, 2, 1 };
	const char seps[4] = { ':', ':', '.', '\0' };
	unsigned first = (len == 7) ? 1 : 0, i, j;
	size_t pos = 0;

	if (len != 7 && len != RXU_PCI_ADDR_STRLEN)
		return -1;
	for (i = first; i < 4; i++) {
		for (j = 0; j < widths[i]; j++, pos++) {
			char c = s[pos];
			unsigned d;

			if (c >= '0' && c <= '9')
				d = (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				d = (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				d = (unsigned)(c - 'A' + 10);
			else
				return -1;
			v[i] = v[i] << 4 | d;
		}
		if (i < 3 && s[pos++] != seps[i])
			return -1;
	}
	if (v[2] > 0x1f || v[3] > 7)
		return -1;
	*out = RXU_PCI_ADDR(v[0], v[1], v[2], v[3]);
	return 0;
}

/* binary -> "SSSS:BB:DD.F" + NUL into buf (RXU_PCI_ADDR_STRLEN + 1). */
static inline void rxu_pci_addr_format(uint32_t a, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	uint32_t seg = RXU_PCI_ADDR_SEG(a), bus = RXU_PCI_ADDR_BUS(a);
	uint32_t dev = RXU_PCI_ADDR_DEV(a);

	buf[0] = hex[seg >> 12 & 15];
	buf[1] = hex[seg >> 8 & 15];
	buf[2] = hex[seg >> 4 & 15];
	buf[3] = hex[seg & 15];
	buf[4] = ':';
	buf[5] = hex[bus >> 4];
	buf[6] = hex[bus & 15];
	buf[7] = ':';
	buf[8] = hex[dev >> 4];
	buf[9] = hex[dev & 15];
	buf[10] = '.';
	buf[11] = hex[RXU_PCI_ADDR_FN(a)];
	buf[12] = '\0';
}

#ifdef __cplusplus
}
#endif

#endif /* RXU_PCI_H */
