// SPDX-License-Identifier: MIT
/*
 * rxuctl: redox_uring from the shell.
 *
 *   rxuctl open [-w] [-c] [-i PATH] [-o PATH] [PATH...] -- CMD [ARGS...]
 *   rxuctl ls
 *   rxuctl usb [-v] [SCHEME...]
 *
 * open: opens every PATH with an OPEN SQE on a kernel (u2k) ring, so
 * that scheme paths ("mem:f") work as well as Linux paths, then execs CMD
 * with the files on ordinary fd numbers: the positional PATHs on 3, 4,
 * ... in order, `-i PATH` (`--stdin PATH`) on 0 and `-o PATH`
 * (`--stdout PATH`) on 1.  Flags: O_RDONLY, or O_RDWR with -w; O_CREAT
 * (mode 0666 & ~umask) with -c; -w and -c apply to every PATH wherever
 * they appear before `--`, except that an -o PATH without -w is opened
 * O_WRONLY and an -i PATH is always opened O_RDONLY.  So
 *
 *   rxuctl open -i mem:f -- cat
 *   rxuctl open -o mem:f -w -c -- dd if=/dev/zero bs=4k count=10
 *
 * read and write a scheme file with plain read(2) and write(2).
 *
 * ls: prints the schemes and instances the module lists in
 * /proc/redox_uring (one record per line, a type word, then key value
 * pairs: `scheme NAME pid P inflight N pending N files N garbage N`,
 * `instance ID pid P role R state S sq N cq N`).
 *
 * usb: the ports and devices of every `usb` scheme (xhcid), see
 * usb-list.c.
 *
 * Exit status: 1 with a message on an error, 2 with the usage on bad
 * arguments; after a successful exec, CMD's own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxu.h"
#include "usb-list.h"

#ifndef PROC_PATH
#define PROC_PATH	"/proc/redox_uring"	/* -DPROC_PATH=... to test ls */
#endif
#define MAX_PATHS	64

static const char *prog = "rxuctl";

static __attribute__((noreturn)) void usage(void)
{
	fprintf(stderr,
		"usage: %s open [-w] [-c] [-i PATH] [-o PATH] [PATH...] -- CMD [ARGS...]\n"
		"       %s ls\n"
		"       %s usb [-v] [SCHEME...]\n"
		"open: open each PATH through a redox_uring kernel ring (scheme paths\n"
		"      such as mem:f included) and exec CMD with PATHs on fds 3, 4, ...\n"
		"  -w, --write        open O_RDWR (an -o PATH without -w: O_WRONLY)\n"
		"  -c, --create       add O_CREAT (mode 0666 & ~umask)\n"
		"  -i, --stdin PATH   PATH (always O_RDONLY) becomes fd 0\n"
		"  -o, --stdout PATH  PATH becomes fd 1\n"
		"ls:   list registered schemes and live instances (" PROC_PATH ")\n"
		"usb:  list USB ports and devices of the usb schemes (-v: descriptors)\n",
		prog, prog, prog);
	exit(2);
}

static __attribute__((noreturn)) void fail(const char *what, const char *obj, int err)
{
	if (obj)
		fprintf(stderr, "%s: %s %s: %s\n", prog, what, obj,
			strerror(err));
	else
		fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(err));
	exit(1);
}

/* ------------------------------------------------------------------ */
/* open                                                                */
/* ------------------------------------------------------------------ */

enum target { T_STDIN, T_STDOUT, T_NEXT };

struct req {
	const char *path;
	enum target target;
	int fd;
};

static int open_flags(const struct req *q, int write, int create)
{
	int flags;

	if (q->target == T_STDIN)
		flags = O_RDONLY;
	else if (write)
		flags = O_RDWR;
	else
		flags = q->target == T_STDOUT ? O_WRONLY : O_RDONLY;
	if (create && q->target != T_STDIN)
		flags |= O_CREAT;
	/* Close-on-exec until it is dup2'ed onto its final number. */
	return flags | O_CLOEXEC;
}

/* One OPEN on the ring: the new fd, or -errno. */
static int ring_open(struct rxu_instance *in, const char *path, int flags,
		     mode_t mode)
{
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int64_t res;
	int r;

	rxu_prep_open(&sqe, path, strlen(path), flags, mode, 1);
	r = rxu_queue_sqe(in, &sqe);
	if (!r)
		r = rxu_wait_cqe(in, &cqe, 0);
	if (r)
		return r;
	res = rxu_cqe_result(&cqe);
	if (res > INT32_MAX)
		return -EOVERFLOW;
	return (int)res;
}

static int cmd_open(int argc, char **argv)
{
	struct req reqs[MAX_PATHS];
	struct rxu_instance in = { .fd = -1 };
	int nreq = 0, write = 0, create = 0, i, r, next;
	mode_t mask;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i];
		enum target t = T_NEXT;

		if (!strcmp(a, "-w") || !strcmp(a, "--write")) {
			write = 1;
			continue;
		}
		if (!strcmp(a, "-c") || !strcmp(a, "--create")) {
			create = 1;
			continue;
		}
		if (!strcmp(a, "-wc") || !strcmp(a, "-cw")) {
			write = create = 1;
			continue;
		}
		if (!strcmp(a, "-i") || !strcmp(a, "--stdin") ||
		    !strcmp(a, "-o") || !strcmp(a, "--stdout")) {
			t = !strcmp(a, "-i") || !strcmp(a, "--stdin") ?
			    T_STDIN : T_STDOUT;
			if (++i >= argc || !strcmp(argv[i], "--")) {
				fprintf(stderr, "%s: %s needs a PATH\n", prog, a);
				usage();
			}
			a = argv[i];
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "%s: unknown option %s\n", prog, a);
			usage();
		}
		if (nreq == MAX_PATHS) {
			fprintf(stderr, "%s: at most %d paths\n", prog, MAX_PATHS);
			usage();
		}
		reqs[nreq++] = (struct req){ .path = a, .target = t, .fd = -1 };
	}
	if (i >= argc - 1) {
		fprintf(stderr, "%s: open: no command after --\n", prog);
		usage();
	}
	for (r = 0; r < nreq; r++) {
		int j;

		for (j = 0; j < r; j++)
			if (reqs[j].target != T_NEXT && reqs[j].target == reqs[r].target) {
				fprintf(stderr, "%s: %s given twice\n", prog,
					reqs[r].target == T_STDIN ? "-i" : "-o");
				usage();
			}
	}

	r = rxu_setup(&in, 8, 8, 0);
	if (r)
		fail("open " RXU_DEVICE_PATH " (is the redox_uring module loaded?)",
		     NULL, -r);
	mask = umask(0);
	umask(mask);
	for (r = 0; r < nreq; r++) {
		int fd = ring_open(&in, reqs[r].path,
				   open_flags(&reqs[r], write, create),
				   0666 & ~mask);

		if (fd < 0)
			fail("open", reqs[r].path, -fd);
		/*
		 * Move it above every target number, so that placing one file
		 * never closes another that still waits for its place.
		 */
		reqs[r].fd = fcntl(fd, F_DUPFD_CLOEXEC, 3 + nreq);
		if (reqs[r].fd < 0)
			fail("fcntl", reqs[r].path, errno);
		close(fd);
	}
	/* The ring is not CMD's business (its fd is close-on-exec anyway). */
	rxu_instance_close(&in);

	for (r = 0, next = 3; r < nreq; r++) {
		int target = reqs[r].target == T_STDIN ? 0 :
			     reqs[r].target == T_STDOUT ? 1 : next++;

		/* dup2 clears close-on-exec on the target; the copy keeps it. */
		if (dup2(reqs[r].fd, target) < 0)
			fail("dup2", reqs[r].path, errno);
	}
	i++;
	execvp(argv[i], &argv[i]);
	fail("exec", argv[i], errno);
	return 1;
}

/* ------------------------------------------------------------------ */
/* ls                                                                  */
/* ------------------------------------------------------------------ */

#define MAX_FIELDS	16

struct record {
	char *type, *name;
	int n;
	char *key[MAX_FIELDS], *val[MAX_FIELDS];
};

/* Split a line in place; 0, or -1 if it is not "TYPE NAME [K V]...". */
static int parse(char *line, struct record *rec)
{
	char *save = NULL, *tok;

	rec->type = strtok_r(line, " \t\n", &save);
	rec->name = strtok_r(NULL, " \t\n", &save);
	rec->n = 0;
	if (!rec->type || !rec->name)
		return -1;
	while ((tok = strtok_r(NULL, " \t\n", &save)) && rec->n < MAX_FIELDS) {
		rec->key[rec->n] = tok;
		rec->val[rec->n] = strtok_r(NULL, " \t\n", &save);
		if (!rec->val[rec->n])
			return -1;
		rec->n++;
	}
	return 0;
}

static const char *get(const struct record *rec, const char *key)
{
	int i;

	for (i = 0; i < rec->n; i++)
		if (!strcmp(rec->key[i], key))
			return rec->val[i];
	return "-";
}

static int cmd_ls(int argc, char **argv)
{
	static const char *const scheme_keys[] = {
		"pid", "inflight", "pending", "files", "garbage",
	};
	static const char *const inst_keys[] = { "pid", "role", "state", "sq", "cq" };
	char line[1024], *lines = NULL;
	size_t len = 0, cap = 0;
	int pass, nsch = 0, ninst = 0, bad = 0;
	FILE *f;

	(void)argv;
	if (argc != 1)
		usage();
	f = fopen(PROC_PATH, "r");
	if (!f)
		fail("open " PROC_PATH " (is the redox_uring module loaded?)",
		     NULL, errno);
	/* Keep the whole text: it is printed in two passes. */
	while (fgets(line, sizeof(line), f)) {
		size_t l = strlen(line);

		if (len + l + 1 > cap) {
			char *p;

			cap = (len + l + 1) * 2;
			p = realloc(lines, cap);
			if (!p)
				fail("read " PROC_PATH, NULL, ENOMEM);
			lines = p;
		}
		memcpy(lines + len, line, l + 1);
		len += l;
		if (l && line[l - 1] != '\n') {
			lines[len++] = '\n';
			lines[len] = 0;
		}
	}
	if (ferror(f))
		fail("read " PROC_PATH, NULL, errno);
	fclose(f);

	for (pass = 0; pass < 2; pass++) {
		const char *want = pass ? "instance" : "scheme";
		char *p = lines;
		size_t k;

		if (pass == 0)
			printf("%-20s %8s %8s %8s %8s %8s\n", "SCHEME", "PID",
			       "INFLIGHT", "PENDING", "FILES", "GARBAGE");
		else
			printf("\n%-10s %8s %-13s %-9s %8s %8s\n", "INSTANCE",
			       "PID", "ROLE", "STATE", "SQ", "CQ");
		while (p && *p) {
			char *nl = strchr(p, '\n'), copy[1024];
			struct record rec;

			snprintf(copy, sizeof(copy), "%.*s",
				 (int)(nl ? nl - p : (long)strlen(p)), p);
			p = nl ? nl + 1 : NULL;
			if (!copy[0])
				continue;
			if (parse(copy, &rec)) {
				bad += pass == 0;
				continue;
			}
			if (strcmp(rec.type, want))
				continue;
			if (pass == 0) {
				printf("%-20s", rec.name);
				for (k = 0; k < sizeof(scheme_keys) / sizeof(*scheme_keys); k++)
					printf(" %8s", get(&rec, scheme_keys[k]));
				nsch++;
			} else {
				printf("%-10s %8s %-13s %-9s %8s %8s", rec.name,
				       get(&rec, inst_keys[0]), get(&rec, inst_keys[1]),
				       get(&rec, inst_keys[2]), get(&rec, inst_keys[3]),
				       get(&rec, inst_keys[4]));
				ninst++;
			}
			putchar('\n');
		}
		if (pass == 0 && !nsch)
			printf("(no scheme registered)\n");
		if (pass == 1 && !ninst)
			printf("(no instance)\n");
	}
	if (bad)
		fprintf(stderr, "%s: %d line(s) of " PROC_PATH " not understood\n",
			prog, bad);
	free(lines);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "open"))
		return cmd_open(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ls"))
		return cmd_ls(argc - 1, argv + 1);
	if (!strcmp(argv[1], "usb"))
		return rxuctl_usb(argc - 1, argv + 1, PROC_PATH);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		usage();
	fprintf(stderr, "%s: unknown command %s\n", prog, argv[1]);
	usage();
	return 2;
}
