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

int64_t ring_file_io(struct ring_file *f, int write, void *buf, uint64_t len,
		     uint64_t off)
{
	uint64_t pieces = (len + RING_FILE_PIECE - 1) / RING_FILE_PIECE, i;
	int64_t results[RING_FILE_BATCH];
	int64_t total = 0;
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int ret;

	if (pieces > RING_FILE_BATCH)
		pieces = RING_FILE_BATCH;
	for (i = 0; i < pieces; i++)
		results[i] = -EIO;	/* a piece without an answer */
	for (i = 0; i < pieces; i++) {
		uint64_t at = i * RING_FILE_PIECE;
		uint64_t n = len - at < RING_FILE_PIECE ? len - at : RING_FILE_PIECE;

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
		ret = wait_cqe(f, &cqe);
		if (ret)
			return ret;
		if (cqe.user_data < pieces)
			results[cqe.user_data] = rxu_cqe_result(&cqe);
	}
	for (i = 0; i < pieces; i++) {
		uint64_t at = i * RING_FILE_PIECE;
		uint64_t n = len - at < RING_FILE_PIECE ? len - at : RING_FILE_PIECE;

		if (results[i] < 0)
			return total ? total : results[i];
		total += results[i];
		if ((uint64_t)results[i] < n)
			break;
	}
	return total;
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
