/*
 * auth_throttle.h: failed authentications per client address
 * (limits.auth_failures_per_minute, limits.auth_failures_burst), a token
 * bucket each, a failure taking a token.  An address that has not failed
 * lately (no bucket, or a full one) is not limited at all: a thousand
 * clients behind one NAT may authenticate at once.  Once an address has
 * failed, each of its attempts takes a token before the verifier runs and
 * gives it back when the client is accepted, so attempts in flight count
 * too: a flood of bad tokens reaches the verifier `burst` times plus what
 * began before its first failure was known.  An address whose bucket is
 * empty is refused without verifying.
 *
 * One table for the whole process, shared by the workers: the connections
 * of one address are spread over every worker, and a table per worker
 * would give an address server.workers times the budget.  Thread-safe: one
 * mutex, taken once or twice per authentication (which costs a signature
 * check or an HTTP call anyway), never per message.  Bounded: at most
 * AUTH_THROTTLE_MAX_ADDRS addresses (about 2 MB); when full, the address
 * touched least recently is forgotten, and an address whose bucket has
 * refilled holds nothing worth keeping and is dropped as it is met.
 */
#ifndef SG_AUTH_THROTTLE_H
#define SG_AUTH_THROTTLE_H

#include <stdint.h>

#include "core/common.h"

struct auth_throttle;
struct sg_config;

/* Addresses remembered at most. */
#define AUTH_THROTTLE_MAX_ADDRS 16384

struct auth_throttle *auth_throttle_new(void);
void auth_throttle_free(struct auth_throttle *t);

/* What auth_throttle_begin() decided about an attempt. */
enum throttle_admit {
	THROTTLE_REFUSED, /* the address is over its limit: refuse without verifying */
	THROTTLE_CLEAN,	  /* no failure remembered: verify; nothing was taken */
	THROTTLE_TAKEN,	  /* failures remembered: verify; a token was taken for it */
};

/* An authentication attempt from addr at now_ms (monotonic), under the
 * limits of cfg (read at each call: a reload applies at once).  Always
 * THROTTLE_CLEAN when limits.auth_failures_per_minute is 0. */
enum throttle_admit auth_throttle_begin(struct auth_throttle *t, const struct sg_config *cfg,
					const char *addr, int64_t now_ms);

/* The outcome of an attempt that begin() admitted as `admit`: failed when
 * it was the client's failure (no token, a bad one, the verifier's refusal,
 * or the client left before the verdict), not when it was accepted or the
 * verifier could not decide.  A clean attempt that failed takes a token
 * (none below zero); a taken one that did not fail gives its token back. */
void auth_throttle_end(struct auth_throttle *t, const struct sg_config *cfg, const char *addr,
		       int64_t now_ms, enum throttle_admit admit, bool failed);

/* Addresses held now (tests and metrics). */
size_t auth_throttle_size(struct auth_throttle *t);

#endif
