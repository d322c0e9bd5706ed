// SPDX-License-Identifier: GPL-2.0
/*
 * File-level standard opcodes (ABI.md section 5), each checked against
 * the equivalent syscall: OPEN (Linux paths, O_* flags, mode, RXU_OPEN_AT,
 * io_uring:, unregistered schemes), CLOSE, CLOSE_RANGE, DUP, MMAP, SEEK,
 * FSTAT, FSYNC, FTRUNCATE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxt_harness.h"

FIXTURE(f) {
	struct rxt t;
	char dir[128];
	char path[256];		/* "data": 8192 bytes of pattern */
	int dirfd;
	unsigned char content[8192];
	char cwd[4096];
};

FIXTURE_SETUP(f)
{
	size_t i;

	self->t.fd = -1;
	self->dirfd = -1;
	RXT_REQUIRE_DEV();
	ASSERT_NE(NULL, getcwd(self->cwd, sizeof(self->cwd)));
	ASSERT_EQ(0, rxt_setup(&self->t, 16, 16, 0));
	ASSERT_EQ(0, rxt_tmpdir(self->dir, sizeof(self->dir)));
	snprintf(self->path, sizeof(self->path), "%s/data", self->dir);
	for (i = 0; i < sizeof(self->content); i++)
		self->content[i] = (unsigned char)(i * 31 + i / 256);
	ASSERT_EQ(0, rxt_write_file(self->path, self->content,
				    sizeof(self->content)));
	self->dirfd = open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, self->dirfd);
}

FIXTURE_TEARDOWN(f)
{
	if (self->cwd[0] && chdir(self->cwd))
		TH_LOG("chdir back failed");
	if (self->dirfd >= 0)
		close(self->dirfd);
	rxt_destroy(&self->t);
	rxt_rmtree(self->dir);
}

static struct rxu_sqe64 open_sqe(const char *path, size_t len, int flags,
				 uint64_t mode)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)path, len,
				     (uint64_t)(unsigned int)flags, 0x0be);

	s.additional1 = mode;
	return s;
}

static int64_t run_open(struct rxt *t, const char *path, int flags,
			uint64_t mode)
{
	struct rxu_sqe64 s = open_sqe(path, strlen(path), flags, mode);

	return rxt_run(t, &s);
}

/* ---- OPEN ---- */

TEST_F(f, open_existing_rdonly)
{
	unsigned char buf[100];
	int64_t fd = run_open(&self->t, self->path, O_RDONLY, 0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(O_RDONLY, fcntl((int)fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(100, read((int)fd, buf, 100));
	EXPECT_EQ(0, memcmp(buf, self->content, 100));
	errno = 0;
	EXPECT_EQ(-1, write((int)fd, "x", 1));
	EXPECT_EQ(EBADF, errno);
	close((int)fd);
}

TEST_F(f, open_flags_in_offset)
{
	int64_t fd;

	fd = run_open(&self->t, self->path, O_WRONLY | O_APPEND, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(O_WRONLY | O_APPEND,
		  fcntl((int)fd, F_GETFL) & (O_ACCMODE | O_APPEND));
	EXPECT_EQ(0, fcntl((int)fd, F_GETFD) & FD_CLOEXEC);
	close((int)fd);

	fd = run_open(&self->t, self->path, O_RDWR | O_CLOEXEC | O_NONBLOCK, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(O_RDWR | O_NONBLOCK,
		  fcntl((int)fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
	EXPECT_EQ(FD_CLOEXEC, fcntl((int)fd, F_GETFD) & FD_CLOEXEC);
	close((int)fd);

	/* O_TRUNC empties the file */
	fd = run_open(&self->t, self->path, O_RDWR | O_TRUNC, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, lseek((int)fd, 0, SEEK_END));
	close((int)fd);
}

TEST_F(f, open_creat_mode_and_umask)
{
	char p1[300], p2[300];
	struct stat st;
	int64_t fd;

	snprintf(p1, sizeof(p1), "%s/m640", self->dir);
	snprintf(p2, sizeof(p2), "%s/m666", self->dir);
	umask(0);
	fd = run_open(&self->t, p1, O_CREAT | O_EXCL | O_WRONLY, 0640);
	ASSERT_LE(0, fd);
	close((int)fd);
	ASSERT_EQ(0, stat(p1, &st));
	EXPECT_EQ(0640U, st.st_mode & 07777);
	EXPECT_TRUE(S_ISREG(st.st_mode));

	/* the submitter's umask applies, as for openat(2) */
	umask(022);
	fd = run_open(&self->t, p2, O_CREAT | O_WRONLY, 0666);
	ASSERT_LE(0, fd);
	close((int)fd);
	ASSERT_EQ(0, stat(p2, &st));
	EXPECT_EQ(0644U, st.st_mode & 07777);
	EXPECT_EQ(getuid(), st.st_uid);

	/* O_EXCL on an existing file */
	EXPECT_EQ((int64_t)-EEXIST,
		  run_open(&self->t, p1, O_CREAT | O_EXCL | O_WRONLY, 0640));
}

TEST_F(f, open_errors_match_openat)
{
	char missing[300], notdir[300];

	snprintf(missing, sizeof(missing), "%s/nope/x", self->dir);
	snprintf(notdir, sizeof(notdir), "%s/data/x", self->dir);
	EXPECT_EQ((int64_t)-ENOENT, run_open(&self->t, missing, O_RDONLY, 0));
	EXPECT_EQ((int64_t)-ENOTDIR, run_open(&self->t, notdir, O_RDONLY, 0));
	EXPECT_EQ((int64_t)-EISDIR, run_open(&self->t, self->dir, O_WRONLY, 0));
	EXPECT_EQ((int64_t)-ENOTDIR,
		  run_open(&self->t, self->path, O_RDONLY | O_DIRECTORY, 0));
}

TEST_F(f, open_relative_to_cwd)
{
	int64_t fd;
	unsigned char c;

	ASSERT_EQ(0, chdir(self->dir));
	fd = run_open(&self->t, "data", O_RDONLY, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, pread((int)fd, &c, 1, 5));
	EXPECT_EQ(self->content[5], c);
	close((int)fd);
	fd = run_open(&self->t, "./rel", O_CREAT | O_WRONLY, 0600);
	ASSERT_LE(0, fd);
	close((int)fd);
	EXPECT_EQ(0, faccessat(self->dirfd, "rel", F_OK, 0));
}

TEST_F(f, open_at_dirfd)
{
	struct rxu_sqe64 s;
	unsigned char c;
	int64_t fd;

	ASSERT_EQ(0, chdir("/"));
	s = open_sqe("data", 4, O_RDONLY, 0);
	s.fd = (uint64_t)self->dirfd;
	s.syscall_flags = RXU_OPEN_AT;
	fd = rxt_run(&self->t, &s);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, pread((int)fd, &c, 1, 7));
	EXPECT_EQ(self->content[7], c);
	close((int)fd);

	/* creates relative to the directory, not the cwd */
	s = open_sqe("made", 4, O_CREAT | O_WRONLY, 0600);
	s.fd = (uint64_t)self->dirfd;
	s.syscall_flags = RXU_OPEN_AT;
	fd = rxt_run(&self->t, &s);
	ASSERT_LE(0, fd);
	close((int)fd);
	EXPECT_EQ(0, faccessat(self->dirfd, "made", F_OK, 0));

	/* an absolute path ignores the directory, as openat(2) does */
	s = open_sqe(self->path, strlen(self->path), O_RDONLY, 0);
	s.fd = (uint64_t)self->dirfd;
	s.syscall_flags = RXU_OPEN_AT;
	fd = rxt_run(&self->t, &s);
	ASSERT_LE(0, fd);
	close((int)fd);
}

TEST_F(f, open_at_bad_dirfd)
{
	struct rxu_sqe64 s;
	int filefd = open(self->path, O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, filefd);
	s = open_sqe("data", 4, O_RDONLY, 0);
	s.syscall_flags = RXU_OPEN_AT;
	s.fd = (uint64_t)filefd;
	EXPECT_EQ((int64_t)-ENOTDIR, rxt_run(&self->t, &s));
	s.fd = 100000;
	EXPECT_EQ((int64_t)-EBADF, rxt_run(&self->t, &s));
	s.fd = (uint64_t)self->dirfd | (1ULL << 32);
	EXPECT_EQ((int64_t)-EBADF, rxt_run(&self->t, &s));
	close(filefd);
}

TEST_F(f, open_path_without_nul)
{
	char buf[300];
	int64_t fd;
	size_t len;

	/* "…/data" followed by more bytes that are not part of the path */
	len = (size_t)snprintf(buf, sizeof(buf), "%sXYZ", self->path) - 3;
	struct rxu_sqe64 s = open_sqe(buf, len, O_RDONLY, 0);

	fd = rxt_run(&self->t, &s);
	ASSERT_LE(0, fd);
	close((int)fd);
	/* and a path that is exactly len bytes at the end of a page */
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, munmap(page + 4096, 4096));
	len = strlen(self->path);
	memcpy(page + 4096 - len, self->path, len);
	s = open_sqe(page + 4096 - len, len, O_RDONLY, 0);
	fd = rxt_run(&self->t, &s);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close((int)fd);
	munmap(page, 4096);
}

/* The file status flags are those openat(2) would give (O_LARGEFILE too). */
TEST_F(f, open_flags_match_openat)
{
	static const int flags[] = {
		O_RDONLY, O_WRONLY, O_RDWR, O_WRONLY | O_APPEND,
		O_RDWR | O_NONBLOCK, O_RDWR | O_SYNC, O_RDONLY | O_CLOEXEC,
		O_RDWR | O_DSYNC, O_RDONLY | O_NOFOLLOW,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		int want = openat(AT_FDCWD, self->path, flags[i]);
		int64_t got = run_open(&self->t, self->path, flags[i], 0);

		ASSERT_LE(0, want);
		ASSERT_LE(0, got) TH_LOG("flags 0%o", flags[i]);
		EXPECT_EQ(fcntl(want, F_GETFL), fcntl((int)got, F_GETFL))
			TH_LOG("F_GETFL after flags 0%o: openat 0%o, OPEN 0%o",
			       flags[i], fcntl(want, F_GETFL),
			       fcntl((int)got, F_GETFL));
		EXPECT_EQ(fcntl(want, F_GETFD), fcntl((int)got, F_GETFD));
		close(want);
		close((int)got);
	}
}

/* A file opened through the ring is as large-file capable as openat(2)'s. */
TEST_F(f, open_write_beyond_2g)
{
	const off_t off = 3LL << 30;
	int64_t fd = run_open(&self->t, self->path, O_RDWR, 0);
	int ref = open(self->path, O_RDWR | O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_LE(0, ref);
	EXPECT_EQ(1, pwrite(ref, "r", 1, off));
	errno = 0;
	EXPECT_EQ(1, pwrite((int)fd, "x", 1, off + 1))
		TH_LOG("pwrite at 3 GiB: %s", strerror(errno));
	EXPECT_EQ(0, ftruncate(ref, 0));
	close(ref);
	close((int)fd);
}

/*
 * RXU_OPEN_AT resolves beneath the directory fd (README, "Decisions"):
 * ".." stops at that directory, as with openat2's RESOLVE_IN_ROOT, where
 * openat(2) would climb out of it.
 */
TEST_F(f, open_at_dotdot_stays_beneath)
{
	char sub[300], inner[320];
	struct rxu_sqe64 s;
	struct stat a, b;
	int subfd, ref;
	int64_t fd;

	snprintf(sub, sizeof(sub), "%s/sub", self->dir);
	ASSERT_EQ(0, mkdir(sub, 0700));
	subfd = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, subfd);
	/* openat(2) would find dir/data; beneath sub there is none yet */
	s = open_sqe("../data", 7, O_RDONLY, 0);
	s.fd = (uint64_t)subfd;
	s.syscall_flags = RXU_OPEN_AT;
	EXPECT_EQ((int64_t)-ENOENT, rxt_run(&self->t, &s));
	/* with sub/data present, "../data" names it */
	snprintf(inner, sizeof(inner), "%s/data", sub);
	ref = open(inner, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ASSERT_LE(0, ref);
	fd = rxt_run(&self->t, &s);
	ASSERT_LE(0, fd) TH_LOG("OPEN_AT ../data: %lld", (long long)fd);
	ASSERT_EQ(0, fstat(ref, &a));
	ASSERT_EQ(0, fstat((int)fd, &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	close((int)fd);
	close(ref);
	close(subfd);
}

/* ... and an absolute symlink under it resolves from that directory too. */
TEST_F(f, open_at_absolute_symlink_stays_beneath)
{
	char sub[300];
	struct rxu_sqe64 s;
	int subfd;

	snprintf(sub, sizeof(sub), "%s/sub", self->dir);
	ASSERT_EQ(0, mkdir(sub, 0700));
	subfd = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_LE(0, subfd);
	ASSERT_EQ(0, symlinkat(self->path, subfd, "link"));
	s = open_sqe("link", 4, O_RDONLY, 0);
	s.fd = (uint64_t)subfd;
	s.syscall_flags = RXU_OPEN_AT;
	EXPECT_EQ((int64_t)-ENOENT, rxt_run(&self->t, &s));
	close(subfd);
}

/* RXU_OPEN_AT with AT_FDCWD: relative to the cwd, as openat(AT_FDCWD). */
TEST_F(f, open_at_fdcwd)
{
	struct rxu_sqe64 s;
	int64_t fd;

	ASSERT_EQ(0, chdir(self->dir));
	s = open_sqe("data", 4, O_RDONLY, 0);
	s.fd = (uint64_t)(int64_t)AT_FDCWD;
	s.syscall_flags = RXU_OPEN_AT;
	fd = rxt_run(&self->t, &s);
	ASSERT_LE(0, fd);
	close((int)fd);
}

/* A NUL within len ends the path there. */
TEST_F(f, open_path_nul_within_len)
{
	char buf[300];
	int64_t fd;
	size_t plen = strlen(self->path);

	memset(buf, 'Q', sizeof(buf));
	memcpy(buf, self->path, plen);
	buf[plen] = '\0';
	struct rxu_sqe64 s = open_sqe(buf, plen + 20, O_RDONLY, 0);

	fd = rxt_run(&self->t, &s);
	ASSERT_LE(0, fd);
	close((int)fd);
}

TEST_F(f, open_bad_path_pointer_efault)
{
	struct rxu_sqe64 s = open_sqe((const char *)8, 10, O_RDONLY, 0);

	EXPECT_EQ((int64_t)-EFAULT, rxt_run(&self->t, &s));
}

/* A ':' after the first '/' does not make a scheme path. */
TEST_F(f, open_colon_after_slash_is_linux_path)
{
	char p[300];
	int64_t fd;

	snprintf(p, sizeof(p), "%s/x:y", self->dir);
	fd = run_open(&self->t, p, O_CREAT | O_WRONLY, 0600);
	ASSERT_LE(0, fd);
	close((int)fd);
	EXPECT_EQ(0, faccessat(self->dirfd, "x:y", F_OK, 0));
	ASSERT_EQ(0, chdir(self->dir));
	fd = run_open(&self->t, "./x:y", O_RDONLY, 0);
	ASSERT_LE(0, fd);
	close((int)fd);
}

TEST_F(f, open_unregistered_scheme_enodev)
{
	EXPECT_EQ((int64_t)-ENODEV, run_open(&self->t, "foo:bar", O_RDONLY, 0));
	EXPECT_EQ((int64_t)-ENODEV, run_open(&self->t, "foo:", O_RDONLY, 0));
	EXPECT_EQ((int64_t)-ENODEV,
		  run_open(&self->t, "nosuchscheme:/a/b", O_RDWR, 0));
}

/* OPEN of io_uring: gives an Initial instance, usable as one from open(2). */
TEST_F(f, open_io_uring_new_instance)
{
	struct rxt child;
	struct rxu_sqe64 s;
	struct rxu_cqe64 cqe;
	int64_t fd;
	int err;

	fd = run_open(&self->t, RXU_SCHEME_KERNEL, O_RDWR, 0);
	ASSERT_LE(0, fd);
	/* Initial: mmap and ENTER are refused */
	EXPECT_EQ(NULL, rxt_mmap_off((int)fd, RXU_OFF_SQ_HEADER, 4096,
				     MAP_SHARED, &err));
	EXPECT_EQ(-EBADFD, err);
	EXPECT_EQ(-EBADFD, rxt_enter_fd((int)fd, 0, 0, 0));
	/* then the whole lifecycle */
	ASSERT_EQ(0, rxt_setup_fd(&child, (int)fd, 4, 4, 0));
	EXPECT_EQ(-EBADFD, rxt_create(child.fd, 4, 4, 0));
	ASSERT_EQ(0, rxt_map_all(&child));
	EXPECT_EQ(4U, rxt_hdr_get(rxt_sqh(&child), RXT_HDR_ENTRY_COUNT));
	ASSERT_EQ(0, rxt_attach_kernel(child.fd));
	EXPECT_EQ(-EBADFD, rxt_attach_kernel(child.fd));
	s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 0x77);
	ASSERT_EQ(0, rxt_run1(&child, &s, &cqe));
	EXPECT_EQ(0x77U, cqe.user_data);
	EXPECT_EQ(0U, cqe.status);
	/* independent of the parent: the parent closing does not drop it */
	rxt_destroy(&self->t);
	EXPECT_EQ(0U, rxt_hdr_get(rxt_sqh(&child), RXT_HDR_STATUS));
	s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 0x78);
	ASSERT_EQ(0, rxt_run1(&child, &s, &cqe));
	EXPECT_EQ(0x78U, cqe.user_data);
	rxt_destroy(&child);
}

TEST_F(f, open_io_uring_cloexec)
{
	int64_t fd = run_open(&self->t, RXU_SCHEME_KERNEL, O_RDWR | O_CLOEXEC, 0);

	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl((int)fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(32, rxt_create((int)fd, 2, 2, RXU_CREATE_BITS_32));
	close((int)fd);
}

/* ---- CLOSE, CLOSE_RANGE ---- */

TEST_F(f, close_closes)
{
	int fd = open(self->path, O_RDONLY | O_CLOEXEC);
	struct rxu_sqe64 s;

	ASSERT_LE(0, fd);
	s = rxt_sqe(RXU_OP_CLOSE, (uint64_t)fd, 0, 0, 0, 1);
	EXPECT_EQ(0, rxt_run(&self->t, &s));
	EXPECT_FALSE(rxt_fd_is_open(fd));
	/* a second close: EBADF, as close(2) */
	EXPECT_EQ((int64_t)-EBADF, rxt_run(&self->t, &s));
}

TEST_F(f, close_range_closes_count)
{
	int fd = open(self->path, O_RDONLY | O_CLOEXEC), i;
	struct rxu_sqe64 s;

	ASSERT_LE(0, fd);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(900 + i, dup2(fd, 900 + i));
	s = rxt_sqe(RXU_OP_CLOSE_RANGE, 900, 0, 3, 0, 1);
	EXPECT_EQ(0, rxt_run(&self->t, &s));
	EXPECT_FALSE(rxt_fd_is_open(900));
	EXPECT_FALSE(rxt_fd_is_open(901));
	EXPECT_FALSE(rxt_fd_is_open(902));
	EXPECT_TRUE(rxt_fd_is_open(903));
	EXPECT_TRUE(rxt_fd_is_open(fd));
	/* a range with nothing open: 0, as close_range(2) */
	s = rxt_sqe(RXU_OP_CLOSE_RANGE, 950, 0, 10, 0, 2);
	EXPECT_EQ(0, rxt_run(&self->t, &s));
	/* count 0 closes nothing */
	s = rxt_sqe(RXU_OP_CLOSE_RANGE, 903, 0, 0, 0, 3);
	EXPECT_EQ(0, rxt_run(&self->t, &s));
	EXPECT_TRUE(rxt_fd_is_open(903));
	/* a count past the end closes everything from fd on */
	ASSERT_EQ(1000, dup2(fd, 1000));
	s = rxt_sqe(RXU_OP_CLOSE_RANGE, 903, 0, UINT64_MAX, 0, 4);
	EXPECT_EQ(0, rxt_run(&self->t, &s));
	EXPECT_FALSE(rxt_fd_is_open(903));
	EXPECT_FALSE(rxt_fd_is_open(1000));
	EXPECT_TRUE(rxt_fd_is_open(fd));
	EXPECT_TRUE(rxt_fd_is_open(self->t.fd));
	close(fd);
}

/*
 * The ring's own fd closed through the ring: the CQEs of that ENTER are
 * all posted, and the instance goes down (DROP) once the call returns.
 */
TEST_F(f, close_own_ring_fd)
{
	struct rxt t = RXT_INIT;
	struct rxu_sqe64 s;
	struct rxu_cqe64 cqe;

	ASSERT_EQ(0, rxt_setup(&t, 4, 4, 0));
	s = rxt_sqe(RXU_OP_CLOSE, (uint64_t)t.fd, 0, 0, 0, 1);
	ASSERT_EQ(0, rxt_push(&t, &s));
	s = rxt_sqe(RXU_OP_NOOP, 0, 0, 0, 0, 2);
	ASSERT_EQ(0, rxt_push(&t, &s));
	EXPECT_EQ(2, rxt_enter(&t, 2, 0, RXT_TMO));
	EXPECT_FALSE(rxt_fd_is_open(t.fd));
	t.fd = -1;
	EXPECT_EQ(2U, rxt_cq_avail(&t));
	ASSERT_EQ(0, rxt_pop(&t, &cqe));
	EXPECT_EQ(1U, cqe.user_data);
	EXPECT_EQ(0U, cqe.status);
	ASSERT_EQ(0, rxt_pop(&t, &cqe));
	EXPECT_EQ(2U, cqe.user_data);
	EXPECT_EQ(0U, cqe.status);
	EXPECT_EQ(RXU_RING_DROP, rxt_hdr_get(rxt_sqh(&t), RXT_HDR_STATUS) &
				 RXU_RING_DROP);
	EXPECT_EQ(RXU_RING_DROP, rxt_hdr_get(rxt_cqh(&t), RXT_HDR_STATUS) &
				 RXU_RING_DROP);
	rxt_destroy(&t);
}

/* ---- DUP ---- */

TEST_F(f, dup_shares_file)
{
	int fd = open(self->path, O_RDWR | O_CLOEXEC);
	struct rxu_sqe64 s;
	struct stat a, b;
	int64_t nfd;

	ASSERT_LE(0, fd);
	s = rxt_sqe(RXU_OP_DUP, (uint64_t)fd, 0, 0, 0, 1);
	nfd = rxt_run(&self->t, &s);
	ASSERT_LE(0, nfd);
	EXPECT_NE(fd, nfd);
	ASSERT_EQ(0, fstat(fd, &a));
	ASSERT_EQ(0, fstat((int)nfd, &b));
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(a.st_dev, b.st_dev);
	/* the same open file description: one offset */
	EXPECT_EQ(123, lseek(fd, 123, SEEK_SET));
	EXPECT_EQ(123, lseek((int)nfd, 0, SEEK_CUR));
	EXPECT_EQ(O_RDWR, fcntl((int)nfd, F_GETFL) & O_ACCMODE);
	/* as dup(2): the new fd does not inherit FD_CLOEXEC */
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD));
	EXPECT_EQ(0, fcntl((int)nfd, F_GETFD));
	close((int)nfd);
	EXPECT_TRUE(rxt_fd_is_open(fd));
	close(fd);
}

/* ---- SEEK ---- */

TEST_F(f, seek_whence)
{
	int fd = open(self->path, O_RDONLY | O_CLOEXEC);
	struct rxu_sqe64 s;

	ASSERT_LE(0, fd);
	s = rxt_sqe(RXU_OP_SEEK, (uint64_t)fd, 0, 0, 10, 1);
	s.syscall_flags = SEEK_SET;
	EXPECT_EQ(10, rxt_run(&self->t, &s));
	EXPECT_EQ(10, lseek(fd, 0, SEEK_CUR));

	s.offset = (uint64_t)-3;	/* signed */
	s.syscall_flags = SEEK_CUR;
	EXPECT_EQ(7, rxt_run(&self->t, &s));
	EXPECT_EQ(7, lseek(fd, 0, SEEK_CUR));

	s.offset = (uint64_t)-1;
	s.syscall_flags = SEEK_END;
	EXPECT_EQ(8191, rxt_run(&self->t, &s));

	s.offset = 100;
	s.syscall_flags = SEEK_END;
	EXPECT_EQ(8292, rxt_run(&self->t, &s));

	/* errors as lseek(2) */
	s.offset = 0;
	s.syscall_flags = 99;
	EXPECT_EQ((int64_t)-EINVAL, rxt_run(&self->t, &s));
	s.offset = (uint64_t)-100;
	s.syscall_flags = SEEK_SET;
	EXPECT_EQ((int64_t)-EINVAL, rxt_run(&self->t, &s));
	EXPECT_EQ(8292, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

TEST_F(f, seek_data_hole_like_lseek)
{
	int fd = open(self->path, O_RDONLY | O_CLOEXEC);
	struct rxu_sqe64 s;
	off_t want;

	ASSERT_LE(0, fd);
	want = lseek(fd, 100, SEEK_DATA);
	s = rxt_sqe(RXU_OP_SEEK, (uint64_t)fd, 0, 0, 100, 1);
	s.syscall_flags = SEEK_DATA;
	EXPECT_EQ((int64_t)want, rxt_run(&self->t, &s));
	want = lseek(fd, 100, SEEK_HOLE);
	s.syscall_flags = SEEK_HOLE;
	EXPECT_EQ((int64_t)want, rxt_run(&self->t, &s));
	EXPECT_EQ(8192, want);
	s.offset = 9000;
	s.syscall_flags = SEEK_DATA;
	EXPECT_EQ((int64_t)-ENXIO, rxt_run(&self->t, &s));
	close(fd);
}

TEST_F(f, seek_pipe_espipe)
{
	int p[2];
	struct rxu_sqe64 s;

	ASSERT_EQ(0, pipe(p));
	s = rxt_sqe(RXU_OP_SEEK, (uint64_t)p[0], 0, 0, 0, 1);
	s.syscall_flags = SEEK_CUR;
	EXPECT_EQ((int64_t)-ESPIPE, rxt_run(&self->t, &s));
	close(p[0]);
	close(p[1]);
}

/* ---- FSTAT ---- */

static void expect_same_stat(struct __test_metadata *_metadata,
			     const struct stat *a, const struct stat *b)
{
	EXPECT_EQ(a->st_dev, b->st_dev);
	EXPECT_EQ(a->st_ino, b->st_ino);
	EXPECT_EQ(a->st_mode, b->st_mode);
	EXPECT_EQ(a->st_nlink, b->st_nlink);
	EXPECT_EQ(a->st_uid, b->st_uid);
	EXPECT_EQ(a->st_gid, b->st_gid);
	EXPECT_EQ(a->st_rdev, b->st_rdev);
	EXPECT_EQ(a->st_size, b->st_size);
	EXPECT_EQ(a->st_blksize, b->st_blksize);
	EXPECT_EQ(a->st_blocks, b->st_blocks);
	EXPECT_EQ(a->st_mtim.tv_sec, b->st_mtim.tv_sec);
	EXPECT_EQ(a->st_mtim.tv_nsec, b->st_mtim.tv_nsec);
	EXPECT_EQ(a->st_ctim.tv_sec, b->st_ctim.tv_sec);
	EXPECT_EQ(a->st_ctim.tv_nsec, b->st_ctim.tv_nsec);
	EXPECT_EQ(a->st_atim.tv_sec, b->st_atim.tv_sec);
	EXPECT_EQ(a->st_atim.tv_nsec, b->st_atim.tv_nsec);
	/* padding included: the kernel fills the whole struct */
	EXPECT_EQ(0, memcmp(a, b, sizeof(*a)));
}

TEST_F(f, fstat_matches_fstat)
{
	int fds[3], i;
	struct stat want, got;
	struct rxu_sqe64 s;
	int p[2];

	ASSERT_EQ(0, pipe(p));
	fds[0] = open(self->path, O_RDONLY | O_CLOEXEC);
	fds[1] = self->dirfd;
	fds[2] = p[0];
	ASSERT_LE(0, fds[0]);
	for (i = 0; i < 3; i++) {
		memset(&got, 0xa5, sizeof(got));
		memset(&want, 0, sizeof(want));
		s = rxt_sqe(RXU_OP_FSTAT, (uint64_t)fds[i], (uintptr_t)&got,
			    sizeof(struct stat), 0, 1);
		EXPECT_EQ(0, rxt_run(&self->t, &s)) TH_LOG("fd #%d", i);
		ASSERT_EQ(0, fstat(fds[i], &want));
		expect_same_stat(_metadata, &want, &got);
	}
	memset(&got, 0, sizeof(got));
	s = rxt_sqe(RXU_OP_FSTAT, (uint64_t)fds[0], (uintptr_t)&got,
		    sizeof(struct stat), 0, 1);
	EXPECT_EQ(0, rxt_run(&self->t, &s));
	EXPECT_EQ(8192, got.st_size);
	EXPECT_TRUE(S_ISREG(got.st_mode));
	close(fds[0]);
	close(p[0]);
	close(p[1]);
}

TEST_F(f, fstat_wrong_len_einval)
{
	static const uint64_t lens[] = {
		0, 1, sizeof(struct stat) - 1, sizeof(struct stat) + 1,
		sizeof(struct stat) * 2, 4096, 1ULL << 32 | sizeof(struct stat),
	};
	unsigned char buf[8192];
	struct rxu_sqe64 s;
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		memset(buf, 0xa5, sizeof(buf));
		s = rxt_sqe(RXU_OP_FSTAT, (uint64_t)self->dirfd,
			    (uintptr_t)buf, lens[i], 0, 1);
		EXPECT_EQ((int64_t)-EINVAL, rxt_run(&self->t, &s))
			TH_LOG("len %llu", (unsigned long long)lens[i]);
		for (j = 0; j < sizeof(buf); j++)
			if (buf[j] != 0xa5)
				break;
		EXPECT_EQ(sizeof(buf), j) TH_LOG("buffer written, len %llu",
						 (unsigned long long)lens[i]);
	}
}

TEST_F(f, fstat_bad_buffer_efault)
{
	struct rxu_sqe64 s = rxt_sqe(RXU_OP_FSTAT, (uint64_t)self->dirfd, 8,
				     sizeof(struct stat), 0, 1);

	EXPECT_EQ((int64_t)-EFAULT, rxt_run(&self->t, &s));
}

/* ---- FSYNC ---- */

TEST_F(f, fsync_file)
{
	int fd = open(self->path, O_RDWR | O_CLOEXEC);
	struct rxu_sqe64 s;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fsync(fd));
	s = rxt_sqe(RXU_OP_FSYNC, (uint64_t)fd, 0, 0, 0, 1);
	EXPECT_EQ(0, rxt_run(&self->t, &s));
	s.syscall_flags = RXU_FSYNC_DATASYNC;
	EXPECT_EQ(0, rxt_run(&self->t, &s));
	close(fd);
}

TEST_F(f, fsync_pipe_matches_syscall)
{
	int p[2], want;
	struct rxu_sqe64 s;

	ASSERT_EQ(0, pipe(p));
	want = fsync(p[1]) ? -errno : 0;
	s = rxt_sqe(RXU_OP_FSYNC, (uint64_t)p[1], 0, 0, 0, 1);
	EXPECT_EQ((int64_t)want, rxt_run(&self->t, &s));
	EXPECT_EQ(-EINVAL, want);
	want = fdatasync(p[1]) ? -errno : 0;
	s.syscall_flags = RXU_FSYNC_DATASYNC;
	EXPECT_EQ((int64_t)want, rxt_run(&self->t, &s));
	close(p[0]);
	close(p[1]);
}

/* ---- FTRUNCATE ---- */

TEST_F(f, ftruncate_sets_size)
{
	int fd = open(self->path, O_RDWR | O_CLOEXEC);
	static const uint64_t sizes[] = { 5, 100000, 0, 4096 };
	struct rxu_sqe64 s;
	struct stat st;
	unsigned char buf[8];
	size_t i;

	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		s = rxt_sqe(RXU_OP_FTRUNCATE, (uint64_t)fd, 0, 0, sizes[i], 1);
		EXPECT_EQ(0, rxt_run(&self->t, &s));
		ASSERT_EQ(0, fstat(fd, &st));
		EXPECT_EQ((off_t)sizes[i], st.st_size);
	}
	/* grown part reads as zeros */
	EXPECT_EQ(8, pread(fd, buf, 8, 4000));
	EXPECT_EQ(0, buf[0] | buf[7]);
	close(fd);
}

TEST_F(f, ftruncate_errors_match_syscall)
{
	int ro = open(self->path, O_RDONLY | O_CLOEXEC), rw, want;
	struct rxu_sqe64 s;
	struct stat st;

	ASSERT_LE(0, ro);
	want = ftruncate(ro, 1) ? -errno : 0;
	ASSERT_NE(0, want);
	s = rxt_sqe(RXU_OP_FTRUNCATE, (uint64_t)ro, 0, 0, 1, 1);
	EXPECT_EQ((int64_t)want, rxt_run(&self->t, &s));

	rw = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, rw);
	s = rxt_sqe(RXU_OP_FTRUNCATE, (uint64_t)rw, 0, 0, (uint64_t)-1, 1);
	EXPECT_EQ((int64_t)-EINVAL, rxt_run(&self->t, &s));
	ASSERT_EQ(0, fstat(rw, &st));
	EXPECT_EQ(8192, st.st_size);
	close(ro);
	close(rw);
}

/*
 * FTRUNCATE goes through vfs_truncate() (ftruncate(2)'s own helper is not
 * exported), which also wants write permission on the inode: an owner who
 * opened O_RDWR and then made the file read-only gets EACCES where
 * ftruncate(2) would succeed (README, "Decisions").  Run as an
 * unprivileged user (needs root to switch).
 */
TEST_F(f, ftruncate_also_checks_inode_permission)
{
	const uid_t nobody = 65534;
	struct rxu_sqe64 s;
	struct stat st;
	int fd;

	if (geteuid() != 0)
		SKIP(return, "needs root to switch to an unprivileged user");
	ASSERT_EQ(0, chown(self->path, nobody, nobody));
	fd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, setresgid(nobody, nobody, nobody));
	ASSERT_EQ(0, setresuid(nobody, nobody, nobody));
	ASSERT_EQ(0, ftruncate(fd, 100));
	s = rxt_sqe(RXU_OP_FTRUNCATE, (uint64_t)fd, 0, 0, 50, 1);
	EXPECT_EQ(0, rxt_run(&self->t, &s));	/* still writable: works */
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(50, st.st_size);
	ASSERT_EQ(0, fchmod(fd, 0400));
	s = rxt_sqe(RXU_OP_FTRUNCATE, (uint64_t)fd, 0, 0, 10, 1);
	EXPECT_EQ((int64_t)-EACCES, rxt_run(&self->t, &s));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(50, st.st_size);
	close(fd);
}

/* ---- MMAP ---- */

TEST_F(f, mmap_file_contents)
{
	int fd = open(self->path, O_RDWR | O_CLOEXEC);
	struct rxu_sqe64 s;
	int64_t addr;
	unsigned char *p;

	ASSERT_LE(0, fd);
	s = rxt_sqe(RXU_OP_MMAP, (uint64_t)fd, 0, 4096, 4096, 1);
	s.syscall_flags = PROT_READ;
	s.additional1 = MAP_SHARED;
	addr = rxt_run(&self->t, &s);
	ASSERT_LT(0, addr);
	ASSERT_GT((int64_t)-4095, -addr);	/* not an error value */
	ASSERT_EQ(0, addr & 4095);
	p = (unsigned char *)(uintptr_t)addr;
	EXPECT_EQ(0, memcmp(p, self->content + 4096, 4096));
	/* MAP_SHARED: a write through the fd shows in the mapping */
	EXPECT_EQ(1, pwrite(fd, "\x5a", 1, 4096 + 10));
	EXPECT_EQ(0x5a, p[10]);
	EXPECT_EQ(0, munmap(p, 4096));
	close(fd);
}

TEST_F(f, mmap_private_writable_hint)
{
	int fd = open(self->path, O_RDONLY | O_CLOEXEC);
	unsigned char *hint, *p, c;
	struct rxu_sqe64 s;
	int64_t addr;

	ASSERT_LE(0, fd);
	/* find a free range, then free it and pass it as MAP_FIXED address */
	hint = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hint);
	ASSERT_EQ(0, munmap(hint, 8192));
	s = rxt_sqe(RXU_OP_MMAP, (uint64_t)fd, (uintptr_t)hint, 8192, 0, 1);
	s.syscall_flags = PROT_READ | PROT_WRITE;
	s.additional1 = MAP_PRIVATE | MAP_FIXED;
	addr = rxt_run(&self->t, &s);
	ASSERT_EQ((int64_t)(uintptr_t)hint, addr);
	p = hint;
	EXPECT_EQ(0, memcmp(p, self->content, 8192));
	p[0] ^= 0xff;	/* private copy: the file does not change */
	EXPECT_EQ(1, pread(fd, &c, 1, 0));
	EXPECT_EQ(self->content[0], c);
	EXPECT_EQ(0, munmap(p, 8192));
	close(fd);
}

TEST_F(f, mmap_errors_match_syscall)
{
	int fd = open(self->path, O_RDONLY | O_CLOEXEC);
	struct rxu_sqe64 s;

	ASSERT_LE(0, fd);
	/* len 0 */
	s = rxt_sqe(RXU_OP_MMAP, (uint64_t)fd, 0, 0, 0, 1);
	s.syscall_flags = PROT_READ;
	s.additional1 = MAP_SHARED;
	EXPECT_EQ((int64_t)-EINVAL, rxt_run(&self->t, &s));
	/* unaligned offset */
	s.len = 4096;
	s.offset = 100;
	EXPECT_EQ((int64_t)-EINVAL, rxt_run(&self->t, &s));
	/* writable shared mapping of a read-only fd */
	s.offset = 0;
	s.syscall_flags = PROT_READ | PROT_WRITE;
	EXPECT_EQ((int64_t)-EACCES, rxt_run(&self->t, &s));
	/* neither MAP_SHARED nor MAP_PRIVATE */
	s.syscall_flags = PROT_READ;
	s.additional1 = 0;
	EXPECT_EQ((int64_t)-EINVAL, rxt_run(&self->t, &s));
	close(fd);
}

TEST_HARNESS_MAIN
