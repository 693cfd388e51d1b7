/*
 * room_check.h: the room validator call-out (rooms.http), the seed's
 * validateRoomFn as a service: a join's rooms go as {id, user, claims,
 * rooms} in a POST to rooms.http.url, and the answer {"rooms": [...]} is
 * the subset that may be joined.  A timeout, an error or an answer of
 * another shape refuses every room (the secure default).
 */
#ifndef SG_ROOM_CHECK_H
#define SG_ROOM_CHECK_H

#include <jansson.h>

#include "core/common.h"

struct sio_socket;
struct worker;

/* Asks about rooms (an array; a reference is taken, or stolen when
 * owned_rooms is true) for sock and completes its join, with the ack when
 * ack_id >= 0, once the validator answers. */
void room_check_start(struct sio_socket *sock, json_t *rooms, int64_t ack_id, bool owned_rooms);

void room_check_fini(struct worker *w);

#endif
