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

/* Applies op to the sockets of w.  Returns how many sockets it touched
 * (disconnected, or that joined or left at least one room). */
size_t chanop_apply(struct worker *w, const struct chan_op *op);

#endif
