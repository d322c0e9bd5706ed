// SPDX-License-Identifier: MIT
/*
 * hc.c - the controller: registers, halt and reset, BIOS handoff, the
 * extended capabilities (Supported Protocol: which ports are USB 2 and
 * which USB 3), MaxSlots, the DCBAA and scratchpad buffers, the command
 * ring, interrupter 0 with its event ring, the interrupt (MSI-X, else
 * MSI, else INTx, else polling) as EVENT CQEs on the reactor's ring, and
 * the event dispatch.
 *
 * xhcid waits in one place only: hc_wait(), one turn of the reactor,
 * which is one ENTER with a timeout on the primary ring.  Register polls
 * (CNR, HCH, HCRST) are loops of short hc_wait()s.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rxu_trace.h"
#include "xhcid.h"

#define MS		1000000ULL

uint64_t hc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void hc_log(struct xhc *hc, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xhcid %s: ", hc->dev.addr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int hc_wait(struct xhc *hc, uint64_t ns)
{
	int rc;

	if (hc->irq_mode == XHC_IRQ_POLL && (!ns || ns > MS))
		ns = MS;
	if (!ns)
		ns = 1;
	rc = rxu_reactor_run_once(hc->r, ns, 0);
	if (hc->irq_mode == XHC_IRQ_POLL)
		hc_events(hc);
	return rc < 0 ? rc : 0;
}

/* Wait until (reg & mask) == want, up to ms; 0 or -ETIMEDOUT. */
static int wait_reg(struct xhc *hc, unsigned int off, uint32_t mask,
		    uint32_t want, unsigned int ms)
{
	uint64_t end = hc_now_ns() + ms * MS;

	while ((op_read(hc, off) & mask) != want) {
		if (hc_now_ns() > end)
			return -ETIMEDOUT;
		hc_wait(hc, MS);
	}
	return 0;
}

void hc_doorbell(struct xhc *hc, unsigned int slot, uint32_t target)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	rxu_mmio_write32(hc->db, slot * 4, target);
}

/* ---- extended capabilities ---------------------------------------- */

/* Take the controller from the BIOS (USB Legacy Support, ID 1). */
static void bios_handoff(struct xhc *hc, unsigned int off)
{
	uint32_t v = rxu_mmio_read32(hc->bar, off);
	uint64_t end = hc_now_ns() + 1000 * MS;

	if (!(v & LEGACY_BIOS_OWNED)) {
		rxu_mmio_write32(hc->bar, off, v | LEGACY_OS_OWNED);
		return;
	}
	rxu_mmio_write32(hc->bar, off, v | LEGACY_OS_OWNED);
	while (rxu_mmio_read32(hc->bar, off) & LEGACY_BIOS_OWNED) {
		if (hc_now_ns() > end) {
			hc_log(hc, "BIOS keeps the controller; taking it");
			rxu_mmio_write32(hc->bar, off,
					 rxu_mmio_read32(hc->bar, off) &
					 ~LEGACY_BIOS_OWNED);
			break;
		}
		hc_wait(hc, 10 * MS);
	}
	/* SMI enables off (bits 0, 4, 13..15), SMI events cleared (29..31). */
	v = rxu_mmio_read32(hc->bar, off + 4);
	v &= ~(1u | 1u << 4 | 7u << 13);
	rxu_mmio_write32(hc->bar, off + 4, v | 7u << 29);
}

static void supported_protocol(struct xhc *hc, unsigned int off)
{
	uint32_t dw0 = rxu_mmio_read32(hc->bar, off);
	uint32_t dw2 = rxu_mmio_read32(hc->bar, off + 8);
	uint32_t dw3 = rxu_mmio_read32(hc->bar, off + 12);
	unsigned int first = PROTO_PORT_OFF(dw2), cnt = PROTO_PORT_CNT(dw2);
	unsigned int psic = PROTO_PSIC(dw2), p, i;

	for (p = first; p < first + cnt && p <= hc->max_ports; p++) {
		struct xport *pt = &hc->port[p];

		if (!p)
			continue;
		pt->major = PROTO_MAJOR(dw0);
		pt->slot_type = PROTO_SLOT_TYPE(dw3);
		pt->psic = psic;
		for (i = 0; i < psic; i++)
			pt->psi[i] = rxu_mmio_read32(hc->bar, off + 16 + 4 * i);
	}
	if (hc->verbose)
		hc_log(hc, "USB %u.%02x: ports %u..%u, slot type %u, %u PSI",
		       PROTO_MAJOR(dw0), (dw0 >> 16) & 0xff, first,
		       first + cnt - 1, PROTO_SLOT_TYPE(dw3), psic);
}

static void walk_xecp(struct xhc *hc)
{
	unsigned int off = HCC1_XECP(hc->hcc1) * 4, n = 0;

	while (off && off + 16 <= hc->dev.bar[0].size && n++ < 64) {
		uint32_t v = rxu_mmio_read32(hc->bar, off);

		if (XECP_ID(v) == XECP_LEGACY)
			bios_handoff(hc, off);
		else if (XECP_ID(v) == XECP_PROTOCOL)
			supported_protocol(hc, off);
		if (!XECP_NEXT(v))
			break;
		off += XECP_NEXT(v) * 4;
	}
}

/* ---- reset and memory --------------------------------------------- */

static int hc_reset(struct xhc *hc)
{
	int rc;

	rc = wait_reg(hc, XHCI_USBSTS, STS_CNR, 0, 1000);
	if (rc)
		return hc_log(hc, "controller not ready (CNR)"), rc;
	op_write(hc, XHCI_USBCMD, op_read(hc, XHCI_USBCMD) & ~(CMD_RUN | CMD_INTE));
	rc = wait_reg(hc, XHCI_USBSTS, STS_HCH, STS_HCH, 100);
	if (rc)
		return hc_log(hc, "does not halt"), rc;
	op_write(hc, XHCI_USBCMD, CMD_HCRST);
	rc = wait_reg(hc, XHCI_USBCMD, CMD_HCRST, 0, 1000);
	if (!rc)
		rc = wait_reg(hc, XHCI_USBSTS, STS_CNR, 0, 1000);
	if (rc)
		hc_log(hc, "reset does not finish");
	return rc;
}

static int alloc_scratchpads(struct xhc *hc)
{
	uint64_t *arr, base;
	unsigned int i;
	int rc;

	if (!hc->nscratch)
		return 0;
	rc = rxu_pcidrv_dma_alloc(&hc->dev,
				  (uint64_t)hc->nscratch * 8 +
				  (uint64_t)(hc->nscratch + 1) * hc->pagesize,
				  &hc->scratch);
	if (rc)
		return rc;
	/* The array in the first page, the buffers from the next page that
	 * is PAGESIZE-aligned in IOVA space. */
	arr = hc->scratch.va;
	base = (hc->scratch.iova + hc->nscratch * 8 + hc->pagesize - 1) &
	       ~(hc->pagesize - 1);
	for (i = 0; i < hc->nscratch; i++)
		arr[i] = base + (uint64_t)i * hc->pagesize;
	((uint64_t *)hc->dcbaa.va)[0] = hc->scratch.iova;
	return 0;
}

/* ---- interrupts ---------------------------------------------------- */

static void irq_cb(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		   void *ctx)
{
	struct xhc *hc = ctx;

	(void)r;
	if (rxu_cqe_is_event(cqe)) {
		RXU_TRACE("xhcid", "irq");
		hc->irqs++;
		rxu_pcidrv_irq_count(hc->efd);
		hc_events(hc);
		if (hc->irq_mode == XHC_IRQ_INTX)
			rxu_pcidrv_irq_unmask(&hc->dev);
		return;
	}
	if (rxu_cqe_result(cqe) < 0 || rxu_cqe_is_last_update(cqe)) {
		hc_log(hc, "interrupt subscription ended (%" PRId64 "): polling",
		       rxu_cqe_result(cqe));
		hc->irq_mode = XHC_IRQ_POLL;
	}
}

static const char *irq_names[] = { "polling", "INTx", "MSI", "MSI-X" };

static void setup_irq(struct xhc *hc)
{
	static const int kinds[] = { RXU_PCIDRV_IRQ_MSIX, RXU_PCIDRV_IRQ_MSI,
				     RXU_PCIDRV_IRQ_INTX };
	struct rxu_sqe64 sqe;
	unsigned int i;
	int kind = -1, rc;

	/* The vector and its subscription outlive a controller reset. */
	if (hc->efd >= 0 && hc->irq_mode != XHC_IRQ_POLL)
		return;
	hc->irq_mode = XHC_IRQ_POLL;
	if (hc->efd >= 0)
		goto subscribe;
	for (i = 0; i < 3; i++) {
		uint32_t count = 0, flags = 0;

		if (rxu_pcidrv_irq_info(&hc->dev, kinds[i], &count, &flags) ||
		    !count)
			continue;
		rc = rxu_pcidrv_irq_enable(&hc->dev, kinds[i], 1, &hc->efd);
		if (rc >= 0) {
			kind = rc;
			break;
		}
		hc_log(hc, "%s: %s", irq_names[3 - i], strerror(-rc));
	}
	if (kind < 0)
		return;
	hc->dev.irq_kind = kind;
subscribe:
	rxu_pcidrv_prep_irq_subscribe(&sqe, hc->efd, 0);
	rc = rxu_submit(hc->r, RXU_RING_PRIMARY, &sqe, irq_cb, hc, NULL);
	if (rc) {
		hc_log(hc, "FILES_UPDATE on the interrupt eventfd: %s",
		       strerror(-rc));
		return;
	}
	switch (hc->dev.irq_kind) {
	case RXU_PCIDRV_IRQ_MSIX:
		hc->irq_mode = XHC_IRQ_MSIX;
		break;
	case RXU_PCIDRV_IRQ_MSI:
		hc->irq_mode = XHC_IRQ_MSI;
		break;
	default:
		hc->irq_mode = XHC_IRQ_INTX;
		break;
	}
}

/* ---- events -------------------------------------------------------- */

void hc_events(struct xhc *hc)
{
	const struct xhci_trb *t;
	unsigned int n = 0;
	uint8_t *ir = hc->rt + XHCI_IR(0);

	if (!hc->ev.trb)
		return;
	while ((t = xevring_peek(&hc->ev))) {
		struct xhci_trb ev = *t;

		xevring_consume(&hc->ev);
		n++;
		switch (TRB_GET_TYPE(ev.control)) {
		case TRB_EV_CMD:
			xcmd_complete(hc, &ev);
			break;
		case TRB_EV_TRANSFER:
			xfer_event(hc, &ev);
			break;
		case TRB_EV_PORT:
			port_event(hc, &ev);
			break;
		case TRB_EV_HC:
			hc_log(hc, "host controller event, code %u",
			       TRB_CC(ev.status));
			break;
		default:
			break;
		}
	}
	hc->events += n;
	if (n || hc->irq_mode != XHC_IRQ_POLL) {
		op_write64(ir, IR_ERDP, xevring_deq_iova(&hc->ev) | ERDP_EHB);
		rxu_mmio_write32(ir, IR_IMAN, IMAN_IE | IMAN_IP);
		op_write(hc, XHCI_USBSTS, STS_EINT);
	}
	hc_check_alive(hc);
}

/*
 * Mark the controller dead (xhcid.c then resets it) when USBSTS says it
 * failed (Host System Error, Host Controller Error) or reads all ones (the
 * function is gone from the bus).  Called after every batch of events and
 * after a command timed out: a controller that can no longer DMA raises
 * no interrupt either, so the events path alone would never see it.
 */
void hc_check_alive(struct xhc *hc)
{
	uint32_t sts;

	if (!hc->op || hc->dead)
		return;
	sts = op_read(hc, XHCI_USBSTS);
	if (sts == 0xffffffffu || (sts & (STS_HSE | STS_HCE))) {
		hc_log(hc, "host system / controller error (USBSTS %#x)", sts);
		hc->dead = 1;
	}
}

/* ---- start and stop ------------------------------------------------ */

int hc_start(struct xhc *hc)
{
	uint8_t *ir;
	uint64_t *erst;
	uint32_t ps;
	int rc;

	if (!hc->bar) {
		void *bar;

		rc = rxu_pcidrv_map_bar(&hc->dev, 0, &bar, NULL);
		if (rc)
			return hc_log(hc, "BAR0: %s", strerror(-rc)), rc;
		rc = rxu_pcidrv_enable_bus_master(&hc->dev);
		if (rc)
			return hc_log(hc, "bus master: %s", strerror(-rc)), rc;
		hc->bar = bar;
	}
	hc->op = hc->bar + rxu_mmio_read32(hc->bar, 0) % 256;
	hc->hciversion = (uint16_t)(rxu_mmio_read32(hc->bar, 0) >> 16);
	hc->rt = hc->bar + (rxu_mmio_read32(hc->bar, XHCI_RTSOFF) & ~0x1fu);
	hc->db = (uint32_t *)(hc->bar + (rxu_mmio_read32(hc->bar, XHCI_DBOFF) & ~0x3u));
	hc->hcs1 = rxu_mmio_read32(hc->bar, XHCI_HCSPARAMS1);
	hc->hcs2 = rxu_mmio_read32(hc->bar, XHCI_HCSPARAMS2);
	hc->hcc1 = rxu_mmio_read32(hc->bar, XHCI_HCCPARAMS1);
	hc->max_slots = HCS1_MAX_SLOTS(hc->hcs1);
	hc->max_ports = HCS1_MAX_PORTS(hc->hcs1);
	hc->max_intrs = HCS1_MAX_INTRS(hc->hcs1);
	hc->nscratch = HCS2_SCRATCH(hc->hcs2);
	hc->csz = hc->hcc1 & HCC1_CSZ ? 64 : 32;
	if (!(hc->hcc1 & HCC1_AC64))
		rxu_pcidrv_set_iova_limit(&hc->dev, 1ULL << 32);

	walk_xecp(hc);
	rc = hc_reset(hc);
	if (rc)
		return rc;
	ps = op_read(hc, XHCI_PAGESIZE) & 0xffff;
	hc->pagesize = ps ? 4096ULL << __builtin_ctz(ps) : 4096;

	op_write(hc, XHCI_CONFIG, (op_read(hc, XHCI_CONFIG) & ~0xffu) |
		 hc->max_slots);
	rc = rxu_pcidrv_dma_alloc(&hc->dev, (hc->max_slots + 1) * 8, &hc->dcbaa);
	if (!rc)
		rc = alloc_scratchpads(hc);
	if (!rc)
		rc = xring_init(hc, &hc->cmd);
	if (!rc)
		rc = xevring_init(hc, &hc->ev);
	if (rc)
		return hc_log(hc, "DMA memory: %s", strerror(-rc)), rc;
	op_write64(hc->op, XHCI_DCBAAP, hc->dcbaa.iova);
	op_write64(hc->op, XHCI_CRCR, hc->cmd.mem.iova | CRCR_RCS);

	/* Interrupter 0: ERSTSZ, ERDP, then ERSTBA (which arms it). */
	erst = (uint64_t *)((uint8_t *)hc->ev.mem.va +
			    XHCID_EVENT_TRBS * sizeof(struct xhci_trb));
	erst[0] = hc->ev.mem.iova;
	erst[1] = XHCID_EVENT_TRBS;
	ir = hc->rt + XHCI_IR(0);
	rxu_mmio_write32(ir, IR_ERSTSZ, 1);
	op_write64(ir, IR_ERDP, hc->ev.mem.iova);
	op_write64(ir, IR_ERSTBA, hc->ev.mem.iova +
		   XHCID_EVENT_TRBS * sizeof(struct xhci_trb));
	rxu_mmio_write32(ir, IR_IMOD, 160);	/* 40 us, as Linux */
	rxu_mmio_write32(ir, IR_IMAN, IMAN_IE | IMAN_IP);

	setup_irq(hc);
	op_write(hc, XHCI_USBSTS, STS_EINT | STS_PCD | STS_HSE);
	op_write(hc, XHCI_USBCMD, CMD_RUN | CMD_INTE | CMD_HSEE);
	rc = wait_reg(hc, XHCI_USBSTS, STS_HCH, 0, 1000);
	if (rc)
		return hc_log(hc, "does not run"), rc;
	hc->dead = 0;
	hc_log(hc, "xHCI %x.%02x: %u ports, %u slots, %u interrupters, %u scratchpads, "
	       "%u-byte contexts, page %" PRIu64 ", interrupt: %s",
	       hc->hciversion >> 8, hc->hciversion & 0xff, hc->max_ports,
	       hc->max_slots, hc->max_intrs, hc->nscratch, hc->csz,
	       hc->pagesize, irq_names[hc->irq_mode]);
	return 0;
}

void hc_stop(struct xhc *hc)
{
	unsigned int p;

	/* No Disable Slot on the way out: the halt and the next start's
	 * reset end every slot, and a controller (or a pcid) that is going
	 * away would make each command wait for its time limit. */
	hc->dead = 1;
	for (p = 1; p <= hc->max_ports && p <= XHCID_MAX_PORTS; p++)
		if (hc->port[p].dev)
			xdev_detach(hc, p);
	if (hc->op) {
		op_write(hc, XHCI_USBCMD, op_read(hc, XHCI_USBCMD) &
			 ~(CMD_RUN | CMD_INTE));
		wait_reg(hc, XHCI_USBSTS, STS_HCH, STS_HCH, 100);
	}
	xevring_free(hc, &hc->ev);
	xring_free(hc, &hc->cmd);
	if (hc->scratch.va)
		rxu_pcidrv_dma_free(&hc->dev, &hc->scratch);
	if (hc->dcbaa.va)
		rxu_pcidrv_dma_free(&hc->dev, &hc->dcbaa);
}
