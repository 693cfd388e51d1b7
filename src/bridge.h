/*
 * bridge.h: siogate's link to Redis.  It subscribes to the Socket.IO adapter
 * channels of every configured namespace (`<prefix>#<nsp>#*`), decodes what
 * @socket.io/redis-emitter and adapter peers publish, drops its own echoes,
 * hands each message to the worker's broadcast, and publishes what siogate
 * sends to others.  Its links reconnect with a capped exponential backoff
 * with jitter and never block the loop.
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
bool bridge_publisher_up(const struct bridge *b);
/* Announces on the members channel that this instance leaves (at the start
 * of a shutdown): another takes over relaying JSON-channel messages. */
void bridge_leave(struct bridge *b);
/* The 6-character uid this process uses in the adapter protocol (every
 * worker's bridge has the same). */
#define BRIDGE_UID_MAX 8
const char *bridge_uid(const struct bridge *b);

struct bridge_stats {
	uint64_t received;        /* messages received on subscribed channels */
	uint64_t bad_messages;    /* undecodable messages, dropped */
	uint64_t published;       /* publishes Redis acknowledged */
	uint64_t publish_dropped; /* publishes lost: Redis down, refused, or too many in flight */
	uint64_t reconnects;      /* connections lost and re-established */
	uint64_t json_relayed;    /* JSON-channel messages re-published in the adapter format */
	size_t members_ready;     /* live siogate instances on this Redis (members.h), settled */
	size_t members_settling;  /* ... and still settling */
	bool relay;               /* this instance relays JSON-channel messages */
	bool subscriber_up;
	bool publisher_up;
};

void bridge_get_stats(const struct bridge *b, struct bridge_stats *out);

/* PUBLISHes data on channel through the publisher link.  Returns 0 when it
 * was sent, -1 when it was dropped (and counted). */
int bridge_publish(struct bridge *b, const char *channel, const void *data, size_t len);

/* XADD stream MAXLEN ~ maxlen * field value... through the publisher link.
 * cb (may be NULL) gets the new entry's id, or NULL when Redis refused it
 * or the link went down; it is called from the loop, later.  Returns -1
 * (cb not called) when the command could not be sent (counted). */
typedef void (*bridge_xadd_cb)(const char *entry_id, void *arg);
int bridge_xadd(struct bridge *b, const char *stream, uint64_t maxlen,
		const char *const *fields, const char *const *values, const size_t *value_lens,
		size_t n, bridge_xadd_cb cb, void *arg);

/* PUBSUB NUMSUB channel through the publisher link: cb gets the number of
 * subscribers, or -1 when Redis could not answer; always called later,
 * from the loop (even while stopping: the callback owns arg).  Returns -1
 * (cb not called) when the command could not be sent. */
typedef void (*bridge_count_cb)(long long n, void *arg);
int bridge_numsub(struct bridge *b, const char *channel, bridge_count_cb cb, void *arg);

#endif
