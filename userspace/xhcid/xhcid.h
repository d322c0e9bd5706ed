/* SPDX-License-Identifier: MIT */
/*
 * xhcid.h - the state shared by xhcid's files: the controller (hc.c),
 * its rings (ring.c), commands (cmd.c), contexts (ctx.c), ports
 * (port.c), devices and their enumeration (enum.c) and transfers
 * (xfer.c).  Everything runs on one thread, on one reactor; the only
 * place xhcid waits is ENTER on that reactor's ring.
 */
#ifndef XHCID_H
#define XHCID_H

#include <stddef.h>
#include <stdint.h>

#include "rxu.h"
#include "rxu_pcidrv.h"
#include "rxu_usb.h"
#include "xhci_regs.h"

#define XHCID_RING_TRBS		256	/* one 4 KiB page per ring */
#define XHCID_EVENT_TRBS	256
#define XHCID_MAX_PORTS		255
#define XHCID_MAX_SLOTS		255
#define XHCID_CMD_TIMEOUT_MS	RXU_USB_TIMEOUT_MS

struct xhc;
struct xdev;

/* ---- rings (ring.c) ---- */

/* A producer ring (command or transfer): one segment closed by a Link. */
struct xring {
	struct rxu_pcidrv_dma mem;
	struct xhci_trb *trb;
	unsigned int n;			/* TRBs, the last one is the Link */
	unsigned int enq;		/* next TRB to write */
	uint32_t pcs;			/* producer cycle state */
};

/* The event ring of interrupter 0, one segment, and its ERST. */
struct xevring {
	struct rxu_pcidrv_dma mem;	/* segment, then the ERST entry */
	struct xhci_trb *trb;
	unsigned int n;
	unsigned int deq;
	uint32_t ccs;			/* consumer cycle state */
};

int xring_init(struct xhc *hc, struct xring *r);
void xring_free(struct xhc *hc, struct xring *r);
/* Free TRBs before the ring is full (one is kept as the Link). */
unsigned int xring_room(const struct xring *r);
/* Write one TRB (cycle set by the ring, control written last); its IOVA. */
uint64_t xring_push(struct xring *r, uint64_t param, uint32_t status,
		    uint32_t control);
uint64_t xring_iova(const struct xring *r, unsigned int idx);
/* The index of the TRB at iova in r, or -1. */
int xring_index(const struct xring *r, uint64_t iova);
/* The dequeue pointer after everything pushed: iova | cycle. */
uint64_t xring_enqueue_ptr(const struct xring *r);

int xevring_init(struct xhc *hc, struct xevring *e);
void xevring_free(struct xhc *hc, struct xevring *e);
/* The next valid event TRB, or NULL; xevring_consume() moves past it. */
const struct xhci_trb *xevring_peek(const struct xevring *e);
void xevring_consume(struct xevring *e);
uint64_t xevring_deq_iova(const struct xevring *e);

/* ---- commands (cmd.c) ---- */
struct xcmd_result {
	int done;
	uint8_t cc;
	uint8_t slot;
	uint32_t param;			/* completion parameter 23:0 */
};

/* Run one command, waiting for its completion (top level only). 0 with
 * *res filled, -ETIMEDOUT (the command ring is then aborted), -errno. */
int xcmd_run(struct xhc *hc, uint64_t param, uint32_t status,
	     uint32_t control, struct xcmd_result *res);
void xcmd_complete(struct xhc *hc, const struct xhci_trb *ev);
int xcmd_cc_errno(uint8_t cc);

/* ---- transfers (xfer.c) ---- */

struct xfer;
typedef void (*xfer_done_fn)(struct xhc *hc, struct xfer *x);

struct xfer {
	struct xfer *next;		/* queue of the endpoint */
	struct xep *ep;
	int is_control;
	uint64_t setup;			/* control: the setup packet */
	int dir_in;
	uint32_t len;			/* data bytes asked */
	uint32_t actual;		/* data bytes moved */
	int result;			/* 0 or -errno, set at completion */
	uint32_t timeout_ms;		/* 0: RXU_USB_TIMEOUT_MS, UINT32_MAX: none */
	uint64_t deadline_ns;		/* 0: none */
	/* where the data is: a DMA bounce buffer of the endpoint, or the
	 * caller's DMA memory (u2u pools) when iova != 0 */
	void *buf;
	uint64_t iova;
	/* data TRBs on the ring while in flight: index and length */
	unsigned int ntrb;
	uint16_t tidx[24];
	uint32_t tlen[24];
	int last;			/* index of the TRB with IOC */
	int in_flight;
	int short_seen;
	xfer_done_fn done;
	void *ctx;
};

/* One endpoint of a device: DCI 1 (EP0) .. 31. */
struct xep {
	struct xdev *dev;
	unsigned int dci;
	uint8_t addr;			/* bEndpointAddress */
	uint8_t type;			/* enum xhci_ep_type, 0: not configured */
	uint8_t attr;			/* bmAttributes */
	uint8_t interval;		/* bInterval as in the descriptor */
	uint8_t iface;
	uint16_t mps;
	struct xring ring;
	struct rxu_pcidrv_dma bounce;	/* grown as transfers need */
	struct xfer *head, *tail;	/* head is the one on the ring */
	int halted;			/* stall seen, recovery pending */
	int stop_pending;		/* timeout seen, Stop Endpoint pending */
};

/* Queue a transfer on its endpoint (x->ep set); it completes through
 * x->done, which may be called before xfer_submit returns on error. */
void xfer_submit(struct xhc *hc, struct xfer *x);
/* The same and wait for it (top level only): x->result. */
int xfer_run(struct xhc *hc, struct xfer *x);
/* A control transfer on EP0 with data in/out of buf: bytes or -errno. */
int xfer_control(struct xhc *hc, struct xdev *d, uint8_t type, uint8_t req,
		 uint16_t value, uint16_t index, void *buf, uint16_t len);
void xfer_event(struct xhc *hc, const struct xhci_trb *ev);
/* Complete everything queued on ep with result (detach: -ENODEV). */
void xfer_flush(struct xhc *hc, struct xep *ep, int result);
/* CLEAR_HALT: host side (Reset Endpoint if halted, Set TR Dequeue) and
 * CLEAR_FEATURE(ENDPOINT_HALT) on the device (top level). */
int xfer_clear_halt(struct xhc *hc, struct xdev *d, uint8_t addr);
/* Stall and timeout recovery of endpoints that need it (top level). */
void xfer_recover(struct xhc *hc);
/* The earliest transfer deadline, 0: none. */
uint64_t xfer_next_deadline(struct xhc *hc);
void xfer_expire(struct xhc *hc, uint64_t now);
int xfer_cc_errno(uint8_t cc);

/* ---- contexts (ctx.c) ---- */
struct xctx {
	struct rxu_pcidrv_dma mem;
	unsigned int csz;		/* 32 or 64 */
	int input;			/* an input context (control context first) */
};

int xctx_alloc(struct xhc *hc, struct xctx *c, int input);
void xctx_free(struct xhc *hc, struct xctx *c);
uint32_t *xctx_ctrl(struct xctx *c);		/* input control context */
uint32_t *xctx_slot(struct xctx *c);
uint32_t *xctx_ep(struct xctx *c, unsigned int dci);

/* ---- devices and enumeration (enum.c) ---- */
enum xdev_state {
	XDEV_EMPTY, XDEV_CONNECTED, XDEV_ADDRESSED, XDEV_CONFIGURED,
	XDEV_ERROR,
};

#define XDEV_DESC_MAX	(18 + 8 * 65535)

struct xdev {
	struct xhc *hc;
	unsigned int root_port;		/* 1-based */
	uint32_t route;
	unsigned int speed;		/* enum xhci_speed: the speed class */
	unsigned int psiv;		/* the port's speed ID (slot context) */
	unsigned int slot;
	enum xdev_state state;
	unsigned int address;
	unsigned int config;		/* bConfigurationValue set, 0 none */
	struct xctx out, in;
	struct xep ep[32];		/* by DCI; ep[0] unused */
	uint8_t ddesc[18];
	uint8_t *desc;			/* device + all configurations */
	size_t desc_len;
	size_t cfg_off[8];		/* offsets of configurations in desc */
	unsigned int ncfg;
	char manufacturer[128], product[128], serial[128];
	uint64_t generation;		/* bumped at every attach */
	unsigned int id;		/* RXU_USB_PORT_ID(root_port, route) */
	unsigned int depth;		/* hubs above it: 0 on a root port */
	struct xdev *parent;		/* the hub it hangs on, NULL: root */
	unsigned int parent_port;	/* its port on that hub */
	unsigned int tt_slot, tt_port;	/* LS/FS behind a HS hub: the TT */
	uint32_t slot_hub[3];		/* hub fields of slot DW0..2 (hub.c) */
	struct xhub *hub;		/* non-NULL: a hub xhcid drives */
	int spawned;			/* class-driver rules applied */
	char token[RXU_USB_TOKEN_LEN + 1];
};

int xdev_attach(struct xhc *hc, unsigned int port);
void xdev_detach(struct xhc *hc, unsigned int port);
/* Address d (root_port, route, speed, psiv, TT set), read its
 * descriptors, start it as a hub if it is one: 0 or -errno. */
int xdev_enumerate(struct xhc *hc, struct xdev *d);
/* Disable d's slot and free it, with everything behind it if a hub. */
void xdev_free(struct xhc *hc, struct xdev *d);
struct xdev *xdev_new(struct xhc *hc, unsigned int root_port);
/* SET_CONFIGURATION(value) with the endpoints it needs; 0 unconfigures.
 * iface/alt >= 0: then SET_INTERFACE. */
int xdev_configure(struct xhc *hc, struct xdev *d, unsigned int value,
		   int iface, int alt);
const char *xdev_state_name(enum xdev_state s);
const char *xdev_speed_name(unsigned int speed);
/* The endpoint of d with bEndpointAddress addr, or NULL. */
struct xep *xdev_ep(struct xdev *d, uint8_t addr);

/* ---- hubs (hub.c) ---- */
#define XHUB_MAX_PORTS	15		/* one route-string nibble */

struct xhub {
	unsigned int nports;
	unsigned int pwr_ms;		/* bPwrOn2PwrGood * 2 */
	int super;			/* a SuperSpeed hub (descriptor 0x2A) */
	struct xep *irq_ep;		/* the status-change endpoint */
	struct xfer irq;		/* kept in flight on irq_ep */
	uint8_t bitmap[4];
	int changed;			/* the bitmap came in: scan (top level) */
	unsigned int errors;		/* consecutive failed status transfers */
	struct xdev *child[XHUB_MAX_PORTS + 1];	/* by hub port, 1-based */
};

/* Configure hub d, power its ports, enumerate what is connected and
 * start polling for changes (top level): 0 or -errno. */
int hub_start(struct xhc *hc, struct xdev *d);
/* Free everything behind hub d and its hub state. */
void hub_stop(struct xhc *hc, struct xdev *d);
/* Handle the status changes of every hub that reported some (top level). */
void hub_scan(struct xhc *hc);
/* The device at port id: 0 and *d (NULL: empty), -ENOENT: no such port. */
int xhc_lookup(struct xhc *hc, unsigned int id, struct xdev **d);
/* "port8.1.3" for id into buf. */
void xport_name(unsigned int id, char *buf, size_t size);
/* "port<R>[.<P>]..." at p: the id, the rest in *end; 0 if it is not one. */
unsigned int xport_parse(const char *p, const char **end);

/* ---- ports (port.c) ---- */
struct xport {
	unsigned int major;		/* 2 or 3 (Supported Protocol) */
	unsigned int slot_type;
	unsigned int psic;
	uint32_t psi[16];
	int change;			/* a Port Status Change to handle */
	struct xdev *dev;		/* NULL: empty */
};

uint32_t port_read(struct xhc *hc, unsigned int port);
/* Write the bits set in bits (PR, or change bits to clear), nothing else. */
void port_write(struct xhc *hc, unsigned int port, uint32_t bits);
/* Reset a USB 2 port or wait for a USB 3 port's link: 0 enabled. */
int port_reset(struct xhc *hc, unsigned int port);
unsigned int port_speed(struct xhc *hc, unsigned int port, uint32_t portsc);
/* Handle pending changes of every port (top level). */
void port_scan(struct xhc *hc);
void port_event(struct xhc *hc, const struct xhci_trb *ev);

/* ---- the controller (hc.c) ---- */
enum xhc_irq_mode { XHC_IRQ_POLL, XHC_IRQ_INTX, XHC_IRQ_MSI, XHC_IRQ_MSIX };

struct xhc {
	struct rxu_pcidrv_dev dev;
	struct rxu_instance ring;	/* the reactor's primary */
	struct rxu_instance pring;	/* pcid's requests (lib/pci.c) */
	struct rxu_reactor *r;
	uint8_t *bar;
	uint8_t *op, *rt;
	uint32_t *db;
	uint16_t hciversion;
	uint32_t hcs1, hcs2, hcc1;
	unsigned int max_slots, max_ports, max_intrs, nscratch, csz;
	uint64_t pagesize;
	struct rxu_pcidrv_dma dcbaa, scratch;
	struct xring cmd;
	struct xevring ev;
	struct xcmd_result *cmd_wait;	/* the command in flight */
	uint64_t cmd_iova;
	struct xport port[XHCID_MAX_PORTS + 1];	/* 1-based */
	struct xdev *slot_dev[XHCID_MAX_SLOTS + 1];
	enum xhc_irq_mode irq_mode;
	unsigned int pool_maps;		/* u2u pool spans mapped for DMA */
	int efd;
	uint64_t irqs, events;
	int dead;			/* needs a reset (command timeout) */
	int verbose;
	void (*on_change)(struct xhc *hc, unsigned int port);	/* scheme */
};

int hc_start(struct xhc *hc);		/* reset, rings, interrupts, R/S */
void hc_stop(struct xhc *hc);		/* halt, free everything */
/* Drain the event ring; from the interrupt callback or the poll loop. */
void hc_events(struct xhc *hc);
void hc_check_alive(struct xhc *hc);	/* USBSTS HSE/HCE/~0: dead */
/* Run the reactor for up to ns (the only way xhcid waits). */
int hc_wait(struct xhc *hc, uint64_t ns);
uint64_t hc_now_ns(void);
void hc_doorbell(struct xhc *hc, unsigned int slot, uint32_t target);
void hc_log(struct xhc *hc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline uint32_t op_read(struct xhc *hc, unsigned int off)
{
	return rxu_mmio_read32(hc->op, off);
}

static inline void op_write(struct xhc *hc, unsigned int off, uint32_t v)
{
	rxu_mmio_write32(hc->op, off, v);
}

/* 64-bit registers as two 32-bit writes, low first (AC64 or not). */
static inline void op_write64(uint8_t *base, unsigned int off, uint64_t v)
{
	rxu_mmio_write32(base, off, (uint32_t)v);
	rxu_mmio_write32(base, off + 4, (uint32_t)(v >> 32));
}

#endif /* XHCID_H */
