/*
 * chanop.h: the JSON channel's operations (proto/chan_op.h) carried out on
 * the sockets of a worker: disconnect (a user's sockets are revoked:
 * `unauthenticated`, then DISCONNECT; sockets named by `to` are
 * disconnected as the adapter's disconnectSockets() does), join and leave
 * (authenticated sockets; a room named like a socket id is never joined;
 * rooms.max_per_client holds; `joined`/`left` lifecycle events).  Every
 * worker subscribes to the JSON channel, so each applies an operation to its
 * own sockets; worker 0 counts it for the instance.
 */
#ifndef SG_CHANOP_H
#define SG_CHANOP_H

#include "core/common.h"

struct worker;
struct chan_op;

/* Applies op (from the JSON channel) to the sockets of w.  Returns how
 * many sockets it touched (disconnected, or that joined or left at least
 * one room).  Worker 0 counts it; worker 0 of the relay instance also
 * passes an operation on rooms and socket ids without origin to the Node
 * peers of the cluster (chanop_publish_remote). */
size_t chanop_apply(struct worker *w, const struct chan_op *op);

/* The same for the admin API: not counted as a JSON-channel operation;
 * by names who asked, for the log. */
size_t chanop_run(struct worker *w, const struct chan_op *op, const char *by);

/* Publishes op as the adapter's REMOTE_JOIN, REMOTE_LEAVE or
 * REMOTE_DISCONNECT request (opts.rooms: to, opts.except: except) on the
 * namespace's request channel, for the Node peers of the cluster (siogate
 * instances skip it: its uid carries CHANOP_REMOTE_UID_PREFIX).  An
 * operation by user is not published (Node peers know no users).  Returns
 * whether Redis took it (true when there was nothing to publish). */
bool chanop_publish_remote(struct worker *w, const struct chan_op *op);
#define CHANOP_REMOTE_UID_PREFIX "siogate-op:"

#endif
