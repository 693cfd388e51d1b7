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

/* Completes a join once the validator answered: allowed is its list (or an
 * empty array when it refused everything); sock is still open. */
typedef void (*room_check_done)(struct sio_socket *sock, json_t *rooms, const json_t *allowed,
				int64_t ack_id);

/* Asks about rooms (an array; a reference is taken, or stolen when
 * owned_rooms is true) for sock, then calls done (unless sock went away
 * meanwhile) with the ack id to answer (ack_id >= 0) or none (-1). */
void room_check_start(struct sio_socket *sock, json_t *rooms, int64_t ack_id, bool owned_rooms,
		      room_check_done done);

void room_check_fini(struct worker *w);

#endif
