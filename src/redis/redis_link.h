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

#include "core/common.h"

struct redis_link;

/* redis://[[user]:password@]host[:port][/db] or unix:///path[?db=N] */
struct redis_url {
	char host[256]; /* or the socket path when unix */
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

/* What a command sent through redis_link_command() is charged besides its
 * formatted size (the RESP bytes in hiredis's output buffer): hiredis's
 * callback entry, the wrapper below, the small reply (an integer or an
 * entry id) and the allocator's overhead. */
#define REDIS_LINK_CMD_OVERHEAD 128

/* Why redis_link_command() refused a command. */
enum redis_link_refusal {
	REDIS_LINK_DOWN,    /* the link is not connected and set up */
	REDIS_LINK_PENDING, /* the bytes waiting for a reply would pass max_pending */
};

/* Bounds the bytes of the commands sent through redis_link_command() that
 * still wait for their reply (0: no bound; the default). */
void redis_link_set_max_pending(struct redis_link *l, size_t max_pending);
/* The bytes charged now: formatted size plus REDIS_LINK_CMD_OVERHEAD for
 * each command without a reply yet, on this connection or a lost one whose
 * callbacks have not run yet. */
size_t redis_link_pending(const struct redis_link *l);

/* The size of the RESP array hiredis formats for argv (pure). */
size_t redis_link_command_size(int argc, const size_t *argvlen);

/* Sends argv (binary-safe) with its bytes charged until the reply comes.
 * cb (may be NULL) is called exactly once, from the loop, with the reply or
 * with NULL when the connection was lost or the link freed first.  Returns
 * 0, or -1 with *why set when the command was not sent (cb not called). */
int redis_link_command(struct redis_link *l, redisCallbackFn *cb, void *arg, int argc,
		       const char **argv, const size_t *argvlen,
		       enum redis_link_refusal *why) SG_WUR;

#endif
