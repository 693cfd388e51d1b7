/*
 * rooms.h: the room index of one namespace: room name -> members, and for
 * each socket the rooms it is in.  Joining and leaving are O(1) (a member
 * knows its position in the room, a room knows nothing else); a room exists
 * while it has members.  A socket's own id room is not stored here: the
 * namespace's id map answers for it.
 */
#ifndef SG_ROOMS_H
#define SG_ROOMS_H

#include "core/common.h"
#include "core/hmap.h"

struct sio_socket;

struct room {
	struct sio_socket **members;
	uint32_t n_members;
	uint32_t cap;
	size_t name_len;
	char name[];
};

/* One room a socket is in, and the socket's position in room->members. */
struct room_membership {
	struct room *room;
	uint32_t pos;
};

/* A socket's memberships (embedded in struct sio_socket). */
struct room_set {
	struct room_membership *v;
	uint16_t n;
	uint16_t cap;
};

struct rooms {
	struct hmap by_name; /* name -> struct room */
	/* A member's memberships: how removal finds the member moved into the
	 * hole (rooms never sees struct sio_socket's layout). */
	struct room_set *(*set_of)(struct sio_socket *sock);
	/* NULL, or told each time a socket joins or leaves a room, after the
	 * change (name borrowed): set by the owner only while someone watches
	 * (the Admin UI), so an unwatched index pays one test. */
	void (*changed)(struct sio_socket *sock, const char *name, size_t len, bool joined);
};

void rooms_init(struct rooms *r, struct room_set *(*set_of)(struct sio_socket *sock));
void rooms_fini(struct rooms *r);

/* Adds sock (whose memberships are *set) to room name.  Returns 1 when it
 * joined, 0 when it already was a member. */
int rooms_join(struct rooms *r, struct sio_socket *sock, struct room_set *set, const char *name);
/* Returns 1 when it left, 0 when it was not a member. */
int rooms_leave(struct rooms *r, struct sio_socket *sock, struct room_set *set, const char *name);
void rooms_leave_all(struct rooms *r, struct sio_socket *sock, struct room_set *set);

struct room *rooms_find(const struct rooms *r, const char *name, size_t len);
bool room_set_has(const struct room_set *set, const char *name);
/* Appends the JSON array of set's rooms, own_id (a socket's own room, or
 * NULL) first, as the adapter, the admin API and the Admin UI list them. */
void room_set_json(const struct room_set *set, const char *own_id, struct sg_buf *out);

#endif
