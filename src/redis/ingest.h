/*
 * ingest.h: durable ingestion from a Redis stream (redis.ingest_stream).
 * Besides pub/sub, a backend may XADD its JSON-channel messages to a
 * stream; each worker of each instance reads it through a consumer group
 * of its own (`siogate:<server.id>:<worker>`, created at "$" with
 * MKSTREAM the first time), so every worker sees every message and
 * delivers it to its own sockets, and acknowledges it (XACK) once it has.
 * A worker that stopped or crashed reads its own pending entries again
 * ("0") before new ones (">") when it comes back, so nothing it read and
 * did not deliver is lost; its group remembers where it stopped, so
 * nothing added meanwhile is missed.  An entry's `message` field holds
 * the message; an optional `key` field is an idempotency key: an entry
 * whose key this worker delivered recently (the last INGEST_KEYS keys) is
 * acknowledged and skipped.  Reads block on a connection of their own.
 */
#ifndef SG_INGEST_H
#define SG_INGEST_H

#include "redis/redis_link.h"

struct ingest;

/* The most recent idempotency keys a worker remembers. */
#define INGEST_KEYS 65536
/* Entries read at once. */
#define INGEST_BATCH 100

struct ingest_stats {
	uint64_t delivered;  /* entries handed to on_message */
	uint64_t duplicates; /* skipped for their key */
	uint64_t malformed;  /* without a message field */
};

/* Called with each entry's message (borrowed for the call). */
typedef void ingest_message_fn(void *arg, const char *msg, size_t len);

/* Starts reading stream with group `group` as consumer `consumer` over a
 * link of its own (urls, password and tls as redis_link_new's). */
struct ingest *ingest_new(struct event_base *base, const struct redis_url *urls, size_t n_urls,
			  const char *password, const struct redis_link_tls *tls,
			  const char *stream, const char *group, const char *consumer,
			  ingest_message_fn *on_message, void *arg);
void ingest_free(struct ingest *in);
void ingest_get_stats(const struct ingest *in, struct ingest_stats *out);
bool ingest_up(const struct ingest *in);

#endif
