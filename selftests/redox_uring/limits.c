// SPDX-License-Identifier: GPL-2.0
/*
 * Limits and access (issue 6): the per-user instance limit, memory cgroup
 * accounting (a cgroup at its memory.max gets ENOMEM, not an OOM kill),
 * and what an unprivileged user cannot reach: the device, another user's
 * instance fds, /proc/redox_uring.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rxt_harness.h"
#include "rxt_provider.h"

#define PARAM_DIR "/sys/module/redox_uring/parameters/"

RXT_DEV_FIXTURE()

static int set_param(const char *name, long long v)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	snprintf(buf, sizeof(buf), "%lld", v);
	return rxt_write_file(path, buf, strlen(buf));
}

/* Become uid/gid 65534 with no capabilities: 0 or -errno. */
static int drop_root(void)
{
	gid_t g = 65534;

	if (setgroups(1, &g) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return -errno;
	return 0;
}

/* Run fn in a child as an unprivileged user; its exit status, or -1. */
static int as_nobody(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (!pid) {
		if (drop_root())
			_exit(100);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 200 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int open_three_then_emfile(void *arg)
{
	int fd[4], i, err;
	struct rxu_sqe64 s;
	struct rxt t = RXT_INIT;

	(void)arg;
	for (i = 0; i < 3; i++) {
		fd[i] = rxt_dev_open();
		if (fd[i] < 0)
			return 1;
	}
	err = rxt_dev_open();
	if (err != -EMFILE)
		return 2;
	/* A slot comes back when an instance goes. */
	close(fd[2]);
	close(fd[1]);
	if (rxt_setup(&t, 4, 4, 0))
		return 3;
	/* OPEN of io_uring: counts too: the ring is #2, this is #3... */
	s = rxt_sqe(RXU_OP_OPEN, 0, (uintptr_t)RXU_SCHEME_KERNEL,
		    strlen(RXU_SCHEME_KERNEL), O_RDWR, 1);
	if (rxt_run(&t, &s) < 0)
		return 4;
	/* ...and #4 is one too many. */
	if (rxt_run(&t, &s) != -EMFILE)
		return 5;
	return 0;
}

TEST_F(dev, per_user_instance_limit)
{
	long long old = rxt_param("max_instances_per_user");
	int fds[5], i;

	ASSERT_EQ(1024, old);
	ASSERT_EQ(0, set_param("max_instances_per_user", 3));
	ASSERT_EQ(0, chmod(rxt_dev_path(), 0666));
	EXPECT_EQ(0, as_nobody(open_three_then_emfile, NULL));
	/* Root has CAP_SYS_RESOURCE: not limited. */
	for (i = 0; i < 5; i++) {
		fds[i] = rxt_dev_open();
		EXPECT_LE(0, fds[i]);
	}
	for (i = 0; i < 5; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* 0 lifts the limit. */
	ASSERT_EQ(0, set_param("max_instances_per_user", 0));
	EXPECT_EQ(0, as_nobody(open_three_then_emfile, NULL) == 2 ? 0 : 1);
	EXPECT_EQ(0, chmod(rxt_dev_path(), 0600));
	EXPECT_EQ(0, set_param("max_instances_per_user", old));
}

/* What root holds: fds and where their memory is mapped. */
enum { PK_RING, PK_PROVIDER, PK_U2U, PK_POOL, PK_N };
struct peek {
	pid_t owner;
	int fd[PK_N];
	void *map[PK_N];	/* SQ header, data region, SQ header, a range */
};

/* Refused as by an unrelated user: EACCES, or EPERM from ptrace rules. */
static int refused(int ret)
{
	return ret < 0 && (errno == EACCES || errno == EPERM);
}

/* Exit status 0, or which check let nobody in (10 * kind + check). */
static int cannot_reach(void *arg)
{
	struct peek *p = arg;
	char path[96];
	int k;

	if (!refused(open(rxt_dev_path(), O_RDWR)))
		return 1;
	if (!refused(open("/proc/redox_uring", O_RDONLY)))
		return 2;
	/* Through /proc, another process's memory is its own business. */
	snprintf(path, sizeof(path), "/proc/%d/mem", p->owner);
	if (!refused(open(path, O_RDWR)) || !refused(open(path, O_RDONLY)))
		return 3;
	for (k = 0; k < PK_N; k++) {
		/* The fd itself: not ours to reopen. */
		snprintf(path, sizeof(path), "/proc/%d/fd/%d", p->owner,
			 p->fd[k]);
		if (!refused(open(path, O_RDWR)) ||
		    !refused(open(path, O_RDONLY)))
			return 10 * (k + 1) + 1;
		/* Its mapping, by the map_files link. */
		snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx",
			 p->owner, (unsigned long)p->map[k],
			 (unsigned long)p->map[k] + 4096);
		if (!refused(open(path, O_RDWR)))
			return 10 * (k + 1) + 2;
	}
	return 0;
}

/* Open /proc/PID/fd/FD read-write: 0 or -errno. */
static int reopen(pid_t pid, int fd)
{
	char path[96];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	r = open(path, O_RDWR | O_CLOEXEC);
	if (r < 0)
		return -errno;
	close(r);
	return 0;
}

TEST_F(dev, unprivileged_cannot_reach_others)
{
	struct rxtp_shared *sh = rxtp_shared_new();
	struct rxt t = RXT_INIT, prov = RXT_INIT, c = RXT_INIT;
	char name[32], at[40];
	struct peek p;
	struct stat st;
	pid_t child;
	int err = 0;
	int64_t pool;

	ASSERT_EQ(0, stat(rxt_dev_path(), &st));
	EXPECT_EQ(0600U, st.st_mode & 0777);
	ASSERT_NE(NULL, sh);
	p.owner = getpid();
	/* A kernel ring. */
	ASSERT_EQ(0, rxt_setup(&t, 4, 4, 0));
	p.fd[PK_RING] = t.fd;
	p.map[PK_RING] = t.map[RXT_SQ_HDR];
	/* A provider's fd and its data region. */
	snprintf(name, sizeof(name), "lim%d", getpid());
	snprintf(at, sizeof(at), ":%s", name);
	ASSERT_EQ(0, rxt_open_create(&prov, 4, 4, 0));
	ASSERT_EQ(0, rxt_map_all(&prov));
	ASSERT_EQ(0, rxt_attach(prov.fd, at, strlen(at)));
	p.fd[PK_PROVIDER] = prov.fd;
	p.map[PK_PROVIDER] = rxt_mmap_off(prov.fd, RXU_OFF_SCHEME_DATA,
					  (size_t)rxt_param("scheme_data_size"),
					  MAP_SHARED, &err);
	ASSERT_NE(NULL, p.map[PK_PROVIDER]);
	/* A u2u consumer of a test provider, and a range of its pool. */
	snprintf(name, sizeof(name), "lim%du", getpid());
	snprintf(at, sizeof(at), "%s:", name);
	child = rxtp_start(name, sh);
	ASSERT_LT(0, child);
	ASSERT_EQ(0, rxt_open_create(&c, 4, 4, 0));
	ASSERT_EQ(0, rxt_map_all(&c));
	ASSERT_EQ(0, rxt_attach(c.fd, at, strlen(at)));
	p.fd[PK_U2U] = c.fd;
	p.map[PK_U2U] = c.map[RXT_SQ_HDR];
	pool = rxt_dup_param(&t, c.fd, RXU_DUP_PARAM_POOL);
	ASSERT_LE(0, pool);
	p.fd[PK_POOL] = (int)pool;
	p.map[PK_POOL] = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			      (int)pool, 0x10000);
	ASSERT_NE(MAP_FAILED, p.map[PK_POOL]);

	EXPECT_EQ(0, as_nobody(cannot_reach, &p));
	/*
	 * Root passes the same permission checks (they are not vacuous).
	 * What it then gets is no way in either: an instance fd is the
	 * device, so a reopen is a new, empty instance; a pool fd is an
	 * anonymous inode, which refuses with ENXIO.
	 */
	EXPECT_EQ(0, reopen(p.owner, p.fd[PK_RING]));
	EXPECT_EQ(0, reopen(p.owner, p.fd[PK_PROVIDER]));
	EXPECT_EQ(-ENXIO, reopen(p.owner, p.fd[PK_POOL]));
	munmap(p.map[PK_POOL], 4096);
	close((int)pool);
	rxt_destroy(&c);
	rxtp_stop(child);
	munmap(p.map[PK_PROVIDER], (size_t)rxt_param("scheme_data_size"));
	rxt_destroy(&prov);
	rxt_destroy(&t);
	munmap(sh, sizeof(*sh));
}

/* In a cgroup at its limit: ENOMEM, and the process lives on. */
static int fill_memcg_check(void *arg)
{
	int i, fd;
	ssize_t r;

	(void)arg;
	for (i = 0; i < 64; i++) {
		fd = rxt_dev_open();
		if (fd < 0)
			return 10;
		r = rxt_create(fd, 32768, 32768, 0);
		if (r == -ENOMEM)
			return i > 0 ? 0 : 12;
		if (r != 32)
			return 13;
	}
	return 11;
}

TEST_F(dev, memcg_limit_gives_enomem)
{
	const char *root = "/sys/fs/cgroup";
	char cg[128], procs[160];
	pid_t pid;
	int status;

	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK))
		ASSERT_EQ(0, mount("none", root, "cgroup2", 0, NULL));
	rxt_write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory", 7);
	snprintf(cg, sizeof(cg), "%s/rxu-limits-%d", root, getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	snprintf(procs, sizeof(procs), "%s/memory.max", cg);
	ASSERT_EQ(0, rxt_write_file(procs, "8M", 2));
	snprintf(procs, sizeof(procs), "%s/memory.swap.max", cg);
	rxt_write_file(procs, "0", 1);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char me[32];

		snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
		snprintf(me, sizeof(me), "%d", getpid());
		if (rxt_write_file(procs, me, strlen(me)))
			_exit(20);
		_exit(fill_memcg_check(NULL));
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	snprintf(procs, sizeof(procs), "%s/memory.events", cg);
	/* The cgroup's OOM killer never ran. */
	{
		char ev[512], *k;
		ssize_t n = rxt_read_file(procs, ev, sizeof(ev) - 1);

		ASSERT_LT(0, n);
		ev[n] = '\0';
		k = strstr(ev, "oom_kill ");
		ASSERT_NE(NULL, k);
		EXPECT_EQ(0, atoi(k + 9));
	}
	EXPECT_EQ(0, rmdir(cg));
}

TEST_HARNESS_MAIN
