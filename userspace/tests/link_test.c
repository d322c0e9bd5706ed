// SPDX-License-Identifier: MIT
/*
 * librxu as a user links it: only the public header (found through
 * pkg-config) and the built library, shared or static.  Fails to link if
 * a function of rxu.h or rxu_scheme.h is not exported; then runs a few calls through the
 * library so that a broken build fails at run time too.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rxu.h>
#include <rxu_scheme.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Every non-inline function of rxu.h, so that each must resolve. */
static void (*const api[])(void) = {
	(void (*)(void))rxu_ring_init,
	(void (*)(void))rxu_ring_header_reset,
	(void (*)(void))rxu_ring_available,
	(void (*)(void))rxu_ring_free,
	(void (*)(void))rxu_ring_push,
	(void (*)(void))rxu_ring_pop,
	(void (*)(void))rxu_ring_push_slot,
	(void (*)(void))rxu_ring_push_commit,
	(void (*)(void))rxu_ring_pop_slot,
	(void (*)(void))rxu_ring_pop_commit,
	(void (*)(void))rxu_ring_set_drop,
	(void (*)(void))rxu_ring_dropped,
	(void (*)(void))rxu_region_size,
	(void (*)(void))rxu_instance_open,
	(void (*)(void))rxu_instance_from_fd,
	(void (*)(void))rxu_instance_create,
	(void (*)(void))rxu_instance_set_geometry,
	(void (*)(void))rxu_instance_map,
	(void (*)(void))rxu_instance_attach,
	(void (*)(void))rxu_setup,
	(void (*)(void))rxu_instance_close,
	(void (*)(void))rxu_enter,
	(void (*)(void))rxu_queue_sqe,
	(void (*)(void))rxu_pop_cqe,
	(void (*)(void))rxu_wait_cqe,
	/* LIBRXU_1.1: events.c */
	(void (*)(void))rxu_cqe_is_event,
	(void (*)(void))rxu_cqe_is_last_update,
	(void (*)(void))rxu_cqe_event_mask,
	(void (*)(void))rxu_prep_files_update_end,
	(void (*)(void))rxu_prep_open_event_queue,
	(void (*)(void))rxu_event_queue_register,
	(void (*)(void))rxu_event_queue_unregister,
	(void (*)(void))rxu_event_queue_read,
	/* LIBRXU_1.4: the provider framework, rxu_scheme.h */
	(void (*)(void))rxu_scheme_register,
	(void (*)(void))rxu_scheme_serve,
	(void (*)(void))rxu_scheme_add_conn,
	(void (*)(void))rxu_scheme_destroy,
	(void (*)(void))rxu_scheme_priv,
	(void (*)(void))rxu_scheme_fd,
	(void (*)(void))rxu_scheme_dead,
	(void (*)(void))rxu_scheme_reply,
	(void (*)(void))rxu_scheme_pass_fd,
	(void (*)(void))rxu_scheme_post_event,
	(void (*)(void))rxu_scheme_buf,
	(void (*)(void))rxu_scheme_copy_out,
	(void (*)(void))rxu_scheme_handle,
};

static int round_trip(void)
{
	struct rxu_ring_header hdr;
	struct rxu_cqe64 slots[2], in = { .user_data = 5 }, out;
	struct rxu_ring r;

	rxu_ring_header_reset(&hdr, 2);
	return rxu_ring_init(&r, &hdr, slots, 2, sizeof(in)) ||
	       rxu_ring_push(&r, &in) || rxu_ring_pop(&r, &out) ||
	       out.user_data != 5 || rxu_ring_pop(&r, &out) != -EAGAIN;
}

int main(void)
{
	size_t i, missing = 0;

	for (i = 0; i < ARRAY_SIZE(api); i++)
		missing += api[i] == NULL;
	printf("TAP version 13\n1..2\n");
	printf("%sok 1 - %zu API functions resolve\n", missing ? "not " : "",
	       ARRAY_SIZE(api));
	printf("%sok 2 - a ring round trip through the library\n",
	       round_trip() ? "not " : "");
	return missing || round_trip();
}
