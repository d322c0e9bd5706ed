/* SPDX-License-Identifier: MIT */
/* usb-list.h: `rxuctl usb`, the USB listing from `usb:` (usb-list.c). */
#ifndef RXU_TOOLS_USB_LIST_H
#define RXU_TOOLS_USB_LIST_H

/* argv[0] is "usb"; proc is the module's /proc file.  An exit status. */
int rxuctl_usb(int argc, char **argv, const char *proc);

#endif /* RXU_TOOLS_USB_LIST_H */
