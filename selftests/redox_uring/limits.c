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

struct peek {
	pid_t owner;
	int fd;
};

static int cannot_reach(void *arg)
{
	struct peek *p = arg;
	char path[64];

	if (open(rxt_dev_path(), O_RDWR) >= 0 || errno != EACCES)
		return 1;
	if (open("/proc/redox_uring", O_RDONLY) >= 0 || errno != EACCES)
		return 2;
	/* Another user's instance, through /proc: the fd is not ours. */
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", p->owner, p->fd);
	if (open(path, O_RDWR) >= 0 || errno != EACCES)
		return 3;
	return 0;
}

TEST_F(dev, unprivileged_cannot_reach_others)
{
	struct rxt t = RXT_INIT;
	struct peek p;
	struct stat st;

	ASSERT_EQ(0, stat(rxt_dev_path(), &st));
	EXPECT_EQ(0600U, st.st_mode & 0777);
	ASSERT_EQ(0, rxt_setup(&t, 4, 4, 0));
	p.owner = getpid();
	p.fd = t.fd;
	EXPECT_EQ(0, as_nobody(cannot_reach, &p));
	rxt_destroy(&t);
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
