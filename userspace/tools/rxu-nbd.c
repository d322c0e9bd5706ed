// SPDX-License-Identifier: MIT
/*
 * rxu-nbd: serve a file as an NBD export on a UNIX socket, doing every
 * operation on the file through a redox_uring kernel ring: OPEN, FSTAT,
 * PREAD, PWRITE, FSYNC.  Any path the ring opens works, so a scheme
 * path (disk:..., mem:...) becomes a Linux block device:
 *
 *   rxu-nbd [-r] [-1] [-n NAME] SOCKET PATH &
 *   nbd-client -unix SOCKET /dev/nbd0 -b 4096 [-N NAME]
 *   mkfs.ext4 /dev/nbd0; mount /dev/nbd0 /mnt ...
 *   nbd-client -d /dev/nbd0
 *
 * -r serves it read-only (opened O_RDONLY, NBD_FLAG_READ_ONLY); -1 ends
 * after the first connection; otherwise connections are served one at a
 * time, for ever.  A request is cut into pieces of RING_FILE_PIECE bytes,
 * RING_FILE_BATCH submitted in one ENTER (ring-file.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ring-file.h"
#include "rxu-nbd.h"

/* The largest request accepted; each is moved RING_FILE_MAX_IO at a time. */
#define RXU_NBD_MAX_REQ		(32u * 1024 * 1024)

static const char *prog = "rxu-nbd";

static int64_t file_pread(void *ctx, void *buf, uint64_t len, uint64_t off)
{
	return ring_file_io(ctx, 0, buf, len, off);
}

static int64_t file_pwrite(void *ctx, const void *buf, uint64_t len,
			   uint64_t off)
{
	return ring_file_io(ctx, 1, (void *)buf, len, off);
}

static int file_flush(void *ctx)
{
	return ring_file_fsync(ctx);
}

static const struct nbd_backend_ops file_ops = {
	.pread = file_pread,
	.pwrite = file_pwrite,
	.flush = file_flush,
};

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	unlink(path);	/* a socket left by an earlier run */
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s, 4) < 0) {
		int err = -errno;

		close(s);
		return err;
	}
	return s;
}

static void usage(void)
{
	fprintf(stderr, "usage: %s [-r] [-1] [-n NAME] SOCKET PATH\n"
		"serve PATH (opened through a redox_uring ring) as an NBD export\n"
		"on the UNIX socket SOCKET; connect with\n"
		"  nbd-client -unix SOCKET /dev/nbd0 -b 4096 [-N NAME]\n"
		"  -r  read-only   -1  one connection, then exit\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct ring_file file = RING_FILE_INIT;
	struct nbd_export e = { .name = "", .ops = &file_ops, .ctx = &file };
	int read_only = 0, once = 0, opt, ls, ret;
	const char *sock_path, *path;

	while ((opt = getopt(argc, argv, "r1n:h")) != -1) {
		switch (opt) {
		case 'r':
			read_only = 1;
			break;
		case '1':
			once = 1;
			break;
		case 'n':
			e.name = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	sock_path = argv[optind];
	path = argv[optind + 1];
	signal(SIGPIPE, SIG_IGN);
	ret = ring_file_open(&file, path, read_only, &e.size);
	if (ret) {
		fprintf(stderr, "%s: %s: %s\n", prog, file.failed, strerror(-ret));
		return 1;
	}
	e.read_only = read_only;
	e.buf_size = RXU_NBD_MAX_REQ;
	e.buf = malloc(e.buf_size);
	ls = listen_on(sock_path);
	if (!e.buf || ls < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, sock_path,
			strerror(e.buf ? -ls : ENOMEM));
		return 1;
	}
	fprintf(stderr, "%s: serving %s (%llu bytes%s) on %s\n", prog, path,
		(unsigned long long)e.size, read_only ? ", read-only" : "",
		sock_path);
	do {
		struct nbd_stats st;
		int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: accept: %s\n", prog, strerror(errno));
			return 1;
		}
		ret = nbd_handshake(c, &e);
		if (!ret) {
			ret = nbd_transmit(c, &e, &st);
			fprintf(stderr, "%s: disconnected: %llu reads (%llu bytes), %llu writes (%llu bytes), %llu flushes, %llu errors%s%s\n",
				prog, (unsigned long long)st.reads,
				(unsigned long long)st.bytes_read,
				(unsigned long long)st.writes,
				(unsigned long long)st.bytes_written,
				(unsigned long long)st.flushes,
				(unsigned long long)st.errors,
				ret ? ": " : "", ret ? strerror(-ret) : "");
		} else if (ret != -ECONNABORTED) {
			fprintf(stderr, "%s: handshake: %s\n", prog,
				strerror(-ret));
		}
		close(c);
	} while (!once);
	close(ls);
	unlink(sock_path);
	free(e.buf);
	ring_file_close(&file);
	return 0;
}
