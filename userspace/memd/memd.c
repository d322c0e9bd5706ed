// SPDX-License-Identifier: MIT
/*
 * memd: a ramdisk scheme daemon on librxu's reactor.
 *
 *	memd [-n NAME] [-s SIZE_MB] [-f]
 *
 * Registers the scheme NAME (default "mem") as a provider (ATTACH of
 * ":NAME"), maps the scheme data region, and serves a flat namespace of
 * in-memory files until SIGTERM or SIGINT (a clean exit, status 0):
 *
 *	NAME:file	a regular file; O_CREAT creates it, O_TRUNC empties it,
 *			O_EXCL refuses an existing one; ENOENT otherwise.
 *			Files live until memd exits; together they hold at
 *			most SIZE_MB MiB (ENOSPC beyond).
 *	NAME:		the ramdisk device: SIZE_MB MiB, zero-filled, fixed size
 *
 * Every handle has its own position (READ, WRITE and SEEK use it;
 * PREAD/PWRITE do not).  FSTAT fills a struct stat (st_size, st_mode
 * S_IFREG | 0644, st_blksize 4096); FSYNC is a no-op; FTRUNCATE resizes a
 * file; DUP makes a new handle on the same file at the same position;
 * CLOSE frees the handle.  Files are always ready, so each successful
 * OPEN and DUP is followed by an EVENT CQE READ|WRITE for the new handle.
 * Unknown opcodes get -ENOSYS, RECV_IORING (u2u) -EOPNOTSUPP.  Data moves
 * through the data region: an SQE's addr is an offset in it, and
 * [addr, addr + len) must lie inside it, else -EFAULT.
 *
 * Without -f memd goes to the background once the scheme is registered;
 * either way "memd: serving NAME:" on stdout says it is ready.
 *
 * The loop is librxu's reactor: the primary ring is a kernel ring, the
 * provider ring a producer ring watched through it (one blocking ENTER
 * waits for both), and SIGTERM/SIGINT arrive through a signalfd watched
 * by a FILES_UPDATE on the primary, so that a signal can never slip in
 * between a check and the ENTER.
 */
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxu.h"

#define DATA_SIZE_PARAM	"/sys/module/redox_uring/parameters/scheme_data_size"
#define NAME_MAX_LEN	64
#define FILE_NAME_MAX	255
#define PROVIDER_ENTRIES 128
#define PROVIDER_BOUND	64
#define BLKSIZE		4096

struct mfile {
	char *name;			/* NULL for the device */
	unsigned char *data;
	uint64_t size, cap;
	uint64_t ino;
};

struct handle {
	struct mfile *f;		/* NULL: a free handle */
	uint64_t pos;
	int accmode;			/* O_RDONLY, O_WRONLY, O_RDWR */
	int append;
};

struct memd {
	struct rxu_reactor *r;
	int ring;
	int failed;			/* the loop stopped for an error */

	unsigned char *region;		/* the scheme data region */
	uint64_t region_size;

	struct mfile device;
	struct mfile **files;
	size_t nfiles;
	uint64_t limit, used;		/* bytes of regular files */
	uint64_t next_ino;

	struct handle *handles;
	size_t nhandles;

	int sigfd;
};

/* ------------------------------------------------------------------ */
/* Files and handles                                                   */
/* ------------------------------------------------------------------ */

static struct mfile *file_find(struct memd *m, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < m->nfiles; i++)
		if (strlen(m->files[i]->name) == len &&
		    !memcmp(m->files[i]->name, name, len))
			return m->files[i];
	return NULL;
}

static struct mfile *file_create(struct memd *m, const char *name,
				 size_t len)
{
	struct mfile *f, **n;

	n = realloc(m->files, (m->nfiles + 1) * sizeof(*n));
	if (!n)
		return NULL;
	m->files = n;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->name = strndup(name, len);
	if (!f->name) {
		free(f);
		return NULL;
	}
	f->ino = m->next_ino++;
	m->files[m->nfiles++] = f;
	return f;
}

/* Resize a regular file; new bytes read as zeros. */
static int file_resize(struct memd *m, struct mfile *f, uint64_t size)
{
	if (size > f->size) {
		uint64_t grow = size - f->size;

		if (grow > m->limit - m->used)
			return -ENOSPC;
		if (size > f->cap) {
			uint64_t cap = f->cap ? f->cap : 4096;
			unsigned char *d;

			while (cap < size)
				cap = cap > m->limit / 2 ? size : cap * 2;
			if (cap > SIZE_MAX)
				return -EFBIG;
			d = realloc(f->data, (size_t)cap);
			if (!d)
				return -ENOMEM;
			f->data = d;
			f->cap = cap;
		}
		memset(f->data + f->size, 0, (size_t)grow);
		m->used += grow;
	} else {
		m->used -= f->size - size;
	}
	f->size = size;
	return 0;
}

static int64_t handle_new(struct memd *m, struct mfile *f, uint64_t pos,
			  int accmode, int append)
{
	struct handle *n;
	size_t i;

	for (i = 0; i < m->nhandles; i++)
		if (!m->handles[i].f)
			break;
	if (i == m->nhandles) {
		if (m->nhandles >= INT32_MAX)
			return -EMFILE;
		n = realloc(m->handles, (m->nhandles + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		m->handles = n;
		m->nhandles++;
	}
	m->handles[i] = (struct handle){
		.f = f, .pos = pos, .accmode = accmode, .append = append,
	};
	return (int64_t)i;
}

static struct handle *handle_get(struct memd *m, uint64_t fd)
{
	if (fd >= m->nhandles || !m->handles[fd].f)
		return NULL;
	return &m->handles[fd];
}

/* ------------------------------------------------------------------ */
/* Opcodes                                                             */
/* ------------------------------------------------------------------ */

/* [addr, addr + len) of the data region, or NULL. */
static void *region(struct memd *m, const struct rxu_sqe64 *sqe)
{
	return rxu_region_ptr(m->region, m->region_size, sqe->addr, sqe->len);
}

static int64_t op_open(struct memd *m, const struct rxu_sqe64 *sqe)
{
	const char *path = region(m, sqe);
	uint64_t flags = sqe->offset;
	size_t len = (size_t)sqe->len;
	int accmode = (int)(flags & O_ACCMODE);
	struct mfile *f;

	if (!path)
		return -EFAULT;
	if (flags > UINT32_MAX || accmode == O_ACCMODE)
		return -EINVAL;
	if (flags & O_DIRECTORY)
		return -ENOTDIR;
	while (len && *path == '/') {		/* "mem:/x" is "mem:x" */
		path++;
		len--;
	}
	if (memchr(path, '\0', len))
		return -EINVAL;
	if (!len) {				/* the device */
		f = &m->device;
		return handle_new(m, f, 0, accmode, 0);
	}
	if (len > FILE_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(path, '/', len))		/* a flat namespace */
		return -ENOENT;

	f = file_find(m, path, len);
	if (f && (flags & O_CREAT) && (flags & O_EXCL))
		return -EEXIST;
	if (!f) {
		if (!(flags & O_CREAT))
			return -ENOENT;
		f = file_create(m, path, len);
		if (!f)
			return -ENOMEM;
	}
	if ((flags & O_TRUNC) && accmode != O_RDONLY)
		file_resize(m, f, 0);		/* shrinking cannot fail */
	return handle_new(m, f, 0, accmode, (flags & O_APPEND) != 0);
}

static int64_t do_read(struct handle *h, void *buf, uint64_t len,
		       uint64_t pos)
{
	const struct mfile *f = h->f;
	uint64_t n;

	if (h->accmode == O_WRONLY)
		return -EBADF;
	if (pos >= f->size)
		return 0;
	n = f->size - pos < len ? f->size - pos : len;
	if (n > INT64_MAX)
		n = INT64_MAX;
	memcpy(buf, f->data + pos, (size_t)n);
	return (int64_t)n;
}

static int64_t do_write(struct memd *m, struct handle *h, const void *buf,
			uint64_t len, uint64_t pos)
{
	struct mfile *f = h->f;
	uint64_t n = len;

	if (h->accmode == O_RDONLY)
		return -EBADF;
	if (!len)
		return 0;
	if (f == &m->device) {
		if (pos >= f->size)
			return -ENOSPC;
		if (n > f->size - pos)
			n = f->size - pos;
	} else {
		int ret;

		if (pos > INT64_MAX - len)
			return -EFBIG;
		if (pos + len > f->size) {
			ret = file_resize(m, f, pos + len);
			if (ret)
				return ret;
		}
	}
	memcpy(f->data + pos, buf, (size_t)n);
	return (int64_t)n;
}

static int64_t op_rw(struct memd *m, const struct rxu_sqe64 *sqe)
{
	struct handle *h = handle_get(m, sqe->fd);
	int positional = sqe->opcode == RXU_OP_PREAD ||
			 sqe->opcode == RXU_OP_PWRITE;
	int write = sqe->opcode == RXU_OP_WRITE ||
		    sqe->opcode == RXU_OP_PWRITE;
	void *buf;
	uint64_t pos;
	int64_t n;

	if (!h)
		return -EBADF;
	buf = region(m, sqe);
	if (!buf)
		return -EFAULT;
	if (positional) {
		if ((int64_t)sqe->offset < 0)
			return -EINVAL;
		pos = sqe->offset;
	} else {
		pos = write && h->append ? h->f->size : h->pos;
	}
	n = write ? do_write(m, h, buf, sqe->len, pos)
		  : do_read(h, buf, sqe->len, pos);
	if (n > 0 && !positional)
		h->pos = pos + (uint64_t)n;
	return n;
}

static int64_t op_seek(struct memd *m, const struct rxu_sqe64 *sqe)
{
	struct handle *h = handle_get(m, sqe->fd);
	int64_t pos;

	if (!h)
		return -EBADF;
	pos = rxu_seek_position(h->pos, h->f->size, sqe->syscall_flags,
				(int64_t)sqe->offset);
	if (pos >= 0)
		h->pos = (uint64_t)pos;
	return pos;
}

static int64_t op_fstat(struct memd *m, const struct rxu_sqe64 *sqe)
{
	struct handle *h = handle_get(m, sqe->fd);
	struct stat st;
	void *buf;

	if (!h)
		return -EBADF;
	if (sqe->len < sizeof(st))
		return -EINVAL;
	buf = region(m, sqe);
	if (!buf)
		return -EFAULT;
	memset(&st, 0, sizeof(st));
	st.st_dev = 0;
	st.st_ino = (ino_t)h->f->ino;
	st.st_mode = S_IFREG | 0644;
	st.st_nlink = 1;
	st.st_uid = getuid();
	st.st_gid = getgid();
	st.st_size = (off_t)h->f->size;
	st.st_blksize = BLKSIZE;
	st.st_blocks = (blkcnt_t)((h->f->size + 511) / 512);
	memcpy(buf, &st, sizeof(st));
	return 0;
}

static int64_t op_ftruncate(struct memd *m, const struct rxu_sqe64 *sqe)
{
	struct handle *h = handle_get(m, sqe->fd);

	if (!h)
		return -EBADF;
	if (h->accmode == O_RDONLY || h->f == &m->device ||
	    (int64_t)sqe->offset < 0)
		return -EINVAL;
	return file_resize(m, h->f, sqe->offset);
}

static int64_t op_dup(struct memd *m, const struct rxu_sqe64 *sqe)
{
	struct handle *h = handle_get(m, sqe->fd);

	if (!h)
		return -EBADF;
	if (sqe->syscall_flags & RXU_DUP_PARAM) {
		if (!region(m, sqe))
			return -EFAULT;
		if (sqe->len)
			return -EINVAL;		/* memd takes no parameter */
	}
	return handle_new(m, h->f, h->pos, h->accmode, h->append);
}

static int64_t op_close(struct memd *m, const struct rxu_sqe64 *sqe)
{
	struct handle *h = handle_get(m, sqe->fd);

	if (!h)
		return -EBADF;
	h->f = NULL;
	return 0;
}

static int64_t serve(struct memd *m, const struct rxu_sqe64 *sqe)
{
	switch (sqe->opcode) {
	case RXU_OP_OPEN:
		return op_open(m, sqe);
	case RXU_OP_READ:
	case RXU_OP_PREAD:
	case RXU_OP_WRITE:
	case RXU_OP_PWRITE:
		return op_rw(m, sqe);
	case RXU_OP_SEEK:
		return op_seek(m, sqe);
	case RXU_OP_FSTAT:
		return op_fstat(m, sqe);
	case RXU_OP_FSYNC:
		return handle_get(m, sqe->fd) ? 0 : -EBADF;
	case RXU_OP_FTRUNCATE:
		return op_ftruncate(m, sqe);
	case RXU_OP_DUP:
		return op_dup(m, sqe);
	case RXU_OP_CLOSE:
		return op_close(m, sqe);
	case RXU_OP_RECV_IORING:
		return -EOPNOTSUPP;
	default:
		return -ENOSYS;
	}
}

/* The provider ring's SQEs, one at a time; answered at once. */
static void on_sqe(struct rxu_reactor *r, int ring,
		   const struct rxu_sqe64 *sqe, void *ctx)
{
	struct memd *m = ctx;
	int64_t res;
	int ret;

	if (!sqe) {
		fprintf(stderr, "memd: the scheme's ring went away\n");
		m->failed = 1;
		rxu_reactor_stop(r);
		return;
	}
	res = serve(m, sqe);
	ret = rxu_reactor_respond(r, ring, sqe->user_data, res);
	/* Files are always ready: say so once the handle exists. */
	if (!ret && res >= 0 &&
	    (sqe->opcode == RXU_OP_OPEN || sqe->opcode == RXU_OP_DUP)) {
		const struct rxu_cqe64 ev = {
			.user_data = (uint64_t)res,
			.flags = RXU_CQE_EVENT |
				 (uint64_t)(RXU_EVENT_READ | RXU_EVENT_WRITE)
				 << RXU_CQE_EVENT_SHIFT,
		};

		ret = rxu_reactor_post(r, ring, &ev);
	}
	if (ret)
		fprintf(stderr, "memd: cannot answer opcode %u: %s\n",
			sqe->opcode, strerror(-ret));
}

/* The signalfd's watch: SIGTERM or SIGINT ends the loop. */
static void on_signal(struct rxu_reactor *r, const struct rxu_cqe64 *cqe,
		      void *ctx)
{
	struct memd *m = ctx;
	struct signalfd_siginfo si;

	if (rxu_cqe_is_event(cqe)) {
		while (read(m->sigfd, &si, sizeof(si)) == sizeof(si))
			;
		rxu_reactor_stop(r);
	} else if (rxu_cqe_result(cqe) < 0 || rxu_cqe_is_last_update(cqe)) {
		fprintf(stderr, "memd: cannot watch for signals: %s\n",
			strerror((int)-rxu_cqe_result(cqe)));
		m->failed = 1;
		rxu_reactor_stop(r);
	}
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

static uint64_t data_region_size(void)
{
	unsigned long long v = 0;
	FILE *fp = fopen(DATA_SIZE_PARAM, "re");

	if (fp) {
		if (fscanf(fp, "%llu", &v) != 1)
			v = 0;
		fclose(fp);
	}
	return v ? v : 1024 * 1024;	/* the module's default */
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "memd: %s: %s\n", what, strerror(-err));
	return 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: memd [-n NAME] [-s SIZE_MB] [-f]\n"
		"  -n NAME     scheme name (default mem)\n"
		"  -s SIZE_MB  ramdisk size and file space in MiB (default 16)\n"
		"  -f          stay in the foreground\n");
}

/* Fork; the parent waits for the child's word that it is serving. */
static int daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(1);		/* the child said why */
		_exit(0);
	}
	close(p[0]);
	setsid();
	*ready_fd = p[1];
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = "mem";
	unsigned long long size_mb = 16;
	int foreground = 0, ready_fd = -1, opt, ret, status = 1;
	struct rxu_instance prim, prov;
	struct memd m;
	char attach[NAME_MAX_LEN + 2];
	struct rxu_sqe64 sqe;
	sigset_t sigs;
	size_t i;

	while ((opt = getopt(argc, argv, "n:s:fh")) != -1) {
		char *end;

		switch (opt) {
		case 'n':
			name = optarg;
			break;
		case 's':
			errno = 0;
			size_mb = strtoull(optarg, &end, 10);
			if (errno || *end || !size_mb ||
			    size_mb > (SIZE_MAX >> 21)) {
				fprintf(stderr, "memd: bad size: %s\n", optarg);
				return 2;
			}
			break;
		case 'f':
			foreground = 1;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc || !*name || strlen(name) > NAME_MAX_LEN ||
	    strpbrk(name, ":/")) {
		usage();
		return 2;
	}

	memset(&m, 0, sizeof(m));
	m.sigfd = -1;
	m.limit = size_mb << 20;
	m.next_ino = 2;
	m.device.ino = 1;
	m.device.size = m.device.cap = m.limit;
	rxu_instance_from_fd(&prim, -1);
	rxu_instance_from_fd(&prov, -1);

	if (!foreground) {
		ret = daemonize(&ready_fd);
		if (ret)
			return fail("fork", ret);
	}

	/* The device: zero pages until written. */
	m.device.data = mmap(NULL, (size_t)m.limit, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m.device.data == MAP_FAILED) {
		m.device.data = NULL;
		ret = fail("ramdisk", -errno);
		goto out;
	}

	/* SIGTERM/SIGINT only through the signalfd. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	m.sigfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (m.sigfd < 0) {
		fail("signalfd", -errno);
		goto out;
	}

	ret = rxu_setup(&prim, 64, 256, 0);
	if (ret) {
		fail(RXU_DEVICE_PATH, ret);
		goto out;
	}
	ret = rxu_instance_open(&prov);
	if (!ret)
		ret = rxu_instance_create(&prov, PROVIDER_ENTRIES,
					  PROVIDER_ENTRIES, 0);
	if (!ret)
		ret = rxu_instance_map(&prov);
	if (ret) {
		fail("provider ring", ret);
		goto out;
	}
	snprintf(attach, sizeof(attach), ":%s", name);
	ret = rxu_instance_attach(&prov, attach);
	if (ret) {
		fprintf(stderr, "memd: register %s: %s\n", attach,
			strerror(-ret));
		goto out;
	}
	m.region_size = data_region_size();
	m.region = mmap(NULL, (size_t)m.region_size, PROT_READ | PROT_WRITE,
			MAP_SHARED, prov.fd, (off_t)RXU_OFF_SCHEME_DATA);
	if (m.region == MAP_FAILED) {
		m.region = NULL;
		fail("data region", -errno);
		goto out;
	}

	ret = rxu_reactor_create(&m.r, &prim, 512);
	if (!ret) {
		ret = rxu_reactor_add_producer(m.r, &prov, PROVIDER_BOUND,
					       on_sqe, &m);
		m.ring = ret;
		ret = ret < 0 ? ret : 0;
	}
	if (!ret) {
		rxu_prep_files_update(&sqe, m.sigfd, RXU_EVENT_READ, 1, 0);
		ret = rxu_submit(m.r, RXU_RING_PRIMARY, &sqe, on_signal, &m,
				 NULL);
	}
	if (ret) {
		fail("reactor", ret);
		goto out;
	}

	printf("memd: serving %s:\n", name);
	fflush(stdout);
	if (ready_fd >= 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			close(null);
		}
		if (write(ready_fd, "", 1) != 1)
			fail("ready", -errno);
		close(ready_fd);
		ready_fd = -1;
	}

	ret = rxu_reactor_run(m.r);
	if (ret)
		fail("loop", ret);
	else if (!m.failed)
		status = 0;

out:
	rxu_reactor_destroy(m.r);
	if (m.region)
		munmap(m.region, (size_t)m.region_size);
	rxu_instance_close(&prov);
	rxu_instance_close(&prim);
	if (m.sigfd >= 0)
		close(m.sigfd);
	if (m.device.data)
		munmap(m.device.data, (size_t)m.limit);
	for (i = 0; i < m.nfiles; i++) {
		free(m.files[i]->name);
		free(m.files[i]->data);
		free(m.files[i]);
	}
	free(m.files);
	free(m.handles);
	if (ready_fd >= 0)
		close(ready_fd);
	return status;
}
