/* SPDX-License-Identifier: MIT */
/*
 * xhci_regs.h - register, TRB and context layouts of an xHCI controller
 * (xHCI 1.x; offsets and bit positions only, no code).
 */
#ifndef XHCI_REGS_H
#define XHCI_REGS_H

#include <stdint.h>

/* ---- capability registers (BAR0) ---- */
#define XHCI_CAPLENGTH		0x00	/* 8 bit */
#define XHCI_HCIVERSION		0x02	/* 16 bit */
#define XHCI_HCSPARAMS1		0x04
#define XHCI_HCSPARAMS2		0x08
#define XHCI_HCSPARAMS3		0x0c
#define XHCI_HCCPARAMS1		0x10
#define XHCI_DBOFF		0x14
#define XHCI_RTSOFF		0x18
#define XHCI_HCCPARAMS2		0x1c

#define HCS1_MAX_SLOTS(v)	((v) & 0xff)
#define HCS1_MAX_INTRS(v)	(((v) >> 8) & 0x7ff)
#define HCS1_MAX_PORTS(v)	(((v) >> 24) & 0xff)
#define HCS2_ERST_MAX(v)	(((v) >> 4) & 0xf)
#define HCS2_SCRATCH(v)		((((v) >> 21) & 0x1f) << 5 | (((v) >> 27) & 0x1f))
#define HCC1_AC64		(1u << 0)
#define HCC1_CSZ		(1u << 2)
#define HCC1_XECP(v)		(((v) >> 16) & 0xffff)

/* ---- operational registers (BAR0 + CAPLENGTH) ---- */
#define XHCI_USBCMD		0x00
#define XHCI_USBSTS		0x04
#define XHCI_PAGESIZE		0x08
#define XHCI_DNCTRL		0x14
#define XHCI_CRCR		0x18	/* 64 bit */
#define XHCI_DCBAAP		0x30	/* 64 bit */
#define XHCI_CONFIG		0x38
#define XHCI_PORTSC(p)		(0x400 + 0x10 * ((p) - 1))	/* p 1-based */

#define CMD_RUN			(1u << 0)
#define CMD_HCRST		(1u << 1)
#define CMD_INTE		(1u << 2)
#define CMD_HSEE		(1u << 3)

#define STS_HCH			(1u << 0)
#define STS_HSE			(1u << 2)
#define STS_EINT		(1u << 3)
#define STS_PCD			(1u << 4)
#define STS_CNR			(1u << 11)
#define STS_HCE			(1u << 12)

#define CRCR_RCS		(1ull << 0)
#define CRCR_CS			(1ull << 1)
#define CRCR_CA			(1ull << 2)
#define CRCR_CRR		(1ull << 3)

/* PORTSC */
#define PORT_CCS		(1u << 0)
#define PORT_PED		(1u << 1)
#define PORT_OCA		(1u << 3)
#define PORT_PR			(1u << 4)
#define PORT_PLS(v)		(((v) >> 5) & 0xf)
#define PORT_PP			(1u << 9)
#define PORT_SPEED(v)		(((v) >> 10) & 0xf)
#define PORT_LWS		(1u << 16)
#define PORT_CSC		(1u << 17)
#define PORT_PEC		(1u << 18)
#define PORT_WRC		(1u << 19)
#define PORT_OCC		(1u << 20)
#define PORT_PRC		(1u << 21)
#define PORT_PLC		(1u << 22)
#define PORT_CEC		(1u << 23)
#define PORT_WPR		(1u << 31)
#define PORT_CHANGES		(PORT_CSC | PORT_PEC | PORT_WRC | PORT_OCC | \
				 PORT_PRC | PORT_PLC | PORT_CEC)
/* Bits a read-modify-write keeps: read-only and read-write ones. */
#define PORT_NEUTRAL		0x4e00ffe9u
#define PLS_U0			0
#define PLS_U3			3
#define PLS_DISABLED		4
#define PLS_RXDETECT		5
#define PLS_POLLING		7

/* ---- runtime registers (BAR0 + RTSOFF) ---- */
#define XHCI_IR(n)		(0x20 + 0x20 * (n))
#define IR_IMAN			0x00
#define IR_IMOD			0x04
#define IR_ERSTSZ		0x08
#define IR_ERSTBA		0x10	/* 64 bit */
#define IR_ERDP			0x18	/* 64 bit */
#define IMAN_IP			(1u << 0)
#define IMAN_IE			(1u << 1)
#define ERDP_EHB		(1ull << 3)

/* ---- extended capabilities ---- */
#define XECP_ID(v)		((v) & 0xff)
#define XECP_NEXT(v)		(((v) >> 8) & 0xff)
#define XECP_LEGACY		1
#define XECP_PROTOCOL		2
#define LEGACY_BIOS_OWNED	(1u << 16)
#define LEGACY_OS_OWNED		(1u << 24)
#define PROTO_MAJOR(v)		(((v) >> 24) & 0xff)
#define PROTO_PORT_OFF(v)	((v) & 0xff)
#define PROTO_PORT_CNT(v)	(((v) >> 8) & 0xff)
#define PROTO_PSIC(v)		(((v) >> 28) & 0xf)
#define PROTO_SLOT_TYPE(v)	((v) & 0x1f)
#define PSI_PSIV(v)		((v) & 0xf)
#define PSI_PSIE(v)		(((v) >> 4) & 0x3)
#define PSI_PSIM(v)		(((v) >> 16) & 0xffff)

/* ---- TRBs ---- */
struct xhci_trb {
	uint64_t param;
	uint32_t status;
	uint32_t control;
};
_Static_assert(sizeof(struct xhci_trb) == 16, "a TRB is 16 bytes");

#define TRB_CYCLE		(1u << 0)
#define TRB_TC			(1u << 1)	/* link: toggle cycle */
#define TRB_ENT			(1u << 1)
#define TRB_ISP			(1u << 2)
#define TRB_CH			(1u << 4)
#define TRB_IOC			(1u << 5)
#define TRB_IDT			(1u << 6)
#define TRB_BSR			(1u << 9)	/* Address Device */
#define TRB_DC			(1u << 9)	/* Configure Endpoint */
#define TRB_DIR_IN		(1u << 16)	/* Data and Status stages */
#define TRB_TYPE(t)		((uint32_t)(t) << 10)
#define TRB_GET_TYPE(c)		(((c) >> 10) & 0x3f)
#define TRB_SLOT(s)		((uint32_t)(s) << 24)
#define TRB_GET_SLOT(c)		(((c) >> 24) & 0xff)
#define TRB_EP(e)		((uint32_t)(e) << 16)
#define TRB_GET_EP(c)		(((c) >> 16) & 0x1f)
#define TRB_TRT(t)		((uint32_t)(t) << 16)	/* Setup: 0 none 2 out 3 in */
#define TRB_LEN(n)		((uint32_t)(n) & 0x1ffff)
#define TRB_TD_SIZE(n)		((uint32_t)((n) > 31 ? 31 : (n)) << 17)
#define TRB_CC(s)		(((s) >> 24) & 0xff)
#define TRB_RESIDUAL(s)		((s) & 0xffffff)

enum xhci_trb_type {
	TRB_NORMAL = 1, TRB_SETUP = 2, TRB_DATA = 3, TRB_STATUS = 4,
	TRB_LINK = 6, TRB_NOOP = 8,
	TRB_ENABLE_SLOT = 9, TRB_DISABLE_SLOT = 10, TRB_ADDRESS_DEV = 11,
	TRB_CONFIG_EP = 12, TRB_EVAL_CTX = 13, TRB_RESET_EP = 14,
	TRB_STOP_EP = 15, TRB_SET_DEQ = 16, TRB_RESET_DEV = 17,
	TRB_NOOP_CMD = 23,
	TRB_EV_TRANSFER = 32, TRB_EV_CMD = 33, TRB_EV_PORT = 34,
	TRB_EV_HC = 37,
};

enum xhci_cc {
	CC_INVALID = 0, CC_SUCCESS = 1, CC_DATA_BUFFER = 2, CC_BABBLE = 3,
	CC_TRANSACTION = 4, CC_TRB = 5, CC_STALL = 6, CC_RESOURCE = 7,
	CC_BANDWIDTH = 8, CC_NO_SLOTS = 9, CC_SLOT_NOT_ENABLED = 11,
	CC_EP_NOT_ENABLED = 12, CC_SHORT_PACKET = 13, CC_PARAMETER = 17,
	CC_CONTEXT_STATE = 19, CC_CMD_RING_STOPPED = 24, CC_CMD_ABORTED = 25,
	CC_STOPPED = 26, CC_STOPPED_LEN = 27, CC_STOPPED_SHORT = 28,
};

/* ---- contexts (32 bytes each, or 64 with HCCPARAMS1.CSZ) ---- */
/* slot context */
#define SLOT_ROUTE(r)		((uint32_t)(r) & 0xfffff)
#define SLOT_SPEED(s)		((uint32_t)(s) << 20)
#define SLOT_MTT		(1u << 25)
#define SLOT_HUB		(1u << 26)
#define SLOT_ENTRIES(n)		((uint32_t)(n) << 27)
#define SLOT_GET_ENTRIES(v)	(((v) >> 27) & 0x1f)
#define SLOT_ROOT_PORT(p)	((uint32_t)(p) << 16)
#define SLOT_NPORTS(n)		((uint32_t)(n) << 24)
#define SLOT_TT_SLOT(s)		((uint32_t)(s) & 0xff)
#define SLOT_TT_PORT(p)		((uint32_t)(p) << 8)
#define SLOT_TTT(t)		((uint32_t)(t) << 16)
#define SLOT_ADDRESS(v)		((v) & 0xff)
#define SLOT_STATE(v)		(((v) >> 27) & 0x1f)
/* endpoint context */
#define EP_STATE(v)		((v) & 0x7)
#define EP_INTERVAL(i)		((uint32_t)(i) << 16)
#define EP_CERR(n)		((uint32_t)(n) << 1)
#define EP_TYPE(t)		((uint32_t)(t) << 3)
#define EP_MAX_BURST(b)		((uint32_t)(b) << 8)
#define EP_MPS(m)		((uint32_t)(m) << 16)
#define EP_AVG_TRB(n)		((uint32_t)(n) & 0xffff)
#define EP_MAX_ESIT_LO(n)	((uint32_t)(n) << 16)
#define EP_DCS			1ull

enum xhci_ep_type {
	EPT_ISOCH_OUT = 1, EPT_BULK_OUT = 2, EPT_INTR_OUT = 3, EPT_CONTROL = 4,
	EPT_ISOCH_IN = 5, EPT_BULK_IN = 6, EPT_INTR_IN = 7,
};

enum xhci_ep_state {
	EPS_DISABLED = 0, EPS_RUNNING = 1, EPS_HALTED = 2, EPS_STOPPED = 3,
	EPS_ERROR = 4,
};

/* Default protocol speed IDs (PORTSC Speed, slot context Speed). */
enum xhci_speed {
	XSPEED_FULL = 1, XSPEED_LOW = 2, XSPEED_HIGH = 3, XSPEED_SUPER = 4,
	XSPEED_SUPER_PLUS = 5,
};

#endif /* XHCI_REGS_H */
