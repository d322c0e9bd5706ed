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
 * time, for ever.  A request is cut into pieces of RXU_NBD_PIECE bytes,
 * all submitted in one ENTER.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rxu.h"
#include "rxu-nbd.h"

/*
 * Bytes per PREAD/PWRITE SQE: the most the module moves in one scheme
 * round trip (256 KiB), so that a provider such as usbscsid, which runs
 * one device command per request, sees requests as large as it can get
 * (a piece of 128 KiB cost it twice the commands).
 */
#define RXU_NBD_PIECE		(256u * 1024)
/*
 * Pieces in flight at once.  Their sum must stay well inside the scheme
 * data region (1 MiB by default): a batch larger than the region was
 * seen to stall the ring for good.
 */
#define RXU_NBD_BATCH		2
#define RXU_NBD_MAX_REQ		(32u * 1024 * 1024)
#define RXU_NBD_ENTRIES		256

struct ring_file {
	struct rxu_instance in;
	int fd;		/* the file, opened through the ring */
};

static const char *prog = "rxu-nbd";

/* Submit one SQE and wait for its CQE: the result or -errno. */
static int64_t ring_call(struct ring_file *f, struct rxu_sqe64 *sqe)
{
	struct rxu_cqe64 cqe;
	int ret = rxu_queue_sqe(&f->in, sqe);

	if (!ret)
		ret = rxu_wait_cqe(&f->in, &cqe, 0);
	return ret ? ret : rxu_cqe_result(&cqe);
}

/*
 * Up to RXU_NBD_BATCH pieces of one request, submitted together: the
 * bytes moved (short at the first short piece) or -errno.
 */
static int64_t ring_io(struct ring_file *f, int write, void *buf,
		       uint64_t len, uint64_t off)
{
	uint64_t pieces = (len + RXU_NBD_PIECE - 1) / RXU_NBD_PIECE, i;
	int64_t results[RXU_NBD_BATCH];
	int64_t total = 0;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int ret;

	if (pieces > RXU_NBD_BATCH)
		pieces = RXU_NBD_BATCH;
	for (i = 0; i < pieces; i++)
		results[i] = -EIO;	/* a piece without an answer */
	for (i = 0; i < pieces; i++) {
		uint64_t at = i * RXU_NBD_PIECE;
		uint64_t n = len - at < RXU_NBD_PIECE ? len - at : RXU_NBD_PIECE;

		if (write)
			rxu_prep_pwrite(&sqe, f->fd, (uint8_t *)buf + at, n,
					off + at, i);
		else
			rxu_prep_pread(&sqe, f->fd, (uint8_t *)buf + at, n,
				       off + at, i);
		ret = rxu_queue_sqe(&f->in, &sqe);
		if (ret)
			return ret;	/* cannot happen: the SQ holds them */
	}
	for (i = 0; i < pieces; i++) {
		ret = rxu_wait_cqe(&f->in, &cqe, 0);
		if (ret)
			return ret;
		if (cqe.user_data < pieces)
			results[cqe.user_data] = rxu_cqe_result(&cqe);
	}
	for (i = 0; i < pieces; i++) {
		uint64_t at = i * RXU_NBD_PIECE;
		uint64_t n = len - at < RXU_NBD_PIECE ? len - at : RXU_NBD_PIECE;

		if (results[i] < 0)
			return total ? total : results[i];
		total += results[i];
		if ((uint64_t)results[i] < n)
			break;
	}
	return total;
}

static int64_t file_pread(void *ctx, void *buf, uint64_t len, uint64_t off)
{
	return ring_io(ctx, 0, buf, len, off);
}

static int64_t file_pwrite(void *ctx, const void *buf, uint64_t len,
			   uint64_t off)
{
	return ring_io(ctx, 1, (void *)buf, len, off);
}

static int file_flush(void *ctx)
{
	struct ring_file *f = ctx;
	struct rxu_sqe64 sqe;

	rxu_prep_fsync(&sqe, f->fd, 0, 0);
	return (int)ring_call(f, &sqe);
}

static const struct nbd_backend_ops file_ops = {
	.pread = file_pread,
	.pwrite = file_pwrite,
	.flush = file_flush,
};

static int file_open(struct ring_file *f, const char *path, int read_only,
		     uint64_t *size)
{
	struct rxu_sqe64 sqe;
	struct stat st;
	int64_t res;
	int ret;

	ret = rxu_setup(&f->in, RXU_NBD_ENTRIES, RXU_NBD_ENTRIES, 0);
	if (ret)
		return ret;
	rxu_prep_open(&sqe, path, strlen(path),
		      (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC, 0, 0);
	res = ring_call(f, &sqe);
	if (res < 0)
		return (int)res;
	f->fd = (int)res;
	rxu_prep_fstat(&sqe, f->fd, &st, sizeof(st), 0);
	res = ring_call(f, &sqe);
	if (res < 0)
		return (int)res;
	*size = (uint64_t)st.st_size;
	/* A block device has no st_size: ask it. */
	if (S_ISBLK(st.st_mode) && ioctl(f->fd, BLKGETSIZE64, size) < 0)
		return -errno;
	return 0;
}

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
	struct ring_file file = { .in = { .fd = -1 }, .fd = -1 };
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
	ret = file_open(&file, path, read_only, &e.size);
	if (ret) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(-ret));
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
	rxu_instance_close(&file.in);
	return 0;
}
