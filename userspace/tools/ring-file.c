// SPDX-License-Identifier: MIT
/*
 * ring-file.c: a file opened through a redox_uring ring (ring-file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "ring-file.h"

#define RING_FILE_ENTRIES	256

/*
 * The next CQE.  A wait cut short by a signal or by io_uring task work
 * (rxu-ublk's queue thread gets some whenever ublk_drv hands it a
 * request) says -EINTR with the SQEs still in flight: wait again, else
 * their CQEs would answer the next call.
 */
static int wait_cqe(struct ring_file *f, struct rxu_cqe64 *cqe)
{
	int ret;

	do
		ret = rxu_wait_cqe(&f->in, cqe, 0);
	while (ret == -EINTR);
	return ret;
}

/* Submit one SQE and wait for its CQE: the result or -errno. */
static int64_t ring_call(struct ring_file *f, struct rxu_sqe64 *sqe)
{
	struct rxu_cqe64 cqe;
	int ret = rxu_queue_sqe(&f->in, sqe);

	if (!ret)
		ret = wait_cqe(f, &cqe);
	return ret ? ret : rxu_cqe_result(&cqe);
}

/* The bytes of req that ring_file_io_batch() moves: at most MAX_IO. */
static uint64_t req_len(const struct ring_file_req *req)
{
	return req->len < RING_FILE_MAX_IO ? req->len : RING_FILE_MAX_IO;
}

/* Piece i of req as an SQE, user_data tag. */
static void prep_piece(struct rxu_sqe64 *sqe, struct ring_file *f,
		       const struct ring_file_req *req, uint64_t i,
		       uint64_t tag)
{
	uint64_t at = i * RING_FILE_PIECE;
	uint64_t n = req_len(req) - at;
	uint8_t *p = (uint8_t *)req->buf + at;

	if (n > RING_FILE_PIECE)
		n = RING_FILE_PIECE;
	if (req->write)
		rxu_prep_pwrite(sqe, f->fd, p, n, req->off + at, tag);
	else
		rxu_prep_pread(sqe, f->fd, p, n, req->off + at, tag);
}

/* A request's result from its pieces': up to the first short one. */
static int64_t req_result(const struct ring_file_req *req)
{
	uint64_t len = req_len(req), at;
	int64_t total = 0;
	unsigned int i;

	for (i = 0, at = 0; at < len; i++, at += RING_FILE_PIECE) {
		uint64_t n = len - at < RING_FILE_PIECE ? len - at : RING_FILE_PIECE;

		if (req->piece[i] < 0)
			return total ? total : req->piece[i];
		total += req->piece[i];
		if ((uint64_t)req->piece[i] < n)
			break;
	}
	return total;
}

int ring_file_io_batch(struct ring_file *f, struct ring_file_req *reqs,
		       unsigned int n)
{
	unsigned int r = 0, i = 0, busy = 0, k;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int ret;

	for (r = 0; r < n; r++)
		for (k = 0; k < RING_FILE_BATCH; k++)
			reqs[r].piece[k] = -EIO;	/* no answer */
	r = 0;
	for (;;) {
		/* the next pieces in, up to RING_FILE_BATCH in flight */
		while (busy < RING_FILE_BATCH) {
			while (r < n && (uint64_t)i * RING_FILE_PIECE >= req_len(&reqs[r])) {
				r++;
				i = 0;
			}
			if (r == n)
				break;
			prep_piece(&sqe, f, &reqs[r], i,
				   (uint64_t)r * RING_FILE_BATCH + i);
			ret = rxu_queue_sqe(&f->in, &sqe);
			if (ret)
				return ret;	/* cannot happen: the SQ holds them */
			busy++;
			i++;
		}
		if (!busy)
			break;
		ret = wait_cqe(f, &cqe);
		if (ret)
			return ret;
		busy--;
		if (cqe.user_data < (uint64_t)n * RING_FILE_BATCH)
			reqs[cqe.user_data / RING_FILE_BATCH]
				.piece[cqe.user_data % RING_FILE_BATCH] =
				rxu_cqe_result(&cqe);
	}
	for (r = 0; r < n; r++)
		reqs[r].result = req_result(&reqs[r]);
	return 0;
}

int64_t ring_file_io(struct ring_file *f, int write, void *buf, uint64_t len,
		     uint64_t off)
{
	struct ring_file_req req = {
		.write = write, .buf = buf, .len = len, .off = off,
	};
	int ret = ring_file_io_batch(f, &req, 1);

	return ret ? ret : req.result;
}

int ring_file_fsync(struct ring_file *f)
{
	struct rxu_sqe64 sqe;

	rxu_prep_fsync(&sqe, f->fd, 0, 0);
	return (int)ring_call(f, &sqe);
}

int ring_file_open(struct ring_file *f, const char *path, int read_only,
		   uint64_t *size)
{
	struct rxu_sqe64 sqe;
	struct stat st;
	int64_t res;
	int ret;

	f->failed = RING_FILE_NO_MODULE;
	ret = rxu_setup(&f->in, RING_FILE_ENTRIES, RING_FILE_ENTRIES, 0);
	if (ret)
		return ret;
	f->failed = path;
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

void ring_file_close(struct ring_file *f)
{
	rxu_instance_close(&f->in);
	f->fd = -1;
}
