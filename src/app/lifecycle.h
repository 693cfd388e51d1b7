/*
 * lifecycle.h: lifecycle events on redis.lifecycle_channel (SPEC.md section
 * 4), the seed's clientConnectedFn generalised so backends can keep
 * presence:
 *   {"type":"connected"|"authenticated"|"joined"|"left"|"disconnected"|"recovered",
 *    "id":<socket id>,"nsp":<namespace>,"server":<server.id>,"user":<sub or null>,
 *    "rooms":[...],"reason":<text or null>,"time":<ISO-8601>}
 * Nothing is published without Redis; a publish that cannot be made is
 * dropped and counted by the bridge, never buffered.
 */
#ifndef SG_LIFECYCLE_H
#define SG_LIFECYCLE_H

#include "core/common.h"

struct sio_socket;

enum lifecycle_type {
	LIFECYCLE_CONNECTED,	 /* the socket joined its namespace */
	LIFECYCLE_AUTHENTICATED, /* the verifier accepted it (rooms: its rooms) */
	LIFECYCLE_JOINED,	 /* it joined rooms (rooms: those) */
	LIFECYCLE_LEFT,		 /* it left rooms (rooms: those) */
	LIFECYCLE_DISCONNECTED,	 /* it is gone (reason says why) */
	LIFECYCLE_RECOVERED,	 /* it came back with its id, rooms and identity */
};

/* rooms: the rooms concerned, or NULL for the socket's current rooms (all
 * but its own id room); reason: NULL or the close text. */
void lifecycle_publish(struct sio_socket *sock, enum lifecycle_type type,
		       const struct sg_strv *rooms, const char *reason);

#endif
