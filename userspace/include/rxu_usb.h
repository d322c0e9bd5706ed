/* SPDX-License-Identifier: MIT */
/*
 * rxu_usb.h: the protocol of the `usb` schemes served by xhcid.
 *
 * xhcid drives one xHCI controller (through VFIO, given to it by pcid)
 * and serves the devices behind it, as Redox's xhcid did, two ways:
 *
 *  A. Paths, through any kernel ring or plain syscalls on the fds they
 *     give (ABI.md section 7): the listing, descriptors, state, control
 *     transfers on EP0, bulk and interrupt endpoints as files.
 *  B. A user-to-user ring (ATTACH "<scheme>:") with a buffer pool, for
 *     class drivers that want no copy through the kernel (usbscsid).
 *
 * -------------------------------------------------------------------
 * Scheme names
 * -------------------------------------------------------------------
 * xhcid always registers "usb.SSSS-BB-DD.F" (its controller's PCI
 * address with '-' for ':', since a scheme name cannot hold ':'), and
 * also tries "usb" (RXU_USB_SCHEME): the first controller to come up
 * serves "usb:", the name of each is stable.  `--scheme NAME` replaces
 * both with NAME.  Class drivers get theirs in RXU_USB_ENV_SCHEME.
 *
 * -------------------------------------------------------------------
 * Ports
 * -------------------------------------------------------------------
 * Text: "port<R>" for root port R, the xHCI port number (1-based, the
 * PORTSC index; USB 2 and USB 3 ports of one connector are two ports),
 * then ".<P>" per hub level for downstream port P of a hub: "port5",
 * "port5.1", "port5.1.3".  At most 5 hub levels (the route string).
 * Binary (u2u `fd` field): RXU_USB_PORT_ID(root, route), route = the
 * xHCI route string (4 bits per hub level, level 1 in bits 3:0).
 *
 * Speeds (text): "low" "full" "high" "super" "super+".
 * States (text):
 *   empty       nothing connected
 *   connected   connected, not (yet) addressed: reset or enumeration
 *               under way
 *   addressed   Address Device done, descriptors read, not configured
 *   configured  a configuration is set (its endpoints are files)
 *   error       enumeration failed (see xhcid's log); detach + attach
 *               tries again
 *
 * -------------------------------------------------------------------
 * Who may do what: tokens (as pcid's, see rxu_pci.h)
 * -------------------------------------------------------------------
 *  - DEVICE TOKEN: RXU_USB_TOKEN_LEN hex characters made afresh each
 *    time a device is enumerated, given only to the class drivers xhcid
 *    spawns for it (environment RXU_USB_ENV_TOKEN).  All rights on that
 *    device, none on others.  It dies with the device (detach).
 *  - ADMIN TOKEN: one per xhcid run, in a root-only file (xhcid
 *    --token-file, default /run/xhcid/<scheme>.token, mode 0600,
 *    removed on exit).  All rights on every device.
 *  - No token: the listing, a port's directory, `descriptors`,
 *    `strings`, `state` and `endpoints` (read-only).  Everything else
 *    (request, configure, ep files, u2u CLAIM) is EACCES.
 * On paths a token is the suffix "?token=<hex>" (RXU_USB_TOKEN_SUFFIX).
 *
 * -------------------------------------------------------------------
 * A. Paths (after "<scheme>:"; a leading '/' is ignored)
 * -------------------------------------------------------------------
 *  ""                    the listing, text, one line per root port and
 *                        per downstream port of every configured hub,
 *                        in port order:
 *     "port<ID> <STATE> <SPEED> <VVVV:PPPP> <CC/SS/PP> <DRIVER>\n"
 *                        vendor:product ids and the device descriptor's
 *                        class/subclass/protocol (hex); DRIVER = the
 *                        rule name of the class driver spawned for it
 *                        (several: comma-separated), "hub" for a hub
 *                        xhcid drives itself, "-" for none.  An empty
 *                        port: "port3 empty - - - -".
 *                        The text is made afresh by every read at
 *                        offset 0.  Readiness: the listing handle gets
 *                        an EVENT (RXU_EVENT_READ) on every attach,
 *                        detach or state change: FILES_UPDATE it, then
 *                        PREAD from 0.
 *  "port<ID>"            a device's directory, text: the names below
 *                        that exist now, one per line.
 *  "port<ID>/descriptors"  raw bytes: the device descriptor (18 bytes)
 *                        followed by every configuration descriptor with
 *                        all its interface, endpoint and class
 *                        descriptors (wTotalLength bytes each), in
 *                        configuration index order: the same bytes as
 *                        Linux's sysfs `descriptors` file of the device.
 *                        FSTAT st_size is the length.
 *  "port<ID>/strings"    text, "manufacturer=...\nproduct=...\n
 *                        serial=...\n" (UTF-8, from string descriptors
 *                        in the first language; a missing one is empty).
 *  "port<ID>/state"      text, one line:
 *     "<STATE> <SPEED> slot=<n> address=<n> config=<n>\n"
 *                        (config=0: not configured).
 *  "port<ID>/endpoints"  text, one line per endpoint of the current
 *                        configuration (alternate settings as set):
 *     "ep<AA> <TYPE> <DIR> mps=<n> interval=<n> interface=<n> <EPSTATE>\n"
 *                        AA = bEndpointAddress in hex (81 = EP 1 IN),
 *                        TYPE control|isoch|bulk|interrupt, DIR in|out,
 *                        EPSTATE running|halted|stopped|error|disabled.
 *  "port<ID>/request"    token: control transfers on EP0.  A WRITE of
 *                        struct rxu_usb_setup (8 bytes, as on the wire)
 *                        followed, for an OUT request, by exactly wLength
 *                        data bytes runs the transfer; it answers the
 *                        bytes written (8 + wLength).  For an IN request
 *                        (bmRequestType bit 7) the WRITE is the setup
 *                        alone; the data stage is kept in the handle and
 *                        the next READ returns it (at most the READ's
 *                        length; the actual length may be short), after
 *                        which it is gone (READ then gives 0).
 *                        Refused: fewer than 8 bytes, OUT data length
 *                        != wLength, data after an IN setup (EINVAL);
 *                        wLength > RXU_USB_CONTROL_MAX (EMSGSIZE);
 *                        SET_ADDRESS, SET_CONFIGURATION, SET_INTERFACE
 *                        (EPERM: xhcid owns them, use `configure`).
 *                        CLEAR_FEATURE(ENDPOINT_HALT) is honoured on
 *                        both sides: xhcid also resets its endpoint
 *                        (Reset Endpoint, Set TR Dequeue, data toggle),
 *                        as Linux's usbfs CLEAR_HALT does.
 *  "port<ID>/configure"  token: WRITE of ASCII decimal "C" or "C I A":
 *                        Configure Endpoint + SET_CONFIGURATION(C) (C =
 *                        bConfigurationValue), then optionally
 *                        SET_INTERFACE(I, A).  "0" unconfigures.
 *                        Answers the bytes written.  EINVAL malformed,
 *                        ENOENT no such configuration/interface/setting.
 *                        READ gives the current "C\n".
 *  "port<ID>/ep<AA>"     token: a bulk or interrupt endpoint of the
 *                        current configuration.  READ = one IN transfer
 *                        of the READ's length (a short packet ends it:
 *                        answers the bytes received), WRITE = one OUT
 *                        transfer.  The wrong direction is EBADF; a
 *                        length > RXU_USB_TRANSFER_MAX is EMSGSIZE.
 *                        Interrupt IN transfers wait for the device
 *                        without a time limit (a HID device reports on
 *                        change); all others time out (ETIMEDOUT) after
 *                        RXU_USB_TIMEOUT_MS.  Readiness: an interrupt IN
 *                        handle is always readable (a READ waits).
 *  anything else         ENOENT.
 * OPEN flags: access mode is not checked (direction is the endpoint's);
 * handles are always ready (an EVENT READ|WRITE follows each OPEN) but
 * for the listing, see above.  DUP gives a new handle on the same file.
 *
 * Errors (paths and u2u alike):
 *   ENOENT     no such port (beyond MaxPorts, or a hub port that does not
 *              exist), path, endpoint, configuration
 *   ENODEV     the port is empty, or the device this handle was opened on
 *              has been detached (every later op, and every transfer in
 *              flight, completes with ENODEV)
 *   EACCES     no token or a wrong one
 *   EBADF      the endpoint's direction does not allow the op
 *   EINVAL     malformed request (see above); u2u: nonzero reserved fields
 *   EMSGSIZE   transfer larger than the limits below
 *   EPERM      a control request xhcid must do itself
 *   EPIPE      the device stalled the transfer; xhcid has already reset
 *              its side of the endpoint and sent CLEAR_FEATURE(HALT) for
 *              bulk/interrupt endpoints, so a retry may work
 *   EPROTO     USB transaction error, babble, or another failed
 *              completion code
 *   ETIMEDOUT  the controller did not complete in time; xhcid stopped
 *              the endpoint (or reset the controller, if a command timed
 *              out) and re-enumerates as needed
 *   EFAULT     u2u: pool offset/length outside the pool
 *
 * -------------------------------------------------------------------
 * B. The u2u ring
 * -------------------------------------------------------------------
 * ATTACH "<scheme>:" (64-bit entries); DUP the instance with parameter
 * "pool" and map pool ranges (librxu pool.c).  xhcid maps each pool
 * range for DMA (VFIO_IOMMU_MAP_DMA), so transfers on this ring move
 * data between the device and the client's pool with no copy.
 * Common SQE fields: syscall_flags = RXU_USB_VERSION (else ENOSYS),
 * fd = RXU_USB_PORT_ID() of the device, flags = 0, additional2 = 0.
 * NOOP answers 0; other standard opcodes ENOSYS.
 *
 *  CLAIM (128)      addr = pool offset of the token, len =
 *                   RXU_USB_TOKEN_LEN.  This connection may then do
 *                   everything on that device (and only it).  Result 0.
 *  CONTROL (129)    offset = the setup packet as a little-endian u64
 *                   (RXU_USB_SETUP_U64()), addr = pool offset of the
 *                   data stage, len = wLength.  Result = bytes moved.
 *  TRANSFER (130)   offset = bEndpointAddress (direction in bit 7),
 *                   addr = pool offset, len = bytes (1 ..
 *                   RXU_USB_TRANSFER_MAX), additional1 = timeout in ms
 *                   (0: the default).  Result = bytes moved (short IN
 *                   transfers end early).
 *  CONFIGURE (131)  offset = config | interface << 8 | alternate << 16 |
 *                   RXU_USB_CONFIGURE_IFACE (bit 24: also SET_INTERFACE).
 *                   Result 0.
 *  CLEAR_HALT (132) offset = bEndpointAddress: reset the endpoint on the
 *                   host side and CLEAR_FEATURE(ENDPOINT_HALT) on the
 *                   device.  Result 0.
 * A detach completes everything in flight on that device with ENODEV.
 *
 * -------------------------------------------------------------------
 * Class drivers
 * -------------------------------------------------------------------
 * xhcid reads INI rules (libinih) from /etc/xhcid.d/ *.conf (or
 * --config): a section per rule, keys class, subclass, protocol (match
 * an interface; absent = any), vendor, product (match the device),
 * command (argv, with $SCHEME $PORT $INTERFACE $VENDOR $PRODUCT
 * substituted).  After enumeration xhcid configures configuration 1
 * (unless a rule says `configure = no`) and spawns one driver per
 * matching interface (alternate setting 0) with the environment below;
 * it kills them on detach.
 */
#ifndef RXU_USB_H
#define RXU_USB_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RXU_USB_VERSION		1	/* syscall_flags of every u2u SQE */
#define RXU_USB_SCHEME		"usb"	/* the first controller's name */

/* ---- ports ---- */
#define RXU_USB_PORT_ID(root, route)					\
	((uint32_t)(((uint32_t)(route) & 0xfffff) << 8 |		\
		    ((uint32_t)(root) & 0xff)))
#define RXU_USB_PORT_ROOT(id)	((uint32_t)(id) & 0xff)
#define RXU_USB_PORT_ROUTE(id)	(((uint32_t)(id) >> 8) & 0xfffff)
#define RXU_USB_MAX_HUB_DEPTH	5

#define RXU_USB_SPEED_NAMES	"low full high super super+"
#define RXU_USB_STATE_NAMES	"empty connected addressed configured error"

/* ---- tokens and the spawned class driver's environment ---- */
#define RXU_USB_TOKEN_LEN	32	/* hex characters, no NUL */
#define RXU_USB_TOKEN_SUFFIX	"?token="
#define RXU_USB_ENV_SCHEME	"XHCID_SCHEME"		/* e.g. "usb.0000-00-03.0" */
#define RXU_USB_ENV_PORT	"XHCID_PORT"		/* e.g. "port5.1" */
#define RXU_USB_ENV_INTERFACE	"XHCID_INTERFACE"	/* bInterfaceNumber, decimal */
#define RXU_USB_ENV_TOKEN	"XHCID_TOKEN"
#define RXU_USB_ENV_RULE	"XHCID_RULE"

/* ---- limits ---- */
#define RXU_USB_CONTROL_MAX	4096u		/* wLength, at most */
#define RXU_USB_TRANSFER_MAX	(1u << 20)	/* one bulk/interrupt transfer */
#define RXU_USB_TIMEOUT_MS	5000u		/* control, bulk, commands */

/* ---- control transfers ---- */
struct rxu_usb_setup {
	uint8_t bmRequestType;	/* bit 7: 1 = IN (device to host) */
	uint8_t bRequest;
	uint16_t wValue;	/* little-endian, as on the wire */
	uint16_t wIndex;
	uint16_t wLength;
};
_Static_assert(sizeof(struct rxu_usb_setup) == 8, "rxu_usb_setup is 8 bytes");

#define RXU_USB_DIR_IN		0x80u	/* bmRequestType / bEndpointAddress */
#define RXU_USB_SETUP_U64(type, req, value, index, length)		\
	((uint64_t)(uint8_t)(type) | (uint64_t)(uint8_t)(req) << 8 |	\
	 (uint64_t)(uint16_t)(value) << 16 |				\
	 (uint64_t)(uint16_t)(index) << 32 |				\
	 (uint64_t)(uint16_t)(length) << 48)

/* ---- u2u opcodes (RXU_OP_SCHEME_FIRST ..) ---- */
enum rxu_usb_opcode {
	RXU_USB_OP_CLAIM	= 128,
	RXU_USB_OP_CONTROL	= 129,
	RXU_USB_OP_TRANSFER	= 130,
	RXU_USB_OP_CONFIGURE	= 131,
	RXU_USB_OP_CLEAR_HALT	= 132,
};

#define RXU_USB_CONFIGURE_IFACE	(1u << 24)

#ifdef __cplusplus
}
#endif

#endif /* RXU_USB_H */
