/*
 * redis_link.h: one asynchronous hiredis connection that stays up: it
 * connects (TCP or unix socket), authenticates (password or ACL user),
 * selects the database, reports itself ready, and after any loss reconnects
 * with a capped exponential backoff with jitter.  It never blocks the loop.
 */
#ifndef SG_REDIS_LINK_H
#define SG_REDIS_LINK_H

#include <event2/event.h>
#include <hiredis/async.h>

#include "common.h"

struct redis_link;

/* redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N] */
struct redis_url {
	char host[256];   /* or the socket path when unix */
	int port;
	int db;
	bool unix_socket;
	char user[128];
	char password[256];
};

/* Parses a URL (pure). */
int redis_url_parse(const char *url, struct redis_url *out, struct sg_err *err) SG_WUR;

struct redis_link_ops {
	/* The link is connected, authenticated and on the right database. */
	void (*on_ready)(struct redis_link *l, void *arg);
	/* The link was lost (a reconnect is already scheduled). */
	void (*on_lost)(struct redis_link *l, void *arg);
};

/* Starts connecting to urls[0] (copied; n_urls >= 1).  After a failed
 * attempt or a loss, the next connection goes to the next URL of the list
 * (seed nodes of a Redis Cluster, or replicas behind a failover): classic
 * pub/sub is cluster-wide, so any reachable node serves.  name is used in
 * log lines ("subscriber", ...).  ops/arg are borrowed and must outlive
 * the link. */
struct redis_link *redis_link_new(struct event_base *base, const struct redis_url *urls,
				  size_t n_urls, const char *name, const struct redis_link_ops *ops,
				  void *arg);
/* Disconnects at once (pending callbacks get NULL replies) and frees. */
void redis_link_free(struct redis_link *l);

/* The context while ready, else NULL. */
redisAsyncContext *redis_link_context(const struct redis_link *l);
bool redis_link_ready(const struct redis_link *l);
/* Connections lost since start. */
uint64_t redis_link_losses(const struct redis_link *l);
/* Drops the connection and reconnects (e.g. a stalled subscriber). */
void redis_link_reset(struct redis_link *l, const char *why);

#endif
