/* SPDX-License-Identifier: MIT */
/* xhcid_spawn.h - class-driver rules and processes (spawn.c). */
#ifndef XHCID_SPAWN_H
#define XHCID_SPAWN_H

#include "xhcid.h"

/* Load every *.conf of dir: the number of rules, or -errno. */
int spawn_load_rules(const char *dir);
/* Configure (if a rule asks) and start the drivers for d at port: how
 * many were started, or -errno. */
int spawn_device(struct xhc *hc, const char *scheme, unsigned int port,
		 struct xdev *d);
/* The rule names of the drivers running for (port, gen), "a,b". */
size_t spawn_names(unsigned int port, uint64_t gen, char *buf, size_t size);
/* SIGTERM the drivers whose device is gone; reap exited drivers,
 * scheduling restarts of crashed ones; start the restarts due. */
void spawn_reap(struct xhc *hc);
/* When the next restart is due (CLOCK_MONOTONIC ns), 0: none. */
uint64_t spawn_next_restart(void);
void spawn_stop_all(void);

#endif /* XHCID_SPAWN_H */
