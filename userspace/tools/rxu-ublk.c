// SPDX-License-Identifier: MIT
/*
 * rxu-ublk: serve a file as a Linux block device through ublk_drv, doing
 * every operation on the file through a redox_uring kernel ring (OPEN,
 * FSTAT, PREAD, PWRITE, FSYNC; ring-file.c), as rxu-nbd does over NBD but
 * without a socket between the kernel and us:
 *
 *   modprobe ublk_drv
 *   rxu-ublk [-r] PATH &        prints /dev/ublkbN once it is there
 *   mkfs.ext4 /dev/ublkbN; mount /dev/ublkbN /mnt ...
 *   kill %1                     SIGTERM/SIGINT: the device goes, exit 0
 *
 * -r serves it read-only (opened O_RDONLY, UBLK_ATTR_READ_ONLY).
 *
 * The ublk protocol (linux/ublk_cmd.h, legacy opcodes): the control
 * commands go to /dev/ublk-control as IORING_OP_URING_CMD in 128-byte
 * SQEs (ADD_DEV, SET_PARAMS, START_DEV, STOP_DEV, DEL_DEV); the device's
 * queue 0 is served by one thread, on an io_uring of its own, which
 * issues UBLK_IO_FETCH_REQ for each of the QUEUE_DEPTH tags on
 * /dev/ublkcN.  A fetch completes when the kernel has a request for that
 * tag: its descriptor (op, sectors) is in the array mmap'd from
 * /dev/ublkcN, the data of a WRITE already in the tag's buffer.  The
 * answer (bytes done or -errno, a READ's data in the buffer) goes back
 * with UBLK_IO_COMMIT_AND_FETCH_REQ, which also waits for the next one.
 * START_DEV returns only once every tag has been fetched.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/ublk_cmd.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ring-file.h"

#define QUEUE_DEPTH	32
/* One request: what one ring_file_io() moves (512 KiB). */
#define MAX_IO		RING_FILE_MAX_IO
#define SECTOR_SHIFT	9
#define CONTROL		"/dev/ublk-control"
/* user_data of the queue ring: a tag, or the stop request. */
#define STOP_TAG	(~0ULL)

struct ublk {
	struct ring_file file;
	uint64_t size;
	int read_only;
	struct io_uring ctrl;		/* SQE128, on ctrl_fd */
	int ctrl_fd;
	struct ublksrv_ctrl_dev_info info;
	int cdev_fd;			/* /dev/ublkcN */
	const struct ublksrv_io_desc *descs;	/* mmap'd, QUEUE_DEPTH */
	size_t descs_len;
	void *bufs[QUEUE_DEPTH];
	/* the queue thread */
	pthread_t queue;
	sem_t ready;			/* posted once the tags are fetched */
	int stop_fd;			/* eventfd: written to stop it */
	int queue_err;			/* why it ended (0: asked to) */
	uint64_t reads, writes, flushes, errors;
	uint64_t batches;		/* reaps that served more than one */
	/* the requests of one reap, in the order their fetches ended */
	unsigned int tags[QUEUE_DEPTH];
	struct ring_file_req reqs[QUEUE_DEPTH];
};

static const char *prog = "rxu-ublk";

/* --- control commands --------------------------------------------- */

/* One command on /dev/ublk-control: its result (>= 0) or -errno. */
static int ctrl_cmd(struct ublk *u, uint32_t op, void *buf, uint16_t len,
		    uint64_t data0)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ctrl);
	struct ublksrv_ctrl_cmd *cmd;
	struct io_uring_cqe *cqe;
	int ret;

	if (!sqe)
		return -EBUSY;	/* cannot happen: one at a time */
	memset(sqe, 0, 2 * sizeof(*sqe));	/* an SQE128 */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = u->ctrl_fd;
	sqe->cmd_op = op;
	cmd = (struct ublksrv_ctrl_cmd *)sqe->cmd;
	cmd->dev_id = u->info.dev_id;
	cmd->queue_id = (uint16_t)-1;
	cmd->addr = (uint64_t)(uintptr_t)buf;
	cmd->len = len;
	cmd->data[0] = data0;
	ret = io_uring_submit_and_wait(&u->ctrl, 1);
	if (ret < 0)
		return ret;
	ret = io_uring_wait_cqe(&u->ctrl, &cqe);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(&u->ctrl, cqe);
	return ret;
}

/* ADD_DEV: a new device (its number chosen by the kernel) in u->info. */
static int add_dev(struct ublk *u)
{
	u->info = (struct ublksrv_ctrl_dev_info) {
		.nr_hw_queues = 1,
		.queue_depth = QUEUE_DEPTH,
		.max_io_buf_bytes = MAX_IO,
		.dev_id = (uint32_t)-1,
		.ublksrv_pid = getpid(),
	};
	return ctrl_cmd(u, UBLK_CMD_ADD_DEV, &u->info, sizeof(u->info), 0);
}

/*
 * SET_PARAMS: the size, 512-byte sectors (4 KiB physical), requests of
 * at most MAX_IO, a volatile cache (so that Linux sends FLUSH), read-only
 * with -r.  No discard: the kernel sends only READ, WRITE and FLUSH.
 */
static int set_params(struct ublk *u)
{
	struct ublk_params p = {
		.len = sizeof(p),
		.types = UBLK_PARAM_TYPE_BASIC,
		.basic = {
			.attrs = UBLK_ATTR_VOLATILE_CACHE |
				 (u->read_only ? UBLK_ATTR_READ_ONLY : 0),
			.logical_bs_shift = SECTOR_SHIFT,
			.physical_bs_shift = 12,
			.io_opt_shift = 12,
			.io_min_shift = SECTOR_SHIFT,
			.max_sectors = MAX_IO >> SECTOR_SHIFT,
			.dev_sectors = u->size >> SECTOR_SHIFT,
		},
	};

	return ctrl_cmd(u, UBLK_CMD_SET_PARAMS, &p, sizeof(p), 0);
}

/* --- the queue ------------------------------------------------------ */

/* All of a request's bytes through the ring: len, or -errno. */
static int file_rw(struct ublk *u, int write, void *buf, uint64_t len,
		   uint64_t off)
{
	uint64_t done = 0;

	while (done < len) {
		int64_t n = ring_file_io(&u->file, write, (uint8_t *)buf + done,
					 len - done, off + done);

		if (n < 0)
			return (int)n;
		if (!n)
			return -EIO;	/* the file ends before the device */
		done += (uint64_t)n;
	}
	return (int)len;
}

/* A result to commit: ENOSPC, any other error is EIO; counted, logged. */
static int result_of(struct ublk *u, const struct ublksrv_io_desc *iod,
		     int ret)
{
	if (ret >= 0)
		return ret;
	if (u->errors++ < 20)
		fprintf(stderr, "%s: op %u at %llu, %llu bytes: %s\n", prog,
			ublksrv_get_op(iod),
			(unsigned long long)iod->start_sector << SECTOR_SHIFT,
			(unsigned long long)iod->nr_sectors << SECTOR_SHIFT,
			strerror(-ret));
	/* Anything else (-ENODEV, -EAGAIN...) means more to the block layer. */
	return ret == -ENOSPC ? ret : -EIO;
}

/* A batched READ or WRITE finished: len, or -errno. */
static int64_t finish(struct ublk *u, const struct ring_file_req *req)
{
	int64_t done = req->result;

	if (done < 0)
		return done;
	if (!done)
		return -EIO;	/* the file ends before the device */
	if ((uint64_t)done < req->len) {	/* short: the rest on its own */
		int rest = file_rw(u, req->write, (uint8_t *)req->buf + done,
				   req->len - (uint64_t)done,
				   req->off + (uint64_t)done);

		if (rest < 0)
			return rest;
	}
	return (int64_t)req->len;
}

/*
 * The n requests of one reap (u->tags), their results to commit in
 * results[]: every READ and WRITE through one ring_file_io_batch(), so
 * that the pieces of one request follow those of the one before with no
 * gap (usbscsid below serves one at a time either way), then the
 * FLUSHes, after the batch's writes.
 */
static void serve(struct ublk *u, unsigned int n, int *results)
{
	int slot[QUEUE_DEPTH];	/* each tag's place in u->reqs, or -1 */
	unsigned int i, nreq = 0;
	int ret = 0;

	for (i = 0; i < n; i++) {
		const struct ublksrv_io_desc *iod = &u->descs[u->tags[i]];
		uint64_t len = (uint64_t)iod->nr_sectors << SECTOR_SHIFT;
		unsigned int op = ublksrv_get_op(iod);

		slot[i] = -1;
		results[i] = 0;
		if (op == UBLK_IO_OP_READ) {
			u->reads++;
		} else if (op == UBLK_IO_OP_WRITE) {
			u->writes++;
		} else {
			if (op != UBLK_IO_OP_FLUSH)
				results[i] = -EOPNOTSUPP;
			continue;
		}
		if (len > MAX_IO) {
			results[i] = result_of(u, iod, -EINVAL);
			continue;
		}
		slot[i] = (int)nreq;
		u->reqs[nreq++] = (struct ring_file_req) {
			.write = op == UBLK_IO_OP_WRITE,
			.buf = u->bufs[u->tags[i]],
			.len = len,
			.off = iod->start_sector << SECTOR_SHIFT,
		};
	}
	if (nreq)
		ret = ring_file_io_batch(&u->file, u->reqs, nreq);
	for (i = 0; i < n; i++) {
		const struct ublksrv_io_desc *iod = &u->descs[u->tags[i]];

		if (slot[i] >= 0) {
			results[i] = result_of(u, iod, ret ? ret :
					       (int)finish(u, &u->reqs[slot[i]]));
		} else if (ublksrv_get_op(iod) == UBLK_IO_OP_FLUSH) {
			u->flushes++;
			results[i] = result_of(u, iod, ring_file_fsync(&u->file));
		}
	}
	if (n > 1)
		u->batches++;
}

/*
 * Queue FETCH_REQ or COMMIT_AND_FETCH_REQ (with result) for tag; -EBUSY
 * cannot happen, the ring holds every tag and the stop request.
 */
static int queue_io_cmd(struct ublk *u, struct io_uring *q, uint32_t op,
			unsigned int tag, int result)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(q);
	struct ublksrv_io_cmd *cmd;

	if (!sqe)
		return -EBUSY;
	memset(sqe, 0, sizeof(*sqe));
	cmd = (struct ublksrv_io_cmd *)sqe->cmd;
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = u->cdev_fd;
	sqe->cmd_op = op;
	sqe->user_data = tag;
	cmd->q_id = 0;
	cmd->tag = (uint16_t)tag;
	cmd->result = result;
	cmd->addr = (uint64_t)(uintptr_t)u->bufs[tag];
	return 0;
}

/*
 * Serve until stop_fd is written (queue_err 0) or every tag has been
 * aborted by the kernel or the ring fails (queue_err -errno; the main
 * thread is told with SIGUSR1).
 */
static int queue_loop(struct ublk *u, struct io_uring *q)
{
	unsigned int tag, live = QUEUE_DEPTH;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	uint64_t stop;
	int ret;

	ret = 0;
	for (tag = 0; tag < QUEUE_DEPTH && !ret; tag++)
		ret = queue_io_cmd(u, q, UBLK_IO_FETCH_REQ, tag, 0);
	sqe = io_uring_get_sqe(q);
	if (!ret && sqe) {
		io_uring_prep_read(sqe, u->stop_fd, &stop, sizeof(stop), 0);
		sqe->user_data = STOP_TAG;
		ret = io_uring_submit(q);
	} else if (!ret) {
		ret = -EBUSY;
	}
	u->queue_err = ret < 0 ? ret : 0;
	sem_post(&u->ready);
	if (ret < 0)
		return ret;
	for (;;) {
		unsigned int head, seen = 0, n = 0, i;
		int results[QUEUE_DEPTH];

		ret = io_uring_wait_cqe(q, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret)
			return ret;
		/* every request fetched by now, served together */
		io_uring_for_each_cqe(q, head, cqe) {
			seen++;
			if (cqe->user_data == STOP_TAG)
				return 0;
			tag = (unsigned int)cqe->user_data;
			if (cqe->res == UBLK_IO_RES_OK && tag < QUEUE_DEPTH &&
			    n < QUEUE_DEPTH) {
				u->tags[n++] = tag;
			} else {
				/* UBLK_IO_RES_ABORT: the device is going */
				if (cqe->res != UBLK_IO_RES_ABORT)
					fprintf(stderr, "%s: tag %u: %s\n",
						prog, tag, strerror(-cqe->res));
				if (!--live)
					return -ENODEV;
			}
		}
		io_uring_cq_advance(q, seen);
		serve(u, n, results);
		for (i = 0; i < n; i++) {
			ret = queue_io_cmd(u, q, UBLK_IO_COMMIT_AND_FETCH_REQ,
					   u->tags[i], results[i]);
			if (ret)
				return ret;
		}
		ret = io_uring_submit(q);
		if (ret < 0)
			return ret;
	}
}

static void *queue_main(void *arg)
{
	struct ublk *u = arg;
	struct io_uring q;
	int ret;

	ret = io_uring_queue_init(2 * QUEUE_DEPTH, &q, 0);
	if (ret) {
		u->queue_err = ret;
		sem_post(&u->ready);
		return NULL;
	}
	ret = queue_loop(u, &q);
	io_uring_queue_exit(&q);	/* cancels the fetches left */
	if (ret) {
		u->queue_err = ret;
		kill(getpid(), SIGUSR1);
	}
	return NULL;
}

/* --- the device ------------------------------------------------------ */

/* open() of a device node, waiting up to 5 s for it to appear. */
static int open_node(const char *path, int flags)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int i, fd;

	for (i = 0; i < 500; i++) {
		fd = open(path, flags | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			break;
		nanosleep(&tick, NULL);
	}
	return fd < 0 ? -errno : fd;
}

/* /dev/ublkcN opened, its descriptors mapped, a buffer per tag. */
static int open_queue(struct ublk *u)
{
	long page = sysconf(_SC_PAGESIZE);
	char path[64];
	void *p;
	int i;

	snprintf(path, sizeof(path), "/dev/ublkc%u", u->info.dev_id);
	u->cdev_fd = open_node(path, O_RDWR);
	if (u->cdev_fd < 0)
		return u->cdev_fd;
	u->descs_len = (QUEUE_DEPTH * sizeof(struct ublksrv_io_desc) +
			(size_t)page - 1) & ~((size_t)page - 1);
	p = mmap(NULL, u->descs_len, PROT_READ, MAP_SHARED | MAP_POPULATE,
		 u->cdev_fd, UBLKSRV_CMD_BUF_OFFSET);
	if (p == MAP_FAILED)
		return -errno;
	u->descs = p;
	for (i = 0; i < QUEUE_DEPTH; i++) {
		if (posix_memalign(&u->bufs[i], (size_t)page, MAX_IO))
			return -ENOMEM;
	}
	return 0;
}

static void close_queue(struct ublk *u)
{
	int i;

	for (i = 0; i < QUEUE_DEPTH; i++)
		free(u->bufs[i]);
	if (u->descs)
		munmap((void *)u->descs, u->descs_len);
	if (u->cdev_fd >= 0)
		close(u->cdev_fd);
	u->descs = NULL;
	u->cdev_fd = -1;
}

/* The queue thread started; 0 once every tag is fetched, or -errno. */
static int start_queue(struct ublk *u)
{
	int ret;

	u->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (u->stop_fd < 0 || sem_init(&u->ready, 0, 0))
		return -errno;
	ret = pthread_create(&u->queue, NULL, queue_main, u);
	if (ret)
		return -ret;
	while (sem_wait(&u->ready) && errno == EINTR)
		;
	if (u->queue_err) {
		pthread_join(u->queue, NULL);
		return u->queue_err;
	}
	return 0;
}

static void stop_queue(struct ublk *u)
{
	uint64_t one = 1;

	if (write(u->stop_fd, &one, sizeof(one)) != sizeof(one))
		perror("rxu-ublk: eventfd");
	pthread_join(u->queue, NULL);
}

static void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-err));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: %s [-r] PATH\n"
		"serve PATH (opened through a redox_uring ring) as the ublk block\n"
		"device /dev/ublkbN (printed on stdout) until SIGTERM or SIGINT\n"
		"  -r  read-only\n", prog);
	exit(2);
}

/*
 * From SET_PARAMS to STOP_DEV: the device served until SIGTERM or SIGINT
 * (0), or until the queue ends or a step fails (-errno).
 */
static int run(struct ublk *u, const char *path, sigset_t *sigs)
{
	int sig, ret;

	ret = set_params(u);
	if (ret < 0) {
		fprintf(stderr, "%s: UBLK_CMD_SET_PARAMS: %s\n", prog, strerror(-ret));
		return ret;
	}
	ret = open_queue(u);
	if (ret < 0) {
		fprintf(stderr, "%s: /dev/ublkc%u: %s\n", prog, u->info.dev_id,
			strerror(-ret));
		return ret;
	}
	ret = start_queue(u);
	if (ret < 0) {
		fprintf(stderr, "%s: queue: %s\n", prog, strerror(-ret));
		return ret;
	}
	ret = ctrl_cmd(u, UBLK_CMD_START_DEV, NULL, 0, (uint64_t)getpid());
	if (ret < 0) {
		fprintf(stderr, "%s: UBLK_CMD_START_DEV: %s\n", prog, strerror(-ret));
		stop_queue(u);
		return ret;
	}
	printf("/dev/ublkb%u\n", u->info.dev_id);
	fflush(stdout);
	fprintf(stderr, "%s: serving %s (%llu bytes%s) as /dev/ublkb%u\n", prog,
		path, (unsigned long long)u->size,
		u->read_only ? ", read-only" : "", u->info.dev_id);

	while (sigwait(sigs, &sig))
		;
	ret = ctrl_cmd(u, UBLK_CMD_STOP_DEV, NULL, 0, 0);
	if (ret < 0)
		fprintf(stderr, "%s: UBLK_CMD_STOP_DEV: %s\n", prog, strerror(-ret));
	stop_queue(u);
	if (sig == SIGUSR1) {
		fprintf(stderr, "%s: queue: %s\n", prog, strerror(-u->queue_err));
		ret = u->queue_err;
	}
	fprintf(stderr, "%s: stopped: %llu reads, %llu writes, %llu flushes "
		"(%llu times several at once), %llu errors\n", prog,
		(unsigned long long)u->reads, (unsigned long long)u->writes,
		(unsigned long long)u->flushes, (unsigned long long)u->batches,
		(unsigned long long)u->errors);
	return ret < 0 ? ret : 0;
}

int main(int argc, char **argv)
{
	struct ublk u = {
		.file = RING_FILE_INIT, .ctrl_fd = -1, .cdev_fd = -1, .stop_fd = -1,
	};
	const char *path;
	sigset_t sigs;
	int opt, ret, err;

	while ((opt = getopt(argc, argv, "rh")) != -1) {
		if (opt != 'r')
			usage();
		u.read_only = 1;
	}
	if (argc - optind != 1)
		usage();
	path = argv[optind];

	ret = ring_file_open(&u.file, path, u.read_only, &u.size);
	if (ret)
		die(u.file.failed, ret);
	if (u.size < (1u << SECTOR_SHIFT))
		die(path, -EINVAL);	/* not even a sector */

	/* The signals are taken by sigwait in run(), in no other thread. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	u.ctrl_fd = open(CONTROL, O_RDWR | O_CLOEXEC);
	if (u.ctrl_fd < 0) {
		fprintf(stderr, "%s: %s: %s (is ublk_drv loaded?)\n", prog,
			CONTROL, strerror(errno));
		return 1;
	}
	ret = io_uring_queue_init(4, &u.ctrl, IORING_SETUP_SQE128);
	if (ret)
		die("io_uring (SQE128)", ret);
	ret = add_dev(&u);
	if (ret < 0)
		die("UBLK_CMD_ADD_DEV", ret);

	ret = run(&u, path, &sigs);

	close_queue(&u);	/* DEL_DEV waits for /dev/ublkcN to be closed */
	err = ctrl_cmd(&u, UBLK_CMD_DEL_DEV, NULL, 0, 0);
	if (err < 0) {
		fprintf(stderr, "%s: UBLK_CMD_DEL_DEV: %s\n", prog, strerror(-err));
		ret = err;
	}
	io_uring_queue_exit(&u.ctrl);
	close(u.ctrl_fd);
	if (u.stop_fd >= 0)
		close(u.stop_fd);
	ring_file_close(&u.file);
	return ret < 0 ? 1 : 0;
}
