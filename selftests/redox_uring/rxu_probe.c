// SPDX-License-Identifier: GPL-2.0
/*
 * rxu_probe: small helper for params.sh, so that a shell script can see
 * errno values and hold instances open.
 *
 *   rxu_probe open                 open the device; print OK or the errno name
 *   rxu_probe create SQ CQ         open + write a create info; OK or errno name
 *   rxu_probe hold                 open, create, map, attach "io_uring:",
 *                                  print READY, wait for EOF on stdin, exit
 *   rxu_probe hold-mapped          open, create, map, CLOSE the fd, print
 *                                  READY, wait for EOF on stdin, unmap, exit
 *
 * Exit status: 0 when the command ran (whatever it printed), 2 on usage
 * errors, 1 when hold/hold-mapped could not set up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rxu_test.h"

static void print_result(int err)
{
	const char *name;

	if (!err) {
		puts("OK");
		return;
	}
	name = strerrorname_np(-err);
	if (name)
		puts(name);
	else
		printf("E%d\n", -err);
}

static void wait_eof(void)
{
	char c;

	while (read(0, &c, 1) > 0)
		;
}

static int hold(int keep_fd)
{
	struct rxt t = RXT_INIT;
	int err = rxt_open_create(&t, 8, 8, 0);

	if (!err)
		err = rxt_map_all(&t);
	if (!err && keep_fd)
		err = rxt_attach_kernel(t.fd);
	if (err) {
		printf("FAIL ");
		print_result(err);
		fflush(stdout);
		rxt_destroy(&t);
		return 1;
	}
	if (!keep_fd)
		rxt_close_fd(&t);
	puts("READY");
	fflush(stdout);
	wait_eof();
	rxt_destroy(&t);
	return 0;
}

int main(int argc, char **argv)
{
	int fd;
	ssize_t r;

	if (argc == 2 && !strcmp(argv[1], "open")) {
		fd = rxt_dev_open();
		print_result(fd < 0 ? fd : 0);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "create")) {
		fd = rxt_dev_open();
		if (fd < 0) {
			print_result(fd);
			return 0;
		}
		r = rxt_create(fd, strtoull(argv[2], NULL, 0),
			       strtoull(argv[3], NULL, 0), 0);
		print_result(r < 0 ? (int)r : r == 32 ? 0 : -EPROTO);
		close(fd);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "hold"))
		return hold(1);
	if (argc == 2 && !strcmp(argv[1], "hold-mapped"))
		return hold(0);
	fprintf(stderr, "usage: %s open | create SQ CQ | hold | hold-mapped\n",
		argv[0]);
	return 2;
}
