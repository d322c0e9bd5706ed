/* SPDX-License-Identifier: MIT */
/*
 * pcid internals: one header for the daemon's parts.
 *
 *   config.c  driver rules (inih) and the matcher        (host-testable)
 *   sysfs.c   enumeration, binding to vfio-pci, restoring (host-testable
 *             against a fake sysfs tree for enumeration)
 *   vfio.c    groups, containers, device fds, regions, interrupts, reset
 *   caps.c    config-space rules: capability walk, write filter (pure)
 *   spawn.c   drivers: tokens, fork/exec, restarts with backoff
 *   scheme.c  the pci: scheme, k2u paths and u2u opcodes
 *   pcid.c    options, the loop, signals, release
 */
#ifndef PCID_H
#define PCID_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rxu_pci.h"

#define PCID_MAX_VECTORS	64	/* eventfds pcid keeps per function */

/* ---- rules (config.c) ---- */

#define RULE_NAME_MAX	31

struct rule {
	char name[RULE_NAME_MAX + 1];	/* the [section] */
	char *file;			/* where it came from (for messages) */
	/* match keys: < 0 = absent */
	int vendor, device, class_code, subclass, prog_if;
	int subsystem_vendor, subsystem_device;
	char **argv;			/* command, split on blanks */
	int argc;
	int max_restarts;		/* restart = N (default 3) */
	int force;			/* force = yes: bind even a bridge/boot VGA */
	int disabled;			/* enabled = no */
};

struct rules {
	struct rule *v;
	size_t n;
};

/* Identity used for matching (filled from sysfs). */
struct pci_ident {
	uint16_t vendor, device, subsystem_vendor, subsystem_device;
	uint8_t class_code, subclass, prog_if, revision;
};

/*
 * Load every *.conf of dir in name order.  0, or -errno; on a parse error
 * *err gets "file:line: what" (static storage).  Rules with neither a
 * command nor enabled = no are an error.
 */
int rules_load_dir(struct rules *rs, const char *dir, const char **err);
/* Parse one config text (tests, and rules_load_dir per file). */
int rules_parse_string(struct rules *rs, const char *text, const char *file,
		       const char **err);
void rules_free(struct rules *rs);
/* The first enabled rule whose every present key matches, or NULL. */
const struct rule *rules_match(const struct rules *rs,
			       const struct pci_ident *id);
/* Does this one rule match? */
int rule_matches(const struct rule *r, const struct pci_ident *id);

/*
 * Expand $ADDR $VENDOR $DEVICE $RULE $SCHEME in a rule's argv (words
 * that are exactly one of these, or contain them).  NULL-terminated,
 * free with argv_free().  NULL on ENOMEM.
 */
char **rule_expand_argv(const struct rule *r, const char *addr,
			const struct pci_ident *id, const char *scheme);
void argv_free(char **argv);

/* ---- config space (caps.c) ---- */

struct cap_list {
	struct rxu_pci_cap_record rec[RXU_PCI_MAX_CAP_RECORDS];
	unsigned n;
};

/* Walk the capability lists of cfg (size bytes: 64, 256 or 4096). */
void caps_walk(const uint8_t *cfg, size_t size, struct cap_list *out);
/*
 * May a driver write [off, off + len) of config space with bytes buf,
 * the current contents being cfg?  0 or -EPERM (-EINVAL for a range past
 * size).
 */
int config_write_allowed(const uint8_t *cfg, size_t size,
			 const struct cap_list *caps, uint32_t off,
			 const uint8_t *buf, uint32_t len);

/* ---- functions (sysfs.c) ---- */

enum fn_state { FN_UNMATCHED, FN_BOUND, FN_RUNNING, FN_FAILED };

struct group;
struct conn;
struct rxu_scheme;

struct pci_fn {
	uint32_t addr;
	char name[RXU_PCI_ADDR_STRLEN + 1];
	struct pci_ident id;
	uint8_t header_type, irq_pin;
	uint16_t config_size;
	int iommu_group;		/* -1: none */
	int boot_vga;
	char orig_driver[64];		/* "" = none; before pcid bound it */
	int we_bound;			/* pcid set the override */
	const struct rule *rule;
	enum fn_state state;

	/* VFIO (vfio.c) */
	struct group *group;
	int device_fd;
	uint64_t cfg_offset;		/* VFIO config region */
	int has_reset;
	struct rxu_pci_bar bars[RXU_PCI_NR_BARS + 1];
	uint32_t irq_count[3], irq_flags[3];
	int irq_type;			/* RXU_PCI_IRQ_*, or -1 */
	int nvec;
	int efd[PCID_MAX_VECTORS];	/* the driver's eventfds */
	int latch[PCID_MAX_VECTORS];	/* pcid's, while masked (-1 else) */
	int sysfs_cfg_fd;		/* sysfs config, read-only */

	/* the driver (spawn.c) */
	pid_t pid;
	char token[RXU_PCI_TOKEN_LEN + 1];	/* "" when none */
	int crashes;
	uint64_t started_ns, restart_at_ns;	/* 0: no restart pending */
	struct conn *owner;		/* the u2u connection that claimed it */
};

struct pcid;

/* Enumerate sysfs_root/bus/pci/devices into an array sorted by address. */
int fns_enumerate(const char *sysfs_root, struct pci_fn **out, size_t *n);
/* Read the current kernel driver name ("" when none). */
void fn_kernel_driver(const char *sysfs_root, const struct pci_fn *f,
		      char *buf, size_t size);
/* Bind f to vfio-pci, remembering the original driver.  0 or -errno. */
int fn_bind_vfio(const char *sysfs_root, struct pci_fn *f);
/* Give f back to its original driver (or none).  0 or -errno. */
int fn_restore(const char *sysfs_root, struct pci_fn *f);
/* Restore one function from its address and driver name (--release). */
int fn_restore_name(const char *sysfs_root, const char *addr,
		    const char *orig_driver);
/* Read config space from sysfs: bytes read or -errno. */
ssize_t fn_sysfs_config_read(struct pci_fn *f, const char *sysfs_root,
			     void *buf, size_t len, uint64_t off);
/* Fill bars[] from sysfs `resource` (sizes, flags, phys). */
void fn_sysfs_bars(const char *sysfs_root, struct pci_fn *f);
/* Is it never to be bound without force (bridge, boot VGA)? reason or NULL */
const char *fn_unsafe_reason(const struct pci_fn *f);

/* ---- VFIO (vfio.c) ---- */

struct group {
	int number;
	int fd;
	int container;
	int refs;
	struct group *next;
};

/* Open group + container + device fd of a function bound to vfio-pci. */
int vfio_open(struct pcid *p, struct pci_fn *f);
/* Close the device fd (and the group/container when last). */
void vfio_close(struct pcid *p, struct pci_fn *f);
/* Disable interrupts, reset, drop and remake the container (DMA maps). */
int vfio_recycle(struct pcid *p, struct pci_fn *f);
int vfio_config_write(struct pci_fn *f, const void *buf, size_t len,
		      uint64_t off);
/* Enable count vectors of type (RXU_PCI_IRQ_*): vectors enabled or -errno */
int vfio_irq_enable(struct pci_fn *f, int type, int count);
void vfio_irq_disable(struct pci_fn *f);
int vfio_irq_mask(struct pci_fn *f, unsigned first, unsigned count, int mask);
int vfio_reset(struct pci_fn *f);

/* ---- drivers (spawn.c) ---- */

int token_new(char *out);		/* RXU_PCI_TOKEN_LEN hex + NUL */
int token_equal(const char *a, const char *b, size_t blen);
int driver_spawn(struct pcid *p, struct pci_fn *f);
/* A child exited: restart/report.  Returns 1 if it was one of ours. */
int driver_reaped(struct pcid *p, pid_t pid, int status);
/* Start the restarts that are due; the next due time (0: none). */
uint64_t driver_restarts_due(struct pcid *p, uint64_t now_ns);
/* SIGTERM every driver, wait up to timeout_ms, then SIGKILL. */
void drivers_stop(struct pcid *p, int timeout_ms);
uint64_t now_ns(void);

/* ---- the daemon ---- */

struct pcid {
	const char *sysfs;		/* "/sys" */
	const char *scheme;		/* "pci" */
	const char *state_dir;		/* "/run/pcid" */
	struct rules rules;
	struct pci_fn *fns;
	size_t nfns;
	struct group *groups;
	char admin_token[RXU_PCI_TOKEN_LEN + 1];
	int bind;			/* 0 with --no-bind: serve, bind nothing */
	int spawn;			/* 0 with --no-spawn */
	int verbose;

	/* scheme.c */
	struct rxu_reactor *r;
	struct rxu_instance *prim;
	struct rxu_scheme *srv;		/* pci: on librxu's provider framework */
	int stopping;			/* scheme_stop(): claims end quietly */
	int failed;
	int timer_fd;
};

struct pci_fn *fn_find(struct pcid *p, uint32_t addr);
void pcid_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pcid_arm_timer(struct pcid *p);
/* A driver is gone (exit or claim drop): clean its function. */
void fn_driver_gone(struct pcid *p, struct pci_fn *f, int process_died);
/* Write the state file (addresses and original drivers). */
void state_save(struct pcid *p);

/* Register the scheme p->scheme on p->r and serve it. */
int scheme_start(struct pcid *p);
void scheme_stop(struct pcid *p);
/* The function's claim is dropped (driver died). */
void scheme_drop_owner(struct pcid *p, struct pci_fn *f);

#endif /* PCID_H */
