/*
 * jwks_fetch.h: the issuer's keys, fetched (auth.jwt.jwks_url, or OIDC
 * discovery from auth.jwt.issuer: <issuer>/.well-known/openid-configuration
 * -> jwks_uri).  One fetcher per process, on a thread and an event loop of
 * its own with its own HTTP client (https with auth.jwt.ca_file): the
 * workers never wait on it.  It loads each set into a jwt_remote
 * (auth_jwt.h) that every verifier uses; the old set stays until a new one
 * parses.  Refreshes follow the answer's Cache-Control max-age, within
 * [auth.jwt.jwks_min_refresh, 1 day] (1 hour without one); a failed fetch
 * is retried after jwks_min_refresh, doubling up to 5 minutes; a token with
 * an unknown kid asks for a fetch at once, at most once per
 * jwks_min_refresh (jwt_remote_want_kid).
 */
#ifndef SG_JWKS_FETCH_H
#define SG_JWKS_FETCH_H

#include "config/config.h"
#include "core/common.h"

struct jwt_remote;
struct jwks_fetch;

/* The longest the first fetch (discovery and key set) may take. */
#define JWKS_START_TIMEOUT_MS 10000

/* Fetches the key set for cfg into r now, waiting for it (at most
 * JWKS_START_TIMEOUT_MS), then keeps it fresh from a thread.  When the first
 * fetch fails and auth.jwt.jwks_file is set, that cached copy is loaded
 * instead (with a warning); else NULL, with why in err.  r is borrowed and
 * must outlive the fetcher. */
struct jwks_fetch *jwks_fetch_start(const struct sg_config *cfg, struct jwt_remote *r,
				    struct sg_err *err) SG_WUR;
/* Stops the thread and frees the fetcher (NULL is fine). */
void jwks_fetch_stop(struct jwks_fetch *f);

/* One fetch, waited for, no thread (`siogate token --verify`). */
int jwks_fetch_once(const struct sg_config *cfg, struct jwt_remote *r, struct sg_err *err) SG_WUR;

#endif
