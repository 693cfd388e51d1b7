/*
 * bridge.h: siogate's link to Redis.  It subscribes to the Socket.IO adapter
 * channels of every configured namespace (`<prefix>#<nsp>#*`), decodes what
 * @socket.io/redis-emitter and adapter peers publish, drops its own echoes,
 * hands each message to the layers above through the bridge_ops they
 * registered (local delivery, the adapter's requests), and publishes what
 * siogate sends to others.  Its links reconnect with a capped exponential backoff
 * with jitter and never block the loop; what waits for Redis is bounded by
 * redis.max_pending bytes per link.  Worker 0's bridge adds up the time
 * any worker's subscriptions were down and announces each such gap once,
 * as a redis_gap lifecycle event (bridge_gap.h).
 */
#ifndef SG_BRIDGE_H
#define SG_BRIDGE_H

#include <event2/event.h>

#include "core/common.h"

struct worker;
struct bridge;
struct adapter_broadcast;
struct emit_msg;
struct chan_op;
struct redis_link;

/* What the bridge hands to the layers above it, given to bridge_new() by
 * the program (the cluster layer's cluster_bridge_ops).  Called from the
 * worker's loop; every argument is borrowed for the call. */
struct bridge_ops {
	/* A broadcast of another member of the cluster (or an emitter), for
	 * the local sockets. */
	void (*on_broadcast)(struct worker *w, const struct adapter_broadcast *m);
	/* A JSON-channel message, for the local sockets. */
	void (*on_json)(struct worker *w, const struct emit_msg *m);
	/* A JSON-channel emit with "ack" (emit_msg.h): handed to the relay
	 * instance's worker 0 only, which asks the whole cluster; no worker
	 * delivers it itself and it is not relayed. */
	void (*on_json_ack)(struct worker *w, const struct emit_msg *m);
	/* A JSON-channel operation (chan_op.h), for the local sockets (never
	 * one this instance published with its uid as origin). */
	void (*on_op)(struct worker *w, const struct chan_op *op);
	/* Whether namespace nsp (len bytes) is served here; a message for one
	 * that is not is dropped (and named once in the log by the callee).
	 * where: the channel it came on. */
	bool (*serves_nsp)(struct worker *w, const char *nsp, size_t len, const char *where);
	/* The adapter's request/response protocol (worker 0's bridge only): a
	 * request for namespace nsp, and a response to one of siogate's. */
	void (*on_request)(struct worker *w, struct bridge *b, const char *nsp, size_t nsp_len,
			   const char *payload, size_t len);
	void (*on_response)(struct worker *w, const char *payload, size_t len);
};

/* Starts connecting (asynchronously), with ops (borrowed, must outlive the
 * bridge).  Returns NULL with err when the URL cannot be used. */
struct bridge *bridge_new(struct worker *w, const struct bridge_ops *ops,
			  struct sg_err *err) SG_WUR;
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
/* Whether this instance relays JSON-channel messages to the adapter
 * cluster now (members.h): worker 0's bridge of one instance. */
bool bridge_is_relay(const struct bridge *b);

/* Why a publish (or an XADD) was lost. */
enum bridge_drop {
	BRIDGE_DROP_DOWN,    /* the publisher link was not connected */
	BRIDGE_DROP_PENDING, /* redis.max_pending bytes already waited for Redis */
	BRIDGE_DROP_FAILED,  /* sent, but Redis answered an error or the link was lost first */
	BRIDGE_DROP__COUNT
};

/* "down", "pending", "failed": the reason label of siogate_redis_dropped_total. */
const char *bridge_drop_name(enum bridge_drop d);

struct bridge_stats {
	uint64_t received;		      /* messages received on subscribed channels */
	uint64_t bad_messages;		      /* undecodable messages, dropped */
	uint64_t published;		      /* publishes Redis acknowledged */
	uint64_t publish_dropped;	      /* publishes lost, all reasons */
	uint64_t dropped[BRIDGE_DROP__COUNT]; /* ... by reason */
	size_t pending_bytes;  /* bytes of commands waiting for Redis's reply (both links) */
	uint64_t gap_ms;       /* worker 0: the process's subscription gaps, ms (bridge_gap.h) */
	uint64_t gaps;	       /* worker 0: gaps closed (each announced once) */
	uint64_t reconnects;   /* connections lost and re-established */
	uint64_t json_relayed; /* JSON-channel messages re-published in the adapter format */
	uint64_t ingest_delivered;  /* redis.ingest_stream entries delivered */
	uint64_t ingest_duplicates; /* ... skipped for their idempotency key */
	uint64_t ingest_malformed;  /* ... without a message field */
	size_t members_ready;	    /* live siogate instances on this Redis (members.h), settled */
	size_t members_settling;    /* ... and still settling */
	bool relay;		    /* this instance relays JSON-channel messages */
	bool subscriber_up;
	bool publisher_up;
};

void bridge_get_stats(const struct bridge *b, struct bridge_stats *out);

/* PUBLISHes data on channel through the publisher link.  Returns 0 when it
 * was sent, -1 when it was dropped (and counted): the link is down, or
 * redis.max_pending bytes of commands already wait for Redis's reply. */
int bridge_publish(struct bridge *b, const char *channel, const void *data, size_t len);

/* XADD stream MAXLEN ~ maxlen * field value... through the publisher link.
 * cb (may be NULL) gets the new entry's id, or NULL when Redis refused it
 * or the link went down; it is called from the loop, later.  Returns -1
 * (cb not called) when the command could not be sent (counted), with *why
 * set when why is not NULL. */
typedef void (*bridge_xadd_cb)(const char *entry_id, void *arg);
int bridge_xadd(struct bridge *b, const char *stream, uint64_t maxlen, const char *const *fields,
		const char *const *values, const size_t *value_lens, size_t n, bridge_xadd_cb cb,
		void *arg, enum bridge_drop *why);

/* PUBSUB NUMSUB channel through the publisher link: cb gets the number of
 * subscribers, or -1 when Redis could not answer; always called later,
 * from the loop (even while stopping: the callback owns arg).  Returns -1
 * (cb not called) when the command could not be sent. */
typedef void (*bridge_count_cb)(long long n, void *arg);
int bridge_numsub(struct bridge *b, const char *channel, bridge_count_cb cb, void *arg);

/* The siogate instances on this Redis (the subscribers of the members
 * channel, one per instance), counted as bridge_numsub counts. */
int bridge_count_instances(struct bridge *b, bridge_count_cb cb, void *arg);

/* The publisher link, for the few commands of the layers above that are
 * not publishes (connection state recovery's sessions: replay_store.h);
 * NULL when b is NULL. */
struct redis_link *bridge_publisher(struct bridge *b);

/* Publishes m in the adapter format with the given uid, without local
 * delivery, so every other member of the cluster (siogate or Node)
 * delivers it.  Returns whether Redis took it. */
bool bridge_publish_emit(struct bridge *b, const struct emit_msg *m, const char *uid);

#endif
