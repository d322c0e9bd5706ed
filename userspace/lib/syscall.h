/* SPDX-License-Identifier: MIT */
/*
 * The one system call on librxu's hot path (ENTER), made without touching
 * errno: on x86-64 the trap is issued directly, as liburing does per
 * architecture, which also skips libc's errno bookkeeping; elsewhere the
 * libc wrapper, with errno put back as it was.  Returns the result or
 * -errno.
 */
#ifndef RXU_SYSCALL_H
#define RXU_SYSCALL_H

#include <errno.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

static inline long rxu_sys_ioctl(int fd, unsigned long cmd, void *arg)
{
#if defined(__x86_64__)
	long ret;

	/* The kernel clobbers rcx and r11; arg points at memory it reads. */
	__asm__ volatile ("syscall"
			  : "=a" (ret)
			  : "0" ((long)SYS_ioctl), "D" ((long)fd), "S" (cmd),
			    "d" (arg)
			  : "rcx", "r11", "memory");
	return ret;
#else
	int saved = errno;
	long ret = ioctl(fd, cmd, arg);

	if (ret < 0) {
		ret = -errno;
		errno = saved;
	}
	return ret;
#endif
}

#endif /* RXU_SYSCALL_H */
