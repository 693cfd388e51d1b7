/*
 * workers.h: the worker threads of one process (server.workers).  Worker 0
 * runs on the caller's thread and loop; workers 1..n-1 each on a thread of
 * their own with their own event_base and their own Redis bridge.  They
 * share nothing on the hot path: the connection limits (admission.h) and
 * jobs through their inboxes (inbox.h, gather.h) are all that crosses.
 */
#ifndef SG_WORKER_SET_H
#define SG_WORKER_SET_H

#include <openssl/ssl.h>

#include "config/config.h"
#include "core/common.h"

struct worker;
struct worker_set;
struct jwt_verifier;
struct event_base;

/* n for server.workers (0: one per online processor). */
size_t worker_set_count(const struct sg_config *cfg);

/* Sets up n workers, worker 0 on base0 (borrowed), each with its bridge
 * when redis.url is set.  Nothing runs until worker_set_start(). */
struct worker_set *worker_set_new(struct event_base *base0, const struct sg_config *cfg,
				  const struct jwt_verifier *jwt, SSL_CTX *tls,
				  const char *admin_token, size_t n, struct sg_err *err) SG_WUR;
struct worker *worker_set_get(struct worker_set *s, size_t i);
/* Starts the threads of workers 1..n-1. */
int worker_set_start(struct worker_set *s, struct sg_err *err) SG_WUR;

/* Every worker stops taking connections, tells Redis it leaves, closes its
 * sessions over server.drain_window, and once it has none, says so;
 * on_drained(arg) runs on worker 0 when all have. */
void worker_set_drain(struct worker_set *s, void (*on_drained)(void *arg), void *arg);
/* Ends every worker's loop (worker 0's when control returns to it). */
void worker_set_stop(struct worker_set *s);

/* Joins the threads, runs the jobs still queued, closes what is open and
 * frees everything. */
void worker_set_free(struct worker_set *s);

#endif
