/*
 * redis_link.h: one connection to Redis that stays up: it connects (TCP,
 * TLS or a unix socket), authenticates (password or ACL user), selects the
 * database, reports itself ready, and after any loss reconnects with a
 * capped exponential backoff with jitter.  It never blocks the loop (but
 * for the name lookup of a host that is not an address, as hiredis did).
 *
 * The link speaks RESP itself over a libevent bufferevent, plain or
 * bufferevent_openssl, with hiredis's reader (redisReaderFeed /
 * redisReaderGetReply) and formatter (redisFormatCommandArgv): Debian 12's
 * hiredis 0.14 has no TLS, and its asynchronous context knows neither
 * SSUBSCRIBE nor a way to be told that a reply is a push; one code path
 * serves plain and TLS links, pub/sub and commands.
 */
#ifndef SG_REDIS_LINK_H
#define SG_REDIS_LINK_H

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <openssl/ssl.h>

#include "core/common.h"

struct redis_link;

/* redis[s]://[user[:password]@]host[:port][/db] or unix:///path[?db=N];
 * user and password may be percent-encoded; ":password@" is the default
 * user's password. */
struct redis_url {
	char host[256]; /* or the socket path when unix */
	int port;
	int db;
	bool unix_socket;
	bool tls; /* rediss:// */
	char user[128];
	char password[256];
};

/* Parses a URL (pure). */
int redis_url_parse(const char *url, struct redis_url *out, struct sg_err *err) SG_WUR;

/* A command's reply (borrowed for the call), or NULL when the connection
 * was lost or the link freed before it came. */
typedef void redis_link_cb(struct redis_link *l, redisReply *reply, void *arg);

struct redis_link_ops {
	/* The link is connected, authenticated and on the right database. */
	void (*on_ready)(struct redis_link *l, void *arg);
	/* The link was lost (a reconnect is already scheduled). */
	void (*on_lost)(struct redis_link *l, void *arg);
	/* A reply no command waits for (borrowed): once a link has sent
	 * redis_link_subscribe(), the confirmations and the messages of
	 * SUBSCRIBE, PSUBSCRIBE and SSUBSCRIBE, and their errors (-MOVED). */
	void (*on_push)(struct redis_link *l, const redisReply *reply, void *arg);
};

/* How a link secures rediss:// URLs (borrowed by redis_link_new, which
 * takes its own reference on ctx). */
struct redis_link_tls {
	SSL_CTX *ctx;
	const char *server_name; /* NULL: the URL's host; also checked in the certificate */
};

/* A client context for Redis over TLS: TLS 1.2 at least, the peer
 * verified against ca_file (NULL: the system's store), with a client
 * certificate when cert_file/key_file are set.  Returns a new context
 * (SSL_CTX_free), or NULL with err naming the file at fault. */
SSL_CTX *redis_link_tls_ctx_new(const char *ca_file, const char *cert_file, const char *key_file,
				struct sg_err *err) SG_WUR;

/* Starts connecting to urls[0] (copied; n_urls >= 1).  password, when not
 * NULL, replaces the URLs' passwords (redis.password / password_file); tls
 * is needed when a URL is rediss:// (else NULL).  After a failed
 * attempt or a loss, the next connection goes to the next URL of the list
 * (seed nodes of a Redis Cluster, or replicas behind a failover): classic
 * pub/sub is cluster-wide, so any reachable node serves.  name is used in
 * log lines ("subscriber", ...).  ops/arg are borrowed and must outlive
 * the link. */
struct redis_link *redis_link_new(struct event_base *base, const struct redis_url *urls,
				  size_t n_urls, const char *password,
				  const struct redis_link_tls *tls, const char *name,
				  const struct redis_link_ops *ops, void *arg);
/* Disconnects at once (pending callbacks get NULL replies) and frees.
 * Not from one of the link's own callbacks. */
void redis_link_free(struct redis_link *l);

bool redis_link_ready(const struct redis_link *l);
/* Connections lost since start. */
uint64_t redis_link_losses(const struct redis_link *l);
/* Drops the connection and reconnects (e.g. a stalled subscriber). */
void redis_link_reset(struct redis_link *l, const char *why);

/* What a command sent through redis_link_command() is charged besides its
 * formatted size (the RESP bytes in the connection's output buffer): the
 * link's entry for its callback, the wrapper below, the small reply (an integer or an
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
int redis_link_command(struct redis_link *l, redis_link_cb *cb, void *arg, int argc,
		       const char **argv, const size_t *argvlen,
		       enum redis_link_refusal *why) SG_WUR;

/* Sends a command whose replies are pushes (SUBSCRIBE, PSUBSCRIBE,
 * SSUBSCRIBE and their UN- forms): from then on, until the connection is
 * lost, every reply goes to ops->on_push and redis_link_command() refuses
 * (REDIS_LINK_DOWN), as Redis takes no other command on a subscribed RESP2
 * connection.  Returns 0, or -1 when the link is not ready. */
int redis_link_subscribe(struct redis_link *l, int argc, const char **argv,
			 const size_t *argvlen) SG_WUR;

#endif
