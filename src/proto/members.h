/*
 * members.h: which siogate instances share a Redis, and which one of them
 * relays JSON-channel messages to the rest of the adapter cluster.
 *
 * Every siogate subscribed to the JSON channel delivers a JSON message to
 * its own clients.  Node peers (socket.io with @socket.io/redis-adapter)
 * only read the adapter format, so exactly one siogate re-publishes each
 * JSON message in that format: the relay.  Instances announce themselves on
 * the members channel with a heartbeat; the relay is the live, settled
 * member with the smallest uid.  The subscriber connection delivers the
 * members channel and the JSON channel in one order (Redis's publish
 * order), so every instance agrees on the relay at each JSON message: a
 * hand-over (an instance settling, or leaving on shutdown) neither drops
 * nor doubles a relay.  Only a member that vanishes without leaving
 * (crash, lost link) leaves a gap, until its heartbeat expires.
 *
 * Pure state: no I/O, no clock of its own.  The bridge publishes what
 * members_heartbeat() writes and feeds back what arrives.
 */
#ifndef SG_MEMBERS_H
#define SG_MEMBERS_H

#include "core/common.h"

/* A heartbeat every MEMBERS_HEARTBEAT_MS; a member unheard for
 * MEMBERS_EXPIRE_MS is gone; an instance that (re)subscribed announces
 * itself as settling for MEMBERS_SETTLE_MS, long enough to have heard
 * every live member, before it may relay. */
#define MEMBERS_HEARTBEAT_MS 1000
#define MEMBERS_EXPIRE_MS 3500
#define MEMBERS_SETTLE_MS 2500
/* Members tracked at most; heartbeats from more are ignored. */
#define MEMBERS_MAX 256

struct members;

/* uid: this instance's adapter uid; server_id: its server.id (shown in
 * the heartbeat for operators). */
struct members *members_new(const char *uid, const char *server_id);
void members_free(struct members *m);

/* The subscriber link (re)subscribed at now: forget everyone, settle
 * again.  members_lost: the link went down: forget everyone. */
void members_subscribed(struct members *m, int64_t now);
void members_lost(struct members *m);

/* Appends this instance's heartbeat (JSON) to out and returns true, or
 * returns false when there is nothing to announce (not subscribed, or
 * already left). */
bool members_heartbeat(struct members *m, int64_t now, struct sg_buf *out);

/* Appends the leaving announcement to out; no heartbeat follows. */
void members_leave(struct members *m, struct sg_buf *out);

/* A message on the members channel, received at now.  Returns -1 with err
 * for a malformed one (ignored). */
int members_on_message(struct members *m, const char *payload, size_t len, int64_t now,
		       struct sg_err *err) SG_WUR;

/* Whether this instance is the relay at now. */
bool members_is_relay(const struct members *m, int64_t now);

/* Live members at now, this instance included once its own heartbeat came
 * back: settled ones (ready = true) or still settling (ready = false). */
size_t members_count(const struct members *m, int64_t now, bool ready);

#endif
