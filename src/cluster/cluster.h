/*
 * cluster.h: siogate as a member of a @socket.io/redis-adapter cluster
 * (PROTOCOL.md section 3.4): it answers the requests Node peers and the
 * emitter publish on <prefix>-request#<nsp># (SOCKETS, ALL_ROOMS,
 * REMOTE_JOIN, REMOTE_LEAVE, REMOTE_DISCONNECT, REMOTE_FETCH, BROADCAST
 * with acks), so a peer's fetchSockets(), socketsJoin(), disconnectSockets()
 * and emitWithAck() include siogate's sockets; and it publishes its own
 * broadcasts in the adapter format so peers deliver them.
 */
#ifndef SG_CLUSTER_H
#define SG_CLUSTER_H

#include <jansson.h>

#include "core/common.h"

struct worker;
struct bridge;
struct sio_socket;
struct emit_msg;

/* A request for namespace nsp (payload: JSON, or msgpack when it does not
 * start with '{'). */
void cluster_on_request(struct worker *w, struct bridge *b, const char *nsp, size_t nsp_len,
			const char *payload, size_t len);

/* Delivers m locally and publishes it in the adapter format with siogate's
 * uid, so every other member of the cluster (siogate or Node) delivers it
 * too.  Returns the local recipients; *published tells whether Redis took
 * it. */
size_t cluster_broadcast(struct worker *w, const struct emit_msg *m, bool *published);

/* The sockets of the rest of the cluster: REMOTE_FETCH requests on every
 * namespace, answered by every other member (as many as PUBSUB NUMSUB
 * counts), or whatever arrived within CLUSTER_FETCH_TIMEOUT_MS.  cb gets
 * the socket descriptions as the elements of a JSON array (no brackets),
 * and whether some member did not answer; it is called from the loop. */
typedef void (*cluster_fetch_cb)(struct worker *w, const char *sockets, size_t len, bool partial,
				 void *arg);
void cluster_fetch_remote(struct worker *w, cluster_fetch_cb cb, void *arg);

/* How many sockets user sub has on the other siogate instances of the
 * cluster: a request of siogate's own (type "siogate:user", which Node peers
 * ignore) on the first namespace's request channel, answered by every other
 * instance (as many as the members channel counts) with its server.id and
 * its count, or whatever arrived within CLUSTER_FETCH_TIMEOUT_MS.  cb gets
 * the sum, the server ids of the instances that have some (JSON strings,
 * comma-separated, no brackets) and whether some instance did not answer;
 * it is called from the loop, or at once without Redis. */
typedef void (*cluster_user_cb)(struct worker *w, unsigned long long sockets, const char *instances,
				size_t len, bool partial, void *arg);
void cluster_user_remote(struct worker *w, const char *sub, cluster_user_cb cb, void *arg);

/* A message on a response channel (answers to siogate's own requests). */
void cluster_on_response(struct worker *w, const char *payload, size_t len);

/* What the bridge hands up (bridge_new): broadcasts, JSON-channel
 * messages and operations (chanop.h) delivered to the local sockets, the namespaces served, and the
 * adapter's requests and responses answered here. */
extern const struct bridge_ops cluster_bridge_ops;

/* Ends pending fetches (at shutdown): their callbacks run, partial. */
void cluster_fini(struct worker *w);

#endif
