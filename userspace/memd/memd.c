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
 * [addr, addr + len) must lie inside it, else -EFAULT.  Handles,
 * positions, those checks and the answers are librxu's provider
 * framework (rxu_scheme.h); memd only says what its files are.
 *
 * Without -f memd goes to the background once the scheme is registered;
 * either way "memd: serving NAME:" on stdout says it is ready.
 *
 * The loop is librxu's reactor: the primary ring is a kernel ring, the
 * provider ring (rxu_scheme_register) a producer ring watched through it (one blocking ENTER
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
#include "rxu_scheme.h"

#define NAME_MAX_LEN	64
#define FILE_NAME_MAX	255

struct mfile {
	char *name;			/* NULL for the device */
	unsigned char *data;
	uint64_t size, cap;
	uint64_t ino;
};

struct memd {
	struct rxu_reactor *r;
	struct rxu_scheme *scheme;
	int failed;			/* the loop stopped for an error */

	struct mfile device;
	struct mfile **files;
	size_t nfiles;
	uint64_t limit, used;		/* bytes of regular files */
	uint64_t next_ino;

	int sigfd;
};

/* ------------------------------------------------------------------ */
/* Files                                                               */
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

/* ------------------------------------------------------------------ */
/* The scheme's callbacks (librxu keeps handles and positions)         */
/* ------------------------------------------------------------------ */

static struct memd *req_memd(const struct rxu_scheme_req *req)
{
	return rxu_scheme_priv(req->conn->scheme);
}

static int accmode(const struct rxu_scheme_handle *h)
{
	return (int)(h->flags & O_ACCMODE);
}

static int64_t m_open(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
		      const char *path, size_t len, uint64_t flags,
		      uint32_t mode)
{
	struct memd *m = req_memd(req);
	struct mfile *f;

	(void)mode;
	if (flags > UINT32_MAX || (flags & O_ACCMODE) == O_ACCMODE)
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
		h->priv = &m->device;
		h->flags &= ~(uint64_t)O_APPEND;
		return 0;
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
	if ((flags & O_TRUNC) && accmode(h) != O_RDONLY)
		file_resize(m, f, 0);		/* shrinking cannot fail */
	h->priv = f;
	return 0;
}

static int64_t m_read(struct rxu_scheme_req *req, struct rxu_scheme_handle *h,
		      void *buf, uint64_t len, uint64_t off)
{
	const struct mfile *f = h->priv;

	(void)req;
	if (accmode(h) == O_WRONLY)
		return -EBADF;
	return rxu_scheme_copy_out(buf, len, off, f->data, f->size);
}

/*
 * Large reads lend the store itself: it only moves on a write or
 * truncate, and the library rings the answer's doorbell before the next
 * request.
 */
static int64_t m_read_ref(struct rxu_scheme_req *req,
			  struct rxu_scheme_handle *h, const void **src,
			  uint64_t len, uint64_t off)
{
	const struct mfile *f = h->priv;

	(void)req;
	if (accmode(h) == O_WRONLY)
		return -EBADF;
	if (off >= f->size)
		return 0;
	*src = (const char *)f->data + off;
	return (int64_t)(f->size - off < len ? f->size - off : len);
}

static int64_t m_write(struct rxu_scheme_req *req,
		       struct rxu_scheme_handle *h, const void *buf,
		       uint64_t len, uint64_t pos)
{
	struct memd *m = req_memd(req);
	struct mfile *f = h->priv;
	uint64_t n = len;

	if (accmode(h) == O_RDONLY)
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

static int64_t m_size(struct rxu_scheme_handle *h)
{
	const struct mfile *f = h->priv;

	return (int64_t)f->size;
}

static int64_t m_fstat(struct rxu_scheme_req *req,
		       struct rxu_scheme_handle *h, struct stat *st)
{
	const struct mfile *f = h->priv;

	(void)req;
	st->st_ino = (ino_t)f->ino;
	return 0;
}

static int64_t m_ftruncate(struct rxu_scheme_req *req,
			   struct rxu_scheme_handle *h, uint64_t length)
{
	struct memd *m = req_memd(req);

	if (accmode(h) == O_RDONLY || h->priv == &m->device ||
	    (int64_t)length < 0)
		return -EINVAL;
	return file_resize(m, h->priv, length);
}

static int64_t m_dup(struct rxu_scheme_req *req, struct rxu_scheme_handle *old,
		     struct rxu_scheme_handle *nh, const void *param,
		     size_t len)
{
	(void)req;
	(void)param;
	if (len)
		return -EINVAL;			/* memd takes no parameter */
	nh->priv = old->priv;
	return 0;
}

static void m_disconnect(struct rxu_scheme_conn *c)
{
	struct memd *m = rxu_scheme_priv(c->scheme);

	fprintf(stderr, "memd: the scheme's ring went away\n");
	m->failed = 1;
	rxu_reactor_stop(m->r);
}

/* Files live until memd exits: close, fsync and readiness are defaults. */
static const struct rxu_scheme_ops memd_ops = {
	.open = m_open,
	.read = m_read,
	.read_ref = m_read_ref,
	.write = m_write,
	.size = m_size,
	.fstat = m_fstat,
	.ftruncate = m_ftruncate,
	.dup = m_dup,
	.disconnect = m_disconnect,
};

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
	struct rxu_instance prim;
	struct memd m;
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
	ret = rxu_reactor_create(&m.r, &prim, 512);
	if (ret) {
		fail("reactor", ret);
		goto out;
	}
	ret = rxu_scheme_register(&m.scheme, m.r, name, NULL, &memd_ops, &m);
	if (ret) {
		fprintf(stderr, "memd: register :%s: %s\n", name,
			strerror(-ret));
		goto out;
	}
	rxu_prep_files_update(&sqe, m.sigfd, RXU_EVENT_READ, 1, 0);
	ret = rxu_submit(m.r, RXU_RING_PRIMARY, &sqe, on_signal, &m, NULL);
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
	rxu_scheme_destroy(m.scheme);
	rxu_reactor_destroy(m.r);
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
	if (ready_fd >= 0)
		close(ready_fd);
	return status;
}
