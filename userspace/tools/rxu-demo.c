// SPDX-License-Identifier: MIT
/*
 * rxu-demo: a short, narrated session on one redox_uring instance.
 *
 * It creates an instance, maps its rings, attaches it to the kernel and
 * pushes a few standard opcodes, printing the ring indices and what each
 * CQE said, then shows the CQ's back-pressure, a READ parked on an empty
 * pipe, a FILES_UPDATE event, and the DROP bit after close.  Run it where the module is loaded (make demo does that in a
 * QEMU guest).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxu.h"

static const char *const op_names[] = {
	[RXU_OP_NOOP] = "NOOP", [RXU_OP_OPEN] = "OPEN",
	[RXU_OP_CLOSE] = "CLOSE", [RXU_OP_WRITE] = "WRITE",
	[RXU_OP_PREAD] = "PREAD", [RXU_OP_FSTAT] = "FSTAT",
	[RXU_OP_SEEK] = "SEEK", [RXU_OP_FTRUNCATE] = "FTRUNCATE",
	[RXU_OP_READ] = "READ", [RXU_OP_FILES_UPDATE] = "FILES_UPDATE",
};

static void show_ring(const char *what, const struct rxu_ring *r)
{
	const struct rxu_ring_header *h = r->hdr;

	printf("    %s: entries %llu, head %llu, tail %llu, push_epoch %llu, pop_epoch %llu, status %#llx\n",
	       what, (unsigned long long)h->entry_count,
	       (unsigned long long)h->head_index,
	       (unsigned long long)h->tail_index,
	       (unsigned long long)h->push_epoch,
	       (unsigned long long)h->pop_epoch,
	       (unsigned long long)h->status);
}

static void show_cqe(const struct rxu_cqe64 *cqe)
{
	int64_t res = rxu_cqe_result(cqe);
	unsigned int op = cqe->user_data >> 32;
	const char *name = op < sizeof(op_names) / sizeof(op_names[0]) &&
			   op_names[op] ? op_names[op] : "?";

	if (res < 0 && res >= -RXU_MAX_ERRNO)
		printf("    CQE user_data %#llx (%s): error %s",
		       (unsigned long long)cqe->user_data, name,
		       strerror((int)-res));
	else
		printf("    CQE user_data %#llx (%s): %lld",
		       (unsigned long long)cqe->user_data, name, (long long)res);
	if (cqe->flags)
		printf(", flags %#llx%s%s", (unsigned long long)cqe->flags,
		       cqe->flags & RXU_CQE_EVENT ? " (EVENT)" : "",
		       cqe->flags & RXU_CQE_LAST_UPDATE ? " (LAST_UPDATE)" : "");
	printf("\n");
}

/* Push one SQE, enter, print its CQE; returns its result. */
static int64_t run_one(struct rxu_instance *in, struct rxu_sqe64 *sqe)
{
	struct rxu_cqe64 cqe;
	int ret;

	sqe->user_data = (uint64_t)sqe->opcode << 32 | 1;
	ret = rxu_queue_sqe(in, sqe);
	if (ret < 0)
		return ret;
	ret = rxu_wait_cqe(in, &cqe, 0);
	if (ret < 0)
		return ret;
	show_cqe(&cqe);
	return rxu_cqe_result(&cqe);
}

int main(void)
{
	static const char text[] = "hello from a redox_uring ring\n";
	char path[] = "/tmp/rxu-demo-XXXXXX";
	struct rxu_instance in = { .fd = -1 };
	struct rxu_cqe64 cqe;
	struct rxu_sqe64 sqe;
	struct stat st;
	char buf[64] = "";
	int64_t fd, n;
	int ret, tmp, i, pfd[2];

	printf("1. open %s, write a create info (SQ 8, CQ 4 entries), map, attach to io_uring:\n",
	       RXU_DEVICE_PATH);
	ret = rxu_setup(&in, 8, 4, 0);
	if (ret < 0) {
		fprintf(stderr, "rxu_setup: %s\n", strerror(-ret));
		return 1;
	}
	show_ring("SQ", &in.sq);
	show_ring("CQ", &in.cq);

	printf("2. NOOP\n");
	rxu_prep_nop(&sqe, 0);
	run_one(&in, &sqe);

	tmp = mkstemp(path);
	if (tmp < 0)
		return 1;
	close(tmp);
	printf("3. OPEN %s O_RDWR through the ring\n", path);
	rxu_prep_open(&sqe, path, strlen(path), O_RDWR | O_CLOEXEC, 0, 0);
	fd = run_one(&in, &sqe);
	if (fd < 0)
		return 1;

	printf("4. WRITE %zu bytes, SEEK to 6, FSTAT, PREAD from offset 6\n",
	       sizeof(text) - 1);
	rxu_prep_write(&sqe, (int)fd, text, sizeof(text) - 1, 0);
	run_one(&in, &sqe);
	rxu_prep_seek(&sqe, (int)fd, 6, SEEK_SET, 0);
	run_one(&in, &sqe);
	rxu_prep_fstat(&sqe, (int)fd, &st, sizeof(st), 0);
	if (run_one(&in, &sqe) == 0)
		printf("    st_size %lld, st_mode %o\n", (long long)st.st_size,
		       st.st_mode & 07777);
	rxu_prep_pread(&sqe, (int)fd, buf, sizeof(buf) - 1, 6, 0);
	n = run_one(&in, &sqe);
	if (n > 0)
		printf("    read back: \"%.*s\"\n", (int)n - 1, buf);

	printf("5. an unknown opcode, then a CLOSE of an fd that is not open\n");
	rxu_prep_nop(&sqe, 0);
	sqe.opcode = 99;
	run_one(&in, &sqe);
	rxu_prep_close(&sqe, 1000, 0);
	run_one(&in, &sqe);

	printf("6. back-pressure: push 8 NOOPs into a CQ of 4, enter once\n");
	for (i = 0; i < 8; i++) {
		rxu_prep_nop(&sqe, (uint64_t)RXU_OP_NOOP << 32 | (uint64_t)i);
		rxu_queue_sqe(&in, &sqe);
	}
	n = rxu_enter(&in, 0, 0, 0);
	printf("    enter returned %lld CQEs available; %lld SQEs still wait in the SQ\n",
	       (long long)n, (long long)rxu_ring_available(&in.sq));
	show_ring("SQ", &in.sq);
	show_ring("CQ", &in.cq);
	while (rxu_pop_cqe(&in, &cqe) == 0)
		;
	n = rxu_enter(&in, 0, 0, 0);
	printf("    after popping the CQ and entering again: %lld CQEs, %lld SQEs left\n",
	       (long long)n, (long long)rxu_ring_available(&in.sq));
	while (rxu_pop_cqe(&in, &cqe) == 0)
		;

	printf("7. a READ on an empty pipe parks instead of blocking; FILES_UPDATE watches the pipe\n");
	if (pipe(pfd) == 0) {
		rxu_prep_read(&sqe, pfd[0], buf, sizeof(buf) - 1,
			      (uint64_t)RXU_OP_READ << 32 | 7);
		rxu_queue_sqe(&in, &sqe);
		n = rxu_enter(&in, 1, 0, 100000000);
		printf("    enter(min_complete 1, timeout 100 ms) -> %s: the READ is parked\n",
		       n < 0 ? strerror((int)-n) : "a CQE?");
		rxu_prep_files_update(&sqe, pfd[1], RXU_EVENT_WRITE, 0,
				      (uint64_t)RXU_OP_FILES_UPDATE << 32 | 7);
		rxu_queue_sqe(&in, &sqe);
		rxu_enter(&in, 3, 0, 1000000000);
		printf("    one-shot FILES_UPDATE on the (writable) write end: status CQE,\n"
		       "    EVENT (status = fd, flags = EVENT | WRITE << 8), LAST_UPDATE:\n");
		while (rxu_pop_cqe(&in, &cqe) == 0)
			show_cqe(&cqe);
		if (write(pfd[1], "ping", 4) == 4 && rxu_wait_cqe(&in, &cqe, 0) == 0) {
			show_cqe(&cqe);
			printf("    the write woke the parked READ: \"%.4s\"\n", buf);
		}
		close(pfd[0]);
		close(pfd[1]);
	}

	printf("8. CLOSE the file, then close the instance fd but keep the mappings\n");
	rxu_prep_close(&sqe, (int)fd, 0);
	run_one(&in, &sqe);
	close(in.fd);
	in.fd = -1;
	show_ring("SQ", &in.sq);
	show_ring("CQ", &in.cq);
	printf("    status bit 0 is RXU_RING_DROP: the kernel side is gone; a push now gives %s\n",
	       strerror(-rxu_queue_sqe(&in, &sqe)));

	rxu_instance_close(&in);
	unlink(path);
	printf("done.\n");
	return 0;
}
