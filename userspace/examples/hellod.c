// SPDX-License-Identifier: MIT
/* hellod: serves hello: (one read-only file) with librxu's rxu_scheme. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "rxu_scheme.h"

static const char msg[] = "Hello from the hello: scheme!\n";

static int64_t hello_open(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
			  const char *path, size_t len, uint64_t flags, uint32_t mode)
{
	(void)req, (void)h, (void)path, (void)mode;
	if (len)				/* only "hello:" itself exists */
		return -ENOENT;
	return (flags & O_ACCMODE) == O_RDONLY ? 0 : -EACCES;
}

static int64_t hello_read(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
			  void *buf, uint64_t len, uint64_t off)
{
	(void)req, (void)h;
	return rxu_scheme_copy_out(buf, len, off, msg, sizeof(msg) - 1);
}

static const struct rxu_scheme_ops hello_ops = { .open = hello_open, .read = hello_read };

int main(void)
{
	struct rxu_instance ring;
	struct rxu_reactor *r;
	struct rxu_scheme *s;
	int ret = rxu_setup(&ring, 64, 256, 0);	/* our own kernel ring */

	if (!ret)
		ret = rxu_reactor_create(&r, &ring, 256);
	if (!ret)
		ret = rxu_scheme_register(&s, r, "hello", NULL, &hello_ops, NULL);
	if (ret) {
		fprintf(stderr, "hellod: %s\n", strerror(-ret));
		return 1;
	}
	printf("hellod: serving hello:\n");
	fflush(stdout);
	return rxu_reactor_run(r) ? 1 : 0;	/* until killed */
}
