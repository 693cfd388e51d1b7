/*
 * users.h: a user's sockets on one worker, the user being the sub claim of
 * a socket's verified identity (authflow_user): found, counted, revoked.
 * Each worker answers for its own sockets; the admin API and the cluster
 * ask every worker (gather.h), the JSON channel reaches every worker
 * itself.  The sockets are found by a walk over the worker's sockets: no
 * index per user, which would cost memory per client for what an operator
 * or a backend asks rarely (with 10,000 sockets on a worker, GET
 * /v1/users/{sub} answers in under 2 ms, HTTP included).
 */
#ifndef SG_USERS_H
#define SG_USERS_H

#include "core/common.h"

struct worker;
struct sio_socket;

/* The open sockets of w whose user is sub, in namespace nsp (NULL: every
 * namespace), in a new array *out that the caller frees (NULL when none).
 * Returns how many. */
size_t users_select(struct worker *w, const char *nsp, const char *sub, struct sio_socket ***out);

/* How many open sockets of w belong to sub (every namespace). */
size_t users_count(struct worker *w, const char *sub);

/* Revokes sub's sockets of w in nsp (NULL: every namespace): each hears
 * `unauthenticated` and is disconnected (authflow_revoke).  by names who
 * asked, for the log.  Returns how many. */
size_t users_revoke(struct worker *w, const char *nsp, const char *sub, const char *by);

#endif
