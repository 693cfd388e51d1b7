/*
 * rooms.c: room index (see rooms.h).  Invariant: for every membership m in a
 * socket's set, m.room->members[m.pos] is that socket; removal swaps the last
 * member into the hole and fixes that member's recorded position.
 */
#include "sio/rooms.h"

#include <stdlib.h>
#include <string.h>

#include "core/json_js.h"

static struct room_membership *find_membership(struct room_set *set, const struct room *room);

void rooms_init(struct rooms *r, struct room_set *(*set_of)(struct sio_socket *sock))
{
	hmap_init(&r->by_name);
	r->set_of = set_of;
}

void rooms_fini(struct rooms *r)
{
	const struct hmap_entry *e;

	for (size_t i = 0; hmap_next(&r->by_name, &i, &e);) {
		struct room *room = e->value;
		free(room->members);
		free(room);
	}
	hmap_fini(&r->by_name);
}

struct room *rooms_find(const struct rooms *r, const char *name, size_t len)
{
	return hmap_get(&r->by_name, name, len);
}

static struct room_membership *find_membership(struct room_set *set, const struct room *room)
{
	for (uint16_t i = 0; i < set->n; i++)
		if (set->v[i].room == room)
			return &set->v[i];
	return NULL;
}

bool room_set_has(const struct room_set *set, const char *name)
{
	size_t len = strlen(name);

	for (uint16_t i = 0; i < set->n; i++) {
		const struct room *room = set->v[i].room;
		if (room->name_len == len && memcmp(room->name, name, len) == 0)
			return true;
	}
	return false;
}

int rooms_join(struct rooms *r, struct sio_socket *sock, struct room_set *set, const char *name)
{
	size_t len = strlen(name);
	struct room *room = hmap_get(&r->by_name, name, len);

	if (room == NULL) {
		room = sg_calloc(1, sizeof(*room) + len + 1);
		memcpy(room->name, name, len + 1);
		room->name_len = len;
		hmap_put(&r->by_name, room->name, len, room);
	} else if (find_membership(set, room) != NULL) {
		return 0;
	}
	if (room->n_members == room->cap) {
		room->cap = room->cap ? room->cap * 2 : 4;
		room->members = sg_realloc(room->members, room->cap * sizeof(*room->members));
	}
	if (set->n == set->cap) {
		set->cap = set->cap ? (uint16_t)(set->cap * 2) : 4;
		set->v = sg_realloc(set->v, set->cap * sizeof(*set->v));
	}
	set->v[set->n].room = room;
	set->v[set->n].pos = room->n_members;
	set->n++;
	room->members[room->n_members++] = sock;
	if (r->changed != NULL)
		r->changed(sock, name, len, true);
	return 1;
}

static void remove_member(struct rooms *r, struct room *room, uint32_t pos)
{
	uint32_t last = room->n_members - 1;

	if (pos != last) {
		struct sio_socket *moved = room->members[last];
		struct room_membership *m = find_membership(r->set_of(moved), room);
		room->members[pos] = moved;
		m->pos = pos;
	}
	room->n_members--;
	if (room->n_members == 0) {
		hmap_del(&r->by_name, room->name, room->name_len);
		free(room->members);
		free(room);
	}
}

int rooms_leave(struct rooms *r, struct sio_socket *sock, struct room_set *set, const char *name)
{
	struct room *room = hmap_get(&r->by_name, name, strlen(name));
	struct room_membership *m;
	uint32_t pos;

	if (room == NULL || (m = find_membership(set, room)) == NULL)
		return 0;
	pos = m->pos;
	*m = set->v[--set->n];
	remove_member(r, room, pos);
	if (r->changed != NULL)
		r->changed(sock, name, strlen(name), false);
	return 1;
}

void rooms_leave_all(struct rooms *r, struct sio_socket *sock, struct room_set *set)
{
	while (set->n > 0) {
		struct room_membership m = set->v[--set->n];
		if (r->changed != NULL)
			r->changed(sock, m.room->name, m.room->name_len, false);
		remove_member(r, m.room, m.pos);
	}
	free(set->v);
	set->v = NULL;
	set->cap = 0;
}

void room_set_json(const struct room_set *set, const char *own_id, struct sg_buf *out)
{
	bool first = true;

	sg_buf_append_char(out, '[');
	if (own_id != NULL) {
		json_js_string(out, own_id, strlen(own_id));
		first = false;
	}
	for (uint16_t i = 0; i < set->n; i++) {
		if (!first)
			sg_buf_append_char(out, ',');
		first = false;
		json_js_string(out, set->v[i].room->name, set->v[i].room->name_len);
	}
	sg_buf_append_char(out, ']');
}
