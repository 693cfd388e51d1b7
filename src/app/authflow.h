/*
 * authflow.h: the seed's helper behaviour for one Socket.IO socket (SPEC.md
 * section 2): the unauthorized -> authenticating -> authenticated state
 * machine, the auth timeout, the app-level "ping" event, default rooms, and
 * join/leave validated by the room rules.  It is the sio_handler of the
 * daemon's workers (registered by authflow_module): the socket layer calls
 * in on connect, on every event and on close, and every socket carries this
 * layer's state after it (authflow_socket.h); this layer answers through
 * sio.h.
 */
#ifndef SG_AUTHFLOW_H
#define SG_AUTHFLOW_H

#include "app/authflow_socket.h"

/* The authenticate flow's part of every worker (worker_module): it becomes
 * the worker's sio_handler, with its timeouts. */
extern const struct worker_module authflow_module;

/* Ends a connected socket whose identity was revoked, as an expired token
 * ends: `unauthenticated` {message, time} with the invalid-token message,
 * then DISCONNECT (io server disconnect: the client does not reconnect),
 * close reason "revoked".  Nothing for a socket already closing. */
void authflow_revoke(struct sio_socket *sock);

#endif
