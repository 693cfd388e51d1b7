/*
 * bridge.h: siogate's link to Redis.  It subscribes to the Socket.IO adapter
 * channels of every configured namespace (`<prefix>#<nsp>#*`), decodes what
 * @socket.io/redis-emitter and adapter peers publish, drops its own echoes,
 * and hands each message to the worker's broadcast.  It reconnects with a
 * capped exponential backoff with jitter and never blocks the loop.
 */
#ifndef SG_BRIDGE_H
#define SG_BRIDGE_H

#include <event2/event.h>

#include "common.h"

struct worker;
struct bridge;

/* Starts connecting (asynchronously).  Returns NULL with err when the URL
 * cannot be used. */
struct bridge *bridge_new(struct worker *w, struct sg_err *err) SG_WUR;
/* Disconnects and frees (no callbacks after it returns). */
void bridge_free(struct bridge *b);
bool bridge_is_subscribed(const struct bridge *b);
/* The 6-character uid this instance uses in the adapter protocol. */
const char *bridge_uid(const struct bridge *b);

/* Parses redis://[[user]:password@]host[:port][/db] (pure; for tests too). */
struct redis_url {
	char host[256];
	int port;
	int db;
	char user[128];
	char password[256];
};
int bridge_parse_url(const char *url, struct redis_url *out, struct sg_err *err) SG_WUR;

#endif
