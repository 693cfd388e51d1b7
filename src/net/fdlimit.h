/*
 * fdlimit.h: the descriptor ceiling.  Every client costs one descriptor;
 * siogate keeps a reserve beyond them for what must keep working when the
 * clients fill the table: the listeners and the admin listener's
 * connections (/metrics, /readyz), each worker's event loop and Redis
 * links, the HTTP call-outs (verifier, room validator, forward rules) and
 * the files it reads.  server.max_connections: auto is the open-file limit
 * minus that reserve; an explicit value above it is lowered to it.
 */
#ifndef SG_FDLIMIT_H
#define SG_FDLIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/common.h"

struct sg_config;

/* The reserve, for cfg run by n_workers: FDLIMIT_BASE, FDLIMIT_PER_WORKER per
 * worker, and per worker the most connections each configured HTTP call-out
 * opens at once (auth.http.max_in_flight with verifier: http,
 * FDLIMIT_CALLOUT for rooms.http and for HTTP forward rules). */
#define FDLIMIT_BASE 64
#define FDLIMIT_PER_WORKER 16
#define FDLIMIT_CALLOUT 256 /* the in-flight cap of room_check.c's and forward.c's clients */
unsigned fdlimit_reserve(const struct sg_config *cfg, size_t n_workers);

struct fdlimit {
	uint64_t nofile;      /* the open-file limit in force (soft, after raising it) */
	uint64_t was;	      /* the soft limit found at start */
	unsigned reserve;     /* fdlimit_reserve() */
	unsigned max_clients; /* nofile - reserve, within server.max_connections' bounds */
};

/* Raises the soft open-file limit to the hard one (as Go and nginx's
 * worker_rlimit_nofile do: the soft limit is often 1024 for no reason of
 * siogate's) and computes the ceiling.  -1 with err when the limit cannot
 * be read. */
int fdlimit_setup(const struct sg_config *cfg, size_t n_workers, struct fdlimit *out,
		  struct sg_err *err) SG_WUR;

/* The ceiling for given numbers (pure, for tests): nofile - reserve, at
 * least 1 and at most 10000000 (server.max_connections' bound). */
unsigned fdlimit_clients(uint64_t nofile, unsigned reserve);

#endif
